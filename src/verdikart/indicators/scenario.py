"""Disruption scenarios: the ordinary trade indicators over perturbed flows, and re-sourcing.

Owns the expressions (Ibis, DuckDB and Spark alike) of a scenario. A scenario never changes the
store: :func:`perturbed_trade_expr` builds the perturbed ``trade`` relation as an expression over
the stored one, and :func:`scenario_expr` runs the same indicators as every other command
(:func:`verdikart.indicators.trade.trade_indicators_expr`,
:func:`~verdikart.indicators.trade.supplier_shares_expr`) on the relations before and after
(:meth:`verdikart.relations.Relations.with_trade`).

Inputs (Arrow tables, small; they enter as memtables):

* ``shocks`` (exporter, hs6, importer, factor): the flows of exporter -> importer (NULL = every
  importer) of an HS6 code keep ``factor`` = 1 − cut of their value and quantity. Where shocks
  overlap, the largest cut applies (the smallest factor; cuts do not compound). A factor of 0
  removes the flow.
* ``excluded`` (reporter, product, supplier): suppliers that cannot stand in for a reporter's
  product, the shocked ones.
* ``params`` (product, divert_share, growth_per_year, new_source_years): the re-sourcing
  assumptions of each product (docs/scenarios.md gives the defaults and their sources).
* ``reporters`` and ``products`` as in :mod:`verdikart.indicators.trade`.

Re-sourcing rule (docs/scenarios.md), per reporter ``r`` and product ``p`` in the baseline
year, on the chosen basis (value in kUSD or quantity in t):

* lost ``L`` = imports before − imports after the shock (``lost_share`` = L / imports before);
* every other supplier ``j`` (not shocked, not a member of ``r``) exported ``X_j`` of ``p`` to
  third countries (its exports to the world minus its exports to ``r``'s members, after the
  shock); it can divert ``d × X_j`` within a year (``d`` = divert_share);
* re-sourced ``R`` = min(L, Σ_j d X_j), shared among the suppliers in proportion to
  ``d X_j``; so re-sourcing never exceeds what other suppliers exported to third countries;
* residual gap ``G`` = L − R; years to close it = G / (g × Σ_j X_j) with ``g`` =
  growth_per_year of the other suppliers' exports, at most ``new_source_years`` (the time a new
  source takes; no other supplier at all: that time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from verdikart.indicators.trade import (
    Basis,
    _check_basis,
    _normalise_products,
    _normalise_reporters,
    supplier_shares_expr,
    trade_indicators_expr,
)
from verdikart.relations import TRADE_COVERAGE, complete_sum, in_years

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

SHOCK_SCHEMA = pa.schema(
    [
        ("exporter", pa.string()),
        ("hs6", pa.string()),
        ("importer", pa.string()),
        ("factor", pa.float64()),
    ]
)
EXCLUDED_SCHEMA = pa.schema(
    [("reporter", pa.string()), ("product", pa.string()), ("supplier", pa.string())]
)
PARAMS_SCHEMA = pa.schema(
    [
        ("product", pa.string()),
        ("divert_share", pa.float64()),
        ("growth_per_year", pa.float64()),
        ("new_source_years", pa.float64()),
    ]
)
TINY = 1e-9
"""Amounts (kUSD or t) below this are no gap (float sums differ in their last bits)."""


def _typed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return pa.table({f.name: table.column(f.name).cast(f.type) for f in schema}, schema=schema)


def perturbed_trade_expr(rel: Relations, shocks: pa.Table) -> ir.Table:
    """``trade`` with the shocked flows cut: value and quantity times the flow's factor (the
    smallest of the shocks that hit it), flows with factor 0 left out; same columns."""
    t = rel.trade
    s = ibis.memtable(_typed(shocks, SHOCK_SCHEMA))
    every = s.filter(s.importer.isnull())
    every = every.group_by("exporter", "hs6").agg(a_factor=every.factor.min())
    every = every.select(a_exporter="exporter", a_hs6="hs6", a_factor="a_factor")
    named = s.filter(s.importer.notnull())
    named = named.group_by("exporter", "hs6", "importer").agg(b_factor=named.factor.min())
    named = named.select(
        b_exporter="exporter", b_hs6="hs6", b_importer="importer", b_factor="b_factor"
    )
    j = t.left_join(every, [t.exporter == every.a_exporter, t.hs6 == every.a_hs6]).left_join(
        named,
        [t.exporter == named.b_exporter, t.hs6 == named.b_hs6, t.importer == named.b_importer],
    )
    factor = ibis.least(j.a_factor.fill_null(1.0), j.b_factor.fill_null(1.0))
    kept = j.mutate(_factor=factor)
    kept = kept.filter(kept._factor > 0)
    scaled = {"value_kusd", "quantity_t"}
    return kept.select(
        [(kept[c] * kept._factor).name(c) if c in scaled else kept[c] for c in t.columns]
    )


def perturbed_relations(rel: Relations, shocks: pa.Table) -> Relations:
    """The relations with the perturbed trade (:func:`perturbed_trade_expr`).

    The engine's kept trade coverage, which ``with_trade`` drops, is put back: a shock scales
    or removes the flows of named suppliers, never every row of a dataset's year, so the
    (year, revision, source) rows of the stored trade describe the perturbed trade too, and
    deriving them again would read every trade row through the shock's joins."""
    after = rel.with_trade(perturbed_trade_expr(rel, shocks))
    kept = rel.tables.get(TRADE_COVERAGE)
    return after if kept is None else after.with_table(TRADE_COVERAGE, kept)


