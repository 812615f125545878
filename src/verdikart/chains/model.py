"""The value-chain model: data files of stages, links and Norwegian plants, loaded and checked.

Owns the chain files in ``reference/data/chains/`` (format: docs/value-chains.md): per chain
its stages as a directed graph (ore or concentrate -> intermediate -> refined metal or chemical
-> semi-finished), each stage with its HS6 codes per revision, its stage in the EU's 2023
criticality data (E/P and the EU's material name), its World Mining Data / USGS production
series and the sectors that use it; and the Norwegian plants that consume and produce stages
(company, plant, municipality, EU ETS installation and its register coordinates, capacity where
public). Every stage, link, sector link, plant and capacity cites a source: a key of the file's
``[sources]`` table or of the shared ``sources.toml``, or a URL.

Loading rejects a file that breaks the model, naming file, line and problem
(:class:`verdikart.errors.SourceError`): a cycle, an unknown HS code, a reference to an unknown
stage, a plant without a source, an unknown key or sector, a missing field. An HS code is known
when it is an HS 2022 subheading (``hs2022_subheadings.txt``, from Eurostat's CN 2022) or, for
the older revisions, a code verdikart's material reference lists for that revision
(``materials.toml``; e.g. HS92 8105.10, which HS 2002 split).

Pure: no store, no engine; parsed files are cached per path.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from verdikart.chains.sectors import CHAIN_SECTORS
from verdikart.errors import SourceError, UnknownCodeError
from verdikart.reference._data import data_path

CHAINS_DIR = "chains"
SHARED_SOURCES = "sources.toml"
HS2022_FILE = "hs2022_subheadings.txt"
REVISIONS = ("HS92", "HS2017", "HS2022")
KINDS = (
    "ore",
    "intermediate",
    "ferroalloy",
    "refined",
    "chemical",
    "co-product",
    "semi",
    "product",
)
EU_STAGES = ("E", "P")
PLANT_STATUS = ("operating", "mine", "deposit", "starting", "planned")
_ETS_ID = re.compile(r"^NO_[0-9]+$")
_CHAIN_KEYS = {"id", "name_en", "name_no", "materials", "source", "note"}
_STAGE_KEYS = {
    "id",
    "name_en",
    "name_no",
    "material",
    "kind",
    "hs92",
    "hs2017",
    "hs2022",
    "hs_source",
    "shared",
    "eu",
    "production",
    "sectors",
    "source",
    "note",
}
_LINK_KEYS = {"from", "to", "source", "note"}
_PLANT_KEYS = {
    "id",
    "company",
    "plant",
    "municipality",
    "lat",
    "lon",
    "eu_ets_id",
    "stages_in",
    "stages_out",
    "capacity",
    "status",
    "note",
    "public_facts",
}
_PRODUCTION_KEYS = {"material", "stage", "wmd", "usgs", "source", "note"}
_CAPACITY_KEYS = {"stage", "t_per_year", "basis", "year", "note", "source"}
_TOP_KEYS = {"chain", "sources", "stage", "link", "plant"}


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class EuStage:
    """The stage's row in the EU 2023 criticality data: material name and E/P."""

    material: str
    stage: str
    source: str


@dataclass(frozen=True)
class ProductionSeries:
    """The store's ``production`` series of a stage (material slug and stage), with the
    World Mining Data and USGS commodity names it comes from."""

    material: str
    stage: str
    wmd: str | None
    usgs: str | None
    source: str
    note: str | None = None


@dataclass(frozen=True)
class SectorUse:
    """A sector that uses the stage's product, with the source that says so."""

    sector: str
    source: str


@dataclass(frozen=True)
class ChainStage:
    """One node of the chain: a product stage with its HS6 codes per revision."""

    id: str
    name_en: str
    name_no: str
    material: str
    kind: str
    hs: Mapping[str, tuple[str, ...]]  # revision -> HS6 codes
    hs_source: str
    shared: bool
    eu: tuple[EuStage, ...]
    production: ProductionSeries | None
    sectors: tuple[SectorUse, ...]
    source: str
    note: str | None = None
    line: int | None = None

    def name(self, language: str = "en") -> str:
        return self.name_no if language_is_norwegian(language) else self.name_en


