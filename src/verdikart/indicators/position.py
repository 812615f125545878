"""Norway's (or any exporter's) position: shares of world exports and of allies' imports, RCA.

Owns the exporter-side indicators of the mapping (seed 003 steps 5 and 6), one set-based Ibis
expression (:func:`position_expr`) over ``trade_analysis`` (:mod:`verdikart.relations`), run on
DuckDB or Spark by :mod:`verdikart.engine`. Inputs are relations, like :mod:`.trade`:

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
  (as SQL's ``regr_slope``: over the years that have a share; NULL with fewer than two
  years), ``world_export_share_slope``, in fraction of world exports per year (the share is a
  fraction 0..1, so 0.01 = one percentage point per year), and the share four years earlier
  (``world_export_share_start``, of ``trend_start_year``);
* a market wholly inside the focal group (the EU27 seen by the EEA) has import value 0 and
  NULL shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from verdikart.relations import in_years
from verdikart.sql_cache import data_parameters

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

TREND_YEARS = 5
BASKETS: tuple[str, ...] = ("products", "store")


def _members(table: pa.Table, key: str) -> ir.Table:
    """A membership relation (`key`, iso3, year_from, year_to) as a memtable."""
    from verdikart.indicators.trade import _normalise_reporters

    return ibis.memtable(_normalise_reporters(table, key))


def _outside(flows: ir.Table, members: ir.Table, partner: str) -> ir.Table:
    """`flows` (with reporter, year) whose `partner` is not a member of the same reporter
    in that year: flows between a reporter's own members are internal."""
    x = members.select(x_reporter="reporter", x_iso3="iso3", x_from="year_from", x_to="year_to")
    return flows.anti_join(
        x,
        [
            flows.reporter == x.x_reporter,
            flows[partner] == x.x_iso3,
            in_years(flows.year, x.x_from, x.x_to),
        ],
    )


def _inside_sum(value: ir.NumericValue, inside: ir.BooleanValue) -> ir.NumericValue:
    """Sum of the values of flows inside the market (an aggregate), 0 when none."""
    return value.sum(where=inside).coalesce(0.0)


