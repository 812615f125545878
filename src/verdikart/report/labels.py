"""Column labels, units and number formats for people, declared once for every output.

One table (`COLUMNS`) gives each result column its English and Norwegian (bokmål) label, its
unit and its kind (share 0-1 shown as %, count, year, amount, country code, flag, text); a
column not in the table gets a label made from its name and a kind guessed from its suffix
(`*_share` share, `*_kusd` 1000 USD, `*_t` tonnes, `n_*` count). The terminal tables
(:mod:`verdikart.cli.output`), the Excel writer (:mod:`verdikart.report.xlsx`) and the CSV for
Norwegian Excel read it; numbers are never printed in scientific notation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

Kind = Literal["share", "pp", "count", "year", "amount", "country", "flag", "text"]
NBSP = "\u00a0"


@dataclass(frozen=True)
class Column:
    """How one column is shown: labels, unit and kind; `decimals` fixes the decimals of an
    amount (None: chosen by magnitude); `low` columns are left out first on a narrow screen."""

    en: str
    nb: str
    kind: Kind = "text"
    unit: str = ""
    unit_nb: str | None = None
    decimals: int | None = None
    low: bool = False


_KUSD = "1000 USD"
COLUMNS: dict[str, Column] = {
    # identification
    "country": Column("Country", "Land", "country"),
    "reporter": Column("Reporter", "Rapportør", "country"),
    "origin": Column("Origin", "Opprinnelse", "country"),
    "top_supplier": Column("Top supplier", "Største leverandør", "country"),
    "top_country": Column("Top producer", "Største produsent", "country"),
    "kind": Column("Kind", "Type", low=True),
    "material": Column("Material", "Råvare"),
    "material_name": Column("Material", "Råvare"),
    "product": Column("Product", "Produkt"),
    "hs6": Column("HS6 code", "HS6-kode"),
    "description": Column("Description", "Beskrivelse", low=True),
    "stage": Column("Stage", "Ledd"),
    "stage_name": Column("Stage", "Ledd"),
    "year": Column("Year", "År", "year"),
    "year_min": Column("First year", "Første år", "year"),
    "year_max": Column("Last year", "Siste år", "year"),
    "wgi_year": Column("WGI year", "WGI-år", "year"),
    "production_year": Column("Production year", "Produksjonsår", "year"),
    "exports_year": Column("Export year", "Eksportår", "year"),
    "rank": Column("Rank", "Rang", "count"),
    "position": Column("Position", "Posisjon"),
    "lists": Column("Lists", "Lister", low=True),
    "sectors": Column("Sectors", "Sektorer", low=True),
    "group": Column("Group", "Gruppe"),
    "name_en": Column("Name (English)", "Navn (engelsk)"),
    "name_no": Column("Name (Norwegian)", "Navn (norsk)"),
    "symbol": Column("Symbol", "Symbol", low=True),
    "members": Column("Members", "Medlemmer", low=True),
    "hs_proxy": Column("HS proxy", "HS-stedfortreder", low=True),
    "table": Column("Table", "Tabell"),
    "provenance": Column("File", "Fil", low=True),
    "source": Column("Source", "Kilde", low=True),
    "sources": Column("Sources", "Kilder", low=True),
    "note": Column("Note", "Merknad", low=True),
    "notes": Column("Notes", "Merknader", low=True),
    "missing_reason": Column("Why empty", "Hvorfor tom", low=True),
    "unit": Column("Unit", "Enhet"),
    "content_basis": Column("Content basis", "Innholdsbasis", low=True),
    "basis": Column("Basis", "Basis"),
    "production_unit": Column("Production unit", "Produksjonsenhet", low=True),
    "production_source": Column("Production source", "Produksjonskilde", low=True),
    "production_stage": Column("Production stage", "Produksjonsledd", low=True),
    "inputs_defaulted": Column("Defaults used", "Standardverdier brukt", low=True),
    "suppliers": Column("Suppliers", "Leverandører", low=True),
    # counts
    "rows": Column("Rows", "Rader", "count"),
    "countries": Column("Countries", "Land", "count"),
    "n_suppliers": Column("Supplier countries", "Leverandørland", "count"),
    "n_producers": Column("Producer countries", "Produsentland", "count"),
    "n_streams": Column("Side streams", "Sidestrømmer", "count"),
    "n_streams_without_quantity": Column(
        "Streams without quantity", "Strømmer uten mengde", "count", low=True
    ),
    "flows_missing_quantity": Column(
        "Flows without quantity", "Strømmer uten mengde", "count", low=True
    ),
    "flows_missing_score": Column(
        "Flows without governance score", "Strømmer uten styringsindikator", "count", low=True
    ),
    # amounts
    "score": Column("GeoPolRisk score", "GeoPolRisk-skår", "amount", decimals=4),
    "geopolrisk_score": Column("GeoPolRisk score", "GeoPolRisk-skår", "amount", decimals=4),
    "characterization_factor": Column(
        "Characterisation factor",
        "Karakteriseringsfaktor",
        "amount",
        "kg Cu eq./kg",
        "kg Cu-ekv./kg",
        2,
    ),
    "hhi": Column("HHI", "HHI", "amount", "0-1", decimals=3),
    "hhi_points": Column("HHI points", "HHI-poeng", "amount", "0-10,000", "0-10 000", 0, True),
    "hhi_wgi": Column("HHI x governance", "HHI x styring", "amount", decimals=3, low=True),
    "hhi_gs": Column("HHI global supply", "HHI global forsyning", "amount", decimals=2),
    "hhi_eu": Column("HHI EU sourcing", "HHI EU-innkjøp", "amount", decimals=2),
    "import_risk": Column("Import risk", "Importrisiko", "amount", decimals=3),
    "supplier_risk": Column("Supplier risk", "Leverandørrisiko", "amount", decimals=2),
    "price_kusd_per_t": Column("Price", "Pris", "amount", "1000 USD/t"),
    "import_quantity_t": Column("Imports", "Import", "amount", "t"),
    "import_value_kusd": Column("Import value", "Importverdi", "amount", _KUSD),
    "export_quantity_t": Column("Exports", "Eksport", "amount", "t", low=True),
    "export_value_kusd": Column("Export value", "Eksportverdi", "amount", _KUSD),
    "net_import_value_kusd": Column("Net import value", "Nettoimportverdi", "amount", _KUSD),
    "net_import_quantity_t": Column("Net imports", "Nettoimport", "amount", "t", low=True),
    "own_production_t": Column("Own production", "Egen produksjon", "amount", "t"),
    "quantity": Column("Quantity", "Mengde", "amount"),
    "quantity_t": Column("Quantity", "Mengde", "amount", "t"),
    "world_quantity": Column("World production", "Verdensproduksjon", "amount"),
    "imports_t": Column("Imports", "Import", "amount", "t"),
    "imports_basis_t": Column("Imports, content", "Import, innhold", "amount", "t"),
    "secondary_t_min": Column("Secondary, low", "Sekundær, lav", "amount", "t"),
    "secondary_t_max": Column("Secondary, high", "Sekundær, høy", "amount", "t"),
    "sr": Column("Supply risk (SR)", "Forsyningsrisiko (SR)", "amount", decimals=2),
    "ei": Column("Economic importance (EI)", "Økonomisk betydning (EI)", "amount", decimals=2),
    "si_sr": Column("Substitution (SR)", "Substitusjon (SR)", "amount", decimals=2, low=True),
    "si_ei": Column("Substitution (EI)", "Substitusjon (EI)", "amount", decimals=2, low=True),
    "rca": Column("RCA (Balassa)", "RCA (Balassa)", "amount", decimals=2),
    "importance": Column("Importance", "Betydning", "amount", low=True),
    # shares 0-1
    "share": Column("Share", "Andel", "share", "%"),
    "top_supplier_share": Column("Top supplier share", "Største leverandørs andel", "share", "%"),
    "top3_share": Column("Top 3 share", "Tre største, andel", "share", "%"),
    "governance_coverage": Column(
        "Governance data coverage", "Dekning av styringsdata", "share", "%", low=True
    ),
    "import_reliance": Column("Import reliance", "Importavhengighet", "share", "%"),
    "ir": Column("Import reliance", "Importavhengighet", "share", "%"),
    "eol_rir": Column("End-of-life recycling input", "Resirkulert andel (EoL-RIR)", "share", "%"),
    "import_value_yoy": Column("Import value change", "Endring i importverdi", "share", "%"),
    "world_export_share": Column("Share of world exports", "Andel av verdenseksport", "share", "%"),
    "world_export_share_slope": Column(
        "World export share trend", "Trend i andel av verdenseksport", "pp", "pp/yr", "pp/år"
    ),
    "import_grade": Column("Content in imports", "Innhold i importen", "share", "%"),
    "share_min": Column("Share, low", "Andel, lav", "share", "%"),
    "share_max": Column("Share, high", "Andel, høy", "share", "%"),
    "share_of_eu_sourcing": Column("Share of EU sourcing", "Andel av EUs innkjøp", "share", "%"),
    "share_of_world_production": Column(
        "Share of world production", "Andel av verdensproduksjon", "share", "%"
    ),
    "share_of_world_exports": Column(
        "Share of world exports", "Andel av verdenseksport", "share", "%"
    ),
    "production_share": Column("Production share", "Produksjonsandel", "share", "%", low=True),
    "EU27_share": Column("Share from EU27", "Andel fra EU27", "share", "%"),
    "EU27_external_share": Column(
        "Share of EU27 imports from outside", "Andel av EU27s import utenfra", "share", "%"
    ),
    "NATO_share": Column("Share from NATO", "Andel fra NATO", "share", "%", low=True),
    "EEA_share": Column("Share from EEA", "Andel fra EØS", "share", "%", low=True),
    # flags
    "critical": Column("Critical", "Kritisk", "flag"),
    "concentration_flag": Column("Concentrated", "Konsentrert", "flag"),
    "shared": Column("Shared code", "Delt kode", "flag"),
    # disruption scenarios and the watch (the atlas's /scenarios and /watch downloads)
    "importer": Column("Importer", "Importør"),
    "importer_name": Column("Importer name", "Importør (navn)"),
    "lost_share": Column("Lost share", "Tapt andel", "share", "%"),
    "resourced_share": Column("Resourced share", "Erstattet andel", "share", "%"),
    "residual_gap_share": Column("Residual gap share", "Gjenstående gap", "share", "%"),
    "years_to_close_gap": Column("Years to close gap", "År til gapet er lukket"),
    "alternative_suppliers": Column("Alternative suppliers", "Alternative leverandører"),
    "top_supplier_before": Column("Top supplier before", "Største leverandør før"),
    "top_supplier_after": Column("Top supplier after", "Største leverandør etter"),
    "top_supplier_share_before": Column(
        "Top supplier share before", "Største leverandørs andel før", "share", "%"
    ),
    "top_supplier_share_after": Column(
        "Top supplier share after", "Største leverandørs andel etter", "share", "%"
    ),
    "hhi_points_before": Column("Hhi points before", "HHI-poeng før"),
    "hhi_points_after": Column("Hhi points after", "HHI-poeng etter"),
    "knock_on_stages": Column("Knock on stages", "Berørte ledd"),
    "relation": Column("Relation", "Forhold"),
    "output_stage": Column("Output stage", "Produkt (ledd)"),
    "output_at_risk_t": Column("Output at risk", "Produksjon i fare", "amount", "t"),
    "output_at_risk_max_t": Column("Output at risk, high", "Produksjon i fare, høy", "amount", "t"),
    "rule": Column("Rule", "Regel"),
    "partner": Column("Partner", "Partner"),
    "evidence": Column("Evidence", "Belegg"),
    "first_seen": Column("First seen", "Først sett"),
    "date": Column("Date", "Dato"),
    "title": Column("Title", "Tittel"),
    "title_nb": Column("Title in bokmål", "Tittel på bokmål"),
    "jurisdiction": Column("Jurisdiction", "Jurisdiksjon"),
    "value": Column("Value", "Verdi"),
    "previous": Column("Previous", "Forrige"),
    "threshold": Column("Threshold", "Terskel"),
    "event": Column("Event", "Hendelse"),
}

_UNITS_NB = {"points": "poeng"}


def language(text: str | None) -> str:
    """'nb' for Norwegian (nb, no, nn, norsk), else 'en'."""
    return "nb" if (text or "").strip().casefold()[:1] == "n" else "en"


@lru_cache(maxsize=512)
def column(name: str) -> Column:
    """The column's entry, or one made from its name and suffix."""
    if name in COLUMNS:
        return COLUMNS[name]
    words = name.replace("_", " ").strip()
    label = words[:1].upper() + words[1:]
    lower = name.casefold()
    if lower.endswith("share") or lower.startswith("share_"):
        return Column(label, label, "share", "%")
    if lower.endswith("_kusd"):
        return Column(label[: -len(" kusd")], label[: -len(" kusd")], "amount", _KUSD)
    if lower.endswith("_t"):
        return Column(label[:-2], label[:-2], "amount", "t")
    if lower.startswith("n_") or lower.endswith("_count"):
        return Column(label, label, "count")
    if lower == "year" or lower.endswith("_year") or lower.startswith("year_"):
        return Column(label, label, "year")
    return Column(label, label, "text")


