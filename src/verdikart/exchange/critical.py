"""Critical-material flags on side streams, and the secondary-supply potential of a material.

* :data:`ELEMENT_MATERIALS` maps a chemical element to the material ids (slugs of
  ``verdikart.reference.materials``) whose supply a stream containing it could add to; any
  component containing the element (P2O5, Ca5(PO4)3F, ...) maps through its key element.
* :func:`critical_flags` derives a stream's public ``critical_materials`` flags from its
  composition: a material is flagged when the stream's content of the element reaches
  :data:`FLAG_MIN_FRACTION` (0.1 wt %, i.e. 1000 mg/kg) at the upper end of the analysed range;
  trace contents below that are not a recoverable secondary source and are not flagged.
* :func:`potential` sums the registered secondary supply of a material and sets it against
  Norway's imports (:func:`norway_imports_t`, BACI trade in the store); with an
  ``organisation_id`` column it also returns each organisation's contribution to both bounds.
* :func:`dominated` is the disclosure rule for such an aggregate of several organisations'
  confidential data: the (n, k) dominance rule of statistical disclosure control.

Basis of the comparison (see :data:`MATERIAL_BASIS`): trade quantities are gross tonnes of the
traded product (ore, concentrate, metal), while stream analyses give the content of an element
or oxide. Secondary supply is expressed as tonnes of the *basis component* (P2O5 for phosphate
rock, Mn for manganese ore, CaF2 for fluorspar, ...) = sum over streams of quantity (t/yr) x
content (weight fraction, converted to the basis as in matching: an element reported as such,
or summed over compounds containing it, divided by the basis component's element fraction).
Imports are converted to the same basis with a typical grade of the traded product (an explicit,
overridable assumption, listed with its reference in :data:`MATERIAL_BASIS`):
imports_basis_t = imports_t x grade. share = secondary_t / imports_basis_t, given as a min-max
range from the analysed ranges.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from verdikart.exchange.composition import canonical_component, components

# element -> material slugs (the same slugs as production.material / reference.materials)
ELEMENT_MATERIALS: dict[str, tuple[str, ...]] = {
    "P": ("phosphate-rock", "phosphorus"),
    "Mn": ("manganese",),
    "Si": ("silicon",),
    "Al": ("aluminium", "bauxite"),
    "Ti": ("titanium",),
    "F": ("fluorspar",),
    "Co": ("cobalt",),
    "Ni": ("nickel",),
    "Cu": ("copper",),
    "Zn": ("zinc",),
    "Mg": ("magnesium",),
    "Li": ("lithium",),
    "V": ("vanadium",),
    "W": ("tungsten",),
    "Ga": ("gallium",),
    "Ge": ("germanium",),
    "Nb": ("niobium",),
    "Ta": ("tantalum",),
    "Sb": ("antimony",),
    "Bi": ("bismuth",),
    "Be": ("beryllium",),
    "B": ("boron",),
    "Cr": ("chromium",),
    "Mo": ("molybdenum",),
    "Sr": ("strontium",),
    "Hf": ("hafnium",),
    "Ba": ("baryte",),
    "As": ("arsenic",),
    "Pt": ("platinum", "pgms"),
    "Pd": ("palladium", "pgms"),
    "Rh": ("rhodium", "pgms"),
    "Ir": ("iridium", "pgms"),
    "Ru": ("ruthenium", "pgms"),
    "Os": ("osmium", "pgms"),
    "Rb": ("rubidium",),
    "Cs": ("cesium",),
    "He": ("helium",),
    # rare earths: the element's own material, its EU group (LREE: La-Sm; HREE: Eu-Lu and Y)
    "La": ("rare-earths", "light-rare-earths", "lanthanum"),
    "Ce": ("rare-earths", "light-rare-earths", "cerium"),
    "Pr": ("rare-earths", "light-rare-earths", "praseodymium"),
    "Nd": ("rare-earths", "light-rare-earths", "neodymium"),
    "Sm": ("rare-earths", "light-rare-earths", "samarium"),
    "Eu": ("rare-earths", "heavy-rare-earths", "europium"),
    "Gd": ("rare-earths", "heavy-rare-earths", "gadolinium"),
    "Tb": ("rare-earths", "heavy-rare-earths", "terbium"),
    "Dy": ("rare-earths", "heavy-rare-earths", "dysprosium"),
    "Ho": ("rare-earths", "heavy-rare-earths", "holmium"),
    "Er": ("rare-earths", "heavy-rare-earths", "erbium"),
    "Tm": ("rare-earths", "heavy-rare-earths", "thulium"),
    "Yb": ("rare-earths", "heavy-rare-earths", "ytterbium"),
    "Lu": ("rare-earths", "heavy-rare-earths", "lutetium"),
    "Y": ("rare-earths", "heavy-rare-earths", "yttrium"),
    "Sc": ("scandium",),
}
AGGREGATE_MATERIALS: dict[str, tuple[str, ...]] = {
    "REE": ("rare-earths",),
    "REO": ("rare-earths",),
    "PGM": ("pgms",),
}
FLAG_MIN_FRACTION = 1e-3  # 0.1 wt %: below this a content is a trace, not a secondary source
# Disclosure control of an aggregate over organisations (see `dominated`): at least 3
# contributors, and the n largest together may hold at most k of the total, for each (n, k).
DOMINANCE_MIN_CONTRIBUTORS = 3
DOMINANCE_RULES: tuple[tuple[int, float], ...] = ((1, 0.50), (2, 0.85))


def component_materials(component: str) -> tuple[str, ...]:
    """Material ids a component can supply (through its key element, or the aggregate table)."""
    comp = components()[canonical_component(component)]
    if comp.kind == "aggregate":
        return AGGREGATE_MATERIALS.get(comp.id, ())
    if comp.key_element is None:
        return ()
    return ELEMENT_MATERIALS.get(comp.key_element, ())


def critical_flags(entries: Iterable[tuple[str, float]]) -> list[str]:
    """Sorted material ids flagged for (component, max weight fraction) pairs of one stream."""
    flagged: set[str] = set()
    for component, max_fraction in entries:
        if max_fraction >= FLAG_MIN_FRACTION:
            flagged.update(component_materials(component))
    return sorted(flagged)


def dominated(
    contributions: Iterable[float],
    *,
    min_contributors: int = DOMINANCE_MIN_CONTRIBUTORS,
    rules: tuple[tuple[int, float], ...] = DOMINANCE_RULES,
) -> bool:
    """True when an aggregate of these per-organisation contributions must be withheld.

    The threshold rule plus the (n, k) dominance rule for magnitude tables (Hundepool et al.,
    *Statistical Disclosure Control*, Wiley 2012, §4.2): released only when at least
    `min_contributors` organisations contribute a positive amount, the largest contribution is
    at most 50 % of the total and the two largest together at most 85 %. Otherwise the total
    would come close to one organisation's (or two colluding organisations') own confidential
    figure. Zero or missing contributions do not count as contributors. The input is one value
    per organisation (already aggregated over its streams), so this works on a handful of
    numbers, never on data rows.
    """
    values = sorted((v for v in contributions if v is not None and v > 0), reverse=True)
    total = sum(values)
    if len(values) < min_contributors or total <= 0:
        return True
    return any(sum(values[:n]) > k * total for n, k in rules)


@dataclass(frozen=True)
class MaterialBasis:
    """How a material's secondary supply and its imports are put on one basis."""

    component: str  # basis component of the stream analyses, e.g. 'P2O5'
    stage: str  # which of the material's HS6 codes count as imports ('extraction', ...)
    grade: float  # typical weight fraction of the basis component in the traded product
    reference: str


