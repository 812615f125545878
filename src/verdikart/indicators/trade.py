"""Trade-based supply indicators: supplier shares, HHI, top-k shares, flags, governance weighting.

Owns the one expression family (Ibis, run on DuckDB or Spark by :mod:`verdikart.engine`) that
turns the ``trade_analysis`` relation (:mod:`verdikart.relations`) into indicators for any
reporter (a country, a group of countries or, via :mod:`verdikart.indicators.company`, a
company's purchases) and any product (a single HS6 code or a material = a set of HS6 codes).

Inputs are relations, not loaders (relation in -> relation out):

* ``reporters``: Arrow table ``(reporter, iso3, year_from, year_to)``; a country is a group of
  one. Flows between two members of the same reporter are internal and left out, so EU27
  imports are extra-EU imports.
* ``products``: Arrow table ``(product, hs6)`` plus optional ``material``, ``stage``; a material
  is several rows with the same ``product``.
* ``flows`` (optional): Arrow table in the trade relation's shape (year, exporter, importer,
  hs6, value_kusd, quantity_t, source) read instead of ``trade_analysis`` (a company's
  purchases).

All three enter the expressions as memtables; ``<name>_expr(rel, ...)`` builds an indicator
over the relations ``rel`` (a scenario passes perturbed ones), ``<name>(engine, ...)`` runs it.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from verdikart.relations import (
    ANALYSIS_REVISION,
    SINGLE_SUPPLIER_THRESHOLD,
    complete_sum,
    governance_scores,
    import_reliance,
    in_years,
    missing_count,
    quantity_t,
    selected_production,
    trade_analysis,
)
from verdikart.sql_cache import data_parameters

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

Basis = Literal["value", "quantity"]
BASES: tuple[str, ...] = ("value", "quantity")
DEFAULT_THRESHOLD = SINGLE_SUPPLIER_THRESHOLD  # the CRMA's 65 % (verdikart.relations)
DEFAULT_GOVERNANCE = "pv.normalized"
RANK_DECIMALS = 6
"""Amounts (kUSD or t) that agree to this many decimals tie in the supplier ranking."""

# The HS headings and chapters whose gross weight is metal content: unwrought metals and
# elements (basis test (b), module doc).
_METAL_HEADINGS = ("2804", "2805", "7106", "7108", "7110")
_METAL_CHAPTERS = ("74", "81")
_FLOW_KEYS = ("flow", "reporter", "product", "year")


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
    """A membership relation (`key`, iso3, year_from, year_to) with the types the expressions
    expect: reporters here, markets in `position`."""
    return pa.table(
        {
            key: reporters.column(key).cast(pa.string()),
            "iso3": reporters.column("iso3").cast(pa.string()),
            "year_from": reporters.column("year_from").cast(pa.int32()),
            "year_to": reporters.column("year_to").cast(pa.int32()),
        }
    )


def _check_basis(basis: str) -> None:
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}, got {basis!r}")


@dataclass(frozen=True)
class _Inputs:
    """The relations one call reads: trade rows of the products and years, the products,
    the reporters' memberships (memtables of the Arrow inputs)."""

    trade: ir.Table  # year, exporter, importer, hs6, value_kusd, quantity_t, source
    products: ir.Table  # product, hs6, material, stage (as given, duplicates kept)
    prod: ir.Table  # distinct product, hs6
    rep: ir.Table  # reporter, iso3, year_from, year_to


def _inputs(
    rel: Relations,
    reporters: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    flows: pa.Table | None,
) -> _Inputs:
    normalised = _normalise_products(products)
    prods = ibis.memtable(normalised)
    prod = prods.select("product", "hs6").distinct()
    rep = ibis.memtable(_normalise_reporters(reporters))
    source = rel.trade_analysis if flows is None else ibis.memtable(flows)
    # the codes as a literal list: the engine filters while it scans (a semi-join with the
    # products would map every imported row of the years first)
    codes = sorted(set(normalised.column("hs6").to_pylist()))
    t = source.filter(source.year.isin([int(y) for y in years]), source.hs6.isin(codes))
    t = t.select("year", "exporter", "importer", "hs6", "value_kusd", "quantity_t", "source")
    return _Inputs(trade=t, products=prods, prod=prod, rep=rep)


