"""CEPII BACI bilateral trade (any HS revision) into the store's `trade` table.

Layout (CEPII, BACI V2024xx): one CSV per year, ``BACI_HS17_Y2022_V202401b.csv``, header
``t,i,j,k,v,q``: t year, i exporter and j importer (BACI country codes, ISO numeric-like; 579 =
Norway), k HS 6-digit product, v value in thousand current USD, q quantity in metric tons.
A missing v/q is blank or ``NA`` (CEPII pads it with spaces: ``           NA``) and becomes
NULL, never 0. The official zip (``BACI_HS17_V202401b.zip``) holds every year's CSV plus
``country_codes_V202401b.csv`` and ``product_codes_HS17_V202401b.csv``.

Speed: a year is ~10 M rows. The file is parsed once by DuckDB's CSV reader with explicit
types straight into the store's narrow ``imported_baci_trade`` table (numeric codes, inside the
import's transaction). That first parse runs without DuckDB's reject capture: a malformed cell
stops it, the transaction rolls back and the batch is parsed again with ``store_rejects`` on,
which collects every bad line with its number. Row rules (negative v/q, HS code length, year vs
file name, unknown country codes, a (t, i, j, k) repeated) are counted set-based over the new
rows; only when something is wrong is the file read again, in order, to name the first
offending lines, and the transaction rolls back. The load keeps file order, so the repeat check
is usually a proof that the key strictly increases (CEPII's sort order), not a hash
aggregate. The `trade` view maps the codes to ISO alpha-3 and six-digit HS text when read.
"""

from __future__ import annotations

import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.compute as pc

from verdikart.errors import SourceError
from verdikart.schema import BACI_BATCHES, BACI_COUNTRIES, BACI_TRADE
from verdikart.sources._common import (
    ImportReport,
    Progress,
    baci_country_table,
    bulk_settings,
    download,
    no_progress,
    require_file,
    reset_bulk_settings,
    sql_str,
)
from verdikart.store import BACI_LABEL_SQL, Store, stored_tables

HS_REVISIONS = ("HS92", "HS96", "HS02", "HS07", "HS12", "HS17", "HS22")
HEADER = "t,i,j,k,v,q"
YEAR_FILE = re.compile(r"BACI_(HS\d\d)_Y(\d{4})_V(\w+?)\.csv$", re.IGNORECASE)
ZIP_FILE = re.compile(r"BACI_(HS\d\d)_V(\w+?)\.zip$", re.IGNORECASE)
COUNTRY_FILE = re.compile(r"country_codes_V(\w+?)\.csv$", re.IGNORECASE)
DOWNLOAD_URL = "https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_{revision}_V{version}.zip"
DEFAULT_VERSION = "202401b"
SHOW_LINES = 5
TARGET = "imported_baci_trade"
BATCHES = "imported_baci_batches"
CODES_SEEN = "baci_codes_seen"  # TEMP: country codes of this import, with row counts
PAIRS = "baci_pairs"  # TEMP: one file's (year, exporter, importer) pairs with row counts

# Parse types. Fast path: everything typed; the reader rejects (with line numbers) any cell
# that is not a number. CEPII writes a missing q as a space-padded "NA"; the padded spellings
# seen in the first 256 KiB are added to the null strings. Slow path (a padded NA spelling
# appears only later in the file): v and q read as text and cast in SQL.
TYPED_COLUMNS = (
    "{'t': 'SMALLINT', 'i': 'INTEGER', 'j': 'INTEGER', 'k': 'INTEGER', "
    "'v': 'DOUBLE', 'q': 'DOUBLE'}"
)
READ_COLUMNS = (
    "{'t': 'SMALLINT', 'i': 'INTEGER', 'j': 'INTEGER', 'k': 'INTEGER', "
    "'v': 'VARCHAR', 'q': 'VARCHAR'}"
)
SNIFF_BYTES = 256 * 1024
BAD_NUMBER = "({c} IS NOT NULL AND TRY_CAST({c} AS DOUBLE) IS NULL AND trim({c}) <> 'NA')"
# Row rules on the raw text columns (used by the ordered second pass that finds line numbers).
ROW_RULES: dict[str, str] = {
    "non-numeric v": BAD_NUMBER.format(c="v"),
    "non-numeric q": BAD_NUMBER.format(c="q"),
    "negative v": "TRY_CAST(v AS DOUBLE) < 0",
    "negative q": "TRY_CAST(q AS DOUBLE) < 0",
    "HS code not 6 digits": "(k < 10000 OR k > 999999)",
    "year differs from file name": "(t <> {year})",
    "empty t, i, j or k": "(t IS NULL OR i IS NULL OR j IS NULL OR k IS NULL)",
    # `key_rank` (computed by _first_lines): the row's rank among rows of its (t, i, j, k)
    "row repeating an earlier t,i,j,k (a flow counted twice)": "key_rank > 1",
}


