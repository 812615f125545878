"""Build `src/verdikart/reference/data/countries.csv` (the committed country table).

Build-time tool only: needs the PyPI package `pycountry` (ISO 3166-1/-3 data and its `nb`
Norwegian Bokmål gettext catalogues), which is NOT a runtime dependency of verdikart:

    .venv/bin/pip install pycountry
    .venv/bin/python scripts/build_country_table.py

Rows: every current ISO 3166-1 country, plus the BACI entities that are not current ISO
countries (historic ones such as Czechoslovakia or the USSR, and BACI pseudo-codes such as
S19 'Other Asia, nes'). BACI's own numeric codes come from the bundled `baci_countries`
Parquet; where BACI has two codes for one ISO3 (e.g. 58 Belgium-Luxembourg before 1999 and 56
Belgium), the current code is `baci_code` and the other goes to `baci_codes_former`.
The SSB code is the ISO alpha-2 code (SSB's external-trade statistics use it for partners).
"""

from __future__ import annotations

import csv
import gettext
from pathlib import Path

import duckdb
import pycountry

from verdikart.reference.countries import COUNTRY_COLUMNS as COLUMNS

REPO = Path(__file__).resolve().parents[1]
BACI = REPO / "src" / "verdikart" / "bundled" / "baci_countries.parquet"
OUT = REPO / "src" / "verdikart" / "reference" / "data" / "countries.csv"


# Everyday Norwegian names where the ISO nb catalogue gives the formal one (the formal name is
# kept as an alias so both resolve).
NO_OVERRIDES = {
    "USA": "USA",
    "RUS": "Russland",
    "KOR": "Sør-Korea",
    "PRK": "Nord-Korea",
    "IRN": "Iran",
    "SYR": "Syria",
    "TWN": "Taiwan",
    "TZA": "Tanzania",
    "VEN": "Venezuela",
    "BOL": "Bolivia",
    "MDA": "Moldova",
    "LAO": "Laos",
    "COD": "Den demokratiske republikken Kongo",
    "COG": "Republikken Kongo",
    "FSM": "Mikronesiaføderasjonen",
    "PSE": "Palestina",
    "SWZ": "Eswatini",
    "GBR": "Storbritannia",
}

# Extra names people type (English and Norwegian); BACI's own names are added automatically.
EXTRA_ALIASES = {
    "USA": ["United States of America", "US", "America", "De forente stater"],
    "GBR": ["UK", "Great Britain", "Britain", "Det forente kongerike"],
    "KOR": ["Korea", "Republic of Korea"],
    "RUS": ["Russia"],
    "CHN": ["People's Republic of China", "PRC"],
    "NLD": ["Holland", "The Netherlands"],
    "CZE": ["Czech Republic", "Tsjekkia"],
    "TUR": ["Turkey"],
    "CIV": ["Ivory Coast"],
    "COD": ["DR Congo", "DRC", "Congo-Kinshasa", "Kongo-Kinshasa"],
    "COG": ["Congo-Brazzaville", "Kongo-Brazzaville"],
    "MKD": ["Macedonia"],
    "SWZ": ["Swaziland"],
    "MMR": ["Burma"],
}

# BACI entities without a current ISO 3166-1 country: Norwegian names written here.
PSEUDO_NO = {
    "S19": "Andre Asia, ikke spesifisert (Taiwan)",
    "R20": "Europeiske EFTA-land, ikke spesifisert",
    "ZA1": "Den sørafrikanske tollunionen (til 1999)",
    "CSK": "Tsjekkoslovakia (til 1992)",
    "DDR": "Den tyske demokratiske republikk (til 1990)",
    "ANT": "De nederlandske Antillene (til 2010)",
    "SUN": "Sovjetunionen (til 1990)",
    "SCG": "Serbia og Montenegro (til 2005)",
    "PUS": "USAs diverse stillehavsøyer",
}


# Not in ISO 3166-1: Kosovo's user-assigned code, used by the World Bank (XKX; WGI's own
# spelling KSV), the EU and SSB (XK).
EXTRA_COUNTRIES = {
    "XKX": {
        "iso2": "XK",
        "iso3": "XKX",
        "iso_numeric": "",
        "baci_code": "",
        "baci_codes_former": "",
        "ssb_code": "XK",
        "name_en": "Kosovo",
        "name_no": "Kosovo",
        "status": "current",
        "aliases": "KSV;Republic of Kosovo;Republikken Kosovo",
    }
}