@data_parameters("focal")
def position_expr(
    rel: Relations,
    focal: pa.Table,
    markets: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    basket: str = "products",
    with_trend: bool = True,
) -> ir.Table:
    """One row per (reporter, product, year): world share, RCA, trend, one column set per market.

    ``basket`` is the set of HS6 codes the RCA is relative to: ``"products"`` (the codes under
    study, default) or ``"store"`` (every HS6 code in the trade table).
    Market columns are named ``<market>_import_value_kusd``, ``<market>_share`` (of total
    imports) and ``<market>_external_share`` (of imports from outside the market).
    ``with_trend=False``: the shares and RCA of the years only (no trend window, no markets), which
    reads only those years.
    """
    from verdikart.indicators.trade import _normalise_products

    if basket not in BASKETS:
        raise ValueError(f"basket must be 'products' or 'store', got {basket!r}")
    report_years = sorted({int(y) for y in years})
    window = TREND_YEARS if with_trend else 1
    all_years = sorted({y - k for y in report_years for k in range(window)})
    normalised = _normalise_products(products)
    codes = sorted(set(normalised.column("hs6").to_pylist()))
    market_members = _members(markets, "market")
    market_ids = sorted(set(markets.column("market").cast(pa.string()).to_pylist()))
    columns = {mid: _ident(mid) for mid in market_ids}
    foc = _members(focal, "reporter")
    reporters = foc.select("reporter").distinct()
    prod = ibis.memtable(normalised).select("product", "hs6").distinct()

    ta = rel.trade_analysis
    # the codes as a literal list: the engine then filters while it scans (a join with the
    # products would map every row of the years first)
    ta = ta.filter(ta.year.isin(all_years))
    if basket == "products":
        ta = ta.filter(ta.hs6.isin(codes))
    t = ta.select("year", "exporter", "importer", "hs6", "value_kusd")
    tp = t.join(prod, "hs6")
    world = tp.group_by("product", "year").agg(world_export_value_kusd=tp.value_kusd.sum())
    in_basket = t if basket == "store" else t.filter(t.hs6.isin(prod.hs6))
    basket_world = in_basket.group_by("year").agg(basket_world_kusd=in_basket.value_kusd.sum())

    # the focal reporter's exports, leaving out flows between its own members
    f = foc.select(f_reporter="reporter", f_iso3="iso3", f_from="year_from", f_to="year_to")
    fx = t.join(f, [t.exporter == f.f_iso3, in_years(t.year, f.f_from, f.f_to)])
    fx = _outside(
        fx.select("year", "hs6", "importer", "value_kusd", reporter="f_reporter"),
        foc,
        "importer",
    )
    fx_basket = fx if basket == "store" else fx.filter(fx.hs6.isin(prod.hs6))
    basket_focal = fx_basket.group_by("reporter", "year").agg(
        basket_export_kusd=fx_basket.value_kusd.sum()
    )
    fxp = fx.join(prod, "hs6")
    focal_prod = fxp.group_by("reporter", "product", "year").agg(
        export_value_kusd=fxp.value_kusd.sum()
    )

    # flows into market members, report years only; `inside` = exporter also a member
    m = market_members.select(m_market="market", m_iso3="iso3", m_from="year_from", m_to="year_to")
    mx = market_members.select(
        mx_market="market", mx_iso3="iso3", mx_from="year_from", mx_to="year_to"
    )
    tr = tp.filter(tp.year.isin(report_years))
    mf = tr.join(m, [tr.importer == m.m_iso3, in_years(tr.year, m.m_from, m.m_to)])
    mf = mf.left_join(
        mx,
        [
            mf.m_market == mx.mx_market,
            mf.exporter == mx.mx_iso3,
            in_years(mf.year, mx.mx_from, mx.mx_to),
        ],
    )
    mflow = mf.select(
        "product",
        "year",
        "exporter",
        "importer",
        "value_kusd",
        market="m_market",
        inside=mf.mx_iso3.notnull(),
    )
    # Market M without the focal's members F (M' = M minus F), summed per member of M' (no
    # reporter x flow cross product, and no subtraction: a market wholly inside F is exactly 0):
    #   total(M')    = sum over importers i in M' of total_i
    #   external(M') = sum over i in M' of ext_i (from exporters outside M) + D,
    #                  D = exports of M n F to M' (from inside M, but not from inside M')
    #   from focal   = B = exports of F to M'
    keys = ["reporter", "market", "product", "year"]
    by_member = mflow.group_by("market", "product", "year", "importer").agg(
        total=mflow.value_kusd.sum(), outside=mflow.value_kusd.sum(where=~mflow.inside)
    )
    by_member = by_member.mutate(
        outside=ibis.cases(
            (by_member.total.isnull(), ibis.null("float64")),
            else_=by_member.outside.coalesce(0.0),
        )
    )
    rest = _outside(by_member.cross_join(reporters), foc, "importer")
    rest = rest.group_by(keys).agg(
        members=rest.count(), total=rest.total.sum(), outside=rest.outside.sum()
    )
    fe = mflow.join(f, [mflow.exporter == f.f_iso3, in_years(mflow.year, f.f_from, f.f_to)])
    fe = _outside(fe.mutate(reporter=fe.f_reporter), foc, "importer")
    exp_f = fe.group_by(keys).agg(b=fe.value_kusd.sum(), d=_inside_sum(fe.value_kusd, fe.inside))
    mt = mflow.select("market", "product", "year").distinct().cross_join(reporters)
    mt = mt.left_join(rest, keys).left_join(exp_f, keys)
    empty = mt.members.isnull()  # every member of M with flows is in F
    mkt = mt.select(
        "reporter",
        "market",
        "product",
        "year",
        import_value_kusd=ibis.cases((empty, 0.0), else_=mt.total),
        external_import_value_kusd=ibis.cases((empty, 0.0), else_=mt.outside) + mt.d.coalesce(0.0),
        from_focal_kusd=mt.b.coalesce(0.0),
    )

    w = world.cross_join(reporters)
    w = w.left_join(focal_prod, ["reporter", "product", "year"])
    w = w.left_join(basket_focal, ["reporter", "year"])
    w = w.left_join(basket_world, "year")
    export = w.export_value_kusd.coalesce(0.0)
    world_value = w.world_export_value_kusd
    base = w.select(
        "reporter",
        "product",
        "year",
        export_value_kusd=export,
        world_export_value_kusd=world_value,
        world_export_share=export / world_value.nullif(0),
        rca=(export / w.basket_export_kusd.nullif(0))
        / (world_value / w.basket_world_kusd.nullif(0)).nullif(0),
        basket_export_kusd=w.basket_export_kusd,
        basket_world_kusd=w.basket_world_kusd,
    )
    if not with_trend:
        return base.order_by("reporter", "product", "year")

    # OLS slope over the window (SQL regr_slope: the years with a share), years counted from
    # the first year read so that the sums stay small (no cancellation)
    w5 = ibis.window(
        group_by=["reporter", "product"], order_by="year", range=(-(TREND_YEARS - 1), 0)
    )
    y = base.world_export_share
    x = ibis.cases((y.notnull(), (base.year - all_years[0]).cast("float64")))
    n = y.count().over(w5).cast("float64")
    sx, sy = x.sum().over(w5), y.sum().over(w5)
    sxy, sxx = (x * y).sum().over(w5), (x * x).sum().over(w5)
    trend = base.mutate(
        world_export_share_slope=((n * sxy - sx * sy) / (n * sxx - sx * sx).nullif(0)),
        trend_points=base.year.count().over(w5),
        trend_start_year=base.year.min().over(w5),
    )
    trend = trend.filter(trend.year.isin(report_years))
    start = base.select(
        s_reporter="reporter",
        s_product="product",
        s_year="year",
        world_export_share_start="world_export_share",
    )
    trend = trend.left_join(
        start,
        [
            trend.reporter == start.s_reporter,
            trend.product == start.s_product,
            trend.trend_start_year == start.s_year,
        ],
    )
    out = trend.select(
        "reporter",
        "product",
        "year",
        "export_value_kusd",
        "world_export_value_kusd",
        "world_export_share",
        "rca",
        "basket_export_kusd",
        "basket_world_kusd",
        world_export_share_slope=ibis.cases(
            (trend.trend_points >= 2, trend.world_export_share_slope),
            else_=ibis.null("float64"),
        ),
        world_export_share_start=trend.world_export_share_start,
        trend_start_year=trend.trend_start_year,
    )
    if columns:
        this = {mid: mkt.market == mid for mid in columns}
        pivot = mkt.group_by(p_reporter="reporter", p_product="product", p_year="year").agg(
            **{
                name: agg
                for mid, col in columns.items()
                for name, agg in (
                    (f"{col}_import_value_kusd", mkt.import_value_kusd.max(where=this[mid])),
                    (
                        f"{col}_share",
                        (mkt.from_focal_kusd / mkt.import_value_kusd.nullif(0)).max(
                            where=this[mid]
                        ),
                    ),
                    (
                        f"{col}_external_share",
                        (mkt.from_focal_kusd / mkt.external_import_value_kusd.nullif(0)).max(
                            where=this[mid]
                        ),
                    ),
                )
            }
        )
        joined = out.left_join(
            pivot,
            [
                out.reporter == pivot.p_reporter,
                out.product == pivot.p_product,
                out.year == pivot.p_year,
            ],
        )
        out = joined.select(
            *out.columns,
            *[
                f"{col}_{what}"
                for col in columns.values()
                for what in ("import_value_kusd", "share", "external_share")
            ],
        )
    return out.order_by("reporter", "product", "year")