MATERIAL_BASIS: dict[str, MaterialBasis] = {
    "phosphate-rock": MaterialBasis(
        "P2O5", "extraction", 0.30,
        "marketable phosphate rock typically 28-35 % P2O5 (USGS Mineral Commodity Summaries, "
        "Phosphate rock; grades vary by deposit)",
    ),
    "manganese": MaterialBasis(
        "Mn", "extraction", 0.44,
        "metallurgical-grade manganese ore > 44 % Mn (USGS Mineral Commodity Summaries, "
        "Manganese; ores traded under HS 2602 range 35-50 % Mn)",
    ),
    "fluorspar": MaterialBasis(
        "CaF2", "extraction", 0.97,
        "acid-grade fluorspar > 97 % CaF2 (HS 2529.22 definition); metallurgical grade "
        "(HS 2529.21) is lower, so the figure is an upper bound on the imports' CaF2",
    ),
    "bauxite": MaterialBasis(
        "Al2O3", "extraction", 0.50,
        "metallurgical bauxite typically 45-55 % Al2O3 (USGS Mineral Commodity Summaries, "
        "Bauxite and alumina)",
    ),
    "titanium": MaterialBasis(
        "TiO2", "extraction", 0.55,
        "ilmenite 45-65 % TiO2, rutile ~95 % TiO2; HS 2614 mixes both (USGS Mineral Commodity "
        "Summaries, Titanium mineral concentrates)",
    ),
    "zinc": MaterialBasis(
        "Zn", "extraction", 0.50,
        "zinc concentrates typically 50-55 % Zn (International Lead and Zinc Study Group)",
    ),
    "silicon": MaterialBasis(
        "Si", "processing", 0.99,
        "silicon metal, HS 2804.61 (>= 99.99 % Si) and 2804.69 (< 99.99 %, typically 98-99.5 %)",
    ),
    "aluminium": MaterialBasis("Al", "processing", 1.0, "unwrought aluminium, HS 7601"),
    "magnesium": MaterialBasis("Mg", "processing", 1.0, "unwrought magnesium, HS 8104.11/19"),
}  # fmt: skip


