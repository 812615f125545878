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
    "flag65": ("Over 65\u00a0%", "Over 65\u00a0%"),  # no break before the % in a heading
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
    "download": ("Last ned tabellen", "Download the table"),
    "chain_table": ("Verdikjeden som tabell", "The value chain as a table"),
    "top_producer": ("Største produsent", "Top producer"),
    "hhi_world": ("HHI, verdensproduksjon", "HHI, world production"),
    "years": ("År", "Years"),
    "csv_title": (
        "CSV med semikolon og desimalkomma",
        "CSV with comma separators and decimal points",
    ),
    "xlsx_title": ("Excel-arbeidsbok med tallformater", "Excel workbook with number formats"),
    "skip_to_content": ("Gå til innholdet", "Skip to the content"),
    "table_top10": (
        "Tabellen viser de ti største; nedlastingen har alle.",
        "The table shows the ten largest; the download has them all.",
    ),
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
    # -- scenarios, watch and the exchange's needs, matches and potential (web/atlas_scenarios.py,
    # web/atlas_exchange.py)
    "scenarios": ("Scenarier", "Scenarios"),
    "scenario_intro": (
        "Hva om en leverandør stanser eller kutter eksporten? Velg et ferdig scenario eller "
        "angi ett sjokk; resultatet viser tapt import, hva andre leverandører kan erstatte, "
        "gjenstående gap og ringvirkninger i verdikjedene.",
        "What if a supplier stops or cuts its exports? Choose a shipped scenario or give one "
        "shock; the result shows the imports lost, what other suppliers can re-source, the "
        "residual gap and the knock-on effects down the value chains.",
    ),
    "shipped_scenario": ("Ferdig scenario", "Shipped scenario"),
    "none_chosen": ("(ingen)", "(none)"),
    "shock": ("Sjokk", "Shock"),
    "shocks": ("Sjokk", "Shocks"),
    "supplier_country": ("Leverandørland", "Supplier country"),
    "change_pct": ("Endring i eksporten (%)", "Change in exports (%)"),
    "importer": ("Importør", "Importer"),
    "basis": ("Grunnlag", "Basis"),
    "basis_value": ("verdi", "value"),
    "basis_quantity": ("mengde", "quantity"),
    "latest": ("siste", "latest"),
    "run": ("Kjør", "Run"),
    "result": ("Resultat", "Result"),
    "scenario_result": (
        "{name} ({year}, andel av importen etter {basis})",
        "{name} ({year}, share of imports by {basis})",
    ),
    "product": ("Produkt", "Product"),
    "lost_share": ("Tapt andel av importen", "Share of imports lost"),
    "resourced_share": ("Erstattet av andre leverandører", "Re-sourced from other suppliers"),
    "residual_gap_share": ("Gjenstående gap", "Residual gap"),
    "years_to_close": ("År til gapet er lukket", "Years to close the gap"),
    "alternative_suppliers": ("Alternative leverandører", "Alternative suppliers"),
    "top_before_after": ("Største leverandør før → etter", "Top supplier before → after"),
    "knock_on": ("Ringvirkninger", "Knock-on effects"),
    "knock_on_stages": ("Berørte ledd", "Stages hit"),
    "kind": ("Type", "Kind"),
    "name": ("Navn", "Name"),
    "relation": ("Forhold", "Relation"),
    "output_stage": ("Produkt (ledd)", "Output (stage)"),
    "capacity_t": ("Kapasitet (tonn)", "Capacity (tonnes)"),
    "output_at_risk_t": ("Produksjon i fare (tonn)", "Output at risk (tonnes)"),
    "assumptions": ("Forutsetninger", "Assumptions"),
    "assumption_text": (
        "{material}: {divert} av andre leverandørers eksport til tredjeland første år, "
        "deretter {growth} i året, høyst {years} år",
        "{material}: divert {divert} of other suppliers' exports to third countries in the "
        "first year, then {growth} a year, at most {years} years",
    ),
    "no_result_rows": (
        "Scenarioet traff ingen import i dette året.",
        "The scenario hit no imports in this year.",
    ),
    "chart_legend": (
        "Stolpene: tapt andel av importen, delt i erstattet (blå) og gjenstående gap (rød).",
        "The bars: the share of imports lost, split into re-sourced (blue) and residual gap (red).",
    ),
    "computing": (
        "Beregner … dette kan ta noen sekunder.",
        "Computing … this may take a few seconds.",
    ),
    "watch": ("Varsling", "Watch"),
    "watch_intro": (
        "Tidlig varsling: varsler fra handels- og produksjonsseriene og daterte politiske "
        "tiltak, hver med belegg og kilder.",
        "Early warning: alerts from the trade and production series and dated policy events, "
        "each with its evidence and sources.",
    ),
    "new_since": ("Nye siden (ÅÅÅÅ-MM-DD)", "New since (YYYY-MM-DD)"),
    "alerts_count": ("{n} varsler", "{n} alerts"),
    "alerts_since": (
        "{n} varsler datert {since} eller senere",
        "{n} alerts dated {since} or later",
    ),
    "date": ("Dato", "Date"),
    "rule": ("Regel", "Rule"),
    "partner": ("Partner", "Partner"),
    "evidence": ("Belegg", "Evidence"),
    "value": ("Verdi", "Value"),
    "supplier_share": ("leverandørandel over terskel", "supplier share over threshold"),
    "hhi_rise": ("HHI stiger", "HHI rising"),
    "new_dominant_supplier": ("ny dominerende leverandør", "new dominant supplier"),
    "export_drop": ("leverandørs eksport faller", "supplier's exports dropping"),
    "unit_value_jump": ("enhetsverdi hopper", "unit-value jump"),
    "production_hhi_rise": ("verdensproduksjonen konsentreres", "world production concentrating"),
    "list_status_change": ("endret status på EU-listen", "EU-list status changed"),
    "policy_event": ("politisk tiltak", "policy event"),
    "needs": ("Behov", "Needs"),
    "matches": ("Treff", "Matches"),
    "potential": ("Sekundærpotensial", "Secondary-supply potential"),
    "side_streams": ("Sidestrømmer", "Side streams"),
    "signed_in_as": ("Innlogget som {user} · {org}", "Signed in as {user} · {org}"),
    "own_needs": ("Våre behov", "Our needs"),
    "others_needs": (
        "Andre organisasjoners behov (bare sammendrag)",
        "Other organisations' needs (summaries only)",
    ),
    "no_needs": ("Ingen behov registrert.", "No needs registered."),
    "material_class": ("Materialklasse", "Material class"),
    "region": ("Fylke", "County"),
    "limits": ("Krav", "Limits"),
    "site": ("Anlegg", "Site"),
    "max_distance_km": ("Maks. avstand (km)", "Max. distance (km)"),
    "need": ("Behov", "Need"),
    "stream": ("Strøm", "Stream"),
    "matches_for_need": ("Strømmer som passer behovet «{name}»", "Streams for the need “{name}”"),
    "matches_for_stream": (
        "Behov som strømmen «{name}» kan dekke",
        "Needs the stream “{name}” could serve",
    ),
    "no_matches": ("Ingen treff.", "No matches."),
    "nothing_to_match": (
        "Organisasjonen har verken behov eller sidestrømmer å finne treff for.",
        "Your organisation has no needs or side streams to match.",
    ),
    "matches_yes": ("passer", "matches"),
    "matches_no": ("passer ikke", "does not match"),
    "distance": ("Avstand", "Distance"),
    "access": ("Tilgang", "Access"),
    "access_owner": ("egen", "own"),
    "access_disclosed": ("innsyn gitt", "disclosed"),
    "access_summary": ("bare sammendrag", "summary only"),
    "quantity_band": ("Mengde", "Quantity"),
    "quantity_t_per_year": ("Mengde (tonn/år)", "Quantity (tonnes/year)"),
    "hazardous": ("Farlig", "Hazardous"),
    "critical_materials": ("Kritiske materialer", "Critical materials"),
    "pass": ("oppfylt", "met"),
    "fail": ("ikke oppfylt", "not met"),
    "unknown": ("ukjent", "unknown"),
    "other_organisation": ("annen organisasjon", "another organisation"),
    "confidential_note": (
        "Bare offentlige sammendrag vises, med mindre eieren har gitt din organisasjon innsyn. "
        "Hver lesing av detaljer logges.",
        "Only public summaries are shown unless the owner has agreed to disclose details to "
        "your organisation. Every read of details is logged.",
    ),
    "potential_intro": (
        "Hvor mye av Norges import av et kritisk materiale kan sidestrømmene i materialbørsen "
        "dekke? Andre organisasjoners strømmer vises bare samlet, avrundet, og bare når minst "
        "tre organisasjoner bidrar og ingen dominerer; egne strømmer vises for seg.",
        "How much of Norway's imports of a critical material could the exchange's side "
        "streams cover? Other organisations' streams are shown only as an aggregate, rounded, "
        "and only when at least three organisations contribute and none dominates; your own "
        "streams are shown apart.",
    ),
    "imports_t": ("Norges import (tonn)", "Norway's imports (tonnes)"),
    "imports_basis_t": ("Import som {basis} (tonn)", "Imports as {basis} (tonnes)"),
    "import_grade": ("Innhold av {basis} i importen", "{basis} content of the imports"),
    "others_streams": ("Andre organisasjoners strømmer", "Other organisations' streams"),
    "own_streams": ("Egne strømmer", "Own streams"),
    "secondary_t": ("Sekundærtilgang ({basis}, tonn/år)", "Secondary supply ({basis}, t/year)"),
    "share_of_imports": ("Andel av importen", "Share of imports"),
    "n_streams": ("Antall strømmer", "Number of streams"),
    "withheld": ("holdt tilbake", "withheld"),
    "released": ("frigitt", "released"),
    "hs6_codes": ("HS6-koder", "HS6 codes"),
    "sign_in": ("Logg inn", "Sign in"),
    "t_per_year": ("tonn/år", "t/year"),
    "choose_more": (
        "Treff vises for de tre første behovene og strømmene; velg et annet ovenfor.",
        "Matches are shown for the first three needs and streams; choose another above.",
    ),
    "withheld_few": (
        "Færre enn tre andre organisasjoner bidrar (fortrolige opplysninger).",
        "Fewer than three other organisations contribute (confidential details).",
    ),
    "withheld_dominance": (
        "Én eller to organisasjoner ville dominert tallet (dominansregelen: minst tre "
        "organisasjoner, den største høyst 50 % og de to største høyst 85 % av summen).",
        "One or two organisations would dominate the figure (dominance rule: at least three "
        "organisations, the largest at most 50 % and the two largest at most 85 % of the total).",
    ),
    "plant": ("anlegg", "plant"),
    "plant-downstream": ("anlegg nedstrøms", "plant downstream"),
    "by-product": ("biprodukt", "by-product"),
    "waste": ("avfall", "waste"),
    "surplus-energy": ("overskuddsenergi", "surplus energy"),
    # -- the supplier register's pages (web/atlas_suppliers.py, issue #12)
    "suppliers": ("Leverandørregister", "Supplier register"),
    "sup_search": ("Søk i registeret", "Search the register"),
    "sup_intro": (
        "Virksomheter fra Enhetsregisteret og leverandørenes egne kapabilitetsprofiler. Bare "
        "offentlige opplysninger vises; detaljene i en profil ser bare kjøpere leverandøren "
        "deler dem med.",
        "Organisations from Enhetsregisteret and the suppliers' own capability profiles. Only "
        "public fields are shown; a profile's details are seen only by the buyers the supplier "
        "shares them with.",
    ),
    "sup_name_or_number": ("Navn eller organisasjonsnummer", "Name or organisation number"),
    "sup_nace": ("NACE-kode (begynnelse)", "NACE code (prefix)"),
    "sup_county": ("Fylkesnummer (2 sifre)", "County number (2 digits)"),
    "sup_units": ("Virksomheter i Enhetsregisteret", "Organisations in Enhetsregisteret"),
    "sup_orgnr": ("Org.nr.", "Org. no."),
    "sup_form": ("Form", "Form"),
    "sup_employees": ("Ansatte", "Employees"),
    "sup_municipality": ("Kommune", "Municipality"),
    "sup_status": ("Status", "Status"),
    "sup_deleted": ("slettet", "deleted"),
    "sup_bankrupt": ("konkurs", "bankrupt"),
    "sup_liquidation": ("under avvikling", "being wound up"),
    "sup_active": ("aktiv", "active"),
    "sup_no_units": ("Ingen virksomheter funnet.", "No organisations found."),
    "sup_give_criteria": (
        "Oppgi navn, organisasjonsnummer, NACE-kode eller fylke for å søke.",
        "Give a name, organisation number, NACE code or county to search.",
    ),
    "sup_profiles": ("Kapabilitetsprofiler", "Capability profiles"),
    "sup_code_scheme": ("Kodeverk", "Code scheme"),
    "sup_code": ("Kode", "Code"),
    "sup_codes": ("Koder", "Codes"),
    "sup_profile_hint": (
        "CPV (8 sifre), NACE, HS/KN, materiale (f.eks. silicon) eller ledd (silicon/silicon-metal).",
        "CPV (8 digits), NACE, HS/CN, material (e.g. silicon) or stage (silicon/silicon-metal).",
    ),
    "sup_no_profiles": ("Ingen profiler tilbyr koden.", "No profile offers the code."),
    "sup_updated": ("Oppdatert", "Updated"),
    "sup_needs": ("Behov", "Needs"),
    "sup_needs_intro": (
        "Offentlige innkjøperes og hovedleverandørers behov, fra eForms-kunngjøringer eller "
        "registrert for hånd. Treff vises for kjøperen som eier behovet.",
        "Public buyers' and prime contractors' needs, from eForms notices or entered by hand. "
        "Matches are shown to the buyer that owns the need.",
    ),
    "sup_own_needs": ("Våre behov", "Our needs"),
    "sup_fitting": ("Behov som passer vår profil", "Needs that fit our profile"),
    "sup_first_n": (
        "De {n} første vises; snevr inn søket for å se andre.",
        "The first {n} are shown; narrow the search to see others.",
    ),
    "sup_all_needs": ("Alle behov", "All needs"),
    "sup_title": ("Tittel", "Title"),
    "sup_buyer": ("Kjøper", "Buyer"),
    "sup_deadline": ("Frist", "Deadline"),
    "sup_source": ("Kilde", "Source"),
    "sup_manual": ("registrert for hånd", "entered by hand"),
    "sup_eforms": ("eForms-kunngjøring {id}", "eForms notice {id}"),
    "sup_description": ("Beskrivelse", "Description"),
    "sup_lots": ("Delkontrakter", "Lots"),
    "sup_lot": ("Delkontrakt", "Lot"),
    "sup_nuts": ("Gjennomføringssted (NUTS)", "Place of performance (NUTS)"),
    "sup_requirements": ("Krav", "Requirements"),
    "sup_required_certs": ("Påkrevde sertifiseringer", "Required certifications"),
    "sup_clearance": ("Sikkerhetsklarering", "Security clearance"),
    "sup_max_lead": ("Lengste leveringstid (uker)", "Longest lead time (weeks)"),
    "sup_main_code": ("hovedkode", "main code"),
    "sup_matches": ("Leverandører rangert for behovet", "Suppliers ranked for the need"),
    "sup_candidates": (
        "{n} kandidater; de {shown} beste vises.",
        "{n} candidates; the best {shown} are shown.",
    ),
    "sup_explanation": ("Forklaring", "Explanation"),
    "sup_access": ("Grunnlag", "Basis"),
    "sup_access_details": ("med delte detaljer", "with shared details"),
    "sup_access_public": ("bare offentlige felt", "public fields only"),
    "sup_shared_details": ("Delte detaljer", "Shared details"),
    "sup_profile_owner": ("egen profil", "your own profile"),
    "sup_profile_shared": ("detaljer delt med din organisasjon", "details shared with you"),
    "sup_profile_public": ("bare offentlig sammendrag", "public summary only"),
    "sup_details_not_shared": (
        "Leverandøren har ikke delt detaljene (sertifiseringer, kapasitet, leveringstid, "
        "klarering) med din organisasjon. Be om innsyn gjennom API-et eller kommandolinjen.",
        "The supplier has not shared its details (certifications, capacity, lead time, "
        "clearance) with your organisation. Ask for them through the API or the command line.",
    ),
    "sup_certifications": ("Sertifiseringer", "Certifications"),
    "sup_lead_weeks": ("Leveringstid (uker)", "Lead time (weeks)"),
    "sup_capacity": ("Kapasitet", "Capacity"),
    "sup_references": ("Referanser", "References"),
    "sup_ncage": ("NCAGE-kode", "NCAGE code"),
    "sup_valid_until": ("gyldig til {date}", "valid until {date}"),
    "sup_not_owner": (
        "Treff for dette behovet vises bare for kjøperen som eier det.",
        "Matches for this need are shown only to the buyer that owns it.",
    ),
    "sup_no_matches": ("Ingen leverandører passer behovet.", "No supplier fits the need."),
    "sup_match_note": (
        "Skår og forklaring bruker leverandørens fortrolige opplysninger (sertifiseringer, "
        "leveringstid, klarering) bare når leverandøren deler detaljene med din organisasjon; "
        "ellers bare offentlige felt. Hver lesing av delte detaljer logges hos leverandøren.",
        "Score and explanation use a supplier's confidential fields (certifications, lead "
        "time, clearance) only when the supplier shares its details with your organisation; "
        "otherwise public fields only. Each read of shared details is logged for the supplier.",
    ),
    "sup_offsets": ("Gjenkjøpsforpliktelser", "Offset obligations"),
    "sup_offsets_intro": (
        "Hvilke utenlandske leverandører til norske anskaffelser som skal kjøpe fra norsk "
        "industri, for hvor mye, i hvilken periode og i hvilke sektorer, med kilde. Registeret "
        "føres for hånd; det følger ingen oppføringer med programmet.",
        "Which foreign suppliers of Norwegian procurements owe purchases from Norwegian "
        "industry, for how much, over which period and in which sectors, with the source. The "
        "register is kept by hand; no entries are shipped.",
    ),
    "sup_foreign_supplier": ("Utenlandsk leverandør", "Foreign supplier"),
    "sup_programme": ("Anskaffelse", "Programme"),
    "sup_value_nok": ("Forpliktelse (NOK)", "Obligation (NOK)"),
    "sup_period": ("Periode", "Period"),
    "sup_active_on": ("Løper på dato (ÅÅÅÅ-MM-DD)", "Running on (YYYY-MM-DD)"),
    "sup_no_offsets": (
        "Ingen gjenkjøpsforpliktelser registrert.",
        "No offset obligations recorded.",
    ),
    "offshore-wind": ("havvind", "offshore wind"),
    "maritime": ("maritim", "maritime"),
    "process-industry": ("prosessindustri", "process industry"),
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
