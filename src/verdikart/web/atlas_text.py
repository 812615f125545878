"""The atlas's interface text in Norwegian bokmål and English (one catalogue; keys are the
English phrase's short name) and the per-language number formats."""

from __future__ import annotations

from typing import Any

LANGS = ("nb", "en")

# key -> (bokmål, English)
TEXT: dict[str, tuple[str, str]] = {
    "atlas": ("Verdikjedeatlas", "Value-chain atlas"),
    "overview": ("Oversikt", "Overview"),
    "matrix": ("Kritikalitetsmatrise", "Criticality matrix"),
    "exchange": ("Materialbørs", "Materials exchange"),
    "api_docs": ("API-dokumentasjon", "API documentation"),
    "language": ("Språk", "Language"),
    "country": ("Land", "Country"),
    "year": ("År", "Year"),
    "list": ("Liste", "List"),
    "all_lists": ("Alle lister", "All lists"),
    "position_filter": ("Stilling", "Position"),
    "all": ("Alle", "All"),
    "show": ("Vis", "Show"),
    "material": ("Materiale", "Material"),
    "materials": ("Materialer", "Materials"),
    "vulnerability": ("sårbarhet", "vulnerability"),
    "advantage": ("posisjon (nettoeksport)", "position (net exports)"),
    "vulnerabilities": ("Sårbarheter", "Vulnerabilities"),
    "positions": ("Posisjoner", "Positions"),
    "import_value": ("Import (1 000 USD)", "Imports (USD 1,000)"),
    "export_value": ("Eksport (1 000 USD)", "Exports (USD 1,000)"),
    "net_import": ("Nettoimport (1 000 USD)", "Net imports (USD 1,000)"),
    "top_supplier": ("Største leverandør", "Top supplier"),
    "top_share": ("Største leverandørs andel", "Top supplier's share"),
    "flag65": ("Over 65 %", "Over 65 %"),
    "flag65_long": (
        "Én leverandør står for mer enn 65 % av importen",
        "One supplier holds more than 65 % of imports",
    ),
    "hhi": ("HHI", "HHI"),
    "geopolrisk": ("GeoPolRisk", "GeoPolRisk"),
    "lists": ("Lister", "Lists"),
    "key_findings": ("Hovedfunn", "Key findings"),
    "finding_counts": (
        "{n} materialer kartlagt for {country} i {year}: {v} sårbarheter (nettoimport) og "
        "{p} posisjoner (nettoeksport).",
        "{n} materials mapped for {country} in {year}: {v} vulnerabilities (net imports) and "
        "{p} positions (net exports).",
    ),
    "finding_flags": (
        "{k} materialer har én leverandør med mer enn 65 % av importen: {names}.",
        "{k} materials have one supplier with more than 65 % of imports: {names}.",
    ),
    "finding_top": (
        "Høyest GeoPolRisk: {name} ({score}).",
        "Highest GeoPolRisk: {name} ({score}).",
    ),
    "source": ("Kilde", "Source"),
    "sources": ("Kilder", "Sources"),
    "notes": ("Merknader", "Notes"),
    "list_memberships": ("Listemedlemskap", "List memberships"),
    "on_list": ("på listen", "on the list"),
    "not_on_list": ("ikke på listen", "not on the list"),
    "value_chain": ("Verdikjeden", "The value chain"),
    "no_chain": (
        "Ingen verdikjede er beskrevet for dette materialet.",
        "No value chain is described for this material.",
    ),
    "world_production": ("Verdensproduksjon", "World production"),
    "stage": ("Ledd", "Stage"),
    "producer": ("Produsent", "Producer"),
    "share": ("Andel", "Share"),
    "quantity_t": ("Mengde (tonn)", "Quantity (tonnes)"),
    "no_data": ("Ingen data.", "No data."),
    "imports_by_supplier": ("Norges import etter leverandør", "Norway's imports by supplier"),
    "supplier": ("Leverandør", "Supplier"),
    "value_kusd": ("Verdi (1 000 USD)", "Value (USD 1,000)"),
    "score": ("Skår", "Score"),
    "cf": ("Karakteriseringsfaktor", "Characterisation factor"),
    "import_risk": ("Importrisiko", "Import risk"),
    "eu_method": ("EU-metoden (kritikalitet)", "EU method (criticality)"),
    "sr": ("Forsyningsrisiko (SR)", "Supply risk (SR)"),
    "ei": ("Økonomisk betydning (EI)", "Economic importance (EI)"),
    "critical": ("Kritisk", "Critical"),
    "yes": ("ja", "yes"),
    "no": ("nei", "no"),
    "supplies": (
        "Hva landet leverer (til EU og verden)",
        "What the country supplies (to the EU and the world)",
    ),
    "share_eu": ("Andel av EUs forsyning", "Share of EU sourcing"),
    "share_world_prod": ("Andel av verdensproduksjonen", "Share of world production"),
    "share_world_exp": ("Andel av verdenseksporten", "Share of world exports"),
    "supplies_norway": ("Hva landet leverer til Norge", "What the country supplies to Norway"),
    "depends_on": ("Hva landet er avhengig av", "What the country depends on"),
    "matrix_intro": (
        "Forsyningsrisiko mot økonomisk betydning etter EU-metoden; kritisk når SR ≥ 1,0 og EI ≥ 2,8.",
        "Supply risk against economic importance by the EU method; critical when SR ≥ 1.0 and EI ≥ 2.8.",
    ),
    "only_critical": ("Bare kritiske", "Critical only"),
    "not_found": ("Ikke funnet", "Not found"),
    "bad_request": ("Ugyldig forespørsel", "Invalid request"),
    "did_you_mean": ("Mente du", "Did you mean"),
    "back": ("Til oversikten", "Back to the overview"),
    "endpoints": ("Endepunkter", "Endpoints"),
    "openapi_json": ("OpenAPI-beskrivelsen (JSON)", "The OpenAPI description (JSON)"),
    "method": ("Metode", "Method"),
    "path": ("Sti", "Path"),
    "summary": ("Beskrivelse", "Summary"),
    "rank": ("Rang", "Rank"),
    "perspective": ("Perspektiv", "Perspective"),
    "sort": ("Sorter etter", "Sort by"),
    "plants": ("Norske anlegg", "Norwegian plants"),
    "sector": ("Sektor", "Sector"),
    "norway_position": ("Norges posisjon", "Norway's position"),
    "download_csv": ("Last ned tabellen (CSV)", "Download the table (CSV)"),
    "sectors": ("Sektorer", "Sectors"),
    "all_sectors": ("Alle sektorer", "All sectors"),
    "extraction": ("utvinning", "extraction"),
    "processing": ("prosessering", "processing"),
    "max": ("høyeste", "highest"),
    "E": ("utvinning", "extraction"),
    "P": ("prosessering", "processing"),
    "defence": ("forsvar", "defence"),
    "energy": ("energi", "energy"),
    "process industry": ("prosessindustri", "process industry"),
}

SECTORS = ("defence", "energy", "process industry")


def word(key: str, lang: str) -> str:
    """A vocabulary word (stage, sector) in `lang`; the key itself when the catalogue lacks it."""
    return text(key, lang) if key in TEXT else key


def text(key: str, lang: str, **values: Any) -> str:
    """The interface text `key` in `lang` (nb|en), with `{name}` placeholders filled."""
    nb, en = TEXT[key]
    phrase = nb if lang == "nb" else en
    return phrase.format(**values) if values else phrase


def num(value: Any, lang: str, decimals: int | None = None) -> str:
    """A number for people: 1 234,5 in bokmål, 1,234.5 in English; '–' when missing."""
    from verdikart.report.labels import number

    if value is None:
        return "–"
    out = number(float(value), decimals, "nb" if lang == "nb" else "en")
    return out or "–"


def pct(value: Any, lang: str) -> str:
    """A share 0–1 as a percentage (12,1 % in bokmål, 12.1 % in English); '–' when missing."""
    from verdikart.report.labels import percent

    if value is None:
        return "–"
    return percent(float(value), "nb" if lang == "nb" else "en") or "–"
