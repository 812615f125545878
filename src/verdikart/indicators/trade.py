"""Trade-based supply indicators: supplier shares, HHI, top-k shares, flags, governance weighting.

Owns the one SQL query family that turns the store's ``trade`` view into indicators for any
reporter (a country, a group of countries or, via :mod:`verdikart.indicators.company`, a
company's purchases) and any product (a single HS6 code or a material = a set of HS6 codes).

Inputs are relations, not loaders (relation in -> relation out):

* ``reporters``: Arrow table ``(reporter, iso3, year_from, year_to)``; a country is a group of
  one. Flows between two members of the same reporter are internal and left out, so EU27
  imports are extra-EU imports.
* ``products``: Arrow table ``(product, hs6)`` plus optional ``material``, ``stage``; a material
  is several rows with the same ``product``.

Formulas (shares ``s_i`` of supplier country ``i`` in the reporter's imports of one product):

* HHI = Σ s_i² (Herfindahl 1950, Hirschman 1945; US DoJ/FTC Horizontal Merger Guidelines 2023
  use the 0–10,000 scale, ``hhi_points`` = 10,000 × HHI).
* top-1 / top-3 supplier share; ``concentration_flag`` = top-1 share > threshold (default 0.65,
  the single-third-country ceiling of the CRMA, Regulation (EU) 2024/1252 Art. 5(1)(d), also
  the 65 % rule of thumb in seed 003 step 4).
* ``hhi_wgi`` = Σ s_i² × g_i, the governance-weighted concentration of the EU criticality
  method (European Commission 2017, "Methodology for establishing the EU list of critical raw
  materials", eq. for HHI_WGI), with g_i the World Bank WGI political-stability score rescaled
  to 0..1, higher = riskier (``pv.normalized`` = (2.5 − PV)/5, as in the GeoPolRisk method,
  Gemechu et al. 2016; Santillán-Saldivar et al. 2021). Multiply by 10 for the EU's 0–10 scale.
  Suppliers without a score are left out and ``governance_coverage`` says which share of
  imports the value covers.
* ``supplier_risk`` = Σ s_i g_i / Σ s_i over suppliers with a score (import-weighted mean risk).
* net imports = imports − exports; import reliance = net imports / apparent consumption, with
  apparent consumption = production + imports − exports (USGS Mineral Commodity Summaries,
  "net import reliance"). Computed only when the two sides measure the same thing:

  (a) scope: the product is one material and stage, its HS6 codes are exactly the complete
      code set of that material-stage in :func:`verdikart.reference.materials.material_hs6_table`
      (HS92, own codes), none of them shared with another material, and every code has trade
      rows in that year (a partial code set, e.g. 760110 without 760120 for aluminium metal,
      would understate trade against total production);
  (b) basis: trade quantities are gross weight, World Mining Data production is metal content
      (``content_basis`` NULL) or an oxide/concentrate basis (Li2O, REO, ...). They compare
      only when the production row says gross weight (``content_basis`` starting with
      ``gross``), or for metal-content production (``content_basis`` NULL) at the processing
      stage when every code is an unwrought metal or element (HS headings 2804/2805, 7106,
      7108, 7110, chapters 74-81; not ferroalloys). Ores and concentrates (chapter 26) against
      metal content, e.g. copper concentrate 260300 against Cu mine production, are not.

  Otherwise ``import_reliance`` is NULL and ``notes`` give the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import duckdb
import pyarrow as pa

from verdikart.indicators.production import selected_production_sql
from verdikart.store import ANALYSIS_REVISION, registered

Basis = Literal["value", "quantity"]
BASES: tuple[str, ...] = ("value", "quantity")
DEFAULT_THRESHOLD = 0.65
DEFAULT_GOVERNANCE = "pv.normalized"


def country_reporters(iso3: Sequence[str]) -> pa.Table:
    """Each country as its own one-member reporter (valid in every year)."""
    codes = list(iso3)
    return pa.table(
        {
            "reporter": codes,
            "iso3": codes,
            "year_from": pa.array([None] * len(codes), pa.int32()),
            "year_to": pa.array([None] * len(codes), pa.int32()),
        }
    )


def hs6_products(codes: Sequence[str]) -> pa.Table:
    """Each HS6 code as its own product."""
    return pa.table({"product": list(codes), "hs6": list(codes)})


def _normalise_products(products: pa.Table) -> pa.Table:
    cols = {
        "product": products.column("product").cast(pa.string()),
        "hs6": products.column("hs6").cast(pa.string()),
    }
    for extra in ("material", "stage"):
        cols[extra] = (
            products.column(extra).cast(pa.string())
            if extra in products.column_names
            else pa.nulls(products.num_rows, pa.string())
        )
    return pa.table(cols)


def _normalise_reporters(reporters: pa.Table, key: str = "reporter") -> pa.Table:
    """A membership relation (`key`, iso3, year_from, year_to) with the types the SQL expects:
    reporters here, markets in `position`."""
    return pa.table(
        {
            key: reporters.column(key).cast(pa.string()),
            "iso3": reporters.column("iso3").cast(pa.string()),
            "year_from": reporters.column("year_from").cast(pa.int32()),
            "year_to": reporters.column("year_to").cast(pa.int32()),
        }
    )


# Flows of each reporter by partner: imports (partner = exporter) and exports (partner =
# importer); a flow whose partner is a member of the same reporter in that year is internal.
_PARTNER_FLOWS = """
WITH rep AS (
    SELECT reporter, iso3, coalesce(year_from, 0) AS y0, coalesce(year_to, 9999) AS y1
    FROM _vk_reporters
),
prod AS (SELECT DISTINCT product, hs6 FROM _vk_products),
t AS (
    SELECT t.year, t.exporter, t.importer, t.hs6, t.value_kusd, t.quantity_t, t.source
    FROM {flows} t WHERE t.year IN (SELECT unnest($years)) AND t.hs6 IN (SELECT hs6 FROM prod)
),
flows AS (
    SELECT 'import' AS flow, r.reporter, p.product, t.year, t.exporter AS partner,
           t.value_kusd, t.quantity_t, t.source
    FROM t JOIN prod p USING (hs6)
    JOIN rep r ON t.importer = r.iso3 AND t.year BETWEEN r.y0 AND r.y1
    WHERE NOT EXISTS (SELECT 1 FROM rep x WHERE x.reporter = r.reporter
                      AND x.iso3 = t.exporter AND t.year BETWEEN x.y0 AND x.y1)
    UNION ALL
    SELECT 'export', r.reporter, p.product, t.year, t.importer,
           t.value_kusd, t.quantity_t, t.source
    FROM t JOIN prod p USING (hs6)
    JOIN rep r ON t.exporter = r.iso3 AND t.year BETWEEN r.y0 AND r.y1
    WHERE NOT EXISTS (SELECT 1 FROM rep x WHERE x.reporter = r.reporter
                      AND x.iso3 = t.importer AND t.year BETWEEN x.y0 AND x.y1)
),
partner AS (
    SELECT flow, reporter, product, year, partner,
           sum(value_kusd) AS value_kusd,
           -- a partial sum of quantities would look like a real total: NULL instead
           CASE WHEN count(quantity_t) = count(*) THEN sum(quantity_t) END AS quantity_t,
           CAST(count(*) - count(quantity_t) AS BIGINT) AS quantity_missing_rows,
           string_agg(DISTINCT source, '; ' ORDER BY source) AS source
    FROM flows GROUP BY ALL
)
"""


def _shares_sql(basis: Basis, flows: str = "trade_analysis") -> str:
    col = "value_kusd" if basis == "value" else "quantity_t"
    return (
        _PARTNER_FLOWS.replace("{flows}", flows)
        + f""",
