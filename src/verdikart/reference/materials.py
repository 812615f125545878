"""Materials and the official critical-raw-material lists (versioned data files, read-only).

Owns the material model (`data/materials.toml`: ids, names, families, value-chain stages with
HS6 codes per HS revision, content conversions, EoL recycling input rates) and the lists
(`data/lists.toml`: EU 2011-2023, CRMA Annexes I/II, NATO 2024, USGS 2022, DOE 2023 and the
Norwegian additions with their seed citations). Parsed files are cached with lru_cache.

Material ids reuse the slugs of the bundled `production` table (World Mining Data).
Stages: extraction (ores, concentrates, mined minerals), processing (refined metals,
chemicals, alloys), intermediate (mattes, anodes, catalysts, magnets, electrodes, steel
sheet), scrap (waste and scrap). An HS6 code may belong to several materials: a chain
material and its ore (aluminium/bauxite), a group and its members (pgms/platinum), or codes
that lump several elements (`shared`, e.g. 8112.92 gallium/germanium/indium/niobium/vanadium).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyarrow as pa

from verdikart.errors import SourceError, UnknownCodeError
from verdikart.reference._data import data_path

STAGES = ("extraction", "processing", "intermediate", "scrap")
REVISIONS = ("HS92", "HS2017", "HS2022")
LIST_IDS = (
    "eu2011",
    "eu2014",
    "eu2017",
    "eu2020",
    "eu2023",
    "crma-critical",
    "crma-strategic",
    "nato2024",
    "usgs2022",
    "doe2023",
    "norway",
)
MATERIALS_FILE = "materials.toml"
LISTS_FILE = "lists.toml"
ASSESSED_NAMES_FILE = "eu_assessed_names.toml"
_MATERIAL_KEYS = {
    "name_en",
    "name_no",
    "aliases",
    "group",
    "symbol",
    "members",
    "hs_proxy",
    "eol_rir",
    "hs",
    "conversions",
    "note",
}
_HS_KEYS = {"stage", "hs92", "hs2017", "hs2022", "shared", "what"}


@dataclass(frozen=True)
class HsItem:
    """One product of a stage: its HS6 code(s) in each revision."""

    stage: str
    codes: Mapping[str, tuple[str, ...]]  # revision -> HS6 codes
    shared: bool
    what: str


@dataclass(frozen=True)
class Stage:
    """A value-chain stage of a material with its HS6 codes per revision."""

    stage: str
    hs6: Mapping[str, tuple[str, ...]]
    items: tuple[HsItem, ...]


@dataclass(frozen=True)
class Conversion:
    """1 t of `from_basis` contains `factor` t of `to_basis` (stoichiometric)."""

    from_basis: str
    to_basis: str
    factor: float


@dataclass(frozen=True)
class ListEntry:
    """One entry of an official list, mapped to a material id."""

    list_id: str
    name_official: str
    material: str
    ref: str | None = None
    seed: str | None = None
    line: int | None = None
    line_end: int | None = None
    quote: str | None = None
    rationale: str | None = None

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "list_id": self.list_id,
            "name_official": self.name_official,
            "material": self.material,
        }
        if self.ref:
            row["ref"] = self.ref
        if self.seed:
            row.update(
                seed=self.seed,
                line=self.line,
                line_end=self.line_end,
                quote=self.quote,
                rationale=self.rationale,
            )
        return row


@dataclass(frozen=True)
class ListInfo:
    """An official list: title (English and bokmål), source citation, date, count of
    entries."""

    id: str
    title: str
    title_nb: str
    source: str
    date: str | None
    jurisdiction: str
    count: int
    note: str | None = None

    def title_in(self, lang: str) -> str:
        """The title in `lang` ('nb' or 'en')."""
        return self.title_nb if lang == "nb" else self.title

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "title_nb": self.title_nb,
            "count": self.count,
            "date": self.date,
            "jurisdiction": self.jurisdiction,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True)
class Material:
    """A raw material (or a family such as PGMs) with its value chain in HS6 codes."""

    id: str
    name_en: str
    name_no: str
    group: str
    symbol: str | None = None
    aliases: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    hs_proxy: str | None = None
    eol_rir: float | None = None
    hs_items: tuple[HsItem, ...] = ()
    conversions: tuple[Conversion, ...] = ()
    note: str | None = None
    lists: tuple[str, ...] = ()
    list_entries: tuple[ListEntry, ...] = field(default=(), repr=False)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Stages in value-chain order, each with its codes per revision."""
        out = []
        for stage in STAGES:
            items = tuple(i for i in self.hs_items if i.stage == stage)
            if items:
                hs6 = {rev: _unique(c for i in items for c in i.codes[rev]) for rev in REVISIONS}
                out.append(Stage(stage=stage, hs6=hs6, items=items))
        return tuple(out)

    def hs6(self, revision: str = "HS92", stage: str | None = None) -> tuple[str, ...]:
        """This material's own HS6 codes in `revision` (optionally of one stage)."""
        rev = _revision(revision)
        return _unique(c for i in self.hs_items if stage in (None, i.stage) for c in i.codes[rev])

    @property
    def norwegian_rationale(self) -> tuple[ListEntry, ...]:
        return tuple(e for e in self.list_entries if e.list_id == "norway")

    def name_official(self, list_id: str) -> list[str]:
        return [e.name_official for e in self.list_entries if e.list_id == list_id]

    def as_dict(self) -> dict[str, Any]:
        """Everything about the material as one JSON-ready object."""
        return {
            "id": self.id,
            "name_en": self.name_en,
            "name_no": self.name_no,
            "group": self.group,
            "symbol": self.symbol,
            "aliases": list(self.aliases),
            "members": list(self.members),
            "hs_proxy": self.hs_proxy,
            "lists": {lid: lid in self.lists for lid in LIST_IDS},
            "on_lists": list(self.lists),
            "name_official": {lid: self.name_official(lid) for lid in self.lists},
            "stages": [
                {
                    "stage": s.stage,
                    "hs6": {rev: list(codes) for rev, codes in s.hs6.items()},
                    "products": [
                        {
                            "what": i.what,
                            "shared": i.shared,
                            **{rev: list(codes) for rev, codes in i.codes.items()},
                        }
                        for i in s.items
                    ],
                }
                for s in self.stages
            ],
            "conversions": [
                {"from": c.from_basis, "to": c.to_basis, "factor": c.factor}
                for c in self.conversions
            ],
            "eol_rir": self.eol_rir,
            "norwegian_rationale": [e.as_dict() for e in self.norwegian_rationale],
            "note": self.note,
        }


