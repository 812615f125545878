"""CLI commands: `verdikart data ...` (status, sources, import, export, download)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verdikart.cli.common import Context, emit, format_option, pass_context


@click.group("data")
def data() -> None:
    """The analytic store: what is in it, importing official files, exporting tables."""


@data.command("status")
@format_option()
@pass_context
def status(ctx: Context, fmt: str) -> None:
    """Per table and source: rows, years, countries and origin (bundled or imported)."""
    emit(ctx.app().data_status(), fmt, title="verdikart store")


@data.command("sources")
@format_option()
def sources(fmt: str) -> None:
    """The source readers: id, target table, what each accepts, its official address."""
    from verdikart.sources import readers

    rows = [
        {
            "source": info.source_id,
            "table": info.table,
            "accepts": info.accepts,
            "options": ", ".join("--" + o.replace("_", "-") for o in info.options),
            "download": "yes" if info.downloader else ("manual" if info.url else "-"),
            "url": info.url,
        }
        for info in readers().values()
    ]
    emit(rows, fmt)


def _source_ids() -> list[str]:
    from verdikart.sources import readers

    return sorted(readers())


@data.command("import")
@click.argument("source", type=click.Choice(_source_ids()))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--hs-revision", default=None, help="HS92..HS22 when the file name does not say.")
@click.option("--year", type=int, default=None, help="Import only this year (zip) / expected year.")
@click.option(
    "--allow-unmapped",
    is_flag=True,
    help="Keep rows whose country code is unknown (as the raw code) and report them.",
)
@click.option(
    "--table",
    default=None,
    help="parquet: the store table the file holds (default: the file name, e.g. "
    "trade.parquet); ssb-statbank: the StatBank table (11561, 14091, 09288 emissions, 13126 "
    "employment) when the response does not name it.",
)
@format_option()
@pass_context
def import_(
    ctx: Context,
    source: str,
    path: Path,
    hs_revision: str | None,
    year: int | None,
    allow_unmapped: bool,
    table: str | None,
    fmt: str,
) -> None:
    """Import an official file into the store (all-or-nothing)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    options: dict[str, Any] = {"allow_unmapped": allow_unmapped}
    if hs_revision:
        options["hs_revision"] = hs_revision
    if year is not None:
        options["year"] = year
    if table is not None:
        options["table"] = table
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} file(s)"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{source}: {path.name}", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"{source}: {stage}", completed=done, total=total)

        report = ctx.app().data_import(source, path, progress=progress, **options)
    summary = report.as_dict()
    if fmt != "table":  # one object (json) or one row (csv), warnings and unmapped codes inside
        emit(summary, fmt)
        return
    rate = summary["rows_per_second"]
    years = report.years
    span = f"{years[0]}-{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "-")
    click.echo(
        f"imported {report.rows:,} rows into {report.table} from {path} "
        f"({report.source}; years {span}; {report.countries} countries; "
        f"{report.seconds:.1f} s" + (f", {rate:,.0f} rows/s)" if rate else ")")
    )
    for table, rows in report.extra_tables.items():
        click.echo(f"  also {rows:,} rows into {table}")
    if report.unmapped:
        click.echo(f"unmapped codes kept or skipped ({len(report.unmapped)}), with row counts:")
        emit([{"code": k, "rows": v} for k, v in report.unmapped.items()], fmt)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


@data.command("export")
@click.argument("table", required=False)
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--all",
    "whole_store",
    is_flag=True,
    help="Every table to the folder PATH in the partitioned Parquet layout the Spark engine "
    "reads (PATH/<table>/dataset=.../year=.../); give no TABLE.",
)
@pass_context
def export(ctx: Context, table: str | None, path: Path, whole_store: bool) -> None:
    """Write TABLE (bundled + imported rows) to the Parquet file PATH, or with --all every
    table to the folder PATH."""
    app = ctx.app()
    if whole_store:
        if path is None and table is not None:  # `export --all DIR`: the one argument is DIR
            table, path = None, Path(table)
        if table is not None or path is None:
            raise click.UsageError("with --all give only the folder: data export --all DIR")
        written = app.data_export_layout(
            path, progress=lambda name, n: click.echo(f"  {name}: {n:,} rows", err=True)
        )
        click.echo(f"wrote {sum(written.values()):,} rows in {len(written)} tables to {path}")
        return
    if table is None or path is None:
        raise click.UsageError("give TABLE and PATH (or --all DIR for the whole store)")
    if path.suffix.lower() != ".parquet":
        raise click.BadParameter("the output must end in .parquet", param_hint="PATH")
    rows = app.data_export(table, path)
    click.echo(f"wrote {rows:,} rows of {table} to {path}")


@data.command("download")
@click.argument("source", type=click.Choice(_source_ids()))
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the file (default: <data dir>/downloads).",
)
@click.option("--hs-revision", default=None, help="BACI: which HS revision (default HS92).")
@click.option("--import", "then_import", is_flag=True, help="Import the file after download.")
@pass_context
def download(
    ctx: Context, source: str, dest: Path | None, hs_revision: str | None, then_import: bool
) -> None:
    """Download a source's official file from its publisher (needs network)."""
    from verdikart.sources import run_download

    target = dest or ctx.settings().data_dir / "downloads"
    options: dict[str, Any] = {}
    if hs_revision and source == "baci":
        options["revision"] = hs_revision
    from rich.console import Console

    with Console(stderr=True).status(f"downloading {source} into {target} ..."):
        path = run_download(source, target, **options)
    click.echo(f"downloaded {path}")
    if then_import:
        report = ctx.app().data_import(source, path)
        click.echo(f"imported {report.rows:,} rows into {report.table}")


COMMANDS: list[click.Command] = [data]
