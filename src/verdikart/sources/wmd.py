"""World Mining Data (Austrian Federal Ministry of Finance / BMF) XLSX into `production`.

Layout of the official "6.4. Production_of_Mineral_Raw_Materials_of_individual_Countries_by_
Minerals.xlsx": one sheet per commodity, named like the commodity ("Aluminium", "Lithium
(Li2O)"); a few title rows, then a header row ``Country | unit | <year> ... | data source``,
then one row per country and a ``Total`` row. Units: "metr. t", "kg", "ct", "Mio m3"
(-> t, kg, ct, million m3). ``data source`` holds the quality flag (r reported, e estimated,
p provisional). An empty or "-" cell is no production figure: not stored, counted in the
report (never 0). A sheet is stored in one unit: rows in kg next to rows in metr. t are
converted (exactly) to the unit most of its values use, with a warning; a mass next to ct or
Mio m3 is an error naming sheet, row and both units. A truncated or corrupt workbook, an
unknown unit, a cell that is not a number and a negative figure are errors naming the file,
sheet, row and field.

Sheet -> material slug and stage come from the bundled ``wmd_hs_map`` table; the content basis
(Li2O, P2O5, ...) from the bundled WMD production slice. A sheet without a mapping is reported
with its row count and not imported. The edition (WMD 2024 covers data years 2018-2022) is
the last data year + 2 unless given.
"""

from __future__ import annotations

import time
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import duckdb
import pyarrow as pa

from verdikart.errors import SourceError
from verdikart.sources._common import (
    ImportReport,
    Progress,
    download,
    no_progress,
    refuse_unknown_names,
    require_file,
    resolve_country_names,
    sql_str,
)
from verdikart.store import PRODUCTION, Store, arrow_loader, bundled_path

FILE_NAME = "6.4. Production_of_Mineral_Raw_Materials_of_individual_Countries_by_Minerals.xlsx"
DOWNLOAD_URL = "https://www.world-mining-data.info/wmd/downloads/XLS/" + FILE_NAME.replace(
    " ", "%20"
)
UNITS = {"metr. t": "t", "kg": "kg", "ct": "ct", "mio m3": "million m3"}
# Masses convert exactly (grams per unit); carats and million m3 are kept apart from them, as in
# the production indicators (`quantity_t` is NULL for ct and million m3).
GRAMS = {"t": 1_000_000, "kg": 1_000}
# What openpyxl and zipfile raise on a truncated, corrupt or non-xlsx file (while opening, or
# while reading a sheet lazily in read-only mode).
BAD_WORKBOOK: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ParseError,
    KeyError,
    ValueError,
    TypeError,
    OSError,
    NotImplementedError,  # zipfile: unsupported compression or encryption flag
    RuntimeError,  # zipfile: encrypted member
)
WMD_ALIASES = {
    "Bosnia-Herzegovina": "BIH",
    "Congo, D.R.": "COD",
    "Congo, Rep.": "COG",
    "Korea, North": "PRK",
    "Korea, South": "KOR",
    "Russia": "RUS",
    "Taiwan": "TWN",
    "United States": "USA",
    "United Kingdom": "GBR",
    "Iran": "IRN",
    "Laos": "LAO",
    "Vietnam": "VNM",
    "Turkey": "TUR",
    "Türkiye": "TUR",
    "Czechia": "CZE",
    "Czech Republic": "CZE",
    "Slovakia": "SVK",
    "Kosovo": "XKX",
    "North Macedonia": "MKD",
    "Macedonia": "MKD",
    "Myanmar": "MMR",
    "Burma": "MMR",
    "Bolivia": "BOL",
    "Venezuela": "VEN",
    "Tanzania": "TZA",
    "Syria": "SYR",
    "Moldova": "MDA",
    "Ivory Coast": "CIV",
    "Côte d'Ivoire": "CIV",
    "Kyrgyzstan": "KGZ",
    "Eswatini": "SWZ",
    "Swaziland": "SWZ",
}


def download_wmd(dest_dir: Path, **_: object) -> Path:
    """Download the current World Mining Data table 6.4 (xlsx)."""
    return download(DOWNLOAD_URL, dest_dir / FILE_NAME, timeout=60.0)


def _mappings() -> dict[str, tuple[str, str, str | None]]:
    """Sheet name -> (material, stage, content basis) from the bundled tables."""
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT m.commodity, m.material, m.stage, p.content_basis "
            f"FROM read_parquet('{sql_str(bundled_path('wmd_hs_map'))}') m LEFT JOIN ("
            f"SELECT DISTINCT commodity, content_basis FROM "
            f"read_parquet('{sql_str(bundled_path('production'))}')) p USING (commodity) "
            "WHERE m.material IS NOT NULL"
        )
        .fetchall()
    )
    return {r[0]: (r[1], r[2] or "extraction", r[3]) for r in rows}


