"""Reader for the EU criticality assessment input tables (2023 study, published layout).

Owns the store tables the EU method (:mod:`verdikart.indicators.eu_method`) reads:

* ``eu_supply_shares(year, material, material_name, stage, scope, country, country_name,
  share, share_text, t, source)`` -- global supply shares (``scope='global'``) and EU sourcing
  shares (``scope='eu_sourcing'``) by stage ``E`` (extraction) / ``P`` (processing), with the
  trade-related variable ``t`` as published. ``share`` is a fraction (0..1).
* ``eu_end_uses(year, material, material_name, application, share, share_text, nace2,
  nace_name, value_added_meur, source)`` -- end-use shares with their NACE Rev. 2 2-digit
  sector and that sector's EU value added in million EUR.
* ``eu_material_groups(year, material, screened_material, grouping, material_group, source)``
  -- the screened materials' groups under the four grouping permutations of the published
  ``dimension_ScreenedMatGroupings.csv`` (``grouping`` = the column without its ``perm_``
  prefix: ``noXREE_noPGM``, ``noXREE_PGM``, ``XREE_noPGM``, ``XREE_PGM``), one row per material,
  grouping and group (gold is listed under two families and keeps both);
* ``eu_parameters(year, material, material_name, stage, ir, eol_rir, si_sr, si_ei, source)``
  -- the scalar inputs the report prints only in its factsheets (import reliance, end-of-life
  recycling input rate, substitution indices). There is no machine-readable official file, so
  this one has a documented verdikart CSV layout: ``material,stage,ir,eol_rir,si_sr,si_ei``
  (stage ``E``/``P`` or empty = both; values as fractions or ``%``; empty = unknown).

Published layouts (European Commission, *Study on the critical raw materials for the EU 2023
-- Final report*, Appendix 6 "material use shares" p. 64 and Appendix 7 "global supply shares,
EU sourcing shares and trade-related variable" p. 78, as transcribed in
github.com/erikemilsson/EU-Critical-Raw-Materials-CRM-Reports-Datasets):

* ``Material,Stage,Country,Share,t`` -- ``Share`` like ``62.8%`` or ``<0.1%``;
* ``Material,Application,Share,NACE sector,VA in million €`` -- NACE like ``C20 - Manufacture
  of chemicals ...``; empty NACE/VA for unallocated "Other" uses;
* ``screened_material,perm_noXREE_noPGM,...`` -- the screened materials' groupings (the
  transcriber's table after the report's p. 2).

Quirks handled: files may be UTF-8 or cp1252 (the published files are cp1252); CRLF; quoted
fields with embedded newlines. ``<0.1%`` is stored as the interval midpoint 0.0005 with the
published text kept in ``share_text``; ``>0%`` has no usable value and is stored as NULL (the
report counts these). Country names are mapped to ISO alpha-3; names that cannot be mapped are
kept (``country`` NULL, ``country_name`` as published) and counted in the report.

Every import is all-or-nothing: all files are parsed and validated first, any problem raises
:class:`~verdikart.errors.SourceError` naming file, line and field, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from verdikart.errors import SourceError, VerdikartError
from verdikart.schema import (
    EU_END_USES,
    EU_MATERIAL_GROUPS,
    EU_PARAMETERS,
    EU_SUPPLY_SHARES,
    TableSpec,
)
from verdikart.sources._common import ImportReport
from verdikart.store import Store, arrow_loader

SUPPLY_HEADER = ("Material", "Stage", "Country", "Share", "t")
END_USE_HEADER = ("Material", "Application", "Share", "NACE sector")
PARAMETER_HEADER = ("material", "stage")
PARAMETER_FIELDS = ("ir", "eol_rir", "si_sr", "si_ei")
GROUPING_KEY = "screened_material"
GROUPING_PREFIX = "perm_"
GROUPINGS_FILE = "dimension_screenedmatgroupings.csv"

# Published material names whose slug differs from the project's material ids
# (production.material / verdikart.reference.materials).
MATERIAL_ALIASES: dict[str, str] = {
    "barytes": "baryte",
    "borate": "boron",
    "natural-graphite": "graphite",
    "silicon-metal": "silicon",
    "iron-ore": "iron",
    "sulphur": "sulfur",
    "phosphorous": "phosphorus",
    "heavy-rare-earths-elements": "hree",
    "kaolin-clay": "kaolin",
    # spellings of the screened-material groupings table (kept as published in
    # `screened_material`)
    "borates": "boron",
    "flourspar": "fluorspar",
    "krupton": "krypton",
    "zenon": "xenon",
}

# Country spellings of the EU tables that a generic resolver does not know (typos included).
COUNTRY_ALIASES: dict[str, str] = {
    "congo, d.r.": "COD",
    "drc": "COD",
    "congo": "COG",
    "brasilia": "BRA",
    "brasil": "BRA",
    "turkyie": "TUR",
    "türkiye": "TUR",
    "turkey": "TUR",
    "libanon": "LBN",
    "surinam": "SUR",
    "south korea": "KOR",
    "korea, south": "KOR",
    "korea s.": "KOR",
    "korea, north": "PRK",
    "kosovo": "XKX",
    "russia": "RUS",
    "hong kong": "HKG",
    "hongkong": "HKG",
    "taiwan": "TWN",
    "iran": "IRN",
    "laos": "LAO",
    "syria": "SYR",
    "vietnam": "VNM",
    "bolivia": "BOL",
    "venezuela": "VEN",
    "cote d'ivoire": "CIV",
    "czechia": "CZE",
    "moldova": "MDA",
    "tanzania": "TZA",
    "united states": "USA",
    "united kingdom": "GBR",
    "united arab emirates": "ARE",
    "cape verde": "CPV",
    "brunei darussalam": "BRN",
    "north macedonia": "MKD",
    "french guiana": "GUF",
}

_SHARE = re.compile(r"^\s*(?P<op>[<>])?\s*(?P<num>\d+(?:[.,]\d+)?)\s*%?\s*$")
_NACE = re.compile(r"^\s*(?P<code>[A-U]\d{2})\s*[-–]\s*(?P<name>.+?)\s*$", re.S)
_BOUND_MIDPOINT = 0.5  # '<x%' is stored as x/2 %: its contribution to an HHI is below 1e-6


@dataclass
class Parsed:
    """Rows parsed from the files of one import, per target table, plus what to report."""

    supply: list[dict[str, Any]] = field(default_factory=list)
    end_uses: list[dict[str, Any]] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def material_slug(name: str) -> str:
    """Project material id for a published material name ('Natural Graphite' -> 'graphite')."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    return MATERIAL_ALIASES.get(slug, slug)