@dataclass(frozen=True)
class YearFile:
    """One BACI year CSV (extracted from a zip when needed) and what its name says."""

    path: Path
    label: str  # what to call it in messages (zip member shown as zip!member)
    revision: str | None
    year: int | None
    version: str | None


def download_baci(
    dest_dir: Path, *, revision: str = "HS92", version: str = DEFAULT_VERSION
) -> Path:
    """Download the official BACI zip for one HS revision (several GB) into `dest_dir`."""
    revision = _check_revision(revision, "--hs-revision")
    url = DOWNLOAD_URL.format(revision=revision, version=version)
    return download(url, dest_dir / f"BACI_{revision}_V{version}.zip", timeout=60.0)


def import_baci(
    store: Store,
    path: Path | str,
    *,
    hs_revision: str | None = None,
    year: int | None = None,
    allow_unmapped: bool = False,
    progress: Progress = no_progress,
    **_: object,
) -> ImportReport:
    """Import BACI year CSV(s) - a plain CSV, a directory of them, or the official zip.

    All files of one call go in one transaction: any error leaves the store unchanged.
    """
    started = time.perf_counter()
    src = require_file(Path(path))
    with tempfile.TemporaryDirectory(prefix="verdikart-baci-") as tmp:
        files, country_file = _resolve_inputs(src, Path(tmp), year)
        revision = _revision(files, hs_revision)
        versions = sorted({f.version for f in files if f.version})
        source = f"CEPII BACI {revision}" + (f" V{versions[0]}" if len(versions) == 1 else "")
        batch = _Batch(files, country_file, year, revision, source, allow_unmapped)
        try:
            report = _import_batch(store, batch, src, careful=False, progress=progress)
        except _ParseFailed:
            # the fast parse stopped at a malformed cell and DuckDB aborted the transaction:
            # redo the whole batch capturing every rejected line (and the padded-NA fallback)
            report = _import_batch(store, batch, src, careful=True, progress=progress)
    progress("done", len(files), len(files))
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class _Batch:
    """What one import call loads: its year files and how to read and label them."""

    files: list[YearFile]
    country_file: Path | None
    year: int | None
    revision: str
    source: str
    allow_unmapped: bool


class _ParseFailed(Exception):
    """The fast parse (no reject capture) met a malformed line; the batch is redone carefully."""


def _import_batch(
    store: Store, batch: _Batch, src: Path, *, careful: bool, progress: Progress
) -> ImportReport:
    """All files of the batch in one transaction: any error leaves the store unchanged.

    `careful=False` parses without DuckDB's reject capture, which is faster; the first
    malformed cell aborts with `_ParseFailed`. `careful=True` collects every rejected line
    with its number.
    """
    report = ImportReport("baci", "trade", batch.source, str(src))
    files = batch.files
    try:
        with store.transaction() as con:
            bulk_settings(con)
            con.execute("SET preserve_insertion_order = true")  # file order, for _repeated_keys
            _country_codes(con, batch.country_file)
            con.execute(BACI_TRADE.ddl(TARGET))
            con.execute(BACI_BATCHES.ddl(BATCHES))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {CODES_SEEN} "
                "(import_id INTEGER, code INTEGER, n BIGINT)"
            )
            first_id = _next_import_id(con)
            for number, file in enumerate(files):
                progress(f"reading {file.label}", number, len(files))
                bad = _load_file(con, first_id + number, file, batch, careful=careful)
                _validate_file(con, first_id + number, file, batch, bad, report)
            progress("writing to the store", len(files), len(files))
            _supersede(con, first_id, batch.revision, report.years, batch.country_file is not None)
            report.countries = _countries_seen(con)
            store.log_import(con, "trade", batch.source, str(src.resolve()), report.rows)
    finally:
        reset_bulk_settings(store.con)
        for name in ("baci_cc", "baci_rejects", "baci_scans", CODES_SEEN, PAIRS):
            store.con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    return report


