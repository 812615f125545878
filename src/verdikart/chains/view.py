"""`chain show`: one value chain with the store's supplier concentration on each stage.

Owns the assembly of a chain (:mod:`verdikart.chains.model`) with two indicators per stage,
both computed by the existing Ibis expressions, one query each for the whole chain:

* world production concentration: HHI and top producer of the stage's production series
  (:func:`verdikart.indicators.production.production_hhi_expr`, one source per material, stage
  and year), for the requested year or the latest year before it with data;
* the reporter's imports by supplier for the stage's HS92 codes
  (:func:`verdikart.indicators.trade.supplier_shares_expr`): import value, suppliers, HHI of
  supplier shares (Herfindahl 1950; Hirschman 1945) and the top supplier with the 65 % flag
  (:data:`verdikart.relations.SINGLE_SUPPLIER_THRESHOLD`, CRMA Art. 5(1)(d)).

A share computed on part of a stage's codes would look like a finding and is not one: imports
are computed only for stages whose every HS92 code has trade rows in the store for that year.
Other stages get ``imports = None`` and a note naming the missing codes and how to fill them
(`verdikart data import baci ...`). A stage whose codes also cover other products
(``shared``) is computed and says so.

The result is one JSON-ready dict (the stable interface of ``chain show --format json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from verdikart.chains.model import Chain, ChainStage, find_stage, language_is_norwegian
from verdikart.engine import Engine
from verdikart.errors import UnknownCodeError
from verdikart.reference.countries import CountryRef
from verdikart.relations import ANALYSIS_REVISION, SINGLE_SUPPLIER_THRESHOLD

TOP_SUPPLIERS = 5
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


def chain_indicators(engine: Engine, country: CountryRef, year: int | None) -> ChainIndicators:
    """World production concentration and the country's imports by supplier for the stages
    of every chain (the year checked against the trade data; default the latest)."""
    notes: list[str] = []
    trade_year = _trade_year(engine, year, notes)
    report_year = trade_year if trade_year is not None else year
    production = _production(engine, report_year)
    imports, present = (
        _imports(engine, country, trade_year) if trade_year is not None else ({}, set())
    )
    return ChainIndicators(
        country=country.id,
        trade_year=trade_year,
        report_year=report_year,
        production=production,
        imports=imports,
        present=frozenset(present),
        notes=tuple(notes),
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
    imports = {
        key.split("/", 1)[1]: value
        for key, value in ind.imports.items()
        if key.split("/", 1)[0] == chain.id
    }
    columns = chain.columns()
    ids = {s.id for s in stages}
    norwegian = language_is_norwegian(language)
    out_stages = []
    for s in stages:
        stage_notes: list[str] = []
        if s.note:
            stage_notes.append(s.note)
        prod = _production_entry(s, production, report_year, stage_notes)
        imp = _imports_entry(s, imports, present, country, trade_year, stage_notes)
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
                "imports": imp,
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
    latest = h.year.max().over(ibis.window(group_by=[h.material, h.stage]))
    h = h.filter(h.year == latest)
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
) -> dict[str, Any] | None:
    if s.production is None:
        return None
    series = s.production
    row = production.get((series.material, series.stage))
    if row is None:
        names = " / ".join(n for n in (series.wmd, series.usgs) if n)
        notes.append(
            f"no production data in the store for {series.material} ({series.stage}; {names}): "
            "import USGS MCS with `verdikart data import usgs PATH`"
        )
        return None
    if year is not None and int(row["year"]) != int(year):
        notes.append(f"world production of {row['year']}, the latest year before {year}")
    return {
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
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Per stage of every chain ("chain/stage") with every HS92 code in the store's trade of
    `year`: the reporter's imports by supplier (one presence query, one supplier-share
    query). Also the codes present."""
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
    reporters = reporter_table(country)[0]
    sh = supplier_shares_expr(rel, reporters, products, [int(year)])
    w = ibis.window(group_by=[sh.product])
    ranked = sh.mutate(
        total_kusd=sh.value_kusd.sum().over(w),
        n_suppliers=sh.supplier.count().over(w),
        hhi=(sh.share * sh.share).sum().over(w),
    )
    top = ranked.filter(ranked.supplier_rank <= TOP_SUPPLIERS)
    out: dict[str, dict[str, Any]] = {
        key: {"suppliers": [], "total_kusd": 0.0, "n_suppliers": 0, "hhi": None, "source": None}
        for key, _ in complete
    }
    for r in engine.rows(
        top.select(
            "product",
            "supplier",
            "value_kusd",
            "share",
            "supplier_rank",
            "total_kusd",
            "n_suppliers",
            "hhi",
            "source",
        ).order_by("product", "supplier_rank")
    ):
        entry = out[r["product"]]
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