def _unique(codes: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


def _revision(revision: str) -> str:
    rev = revision.upper().replace(" ", "")
    aliases = {"H0": "HS92", "HS1992": "HS92", "H5": "HS2017", "H6": "HS2022"}
    rev = aliases.get(rev, rev)
    if rev not in REVISIONS:
        raise UnknownCodeError(f"unknown HS revision {revision!r}; known: {', '.join(REVISIONS)}")
    return rev


# ---------------------------------------------------------------- parsing (cached)


def _load_toml(name: str) -> dict[str, Any]:
    path = data_path(name)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(path, f"invalid TOML: {exc}") from exc


def _codes(path: Any, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(c, str) and len(c) == 6 and c.isdigit() for c in value
    ):
        raise SourceError(path, f"expected a list of 6-digit HS codes, got {value!r}", field=where)
    return tuple(value)


def _parse_material(mid: str, raw: Any) -> Material:
    path = data_path(MATERIALS_FILE)
    if not isinstance(raw, dict):
        raise SourceError(path, "expected a table", field=mid)
    unknown = set(raw) - _MATERIAL_KEYS
    if unknown:
        raise SourceError(path, f"unknown key(s) {sorted(unknown)}", field=mid)
    for key in ("name_en", "name_no", "group"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise SourceError(path, "missing or empty", field=f"{mid}.{key}")
    items = []
    for n, item in enumerate(raw.get("hs", [])):
        where = f"{mid}.hs[{n}]"
        if set(item) - _HS_KEYS or item.get("stage") not in STAGES or "hs92" not in item:
            raise SourceError(
                path,
                f"needs stage in {STAGES}, hs92, optional hs2017/hs2022/shared/what; got {item!r}",
                field=where,
            )
        hs92 = _codes(path, f"{where}.hs92", item["hs92"])
        hs2017 = _codes(path, f"{where}.hs2017", item.get("hs2017", list(hs92)))
        hs2022 = _codes(path, f"{where}.hs2022", item.get("hs2022", list(hs2017)))
        items.append(
            HsItem(
                stage=item["stage"],
                codes={"HS92": hs92, "HS2017": hs2017, "HS2022": hs2022},
                shared=bool(item.get("shared", False)),
                what=str(item.get("what", "")),
            )
        )
    conversions = []
    for n, conv in enumerate(raw.get("conversions", [])):
        factor = conv.get("factor")
        if not isinstance(factor, float) or not 0 < factor <= 1:
            raise SourceError(path, "factor must be in (0, 1]", field=f"{mid}.conversions[{n}]")
        conversions.append(Conversion(str(conv["from"]), str(conv["to"]), factor))
    eol = raw.get("eol_rir")
    if eol is not None and not (isinstance(eol, float | int) and 0 <= eol <= 1):
        raise SourceError(path, f"eol_rir must be in [0, 1], got {eol!r}", field=f"{mid}.eol_rir")
    return Material(
        id=mid,
        name_en=raw["name_en"],
        name_no=raw["name_no"],
        group=raw["group"],
        symbol=raw.get("symbol"),
        aliases=tuple(raw.get("aliases", ())),
        members=tuple(raw.get("members", ())),
        hs_proxy=raw.get("hs_proxy"),
        eol_rir=float(eol) if eol is not None else None,
        hs_items=tuple(items),
        conversions=tuple(conversions),
        note=raw.get("note"),
    )


@lru_cache(maxsize=1)
def _lists() -> tuple[tuple[ListInfo, ...], tuple[ListEntry, ...]]:
    path = data_path(LISTS_FILE)
    raw = _load_toml(LISTS_FILE)
    if set(raw) != set(LIST_IDS):
        raise SourceError(path, f"expected the lists {LIST_IDS}, got {tuple(raw)}")
    infos: list[ListInfo] = []
    entries: list[ListEntry] = []
    for lid in LIST_IDS:
        spec = raw[lid]
        for key in ("title", "title_nb", "source", "jurisdiction", "entries"):
            if key not in spec:
                raise SourceError(path, "missing", field=f"{lid}.{key}")
        for n, entry in enumerate(spec["entries"]):
            if not entry.get("name_official") or not entry.get("material"):
                raise SourceError(
                    path, "entry needs name_official and material", field=f"{lid}.entries[{n}]"
                )
            if lid == "norway" and not all(entry.get(k) for k in ("seed", "line", "quote")):
                raise SourceError(
                    path, "Norwegian entries need seed, line and quote", field=f"{lid}[{n}]"
                )
            entries.append(
                ListEntry(
                    list_id=lid,
                    name_official=entry["name_official"],
                    material=entry["material"],
                    ref=entry.get("ref"),
                    seed=entry.get("seed"),
                    line=entry.get("line"),
                    line_end=entry.get("line_end", entry.get("line")),
                    quote=entry.get("quote"),
                    rationale=entry.get("rationale"),
                )
            )
        infos.append(
            ListInfo(
                id=lid,
                title=spec["title"],
                title_nb=spec["title_nb"],
                source=spec["source"],
                date=spec.get("date"),
                jurisdiction=spec["jurisdiction"],
                count=len(spec["entries"]),
                note=spec.get("note"),
            )
        )
    return tuple(infos), tuple(entries)


@lru_cache(maxsize=1)
def _materials() -> dict[str, Material]:
    path = data_path(MATERIALS_FILE)
    raw = _load_toml(MATERIALS_FILE)
    parsed = {mid: _parse_material(mid, spec) for mid, spec in raw.items()}
    _, entries = _lists()
    unknown = sorted({e.material for e in entries} - set(parsed))
    if unknown:
        raise SourceError(data_path(LISTS_FILE), f"entries name unknown material(s) {unknown}")
    for m in parsed.values():
        bad = [x for x in (*m.members, m.hs_proxy) if x is not None and x not in parsed]
        if bad:
            raise SourceError(path, f"members/hs_proxy name unknown material(s) {bad}", field=m.id)
    out: dict[str, Material] = {}
    for mid, m in parsed.items():
        mine = tuple(e for e in entries if e.material == mid)
        on = tuple(lid for lid in LIST_IDS if any(e.list_id == lid for e in mine))
        out[mid] = _with_lists(m, on, mine)
    return out


def _with_lists(m: Material, lists: tuple[str, ...], entries: tuple[ListEntry, ...]) -> Material:
    return Material(
        id=m.id,
        name_en=m.name_en,
        name_no=m.name_no,
        group=m.group,
        symbol=m.symbol,
        aliases=m.aliases,
        members=m.members,
        hs_proxy=m.hs_proxy,
        eol_rir=m.eol_rir,
        hs_items=m.hs_items,
        conversions=m.conversions,
        note=m.note,
        lists=lists,
        list_entries=entries,
    )


def _key(text: str) -> str:
    # 'Phosphate rock', 'phosphate_rock' and 'phosphate-rock' are the same key
    return "-".join(str(text).casefold().replace("_", " ").replace("–", "-").split())


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Normalised text -> material id; ids and names win over aliases and list names."""
    index: dict[str, str] = {}
    mats = _materials()
    for m in mats.values():
        index.setdefault(_key(m.id), m.id)
    for attr in ("name_en", "name_no"):
        for m in mats.values():
            index.setdefault(_key(getattr(m, attr)), m.id)
    for m in mats.values():
        for alias in m.aliases:
            index.setdefault(_key(alias), m.id)
    for m in mats.values():
        if m.symbol:
            index.setdefault(_key(m.symbol), m.id)
    for entry in _lists()[1]:
        index.setdefault(_key(entry.name_official), entry.material)
    return index


# ---------------------------------------------------------------- public API


def load_materials() -> dict[str, Material]:
    """All materials by id (a fresh dict; the Material objects are immutable)."""
    return dict(_materials())


def find_material(text: str) -> Material | None:
    """Like :func:`get_material`, but None when nothing matches (no message work)."""
    mid = _index().get(_key(text))
    return None if mid is None else _materials()[mid]


@lru_cache(maxsize=1)
def _assessed_names() -> dict[str, tuple[str, str]]:
    """data/eu_assessed_names.toml: id -> (English name, bokmål name)."""
    path = data_path(ASSESSED_NAMES_FILE)
    names = {}
    for mid, spec in _load_toml(ASSESSED_NAMES_FILE).items():
        if not isinstance(spec, dict) or not spec.get("name_en") or not spec.get("name_no"):
            raise SourceError(path, "needs name_en and name_no", field=mid)
        names[mid] = (str(spec["name_en"]), str(spec["name_no"]))
    return names


def material_name(mid: str, lang: str) -> str:
    """A material's name in `lang` ('nb' or 'en'): from the material table, else from the
    names of the other materials the EU assessment covers (eu_assessed_names.toml), else its
    id as it is."""
    found = find_material(mid)
    if found is not None:
        return found.name_no if lang == "nb" else found.name_en
    en, nb = _assessed_names().get(mid, (mid, mid))
    return nb if lang == "nb" else en


def material_suggestions(text: str, n: int = 5) -> list[str]:
    """Material ids whose id, names, aliases or official names are close to `text`."""
    close = difflib.get_close_matches(_key(text), list(_index()), n=n * 2, cutoff=0.6)
    return list(dict.fromkeys(_index()[c] for c in close))[:n]


def get_material(text: str) -> Material:
    """A material by id, English or Norwegian name, alias, symbol or official list name.

    Case-insensitive; spaces, '_' and '-' are equivalent. Raises UnknownCodeError listing
    close matches and the known ids.
    """
    found = find_material(text)
    if found is not None:
        return found
    close = material_suggestions(text)
    hint = "did you mean: " + ", ".join(close) + "? " if close else ""
    raise UnknownCodeError(
        f"unknown material {text!r}; {hint}known ids: {', '.join(sorted(_materials()))}"
    )


def list_ids() -> tuple[str, ...]:
    """The ids of the official lists, oldest EU list first."""
    return LIST_IDS


# Short names people use for the lists (what they say, not our ids): the newest edition of a
# list that has several, the CRMA's critical list (Annex II, which includes the strategic ones).
LIST_ALIASES = {
    "eu": "eu2023",
    "eu-crm": "eu2023",
    "crm": "eu2023",
    "crma": "crma-critical",
    "critical": "crma-critical",
    "strategic": "crma-strategic",
    "srm": "crma-strategic",
    "nato": "nato2024",
    "usgs": "usgs2022",
    "doe": "doe2023",
    "us-doe": "doe2023",
    "norge": "norway",
    "no": "norway",
    "nor": "norway",
}


def resolve_list_id(text: str) -> str:
    """A list id from its id or a common short name (`nato` -> nato2024, `eu` -> the latest
    EU list, `crma` -> crma-critical), any case; UnknownCodeError with close matches."""
    key = "-".join(str(text).strip().casefold().replace("_", " ").split())
    if key in LIST_IDS:
        return key
    if key in LIST_ALIASES:
        return LIST_ALIASES[key]
    close = difflib.get_close_matches(key, [*LIST_IDS, *LIST_ALIASES], n=4, cutoff=0.5)
    ids = list(dict.fromkeys(LIST_ALIASES.get(c, c) for c in close))
    hint = f"did you mean: {', '.join(ids)}? " if ids else ""
    raise UnknownCodeError(
        f"unknown material list {text!r}; {hint}lists: {', '.join(LIST_IDS)} "
        f"(short names: {', '.join(f'{a}={i}' for a, i in LIST_ALIASES.items())})"
    )


def _check_list(list_id: str) -> str:
    return resolve_list_id(list_id)


def list_info(list_id: str) -> ListInfo:
    """Title, source citation, date and entry count of one list."""
    lid = _check_list(list_id)
    return next(i for i in _lists()[0] if i.id == lid)


def lists() -> list[ListInfo]:
    """Every list's info."""
    return list(_lists()[0])


def list_members(list_id: str) -> list[ListEntry]:
    """The entries of a list in official order (name_official -> material id)."""
    lid = _check_list(list_id)
    return [e for e in _lists()[1] if e.list_id == lid]


def material_hs6_table(
    revision: str = "HS92", *, include_shared: bool = True, include_proxies: bool = False
) -> pa.Table:
    """(material, stage, hs6, shared) for every material's own codes in `revision`.

    `shared` marks codes that also cover other materials. With include_proxies=True, materials
    without codes of their own (e.g. neodymium, heavy rare earths) get their `hs_proxy`'s
    codes, with `shared` = True.
    """
    rev = _revision(revision)
    mats = _materials()
    rows: dict[tuple[str, str, str], bool] = {}
    for m in mats.values():
        for item in m.hs_items:
            if item.shared and not include_shared:
                continue
            for code in item.codes[rev]:
                key = (m.id, item.stage, code)
                rows[key] = rows.get(key, False) or item.shared
        if include_proxies and m.hs_proxy and not m.hs_items:
            for item in mats[m.hs_proxy].hs_items:
                for code in item.codes[rev]:
                    rows[(m.id, item.stage, code)] = True
    ordered = sorted(rows.items(), key=lambda kv: (kv[0][0], STAGES.index(kv[0][1]), kv[0][2]))
    return pa.table(
        {
            "material": pa.array([k[0] for k, _ in ordered], pa.string()),
            "stage": pa.array([k[1] for k, _ in ordered], pa.string()),
            "hs6": pa.array([k[2] for k, _ in ordered], pa.string()),
            "shared": pa.array([v for _, v in ordered], pa.bool_()),
        }
    )


def materials_table() -> pa.Table:
    """One row per material: id, names, group, symbol, eol_rir, lists, hs_proxy, members."""
    mats = sorted(_materials().values(), key=lambda m: m.id)
    return pa.table(
        {
            "material": pa.array([m.id for m in mats], pa.string()),
            "name_en": pa.array([m.name_en for m in mats], pa.string()),
            "name_no": pa.array([m.name_no for m in mats], pa.string()),
            "group": pa.array([m.group for m in mats], pa.string()),
            "symbol": pa.array([m.symbol for m in mats], pa.string()),
            "eol_rir": pa.array([m.eol_rir for m in mats], pa.float64()),
            "lists": pa.array([list(m.lists) for m in mats], pa.list_(pa.string())),
            "hs_proxy": pa.array([m.hs_proxy for m in mats], pa.string()),
            "members": pa.array([list(m.members) for m in mats], pa.list_(pa.string())),
        }
    )


def list_membership_table() -> pa.Table:
    """(list_id, material, name_official) for set-based joins against indicators."""
    entries = _lists()[1]
    return pa.table(
        {
            "list_id": pa.array([e.list_id for e in entries], pa.string()),
            "material": pa.array([e.material for e in entries], pa.string()),
            "name_official": pa.array([e.name_official for e in entries], pa.string()),
        }
    )


__all__ = [
    "LIST_IDS",
    "REVISIONS",
    "STAGES",
    "Conversion",
    "HsItem",
    "ListEntry",
    "ListInfo",
    "Material",
    "Stage",
    "find_material",
    "get_material",
    "list_ids",
    "list_info",
    "list_members",
    "material_suggestions",
    "resolve_list_id",
    "list_membership_table",
    "lists",
    "load_materials",
    "material_hs6_table",
    "materials_table",
]
