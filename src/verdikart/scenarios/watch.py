"""The early-warning watch: rule thresholds, alert ids, evidence, sources and alerts seen.

Owns :func:`run_watch` (what :meth:`verdikart.app.Verdikart.watch` calls). The rules are
Ibis expressions (:mod:`verdikart.indicators.watch`); this module reads their thresholds
(``reference/data/watch.toml``, overridden by ``--rules FILE``), builds the inputs (every
material's HS92 codes, the countries, the window of years, the policy events of
:mod:`verdikart.scenarios.events` and the changes between editions of the EU list), and turns
the rows into alerts:

* ``id``: a digest of what the alert is about (rule, country, material, partner, year, event,
  stage), so the same finding has the same id in every run; alerts with one id are one alert;
* ``evidence`` in English or Norwegian with the numbers; ``sources``: the data's label, the
  rule's source and the event's;
* ``date``: when the change happened (an event's date in force, a list's date, the end of a
  data year); ``first_seen``: the day a run first raised the id (the first run, with no
  record yet, is the baseline: its alerts count as seen on their own date) and ``new`` (not
  raised by an earlier run; the record is a JSON file of ids and dates). ``since`` keeps
  alerts dated or first seen on or after it: what happened, or reached the data, since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.reference._data import data_path
from verdikart.scenarios.doc import DataFile, parse_date

if TYPE_CHECKING:
    from verdikart.engine import Engine
    from verdikart.relations import Relations
    from verdikart.scenarios.events import PolicyEvent

Progress = Callable[[str], None]
RULES_FILE = "watch.toml"
EU_EDITIONS = ("eu2011", "eu2014", "eu2017", "eu2020", "eu2023")
# the thresholds each rule reads, and which of them are shares (0..1)
RULE_KEYS: dict[str, dict[str, bool]] = {
    "supplier_share": {"threshold": True},
    "hhi_rise": {"points": False, "min_hhi_points": False},
    "new_dominant_supplier": {"min_share": True},
    "export_drop": {"drop": True, "min_share": True},
    "unit_value_jump": {"change": False},
    "production_hhi_rise": {"points": False},
    "list_status_change": {},
    "policy_event": {"min_share": True},
}
RULES = tuple(RULE_KEYS)
_WATCH_KEYS = {"lookback_years": False, "min_import_kusd": False}


@dataclass(frozen=True)
class WatchConfig:
    """The window, the import floor and each rule's thresholds (with ``enabled``, ``source``)."""

    lookback_years: int
    min_import_kusd: float
    rules: Mapping[str, Mapping[str, Any]]