def read_text(path: Path) -> str:
    """File text as UTF-8 (BOM allowed), else cp1252 (the published tables' encoding)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def parse_share(text: str, path: Path, line: int, field_name: str) -> tuple[float | None, str]:
    """A published share ('62.8%', '<0.1%', '>0%', '0.4') as a fraction, plus its text.

    Values without '%' are read as fractions when <= 1 (parameters file), percent otherwise.
    """
    raw = (text or "").strip()
    m = _SHARE.match(raw)
    if not m:
        raise SourceError(path, f"not a share: {raw!r}", line=line, field=field_name)
    value = float(m.group("num").replace(",", "."))
    fraction = value / 100 if raw.endswith("%") or value > 1 else value
    if fraction > 1 + 1e-9:
        raise SourceError(path, f"share above 100 %: {raw!r}", line=line, field=field_name)
    op = m.group("op")
    if op == "<":
        return fraction * _BOUND_MIDPOINT, raw
    if op == ">":
        return None, raw
    return fraction, raw


def _parse_float(text: str, path: Path, line: int, field_name: str) -> float:
    try:
        return float((text or "").strip().replace(",", "."))
    except ValueError:
        raise SourceError(path, f"not a number: {text!r}", line=line, field=field_name) from None


def _records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) of a CSV file; quoted newlines allowed."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise SourceError(path, "empty file") from None
    rows: list[tuple[int, list[str]]] = []
    start = reader.line_num + 1
    for fields in reader:
        if any(f.strip() for f in fields):
            rows.append((start, fields))
        start = reader.line_num + 1
    return header, rows


def _column(header: list[str], name: str, path: Path) -> int:
    lowered = [h.lower() for h in header]
    if name.lower() in lowered:
        return lowered.index(name.lower())
    raise SourceError(path, f"missing column {name!r}; header is {header}")


def _value_added_column(header: list[str], path: Path) -> int:
    for i, h in enumerate(header):
        if h.lower().startswith("va in million"):
            return i
    raise SourceError(path, f"missing column 'VA in million €'; header is {header}")


def _supply_scope(path: Path, scope: str | None) -> str:
    if scope is not None:
        if scope not in ("global", "eu_sourcing"):
            raise SourceError(path, f"scope must be 'global' or 'eu_sourcing', not {scope!r}")
        return scope
    name = path.name.lower()
    if "global" in name:
        return "global"
    if "eu" in name:
        return "eu_sourcing"
    raise SourceError(
        path, "cannot tell global from EU-sourcing shares by the file name; pass scope="
    )


def _field(fields: list[str], index: int) -> str:
    return fields[index] if index < len(fields) else ""


def parse_supply(path: Path, *, year: int, source: str, scope: str | None) -> list[dict[str, Any]]:
    """Rows of a ``Material,Stage,Country,Share,t`` file (global or EU sourcing shares)."""
    header, records = _records(path)
    cols = {name: _column(header, name, path) for name in SUPPLY_HEADER}
    which = _supply_scope(path, scope)
    out: list[dict[str, Any]] = []
    for line, fields in records:
        material = _field(fields, cols["Material"]).strip()
        if not material:
            raise SourceError(path, "empty material", line=line, field="Material")
        stage = _field(fields, cols["Stage"]).strip().upper()
        if stage not in ("E", "P"):
            raise SourceError(
                path, f"stage must be E or P, not {stage!r}", line=line, field="Stage"
            )
        country = " ".join(_field(fields, cols["Country"]).split())
        if not country:
            raise SourceError(path, "empty country", line=line, field="Country")
        share, share_text = parse_share(_field(fields, cols["Share"]), path, line, "Share")
        t = _parse_float(_field(fields, cols["t"]), path, line, "t")
        if not 0 < t <= 3:
            raise SourceError(path, f"t outside (0, 3]: {t}", line=line, field="t")
        out.append(
            {
                "year": year,
                "material": material_slug(material),
                "material_name": material,
                "stage": stage,
                "scope": which,
                "country": None,
                "country_name": country,
                "share": share,
                "share_text": share_text,
                "t": t,
                "source": source,
            }
        )
    return out


def parse_end_uses(path: Path, *, year: int, source: str) -> list[dict[str, Any]]:
    """Rows of a ``Material,Application,Share,NACE sector,VA in million €`` file."""
    header, records = _records(path)
    cols = {name: _column(header, name, path) for name in END_USE_HEADER}
    va_col = _value_added_column(header, path)
    out: list[dict[str, Any]] = []
    for line, fields in records:
        material = _field(fields, cols["Material"]).strip()
        if not material:
            raise SourceError(path, "empty material", line=line, field="Material")
        share, share_text = parse_share(_field(fields, cols["Share"]), path, line, "Share")
        nace_text = " ".join(_field(fields, cols["NACE sector"]).split())
        va_text = _field(fields, va_col).strip()
        nace2 = nace_name = None
        value_added: float | None = None
        if nace_text:
            m = _NACE.match(nace_text)
            if not m:
                raise SourceError(
                    path,
                    f"not a NACE sector 'C20 - name': {nace_text!r}",
                    line=line,
                    field="NACE sector",
                )
            nace2, nace_name = m.group("code"), m.group("name")
            if not va_text:
                raise SourceError(
                    path, "sector without value added", line=line, field=header[va_col]
                )
            value_added = _parse_float(va_text, path, line, header[va_col])
            if value_added <= 0:
                raise SourceError(path, "value added must be > 0", line=line, field=header[va_col])
        elif va_text:
            raise SourceError(path, "value added without a sector", line=line, field="NACE sector")
        out.append(
            {
                "year": year,
                "material": material_slug(material),
                "material_name": material,
                "application": " ".join(_field(fields, cols["Application"]).split()),
                "share": share,
                "share_text": share_text,
                "nace2": nace2,
                "nace_name": nace_name,
                "value_added_meur": value_added,
                "source": source,
            }
        )
    return out


def parse_parameters(path: Path, *, year: int, source: str) -> list[dict[str, Any]]:
    """Rows of a ``material,stage,ir,eol_rir,si_sr,si_ei`` file (verdikart layout).

    An empty stage applies the row to both stages. Empty values stay NULL (= use the default).
    """
    header, records = _records(path)
    cols = {name: _column(header, name, path) for name in PARAMETER_HEADER}
    present = {
        name: i for i, name in enumerate(h.lower() for h in header) if name in PARAMETER_FIELDS
    }
    if not present:
        raise SourceError(
            path, f"no parameter column ({', '.join(PARAMETER_FIELDS)}); header is {header}"
        )
    out: list[dict[str, Any]] = []
    for line, fields in records:
        material = _field(fields, cols["material"]).strip()
        if not material:
            raise SourceError(path, "empty material", line=line, field="material")
        stage = _field(fields, cols["stage"]).strip().upper()
        if stage not in ("E", "P", ""):
            raise SourceError(
                path, f"stage must be E, P or empty, not {stage!r}", line=line, field="stage"
            )
        row: dict[str, Any] = {
            "year": year,
            "material": material_slug(material),
            "material_name": material,
            "stage": stage or None,
            "source": source,
        }
        for name in PARAMETER_FIELDS:
            text = _field(fields, present[name]).strip() if name in present else ""
            if not text:
                row[name] = None
                continue
            value, _ = parse_share(text, path, line, name)
            if name.startswith("si_") and value is not None and value <= 0:
                raise SourceError(path, "substitution index must be > 0", line=line, field=name)
            row[name] = value
        out.append(row)
    return out


def parse_groupings(path: Path, *, year: int, source: str) -> list[dict[str, Any]]:
    """Rows of a ``screened_material,perm_noXREE_noPGM,...`` file, one per material and
    grouping column (long); an empty cell is a material outside that grouping (no row)."""
    header, records = _records(path)
    key = _column(header, GROUPING_KEY, path)
    perms = [(i, h) for i, h in enumerate(header) if h.lower().startswith(GROUPING_PREFIX)]
    if not perms:
        raise SourceError(path, f"no grouping column ({GROUPING_PREFIX}...); header is {header}")
    out: list[dict[str, Any]] = []
    for line, fields in records:
        name = " ".join(_field(fields, key).split())
        if not name:
            raise SourceError(path, "empty material", line=line, field=GROUPING_KEY)
        for index, column in perms:
            group = " ".join(_field(fields, index).split())
            if not group:
                continue
            out.append(
                {
                    "year": year,
                    "material": material_slug(name),
                    "screened_material": name,
                    "grouping": column[len(GROUPING_PREFIX) :],
                    "material_group": group,
                    "source": source,
                }
            )
    return out


def _kind(path: Path) -> str:
    header, _ = _records(path)
    lowered = {h.lower() for h in header}
    if GROUPING_KEY in lowered:
        return "groups"
    # recognise a layout by its distinctive columns; missing ones are reported by the parser
    if "material" in lowered and lowered & set(PARAMETER_FIELDS):
        return "parameters"
    if "material" in lowered and "stage" in lowered and lowered & {"country", "t"}:
        return "supply"
    if "material" in lowered and lowered & {"application", "nace sector"}:
        return "end_uses"
    raise SourceError(
        path,
        "not an EU CRM input table: expected 'Material,Stage,Country,Share,t', "
        "'Material,Application,Share,NACE sector,VA in million €', "
        "'screened_material,perm_...' or "
        f"'material,stage,ir,eol_rir,si_sr,si_ei'; header is {header}",
    )


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.name.startswith("fact_")
        )
        files += sorted(
            p for p in path.iterdir() if p.name.lower() in ("eu_parameters.csv", GROUPINGS_FILE)
        )
        if not files:
            raise SourceError(
                path,
                "no fact_*.csv, dimension_ScreenedMatGroupings.csv or eu_parameters.csv "
                "in this directory",
            )
        return files
    if not path.exists():
        raise SourceError(path, "no such file or directory")
    return [path]


def parse(path: Path, *, year: int, source: str, scope: str | None = None) -> Parsed:
    """Parse and validate every file under `path` (a directory or one file); no writes."""
    parsed = Parsed()
    for file in _files(path):
        kind = _kind(file)
        if kind == "supply":
            rows = parse_supply(file, year=year, source=source, scope=scope)
            parsed.supply += rows
        elif kind == "end_uses":
            rows = parse_end_uses(file, year=year, source=source)
            parsed.end_uses += rows
        elif kind == "groups":
            rows = parse_groupings(file, year=year, source=source)
            parsed.groups += rows
        else:
            rows = parse_parameters(file, year=year, source=source)
            parsed.parameters += rows
        parsed.files.append({"file": str(file), "kind": kind, "rows": len(rows)})
    return parsed


def _country_resolver() -> Callable[[str], Any] | None:
    """The project's country resolver (verdikart.reference.countries) when installed."""
    try:
        from verdikart.reference import countries
    except ImportError:
        return None
    return countries.resolve_country