@dataclass(frozen=True)
class Link:
    """A directed edge: the product of `source_stage` is an input to `target_stage`."""

    source_stage: str
    target_stage: str
    source: str
    note: str | None = None


@dataclass(frozen=True)
class Capacity:
    """A public capacity or production figure of a plant for one stage (tonnes a year)."""

    stage: str
    t_per_year: float
    basis: str
    source: str
    year: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class Plant:
    """A Norwegian plant (or mine, or deposit) that consumes and produces stages."""

    id: str
    company: str
    plant: str
    municipality: str
    public_facts: str
    stages_in: tuple[str, ...]
    stages_out: tuple[str, ...]
    eu_ets_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    capacity: tuple[Capacity, ...] = ()
    status: str = "operating"
    note: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Chain:
    """A material's value chain: stages in order of the graph, links, plants and sources."""

    id: str
    name_en: str
    name_no: str
    materials: tuple[str, ...]
    source: str
    stages: tuple[ChainStage, ...]
    links: tuple[Link, ...]
    plants: tuple[Plant, ...]
    sources: Mapping[str, str] = field(repr=False)
    path: str = ""
    note: str | None = None

    def name(self, language: str = "en") -> str:
        return self.name_no if language_is_norwegian(language) else self.name_en

    def stage(self, stage_id: str) -> ChainStage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def citation(self, key: str) -> str:
        """The full citation of a source key (a URL or unknown key is returned as it is)."""
        return self.sources.get(key, key)

    def columns(self) -> dict[str, int]:
        """Each stage's column in a left-to-right drawing: its longest path from a root."""
        depth = {s.id: 0 for s in self.stages}
        for s in self.stages:  # stages are in topological order (see _topological)
            for link in self.links:
                if link.source_stage == s.id:
                    depth[link.target_stage] = max(depth[link.target_stage], depth[s.id] + 1)
        return depth


def language_is_norwegian(language: str) -> bool:
    return language.strip().lower() in {"no", "nb", "nn", "nob", "nor", "norwegian", "norsk"}


# ---------------------------------------------------------------- line numbers


class _Lines:
    """Line numbers of tables and keys in a TOML text (tomllib reports none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def table(self, header: str, index: int = 0) -> int | None:
        """The 1-based line of the `index`-th ``[[header]]`` (or ``[header]``) table."""
        wanted = {f"[[{header}]]", f"[{header}]"}
        seen = 0
        for n, line in enumerate(self.lines, start=1):
            if line.split("#", 1)[0].strip() in wanted:
                if seen == index:
                    return n
                seen += 1
        return None

    def _block(self, header: str, index: int) -> tuple[int, int]:
        start = self.table(header, index)
        if start is None:
            return 1, len(self.lines)
        end = len(self.lines)
        for n in range(start + 1, len(self.lines) + 1):
            if self.lines[n - 1].lstrip().startswith("["):
                end = n - 1
                break
        return start, end

    def key(self, header: str, index: int, key: str, value: str | None = None) -> int | None:
        """The line of `key = ...` in that table (of `value` there when given), else the
        table's line."""
        start, end = self._block(header, index)
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for n in range(start, end + 1):
            line = self.lines[n - 1]
            if value is not None:
                if value in line:
                    return n
            elif pattern.match(line):
                return n
        if value is not None:
            return self.key(header, index, key)
        return start if self.table(header, index) is not None else None


# ---------------------------------------------------------------- known codes


