"""Critical-material flags on side streams, and the secondary-supply potential of a material.

* :data:`ELEMENT_MATERIALS` maps a chemical element to the material ids (slugs of
  ``verdikart.reference.materials``) whose supply a stream containing it could add to; any
  component containing the element (P2O5, Ca5(PO4)3F, ...) maps through its key element.
* :func:`critical_flags` derives a stream's public ``critical_materials`` flags from its
  composition: a material is flagged when the stream's content of the element reaches
  :data:`FLAG_MIN_FRACTION` (0.1 wt %, i.e. 1000 mg/kg) at the upper end of the analysed range;
  trace contents below that are not a recoverable secondary source and are not flagged.
* :func:`potential` sums the registered secondary supply of a material and sets it against
  Norway's imports (:func:`norway_imports_t`: an :class:`ImportsT` from the analytic engine's
  ``trade_analysis``, handed to the exchange by the application core as a
  :data:`NorwayImports`); with an ``organisation_id`` column it also returns each
  organisation's contribution to both bounds. Both are Ibis expressions (DuckDB or Spark).
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

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verdikart.exchange.composition import canonical_component, components

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pyarrow as pa

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

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


@dataclass(frozen=True)
class ImportsT:
    """Norway's imports of one material in one year (:func:`norway_imports_t`).

    ``year`` None: no year has an import with a quantity (then nothing else is counted).
    ``hs6``: the material's HS92 codes compared against; ``hs6_with_flows``: those with flows.
    """

    material: str
    year: int | None
    stage: str | None
    hs6: tuple[str, ...]
    imports_t: float | None
    n_flows: int
    n_missing_quantity: int
    hs6_with_flows: tuple[str, ...]


NorwayImports = Callable[[str, int | None], ImportsT]
"""Norway's imports of (material id, year; None = the latest year with a quantity), as the
application core hands them to the exchange (the exchange never reads the analytic store)."""

NORWAY = "NOR"


def import_codes(
    material: str, stage: str | None = None
) -> tuple[str, str | None, tuple[str, ...]]:
    """(material id, stage, sorted HS92 codes) compared against Norway's imports.

    Codes from ``verdikart.reference.materials.material_hs6_table('HS92')`` for the material's
    ``stage`` (default: the stage in :data:`MATERIAL_BASIS`, else all stages).
    """
    import pyarrow.compute as pc

    from verdikart.reference.materials import get_material, material_hs6_table

    mid = get_material(material).id
    if stage is None and mid in MATERIAL_BASIS:
        stage = MATERIAL_BASIS[mid].stage
    hs = material_hs6_table("HS92")
    mask = pc.equal(hs["material"], mid)
    if stage is not None:
        mask = pc.and_(mask, pc.equal(hs["stage"], stage))
    codes = pc.unique(hs.filter(mask)["hs6"]).to_pylist()
    return mid, stage, tuple(sorted(codes))


def norway_import_year_expr(rel: Relations) -> ir.Table:
    """The latest year of the analysed trade (``trade_analysis``, which the imports are read
    from) with an import into Norway that has a quantity (one row, ``year``; NULL when there is
    none): the default year of exchange potential."""
    t = rel.trade_analysis
    flows = t.filter((t.importer == NORWAY) & t.quantity_t.notnull())
    return flows.aggregate(year=flows.year.max().cast("int64"))


def norway_imports_expr(
    rel: Relations, material: str, year: int, stage: str | None = None
) -> ir.Table:
    """Norway's imports of a material's HS6 codes in a year, from ``trade_analysis`` (one row).

    Columns: ``imports_t`` (float64), ``n_flows``, ``n_missing_quantity`` (int64),
    ``hs6_with_flows`` (the codes with flows, sorted, joined by ',' -- NULL when none).

    NULL rule: flows with a missing quantity are counted in ``n_missing_quantity`` and left
    out of the sum, never taken as 0; ``imports_t`` is NULL only when no flow has a quantity.
    This differs on purpose from :func:`verdikart.relations.complete_sum`, which the
    indicators' import totals follow (NULL as soon as any row lacks a quantity): potential
    sets registered secondary supply against imports, and the known flows' sum is a lower
    bound of the imports (so the share an upper bound) that is shown with the count of flows
    left out, rather than no figure at all. ``complete_sum`` of these flows is ``imports_t``
    exactly when ``n_missing_quantity`` is 0.
    """
    _, _, codes = import_codes(material, stage)
    t = rel.trade_analysis
    flows = t.filter((t.importer == NORWAY) & (t.year == int(year)) & t.hs6.isin(list(codes)))
    return flows.aggregate(
        imports_t=flows.quantity_t.sum().cast("float64"),
        n_flows=flows.count().cast("int64"),
        n_missing_quantity=flows.hs6.count(where=flows.quantity_t.isnull()).cast("int64"),
        # ordered distinct text aggregation, the same on DuckDB and Spark (see the brief)
        hs6_with_flows=flows.hs6.collect(distinct=True).sort().join(",").nullif(""),
    )


def norway_imports_t(
    engine: Engine, material: str, year: int | None, *, stage: str | None = None
) -> ImportsT:
    """Norway's imports (tonnes, BACI ``trade.quantity_t``) of a material's HS6 codes in a year.

    ``year`` None: the latest year with an import into Norway that has a quantity
    (:func:`norway_import_year_expr`). Codes and stage as in :func:`import_codes`; the sum and
    its NULL rule as in :func:`norway_imports_expr`.
    """
    mid, stage, codes = import_codes(material, stage)
    if year is None:
        (latest,) = engine.rows(norway_import_year_expr(engine.relations()))
        if latest["year"] is None:
            return ImportsT(mid, None, stage, (), None, 0, 0, ())
        year = int(latest["year"])
    (row,) = engine.rows(norway_imports_expr(engine.relations(), mid, year, stage))
    with_flows = row["hs6_with_flows"]
    return ImportsT(
        material=mid,
        year=year,
        stage=stage,
        hs6=codes,
        imports_t=None if row["imports_t"] is None else float(row["imports_t"]),
        n_flows=int(row["n_flows"] or 0),
        n_missing_quantity=int(row["n_missing_quantity"] or 0),
        hs6_with_flows=tuple(with_flows.split(",")) if with_flows else (),
    )


@dataclass(frozen=True)
class ContentBasis:
    """The basis component of a potential, its key element and that element's fraction in it."""

    component: str  # e.g. 'P2O5'
    key: str  # e.g. 'P'
    f_basis: float  # mass fraction of `key` in `component`


