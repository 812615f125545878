"""Production indicators over the store's ``production`` table, one source per material/year.

Owns, per material, year and supply-chain stage: global producer shares, the
Herfindahl-Hirschman index (HHI) of production, and a country's or group's own production and
share. Everything is one set-based DuckDB query; nothing loops over rows.

Formulas (``q_c`` = production of country ``c``, ``Q = Σ_c q_c`` world production):

* producer share ``s_c = q_c / Q``;
* HHI = Σ_c s_c² on the 0–1 scale (Herfindahl 1950, "Concentration in the U.S. Steel
  Industry", PhD thesis, Columbia University; Hirschman 1945, "National Power and the Structure
  of Foreign Trade"), and ``hhi_points`` = 10,000 × HHI, the scale of the US Department of
  Justice / FTC Horizontal Merger Guidelines (2023, section 2.1). With ``n`` producers,
  1/n ≤ HHI ≤ 1.

Units: ``quantity`` is in the table's ``unit`` (t, kg, ct, million m3) expressed as
``content_basis`` (e.g. Li2O for lithium); ``quantity_t`` converts kg to tonnes and is NULL for
units that are not masses (ct, million m3). Shares, HHI and world production are computed on one
common unit per material, year and stage, never on raw quantities in different units: when all
rows share a unit, that unit; when they mix masses (kg and t), tonnes (``quantity`` and ``unit``
are then given in t); when they mix units that do not convert (a mass with carats or
million m3), share, rank, world quantity and HHI are NULL and ``note`` says why.

The World Mining Data sheet for gold lists two rows under Guyana's code (one is French
Guiana); shares here sum them per country. The GeoPolRisk module keeps the peer's row-level
convention instead (see :mod:`verdikart.indicators.geopolrisk`).

One source per material, stage and year: the table can hold the same material/stage/year from
several sources (the bundled World Mining Data, imported USGS MCS releases, another WMD
edition). Adding them would double count producers and world production and mix content bases
(chromite ore gross weight with Cr2O3), so every indicator here, and GeoPolRisk's production
inputs, reads the rows of exactly one source per material/stage/year (`selected_production_sql`)
and names it in a ``source`` column:

* an explicit ``source`` (a label prefix, case-insensitive: ``'USGS'``, ``'World Mining Data'``,
  ``'USGS MCS 2023'``) keeps only sources whose label starts with it;
* otherwise the default priority, per material/stage/year among the sources that have rows for
  it: World Mining Data first (the GeoPolRisk method's own production source), then USGS MCS,
  then any other source.

Among several matching sources of the same rank (two editions), the newest edition (the year in
the label) wins, then the label in alphabetical order. A source that lists one material/stage/
year under several content bases (USGS: silicon as Si in ferrosilicon and Si metal, titanium as
TiO2 in ilmenite and in rutile; each basis is the same element or oxide) is summed per country
as that source publishes it; ``content_basis`` lists the bases and ``note`` says so. USGS MCS
tables do not store their "Other countries" aggregate, so a USGS world quantity is the sum of
the countries it lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.store import registered


# kg -> t; units that are not masses have no tonnage.
def quantity_t_sql(quantity: str = "quantity", unit: str = "unit") -> str:
    """SQL for a quantity in tonnes; units that are not masses have no tonnage (NULL)."""
    return f"CASE {unit} WHEN 't' THEN {quantity} WHEN 'kg' THEN {quantity} / 1000.0 ELSE NULL END"


WMD_PREFIX = "World Mining Data"
USGS_PREFIX = "USGS MCS"

# Default priority of a production source (lower first): World Mining Data, USGS MCS, others.
SOURCE_RANK_SQL = f"""CASE WHEN starts_with(lower(source), lower('{WMD_PREFIX}')) THEN 0
         WHEN starts_with(lower(source), lower('{USGS_PREFIX}')) THEN 1 ELSE 2 END"""
# The edition of a source: the first year (19xx/20xx) in its label; NULL without one.
SOURCE_EDITION_SQL = "TRY_CAST(regexp_extract(source, '(19|20)[0-9]{2}') AS INTEGER)"


def selected_production_sql(per_stage: bool = True) -> str:
    """SQL of the ``production`` rows of one source per material, stage and year.

    Parameters: ``$mats`` (VARCHAR[]) and ``$years`` (INTEGER[]), NULL = all, and ``$source``
    (VARCHAR label prefix, NULL = default priority). The chosen source is, among those with rows for the
    material/stage/year (and matching ``$source`` when given): World Mining Data, then USGS MCS,
    then others; within a rank the newest edition, then the label. With ``per_stage=False`` one
    (source, stage) is chosen per material and year (for GeoPolRisk, whose HHI has no stage):
    the best source first, then extraction before processing.
    """
    partition = "material, stage, year" if per_stage else "material, year"
    stage_order = (
        "" if per_stage else ", CASE stage WHEN 'extraction' THEN 0 WHEN 'processing' THEN 1 END"
    )
    return f"""
        SELECT p.* FROM production p
        JOIN (
            SELECT material, stage, year, source FROM (
                SELECT DISTINCT material, stage, year, source FROM production
                WHERE ($mats::VARCHAR[] IS NULL OR material IN (SELECT unnest($mats::VARCHAR[])))
                  AND ($years::INTEGER[] IS NULL OR year IN (SELECT unnest($years::INTEGER[])))
                  AND ($source::VARCHAR IS NULL
                       OR starts_with(lower(source), lower($source::VARCHAR)))
            )
            QUALIFY row_number() OVER (
                PARTITION BY {partition}
                ORDER BY {SOURCE_RANK_SQL}, {SOURCE_EDITION_SQL} DESC NULLS LAST,
                         source{stage_order}, stage) = 1
        ) c ON c.material = p.material AND c.stage IS NOT DISTINCT FROM p.stage
           AND c.year = p.year AND c.source IS NOT DISTINCT FROM p.source
    """


# One row per material, year, stage and country of the selection ($mats, $years; one source per
# material/year/stage, $source), with the quantity in the common unit of its material/year/stage
# (`unit`; kg and t -> t when both occur). `q` is that quantity where the group has a common
# unit, NULL where its units do not convert (then `unit`/`quantity` are the country's own when
# it has one unit, and `note` says why).
ROWS_SQL = f"""
    WITH base AS (
        SELECT material, year, stage, country, content_basis, source, quantity,
               coalesce(unit, '(no unit)') AS unit, {quantity_t_sql()} AS quantity_t,
               CASE WHEN unit IN ('t', 'kg') THEN 't' ELSE coalesce(unit, '(no unit)') END
                   AS basis
        FROM ({selected_production_sql()})
    ),
    groups AS (
        SELECT material, year, stage, any_value(source) AS source,
               count(DISTINCT unit) AS n_units, count(DISTINCT basis) AS n_basis,
               string_agg(DISTINCT unit, ', ' ORDER BY unit) AS units,
               count(DISTINCT coalesce(content_basis, '')) AS n_contents,
               string_agg(DISTINCT coalesce(content_basis, '(none)'), ' + '
                          ORDER BY coalesce(content_basis, '(none)')) AS contents,
               CASE WHEN n_units = 1 THEN any_value(unit) WHEN n_basis = 1 THEN 't' END
                   AS common_unit,
               nullif(concat_ws('; ',
                   CASE WHEN n_basis > 1
                        THEN 'units ' || units || ' do not convert to one unit (only kg and t '
                             || 'do); share, rank, world quantity and HHI not computed'
                        WHEN n_units > 1 THEN 'units ' || units || ' converted to t' END,
                   CASE WHEN n_contents > 1
                        THEN 'content bases ' || contents || ' of ' || any_value(source)
                             || ' summed' END), '') AS note
        FROM base GROUP BY material, year, stage
    ),
    per_country AS (
        SELECT b.material, b.year, b.stage, b.country,
               string_agg(DISTINCT b.content_basis, ' + ' ORDER BY b.content_basis)
                   AS content_basis,
               g.source, g.common_unit, g.note,
               CASE WHEN g.n_units = 1 THEN sum(b.quantity)
                    WHEN g.common_unit IS NOT NULL THEN sum(b.quantity_t) END AS q,
               count(DISTINCT b.unit) AS own_units, any_value(b.unit) AS own_unit,
               sum(b.quantity) AS own_quantity
        FROM base b JOIN groups g USING (material, year, stage)
        GROUP BY b.material, b.year, b.stage, b.country, g.source, g.common_unit, g.n_units,
                 g.note
    )
    SELECT material, year, stage, country, content_basis, source, note, q,
           CASE WHEN common_unit IS NOT NULL THEN q WHEN own_units = 1 THEN own_quantity END
               AS quantity,
           coalesce(common_unit, CASE WHEN own_units = 1 THEN own_unit END) AS unit,
           common_unit
    FROM per_country