def resolve_country_names(store: Store, names: Iterable[str]) -> dict[str, str | None]:
    """ISO alpha-3 for each published country name (None when unknown).

    Order: the EU tables' own spellings (:data:`COUNTRY_ALIASES`), the project's country
    resolver when installed, then BACI's country names in the store.
    """
    wanted = sorted(set(names))
    result: dict[str, str | None] = {n: COUNTRY_ALIASES.get(n.lower()) for n in wanted}
    resolve = _country_resolver()
    for name in [n for n, code in result.items() if code is None]:
        if resolve is None:
            break
        try:
            ref = resolve(name)
        except VerdikartError:
            continue
        if getattr(ref, "kind", "country") == "country":
            result[name] = str(ref.id)
    missing = [n for n, code in result.items() if code is None]
    if missing:
        rows = store.rows(
            "SELECT lower(name) AS name, any_value(iso3) AS iso3 FROM baci_countries "
            "WHERE iso3 IS NOT NULL GROUP BY 1"
        )
        baci = {r["name"]: r["iso3"] for r in rows}
        for name in missing:
            result[name] = baci.get(name.lower())
    return result


def _warnings(parsed: Parsed) -> list[str]:
    """Published-table inconsistencies worth knowing about (kept, not corrected)."""
    out: list[str] = []
    va: dict[str, set[float]] = {}
    totals: dict[str, float] = {}
    for row in parsed.end_uses:
        if row["nace2"]:
            va.setdefault(row["nace2"], set()).add(row["value_added_meur"])
        totals[row["material_name"]] = totals.get(row["material_name"], 0.0) + (row["share"] or 0.0)
    for code, values in sorted(va.items()):
        if len(values) > 1:
            out.append(f"NACE {code} carries several value-added figures: {sorted(values)}")
    for material, total in sorted(totals.items()):
        if abs(total - 1) > 0.015:
            out.append(f"end-use shares of {material} sum to {total:.0%}")
    bounds = Counter(
        r["share_text"] for r in parsed.supply + parsed.end_uses if r["share_text"][:1] in "<>"
    )
    for text, n in sorted(bounds.items()):
        out.append(
            f"{n} share(s) published as {text!r} "
            f"(stored as {'midpoint' if text[0] == '<' else 'NULL'})"
        )
    return out


