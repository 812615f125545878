"""`chain show`: one value chain with the stage-wise exposure and position on each stage.

Owns the assembly of a chain (:mod:`verdikart.chains.model`) with these indicators per stage,
all computed by the existing Ibis expressions, one query each for every chain at once:

* ``production``: world production concentration, HHI and top producer of the stage's
  production series (:func:`verdikart.indicators.production.production_hhi_expr`, one source
  per material, stage and year), for the requested year or the latest year before it with
  data; where the store has no series for the stage (USGS not imported, or no series at all),
  the EU 2023 study's global supply shares of the stage's EU material and stage instead
  (:func:`verdikart.indicators.stage_position.eu_concentration_expr`; HHI of the published
  shares). ``basis`` and ``source`` say which;
* ``eu_sourcing``: per EU material and stage of the stage, the top supplier to the EU and its
  share of EU sourcing, and the selected country's share (European Commission, *Study on the
  critical raw materials for the EU 2023*: the same expressions as ``verdikart position``);
* ``imports`` and ``eu_imports``: the country's and the EU27's (extra-EU) imports by supplier
  for the stage's HS92 codes (:func:`verdikart.indicators.trade.supplier_shares_expr`):
  import value, suppliers, HHI of supplier shares (Herfindahl 1950; Hirschman 1945) and the
  top supplier with the 65 % flag (:data:`verdikart.relations.SINGLE_SUPPLIER_THRESHOLD`,
  CRMA Art. 5(1)(d)); the EU27 grouped by :mod:`verdikart.reference.countries`;
* ``position``: where the country is a supplier: its share of EU sourcing and of world
  production (:func:`verdikart.indicators.stage_position.stage_position_expr`, the rows of
  ``verdikart position``) and of world exports over the stage's own HS92 codes
  (:func:`verdikart.indicators.stage_position.export_shares_expr`), NULL with a note naming
  the missing codes where the store's trade lacks any of them.

A share computed on part of a stage's codes would look like a finding and is not one: imports
are computed only for stages whose every HS92 code has trade rows in the store for that year.
Other stages get ``imports = None`` and a note naming the missing codes and how to fill them
(`verdikart data import baci ...`). A stage whose codes also cover other products
(``shared``) is computed and says so.

The result is one JSON-ready dict (the stable interface of ``chain show --format json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.chains.model import Chain, ChainStage, find_stage, language_is_norwegian
from verdikart.engine import Engine
from verdikart.errors import UnknownCodeError
from verdikart.reference.countries import CountryRef, resolve_country
from verdikart.relations import ANALYSIS_REVISION, SINGLE_SUPPLIER_THRESHOLD

if TYPE_CHECKING:
    import ibis
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

TOP_SUPPLIERS = 5
EU_REPORTER = "EU27"
GLOBAL_PREFIX = "global supply shares, "  # `source` of world production from the EU study
FILL_TRADE = (
    "import the trade data with `verdikart data import baci PATH` (a CEPII BACI HS92 release) "
    "or `verdikart data download baci --import`"
)


@dataclass(frozen=True)
class ChainIndicators:
    """The store's indicators for every chain's stages for one country and year: computed once
    (three queries) and shared by every `chain show` of that country and year."""

    country: str
    trade_year: int | None
    report_year: int | None
    production: Mapping[tuple[str, str], Mapping[str, Any]]
    imports: Mapping[str, Mapping[str, Any]]  # "chain/stage" -> imports by supplier
    present: frozenset[str]  # HS92 codes with trade rows in the year
    notes: tuple[str, ...] = ()
    eu_imports: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # the EU27's
    # (scope, material, stage) -> top country, share, HHI of the EU 2023 published shares
    eu_shares: Mapping[tuple[str, str, str], Mapping[str, Any]] = field(default_factory=dict)
    # (material, E/P) -> the country's row of `verdikart position`
    position: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    # "chain/stage" -> the country's share of world exports of the stage's codes (or a note)
    exports: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def chain_indicators(engine: Engine, country: CountryRef, year: int | None) -> ChainIndicators:
    """The indicators of the module docstring for the stages of every chain (the year checked
    against the trade data; default the latest): one query each."""
    notes: list[str] = []
    trade_year = _trade_year(engine, year, notes)
    report_year = trade_year if trade_year is not None else year
    members = country.members(None)
    if not members:
        raise UnknownCodeError(f"group {country.id!r} has no current members")
    production = _production(engine, report_year)
    imports: dict[str, dict[str, dict[str, Any]]] = {}
    present: set[str] = set()
    if trade_year is not None:
        imports, present = _imports(engine, country, trade_year)
    exports = _exports(engine, members, trade_year)
    return ChainIndicators(
        country=country.id,
        trade_year=trade_year,
        report_year=report_year,
        production=production,
        imports=imports.get(country.id, {}),
        present=frozenset(present),
        notes=tuple(notes),
        eu_imports=imports.get(EU_REPORTER, {}),
        eu_shares=_eu_shares(engine),
        position=_position(engine, country, members, report_year),
        exports=exports,
    )


def chain_view(
    engine: Engine,
    chain: Chain,
    *,
    material: str | None,
    country: CountryRef,
    year: int | None,
    stage: str | None = None,
    language: str = "en",
    indicators: ChainIndicators | None = None,
) -> dict[str, Any]:
    """The chain as one object: stages (HS codes, EU stage, sectors, concentration), links and
    the Norwegian plants. `stage` (id or name) keeps that stage, its neighbours' links and the
    plants that touch it. `indicators`: those of :func:`chain_indicators` for this country
    and year, when the caller already has them."""
    stages = list(chain.stages)
    if stage is not None:
        keep = find_stage(chain, stage).id
        stages = [s for s in stages if s.id == keep]
    ind = indicators if indicators is not None else chain_indicators(engine, country, year)
    notes = list(ind.notes)
    trade_year, report_year = ind.trade_year, ind.report_year
    production = ind.production
    present = set(ind.present)
    imports = _of_chain(ind.imports, chain.id)
    eu_imports = _of_chain(ind.eu_imports, chain.id)
    exports = _of_chain(ind.exports, chain.id)
    eu_ref = resolve_country(EU_REPORTER)
    columns = chain.columns()
    ids = {s.id for s in stages}
    norwegian = language_is_norwegian(language)
    out_stages = []
    for s in stages:
        stage_notes: list[str] = []
        if s.note:
            stage_notes.append(s.note)
        prod = _production_entry(s, production, report_year, stage_notes, ind.eu_shares)
        imp = _imports_entry(s, imports, present, country, trade_year, stage_notes)
        # the same codes: a missing-trade note is already there for the country's imports
        eu_imp = (
            imp
            if country.id == EU_REPORTER
            else _imports_entry(s, eu_imports, present, eu_ref, trade_year, [])
        )
        eu_sourcing = _eu_sourcing_entries(s, ind, country.id, stage_notes)
        position = _position_entry(s, ind, country.id, eu_sourcing, prod, exports.get(s.id))
        out_stages.append(
            {
                "stage": s.id,
                "name": s.name_no if norwegian else s.name_en,
                "name_en": s.name_en,
                "name_no": s.name_no,
                "material": s.material,
                "kind": s.kind,
                "column": columns[s.id],
                "hs_codes": {rev: list(codes) for rev, codes in s.hs.items()},
                "hs_shared": s.shared,
                "eu": [{"material": e.material, "stage": e.stage} for e in s.eu],
                "sectors": [u.sector for u in s.sectors],
                "sector_sources": [
                    {"sector": u.sector, "source": chain.citation(u.source)} for u in s.sectors
                ],
                "inputs": [ln.source_stage for ln in chain.links if ln.target_stage == s.id],
                "outputs": [ln.target_stage for ln in chain.links if ln.source_stage == s.id],
                "production_series": None
                if s.production is None
                else {
                    "material": s.production.material,
                    "stage": s.production.stage,
                    "wmd": s.production.wmd,
                    "usgs": s.production.usgs,
                },
                "production": prod,
                "eu_sourcing": eu_sourcing,
                "imports": imp,
                "eu_imports": eu_imp,
                "position": position,
                "notes": stage_notes,
                "source": chain.citation(s.source),
            }
        )
    plants = []
    if country.id == "NOR":
        for p in chain.plants:
            if stage is not None and not ids & (set(p.stages_in) | set(p.stages_out)):
                continue
            plants.append(
                {
                    "id": p.id,
                    "company": p.company,
                    "plant": p.plant,
                    "municipality": p.municipality,
                    "lat": p.lat,
                    "lon": p.lon,
                    "eu_ets_id": p.eu_ets_id,
                    "stages_in": list(p.stages_in),
                    "stages_out": list(p.stages_out),
                    "status": p.status,
                    "capacity": [
                        {
                            "stage": c.stage,
                            "t_per_year": c.t_per_year,
                            "basis": c.basis,
                            "year": c.year,
                            "note": c.note,
                            "source": chain.citation(c.source),
                        }
                        for c in p.capacity
                    ],
                    "note": p.note,
                    "public_facts": chain.citation(p.public_facts),
                }
            )
    else:
        notes.append(f"plants are recorded for Norway only; none shown for {country.id}")
    links = [
        {"from": ln.source_stage, "to": ln.target_stage, "source": chain.citation(ln.source)}
        for ln in chain.links
        if stage is None or ids & {ln.source_stage, ln.target_stage}
    ]
    used = {u.source for s in chain.stages for u in s.sectors} | {s.source for s in chain.stages}
    used |= {ln.source for ln in chain.links} | {p.public_facts for p in chain.plants}
    used |= {c.source for p in chain.plants for c in p.capacity} | {chain.source}
    used |= {s.hs_source for s in chain.stages} | {e.source for s in chain.stages for e in s.eu}
    return {
        "material": material or chain.materials[0],
        "chain": chain.id,
        "name": chain.name_no if norwegian else chain.name_en,
        "name_en": chain.name_en,
        "name_no": chain.name_no,
        "materials": list(chain.materials),
        "country": country.id,
        "year": report_year,
        "eu_reporter": EU_REPORTER,
        "threshold": SINGLE_SUPPLIER_THRESHOLD,
        "stages": out_stages,
        "links": links,
        "plants": plants,
        "notes": notes,
        "sources": {k: chain.citation(k) for k in sorted(used)},
        "file": chain.path.rsplit("/", 1)[-1],
    }


# -- years -----------------------------------------------------------------------------------
def _trade_year(engine: Engine, year: int | None, notes: list[str]) -> int | None:
    """The requested year (checked against the trade data), or the latest trade year; None
    with a note when the store holds no trade at all."""
    from verdikart.chains.mapping import check_year

    try:
        return check_year(engine, year)
    except UnknownCodeError as exc:
        if "holds no trade data" in str(exc):
            notes.append(f"the store holds no trade data: {FILL_TRADE}")
            return year
        raise


# -- production concentration ---------------------------------------------------------------
def _all_stages() -> list[tuple[str, ChainStage]]:
    """(chain id, stage) of every chain file: the queries below cover all chains at once, so
    their expressions, and so their compiled SQL (:mod:`verdikart.sql_cache`), are the same
    for every `chain show` of a country and year."""
    from verdikart.chains.model import load_chains

    return [(c.id, s) for c in load_chains().values() for s in c.stages]


def _production(engine: Engine, year: int | None) -> dict[tuple[str, str], dict[str, Any]]:
    """HHI and top producer of each production series of the chains, latest year <= `year`
    (one query)."""
    from verdikart.indicators.production import production_hhi_expr

    stages = [s for _, s in _all_stages()]
    pairs = {(s.production.material, s.production.stage) for s in stages if s.production}
    if not pairs:
        return {}
    h = production_hhi_expr(engine.relations(), sorted({m for m, _ in pairs}), None)
    if year is not None:
        h = h.filter(h.year <= int(year))
    # the window as a column first: a window inside a filter does not compile for Spark
    h = h.mutate(_latest=h.year.max().over(ibis.window(group_by=[h.material, h.stage])))
    h = h.filter(h.year == h._latest)
    rows = engine.rows(
        h.select(
            "material",
            "stage",
            "year",
            "n_producers",
            "hhi",
            "hhi_points",
            "top_country",
            "top_share",
            "world_quantity",
            "unit",
            "source",
            "note",
        )
    )
    return {(r["material"], r["stage"]): r for r in rows if (r["material"], r["stage"]) in pairs}


def _production_entry(
    s: ChainStage,
    production: Mapping[tuple[str, str], Mapping[str, Any]],
    year: int | None,
    notes: list[str],
    eu_shares: Mapping[tuple[str, str, str], Mapping[str, Any]],
) -> dict[str, Any] | None:
    """The stage's world production concentration: its production series in the store, else
    the EU 2023 global supply shares of its EU stage (None when neither exists)."""
    series = s.production
    row = None if series is None else production.get((series.material, series.stage))
    if row is None:
        fallback = _global_entry(s, eu_shares)
        if series is not None:
            names = " / ".join(n for n in (series.wmd, series.usgs) if n)
            missing = (
                f"no production data in the store for {series.material} ({series.stage}; "
                f"{names}): import USGS MCS with `verdikart data import usgs PATH`"
            )
            if fallback is not None:
                missing += "; the EU 2023 global supply shares are shown instead"
            notes.append(missing)
        return fallback
    assert series is not None
    if year is not None and int(row["year"]) != int(year):
        notes.append(f"world production of {row['year']}, the latest year before {year}")
    return {
        "basis": "production",
        "material": series.material,
        "stage": series.stage,
        "year": int(row["year"]),
        "n_producers": row["n_producers"],
        "hhi": row["hhi"],
        "hhi_points": row["hhi_points"],
        "top_country": row["top_country"],
        "top_share": row["top_share"],
        "world_quantity": row["world_quantity"],
        "unit": row["unit"],
        "source": row["source"],
        "note": row["note"],
    }


# -- imports by supplier ---------------------------------------------------------------------
def _imports(
    engine: Engine, country: CountryRef, year: int
) -> tuple[dict[str, dict[str, dict[str, Any]]], set[str]]:
    """Per reporter (the country and the EU27) and stage of every chain ("chain/stage") with
    every HS92 code in the store's trade of `year`: imports by supplier (one presence query,
    one supplier-share query for both reporters). Also the codes present."""
    from verdikart.chains.mapping import reporter_table
    from verdikart.indicators.trade import supplier_shares_expr

    rel = engine.relations()
    every = _all_stages()
    codes = sorted({c for _, s in every for c in s.hs[ANALYSIS_REVISION]})
    t = rel.trade_analysis
    found = t.filter(t.year == int(year), t.hs6.isin(codes)).select("hs6").distinct()
    present = {r["hs6"] for r in engine.rows(found)}
    complete = [(f"{cid}/{s.id}", s) for cid, s in every if set(s.hs[ANALYSIS_REVISION]) <= present]
    if not complete:
        return {}, present
    products = pa.table(
        {
            "product": [key for key, s in complete for _ in s.hs[ANALYSIS_REVISION]],
            "hs6": [c for _, s in complete for c in s.hs[ANALYSIS_REVISION]],
        }
    )
    ids = list(dict.fromkeys([country.id, EU_REPORTER]))
    reporters = pa.concat_tables(
        [reporter_table(resolve_country(r) if r != country.id else country)[0] for r in ids],
        promote_options="default",
    )
    sh = supplier_shares_expr(rel, reporters, products, [int(year)])
    w = ibis.window(group_by=[sh.reporter, sh.product])
    ranked = sh.mutate(
        total_kusd=sh.value_kusd.sum().over(w),
        n_suppliers=sh.supplier.count().over(w),
        hhi=(sh.share * sh.share).sum().over(w),
    )
    top = ranked.filter(ranked.supplier_rank <= TOP_SUPPLIERS)
    out: dict[str, dict[str, dict[str, Any]]] = {
        r: {
            key: {
                "suppliers": [],
                "total_kusd": 0.0,
                "n_suppliers": 0,
                "hhi": None,
                "source": None,
            }
            for key, _ in complete
        }
        for r in ids
    }
    for r in engine.rows(
        top.select(
            "reporter",
            "product",
            "supplier",
            "value_kusd",
            "share",
            "supplier_rank",
            "total_kusd",
            "n_suppliers",
            "hhi",
            "source",
        ).order_by("reporter", "product", "supplier_rank")
    ):
        entry = out[r["reporter"]][r["product"]]
        entry.update(
            total_kusd=r["total_kusd"],
            n_suppliers=int(r["n_suppliers"]),
            hhi=r["hhi"],
            source=r["source"],
        )
        entry["suppliers"].append(
            {"supplier": r["supplier"], "share": r["share"], "value_kusd": r["value_kusd"]}
        )
    return out, present


def _imports_entry(
    s: ChainStage,
    imports: Mapping[str, Mapping[str, Any]],
    present: set[str],
    country: CountryRef,
    year: int | None,
    notes: list[str],
) -> dict[str, Any] | None:
    codes = s.hs[ANALYSIS_REVISION]
    if year is None:
        return None
    missing = [c for c in codes if c not in present]
    if missing:
        notes.append(
            f"the store has no {year} trade data for HS92 {', '.join(missing)} "
            f"({len(missing)} of {len(codes)} codes of this stage), so no import shares are "
            f"shown: {FILL_TRADE}"
        )
        return None
    entry = imports.get(s.id)
    if s.shared:
        notes.append(
            "the HS codes of this stage also cover other products: import shares describe the "
            "whole code, not this stage alone"
        )
    if entry is None or not entry["suppliers"]:
        return {
            "reporter": country.id,
            "year": year,
            "hs92": list(codes),
            "import_value_kusd": 0.0,
            "n_suppliers": 0,
            "hhi": None,
            "top_supplier": None,
            "top_supplier_share": None,
            "concentration_flag": None,
            "suppliers": [],
            "source": None,
        }
    top = entry["suppliers"][0]
    share = top["share"]
    return {
        "reporter": country.id,
        "year": year,
        "hs92": list(codes),
        "import_value_kusd": entry["total_kusd"],
        "n_suppliers": entry["n_suppliers"],
        "hhi": entry["hhi"],
        "top_supplier": top["supplier"],
        "top_supplier_share": share,
        "concentration_flag": None if share is None else bool(share > SINGLE_SUPPLIER_THRESHOLD),
        "suppliers": entry["suppliers"],
        "source": entry["source"],
    }


# -- EU sourcing, global supply shares, where the country supplies ---------------------------
def _of_chain(values: Mapping[str, Mapping[str, Any]], chain_id: str) -> dict[str, Any]:
    """The entries of one chain of a "chain/stage"-keyed mapping, by stage id."""
    prefix = chain_id + "/"
    return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}


def eu_key(material_name: str, stage: str) -> tuple[str, str]:
    """(material id, E/P) of a chain stage's EU 2023 material and stage in the EU tables
    (published name -> id; :data:`~verdikart.indicators.stage_position.STAGE_ALIASES`)."""
    from verdikart.indicators.stage_position import STAGE_ALIASES
    from verdikart.sources.eu_crm import material_slug

    slug = material_slug(material_name)
    for published, eu_stage, target in STAGE_ALIASES:
        if (published, eu_stage) == (slug, stage):
            return target, stage
    return slug, stage


def _eu_shares(engine: Engine) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(scope, material, stage) -> top country, share, countries, HHI of the EU 2023 tables
    (one query)."""
    from verdikart.indicators.stage_position import eu_concentration_expr

    rows = engine.rows(eu_concentration_expr(engine.relations()))
    return {(r["scope"], r["material"], r["stage"]): r for r in rows}


