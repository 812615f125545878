"""The yearly status overview of the process industry (issue 13) as HTML or formatted XLSX,
in Norwegian (bokmål) or English.

Owns the layout only: every figure comes from the use cases of
:class:`verdikart.app.Verdikart` (exports by group and HS chapter, product groups, corrections,
energy, emissions, employment). A section whose data are not in the store says how to import
them instead of showing empty numbers. Known inconsistencies of the official sources are listed
in their own section, never smoothed over.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verdikart.errors import UnknownCodeError

if TYPE_CHECKING:
    from verdikart.app import Verdikart

T = {
    "title": ("Status for the process industry {year}", "Status for prosessindustrien {year}"),
    "exports": ("Exports by industry (NACE)", "Eksport etter næring (NACE)"),
    "chapters": ("Exports by HS chapter", "Eksport etter HS-kapittel"),
    "products": ("Product groups", "Produktgrupper"),
    "corrections": ("Company corrections", "Korreksjoner fra bedrifter"),
    "energy": (
        "Energy use, energy-intensive industries (GWh)",
        "Energibruk, energiintensiv industri (GWh)",
    ),
    "emissions": (
        "Verified emissions, EU ETS installations",
        "Verifiserte utslipp, kvotepliktige anlegg",
    ),
    "ssb_emissions": ("Emissions by industry (SSB)", "Utslipp etter næring (SSB)"),
    "employment": ("Employment by industry (SSB)", "Sysselsatte etter næring (SSB)"),
    "issues": ("Known inconsistencies in the sources", "Kjente avvik i kildene"),
    "notes": ("Notes", "Merknader"),
    "sources": ("Sources", "Kilder"),
    "missing": ("Not in the store: {how}", "Ikke i databasen: {how}"),
}
HEAD = {
    "group": ("Group", "Gruppe"),
    "label": ("Industry", "Næring"),
    "value_nok": ("Value, NOK", "Verdi, NOK"),
    "share": ("Share of all exports", "Andel av all eksport"),
    "value_eur": ("EUR", "EUR"),
    "value_usd": ("USD", "USD"),
    "official_value_nok": ("Official, NOK", "Offisielt, NOK"),
    "correction_nok": ("Correction, NOK", "Korreksjon, NOK"),
    "basis": ("Figure used", "Tall brukt"),
    "chapter_group": ("HS chapters", "HS-kapitler"),
    "process_industry_value_nok": ("Process industry, NOK", "Prosessindustri, NOK"),
    "share_of_process_industry": ("Share of process ind.", "Andel av prosessind."),
    "process_industry_share": ("Process ind. share", "Prosessind. andel"),
    "product_group": ("Product group", "Produktgruppe"),
    "nace_groups": ("NACE groups", "NACE-grupper"),
    "rows": ("Rows", "Rader"),
    "company": ("Company", "Bedrift"),
    "confirmed_on": ("Confirmed", "Bekreftet"),
    "reference": ("Reference", "Referanse"),
    "applies": ("Applies", "Gjelder"),
    "product_label": ("Energy product", "Energiprodukt"),
    "value_gwh": ("GWh", "GWh"),
    "suppressed_cells": ("Suppressed cells", "Skjulte celler"),
    "year": ("Year", "År"),
    "verified_emissions_t_co2e": ("t CO2e", "t CO2e"),
    "installations": ("Installations", "Anlegg"),
    "value": ("Value", "Verdi"),
    "unit": ("Unit", "Enhet"),
    "items": ("SSB items", "SSB-poster"),
    "text": ("", ""),
}
PERCENT = {"share", "share_of_process_industry", "process_industry_share"}
MONEY = {
    "value_nok",
    "value_eur",
    "value_usd",
    "official_value_nok",
    "correction_nok",
    "process_industry_value_nok",
    "value_gwh",
    "verified_emissions_t_co2e",
    "value",
}

# Inconsistencies found in seed 000 (Prosess21 status 2024) when checking its figures by hand.
SEED_ISSUES = (
    (
        "Seed 000 l.938-946: emissions fell 'from 19.6 to 10.8 Mt CO2e (1990-2023), a reduction "
        "of 7.8 Mt or 43.3 %'; 19.6 - 10.8 = 8.8 Mt, i.e. 44.9 %.",
        "Seed 000 l.938-946: utslippene falt «fra 19,6 til 10,8 mill. tonn (1990-2023), en "
        "reduksjon på 7,8 mill. tonn eller 43,3 %»; 19,6 - 10,8 = 8,8 mill. tonn, dvs. 44,9 %.",
    ),
    (
        "Seed 000 l.1028: power-intensive industry 'about 89 % of industry's power use'; with "
        "35.8 TWh of 35.8 + 7.5 TWh (l.664-665) it is 82.7 %.",
        "Seed 000 l.1028: kraftintensiv industri «rundt 89 % av kraftforbruket i industrien»; "
        "35,8 TWh av 35,8 + 7,5 TWh (l.664-665) gir 82,7 %.",
    ),
    (
        "Seed 000 l.541: the row '00-05' is labelled as all animal products, but fish (03) has "
        "its own row: '00-05' holds chapters 01, 02, 04 and 05 here.",
        "Seed 000 l.541: raden «00-05» heter levende dyr og animalske produkter, men fisk (03) "
        "har egen rad: «00-05» er her kapittel 01, 02, 04 og 05.",
    ),
    (
        "SSB 11561 items are broader than the NACE groups: 12.1.2 includes pharmaceuticals (C21), "
        "12.1.4 all of C23, 12.1.9 printing (C18).",
        "Postene i SSB 11561 er videre enn NACE-gruppene: 12.1.2 omfatter farmasøytiske "
        "produkter (C21), 12.1.4 hele C23, 12.1.9 trykking (C18).",
    ),
)
SOURCES = (
    "SSB, StatBank table 08801: external trade in goods by commodity number (CN8-based national codes).",
    "Eurostat, CN 2021/2022 - CPA 2.1 correspondence; CPA 2.1 and NACE Rev. 2 (EUPL).",
    "Prosess21, Status for prosessindustrien 2024: definition (NACE), method (footnote 7), "
    "HS-chapter table, exchange rates (Norges Bank annual averages).",
    "SSB, StatBank 11561 (energy balance), 14091 (electricity balance), emissions and "
    "employment by industry.",
    "European Commission, EU Transaction Log: verified emissions of Norway's installations.",
)


@dataclass
class Section:
    key: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    note: str | None = None


def _t(key: str, lang: str, **kw: Any) -> str:
    return T[key][1 if lang == "nb" else 0].format(**kw)


def _head(col: str, lang: str) -> str:
    pair = HEAD.get(col)
    return pair[1 if lang == "nb" else 0] if pair else col


def _number(value: Any, col: str, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("ja" if value else "nei") if lang == "nb" else ("yes" if value else "no")
    if isinstance(value, int | float):
        if col in PERCENT:
            text = f"{float(value) * 100:.2f} %"
        elif col in MONEY:
            text = f"{float(value):,.0f}"
        else:
            text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        if lang == "nb":
            text = text.replace(",", "\u00a0").replace(".", ",")
        return text
    return str(value)


def build_sections(app: Verdikart, *, year: int, lang: str) -> list[Section]:
    """The report's sections (data only; HTML and XLSX lay them out)."""
    from verdikart.indicators.industry import rows_with_labels

    sections: list[Section] = []
    trade = app.industry_trade(year=year, corrections=True)
    groups = rows_with_labels(trade.groups, lang)
    keep = (
        "C17.1",
        "C19.2",
        "C20",
        "C23.5/C23.9",
        "C24",
        "confidential",
        "process_industry",
        "other",
        "unknown",
        "total",
    )
    sections.append(
        Section(
            "exports",
            [g for g in groups if g["group"] in keep],
            [
                "group",
                "label",
                "value_nok",
                "share",
                "value_eur",
                "value_usd",
                "official_value_nok",
                "correction_nok",
                "basis",
            ],
        )
    )
    sections.append(
        Section(
            "chapters",
            rows_with_labels(trade.chapters, lang),
            [
                "chapter_group",
                "label",
                "value_nok",
                "share",
                "process_industry_value_nok",
                "share_of_process_industry",
                "process_industry_share",
            ],
        )
    )
    sections.append(
        Section(
            "products",
            trade.products.to_pylist(),
            ["product_group", "value_nok", "share", "nace_groups", "rows"],
        )
    )
    sections.append(
        Section(
            "corrections",
            app.industry_corrections(year),
            ["company", "group", "value_nok", "confirmed_on", "reference", "applies"],
        )
    )
    try:
        energy = app.industry_energy(year=year)
        sections.append(
            Section(
                "energy",
                energy["energy_intensive"],
                ["product_label", "value_gwh", "suppressed_cells"],
            )
        )
    except UnknownCodeError as exc:
        sections.append(Section("energy", note=str(exc)))
    emissions = app.industry_emissions(year=year)
    if any(r["verified_emissions_t_co2e"] is not None for r in emissions["totals"]):
        sections.append(
            Section(
                "emissions",
                emissions["totals"],
                ["year", "group", "verified_emissions_t_co2e", "installations"],
            )
        )
    else:
        sections.append(
            Section("emissions", note="EU ETS verified emissions are bundled for 2013-2020 only")
        )
    if emissions["by_industry"]:
        sections.append(
            Section(
                "ssb_emissions",
                emissions["by_industry"],
                ["group", "value", "unit", "items", "suppressed_cells"],
            )
        )
    try:
        sections.append(
            Section(
                "employment",
                app.industry_employment(year=year),
                ["group", "value", "unit", "items", "suppressed_cells"],
            )
        )
    except UnknownCodeError as exc:
        sections.append(Section("employment", note=str(exc)))
    issues = [{"text": i[1 if lang == "nb" else 0]} for i in SEED_ISSUES]
    issues += [{"text": n} for n in trade.notes]
    sections.append(Section("issues", issues, ["text"]))
    sections.append(Section("sources", [{"text": s} for s in SOURCES], ["text"]))
    return sections


