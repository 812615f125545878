"""Enhetsregisteret bulk files into the register's tables: reading, checking and upserting.

Reads the Brønnøysund Register Centre's files in their published layouts (see
`../shared/data/enhetsregisteret/PROVENANCE.txt`):

- the bulk download `/enhetsregisteret/api/{enheter,underenheter}/lastned`: a gzipped JSON
  array of unit objects. It is parsed one object at a time (`iter_json_array`: the C JSON
  scanner on a 1 MB sliding window), so a 1.5 M-unit file never sits in memory;
- the CSV download `.../lastned/csv`: one row per unit, nested fields flattened with dots
  (`naeringskode1.kode`, `forretningsadresse.kommunenummer`), plain or gzipped;
- a single unit object or an API search response (`_embedded.enheter`), both small.

Every record is checked (organisation number with its mod-11 check digit, name, NACE code
format, employees, municipality, dates); the first bad one stops the import with a
`SourceError` naming the file, line and field. The whole import runs in one transaction (all
or nothing) and upserts by organisation number, so running it again updates instead of
duplicating. Employees the register does not publish (fewer than 5, or not registered) stay
NULL, never 0.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from verdikart.errors import OfflineError, SourceError
from verdikart.register.models import NACE_STANDARDS, RegisterUnit

BULK_URLS = {
    ("unit", "json"): "https://data.brreg.no/enhetsregisteret/api/enheter/lastned",
    ("unit", "csv"): "https://data.brreg.no/enhetsregisteret/api/enheter/lastned/csv",
    ("sub-unit", "json"): "https://data.brreg.no/enhetsregisteret/api/underenheter/lastned",
    ("sub-unit", "csv"): "https://data.brreg.no/enhetsregisteret/api/underenheter/lastned/csv",
}
# organisation forms of sub-units (establishments): Bedrift, Annen enhet (public sector)
SUB_UNIT_FORMS = frozenset({"BEDR", "AAFY"})
CHUNK_CHARS = 1 << 20
MAX_RECORD_CHARS = 1 << 20  # one unit is ~2 kB; a "record" this long is a broken file
BATCH = 2000
ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
NACE_RE = re.compile(r"^\d{2}\.\d{1,3}$")
MUNICIPALITY_RE = re.compile(r"^\d{4}$")
FORM_RE = re.compile(r"[A-ZÆØÅ0-9]{1,10}")
NACE_KEYS = ("naeringskode1", "naeringskode2", "naeringskode3")
BETWEEN_RECORDS = re.compile(r"\}\s*,\s*\{")
SLOW_AFTER_MISS = 200  # records decoded one by one after a block failed to decode
ADDRESS_KEYS = ("forretningsadresse", "beliggenhetsadresse", "postadresse")


def orgnr_problem(value: object) -> str | None:
    """Why `value` is not a valid organisation number (9 digits, mod-11 check digit with
    weights 3,2,7,6,5,4,3,2 as Brønnøysundregistrene assign them), or None."""
    if not isinstance(value, str) or len(value) != 9 or not value.isascii() or not value.isdigit():
        return f"must be 9 digits, got {value!r}"
    d = value.encode("ascii")
    # the weights sum to 32: subtract 32 * ord("0") once instead of per digit
    total = 3 * d[0] + 2 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7]
    check = 11 - (total - 32 * 48) % 11
    if check == 11:
        check = 0
    if check == 10 or check != d[8] - 48:
        return f"{value} fails the mod-11 check digit"
    return None


def normalise_nace(value: str) -> str:
    """A NACE code or prefix as the register writes it: '2442' -> '24.42', '24' -> '24'."""
    digits = value.strip().replace(".", "")
    if not digits.isdigit() or not 2 <= len(digits) <= 5:
        raise SourceError("--nace", f"not a NACE code or prefix: {value!r}", field="nace")
    return digits if len(digits) == 2 else f"{digits[:2]}.{digits[2:]}"


@dataclass(frozen=True)
class UnitFilter:
    """Load only units with a NACE code starting with one of `nace`, in `county` (the first two
    digits of the municipality number) or in `municipality`. Empty = everything."""

    nace: tuple[str, ...] = ()
    county: str | None = None
    municipality: str | None = None

    def accepts(self, unit: UnitRecord) -> bool:
        if self.nace and not any(c.startswith(p) for c in unit.nace for p in self.nace):
            return False
        if self.county and not (unit.municipality or "").startswith(self.county):
            return False
        return not (self.municipality and unit.municipality != self.municipality)

    def describe(self) -> dict[str, Any]:
        return {"nace": list(self.nace), "county": self.county, "municipality": self.municipality}


def make_filter(
    nace: Iterable[str] = (), county: str | None = None, municipality: str | None = None
) -> UnitFilter:
    if county is not None and not re.fullmatch(r"\d{2}", county):
        raise SourceError("--county", f"a county number has 2 digits, got {county!r}")
    if municipality is not None and not MUNICIPALITY_RE.fullmatch(municipality):
        raise SourceError(
            "--municipality", f"a municipality number has 4 digits, got {municipality!r}"
        )
    return UnitFilter(tuple(normalise_nace(n) for n in nace), county, municipality)


@dataclass
class UnitRecord:
    organisation_number: str
    kind: str
    name: str
    organisational_form: str | None
    nace: list[str]
    employees: int | None
    municipality: str | None
    parent_number: str | None
    deleted: bool
    deleted_date: date | None
    bankrupt: bool
    under_liquidation: bool


@dataclass
class ImportResult:
    path: str
    layout: str
    nace_standard: str
    filter: dict[str, Any]
    read: int = 0
    inserted: int = 0
    updated: int = 0
    skipped_by_filter: int = 0
    seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "layout": self.layout,
            "nace_standard": self.nace_standard,
            "filter": self.filter,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "skipped_by_filter": self.skipped_by_filter,
            "units": self.kinds.get("unit", 0),
            "sub_units": self.kinds.get("sub-unit", 0),
            "seconds": round(self.seconds, 3),
        }


# --- reading ---------------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SourceError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(
            gzip.GzipFile(fileobj=raw), encoding="utf-8-sig", errors="strict", newline=""
        )
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")


def _first_char(text: IO[str], path: Path) -> str:
    try:
        head = text.read(4096)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"not a readable gzip/UTF-8 file: {exc}") from exc
    stripped = head.lstrip()
    return stripped[:1]


def detect_layout(path: Path) -> str:
    """'json-array' (the bulk download), 'json' (one unit or a search response) or 'csv'."""
    with _open_text(path) as text:
        first = _first_char(text, path)
    if not first:
        raise SourceError(path, "the file is empty")
    return {"[": "json-array", "{": "json"}.get(first, "csv")


@dataclass
class RecordGroup:
    """Consecutive records of a file: `values[k]` is record `first + k`. `lines` gives the line
    each starts on; a block decoded in one go (`text`) works its lines out only when asked
    (`line_of`, for an error message), so the fast path never counts per record."""

    first: int
    values: list[Any]
    line: int  # where values[0] starts
    lines: list[int] | None = None
    text: str | None = None  # the block's text, values[0] at its start
    label: str = "record"

    def where(self, index: int) -> str:
        if self.label == "row" and self.lines is not None:
            return f"row {self.lines[index]}"
        return f"{self.label} {self.first + index}"

    def line_of(self, index: int) -> int:
        if self.lines is not None:
            return self.lines[index]
        if index == 0 or self.text is None:
            return self.line
        text, pos, decoder = self.text, 0, json.JSONDecoder()
        for _ in range(index):
            pos = decoder.raw_decode(text, pos)[1]
            while text[pos] in " \t\r\n,":
                pos += 1
        return self.line + text.count("\n", 0, pos)


def _fast_loads() -> Callable[[str], Any] | None:
    try:
        import orjson
    except ImportError:  # pragma: no cover - a dependency; the C json scanner still works
        return None
    return orjson.loads


def iter_json_groups(text: IO[str], path: Path, *, fast: bool = True) -> Iterator[RecordGroup]:
    """The elements of a JSON array, read from a sliding window of the text.

    Fast path (orjson): the window up to the last `}` that is followed by `,` and `{` is
    decoded as one array. That succeeds only when the cut falls between two top-level
    records (a cut inside a string or an inner object leaves the text unbalanced), so the
    values are exactly the records of the block. When it fails (an unusual record, a broken
    one), records are decoded one at a time with Python's JSON scanner for a while, which also
    finds and names any error exactly as before."""
    decoder = json.JSONDecoder()
    loads = _fast_loads() if fast else None
    buf = ""
    pos = 0
    line = 1
    counted = 0  # buf[:counted] has been counted into `line`
    eof = False
    slow_left = 0  # records to decode one by one before trying a block again

    def more() -> bool:
        nonlocal buf, pos, counted, eof, line
        if eof:
            return False
        line += buf.count("\n", counted, pos)
        buf, counted = buf[pos:], 0
        pos = 0
        try:
            chunk = text.read(CHUNK_CHARS)
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise SourceError(path, f"not a readable gzip/UTF-8 file: {exc}", line=line) from exc
        if not chunk:
            eof = True
            return False
        buf += chunk
        return True

    def at(index: int) -> int:
        nonlocal line, counted
        line += buf.count("\n", counted, index)
        counted = index
        return line

    def next_char() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not more():
                return ""

    def block_end() -> int:
        """Index of the last `}` in the window followed by `,` and `{` (-1: none)."""
        end = len(buf)
        while True:
            cut = buf.rfind("}", pos, end)
            if cut < 0:
                return -1
            match = BETWEEN_RECORDS.match(buf, cut)
            if match:
                return cut
            end = cut

    if next_char() != "[":
        raise SourceError(path, "expected a JSON array of units ('[')", line=at(pos))
    pos += 1
    number = 0
    while True:
        char = next_char()
        if char == "]":
            pos += 1
            if next_char():
                raise SourceError(path, "text after the end of the array", line=at(pos))
            return
        if not char:
            raise SourceError(path, "the array is not closed (truncated file?)", line=at(pos))
        if number:
            if char != ",":
                raise SourceError(
                    path, f"expected ',' between records, found {char!r}", line=at(pos)
                )
            pos += 1
            if not next_char():
                raise SourceError(path, "the array is not closed (truncated file?)", line=at(pos))
        if loads is not None and slow_left == 0:
            if len(buf) - pos < CHUNK_CHARS // 2:
                more()
            cut = block_end()
            if cut >= 0:
                block = buf[pos : cut + 1]
                try:
                    values = loads("[" + block + "]")
                except ValueError:
                    slow_left = SLOW_AFTER_MISS
                else:
                    yield RecordGroup(number + 1, values, at(pos), text=block)
                    number += len(values)
                    pos = cut + 1
                    continue
        elif slow_left:
            slow_left -= 1
        number += 1
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if len(buf) - pos < MAX_RECORD_CHARS and more():
                    continue
                start = at(pos)
                cut_note = " (the file ends inside it: truncated?)" if eof else ""
                raise SourceError(
                    path,
                    f"record {number} (starting on line {start}) is not valid JSON: "
                    f"{exc.msg}{cut_note}",
                    line=at(exc.pos) if exc.pos >= pos else start,
                ) from exc
        yield RecordGroup(number, [value], at(pos))
        pos = end


def iter_json_array(
    text: IO[str], path: Path, *, fast: bool = True
) -> Iterator[tuple[int, int, Any]]:
    """(record number from 1, line of its start, value) for each element of a JSON array,
    decoding from a sliding window of the text (see `iter_json_groups`)."""
    for group in iter_json_groups(text, path, fast=fast):
        for index, value in enumerate(group.values):
            yield group.first + index, group.line_of(index), value


def _unflatten(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            continue
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return out


def iter_groups(path: Path, *, group_rows: int = 1000) -> Iterator[RecordGroup]:
    """The file's units in groups of consecutive records, in any supported layout; a group
    names its records for messages (`where`: 'record 12' or 'row 12') and their lines."""
    layout = detect_layout(path)
    with _open_text(path) as text:
        if layout == "json-array":
            yield from iter_json_groups(text, path)
        elif layout == "json":
            try:
                doc = json.load(text)
            except json.JSONDecodeError as exc:
                raise SourceError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
            except UnicodeDecodeError as exc:
                raise SourceError(path, f"not UTF-8: {exc}") from exc
            embedded = doc.get("_embedded") if isinstance(doc, dict) else None
            if isinstance(embedded, dict):
                units = [u for key in ("enheter", "underenheter") for u in embedded.get(key, [])]
            else:
                units = [doc]
            yield RecordGroup(1, units, 1, lines=[1] * len(units))
        else:
            reader = csv.DictReader(text)
            if not reader.fieldnames or "organisasjonsnummer" not in reader.fieldnames:
                raise SourceError(
                    path,
                    "not an Enhetsregisteret file: a CSV needs an 'organisasjonsnummer' column "
                    "(or give the JSON download)",
                    line=1,
                )
            rows: list[Any] = []
            lines: list[int] = []
            try:
                for row in reader:
                    if None in row:
                        raise SourceError(
                            path, "more cells than header columns", line=reader.line_num
                        )
                    rows.append(_unflatten(row))
                    lines.append(reader.line_num)
                    if len(rows) >= group_rows:
                        yield RecordGroup(0, rows, lines[0], lines=lines, label="row")
                        rows, lines = [], []
            except csv.Error as exc:
                raise SourceError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
            except UnicodeDecodeError as exc:
                raise SourceError(path, f"not UTF-8: {exc}", line=reader.line_num) from exc
            if rows:
                yield RecordGroup(0, rows, lines[0], lines=lines, label="row")


def iter_records(path: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(line, where, raw unit object) for every unit in the file, in any supported layout;
    `where` names the record for messages ('record 12' or 'row 12')."""
    for group in iter_groups(path):
        for index, value in enumerate(group.values):
            if not isinstance(value, dict):
                raise SourceError(
                    path,
                    f"{group.where(index)} is not a JSON object (a unit)",
                    line=group.line_of(index),
                )
            yield group.line_of(index), group.where(index), value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    return None