def import_wmd(
    store: Store,
    path: Path | str,
    *,
    edition: int | None = None,
    allow_unmapped: bool = False,
    progress: Progress = no_progress,
    **_: object,
) -> ImportReport:
    """Import the WMD 6.4 workbook into `production` (all-or-nothing).

    A country name no reference resolves is an error unless `allow_unmapped` (then its values
    are skipped and reported with counts)."""
    started = time.perf_counter()
    src = require_file(Path(path))
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(src, read_only=True, data_only=True)
    except (InvalidFileException, *BAD_WORKBOOK) as exc:
        raise SourceError(
            src, f"not a readable xlsx workbook (truncated or corrupt?): {_describe(exc)}"
        ) from exc
    mappings = _mappings()
    rows: list[dict[str, Any]] = []
    report = ImportReport("wmd", "production", "", str(src))
    missing_cells = 0
    try:
        sheets = book.sheetnames
        for number, name in enumerate(sheets):
            progress(f"sheet {name}", number, len(sheets))
            try:
                values = [list(r) for r in book[name].iter_rows(values_only=True)]
            except BAD_WORKBOOK as exc:
                raise SourceError(
                    src,
                    f"sheet {name!r} cannot be read (truncated or corrupt workbook?): "
                    f"{_describe(exc)}",
                ) from exc
            sheet_rows, missing = _read_sheet(src, name, values, mappings, report)
            rows += sheet_rows
            missing_cells += missing
    finally:
        book.close()
    if not rows:
        raise SourceError(
            src, "no commodity sheet with a 'Country | unit | <years> | data source' header"
        )
    last_year = max(r["year"] for r in rows)
    source = f"World Mining Data {edition or last_year + 2}"
    report.source = source
    if missing_cells:
        report.warnings.append(f"{missing_cells:,} empty/'-' cells (no figure) not stored")
    names = sorted({r["country_name"] for r in rows})
    iso = resolve_country_names(names, WMD_ALIASES)
    unknown = {n: sum(1 for r in rows if r["country_name"] == n) for n in names if not iso[n]}
    if unknown and not allow_unmapped:
        first_seen: dict[str, str] = {}
        for r in rows:
            if r["country_name"] in unknown and r["country_name"] not in first_seen:
                first_seen[r["country_name"]] = f"sheet {r['commodity']!r}, line {r['line']}"
        raise refuse_unknown_names(src, unknown, first_seen, field="Country")
    for name, n in unknown.items():
        report.unmapped[f"country: {name}"] = n
    if unknown:
        report.warnings.append(
            f"{sum(unknown.values())} value(s) of {len(unknown)} unresolved country name(s) "
            "not imported (see unmapped)"
        )
    kept = [r for r in rows if iso[r["country_name"]]]
    table = pa.table(
        {
            "year": pa.array([r["year"] for r in kept], pa.int16()),
            "country": [iso[r["country_name"]] for r in kept],
            "material": [r["material"] for r in kept],
            "commodity": [r["commodity"] for r in kept],
            "stage": [r["stage"] for r in kept],
            "content_basis": pa.array([r["content_basis"] for r in kept], pa.string()),
            "quantity": pa.array([r["quantity"] for r in kept], pa.float64()),
            "unit": [r["unit"] for r in kept],
            "data_quality": pa.array([r["data_quality"] for r in kept], pa.string()),
            "source": [source] * len(kept),
        }
    )

    load = arrow_loader(table, PRODUCTION)

    progress("writing to the store", len(sheets), len(sheets))
    store.import_rows("production", load, source=source, path=str(src.resolve()))
    report.rows = table.num_rows
    report.years = sorted({int(y) for y in table.column("year").to_pylist()})
    report.countries = len(set(table.column("country").to_pylist()))
    report.seconds = time.perf_counter() - started
    return report