# -- inputs ---------------------------------------------------------------------------------
def _resolve_inputs(src: Path, tmp: Path, year: int | None) -> tuple[list[YearFile], Path | None]:
    if src.is_dir():
        members = sorted(p for p in src.iterdir() if YEAR_FILE.search(p.name))
        countries = sorted(p for p in src.iterdir() if COUNTRY_FILE.search(p.name))
        files = [_year_file(p, p.name, str(p)) for p in members]
        if not files:
            raise SourceError(
                src, "no BACI year file (BACI_HSxx_Yyyyy_Vxxxx.csv) in this directory"
            )
        return _pick_year(files, src, year), (countries[-1] if countries else None)
    if zipfile.is_zipfile(src):
        try:
            return _from_zip(src, tmp, year)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise SourceError(src, f"damaged zip (truncated or corrupted): {exc}") from exc
    with src.open("rb") as fh:
        looks_zipped = fh.read(2) == b"PK"
    if looks_zipped or src.suffix.lower() == ".zip":
        raise SourceError(src, "not a readable zip archive (truncated or damaged download?)")
    return [_year_file(src, src.name, str(src))], None


def _from_zip(src: Path, tmp: Path, year: int | None) -> tuple[list[YearFile], Path | None]:
    with zipfile.ZipFile(src) as zf:
        names = zf.namelist()
        members = sorted(n for n in names if YEAR_FILE.search(Path(n).name))
        if not members:
            raise SourceError(src, "the zip holds no BACI year file (BACI_HSxx_Yyyyy_Vxxxx.csv)")
        chosen = _pick_year([_year_file(Path(n), n, f"{src}!{n}") for n in members], src, year)
        country_members = [n for n in names if COUNTRY_FILE.search(Path(n).name)]
        country_file = None
        if country_members:
            country_file = Path(zf.extract(country_members[0], tmp))
        files = [
            YearFile(Path(zf.extract(str(f.path), tmp)), f.label, f.revision, f.year, f.version)
            for f in chosen
        ]
    return files, country_file


def _year_file(path: Path, member: str, label: str) -> YearFile:
    match = YEAR_FILE.search(Path(member).name)
    if not match:
        return YearFile(path, label, None, None, None)
    return YearFile(path, label, match.group(1).upper(), int(match.group(2)), match.group(3))


def _pick_year(files: list[YearFile], src: Path, year: int | None) -> list[YearFile]:
    """The files to load (all, or `year`'s); two files of one HS revision and year (e.g. two
    releases side by side) are refused: both would be loaded and every flow counted twice."""
    seen: dict[tuple[str | None, int], str] = {}
    for f in files:
        if f.year is None:
            continue
        if (f.revision, f.year) in seen and (year is None or f.year == year):
            raise SourceError(
                src,
                f"two files for {f.revision} {f.year}: {seen[(f.revision, f.year)]} and "
                f"{f.label}; import one release at a time",
            )
        seen[(f.revision, f.year)] = f.label
    if year is None:
        return files
    picked = [f for f in files if f.year in (year, None)]
    if not picked:
        have = ", ".join(str(f.year) for f in files)
        raise SourceError(src, f"no file for year {year}; years present: {have}")
    return picked


def _check_revision(text: str, where: str) -> str:
    revision = text.strip().upper()
    if revision not in HS_REVISIONS:
        raise SourceError(where, f"unknown HS revision {text!r}; known: {', '.join(HS_REVISIONS)}")
    return revision


def _revision(files: list[YearFile], option: str | None) -> str:
    named = {f.revision for f in files if f.revision}
    if option is not None:
        revision = _check_revision(option, "--hs-revision")
        if named and named != {revision}:
            raise SourceError(
                files[0].label,
                f"file name says {', '.join(sorted(named))} but --hs-revision is {revision}",
            )
        return revision
    if len(named) == 1 and all(f.revision for f in files):
        return _check_revision(named.pop(), files[0].label)
    if len(named) > 1:
        raise SourceError(files[0].label, f"files of several HS revisions: {sorted(named)}")
    raise SourceError(
        files[0].label,
        "cannot tell the HS revision from the file name (BACI_HS17_Y2022_V202401b.csv); "
        "pass --hs-revision",
    )