def _flag(value: Any, path: Path, line: int, name: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SourceError(path, f"expected true or false, got {value!r}", line=line, field=name)


def _date(value: Any, path: Path, line: int, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise SourceError(
            path, f"expected a date YYYY-MM-DD, got {value!r}", line=line, field=name
        ) from exc


def parse_unit(raw: dict[str, Any], path: Path, line: int, where: str, kind: str) -> UnitRecord:
    """One unit object (JSON or an unflattened CSV row) -> UnitRecord, or a SourceError naming
    the field. `kind` 'auto' takes sub-units by their organisation form (BEDR, AAFY).

    Runs once per unit (1.5 M times for the whole register), so the common case is written
    out inline; every value still goes through the same checks."""

    def fail(name: str, problem: str) -> SourceError:
        return SourceError(path, f"{where}: {problem}", line=line, field=name)

    get = raw.get
    number = get("organisasjonsnummer")
    if isinstance(number, str):
        number = number.strip()
    problem = orgnr_problem(number)
    if problem or not isinstance(number, str):
        raise fail("organisasjonsnummer", problem or "missing")
    name = get("navn")
    name = (name.strip() or None) if isinstance(name, str) else None
    if name is None:
        raise fail("navn", "the name is missing")
    if "\x00" in name:
        raise fail("navn", "contains a NUL character (\\x00)")
    form_obj = get("organisasjonsform")
    form = _text(form_obj.get("kode")) if isinstance(form_obj, dict) else _text(form_obj)
    if form is not None and not FORM_RE.fullmatch(form):
        raise fail("organisasjonsform.kode", f"not an organisation form code: {form!r}")
    nace: list[str] = []
    for key in NACE_KEYS:
        obj = get(key)
        if obj is None or obj == "":
            continue
        code = _text(obj.get("kode")) if isinstance(obj, dict) else None
        if code is None:
            if isinstance(obj, dict) and not any(obj.values()):
                continue  # an empty CSV group: all its cells blank
            raise fail(f"{key}.kode", "the industry code is missing")
        if not NACE_RE.fullmatch(code):
            raise fail(f"{key}.kode", f"not a NACE code (NN.NNN): {code!r}")
        nace.append(code)
    employees: int | None = None
    registered = get("harRegistrertAntallAnsatte")
    count = get("antallAnsatte")
    if registered is True or registered is False:
        registered_flag: bool | None = registered
    elif registered is not None and registered != "":
        registered_flag = _flag(registered, path, line, "harRegistrertAntallAnsatte")
    else:
        registered_flag = None
    if count is not None and count != "" and registered_flag is not False:
        if isinstance(count, bool):
            raise fail("antallAnsatte", f"not a whole number: {count!r}")
        if type(count) is int:
            employees = count
        else:
            try:
                employees = int(count)
            except (TypeError, ValueError):
                raise fail("antallAnsatte", f"not a whole number: {count!r}") from None
        if employees < 0:
            raise fail("antallAnsatte", f"negative: {employees}")
    municipality = None
    for address in ADDRESS_KEYS:
        obj = get(address)
        if isinstance(obj, dict):
            municipality = _text(obj.get("kommunenummer"))
            if municipality:
                if not MUNICIPALITY_RE.fullmatch(municipality):
                    raise fail(f"{address}.kommunenummer", f"not 4 digits: {municipality!r}")
                break
    parent = _text(get("overordnetEnhet"))
    if parent is not None:
        problem = orgnr_problem(parent)
        if problem:
            raise fail("overordnetEnhet", problem)
    deleted_date = _date(get("slettedato"), path, line, "slettedato") or _date(
        get("nedleggelsesdato"), path, line, "nedleggelsesdato"
    )
    if kind == "auto":
        kind = "sub-unit" if form in SUB_UNIT_FORMS else "unit"
    bankrupt = get("konkurs")
    if bankrupt is not True and bankrupt is not False:
        bankrupt = _flag(bankrupt, path, line, "konkurs")
    winding_up = get("underAvvikling")
    if winding_up is not True and winding_up is not False:
        winding_up = _flag(winding_up, path, line, "underAvvikling")
    forced = get("underTvangsavviklingEllerTvangsopplosning")
    if forced is not True and forced is not False:
        forced = _flag(forced, path, line, "underTvangsavviklingEllerTvangsopplosning")
    return UnitRecord(
        organisation_number=number,
        kind=kind,
        name=name[:500],
        organisational_form=form,
        nace=nace,
        employees=employees,
        municipality=municipality,
        parent_number=parent,
        deleted=deleted_date is not None,
        deleted_date=deleted_date,
        bankrupt=bankrupt,
        under_liquidation=winding_up or forced,
    )


# --- writing ---------------------------------------------------------------------------------


UNIT_COLUMNS = (
    "organisation_number",
    "kind",
    "name",
    "organisational_form",
    "employees",
    "municipality",
    "parent_number",
    "deleted",
    "deleted_date",
    "bankrupt",
    "under_liquidation",
    "imported_at",
)
NACE_COLUMNS = ("organisation_number", "standard", "position", "code")
SQLITE_IMPORT_CACHE_KIB = 131_072  # page cache of the importing connection while it imports
PG_IMPORT_WORK_MEM = "128MB"  # PostgreSQL's work_mem for the import's final statements


def _driver_connection(session: Session) -> Any:
    """The DB-API connection under the session's transaction (sqlite3 or psycopg)."""
    driver = session.connection().connection.driver_connection
    if driver is None:  # pragma: no cover - a live session always has one
        raise RuntimeError("the session has no database connection")
    return driver


def _upsert_sql(placeholders: str) -> str:
    """INSERT ... ON CONFLICT DO UPDATE of rg_unit (the same text on SQLite and PostgreSQL);
    `placeholders` the VALUES list or a SELECT."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in UNIT_COLUMNS[1:])
    return (
        f"INSERT INTO rg_unit ({', '.join(UNIT_COLUMNS)}) {placeholders} "
        f"ON CONFLICT (organisation_number) DO UPDATE SET {updates}"
    )


class _SqliteWriter:
    """Upserts batches with the driver's executemany on plain tuples, in the session's
    transaction (no per-row work in SQLAlchemy: the dates are converted with the columns' own
    bind processors). New units are counted from the table's size before and after: the
    transaction holds SQLite's write lock (BEGIN IMMEDIATE), so nobody else adds rows.
    While it runs, the connection's page cache is raised (the default 2 MB makes every index
    insert of a large register a read from the OS), and restored afterwards."""

    def __init__(self, session: Session, standard: str, now: datetime) -> None:
        connection = session.connection()
        dialect = connection.dialect
        table: Any = RegisterUnit.__table__
        self._date = table.c.deleted_date.type.dialect_impl(dialect).bind_processor(dialect)
        stamp = table.c.imported_at.type.dialect_impl(dialect).bind_processor(dialect)
        self._now = stamp(now) if stamp else now
        self._standard = standard
        self._cursor = _driver_connection(session).cursor()
        self._cursor.execute("PRAGMA cache_size")
        self._cache = int(self._cursor.fetchone()[0])
        self._cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
        self._before = self._count()
        self._written = 0
        self._upsert = _upsert_sql(f"VALUES ({', '.join('?' * len(UNIT_COLUMNS))})")

    def _count(self) -> int:
        self._cursor.execute("SELECT count(*) FROM rg_unit")
        return int(self._cursor.fetchone()[0])

    def write(self, batch: dict[str, UnitRecord]) -> None:
        now, to_date, standard = self._now, self._date, self._standard
        cursor = self._cursor
        cursor.executemany(
            self._upsert,
            [
                (u.organisation_number, u.kind, u.name, u.organisational_form, u.employees,
                 u.municipality, u.parent_number, u.deleted,
                 to_date(u.deleted_date) if to_date and u.deleted_date else u.deleted_date,
                 u.bankrupt, u.under_liquidation, now)
                for u in batch.values()
            ],
        )  # fmt: skip
        # the codes in `standard` replace the stored ones: positions past the new list go, the
        # others are upserted, written only when the code changed (a re-import of an
        # unchanged register then rewrites no code rows)
        cursor.executemany(
            "DELETE FROM rg_unit_nace "
            "WHERE organisation_number = ? AND standard = ? AND position > ?",
            [(u.organisation_number, standard, len(u.nace)) for u in batch.values()],
        )
        cursor.executemany(
            "INSERT INTO rg_unit_nace (organisation_number, standard, position, code) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (organisation_number, standard, position) "
            "DO UPDATE SET code = excluded.code WHERE rg_unit_nace.code <> excluded.code",
            [
                (u.organisation_number, standard, i, code)
                for u in batch.values()
                for i, code in enumerate(u.nace, start=1)
            ],
        )
        self._written += len(batch)

    def finish(self) -> tuple[int, int]:
        inserted = self._count() - self._before
        return inserted, self._written - inserted

    def close(self) -> None:
        self._cursor.execute(f"PRAGMA cache_size = {self._cache}")
        self._cursor.close()


class _PostgresWriter:
    """COPY of every accepted unit into temporary tables (dropped at commit), then one
    INSERT ... ON CONFLICT DO UPDATE from them (the last occurrence of a repeated unit wins;
    `xmax = 0` marks the rows that were inserted rather than updated) and one replacement of
    the NACE codes of the standard; all in the session's transaction."""

    def __init__(self, session: Session, standard: str, now: datetime) -> None:
        self._connection = _driver_connection(session)
        self._standard = standard
        self._now = now
        self._seq = 0
        self._written = 0
        with self._connection.cursor() as cur:
            cur.execute(
                "DROP TABLE IF EXISTS pg_temp.rg_import_unit, pg_temp.rg_import_nace, "
                "pg_temp.rg_import_latest"
            )
            cur.execute(
                "CREATE TEMP TABLE rg_import_unit (seq bigint, LIKE rg_unit) ON COMMIT DROP"
            )
            cur.execute(
                "CREATE TEMP TABLE rg_import_nace (seq bigint, organisation_number varchar(9), "
                "position integer, code varchar(10)) ON COMMIT DROP"
            )

    def write(self, batch: dict[str, UnitRecord]) -> None:
        now, seq = self._now, self._seq
        with self._connection.cursor() as cur:
            with cur.copy(
                f"COPY rg_import_unit (seq, {', '.join(UNIT_COLUMNS)}) FROM STDIN"
            ) as copy:
                for i, u in enumerate(batch.values(), start=seq):
                    copy.write_row(
                        (i, u.organisation_number, u.kind, u.name, u.organisational_form,
                         u.employees, u.municipality, u.parent_number, u.deleted,
                         u.deleted_date, u.bankrupt, u.under_liquidation, now)
                    )  # fmt: skip
            with cur.copy(
                "COPY rg_import_nace (seq, organisation_number, position, code) FROM STDIN"
            ) as copy:
                for i, u in enumerate(batch.values(), start=seq):
                    for position, code in enumerate(u.nace, start=1):
                        copy.write_row((i, u.organisation_number, position, code))
        self._seq += len(batch)
        self._written += len(batch)

    def finish(self) -> tuple[int, int]:
        columns = ", ".join(UNIT_COLUMNS)
        with self._connection.cursor() as cur:
            # sorts and hashes of the 1.5 M-row register in memory, for this transaction only
            cur.execute("SHOW work_mem")
            row = cur.fetchone()
            work_mem = str(row[0]) if row else None
            cur.execute(f"SET LOCAL work_mem = '{PG_IMPORT_WORK_MEM}'")
            cur.execute(
                "CREATE TEMP TABLE rg_import_latest ON COMMIT DROP AS "
                "SELECT DISTINCT ON (organisation_number) * FROM rg_import_unit "
                "ORDER BY organisation_number, seq DESC"
            )
            cur.execute("ANALYZE rg_import_latest")
            cur.execute("ANALYZE rg_import_nace")
            cur.execute(
                "WITH up AS ("
                + _upsert_sql(f"SELECT {columns} FROM rg_import_latest")
                + " RETURNING (xmax = 0) AS fresh) SELECT count(*) FILTER (WHERE fresh) FROM up"
            )
            row = cur.fetchone()
            inserted = int(row[0]) if row else 0
            cur.execute(
                "DELETE FROM rg_unit_nace n USING rg_import_latest t "
                "WHERE n.organisation_number = t.organisation_number AND n.standard = %s",
                (self._standard,),
            )
            cur.execute(
                "INSERT INTO rg_unit_nace (organisation_number, standard, position, code) "
                "SELECT n.organisation_number, %s, n.position, n.code FROM rg_import_nace n "
                "JOIN rg_import_latest latest USING (organisation_number, seq)",
                (self._standard,),
            )
            if work_mem is not None:
                cur.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))
        return inserted, self._written - inserted

    def close(self) -> None:
        """Nothing to undo: the temporary tables and work_mem go with the transaction (on an
        error it rolls back; a statement now would only fail in the aborted transaction)."""