def content_expr(composition: ir.Table, elements: ir.Table, basis: ContentBasis) -> ir.Table:
    """(stream_id, vmin, vmax): each stream's content of the basis component (weight fraction).

    The component itself when analysed, else its key element (directly, or summed over
    compounds containing it) divided by the element's fraction in the basis.
    ``composition``: stream_id, component, value_min, value_max (weight fractions);
    ``elements``: component, fraction (of the key element in the component).
    """
    c = composition
    direct = c.filter(c.component == basis.component).select(
        d_stream_id=c.stream_id, d_vmin=c.value_min, d_vmax=c.value_max
    )
    ce = c.join(elements, "component").select(
        c.stream_id, c.component, c.value_min, c.value_max, elements.fraction
    )
    own, other = ce.component == basis.key, ce.component != basis.key
    via = ce.group_by("stream_id").aggregate(
        k_min=ce.value_min.max(where=own),
        s_min=(ce.value_min * ce.fraction).sum(where=other),
        k_max=ce.value_max.max(where=own),
        s_max=(ce.value_max * ce.fraction).sum(where=other),
    )
    via = via.select(
        v_stream_id=via.stream_id,
        v_vmin=ibis.coalesce(via.k_min, via.s_min) / basis.f_basis,
        v_vmax=ibis.coalesce(via.k_max, via.s_max) / basis.f_basis,
    )
    both = direct.outer_join(via, direct.d_stream_id == via.v_stream_id)
    return both.select(
        stream_id=ibis.coalesce(both.d_stream_id, both.v_stream_id),
        vmin=ibis.coalesce(both.d_vmin, both.v_vmin),
        vmax=ibis.coalesce(both.d_vmax, both.v_vmax),
    )


def _contributing(
    streams: ir.Table, composition: ir.Table, elements: ir.Table, basis: ContentBasis
) -> ir.Table:
    """Streams joined with their basis content, those with a positive upper content only."""
    content = content_expr(composition, elements, basis)
    joined = streams.join(content, "stream_id")  # streams first: Ibis 12 cannot join onto
    # the outer join's computed key (IntegrityError), the inner join is the same either way
    return joined.filter(joined.vmax > 0)


def potential_expr(
    streams: ir.Table,
    composition: ir.Table,
    elements: ir.Table,
    basis: ContentBasis,
    *,
    by_org: bool = False,
) -> ir.Table:
    """One row: secondary_t_min/max, n_streams, n_streams_without_quantity (and with
    ``by_org`` n_organisations and organisation_ids, sorted and joined by ',')."""
    j = _contributing(streams, composition, elements, basis)
    q = j.quantity_t_per_year
    aggs: dict[str, ir.Value] = {
        "secondary_t_min": (q * j.vmin).sum(),
        "secondary_t_max": (q * j.vmax).sum(),
        "n_streams": q.count().cast("int64"),
        "n_streams_without_quantity": j.stream_id.count(where=q.isnull()).cast("int64"),
    }
    if by_org:
        aggs["n_organisations"] = j.organisation_id.nunique(where=q.notnull()).cast("int64")
        aggs["organisation_ids"] = (
            j.organisation_id.collect(distinct=True).sort().join(",").nullif("")
        )
    return j.aggregate(**aggs)