def _fix_mojibake(text: str) -> str:
    # the BACI file's names were decoded as Latin-1 although written as UTF-8 ('CÃ´te')
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _baci_rows() -> list[tuple[int, str, str | None, str]]:
    sql = f"select baci_code, name, iso2, iso3 from '{BACI}' order by baci_code"
    return [
        (int(r[0]), _fix_mojibake(str(r[1])), r[2], str(r[3])) for r in duckdb.sql(sql).fetchall()
    ]


def _former(name: str) -> bool:
    # BACI marks entities that stopped reporting with '(...YYYY)' in the name.
    return "(..." in name


def build() -> list[dict[str, str]]:
    nb = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["nb"])
    nb_hist = gettext.translation("iso3166-3", pycountry.LOCALES_DIR, languages=["nb"])
    baci = _baci_rows()
    by_iso3: dict[str, list[tuple[int, str]]] = {}
    for code, name, _iso2, iso3 in baci:
        by_iso3.setdefault(iso3, []).append((code, name))

    rows: dict[str, dict[str, str]] = {}
    for c in pycountry.countries:
        name_en = getattr(c, "common_name", None) or c.name
        formal_no = nb.gettext(c.name)
        name_no = NO_OVERRIDES.get(c.alpha_3, formal_no)
        aliases = {c.name, getattr(c, "official_name", c.name), formal_no}
        aliases.update(EXTRA_ALIASES.get(c.alpha_3, []))
        codes = by_iso3.get(c.alpha_3, [])
        current = [code for code, name in codes if not _former(name)]
        former = [code for code, name in codes if _former(name)]
        if not current and former:  # e.g. only an old code: keep it as the code
            current, former = former[:1], former[1:]
        aliases.update(name for _, name in codes if not _former(name))
        aliases.discard(name_en)
        aliases.discard(name_no)
        rows[c.alpha_3] = {
            "iso2": c.alpha_2,
            "iso3": c.alpha_3,
            "iso_numeric": str(int(c.numeric)),
            "baci_code": str(current[0]) if current else "",
            "baci_codes_former": ";".join(str(x) for x in former),
            "ssb_code": c.alpha_2,
            "name_en": name_en,
            "name_no": name_no,
            "status": "current",
            "aliases": ";".join(sorted(a for a in aliases if a)),
        }

    hist = {h.alpha_3: h for h in pycountry.historic_countries}
    for code, name, _iso2, iso3 in baci:
        if iso3 in rows:
            continue
        h = hist.get(iso3)
        numeric = getattr(h, "numeric", None) if h is not None else None
        name_en = name.replace("(...", "(until ")
        aliases = {name}
        if h is not None:
            aliases.add(h.name)
            aliases.add(nb_hist.gettext(h.name))
        rows[iso3] = {
            # historic alpha-2 codes were reassigned (CS), so they are not used for lookup
            "iso2": "",
            "iso3": iso3,
            "iso_numeric": str(int(numeric)) if numeric else "",
            "baci_code": str(code),
            "baci_codes_former": "",
            "ssb_code": "",
            "name_en": name_en,
            "name_no": PSEUDO_NO[iso3],
            "status": "historic" if _former(name) else "pseudo",
            "aliases": ";".join(sorted(a for a in aliases if a and a != name_en)),
        }
    rows.update(EXTRA_COUNTRIES)
    return sorted(rows.values(), key=lambda r: r["iso3"])


def main() -> None:
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            "# Country table: ISO 3166-1 (pycountry "
            f"{pycountry.__version__}, nb names from its iso-codes catalogue), BACI codes from "
            "BACI HS92 V202401b country_codes; generated by scripts/build_country_table.py\n"
            "# XK/XKX Kosovo: not in ISO 3166-1; the user-assigned code used by the World Bank "
            "(XKX), the EU and SSB (XK).\n"
        )
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {OUT.relative_to(REPO)}: {len(rows)} rows")


if __name__ == "__main__":
    main()