def _number(doc: DataFile, value: Any, share: bool, *path: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.fail(f"must be a number, got {value!r}", *path)
    if share and not 0.0 <= float(value) <= 1.0:
        raise doc.fail(f"{value!r} is outside 0-100 % (give a share from 0 to 1, e.g. 0.65)", *path)
    if not share and float(value) < 0:
        raise doc.fail(f"{value!r} must not be negative", *path)
    return float(value)


def _overlay(doc: DataFile, base: dict[str, Any]) -> dict[str, Any]:
    """`base` (watch + rules) with the values of `doc`, checked."""
    data = doc.data
    unknown = sorted(set(data) - {"watch", "rules"})
    if unknown:
        raise doc.fail(
            f"unknown table(s) {unknown}; a rules file has [watch] and [rules.*]", unknown[0]
        )
    watch = dict(base["watch"])
    for key, value in (data.get("watch") or {}).items():
        if key not in _WATCH_KEYS:
            raise doc.fail(f"unknown key {key!r}; keys: {', '.join(_WATCH_KEYS)}", "watch", key)
        watch[key] = _number(doc, value, False, "watch", key)
    rules = {name: dict(v) for name, v in base["rules"].items()}
    for name, table in (data.get("rules") or {}).items():
        if name not in RULE_KEYS:
            raise doc.fail(f"unknown rule {name!r}; rules: {', '.join(RULES)}", "rules", name)
        if not isinstance(table, dict):
            raise doc.fail("each rule is a table", "rules", name)
        for key, value in table.items():
            if key == "enabled":
                if not isinstance(value, bool):
                    raise doc.fail("enabled is true or false", "rules", name, key)
                rules[name][key] = value
            elif key == "source":
                rules[name][key] = str(value)
            elif key in RULE_KEYS[name]:
                rules[name][key] = _number(doc, value, RULE_KEYS[name][key], "rules", name, key)
            else:
                allowed = ", ".join([*RULE_KEYS[name], "enabled", "source"])
                raise doc.fail(
                    f"unknown key {key!r} of rule {name}; keys: {allowed}", "rules", name, key
                )
    return {"watch": watch, "rules": rules}


def load_rules(path: str | Path | None = None) -> WatchConfig:
    """The shipped thresholds, with a rules file's values over them (SourceError naming file,
    line and reason for an unknown rule or key, a share outside 0-100 %, a negative value)."""
    shipped = DataFile.read(data_path(RULES_FILE))
    base = _overlay(shipped, {"watch": {}, "rules": {name: {} for name in RULES}})
    for name, keys in RULE_KEYS.items():
        missing = [k for k in keys if k not in base["rules"][name]]
        if missing:
            raise shipped.fail(f"rule {name} lacks {', '.join(missing)}", "rules", name)
    config = base if path is None else _overlay(DataFile.read(path), base)
    years = int(config["watch"].get("lookback_years", 5))
    if years < 1:
        raise UnknownCodeError("lookback_years must be at least 1")
    return WatchConfig(years, float(config["watch"].get("min_import_kusd", 0.0)), config["rules"])


# ---------------------------------------------------------------- inputs


def _products() -> pa.Table:
    """Every material with HS92 codes of its own, one product per material."""
    from verdikart.reference.materials import material_hs6_table

    t = material_hs6_table("HS92")
    return pa.table(
        {
            "product": t.column("material"),
            "hs6": t.column("hs6"),
            "material": t.column("material"),
            "stage": t.column("stage"),
        }
    )


def list_changes() -> tuple[pa.Table, dict[str, dict[str, Any]]]:
    """Materials added to or removed from the EU list between consecutive editions:
    (material, change_id, list_year) and, per change id, its list, date and title."""
    from verdikart.reference.materials import list_info, list_members

    rows: list[tuple[str, str, int]] = []
    info: dict[str, dict[str, Any]] = {}
    for older, newer in zip(EU_EDITIONS, EU_EDITIONS[1:], strict=False):
        before = {e.material for e in list_members(older)}
        after = {e.material for e in list_members(newer)}
        meta = list_info(newer)
        for change, materials in (("added", after - before), ("removed", before - after)):
            cid = f"{newer}:{change}"
            info[cid] = {
                "list": newer,
                "previous": older,
                "change": change,
                "date": meta.date,
                "title": meta.title,
                "title_nb": meta.title_nb,
                "source": meta.source,
            }
            rows.extend((m, cid, int(str(meta.date)[:4])) for m in sorted(materials))
    table = pa.table(
        {
            "material": pa.array([r[0] for r in rows], pa.string()),
            "change_id": pa.array([r[1] for r in rows], pa.string()),
            "list_year": pa.array([r[2] for r in rows], pa.int32()),
        }
    )
    return table, info


def event_table(events: Sequence[PolicyEvent], products: pa.Table) -> pa.Table:
    """(event_id, product, iso3, direction) of each event: its materials as products (a
    material without codes of its own by its proxy's, e.g. dysprosium -> rare-earths), the
    imposing country's members in the event's year."""
    from verdikart.reference.materials import load_materials
    from verdikart.scenarios.spec import _members

    have = set(products.column("product").to_pylist())
    mats = load_materials()
    rows: list[tuple[str, str, str, str]] = []
    for e in events:
        direction = "export" if e.is_export_measure else "import"
        for m in e.materials:
            product = m if m in have else mats[m].hs_proxy
            if product is None or product not in have:
                continue
            for iso3 in _members(e.country, e.date.year):
                rows.append((e.id, product, iso3, direction))
    rows = sorted(set(rows))
    return pa.table(
        {
            "event_id": pa.array([r[0] for r in rows], pa.string()),
            "product": pa.array([r[1] for r in rows], pa.string()),
            "iso3": pa.array([r[2] for r in rows], pa.string()),
            "direction": pa.array([r[3] for r in rows], pa.string()),
        }
    )


# ---------------------------------------------------------------- alerts


def alert_id(row: Mapping[str, Any]) -> str:
    """A stable id: a digest of rule, country, material, partner, year, event and stage."""
    key = "|".join(
        str(row.get(k) or "")
        for k in ("rule", "reporter", "material", "partner", "year", "event_id", "stage")
    )
    return "w" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{x * 100:.1f} %"


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.2g}"