def _country_codes(con: duckdb.DuckDBPyConnection, country_file: Path | None) -> None:
    """BACI code -> ISO3: the zip's own country_codes file when present, else the bundled one."""
    if country_file is None:
        baci_country_table(con, "baci_cc")
        return
    cols = {
        r[0]
        for r in con.execute(
            f"DESCRIBE SELECT * FROM read_csv('{sql_str(country_file)}', header=true, all_varchar=true)"
        ).fetchall()
    }
    iso3 = next((c for c in ("country_iso3", "iso_3digit_alpha") if c in cols), None)
    name = next((c for c in ("country_name", "country_name_abbreviation") if c in cols), None)
    if "country_code" not in cols or iso3 is None:
        raise SourceError(
            country_file, f"unexpected columns {sorted(cols)}; need country_code and country_iso3"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE baci_cc AS SELECT CAST(country_code AS INTEGER) AS baci_code, "
        f"{iso3} AS iso3, {name or 'NULL'} AS name "
        f"FROM read_csv('{sql_str(country_file)}', header=true, all_varchar=true) "
        f"WHERE {iso3} IS NOT NULL AND trim({iso3}) <> ''"
    )


# -- one year file --------------------------------------------------------------------------
def _check_header(file: YearFile) -> None:
    with file.path.open("rb") as fh:
        first = fh.readline(4096)
    if not first:
        raise SourceError(file.label, "empty file (no header)", line=1)
    header = first.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if header.replace('"', "").replace(" ", "") != HEADER:
        raise SourceError(file.label, f"header is {header[:80]!r}, expected {HEADER!r}", line=1)


def _null_strings(file: YearFile) -> list[str]:
    """'', 'NA' and every padded NA spelling in the head of the file (for the typed parse)."""
    with file.path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    found = {"", "NA"}
    for line in head.splitlines()[1:-1]:  # the last line may be cut by the read
        for cell in line.split(",")[4:]:
            if cell.strip() == "NA":
                found.add(cell)
    return sorted(found)


def _read_csv(
    file: YearFile, *, rejects: bool, typed: bool = False, nulls: list[str] | None = None
) -> str:
    extra = ", store_rejects=true, rejects_table='baci_rejects', rejects_scan='baci_scans'"
    nullstr = ", ".join(f"'{sql_str(n)}'" for n in (nulls or ["", "NA"]))
    return (
        f"read_csv('{sql_str(file.path)}', header=true, delim=',', quote='', escape='', "
        f"auto_detect=false, columns={TYPED_COLUMNS if typed else READ_COLUMNS}, "
        f"nullstr=[{nullstr}]{extra if rejects else ''})"
    )


def _load_file(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    file: YearFile,
    batch: _Batch,
    *,
    careful: bool,
) -> tuple[int, int]:
    """Parse one year file straight into the store's narrow BACI table (one write).

    Returns the counts of non-numeric v and q cells (only the text path can see them; the
    typed path rejects them as parse errors with line numbers).
    """
    _check_header(file)
    nulls = _null_strings(file)
    con.execute(f"DELETE FROM {BATCHES} WHERE import_id = ?", [import_id])
    con.execute(
        f"INSERT INTO {BATCHES} VALUES (?, ?, ?)", [import_id, batch.revision, batch.source]
    )
    if not careful:
        try:
            con.execute(_insert_sql(import_id, file, typed=True, nulls=nulls, rejects=False))
        except duckdb.Error as exc:
            raise _ParseFailed(str(exc)) from exc
        return (0, 0)
    bad = _scan(con, import_id, file, typed=True, nulls=nulls)
    if _only_padded_na_rejects(con):
        # an NA spelling the sniffed head did not show: redo this file on the text path
        con.execute(f"DELETE FROM {TARGET} WHERE import_id = {import_id}")
        bad = _scan(con, import_id, file, typed=False, nulls=nulls)
    # one entry per line and problem (DuckDB logs a short row once per missing column)
    rejects = con.execute(
        "SELECT line, error_type, col, any_value(csv_line) FROM (SELECT line, error_type, "
        "CASE WHEN error_type = 'CAST' THEN column_name END AS col, csv_line "
        f"FROM baci_rejects) GROUP BY ALL ORDER BY line, error_type LIMIT {SHOW_LINES}"
    ).fetchall()
    if rejects:
        total = con.execute("SELECT count(DISTINCT line) FROM baci_rejects").fetchall()[0]
        shown = "; ".join(
            f"line {line}: {_reject_text(kind, column)} in {text[:60]!r}"
            for line, kind, column, text in rejects
        )
        count = total[0] if total else len(rejects)
        raise SourceError(
            file.label,
            f"{count} malformed line(s), nothing imported: {shown}",
            line=int(rejects[0][0]),
        )
    return bad