def _one_direction(inp: _Inputs, flow: str) -> ir.Table:
    """Flows of each reporter by partner in one direction: imports (partner = exporter) or
    exports (partner = importer). A flow whose partner is a member of the same reporter in
    that year is internal and left out."""
    t, p, r = inp.trade, inp.prod, inp.rep
    own, other = (t.importer, t.exporter) if flow == "import" else (t.exporter, t.importer)
    joined = t.join(p, t.hs6 == p.hs6).join(
        r, [own == r.iso3, in_years(t.year, r.year_from, r.year_to)]
    )
    rows = joined.select(
        flow=ibis.literal(flow),
        reporter=r.reporter,
        product=p.product,
        year=t.year,
        partner=other,
        value_kusd=t.value_kusd,
        quantity_t=t.quantity_t,
        source=t.source,
    )
    x = inp.rep.view()
    return rows.anti_join(
        x,
        [
            x.reporter == rows.reporter,
            x.iso3 == rows.partner,
            in_years(rows.year, x.year_from, x.year_to),
        ],
    )


def _partner_flows(inp: _Inputs, directions: Sequence[str] = ("import", "export")) -> ir.Table:
    parts = [_one_direction(inp, d) for d in directions]
    flows = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    return (
        flows.group_by(list(_FLOW_KEYS) + ["partner"])
        .agg(
            value_kusd=flows.value_kusd.sum(),
            # a partial sum of quantities would look like a real total: NULL instead
            quantity_t=complete_sum(flows.quantity_t),
            quantity_missing_rows=missing_count(flows.quantity_t).cast("int64"),
            source=_joined(flows.source, "; "),
        )
        .select(
            *_FLOW_KEYS, "partner", "value_kusd", "quantity_t", "quantity_missing_rows", "source"
        )
    )


def _joined(
    text: ir.StringColumn, sep: str, where: ir.BooleanValue | None = None
) -> ir.StringValue:
    """The distinct non-NULL texts of a group, sorted and joined; NULL when there are none
    (Ibis compiles an empty collection to NULL on Spark too, as DuckDB gives)."""
    return text.collect(distinct=True, where=where).sort().join(sep)


def partner_flows_expr(
    rel: Relations,
    reporters: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    flows: pa.Table | None = None,
) -> ir.Table:
    """Each reporter's imports and exports of each product by partner country and year.

    Columns ``flow`` ('import' | 'export'), reporter, product, year, partner, value_kusd,
    quantity_t (NULL when any source row lacks one), quantity_missing_rows, source.
    """
    return _partner_flows(_inputs(rel, reporters, products, years, flows))


def _shares(partner: ir.Table, rel: Relations, basis: Basis, governance: str) -> ir.Table:
    """Partner flows with each partner's share and rank within its flow, reporter, product and
    year, and the partner's governance risk."""
    p = partner
    amount = p.value_kusd if basis == "value" else p.quantity_t
    group = [p[k] for k in _FLOW_KEYS]
    w = ibis.window(group_by=group)
    share = ibis.cases(
        (missing_count(amount).over(w) == 0, amount / amount.sum().over(w).nullif(0)),
        else_=ibis.null("float64"),
    )
    # Amounts equal to RANK_DECIMALS decimals rank by partner code: a float sum differs in its
    # last bits between engines and even between runs of one (parallel summation order), so
    # without rounding two equal amounts (EU27 2004 250700: TGO and CIV 2.531 kUSD) would swap.
    rank = ibis.row_number().over(
        group_by=group,
        order_by=[
            ibis.desc(amount.round(RANK_DECIMALS), nulls_first=False),
            ibis.asc(p.partner, nulls_first=False),
        ],
    )
    ranked = p.mutate(share=share, supplier_rank=(rank + 1).cast("int64"))
    # one score per (country, year) even if the source repeats a row (wgi.db has GUY twice);
    # joining duplicates would double those suppliers' rows and amounts
    g = governance_scores(rel.governance, governance)
    g = g.select(g_country=g.country, g_year=g.year, governance_risk=g.score)
    joined = ranked.left_join(g, [ranked.partner == g.g_country, ranked.year == g.g_year])
    return joined.select(*ranked.columns, "governance_risk")