def _position(
    engine: Engine, country: CountryRef, members: list[str], year: int | None
) -> dict[tuple[str, str], dict[str, Any]]:
    """(material, E/P) -> the country's row of `verdikart position` (its shares of EU
    sourcing and world production; one query; export shares come from :func:`_exports`)."""
    from verdikart.indicators.stage_position import stage_position_expr

    expr = stage_position_expr(
        engine.relations(), members, reporter=country.id, trade_year=None, production_year=year
    )
    rows = engine.rows(
        expr.select(
            "material",
            "stage",
            "share_of_eu_sourcing",
            "share_of_world_production",
            "production_share",
            "production_year",
            "source",
        )
    )
    return {(r["material"], r["stage"]): r for r in rows}


def _exports(engine: Engine, members: list[str], year: int | None) -> dict[str, dict[str, Any]]:
    """ "chain/stage" -> the members' share of world exports of the stage's own HS92 codes,
    NULL with a note naming the missing codes where the store's trade lacks any (one query)."""
    from verdikart.indicators.stage_position import export_shares_expr

    every = _all_stages()
    codes = ibis.memtable(
        pa.table(
            {
                "c_material": [
                    f"{cid}/{s.id}" for cid, s in every for _ in s.hs[ANALYSIS_REVISION]
                ],
                "c_stage": ["" for _, s in every for _ in s.hs[ANALYSIS_REVISION]],
                "c_hs6": [c for _, s in every for c in s.hs[ANALYSIS_REVISION]],
            }
        )
    )
    expr = export_shares_expr(engine.relations(), members, year, codes)
    return {r["t_material"]: r for r in engine.rows(expr)}