def _world_exports(rel: Relations, products: ir.Table, codes: list[str], year: int) -> ir.Table:
    """Every exporter's exports of each product in the year (to every importer)."""
    t = rel.trade_analysis
    t = t.filter(t.year == int(year), t.hs6.isin(codes))
    p = products.select(p_product="product", p_hs6="hs6").distinct()
    j = t.join(p, t.hs6 == p.p_hs6)
    return j.group_by(product=j.p_product, exporter=j.exporter).agg(
        w_value=j.value_kusd.sum(), w_quantity=complete_sum(j.quantity_t)
    )


def scenario_alternatives_expr(
    rel: Relations,
    reporters: pa.Table,
    products: pa.Table,
    year: int,
    shocks: pa.Table,
    excluded: pa.Table,
    params: pa.Table,
    *,
    basis: Basis = "value",
    after: Relations | None = None,
) -> ir.Table:
    """Per reporter, product and other supplier: its exports to third countries after the
    shock (``third_kusd``, ``third_t``), on the basis ``third`` and ``capacity`` = divert_share
    × third. Suppliers that are members of the reporter or shocked for it are left out."""
    _check_basis(basis)
    if after is None:
        after = perturbed_relations(rel, shocks)
    prods = ibis.memtable(_normalise_products(products))
    codes = sorted(set(products.column("hs6").cast(pa.string()).to_pylist()))
    world = _world_exports(after, prods, codes, year)
    rep = ibis.memtable(_normalise_reporters(reporters))
    names = rep.select("reporter").distinct()
    grid = names.cross_join(world).select(
        "reporter", "product", "exporter", "w_value", "w_quantity"
    )
    members = rep.filter(in_years(ibis.literal(int(year)), rep.year_from, rep.year_to))
    grid = grid.anti_join(
        members, [grid.reporter == members.reporter, grid.exporter == members.iso3]
    )
    ex = ibis.memtable(_typed(excluded, EXCLUDED_SCHEMA))
    grid = grid.anti_join(
        ex,
        [grid.reporter == ex.reporter, grid.product == ex.product, grid.exporter == ex.supplier],
    )
    shares = supplier_shares_expr(after, reporters, products, [year], basis=basis)
    s = shares.select(
        s_reporter="reporter",
        s_product="product",
        s_supplier="supplier",
        s_value="value_kusd",
        s_quantity="quantity_t",
        s_missing="quantity_missing_rows",
    )
    j = grid.left_join(
        s,
        [
            grid.reporter == s.s_reporter,
            grid.product == s.s_product,
            grid.exporter == s.s_supplier,
        ],
    )
    prm = ibis.memtable(_typed(params, PARAMS_SCHEMA)).rename(m_product="product")
    j = j.left_join(prm, j.product == prm.m_product)
    third_value = j.w_value - j.s_value.fill_null(0.0)
    # a quantity unknown to the reporter (a row without one) leaves the third amount unknown
    third_quantity = ibis.cases(
        (j.s_supplier.isnull(), j.w_quantity),
        (j.s_missing > 0, ibis.null("float64")),
        else_=j.w_quantity - j.s_quantity,
    )
    rows = j.select(
        reporter=j.reporter,
        product=j.product,
        supplier=j.exporter,
        world_exports_kusd=j.w_value,
        world_exports_t=j.w_quantity,
        third_kusd=third_value,
        third_t=third_quantity,
        divert_share=j.divert_share,
    )
    third = rows.third_kusd if basis == "value" else rows.third_t
    rows = rows.mutate(third=third, capacity=third * rows.divert_share)
    return rows.filter(rows.third.isnull() | (rows.third > TINY))