def _writer(session: Session, standard: str, now: datetime) -> _SqliteWriter | _PostgresWriter:
    if session.get_bind().dialect.name == "postgresql":
        return _PostgresWriter(session, standard, now)
    return _SqliteWriter(session, standard, now)


def import_units(
    session: Session,
    path: Path,
    *,
    unit_filter: UnitFilter | None = None,
    nace_standard: str = "SN2025",
    kind: str = "auto",
) -> ImportResult:
    """Stream `path` into the register in the caller's transaction (the caller commits; any
    error leaves nothing behind). A unit repeated in the file: the last occurrence wins."""
    if nace_standard not in NACE_STANDARDS:
        raise SourceError(
            "--nace-standard", f"one of {', '.join(NACE_STANDARDS)}, got {nace_standard!r}"
        )
    if kind not in ("auto", "unit", "sub-unit"):
        raise SourceError("--kind", f"auto, unit or sub-unit, got {kind!r}")
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "no such file")
    unit_filter = unit_filter or UnitFilter()
    accepts = unit_filter.accepts if unit_filter.describe() != UnitFilter().describe() else None
    started = time.perf_counter()
    result = ImportResult(str(path), detect_layout(path), nace_standard, unit_filter.describe())
    kinds = result.kinds
    writer = _writer(session, nace_standard, datetime.now(UTC))
    try:
        batch: dict[str, UnitRecord] = {}
        for group in iter_groups(path):
            for index, raw in enumerate(group.values):
                if not isinstance(raw, dict):
                    raise SourceError(
                        path,
                        f"{group.where(index)} is not a JSON object (a unit)",
                        line=group.line_of(index),
                    )
                try:
                    unit = parse_unit(raw, path, group.line, "", kind)
                except SourceError:
                    # the same check again, now with the record's name and line in the message
                    parse_unit(raw, path, group.line_of(index), group.where(index), kind)
                    raise
                if accepts is not None and not accepts(unit):
                    result.skipped_by_filter += 1
                    continue
                kinds[unit.kind] = kinds.get(unit.kind, 0) + 1
                batch[unit.organisation_number] = unit
                if len(batch) >= BATCH:
                    writer.write(batch)
                    batch = {}
            result.read += len(group.values)
        if batch:
            writer.write(batch)
        if result.read == 0:
            raise SourceError(path, "no units in the file")
        result.inserted, result.updated = writer.finish()
    finally:
        writer.close()
    result.seconds = time.perf_counter() - started
    return result


def download_bulk(dest_dir: Path, *, kind: str = "unit", fmt: str = "json") -> Path:
    """Fetch today's bulk file from Brønnøysundregistrene (open data, NLOD licence) into
    `dest_dir`; without network an OfflineError says where to get it by hand."""
    from verdikart.sources._common import download

    url = BULK_URLS[(kind, fmt)]
    stem = "enheter" if kind == "unit" else "underenheter"
    dest = Path(dest_dir) / (f"{stem}.json.gz" if fmt == "json" else f"{stem}.csv.gz")
    headers = {"Accept": "application/octet-stream"}
    try:
        return download(url, dest, headers=headers, timeout=60.0)
    except OfflineError as exc:
        raise OfflineError(
            f"cannot download {url}: no network? Download the file by hand from that address "
            f"(a browser saves it as {dest.name}) and run `verdikart register import {dest.name}`."
        ) from exc


__all__ = [
    "BULK_URLS",
    "ImportResult",
    "UnitFilter",
    "UnitRecord",
    "detect_layout",
    "download_bulk",
    "import_units",
    "iter_json_array",
    "iter_records",
    "make_filter",
    "normalise_nace",
    "orgnr_problem",
    "parse_unit",
]
