"""The GeoPolRisk method: supply risk of an importing country or group for a raw material.

Owns one DuckDB query that computes every (country or group, material, year) at once from the
store's ``trade`` (BACI), ``production`` (World Mining Data by default), ``governance`` (WGI
``pv.normalized``) and ``wmd_hs_map`` tables. Method: Gemechu et al. 2016 (J. Ind. Ecol.
20(1), "Import-based indicator for the geopolitical supply risk of raw materials in life cycle
sustainability assessments"); Santillán-Saldivar et al. 2021 (Resour. Conserv. Recycl. 164);
Koyamparambath et al. 2024 ("Implementing the GeoPolRisk method ...", the geopolrisk-py
library paper). The reference implementation is geopolrisk-py 2.0.1;
results equal it to 1e-6 relative on the same data (see docs/method-geopolrisk.md).

For importer ``c`` (a group: its members ``M``), material ``m`` (HS6 codes ``H``), year ``t``::

    HHI        = Σ_p P_p² / (Σ_p P_p)²          P_p = world production rows, truncated to
                                                 integers (the peer's convention)
    Num        = Σ_{i∈M} Σ_j q_ij · g_j         g_j = WGI PV normalised score of partner j in
                                                 year t, 0.5 if missing, 0 if j ∈ M
    import_risk= Num / (Σ_{i∈M} Σ_j q_ij + Σ_{i∈M} P_i)   own production in tonnes
    score      = HHI × import_risk
    price      = Σ v_ij / Σ q_ij                 kUSD per tonne (= USD/kg)
    CF         = score × price / 0.409412948     eq. kg Cu / kg (the peer's copper CF)

Peer conventions kept: a flow with a missing quantity counts 0 t but its value stays in the
price; imports from one member of a group to another stay in the totals with score 0; a
country without a production row produced 0; production is converted to tonnes by
:func:`verdikart.indicators.production.quantity_t_sql` (kg / 1,000), other non-tonne units
(natural gas, million m³) are added as they are.

Production is read from one source and one stage per material and year
(:func:`verdikart.indicators.production.selected_production_sql` with ``per_stage=False``):
an explicit source prefix, or World Mining Data first (the method's own source, so results
equal the peer's), then USGS MCS, then others; extraction before processing within a source.
``production_source`` and ``production_stage`` name them. If the chosen rows mix units, kg and
t are added in tonnes (HHI on tonnes, not truncated); units that do not convert give NULL.

Differences (NULL + ``missing_reason`` where the peer prints 0): no production data for the
material/year (the peer stops its loop), no imports and no production (peer: 0), no import
quantity (price undefined; peer: price 0). A WGI value the peer stores as the text 'nan'
(French Polynesia 2018) is missing here, so it gets 0.5; the peer's sum turns NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.indicators.production import (
    check_source,
    entities_sql,
    entity_table,
    quantity_t_sql,
    selected_production_sql,
)
from verdikart.store import registered

CF_COPPER = 0.409412948
"""Average GeoPolRisk CF of copper for OECD countries 2017-2021 (geopolrisk-py 2.0.1)."""
MISSING_WGI_SCORE = 0.5
"""Score of a partner without a WGI value (Koyamparambath et al. 2024; geopolrisk-py)."""
GOVERNANCE_INDICATOR = "pv.normalized"

COLUMNS = (
    "country",
    "kind",
    "material",
    "year",
    "score",
    "characterization_factor",
    "hhi",
    "import_risk",
    "price_kusd_per_t",
    "import_quantity_t",
    "import_value_kusd",
    "own_production_t",
    "production_unit",
    "production_source",
    "production_stage",
    "flows_missing_quantity",
    "flows_missing_score",
    "missing_reason",
)

# Material -> HS6 codes as the peer maps them: the map's HS code plus its ';'-separated
# complementary codes, only for rows that have both an HS code and a symbol.
_MATERIAL_HS_SQL = """
    SELECT DISTINCT material, lpad(trim(code), 6, '0') AS hs6 FROM (
        SELECT material, hs6 AS code FROM wmd_hs_map
        WHERE hs6 IS NOT NULL AND symbol IS NOT NULL AND material IS NOT NULL
        UNION ALL
        SELECT material, unnest(string_split(hs6_complementary, ';')) AS code FROM wmd_hs_map
        WHERE hs6 IS NOT NULL AND symbol IS NOT NULL AND material IS NOT NULL
          AND hs6_complementary IS NOT NULL
    ) WHERE trim(code) <> ''
