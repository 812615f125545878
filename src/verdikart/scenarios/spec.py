"""Scenarios as data: shocks, baseline year, importers and re-sourcing assumptions, checked.

Owns the scenario model and its two spellings, both checked against the reference data before
anything runs:

* a ``--shock SUPPLIER:MATERIAL:CHANGE`` text (``CHN:graphite:-100%``);
* a scenario file, TOML or YAML (format in docs/scenarios.md; the shipped ones are in
  ``reference/data/scenarios/``).

SUPPLIER is a country or group (any code or name); MATERIAL is a material (any name the
reference knows: its HS92 codes), a material and one of its stages (``nickel/intermediate``), a
value-chain stage (``nickel-matte``: the stage's HS92 codes in ``chains/*.toml``) or ``all``;
CHANGE is the change of the supplier's exports in percent, from -100 % (a stop) to 0 %.

The re-sourcing assumptions come from ``reference/data/scenario_defaults.toml`` (each with its
source, or marked as an assumption), overridden by the scenario file: the scenario's own
per-material values first, then its general ones, then the shipped per-material ones, then the
shipped defaults.

Bad input names file, line and reason (:class:`verdikart.errors.SourceError`, exit 2): an
unknown country, material or stage, a share outside 0–100 %, a date that does not parse, an
unknown key. Pure: no store, no engine.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.reference._data import data_path
from verdikart.scenarios.doc import DataFile, Key, parse_date

SCENARIOS_DIR = "scenarios"
DEFAULTS_FILE = "scenario_defaults.toml"
BASES = ("value", "quantity")
PARAMETERS = ("divert_share", "growth_per_year", "new_source_years")
_SCENARIO_KEYS = {
    "id",
    "name_en",
    "name_no",
    "year",
    "basis",
    "importers",
    "date",
    "event",
    "source",
    "sources",
    "note",
}
_SHOCK_KEYS = {"supplier", "material", "change", "importers", "source", "note"}
_TOP_KEYS = {"scenario", "shock", "resourcing", "sources"}
_CHANGE = re.compile(r"^\s*([+\-\u2212]?\s*\d+(?:[.,]\d+)?)\s*%?\s*$")


@dataclass(frozen=True)
class Resourcing:
    """How fast other suppliers can stand in for a product (docs/scenarios.md)."""

    divert_share: float
    growth_per_year: float
    new_source_years: float
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """What a shock hits: a product id, its material and HS92 codes, and how it was named."""

    product: str
    material: str
    hs6: tuple[str, ...]
    kind: str  # material | material-stage | chain-stage
    label: str


@dataclass(frozen=True)
class Shock:
    """One supplier (country or group) cutting its exports of some targets by `cut` (0..1),
    to every importer or to the `importers` named."""

    supplier: str
    supplier_name: str
    targets: tuple[Target, ...]
    cut: float
    importers: tuple[str, ...] = ()
    text: str = ""
    source: str | None = None
    line: int | None = None

    def members(self, year: int) -> list[str]:
        return _members(self.supplier, year)

    def importer_members(self, year: int) -> list[str]:
        return sorted({m for i in self.importers for m in _members(i, year)})

    def describe(self) -> str:
        what = ", ".join(t.label for t in self.targets) if len(self.targets) <= 3 else "all"
        to = f" to {', '.join(self.importers)}" if self.importers else ""
        return f"{self.supplier} {what} {-self.cut * 100:+.0f} %{to}"


@dataclass(frozen=True)
class Scenario:
    """A scenario: shocks, baseline year, importers, basis and re-sourcing assumptions."""

    id: str
    shocks: tuple[Shock, ...]
    year: int | None = None
    importers: tuple[str, ...] = ()
    basis: str = "value"
    name_en: str = ""
    name_no: str = ""
    date: dt.date | None = None
    event: str | None = None
    sources: tuple[str, ...] = ()
    note: str | None = None
    path: str | None = None
    resourcing: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def name(self, language: str = "en") -> str:
        from verdikart.chains.model import language_is_norwegian

        if language_is_norwegian(language) and self.name_no:
            return self.name_no
        return self.name_en or self.id

    def products(self) -> list[Target]:
        """Every target of the shocks once (by product id), in order."""
        out: dict[str, Target] = {}
        for shock in self.shocks:
            for t in shock.targets:
                out.setdefault(t.product, t)
        return list(out.values())


# ---------------------------------------------------------------- reference lookups


def _members(country: str, year: int) -> list[str]:
    from verdikart.reference.countries import group_members, resolve_country

    ref = resolve_country(country)
    return group_members(ref.id, year) if ref.kind == "group" else [ref.id]


@lru_cache(maxsize=1)
def _chain_stages() -> dict[str, tuple[str, tuple[str, ...], str]]:
    """chain stage id -> (material, HS92 codes, English name)."""
    from verdikart.chains.model import load_chains

    out = {}
    for chain in load_chains().values():
        for s in chain.stages:
            out[s.id] = (s.material, tuple(s.hs["HS92"]), s.name_en)
    return out


def resolve_target(text: str) -> list[Target]:
    """The products a MATERIAL token names (module doc); UnknownCodeError with suggestions."""
    from verdikart.reference.materials import STAGES, get_material, load_materials

    raw = str(text).strip()
    key = raw.casefold()
    if key in ("all", "alle"):
        return [
            Target(m.id, m.id, m.hs6("HS92"), "material", m.id)
            for m in sorted(load_materials().values(), key=lambda m: m.id)
            if m.hs6("HS92")
        ]
    stages = _chain_stages()
    if key in stages:
        material, codes, _ = stages[key]
        return [Target(key, material, codes, "chain-stage", key)]
    if "/" in raw:
        name, stage = (p.strip() for p in raw.split("/", 1))
        m = get_material(name)
        known = [s.stage for s in m.stages]
        if stage.casefold() not in known:
            listed = ", ".join(known) or "none"
            raise UnknownCodeError(
                f"unknown stage {stage!r} of {m.id}; its stages: {listed} (stages: "
                f"{', '.join(STAGES)}; or a value-chain stage such as nickel-matte)"
            )
        st = stage.casefold()
        return [Target(f"{m.id}/{st}", m.id, m.hs6("HS92", st), "material-stage", f"{m.id}/{st}")]
    try:
        m = get_material(raw)
    except UnknownCodeError as exc:
        import difflib

        close = difflib.get_close_matches(key, list(stages), n=3, cutoff=0.6)
        hint = f"; value-chain stages close to it: {', '.join(close)}" if close else ""
        raise UnknownCodeError(f"{exc}{hint}") from exc
    if not m.hs6("HS92"):
        raise UnknownCodeError(
            f"material {m.id} has no HS92 code of its own (HS6 does not identify it), so no "
            "trade can be shocked; name its group or proxy instead"
            + (f" ({m.hs_proxy})" if m.hs_proxy else "")
        )
    return [Target(m.id, m.id, m.hs6("HS92"), "material", m.id)]


def parse_change(value: Any) -> float:
    """A change in percent (-100 % .. 0 %) as the cut 0..1; ValueError saying what is allowed."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a change in percent")
    if isinstance(value, int | float):
        number = float(value)
    else:
        found = _CHANGE.match(str(value))
        if not found:
            raise ValueError(
                f"{value!r} is not a change in percent (write e.g. -100% for a stop, -40%)"
            )
        number = float(found.group(1).replace("\u2212", "-").replace(",", ".").replace(" ", ""))
    if not -100.0 <= number <= 0.0:
        raise ValueError(
            f"change {value!r} is outside 0-100 %: a shock cuts exports by 0 to 100 % "
            "(write -100% for a stop, -40% for a cut)"
        )
    return -number / 100.0


