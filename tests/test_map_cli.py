"""`verdikart map`: the stable JSON interface, formats and errors, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import UnknownCodeError

STABLE_KEYS = {
    "hs6",
    "import_value_kusd",
    "import_quantity_t",
    "top_supplier",
    "top_supplier_share",
    "hhi",
    "concentration_flag",
}


@pytest.fixture(scope="module")
def hs6_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    # module-scoped, so the function-scoped autouse `isolated_data_dir` does not apply yet:
    # its own data directory, never the user's store
    env = {
        "VERDIKART_DATA_DIR": str(tmp_path_factory.mktemp("map-cli") / "verdikart-data"),
        "VERDIKART_STORE": None,
        "VERDIKART_DB_URL": None,
    }
    res = CliRunner(env=env).invoke(
        cli, ["map", "--country", "NOR", "--year", "2022", "--level", "hs6", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_json_interface_one_object_per_hs6(hs6_rows: list[dict]) -> None:
    assert hs6_rows
    assert all(STABLE_KEYS <= set(r) for r in hs6_rows)
    codes = [r["hs6"] for r in hs6_rows]
    assert len(codes) == len(set(codes)) and all(len(c) == 6 for c in codes)


def test_json_values_match_hand_computation(hs6_rows: list[dict]) -> None:
    by = {r["hs6"]: r for r in hs6_rows}
    # cobalt matte/unwrought 810510, NOR imports 2022 (see test_trade_indicators for the method):
    # 14 partners, total 162690.165 kUSD, Canada (Glencore's Nikkelverk feed) 99.98 %
    co = by["810510"]
    assert co["import_value_kusd"] == pytest.approx(162690.165)
    assert co["top_supplier"] == "CAN"
    assert co["top_supplier_share"] > 0.65 and co["concentration_flag"] is True
    # manganese ores 260200: one partner row lacks quantity -> null, not 0
    mn = by["260200"]
    assert mn["import_quantity_t"] is None
    assert mn["top_supplier"] == "GAB" and mn["concentration_flag"] is False


def test_ranked_vulnerabilities_first(hs6_rows: list[dict]) -> None:
    positions = [r["position"] for r in sorted(hs6_rows, key=lambda r: r["rank"])]
    first_adv = positions.index("advantage")
    assert all(p == "vulnerability" for p in positions[:first_adv])
    assert "vulnerability" not in positions[first_adv:]


def test_threshold_changes_flags() -> None:
    res = CliRunner().invoke(
        cli,
        ["map", "--year", "2022", "--level", "hs6", "--format", "json", "--threshold", "0.9999"],
    )
    rows = {r["hs6"]: r for r in json.loads(res.stdout)}
    assert rows["810510"]["concentration_flag"] is False  # 0.99978 < 0.9999


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "XYZ"], "unknown country"),
        (["--year", "1980"], "1995–2024"),
    ],
)
def test_unknown_codes(args: list[str], message: str) -> None:
    res = CliRunner().invoke(cli, ["map", *args, "--format", "json"])
    assert isinstance(res.exception, UnknownCodeError)
    assert message in str(res.exception)


def test_group_reporter_and_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["map", "--country", "EU27", "--year", "2022", "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0].startswith("product,hs6,material")
    xlsx = tmp_path / "map.xlsx"
    res = runner.invoke(cli, ["map", "--year", "2022", "--format", "xlsx", "--out", str(xlsx)])
    assert res.exit_code == 0, res.output
    from openpyxl import load_workbook

    book = load_workbook(xlsx)
    assert book.sheetnames == ["NOR 2022", "Sources"]  # notes and sources on the last sheet
    assert any(c.value == "Notes" for row in book["Sources"].iter_rows() for c in row)
    res = runner.invoke(cli, ["map", "--year", "2022", "--format", "html"])
    assert res.exit_code != 0 and "--out" in res.output


def test_geopolrisk_for_codes_of_several_materials(hs6_rows: list[dict]) -> None:
    # 280530 and 284690 are rare earths *and* scandium, 711019 PGMs *and* platinum: the
    # comma-joined material key used to find no score. Each material is looked up on its own.
    by = {r["hs6"]: r for r in hs6_rows}
    for code, top, absent in (
        ("280530", "rare-earths", "scandium"),
        ("284690", "rare-earths", "scandium"),
        ("711019", "platinum", "pgms"),
    ):
        r = by[code]
        assert r["geopolrisk_score"] is not None, code
        assert r["geopolrisk_material"] == top
        assert f"{absent}=n/a" in r["geopolrisk_scores"]
        assert f"{top}={r['geopolrisk_score']:.4g}" in r["geopolrisk_scores"]
    # every material of every row is listed, with a score or n/a (none dropped silently)
    for r in hs6_rows:
        listed = [part.split("=")[0] for part in r["geopolrisk_scores"].split("; ")]
        assert listed == r["material"].split(",")


def test_product_geopolrisk_takes_the_highest_material() -> None:
    from verdikart.chains.mapping import _product_geopolrisk

    got = _product_geopolrisk(["a", "b", "c"], {"a": 0.2, "b": 0.31, "c": None})
    assert got == {
        "geopolrisk_score": 0.31,
        "geopolrisk_material": "b",
        "geopolrisk_scores": "a=0.2; b=0.31; c=n/a",
    }
    assert _product_geopolrisk(["x"], {})["geopolrisk_score"] is None
