"""The dated policy-event table: export controls, bans, tariffs and sanctions, a source each.

Owns ``reference/data/events.toml`` (and any user table of the same format given with
``--events FILE``): one ``[[event]]`` per measure with

* ``id`` (stable, used in alert ids), ``date`` (in force, YYYY-MM-DD), ``announced`` (optional);
* ``country``: who imposes it (a country or group: CHN, USA, EU27);
* ``kind``: export-control | export-ban | import-tariff | import-ban | sanction;
* ``materials``: material ids or names of the reference;
* ``partners``: for export measures the importers it targets, for import measures the
  exporters it targets (empty = all);
* ``title``, ``source`` (a URL or a full citation; required), ``note``.

The watch cites the events (:mod:`verdikart.scenarios.watch`). Bad rows name file, line and
reason: an unknown country or material, an unknown kind, a date that does not parse, a row
without a source, a repeated id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from verdikart.errors import UnknownCodeError
from verdikart.reference._data import data_path
from verdikart.scenarios.doc import DataFile, parse_date

EVENTS_FILE = "events.toml"
KINDS = ("export-control", "export-ban", "import-tariff", "import-ban", "sanction")
EXPORT_KINDS = ("export-control", "export-ban")
_KEYS = {
    "id",
    "date",
    "announced",
    "country",
    "kind",
    "materials",
    "partners",
    "title",
    "source",
    "note",
}


@dataclass(frozen=True)
class PolicyEvent:
    """One dated measure on the trade of some materials."""

    id: str
    date: dt.date
    country: str
    kind: str
    materials: tuple[str, ...]
    title: str
    source: str
    partners: tuple[str, ...] = ()
    announced: dt.date | None = None
    note: str | None = None
    line: int | None = None

    @property
    def is_export_measure(self) -> bool:
        return self.kind in EXPORT_KINDS


def _country(doc: DataFile, value: Any, *path: Any) -> str:
    from verdikart.reference.countries import resolve_country

    try:
        return resolve_country(str(value)).id
    except UnknownCodeError as exc:
        raise doc.fail(str(exc), *path) from exc


def _date(doc: DataFile, value: Any, *path: Any) -> dt.date:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise doc.fail(f"date {value!r} does not parse (write YYYY-MM-DD): {exc}", *path) from exc


def read_events(path: str | Path) -> tuple[PolicyEvent, ...]:
    """An event table (TOML or YAML), checked; SourceError naming file, line and reason."""
    from verdikart.reference.materials import find_material, material_suggestions

    doc = DataFile.read(path)
    unknown = sorted(set(doc.data) - {"event"})
    if unknown:
        raise doc.fail(f"unknown table(s) {unknown}; an event table has [[event]] rows", unknown[0])
    rows = doc.data.get("event", [])
    if not isinstance(rows, list):
        raise doc.fail("[[event]] rows expected", "event")
    out: list[PolicyEvent] = []
    seen: set[str] = set()
    for i, raw in enumerate(rows):
        where = ("event", i)
        if not isinstance(raw, dict):
            raise doc.fail("each event is a table", *where)
        bad = sorted(set(raw) - _KEYS)
        if bad:
            raise doc.fail(f"unknown key(s) {bad}; allowed: {sorted(_KEYS)}", *where, bad[0])
        for key in ("id", "date", "country", "kind", "materials", "title", "source"):
            if key not in raw or raw[key] in ("", [], None):
                problem = "has no source (a URL or citation)" if key == "source" else "is missing"
                raise doc.fail(f"event #{i + 1}: '{key}' {problem}", *where, key)
        eid = str(raw["id"]).strip()
        if eid in seen:
            raise doc.fail(f"event id {eid!r} used twice", *where, "id")
        seen.add(eid)
        if raw["kind"] not in KINDS:
            raise doc.fail(f"kind {raw['kind']!r} is not one of {', '.join(KINDS)}", *where, "kind")
        materials = raw["materials"]
        if isinstance(materials, str):
            materials = [materials]
        ids = []
        for j, name in enumerate(materials):
            found = find_material(str(name))
            if found is None:
                close = material_suggestions(str(name))
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise doc.fail(f"unknown material {name!r}{hint}", *where, "materials", j)
            ids.append(found.id)
        partners = raw.get("partners", [])
        if isinstance(partners, str):
            partners = [partners]
        out.append(
            PolicyEvent(
                id=eid,
                date=_date(doc, raw["date"], *where, "date"),
                announced=None
                if raw.get("announced") is None
                else _date(doc, raw["announced"], *where, "announced"),
                country=_country(doc, raw["country"], *where, "country"),
                kind=raw["kind"],
                materials=tuple(dict.fromkeys(ids)),
                partners=tuple(
                    _country(doc, p, *where, "partners", j) for j, p in enumerate(partners)
                ),
                title=str(raw["title"]).strip(),
                source=str(raw["source"]).strip(),
                note=raw.get("note"),
                line=doc.line(*where),
            )
        )
    return tuple(sorted(out, key=lambda e: (e.date, e.id)))


@lru_cache(maxsize=1)
def _shipped() -> tuple[PolicyEvent, ...]:
    return read_events(data_path(EVENTS_FILE))


def load_events(path: str | Path | None = None) -> tuple[PolicyEvent, ...]:
    """The shipped event table, or the one at `path`."""
    return _shipped() if path is None else read_events(path)