shares AS (
    SELECT p.*,
           CASE WHEN sum(CASE WHEN {col} IS NULL THEN 1 ELSE 0 END)
                     OVER (PARTITION BY flow, reporter, product, year) = 0
                THEN {col} / nullif(sum({col}) OVER (PARTITION BY flow, reporter, product, year), 0)
           END AS share,
           row_number() OVER (PARTITION BY flow, reporter, product, year
                              ORDER BY {col} DESC NULLS LAST, partner) AS supplier_rank,
           g.value AS governance_risk
    FROM partner p
    -- one score per (country, year) even if the source repeats a row (wgi.db has GUY twice);
    -- joining duplicates would double those suppliers' rows and amounts
    LEFT JOIN (SELECT country, year AS g_year, min(value) AS value FROM governance
               WHERE indicator = $governance GROUP BY ALL) g
         ON g.country = p.partner AND g.g_year = p.year
)
"""
    )


def supplier_shares(
    con: duckdb.DuckDBPyConnection,
    reporters: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    basis: Basis = "value",
    governance: str = DEFAULT_GOVERNANCE,
    flows: pa.Table | None = None,
) -> pa.Table:
    """Each reporter's imports of each product by supplier country, with shares and ranks.

    ``share`` is NULL for every supplier of a product when any supplier's basis amount is
    missing (a share of an unknown total is unknown); ``quantity_missing_rows`` says why.
    """
    _check_basis(basis)
    sql = (
        _shares_sql(basis, "trade_analysis" if flows is None else "_vk_flows")
        + """
