"""CLI commands `verdikart industry ...`: the process-industry statistics (issue 13).

Parsing and printing only; the figures come from :class:`verdikart.app.Verdikart`
(``industry_trade``, ``industry_energy``, ``industry_emissions``, ``industry_employment``,
``industry_correct``, ``industry_corrections``, ``industry_report``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verdikart.cli.common import Context, emit, format_option, pass_context
from verdikart.errors import UnknownCodeError

EXPORT_GROUPS = ("C17.1", "C19.2", "C20", "C23.5/C23.9", "C24", "confidential")
EXPORT_COLUMNS = (
    "group",
    "label",
    "value_nok",
    "share",
    "value_eur",
    "value_usd",
    "official_value_nok",
    "correction_nok",
    "basis",
    "rows",
    "suppressed_rows",
    "split_rows",
)
TABLES = ("groups", "chapters", "products", "unknown", "split")


def _pct(value: Any) -> str:
    if value is None:
        return ""
    pct = float(value) * 100
    return f"{pct:.2f} %"


def _lang(ctx: Context, lang: str | None) -> str:
    if lang:
        return lang
    chosen = getattr(ctx, "lang", None)
    return chosen if chosen in ("nb", "en") else "en"


def _country(country: str) -> None:
    if country.strip().upper() not in ("NOR", "NO", "578", "NORWAY", "NORGE"):
        raise UnknownCodeError(
            f"--country {country}: the industry statistics read SSB table 08801, Norway's "
            "trade; other countries are not regrouped by industry yet (use NOR)"
        )


def _notes(notes: tuple[str, ...] | list[str]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)


@click.group("industry")
def industry() -> None:
    """Process-industry statistics: exports by industry, energy, emissions, the yearly report.

    Prosessindustriens statistikk: eksport etter næring, energi, utslipp og årsrapporten.
    The process industry is NACE C17.1, C19.2, C20, C23.5/C23.9 and C24 (Prosess21). Exports
    come from SSB table 08801 (`verdikart data import ssb FILE`), regrouped commodity code ->
    HS6 -> CPA 2.1 -> NACE; energy, emissions and employment from SSB StatBank tables
    (`verdikart data import ssb-statbank FILE`) and the EU ETS register.
    """


@industry.command("exports")
@click.option("--year", "-y", type=int, required=True, help="Trade year.")
@click.option("--country", default="NOR", show_default=True, help="Reporter (Norway only).")
@click.option(
    "--flow",
    type=click.Choice(["export", "import"]),
    default="export",
    show_default=True,
    help="Exports or imports.",
)
@click.option(
    "--corrections",
    is_flag=True,
    help="Use the stored company corrections (the official figure stays in "
    "official_value_nok; `basis` says which figure was used).",
)
@click.option(
    "--table",
    "which",
    type=click.Choice(TABLES),
    default="groups",
    show_default=True,
    help="groups: by NACE group; chapters: the HS-chapter table with the process industry's "
    "share; products: named product groups (ferro-alloys, ...); unknown: codes not in the "
    "correspondence; split: HS6 codes split over several CPA codes.",
)
@click.option("--lang", type=click.Choice(["nb", "en"]), default=None, help="Labels: nb or en.")
@format_option()
@pass_context
def exports(
    ctx: Context,
    year: int,
    country: str,
    flow: str,
    corrections: bool,
    which: str,
    lang: str | None,
    fmt: str,
) -> None:
    """Exports (or imports) by process-industry group, in NOK, EUR and USD.

    Eksport etter næringsgruppe i prosessindustrien. One row per group (C17.1, C19.2, C20,
    C23.5/C23.9, C24), `confidential` (SSB code 99999999), `process_industry` (the groups'
    sum, without the confidential line) and `total` (all the year's exports); `share` of the
    total, 0-1. EUR and USD at Norges Bank's annual average.
    """
    from verdikart.indicators.industry import rows_with_labels

    _country(country)
    result = ctx.app().industry_trade(year=year, flow=flow, corrections=corrections)
    language = _lang(ctx, lang)
    if which == "groups":
        rows = rows_with_labels(result.groups, language)
        by = {r["group"]: r for r in rows}
        total = dict(by["total"])
        total["other_value_nok"] = by["other"]["value_nok"]
        total["unknown_value_nok"] = by["unknown"]["value_nok"]
        total["unknown_codes"] = by["unknown"]["codes"]
        shown = [by[g] for g in EXPORT_GROUPS] + [by["process_industry"], total]
        columns: list[str] = list(EXPORT_COLUMNS)
        if fmt == "json":
            columns += ["year", "flow", "other_value_nok", "unknown_value_nok", "unknown_codes"]
        if fmt == "table":
            shown = [{**r, "share": _pct(r["share"])} for r in shown]
        title = (
            f"Norway's {flow}s {year} by industry / "
            f"{'eksport' if flow == 'export' else 'import'} etter næring"
        )
        emit(shown, fmt, columns=columns, title=title)
    else:
        table = {
            "chapters": result.chapters,
            "products": result.products,
            "unknown": result.unknown,
            "split": result.split,
        }[which]
        rows = (
            rows_with_labels(table, language)
            if "label_en" in table.column_names
            else table.to_pylist()
        )
        emit(rows, fmt, title=f"{which} {year}")
    _notes(result.notes)


@industry.command("energy")
@click.option("--year", "-y", type=int, required=True, help="Year of the energy balance.")
@click.option(
    "--table",
    "which",
    type=click.Choice(["intensive", "items", "pulse"]),
    default="intensive",
    show_default=True,
    help="intensive: the energy-intensive industries' use per energy product (GWh); items: "
    "the balance items; pulse: monthly power use of power-intensive industry (14091).",
)
@format_option()
@pass_context
def energy(ctx: Context, year: int, which: str, fmt: str) -> None:
    """Energy use of the process industry (SSB 11561, GWh) and the monthly power pulse.

    Energibruk i prosessindustrien (SSB 11561) og månedlig kraftforbruk (SSB 14091).
    """
    data = ctx.app().industry_energy(year=year)
    rows = {
        "intensive": data["energy_intensive"],
        "items": data["items"],
        "pulse": data["power_pulse"],
    }
    emit(rows[which], fmt, title=f"Energy {year} ({which})")
    _notes(data["notes"])


@industry.command("emissions")
@click.option("--year", "-y", type=int, required=True, help="Year (EU ETS bundled: 2013-2020).")
@click.option(
    "--table",
    "which",
    type=click.Choice(["plants", "totals", "industry"]),
    default="totals",
    show_default=True,
    help="totals: EU ETS verified emissions per group; plants: the installations used; "
    "industry: SSB's emissions by industry (when imported).",
)
@format_option()
@pass_context
def emissions(ctx: Context, year: int, which: str, fmt: str) -> None:
    """Emissions of the process industry: EU ETS plants (t CO2e) and SSB by industry.

    Utslipp fra prosessindustrien: kvotepliktige anlegg (EU ETS) og SSB etter næring.
    """
    data = ctx.app().industry_emissions(year=year)
    rows = {
        "plants": data["installations"],
        "totals": data["totals"],
        "industry": data["by_industry"],
    }
    emit(rows[which], fmt, title=f"Emissions {year} ({which})")
    if which == "totals":
        click.echo(
            "note: the EU ETS extract has no NACE code; installations are assigned to groups "
            "in reference/data/industry/ets_installation_groups.csv (see --table plants)",
            err=True,
        )


@industry.command("employment")
@click.option("--year", "-y", type=int, required=True, help="Year.")
@format_option()
@pass_context
def employment(ctx: Context, year: int, fmt: str) -> None:
    """Employment by process-industry group (SSB, persons).

    Sysselsatte etter næringsgruppe i prosessindustrien (SSB).
    """
    emit(ctx.app().industry_employment(year=year), fmt, title=f"Employment {year}")


@industry.command("correct")
@click.option("--year", "-y", type=int, required=True, help="Year of the figure.")
@click.option(
    "--group",
    "group",
    type=click.Choice(EXPORT_GROUPS),
    required=True,
    help="The line the figure belongs to.",
)
@click.option("--value-nok", type=float, required=True, help="The confirmed value, NOK.")
@click.option("--company", required=True, help="Who confirmed it (e.g. Yara Norge AS).")
@click.option("--confirmed-on", required=True, help="Date of the confirmation, YYYY-MM-DD.")
@click.option("--reference", required=True, help="Where it is documented (letter, e-mail).")
@click.option(
    "--from-confidential",
    is_flag=True,
    help="The value is inside SSB's confidential code 99999999: it comes off that line.",
)
@click.option(
    "--flow",
    type=click.Choice(["export", "import"]),
    default="export",
    show_default=True,
    help="Exports or imports.",
)
@click.option("--note", default=None, help="A remark kept with the correction.")
@format_option()
@pass_context
def correct(
    ctx: Context,
    year: int,
    group: str,
    value_nok: float,
    company: str,
    confirmed_on: str,
    reference: str,
    from_confidential: bool,
    flow: str,
    note: str | None,
    fmt: str,
) -> None:
    """Store a company-confirmed figure beside the official one (never over it).

    Lagre et tall bekreftet av en bedrift, ved siden av det offisielle. Each correction is
    appended with who confirmed it, when and where it is documented; the latest per year,
    group and company applies (`industry exports --corrections`); earlier ones stay listed
    (`industry corrections`).
    """
    row = ctx.app().industry_correct(
        year=year,
        group=group,
        value_nok=value_nok,
        company=company,
        confirmed_on=confirmed_on,
        reference=reference,
        from_confidential=from_confidential,
        flow=flow,
        note=note,
    )
    emit(row, fmt, title="Correction stored / korreksjon lagret")


@industry.command("corrections")
@click.option("--year", "-y", type=int, default=None, help="Only this year.")
@format_option()
@pass_context
def corrections_list(ctx: Context, year: int | None, fmt: str) -> None:
    """Every stored company correction (the audit trail) and whether it applies.

    Alle lagrede korreksjoner fra bedrifter, og om de gjelder.
    """
    emit(ctx.app().industry_corrections(year), fmt, title="Company corrections")


@industry.command("report")
@click.option("--year", "-y", type=int, required=True, help="Year of the overview.")
@click.option(
    "--lang",
    type=click.Choice(["nb", "en"]),
    default="nb",
    show_default=True,
    help="Language of the report: nb (bokmål) or en (English).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file: .html or .xlsx (a formatted workbook).",
)
@pass_context
def report(ctx: Context, year: int, lang: str, out: Path) -> None:
    """The yearly status overview of the process industry as HTML or XLSX.

    Årlig statusoversikt for prosessindustrien som HTML eller XLSX: eksport etter næring og
    HS-kapittel, konfidensielle varenumre, korreksjoner, energi, utslipp, sysselsetting og
    kjente avvik i kildene.
    """
    if out.suffix.lower() not in (".html", ".htm", ".xlsx"):
        raise click.UsageError(f"--out {out}: give a .html or .xlsx file")
    path = ctx.app().industry_report(year=year, lang=lang, out=out)
    click.echo(f"wrote {path}", err=True)


COMMANDS: list[click.Command] = [industry]