def norway_imports_t(
    store: Any, material: str, year: int, *, stage: str | None = None
) -> dict[str, Any]:
    """Norway's imports (tonnes, BACI ``trade.quantity_t``) of a material's HS6 codes in a year.

    Codes from ``verdikart.reference.materials.material_hs6_table('HS92')`` for the material's
    ``stage`` (default: the stage in :data:`MATERIAL_BASIS`, else all stages). Flows with a
    missing quantity are counted in ``n_missing_quantity`` and left out of the sum, never taken
    as 0; when every flow lacks a quantity, ``imports_t`` is None.
    """
    from verdikart.reference.materials import get_material, material_hs6_table

    mid = get_material(material).id
    if stage is None and mid in MATERIAL_BASIS:
        stage = MATERIAL_BASIS[mid].stage
    hs = material_hs6_table("HS92")
    store.con.register("ex_material_hs6", hs)
    try:
        row = store.con.execute(
            """
            SELECT sum(t.quantity_t) AS imports_t, count(*) AS n_flows,
                   count(*) FILTER (WHERE t.quantity_t IS NULL) AS n_missing_quantity,
                   list(DISTINCT t.hs6 ORDER BY t.hs6) AS hs6_with_flows
            FROM trade_analysis t
            JOIN (SELECT DISTINCT hs6 FROM ex_material_hs6
                  WHERE material = ? AND (? IS NULL OR stage = ?)) m USING (hs6)
            WHERE t.importer = 'NOR' AND t.year = ?
            """,
            [mid, stage, stage, year],
        ).fetchall()[0]
        codes = store.con.execute(
            "SELECT list(DISTINCT hs6 ORDER BY hs6) FROM ex_material_hs6 "
            "WHERE material = ? AND (? IS NULL OR stage = ?)",
            [mid, stage, stage],
        ).fetchall()[0]
    finally:
        store.con.unregister("ex_material_hs6")
    assert row is not None and codes is not None
    return {
        "material": mid,
        "year": year,
        "stage": stage,
        "hs6": codes[0] or [],
        "imports_t": row[0],
        "n_flows": row[1],
        "n_missing_quantity": row[2],
        "hs6_with_flows": row[3] or [],
    }


# Content of the basis component per stream (weight fraction, min and max): the component
# itself when analysed, else its key element (directly, or summed over compounds containing it)
# divided by the element's fraction in the basis. Parameters $basis, $key, $fb; tables p_comp
# (stream_id, component, value_min, value_max) and p_el (component, fraction of the key element).
_CONTENT_SQL = """
            WITH direct AS (
                SELECT stream_id, value_min AS vmin, value_max AS vmax
                FROM p_comp WHERE component = $basis
            ),
            via AS (
                SELECT c.stream_id,
                       coalesce(max(c.value_min) FILTER (c.component = $key),
                                sum(c.value_min * e.fraction) FILTER (c.component <> $key))
                           / $fb AS vmin,
                       coalesce(max(c.value_max) FILTER (c.component = $key),
                                sum(c.value_max * e.fraction) FILTER (c.component <> $key))
                           / $fb AS vmax
                FROM p_comp c JOIN p_el e USING (component)
                GROUP BY c.stream_id
            ),
            content AS (
                SELECT stream_id, coalesce(d.vmin, v.vmin) AS vmin, coalesce(d.vmax, v.vmax) AS vmax
                FROM direct d FULL OUTER JOIN via v USING (stream_id)
            )"""


