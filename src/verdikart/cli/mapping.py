"""CLI commands of the mapping area: `verdikart map` and `verdikart company assess`.

Argument parsing and printing only; the work is in :mod:`verdikart.chains.mapping`,
:mod:`verdikart.indicators.company` and :mod:`verdikart.report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verdikart.cli.common import Context, emit, format_option, pass_context, render

MAP_FORMATS = ("table", "json", "csv", "xlsx", "html", "pdf")
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


@click.command("map")
@click.option(
    "--country",
    default="NOR",
    show_default=True,
    help="Reporter: a country (ISO code or English/Norwegian name, e.g. NOR, Norge) or a "
    "group (EU27, NORDIC, ...).",
)
@click.option(
    "--year",
    default="latest",
    show_default=True,
    help="One year (2022) or 'latest' (the latest year with trade data).",
)
@click.option(
    "--lists",
    default="crma-critical,crma-strategic,nato2024,norway",
    show_default=True,
    help="Material lists, comma-separated: ids or short names (nato, eu = the latest EU list, "
    "crma, strategic, usgs, doe, norway); `verdikart materials lists` shows them.",
)
@click.option(
    "--level",
    type=click.Choice(["material", "hs6"]),
    default="material",
    show_default=True,
    help="One row per material (its HS codes added up) or per HS6 product code.",
)
@click.option(
    "--basis",
    type=click.Choice(["value", "quantity"]),
    default="value",
    show_default=True,
    help="Import shares by trade value (USD) or by quantity (tonnes).",
)
@click.option(
    "--threshold",
    type=float,
    default=0.65,
    show_default=True,
    help="Concentration flag: a single supplier country's share at or above this (0-1; the "
    "CRMA's 65 %).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(MAP_FORMATS),
    default="table",
    show_default=True,
    help="table, json, csv, xlsx (a formatted workbook; needs --out), html (a report; "
    "needs --out) or pdf (the report for A4; needs --out).",
)
@click.option(
    "--lang",
    type=click.Choice(["nb", "en"]),
    default=None,
    help="Language of the output: nb (bokmål) or en (English). Default: the main --lang, "
    "else VERDIKART_LANGUAGE, else en.",
)
@click.option(
    "--csv-style",
    type=click.Choice(["en", "nb"]),
    default="en",
    show_default=True,
    help="CSV for English (comma, decimal point) or Norwegian Excel (semicolon, decimal "
    "comma, UTF-8 with BOM).",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to a file.")
@pass_context
def map_command(
    ctx: Context,
    country: str,
    year: str,
    lists: str,
    level: str,
    basis: str,
    threshold: float,
    fmt: str,
    csv_style: str,
    lang: str | None,
    out: str | None,
) -> None:
    """Norway's (or another country's) import dependencies and position, per critical material.

    For the materials on the chosen lists: imports, supplier concentration (HHI, the top
    supplier's share and the 65 % flag), supplier risk, import reliance, world export share
    and GeoPolRisk, ranked with the vulnerabilities first.
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from verdikart.chains.mapping import MapRequest
    from verdikart.cli.common import country_ids, parse_years
    from verdikart.reference.inputs import list_ids

    if not 0 < threshold <= 1:
        raise click.BadParameter("must be in (0, 1]", param_hint="--threshold")
    if lang:
        ctx.lang = lang
    reporters = country_ids(country) or []
    if len(reporters) != 1:
        raise click.BadParameter("give one country or group", param_hint="--country")
    reporter = reporters[0]
    request = MapRequest(
        country=reporter,
        year=parse_years(year, default="latest").single(),
        lists=tuple(list_ids(lists) or ()),
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
    if fmt in ("xlsx", "html", "pdf") and not out:
        raise click.UsageError(f"--format {fmt} needs --out FILE")
    ctx.out, ctx.csv_style = out, csv_style
    if fmt == "xlsx":
        from verdikart.cli.common import write_out

        write_out(
            result.rows,
            "xlsx",
            out or "",
            title=f"{result.reporter} {result.year}",
            sources=result.sources,
            notes=result.notes,
        )
        return
    if fmt in ("html", "pdf"):
        import tempfile

        from verdikart.cli.output import tr
        from verdikart.report import map_pdf, render_map_html

        app = ctx.app()
        chains = app.chain_views(result.reporter, year=result.year)
        html = render_map_html(result, chains, ctx.language())
        target = Path(out or "")
        if fmt == "html":
            target.write_text(html, encoding="utf-8")
        else:
            with tempfile.TemporaryDirectory(prefix="verdikart-report-") as tmp:
                page = Path(tmp) / "report.html"
                page.write_text(html, encoding="utf-8")
                map_pdf(page, target)
        click.echo(tr(f"wrote {out}", f"skrev {out}"), err=True)
        return
    from verdikart.cli.output import tr, wrap

    columns = TABLE_COLUMNS if fmt == "table" else None
    title = tr(
        f"{result.reporter_name} {result.year}: by {level}, shares by {basis}",
        f"{result.reporter_name} {result.year}: per {'råvare' if level == 'material' else 'HS6'}"
        f", andeler etter {'verdi' if basis == 'value' else 'mengde'}",
    )
    text = render(result.rows, fmt, columns=columns, title=title)
    if fmt == "table":
        text += "\n" + wrap("\n".join(_notes(result)))
    if fmt == "csv" and csv_style == "nb":
        text = "\ufeff" + text
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(tr(f"wrote {out}", f"skrev {out}"), err=True)
    else:
        click.echo(text)


def _notes(result: Any) -> list[str]:
    return [f"note: {n}" for n in result.notes] + [f"source: {s}" for s in result.sources]


@click.group("company")
def company_group() -> None:
    """A company's purchases: a template to fill in, and the sourcing risk assessment the
    Critical Raw Materials Act asks of large companies (Article 24)."""


@company_group.command("template")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .xlsx (purchases sheet and instructions) or .csv (header row; "
    "instructions in a .txt beside it).",
)
@pass_context
def company_template(ctx: Context, out: Path) -> None:
    """Write a purchases file to fill in, with instructions, for `company assess`."""
    from verdikart.cli.output import tr
    from verdikart.report.templates import write_template

    for path in write_template(out, ctx.language()):
        click.echo(tr(f"wrote {path}", f"skrev {path}"), err=True)
    click.echo(
        tr(
            f"Fill in one row per purchase, then: verdikart company assess {out}",
            f"Fyll inn én rad per innkjøp, deretter: verdikart company assess {out}",
        )
    )


@company_group.command("assess")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--year",
    default=None,
    help="Only purchases of this year (2022) or of the latest year in the file ('latest').",
)
@click.option(
    "--threshold",
    type=float,
    default=0.65,
    show_default=True,
    help="Concentration flag: one supplier country's share at or above this (0-1).",
)
@click.option(
    "--nok-per-usd",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="NOK per USD, Norges Bank's annual average, for a year verdikart has no rate for "
    "(values in NOK or EUR).",
)
@click.option(
    "--nok-per-eur",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="NOK per EUR, Norges Bank's annual average, for a year verdikart has no rate for "
    "(values in EUR).",
)
@format_option()
@click.option("--save", is_flag=True, help="Also save the purchases into the store.")
@pass_context
def company_assess(
    ctx: Context,
    file: str,
    year: str | None,
    threshold: float,
    nok_per_usd: float | None,
    nok_per_eur: float | None,
    fmt: str,
    save: bool,
) -> None:
    """Supplier concentration and country risk of a company's purchases file (CSV/XLSX).

    `verdikart company template --out FILE` writes a file to start from. Values in NOK or EUR
    are converted at Norges Bank's annual averages (2019 to 2023 included); for a later year
    give its annual average with --nok-per-usd (and --nok-per-eur), or give value_kusd.
    """
    from verdikart.cli.common import parse_years
    from verdikart.cli.output import tr

    the_year = None if year is None else parse_years(year).single()
    rows, saved = ctx.app().company_assess(
        Path(file),
        year=the_year,
        threshold=threshold,
        save=save,
        nok_per_usd=nok_per_usd,
        nok_per_eur=nok_per_eur,
    )
    if year is not None and the_year is None:  # 'latest': the last year in the file
        last = max((r["year"] for r in rows if r.get("year") is not None), default=None)
        rows = [r for r in rows if r.get("year") == last]
    if saved is not None:
        click.echo(
            tr(f"saved {saved} purchase rows to the store", f"lagret {saved} innkjøpsrader"),
            err=True,
        )
    emit(rows, fmt, title=tr("Company assessment", "Bedriftsvurdering") + f": {Path(file).name}")


COMMANDS: list[click.Command] = [map_command, company_group]