def label(name: str, lang: str = "en", *, with_unit: bool = True) -> str:
    """'Import value (1000 USD)' / 'Importverdi (1000 USD)'."""
    col = column(name)
    text = col.nb if language(lang) == "nb" else col.en
    u = unit(name, lang)
    return f"{text} ({u})" if with_unit and u else text


def unit(name: str, lang: str = "en") -> str:
    col = column(name)
    if language(lang) == "nb":
        return col.unit_nb if col.unit_nb is not None else _UNITS_NB.get(col.unit, col.unit)
    return col.unit


def is_numeric(name: str) -> bool:
    return column(name).kind in ("share", "pp", "count", "year", "amount")


# ---------------------------------------------------------------- numbers for people


def _localise(text: str, lang: str) -> str:
    """English 1,234.5 -> Norwegian 1 234,5 (no-break space, decimal comma)."""
    if language(lang) != "nb":
        return text
    return text.replace(",", NBSP).replace(".", ",")


def number(value: float, decimals: int | None = None, lang: str = "en") -> str:
    """A number in fixed notation with thousands separators; the decimals by magnitude when
    not given (0 from 1,000, 1 from 100, 2 from 1, 3 significant below); values too small for
    the decimals shown as '<0.001'."""
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return ""
    a = abs(v)
    if a == 0:
        return "0"
    if decimals is None:
        if a >= 1000:
            decimals = 0
        elif a >= 100:
            decimals = 1
        elif a >= 1:
            decimals = 2
        elif a >= 1e-4:
            decimals = 2 - math.floor(math.log10(a))
        else:
            decimals = 4
    if a < 0.5 * 10**-decimals:
        floor = f"{10**-decimals:.{decimals}f}"
        return _localise(("<" if v > 0 else ">-") + floor, lang)
    return _localise(f"{v:,.{decimals}f}", lang)