@data_parameters("reporters")
def supplier_shares_expr(
    rel: Relations,
    reporters: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    basis: Basis = "value",
    governance: str = DEFAULT_GOVERNANCE,
    flows: pa.Table | None = None,
) -> ir.Table:
    """The expression of :func:`supplier_shares`."""
    _check_basis(basis)
    partner = _partner_flows(_inputs(rel, reporters, products, years, flows), ("import",))
    s = _shares(partner, rel, basis, governance)
    return s.select(
        "reporter",
        "product",
        "year",
        supplier=s.partner,
        value_kusd=s.value_kusd,
        quantity_t=s.quantity_t,
        quantity_missing_rows=s.quantity_missing_rows,
        share=s.share,
        supplier_rank=s.supplier_rank,
        governance_risk=s.governance_risk,
        source=s.source,
    ).order_by("reporter", "product", "year", "supplier_rank")


def supplier_shares(
    engine: Engine,
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
    return engine.query(
        supplier_shares_expr,
        reporters,
        products,
        years,
        basis=basis,
        governance=governance,
        flows=flows,
    )


def _totals(flows: ir.Table) -> dict[str, ir.Value]:
    """Aggregates of partner flows (or shares) per flow, reporter, product and year: value,
    quantity (NULL when any source row lacked one, see ``complete_sum``), the rows that
    lacked one, partners and sources."""
    f = flows
    return {
        "value_kusd": f.value_kusd.sum(),
        "quantity_t": ibis.cases(
            (f.quantity_missing_rows.sum() == 0, f.quantity_t.sum()), else_=ibis.null("float64")
        ),
        "quantity_missing_rows": f.quantity_missing_rows.sum().cast("int64"),
        "partners": f.count().cast("int64"),
        "source": _joined(f.source, "; "),
    }


def _side(shares: ir.Table) -> ir.Table:
    """Per flow, reporter, product and year: totals, concentration and governance."""
    s = shares
    null = ibis.null("float64")
    has_score = s.governance_risk.notnull()
    covered = s.share.sum(where=has_score)
    return s.group_by(list(_FLOW_KEYS)).agg(
        **_totals(s),
        hhi=(s.share * s.share).sum(),
        top_supplier=s.partner.max(where=s.supplier_rank == 1),
        top_supplier_share=s.share.max(where=s.supplier_rank == 1),
        top3_share=s.share.sum(where=s.supplier_rank <= 3),
        hhi_wgi=(s.share * s.share * s.governance_risk).sum(),
        # least(1.0, NULL) is 1.0 in DuckDB and Spark: unknown shares give unknown coverage
        governance_coverage=ibis.cases((covered.notnull(), ibis.least(1.0, covered)), else_=null),
        supplier_risk=(s.share * s.governance_risk).sum() / covered.nullif(0),
        suppliers_without_governance=_joined(s.partner, ",", where=s.governance_risk.isnull()),
    )


def _both_sides(inp: _Inputs, rel: Relations, basis: Basis, governance: str) -> ir.Table:
    """`_side` of imports, and of exports only the totals (shares, ranks and governance of
    export partners are not reported: computing them cost a third of the query); the export
    rows' other columns NULL."""
    imports = _side(_shares(_partner_flows(inp, ("import",)), rel, basis, governance))
    ex = _partner_flows(inp, ("export",))
    exports = ex.group_by(list(_FLOW_KEYS)).agg(**_totals(ex))
    schema = imports.schema()
    exports = exports.select(
        *[
            exports[c] if c in exports.columns else ibis.null(schema[c]).name(c)
            for c in imports.columns
        ]
    )
    return ibis.union(imports, exports, distinct=False)


def _product_meta(inp: _Inputs) -> ir.Table:
    """Per product: its material and stage (only a single-material, single-stage product has a
    stage; see module doc), its codes, and the reference's complete code set of that
    material-stage (scope test (a))."""
    from verdikart.reference.materials import material_hs6_table

    p = inp.products
    single = (
        (p.material.nunique() == 1)
        & (p.material.count() == p.count())
        & (p.stage.nunique() == 1)
        & (p.stage.count() == p.count())
    )
    # unwrought metals and elements: their gross weight is metal content (basis test (b))
    metal = p.hs6.substr(0, 4).isin(list(_METAL_HEADINGS)) | p.hs6.substr(0, 2).between(
        *_METAL_CHAPTERS
    )
    meta = p.group_by("product").agg(
        material=p.material.min(),
        stage=ibis.cases((single, p.stage.min()), else_=ibis.null("string")),
        hs6_codes=_joined(p.hs6, ","),
        n_codes=p.hs6.nunique().cast("int64"),
        metal_codes=metal.all(),
    )
    ref = ibis.memtable(material_hs6_table(ANALYSIS_REVISION))
    codes = ref.group_by("material", "stage").agg(
        stage_codes=_joined(ref.hs6, ","),
        shared_codes=_joined(ref.hs6, ",", where=ref.shared),
    )
    codes = codes.select(
        sc_material="material",
        sc_stage="stage",
        stage_codes="stage_codes",
        shared_codes="shared_codes",
    )
    j = meta.left_join(codes, [meta.material == codes.sc_material, meta.stage == codes.sc_stage])
    return j.select(
        *meta.columns,
        "stage_codes",
        "shared_codes",
        complete_codes=j.stage_codes.notnull() & (j.stage_codes == j.hs6_codes),
    )


def _production(rel: Relations, inp: _Inputs, meta: ir.Table, years: Sequence[int]) -> ir.Table:
    """Production of the reporter's members in tonnes, per reporter, product and year, with
    whether its basis compares with gross trade weight (basis test (b), module doc)."""
    sp = selected_production(rel.production, years=years, per_stage=True)
    # rows in t only: a production in kg (PGMs, gold) is not compared with trade here
    sp = sp.filter(sp.unit == "t")
    r = inp.rep
    m = meta.select(
        m_product="product", m_material="material", m_stage="stage", m_metal="metal_codes"
    )
    j = sp.join(r, [sp.country == r.iso3, in_years(sp.year, r.year_from, r.year_to)]).join(
        m, [m.m_material == sp.material, m.m_stage == sp.stage]
    )
    rows = j.select(
        reporter=r.reporter,
        product=m.m_product,
        year=sp.year,
        quantity_t=quantity_t(sp.quantity, sp.unit),
        comparable=sp.content_basis.lower().startswith("gross").fill_null(False)
        | (sp.content_basis.isnull() & (m.m_stage == "processing") & m.m_metal),
        basis=sp.content_basis.fill_null("metal content"),
        source=sp.source,
    )
    return rows.group_by("reporter", "product", "year").agg(
        production_t=rows.quantity_t.sum(),
        production_comparable=rows.comparable.all(),
        production_basis=_joined(rows.basis, ", "),
        production_source=_joined(rows.source, "; "),
    )


def _scope_note(c: ir.Table) -> ir.StringValue:
    """Why import reliance is not computed for a row (scope and basis tests, module doc)."""
    what = c.material.concat(" ", c.stage)
    return ibis.cases(
        (c.stage.isnull(), "reliance n/a: product is not one material and stage"),
        (
            ~c.complete_codes,
            ibis.literal("reliance n/a: HS6 ").concat(
                c.hs6_codes,
                " is not the complete code set ",
                c.stage_codes.fill_null("(none)"),
                " of ",
                what,
            ),
        ),
        (
            c.shared_codes.notnull(),
            ibis.literal("reliance n/a: HS6 ").concat(
                c.shared_codes, " also cover other materials"
            ),
        ),
        (
            c.n_codes_traded < c.n_codes,
            ibis.literal("reliance n/a: only ").concat(
                c.n_codes_traded.cast("string"),
                " of ",
                c.n_codes.cast("string"),
                " HS6 codes of ",
                what,
                " in the trade data",
            ),
        ),
        (
            c._production_t.isnull(),
            ibis.literal("reliance n/a: no ").concat(what, " production in t"),
        ),
        (
            ~c.production_comparable,
            ibis.literal("reliance n/a: production (").concat(
                c.production_basis,
                ") not comparable with gross trade weight of HS6 ",
                c.hs6_codes,
            ),
        ),
        else_=ibis.null("string"),
    )


@data_parameters("reporters")
def trade_indicators_expr(
    rel: Relations,
    reporters: pa.Table,
    products: pa.Table,
    years: Sequence[int],
    *,
    basis: Basis = "value",
    threshold: float = DEFAULT_THRESHOLD,
    governance: str = DEFAULT_GOVERNANCE,
    flows: pa.Table | None = None,
) -> ir.Table:
    """The expression of :func:`trade_indicators`."""
    _check_basis(basis)
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    report_years = sorted({int(y) for y in years})
    all_years = sorted(set(report_years) | {y - 1 for y in report_years})
    inp = _inputs(rel, reporters, products, all_years, flows)
    side = _both_sides(inp, rel, basis, governance)
    meta = _product_meta(inp)
    present = (
        inp.trade.join(inp.prod, inp.trade.hs6 == inp.prod.hs6)
        .group_by("product", "year")
        .agg(n_present=lambda t: t.hs6.nunique().cast("int64"))
    )
    prodn = _production(rel, inp, meta, all_years)

    # imports (i_) and exports (e_) side by side: one row per reporter, product and year with
    # any flow (side has one row per flow there); an absent side has i_/e_partners NULL
    pivot = side.group_by("reporter", "product", "year").agg(
        **{
            f"{prefix}{c}": side[c].max(where=side.flow == flow)
            for prefix, flow in (("i_", "import"), ("e_", "export"))
            for c in side.columns
            if c not in _FLOW_KEYS
        }
    )
    m = meta.rename(lambda c: f"m_{c}")
    ps = present.select(ps_product="product", ps_year="year", n_present="n_present")
    pn = prodn.rename(lambda c: f"pn_{c}")
    k = pivot
    j = (
        k.left_join(m, m.m_product == k.product)
        .left_join(ps, [ps.ps_product == k.product, ps.ps_year == k.year])
        .left_join(
            pn, [pn.pn_reporter == k.reporter, pn.pn_product == k.product, pn.pn_year == k.year]
        )
    )
    zero = ibis.literal(0.0)
    joined = j.select(
        reporter=k.reporter,
        product=k.product,
        material=m.m_material,
        stage=m.m_stage,
        hs6_codes=m.m_hs6_codes,
        year=k.year,
        import_value_kusd=k.i_value_kusd.fill_null(0.0),
        import_quantity_t=ibis.cases((k.i_partners.isnull(), zero), else_=k.i_quantity_t),
        import_quantity_missing_rows=k.i_quantity_missing_rows.fill_null(0),
        export_value_kusd=k.e_value_kusd.fill_null(0.0),
        export_quantity_t=ibis.cases((k.e_partners.isnull(), zero), else_=k.e_quantity_t),
        export_quantity_missing_rows=k.e_quantity_missing_rows.fill_null(0),
        n_suppliers=k.i_partners.fill_null(0),
        top_supplier=k.i_top_supplier,
        top_supplier_share=k.i_top_supplier_share,
        top3_share=k.i_top3_share,
        hhi=k.i_hhi,
        hhi_points=k.i_hhi * 10000,
        hhi_wgi=k.i_hhi_wgi,
        governance_coverage=k.i_governance_coverage,
        supplier_risk=k.i_supplier_risk,
        suppliers_without_governance=k.i_suppliers_without_governance,
        stage_codes=m.m_stage_codes,
        shared_codes=m.m_shared_codes,
        complete_codes=m.m_complete_codes,
        n_codes_traded=ps.n_present.fill_null(0),
        n_codes=m.m_n_codes,
        _production_t=pn.pn_production_t,
        production_comparable=pn.pn_production_comparable,
        production_basis=pn.pn_production_basis,
        production_source=pn.pn_production_source,
        source=ibis.cases(
            (k.e_source.isnull() | (k.e_source == k.i_source), k.i_source),
            (k.i_source.isnull(), k.e_source),
            else_=k.i_source.concat("; ", k.e_source),
        ),
    )
    c = joined.mutate(_scope_note=_scope_note(joined))
    null = ibis.null("float64")
    in_scope = c._scope_note.isnull()
    imp, exp = c.import_quantity_t, c.export_quantity_t
    w = ibis.window(group_by=[c.reporter, c.product], order_by=[c.year])
    final = c.select(
        *[x for x in c.columns if x != "_production_t"],
        production_t=ibis.cases((in_scope, c._production_t), else_=null),
        net_import_value_kusd=c.import_value_kusd - c.export_value_kusd,
        net_import_quantity_t=imp - exp,
        apparent_consumption_t=ibis.cases((in_scope, c._production_t + imp - exp), else_=null),
        # USGS reports "E" for net exporters and no figure when consumption is not positive
        import_reliance=ibis.cases(
            (in_scope, import_reliance(imp, exp, c._production_t)), else_=null
        ),
        concentration_flag=c.top_supplier_share > float(threshold),
        import_value_yoy=c.import_value_kusd / c.import_value_kusd.lag().over(w).nullif(0) - 1,
        import_quantity_yoy=imp / imp.lag().over(w).nullif(0) - 1,
        _prev_year=c.year.lag().over(w),
    )
    f = final
    consecutive = f._prev_year == f.year - 1
    hidden = {
        "_prev_year",
        "import_value_yoy",
        "import_quantity_yoy",
        "_scope_note",
        "stage_codes",
        "shared_codes",
        "complete_codes",
        "n_codes_traded",
        "n_codes",
        "production_comparable",
    }
    reliance_note = ibis.cases(
        (f._scope_note.notnull(), f._scope_note),
        (
            f.import_quantity_t.isnull() | f.export_quantity_t.isnull(),
            "reliance n/a: quantity missing",
        ),
        (
            f.production_t + f.import_quantity_t - f.export_quantity_t <= 0,
            "reliance n/a: apparent consumption not positive",
        ),
        (f.import_quantity_t <= f.export_quantity_t, 'reliance n/a: net exporter (USGS "E")'),
        else_=ibis.null("string"),
    )
    notes = ibis.literal("; ").join(
        [
            ibis.cases(
                (
                    f.import_quantity_missing_rows > 0,
                    ibis.literal("import quantity missing in ").concat(
                        f.import_quantity_missing_rows.cast("string"), " source row(s)"
                    ),
                ),
                else_=ibis.null("string"),
            ),
            ibis.cases(
                (
                    f.export_quantity_missing_rows > 0,
                    ibis.literal("export quantity missing in ").concat(
                        f.export_quantity_missing_rows.cast("string"), " source row(s)"
                    ),
                ),
                else_=ibis.null("string"),
            ),
            ibis.cases((f.n_suppliers == 0, "no imports"), else_=ibis.null("string")),
            ibis.cases(
                (f.top_supplier.notnull() & f.hhi.isnull(), f"shares unknown on {basis} basis"),
                else_=ibis.null("string"),
            ),
            ibis.cases(
                (
                    f.suppliers_without_governance.notnull(),
                    ibis.literal("no governance score for ").concat(f.suppliers_without_governance),
                ),
                else_=ibis.null("string"),
            ),
            reliance_note,
        ]
    )
    out = f.select(
        *[x for x in f.columns if x not in hidden],
        import_value_yoy=ibis.cases((consecutive, f.import_value_yoy), else_=null),
        import_quantity_yoy=ibis.cases((consecutive, f.import_quantity_yoy), else_=null),
        notes=notes,
    )
    return out.filter(out.year.isin(report_years)).order_by("reporter", "product", "year")


def trade_indicators(
    engine: Engine,
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
    store's ``trade_analysis`` by a relation of the same columns (a company's purchases).
    """
    return engine.query(
        trade_indicators_expr,
        reporters,
        products,
        years,
        basis=basis,
        threshold=threshold,
        governance=governance,
        flows=flows,
    )


def _coverage_not_analysed_expr(rel: Relations, years: list[int]) -> ir.Table:
    """The (year, revision, source) of trade's coverage in `years` the analysis leaves out."""
    coverage = rel.trade_coverage
    coverage = coverage.filter(coverage.year.isin(years))
    return coverage.difference(trade_analysis(coverage, rel.trade_coverage))


def _rows_not_analysed_expr(rel: Relations, keys: pa.Table) -> ir.Table:
    """Trade rows per (year, revision, source) of `keys` (k_year, k_revision, k_source)."""
    k = ibis.memtable(keys)
    years = sorted(set(keys.column("k_year").to_pylist()))
    t = rel.trade.filter(rel.trade.year.isin(years))
    t = t.join(
        k,
        [t.year.cast("int32") == k.k_year, t.hs_revision == k.k_revision, t.source == k.k_source],
    )
    counts = t.group_by("year", "hs_revision", "source").agg(n=t.count().cast("int64"))
    return counts.order_by("year", "hs_revision", "source")


def trade_not_analysed(engine: Engine, year: int) -> list[str]:
    """Notes on the year's `trade` rows the indicators leave out (another HS revision, or a
    second dataset beside CEPII BACI; see :func:`verdikart.relations.trade_analysis`), with
    counts, so that a report says what it did not use."""
    return trade_not_analysed_by_year(engine, [year])[int(year)]


def trade_not_analysed_by_year(engine: Engine, years: Sequence[int]) -> dict[int, list[str]]:
    """:func:`trade_not_analysed` for several years. Which (year, revision, source) the
    analysis leaves out follows from trade's coverage alone (the rule of ``trade_analysis``
    is per year, revision and source), so the trade rows are counted only when some are."""
    asked = sorted({int(y) for y in years})
    left_out = engine.query_rows(_coverage_not_analysed_expr, asked)
    notes: dict[int, list[str]] = {y: [] for y in asked}
    if not left_out:
        return notes
    keys = pa.table(
        {
            "k_year": pa.array([int(r["year"]) for r in left_out], pa.int32()),
            "k_revision": pa.array([r["hs_revision"] for r in left_out], pa.string()),
            "k_source": pa.array([r["source"] for r in left_out], pa.string()),
        }
    )
    for r in engine.query_rows(_rows_not_analysed_expr, keys):
        notes[int(r["year"])].append(
            f"{r['n']:,} trade row(s) of {r['year']} not used: {r['hs_revision']} "
            f"'{r['source']}' (the indicators read {ANALYSIS_REVISION} and, per year, CEPII BACI "
            "before other datasets)"
        )
    return notes
