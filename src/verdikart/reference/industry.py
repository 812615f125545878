"""Reference data of the process-industry statistics (issue 13), as small Arrow tables.

Owns reading the versioned files under ``reference/data/industry/``:

* ``process_industry_groups.csv`` — the process industry by NACE Rev. 2 (Prosess21, seed 000
  l.300–308): C17.1, C19.2, C20, C23.5/C23.9, C24;
* ``product_groups.csv`` — named product groups that cross NACE lines (ferro-alloys = silicon
  2804.69 with 7202 FeSi/FeSiMn/FeMn; nickel-refinery metals; aluminium; refined petroleum);
* ``hs_chapter_groups.csv`` — the HS-chapter rows of the seed's export table (l.537–577);
* ``exchange_rates.csv`` — Norges Bank annual averages NOK/EUR, NOK/USD, EUR/USD 2019–2023
  (seed l.641–647): the one rate table of verdikart (the company assessment reads it too);
* ``ets_installation_groups.csv`` — Norway's EU ETS installations in those groups, with basis;
* ``energy_balance_items.csv`` — the SSB 11561 energy-balance items and their groups.

The CN → CPA correspondences and the CPA/NACE labels are bundled Parquet tables (``cn_cpa``,
``classification_labels``; scripts/build_industry_reference.py), read through the relations.
"""

from __future__ import annotations

import functools

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.reference._data import read_csv

GROUPS: tuple[str, ...] = ("C17.1", "C19.2", "C20", "C23.5/C23.9", "C24")
"""The process industry's NACE groups in the seed's order."""
CONFIDENTIAL_CODE = "99999999"
"""SSB's commodity code pooling every code with restricted publication (seed 000 l.611)."""
CONFIDENTIAL = "confidential"
TOTAL = "total"
PROCESS_INDUSTRY = "process_industry"
OTHER = "other"

_DIR = "industry/"


@functools.cache
def _rows(name: str, columns: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    return tuple(read_csv(_DIR + name, columns))


def _table(rows: tuple[dict[str, str], ...], columns: dict[str, pa.DataType]) -> pa.Table:
    def value(row: dict[str, str], col: str, kind: pa.DataType) -> object:
        text = row.get(col, "")
        if text == "":
            return None
        if pa.types.is_boolean(kind):
            return text.lower() == "true"
        if pa.types.is_integer(kind):
            return int(text)
        if pa.types.is_floating(kind):
            return float(text)
        return text

    return pa.table({c: pa.array([value(r, c, t) for r in rows], t) for c, t in columns.items()})


def process_industry_groups() -> pa.Table:
    """(group, nace_prefix, label_en, label_nb, source): a NACE class in a group when it starts
    with the prefix."""
    cols = ("group", "nace_prefix", "label_en", "label_nb", "source")
    return _table(_rows("process_industry_groups.csv", cols), dict.fromkeys(cols, pa.string()))


def group_labels() -> dict[str, tuple[str, str]]:
    """group -> (English, Norwegian) label."""
    return {
        r["group"]: (r["label_en"], r["label_nb"])
        for r in _rows(
            "process_industry_groups.csv",
            ("group", "nace_prefix", "label_en", "label_nb", "source"),
        )
    }


def product_groups() -> pa.Table:
    """(product_group, hs_prefix, cpa_prefix, label_en, label_nb, source)."""
    cols = ("product_group", "hs_prefix", "cpa_prefix", "label_en", "label_nb", "source")
    return _table(_rows("product_groups.csv", cols), dict.fromkeys(cols, pa.string()))


def hs_chapter_groups() -> pa.Table:
    """One row per HS chapter (``chapter`` '01'..'99') with its ``chapter_group``, the group's
    ``position`` in the seed's table and its labels."""
    cols = ("chapter_group", "chapters", "label_en", "label_nb")
    out: dict[str, list[object]] = {
        k: [] for k in ("chapter", "chapter_group", "position", "label_en", "label_nb")
    }
    for position, row in enumerate(_rows("hs_chapter_groups.csv", cols)):
        for part in row["chapters"].split(";"):
            first, _, last = part.partition("-")
            for chapter in range(int(first), int(last or first) + 1):
                out["chapter"].append(f"{chapter:02d}")
                out["chapter_group"].append(row["chapter_group"])
                out["position"].append(position)
                out["label_en"].append(row["label_en"])
                out["label_nb"].append(row["label_nb"])
    types = {"position": pa.int32()}
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in out.items()})


def ets_installation_groups() -> pa.Table:
    """(installation_id, group, nace, basis) of the process industry's EU ETS installations."""
    cols = ("installation_id", "group", "nace", "basis")
    return _table(_rows("ets_installation_groups.csv", cols), dict.fromkeys(cols, pa.string()))


def energy_balance_items() -> pa.Table:
    """(item, group, energy_intensive, scope_en, scope_nb) of SSB 11561."""
    cols = ("item", "group", "energy_intensive", "scope_en", "scope_nb")
    types = {c: pa.string() for c in cols} | {"energy_intensive": pa.bool_()}
    return _table(_rows("energy_balance_items.csv", cols), types)


# -- exchange rates ----------------------------------------------------------------------------
RATE_COLUMNS = ("year", "base", "quote", "rate", "source")


def exchange_rates() -> pa.Table:
    """(year, base, quote, rate, source): one unit of base in quote, annual average."""
    types = {
        "year": pa.int16(),
        "base": pa.string(),
        "quote": pa.string(),
        "rate": pa.float64(),
        "source": pa.string(),
    }
    return _table(_rows("exchange_rates.csv", RATE_COLUMNS), types)


@functools.cache
def _rate_index() -> dict[tuple[int, str, str], tuple[float, str]]:
    return {
        (int(r["year"]), r["base"], r["quote"]): (float(r["rate"]), r["source"])
        for r in _rows("exchange_rates.csv", RATE_COLUMNS)
    }


def rate(year: int, base: str, quote: str) -> float | None:
    """Units of `quote` per one `base` in `year` (annual average), from the table or its
    inverse; None when the table has neither."""
    base, quote = base.strip().upper(), quote.strip().upper()
    if base == quote:
        return 1.0
    index = _rate_index()
    if (year, base, quote) in index:
        return index[(year, base, quote)][0]
    if (year, quote, base) in index:
        return 1.0 / index[(year, quote, base)][0]
    return None


def nok_per(currency: str, year: int) -> float:
    """NOK per one unit of `currency` in `year`; UnknownCodeError naming the years known."""
    value = rate(year, currency, "NOK")
    if value is None:
        years = sorted({y for y, b, q in _rate_index() if q == "NOK" and b == currency.upper()})
        raise UnknownCodeError(
            f"no NOK/{currency.upper()} rate for {year}; the rate table holds "
            f"{', '.join(map(str, years)) or 'no year'} (Norges Bank annual averages, "
            "reference/data/industry/exchange_rates.csv)"
        )
    return value


RATE_SOURCE = "Norges Bank annual averages (Prosess21 status report 2024)"