def _evidence(
    r: Mapping[str, Any],
    event: PolicyEvent | None,
    change: Mapping[str, Any] | None,
    members: Sequence[str],
    nb: bool,
) -> str:
    rule, c, m, p, y = r["rule"], r["reporter"], r["material"], r["partner"], r["year"]
    v, prev, t = r["value"], r["previous"], r["threshold"]
    if rule == "supplier_share":
        if nb:
            return (
                f"{p} sto for {_pct(v)} av {c}s import av {m} i {y} (terskel {_pct(t)}; "
                f"{_pct(prev)} i {y - 1})"
            )
        return (
            f"{p} supplied {_pct(v)} of {c}'s imports of {m} in {y} (threshold {_pct(t)}; "
            f"{_pct(prev)} in {y - 1})"
        )
    if rule == "hhi_rise":
        if nb:
            return (
                f"HHI for {c}s import av {m} steg fra {_num(prev)} til {_num(v)} poeng i {y} "
                f"(mer enn {_num(t)}); største leverandør {p}"
            )
        return (
            f"HHI of {c}'s imports of {m} rose from {_num(prev)} to {_num(v)} points in {y} "
            f"(more than {_num(t)}); largest supplier {p}"
        )
    if rule == "new_dominant_supplier":
        if nb:
            return f"{p} tok over etter {r['stage']} som største leverandør av {m} til {c} i {y}, med {_pct(v)}"
        return f"{p} replaced {r['stage']} as the largest supplier of {m} to {c} in {y}, with {_pct(v)}"
    if rule == "export_drop":
        fall = None if not prev else 1 - (v or 0) / prev
        if nb:
            return (
                f"{p}s eksport av {m} til verden falt {_pct(fall)} i {y} (fra {_num(prev)} "
                f"til {_num(v)} tusen USD); {p} leverte {_num(r['amount_kusd'])} tusen USD til "
                f"{c} i {y - 1}"
            )
        return (
            f"{p}'s exports of {m} to the world fell {_pct(fall)} in {y} (from {_num(prev)} to "
            f"{_num(v)} kUSD); {p} supplied {_num(r['amount_kusd'])} kUSD to {c} in {y - 1}"
        )
    if rule == "unit_value_jump":
        ch = None if not prev or v is None else v / prev - 1
        if nb:
            return (
                f"enhetsverdien av {c}s import av {m} endret seg {_pct(ch)} i {y}: "
                f"{_num(prev)} → {_num(v)} USD/t"
            )
        return (
            f"the unit value of {c}'s imports of {m} changed {_pct(ch)} in {y}: "
            f"{_num(prev)} → {_num(v)} USD/t"
        )
    if rule == "production_hhi_rise":
        if nb:
            return (
                f"HHI for verdens produksjon av {m} ({r['stage']}) steg fra {_num(prev)} til "
                f"{_num(v)} poeng i {y}; største produsent {p}; {c} importerer {m}"
            )
        return (
            f"HHI of world production of {m} ({r['stage']}) rose from {_num(prev)} to "
            f"{_num(v)} points in {y}; largest producer {p}; {c} imports {m}"
        )
    if rule == "list_status_change" and change is not None:
        verb = {
            ("added", False): "was added to",
            ("removed", False): "was removed from",
            ("added", True): "ble tatt inn på",
            ("removed", True): "ble tatt ut av",
        }[(change["change"], nb)]
        tail = f"; {c} importerer {m}" if nb else f"; {c} imports {m}"
        title = change["title_nb"] if nb else change["title"]
        return f"{m} {verb} {title} ({change['date']}){tail}"
    if rule == "policy_event" and event is not None:
        targeted = not event.partners or bool(set(event.partners) & set(members))
        scope = (
            ""
            if targeted
            else (
                f" (rammer bare {', '.join(event.partners)})"
                if nb
                else f" (targets {', '.join(event.partners)} only)"
            )
        )
        if event.is_export_measure:
            if nb:
                return (
                    f"{event.title} (i kraft {event.date}){scope}; {c} importerte {_pct(v)} av "
                    f"sin {m} fra {event.country} i {y} ({_num(r['amount_kusd'])} tusen USD)"
                )
            return (
                f"{event.title} (in force {event.date}){scope}; {c} imported {_pct(v)} of its "
                f"{m} from {event.country} in {y} ({_num(r['amount_kusd'])} kUSD)"
            )
        if nb:
            return (
                f"{event.title} (i kraft {event.date}){scope}; {c} sendte {_pct(v)} av sin "
                f"eksport av {m} til {event.country} i {y} ({_num(r['amount_kusd'])} tusen USD)"
            )
        return (
            f"{event.title} (in force {event.date}){scope}; {c} sent {_pct(v)} of its {m} "
            f"exports to {event.country} in {y} ({_num(r['amount_kusd'])} kUSD)"
        )
    return f"{rule}: {c} {m} {y}"