def _read_sheet(
    src: Path,
    name: str,
    values: list[list[Any]],
    mappings: dict[str, tuple[str, str, str | None]],
    report: ImportReport,
) -> tuple[list[dict[str, Any]], int]:
    header_at = next(
        (
            i
            for i, r in enumerate(values[:15])
            if r and str(r[0] or "").strip().lower() == "country"
        ),
        None,
    )
    if header_at is None:
        report.warnings.append(f"sheet {name!r}: no 'Country' header row; skipped")
        return [], 0
    header = [str(c).strip() if c is not None else "" for c in values[header_at]]
    lowered = [h.lower() for h in header]
    if "unit" not in lowered:
        raise SourceError(src, f"sheet {name!r}: header has no 'unit' column", line=header_at + 1)
    unit_i = lowered.index("unit")
    year_cols = [(i, int(float(h))) for i, h in enumerate(header) if _is_year(h)]
    quality_i = next((i for i, h in enumerate(lowered) if h.startswith("data source")), None)
    if not year_cols:
        raise SourceError(src, f"sheet {name!r}: no year columns in the header", line=header_at + 1)
    mapping = mappings.get(name.strip())
    body = [r for r in values[header_at + 1 :] if r and r[0] not in (None, "")]
    if mapping is None:
        report.unmapped[f"sheet: {name}"] = len(body)
        return [], 0
    material, stage, basis = mapping
    out: list[dict[str, Any]] = []
    missing = 0
    for offset, row in enumerate(values[header_at + 1 :], start=header_at + 2):
        country = str(row[0] or "").strip() if row else ""
        if not country or country.lower().startswith("total"):
            continue
        unit_text = str(row[unit_i] or "").strip()
        unit = UNITS.get(unit_text.lower())
        if unit is None:
            raise SourceError(
                src,
                f"sheet {name!r}: unknown unit {unit_text!r}; known: {', '.join(UNITS)}",
                line=offset,
                field="unit",
            )
        quality = str(row[quality_i]).strip() if quality_i is not None and row[quality_i] else None
        for index, year in year_cols:
            cell = row[index] if index < len(row) else None
            if cell is None or (isinstance(cell, str) and cell.strip() in ("", "-", "–", "n.a.")):
                missing += 1
                continue
            if not isinstance(cell, int | float):
                try:
                    cell = float(str(cell).replace(",", "").strip())
                except ValueError as exc:
                    raise SourceError(
                        src,
                        f"sheet {name!r}: {cell!r} is not a number",
                        line=offset,
                        field=str(year),
                    ) from exc
            if cell < 0:
                raise SourceError(
                    src, f"sheet {name!r}: negative production {cell}", line=offset, field=str(year)
                )
            out.append(
                {
                    "year": year,
                    "country_name": country,
                    "material": material,
                    "commodity": name.strip(),
                    "stage": stage,
                    "content_basis": basis,
                    "quantity": float(cell),
                    "unit": unit,
                    "data_quality": quality,
                    "line": offset,
                    "unit_text": unit_text,
                }
            )
    return _one_unit(src, name, out, report), missing


def _one_unit(
    src: Path, name: str, rows: list[dict[str, Any]], report: ImportReport
) -> list[dict[str, Any]]:
    """One commodity sheet in one unit: kg and t rows are converted to the sheet's most used
    of the two (exact: 1 t = 1,000 kg), with a warning; a mass next to carats or million m3
    (or carats next to million m3) is an error naming the row and both units."""
    units = Counter(r["unit"] for r in rows)
    if len(units) <= 1:
        return rows
    first = rows[0]
    for row in rows:
        if row["unit"] != first["unit"] and not (row["unit"] in GRAMS and first["unit"] in GRAMS):
            raise SourceError(
                src,
                f"sheet {name!r}: {row['country_name']} is in {row['unit_text']!r} but "
                f"{first['country_name']} (line {first['line']}) is in {first['unit_text']!r}; "
                f"{row['unit']} and {first['unit']} do not convert to one unit (only kg and "
                "metr. t do), so the sheet's producer shares would be wrong",
                line=row["line"],
                field="unit",
            )
    # most values wins; a tie goes to t
    target = max(units, key=lambda u: (units[u], u == "t"))
    converted: Counter[str] = Counter()
    lines: dict[str, list[int]] = {}
    for row in rows:
        if row["unit"] != target:
            converted[row["unit"]] += 1
            lines.setdefault(row["unit"], [])
            if row["line"] not in lines[row["unit"]]:
                lines[row["unit"]].append(row["line"])
            row["quantity"] = row["quantity"] * GRAMS[row["unit"]] / GRAMS[target]
            row["unit"] = target
    for unit, n in sorted(converted.items()):
        shown = ", ".join(map(str, lines[unit][:5])) + (", ..." if len(lines[unit]) > 5 else "")
        report.warnings.append(
            f"sheet {name!r}: {n} value(s) in {unit} converted to {target} "
            f"(1 t = 1,000 kg; line(s) {shown}) so the sheet has one unit"
        )
    return rows


def _describe(exc: BaseException) -> str:
    """An exception as 'Type: message' (KeyError's message alone is just a quoted name)."""
    return f"{type(exc).__name__}: {exc}"


def _is_year(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value.is_integer() and 1900 <= value <= 2100