def _grid(reporters: pa.Table, products: pa.Table) -> pa.Table:
    """Every reporter with every product (and its material): the rows a scenario reports,
    imports or not."""
    names = list(dict.fromkeys(reporters.column("reporter").cast(pa.string()).to_pylist()))
    material: dict[str, str | None] = {}
    norm = _normalise_products(products)
    products_col, materials_col = norm.column("product"), norm.column("material")
    for p, m in zip(products_col.to_pylist(), materials_col.to_pylist(), strict=True):
        if material.get(p) is None:
            material[p] = m
    return pa.table(
        {
            "reporter": pa.array([r for r in names for _ in material], pa.string()),
            "product": pa.array([p for _ in names for p in material], pa.string()),
            "material": pa.array([material[p] for _ in names for p in material], pa.string()),
        }
    )


def scenario_expr(
    rel: Relations,
    reporters: pa.Table,
    products: pa.Table,
    year: int,
    shocks: pa.Table,
    excluded: pa.Table,
    params: pa.Table,
    *,
    basis: Basis = "value",
) -> ir.Table:
    """One row per reporter and product: imports before and after the shock (the ordinary
    indicators on both relations), the loss, what other suppliers can re-source, the residual
    gap and the years to close it (module doc). Shares are 0-1 of the imports before."""
    _check_basis(basis)
    after_rel = perturbed_relations(rel, shocks)
    years = [int(year)]
    before = trade_indicators_expr(rel, reporters, products, years, basis=basis)
    after = trade_indicators_expr(after_rel, reporters, products, years, basis=basis)
    alt = scenario_alternatives_expr(
        rel, reporters, products, year, shocks, excluded, params, basis=basis, after=after_rel
    )
    alt_sum = alt.group_by(c_reporter="reporter", c_product="product").agg(
        n_alternatives=alt.count().cast("int64"),
        alternatives_third=complete_sum(alt.third),
        capacity=complete_sum(alt.capacity),
    )
    grid = ibis.memtable(_grid(reporters, products))
    b = before.select(
        b_reporter="reporter",
        b_product="product",
        hs6_codes="hs6_codes",
        b_value="import_value_kusd",
        b_quantity="import_quantity_t",
        n_suppliers_before="n_suppliers",
        hhi_points_before="hhi_points",
        top_supplier_before="top_supplier",
        top_supplier_share_before="top_supplier_share",
        production_t="production_t",
        apparent_consumption_t="apparent_consumption_t",
        source="source",
    )
    a = after.select(
        a_reporter="reporter",
        a_product="product",
        a_value="import_value_kusd",
        a_quantity="import_quantity_t",
        n_suppliers_after="n_suppliers",
        hhi_points_after="hhi_points",
        top_supplier_after="top_supplier",
        top_supplier_share_after="top_supplier_share",
    )
    prm = ibis.memtable(_typed(params, PARAMS_SCHEMA)).rename(m_product="product")
    j = (
        grid.left_join(b, [grid.reporter == b.b_reporter, grid.product == b.b_product])
        .left_join(a, [grid.reporter == a.a_reporter, grid.product == a.a_product])
        .left_join(
            alt_sum, [grid.reporter == alt_sum.c_reporter, grid.product == alt_sum.c_product]
        )
        .left_join(prm, grid.product == prm.m_product)
    )
    null = ibis.null("float64")
    zero = ibis.literal(0.0)
    gone = j.a_reporter.isnull()  # no flow left at all after the shock
    value_after = ibis.cases((gone, zero), else_=j.a_value)
    quantity_after = ibis.cases((gone, zero), else_=j.a_quantity)
    lost_value = j.b_value - value_after
    lost_quantity = j.b_quantity - quantity_after
    base = j.b_value if basis == "value" else j.b_quantity
    lost = lost_value if basis == "value" else lost_quantity
    capacity = ibis.cases((j.n_alternatives.isnull(), zero), else_=j.capacity)
    third = ibis.cases((j.n_alternatives.isnull(), zero), else_=j.alternatives_third)
    c = j.select(
        importer=j.reporter,
        product=j.product,
        material=j.material,
        year=ibis.literal(int(year)).cast("int32"),
        basis=ibis.literal(basis),
        hs6_codes=j.hs6_codes,
        import_value_kusd=j.b_value,
        import_quantity_t=j.b_quantity,
        lost_value_kusd=lost_value,
        lost_quantity_t=lost_quantity,
        _base=base,
        _lost=lost,
        _capacity=capacity,
        alternatives_third=third,
        n_alternatives=j.n_alternatives.fill_null(0),
        n_suppliers_before=j.n_suppliers_before,
        n_suppliers_after=ibis.cases((gone, 0), else_=j.n_suppliers_after),
        hhi_points_before=j.hhi_points_before,
        hhi_points_after=j.hhi_points_after,
        top_supplier_before=j.top_supplier_before,
        top_supplier_share_before=j.top_supplier_share_before,
        top_supplier_after=j.top_supplier_after,
        top_supplier_share_after=j.top_supplier_share_after,
        production_t=j.production_t,
        apparent_consumption_t=j.apparent_consumption_t,
        divert_share=j.divert_share,
        growth_per_year=j.growth_per_year,
        new_source_years=j.new_source_years,
        source=j.source,
    )
    resourced = ibis.cases(
        (c._lost.isnull() | c._capacity.isnull(), null),
        (c._lost < c._capacity, c._lost),
        else_=c._capacity,
    )
    c = c.mutate(_resourced=resourced)
    residual = c._lost - c._resourced
    c = c.mutate(_residual=residual)
    pace = c.growth_per_year * c.alternatives_third
    share = c._base.nullif(0)
    out = c.select(
        "importer",
        "product",
        "material",
        "year",
        "basis",
        "hs6_codes",
        "import_value_kusd",
        "import_quantity_t",
        "lost_value_kusd",
        "lost_quantity_t",
        lost_share=c._lost / share,
        resourced=c._resourced,
        resourced_share=c._resourced / share,
        residual_gap=c._residual,
        residual_gap_share=c._residual / share,
        years_to_close_gap=ibis.cases(
            (c._residual.isnull(), null),
            (c._residual <= TINY, zero),
            (pace > 0, ibis.least(c._residual / pace, c.new_source_years)),
            else_=c.new_source_years,
        ),
        lost_share_of_consumption=ibis.cases(
            (c.apparent_consumption_t > 0, c.lost_quantity_t / c.apparent_consumption_t),
            else_=null,
        ),
        n_alternatives="n_alternatives",
        alternatives_third="alternatives_third",
        resourcing_capacity=c._capacity,
        n_suppliers_before="n_suppliers_before",
        n_suppliers_after="n_suppliers_after",
        hhi_points_before="hhi_points_before",
        hhi_points_after="hhi_points_after",
        top_supplier_before="top_supplier_before",
        top_supplier_share_before="top_supplier_share_before",
        top_supplier_after="top_supplier_after",
        top_supplier_share_after="top_supplier_share_after",
        production_t="production_t",
        apparent_consumption_t="apparent_consumption_t",
        divert_share="divert_share",
        growth_per_year="growth_per_year",
        new_source_years="new_source_years",
        source="source",
    )
    return out.order_by("importer", "product")