def position(
    engine: Engine,
    focal: pa.Table,
    markets: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    basket: str = "products",
) -> pa.Table:
    """:func:`position_expr` run on `engine` (``store.engine()`` for a store)."""
    return engine.query(position_expr, focal, markets, products, years, basket=basket)


def _no_markets() -> pa.Table:
    return pa.table(
        {
            "market": pa.array([], pa.string()),
            "iso3": pa.array([], pa.string()),
            "year_from": pa.array([], pa.int32()),
            "year_to": pa.array([], pa.int32()),
        }
    )


@data_parameters("focal")
def world_share_series_expr(
    rel: Relations, focal: pa.Table, products: pa.Table, years: Sequence[int]
) -> ir.Table:
    """Long table (reporter, product, year, world_export_share) for trend charts."""
    table = position_expr(rel, focal, _no_markets(), products, years, with_trend=False)
    return table.select("reporter", "product", "year", "world_export_share").order_by(
        "reporter", "product", "year"
    )


def world_share_series(
    engine: Engine, focal: pa.Table, products: pa.Table, years: Sequence[int]
) -> pa.Table:
    """:func:`world_share_series_expr` run on `engine`."""
    return engine.query(world_share_series_expr, focal, products, years)


def _ident(text: str) -> str:
    """Market ids become column names; allow only safe characters."""
    if not text.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"market id {text!r} must be alphanumeric")
    return text.replace("-", "_")