SELECT reporter, product, year, partner AS supplier, value_kusd, quantity_t,
       quantity_missing_rows, share, supplier_rank, governance_risk, source
FROM shares WHERE flow = 'import'
ORDER BY reporter, product, year, supplier_rank
"""
    )
    with registered(
        con,
        _vk_reporters=_normalise_reporters(reporters),
        _vk_products=_normalise_products(products),
        **({} if flows is None else {"_vk_flows": flows}),
    ):
        return con.sql(
            sql, params={"years": [int(y) for y in years], "governance": governance}
        ).to_arrow_table()


def _summary_sql(basis: Basis, flows: str = "trade_analysis") -> str:
    return (
        _shares_sql(basis, flows)
        + """,
side AS (
    SELECT flow, reporter, product, year,
           sum(value_kusd) AS value_kusd,
           CASE WHEN sum(quantity_missing_rows) = 0 THEN sum(quantity_t) END AS quantity_t,
           CAST(sum(quantity_missing_rows) AS BIGINT) AS quantity_missing_rows,
           count(*) AS partners,
           sum(share * share) AS hhi,
           max(CASE WHEN supplier_rank = 1 THEN partner END) AS top_supplier,
           max(CASE WHEN supplier_rank = 1 THEN share END) AS top_supplier_share,
           sum(CASE WHEN supplier_rank <= 3 THEN share END) AS top3_share,
           sum(share * share * governance_risk) AS hhi_wgi,
           -- least(1.0, NULL) is 1.0 in DuckDB: unknown shares must give unknown coverage
           CASE WHEN sum(CASE WHEN governance_risk IS NOT NULL THEN share END) IS NOT NULL
                THEN least(1.0, sum(CASE WHEN governance_risk IS NOT NULL THEN share END))
           END AS governance_coverage,
           sum(share * governance_risk)
             / nullif(sum(CASE WHEN governance_risk IS NOT NULL THEN share END), 0)
             AS supplier_risk,
           string_agg(CASE WHEN governance_risk IS NULL THEN partner END, ',' ORDER BY partner)
             AS suppliers_without_governance,
           string_agg(DISTINCT source, '; ') AS source
    FROM shares GROUP BY ALL
),
keys AS (SELECT DISTINCT reporter, product, year FROM side),
stage_codes AS (
    -- the reference's complete code set of each material-stage (scope test (a), module doc)
    SELECT material, stage, string_agg(DISTINCT hs6, ',' ORDER BY hs6) AS stage_codes,
           string_agg(DISTINCT hs6, ',' ORDER BY hs6) FILTER (WHERE shared)
             AS shared_codes
    FROM _vk_stage_codes GROUP BY ALL
),
prod_meta AS (
    -- production matches only a single-material, single-stage product (see module doc)
    SELECT product, min(material) AS material,
           CASE WHEN count(DISTINCT material) = 1 AND count(material) = count(*)
                 AND count(DISTINCT stage) = 1 AND count(stage) = count(*)
                THEN min(stage) END AS stage,
           string_agg(DISTINCT hs6, ',' ORDER BY hs6) AS hs6_codes,
           count(DISTINCT hs6) AS n_codes,
           -- unwrought metals and elements: their gross weight is metal content (basis test b)
           bool_and(substr(hs6, 1, 4) IN ('2804', '2805', '7106', '7108', '7110')
                    OR substr(hs6, 1, 2) BETWEEN '74' AND '81') AS metal_codes
    FROM _vk_products GROUP BY product
),
prod_ref AS (
    SELECT pm.*, sc.stage_codes, sc.shared_codes,
           sc.stage_codes IS NOT NULL AND sc.stage_codes = pm.hs6_codes AS complete_codes
    FROM prod_meta pm
    LEFT JOIN stage_codes sc ON sc.material = pm.material AND sc.stage = pm.stage
),
present AS (
    -- codes of each product with any trade row in the year (scope test (a))
    SELECT p.product, t.year, count(DISTINCT t.hs6) AS n_present
    FROM t JOIN prod p USING (hs6) GROUP BY ALL
),
prodn AS (
    -- production of the reporter's members in tonnes, with whether its basis compares with
    -- gross trade weight (basis test (b), module doc)
    SELECT r.reporter, pm.product, pr.year, sum(pr.quantity) AS production_t,
           bool_and(coalesce(lower(pr.content_basis) LIKE 'gross%', false)
                    OR (pr.content_basis IS NULL AND pm.stage = 'processing'
                        AND pm.metal_codes)) AS production_comparable,
           string_agg(DISTINCT coalesce(pr.content_basis, 'metal content'), ', ')
             AS production_basis,
           string_agg(DISTINCT pr.source, '; ') AS production_source
    FROM ({selected_production}) pr
    JOIN (SELECT reporter, iso3, coalesce(year_from, 0) AS y0, coalesce(year_to, 9999) AS y1
          FROM _vk_reporters) r ON pr.country = r.iso3 AND pr.year BETWEEN r.y0 AND r.y1
    JOIN prod_meta pm ON pm.material = pr.material AND pm.stage = pr.stage
    WHERE pr.unit = 't' AND pr.year IN (SELECT unnest($years))
    GROUP BY ALL
),
joined AS (
    SELECT k.reporter, k.product, pm.material, pm.stage, pm.hs6_codes, k.year,
           coalesce(i.value_kusd, 0) AS import_value_kusd,
           CASE WHEN i.flow IS NULL THEN 0 ELSE i.quantity_t END AS import_quantity_t,
           coalesce(i.quantity_missing_rows, 0) AS import_quantity_missing_rows,
           coalesce(e.value_kusd, 0) AS export_value_kusd,
           CASE WHEN e.flow IS NULL THEN 0 ELSE e.quantity_t END AS export_quantity_t,
           coalesce(e.quantity_missing_rows, 0) AS export_quantity_missing_rows,
           coalesce(i.partners, 0) AS n_suppliers,
           i.top_supplier, i.top_supplier_share, i.top3_share, i.hhi,
           i.hhi * 10000 AS hhi_points,
           i.hhi_wgi, i.governance_coverage, i.supplier_risk, i.suppliers_without_governance,
           pm.stage_codes, pm.shared_codes, pm.complete_codes,
           coalesce(ps.n_present, 0) AS n_codes_traded, pm.n_codes,
           pn.production_t AS _production_t, pn.production_comparable, pn.production_basis,
           pn.production_source,
           CASE WHEN e.source IS NULL OR e.source = i.source THEN i.source
                WHEN i.source IS NULL THEN e.source
                ELSE i.source || '; ' || e.source END AS source
    FROM keys k
    LEFT JOIN side i ON i.flow = 'import' AND (i.reporter, i.product, i.year)
                                             = (k.reporter, k.product, k.year)
    LEFT JOIN side e ON e.flow = 'export' AND (e.reporter, e.product, e.year)
                                             = (k.reporter, k.product, k.year)
    LEFT JOIN prod_ref pm ON pm.product = k.product
    LEFT JOIN present ps ON (ps.product, ps.year) = (k.product, k.year)
    LEFT JOIN prodn pn ON (pn.reporter, pn.product, pn.year) = (k.reporter, k.product, k.year)
),
comparable AS (
    SELECT *,
           CASE WHEN stage IS NULL
                  THEN 'reliance n/a: product is not one material and stage'
                WHEN NOT complete_codes
                  THEN 'reliance n/a: HS6 ' || hs6_codes || ' is not the complete code set '
                       || coalesce(stage_codes, '(none)') || ' of ' || material || ' '
                       || stage
                WHEN shared_codes IS NOT NULL
                  THEN 'reliance n/a: HS6 ' || shared_codes || ' also cover other materials'
                WHEN n_codes_traded < n_codes
                  THEN 'reliance n/a: only ' || n_codes_traded || ' of ' || n_codes || ' HS6 '
                       || 'codes of ' || material || ' ' || stage || ' in the trade data'
                WHEN _production_t IS NULL
                  THEN 'reliance n/a: no ' || material || ' ' || stage || ' production in t'
                WHEN NOT production_comparable
                  THEN 'reliance n/a: production (' || production_basis || ') not comparable '
                       || 'with gross trade weight of HS6 ' || hs6_codes
           END AS _scope_note
    FROM joined
),
final AS (
    SELECT * EXCLUDE (_production_t),
           CASE WHEN _scope_note IS NULL THEN _production_t END AS production_t,
           import_value_kusd - export_value_kusd AS net_import_value_kusd,
           import_quantity_t - export_quantity_t AS net_import_quantity_t,
           CASE WHEN _scope_note IS NULL
                THEN _production_t + import_quantity_t - export_quantity_t
           END AS apparent_consumption_t,
           -- USGS reports "E" for net exporters and no figure when consumption is not positive
           CASE WHEN _scope_note IS NULL AND import_quantity_t > export_quantity_t
                 AND _production_t + import_quantity_t - export_quantity_t > 0
                THEN (import_quantity_t - export_quantity_t)
                     / (_production_t + import_quantity_t - export_quantity_t)
           END AS import_reliance,
           top_supplier_share > $threshold AS concentration_flag,
           import_value_kusd / nullif(lag(import_value_kusd) OVER w, 0) - 1
             AS import_value_yoy,
           import_quantity_t / nullif(lag(import_quantity_t) OVER w, 0) - 1
             AS import_quantity_yoy,
           lag(year) OVER w AS _prev_year
    FROM comparable
    WINDOW w AS (PARTITION BY reporter, product ORDER BY year)
)
SELECT * EXCLUDE (_prev_year, import_value_yoy, import_quantity_yoy, _scope_note, stage_codes,
                  shared_codes, complete_codes, n_codes_traded, n_codes,
                  production_comparable),
       CASE WHEN _prev_year = year - 1 THEN import_value_yoy END AS import_value_yoy,
       CASE WHEN _prev_year = year - 1 THEN import_quantity_yoy END AS import_quantity_yoy,
       concat_ws('; ',
         CASE WHEN import_quantity_missing_rows > 0 THEN 'import quantity missing in '
              || import_quantity_missing_rows || ' source row(s)' END,
         CASE WHEN export_quantity_missing_rows > 0 THEN 'export quantity missing in '
              || export_quantity_missing_rows || ' source row(s)' END,
         CASE WHEN n_suppliers = 0 THEN 'no imports' END,
         CASE WHEN top_supplier IS NOT NULL AND hhi IS NULL
              THEN 'shares unknown on ' || $basis || ' basis' END,
         CASE WHEN suppliers_without_governance IS NOT NULL
              THEN 'no governance score for ' || suppliers_without_governance END,
         CASE WHEN _scope_note IS NOT NULL THEN _scope_note
              WHEN import_quantity_t IS NULL OR export_quantity_t IS NULL
                THEN 'reliance n/a: quantity missing'
              WHEN production_t + import_quantity_t - export_quantity_t <= 0
                THEN 'reliance n/a: apparent consumption not positive'
              WHEN import_quantity_t <= export_quantity_t THEN 'reliance n/a: net exporter (USGS "E")'
         END
       ) AS notes
