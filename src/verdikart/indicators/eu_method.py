"""The EU criticality method: supply risk (SR), economic importance (EI) and the critical flag.

Method: European Commission (2017), *Methodology for establishing the EU list of critical raw
materials -- Guidelines* (DG GROW, ISBN 978-92-79-68051-9, doi:10.2873/769526), with the
background report Blengini et al. (2017), JRC, doi:10.2760/73303; as applied in the 2020 and
2023 assessments (European Commission, *Study on the critical raw materials for the EU 2023 --
Final report*, which evaluates SR at the extraction and the processing stage and keeps the
higher value). Citations name the Guidelines' sections (page numbers not checked offline).

* Economic importance (Guidelines, "Economic importance"): ``EI = Σ_s (A_s × Q_s) × SI_EI``
  with ``A_s`` the share of the material's end uses in NACE Rev. 2 2-digit sector ``s`` and
  ``Q_s`` that sector's EU value added, scaled to 0..10 by the value added of the largest
  manufacturing sector (``Q_s = 10 × VA_s / max VA``).
* Supply risk (Guidelines, "Supply risk"): ``SR = [HHI_GS × IR/2 + HHI_EUS × (1 − IR/2)] ×
  (1 − EoL_RIR) × SI_SR`` where each ``HHI = Σ_c S_c² × WGI_c × t_c`` over supplier countries
  ``c`` of global supply (GS) or EU sourcing (EUS), ``WGI_c`` the country's governance scaled
  to 0..10 (10 = worst) and ``t_c`` the trade-related variable (taken as published in the
  assessment tables). Import reliance ``IR = (import − export) / (domestic production +
  import − export)``.
* Thresholds: critical when ``SR ≥ 1.0`` and ``EI ≥ 2.8``.

Implementation: pure functions for the formulas (known-answer tests) and one set-based Ibis
expression (:func:`eu_criticality_expr`, run on DuckDB or Spark by :mod:`verdikart.engine`) over
the relations ``eu_supply_shares``, ``eu_end_uses``, ``eu_parameters``
(:mod:`verdikart.sources.eu_crm`), ``governance``, ``production``, ``trade_analysis`` and
``wmd_hs_map``. Inputs a store lacks are replaced by documented defaults and every
result row lists them in ``inputs_defaulted`` (see docs/method-eu-criticality.md):

* ``global_shares:production`` -- no published global supply shares for the material: shares
  computed from the store's ``production`` table (one source per material, stage and year:
  World Mining Data first, then USGS MCS; :func:`verdikart.relations.selected_production`)
  and ``t`` = 1;
* ``sourcing:none`` -- no EU (or national) sourcing shares: SR uses global supply alone;
* ``ir`` -- IR = 1 (full import reliance; global and sourcing mixes weigh 1/2 each);
* ``eol_rir:wmd_hs_map`` -- EoL-RIR from the bundled ``wmd_hs_map`` (the EU values carried by
  the GeoPolRisk data); ``eol_rir`` -- 0 when neither is known;
* ``si_sr`` / ``si_ei`` -- substitution index 1 (no substitution);
* ``end_uses`` -- no end-use shares: EI is NULL (and so is ``critical`` unless SR < 1);
* ``wgi:<dims>`` -- fewer than the six WGI dimensions in the store; ``wgi_missing:<n>`` -- n
  supplier countries without a governance score, given the neutral mid-scale value 5.

A national perspective (``perspective='NOR'`` or any ISO3 country) replaces the EU sourcing
shares by the country's own import shares (bundled ``trade``, by value, over the material's
HS6 codes) and the EU import reliance by the country's own (trade and production tonnages).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from verdikart import relations
from verdikart.errors import UnknownCodeError, VerdikartError

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

SR_THRESHOLD = 1.0
EI_THRESHOLD = 2.8
WGI_DIMENSIONS: tuple[str, ...] = (
    "va.estimate",
    "pv.estimate",
    "ge.estimate",
    "rq.estimate",
    "rl.estimate",
    "cc.estimate",
)
NEUTRAL_WGI = 5.0  # mid-scale: neither good nor bad governance
DEFAULT_IR = 1.0
DEFAULT_SI = 1.0
DEFAULT_EOL_RIR = 0.0
METHOD = "EC 2017 CRM methodology (as applied 2023)"


# -- pure formulas ------------------------------------------------------------------------
def scale_wgi(estimate: float) -> float:
    """One WGI estimate (−2.5 good .. 2.5 bad reversed) mapped linearly to 0..10, 10 = worst.

    Guidelines, "Supply risk" (governance): the WGI is rescaled so that higher values mean a
    higher risk; the
    estimate range [−2.5, 2.5] maps to [10, 0]. Values outside the range are clipped.
    """
    return min(10.0, max(0.0, (2.5 - estimate) * 2.0))


def scaled_wgi(estimates: Sequence[float]) -> float:
    """The EU method's country governance score: mean of the six WGI dimensions, scaled 0..10.

    Guidelines, "Supply risk" (all six dimensions: voice and accountability, political stability,
    government effectiveness, regulatory quality, rule of law, control of corruption).
    """
    if not estimates:
        raise ValueError("no WGI estimates")
    return scale_wgi(sum(estimates) / len(estimates))


def hhi_wgi_t(shares: Sequence[float], wgi: Sequence[float], t: Sequence[float]) -> float:
    """``HHI_WGI,t = Σ_c S_c² × WGI_c × t_c`` (Guidelines, "Supply risk"); shares as fractions."""
    if not len(shares) == len(wgi) == len(t):
        raise ValueError("shares, wgi and t must have the same length")
    return sum(s * s * w * tc for s, w, tc in zip(shares, wgi, t, strict=True))


def import_reliance(imports: float, exports: float, production: float) -> float | None:
    """``IR = (I − E) / (P + I − E)`` clipped to [0, 1] (Guidelines, "Import reliance").

    None when apparent consumption ``P + I − E`` is not positive (undefined). The one definition
    is :func:`verdikart.relations.import_reliance_value` (EU rule: a net exporter is 0).
    """
    return relations.import_reliance_value(imports, exports, production, net_exporter_zero=True)


def supply_risk(
    hhi_gs: float,
    hhi_eu: float | None,
    ir: float,
    eol_rir: float = DEFAULT_EOL_RIR,
    si_sr: float = DEFAULT_SI,
) -> float:
    """``SR = [HHI_GS × IR/2 + HHI_EUS × (1 − IR/2)] × (1 − EoL_RIR) × SI_SR``.

    Guidelines, "Supply risk".

    Without sourcing shares (``hhi_eu`` None) the global mix stands alone; this reproduces the
    2023 study's cobalt and vanadium SR (extraction stage, which has no EU sourcing rows).
    """
    mix = hhi_gs if hhi_eu is None else hhi_gs * ir / 2 + hhi_eu * (1 - ir / 2)
    return mix * (1 - eol_rir) * si_sr


def economic_importance(
    shares: Sequence[float],
    value_added: Sequence[float],
    max_value_added: float,
    si_ei: float = DEFAULT_SI,
) -> float:
    """``EI = Σ_s A_s × Q_s × SI_EI`` with ``Q_s = 10 × VA_s / max VA``.

    Guidelines, "Economic importance".

    ``A_s`` are the end-use shares allocated to a sector, renormalised to sum to 1 (uses
    published as unallocated "Other" are spread in proportion; see the method note).
    """
    total = sum(shares)
    if total <= 0 or max_value_added <= 0:
        raise ValueError("shares and max value added must be positive")
    weighted = sum(a * q for a, q in zip(shares, value_added, strict=True)) / total
    return weighted / max_value_added * 10 * si_ei


def is_critical(
    sr: float | None,
    ei: float | None,
    sr_threshold: float = SR_THRESHOLD,
    ei_threshold: float = EI_THRESHOLD,
) -> bool | None:
    """Critical when SR ≥ 1.0 and EI ≥ 2.8 (Guidelines' thresholds); None when unknown."""
    if sr is not None and not math.isnan(sr) and sr < sr_threshold:
        return False
    if ei is not None and not math.isnan(ei) and ei < ei_threshold:
        return False
    if sr is None or ei is None:
        return None
    return True


# -- set-based computation ----------------------------------------------------------------
def _scalar(engine: Engine, expr: ir.Scalar) -> int | None:
    """The value of an integer scalar expression (a year), None when NULL."""
    rows = engine.rows(expr.name("value").as_table())
    value = rows[0]["value"] if rows else None
    return int(value) if value is not None else None


def default_wgi_year(engine: Engine, year: int, relations: Relations | None = None) -> int | None:
    """The WGI year an assessment of `year` uses: year − 2 (2023 study: WGI 2021) or earlier."""
    g = (relations if relations is not None else engine.relations()).governance
    g = g.filter(g.indicator.endswith(".estimate"))
    found = _scalar(engine, g.filter(g.year <= year - 2).year.max())
    if found is None:
        found = _scalar(engine, g.year.max())
    return found


def material_hs6_expr() -> ir.Table:
    """(material, stage 'E'|'P', hs6) for the national perspective's trade shares: the
    material reference's own codes (not those shared with other materials)."""
    from verdikart.reference.materials import material_hs6_table

    raw = ibis.memtable(material_hs6_table("HS92"))
    stage = raw.stage.cast("string").left(1).upper()
    keep = stage.isin(["E", "P"])
    if "shared" in raw.columns:
        # a code shared with other materials (e.g. 253090 "mineral substances n.e.s." for
        # lithium ores) would make other materials' trade look like this one's suppliers
        keep = keep & ~raw.shared.coalesce(False)
    codes = raw.filter(keep).select(
        material=raw.material.cast("string"), stage=stage, hs6=raw.hs6.cast("string")
    )
    return codes.distinct().order_by("material", "stage", "hs6")


def material_hs6(engine: Engine) -> pa.Table:
    """:func:`material_hs6_expr` run on `engine`."""
    return engine.to_arrow(material_hs6_expr())


def _perspective(perspective: str) -> str:
    from verdikart.reference.countries import resolve_country

    text = perspective.strip()
    if text.upper() in ("EU", "EU27"):
        return "EU"
    ref = resolve_country(text)
    if ref.kind != "country":
        raise UnknownCodeError(
            f"perspective {perspective!r} is a group; use EU or one country (e.g. NOR)"
        )
    return ref.id


def _years_window(
    engine: Engine, table: ir.Table, years: tuple[int, int] | None
) -> tuple[int, int]:
    if years is not None:
        return int(years[0]), int(years[1])
    last = _scalar(engine, table.year.max())
    last = last if last is not None else 0
    return last - 4, last


def _sources(source: ir.StringValue) -> ir.StringValue:
    """The distinct source labels of a group, sorted, '; '-joined (an aggregate; NULL if none)."""
    return source.collect(distinct=True).sort().join("; ")


def _stage_letter(stage: ir.StringValue) -> ir.StringValue:
    """A production stage as the assessment's stage: extraction 'E', anything else 'P'."""
    return ibis.cases((stage == "extraction", "E"), else_="P")


def _hhi(shares: ir.Table, wgi: ir.Table) -> tuple[ir.Table, dict[str, ir.Value]]:
    """`shares` (country, share, t, ...) joined with the scaled WGI, and the HHI aggregates."""
    j = shares.left_join(wgi, shares.country == wgi.w_country)
    score = j.w_scaled.coalesce(NEUTRAL_WGI)
    return j, {
        "hhi": (j.share * j.share * score * j.t).sum(),
        "no_wgi": relations.missing_count(j.w_scaled),
        "source": _sources(j.source),
    }


def eu_criticality_expr(
    rel: Relations,
    *,
    year: int,
    wgi_year: int,
    wgi_dimensions: Sequence[str],
    trade_years: tuple[int, int],
    production_years: tuple[int, int],
    perspective: str = "EU",
    materials: Sequence[str] | None = None,
    sr_threshold: float = SR_THRESHOLD,
    ei_threshold: float = EI_THRESHOLD,
) -> ir.Table:
    """SR per stage (E, P) and its maximum (stage ``'max'``), EI and the critical flag.

    The settings are resolved (:func:`eu_criticality` resolves them from the data):
    `wgi_dimensions` the WGI ``*.estimate`` indicators present for `wgi_year`, `trade_years`
    and `production_years` inclusive (first, last) windows. Columns: material, stage,
    sr_stage, sr, ei, critical, hhi_gs, hhi_eu, ir, eol_rir, si_sr, si_ei, inputs_defaulted,
    perspective, year, wgi_year, source.
    """
    iso = _perspective(perspective)
    national = iso != "EU"
    dims = list(wgi_dimensions)
    wgi_flag = None if len(dims) == len(WGI_DIMENSIONS) else "wgi:" + "+".join(dims)
    wgi_label = f"WGI {wgi_year} ({len(dims)} of 6 dimensions)"
    t0, t1 = trade_years
    p0, p1 = production_years
    n_years = float(t1 - t0 + 1)
    wanted = [m.strip() for m in materials] if materials else []

    g = rel.governance
    g = g.filter((g.year == wgi_year) & g.value.notnull() & g.indicator.isin(dims))
    wgi = g.group_by(w_country=g.country).agg(
        w_scaled=ibis.least(10.0, ibis.greatest(0.0, (2.5 - g.value.mean()) * 2.0))
    )

    es = rel["eu_supply_shares"]
    share_cols = ("material", "stage", "country", "share", "t", "source")
    gs_pub = es.filter((es.year == year) & (es.scope == "global")).select(*share_cols)
    # no published shares for the material: production shares (one source per material,
    # stage and year: World Mining Data first, see relations.selected_production), t = 1
    sp = relations.selected_production(rel.production)
    sp = sp.filter(sp.year.between(p0, p1) & (sp.quantity > 0) & ~sp.material.isin(gs_pub.material))
    per = sp.group_by("material", "stage", "country").agg(
        q=sp.quantity.sum(), source=_sources(sp.source)
    )
    gs_prod = per.select(
        "material",
        stage=_stage_letter(per.stage),
        country="country",
        share=per.q / per.q.sum().over(group_by=["material", "stage"]),
        t=ibis.literal(1.0),
        source="source",
        from_production=ibis.literal(True),
    )
    gs = gs_pub.mutate(from_production=ibis.literal(False)).union(gs_prod)
    gj, gagg = _hhi(gs, wgi)
    hhi_gs = gj.group_by("material", "stage").agg(**gagg, from_production=gj.from_production.any())

    if national:
        hs6 = material_hs6_expr().select(h_material="material", h_stage="stage", h_hs6="hs6")
        ta = rel.trade_analysis
        ta = ta.filter(ta.year.between(t0, t1))
        th = ta.join(hs6, ta.hs6 == hs6.h_hs6)
        fl = th.filter((th.importer == iso) & (th.value_kusd > 0))
        flows = fl.group_by(material=fl.h_material, stage=fl.h_stage, country=fl.exporter).agg(
            value_kusd=fl.value_kusd.sum(), source=_sources(fl.source)
        )
        p = gs_pub.select(p_material="material", p_stage="stage", p_country="country", p_t="t")
        fj = flows.left_join(
            p,
            [
                flows.material == p.p_material,
                flows.stage == p.p_stage,
                flows.country == p.p_country,
            ],
        )
        sourcing = fj.select(
            "material",
            "stage",
            "country",
            share=fj.value_kusd / fj.value_kusd.sum().over(group_by=["material", "stage"]),
            t=fj.p_t.coalesce(1.0),
            source="source",
        )
        # import reliance from the country's own tonnages, per year of the window. NULL rule
        # (kept from the SQL this replaces, not relations.complete_sum): imports are the sum
        # of the quantities present (NULL only when no import row has one), exports the same
        # or 0
        nt = th.filter((th.importer == iso) | (th.exporter == iso))
        nat_ir = nt.group_by(material=nt.h_material, stage=nt.h_stage).agg(
            imports_t=nt.quantity_t.sum(where=nt.importer == iso) / n_years,
            exports_t=nt.quantity_t.sum(where=nt.exporter == iso).coalesce(0.0) / n_years,
        )
        pr = relations.selected_production(rel.production)
        pr = pr.filter((pr.country == iso) & (pr.unit == "t") & pr.year.between(t0, t1))
        nat_prod = pr.group_by(n_material=pr.material, n_stage=_stage_letter(pr.stage)).agg(
            production_t=pr.quantity.sum() / n_years
        )
        nj = nat_ir.filter(nat_ir.imports_t.notnull()).left_join(
            nat_prod,
            [nat_ir.material == nat_prod.n_material, nat_ir.stage == nat_prod.n_stage],
        )
        nat: ir.Table | None = nj.select(
            "material",
            "stage",
            ir=relations.import_reliance(
                nj.imports_t, nj.exports_t, nj.production_t.coalesce(0.0), net_exporter_zero=True
            ),
        )
        sourcing_label = f"{iso} imports {t0}-{t1}: "
    else:
        sourcing = es.filter((es.year == year) & (es.scope == "eu_sourcing")).select(*share_cols)
        nat = None
        sourcing_label = "EU sourcing: "
    sj, sagg = _hhi(sourcing, wgi)
    hhi_src = sj.group_by("material", "stage").agg(**sagg)

    ep = rel["eu_parameters"]
    ep = ep.filter(ep.year == year)
    gk = hhi_gs.select(k_material="material", k_stage="stage")
    pj = gk.left_join(
        ep, [ep.material == gk.k_material, (ep.stage == gk.k_stage) | ep.stage.isnull()]
    )
    own, both = pj.stage == pj.k_stage, pj.stage.isnull()

    def param(col: ir.NumericValue) -> ir.NumericValue:
        # the stage's own value, else the material's (stage empty); max = any of one row
        return col.max(where=own).coalesce(col.max(where=both))

    params = pj.group_by("k_material", "k_stage").agg(
        p_ir=param(pj.ir),
        p_eol=param(pj.eol_rir),
        p_si_sr=param(pj.si_sr),
        p_si_ei=param(pj.si_ei),
        p_source=_sources(pj.source),
    )

    wm = rel.wmd_hs_map
    wmd = wm.group_by(w_material=wm.material).agg(eol_wmd=wm.eol_rir.max())
    eu_u = rel["eu_end_uses"]
    eu_u = eu_u.filter(eu_u.year == year)
    max_va = eu_u.aggregate(max_va=eu_u.value_added_meur.max())
    allocated = eu_u.nace2.notnull()
    ei_sums = eu_u.group_by(e_material=eu_u.material).agg(
        e_num=(eu_u.share * eu_u.value_added_meur).sum(where=allocated),
        e_den=eu_u.share.sum(where=allocated & eu_u.share.notnull()),
        e_source=_sources(eu_u.source),
    )
    ei_sums = ei_sums.cross_join(max_va)
    ei_raw = ei_sums.select(
        "e_material",
        "e_source",
        ei_raw=ei_sums.e_num / ei_sums.e_den.nullif(0) / ei_sums.max_va * 10,
    )

    s = hhi_src.select(
        s_material="material", s_stage="stage", hhi_eu="hhi", s_no_wgi="no_wgi", s_source="source"
    )
    g_rows = hhi_gs.filter(hhi_gs.material.isin(wanted)) if wanted else hhi_gs
    x = g_rows.left_join(s, [g_rows.material == s.s_material, g_rows.stage == s.s_stage])
    x = x.left_join(params, [x.material == params.k_material, x.stage == params.k_stage])
    if nat is not None:
        n = nat.select(n_material="material", n_stage="stage", n_ir="ir")
        x = x.left_join(n, [x.material == n.n_material, x.stage == n.n_stage])
        ir_in = x.n_ir
    else:
        ir_in = x.p_ir
    x = x.left_join(wmd, x.material == wmd.w_material)
    x = x.left_join(ei_raw, x.material == ei_raw.e_material)
    eol_label = ibis.cases(
        (x.p_eol.isnull() & x.eol_wmd.notnull(), "EoL-RIR: wmd_hs_map"),
        else_=ibis.null("string"),
    )
    rows = x.select(
        "material",
        "stage",
        hhi_gs=x.hhi,
        hhi_eu=x.hhi_eu,
        ir_in=ir_in,
        eol_in=x.p_eol,
        eol_wmd=x.eol_wmd,
        si_sr_in=x.p_si_sr,
        si_ei_in=x.p_si_ei,
        ei_raw=x.ei_raw,
        from_production=x.from_production,
        no_wgi=x.no_wgi + x.s_no_wgi.coalesce(0),
        source=ibis.literal(" | ").join(
            [
                "global: " + x.source,
                sourcing_label + x.s_source,
                "end uses: " + x.e_source,
                "parameters: " + x.p_source,
                eol_label,
                ibis.literal(wgi_label),
            ]
        ),
    )
    c = rows.mutate(
        ir=rows.ir_in.coalesce(DEFAULT_IR),
        eol_rir=rows.eol_in.coalesce(rows.eol_wmd, DEFAULT_EOL_RIR),
        si_sr=rows.si_sr_in.coalesce(DEFAULT_SI),
        si_ei=rows.si_ei_in.coalesce(DEFAULT_SI),
    )
    no_sourcing = c.hhi_eu.isnull()

    # each input replaced by a default, in this order: a list of flags built by concatenation
    # (no lambda: DuckDB refuses the `x -> ...` syntax Ibis writes for list_filter)
    none = ibis.literal([], type="array<string>")

    def flag(cond: ir.BooleanValue, text: str | ir.StringValue) -> ir.ArrayValue:
        return ibis.cases((cond, ibis.array([text])), else_=none)

    flags = [
        flag(c.from_production, "global_shares:production"),
        flag(c.from_production, "t"),
        flag(no_sourcing, "sourcing:none"),
        flag(~no_sourcing & c.ir_in.isnull(), "ir"),
        flag(c.eol_in.isnull() & c.eol_wmd.notnull(), "eol_rir:wmd_hs_map"),
        flag(c.eol_in.isnull() & c.eol_wmd.isnull(), "eol_rir"),
        flag(c.si_sr_in.isnull(), "si_sr"),
        flag(c.ei_raw.isnull(), "end_uses"),
        flag(c.ei_raw.notnull() & c.si_ei_in.isnull(), "si_ei"),
        *([ibis.literal([wgi_flag], type="array<string>")] if wgi_flag is not None else []),
        flag(c.no_wgi > 0, "wgi_missing:" + c.no_wgi.cast("string")),
    ]
    mix = ibis.cases((no_sourcing, c.hhi_gs), else_=c.hhi_gs * c.ir / 2 + c.hhi_eu * (1 - c.ir / 2))
    result = c.select(
        "material",
        "stage",
        sr_stage=c.stage,
        sr=mix * (1 - c.eol_rir) * c.si_sr,
        ei=c.ei_raw * c.si_ei,
        hhi_gs=c.hhi_gs,
        hhi_eu=c.hhi_eu,
        ir=ibis.cases((no_sourcing, ibis.null("float64")), else_=c.ir),
        eol_rir=c.eol_rir,
        si_sr=c.si_sr,
        si_ei=c.si_ei,
        inputs_defaulted=flags[0].concat(*flags[1:]),
        source=c.source,
    )
    # the material's SR is that of its riskier stage (2023 study); the row is copied whole
    pick = ibis.row_number().over(
        group_by="material",
        order_by=[ibis.desc(result.sr, nulls_first=False), result.stage],
    )
    ranked = result.mutate(_pick=pick)
    riskier = ranked.filter(ranked._pick == 0).mutate(stage=ibis.literal("max"))
    both_rows = result.union(riskier.select(*result.columns))
    sr, ei = both_rows.sr, both_rows.ei
    out = both_rows.select(
        "material",
        "stage",
        "sr_stage",
        "sr",
        "ei",
        critical=ibis.cases(
            ((sr < sr_threshold) | (ei < ei_threshold), False),
            ((sr >= sr_threshold) & (ei >= ei_threshold), True),
            else_=ibis.null("boolean"),
        ),
        hhi_gs="hhi_gs",
        hhi_eu="hhi_eu",
        ir="ir",
        eol_rir="eol_rir",
        si_sr="si_sr",
        si_ei="si_ei",
        inputs_defaulted="inputs_defaulted",
        perspective=ibis.literal(iso),
        year=ibis.literal(year, "int32"),
        wgi_year=ibis.literal(wgi_year, "int32"),
        source="source",
    )
    stage_order = ibis.cases((out.stage == "E", 0), (out.stage == "P", 1), else_=2)
    return out.order_by(out.material, stage_order)


def eu_criticality(
    engine: Engine,
    *,
    year: int = 2023,
    materials: Sequence[str] | None = None,
    perspective: str = "EU",
    wgi_year: int | None = None,
    trade_years: tuple[int, int] | None = None,
    production_years: tuple[int, int] | None = None,
    sr_threshold: float = SR_THRESHOLD,
    ei_threshold: float = EI_THRESHOLD,
    relations: Relations | None = None,
) -> pa.Table:
    """SR per stage (E, P) and its maximum (stage ``'max'``), EI and the critical flag.

    `engine` is the analytic engine (``store.engine()``); `relations` the relations to read
    (None = the engine's; a scenario passes perturbed ones). `materials` are material ids
    (None = every material with global supply shares for `year`, published or from
    production). One
    expression (:func:`eu_criticality_expr`); returns an Arrow table with columns material,
    stage, sr_stage, sr, ei, critical, hhi_gs, hhi_eu, ir, eol_rir, si_sr, si_ei,
    inputs_defaulted, perspective, year, wgi_year, source.
    """
    _perspective(perspective)  # an unknown or group perspective fails before any query
    rel = relations if relations is not None else engine.relations()
    wyear = wgi_year if wgi_year is not None else default_wgi_year(engine, year, rel)
    if wyear is None:
        raise VerdikartError("no WGI estimates in the store's governance table")
    g = rel.governance
    present = g.filter((g.year == wyear) & g.indicator.isin(list(WGI_DIMENSIONS)))
    dims = [
        str(r["indicator"])
        for r in engine.rows(present.select("indicator").distinct().order_by("indicator"))
    ]
    if not dims:
        raise VerdikartError(f"no WGI estimates for {wyear} in the governance table")
    wanted = [m.strip() for m in materials] if materials else []
    result = engine.to_arrow(
        eu_criticality_expr(
            rel,
            year=year,
            wgi_year=wyear,
            wgi_dimensions=dims,
            trade_years=_years_window(engine, rel.trade, trade_years),
            production_years=_years_window(engine, rel.production, production_years),
            perspective=perspective,
            materials=wanted,
            sr_threshold=sr_threshold,
            ei_threshold=ei_threshold,
        )
    )
    if wanted:
        found = set(result.column("material").to_pylist())
        missing = [m for m in wanted if m not in found]
        if missing:
            es = rel["eu_supply_shares"]
            known_expr = (
                es.filter(es.year == year)
                .select("material")
                .union(rel.production.select("material"))
            )
            known = sorted({str(r["material"]) for r in engine.rows(known_expr)})
            from verdikart.reference.inputs import unknown_materials_message

            raise UnknownCodeError(unknown_materials_message("no supply data", missing, known))
    return result