def _global_entry(
    s: ChainStage, eu_shares: Mapping[tuple[str, str, str], Mapping[str, Any]]
) -> dict[str, Any] | None:
    """World production concentration from the EU 2023 global supply shares of the stage's
    (first published) EU material and stage; None when it has none."""
    from verdikart.indicators.stage_position import EU_YEAR

    for e in s.eu:
        material, stage = eu_key(e.material, e.stage)
        row = eu_shares.get(("global", material, stage))
        if row is None:
            continue
        return {
            "basis": "eu_global_supply_shares",
            "material": material,
            "stage": "extraction" if stage == "E" else "processing",
            "year": EU_YEAR,
            "n_producers": row["n_countries"],
            "hhi": row["hhi"],
            "hhi_points": None if row["hhi"] is None else row["hhi"] * 10_000,
            "top_country": row["top_country"],
            "top_share": row["top_share"],
            "world_quantity": None,
            "unit": None,
            "source": GLOBAL_PREFIX + str(row["source"]),
            "note": (
                f"HHI of the {row['n_countries']} published country shares (they add up to "
                f"{row['covered'] * 100:.0f} %)"
            ),
        }
    return None


def _eu_sourcing_entries(
    s: ChainStage, ind: ChainIndicators, country: str, notes: list[str]
) -> list[dict[str, Any]]:
    """Per EU material and stage of the stage: the top supplier to the EU, its share, and the
    country's share of EU sourcing (None when the study does not list the country)."""
    from verdikart.indicators.stage_position import EU_YEAR

    out = []
    for e in s.eu:
        material, stage = eu_key(e.material, e.stage)
        row = ind.eu_shares.get(("eu_sourcing", material, stage))
        pos = ind.position.get((material, stage))
        if row is None:
            notes.append(f"the EU 2023 study publishes no EU sourcing for {e.material} ({stage})")
        out.append(
            {
                "material": material,
                "name": e.material if row is None else row["name"],
                "stage": stage,
                "year": EU_YEAR,
                "top_supplier": None if row is None else row["top_country"],
                "top_supplier_share": None if row is None else row["top_share"],
                "n_suppliers": None if row is None else row["n_countries"],
                "hhi": None if row is None else row["hhi"],
                "country": country,
                "country_share": None if pos is None else pos["share_of_eu_sourcing"],
                "source": None if row is None else row["source"],
            }
        )
    return out