def percent(value: float, lang: str = "en") -> str:
    """A share 0-1 as a percentage: 65.3 %, 3.4 %, 0.27 %, <0.01 %, 0 %."""
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return ""
    pct = v * 100
    a = abs(pct)
    if a == 0:
        return "0 %"
    if a < 0.005:
        return ("<" if pct > 0 else ">-") + _localise("0.01", lang) + " %"
    decimals = 2 if a < 1 else 1
    return _localise(f"{pct:,.{decimals}f}", lang) + " %"


def plain(value: Any, *, decimal_comma: bool = False) -> str:
    """A machine-readable cell for CSV: full precision, never scientific notation."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        if text.endswith(".0"):
            text = text[:-2]
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


@lru_cache(maxsize=2048)
def country_name(code: str, lang: str = "en") -> str | None:
    """The name of a country or group code (ISO3, BACI pseudo-code such as S19, group id)."""
    from verdikart.errors import VerdikartError
    from verdikart.reference.countries import find_country

    try:
        ref = find_country(code)
    except VerdikartError:  # a broken user groups file must not stop printing
        return None
    if ref is None:
        return None
    name = ref.name_no if language(lang) == "nb" else ref.name_en
    return None if name.casefold() == code.casefold() else name


def display(name: str, value: Any, lang: str = "en", *, explain_codes: bool = True) -> str:
    """One cell for people: shares as %, amounts with separators, flags as yes/no, country
    codes with their name ('S19 Other Asia, nes'); text (already formatted) unchanged."""
    if value is None:
        return ""
    col = column(name)
    nb = language(lang) == "nb"
    if isinstance(value, bool):
        return ("ja" if value else "nei") if nb else ("yes" if value else "no")
    if isinstance(value, list | tuple):
        return ", ".join(display(name, v, lang, explain_codes=explain_codes) for v in value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if col.kind == "year":
            return str(int(value))
        if col.kind == "share":
            return percent(float(value), lang)
        if col.kind == "pp":
            return number(float(value) * 100, 2, lang)
        if isinstance(value, int) or (col.kind == "count" and float(value).is_integer()):
            return _localise(f"{int(value):,}", lang)
        return number(float(value), col.decimals, lang)
    if isinstance(value, float | Decimal):  # pragma: no cover - handled above
        return number(float(value), col.decimals, lang)
    text = str(value)
    if col.kind == "country" and explain_codes and text and " " not in text:
        name_of = country_name(text, lang)
        if name_of:
            return f"{text} {name_of}"
    return text


__all__ = [
    "COLUMNS",
    "Column",
    "column",
    "country_name",
    "display",
    "is_numeric",
    "label",
    "language",
    "number",
    "percent",
    "plain",
    "unit",
]