def _read_seen(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged record only costs the "new" flags; the alerts stay right
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_seen(path: Path, seen: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".watch-seen-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(dict(sorted(seen.items())), fh, indent=0)
    os.replace(tmp, path)


def run_watch(
    engine: Engine,
    countries: Sequence[str] | None,
    *,
    since: str | None = None,
    rules_path: str | Path | None = None,
    events_path: str | Path | None = None,
    seen_path: Path | None = None,
    language: str = "en",
    progress: Progress | None = None,
    relations: Relations | None = None,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Every alert for the countries or groups (None = every importing country), newest first."""
    from verdikart.chains.model import language_is_norwegian
    from verdikart.indicators.watch import watch_expr
    from verdikart.scenarios.events import load_events
    from verdikart.scenarios.run import _reporters

    say = progress or (lambda _m: None)
    nb = language_is_norwegian(language)
    cutoff = None
    if since is not None:
        try:
            cutoff = parse_date(since)
        except ValueError as exc:
            raise UnknownCodeError(f"--since {since!r} is not a date (write YYYY-MM-DD)") from exc
    config = load_rules(rules_path)
    events = load_events(events_path)
    rel = relations if relations is not None else engine.relations()
    years_t = rel.analysis_years.order_by("year")
    known = [int(r["year"]) for r in engine.rows(years_t)]
    if len(known) < 2:
        raise UnknownCodeError("the watch needs trade data of at least two years")
    window = known[-config.lookback_years :] if len(known) > config.lookback_years else known[1:]
    latest = window[-1]
    reporters, members, _names = _reporters(engine, countries, latest, rel)
    products = _products()
    changes, change_info = list_changes()
    say(
        f"{len(members)} country(ies), {len(window)} years ({window[0]}-{latest}): checking "
        f"{sum(1 for r in config.rules.values() if r.get('enabled', True))} rules"
        if not nb
        else f"{len(members)} land, {len(window)} år ({window[0]}-{latest}): sjekker "
        f"{sum(1 for r in config.rules.values() if r.get('enabled', True))} regler"
    )
    expr = watch_expr(
        rel,
        reporters,
        products,
        window,
        config.rules,
        event_table(events, products),
        min_import_kusd=config.min_import_kusd,
        list_changes=changes,
    )
    rows = engine.to_arrow(expr).to_pylist()
    say(f"{len(rows)} finding(s)" if not nb else f"{len(rows)} funn")
    by_event = {e.id: e for e in events}
    seen = _read_seen(seen_path)
    baseline = not seen
    today = today or dt.date.today()
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        aid = alert_id(r)
        if aid in out:
            continue
        event = by_event.get(r["event_id"]) if r["rule"] == "policy_event" else None
        change = change_info.get(r["event_id"]) if r["rule"] == "list_status_change" else None
        if event is not None:
            date = event.date
        elif change is not None:
            date = parse_date(change["date"])
        else:
            date = dt.date(int(r["year"]), 12, 31)
        sources = [s for s in (r["source"], config.rules[r["rule"]].get("source")) if s]
        if event is not None:
            sources.append(event.source)
        if change is not None:
            sources.append(change["source"])
        # the first run (no record yet) is the baseline: an alert counts as seen on its own
        # date, so `since` shows what happened after it; later runs date new ids today
        first = seen.get(aid) or (min(date, today) if baseline else today).isoformat()
        out[aid] = {
            "id": aid,
            "rule": r["rule"],
            "country": r["reporter"],
            "material": r["material"],
            "partner": event.country if event is not None else r["partner"],
            "year": r["year"],
            "date": date.isoformat(),
            "value": r["value"],
            "previous": r["previous"],
            "threshold": r["threshold"],
            "event": r["event_id"],
            "evidence": _evidence(r, event, change, members.get(r["reporter"], []), nb),
            "sources": " | ".join(dict.fromkeys(sources)),
            "first_seen": first,
            "new": aid not in seen,
        }
    alerts = sorted(out.values(), key=lambda a: (a["date"], a["rule"], a["id"]), reverse=True)
    if seen_path is not None:
        _write_seen(seen_path, {**seen, **{a["id"]: a["first_seen"] for a in alerts}})
    if cutoff is not None:
        day = cutoff.isoformat()
        alerts = [a for a in alerts if a["date"] >= day or a["first_seen"] >= day]
    return alerts