@lru_cache(maxsize=1)
def hs2022_codes() -> frozenset[str]:
    """Every HS 2022 subheading (six digits), from ``hs2022_subheadings.txt``."""
    path = data_path(HS2022_FILE)
    codes = {
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    return frozenset(codes)


@lru_cache(maxsize=1)
def _reference_codes() -> Mapping[str, frozenset[str]]:
    """Per revision, the codes of verdikart's material reference (materials.toml)."""
    from verdikart.reference.materials import load_materials

    out: dict[str, set[str]] = {rev: set() for rev in REVISIONS}
    for material in load_materials().values():
        for item in material.hs_items:
            for rev in REVISIONS:
                out[rev].update(item.codes[rev])
    return {rev: frozenset(codes) for rev, codes in out.items()}


def known_code(code: str, revision: str) -> bool:
    """An HS 2022 subheading, or (HS92, HS2017) a code of the material reference."""
    if code in hs2022_codes():
        return True
    return revision != "HS2022" and code in _reference_codes()[revision]


# ---------------------------------------------------------------- parsing


@lru_cache(maxsize=1)
def shared_sources() -> Mapping[str, str]:
    """The source keys every chain file may cite (``chains/sources.toml``)."""
    path = data_path(CHAINS_DIR) / SHARED_SOURCES
    raw = _read(path)[0]
    sources = raw.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise SourceError(path, "[sources] must map keys to citation strings", field="sources")
    return dict(sources)


def _read(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise SourceError(
            path, f"invalid TOML: {exc}", line=int(found.group(1)) if found else None
        ) from exc


class _Parser:
    """Checks one chain file's raw TOML and builds the Chain (errors name file and line)."""

    def __init__(self, path: Path, raw: dict[str, Any], text: str) -> None:
        self.path = path
        self.raw = raw
        self.lines = _Lines(text)

    def fail(
        self,
        problem: str,
        header: str = "chain",
        index: int = 0,
        key: str | None = None,
        value: str | None = None,
        field: str | None = None,
    ) -> SourceError:
        line = (
            self.lines.key(header, index, key, value)
            if key is not None
            else self.lines.table(header, index)
        )
        return SourceError(self.path, problem, line=line, field=field)

    # -- small checks -----------------------------------------------------------------------
    def text(self, table: dict[str, Any], key: str, header: str, index: int, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}: '{key}' is missing or empty", header, index, key, field=key)
        return value.strip()

    def keys(self, table: dict[str, Any], allowed: set[str], header: str, index: int) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(
                f"unknown key(s) {unknown} in [{header}]; allowed: {sorted(allowed)}",
                header,
                index,
                unknown[0],
                field=unknown[0],
            )

    def source(self, value: Any, header: str, index: int, key: str, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where} has no source", header, index, key, field=key)
        value = value.strip()
        if value.startswith(("http://", "https://")) or value in self.sources:
            return value
        close = difflib.get_close_matches(value, list(self.sources), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise self.fail(
            f"{where} cites unknown source {value!r}{hint} (add it to [sources] or cite a URL)",
            header,
            index,
            key,
            value=f'"{value}"',
            field=key,
        )

    def codes(self, stage: dict[str, Any], index: int, sid: str) -> dict[str, tuple[str, ...]]:
        if "hs92" not in stage:
            raise self.fail(f"stage {sid!r} has no hs92 codes", "stage", index, "id", field="hs92")
        out: dict[str, tuple[str, ...]] = {}
        previous: Any = None
        for rev in REVISIONS:
            key = rev.lower()
            value = stage.get(key, previous)
            if not isinstance(value, list) or not value:
                raise self.fail(
                    f"stage {sid!r}: {key} must be a non-empty list of 6-digit codes",
                    "stage",
                    index,
                    key,
                    field=key,
                )
            for code in value:
                if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
                    raise self.fail(
                        f"stage {sid!r}: {key} code {code!r} is not a 6-digit HS code",
                        "stage",
                        index,
                        key,
                        field=key,
                    )
                if not known_code(code, rev):
                    where = "an HS 2022 subheading" + (
                        "" if rev == "HS2022" else f" nor a {rev} code of materials.toml"
                    )
                    raise self.fail(
                        f"stage {sid!r}: unknown HS code {code} in {key} (not {where})",
                        "stage",
                        index,
                        key if key in stage else "hs92",
                        field=key,
                    )
            out[rev] = tuple(value)
            previous = value
        return out

    # -- tables -------------------------------------------------------------------------------
    def parse(self) -> Chain:
        raw = self.raw
        unknown = sorted(set(raw) - _TOP_KEYS)
        if unknown:
            raise SourceError(
                self.path,
                f"unknown table(s) {unknown}; a chain file has [chain], [sources], "
                "[[stage]], [[link]] and [[plant]]",
                line=self.lines.table(unknown[0]),
            )
        own = raw.get("sources", {})
        if not isinstance(own, dict) or not all(isinstance(v, str) for v in own.values()):
            raise self.fail("[sources] must map keys to citation strings", "sources")
        self.sources = {**shared_sources(), **own}
        head = raw.get("chain")
        if not isinstance(head, dict):
            raise SourceError(self.path, "no [chain] table", line=1)
        self.keys(head, _CHAIN_KEYS, "chain", 0)
        cid = self.text(head, "id", "chain", 0, "[chain]")
        materials = head.get("materials")
        if not isinstance(materials, list) or not materials:
            raise self.fail("[chain]: 'materials' must list material ids", "chain", 0, "materials")
        self.check_materials(materials, "chain", 0, "materials")
        stages = self.parse_stages()
        ids = {s.id for s in stages}
        links = self.parse_links(ids)
        order = self.topological(stages, links)
        plants = self.parse_plants(ids)
        return Chain(
            id=cid,
            name_en=self.text(head, "name_en", "chain", 0, "[chain]"),
            name_no=self.text(head, "name_no", "chain", 0, "[chain]"),
            materials=tuple(materials),
            source=self.source(head.get("source"), "chain", 0, "source", "[chain]"),
            stages=order,
            links=links,
            plants=plants,
            sources=self.sources,
            path=str(self.path),
            note=head.get("note"),
        )

    def check_materials(self, values: Sequence[Any], header: str, index: int, key: str) -> None:
        from verdikart.reference.materials import load_materials

        known = load_materials()
        for value in values:
            if not isinstance(value, str) or value not in known:
                close = difflib.get_close_matches(str(value), list(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise self.fail(
                    f"unknown material {value!r} (not a materials.toml id){hint}",
                    header,
                    index,
                    key,
                    value=f'"{value}"',
                    field=key,
                )

    def parse_stages(self) -> list[ChainStage]:
        raw = self.raw.get("stage", [])
        if not isinstance(raw, list) or not raw:
            raise SourceError(self.path, "no [[stage]] tables", line=1)
        out: list[ChainStage] = []
        seen: set[str] = set()
        for i, st in enumerate(raw):
            self.keys(st, _STAGE_KEYS, "stage", i)
            sid = self.text(st, "id", "stage", i, f"stage #{i + 1}")
            if sid in seen:
                raise self.fail(f"duplicate stage id {sid!r}", "stage", i, "id", field="id")
            seen.add(sid)
            where = f"stage {sid!r}"
            kind = self.text(st, "kind", "stage", i, where)
            if kind not in KINDS:
                raise self.fail(
                    f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}",
                    "stage",
                    i,
                    "kind",
                    field="kind",
                )
            material = self.text(st, "material", "stage", i, where)
            self.check_materials([material], "stage", i, "material")
            out.append(
                ChainStage(
                    id=sid,
                    name_en=self.text(st, "name_en", "stage", i, where),
                    name_no=self.text(st, "name_no", "stage", i, where),
                    material=material,
                    kind=kind,
                    hs=self.codes(st, i, sid),
                    hs_source=self.source(st.get("hs_source"), "stage", i, "hs_source", where),
                    shared=bool(st.get("shared", False)),
                    eu=self.parse_eu(st.get("eu", []), i, where),
                    production=self.parse_production(st.get("production"), i, where),
                    sectors=self.parse_sectors(st.get("sectors", []), i, where),
                    source=self.source(st.get("source"), "stage", i, "source", where),
                    note=st.get("note"),
                    line=self.lines.table("stage", i),
                )
            )
        return out

    def parse_eu(self, raw: Any, i: int, where: str) -> tuple[EuStage, ...]:
        if not isinstance(raw, list):
            raise self.fail(f"{where}: 'eu' must be a list of tables", "stage", i, "eu")
        out = []
        for entry in raw:
            if not isinstance(entry, dict) or set(entry) - {"material", "stage", "source"}:
                raise self.fail(
                    f"{where}: eu entries are {{ material, stage, source }}", "stage", i, "eu"
                )
            stage = entry.get("stage")
            if stage not in EU_STAGES:
                raise self.fail(
                    f"{where}: EU stage {stage!r} is not E or P", "stage", i, "eu", field="eu"
                )
            name = entry.get("material")
            if not isinstance(name, str) or not name:
                raise self.fail(f"{where}: eu entry without material", "stage", i, "eu")
            out.append(
                EuStage(name, stage, self.source(entry.get("source"), "stage", i, "eu", where))
            )
        return tuple(out)

    def parse_production(self, raw: Any, i: int, where: str) -> ProductionSeries | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) - _PRODUCTION_KEYS:
            raise self.fail(
                f"{where}: production is {{ material, stage, wmd, usgs, source, note }}",
                "stage",
                i,
                "production",
                field="production",
            )
        for key in ("material", "stage"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise self.fail(
                    f"{where}: production needs '{key}'", "stage", i, "production", field=key
                )
        return ProductionSeries(
            material=raw["material"],
            stage=raw["stage"],
            wmd=raw.get("wmd"),
            usgs=raw.get("usgs"),
            source=self.source(raw.get("source"), "stage", i, "production", where),
            note=raw.get("note"),
        )

    def parse_sectors(self, raw: Any, i: int, where: str) -> tuple[SectorUse, ...]:
        if not isinstance(raw, list):
            raise self.fail(f"{where}: 'sectors' must be a list", "stage", i, "sectors")
        out = []
        for entry in raw:
            if not isinstance(entry, dict) or set(entry) != {"sector", "source"}:
                raise self.fail(
                    f"{where}: each sector is {{ sector, source }} (a source for every link)",
                    "stage",
                    i,
                    "sectors",
                    field="sectors",
                )
            sector = entry["sector"]
            if sector not in CHAIN_SECTORS:
                raise self.fail(
                    f"{where}: unknown sector {sector!r}; sectors: {', '.join(CHAIN_SECTORS)}",
                    "stage",
                    i,
                    "sectors",
                    value=f'"{sector}"',
                    field="sectors",
                )
            out.append(
                SectorUse(sector, self.source(entry["source"], "stage", i, "sectors", where))
            )
        return tuple(out)

    def stage_ref(self, value: Any, ids: set[str], header: str, i: int, key: str) -> str:
        if isinstance(value, str) and value in ids:
            return value
        close = difflib.get_close_matches(str(value), sorted(ids), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise self.fail(
            f"[[{header}]] #{i + 1}: unknown stage {value!r} in '{key}'{hint}",
            header,
            i,
            key,
            value=f'"{value}"',
            field=key,
        )

    def parse_links(self, ids: set[str]) -> tuple[Link, ...]:
        raw = self.raw.get("link", [])
        out = []
        for i, ln in enumerate(raw):
            self.keys(ln, _LINK_KEYS, "link", i)
            a = self.stage_ref(ln.get("from"), ids, "link", i, "from")
            b = self.stage_ref(ln.get("to"), ids, "link", i, "to")
            if a == b:
                raise self.fail(f"link {a} -> {b} is a cycle of one stage", "link", i, "to")
            src = self.source(ln.get("source"), "link", i, "source", f"link {a} -> {b}")
            out.append(Link(a, b, src, ln.get("note")))
        return tuple(out)

    def topological(
        self, stages: list[ChainStage], links: tuple[Link, ...]
    ) -> tuple[ChainStage, ...]:
        """Stages in an order where every link points forward (file order among equals);
        a cycle is an error naming the link that closes it."""
        order = {s.id: n for n, s in enumerate(stages)}
        nexts: dict[str, list[str]] = {s.id: [] for s in stages}
        for link in links:
            nexts[link.source_stage].append(link.target_stage)
        state: dict[str, int] = {}  # 1 = on the path, 2 = done
        done: list[str] = []
        path: list[str] = []

        def visit(node: str) -> None:
            state[node] = 1
            path.append(node)
            for nxt in sorted(nexts[node], key=order.__getitem__):
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt) :] + [nxt]
                    index = next(
                        n
                        for n, ln in enumerate(links)
                        if ln.source_stage == node and ln.target_stage == nxt
                    )
                    raise self.fail(
                        f"cycle in the chain: {' -> '.join(cycle)} (link {node} -> {nxt})",
                        "link",
                        index,
                        "to",
                        field="to",
                    )
                if nxt not in state:
                    visit(nxt)
            path.pop()
            state[node] = 2
            done.append(node)

        for s in stages:
            if s.id not in state:
                visit(s.id)
        ranked = list(reversed(done))
        # stable: among stages the graph does not order, keep the file's order
        position = {sid: n for n, sid in enumerate(ranked)}
        depth: dict[str, int] = {}
        for sid in ranked:
            depth.setdefault(sid, 0)
            for nxt in nexts[sid]:
                depth[nxt] = max(depth.get(nxt, 0), depth[sid] + 1)
        by_id = {s.id: s for s in stages}
        return tuple(
            by_id[sid] for sid in sorted(ranked, key=lambda x: (depth[x], order[x], position[x]))
        )

    def parse_plants(self, ids: set[str]) -> tuple[Plant, ...]:
        raw = self.raw.get("plant", [])
        out = []
        seen: set[str] = set()
        for i, pl in enumerate(raw):
            self.keys(pl, _PLANT_KEYS, "plant", i)
            pid = self.text(pl, "id", "plant", i, f"plant #{i + 1}")
            if pid in seen:
                raise self.fail(f"duplicate plant id {pid!r}", "plant", i, "id")
            seen.add(pid)
            where = f"plant {pid!r}"
            if "public_facts" not in pl:
                raise self.fail(
                    f"{where} has no source: 'public_facts' must cite where its facts are "
                    "published",
                    "plant",
                    i,
                    field="public_facts",
                )
            facts = self.source(pl.get("public_facts"), "plant", i, "public_facts", where)
            stages_in = tuple(
                self.stage_ref(v, ids, "plant", i, "stages_in") for v in pl.get("stages_in", [])
            )
            stages_out = tuple(
                self.stage_ref(v, ids, "plant", i, "stages_out") for v in pl.get("stages_out", [])
            )
            if not stages_in and not stages_out:
                raise self.fail(f"{where} neither consumes nor produces a stage", "plant", i)
            ets = pl.get("eu_ets_id")
            if ets is not None and not (isinstance(ets, str) and _ETS_ID.match(ets)):
                raise self.fail(
                    f"{where}: eu_ets_id {ets!r} is not a Norwegian EU ETS id (NO_<number>)",
                    "plant",
                    i,
                    "eu_ets_id",
                    field="eu_ets_id",
                )
            lat, lon = pl.get("lat"), pl.get("lon")
            if (lat is None) != (lon is None):
                raise self.fail(f"{where}: give both lat and lon, or neither", "plant", i, "lat")
            if ets is not None and lat is None:
                raise self.fail(
                    f"{where}: a plant with an EU ETS id carries the register's coordinates",
                    "plant",
                    i,
                    "eu_ets_id",
                    field="lat",
                )
            if lat is not None and not (57 <= float(lat) <= 72 and 4 <= float(lon) <= 32):
                raise self.fail(f"{where}: coordinates outside Norway", "plant", i, "lat")
            status = pl.get("status", "operating")
            if status not in PLANT_STATUS:
                raise self.fail(
                    f"{where}: status {status!r} is not one of {', '.join(PLANT_STATUS)}",
                    "plant",
                    i,
                    "status",
                )
            out.append(
                Plant(
                    id=pid,
                    company=self.text(pl, "company", "plant", i, where),
                    plant=self.text(pl, "plant", "plant", i, where),
                    municipality=self.text(pl, "municipality", "plant", i, where),
                    public_facts=facts,
                    stages_in=stages_in,
                    stages_out=stages_out,
                    eu_ets_id=ets,
                    lat=None if lat is None else float(lat),
                    lon=None if lon is None else float(lon),
                    capacity=self.parse_capacity(pl.get("capacity", []), ids, i, where),
                    status=status,
                    note=pl.get("note"),
                    line=self.lines.table("plant", i),
                )
            )
        return tuple(out)

    def parse_capacity(self, raw: Any, ids: set[str], i: int, where: str) -> tuple[Capacity, ...]:
        if not isinstance(raw, list):
            raise self.fail(f"{where}: 'capacity' must be a list", "plant", i, "capacity")
        out = []
        for entry in raw:
            if not isinstance(entry, dict) or set(entry) - _CAPACITY_KEYS:
                raise self.fail(
                    f"{where}: capacity entries are {{ {', '.join(sorted(_CAPACITY_KEYS))} }}",
                    "plant",
                    i,
                    "capacity",
                )
            stage = self.stage_ref(entry.get("stage"), ids, "plant", i, "capacity")
            amount = entry.get("t_per_year")
            if not isinstance(amount, int | float) or amount <= 0:
                raise self.fail(
                    f"{where}: capacity of {stage} needs t_per_year > 0",
                    "plant",
                    i,
                    "capacity",
                    value=f'"{stage}"',
                )
            out.append(
                Capacity(
                    stage=stage,
                    t_per_year=float(amount),
                    basis=str(entry.get("basis", "capacity")),
                    source=self.source(
                        entry.get("source"), "plant", i, "capacity", f"{where} capacity of {stage}"
                    ),
                    year=entry.get("year"),
                    note=entry.get("note"),
                )
            )
        return tuple(out)


def load_chain_file(path: str | Path) -> Chain:
    """One chain file, checked (SourceError naming file, line and problem)."""
    p = Path(path)
    raw, text = _read(p)
    return _Parser(p, raw, text).parse()


@lru_cache(maxsize=1)
def _chains() -> dict[str, Chain]:
    folder = data_path(CHAINS_DIR)
    out: dict[str, Chain] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name == SHARED_SOURCES:
            continue
        chain = load_chain_file(path)
        if chain.id in out:
            raise SourceError(path, f"chain id {chain.id!r} also in {out[chain.id].path}")
        out[chain.id] = chain
    return out


def load_chains() -> dict[str, Chain]:
    """Every chain of ``reference/data/chains`` by id (a fresh dict; chains are immutable)."""
    return dict(_chains())


def _key(text: str) -> str:
    return "-".join(str(text).casefold().replace("_", " ").split())


def find_chain(text: str) -> tuple[Chain, str | None]:
    """The chain for a chain id or name, or for a material (id, English or Norwegian name,
    alias: anything `materials show` accepts); with the material id when found that way.

    Raises UnknownCodeError with suggestions: close chain names, or the chains that exist.
    """
    chains = _chains()
    key = _key(text)
    for chain in chains.values():
        if key in {_key(chain.id), _key(chain.name_en), _key(chain.name_no)}:
            return chain, None
    from verdikart.reference.materials import get_material

    known = ", ".join(sorted(chains))
    try:
        material = get_material(text)
    except UnknownCodeError as exc:
        names = [c.id for c in chains.values()] + [m for c in chains.values() for m in c.materials]
        close = difflib.get_close_matches(key, names, n=4, cutoff=0.6)
        hint = f"did you mean {', '.join(dict.fromkeys(close))}? " if close else ""
        raise UnknownCodeError(
            f"unknown material or chain {text!r}; {hint}value chains: {known} "
            f"(or any of their materials)"
        ) from exc
    for chain in chains.values():
        if material.id in chain.materials:
            return chain, material.id
    raise UnknownCodeError(
        f"no value chain recorded for {material.id} ({material.name_en}); value chains: {known}"
    )


def find_stage(chain: Chain, text: str) -> ChainStage:
    """A stage of the chain by id or name (English or Norwegian); UnknownCodeError with
    suggestions otherwise."""
    key = _key(text)
    for stage in chain.stages:
        if key in {_key(stage.id), _key(stage.name_en), _key(stage.name_no)}:
            return stage
    ids = [s.id for s in chain.stages]
    close = difflib.get_close_matches(key, ids, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UnknownCodeError(
        f"unknown stage {text!r} in the {chain.id} chain; {hint}stages: {', '.join(ids)}"
    )


__all__ = [
    "KINDS",
    "Capacity",
    "Chain",
    "ChainStage",
    "EuStage",
    "Link",
    "Plant",
    "ProductionSeries",
    "SectorUse",
    "find_chain",
    "find_stage",
    "hs2022_codes",
    "known_code",
    "load_chain_file",
    "load_chains",
]
