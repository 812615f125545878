"""What every source reader shares: the import report, downloads, and country-name lookups."""

from __future__ import annotations

import contextlib
import functools
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from verdikart.errors import OfflineError, SourceError
from verdikart.store import bundled_path

# progress(stage, done, total): a reader reports what it is doing; the CLI draws it.
Progress = Callable[[str, int, int], None]

USER_AGENT = "verdikart (https://github.com/verdikart; data import)"


def no_progress(stage: str, done: int, total: int) -> None:
    """The default progress callback: report nothing."""


@dataclass
class ImportReport:
    """What an import did: rows written, coverage, and everything not mapped (with counts)."""

    source_id: str
    table: str
    source: str
    path: str
    rows: int = 0
    years: list[int] = field(default_factory=list)
    countries: int = 0
    unmapped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra_tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.seconds > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "table": self.table,
            "source": self.source,
            "path": self.path,
            "rows": self.rows,
            "years": self.years,
            "countries": self.countries,
            "unmapped": self.unmapped,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "rows_per_second": (
                round(self.rows_per_second) if self.rows_per_second is not None else None
            ),
            "extra_tables": self.extra_tables,
        }


def download(
    url: str,
    dest: Path,
    *,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch `url` (POST when `data` is given) to `dest`; no network -> OfflineError.

    The file is written to a temporary name first so a broken download never looks complete.
    """
    request = urllib.request.Request(
        url, data=data, headers={"User-Agent": USER_AGENT, **(headers or {})}
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,
            partial.open("wb") as out,
        ):
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        reason = getattr(exc, "reason", exc)
        raise OfflineError(
            f"cannot download {url}: {reason}. No network? Download the file by hand from that "
            f"address and run `verdikart data import SOURCE PATH`."
        ) from exc
    partial.replace(dest)
    return dest


def sql_str(value: str | Path) -> str:
    """A SQL string literal body (single quotes doubled)."""
    return str(value).replace("'", "''")


def baci_country_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Create TEMP table `name(baci_code, iso2, iso3, name)` from the bundled BACI codes."""
    con.execute(
        f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT baci_code, iso2, iso3, name '
        f"FROM read_parquet('{sql_str(bundled_path('baci_countries'))}')"
    )


def resolve_country_names(names: list[str], aliases: Mapping[str, str]) -> dict[str, str | None]:
    """Map distinct country names (a lookup list, not data rows) to ISO alpha-3.

    Uses `verdikart.reference.countries.resolve_country` when that module is present, after
    the reader's own publisher-specific `aliases`; falls back to the bundled BACI names and
    ISO codes. Names that resolve to nothing map to None (the caller reports them).
    """
    resolver = _reference_resolver()
    baci = _baci_name_index()
    out: dict[str, str | None] = {}
    for name in names:
        key = name.strip()
        iso3: str | None = aliases.get(key)
        if iso3 is None:
            iso3 = resolver(key)
        if iso3 is None:
            iso3 = baci.get(key.casefold())
        out[name] = iso3
    return out


def _reference_resolver() -> Callable[[str], str | None]:
    from verdikart.reference.countries import find_country

    def lookup(text: str) -> str | None:
        ref = find_country(text)
        return ref.id if ref is not None and ref.kind == "country" else None

    return lookup


@functools.lru_cache(maxsize=1)
def _baci_name_index() -> dict[str, str]:
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT name, iso2, iso3 FROM read_parquet('{sql_str(bundled_path('baci_countries'))}')"
        )
        .fetchall()
    )
    index: dict[str, str] = {}
    for name, iso2, iso3 in rows:
        for key in (name, iso2, iso3):
            if key:
                index.setdefault(str(key).casefold(), iso3)
    return index


def iso2_to_iso3() -> dict[str, str]:
    """ISO alpha-2 -> alpha-3 from the reference country table, else the bundled BACI codes."""
    try:
        from verdikart.reference.countries import country_table

        table = country_table()
        pairs = zip(table["iso2"].to_pylist(), table["iso3"].to_pylist(), strict=True)
        mapping = {a: b for a, b in pairs if a and b}
        if mapping:
            return mapping
    except (ImportError, AttributeError, KeyError):
        pass
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT iso2, iso3 FROM read_parquet('{sql_str(bundled_path('baci_countries'))}') "
            "WHERE iso2 IS NOT NULL ORDER BY baci_code"
        )
        .fetchall()
    )
    out: dict[str, str] = {}
    for iso2, iso3 in rows:
        out.setdefault(iso2, iso3)
    return out


BULK_SETTINGS = ("preserve_insertion_order", "memory_limit")


def bulk_settings(con: duckdb.DuckDBPyConnection, *, memory_limit: str = "1500MB") -> None:
    """Bulk-load settings, set from inside a loader (the store may switch connection when its
    file is created); `reset_bulk_settings(store.con)` afterwards restores the defaults."""
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")


def reset_bulk_settings(con: duckdb.DuckDBPyConnection) -> None:
    for key in BULK_SETTINGS:
        con.execute(f"RESET {key}")