def _html(sections: list[Section], *, year: int, lang: str) -> str:
    title = html.escape(_t("title", lang, year=year))
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"nb" if lang == "nb" else "en"}"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:72em}"
        "table{border-collapse:collapse;margin:0 0 1.5em}"
        "th,td{border:1px solid #bbb;padding:.25em .5em}td.n{text-align:right}"
        "th{background:#eef}</style></head><body>",
        f"<h1>{title}</h1>",
    ]
    for s in sections:
        out.append(f"<h2>{html.escape(_t(s.key, lang))}</h2>")
        if s.note:
            out.append(f"<p>{html.escape(s.note)}</p>")
        if not s.rows:
            continue
        if s.columns == ["text"]:
            out.append(
                "<ul>" + "".join(f"<li>{html.escape(r['text'])}</li>" for r in s.rows) + "</ul>"
            )
            continue
        out.append(
            "<table><tr>"
            + "".join(f"<th>{html.escape(_head(c, lang))}</th>" for c in s.columns)
            + "</tr>"
        )
        for r in s.rows:
            cells = []
            for c in s.columns:
                v = r.get(c)
                cls = ' class="n"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
                cells.append(f"<td{cls}>{html.escape(_number(v, c, lang))}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def _xlsx(sections: list[Section], path: Path, *, year: int, lang: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    first = True
    for s in sections:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = _t(s.key, lang)[:31].replace("/", "-")
        ws["A1"] = _t("title", lang, year=year)
        ws["A1"].font = Font(bold=True, size=13)
        ws["A2"] = _t(s.key, lang)
        ws["A2"].font = Font(bold=True)
        if s.note:
            ws["A3"] = s.note
        if not s.rows:
            continue
        for j, c in enumerate(s.columns, start=1):
            cell = ws.cell(row=4, column=j, value=_head(c, lang) or _t(s.key, lang))
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE3F0")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            width = 60 if c == "text" else 14 if c in MONEY or c in PERCENT else 24
            ws.column_dimensions[get_column_letter(j)].width = width
        for i, r in enumerate(s.rows, start=5):
            for j, c in enumerate(s.columns, start=1):
                v = r.get(c)
                cell = ws.cell(row=i, column=j, value=v if not hasattr(v, "isoformat") else str(v))
                if c in PERCENT:
                    cell.number_format = "0.00%"
                elif c in MONEY:
                    cell.number_format = "#,##0"
                if c == "text":
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A5"
    wb.save(path)


def write_industry_report(app: Verdikart, *, year: int, lang: str, out: Path) -> Path:
    """Write the overview to `out` (.html/.htm or .xlsx); returns the path."""
    sections = build_sections(app, year=year, lang=lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        _xlsx(sections, out, year=year, lang=lang)
    else:
        out.write_text(_html(sections, year=year, lang=lang), encoding="utf-8")
    return out
