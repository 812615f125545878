"""USGS Mineral Commodity Summaries data releases into `production`, `mineral_reserves` and
`usgs_salient`.

Layout (USGS NMIC, "Mineral Commodity Summaries YYYY Data Release", ScienceBase): per
commodity ``mcsYYYY-<code>_world.csv`` (world production and reserves by country) and
``mcsYYYY-<code>_salient.csv`` (US salient statistics incl. net import reliance, NIR).
World files: ``Source, Country, Type, Prod_<unit>_<Y-1>, Prod_<unit>_est_<Y>, Prod_notes,
Reserves_<unit>, Reserves_notes`` with variations (``Prod_note``, ``Prod_kt_Est_``, capacity
columns ``Cap_*``, ``Prod_Sponge_t_Est_``). Quirks handled: UTF-8 BOM, CRLF, trailing empty
columns and rows, thousands separators ("72,000"), footnote digits glued to country names
("New Caledonia9"), no-break spaces, the publisher's missing-value markers instead of a number
("W" withheld, "NA", "XX", "Included in World total.", "Less than ½ unit.", ... -> NULL with the
text kept as `data_quality`/note, never 0), an estimate marker glued to a number ("e5,000" ->
5,000 estimated), one 2024 file named ``MCS2024-...`` in capitals, and a salient file that
actually holds a world table (skipped with a warning).

Bad input is an error naming file, line and column: a production or reserves cell that is
neither a number nor one of those markers ("35x00"), a negative quantity, a row with fewer
fields than the header (a file cut mid-row) or more (an unquoted "22,600"), a world row
without a country, a salient row without a year, and broken CSV quoting. Blank
lines (Excel pads the end of every file with them) carry nothing and are skipped.

Units are converted to the production table's units: t (from kt, Mt/mmt), kg, ct (from kct,
mct) and million m3 (mcm). "World total" and "Other countries" rows are aggregates and are not
stored as countries (counted in the report). Commodities or product types without a material
mapping are reported with row counts, not imported.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from verdikart.errors import SourceError
from verdikart.schema import MINERAL_RESERVES as RESERVES
from verdikart.schema import USGS_SALIENT as SALIENT
from verdikart.sources._common import (
    ImportReport,
    Progress,
    no_progress,
    refuse_unknown_names,
    require_file,
    resolve_country_names,
)
from verdikart.store import PRODUCTION, Store, arrow_loader

FILE_NAME = re.compile(r"mcs(\d{4})-(\w+?)_(world|salient)\.csv$", re.IGNORECASE)
PROD_COLUMN = re.compile(
    r"^Prod_(?:(?P<sub>[A-Za-z]+)_)?(?P<unit>t|kt|kg|mt|mmt|mct|kct|mcm)_(?:(?P<est>est)_)?(?P<year>\d{4})$",
    re.IGNORECASE,
)
RESERVES_COLUMN = re.compile(r"^Reserves_(?P<unit>t|kt|kg|mt|mmt|mct|kct|mcm)(?:_\d{4})?$", re.I)
# unit token -> (factor, production unit)
UNITS: dict[str, tuple[float, str]] = {
    "t": (1.0, "t"),
    "kt": (1e3, "t"),
    "mt": (1e6, "t"),  # USGS 'Mt' / 'mt' here = million metric tons
    "mmt": (1e6, "t"),
    "kg": (1.0, "kg"),
    "kct": (1e3, "ct"),
    "mct": (1e6, "ct"),
    "mcm": (1.0, "million m3"),
}
# Unit words a Type text may carry -> the column unit tokens that agree with them.
TYPE_UNITS: tuple[tuple[str, frozenset[str]], ...] = (
    ("thousand metric ton", frozenset({"kt"})),
    ("million metric ton", frozenset({"mt", "mmt"})),
    ("kilogram", frozenset({"kg"})),
)
AGGREGATE = re.compile(
    r"^(world total|world mine production|other countries|other$)", re.IGNORECASE
)
# The publisher's missing-value markers in quantity cells (whole cell, case and spaces ignored):
# W withheld, NA not available, XX not applicable, notes such as "Included in World total.",
# "Included with ilmenite", "Less than ½ unit.", and for reserves "Large", "Very small",
# 'Categorized as "large"' and lower bounds like ">9,100,000". Anything else is an error.
MISSING_MARKER = re.compile(
    r"^(w|na|xx|included (in|with) .{1,60}|less than ½ unit\.?|large|very small"
    r"|categorized as .{1,30}|>\s*[\d,.]+)$",
    re.IGNORECASE,
)
ESTIMATE = re.compile(r"^e(?=\d)")  # "e5,000": the estimate marker glued to a number
QUALIFIER = re.compile(r"\s*(\(.*\)|, (concentrate|crude|processed))$", re.IGNORECASE)
TRAILING_FOOTNOTE = re.compile(r"(?<=[A-Za-z)])\d+$")
# USGS country names that generic resolvers do not know.
USGS_ALIASES = {
    "Burma": "MMR",
    "Congo (Kinshasa)": "COD",
    "Congo (Brazzaville)": "COG",
    "Korea, North": "PRK",
    "Korea, Republic of": "KOR",
    "Korea, South": "KOR",
    "Russia": "RUS",
    "United States": "USA",
    "United Kingdom": "GBR",
    "Iran": "IRN",
    "Laos": "LAO",
    "Vietnam": "VNM",
    "Turkey": "TUR",
    "Turkey (Türkiye)": "TUR",
    "Türkiye": "TUR",
    "Bolivia": "BOL",
    "Venezuela": "VEN",
    "Tanzania": "TZA",
    "Syria": "SYR",
    "Moldova": "MDA",
    "Czechia": "CZE",
    "Czech Republic": "CZE",
    "Slovakia": "SVK",
    "Taiwan": "TWN",
    "Kosovo": "XKX",
    "Macedonia": "MKD",
    "North Macedonia": "MKD",
    "Eswatini": "SWZ",
    "Côte d’Ivoire": "CIV",
    "Côte d'Ivoire": "CIV",
    "Cote d'Ivoire": "CIV",
    "Ivory Coast": "CIV",
    "Bosnia and Herzegovina": "BIH",
    "United Arab Emirates": "ARE",
    "Saudi Arabia": "SAU",
    "South Africa": "ZAF",
    "New Caledonia": "NCL",
    "Dominican Republic": "DOM",
    "Kyrgyzstan": "KGZ",
    "Papua New Guinea": "PNG",
    "Brunei": "BRN",
    "Hong Kong": "HKG",
    "Cabo Verde": "CPV",
    "Netherlands": "NLD",
}


@dataclass(frozen=True)
class Rule:
    """File code (+ optional text the Type must contain) -> material, stage, content basis."""

    code: str
    material: str
    stage: str
    content_basis: str | None = None
    type_contains: str | None = None


E, P = "extraction", "processing"
RULES: tuple[Rule, ...] = (
    Rule("alumi", "aluminium", P),
    Rule("antim", "antimony", E),
    Rule("arsen", "arsenic", P, "As2O3"),
    Rule("asbes", "asbestos", E),
    Rule("barit", "baryte", E),
    Rule("bauxi", "bauxite", E, None, "bauxite"),
    Rule("bauxi", "alumina", P, None, "alumina"),
    Rule("beryl", "beryllium", E, "Be"),
    Rule("bismu", "bismuth", P),
    Rule("bromi", "bromine", P),
    Rule("cadmi", "cadmium", P),
    Rule("cemen", "cement", P, None, "cement production"),
    Rule("chrom", "chromium", E, "chromite ore"),
    Rule("clays", "bentonite", E, None, "bentonite"),
    Rule("clays", "kaolin", E, None, "kaolin"),
    Rule("cobal", "cobalt", E, "Co"),
    Rule("coppe", "copper", E, "Cu", "mine production"),
    Rule("coppe", "copper", P, "Cu", "refinery production"),
    Rule("diamo", "diamonds-industrial", E),
    Rule("diato", "diatomite", E),
    Rule("felds", "feldspar", E),
    Rule("feore", "iron", E, "Fe", "iron content"),
    Rule("fluor", "fluorspar", E),
    Rule("galli", "gallium", P),
    Rule("garne", "garnet", E),
    Rule("gemst", "diamonds-gem", E),
    Rule("germa", "germanium", P),
    Rule("gold", "gold", E, "Au"),
    Rule("graph", "graphite", E),
    Rule("gypsu", "gypsum", E),
    Rule("heliu", "helium", E),
    Rule("indiu", "indium", P),
    Rule("iodin", "iodine", E),
    Rule("kyani", "kyanite", E),
    Rule("lead", "lead", E, "Pb"),
    Rule("lime", "lime", P),
    Rule("lithi", "lithium", E, "Li"),
    Rule("manga", "manganese", E, "Mn"),
    Rule("mercu", "mercury", E, "Hg"),
    Rule("mgcomp", "magnesite", E, "MgO"),
    Rule("mgmet", "magnesium", P),
    Rule("molyb", "molybdenum", E, "Mo"),
    Rule("nicke", "nickel", E, "Ni"),
    Rule("niobi", "niobium", E, "Nb"),
    Rule("nitro", "nitrogen", P, "N"),
    Rule("peat", "peat", E),
    Rule("perli", "perlite", E),
    Rule("phosp", "phosphate-rock", E, "ore (gross weight)"),
    Rule("plati", "palladium", E, "Pd", "mine production: palladium"),
    Rule("plati", "platinum", E, "Pt", "mine production: platinum"),
    Rule("potas", "potash", E, "K2O"),
    Rule("pumic", "pumice", E),
    Rule("raree", "rare-earths", E, "REO"),
    Rule("rheni", "rhenium", E, "Re"),
    Rule("salt", "salt", E),
    Rule("sandi", "industrial-sand", E),
    Rule("selen", "selenium", P, "Se"),
    Rule("silve", "silver", E, "Ag"),
    Rule("simet", "silicon", P, "Si in ferrosilicon", "ferrosilicon"),
    Rule("simet", "silicon", P, "Si metal", "silicon metal"),
    Rule("sodaa", "soda-ash", E, None, "natural, mine production"),
    Rule("stron", "strontium", E, "Sr"),
    Rule("sulfu", "sulfur", P, "S"),
    Rule("talc", "talc", E),
    Rule("tanta", "tantalum", E, "Ta"),
    Rule("tellu", "tellurium", P, "Te"),
    Rule("timin", "titanium", E, "TiO2 (ilmenite)", "mine production: ilmenite"),
    Rule("timin", "titanium", E, "TiO2 (rutile)", "mine production: rutile"),
    Rule("tin", "tin", E, "Sn"),
    Rule("titan", "titanium-sponge", P),
    Rule("tungs", "tungsten", E, "W"),
    Rule("vanad", "vanadium", E, "V"),
    Rule("vermi", "vermiculite", E),
    Rule("wolla", "wollastonite", E),
    Rule("zeoli", "zeolites", E),
    Rule("zinc", "zinc", E, "Zn"),
    Rule("zirco", "zirconium", E, "zircon concentrate (gross)"),
)


def match_rule(code: str, type_text: str) -> Rule | None:
    """The first rule for this file code whose `type_contains` is in the Type text."""
    lowered = " ".join(type_text.lower().split())
    for rule in RULES:
        if rule.code == code and (rule.type_contains is None or rule.type_contains in lowered):
            return rule
    return None


def parse_number(text: str) -> float | None:
    """'72,000' -> 72000.0; withheld/NA/notes -> None (the caller keeps the text)."""
    cleaned = text.replace(",", "").replace("\u00a0", "").strip()
    if not cleaned:
        return None
    try:
        return float(cleaned)
    except ValueError:
        return None


def parse_quantity(path: Path, text: str, line: int, column: str) -> tuple[float | None, bool]:
    """A production/reserves cell -> (value, estimated). A documented missing-value marker is
    (None, False); anything else that is not a non-negative number is a SourceError naming
    file, line and column."""
    estimated = bool(ESTIMATE.match(text))
    value = parse_number(ESTIMATE.sub("", text))
    if value is None:
        cleaned = " ".join(text.replace("\u00a0", " ").split())
        if cleaned and not MISSING_MARKER.match(cleaned):
            raise SourceError(
                path,
                f"{text!r} is neither a number nor a USGS missing-value marker (W, NA, XX, "
                "'Included in World total.', 'Less than ½ unit.', ...)",
                line=line,
                field=column,
            )
        return None, False
    if value != value or value in (float("inf"), float("-inf")):
        raise SourceError(path, f"{text!r} is not a finite number", line=line, field=column)
    if value < 0:
        raise SourceError(path, f"negative quantity {text!r}", line=line, field=column)
    return value, estimated


def clean_country(text: str) -> str:
    name = " ".join(text.replace("\u00a0", " ").split())
    return TRAILING_FOOTNOTE.sub("", name).strip()


def country_candidates(name: str) -> list[str]:
    """Spellings to try for a USGS country cell, most literal first.

    'Russia (recoverable)' and 'Kazakhstan, concentrate' carry a qualifier; 'Chinae' has the
    estimate marker 'e' glued on (2024 edition). The qualifier stays in the commodity text.
    """
    out = [name]
    bare = QUALIFIER.sub("", name).strip()
    if bare and bare != name:
        out.append(bare)
    out += [c[:-1] for c in list(out) if c.endswith("e") and len(c) > 4]
    return out


def resolve_usgs_countries(names: list[str]) -> dict[str, str | None]:
    """USGS country cells (distinct names, a lookup list) -> ISO alpha-3 or None."""
    candidates = {n: country_candidates(n) for n in names}
    flat = sorted({c for cs in candidates.values() for c in cs})
    resolved = resolve_country_names(flat, USGS_ALIASES)
    return {
        n: next((resolved[c] for c in cs if resolved.get(c)), None) for n, cs in candidates.items()
    }


def import_usgs(
    store: Store,
    path: Path | str,
    *,
    allow_unmapped: bool = False,
    progress: Progress = no_progress,
    **_: object,
) -> ImportReport:
    """Import an MCS data release (directory, zip, or single CSV) in one transaction."""
    started = time.perf_counter()
    src = require_file(Path(path))
    with tempfile.TemporaryDirectory(prefix="verdikart-usgs-") as tmp:
        files = _input_files(src, Path(tmp))
        editions = sorted({int(m.group(1)) for f in files if (m := FILE_NAME.search(f.name))})
        if len(editions) != 1:
            raise SourceError(
                src,
                f"expected the files of one MCS edition, found editions {editions or 'none'}; "
                "import each edition's directory separately",
            )
        edition = editions[0]
        source = f"USGS MCS {edition}"
        report = ImportReport("usgs", "production", source, str(src))
        parsed = _parse_all(files, edition, report, progress)
    names = sorted({r["country_name"] for r in parsed.production + parsed.reserves})
    countries = resolve_usgs_countries(names)
    unknown_names: dict[str, int] = {}
    for row in parsed.production + parsed.reserves:
        row["country"] = countries.get(row["country_name"])
        if row["country"] is None:
            unknown_names[row["country_name"]] = unknown_names.get(row["country_name"], 0) + 1
    if unknown_names and not allow_unmapped:
        first_seen: dict[str, str] = {}
        for row in parsed.production + parsed.reserves:
            if row["country"] is None and row["country_name"] not in first_seen:
                first_seen[row["country_name"]] = f"{row['file']}, line {row['line']}"
        raise refuse_unknown_names(src, unknown_names, first_seen, field="Country")
    for name, n in sorted(unknown_names.items()):
        report.unmapped[f"country: {name}"] = n
    if unknown_names:
        report.warnings.append(
            f"{sum(unknown_names.values())} row(s) with a country name not resolved to ISO3 "
            "were not imported: " + ", ".join(sorted(unknown_names))
        )

    production = _table(
        [r for r in parsed.production if r["country"]], PRODUCTION.column_names, source
    )
    reserves = _table([r for r in parsed.reserves if r["country"]], RESERVES.column_names, source)
    salient = _table(parsed.salient, SALIENT.column_names, source)

    progress("writing to the store", len(files), len(files))
    loads = {"production": arrow_loader(production, PRODUCTION)}
    if reserves.num_rows:
        loads["mineral_reserves"] = arrow_loader(reserves, RESERVES)
        report.extra_tables["mineral_reserves"] = reserves.num_rows
    if salient.num_rows:
        loads["usgs_salient"] = arrow_loader(salient, SALIENT)
        report.extra_tables["usgs_salient"] = salient.num_rows
    store.import_tables(loads, source=source, path=str(src.resolve()))
    report.rows = production.num_rows
    report.years = sorted({int(y) for y in production.column("year").to_pylist()})
    report.countries = len({c for c in production.column("country").to_pylist()})
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class Parsed:
    production: list[dict[str, Any]]
    reserves: list[dict[str, Any]]
    salient: list[dict[str, Any]]


def _input_files(src: Path, tmp: Path) -> list[Path]:
    if src.is_dir():
        files = sorted(p for p in src.rglob("*.csv") if FILE_NAME.search(p.name))
    elif zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as zf:
            names = [n for n in zf.namelist() if FILE_NAME.search(Path(n).name)]
            files = sorted(Path(zf.extract(n, tmp)) for n in names)
    else:
        files = [src]
    if not files or not all(FILE_NAME.search(f.name) for f in files):
        raise SourceError(src, "no MCS data-release file (mcsYYYY-<code>_world.csv / _salient.csv)")
    return files


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank record; blank lines (Excel pads the
    end of the file with them) are skipped. Broken quoting is a SourceError with the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="cp1252")  # a few older releases are Windows-1252
    reader = csv.reader(io.StringIO(text), strict=True)
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if any(cells):
                out.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SourceError(
            path,
            f"not a well-formed CSV record (truncated file or broken quoting?): {exc}",
            line=start,
        ) from exc
    return out


def _check_width(path: Path, header: list[str], line: int, row: list[str]) -> list[str]:
    """The row, or an error when its field count differs from the header's: fewer is a file
    cut mid-row, more an unquoted comma ("22,600") that would shift every later column. (The
    releases pad header and rows alike with empty columns.)"""
    if len(row) < len(header):
        raise SourceError(
            path,
            f"the row has {len(row)} field(s) but the header has {len(header)} "
            f"(truncated file or a row cut short?): {','.join(row)[:80]!r}",
            line=line,
        )
    if len(row) > len(header):
        raise SourceError(
            path,
            f"the row has {len(row)} fields but the header has {len(header)} (an unquoted "
            f"comma in a number or name?): {','.join(row)[:80]!r}",
            line=line,
        )
    return row


def _parse_all(files: list[Path], edition: int, report: ImportReport, progress: Progress) -> Parsed:
    out = Parsed([], [], [])
    unmapped: dict[str, int] = {}
    aggregates = 0
    for number, path in enumerate(files):
        progress(f"reading {path.name}", number, len(files))
        match = FILE_NAME.search(path.name)
        assert match is not None
        code, kind = match.group(2).lower(), match.group(3).lower()
        rows = _read_rows(path)
        if not rows:
            report.warnings.append(f"{path.name}: empty file")
            continue
        header = rows[0][1]
        if kind == "world" or header[:3] == ["Source", "Country", "Type"]:
            if kind == "salient":
                report.warnings.append(
                    f"{path.name}: a salient file holding a world table; skipped"
                )
                continue
            aggregates += _parse_world(path, code, edition, header, rows[1:], out, unmapped)
        else:
            _parse_salient(path, code, edition, header, rows[1:], out)
    for key, n in sorted(unmapped.items()):
        report.unmapped[key] = n
    if unmapped:
        report.warnings.append(
            f"{sum(unmapped.values())} production value(s) of {len(unmapped)} commodity type(s) "
            "without a material mapping were not imported (see unmapped)"
        )
    if aggregates:
        report.warnings.append(
            f"{aggregates} 'World total'/'Other countries' row(s) are aggregates, not stored"
        )
    return out


def _parse_world(
    path: Path,
    code: str,
    edition: int,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    out: Parsed,
    unmapped: dict[str, int],
) -> int:
    if header[:2] != ["Source", "Country"]:
        raise SourceError(
            path, f"header is {','.join(header)[:100]!r}; expected Source,Country,Type,...", line=1
        )
    prod_cols: list[tuple[int, int, str, bool]] = []  # (index, year, unit, estimated)
    reserves_col: tuple[int, str] | None = None
    notes = {h.lower(): i for i, h in enumerate(header)}
    for index, name in enumerate(header):
        if m := PROD_COLUMN.match(name):
            prod_cols.append(
                (index, int(m.group("year")), m.group("unit").lower(), bool(m.group("est")))
            )
        elif (m := RESERVES_COLUMN.match(name)) and reserves_col is None:
            reserves_col = (index, m.group("unit").lower())
    # A few files label the Type column with the product itself ("Mine production, fluorspar").
    fixed_type = header[2] if header[2] != "Type" else None
    prod_note = notes.get("prod_notes", notes.get("prod_note"))
    res_note = notes.get("reserves_notes")
    aggregates = 0
    for line_no, raw in rows:
        row = _check_width(path, header, line_no, raw)
        country = clean_country(row[1])
        type_text = fixed_type or row[2]
        if not country:
            raise SourceError(
                path,
                f"no country name in a row with data: {','.join(row)[:80]!r}",
                line=line_no,
                field=header[1],
            )
        if AGGREGATE.match(country) or AGGREGATE.match(type_text.strip()):
            aggregates += 1
            continue
        rule = match_rule(code, type_text)
        if rule is None:
            key = f"{code}: {' '.join(type_text.split())[:60] or '(no type)'}"
            unmapped[key] = unmapped.get(key, 0) + max(len(prod_cols), 1)
            continue
        _check_type_unit(path, line_no, type_text, prod_cols)
        commodity = f"{code}: {' '.join(type_text.split())}"
        note = row[prod_note] if prod_note is not None else ""
        for index, year, unit, estimated in prod_cols:
            text = row[index]
            value, marked = parse_quantity(path, text, line_no, header[index])
            quantity, out_unit = _scaled(value, unit)
            quality = "e" if estimated or marked else None
            if quantity is None:
                # missing: keep the row, NULL quantity, the publisher's marker as the reason
                quality = {"W": "withheld", "NA": "not available", "": "blank"}.get(text, text[:40])
            out.production.append(
                {
                    "year": year,
                    "country_name": country,
                    "material": rule.material,
                    "commodity": commodity,
                    "stage": rule.stage,
                    "content_basis": rule.content_basis,
                    "quantity": quantity,
                    "unit": out_unit,
                    "data_quality": quality,
                    "note": note or None,
                    "line": line_no,
                    "file": path.name,
                }
            )
        if reserves_col is not None:
            index, unit = reserves_col
            value, _ = parse_quantity(path, row[index], line_no, header[index])
            reserves, out_unit = _scaled(value, unit)
            reason = None if reserves is not None else (row[index] or "blank")
            note_text = "; ".join(
                t for t in (reason, row[res_note] if res_note is not None else "") if t
            )
            out.reserves.append(
                {
                    "year": edition,
                    "country_name": country,
                    "material": rule.material,
                    "commodity": commodity,
                    "content_basis": rule.content_basis,
                    "reserves": reserves,
                    "unit": out_unit,
                    "note": note_text[:500] or None,
                    "line": line_no,
                    "file": path.name,
                }
            )
    return aggregates


def _check_type_unit(
    path: Path, line_no: int, type_text: str, prod_cols: list[tuple[int, int, str, bool]]
) -> None:
    """A unit named in the Type text ("..., thousand metric tons") must be the production
    columns' unit (Prod_kt_...): a row saying otherwise is mislabelled, not silently scaled."""
    lowered = " ".join(type_text.lower().split())
    stated = next((units for words, units in TYPE_UNITS if words in lowered), None)
    columns = {unit for _, _, unit, _ in prod_cols}
    if stated is not None and columns and not columns & stated:
        raise SourceError(
            path,
            f"the Type {type_text.strip()!r} states {'/'.join(sorted(stated))} but the "
            f"production columns are in {'/'.join(sorted(columns))}",
            line=line_no,
            field="Type",
        )


