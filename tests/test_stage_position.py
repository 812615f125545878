"""`verdikart position`: where a country supplies, by material and stage, on the bundled data.

Hand-computed values from the bundled real slices:

* EU sourcing and global supply shares (European Commission, *Study on the critical raw
  materials for the EU 2023*, Appendix 7): Norway supplies 33 % of the EU's silicon metal
  (world 6.3 %), 21 % of processed manganese (3.4 %), 23 % of titanium ores (world: the
  "Titanium" extraction row, 3.0 %) and 10 % of processed nickel (3.5 %). Finland: nickel
  processing 17 % (world 2.8 %); Iceland: silicon metal 1 % (0.3 %).
* World exports of titanium ores (HS92 261400, CEPII BACI V202401b): 2024 Norway
  223,346.123 of 3,669,610.840 kUSD = 0.0608637; 2022 267,011.359 of 3,961,605.795 = 0.0673998.
* World Mining Data 2024, natural gas 2024: Norway 126,245 of 4,191,873 million m3 (94
  producers) = 0.0301166.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import UnknownCodeError
from verdikart.indicators.stage_position import COLUMNS, stage_position
from verdikart.store import Store

EU_SOURCE = "EU sourcing: EU CRM study 2023 inputs"


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["position", *args])


def _rows(*args: str) -> dict[tuple[str, str], dict[str, Any]]:
    result = _run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert all(list(r) == list(COLUMNS) for r in rows)
    return {(r["material"], r["stage"]): r for r in rows}


def test_norway_done_when_of_issue_9() -> None:
    """silicon metal 33 %, manganese processing 21 %, titanium ores 23 %, nickel processing
    10 % of the EU's sourcing, with their source."""
    rows = _rows("--country", "NOR")
    expected = {
        ("silicon", "P"): ("Silicon metal", 0.33, 0.063),
        ("manganese", "P"): ("Manganese", 0.21, 0.034),
        ("titanium", "E"): ("Titanium ores", 0.23, 0.03),
        ("nickel", "P"): ("Nickel", 0.10, 0.035),
    }
    for key, (name, eu, world) in expected.items():
        row = rows[key]
        assert row["country"] == "NOR" and row["material_name"] == name
        assert row["share_of_eu_sourcing"] == pytest.approx(eu, abs=1e-12)
        assert row["share_of_world_production"] == pytest.approx(world, abs=1e-12)
        assert row["source"].startswith(EU_SOURCE)
        assert "world production: global supply shares, EU CRM study 2023" in row["source"]
    ranks = [rows[k]["rank"] for k in expected]
    assert ranks[:3] == [1, 3, 2] and ranks[3] <= 6  # silicon, titanium ores, manganese first
    assert sorted(r["rank"] for r in rows.values()) == list(range(1, len(rows) + 1))
    assert rows[("silicon", "P")]["stage_name"] == "processing"


def test_world_export_share_only_on_a_complete_code_set() -> None:
    rows = _rows("-c", "Norge")
    titanium = rows[("titanium", "E")]
    assert titanium["share_of_world_exports"] == pytest.approx(223346.123 / 3669610.840, rel=1e-9)
    assert titanium["exports_year"] == 2024 and titanium["note"] is None
    assert "world exports: CEPII BACI HS92 V202401b" in titanium["source"]
    # the bundled slice lacks both silicon codes: no share, and the note says so
    silicon = rows[("silicon", "P")]
    assert silicon["share_of_world_exports"] is None and silicon["exports_year"] is None
    assert "lack HS 280461, 280469 (2 of the stage's 2 codes" in silicon["note"]
    assert "verdikart data import baci" in silicon["note"]
    # aluminium: one of three processing codes present is still incomplete
    assert (
        "(2 of the stage's 3 codes; the code set is incomplete)" in rows[("aluminium", "P")]["note"]
    )
    hydrogen = rows[("hydrogen", "E")]
    assert hydrogen["share_of_world_exports"] is None
    assert "no HS codes of its own" in hydrogen["note"]
    earlier = _rows("-c", "NOR", "--year", "2022")[("titanium", "E")]
    assert earlier["share_of_world_exports"] == pytest.approx(267011.359 / 3961605.795, rel=1e-9)


def test_production_shares_fill_in_where_the_eu_has_none() -> None:
    gas = _rows("-c", "578")[("natural-gas", "E")]
    assert gas["share_of_eu_sourcing"] is None
    assert gas["share_of_world_production"] == pytest.approx(126245 / 4191873, rel=1e-12)
    assert gas["production_share"] == gas["share_of_world_production"]
    assert gas["production_year"] == 2024
    assert gas["source"].startswith("world production: World Mining Data 2024")


def test_titanium_extraction_published_three_times_counts_once() -> None:
    with Store.open(None) as store:
        rows = stage_position(store.engine(), "NOR").to_pylist()
    keys = [(r["material"], r["stage"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert ("titanium-ores", "E") not in keys and ("titanium-metal", "E") not in keys
    assert ("titanium-metal", "P") in keys  # a stage of its own in the EU table


def test_bound_share_is_noted() -> None:
    nickel = _rows("-c", "NOR")[("nickel", "E")]
    assert nickel["share_of_world_production"] == pytest.approx(0.0005)
    assert "'<0.1%' is counted as its midpoint" in nickel["note"]


def test_a_group_sums_its_members() -> None:
    rows = _rows("-c", "NORDIC")
    nickel, silicon = rows[("nickel", "P")], rows[("silicon", "P")]
    assert nickel["country"] == "NORDIC"
    assert nickel["share_of_eu_sourcing"] == pytest.approx(0.17 + 0.10)
    assert nickel["share_of_world_production"] == pytest.approx(0.028 + 0.035)
    assert silicon["share_of_eu_sourcing"] == pytest.approx(0.33 + 0.01)
    assert silicon["share_of_world_production"] == pytest.approx(0.063 + 0.003)


def test_table_and_csv_formats() -> None:
    table = _run("-c", "NOR")
    assert table.exit_code == 0, table.output
    assert "leverandørposisjon" in table.output and "Silicon metal" in table.output
    assert "33 %" in table.output and "6.3 %" in table.output
    csv = _run("-c", "NOR", "--format", "csv")
    assert csv.exit_code == 0
    header, first = csv.output.splitlines()[:2]
    assert header == ",".join(COLUMNS)
    assert first.startswith("1,NOR,silicon,Silicon metal,P,processing,0.33,0.063,")


def test_bad_input_is_a_clear_error() -> None:
    unknown = _run("-c", "Atlantis")
    assert isinstance(unknown.exception, UnknownCodeError)
    assert unknown.exception.exit_code == 2
    assert "unknown country or group 'Atlantis'" in str(unknown.exception)
    year = _run("-c", "NOR", "--year", "1890")
    assert isinstance(year.exception, UnknownCodeError)
    assert "no trade data for 1890; the latest year with trade data is 2024" in str(year.exception)
    missing = _run()
    assert missing.exit_code == 2 and "--country" in missing.output


def test_cli_process_exits_2_without_a_traceback() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("verdikart")), "position", "-c", "Atlantis"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown country or group 'Atlantis'")
    assert "Traceback" not in done.stderr
