"""CLI commands of the mapping area: `verdikart map` and `verdikart company assess`.

Argument parsing and printing only; the work is in :mod:`verdikart.chains.mapping`,
:mod:`verdikart.indicators.company` and :mod:`verdikart.report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verdikart.cli.common import Context, pass_context, render

MAP_FORMATS = ("table", "json", "csv", "xlsx", "html")
TABLE_COLUMNS = (
    "rank",
    "position",
    "material",
    "hs6",
    "sectors",
    "import_value_kusd",
    "top_supplier",
    "top_supplier_share",
    "hhi",
    "concentration_flag",
    "export_value_kusd",
    "world_export_share",
    "EU27_external_share",
)


def _write_xlsx(rows: list[dict[str, Any]], path: Path, sheet: str, notes: list[str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    cols = list(rows[0]) if rows else []
    ws.append(cols)
    for r in rows:
        ws.append([r.get(c) for c in cols])
    info = book.create_sheet("notes")
    for line in notes:
        info.append([line])
    book.save(path)


@click.command("map")
@click.option("--country", default="NOR", show_default=True, help="Reporter: country or group.")
@click.option("--year", type=int, default=None, help="Year (default: latest in the store).")
@click.option(
    "--lists",
    default="crma-critical,crma-strategic,nato2024,norway",
    show_default=True,
    help="Comma-separated material list ids.",
)
@click.option("--level", type=click.Choice(["material", "hs6"]), default="material")
@click.option("--basis", type=click.Choice(["value", "quantity"]), default="value")
@click.option("--threshold", type=float, default=0.65, show_default=True)
@click.option("--format", "fmt", type=click.Choice(MAP_FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to a file.")
@pass_context
def map_command(
    ctx: Context,
    country: str,
    year: int | None,
    lists: str,
    level: str,
    basis: str,
    threshold: float,
    fmt: str,
    out: str | None,
) -> None:
    """Seed-003 mapping: dependencies, concentration flags and Norway's position."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from verdikart.chains.mapping import MapRequest

    if not 0 < threshold <= 1:
        raise click.BadParameter("must be in (0, 1]", param_hint="--threshold")
    request = MapRequest(
        country=country,
        year=year,
        lists=tuple(x.strip() for x in lists.split(",") if x.strip()),
        level=level,
        basis=basis,  # type: ignore[arg-type]
        threshold=threshold,
    )
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    ) as bar:
        task = bar.add_task("mapping", total=None)
        result = ctx.app().map(request, progress=lambda msg: bar.update(task, description=msg))
    if fmt in ("xlsx", "html") and not out:
        raise click.UsageError(f"--format {fmt} needs --out FILE")
    if fmt == "xlsx":
        _write_xlsx(
            result.rows, Path(out or ""), f"{result.reporter} {result.year}", _notes(result)
        )
        click.echo(f"wrote {out}", err=True)
        return
    if fmt == "html":
        from verdikart.report import render_map_html

        Path(out or "").write_text(render_map_html(result), encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
        return
    columns = TABLE_COLUMNS if fmt == "table" else None
    text = render(
        result.rows,
        fmt,
        columns=columns,
        title=f"{result.reporter_name} {result.year}: {level} mapping ({basis} basis)",
    )
    if fmt == "table":
        text += "\n" + "\n".join(_notes(result))
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


def _notes(result: Any) -> list[str]:
    return [f"note: {n}" for n in result.notes] + [f"source: {s}" for s in result.sources]


@click.group("company")
def company_group() -> None:
    """Company sourcing risk assessment (CRMA Art. 24)."""


@company_group.command("assess")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, default=None, help="Only purchases of this year.")
@click.option("--threshold", type=float, default=0.65, show_default=True)
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table")
@click.option("--save", is_flag=True, help="Also save the purchases into the store.")
@pass_context
def company_assess(
    ctx: Context, file: str, year: int | None, threshold: float, fmt: str, save: bool
) -> None:
    """Supplier concentration and country risk of a company's purchases file (CSV/XLSX)."""
    rows, saved = ctx.app().company_assess(Path(file), year=year, threshold=threshold, save=save)
    if saved is not None:
        click.echo(f"saved {saved} purchase rows to the store", err=True)
    click.echo(render(rows, fmt, title=f"Company assessment: {Path(file).name}"))


COMMANDS: list[click.Command] = [map_command, company_group]