def _insert_sql(
    import_id: int, file: YearFile, *, typed: bool, nulls: list[str], rejects: bool
) -> str:
    if typed:
        select = f"SELECT t, i, j, k, v, q, {import_id} "
    else:
        select = f"SELECT t, i, j, k, TRY_CAST(v AS DOUBLE), TRY_CAST(q AS DOUBLE), {import_id} "
    return (
        f"INSERT INTO {TARGET} {select}"
        f"FROM {_read_csv(file, rejects=rejects, typed=typed, nulls=nulls)}"
    )


def _scan(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    file: YearFile,
    *,
    typed: bool,
    nulls: list[str],
) -> tuple[int, int]:
    """The careful parse: DuckDB keeps every rejected line (with its number) in baci_rejects."""
    con.execute("DROP TABLE IF EXISTS temp.baci_rejects")
    con.execute("DROP TABLE IF EXISTS temp.baci_scans")
    bad = (0, 0)
    try:
        if not typed:
            counts = con.execute(
                f"SELECT count_if({ROW_RULES['non-numeric v']}), "
                f"count_if({ROW_RULES['non-numeric q']}) "
                f"FROM {_read_csv(file, rejects=False, nulls=nulls)}"
            ).fetchall()[0]
            bad = (int(counts[0]), int(counts[1]))
        con.execute(_insert_sql(import_id, file, typed=typed, nulls=nulls, rejects=True))
    except duckdb.Error as exc:
        raise SourceError(file.label, f"cannot read as CSV: {exc}") from exc
    return bad


def _only_padded_na_rejects(con: duckdb.DuckDBPyConnection) -> bool:
    """True when every rejected cell is a v/q cast of some (padded) 'NA' text."""
    row = con.execute(
        "SELECT count(*), count_if(error_type = 'CAST' AND column_name IN ('v', 'q') AND "
        "regexp_matches(csv_line, ',\\s*NA\\s*(,|$)')) FROM baci_rejects"
    ).fetchall()[0]
    return bool(row[0]) and row[0] == row[1]


def _reject_text(kind: str, column: str | None) -> str:
    if kind == "CAST":
        what = "a number" if column in ("v", "q") else "a whole number"
        return f"column {column!r} is not {what}"
    if kind == "MISSING COLUMNS":
        return "too few columns (truncated row?), expected 6"
    if kind == "TOO MANY COLUMNS":
        return "too many columns, expected 6"
    return str(kind).lower()


def _validate_file(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    file: YearFile,
    batch: _Batch,
    bad_numbers: tuple[int, int],
    report: ImportReport,
) -> None:
    expected_year = file.year if file.year is not None else batch.year
    if expected_year is None:
        report.warnings.append(f"{file.label}: no year in the file name; year not cross-checked")
    counts = con.execute(
        "SELECT count_if(value_kusd < 0), count_if(quantity_t < 0), "
        "count_if(hs6_code < 10000 OR hs6_code > 999999), "
        f"count_if(year <> {expected_year if expected_year is not None else 'year'}), "
        "count_if(value_kusd IS NULL), count(*), list(DISTINCT year) FILTER (year IS NOT NULL), "
        "count_if(year IS NULL OR exporter_code IS NULL OR importer_code IS NULL "
        "OR hs6_code IS NULL) "
        f"FROM {TARGET} WHERE import_id = {import_id}"
    ).fetchall()[0]
    _count_pairs(con, import_id)
    found = (
        *bad_numbers,
        *(int(c) for c in counts[:4]),
        int(counts[7]),
        _repeated_keys(con, import_id),
    )
    problems = dict(zip(ROW_RULES, found, strict=True))
    if any(problems.values()):
        _raise_row_problems(con, file, expected_year, problems)
    if counts[4]:
        report.warnings.append(
            f"{file.label}: {int(counts[4]):,} row(s) without value v (kept as NULL)"
        )
    report.rows += int(counts[5])
    report.years = sorted({*report.years, *(int(y) for y in counts[6] or [])})
    _check_codes(con, import_id, file, batch.allow_unmapped, report)


