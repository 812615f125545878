"""The one Excel writer for every command's `--format xlsx`: formatted sheets and a sources sheet.

Each data sheet has the readable column labels (:mod:`verdikart.report.labels`) in row 1, their
units in row 2, the values from row 3 with number formats (shares as %, amounts with thousands
separators, years plain), column widths from the content, the header frozen and a filter on
every column; a sheet's `heading` lines (the web atlas's title, source and year) come first and
push these rows down. A last sheet, "Sources" ("Kilder"), names the data sources, when and with which
verdikart version the file was made, the exact command line that made it, and the notes. Values keep full
precision (the formats only change how Excel shows them). Written in openpyxl's write-only mode,
so large results (tens of thousands of rows) stay fast and small in memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from verdikart.report.labels import column, label, language, unit

HEADER_ROWS = 2  # labels, units
MAX_WIDTH = 60


@dataclass
class Sheet:
    """One data sheet: a name, rows and the columns to write (None: every key, in order)."""

    name: str
    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[str] | None = None
    notes: Sequence[str] = field(default_factory=list)
    heading: Sequence[str] = ()  # lines above the column labels: a title, its source and year
    labels: Mapping[str, str] = field(
        default_factory=dict
    )  # column labels that replace the table's


def _number_format(name: str, value: Any) -> str | None:
    kind = column(name).kind
    if kind == "year":
        return "0"
    if kind == "share":
        return "0.0%"
    if kind == "pp":
        return "0.00"
    if kind == "count":
        return "#,##0"
    if kind == "amount":
        decimals = column(name).decimals
        if decimals is None:
            a = abs(float(value))
            decimals = 0 if a >= 1000 else 2 if a >= 1 else 4
        return "#,##0" if decimals == 0 else "#,##0." + "0" * decimals
    return None


def _value(value: Any) -> Any:
    """A value Excel stores: numbers, text, booleans, dates; lists joined; NaN empty."""
    if value is None:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool | int | float | str | datetime | date):
        return value
    if isinstance(value, list | tuple):
        return ", ".join("" if v is None else str(v) for v in value)
    if isinstance(value, Mapping):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _sheet_title(name: str, taken: set[str]) -> str:
    bad = "[]:*?/\\"
    base = "".join("_" if ch in bad else ch for ch in name).strip() or "Data"
    base = base[:31]
    title, n = base, 2
    while title.casefold() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.casefold())
    return title


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def write_xlsx(
    path: Path | IO[bytes],
    sheets: Sequence[Sheet],
    *,
    command: str,
    sources: Sequence[str] = (),
    store_sources: Sequence[Mapping[str, Any]] = (),
    lang: str = "en",
) -> None:
    """Write `sheets` and the sources sheet to `path` (replacing it; or a binary file object)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    from verdikart import __version__

    nb = language(lang) == "nb"
    book = Workbook(write_only=True)
    taken: set[str] = set()
    bold = Font(bold=True)
    grey = Font(italic=True, color="666666")
    fill = PatternFill("solid", fgColor="DDE5EE")
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        rows = list(sheet.rows)
        cols = list(sheet.columns) if sheet.columns else _columns(rows)
        ws = book.create_sheet(_sheet_title(sheet.name, taken))
        names = [sheet.labels.get(c) or label(c, lang, with_unit=False) for c in cols]
        top = len(sheet.heading)
        widths = [len(n) for n in names]
        for i, c in enumerate(cols):
            for row in rows[:500]:  # widths from the first rows: enough, and fast
                v = row.get(c)
                widths[i] = max(widths[i], len(str(_value(v))) if v is not None else 0)
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[_column_letter(i)].width = min(MAX_WIDTH, max(8, w + 2))
        ws.freeze_panes = f"A{top + HEADER_ROWS + 1}"
        last = _column_letter(max(1, len(cols)))
        first, end = top + HEADER_ROWS, top + HEADER_ROWS + max(1, len(rows))
        ws.auto_filter.ref = f"A{first}:{last}{end}"
        for i, line in enumerate(sheet.heading):
            cell = WriteOnlyCell(ws, line)
            cell.font = Font(bold=True, size=13) if i == 0 else grey
            ws.append([cell])
        header = []
        for name in names:
            cell = WriteOnlyCell(ws, name)
            cell.font, cell.fill, cell.alignment = bold, fill, wrap
            header.append(cell)
        ws.append(header)
        units = []
        for c in cols:
            cell = WriteOnlyCell(ws, unit(c, lang) or None)
            cell.font, cell.fill = grey, fill
            units.append(cell)
        ws.append(units)
        formats = {c: column(c).kind for c in cols}
        for row in rows:
            out: list[Any] = []
            for c in cols:
                v = _value(row.get(c))
                if isinstance(v, int | float) and not isinstance(v, bool) and formats[c] != "text":
                    cell = WriteOnlyCell(ws, v)
                    fmt = _number_format(c, v)
                    if fmt:
                        cell.number_format = fmt
                    out.append(cell)
                else:
                    out.append(v)
            ws.append(out)
    src = book.create_sheet(_sheet_title("Kilder" if nb else "Sources", taken))
    src.column_dimensions["A"].width = 28
    src.column_dimensions["B"].width = 100
    made = datetime.now().astimezone().isoformat(timespec="seconds")
    head = [
        ("Kommando" if nb else "Command", command),
        ("Laget" if nb else "Made", made),
        ("verdikart-versjon" if nb else "verdikart version", __version__),
    ]
    for key, value in head:
        k = WriteOnlyCell(src, key)
        k.font = bold
        src.append([k, value])
    src.append([])
    title = WriteOnlyCell(src, "Datakilder" if nb else "Data sources")
    title.font = bold
    src.append([title])
    for text in dict.fromkeys(s for s in sources if s):
        src.append(["", text])
    notes = [n for sheet in sheets for n in sheet.notes]
    if notes:
        src.append([])
        t = WriteOnlyCell(src, "Merknader" if nb else "Notes")
        t.font = bold
        src.append([t])
        for note in dict.fromkeys(notes):
            src.append(["", note])
    if store_sources:
        src.append([])
        t = WriteOnlyCell(src, "Data i lageret" if nb else "Data in the store")
        t.font = bold
        src.append([t])
        for r in store_sources:
            years = ""
            if r.get("year_min") is not None:
                years = f"{r.get('year_min')}-{r.get('year_max')}"
            src.append([r.get("table"), f"{r.get('source')} ({r.get('origin')}) {years}".strip()])
    book.save(path)


__all__ = ["Sheet", "write_xlsx"]