def _position_entry(
    s: ChainStage,
    ind: ChainIndicators,
    country: str,
    eu_sourcing: list[dict[str, Any]],
    production: Mapping[str, Any] | None,
    export: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Where the country supplies on this stage: share of EU sourcing and of world production
    (the EU stage's row of `verdikart position`, the largest share where a stage has several
    EU stages; else the production table's share of the stage's series) and of world exports
    of the stage's own codes (NULL with a note on an incomplete code set)."""
    eu_share = world = None
    eu_material = eu_stage = None
    parts: list[str] = []
    best = max(
        eu_sourcing,
        key=lambda e: -1.0 if e["country_share"] is None else e["country_share"],
        default=None,
    )
    if best is not None:
        eu_material, eu_stage = best["material"], best["stage"]
        row = ind.position.get((best["material"], best["stage"]))
        if row is not None:
            eu_share, world = row["share_of_eu_sourcing"], row["share_of_world_production"]
            if row["source"]:
                parts.append(str(row["source"]))
    elif s.production is not None:
        key = (s.production.material, "E" if s.production.stage == "extraction" else "P")
        row = ind.position.get(key)
        if row is not None and row["production_share"] is not None:
            world = row["production_share"]
            where = production["source"] if production else s.production.source
            parts.append(f"world production: {where}, {row['production_year']}")
    x_share = None if export is None else export["x_share"]
    if x_share is not None and export is not None:
        parts.append(f"world exports: {export['x_source']}, {ind.trade_year}")
    notes = [] if export is None or export["t_note"] is None else [str(export["t_note"])]
    if s.shared and x_share is not None:
        notes.append("the stage's HS codes also cover other products")
    return {
        "country": country,
        "eu_material": eu_material,
        "eu_stage": eu_stage,
        "share_of_eu_sourcing": eu_share,
        "share_of_world_production": world,
        "share_of_world_exports": x_share,
        "exports_year": ind.trade_year if x_share is not None else None,
        "source": " | ".join(parts) or None,
        "note": "; ".join(notes) or None,
    }
