"""Importing side streams from company files: the exchange's template and the authority layout.

Two formats, both parsed into validated :class:`~verdikart.exchange.schemas.StreamCreate`
records, all-or-nothing: any bad row raises one :class:`~verdikart.errors.DataValidationError`
listing every bad row with its row number (the file's line / sheet row; the header is row 1)
and the column and problem; nothing is returned partially.

(a) The project's template (CSV, comma-separated, UTF-8, decimal point; or XLSX, first sheet),
one row per stream; see :data:`TEMPLATE_COLUMNS`. Composition goes in columns named
``comp:<component>_<unit>``, e.g. ``comp:P2O5_wt%``, ``comp:Cd_mg/kg``; a cell holds a value
(``12.5``), a range (``10-15`` or ``10–15``) or a below-detection value (``<0.01`` -> 0..0.01);
empty = not analysed.

(b) Companies' annual self-reporting of waste to the Norwegian Environment Agency
(Miljødirektoratet, "egenrapportering" via Altinn, published on norskeutslipp.no). ASSUMED
layout of an export (semicolon-separated, UTF-8 with or without BOM, decimal comma, spaces as
thousands separators), one row per waste fraction and receiver; required columns in bold:
``Rapporteringsår;Virksomhet;Organisasjonsnummer;Anleggsnavn;Kommune;Fylke;`` **Avfallskode**
``;`` **Avfallstype** ``;Farlig avfall;`` **Mengde (tonn)** ``;`` **Disponering** ``;``
**Mottaker**. Avfallskode is the 6-digit EAL/EWC code; Farlig avfall (Ja/Nei), when present,
must agree with the code; Disponering maps to the treatment enum (:func:`treatment_from_norwegian`;
R/D recovery/disposal codes are accepted too). Composition is not part of self-reporting, so
these streams have none; the material class is guessed from the waste code's description
(:func:`material_class_for_waste_code`).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from verdikart.errors import DataValidationError, SourceError, UnknownCodeError
from verdikart.exchange import wastecodes
from verdikart.exchange.schemas import StreamCreate, Treatment, component_pattern

TEMPLATE_COLUMNS: tuple[str, ...] = (
    "name",
    "name_public",
    "kind",
    "material_class",
    "region",
    "hazardous",
    "ewc_code",
    "quantity_t_per_year",
    "energy_gwh_per_year",
    "quantity_uncertainty_pct",
    "availability",
    "form",
    "current_treatment",
    "current_receiver",
    "site_name",
    "site_municipality",
    "site_lat",
    "site_lon",
    "site_nace",
    "contact_name",
    "contact_email",
    "contact_phone",
    "documents",
    "analysis_method",
    "analysed_on",
)
TEMPLATE_REQUIRED = (
    "name",
    "name_public",
    "kind",
    "material_class",
    "region",
    "current_treatment",
    "site_name",
)
MILJODIR_REQUIRED = ("Avfallskode", "Avfallstype", "Mengde (tonn)", "Disponering", "Mottaker")
MILJODIR_OPTIONAL = (
    "Rapporteringsår",
    "Virksomhet",
    "Organisasjonsnummer",
    "Anleggsnavn",
    "Kommune",
    "Fylke",
    "Farlig avfall",
)

# (pattern, treatment): first match wins, so "uten energi..." is tested before "energi"
_TREATMENT_TERMS: tuple[tuple[str, Treatment], ...] = (
    (r"uten energi", "other"),
    (r"^r\s?1\b", "energy-recovery"),
    (r"^r\s?1[23]\b", "other"),  # R12/R13: exchange or storage before recovery, not treatment
    (r"^r\s?\d+\b", "material-recovery"),
    (r"^d\s?(1|5|12)\b", "landfill"),
    (r"^d\s?\d+\b", "other"),
    (r"materialgjenvinn|materialutnytt|ombruk|gjenbruk|resirkul|material recovery", "material-recovery"),
    (r"energiutnytt|energigjenvinn|energy recovery|forbrenning med energi", "energy-recovery"),
    (r"deponi|deponer|landfill", "landfill"),
    (r"^annet$|annen behandling|sluttbehandl|destruksjon|forbrenning|eksport|other", "other"),
    (r"^gjenvinning$", "material-recovery"),
)  # fmt: skip

# waste-code description keyword -> material class (first match wins); a heuristic for imports
_CLASS_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"fly ash", "fly-ash"),
    (r"bottom ash|boiler dust", "bottom-ash"),
    (r"slag", "slag"),
    (r"dross|skimming", "dross"),
    (r"dust|particulates", "dust"),
    (r"linings and refractor", "refractory"),
    (r"catalyst", "spent-catalyst"),
    (r"acid", "spent-acid"),
    (r"hydroxide|bases\b|alkalin", "alkaline-solution"),
    (r"salt", "salt"),
    (r"gypsum|desulphurisation", "gypsum"),
    (r"phosph", "phosphate"),
    (r"sludge|filter cake", "sludge"),
    (r"anode|carbon|soot", "carbon"),
    (r"heavy metal", "other"),
    (r"metal|iron and steel|copper|aluminium|zinc|lead|tin\b|filings", "metal-scrap"),
    (r"plastic", "plastic"),
    (r"solvent|oil", "solvent"),
    (r"wood|bark|biodegradable", "biomass"),
    (r"aqueous|water", "process-water"),
)

_RANGE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*[-–]\s*(\d+(?:[.,]\d+)?)\s*$")
_BELOW = re.compile(r"^\s*<\s*(\d+(?:[.,]\d+)?)\s*$")
_TRUE = {"yes", "y", "true", "1", "ja", "j", "x"}
_FALSE = {"no", "n", "false", "0", "nei"}


def treatment_from_norwegian(text: str) -> Treatment:
    """Map a Norwegian (or English, or R/D-code) treatment term to the treatment enum.

    materialgjenvinning -> material-recovery, energiutnyttelse -> energy-recovery,
    deponi -> landfill, annet -> other. ValueError for anything unrecognised.
    """
    value = " ".join(str(text).strip().lower().split())
    for pattern, treatment in _TREATMENT_TERMS:
        if re.search(pattern, value):
            return treatment
    raise ValueError(
        f"unknown treatment {text!r}: use materialgjenvinning, energiutnyttelse, deponi, annet "
        "(or an R/D code)"
    )


def material_class_for_waste_code(code: str) -> str:
    """Material class guessed from the List of Waste description ('other' when nothing fits)."""
    description = wastecodes.lookup(code).description.lower()
    for pattern, cls in _CLASS_KEYWORDS:
        if re.search(pattern, description):
            return cls
    return "other"


def _number(text: str) -> float:
    """'1 234,5' / '1234.5' -> 1234.5 (spaces and non-breaking spaces as thousands separators)."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes/no (ja/nei, true/false)")