def potential(
    material: str,
    streams_rel: Any,
    composition_rel: Any,
    imports_t: float | None,
    *,
    basis: str | None = None,
    grade: float | None = None,
) -> dict[str, Any]:
    """Registered secondary supply of ``material`` against imports, on one basis (see above).

    ``streams_rel``: stream_id, quantity_t_per_year; ``composition_rel``: stream_id, component,
    value_min, value_max (weight fractions) -- Arrow tables or DuckDB relations.
    Returns secondary_t_min/max (t/yr of the basis component), the streams counted, the
    imports on the basis and the share range (None when imports are unknown or zero). When
    ``streams_rel`` has an ``organisation_id`` column, also ``n_organisations``,
    ``organisation_ids`` and ``contributions_min`` / ``contributions_max`` (one total per
    organisation, on the same basis as the bounds -- confidential, for :func:`dominated`).
    """
    import duckdb
    import pyarrow as pa

    from verdikart.errors import UnknownCodeError
    from verdikart.exchange.composition import component_element_table, element_fraction

    known = MATERIAL_BASIS.get(material)
    if basis is None or grade is None:
        if known is None:
            raise UnknownCodeError(
                f"no default basis for material {material!r}: pass basis= and grade=, or use "
                f"one of {', '.join(MATERIAL_BASIS)}"
            )
        basis = basis or known.component
        grade = grade if grade is not None else known.grade
    basis = canonical_component(basis)
    key = components()[basis].key_element
    if key is None:
        raise UnknownCodeError(f"basis {basis!r} is an aggregate, not a chemical component")
    f_basis = element_fraction(basis, key)
    if not 0 < grade <= 1:
        raise ValueError(f"grade must be a weight fraction in (0, 1], got {grade}")

    def arrow(rel: Any) -> pa.Table:
        return rel if isinstance(rel, pa.Table) else rel.arrow().read_all()

    streams_tbl = arrow(streams_rel)
    # with an organisation_id column: also the distinct contributing organisations
    by_org = "organisation_id" in streams_tbl.column_names
    org_sql = (
        """, count(DISTINCT s.organisation_id) FILTER (WHERE s.quantity_t_per_year IS NOT NULL)
               AS n_organisations,
             list(DISTINCT s.organisation_id) AS organisation_ids"""
        if by_org
        else ""
    )
    con = duckdb.connect()
    try:
        con.register("p_streams", streams_tbl)
        con.register("p_comp", arrow(composition_rel))
        elements = [r for r in component_element_table() if r[1] == key]
        con.register(
            "p_el",
            pa.table(
                {
                    "component": [r[0] for r in elements],
                    "fraction": [r[2] for r in elements],
                }
            ),
        )
        params = {"basis": basis, "key": key, "fb": f_basis}
        row = con.execute(
            f"""{_CONTENT_SQL}
            SELECT sum(s.quantity_t_per_year * c.vmin) AS secondary_t_min,
                   sum(s.quantity_t_per_year * c.vmax) AS secondary_t_max,
                   count(*) FILTER (WHERE s.quantity_t_per_year IS NOT NULL) AS n_streams,
                   count(*) FILTER (WHERE s.quantity_t_per_year IS NULL)
                       AS n_streams_without_quantity{org_sql}
            FROM content c JOIN p_streams s USING (stream_id)
            WHERE c.vmax > 0
            """,
            params,
        ).fetchall()[0]
        per_org = (
            con.execute(
                f"""{_CONTENT_SQL}
                SELECT list(t_min ORDER BY organisation_id), list(t_max ORDER BY organisation_id)
                FROM (SELECT s.organisation_id,
                             coalesce(sum(s.quantity_t_per_year * c.vmin), 0) AS t_min,
                             coalesce(sum(s.quantity_t_per_year * c.vmax), 0) AS t_max
                      FROM content c JOIN p_streams s USING (stream_id)
                      WHERE c.vmax > 0 AND s.quantity_t_per_year IS NOT NULL
                      GROUP BY s.organisation_id)
                """,
                params,
            ).fetchall()[0]
            if by_org
            else None
        )
    finally:
        con.close()
    assert row is not None
    sec_min, sec_max = row[0] or 0.0, row[1] or 0.0
    imports_basis = None if imports_t is None else imports_t * grade
    share_ok = imports_basis is not None and imports_basis > 0
    return {
        "material": material,
        "basis": basis,
        "secondary_t_min": sec_min,
        "secondary_t_max": sec_max,
        "n_streams": row[2],
        "n_streams_without_quantity": row[3],
        "imports_t": imports_t,
        "import_grade": grade,
        "imports_basis_t": imports_basis,
        "share_min": sec_min / imports_basis if share_ok else None,  # type: ignore[operator]
        "share_max": sec_max / imports_basis if share_ok else None,  # type: ignore[operator]
        "note": None if share_ok else "imports unknown or zero: no share computed",
    } | (
        {
            "n_organisations": row[4],
            "organisation_ids": sorted(row[5] or []),
            # one value per organisation (t/yr of the basis), for the dominance rule; confidential
            "contributions_min": list(per_org[0] or []),
            "contributions_max": list(per_org[1] or []),
        }
        if per_org is not None
        else {}
    )