def scenario(
    engine: Engine,
    reporters: pa.Table,
    products: pa.Table,
    year: int,
    shocks: pa.Table,
    excluded: pa.Table,
    params: pa.Table,
    *,
    basis: Basis = "value",
    relations: Relations | None = None,
    alternatives: int = 5,
) -> tuple[pa.Table, pa.Table]:
    """Run a scenario: (one row per reporter and product, the largest ``alternatives``
    other suppliers per reporter and product with their share of the re-sourcing).

    ``relations`` replaces the engine's (tests pass constructed trade via ``with_trade``)."""
    rel = relations if relations is not None else engine.relations()
    args = (rel, reporters, products, year, shocks, excluded, params)
    rows = engine.to_arrow(scenario_expr(*args, basis=basis))
    alt = scenario_alternatives_expr(*args, basis=basis)
    w = ibis.window(group_by=[alt.reporter, alt.product])
    ranked = alt.mutate(
        capacity_share=alt.capacity / alt.capacity.sum().over(w).nullif(0),
        rank=ibis.row_number().over(
            group_by=[alt.reporter, alt.product],
            order_by=[ibis.desc(alt.third.round(6), nulls_first=False), alt.supplier],
        )
        + 1,
    )
    top = ranked.filter(ranked["rank"] <= int(alternatives)).order_by("reporter", "product", "rank")
    return rows, engine.to_arrow(top)
