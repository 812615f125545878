"""Norway's (or any exporter's) position: shares of world exports and of allies' imports, RCA.

Owns the exporter-side indicators of the mapping (seed 003 steps 5 and 6), one set-based DuckDB
query over the store's ``trade`` view. Inputs are relations, like :mod:`.trade`:

* ``focal``: Arrow ``(reporter, iso3, year_from, year_to)``, the exporter(s) (a group's
  exports are its extra-group exports);
* ``markets``: Arrow ``(market, iso3, year_from, year_to)``, the importing groups (EU27,
  NATO, EEA, ...). The focal reporter's own members are removed from each market, so
  "Norway's share of NATO imports" is its share of the imports of the *other* NATO members;
* ``products``: Arrow ``(product, hs6)``.

Formulas (value basis, kUSD; quantities are missing in ~5 % of BACI rows, which would leave
most world totals unknown, so position is computed on values only):

* world export share = X_ij / X_wj, where X_ij is focal i's exports of product j and X_wj the
  sum of all exports of j in the data (all BACI flows);
* market share (total) = focal's exports to the market / all imports of the market;
  market share (external) = focal's exports to the market / the market's imports from outside
  it (for EU27: extra-EU imports, Eurostat's convention);
* revealed comparative advantage (Balassa 1965, "Trade liberalisation and 'revealed'
  comparative advantage", Manchester School 33(2)): RCA_ij = (X_ij / X_i) / (X_wj / X_w).
  Here X_i and X_w are totals over a *raw-materials basket*, not over total merchandise trade:
  by default the HS6 codes under study (the products passed in), or with ``basket="store"``
  every code in the store (the 74 HS6 codes of the bundled BACI extract, where crude oil and
  gas dominate Norway's exports and push every other RCA below 1). RCA > 1 means the product
  weighs more in the focal's basket exports than in the world's;
* trend: OLS slope of the world export share over the five years ending in the report year
  (``regr_slope``), ``world_export_share_slope``, in fraction of world exports per year (the
  share is a fraction 0..1, so 0.01 = one percentage point per year), and the share four
  years earlier.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from verdikart.store import registered

TREND_YEARS = 5


_POSITION_SQL = """
WITH foc AS (
    SELECT reporter, iso3, coalesce(year_from, 0) AS y0, coalesce(year_to, 9999) AS y1
    FROM _vk_focal
),
mk AS (
    SELECT market, iso3, coalesce(year_from, 0) AS y0, coalesce(year_to, 9999) AS y1
    FROM _vk_markets
),
prod AS (SELECT DISTINCT product, hs6 FROM _vk_products),
t AS (
    SELECT year, exporter, importer, hs6, value_kusd, source FROM trade_analysis
    WHERE year IN (SELECT unnest($years))
),
world AS (
    SELECT p.product, t.year, sum(t.value_kusd) AS world_export_value_kusd
    FROM t JOIN prod p USING (hs6) GROUP BY ALL
),
basket AS (
    SELECT DISTINCT hs6 FROM t WHERE $basket_all OR hs6 IN (SELECT hs6 FROM prod)
),
basket_world AS (
    SELECT year, sum(value_kusd) AS basket_world_kusd
    FROM t WHERE hs6 IN (SELECT hs6 FROM basket) GROUP BY year
),
fx AS (
    -- the focal reporter's exports, leaving out flows between its own members
    SELECT f.reporter, t.year, t.hs6, t.importer, t.value_kusd
    FROM t JOIN foc f ON t.exporter = f.iso3 AND t.year BETWEEN f.y0 AND f.y1
    WHERE NOT EXISTS (SELECT 1 FROM foc x WHERE x.reporter = f.reporter
                      AND x.iso3 = t.importer AND t.year BETWEEN x.y0 AND x.y1)
),
basket_focal AS (
    SELECT reporter, year, sum(value_kusd) AS basket_export_kusd
    FROM fx WHERE hs6 IN (SELECT hs6 FROM basket) GROUP BY ALL
),
focal_prod AS (
    SELECT fx.reporter, p.product, fx.year, sum(fx.value_kusd) AS export_value_kusd
    FROM fx JOIN prod p USING (hs6) GROUP BY ALL
),
mflow AS (
    -- flows into market members, report years only; `inside` = exporter also a member
    SELECT m.market, p.product, t.year, t.exporter, t.importer, t.value_kusd,
           mx.iso3 IS NOT NULL AS inside
    FROM t JOIN prod p USING (hs6)
    JOIN mk m ON t.importer = m.iso3 AND t.year BETWEEN m.y0 AND m.y1
    LEFT JOIN mk mx ON mx.market = m.market AND mx.iso3 = t.exporter
         AND t.year BETWEEN mx.y0 AND mx.y1
    WHERE t.year IN (SELECT unnest($report_years))
),
mk_tot AS (
    SELECT market, product, year, sum(value_kusd) AS total,
           coalesce(sum(CASE WHEN inside THEN value_kusd END), 0) AS intra
    FROM mflow GROUP BY ALL
),
-- Market M without the focal's members F (M' = M minus F), from corrections on flows touching F
-- only (no reporter x flow cross product):
--   total(M')    = total(M) - A,  A = imports of members of M n F
--   external(M') = total(M') - intra(M') = total(M) - A - intra(M) + C + D,
--                  C = imports of M n F from M,  D = exports of M n F to M'
--   from focal   = B = exports of F to M'
imp_f AS (
    SELECT f.reporter, mf.market, mf.product, mf.year, sum(mf.value_kusd) AS a,
           coalesce(sum(CASE WHEN mf.inside THEN mf.value_kusd END), 0) AS c
    FROM mflow mf JOIN foc f ON mf.importer = f.iso3 AND mf.year BETWEEN f.y0 AND f.y1
    GROUP BY ALL
),
exp_f AS (
    SELECT f.reporter, mf.market, mf.product, mf.year, sum(mf.value_kusd) AS b,
           coalesce(sum(CASE WHEN mf.inside THEN mf.value_kusd END), 0) AS d
    FROM mflow mf JOIN foc f ON mf.exporter = f.iso3 AND mf.year BETWEEN f.y0 AND f.y1
    WHERE NOT EXISTS (SELECT 1 FROM foc x WHERE x.reporter = f.reporter
                      AND x.iso3 = mf.importer AND mf.year BETWEEN x.y0 AND x.y1)
    GROUP BY ALL
),
mkt AS (
    SELECT r.reporter, mt.market, mt.product, mt.year,
           mt.total - coalesce(i.a, 0) AS import_value_kusd,
           mt.total - coalesce(i.a, 0) - mt.intra + coalesce(i.c, 0) + coalesce(e.d, 0)
             AS external_import_value_kusd,
           coalesce(e.b, 0) AS from_focal_kusd
    FROM mk_tot mt
    CROSS JOIN (SELECT DISTINCT reporter FROM foc) r
    LEFT JOIN imp_f i ON (i.reporter, i.market, i.product, i.year)
                         = (r.reporter, mt.market, mt.product, mt.year)
    LEFT JOIN exp_f e ON (e.reporter, e.market, e.product, e.year)
                         = (r.reporter, mt.market, mt.product, mt.year)
),
base AS (
    SELECT coalesce(fp.reporter, r.reporter) AS reporter, w.product, w.year,
           coalesce(fp.export_value_kusd, 0) AS export_value_kusd,
           w.world_export_value_kusd,
           coalesce(fp.export_value_kusd, 0) / nullif(w.world_export_value_kusd, 0)
             AS world_export_share,
           (coalesce(fp.export_value_kusd, 0) / nullif(bf.basket_export_kusd, 0))
             / nullif(w.world_export_value_kusd / nullif(bw.basket_world_kusd, 0), 0) AS rca,
           bf.basket_export_kusd, bw.basket_world_kusd
    FROM world w
    CROSS JOIN (SELECT DISTINCT reporter FROM foc) r
    LEFT JOIN focal_prod fp ON fp.reporter = r.reporter AND fp.product = w.product
                           AND fp.year = w.year
    LEFT JOIN basket_focal bf ON bf.reporter = r.reporter AND bf.year = w.year
    LEFT JOIN basket_world bw ON bw.year = w.year
),
trend AS (
    SELECT *,
           regr_slope(world_export_share, year) OVER w5 AS world_export_share_slope,
           count(*) OVER w5 AS trend_points,
           first_value(world_export_share) OVER w5 AS world_export_share_start,
           first_value(year) OVER w5 AS trend_start_year
    FROM base
    WINDOW w5 AS (PARTITION BY reporter, product ORDER BY year
                  RANGE BETWEEN $trend_span PRECEDING AND CURRENT ROW)
)
"""


def position(
    con: duckdb.DuckDBPyConnection,
    focal: pa.Table,
    markets: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    basket: str = "products",
) -> pa.Table:
    """One row per (reporter, product, year): world share, RCA, trend, one column set per market.

    ``basket`` is the set of HS6 codes the RCA is relative to: ``"products"`` (the codes under
    study, default) or ``"store"`` (every HS6 code in the trade table).
    Market columns are named ``<market>_import_value_kusd``, ``<market>_share`` (of total
    imports) and ``<market>_external_share`` (of imports from outside the market).
    """
    from verdikart.indicators.trade import _normalise_products, _normalise_reporters

    if basket not in ("products", "store"):
        raise ValueError(f"basket must be 'products' or 'store', got {basket!r}")
    report_years = sorted({int(y) for y in years})
    all_years = sorted({y - k for y in report_years for k in range(TREND_YEARS)})
    market_table = _normalise_reporters(markets, "market")
    market_ids = sorted(set(market_table.column("market").to_pylist()))
    pivots = ",\n".join(
        f"""max(CASE WHEN m.market = '{_ident(mid)}' THEN m.import_value_kusd END)
               AS "{_ident(mid)}_import_value_kusd",
           max(CASE WHEN m.market = '{_ident(mid)}'
                    THEN coalesce(m.from_focal_kusd, 0) / nullif(m.import_value_kusd, 0) END)
               AS "{_ident(mid)}_share",
           max(CASE WHEN m.market = '{_ident(mid)}'
                    THEN coalesce(m.from_focal_kusd, 0)
                         / nullif(m.external_import_value_kusd, 0) END)
               AS "{_ident(mid)}_external_share\""""
        for mid in market_ids
    )
    select = f"""
SELECT tr.reporter, tr.product, tr.year, tr.export_value_kusd, tr.world_export_value_kusd,
       tr.world_export_share, tr.rca, tr.basket_export_kusd, tr.basket_world_kusd,
       CASE WHEN tr.trend_points >= 2 THEN tr.world_export_share_slope END
           AS world_export_share_slope,
       tr.world_export_share_start, tr.trend_start_year{"," if pivots else ""}
       {pivots}
FROM trend tr
LEFT JOIN mkt m ON m.reporter = tr.reporter AND m.product = tr.product AND m.year = tr.year
WHERE tr.year IN (SELECT unnest($report_years))
GROUP BY ALL
ORDER BY tr.reporter, tr.product, tr.year
"""
    with registered(
        con,
        _vk_focal=_normalise_reporters(focal),
        _vk_markets=market_table,
        _vk_products=_normalise_products(products),
    ):
        return con.sql(
            _POSITION_SQL + select,
            params={
                "years": all_years,
                "report_years": report_years,
                "trend_span": TREND_YEARS - 1,
                "basket_all": basket == "store",
            },
        ).to_arrow_table()


def world_share_series(
    con: duckdb.DuckDBPyConnection,
    focal: pa.Table,
    products: pa.Table,
    years: Sequence[int],
) -> pa.Table:
    """Long table (reporter, product, year, world_export_share) for trend charts."""
    empty_markets = pa.table(
        {
            "market": pa.array([], pa.string()),
            "iso3": pa.array([], pa.string()),
            "year_from": pa.array([], pa.int32()),
            "year_to": pa.array([], pa.int32()),
        }
    )
    table = position(con, focal, empty_markets, products, years)
    return table.select(["reporter", "product", "year", "world_export_share"])


def _ident(text: str) -> str:
    """Market ids become column names; allow only safe characters."""
    if not text.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"market id {text!r} must be alphanumeric")
    return text.replace("-", "_")
