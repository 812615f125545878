"""The GeoPolRisk method: supply risk of an importing country or group for a raw material.

Owns one Ibis expression (:func:`geopolrisk_expr`, run on DuckDB or Spark alike) that computes
every (country or group, material, year) at once from the relations ``trade`` (BACI, read as
``trade_analysis``), ``production`` (World Mining Data by default), ``governance`` (WGI
``pv.normalized``) and ``wmd_hs_map``. Method: Gemechu et al. 2016 (J. Ind. Ecol.
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
:func:`verdikart.relations.quantity_t` (kg / 1,000), other non-tonne units
(natural gas, million m³) are added as they are.

Production is read from one source and one stage per material and year
(:func:`verdikart.relations.selected_production` with ``per_stage=False``):
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
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.indicators.production import check_source, entity_rows
from verdikart.relations import governance_scores, in_years, quantity_t, selected_production
from verdikart.sql_cache import data_parameters

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.reference.countries import CountryRef
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

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


def material_hs(wmd_hs_map: ir.Table) -> ir.Table:
    """Material -> HS6 codes (material, hs6) as the peer maps them: the map's HS code plus its
    ';'-separated complementary codes, only for rows that have an HS code and a symbol; codes
    trimmed and left-padded with zeros to six digits."""
    m = wmd_hs_map
    rows = m.filter(m.hs6.notnull() & m.symbol.notnull() & m.material.notnull())
    main = rows.select("material", code=rows.hs6)
    extra = rows.filter(rows.hs6_complementary.notnull())
    extra = extra.select("material", code=extra.hs6_complementary.split(";").unnest())
    codes = main.union(extra)
    code = codes.code.strip()
    return codes.filter(code != "").select("material", hs6=code.lpad(6, "0")).distinct()


def _trunc(x: ir.NumericValue) -> ir.NumericValue:
    """`x` truncated toward zero, as a double (the peer's int() of a production row; Ibis has
    no portable trunc: floor for positive, ceil for negative values)."""
    return ibis.cases((x < 0, x.ceil()), else_=x.floor()).cast("float64")


def geopolrisk_expr(
    rel: Relations,
    countries: Sequence[CountryRef] | None,
    materials: Sequence[str],
    years: Sequence[int],
    source: str | None = None,
) -> ir.Table:
    """The expression of :func:`geopolrisk` for resolved inputs (columns `COLUMNS`).

    `countries` None = every country with imports or production of a material in a year plus
    every defined group, rows without data left out; `materials`, `years`: resolved lists;
    `source`: a checked production source prefix or None (default priority).
    """
    return geopolrisk_entities_expr(
        rel, entities_of(countries), materials, years, source, all_countries=countries is None
    )


def entities_of(countries: Sequence[CountryRef] | None) -> pa.Table:
    """The entity rows (:func:`verdikart.indicators.production.entity_rows`) of `countries`,
    each once; None = every defined group."""
    from verdikart.reference.countries import groups

    refs = list(groups()) if countries is None else list(countries)
    return entity_rows(list({(r.kind, r.id): r for r in refs}.values()))


@data_parameters("entities")
def geopolrisk_entities_expr(
    rel: Relations,
    entities: pa.Table,
    materials: Sequence[str],
    years: Sequence[int],
    source: str | None = None,
    *,
    all_countries: bool = False,
) -> ir.Table:
    """:func:`geopolrisk_expr` for the countries and groups of `entities` (rows of
    :func:`entities_of`), with every other country that has data when `all_countries`. The
    entities are data: the same SQL serves another country."""
    mats = list(dict.fromkeys(materials))
    yrs = sorted({int(y) for y in years})
    sel_years = ibis.memtable(pa.table({"year": pa.array(yrs, pa.int32())}))
    sel_mats = ibis.memtable(pa.table({"material": pa.array(mats, pa.string())}))
    named = ibis.memtable(entities)

    # trade rows of the materials' HS codes; a material with several codes sums them per
    # partner below, as the peer does. A missing quantity counts 0 t (its value stays in the
    # price).
    hs = material_hs(rel.wmd_hs_map)
    hs = hs.filter(hs.material.isin(mats))
    t = rel.trade_analysis
    t = t.filter(t.year.isin(yrs))
    if not all_countries:
        t = t.filter(t.importer.isin(named.iso3))
    tj = t.join(hs, t.hs6 == hs.hs6)
    flows = tj.select(
        year=tj.year.cast("int32"),
        material=tj.material,
        importer=tj.importer,
        exporter=tj.exporter,
        q=tj.quantity_t.coalesce(0.0),
        v=tj.value_kusd.coalesce(0.0),
        missing_q=tj.quantity_t.isnull(),
    )

    # production of one source and stage per material and year; kg -> t, other non-tonne
    # units (natural gas, million m3) as they are (the peer's convention)
    p = selected_production(
        rel.production, materials=mats, years=yrs, source=source, per_stage=False
    )
    prod = p.select(
        "material",
        year=p.year.cast("int32"),
        country=p.country,
        quantity=p.quantity,
        unit=p.unit,
        source=p.source,
        stage=p.stage,
        quantity_t=quantity_t(p.quantity, p.unit),
    )

    entities = named
    if all_countries:
        # every country with trade or production in the selected years
        data = flows.select(iso3=flows.importer).union(
            prod.select(iso3=prod.country), distinct=True
        )
        entities = named.union(
            data.select(
                entity=data.iso3,
                kind=ibis.literal("country"),
                iso3=data.iso3,
                year_from=ibis.null("int32"),
                year_to=ibis.null("int32"),
            )
        )
    crossed = entities.cross_join(sel_years)
    members = (
        crossed.filter(in_years(crossed.year, crossed.year_from, crossed.year_to))
        .select("entity", "iso3", "year")
        .distinct()
    )

    # WGI has two rows for Guyana; the peer takes the first, which is the smaller one in the
    # bundled years 2018-2022 (governance_scores takes the minimum)
    gs = governance_scores(rel.governance, GOVERNANCE_INDICATOR)
    gs = gs.filter(gs.year.isin(yrs))
    wgi = gs.select(w_country=gs.country, w_year=gs.year.cast("int32"), g=gs.score)

    mb = members.select(i_entity="entity", i_iso3="iso3", i_year="year")
    pm = members.select(p_entity="entity", p_iso3="iso3", p_year="year")
    # `members` may itself derive from `flows` (all countries): join a view of it
    fv = flows.view()
    f1 = fv.join(mb, [fv.importer == mb.i_iso3, fv.year == mb.i_year])
    f1 = f1.select(*flows.columns, "i_entity")
    f2 = f1.left_join(
        pm, [f1.i_entity == pm.p_entity, f1.year == pm.p_year, f1.exporter == pm.p_iso3]
    )
    f2 = f2.select(*f1.columns, "p_iso3")
    fj = f2.left_join(wgi, [f2.exporter == wgi.w_country, f2.year == wgi.w_year])
    fj = fj.select(*f2.columns, "g")
    partner_score = ibis.cases((fj.p_iso3.notnull(), 0.0), else_=fj.g.coalesce(MISSING_WGI_SCORE))
    imports = fj.group_by(i_entity=fj.i_entity, i_material=fj.material, i_year=fj.year).agg(
        i_q=fj.q.sum(),
        i_v=fj.v.sum(),
        i_num=(fj.q * partner_score).sum(),
        i_missing_q=fj.missing_q.cast("int64").sum(),
        i_missing_g=(fj.p_iso3.isnull() & fj.g.isnull()).cast("int64").sum(),
        i_flows=fj.count(),
    )

    # HHI over the producer rows with quantities truncated to integers (the peer's
    # convention); rows mixing kg and t: on tonnes; units that do not convert: NULL
    tq = _trunc(prod.quantity)
    qt = prod.quantity_t
    agg = prod.group_by(w_material=prod.material, w_year=prod.year).agg(
        w_source=prod.source.max(),
        w_stage=prod.stage.max(),
        n_units=prod.unit.coalesce("").nunique(),
        n_basis=ibis.cases((qt.isnull(), prod.unit.coalesce(""))).nunique()
        + ibis.cases((qt.notnull(), 1), else_=0).max(),
        units=prod.unit.coalesce("(no unit)").collect(distinct=True).sort().join(", "),
        any_unit=prod.unit.max(),
        s1=tq.sum(),
        s2=(tq * tq).sum(),
        t1=qt.sum(),
        t2=(qt * qt).sum(),
    )
    world = agg.select(
        "w_material",
        "w_year",
        "w_source",
        "w_stage",
        "n_basis",
        "units",
        w_unit=ibis.cases((agg.n_units == 1, agg.any_unit), (agg.n_basis == 1, "t")),
        hhi=ibis.cases(
            ((agg.n_units == 1) & (agg.s1 > 0), agg.s2 / (agg.s1 * agg.s1)),
            ((agg.n_units > 1) & (agg.n_basis == 1) & (agg.t1 > 0), agg.t2 / (agg.t1 * agg.t1)),
            else_=ibis.null("float64"),
        ),
    )

    # a country's production: its first row in the peer; duplicates (Guyana, gold) ->
    # smaller, which is the first in the bundled data; in tonnes where the unit is a mass
    own_country = prod.group_by("material", "year", "country").agg(
        q_t=prod.quantity_t.coalesce(prod.quantity).min()
    )
    om = members.select(m_entity="entity", m_iso3="iso3", m_year="year")
    oc = own_country.view()  # `members` may derive from `prod` too
    oj = oc.join(om, [oc.country == om.m_iso3, oc.year == om.m_year])
    own = oj.group_by(o_entity=oj.m_entity, o_material=oj.material, o_year=oj.year).agg(
        o_q_t=oj.q_t.sum()
    )

    grid = entities.select("entity", "kind").distinct().cross_join(sel_mats).cross_join(sel_years)
    grid = grid.view()  # the joined relations derive from the same inputs
    c = (
        grid.left_join(world, [world.w_material == grid.material, world.w_year == grid.year])
        .left_join(
            imports,
            [
                imports.i_entity == grid.entity,
                imports.i_material == grid.material,
                imports.i_year == grid.year,
            ],
        )
        .left_join(
            own,
            [own.o_entity == grid.entity, own.o_material == grid.material, own.o_year == grid.year],
        )
    )
    if all_countries:
        c = c.filter(c.i_entity.notnull() | c.o_entity.notnull())
    # one projection over the joined grid (each nested select adds Ibis compile time)
    hhi = c.hhi
    import_q = c.i_q.coalesce(0.0)
    import_v = c.i_v.coalesce(0.0)
    own_t = ibis.cases((hhi.notnull(), c.o_q_t.coalesce(0.0)), else_=ibis.null("float64"))
    n_flows = c.i_flows.coalesce(0)
    total = import_q + own_t
    import_risk = ibis.cases(
        (hhi.notnull() & (total > 0), c.i_num.coalesce(0.0) / total), else_=ibis.null("float64")
    )
    price = ibis.cases((import_q > 0, import_v / import_q), else_=ibis.null("float64"))
    no_production: list[tuple[ir.BooleanValue, ir.StringValue]] = [
        (
            hhi.isnull() & (c.n_basis > 1),
            "production units " + c.units + " do not convert to one unit",
        )
    ]
    if source is not None:
        no_production.append(
            (
                hhi.isnull(),
                ibis.literal(
                    f"no production data from source {source}* for this material and year"
                ),
            )
        )
    no_production.append(
        (hhi.isnull(), ibis.literal("no production data for this material and year"))
    )
    reason = ibis.cases(
        *no_production,
        (
            (total == 0) & (n_flows > 0),
            ibis.literal("import quantities missing and no own production"),
        ),
        (total == 0, ibis.literal("no imports and no own production")),
        (
            (import_q == 0) & (n_flows > 0),
            ibis.literal("import quantities missing: price and characterization factor undefined"),
        ),
        (import_q == 0, ibis.literal("no imports: price and characterization factor undefined")),
        else_=ibis.null("string"),
    )
    score = hhi * import_risk
    out = c.select(
        country=c.entity,
        kind=c.kind,
        material=c.material,
        year=c.year,
        score=score,
        characterization_factor=score * price / CF_COPPER,
        hhi=hhi,
        import_risk=import_risk,
        price_kusd_per_t=price,
        import_quantity_t=import_q,
        import_value_kusd=import_v,
        own_production_t=own_t,
        production_unit=ibis.cases((c.w_unit == "kg", "t"), else_=c.w_unit),
        production_source=c.w_source,
        production_stage=c.w_stage,
        flows_missing_quantity=c.i_missing_q.coalesce(0).cast("int32"),
        flows_missing_score=c.i_missing_g.coalesce(0).cast("int32"),
        missing_reason=reason,
    )
    return out.order_by(["kind", "country", "material", "year"])


def assessable_materials(engine: Engine) -> list[dict[str, Any]]:
    """Materials the method can assess (an HS code in the map): slug, commodity, reference id
    and the HS6 codes (sorted)."""
    return engine.query_rows(_assessable_materials_expr)


def _assessable_materials_expr(rel: Relations) -> ir.Table:
    m = rel.wmd_hs_map
    hs = material_hs(m)
    j = m.join(hs, m.material == hs.material)
    return (
        j.group_by("material", "commodity", "reference_id")
        .agg(hs6=j.hs6.collect(distinct=True).sort())
        .order_by(["material", "commodity", "reference_id"])
    )


def resolve_materials(engine: Engine, materials: Sequence[str] | None) -> list[str]:
    """Material slugs from slugs, WMD sheet names or the peer's reference ids (any case)."""
    known = assessable_materials(engine)
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
        from verdikart.reference.inputs import did_you_mean

        slugs = [m["material"] for m in known]
        raise UnknownCodeError(
            f"unknown or unassessable material(s) {', '.join(map(repr, unknown))} (GeoPolRisk "
            f"needs an HS code in the World Mining Data map); {did_you_mean(unknown, slugs)}"
            f"materials: {', '.join(slugs)}"
        )
    return out


def available_years(engine: Engine) -> list[int]:
    """Years with both production and trade data."""
    return [int(r["year"]) for r in engine.query_rows(_available_years_expr)]


def _available_years_expr(rel: Relations) -> ir.Table:
    p = rel.production
    return (
        p.filter(p.year.isin(rel.trade_coverage.year))  # trade's years, without a scan of it
        .select(year=p.year.cast("int32"))
        .distinct()
        .order_by("year")
    )


def resolve_years(engine: Engine, years: Sequence[int] | None) -> list[int]:
    known = available_years(engine)
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
    engine: Engine,
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
    from verdikart.reference.countries import resolve_country

    mats = resolve_materials(engine, materials)
    yrs = resolve_years(engine, years)
    src = check_source(engine, source)
    refs = None if countries is None else [resolve_country(c) for c in countries]
    return engine.query(
        geopolrisk_entities_expr, entities_of(refs), mats, yrs, src, all_countries=refs is None
    )