def parse_shock(text: str) -> Shock:
    """A ``SUPPLIER:MATERIAL:CHANGE`` text (CHN:graphite:-100%); UnknownCodeError otherwise."""
    from verdikart.reference.countries import resolve_country

    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) != 3 or not all(parts):
        raise UnknownCodeError(
            f"--shock {text!r}: write SUPPLIER:MATERIAL:CHANGE, e.g. CHN:graphite:-100% "
            "(a country or group, a material, material/stage or value-chain stage, a change "
            "from -100% to 0%)"
        )
    supplier, target, change = parts
    try:
        ref = resolve_country(supplier)
        targets = resolve_target(target)
        cut = parse_change(change)
    except (UnknownCodeError, ValueError) as exc:
        raise UnknownCodeError(f"--shock {text!r}: {exc}") from exc
    return Shock(ref.id, ref.name_en, tuple(targets), cut, text=text)


# ---------------------------------------------------------------- defaults


@dataclass(frozen=True)
class Defaults:
    """The shipped re-sourcing assumptions: general and per material, with sources."""

    general: Resourcing
    materials: Mapping[str, Mapping[str, float]]
    sources: Mapping[str, str]


def _share(doc: DataFile, value: Any, path: tuple[Key, ...], name: str) -> float:
    """A parameter: shares 0..1, years > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.fail(f"{name} must be a number, got {value!r}", *path)
    number = float(value)
    if name == "new_source_years":
        if not 0 < number <= 100:
            raise doc.fail(f"new_source_years {value!r} must be between 0 and 100 years", *path)
        return number
    if not 0.0 <= number <= 1.0:
        raise doc.fail(
            f"{name} {value!r} is outside 0-100 % (give a share from 0 to 1, e.g. 0.2 for 20 %)",
            *path,
        )
    return number


def _parameters(doc: DataFile, table: Any, path: tuple[Key, ...]) -> dict[str, float]:
    """The parameters in a table (its sub-tables are per material and read elsewhere)."""
    if not isinstance(table, dict):
        raise doc.fail("must be a table of parameters", *path)
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            continue
        if key.endswith("_source"):
            continue
        if key not in PARAMETERS:
            raise doc.fail(
                f"unknown parameter {key!r}; parameters: {', '.join(PARAMETERS)} "
                "(and <parameter>_source)",
                *path,
                key,
            )
        out[key] = _share(doc, value, (*path, key), key)
    return out


def _material_parameters(
    doc: DataFile, table: dict[str, Any], path: tuple[Key, ...]
) -> dict[str, dict[str, float]]:
    from verdikart.reference.materials import find_material, material_suggestions

    out = {}
    for key, value in table.items():
        if not isinstance(value, dict):
            continue
        found = find_material(key)
        if found is None:
            close = material_suggestions(key)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise doc.fail(f"unknown material {key!r}{hint}", *path, key)
        out[found.id] = _parameters(doc, value, (*path, key))
    return out


@lru_cache(maxsize=1)
def load_defaults() -> Defaults:
    """``reference/data/scenario_defaults.toml``: general values (all three required, each
    with a ``<parameter>_source``) and per-material overrides."""
    doc = DataFile.read(data_path(DEFAULTS_FILE))
    general_raw = doc.data.get("defaults")
    if not isinstance(general_raw, dict):
        raise doc.fail("missing [defaults] table", "defaults")
    general = _parameters(doc, general_raw, ("defaults",))
    missing = [p for p in PARAMETERS if p not in general]
    if missing:
        raise doc.fail(f"[defaults] lacks {', '.join(missing)}", "defaults")
    sources = {}
    for p in PARAMETERS:
        src = general_raw.get(f"{p}_source")
        if not isinstance(src, str) or not src.strip():
            raise doc.fail(f"[defaults] {p} has no {p}_source", "defaults", p)
        sources[p] = src.strip()
    materials = _material_parameters(doc, doc.data.get("materials", {}), ("materials",))
    return Defaults(Resourcing(**general, sources=sources), materials, sources)


def resourcing_for(scenario: Scenario, material: str) -> Resourcing:
    """The parameters for a material: the scenario's per-material values, its general ones,
    the shipped per-material ones, the shipped defaults (first found wins)."""
    d = load_defaults()
    own = scenario.resourcing
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    where = scenario.path or "the scenario"
    for p in PARAMETERS:
        for layer, label in (
            (own.get(material, {}), f"{where} [resourcing.{material}]"),
            (own.get("", {}), f"{where} [resourcing]"),
            (d.materials.get(material, {}), f"{DEFAULTS_FILE} [materials.{material}]"),
        ):
            if p in layer:
                values[p] = layer[p]
                sources[p] = label
                break
        else:
            values[p] = getattr(d.general, p)
            sources[p] = d.sources[p]
    return Resourcing(**values, sources=sources)


# ---------------------------------------------------------------- files


def _text(doc: DataFile, table: dict[str, Any], key: str, path: tuple[Key, ...]) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise doc.fail(f"'{key}' is missing or empty", *path, key)
    return value.strip()


def _country(doc: DataFile, value: Any, path: tuple[Key, ...]) -> tuple[str, str]:
    from verdikart.reference.countries import resolve_country

    if not isinstance(value, str | int) or isinstance(value, bool):
        raise doc.fail(f"a country or group is a code or name, got {value!r}", *path)
    try:
        ref = resolve_country(value)
    except UnknownCodeError as exc:
        raise doc.fail(str(exc), *path) from exc
    return ref.id, ref.name_en


def _countries(doc: DataFile, value: Any, path: tuple[Key, ...]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise doc.fail("must be a list of countries or groups", *path)
    return tuple(dict.fromkeys(_country(doc, v, (*path, i))[0] for i, v in enumerate(value)).keys())


def load_scenario(path: str | Path) -> Scenario:
    """A scenario file (TOML or YAML), checked; SourceError naming file, line and reason."""
    from verdikart.reference.inputs import parse_years

    doc = DataFile.read(path)
    data = doc.data
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise doc.fail(
            f"unknown table(s) {unknown}; a scenario file has {sorted(_TOP_KEYS)}", unknown[0]
        )
    head = data.get("scenario", {})
    if not isinstance(head, dict):
        raise doc.fail("[scenario] must be a table", "scenario")
    bad = sorted(set(head) - _SCENARIO_KEYS)
    if bad:
        raise doc.fail(
            f"unknown key(s) {bad} in [scenario]; allowed: {sorted(_SCENARIO_KEYS)}",
            "scenario",
            bad[0],
        )
    sid = str(head.get("id") or Path(path).stem)
    year = head.get("year")
    if year is not None:
        try:
            spec = parse_years(str(year))
            year = spec.single()
        except UnknownCodeError as exc:
            raise doc.fail(f"year: {exc}", "scenario", "year") from exc
    basis = head.get("basis", "value")
    if basis not in BASES:
        raise doc.fail(f"basis {basis!r} is not one of {', '.join(BASES)}", "scenario", "basis")
    date = None
    if "date" in head:
        try:
            date = parse_date(head["date"])
        except ValueError as exc:
            raise doc.fail(
                f"date {head['date']!r} does not parse (write YYYY-MM-DD): {exc}",
                "scenario",
                "date",
            ) from exc
    event = head.get("event")
    if event is not None:
        from verdikart.scenarios.events import load_events

        ids = {e.id for e in load_events()}
        if event not in ids:
            raise doc.fail(
                f"unknown event {event!r}; events: {', '.join(sorted(ids))}", "scenario", "event"
            )
    sources = head.get("sources", [])
    if "source" in head:
        sources = [head["source"], *sources]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise doc.fail("sources must be a list of citations", "scenario", "sources")
    importers = _countries(doc, head.get("importers"), ("scenario", "importers"))

    raw_shocks = data.get("shock", [])
    if not isinstance(raw_shocks, list) or not raw_shocks:
        raise doc.fail("a scenario needs at least one [[shock]]", "shock")
    shocks = []
    for i, raw in enumerate(raw_shocks):
        if not isinstance(raw, dict):
            raise doc.fail("each shock is a table", "shock", i)
        bad = sorted(set(raw) - _SHOCK_KEYS)
        if bad:
            raise doc.fail(
                f"unknown key(s) {bad} in shock #{i + 1}; allowed: {sorted(_SHOCK_KEYS)}",
                "shock",
                i,
                bad[0],
            )
        supplier, supplier_name = _country(doc, raw.get("supplier", ""), ("shock", i, "supplier"))
        material = _text(doc, raw, "material", ("shock", i))
        try:
            targets = resolve_target(material)
        except UnknownCodeError as exc:
            raise doc.fail(str(exc), "shock", i, "material") from exc
        if "change" not in raw:
            raise doc.fail("'change' is missing (e.g. change = \"-100%\")", "shock", i)
        try:
            cut = parse_change(raw["change"])
        except ValueError as exc:
            raise doc.fail(str(exc), "shock", i, "change") from exc
        shocks.append(
            Shock(
                supplier,
                supplier_name,
                tuple(targets),
                cut,
                importers=_countries(doc, raw.get("importers"), ("shock", i, "importers")),
                text=f"{supplier}:{material}:{-cut * 100:.0f}%",
                source=raw.get("source"),
                line=doc.line("shock", i),
            )
        )

    resourcing: dict[str, dict[str, float]] = {}
    raw_res = data.get("resourcing")
    if raw_res is not None:
        if not isinstance(raw_res, dict):
            raise doc.fail("[resourcing] must be a table", "resourcing")
        resourcing[""] = _parameters(doc, raw_res, ("resourcing",))
        resourcing.update(_material_parameters(doc, raw_res, ("resourcing",)))
    return Scenario(
        id=sid,
        shocks=tuple(shocks),
        year=year,
        importers=importers,
        basis=basis,
        name_en=str(head.get("name_en", "")),
        name_no=str(head.get("name_no", "")),
        date=date,
        event=event,
        sources=tuple(sources),
        note=head.get("note"),
        path=str(path),
        resourcing=resourcing,
    )


def shipped_scenarios() -> list[Path]:
    """The worked scenario files shipped with verdikart."""
    return sorted(data_path(SCENARIOS_DIR).glob("*.toml"))


def find_scenario_file(text: str) -> Path:
    """A scenario file path, or the id of a shipped scenario (cn-graphite-2023)."""
    p = Path(text)
    if p.exists():
        return p
    for shipped in shipped_scenarios():
        if shipped.stem == text:
            return shipped
    ids = ", ".join(s.stem for s in shipped_scenarios())
    raise UnknownCodeError(f"no scenario file {text!r}; shipped scenarios: {ids}")


def from_shocks(
    shocks: Sequence[str], *, year: int | None, importers: Sequence[str], basis: str
) -> Scenario:
    """A scenario from ``--shock`` texts."""
    parsed = tuple(parse_shock(s) for s in shocks)
    return Scenario(
        id="cli",
        shocks=parsed,
        year=year,
        importers=tuple(importers),
        basis=basis,
        name_en="; ".join(s.text for s in parsed),
        name_no="; ".join(s.text for s in parsed),
    )


# ---------------------------------------------------------------- tables for the expressions


def shock_table(scenario: Scenario, year: int) -> pa.Table:
    """(exporter, hs6, importer, factor) rows of every shock (importer NULL = all)."""
    exporters: list[str] = []
    codes: list[str] = []
    importers: list[str | None] = []
    factors: list[float] = []
    for shock in scenario.shocks:
        targets = shock.importer_members(year) if shock.importers else [None]
        hs6 = sorted({c for t in shock.targets for c in t.hs6})
        for member in shock.members(year):
            for code in hs6:
                for to in targets:
                    exporters.append(member)
                    codes.append(code)
                    importers.append(to)
                    factors.append(1.0 - shock.cut)
    return pa.table(
        {
            "exporter": pa.array(exporters, pa.string()),
            "hs6": pa.array(codes, pa.string()),
            "importer": pa.array(importers, pa.string()),
            "factor": pa.array(factors, pa.float64()),
        }
    )


def products_table(scenario: Scenario) -> pa.Table:
    """(product, hs6, material, stage) of every target, the stage from materials.toml."""
    from verdikart.reference.materials import material_hs6_table

    stage_of: dict[tuple[str, str], str] = {}
    for r in material_hs6_table("HS92").to_pylist():
        stage_of.setdefault((r["material"], r["hs6"]), r["stage"])
    rows = [(t.product, c, t.material) for t in scenario.products() for c in t.hs6]
    return pa.table(
        {
            "product": pa.array([r[0] for r in rows], pa.string()),
            "hs6": pa.array([r[1] for r in rows], pa.string()),
            "material": pa.array([r[2] for r in rows], pa.string()),
            "stage": pa.array([stage_of.get((r[2], r[1])) for r in rows], pa.string()),
        }
    )


def excluded_table(
    scenario: Scenario, reporters: Mapping[str, Sequence[str]], year: int
) -> pa.Table:
    """(reporter, product, supplier): the shocked suppliers of each reporter's products, who
    cannot stand in for themselves. `reporters`: reporter id -> its member countries."""
    out: set[tuple[str, str, str]] = set()
    for shock in scenario.shocks:
        codes = {c for t in shock.targets for c in t.hs6}
        hit = set(shock.importer_members(year)) if shock.importers else None
        suppliers = shock.members(year)
        for target in scenario.products():
            if not codes & set(target.hs6):
                continue
            for reporter, members in reporters.items():
                if hit is not None and not hit & set(members):
                    continue
                for s in suppliers:
                    out.add((reporter, target.product, s))
    rows = sorted(out)
    return pa.table(
        {
            "reporter": pa.array([r[0] for r in rows], pa.string()),
            "product": pa.array([r[1] for r in rows], pa.string()),
            "supplier": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def params_table(scenario: Scenario) -> pa.Table:
    """(product, divert_share, growth_per_year, new_source_years) of every target."""
    rows = [(t.product, resourcing_for(scenario, t.material)) for t in scenario.products()]
    return pa.table(
        {
            "product": pa.array([p for p, _ in rows], pa.string()),
            "divert_share": pa.array([r.divert_share for _, r in rows], pa.float64()),
            "growth_per_year": pa.array([r.growth_per_year for _, r in rows], pa.float64()),
            "new_source_years": pa.array([r.new_source_years for _, r in rows], pa.float64()),
        }
    )