def _composition_cell(component: str, unit: str, text: str) -> dict[str, Any]:
    below = _BELOW.match(text)
    if below:
        return {"component": component, "value_min": 0.0, "value_max": _number(below.group(1)),
                "unit": unit}  # fmt: skip
    span = _RANGE.match(text)
    if span:
        return {"component": component, "value_min": _number(span.group(1)),
                "value_max": _number(span.group(2)), "unit": unit}  # fmt: skip
    return {"component": component, "value": _number(text), "unit": unit}


def _loc_column(loc: tuple[Any, ...], comp_columns: list[str], mapping: Mapping[str, str]) -> str:
    """Best column name for a pydantic error location, so the message names the file's column."""
    parts = [str(p) for p in loc]
    if len(parts) >= 3 and parts[:2] == ["details", "composition"] and parts[2].isdigit():
        index = int(parts[2])
        if index < len(comp_columns):
            return comp_columns[index]
    dotted = ".".join(parts)
    for prefix in sorted(mapping, key=len, reverse=True):
        if dotted.startswith(prefix):
            return mapping[prefix]
    return dotted or "row"


_TEMPLATE_LOCS = {
    "summary.name_public": "name_public",
    "summary.kind": "kind",
    "summary.material_class": "material_class",
    "summary.region": "region",
    "summary.hazardous": "hazardous",
    "summary.ewc_code": "ewc_code",
    "summary": "hazardous/ewc_code",
    "details.name": "name",
    "details.quantity_t_per_year": "quantity_t_per_year",
    "details.energy_gwh_per_year": "energy_gwh_per_year",
    "details.quantity_uncertainty_pct": "quantity_uncertainty_pct",
    "details.availability": "availability",
    "details.form": "form",
    "details.current_treatment": "current_treatment",
    "details.current_receiver": "current_receiver",
    "details.site.name": "site_name",
    "details.site.municipality": "site_municipality",
    "details.site.lat": "site_lat",
    "details.site.lon": "site_lon",
    "details.site.nace": "site_nace",
    "details.site": "site_lat/site_lon",
    "details.contact.email": "contact_email",
    "details.contact": "contact_*",
    "details.documents": "documents",
    "details.composition": "comp:*",
    "details": "quantity/composition",
}
_MILJODIR_LOCS = {
    "summary.ewc_code": "Avfallskode",
    "summary.hazardous": "Farlig avfall",
    "summary.name_public": "Avfallstype",
    "summary.region": "Fylke",
    "summary": "Avfallskode/Farlig avfall",
    "details.name": "Avfallstype",
    "details.quantity_t_per_year": "Mengde (tonn)",
    "details.current_treatment": "Disponering",
    "details.current_receiver": "Mottaker",
    "details.site.name": "Anleggsnavn",
    "details.site.municipality": "Kommune",
}


