"""Where a country is a supplier, by material and value-chain stage (issue 9, points 3-4).

Owns ``verdikart position``: for one country (or a group, its members summed) every material
and stage (E extraction, P processing: the EU assessment's stages) where it supplies, with

* ``share_of_eu_sourcing`` -- its share of the EU's sourcing of the material at that stage
  (``eu_supply_shares`` scope ``eu_sourcing``: European Commission, *Study on the critical raw
  materials for the EU 2023 -- Final report*, Appendix 7, which lists suppliers of >= 1 %);
  NULL where the EU table does not list it;
* ``share_of_world_production`` -- its share of world supply: the same study's global supply
  shares (scope ``global``) where published, else its share of world production in the
  store's ``production`` table (one source per material, stage and year, World Mining Data
  first: :func:`verdikart.indicators.production.production_rows`; the latest year, or the
  latest up to ``year``). ``source`` says which; ``production_share`` and
  ``production_year`` always give the production table's figure beside it;
* ``share_of_world_exports`` -- X_c / X_w over the stage's HS6 codes (the materials
  reference's own codes of the stage, HS 1992, as the EU method's national perspective uses
  them: :func:`verdikart.indicators.eu_method.material_hs6_expr`), by value (kUSD), in one
  year of ``trade_analysis``. Only where the trade data hold every one of those codes that
  year: on an incomplete code set the share is NULL and ``note`` names the missing codes and
  how to fill them (the bundled BACI slice holds 74 raw-material codes). A group's exports
  include trade between its members.

A share published as a bound (``<0.1%``) is the midpoint the EU reader stores (0.05 %), and the
note says so. Rows are ranked by ``importance``, the largest of the three shares.

The 2023 tables publish titanium's extraction stage under three names: ``Titanium ores`` in
the EU-sourcing table, ``Titanium`` and ``Titanium metal`` (identical rows) in the global one.
:data:`STAGE_ALIASES` maps them to one stage, material ``titanium``, stage E, named as the
EU-sourcing table names it; a stage published twice counts once (the largest share).

One set-based Ibis expression (:func:`stage_position_expr`) over
:class:`verdikart.relations.Relations`, run on DuckDB or Spark by :func:`stage_position`.
Its parts serve the value-chain view (:mod:`verdikart.chains.view`) too, so that each concept
has one definition: :func:`eu_country_shares_expr` (every country's published share, aliases
applied), :func:`eu_concentration_expr` (top country and HHI per scope, material and stage)
and :func:`export_shares_expr` (world export shares on a complete code set, any code sets).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.relations import complete_sum

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

EU_YEAR = 2023
# (published material id, stage) -> the material id of the one stage it names (module docstring)
STAGE_ALIASES: tuple[tuple[str, str, str], ...] = (
    ("titanium-ores", "E", "titanium"),
    ("titanium-metal", "E", "titanium"),
)
STAGE_NAMES = {"E": "extraction", "P": "processing"}
FILL_TRADE = "verdikart data import baci FILE (a full BACI year)"
COLUMNS: tuple[str, ...] = (
    "rank",
    "country",
    "material",
    "material_name",
    "stage",
    "stage_name",
    "share_of_eu_sourcing",
    "share_of_world_production",
    "share_of_world_exports",
    "production_share",
    "production_year",
    "exports_year",
    "importance",
    "note",
    "source",
)


def _aliases() -> ir.Table:
    return ibis.memtable(
        pa.table(
            {
                "a_material": [a[0] for a in STAGE_ALIASES],
                "a_stage": [a[1] for a in STAGE_ALIASES],
                "a_target": [a[2] for a in STAGE_ALIASES],
            }
        )
    )


def _sources(source: ir.StringValue) -> ir.StringValue:
    """The distinct labels of a group, sorted, '; '-joined (an aggregate)."""
    return source.collect(distinct=True).sort().join("; ")


def eu_country_shares_expr(
    rel: Relations, scope: str, eu_year: int = EU_YEAR, al: ir.Table | None = None
) -> ir.Table:
    """Every country's published share of one scope (``eu_sourcing`` or ``global``) per
    material and stage, with :data:`STAGE_ALIASES` applied: material (the stage's one id),
    published (the table's material id), name, stage, country, share, bound, source."""
    aliases = _aliases() if al is None else al
    es = rel.eu_supply_shares
    es = es.filter((es.year == eu_year) & (es.scope == scope))
    j = es.left_join(aliases, [es.material == aliases.a_material, es.stage == aliases.a_stage])
    return j.select(
        material=j.a_target.coalesce(j.material),
        published=j.material,
        name=j.material_name,
        stage=j.stage,
        country=j.country,
        share=j.share,
        bound=j.share_text.startswith("<"),
        source=j.source,
    )


def _eu_shares(
    rel: Relations, scope: str, members: Sequence[str], eu_year: int, al: ir.Table
) -> ir.Table:
    """The members' shares of one scope per stage (aliases `al` applied): material, stage,
    share (NULL where a member's share is unknown), name, bound, source."""
    keyed = eu_country_shares_expr(rel, scope, eu_year, al)
    keyed = keyed.filter(keyed.country.isin(list(members)))
    # members summed per published name; a stage published under several names counts once
    per_name = keyed.group_by("material", "stage", "published").agg(
        share=complete_sum(keyed.share),
        name=keyed.name.min(),
        bound=keyed.bound.any(),
        source=_sources(keyed.source),
    )
    first_name = ibis.row_number().over(
        group_by=["material", "stage"],
        order_by=[ibis.desc(per_name.share, nulls_first=False), per_name.published],
    )
    ranked = per_name.mutate(_first=first_name)
    return ranked.filter(ranked._first == 0).drop("_first", "published")


def eu_concentration_expr(rel: Relations, eu_year: int = EU_YEAR) -> ir.Table:
    """Per scope (``eu_sourcing``, ``global``), material and stage of the EU 2023 tables: the
    top country and its share, the number of countries listed, the HHI of the published shares
    (Herfindahl 1950: sum of squared shares; countries below the table's cut-off are not
    listed, so it is a lower bound) and ``covered``, the sum of the listed shares. A stage
    published under several names (:data:`STAGE_ALIASES`) takes the first name."""
    parts = [eu_country_shares_expr(rel, scope, eu_year) for scope in ("eu_sourcing", "global")]
    rows = (
        parts[0]
        .mutate(scope=ibis.literal("eu_sourcing"))
        .union(parts[1].mutate(scope=ibis.literal("global")))
    )
    rows = rows.filter(rows.share.notnull())
    rank = ibis.row_number().over(
        group_by=[rows.scope, rows.material, rows.stage, rows.published],
        order_by=[ibis.desc(rows.share), rows.country],
    )
    rows = rows.mutate(_rank=rank)
    per_name = rows.group_by("scope", "material", "stage", "published").agg(
        name=rows.name.min(),
        top_country=rows.country.min(where=rows._rank == 0),
        top_share=rows.share.max(),
        n_countries=rows.country.nunique(),
        hhi=(rows.share * rows.share).sum(),
        covered=rows.share.sum(),
        source=_sources(rows.source),
    )
    first = ibis.row_number().over(
        group_by=[per_name.scope, per_name.material, per_name.stage],
        order_by=[per_name.published],
    )
    ranked = per_name.mutate(_first=first)
    return ranked.filter(ranked._first == 0).drop("_first")


def _production_shares(rel: Relations, members: Sequence[str], year: int | None) -> ir.Table:
    """The members' share of world production per material and stage (E/P), in the latest
    year with production data (up to `year`): material, stage, p_share, p_year, p_source."""
    from verdikart.indicators.production import production_rows

    rows = production_rows(rel.production)
    rows = rows.filter(rows.stage.isin(["extraction", "processing"]))
    if year is not None:
        rows = rows.filter(rows.year <= year)
    latest = rows.year.max().over(group_by=["material", "stage"])
    rows = rows.mutate(_latest=latest)
    rows = rows.filter(rows.year == rows._latest)
    world = rows.q.sum().over(group_by=["material", "year", "stage"])
    rows = rows.mutate(_share=ibis.cases((world > 0, rows.q / world), else_=ibis.null("float64")))
    own = rows.filter(rows.country.isin(list(members)) & (rows.q > 0) & rows._share.notnull())
    return own.group_by(
        material=own.material,
        stage=ibis.cases((own.stage == "extraction", "E"), else_="P"),
    ).agg(
        p_share=own._share.sum(),
        p_year=own.year.max().cast("int32"),
        p_source=_sources(own.source),
    )


def export_shares_expr(
    rel: Relations,
    members: Sequence[str],
    trade_year: int | None,
    codes: ir.Table | None = None,
) -> ir.Table:
    """Per material and stage with HS codes of its own: the members' share of world exports
    in `trade_year`, NULL unless the trade data hold every code (t_note says what is missing).

    `codes` (c_material, c_stage, c_hs6): the code sets; default the materials reference's
    own HS92 codes per material and stage E/P (a value chain's stages pass theirs). Columns:
    t_material, t_stage, x_share, x_source, t_note."""
    from verdikart.indicators.eu_method import material_hs6_expr

    if codes is None:
        codes = material_hs6_expr().select(c_material="material", c_stage="stage", c_hs6="hs6")
    ta = rel.trade_analysis
    if trade_year is None:
        ta = ta.filter(ibis.literal(False))
    else:
        ta = ta.filter(ta.year == trade_year)
    present = ta.select(p_hs6="hs6").distinct()
    cp = codes.left_join(present, codes.c_hs6 == present.p_hs6)
    coverage = cp.group_by(t_material=cp.c_material, t_stage=cp.c_stage).agg(
        n_codes=cp.c_hs6.nunique(),
        n_present=cp.p_hs6.nunique(),
        missing=cp.c_hs6.collect(distinct=True, where=cp.p_hs6.isnull()).sort().join(", "),
    )
    flows = ta.join(codes, ta.hs6 == codes.c_hs6)
    exports = flows.group_by(x_material=flows.c_material, x_stage=flows.c_stage).agg(
        world_kusd=flows.value_kusd.sum(),
        own_kusd=flows.value_kusd.sum(where=flows.exporter.isin(list(members))),
        x_source=_sources(flows.source),
    )
    j = coverage.left_join(
        exports,
        [coverage.t_material == exports.x_material, coverage.t_stage == exports.x_stage],
    )
    complete = (j.n_present == j.n_codes) & (j.world_kusd > 0)
    year_text = "no year" if trade_year is None else str(trade_year)
    return j.select(
        t_material=j.t_material,
        t_stage=j.t_stage,
        x_share=ibis.cases(
            (complete, j.own_kusd.coalesce(0.0) / j.world_kusd), else_=ibis.null("float64")
        ),
        x_source=ibis.cases((complete, j.x_source), else_=ibis.null("string")),
        t_note=ibis.cases(
            (
                ~complete,
                "no export share: the trade data for "
                + year_text
                + " lack HS "
                + j.missing
                + " ("
                + (j.n_codes - j.n_present).cast("string")
                + " of the stage's "
                + j.n_codes.cast("string")
                + " codes; the code set is incomplete); fill with "
                + FILL_TRADE,
            ),
            else_=ibis.null("string"),
        ),
    )


def stage_position_expr(
    rel: Relations,
    members: Sequence[str],
    *,
    reporter: str,
    eu_year: int = EU_YEAR,
    trade_year: int | None = None,
    production_year: int | None = None,
) -> ir.Table:
    """One row per material and stage (E/P) where `members` (ISO3; one country, or a group's
    members summed) supply: see the module docstring. `trade_year` None = no trade data (every
    export share NULL with a note). Columns: :data:`COLUMNS`, ranked by importance."""
    from verdikart.reference.materials import materials_table

    aliases = _aliases()  # one in-memory table, read twice
    eu = _eu_shares(rel, "eu_sourcing", members, eu_year, aliases)
    gl = _eu_shares(rel, "global", members, eu_year, aliases)
    pr = _production_shares(rel, members, production_year)
    keys = (
        eu.select("material", "stage")
        .union(gl.select("material", "stage"))
        .union(pr.select("material", "stage"))
        .distinct()
    )
    e = eu.select(
        e_material="material",
        e_stage="stage",
        e_share="share",
        e_name="name",
        e_bound="bound",
        e_source="source",
    )
    g = gl.select(
        g_material="material",
        g_stage="stage",
        g_share="share",
        g_name="name",
        g_bound="bound",
        g_source="source",
    )
    p = pr.select(
        q_material="material",
        q_stage="stage",
        q_share="p_share",
        q_year="p_year",
        q_source="p_source",
    )
    x = export_shares_expr(rel, members, trade_year)
    names = ibis.memtable(materials_table().select(["material", "name_en"])).select(
        r_material="material", r_name="name_en"
    )
    j = keys.left_join(e, [keys.material == e.e_material, keys.stage == e.e_stage])
    j = j.left_join(g, [j.material == g.g_material, j.stage == g.g_stage])
    j = j.left_join(p, [j.material == p.q_material, j.stage == p.q_stage])
    j = j.left_join(x, [j.material == x.t_material, j.stage == x.t_stage])
    j = j.left_join(names, j.material == names.r_material)

    world = j.g_share.coalesce(j.q_share)
    importance = ibis.greatest(
        j.e_share.coalesce(0.0), world.coalesce(0.0), j.x_share.coalesce(0.0)
    )
    world_source = ibis.cases(
        (j.g_share.notnull(), "world production: global supply shares, " + j.g_source),
        (
            j.q_share.notnull(),
            "world production: " + j.q_source + ", " + j.q_year.cast("string"),
        ),
        else_=ibis.null("string"),
    )
    no_codes = ibis.cases(
        (
            j.t_material.isnull(),
            "no export share: the materials reference has no HS codes of its own for this "
            "material and stage",
        ),
        else_=ibis.null("string"),
    )
    bound = ibis.cases(
        (
            j.e_bound.coalesce(False) | j.g_bound.coalesce(False),
            "a share published as '<0.1%' is counted as its midpoint, 0.05 %",
        ),
        else_=ibis.null("string"),
    )
    rows = j.select(
        country=ibis.literal(reporter),
        material=j.material,
        material_name=j.e_name.coalesce(j.g_name, j.r_name, j.material),
        stage=j.stage,
        stage_name=ibis.cases((j.stage == "E", "extraction"), else_="processing"),
        share_of_eu_sourcing=j.e_share,
        share_of_world_production=world,
        share_of_world_exports=j.x_share,
        production_share=j.q_share,
        production_year=j.q_year,
        exports_year=ibis.cases(
            (j.x_share.notnull(), ibis.literal(trade_year, "int32")), else_=ibis.null("int32")
        ),
        importance=importance,
        note=ibis.literal("; ").join([j.t_note, no_codes, bound]).nullif(""),
        source=ibis.literal(" | ").join(
            [
                ibis.cases(
                    (j.e_source.notnull(), "EU sourcing: " + j.e_source),
                    else_=ibis.null("string"),
                ),
                world_source,
                ibis.cases(
                    (
                        j.x_source.notnull(),
                        "world exports: " + j.x_source + f", {trade_year}",
                    ),
                    else_=ibis.null("string"),
                ),
            ]
        ),
    )
    order = ibis.row_number().over(order_by=[ibis.desc(rows.importance), rows.material, rows.stage])
    ranked = rows.mutate(rank=(order + 1).cast("int32"))
    return ranked.select(*COLUMNS).order_by("rank")


def latest_trade_year(engine: Engine, relations: Relations | None = None) -> int | None:
    """The latest year of ``trade_analysis`` (None when the store holds no trade)."""
    rel = relations if relations is not None else engine.relations()
    rows = engine.rows(rel.analysis_years.year.max().name("year").as_table())
    value = rows[0]["year"] if rows else None
    return int(value) if value is not None else None


def stage_position(
    engine: Engine,
    country: str,
    *,
    year: int | None = None,
    eu_year: int = EU_YEAR,
    relations: Relations | None = None,
) -> pa.Table:
    """:func:`stage_position_expr` for a country or group given as any code or name
    (:func:`verdikart.reference.countries.resolve_country`; a group's current members).

    `year`: the trade year of the export shares and the last production year (None = the
    latest year with trade data; production per material and stage its latest year).
    UnknownCodeError for an unknown country or a year without trade data.
    """
    from verdikart.reference.countries import resolve_country

    ref = resolve_country(country)
    members = ref.members(None)
    if not members:
        raise UnknownCodeError(f"group {ref.id!r} has no current members")
    rel = relations if relations is not None else engine.relations()
    latest = latest_trade_year(engine, rel)
    if year is not None and latest is not None:
        ta = rel.trade_analysis
        years = engine.rows(ta.filter(ta.year == year).select("year").distinct())
        if not years:
            raise UnknownCodeError(
                f"no trade data for {year}; the latest year with trade data is {latest}"
            )
    trade_year = year if year is not None else latest
    return engine.to_arrow(
        stage_position_expr(
            rel,
            members,
            reporter=ref.id,
            eu_year=eu_year,
            trade_year=trade_year,
            production_year=year,
        )
    )
