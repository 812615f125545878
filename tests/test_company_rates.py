"""company assess: NOK/EUR values at the bundled Norges Bank annual averages (2019-2023), a
clear error (exit 2) for a later year naming the latest year held and the options that give a
rate, and --nok-per-usd / --nok-per-eur for that year."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.indicators.company import RATE_SOURCE, latest_rate_year, read_purchases
from verdikart.reference.industry import exchange_rates

HEADER = "material,origin,year,quantity_t,value,currency\n"


def _file(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "purchases.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _assess(path: Path, *extra: str) -> tuple[int, str]:
    """The real command line (exit code and the message as users see it)."""
    exe = Path(sys.executable).with_name("verdikart")
    args = [str(exe), "company", "assess", str(path), "--format", "json", *extra]
    done = subprocess.run(args, capture_output=True, text=True, env=os.environ, check=False)
    return done.returncode, done.stdout + done.stderr


def test_latest_rate_year_and_sources_in_users_words() -> None:
    assert latest_rate_year() == 2023
    sources = set(exchange_rates().column("source").to_pylist()) | {RATE_SOURCE}
    assert all("Prosess21 status report 2024" in s for s in sources)
    assert not any("seed" in s.casefold() for s in sources)


def test_year_without_rate_is_a_clear_error(tmp_path: Path) -> None:
    path = _file(tmp_path, "cobalt,CAN,2024,10,1000000,NOK\ncobalt,COD,2024,5,2000000,NOK\n")
    code, out = _assess(path)
    assert code == 2, out
    assert "Traceback" not in out
    assert "no NOK exchange rate for 2024 (rows 2, 3)" in out
    assert "annual averages up to 2023" in out
    assert "--nok-per-usd" in out and "--nok-per-eur" in out and "value_kusd" in out


def test_rate_given_for_the_year(tmp_path: Path) -> None:
    # a user-given rate (not reference data): 1,000,000 NOK / 10 NOK per USD = 100 kUSD;
    # 1,000,000 EUR at 11.5 NOK per EUR and 10 NOK per USD = 1,150 kUSD
    path = _file(tmp_path, "cobalt,CAN,2024,10,1000000,NOK\ncobalt,COD,2024,5,1000000,EUR\n")
    code, out = _assess(path, "--nok-per-usd", "10")
    assert code == 2 and "no NOK exchange rate for 2024 (row 3)" in out  # EUR needs NOK/EUR
    code, out = _assess(path, "--nok-per-usd", "10", "--nok-per-eur", "11.5")
    assert code == 0, out
    row = json.loads(out)[0]
    assert row["import_value_kusd"] == pytest.approx(100 + 1150)
    assert row["top_supplier"] == "COD" and row["top_supplier_share"] == pytest.approx(1150 / 1250)


def test_bundled_year_ignores_given_rate(tmp_path: Path) -> None:
    # 2022 is in the table: 9.625 NOK per USD (Norges Bank 2022), whatever is given
    path = _file(tmp_path, "cobalt,CAN,2022,10,9625000,NOK\n")
    table = read_purchases(path, nok_per_usd=99.0)
    assert table.column("value_kusd").to_pylist() == [pytest.approx(1000.0)]


def test_given_rate_is_one_years(tmp_path: Path) -> None:
    path = _file(tmp_path, "cobalt,CAN,2024,10,1000000,NOK\ncobalt,COD,2025,5,1000000,NOK\n")
    code, out = _assess(path, "--nok-per-usd", "10")
    assert code == 2 and "rows of 2024, 2025 need it: assess one year at a time" in out


def test_help_names_the_options_without_internal_words() -> None:
    res = CliRunner().invoke(cli, ["company", "assess", "--help"])
    assert res.exit_code == 0
    assert "--nok-per-usd" in res.output and "--nok-per-eur" in res.output
    assert "seed" not in res.output.casefold()
