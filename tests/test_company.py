"""Company purchases assessment: validation with row numbers, indicators by hand, --save."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import DataValidationError
from verdikart.indicators.company import assess_company, read_purchases, usd_per_unit
from verdikart.store import Store

FIX = Path(__file__).parent / "fixtures" / "company"
GOOD = FIX / "fjordmetall_purchases.csv"
BAD = FIX / "fjordmetall_bad.csv"


def _by_product(rows: list[dict]) -> dict[str, dict]:
    return {r["product"]: r for r in rows}


def test_indicators_hand_computed() -> None:
    rows = _by_product(assess_company(Store.open(None).engine(), read_purchases(GOOD)))
    # manganese: GAB 2400, ZAF 1100, BRA 500 kUSD -> total 4000
    # shares 0.6, 0.275, 0.125; HHI = 0.36 + 0.075625 + 0.015625 = 0.45125
    mn = rows["manganese"]
    assert mn["import_value_kusd"] == pytest.approx(4000)
    assert mn["top_supplier"] == "GAB" and mn["top_supplier_share"] == pytest.approx(0.6)
    assert mn["hhi"] == pytest.approx(0.45125)
    assert mn["concentration_flag"] is False
    # phosphate rock (HS 251020): ZAF 50,000,000 NOK / 9.625 NOK per USD = 5194.805 kUSD;
    # FIN 1,000,000 EUR * 1.050 USD per EUR = 1050 kUSD; ZAF share 5194.805/6244.805 = 0.83186
    ph = rows["251020"]
    assert ph["import_value_kusd"] == pytest.approx(50_000_000 / 9.625 / 1000 + 1050)
    assert ph["top_supplier"] == "ZAF"
    assert ph["top_supplier_share"] == pytest.approx(5194.805 / 6244.805, rel=1e-6)
    assert ph["concentration_flag"] is True
    # cobalt: CAN 5000 kUSD, COD 3,000,000 USD = 3000 kUSD -> 0.625 / 0.375; HHI 0.53125
    co = rows["cobalt"]
    assert co["hhi"] == pytest.approx(0.625**2 + 0.375**2)
    # governance risk per origin is shown: COD's 2022 normalised PV score
    assert "COD 37.5% (risk" in co["suppliers"]
    # graphite: one row has no quantity -> quantity NULL with a reason, value shares still known
    gr = rows["graphite"]
    assert gr["import_quantity_t"] is None
    assert "quantity missing" in gr["notes"]
    assert gr["top_supplier"] == "CHN" and gr["top_supplier_share"] == pytest.approx(1000 / 1150)


def test_bad_rows_listed_with_numbers_nothing_partial() -> None:
    with pytest.raises(DataValidationError) as err:
        read_purchases(BAD)
    problems = err.value.problems
    assert [p.split(":")[0] for p in problems] == ["row 3", "row 4", "row 6"]
    assert "unknown material 'unobtainium'" in problems[0]
    assert "unknown origin country 'Atlantis'" in problems[1]
    assert "negative" in problems[1]
    assert "not six digits" in problems[2] and "is a group" in problems[2]
    assert "SEK" in problems[2]


def test_missing_columns() -> None:
    with pytest.raises(DataValidationError, match="missing column"):
        read_purchases(FIX / "README.md")


def test_xlsx_same_result(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    with GOOD.open() as fh:
        for row in csv.reader(fh):
            ws.append(row)
    path = tmp_path / "purchases.xlsx"
    book.save(path)
    store = Store.open(None)
    assert assess_company(store.engine(), read_purchases(path)) == assess_company(
        store.engine(), read_purchases(GOOD)
    )


def test_rates() -> None:
    assert usd_per_unit("NOK", 2022) == pytest.approx(1 / 9.625)
    assert usd_per_unit("EUR", 2019) == pytest.approx(1.119)
    assert usd_per_unit("NOK", 2015) is None


def test_cli_json_and_save(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "store.duckdb"
    res = runner.invoke(
        cli, ["--store", str(store), "company", "assess", str(GOOD), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {r["product"] for r in data} == {"manganese", "251020", "cobalt", "graphite"}
    assert not store.exists()  # nothing written without --save
    res = runner.invoke(cli, ["--store", str(store), "company", "assess", str(GOOD), "--save"])
    assert res.exit_code == 0, res.output
    with Store.open(store) as s:
        assert s.rows("SELECT count(*) AS n FROM imported_company_purchases")[0]["n"] == 10


def test_cli_bad_file_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    from verdikart.cli import main

    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from verdikart.cli import main; main()",
            "company",
            "assess",
            str(BAD),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "row 3: unknown material" in proc.stderr
    assert main  # the entry point exists