"""

_QUERY = f"""
WITH
sel_years AS (SELECT CAST(unnest($years::INTEGER[]) AS INTEGER) AS year),
sel_mats AS (SELECT unnest($mats::VARCHAR[]) AS material),
mat_hs AS (
    SELECT h.material, h.hs6 FROM ({_MATERIAL_HS_SQL}) h JOIN sel_mats USING (material)
),
named AS ({entities_sql("_gpr_countries", "_gpr_membership")}),
-- trade rows of the materials' HS codes; a material with several codes sums them per partner
-- below, as the peer does. A missing quantity counts 0 t (its value stays in the price).
flows AS (
    SELECT CAST(t.year AS INTEGER) AS year, m.material, t.importer, t.exporter,
           coalesce(t.quantity_t, 0) AS q, coalesce(t.value_kusd, 0) AS v,
           t.quantity_t IS NULL AS missing_q
    FROM trade_analysis t JOIN mat_hs m ON m.hs6 = t.hs6
    WHERE t.year IN (SELECT year FROM sel_years)
      AND ($all_countries OR t.importer IN (SELECT iso3 FROM named))
),
-- production of one source and stage per material and year; kg -> t as in production.py,
-- other non-tonne units (natural gas, million m3) as they are (the peer's convention)
prod AS (
    SELECT p.material, CAST(p.year AS INTEGER) AS year, p.country, p.quantity, p.unit,
           p.source, p.stage, {quantity_t_sql("p.quantity", "p.unit")} AS quantity_t
    FROM ({selected_production_sql(per_stage=False)}) p
),
-- every country with trade or production in the selected years (only for `all`)
data_countries AS (
    SELECT DISTINCT importer AS iso3 FROM flows WHERE $all_countries
    UNION
    SELECT country FROM prod WHERE $all_countries
),
entities AS (
    SELECT entity, kind, iso3, year_from, year_to FROM named
    UNION ALL
    SELECT iso3, 'country', iso3, NULL, NULL FROM data_countries
),
members AS (
    SELECT DISTINCT e.entity, e.iso3, y.year
    FROM entities e CROSS JOIN sel_years y
    WHERE (e.year_from IS NULL OR e.year_from <= y.year)
      AND (e.year_to IS NULL OR y.year <= e.year_to)
),
-- WGI has two rows for Guyana; the peer takes the first, which is the smaller one in the
-- bundled years 2018-2022
wgi AS (
    SELECT country, CAST(year AS INTEGER) AS year, min(value) AS g FROM governance
    WHERE indicator = '{GOVERNANCE_INDICATOR}' AND year IN (SELECT year FROM sel_years)
    GROUP BY country, year
),
imports AS (
    SELECT mb.entity, f.material, f.year,
           sum(f.q) AS q, sum(f.v) AS v,
           sum(f.q * CASE WHEN pm.iso3 IS NOT NULL THEN 0.0
                          ELSE coalesce(w.g, {MISSING_WGI_SCORE}) END) AS num,
           count(*) FILTER (WHERE f.missing_q) AS n_missing_q,
           count(*) FILTER (WHERE pm.iso3 IS NULL AND w.g IS NULL) AS n_missing_g,
           count(*) AS n_flows
    FROM flows f
    JOIN members mb ON mb.iso3 = f.importer AND mb.year = f.year
    LEFT JOIN members pm ON pm.entity = mb.entity AND pm.year = f.year AND pm.iso3 = f.exporter
    LEFT JOIN wgi w ON w.country = f.exporter AND w.year = f.year
    GROUP BY mb.entity, f.material, f.year
),
-- HHI over the producer rows with quantities truncated to integers (the peer's convention);
-- rows mixing kg and t: on tonnes; units that do not convert: NULL
world AS (
    SELECT material, year, any_value(source) AS source, any_value(stage) AS stage,
           count(DISTINCT coalesce(unit, '')) AS n_units,
           count(DISTINCT CASE WHEN quantity_t IS NULL THEN coalesce(unit, '') END)
               + max(CASE WHEN quantity_t IS NOT NULL THEN 1 ELSE 0 END) AS n_basis,
           string_agg(DISTINCT coalesce(unit, '(no unit)'), ', ') AS units,
           CASE WHEN n_units = 1 THEN any_value(unit) WHEN n_basis = 1 THEN 't' END AS unit,
           CASE WHEN n_units = 1 AND sum(trunc(quantity)) > 0
                THEN sum(trunc(quantity) * trunc(quantity))
                     / (sum(trunc(quantity)) * sum(trunc(quantity)))
                WHEN n_units > 1 AND n_basis = 1 AND sum(quantity_t) > 0
                THEN sum(quantity_t * quantity_t) / (sum(quantity_t) * sum(quantity_t))
           END AS hhi
    FROM prod GROUP BY material, year
),
-- a country's production: its first row in the peer; duplicates (Guyana, gold) -> smaller,
-- which is the first in the bundled data; in tonnes where the unit is a mass
own_country AS (
    SELECT material, year, country, min(coalesce(quantity_t, quantity)) AS q_t
    FROM prod GROUP BY material, year, country
),
own AS (
    SELECT mb.entity, o.material, o.year, sum(o.q_t) AS q_t
    FROM own_country o JOIN members mb ON mb.iso3 = o.country AND mb.year = o.year
    GROUP BY mb.entity, o.material, o.year
),
grid AS (
    SELECT e.entity, e.kind, m.material, y.year
    FROM (SELECT DISTINCT entity, kind FROM entities) e
    CROSS JOIN sel_mats m CROSS JOIN sel_years y
),
calc AS (
    SELECT g.entity AS country, g.kind, g.material, g.year, w.hhi,
           coalesce(i.q, 0) AS import_quantity_t,
           coalesce(i.v, 0) AS import_value_kusd,
           CASE WHEN w.hhi IS NOT NULL THEN coalesce(o.q_t, 0) END AS own_production_t,
           CASE WHEN w.unit = 'kg' THEN 't' ELSE w.unit END AS production_unit,
           w.source AS production_source, w.stage AS production_stage,
           w.n_basis, w.units,
           coalesce(i.num, 0) AS num,
           CAST(coalesce(i.n_missing_q, 0) AS INTEGER) AS flows_missing_quantity,
           CAST(coalesce(i.n_missing_g, 0) AS INTEGER) AS flows_missing_score,
           coalesce(i.n_flows, 0) AS n_flows,
           (i.entity IS NOT NULL OR o.entity IS NOT NULL) AS has_data
    FROM grid g
    LEFT JOIN world w ON w.material = g.material AND w.year = g.year
    LEFT JOIN imports i ON i.entity = g.entity AND i.material = g.material AND i.year = g.year
    LEFT JOIN own o ON o.entity = g.entity AND o.material = g.material AND o.year = g.year
),
risk AS (
    SELECT *,
           CASE WHEN hhi IS NOT NULL AND import_quantity_t + own_production_t > 0
                THEN num / (import_quantity_t + own_production_t) END AS import_risk,
           CASE WHEN import_quantity_t > 0
                THEN import_value_kusd / import_quantity_t END AS price_kusd_per_t
    FROM calc
    WHERE has_data OR NOT $all_countries
)
SELECT country, kind, material, year,
       hhi * import_risk AS score,
       hhi * import_risk * price_kusd_per_t / {CF_COPPER} AS characterization_factor,
       hhi, import_risk, price_kusd_per_t, import_quantity_t, import_value_kusd,
       own_production_t, production_unit, production_source, production_stage,
       flows_missing_quantity, flows_missing_score,
       CASE
           WHEN hhi IS NULL AND n_basis > 1
               THEN 'production units ' || units || ' do not convert to one unit'
           WHEN hhi IS NULL AND $source::VARCHAR IS NOT NULL
               THEN 'no production data from source ' || $source::VARCHAR
                    || '* for this material and year'
           WHEN hhi IS NULL THEN 'no production data for this material and year'
           WHEN import_quantity_t + own_production_t = 0 AND n_flows > 0
               THEN 'import quantities missing and no own production'
           WHEN import_quantity_t + own_production_t = 0
               THEN 'no imports and no own production'
           WHEN import_quantity_t = 0 AND n_flows > 0
               THEN 'import quantities missing: price and characterization factor undefined'
           WHEN import_quantity_t = 0
               THEN 'no imports: price and characterization factor undefined'
       END AS missing_reason
FROM risk
ORDER BY kind, country, material, year
"""


def assessable_materials(store: Any) -> list[dict[str, Any]]:
    """Materials the method can assess (an HS code in the map): slug, commodity, reference id."""
    return store.rows(
        "SELECT material, commodity, reference_id, list(DISTINCT h.hs6 ORDER BY h.hs6) AS hs6 "
        f"FROM wmd_hs_map JOIN ({_MATERIAL_HS_SQL}) h USING (material) "
        "GROUP BY material, commodity, reference_id ORDER BY material"
    )


def resolve_materials(store: Any, materials: Sequence[str] | None) -> list[str]:
    """Material slugs from slugs, WMD sheet names or the peer's reference ids (any case)."""
    known = assessable_materials(store)
    if materials is None:
        return [m["material"] for m in known]
    index: dict[str, str] = {}
    for m in known:
        for key in (m["material"], m["commodity"], m["reference_id"]):
            if key:
                index.setdefault(str(key).strip().casefold(), m["material"])
    out: list[str] = []
    unknown: list[str] = []
    for text in materials:
        slug = index.get(text.strip().casefold())
        if slug is None:
            unknown.append(text)
        elif slug not in out:
            out.append(slug)
    if unknown:
        raise UnknownCodeError(
            f"unknown or unassessable material(s) {', '.join(map(repr, unknown))} (GeoPolRisk "
            f"needs an HS code in the World Mining Data map); materials: "
            f"{', '.join(m['material'] for m in known)}"
        )
    return out


def available_years(store: Any) -> list[int]:
    """Years with both production and trade data."""
    rows = store.con.execute(
        "SELECT DISTINCT year FROM production "
        "WHERE year IN (SELECT DISTINCT year FROM trade) ORDER BY 1"
    ).fetchall()
    return [int(r[0]) for r in rows]


def resolve_years(store: Any, years: Sequence[int] | None) -> list[int]:
    known = available_years(store)
    if years is None:
        return known
    out = sorted({int(y) for y in years})
    bad = [y for y in out if y not in known]
    if bad:
        raise UnknownCodeError(
            f"no GeoPolRisk data for year(s) {', '.join(map(str, bad))}; years with trade and "
            f"production data: {', '.join(map(str, known))}"
        )
    return out


def geopolrisk(
    store: Any,
    countries: list[str] | None,
    materials: list[str] | None,
    years: list[int] | None,
    source: str | None = None,
) -> pa.Table:
    """GeoPolRisk score and characterisation factor for every country/group × material × year.

    `countries`: ISO3 codes, names, BACI codes or group ids (EU27, NATO, ...; anything
    `resolve_country` accepts); None = every country with imports or production of the
    material in the year plus every defined group (rows without data are then left out).
    `materials`: slugs (cobalt), WMD sheet names or the peer's reference ids; None = all
    assessable. `years`: None = all years with trade and production data. `source`: production
    source label prefix ('USGS', 'World Mining Data'); None = World Mining Data, then USGS MCS,
    then others, per material and year (see :mod:`verdikart.indicators.production`).

    Returns an Arrow table with the columns in `COLUMNS`; a value that cannot be computed is
    NULL and `missing_reason` says why. Raises UnknownCodeError for unknown inputs.
    """
    from verdikart.reference.countries import group_membership_table, groups, resolve_country

    mats = resolve_materials(store, materials)
    yrs = resolve_years(store, years)
    src = check_source(store, source)
    all_countries = countries is None
    refs = list(groups()) if countries is None else [resolve_country(c) for c in countries]
    seen: dict[tuple[str, str], Any] = {(r.kind, r.id): r for r in refs}
    countries_t, group_ids = entity_table(list(seen.values()))
    params = {
        "mats": mats,
        "years": yrs,
        "all_countries": all_countries,
        "group_ids": group_ids,
        "source": src,
    }
    tables = {"_gpr_countries": countries_t, "_gpr_membership": group_membership_table()}
    with registered(store.con, **tables):
        table: pa.Table = store.con.sql(_QUERY, params=params).to_arrow_table()
    return table
