"""The `verdikart` command line: argument parsing and printing only.

Each command group lives in its own module, parses its options, calls one use case of the
application core (`verdikart.app.Verdikart`, built once per invocation by `cli.common.Context`)
and prints the result; nothing here computes or queries.
"""

from __future__ import annotations

import sys

import click

from verdikart import __version__
from verdikart.cli.common import ARGV_KEY, Context, pass_context
from verdikart.errors import VerdikartError


class _Root(click.Group):
    """The root group; keeps the command line as typed (for the sources sheet of --format
    xlsx)."""

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
    ctx.obj = Context(store_path=store_path, engine_name=engine_name, lang=lang, rows=rows)


def _register() -> None:
    from verdikart.cli import (
        chains,
        criticality,
        data,
        exchange,
        indicators,
        mapping,
        materials,
        position,
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
        exchange,
        serve,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
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
