"""Company sourcing assessment (CRMA, Regulation (EU) 2024/1252, Art. 24: large companies
manufacturing strategic technologies shall risk-assess their supply chain of strategic raw
materials).

Owns reading and validating a company's purchases file (CSV or XLSX) and computing, for the
company as reporter, the same indicators as for a country (supplier shares, HHI, top supplier,
65 % flag, governance-weighted concentration) with the *same* expressions as
:mod:`verdikart.indicators.trade`, the purchases standing in for the ``trade_analysis``
relation. Each origin's country-level risk is the WGI political-stability score rescaled to
0..1.

File layout (header row, case-insensitive names): ``material`` or ``hs6`` (one at least),
``origin`` (any country code or name `resolve_country` accepts), ``quantity_t`` (tonnes,
may be empty), ``year``, and either ``value_kusd`` or ``value`` + ``currency`` (USD any year;
NOK and EUR at Norges Bank annual averages: 2019–2023 bundled as tabulated by Prosess21,
status report 2024, other years from the rates the user gives). Any bad row makes the whole file fail with every
problem listed by row number; nothing partial is returned. Purchases stay in memory unless
:func:`save_purchases` is called (``--save``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.errors import DataValidationError, SourceError
from verdikart.indicators import trade as tr

if TYPE_CHECKING:
    from verdikart.engine import Engine

COMPANY = "COMPANY"
# Rates: the one table of Norges Bank annual averages (reference/data/industry/
# exchange_rates.csv; Prosess21, "Status for prosessindustrien 2024", seed 000, l.641-647).
RATE_SOURCE = "Norges Bank annual averages (Prosess21 status report 2024)"

PURCHASE_COLUMNS = (
    "row",
    "product",
    "material",
    "hs6",
    "origin",
    "year",
    "quantity_t",
    "value_kusd",
)


RATES_URL = "https://www.norges-bank.no/en/topics/Statistics/exchange_rates/"


def usd_per_unit(
    currency: str,
    year: int,
    nok_per_usd: float | None = None,
    nok_per_eur: float | None = None,
) -> float | None:
    """USD per one unit of `currency` in `year`, or None when no rate is known: USD; NOK and
    EUR in the years of the rate table, else from the rates the user gives (NOK per USD,
    NOK per EUR: Norges Bank's annual average of that year)."""
    from verdikart.reference.industry import rate

    cur = currency.strip().upper()
    if cur not in ("USD", "NOK", "EUR"):
        return None
    known = rate(year, cur, "USD")
    if known is not None:
        return known
    usd = nok_per_usd if nok_per_usd is not None else rate(year, "USD", "NOK")
    if usd is None:
        return None
    if cur == "NOK":
        return 1.0 / usd
    eur = nok_per_eur if nok_per_eur is not None else rate(year, "EUR", "NOK")
    return None if eur is None else eur / usd


def latest_rate_year() -> int:
    """The latest year of the bundled NOK/USD annual averages."""
    from verdikart.reference.industry import exchange_rates

    years = [
        y
        for y, b, q in zip(
            *(exchange_rates().column(c).to_pylist() for c in ("year", "base", "quote")),
            strict=True,
        )
        if b == "USD" and q == "NOK"
    ]
    return max(years)


def missing_rate_problem(missing: Mapping[int, Sequence[int]]) -> str:
    """One problem line for the purchases in NOK/EUR of years without a rate: the years and
    rows, the latest year bundled, and how to give the rate."""
    latest = latest_rate_year()
    parts = [
        f"{y} (row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows[:10]))}"
        f"{', …' if len(rows) > 10 else ''})"
        for y, rows in sorted(missing.items())
    ]
    return (
        f"no NOK exchange rate for {'; '.join(parts)}: verdikart holds Norges Bank's annual "
        f"averages up to {latest}. Give that year's annual average with --nok-per-usd RATE "
        f"(and --nok-per-eur RATE for values in EUR), from {RATES_URL}, or give the values "
        "in USD (value_kusd)"
    )


EXPECTED_LAYOUT = (
    "a header row (material or hs6, origin, year, quantity_t, and value_kusd or value and "
    "currency) and one row per purchase"
)
_XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class _Rows:
    """A purchases file as text: lower-cased header names, (line, row) pairs, and how to name
    the file in messages (with the sheet for a workbook)."""

    where: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


def _read_rows(path: Path) -> _Rows:
    """Header-keyed rows as text with their line (row) numbers; blank lines are skipped.

    CSV is read as UTF-8 only (with or without a BOM, as Excel's "CSV UTF-8" writes), never
    guessed: a Windows-1252 and a Latin-9 or Mac file differ in the same bytes, and a guess
    would silently change names. Comma-separated, or semicolon/tab-separated when the header
    line holds no comma (Excel with a Norwegian locale). XLSX: the first worksheet, the header
    is its first non-empty row. A file that cannot be read raises SourceError naming the file
    (and the line where known): not UTF-8 (saying how to save it), UTF-16, a damaged, truncated
    or mislabelled workbook, an empty file or sheet.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror}") from None
    if size == 0:
        raise SourceError(path, f"empty file; expected {EXPECTED_LAYOUT}", line=1)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise SourceError(
            path,
            "an Excel 97-2003 workbook (.xls) is not read: save it as .xlsx, "
            "or as 'CSV UTF-8 (comma delimited)'",
        )
    if suffix in _XLSX_SUFFIXES:
        return _xlsx_rows(path)
    return _csv_rows(path)


def _xlsx_rows(path: Path) -> _Rows:
    import zipfile

    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            head = fh.read(4096)
        hint = (
            "; it is text (a CSV file named .xlsx?): name it .csv"
            if b"\0" not in head and _decodes(head)
            else " (truncated or damaged, or not an Excel file)"
        )
        raise SourceError(path, f"not a readable XLSX workbook: not a complete zip archive{hint}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheets = book.worksheets
            if not sheets:
                raise SourceError(path, "the workbook has no worksheet")
            sheet = sheets[0]
            title = str(sheet.title)
            names = [str(s.title) for s in sheets]
            values = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 -- openpyxl fails on a damaged or truncated
        # workbook with many types (BadZipFile, KeyError for a missing part, XML parse
        # errors, zlib.error, EOFError, ...): each one means the same to the user
        reason = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
        reason = reason or type(exc).__name__
        problem = f"not a readable XLSX workbook (truncated or damaged?): {reason}"
        raise SourceError(path, problem) from None
    others = [n for n in names if n != title]
    where = f"{path}, sheet '{title}'" + (
        f" (the first sheet is read; the workbook also has {', '.join(repr(n) for n in others)})"
        if others
        else ""
    )
    text = [["" if v is None else str(v).strip() for v in r] for r in values]
    numbered = [(n, r) for n, r in enumerate(text, start=1) if any(r)]
    if not numbered:
        raise SourceError(where, f"empty sheet; expected {EXPECTED_LAYOUT}", line=1)
    (_, header_cells), body = numbered[0], numbered[1:]
    header = [h.lower() for h in header_cells]
    return _Rows(where, header, [(n, _keyed(header, r)) for n, r in body])


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _keyed(header: list[str], cells: list[str]) -> dict[str, str]:
    """One row keyed by header name: missing cells are empty, unnamed columns are dropped."""
    return {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}


def _not_utf8(raw: bytes, exc: UnicodeDecodeError, line: int) -> str:
    problem = (
        f"not UTF-8 text (byte 0x{raw[exc.start]:02X}); purchases CSV files are read as "
        "UTF-8, with or without a BOM"
    )
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return problem + ": save the file as 'CSV UTF-8 (comma delimited)'"
    shown = raw.split(b"\n")[line - 1].decode("cp1252").strip()
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return (
        f"{problem}. It reads as Windows-1252/Latin-1 (this line: {shown!r}): save it from "
        "Excel as 'CSV UTF-8 (comma delimited)', or convert it (iconv -f cp1252 -t utf-8)"
    )


def _csv_rows(path: Path) -> _Rows:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror}") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(
            path, "UTF-16 text (Excel's 'Unicode Text'): save it as 'CSV UTF-8'", line=1
        )
    if raw.startswith(b"PK\x03\x04"):
        raise SourceError(path, "a zip archive (an .xlsx workbook?), not CSV text", line=1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceError(path, _not_utf8(raw, exc, line), line=line) from None
    if not text.strip():
        raise SourceError(path, f"empty file; expected {EXPECTED_LAYOUT}", line=1)
    first = text.lstrip().split("\n", 1)[0]
    delimiter = ","
    if "," not in first:
        delimiter = next((d for d in (";", "\t") if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    start = 1
    try:
        for record in reader:
            cells = [c.strip() for c in record]
            if any(cells):
                if header is None:
                    header = [c.lower() for c in cells]
                else:
                    rows.append((start, _keyed(header, cells)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SourceError(path, f"not readable as CSV: {exc}", line=reader.line_num) from None
    return _Rows(str(path), header or [], rows)


def _number(text: str) -> float:
    return float(text.replace(" ", "").replace(",", "."))


def read_purchases(
    path: Path, *, nok_per_usd: float | None = None, nok_per_eur: float | None = None
) -> pa.Table:
    """Validate a purchases file; DataValidationError lists every bad row by its line (CSV) or
    row (XLSX) number in the file; SourceError when the file cannot be read (`_read_rows`).

    Values in NOK or EUR are converted at the bundled Norges Bank annual averages; for a year
    not in that table at `nok_per_usd` / `nok_per_eur` (NOK per unit; one year's rate, so
    the rows needing it must all be of one year)."""
    from verdikart.errors import UnknownCodeError
    from verdikart.reference.countries import resolve_country

    table = _read_rows(path)
    problems: list[str] = []
    cols = set(table.header)
    missing = [c for c in ("origin", "year") if c not in cols]
    if not {"material", "hs6"} & cols:
        missing.append("material or hs6")
    if "quantity_t" not in cols:
        missing.append("quantity_t")
    if "value_kusd" not in cols and not {"value", "currency"} <= cols:
        missing.append("value_kusd (or value and currency)")
    if missing:
        found = ", ".join(h for h in table.header if h) or "nothing"
        raise DataValidationError(
            [f"missing column(s): {', '.join(missing)} (header row found: {found})"],
            source=table.where,
        )
    if not table.rows:
        raise DataValidationError(["no data rows"], source=table.where)
    materials = _material_index()
    out: dict[str, list[Any]] = {c: [] for c in PURCHASE_COLUMNS}
    no_rate: dict[int, list[int]] = {}
    given_for: dict[int, list[int]] = {}
    for n, r in table.rows:
        bad: list[str] = []
        material = r.get("material", "")
        hs6 = r.get("hs6", "").replace(".", "")
        slug = None
        if material:
            slug = materials.get(material.casefold())
            if slug is None:
                bad.append(f"unknown material {material!r}")
        if hs6 and not (len(hs6) == 6 and hs6.isdigit()):
            bad.append(f"hs6 {r.get('hs6')!r} is not six digits")
        if not material and not hs6:
            bad.append("neither material nor hs6 given")
        origin = None
        try:
            ref = resolve_country(r.get("origin", ""))
            if ref.kind != "country":
                bad.append(f"origin {r.get('origin')!r} is a group, not a country")
            else:
                origin = ref.id
        except UnknownCodeError:
            bad.append(f"unknown origin country {r.get('origin')!r}")
        year = None
        try:
            year = int(_number(r.get("year", "")))
            if not 1900 <= year <= 2100:
                bad.append(f"year {year} out of range")
                year = None
        except ValueError:
            bad.append(f"year {r.get('year')!r} is not a number")
        quantity = None
        if r.get("quantity_t", ""):
            try:
                quantity = _number(r["quantity_t"])
                if quantity < 0:
                    bad.append(f"quantity_t {quantity} is negative")
            except ValueError:
                bad.append(f"quantity_t {r['quantity_t']!r} is not a number")
        value_kusd = None
        try:
            if r.get("value_kusd", ""):
                value_kusd = _number(r["value_kusd"])
            elif r.get("value", ""):
                currency = r.get("currency", "")
                cur = currency.strip().upper()
                rate = usd_per_unit(cur, year) if year is not None and currency else None
                if rate is None and year is not None and cur in ("NOK", "EUR"):
                    rate = usd_per_unit(cur, year, nok_per_usd, nok_per_eur)
                    (no_rate if rate is None else given_for).setdefault(year, []).append(n)
                    if rate is not None:
                        value_kusd = _number(r["value"]) * rate / 1000.0
                elif rate is None:
                    bad.append(
                        f"no exchange rate for currency {currency!r} in {year}; "
                        "give the value in USD, NOK or EUR, or give value_kusd"
                    )
                else:
                    value_kusd = _number(r["value"]) * rate / 1000.0
            else:
                bad.append("value missing")
            if value_kusd is not None and value_kusd < 0:
                bad.append("value is negative")
        except ValueError:
            bad.append(f"value {r.get('value_kusd') or r.get('value')!r} is not a number")
        if bad:
            problems.append(f"row {n}: " + "; ".join(bad))
            continue
        out["row"].append(n)
        out["product"].append(slug or hs6)
        out["material"].append(slug)
        out["hs6"].append(hs6 or None)
        out["origin"].append(origin)
        out["year"].append(year)
        out["quantity_t"].append(quantity)
        out["value_kusd"].append(value_kusd)
    if no_rate:
        problems.insert(0, missing_rate_problem(no_rate))
    if len(given_for) > 1:
        problems.insert(
            0,
            f"--nok-per-usd/--nok-per-eur are one year's annual average, but rows of "
            f"{', '.join(map(str, sorted(given_for)))} need it: assess one year at a time",
        )
    if problems:
        raise DataValidationError(problems, source=table.where)
    return pa.table(
        {
            "row": pa.array(out["row"], pa.int32()),
            "product": pa.array(out["product"], pa.string()),
            "material": pa.array(out["material"], pa.string()),
            "hs6": pa.array(out["hs6"], pa.string()),
            "origin": pa.array(out["origin"], pa.string()),
            "year": pa.array(out["year"], pa.int16()),
            "quantity_t": pa.array(out["quantity_t"], pa.float64()),
            "value_kusd": pa.array(out["value_kusd"], pa.float64()),
        }
    )


def _material_index() -> dict[str, str]:
    """Lower-cased material slug/name (EN, NO) -> slug."""
    from verdikart.reference.materials import load_materials

    index: dict[str, str] = {}
    for slug, m in load_materials().items():
        for key in (slug, m.name_en, m.name_no):
            if key:
                index.setdefault(str(key).casefold(), slug)
    return index


def _as_flows(purchases: pa.Table, source: str) -> pa.Table:
    """Purchases in the `trade` view's shape: exporter = origin, importer = the company."""
    n = purchases.num_rows
    return pa.table(
        {
            "year": purchases.column("year"),
            "exporter": purchases.column("origin"),
            "importer": pa.array([COMPANY] * n, pa.string()),
            "hs6": purchases.column("product"),
            "value_kusd": purchases.column("value_kusd"),
            "quantity_t": purchases.column("quantity_t"),
            "source": pa.array([source] * n, pa.string()),
        }
    )


SUMMARY_COLUMNS = (
    "product",
    "year",
    "import_value_kusd",
    "import_quantity_t",
    "n_suppliers",
    "top_supplier",
    "top_supplier_share",
    "top3_share",
    "hhi",
    "hhi_points",
    "concentration_flag",
    "hhi_wgi",
    "supplier_risk",
    "governance_coverage",
)


def assess_company(
    engine: Engine,
    purchases: pa.Table,
    *,
    year: int | None = None,
    threshold: float = tr.DEFAULT_THRESHOLD,
    basis: tr.Basis = "value",
    source: str = "company purchases file",
) -> list[dict[str, Any]]:
    """One row per (product, year): the trade indicators plus each origin's share and risk.

    ``engine``: the analytic engine (``store.engine()``); the purchases enter it as a memtable
    standing in for the store's trade (nothing is written).
    """
    years: Sequence[int] = (
        [year] if year is not None else sorted(set(purchases.column("year").to_pylist()))
    )
    if year is not None and year not in set(purchases.column("year").to_pylist()):
        from verdikart.errors import UnknownCodeError

        have = sorted(set(purchases.column("year").to_pylist()))
        raise UnknownCodeError(f"no purchases in {year}; the file has {have}")
    flows = _as_flows(purchases, source)
    keys = sorted(set(purchases.column("product").to_pylist()))
    products = tr.hs6_products(keys)
    reporters = tr.country_reporters([COMPANY])
    summary = tr.trade_indicators(
        engine, reporters, products, years, basis=basis, threshold=threshold, flows=flows
    ).to_pylist()
    shares = tr.supplier_shares(
        engine, reporters, products, years, basis=basis, flows=flows
    ).to_pylist()
    by_key: dict[tuple[str, int], list[str]] = {}
    for s in shares:
        risk = "n/a" if s["governance_risk"] is None else f"{s['governance_risk']:.2f}"
        share = "n/a" if s["share"] is None else f"{s['share']:.1%}"
        by_key.setdefault((s["product"], s["year"]), []).append(
            f"{s['supplier']} {share} (risk {risk})"
        )
    out = []
    for r in summary:
        row = {c: r[c] for c in SUMMARY_COLUMNS}
        row["suppliers"] = "; ".join(by_key.get((r["product"], r["year"]), []))
        notes = [n for n in (r["notes"] or "").split("; ") if n and not n.startswith("reliance")]
        row["notes"] = "; ".join(notes)
        out.append(row)
    return out


def save_purchases(store: Any, purchases: pa.Table, *, source: str) -> int:
    """Store the purchases (only on request) as ``imported_company_purchases``, atomically."""
    from verdikart.schema import COMPANY_PURCHASES as spec
    from verdikart.store import arrow_loader

    table = purchases.append_column("source", pa.array([source] * purchases.num_rows, pa.string()))

    return int(store.import_rows("company_purchases", arrow_loader(table, spec), source=source))
