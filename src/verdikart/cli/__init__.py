"""The `verdikart` command line: argument parsing and printing only.

Each command group lives in its own module, parses its options, calls one use case of the
application core (`verdikart.app.Verdikart`, built once per invocation by `cli.common.Context`)
and prints the result; nothing here computes or queries.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping

import click

from verdikart import __version__
from verdikart.cli.common import ARGV_KEY, Context, pass_context
from verdikart.errors import VerdikartError


class _Root(click.Group):
    """The root group; keeps the command line as typed (for the sources sheet of --format
    xlsx). Its commands are added on first use of `commands` (by click when it looks a
    command up or lists them, or by a reader such as the docs script), so that
    `verdikart --version` imports none of the command modules."""

    _registered: bool
    _commands: MutableMapping[str, click.Command]

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        if not self._registered:
            self._registered = True  # before adding: add_command reads `commands` too
            _register()
        return self._commands

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._commands = value
        self._registered = False

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta.setdefault(ARGV_KEY, list(args))
        return super().parse_args(ctx, args)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="verdikart")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    envvar="VERDIKART_STORE",
    default=None,
    help="Analytic store (DuckDB file). Default: the user data directory.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["duckdb", "spark"]),
    envvar="VERDIKART_ENGINE",
    default=None,
    help="Analytic engine: duckdb (default, embedded) or spark (local mode, or the cluster in "
    "VERDIKART_SPARK_MASTER, reading the layout in VERDIKART_SPARK_DATA).",
)
@click.option(
    "--lang",
    type=click.Choice(["nb", "en"]),
    default=None,
    help="Language of headers and messages: nb (bokmål) or en (English). Default: "
    "VERDIKART_LANGUAGE, else en.",
)
@click.option(
    "--rows",
    type=click.IntRange(min=0),
    envvar="VERDIKART_ROWS",
    default=None,
    help="Rows a terminal table shows (default 100; 0 = all, up to 5,000). Files written "
    "with --out always hold every row.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    store_path: str | None,
    engine_name: str | None,
    lang: str | None,
    rows: int | None,
) -> None:
    """verdikart: critical raw-material value chains, indicators and the materialbørs."""
    owner = isinstance(ctx.obj, Context) and ctx.obj.own_process  # set by main()
    ctx.obj = Context(
        store_path=store_path, engine_name=engine_name, lang=lang, rows=rows, own_process=owner
    )


# One complete line per command for the command lists of --help (click would otherwise cut the
# docstring's first sentence to the terminal's width, or at an abbreviation such as "Art.").
# A new command needs a line here (tests/test_cli_help.py checks every command has one).
SHORT_HELP = {
    "data": "The data store: contents, imports and exports.",
    "data status": "What the store holds: rows, years and sources.",
    "data sources": "The data sources verdikart can read.",
    "data import": "Import an official data file into the store.",
    "data export": "Write a table, or the whole store, to Parquet.",
    "data download": "Download a source's official file (needs network).",
    "materials": "Raw materials, their HS codes and the official lists.",
    "materials list": "All materials, or the entries of one list.",
    "materials show": "Everything about one material.",
    "materials lists": "The official lists with their counts and sources.",
    "countries": "Countries, their codes and names, and country groups.",
    "countries list": "All countries, or the members of a group.",
    "countries groups": "The country groups, built-in and your own.",
    "countries show": "One country or group, by any code or name.",
    "countries add-group": "Define your own country group.",
    "countries remove-group": "Delete a country group you defined.",
    "geopolrisk": "GeoPolRisk supply risk by country, material, year.",
    "production": "World producers' shares and concentration (HHI).",
    "criticality": "EU criticality: supply risk, economic importance.",
    "position": "Where a country supplies the EU and the world.",
    "map": "Import dependencies and position per critical material.",
    "company": "A company's purchases: template and risk assessment.",
    "company assess": "Supplier concentration and risk of your purchases.",
    "company template": "Write a purchases file to fill in (CSV or Excel).",
    "chain": "Value chains stage by stage, with suppliers and plants.",
    "chain show": "One material's value chain, stage by stage.",
    "scenario": "Disruption scenarios: a supplier stops or cuts exports.",
    "scenario run": "Run a disruption scenario (a file or --shock).",
    "scenario list": "The worked scenarios shipped, with their sources.",
    "scenario events": "Dated export controls, bans, tariffs and sanctions.",
    "watch": "Early-warning alerts from trade series and policy events.",
    "industry": "Process-industry statistics: exports, energy, emissions.",
    "industry exports": "Exports or imports by process-industry group (NACE).",
    "industry energy": "Energy use of the process industry (SSB 11561, 14091).",
    "industry emissions": "Emissions: EU ETS plants and SSB by industry.",
    "industry employment": "Employment by process-industry group (SSB).",
    "industry correct": "Store a company-confirmed figure beside the official one.",
    "industry corrections": "Stored company corrections (the audit trail).",
    "industry report": "The yearly process-industry overview (HTML or XLSX).",
    "exchange": "Materialbørs: side streams, needs and matching.",
    "exchange init": "Create or upgrade the exchange database.",
    "exchange add-user": "Create a user and its access token.",
    "exchange add-stream": "Register a side stream from a JSON file.",
    "exchange add-need": "Register a need from a JSON file.",
    "exchange list": "Side streams on offer, or your needs.",
    "exchange show": "One side stream (its details when shared with you).",
    "exchange request": "Ask a stream's owner to share its details.",
    "exchange requests": "Requests to share details, made or received.",
    "exchange accept": "Share your stream's details with who asked.",
    "exchange revoke": "Stop sharing your stream's details.",
    "exchange audit": "Who read or changed your organisation's data.",
    "exchange import": "Import side streams from a CSV or Excel file.",
    "exchange match": "Ranked, explained matches for a need or stream.",
    "exchange potential": "Secondary supply of a material vs Norway's imports.",
    "exchange demo": "Load the demonstration cases (illustrative data).",
    "register": "Supplier register: who in Norway can deliver what.",
    "register import": "Import organisations from Enhetsregisteret's files.",
    "register download": "Download Enhetsregisteret's bulk file.",
    "register show": "One organisation or site from the register.",
    "register search": "Who can deliver a material, stage or code.",
    "register profile": "Your organisation's capability profile.",
    "register profile set": "Create or replace your profile from a JSON file.",
    "register profile show": "A profile; its details if yours or shared with you.",
    "register profile share": "Show your profile's details to a buyer, or stop.",
    "suppliers": "Supplier register: who in Norway can deliver what.",
    "suppliers import": "Import organisations (Enhetsregisteret) or needs (eForms).",
    "suppliers import enhetsregisteret": "Import organisations from Enhetsregisteret's files.",
    "suppliers download": "Download Enhetsregisteret's bulk file.",
    "suppliers show": "One organisation or site from the register.",
    "suppliers search": "Who can deliver a material, stage or code.",
    "suppliers profile": "Your organisation's capability profile.",
    "suppliers profile set": "Create or replace your profile from a JSON file.",
    "suppliers profile show": "A profile; its details if yours or shared with you.",
    "suppliers profile share": "Show your profile's details to a buyer, or stop.",
    "suppliers offsets": "Offset obligations (gjenkjøp): an editable register.",
    "suppliers offsets list": "Offset obligations, largest value first.",
    "suppliers offsets show": "One offset obligation with its source.",
    "suppliers offsets add": "Add an offset obligation (platform administrators).",
    "suppliers offsets update": "Change fields of an offset obligation (administrators).",
    "suppliers offsets delete": "Delete an offset obligation (administrators).",
    "suppliers import eforms": "Import needs from eForms procurement notices.",
    "suppliers need": "Buyers' needs: add by hand, list and show.",
    "suppliers need add": "Register a need from a JSON file.",
    "suppliers need list": "Needs, newest first.",
    "suppliers need show": "One need with its codes, lots and requirements.",
    "suppliers match": "Ranked, explained suppliers for a need (or needs for you).",
    "suppliers request": "Ask a supplier to share its profile's details with you.",
    "suppliers requests": "Buyers' requests for your profile's details.",
    "serve": "Run the web app (materialbørs pages and API).",
}
# Help for options declared without it (in modules other workers own), by command and option.
OPTION_HELP = {
    ("serve", "--host"): "Address to listen on.",
    ("serve", "--port"): "Port to listen on.",
    ("serve", "--workers"): "Worker processes (each with its own connections).",
    ("serve", "--log-level"): "How much the server logs.",
}


def _walk(command: click.Command, path: str = "") -> list[tuple[str, click.Command]]:
    out = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            out.extend(_walk(sub, f"{path} {name}".strip()))
    return out


def _help_texts() -> None:
    for path, command in _walk(cli):
        if path in SHORT_HELP:
            command.short_help = SHORT_HELP[path]
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                param.help = OPTION_HELP.get((path, param.opts[0]))


def _register() -> None:
    from verdikart.cli import (
        chains,
        criticality,
        data,
        exchange,
        indicators,
        industry,
        mapping,
        materials,
        offsets,
        position,
        register,
        scenario,
        serve,
    )

    for module in (
        data,
        materials,
        indicators,
        criticality,
        position,
        mapping,
        chains,
        scenario,
        industry,
        exchange,
        register,
        serve,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)
    register.suppliers.add_command(offsets.offsets)  # the offset obligations register
    _help_texts()


def main() -> None:
    try:
        cli.main(standalone_mode=False, obj=Context(own_process=True))
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except VerdikartError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


__all__ = ["cli", "main", "pass_context"]