def _loader(rows: list[dict[str, Any]], spec: TableSpec) -> Any:
    return arrow_loader(pa.Table.from_pylist(rows, schema=_schema(spec)), spec)


def _schema(spec: TableSpec) -> pa.Schema:
    types = {"SMALLINT": pa.int16(), "VARCHAR": pa.string(), "DOUBLE": pa.float64()}
    return pa.schema([(name, types[kind]) for name, kind in spec.columns])


def import_eu_crm(
    store: Store,
    path: str | Path,
    *,
    year: int = 2023,
    source: str | None = None,
    scope: str | None = None,
    **_options: Any,
) -> ImportReport:
    """Import EU CRM assessment input tables from `path` (a directory or one CSV file).

    Registry reader ``eu-crm``: options `year` (assessment year, default 2023), `source`
    (provenance label) and `scope` ('global'/'eu_sourcing' for a supply file whose name does
    not tell). The report's `rows` counts ``eu_supply_shares`` rows; `extra_tables` the other
    tables; `unmapped` the country names without an ISO3 code (kept with country NULL);
    `warnings` the published-table inconsistencies. SourceError (nothing written) on bad input.
    """
    started = time.perf_counter()
    file = Path(path)
    label = source or f"EU CRM study {year} inputs ({file.name})"
    parsed = parse(file, year=year, source=label, scope=scope)
    names = resolve_country_names(store, (r["country_name"] for r in parsed.supply))
    for row in parsed.supply:
        row["country"] = names[row["country_name"]]
    unmapped = Counter(r["country_name"] for r in parsed.supply if r["country"] is None)
    counts: dict[str, int] = {}
    for rows, spec in (
        (parsed.supply, EU_SUPPLY_SHARES),
        (parsed.end_uses, EU_END_USES),
        (parsed.parameters, EU_PARAMETERS),
        (parsed.groups, EU_MATERIAL_GROUPS),
    ):
        if rows:
            counts[spec.name] = store.import_rows(
                spec.name, _loader(rows, spec), source=label, path=str(file)
            )
    return ImportReport(
        source_id="eu-crm",
        table=EU_SUPPLY_SHARES.name,
        source=label,
        path=str(file),
        rows=counts.get(EU_SUPPLY_SHARES.name, 0),
        years=[year],
        countries=len({r["country"] for r in parsed.supply if r["country"]}),
        unmapped=dict(sorted(unmapped.items())),
        warnings=_warnings(parsed),
        seconds=time.perf_counter() - started,
        extra_tables={k: v for k, v in counts.items() if k != EU_SUPPLY_SHARES.name},
    )