FROM final
WHERE year IN (SELECT unnest($report_years))
ORDER BY reporter, product, year
""".replace("{selected_production}", selected_production_sql())
    )


def trade_indicators(
    con: duckdb.DuckDBPyConnection,
    reporters: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    basis: Basis = "value",
    threshold: float = DEFAULT_THRESHOLD,
    governance: str = DEFAULT_GOVERNANCE,
    flows: pa.Table | None = None,
) -> pa.Table:
    """One row per (reporter, product, year) with imports, exports and concentration.

    A product a reporter neither imports nor exports in a year has no row. Quantities are
    NULL (never 0) when any contributing source row lacks a quantity; ``notes`` says why.
    Year-on-year changes compare with the previous calendar year. ``flows`` replaces the
    store's ``trade`` view by a relation of the same columns (a company's purchases).
    """
    _check_basis(basis)
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    from verdikart.reference.materials import material_hs6_table

    report_years = sorted({int(y) for y in years})
    all_years = sorted(set(report_years) | {y - 1 for y in report_years})
    with registered(
        con,
        _vk_reporters=_normalise_reporters(reporters),
        _vk_products=_normalise_products(products),
        _vk_stage_codes=material_hs6_table("HS92"),
        **({} if flows is None else {"_vk_flows": flows}),
    ):
        return con.sql(
            _summary_sql(basis, "trade_analysis" if flows is None else "_vk_flows"),
            params={
                "years": all_years,
                "mats": None,  # one production source per material, stage, year (production.py)
                "source": None,
                "report_years": report_years,
                "threshold": float(threshold),
                "basis": basis,
                "governance": governance,
            },
        ).to_arrow_table()


def _check_basis(basis: str) -> None:
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}, got {basis!r}")


def trade_not_analysed(con: duckdb.DuckDBPyConnection, year: int) -> list[str]:
    """Notes on the year's `trade` rows the indicators leave out (another HS revision, or a
    second dataset beside CEPII BACI; see ``store.TRADE_FOR_ANALYSIS_VIEW``), with counts, so
    that a report says what it did not use."""
    rows = con.execute(
        "SELECT hs_revision, source, count(*) FROM trade WHERE year = $y GROUP BY ALL "
        "EXCEPT SELECT hs_revision, source, count(*) FROM trade_analysis WHERE year = $y "
        "GROUP BY ALL ORDER BY 1, 2",
        {"y": year},
    ).fetchall()
    return [
        f"{n:,} trade row(s) of {year} not used: {revision} '{source}' (the indicators read "
        f"{ANALYSIS_REVISION} and, per year, CEPII BACI before other datasets)"
        for revision, source, n in rows
    ]