def _validation_problems(
    row: int, exc: ValidationError, comp_columns: list[str], mapping: Mapping[str, str]
) -> list[str]:
    problems = []
    for err in exc.errors():
        column = _loc_column(tuple(err["loc"]), comp_columns, mapping)
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"row {row}, column '{column}': {message}")
    return problems


def _template_record(row: Mapping[str, str], comp_columns: list[str]) -> dict[str, Any]:
    """One template row -> a StreamCreate-shaped dict (cell errors raise ValueError(column, msg))."""

    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    def num(name: str) -> float | None:
        value = cell(name)
        if value is None:
            return None
        try:
            return _number(value)
        except ValueError as exc:
            raise ValueError(name, str(exc)) from None

    pattern = component_pattern()
    composition = []
    for column in comp_columns:
        text = cell(column)
        if text is None:
            continue
        match = pattern.match(column)
        assert match is not None  # comp_columns were selected with this pattern
        try:
            entry = _composition_cell(match.group("component"), match.group("unit"), text)
        except ValueError as exc:
            raise ValueError(column, str(exc)) from None
        entry["method"] = cell("analysis_method")
        entry["analysed_on"] = cell("analysed_on")
        composition.append(entry)
    hazardous_text = cell("hazardous")
    ewc = cell("ewc_code")
    if hazardous_text is None:
        if ewc is None:
            raise ValueError("hazardous", "give yes or no (or a waste code to derive it from)")
        try:
            hazardous = wastecodes.lookup(ewc).hazardous
        except UnknownCodeError as exc:
            raise ValueError("ewc_code", str(exc)) from None
    else:
        try:
            hazardous = _bool(hazardous_text)
        except ValueError as exc:
            raise ValueError("hazardous", str(exc)) from None
    documents = []
    for part in (cell("documents") or "").split(";"):
        if part.strip():
            name, _, url = part.partition("|")
            documents.append({"name": name.strip(), "url": url.strip() or None})
    contact = None
    if any(cell(c) for c in ("contact_name", "contact_email", "contact_phone")):
        contact = {
            "name": cell("contact_name"),
            "email": cell("contact_email"),
            "phone": cell("contact_phone"),
        }
    treatment = cell("current_treatment")
    if treatment is not None and treatment not in (
        "material-recovery", "energy-recovery", "landfill", "other",
    ):  # fmt: skip
        try:
            treatment = treatment_from_norwegian(treatment)
        except ValueError as exc:
            raise ValueError("current_treatment", str(exc)) from None
    return {
        "summary": {
            "name_public": cell("name_public"),
            "material_class": cell("material_class"),
            "kind": cell("kind"),
            "region": cell("region"),
            "hazardous": hazardous,
            "ewc_code": ewc,
        },
        "details": {
            "name": cell("name"),
            "quantity_t_per_year": num("quantity_t_per_year"),
            "energy_gwh_per_year": num("energy_gwh_per_year"),
            "quantity_uncertainty_pct": num("quantity_uncertainty_pct"),
            "availability": cell("availability"),
            "form": cell("form"),
            "current_treatment": treatment,
            "current_receiver": cell("current_receiver"),
            "site": {
                "name": cell("site_name"),
                "municipality": cell("site_municipality"),
                "lat": num("site_lat"),
                "lon": num("site_lon"),
                "nace": cell("site_nace"),
            },
            "contact": contact,
            "documents": documents,
            "composition": composition,
        },
    }


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (row number, {column: text}) of a CSV or XLSX template file."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl  # imported here: only XLSX imports need it
        from openpyxl.utils import get_column_letter

        _check_xlsx_size(path)
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise SourceError(path, f"cannot read XLSX: {exc}") from None
        try:
            sheet = book.worksheets[0]
            # The sheet's own <dimension> says how far it reaches: one stray cell at XFD1048576
            # made the reader pad a million rows of 16,384 cells (issue #14). Refuse such a
            # sheet, and never read past the bounds whatever the dimension says.
            far_row, far_col = sheet.max_row or 0, sheet.max_column or 0
            if far_row > MAX_ROWS + 1 or far_col > MAX_COLUMNS:
                raise SourceError(
                    path,
                    f"the sheet reaches row {far_row:,} and column "
                    f"{get_column_letter(min(max(far_col, 1), 18278))}; at most {MAX_ROWS:,} "
                    f"rows below the header and {MAX_COLUMNS} columns are read -- delete the "
                    "cells outside the table (or split the file)",
                )
            rows = list(
                sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS + 1, values_only=True)
            )
        finally:
            book.close()
        _check_bounds(path, rows)
        if not rows:
            raise SourceError(path, "empty sheet", line=1)
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        out = []
        for number, values in enumerate(rows[1:], start=2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            cells = {}
            for name, value in zip(header, values, strict=False):
                if value is None:
                    cells[name] = ""
                elif hasattr(value, "isoformat"):
                    cells[name] = value.isoformat()[:10]
                else:
                    cells[name] = str(value)
            out.append((number, cells))
        return header, out
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text))
    lines = list(itertools.islice(reader, MAX_ROWS + 2))
    _check_bounds(path, lines)
    if not lines:
        raise SourceError(path, "empty file", line=1)
    header = [h.strip() for h in lines[0]]
    out = []
    for number, values in enumerate(lines[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            raise SourceError(path, f"{len(values)} cells but {len(header)} columns", line=number)
        out.append((number, dict(zip(header, values, strict=False))))
    return header, out


MAX_ROWS = 10_000  # data rows of one file (below the header)
MAX_COLUMNS = 300  # the template has 25 columns plus one per analysed component
MAX_XLSX_UNPACKED_BYTES = 50_000_000  # an XLSX is a zip: its parts unpacked, at most


def _check_xlsx_size(path: Path) -> None:
    """Refuse an XLSX whose parts unpack to more than MAX_XLSX_UNPACKED_BYTES (a zip bomb
    within the upload limit), before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceError(path, f"cannot read XLSX: {exc}") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise SourceError(
            path,
            f"the workbook unpacks to {unpacked:,} bytes, over the {MAX_XLSX_UNPACKED_BYTES:,} "
            "read; save the table alone, or as CSV",
        )


def _check_bounds(path: Path, rows: list[Any]) -> None:
    """Rows read with one row and one column beyond the bounds: refuse when those hold data."""

    def filled(value: object) -> bool:
        return value is not None and str(value).strip() != ""

    if len(rows) > MAX_ROWS + 1 and any(filled(v) for v in rows[MAX_ROWS + 1]):
        raise SourceError(
            path, f"more than {MAX_ROWS:,} rows below the header; split the file", line=MAX_ROWS + 2
        )
    for number, row in enumerate(rows[: MAX_ROWS + 1], start=1):
        if len(row) > MAX_COLUMNS and any(filled(v) for v in row[MAX_COLUMNS:]):
            raise SourceError(path, f"more than {MAX_COLUMNS} columns", line=number)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror}") from None


def _check_header(path: Path, header: list[str], required: Iterable[str], known: set[str]) -> None:
    missing = [c for c in required if c not in header]
    pattern = component_pattern()
    unknown = [c for c in header if c and c not in known and not pattern.match(c)]
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    duplicated = sorted({c for c in header if c and header.count(c) > 1})
    if duplicated:
        problems.append(f"duplicated column(s): {', '.join(duplicated)}")
    if problems:
        raise SourceError(path, "; ".join(problems), line=1)


def read_template(path: str | Path) -> list[StreamCreate]:
    """Streams from the project's CSV/XLSX template; all rows valid or DataValidationError."""
    path = Path(path)
    header, rows = _read_rows(path)
    _check_header(path, header, TEMPLATE_REQUIRED, set(TEMPLATE_COLUMNS))
    pattern = component_pattern()
    comp_columns = [c for c in header if pattern.match(c)]
    records: list[StreamCreate] = []
    problems: list[str] = []
    for number, row in rows:
        try:
            raw = _template_record(row, comp_columns)
        except ValueError as exc:
            column, message = exc.args if len(exc.args) == 2 else ("row", str(exc))
            problems.append(f"row {number}, column '{column}': {message}")
            continue
        used = [c for c in comp_columns if (row.get(c) or "").strip()]
        try:
            records.append(StreamCreate.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_validation_problems(number, exc, used, _TEMPLATE_LOCS))
    if problems:
        raise DataValidationError(problems, source=str(path))
    return records


def read_miljodir(
    path: str | Path, *, region: str | None = None, site_name: str | None = None
) -> list[StreamCreate]:
    """Waste streams from a Miljødirektoratet self-reporting export (assumed layout above).

    ``region`` (county) is used when the file has no Fylke column; ``site_name`` when it has
    neither Anleggsnavn nor Virksomhet. All rows valid or DataValidationError.
    """
    path = Path(path)
    text = _read_text(path)
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    if not lines:
        raise SourceError(path, "empty file", line=1)
    header = [h.strip() for h in lines[0]]
    _check_header(path, header, MILJODIR_REQUIRED, {*MILJODIR_REQUIRED, *MILJODIR_OPTIONAL})
    if "Fylke" not in header and region is None:
        raise SourceError(path, "no 'Fylke' column: pass region= (the county of the site)", line=1)
    records: list[StreamCreate] = []
    problems: list[str] = []
    for number, values in enumerate(lines[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        row = {h: v.strip() for h, v in zip(header, values, strict=False)}
        try:
            raw = _miljodir_record(row, region=region, site_name=site_name)
        except ValueError as exc:
            column, message = exc.args if len(exc.args) == 2 else ("row", str(exc))
            problems.append(f"row {number}, column '{column}': {message}")
            continue
        try:
            records.append(StreamCreate.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_validation_problems(number, exc, [], _MILJODIR_LOCS))
    if problems:
        raise DataValidationError(problems, source=str(path))
    return records


def _miljodir_record(
    row: Mapping[str, str], *, region: str | None, site_name: str | None
) -> dict[str, Any]:
    code_text = row.get("Avfallskode", "")
    try:
        entry = wastecodes.lookup(code_text)
    except UnknownCodeError as exc:
        raise ValueError("Avfallskode", str(exc)) from None
    flagged = row.get("Farlig avfall", "")
    if flagged:
        try:
            hazardous = _bool(flagged)
        except ValueError as exc:
            raise ValueError("Farlig avfall", str(exc)) from None
    else:
        hazardous = entry.hazardous
    try:
        quantity = _number(row.get("Mengde (tonn)", ""))
    except ValueError as exc:
        raise ValueError("Mengde (tonn)", str(exc)) from None
    try:
        treatment = treatment_from_norwegian(row.get("Disponering", ""))
    except ValueError as exc:
        raise ValueError("Disponering", str(exc)) from None
    kind_name = row.get("Avfallstype") or entry.description
    site = row.get("Anleggsnavn") or row.get("Virksomhet") or site_name
    if not site:
        raise ValueError("Anleggsnavn", "no Anleggsnavn or Virksomhet: pass site_name=")
    return {
        "summary": {
            "name_public": kind_name,
            "material_class": material_class_for_waste_code(entry.code),
            "kind": "waste",
            "region": row.get("Fylke") or region,
            "hazardous": hazardous,
            "ewc_code": entry.code,
        },
        "details": {
            "name": kind_name,
            "quantity_t_per_year": quantity,
            "current_treatment": treatment,
            "current_receiver": row.get("Mottaker") or None,
            "site": {"name": site, "municipality": row.get("Kommune") or None},
        },
    }


def template_header(components: Iterable[str] = ("P2O5_wt%", "SiO2_wt%", "Cd_mg/kg")) -> list[str]:
    """Header row of a blank template with the given composition columns."""
    return [*TEMPLATE_COLUMNS, *(f"comp:{c}" for c in components)]