def contributions_expr(
    streams: ir.Table, composition: ir.Table, elements: ir.Table, basis: ContentBasis
) -> ir.Table:
    """One row per contributing organisation (organisation_id, t_min, t_max), sorted by id:
    its streams' total on each bound (t/yr of the basis), streams with a quantity only."""
    j = _contributing(streams, composition, elements, basis)
    j = j.filter(j.quantity_t_per_year.notnull())
    q = j.quantity_t_per_year
    per = j.group_by("organisation_id").aggregate(
        t_min=ibis.coalesce((q * j.vmin).sum(), 0.0),
        t_max=ibis.coalesce((q * j.vmax).sum(), 0.0),
    )
    return per.order_by(ibis.asc(per.organisation_id, nulls_first=False))


def potential(
    material: str,
    streams_rel: pa.Table,
    composition_rel: pa.Table,
    imports_t: float | None,
    *,
    basis: str | None = None,
    grade: float | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Registered secondary supply of ``material`` against imports, on one basis (see above).

    ``streams_rel``: stream_id, quantity_t_per_year; ``composition_rel``: stream_id, component,
    value_min, value_max (weight fractions) -- Arrow tables, run as Ibis expressions
    (:func:`potential_expr`) on ``engine`` (default: an in-memory DuckDB).
    Returns secondary_t_min/max (t/yr of the basis component), the streams counted, the
    imports on the basis and the share range (None when imports are unknown or zero). When
    ``streams_rel`` has an ``organisation_id`` column, also ``n_organisations``,
    ``organisation_ids`` and ``contributions_min`` / ``contributions_max`` (one total per
    organisation, on the same basis as the bounds -- confidential, for :func:`dominated`).
    """
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
    if f_basis is None:  # not for any listed component (each non-aggregate has a molar mass)
        raise UnknownCodeError(f"basis {basis!r} has no molar mass for its element {key!r}")
    if not 0 < grade <= 1:
        raise ValueError(f"grade must be a weight fraction in (0, 1], got {grade}")

    # with an organisation_id column: also the distinct contributing organisations
    by_org = "organisation_id" in streams_rel.column_names
    element_rows = [r for r in component_element_table() if r[1] == key]
    elements_tbl = pa.table(
        {
            "component": pa.array([r[0] for r in element_rows], pa.string()),
            "fraction": pa.array([r[2] for r in element_rows], pa.float64()),
        }
    )
    streams, composition, elements = (
        ibis.memtable(streams_rel),
        ibis.memtable(composition_rel),
        ibis.memtable(elements_tbl),
    )
    spec = ContentBasis(basis, key, f_basis)
    with _engine_or_local(engine) as run:
        (row,) = run.rows(potential_expr(streams, composition, elements, spec, by_org=by_org))
        per_org = (
            run.to_arrow(contributions_expr(streams, composition, elements, spec))
            if by_org
            else None
        )
    sec_min, sec_max = row["secondary_t_min"] or 0.0, row["secondary_t_max"] or 0.0
    imports_basis = None if imports_t is None else imports_t * grade
    share_ok = imports_basis is not None and imports_basis > 0
    return {
        "material": material,
        "basis": basis,
        "secondary_t_min": sec_min,
        "secondary_t_max": sec_max,
        "n_streams": row["n_streams"],
        "n_streams_without_quantity": row["n_streams_without_quantity"],
        "imports_t": imports_t,
        "import_grade": grade,
        "imports_basis_t": imports_basis,
        "share_min": sec_min / imports_basis if share_ok else None,  # type: ignore[operator]
        "share_max": sec_max / imports_basis if share_ok else None,  # type: ignore[operator]
        "note": None if share_ok else "imports unknown or zero: no share computed",
    } | (
        {
            "n_organisations": row["n_organisations"],
            # uuid4 hex ids (no commas), sorted by the expression
            "organisation_ids": (row["organisation_ids"] or "").split(",")
            if row["organisation_ids"]
            else [],
            # one value per organisation (t/yr of the basis), for the dominance rule; confidential
            "contributions_min": per_org.column("t_min").to_pylist(),
            "contributions_max": per_org.column("t_max").to_pylist(),
        }
        if per_org is not None
        else {}
    )


@contextmanager
def _engine_or_local(engine: Engine | None) -> Iterator[Engine]:
    """`engine`, or an in-memory DuckDB engine for the call (closed after)."""
    if engine is not None:
        yield engine
        return
    import duckdb

    from verdikart.engine import DuckDBEngine

    con = duckdb.connect()
    try:
        yield DuckDBEngine(con)
    finally:
        con.close()
