"""CLI commands: `verdikart scenario run|list|events` and `verdikart watch` (parsing, printing).

Calls :meth:`verdikart.app.Verdikart.scenario` and :meth:`verdikart.app.Verdikart.watch`;
JSON is the stable interface other tools read (one object per importer and material, one per
alert). Progress goes to standard error on a terminal.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from verdikart.cli.common import Context, emit, format_option, pass_context, split_values

SCENARIO_TABLE = (
    "importer",
    "product",
    "lost_share",
    "resourced_share",
    "residual_gap_share",
    "years_to_close_gap",
    "alternative_suppliers",
    "knock_on_stages",
    "notes",
)
KNOCK_ON_TABLE = (
    "importer",
    "product",
    "kind",
    "name",
    "relation",
    "output_stage",
    "capacity_t",
    "output_at_risk_t",
    "output_at_risk_max_t",
)
WATCH_TABLE = ("date", "rule", "country", "material", "partner", "evidence", "new")
WATCH_FIELDS = (
    "id",
    "rule",
    "country",
    "material",
    "partner",
    "year",
    "date",
    "value",
    "previous",
    "threshold",
    "event",
    "evidence",
    "sources",
    "first_seen",
    "new",
)


def _progress() -> Any:
    """Progress lines on standard error when it is a terminal (pipes and files stay clean)."""
    if not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"… {message}", err=True)


@click.group("scenario")
def scenario() -> None:
    """Disruption scenarios: what if a supplier stops or cuts its exports?

    Forstyrrelsesscenarier: hva om en leverandør stanser eller kutter eksporten?
    """


@scenario.command("run")
@click.argument("file", required=False)
@click.option(
    "--shock",
    "shocks",
    multiple=True,
    help="SUPPLIER:MATERIAL:CHANGE, e.g. CHN:graphite:-100% (a stop) or RUS:nickel:-40%. "
    "SUPPLIER: a country or group; MATERIAL: a material (any name), material/stage "
    "(nickel/intermediate), a value-chain stage (nickel-matte) or all; CHANGE: -100% to 0%. "
    "Repeatable.",
)
@click.option(
    "--year",
    "-y",
    type=int,
    default=None,
    help="Baseline year (default: the scenario file's, else the latest year with trade data).",
)
@click.option(
    "--importer",
    "importers",
    multiple=True,
    help="Importing country or group (NOR, EU27, Sverige); repeatable or comma-separated; "
    "'all' = every importing country. Default: the scenario file's, else NOR.",
)
@click.option(
    "--basis",
    type=click.Choice(["value", "quantity"]),
    default=None,
    help="Shares of imports by value (kUSD, default) or quantity (t).",
)
@format_option()
@pass_context
def scenario_run(
    ctx: Context,
    file: str | None,
    shocks: tuple[str, ...],
    year: int | None,
    importers: tuple[str, ...],
    basis: str | None,
    fmt: str,
) -> None:
    """Run a disruption scenario: a file (TOML or YAML, or a shipped scenario's id, see
    `scenario list`) and/or --shock options.

    Kjør et forstyrrelsesscenario: en fil og/eller --shock.

    Per importer and material: the share of imports lost before re-sourcing (lost_share), the
    share other suppliers can re-source from their exports to third countries
    (resourced_share), the residual gap (residual_gap_share) and the years to close it, with
    the knock-on effects down the value chain and on Norwegian plants. The indicators are the
    ordinary ones, run over the perturbed trade; the store is never changed.
    """
    from verdikart.cli.output import tr

    names = split_values(importers) if importers else []
    app = ctx.app()
    result = app.scenario(
        file=file,
        shocks=shocks,
        year=year,
        importers=["all"] if names is None else names,
        basis=basis,
        language=ctx.language(),
        progress=_progress(),
    )
    from verdikart.scenarios.run import ROW_FIELDS

    if fmt != "table":
        emit(result.rows, fmt, columns=ROW_FIELDS, title="Scenario")
        return
    sc = result.scenario
    title = tr(
        f"Scenario: {sc.name('en')} ({result.year}, share of imports by {result.basis})",
        f"Scenario: {sc.name('nb')} ({result.year}, andel av importen etter {result.basis})",
    )
    emit(result.rows, "table", columns=SCENARIO_TABLE, title=title)
    effects = [k for k in result.knock_on if k["kind"] != "stage" or k["relation"] != "hit"]
    if effects:
        emit(
            effects, "table", columns=KNOCK_ON_TABLE, title=tr("Knock-on effects", "Ringvirkninger")
        )
    for material, a in sorted(result.assumptions.items()):
        click.echo(
            tr(
                f"assumptions for {material}: divert {a['divert_share']:.0%} of other suppliers' "
                f"exports to third countries in the first year, then {a['growth_per_year']:.0%} "
                f"a year, at most {a['new_source_years']:g} years",
                f"forutsetninger for {material}: {a['divert_share']:.0%} av andre leverandørers "
                f"eksport til tredjeland første år, deretter {a['growth_per_year']:.0%} i året, "
                f"høyst {a['new_source_years']:g} år",
            )
        )
    for note in result.notes:
        click.echo(f"note: {note}")
    for source in sc.sources:
        click.echo(tr(f"source: {source}", f"kilde: {source}"))


@scenario.command("list")
@format_option()
@pass_context
def scenario_list(ctx: Context, fmt: str) -> None:
    """The worked scenarios shipped with verdikart (real events, with sources).

    Ferdige scenarioer som følger med (virkelige hendelser, med kilder).
    """
    from verdikart.scenarios.spec import load_scenario, shipped_scenarios

    rows = []
    for path in shipped_scenarios():
        sc = load_scenario(path)
        rows.append(
            {
                "id": path.stem,
                "name": sc.name(ctx.language()),
                "year": sc.year,
                "importers": list(sc.importers),
                "shocks": [s.describe() for s in sc.shocks],
                "event": sc.event,
                "sources": list(sc.sources),
            }
        )
    emit(rows, fmt, columns=("id", "name", "year", "importers", "shocks", "event", "sources"))


@scenario.command("events")
@click.option(
    "--events",
    "events_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="An event table of your own (TOML or YAML) instead of the shipped one.",
)
@format_option()
@pass_context
def scenario_events(ctx: Context, events_file: str | None, fmt: str) -> None:
    """The dated policy events (export controls, bans, tariffs, sanctions), each with its
    source.

    Daterte politiske tiltak (eksportkontroll, forbud, toll, sanksjoner), hver med kilde.
    """
    from verdikart.scenarios.events import load_events

    rows = [
        {
            "id": e.id,
            "date": e.date.isoformat(),
            "country": e.country,
            "kind": e.kind,
            "materials": list(e.materials),
            "partners": list(e.partners),
            "title": e.title,
            "source": e.source,
        }
        for e in load_events(events_file)
    ]
    emit(
        rows,
        fmt,
        columns=("id", "date", "country", "kind", "materials", "partners", "title", "source"),
    )


@click.command("watch")
@click.option(
    "--country",
    "-c",
    "countries",
    multiple=True,
    required=True,
    help="Country or group (NOR, EU27, Norge); repeatable or comma-separated; 'all' = every "
    "importing country.",
)
@click.option(
    "--since",
    default=None,
    help="Only alerts dated or first seen on or after this date (YYYY-MM-DD).",
)
@click.option(
    "--rules",
    "rules_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Thresholds of your own (TOML or YAML, the layout of the shipped watch.toml).",
)
@click.option(
    "--events",
    "events_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="An event table of your own (TOML or YAML) instead of the shipped one.",
)
@click.option(
    "--record/--no-record",
    default=True,
    show_default=True,
    help="Remember the alerts seen (in the data directory), to mark what is new.",
)
@format_option()
@pass_context
def watch(
    ctx: Context,
    countries: tuple[str, ...],
    since: str | None,
    rules_file: str | None,
    events_file: str | None,
    record: bool,
    fmt: str,
) -> None:
    """Early warning: alerts from the trade and production series and dated policy events.

    Tidlig varsling: varsler fra handels- og produksjonsseriene og daterte politiske tiltak.

    Rules: a supplier's share above 65 %, HHI rising, a new dominant supplier, a supplier's
    exports dropping, unit-value jumps, world production concentrating, a material's EU-list
    status changing, and export controls, bans, tariffs and sanctions on what the country
    trades. Each alert has a stable id, its evidence and sources; `new` marks alerts no
    earlier run raised.
    """
    from verdikart.cli.output import tr

    names = split_values(countries)
    alerts = ctx.app().watch(
        names,
        since=since,
        rules=rules_file,
        events=events_file,
        record=record,
        language=ctx.language(),
        progress=_progress(),
    )
    if fmt != "table":
        emit(alerts, fmt, columns=WATCH_FIELDS, title="Watch")
        return
    new = sum(1 for a in alerts if a["new"])
    title = tr(f"{len(alerts)} alert(s), {new} new", f"{len(alerts)} varsel/varsler, {new} nye")
    emit(alerts, "table", columns=WATCH_TABLE, title=title)


COMMANDS: list[click.Command] = [scenario, watch]
