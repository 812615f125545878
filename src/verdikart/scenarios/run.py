"""Running a scenario: resolve year and importers, run the expressions, assemble the result.

Owns :func:`run_scenario` (what :meth:`verdikart.app.Verdikart.scenario` calls): the scenario's
year (default: the latest trade year) and importers (countries or groups; ``None`` = every
country importing in that year), the input tables of
:func:`verdikart.indicators.scenario.scenario`, notes on HS codes absent from the trade data
(with how to add them), the largest other suppliers per row, and the knock-on effects
(:mod:`verdikart.scenarios.knockon`). The store is only read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.scenarios.spec import (
    Scenario,
    excluded_table,
    params_table,
    products_table,
    resourcing_for,
    shock_table,
)

if TYPE_CHECKING:
    from verdikart.engine import Engine
    from verdikart.relations import Relations

Progress = Callable[[str], None]
FILL_TRADE = (
    "import the CEPII BACI HS92 file of that year with `verdikart data import baci FILE` "
    "(BACI: cepii.fr)"
)
ROW_FIELDS = (
    "importer",
    "importer_name",
    "material",
    "product",
    "year",
    "basis",
    "hs6_codes",
    "shocks",
    "import_value_kusd",
    "import_quantity_t",
    "lost_value_kusd",
    "lost_quantity_t",
    "lost_share",
    "resourced_share",
    "residual_gap_share",
    "years_to_close_gap",
    "lost_share_of_consumption",
    "resourced",
    "residual_gap",
    "alternative_suppliers",
    "n_alternatives",
    "alternatives_third",
    "top_supplier_before",
    "top_supplier_share_before",
    "top_supplier_after",
    "top_supplier_share_after",
    "hhi_points_before",
    "hhi_points_after",
    "apparent_consumption_t",
    "divert_share",
    "growth_per_year",
    "new_source_years",
    "knock_on_stages",
    "knock_on_plants",
    "notes",
    "source",
)


@dataclass
class ScenarioResult:
    """A scenario's rows (one per importer and product), the other suppliers that can stand
    in, the knock-on effects, and notes on the whole run."""

    scenario: Scenario
    year: int
    basis: str
    rows: list[dict[str, Any]]
    alternatives: list[dict[str, Any]]
    knock_on: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)


def _nb(language: str) -> bool:
    from verdikart.chains.model import language_is_norwegian

    return language_is_norwegian(language)


def _reporters(
    engine: Engine, importers: Sequence[str] | None, year: int, rel: Relations
) -> tuple[pa.Table, dict[str, list[str]], dict[str, str]]:
    """(reporters relation, reporter -> members, reporter -> English name)."""
    from verdikart.chains.mapping import reporter_table
    from verdikart.indicators import trade as tr
    from verdikart.reference.countries import find_country, group_members, resolve_country

    if importers is None:
        t = rel.trade_analysis
        t = t.filter(t.year == int(year)).select("importer").distinct().order_by("importer")
        codes = [str(r["importer"]) for r in engine.rows(t)]
        names = {}
        for c in codes:
            ref = find_country(c)
            names[c] = ref.name_en if ref is not None else c
        return tr.country_reporters(codes), {c: [c] for c in codes}, names
    tables = []
    members: dict[str, list[str]] = {}
    names = {}
    base = pa.schema(
        [
            ("reporter", pa.string()),
            ("iso3", pa.string()),
            ("year_from", pa.int32()),
            ("year_to", pa.int32()),
        ]
    )
    for text in importers:
        ref = resolve_country(text)
        table, rid, name = reporter_table(ref)
        tables.append(table.select(base.names).cast(base))
        members[rid] = group_members(rid, year) if ref.kind == "group" else [rid]
        names[rid] = name
    return pa.concat_tables(tables), members, names


def _check_year(engine: Engine, rel: Relations, year: int | None) -> int:
    """The year, or the latest with trade data; UnknownCodeError for a year without any."""
    from verdikart.errors import UnknownCodeError
    from verdikart.reference.inputs import span_text

    known = [int(r["year"]) for r in engine.rows(rel.analysis_years)]
    if not known:
        raise UnknownCodeError("the store holds no trade data")
    if year is None:
        return max(known)
    if int(year) not in known:
        raise UnknownCodeError(
            f"no trade data for year {year}; years with trade data: {span_text(known)}"
        )
    return int(year)


def _present_codes(engine: Engine, rel: Relations, codes: Sequence[str], year: int) -> set[str]:
    t = rel.trade_analysis
    t = t.filter(t.year == int(year), t.hs6.isin(sorted(set(codes)))).select("hs6").distinct()
    return {str(r["hs6"]) for r in engine.rows(t)}


def run_scenario(
    engine: Engine,
    scenario: Scenario,
    *,
    year: int | None = None,
    importers: Sequence[str] | None = ("NOR",),
    basis: str | None = None,
    language: str = "en",
    progress: Progress | None = None,
    relations: Relations | None = None,
    alternatives: int = 5,
) -> ScenarioResult:
    """Run `scenario` (year, importers and basis: the arguments, else the scenario's, else the
    latest trade year, Norway, value). Only reads the store."""
    from verdikart.indicators.scenario import scenario as run
    from verdikart.scenarios.knockon import knock_on

    say = progress or (lambda _m: None)
    nb = _nb(language)
    rel = relations if relations is not None else engine.relations()
    year = _check_year(engine, rel, year if year is not None else scenario.year)
    basis = basis or scenario.basis
    say(f"year {year}, basis {basis}" if not nb else f"år {year}, grunnlag {basis}")
    reporters, members, names = _reporters(engine, importers, year, rel)
    products = products_table(scenario)
    codes = sorted(set(products.column("hs6").to_pylist()))
    present = _present_codes(engine, rel, codes, year)
    say(
        f"{len(members)} importer(s), {len(scenario.products())} product(s): running the "
        "indicators before and after the shock"
        if not nb
        else f"{len(members)} importør(er), {len(scenario.products())} produkt(er): beregner "
        "indikatorene før og etter sjokket"
    )
    rows_t, alt_t = run(
        engine,
        reporters,
        products,
        year,
        shock_table(scenario, year),
        excluded_table(scenario, members, year),
        params_table(scenario),
        basis=basis,  # type: ignore[arg-type]
        relations=relations,
        alternatives=alternatives,
    )
    say("assembling the result" if not nb else "setter sammen resultatet")
    targets = {t.product: t.hs6 for t in scenario.products()}
    cuts: dict[str, float] = {}
    shocks_of: dict[str, list[str]] = {}
    for shock in scenario.shocks:
        for t in shock.targets:
            cuts[t.product] = max(cuts.get(t.product, 0.0), shock.cut)
            shocks_of.setdefault(t.product, []).append(shock.describe())
    alts: dict[tuple[str, str], list[str]] = {}
    alt_rows = alt_t.to_pylist()
    for a in alt_rows:
        share = a["capacity_share"]
        text = a["supplier"] if share is None else f"{a['supplier']} ({share * 100:.0f} %)"
        alts.setdefault((a["reporter"], a["product"]), []).append(text)
    rows = rows_t.to_pylist()
    knock = knock_on(rows, targets, cuts, language)
    stages_of: dict[tuple[str, str], list[str]] = {}
    plants_of: dict[tuple[str, str], list[str]] = {}
    for k in knock:
        key = (k["importer"], k["product"])
        if k["kind"] == "stage" and k["relation"] != "hit":
            stages_of.setdefault(key, []).append(k["stage"])
        elif k["kind"] == "plant":
            at_risk = k["output_at_risk_t"]
            label = k["name"]
            if k["output_stage"]:
                amount = (
                    f"{at_risk:,.0f} t"
                    if at_risk is not None
                    else f"≤ {k['output_at_risk_max_t']:,.0f} t"
                )
                label = f"{k['name']}: {k['output_stage']} {amount}"
            plants_of.setdefault(key, []).append(label)
    out = []
    for r in rows:
        key = (r["importer"], r["product"])
        missing = [c for c in targets[r["product"]] if c not in present]
        notes = []
        if missing:
            notes.append(
                (
                    f"HS {', '.join(missing)} not in the trade data of {year}: shares cover "
                    f"the codes present only; {FILL_TRADE}"
                )
                if not nb
                else (
                    f"HS {', '.join(missing)} finnes ikke i handelsdataene for {year}: andelene "
                    f"dekker bare kodene som finnes; importer CEPII BACI HS92 for året med "
                    "`verdikart data import baci FIL`"
                )
            )
        if len(missing) == len(targets[r["product"]]):
            pass  # no code in the data: the note above says so
        elif r["import_value_kusd"] is None or not r["import_value_kusd"]:
            notes.append(f"no imports in {year}" if not nb else f"ingen import i {year}")
        elif r["lost_share"] is None:
            notes.append(
                f"shares unknown on {basis} basis (a trade row lacks a quantity)"
                if not nb
                else f"andeler ukjent på grunnlag {basis} (en handelsrad mangler mengde)"
            )
        elif r["residual_gap_share"] is not None and r["residual_gap_share"] > 1e-9:
            if not r["n_alternatives"]:
                notes.append(
                    "no other supplier exports it: a new source is needed"
                    if not nb
                    else "ingen annen leverandør eksporterer dette: en ny kilde trengs"
                )
        out.append(
            {
                **r,
                "importer_name": names.get(r["importer"], r["importer"]),
                "shocks": shocks_of.get(r["product"], []),
                "alternative_suppliers": alts.get(key, []),
                "knock_on_stages": stages_of.get(key, []),
                "knock_on_plants": plants_of.get(key, []),
                "notes": "; ".join(notes) or None,
            }
        )
    assumptions = {
        t.material: {
            "divert_share": res.divert_share,
            "growth_per_year": res.growth_per_year,
            "new_source_years": res.new_source_years,
            "sources": dict(res.sources),
        }
        for t in scenario.products()
        for res in [resourcing_for(scenario, t.material)]
    }
    run_notes = []
    absent = sorted(set(codes) - present)
    if absent and len(absent) == len(codes):
        run_notes.append(
            f"none of the scenario's HS codes ({', '.join(absent)}) is in the trade data of "
            f"{year}: {FILL_TRADE}"
            if not nb
            else f"ingen av scenarioets HS-koder ({', '.join(absent)}) finnes i handelsdataene "
            f"for {year}: importer CEPII BACI HS92 med `verdikart data import baci FIL`"
        )
    return ScenarioResult(
        scenario=scenario,
        year=year,
        basis=basis,
        rows=out,
        alternatives=alt_rows,
        knock_on=knock,
        notes=run_notes,
        assumptions=assumptions,
    )