def require_file(path: Path) -> Path:
    if not path.exists():
        raise SourceError(path, "no such file or directory")
    return path


def numbered_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    *,
    expected: tuple[str, ...],
    delim: str = ",",
    label: str | None = None,
    extra_ok: bool = False,
) -> list[str]:
    """Load a small/medium CSV as text into TEMP `table` with its file line number (`line`).

    The header must hold the `expected` columns (in any order; more only when `extra_ok`);
    else SourceError names the file, line 1 and what is missing. Returns the header. One
    ordered single-threaded scan, so `line` is the true file line (header = line 1).
    """
    where = label or str(path)
    with path.open("rb") as fh:
        first = fh.readline(1 << 16)
    if not first.strip():
        raise SourceError(where, "empty file (no header)", line=1)
    text = first.decode("utf-8-sig", errors="replace").strip()
    header = [h.strip().strip('"') for h in text.split(delim)]
    missing = [c for c in expected if c not in header]
    unexpected = [h for h in header if h and h not in expected]
    if missing or (unexpected and not extra_ok):
        problem = f"header is {text[:120]!r}; expected columns {', '.join(expected)}"
        if missing:
            problem += f" (missing: {', '.join(missing)})"
        raise SourceError(where, problem, line=1)
    # The parse runs on its own single-threaded connection (one ordered scan, so `line` is the
    # true file line), outside the store's transaction: a malformed file cannot abort that
    # transaction, and its SourceError (file, line, problem) reaches the user unchanged.
    read = (
        f"read_csv('{sql_str(path)}', header=true, delim='{delim}', all_varchar=true, "
        "strict_mode=true, null_padding=false, encoding='utf-8'"
    )
    scan = duckdb.connect(config={"threads": 1, "preserve_insertion_order": True})
    try:
        try:
            rows = scan.sql(f"SELECT row_number() OVER () + 1 AS line, * FROM {read})")
            data = rows.to_arrow_table()
        except duckdb.Error as exc:
            problem, line = _csv_problem(scan, read, str(exc))
            raise SourceError(where, problem, line=line) from exc
    finally:
        scan.close()
    con.register("_vk_numbered_csv", data)
    try:
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" AS SELECT * FROM _vk_numbered_csv')
    finally:
        con.unregister("_vk_numbered_csv")
    return header


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_FOUND = re.compile(r"Found: (\d+)")
SHOW_LINES = 5


def _csv_problem(
    scan: duckdb.DuckDBPyConnection, read: str, message: str
) -> tuple[str, int | None]:
    """What is wrong with a CSV DuckDB could not read: every bad line (number, field count,
    text) from a second scan that keeps DuckDB's rejects, else DuckDB's own first line."""
    try:
        scan.execute(
            # every column, so every field of every line is parsed (a count alone is not)
            f"CREATE TEMP TABLE vk_all AS SELECT * FROM {read}, store_rejects=true, "
            "rejects_table='vk_rejects', "
            "rejects_scan='vk_scans')"
        )
        # a short row is logged once per missing column, a long one once per extra field
        rejects = scan.execute(
            "SELECT line, error_type, arg_min(column_name, column_idx), "
            "list(error_message), any_value(csv_line) FROM vk_rejects "
            "GROUP BY line, error_type ORDER BY line, error_type"
        ).fetchall()
    except duckdb.Error:
        rejects = []
    if not rejects:
        found = _CSV_LINE.search(message)
        return f"malformed CSV: {_first_line(message)}", int(found.group(1)) if found else None
    lines = sorted({int(r[0]) for r in rejects})
    shown = "; ".join(_reject_text(*r) for r in rejects[:SHOW_LINES])
    more = "; ..." if len(rejects) > SHOW_LINES else ""
    return (
        f"malformed CSV, nothing imported; {len(lines):,} bad line(s): {shown}{more}",
        lines[0],
    )


def _reject_text(
    line: int, kind: str, column: str | None, messages: list[str], text: str | None
) -> str:
    """One rejected line: 'line 7: 1 field(s), 11 expected (cut off before field 'code'?)'."""
    found = [int(m.group(1)) for m in map(_FOUND.search, messages) if m]
    shown = repr((text or "").strip()[:60])
    if kind == "MISSING COLUMNS" and found:
        return (
            f"line {line}: {min(found)} field(s), {max(found) + 1} expected (cut off before "
            f"field '{column}'?) in {shown}"
        )
    if kind == "TOO MANY COLUMNS" and found:
        return f"line {line}: {max(found)} fields, {min(found) - 1} expected in {shown}"
    detail = _first_line(messages[0]) if messages else ""
    return f"line {line}: {str(kind).lower()} ({detail}) in {shown}"


def _first_line(message: str) -> str:
    lines = [ln for ln in message.splitlines() if ln.strip()]
    return " ".join(lines[:3])


def first_lines(
    con: duckdb.DuckDBPyConnection, table: str, condition: str, limit: int = 5
) -> list[int]:
    """Line numbers of the first rows of a `numbered_csv` table matching `condition`."""
    rows = con.execute(
        f'SELECT line FROM "{table}" WHERE {condition} ORDER BY line LIMIT {limit}'
    ).fetchall()
    return [int(r[0]) for r in rows]