def _count_pairs(con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Rows per (year, exporter, importer) of one file (a few ten thousand pairs): they give the
    country codes seen and their row counts."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PAIRS} AS SELECT year, exporter_code AS e, "
        f"importer_code AS m, count(*) AS n FROM {TARGET} WHERE import_id = {import_id} "
        "GROUP BY ALL"
    )


def _repeated_keys(con: duckdb.DuckDBPyConnection, import_id: int) -> int:
    """Rows whose (year, exporter, importer, product) an earlier row already has (exact).

    CEPII writes each year sorted by (t, i, j, k) with every key once, and the load keeps file
    order (preserve_insertion_order): so the usual proof is that the packed key strictly
    increases row by row, one vectorised Arrow comparison. Only a file out of that order pays
    for the hash aggregate over all keys.
    """
    key = (
        con.sql(
            "SELECT CASE WHEN exporter_code BETWEEN 0 AND 1023 AND importer_code BETWEEN 0 AND 1023 "
            "AND hs6_code BETWEEN 0 AND 1048575 AND year >= 0 "
            "THEN ((year::BIGINT * 1024 + exporter_code) * 1024 + importer_code) * 1048576 "
            f"+ hs6_code END AS key FROM {TARGET} WHERE import_id = {import_id}"
        )
        .to_arrow_table()
        .column(0)
    )
    if key.null_count == 0 and pc.all(pc.greater(key[1:], key[:-1])).as_py() is not False:
        return 0
    row = con.execute(
        "SELECT count(*) - count(DISTINCT (year, exporter_code, importer_code, hs6_code)) "
        f"FROM {TARGET} WHERE import_id = {import_id}"
    ).fetchall()[0]
    return int(row[0])


def _first_lines(
    con: duckdb.DuckDBPyConnection, file: YearFile, condition: str, limit: int = SHOW_LINES
) -> list[int]:
    """File line numbers (header = line 1) of the first rows matching `condition`.

    One ordered single-threaded scan; only run when a problem was already counted.
    """
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0]
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET threads = 1")
    try:
        numbered = (
            f"SELECT row_number() OVER () + 1 AS line, * FROM {_read_csv(file, rejects=False)}"
        )
        if "key_rank" in condition:
            numbered = (
                "SELECT *, row_number() OVER (PARTITION BY t, i, j, k ORDER BY line) AS key_rank "
                f"FROM ({numbered})"
            )
        rows = con.execute(
            f"SELECT line FROM ({numbered}) WHERE {condition} ORDER BY line LIMIT {limit}"
        ).fetchall()
    finally:
        con.execute(f"SET threads = {threads[0] if threads else 2}")
        con.execute("SET preserve_insertion_order = false")
    return [int(r[0]) for r in rows]


def _raise_row_problems(
    con: duckdb.DuckDBPyConnection,
    file: YearFile,
    expected_year: int | None,
    problems: dict[str, int],
) -> None:
    parts: list[str] = []
    first: int | None = None
    for name, count in problems.items():
        if not count:
            continue
        rule = ROW_RULES[name].format(year=expected_year if expected_year is not None else "t")
        lines = _first_lines(con, file, rule)
        if lines and (first is None or lines[0] < first):
            first = lines[0]
        where = ", ".join(str(n) for n in lines)
        parts.append(f"{name}: {count:,} row(s) (first at line {where})")
    raise SourceError(file.label, "nothing imported; " + "; ".join(parts), line=first)