def _scaled(value: float | None, unit: str) -> tuple[float | None, str]:
    """A published number in the project's unit (USGS column unit token -> factor, unit)."""
    factor, out_unit = UNITS[unit]
    return (value * factor if value is not None else None), out_unit


def _parse_salient(
    path: Path,
    code: str,
    edition: int,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    out: Parsed,
) -> None:
    lowered = [h.lower() for h in header]
    if "year" not in lowered or "commodity" not in lowered:
        raise SourceError(
            path,
            f"header is {','.join(header)[:100]!r}; expected DataSource,Commodity,Year,...",
            line=1,
        )
    year_i, commodity_i = lowered.index("year"), lowered.index("commodity")
    variables = [(i, h) for i, h in enumerate(header) if h and i not in (0, year_i, commodity_i)]
    for line_no, raw in rows:
        row = _check_width(path, header, line_no, raw)
        year_text = row[year_i]
        if not year_text.isdigit():
            raise SourceError(
                path,
                f"year is {year_text!r}, not a year" if year_text else "no year in a row with data",
                line=line_no,
                field=header[year_i],
            )
        year = int(year_text)
        for index, name in variables:
            text = row[index]
            if not text:
                continue
            out.salient.append(
                {
                    "year": year,
                    "commodity_code": code,
                    "commodity": row[commodity_i],
                    "variable": name,
                    "unit": name.rsplit("_", 1)[-1] if "_" in name else None,
                    "value": parse_number(text),
                    "value_text": text,
                }
            )


def _table(rows: list[dict[str, Any]], columns: list[str], source: str) -> pa.Table:
    data: dict[str, list[Any]] = {c: [] for c in columns}
    for row in rows:
        for c in columns:
            data[c].append(source if c == "source" else row.get(c))
    types = {
        "year": pa.int16(),
        "quantity": pa.float64(),
        "reserves": pa.float64(),
        "value": pa.float64(),
    }
    return pa.table({c: pa.array(v, types.get(c, pa.string())) for c, v in data.items()})