def check_rules(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rules: Mapping[str, str],
    where: str,
    *,
    unit: str = "line",
) -> None:
    """Count each rule (a SQL condition meaning 'bad') set-based; raise naming first lines.

    `table` has a `line` column: the file line (CSV) or, with `unit="row"`, the data row.
    """
    if not rules:
        return
    exprs = ", ".join(f"count_if({cond})" for cond in rules.values())
    counts = con.execute(f'SELECT {exprs} FROM "{table}"').fetchall()[0]
    assert counts is not None
    parts: list[str] = []
    first: int | None = None
    for (name, cond), n in zip(rules.items(), counts, strict=True):
        if not n:
            continue
        lines = first_lines(con, table, cond)
        if lines and (first is None or lines[0] < first):
            first = lines[0]
        parts.append(f"{name}: {int(n):,} row(s) (first at {unit} {', '.join(map(str, lines))})")
    if parts:
        if unit != "line" and first is not None:
            where, first = f"{where}, {unit} {first}", None
        raise SourceError(where, "nothing imported; " + "; ".join(parts), line=first)


KNOWN_COUNTRIES = "vk_known_countries"


def known_countries(con: duckdb.DuckDBPyConnection) -> str:
    """TEMP table `(iso2, iso3)` of every country in the reference country table (current,
    historic and BACI pseudo entries, Kosovo XK/XKX); returns its name."""
    from verdikart.reference.countries import country_table

    con.register("_vk_countries", country_table().select(["iso2", "iso3"]))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {KNOWN_COUNTRIES} AS SELECT iso2, iso3 FROM _vk_countries"
        )
    finally:
        con.unregister("_vk_countries")
    return KNOWN_COUNTRIES


def check_codes(
    con: duckdb.DuckDBPyConnection,
    codes_sql: str,
    known_sql: str,
    where: str,
    *,
    allow_unmapped: bool,
    report: ImportReport,
    keep_as: str,
    what: str = "country code",
    field: str | None = None,
    show: int = 20,
) -> None:
    """Codes of the rows about to be stored that are not in `known_sql` (a one-column query).

    `codes_sql` yields one row per code use: ``line`` (file line, or NULL when the format has
    none), ``code`` (as it will be stored) and ``note`` (context shown next to it, or NULL).
    Unknown codes are an error naming each with its row count and the first lines, unless
    `allow_unmapped`: then they are kept `keep_as` and reported with counts (as BACI does).
    """
    # NULLs out of the known list: `x NOT IN (..., NULL)` is never true
    known = f"SELECT k FROM ({known_sql}) t(k) WHERE k IS NOT NULL"
    found = con.execute(
        f"WITH u AS (SELECT * FROM ({codes_sql}) c WHERE c.code IS NULL "
        f"OR c.code NOT IN ({known})) "
        "SELECT code, count(*) AS n, any_value(note) FROM u GROUP BY code ORDER BY n DESC, code"
    ).fetchall()
    if not found:
        return
    listed = ", ".join(
        f"{code if code is not None else '(empty)'} ({int(n):,} rows"
        + (f"; {note}" if note else "")
        + ")"
        for code, n, note in found[:show]
    )
    if len(found) > show:
        listed += f" and {len(found) - show} more"
    if allow_unmapped:
        for code, n, _ in found:
            key = str(code) if code is not None else ""
            report.unmapped[key] = report.unmapped.get(key, 0) + int(n)
        report.warnings.append(f"{len(found)} unknown {what}(s) kept {keep_as}: {listed}")
        return
    lines = [
        int(r[0])
        for r in con.execute(
            f"SELECT DISTINCT line FROM ({codes_sql}) c WHERE c.line IS NOT NULL AND "
            f"(c.code IS NULL OR c.code NOT IN ({known})) ORDER BY line LIMIT {SHOW_LINES}"
        ).fetchall()
    ]
    at = f" (first at line {', '.join(map(str, lines))})" if lines else ""
    raise SourceError(
        where,
        f"unknown {what}(s): {listed}{at}; nothing imported. Pass --allow-unmapped to keep "
        f"them {keep_as}",
        line=lines[0] if lines else None,
        field=field,
    )


def refuse_unknown_names(
    where: object,
    unknown: Mapping[str, int],
    first_seen: Mapping[str, str],
    *,
    field: str,
) -> SourceError:
    """The error for country names no reference resolves (unless --allow-unmapped).

    `unknown` maps each name to its row count, `first_seen` to where it first appears
    ("file, line 4" or "sheet 'Graphite', line 5").
    """
    listed = "; ".join(
        f"{name!r} ({count} row(s), first at {first_seen.get(name, '?')})"
        for name, count in sorted(unknown.items(), key=lambda item: (-item[1], item[0]))[:20]
    )
    return SourceError(
        where,
        f"unknown country name(s): {listed}; nothing imported. Pass --allow-unmapped to skip "
        "them (reported with counts)",
        field=field,
    )