def _check_codes(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    file: YearFile,
    allow_unmapped: bool,
    report: ImportReport,
) -> None:
    con.execute(
        f"INSERT INTO {CODES_SEEN} SELECT {import_id}, code, sum(n) FROM "
        f"(SELECT e AS code, n FROM {PAIRS} UNION ALL SELECT m, n FROM {PAIRS}) GROUP BY code"
    )
    unknown = con.execute(
        f"SELECT code, n FROM {CODES_SEEN} WHERE import_id = {import_id} "
        "AND code NOT IN (SELECT baci_code FROM baci_cc) "
        "ORDER BY n DESC, code"
    ).fetchall()
    if not unknown:
        return
    listed = ", ".join(f"{code} ({n:,} rows)" for code, n in unknown[:20])
    if not allow_unmapped:
        codes = ", ".join(str(code) for code, _ in unknown[:20])
        lines = _first_lines(con, file, f"(i IN ({codes}) OR j IN ({codes}))")
        raise SourceError(
            file.label,
            f"unknown BACI country code(s): {listed} (first at line "
            f"{', '.join(map(str, lines))}); nothing imported. Pass --allow-unmapped to keep "
            "them as their numeric code",
            line=lines[0] if lines else None,
        )
    for code, n in unknown:
        report.unmapped[str(code)] = report.unmapped.get(str(code), 0) + int(n)
    report.warnings.append(
        f"{file.label}: {len(unknown)} unknown country code(s) kept as numeric code: {listed}"
    )


def _next_import_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT coalesce(max(import_id), 0) + 1 FROM {BATCHES}").fetchall()
    return int(row[0][0])


def _supersede(
    con: duckdb.DuckDBPyConnection,
    first_id: int,
    revision: str,
    years: list[int],
    has_country_file: bool,
) -> None:
    """Earlier BACI rows of the same years and HS revision give way to this import; a
    release's own country codes extend or replace the bundled ones."""
    if years:
        pairs = ", ".join(f"({year}, '{revision}')" for year in years)
        supersede_baci_years(con, f"VALUES {pairs}", before_import=first_id)
    if has_country_file:
        con.execute(BACI_COUNTRIES.ddl("imported_baci_countries"))
        con.execute(
            "DELETE FROM imported_baci_countries WHERE baci_code IN (SELECT baci_code FROM baci_cc)"
        )
        con.execute(
            "INSERT INTO imported_baci_countries (baci_code, name, iso2, iso3) "
            "SELECT baci_code, name, NULL, iso3 FROM baci_cc"
        )


def _countries_seen(con: duckdb.DuckDBPyConnection) -> int:
    """Distinct exporter and importer codes over every file of this import."""
    return int(con.execute(f"SELECT count(DISTINCT code) FROM {CODES_SEEN}").fetchall()[0][0])


def supersede_baci_years(
    con: duckdb.DuckDBPyConnection,
    years_and_revisions_sql: str,
    *,
    before_import: int | None = None,
) -> None:
    """Drop the store's BACI rows of the (year, hs_revision) pairs the query returns, however
    they came in: a `data import baci` (only import ids below `before_import`, when given, so
    that an import keeps its own rows) or a Parquet file of `trade` (`imported_trade` rows with
    a CEPII BACI label). One BACI release per year and revision is kept, whatever its route."""
    present = stored_tables(con)
    if BATCHES in present:
        below = "" if before_import is None else f"AND import_id < {before_import}"
        earlier = con.execute(
            f"SELECT list(import_id) FROM {BATCHES} WHERE hs_revision IN "
            f"(SELECT col1 FROM ({years_and_revisions_sql}) p(col0, col1)) {below}"
        ).fetchall()[0][0]
        if earlier:
            con.execute(
                f"DELETE FROM {TARGET} t USING {BATCHES} b WHERE t.import_id = b.import_id "
                f"AND t.import_id IN ({', '.join(map(str, earlier))}) "
                f"AND (t.year, b.hs_revision) IN ({years_and_revisions_sql})"
            )
            con.execute(
                f"DELETE FROM {BATCHES} WHERE import_id IN ({', '.join(map(str, earlier))}) "
                f"AND import_id NOT IN (SELECT DISTINCT import_id FROM {TARGET})"
            )
    if "imported_trade" in present:
        con.execute(
            f"DELETE FROM imported_trade WHERE {BACI_LABEL_SQL} "
            f"AND (year, hs_revision) IN ({years_and_revisions_sql})"
        )
