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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from verdikart.errors import OfflineError, SourceError
from verdikart.register.models import NACE_STANDARDS, RegisterNace, RegisterUnit

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
BATCH = 1000
ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
NACE_RE = re.compile(r"^\d{2}\.\d{1,3}$")
MUNICIPALITY_RE = re.compile(r"^\d{4}$")


def orgnr_problem(value: object) -> str | None:
    """Why `value` is not a valid organisation number (9 digits, mod-11 check digit with
    weights 3,2,7,6,5,4,3,2 as Brønnøysundregistrene assign them), or None."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{9}", value):
        return f"must be 9 digits, got {value!r}"
    total = sum(int(d) * w for d, w in zip(value[:8], ORGNR_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(value[8]):
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


def iter_json_array(text: IO[str], path: Path) -> Iterator[tuple[int, int, Any]]:
    """(record number from 1, line of its start, value) for each element of a JSON array,
    decoding one element at a time from a sliding window of the text."""
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    line = 1
    counted = 0  # buf[:counted] has been counted into `line`
    eof = False

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
        number += 1
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if len(buf) - pos < MAX_RECORD_CHARS and more():
                    continue
                start = at(pos)
                cut = " (the file ends inside it: truncated?)" if eof else ""
                raise SourceError(
                    path,
                    f"record {number} (starting on line {start}) is not valid JSON: {exc.msg}{cut}",
                    line=at(exc.pos) if exc.pos >= pos else start,
                ) from exc
        yield number, at(pos), value
        pos = end


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


def iter_records(path: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(line, where, raw unit object) for every unit in the file, in any supported layout;
    `where` names the record for messages ('record 12' or 'row 12')."""
    layout = detect_layout(path)
    with _open_text(path) as text:
        if layout == "json-array":
            for number, line, value in iter_json_array(text, path):
                if not isinstance(value, dict):
                    raise SourceError(
                        path, f"record {number} is not a JSON object (a unit)", line=line
                    )
                yield line, f"record {number}", value
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
            for number, unit in enumerate(units, start=1):
                if not isinstance(unit, dict):
                    raise SourceError(path, f"record {number} is not a JSON object (a unit)")
                yield 1, f"record {number}", unit
        else:
            reader = csv.DictReader(text)
            if not reader.fieldnames or "organisasjonsnummer" not in reader.fieldnames:
                raise SourceError(
                    path,
                    "not an Enhetsregisteret file: a CSV needs an 'organisasjonsnummer' column "
                    "(or give the JSON download)",
                    line=1,
                )
            try:
                for row in reader:
                    if None in row:
                        raise SourceError(
                            path, "more cells than header columns", line=reader.line_num
                        )
                    yield reader.line_num, f"row {reader.line_num}", _unflatten(row)
            except csv.Error as exc:
                raise SourceError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
            except UnicodeDecodeError as exc:
                raise SourceError(path, f"not UTF-8: {exc}", line=reader.line_num) from exc


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
    the field. `kind` 'auto' takes sub-units by their organisation form (BEDR, AAFY)."""

    def fail(name: str, problem: str) -> SourceError:
        return SourceError(path, f"{where}: {problem}", line=line, field=name)

    number = raw.get("organisasjonsnummer")
    if isinstance(number, str):
        number = number.strip()
    problem = orgnr_problem(number)
    if problem or not isinstance(number, str):
        raise fail("organisasjonsnummer", problem or "missing")
    name = _text(raw.get("navn"))
    if name is None:
        raise fail("navn", "the name is missing")
    if "\x00" in name:
        raise fail("navn", "contains a NUL character (\\x00)")
    form_obj = raw.get("organisasjonsform")
    form = _text(form_obj.get("kode")) if isinstance(form_obj, dict) else _text(form_obj)
    if form is not None and not re.fullmatch(r"[A-ZÆØÅ0-9]{1,10}", form):
        raise fail("organisasjonsform.kode", f"not an organisation form code: {form!r}")
    nace: list[str] = []
    for i in (1, 2, 3):
        key = f"naeringskode{i}"
        obj = raw.get(key)
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
    registered = raw.get("harRegistrertAntallAnsatte")
    count = raw.get("antallAnsatte")
    if registered is not None and registered != "":
        registered_flag = _flag(registered, path, line, "harRegistrertAntallAnsatte")
    else:
        registered_flag = None
    if count is not None and count != "" and registered_flag is not False:
        if isinstance(count, bool):
            raise fail("antallAnsatte", f"not a whole number: {count!r}")
        try:
            employees = int(count)
        except (TypeError, ValueError):
            raise fail("antallAnsatte", f"not a whole number: {count!r}") from None
        if employees < 0:
            raise fail("antallAnsatte", f"negative: {employees}")
    municipality = None
    for address in ("forretningsadresse", "beliggenhetsadresse", "postadresse"):
        obj = raw.get(address)
        if isinstance(obj, dict) and _text(obj.get("kommunenummer")):
            municipality = _text(obj.get("kommunenummer"))
            if not MUNICIPALITY_RE.fullmatch(municipality or ""):
                raise fail(f"{address}.kommunenummer", f"not 4 digits: {municipality!r}")
            break
    parent = _text(raw.get("overordnetEnhet"))
    if parent is not None:
        problem = orgnr_problem(parent)
        if problem:
            raise fail("overordnetEnhet", problem)
    deleted_date = _date(raw.get("slettedato"), path, line, "slettedato") or _date(
        raw.get("nedleggelsesdato"), path, line, "nedleggelsesdato"
    )
    if kind == "auto":
        kind = "sub-unit" if form in SUB_UNIT_FORMS else "unit"
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
        bankrupt=_flag(raw.get("konkurs"), path, line, "konkurs"),
        under_liquidation=_flag(raw.get("underAvvikling"), path, line, "underAvvikling")
        or _flag(
            raw.get("underTvangsavviklingEllerTvangsopplosning"),
            path,
            line,
            "underTvangsavviklingEllerTvangsopplosning",
        ),
    )


# --- writing ---------------------------------------------------------------------------------


def _upsert(session: Session, batch: dict[str, UnitRecord], standard: str) -> tuple[int, int]:
    """Insert or update `batch` (keyed by organisation number); its NACE codes in `standard`
    replace the stored ones (codes in the other standard stay). Returns (inserted, updated)."""
    numbers = list(batch)
    existing = set(
        session.scalars(
            select(RegisterUnit.organisation_number).where(
                RegisterUnit.organisation_number.in_(numbers)
            )
        )
    )
    now = datetime.now(UTC)
    rows = [
        {
            "organisation_number": u.organisation_number,
            "kind": u.kind,
            "name": u.name,
            "organisational_form": u.organisational_form,
            "employees": u.employees,
            "municipality": u.municipality,
            "parent_number": u.parent_number,
            "deleted": u.deleted,
            "deleted_date": u.deleted_date,
            "bankrupt": u.bankrupt,
            "under_liquidation": u.under_liquidation,
            "imported_at": now,
        }
        for u in batch.values()
    ]
    # ON CONFLICT ... DO UPDATE: both databases spell it the same, each dialect builds it; one
    # cached statement run over the batch (executemany), not a freshly compiled VALUES list; on
    # the Core tables (the ORM would run an upsert row by row)
    connection = session.connection()
    unit_table: Any = RegisterUnit.__table__
    stmt: Any
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(unit_table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(unit_table)
    columns = [k for k in rows[0] if k != "organisation_number"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["organisation_number"], set_={c: stmt.excluded[c] for c in columns}
    )
    connection.execute(stmt, rows)
    connection.execute(
        delete(RegisterNace).where(
            RegisterNace.organisation_number.in_(numbers), RegisterNace.standard == standard
        )
    )
    nace_rows = [
        {"organisation_number": u.organisation_number, "standard": standard, "position": i,
         "code": code}
        for u in batch.values()
        for i, code in enumerate(u.nace, start=1)
    ]  # fmt: skip
    if nace_rows:
        nace_table: Any = RegisterNace.__table__
        connection.execute(insert(nace_table), nace_rows)
    return len(numbers) - len(existing & set(numbers)), len(existing & set(numbers))


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
    started = time.perf_counter()
    result = ImportResult(str(path), detect_layout(path), nace_standard, unit_filter.describe())
    batch: dict[str, UnitRecord] = {}
    for line, where, raw in iter_records(path):
        unit = parse_unit(raw, path, line, where, kind)
        result.read += 1
        if not unit_filter.accepts(unit):
            result.skipped_by_filter += 1
            continue
        result.kinds[unit.kind] = result.kinds.get(unit.kind, 0) + 1
        batch[unit.organisation_number] = unit
        if len(batch) >= BATCH:
            inserted, updated = _upsert(session, batch, nace_standard)
            result.inserted += inserted
            result.updated += updated
            batch = {}
    if batch:
        inserted, updated = _upsert(session, batch, nace_standard)
        result.inserted += inserted
        result.updated += updated
    if result.read == 0:
        raise SourceError(path, "no units in the file")
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
