"""The atlas's tables as downloads (issue 11): every table a page shows, as CSV or a formatted
XLSX, from the page's own URL (`?format=csv|xlsx&table=NAME`, the page's other query
parameters kept, so a download is the same query as the page).

A page describes each of its tables once as a :class:`Table` (rows, columns, title, sources and
years); the template shows its footnote (source and year) and download links from the same
object, and the download writes the same rows. Headers are in the page's language; the CSV in
bokmål uses a semicolon, a decimal comma and a byte-order mark (what Norwegian Excel opens
directly), in English a comma and a decimal point; values keep full precision and shares stay
0-1 (the header says so). The XLSX is :func:`verdikart.report.xlsx.write_xlsx`'s workbook with a
title row and a source-and-year row above the column labels, number formats (shares as %,
thousands separators) and a sources sheet naming the page's URL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import Response

from verdikart.web.atlas_text import text

FORMATS = ("html", "csv", "xlsx", "json")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# header labels the shared column table lacks or names ambiguously, (bokmål, English)
_HEADERS: dict[str, tuple[str, str]] = {
    "material": ("Råvare (id)", "Material (id)"),
    "material_name": ("Råvare", "Material"),
    "country_name": ("Land (navn)", "Country (name)"),
    "supplier": ("Leverandør", "Supplier"),
    "supplier_name": ("Leverandør (navn)", "Supplier (name)"),
    "top_supplier_name": ("Største leverandør (navn)", "Top supplier (name)"),
    "list": ("Liste", "List"),
    "list_date": ("Dato", "Date"),
    "on_list": ("På listen", "On the list"),
    "company": ("Selskap", "Company"),
    "plant": ("Anlegg", "Plant"),
    "municipality": ("Kommune", "Municipality"),
    "t_per_year": ("Kapasitet eller produksjon (t/år)", "Capacity or production (t/year)"),
    "top_country_name": ("Største produsent (navn)", "Top producer (name)"),
    "top_country_share": ("Største produsents andel", "Top producer's share"),
    "hs_codes": ("HS-koder (HS92)", "HS codes (HS92)"),
}


@dataclass(frozen=True)
class Table:
    """One table of a page: `name` is its `?table=` key; `years` and `sources` its footnote."""

    name: str
    title: str
    rows: Sequence[Mapping[str, Any]]
    columns: tuple[str, ...]
    sources: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def distinct(rows: Iterable[Mapping[str, Any]], *keys: str) -> tuple[str, ...]:
    """The distinct non-empty values of `keys` over `rows`, in order of first appearance (a
    footnote's sources or years)."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in keys:
            value = row.get(key)
            if value is not None and value != "":
                seen.setdefault(str(value), None)
    return tuple(seen)


def header(column: str, lang: str) -> str:
    """A download's column header in `lang`: the shared label with its unit; shares say 0-1."""
    from verdikart.report.labels import column as spec
    from verdikart.report.labels import label

    if column in _HEADERS:
        nb, en = _HEADERS[column]
        name = nb if lang == "nb" else en
        return f"{name} (0–1)" if spec(column).kind == "share" else name
    if spec(column).kind == "share":
        return f"{label(column, lang, with_unit=False)} (0–1)"
    return label(column, lang)


def footnote(table: Table, lang: str) -> str:
    """'Kilde: …. År: 2024.' for the table's source and year."""
    parts = []
    if table.sources:
        key = "source" if len(table.sources) == 1 else "sources"
        parts.append(f"{text(key, lang)}: {'; '.join(table.sources)}.")
    if table.years:
        key = "year" if len(table.years) == 1 else "years"
        parts.append(f"{text(key, lang)}: {', '.join(table.years)}.")
    return " ".join(parts)


def pick(tables: Sequence[Table], name: str | None) -> Table:
    """The table `name` (the page's first when not given); a bad name is a 422."""
    from verdikart.web.atlas import BadQueryError

    if not name:
        return tables[0]
    for table in tables:
        if table.name == name:
            return table
    names = ", ".join(t.name for t in tables)
    raise BadQueryError(f"table must be one of {names}, not {name!r}")


def _cell(value: Any, lang: str) -> str:
    from verdikart.report.labels import plain

    if isinstance(value, bool):
        return text("yes" if value else "no", lang)
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v, lang) for v in value)
    return plain(value, decimal_comma=lang == "nb")


def csv_bytes(table: Table, lang: str) -> bytes:
    """The table as CSV in the page's language (see the module docstring)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if lang == "nb" else ",", lineterminator="\n")
    writer.writerow([header(c, lang) for c in table.columns])
    writer.writerows([_cell(r.get(c), lang) for c in table.columns] for r in table.rows)
    return out.getvalue().encode("utf-8-sig" if lang == "nb" else "utf-8")


def xlsx_bytes(table: Table, lang: str, url: str) -> bytes:
    """The table as a formatted workbook: title, source-and-year row, labels, units, values."""
    import io

    from verdikart.report.xlsx import Sheet, write_xlsx

    sheet = Sheet(
        table.title,
        table.rows,
        table.columns,
        notes=list(table.notes),
        heading=[table.title, footnote(table, lang)],
        labels={c: _HEADERS[c][0 if lang == "nb" else 1] for c in table.columns if c in _HEADERS},
    )
    buffer = io.BytesIO()
    write_xlsx(buffer, [sheet], command=url, sources=table.sources, lang=lang)
    return buffer.getvalue()


def download(table: Table, fmt: str, lang: str, url: str, stem: str) -> Response:
    """The table as an attachment in `fmt` (csv or xlsx)."""
    filename = f"{stem}-{table.name}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "xlsx":
        return Response(xlsx_bytes(table, lang, url), media_type=XLSX_TYPE, headers=disposition)
    return Response(
        csv_bytes(table, lang), media_type="text/csv; charset=utf-8", headers=disposition
    )


def _json_value(value: Any) -> Any:
    """A cell as JSON: a number that is not finite (NaN) is null, as JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def tables_json(tables: Sequence[Table], lang: str, url: str) -> Response:
    """A page's tables as JSON (the atlas's API, ``/api/...``): the same rows, columns, titles,
    sources and years as the page and its downloads, values unformatted (shares 0-1)."""
    from fastapi.responses import JSONResponse

    return JSONResponse(
        {
            "url": url,
            "lang": lang,
            "tables": [
                {
                    "name": t.name,
                    "title": t.title,
                    "columns": list(t.columns),
                    "rows": [{c: _json_value(r.get(c)) for c in t.columns} for r in t.rows],
                    "sources": list(t.sources),
                    "years": list(t.years),
                    "notes": list(t.notes),
                }
                for t in tables
            ],
        }
    )


def names_of(rows: Iterable[Mapping[str, Any]], key: str, lang: str) -> list[dict[str, Any]]:
    """The rows with `{key}_name` added: a country code's name in `lang` (for people reading
    the download; the code stays in its own column)."""
    from verdikart.report.labels import country_name

    return [
        {**r, f"{key}_name": country_name(str(r[key]), lang) or r[key] if r.get(key) else None}
        for r in rows
    ]


__all__ = [
    "FORMATS",
    "Table",
    "distinct",
    "download",
    "footnote",
    "header",
    "names_of",
    "pick",
    "tables_json",
]