"""


def known_sources(store: Any) -> list[str]:
    """Source labels of the production table."""
    return [
        r[0]
        for r in store.con.execute(
            "SELECT DISTINCT source FROM production WHERE source IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]


def check_source(store: Any, source: str | None) -> str | None:
    """A production source prefix as given (stripped; None or '' = default priority).

    Raises UnknownCodeError listing the sources when no label starts with it.
    """
    if source is None or not source.strip():
        return None
    prefix = source.strip()
    sources = known_sources(store)
    if not any(s.casefold().startswith(prefix.casefold()) for s in sources):
        raise UnknownCodeError(
            f"no production source starts with {prefix!r}; production sources: {'; '.join(sources)}"
        )
    return prefix


def known_materials(store: Any) -> list[str]:
    """Material slugs with production data in the store."""
    return [
        r[0]
        for r in store.con.execute("SELECT DISTINCT material FROM production ORDER BY 1").fetchall()
    ]


def known_years(store: Any) -> list[int]:
    """Years with production data in the store."""
    return [
        int(r[0])
        for r in store.con.execute("SELECT DISTINCT year FROM production ORDER BY 1").fetchall()
    ]


def check_selection(
    store: Any, materials: Sequence[str] | None, years: Sequence[int] | None
) -> tuple[list[str], list[int]]:
    """Validate material slugs and years against the production table (None = all).

    Raises UnknownCodeError listing what exists.
    """
    all_materials = known_materials(store)
    all_years = known_years(store)
    mats = list(all_materials) if materials is None else [m.strip().lower() for m in materials]
    unknown = [m for m in mats if m not in all_materials]
    if unknown:
        raise UnknownCodeError(
            f"no production data for material(s) {', '.join(unknown)}; "
            f"materials with production data: {', '.join(all_materials)}"
        )
    yrs = list(all_years) if years is None else [int(y) for y in years]
    bad = [y for y in yrs if y not in all_years]
    if bad:
        raise UnknownCodeError(
            f"no production data for year(s) {', '.join(map(str, bad))}; "
            f"years with production data: {', '.join(map(str, all_years))}"
        )
    return mats, yrs


def producer_shares(
    store: Any,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> pa.Table:
    """Each producer's share of world production per material, year and stage.

    Columns: material, year, stage, country, quantity, unit, content_basis, quantity_t,
    world_quantity, share, rank (1 = largest), source, note. One source per material, year and
    stage (`source`: a label prefix; None = World Mining Data, then USGS MCS, then others; see
    the module docstring). Countries with several rows are summed.
    Quantities are in the common unit of the material/year/stage (kg and t together -> t); where
    its units do not convert (a mass and carats), share, rank and world_quantity are NULL and
    `note` says why.
    """
    mats, yrs = check_selection(store, materials, years)
    src = check_source(store, source)
    sql = f"""
        WITH rows AS ({ROWS_SQL})
        SELECT material, CAST(year AS INTEGER) AS year, stage, country, quantity, unit,
               content_basis, {quantity_t_sql()} AS quantity_t,
               sum(q) OVER w AS world_quantity,
               CASE WHEN sum(q) OVER w > 0 THEN q / sum(q) OVER w END AS share,
               CASE WHEN common_unit IS NOT NULL
                    THEN CAST(row_number() OVER (PARTITION BY material, year, stage
                                                 ORDER BY q DESC, country) AS INTEGER) END
                   AS rank,
               source, note
        FROM rows
        WINDOW w AS (PARTITION BY material, year, stage)
        ORDER BY material, year, stage, rank, country
    """
    params = {"mats": mats, "years": yrs, "source": src}
    return store.con.sql(sql, params=params).to_arrow_table()


def production_hhi(
    store: Any,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> pa.Table:
    """HHI of world production per material, year and stage (0–1 and 0–10,000 points).

    Columns: material, year, stage, unit, n_producers, world_quantity, world_quantity_t, hhi,
    hhi_points, top_country, top_share, source, note. One source per material, year and stage
    (`source` as in `producer_shares`). HHI is NULL (not 0) when world production is 0,
    and NULL with a `note` when the material/year/stage mixes units that do not convert.
    """
    mats, yrs = check_selection(store, materials, years)
    src = check_source(store, source)
    sql = f"""
        WITH rows AS ({ROWS_SQL})
        SELECT material, CAST(year AS INTEGER) AS year, stage, any_value(common_unit) AS unit,
               CAST(count(*) FILTER (WHERE quantity > 0) AS INTEGER) AS n_producers,
               sum(q) AS world_quantity,
               {quantity_t_sql("sum(q)", "any_value(common_unit)")} AS world_quantity_t,
               CASE WHEN sum(q) > 0 THEN sum(q * q) / (sum(q) * sum(q)) END AS hhi,
               10000.0 * hhi AS hhi_points,
               arg_max(country, q) AS top_country,
               CASE WHEN sum(q) > 0 THEN max(q) / sum(q) END AS top_share,
               any_value(source) AS source, any_value(note) AS note
        FROM rows
        GROUP BY material, year, stage
        ORDER BY material, year, stage
    """
    params = {"mats": mats, "years": yrs, "source": src}
    return store.con.sql(sql, params=params).to_arrow_table()


def own_production(
    store: Any,
    countries: Sequence[str],
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> pa.Table:
    """A country's or group's own production and share of world production.

    `countries` are ISO3 codes or group ids (anything `resolve_country` accepts); a group sums
    its members of that year. Columns: country, material, year, stage, quantity, unit,
    quantity_t, world_quantity, share, source, note. One source per material, year and stage
    (`source` as in `producer_shares`). A country that does not appear in the data of that
    source for a material/year produced 0 (World Mining Data lists every producer; USGS MCS
    lists the main ones).
    Quantities are in the common unit of the material/year/stage (kg and t together -> t);
    where its units do not convert, quantity, world_quantity and share are NULL and `note`
    says why.
    """
    from verdikart.reference.countries import group_membership_table, resolve_country

    mats, yrs = check_selection(store, materials, years)
    src = check_source(store, source)
    refs = [resolve_country(c) for c in countries]
    countries_t, group_ids = entity_table(refs)
    sql = f"""
        WITH entities AS ({entities_sql("_prod_countries", "_prod_membership")}),
        members AS (
            SELECT DISTINCT e.entity, e.iso3, y.year
            FROM entities e, (SELECT unnest($years::INTEGER[]) AS year) y
            WHERE (e.year_from IS NULL OR e.year_from <= y.year)
              AND (e.year_to IS NULL OR y.year <= e.year_to)
        ),
        rows AS ({ROWS_SQL}),
        world AS (
            SELECT material, year, stage, any_value(common_unit) AS unit,
                   sum(q) AS world_quantity, any_value(source) AS source,
                   any_value(note) AS note
            FROM rows GROUP BY material, year, stage
        ),
        own AS (
            SELECT m.entity, r.material, r.year, r.stage, sum(r.q) AS quantity
            FROM rows r JOIN members m ON m.iso3 = r.country AND m.year = r.year
            GROUP BY m.entity, r.material, r.year, r.stage
        )
        SELECT e.entity AS country, w.material, CAST(w.year AS INTEGER) AS year, w.stage,
               CASE WHEN w.unit IS NOT NULL THEN coalesce(o.quantity, 0) END AS quantity,
               w.unit,
               {quantity_t_sql("coalesce(o.quantity, 0)", "w.unit")}
                   AS quantity_t,
               w.world_quantity,
               CASE WHEN w.world_quantity > 0 THEN coalesce(o.quantity, 0) / w.world_quantity END
                   AS share,
               w.source, w.note
        FROM (SELECT DISTINCT entity FROM entities) e
        CROSS JOIN world w
        LEFT JOIN own o ON o.entity = e.entity AND o.material = w.material AND o.year = w.year
                       AND o.stage = w.stage
        ORDER BY country, material, year
    """
    params = {"mats": mats, "years": yrs, "source": src, "group_ids": group_ids}
    tables = {"_prod_countries": countries_t, "_prod_membership": group_membership_table()}
    with registered(store.con, **tables):
        return store.con.sql(sql, params=params).to_arrow_table()


def entity_table(refs: Sequence[Any]) -> tuple[pa.Table, list[str]]:
    """Countries as one-member entities (entity, kind, iso3, year_from, year_to) + group ids.

    A country is a group of one valid in every year. Groups are expanded in SQL by
    `ENTITIES_SQL` from the reference module's membership table (group_id, iso3, year_from,
    year_to), so membership years apply.
    """
    countries = [ref.id for ref in refs if ref.kind == "country"]
    group_ids = [ref.id for ref in refs if ref.kind == "group"]
    table = pa.table(
        {
            "entity": pa.array(countries, pa.string()),
            "kind": pa.array(["country"] * len(countries), pa.string()),
            "iso3": pa.array(countries, pa.string()),
            "year_from": pa.nulls(len(countries), pa.int16()),
            "year_to": pa.nulls(len(countries), pa.int16()),
        }
    )
    return table, group_ids


def entities_sql(countries: str, membership: str) -> str:
    """SQL of (entity, kind, iso3, year_from, year_to): registered countries + groups whose id
    is in the `$group_ids` parameter."""
    return f"""
        SELECT entity, kind, iso3, CAST(year_from AS INTEGER) AS year_from,
               CAST(year_to AS INTEGER) AS year_to
        FROM {countries}
        UNION ALL
        SELECT group_id, 'group', iso3, CAST(year_from AS INTEGER), CAST(year_to AS INTEGER)
        FROM {membership} WHERE list_contains($group_ids::VARCHAR[], group_id)
    """
