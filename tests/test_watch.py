"""The early-warning watch: each rule on a constructed series (relations.with_trade), rules on
the real bundled series (hand-checked), stable ids, the record of alerts seen and --since."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import ibis
import pytest
from click.testing import CliRunner

from test_scenario import trade_table
from verdikart.cli import cli
from verdikart.scenarios.watch import alert_id, run_watch

# NOR's imports of natural graphite (250410), kUSD and t:
#   2022: MOZ 600 (600 t), BRA 400 (400 t)                       unit value 1,000 USD/t
#   2023: MOZ 500 (500 t), CHN 300 (300 t), BRA 200 (200 t)      HHI 3,800, top MOZ 50 %
#   2024: CHN 900 (300 t), MOZ 100 (100 t)                       HHI 8,200, top CHN 90 %,
#                                                                unit value 2,500 USD/t
# BRA also sells 800 to JPN in 2023 and nothing in 2024 (world exports -100 %); MOZ sells
# 1,000 to DEU each year (world exports 1,500 -> 1,100: -26.7 %, under the 30 % threshold).
# NOR imports arsenic (280480, added to the EU list in 2023) from DEU: 200 a year 2022-2024.
ROWS = [
    (2022, "MOZ", "NOR", "250410", 600.0, 600.0),
    (2022, "BRA", "NOR", "250410", 400.0, 400.0),
    (2023, "MOZ", "NOR", "250410", 500.0, 500.0),
    (2023, "CHN", "NOR", "250410", 300.0, 300.0),
    (2023, "BRA", "NOR", "250410", 200.0, 200.0),
    (2023, "BRA", "JPN", "250410", 800.0, 800.0),
    (2023, "MOZ", "DEU", "250410", 1000.0, 1000.0),
    (2024, "CHN", "NOR", "250410", 900.0, 300.0),
    (2024, "MOZ", "NOR", "250410", 100.0, 100.0),
    (2024, "MOZ", "DEU", "250410", 1000.0, 1000.0),
    (2022, "DEU", "NOR", "280480", 200.0, 20.0),
    (2023, "DEU", "NOR", "280480", 200.0, 20.0),
    (2024, "DEU", "NOR", "280480", 200.0, 20.0),
]
EVENTS = """[[event]]
id = "test-graphite"
date = 2023-12-01
country = "CHN"
kind = "export-control"
materials = ["graphite"]
title = "China: graphite licences"
source = "MOFCOM Announcement No. 39 of 2023"

[[event]]
id = "test-graphite-usa"
date = 2024-12-03
country = "CHN"
kind = "export-ban"
materials = ["graphite"]
partners = ["USA"]
title = "China: graphite to the USA"
source = "MOFCOM Announcement No. 46 of 2024"
"""


@pytest.fixture
def constructed(duck_engine: Any, tmp_path: Path) -> list[dict[str, Any]]:
    events = tmp_path / "events.toml"
    events.write_text(EVENTS, encoding="utf-8")
    rel = duck_engine.relations().with_trade(ibis.memtable(trade_table(ROWS)))
    return run_watch(duck_engine, ["NOR"], events_path=events, relations=rel)


def _one(alerts: list[dict[str, Any]], rule: str, **match: Any) -> dict[str, Any]:
    found = [a for a in alerts if a["rule"] == rule and all(a[k] == v for k, v in match.items())]
    assert len(found) == 1, (rule, match, [a["evidence"] for a in alerts if a["rule"] == rule])
    return found[0]


def test_supplier_share_crossing(constructed: list[dict[str, Any]]) -> None:
    a = _one(constructed, "supplier_share", material="graphite")
    assert (a["partner"], a["year"]) == ("CHN", 2024)
    assert a["value"] == pytest.approx(0.9) and a["previous"] == pytest.approx(0.3)
    assert "CHN supplied 90.0 % of NOR's imports of graphite in 2024" in a["evidence"]


def test_hhi_rise(constructed: list[dict[str, Any]]) -> None:
    a = _one(constructed, "hhi_rise", material="graphite")
    assert a["value"] == pytest.approx(8200) and a["previous"] == pytest.approx(3800)


def test_new_dominant_supplier(constructed: list[dict[str, Any]]) -> None:
    a = _one(constructed, "new_dominant_supplier", material="graphite")
    assert a["partner"] == "CHN" and "replaced MOZ" in a["evidence"]


def test_export_drop(constructed: list[dict[str, Any]]) -> None:
    a = _one(constructed, "export_drop", material="graphite")
    assert (a["partner"], a["year"]) == ("BRA", 2024)  # MOZ's -26.7 % is under 30 %
    assert a["previous"] == pytest.approx(1000.0) and a["value"] == 0


def test_unit_value_jump(constructed: list[dict[str, Any]]) -> None:
    a = _one(constructed, "unit_value_jump", material="graphite")
    assert a["value"] == pytest.approx(2500.0) and a["previous"] == pytest.approx(1000.0)


def test_list_status_change(constructed: list[dict[str, Any]]) -> None:
    a = _one(constructed, "list_status_change", material="arsenic")
    assert a["event"] == "eu2023:added" and a["date"] == "2023-03-16"
    assert "was added to EU critical raw materials 2023" in a["evidence"]


def test_list_status_change_in_bokmal(duck_engine: Any, tmp_path: Path) -> None:
    """The Norwegian message names the list by its bokmål title."""
    alerts = run_watch(duck_engine, ["NOR"], language="nb", seen_path=tmp_path / "seen.json")
    changes = [a for a in alerts if a["rule"] == "list_status_change"]
    assert changes
    assert all(" ble tatt " in a["evidence"] for a in changes)
    assert all("EUs kritiske råvarer" in a["evidence"] for a in changes), changes[0]["evidence"]


def test_policy_events(constructed: list[dict[str, Any]]) -> None:
    a = _one(constructed, "policy_event", event="test-graphite")
    assert a["value"] == pytest.approx(0.9) and a["date"] == "2023-12-01"
    assert "MOFCOM Announcement No. 39 of 2023" in a["sources"]
    b = _one(constructed, "policy_event", event="test-graphite-usa")
    assert "targets USA only" in b["evidence"]


def test_no_alert_below_the_thresholds(constructed: list[dict[str, Any]]) -> None:
    # 2023 changes nothing above a threshold (world production is the real series: left out)
    rules = {"list_status_change", "production_hhi_rise"}
    assert not [a for a in constructed if a["year"] == 2023 and a["rule"] not in rules]


def test_rules_file_switches_and_moves_thresholds(duck_engine: Any, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[rules.supplier_share]\nthreshold = 0.95\n[rules.hhi_rise]\nenabled = false\n",
        encoding="utf-8",
    )
    rel = duck_engine.relations().with_trade(ibis.memtable(trade_table(ROWS)))
    alerts = run_watch(duck_engine, ["NOR"], rules_path=rules, relations=rel)
    assert not [a for a in alerts if a["rule"] in ("supplier_share", "hhi_rise")]


# ---------------------------------------------------------------- real series


@pytest.fixture(scope="module")
def nor_alerts() -> list[dict[str, Any]]:
    from verdikart.store import Store

    store = Store.open(None)
    try:
        return run_watch(store.engine(), ["NOR"])
    finally:
        store.close()


def test_real_bismuth_share_crossing(nor_alerts: list[dict[str, Any]]) -> None:
    # trade.parquet, NOR imports of 810600: 2023 CHN 74.106 of 290.666 kUSD (25.5 %);
    # 2024 CHN 184.752 of 222.235 kUSD (83.1 %)
    a = _one(nor_alerts, "supplier_share", material="bismuth", year=2024)
    assert a["partner"] == "CHN"
    assert a["value"] == pytest.approx(184.752 / 222.235, rel=1e-9)
    assert a["previous"] == pytest.approx(74.106 / 290.666, rel=1e-9)
    assert "CEPII BACI" in a["sources"]


def test_real_production_hhi_rise(nor_alerts: list[dict[str, Any]]) -> None:
    # production.parquet (World Mining Data), nickel mine production HHI: 2023 3,258.36,
    # 2024 4,039.27 points
    a = _one(nor_alerts, "production_hhi_rise", material="nickel", year=2024)
    assert a["previous"] == pytest.approx(3258.3638, rel=1e-6)
    assert a["value"] == pytest.approx(4039.2710, rel=1e-6)
    assert a["partner"] == "IDN"


def test_real_policy_event_on_bismuth(nor_alerts: list[dict[str, Any]]) -> None:
    a = _one(nor_alerts, "policy_event", material="bismuth", event="chn-w-te-bi-mo-in-2025")
    assert a["value"] == pytest.approx(184.752 / 222.235, rel=1e-9)
    assert "Announcement No. 10 of 2025" in a["sources"]


def test_ids_are_digests_and_unique(nor_alerts: list[dict[str, Any]]) -> None:
    ids = [a["id"] for a in nor_alerts]
    assert len(ids) == len(set(ids))
    assert {a["rule"] for a in nor_alerts} >= {
        "supplier_share",
        "hhi_rise",
        "new_dominant_supplier",
        "export_drop",
        "unit_value_jump",
        "production_hhi_rise",
        "list_status_change",
        "policy_event",
    }
    row = {
        "rule": "hhi_rise",
        "reporter": "NOR",
        "material": "gold",
        "partner": "SWE",
        "year": 2024,
        "event_id": None,
        "stage": None,
    }
    assert alert_id(row) == alert_id(dict(row)) and alert_id(row).startswith("w")


def test_cli_watch_twice_same_ids_and_new_flags(isolated_data_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["watch", "--country", "NOR", "--format", "json"])
    second = runner.invoke(cli, ["watch", "--country", "NOR", "--format", "json"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a and [x["id"] for x in a] == [x["id"] for x in b]
    for alert in a:
        assert {"id", "rule", "material", "evidence", "sources"} <= set(alert)
    assert all(x["new"] for x in a) and not any(x["new"] for x in b)
    assert (isolated_data_dir / "watch-seen.json").exists()
    # the first run is the baseline: --since keeps what happened since (events of 2025)
    since = runner.invoke(
        cli, ["watch", "--country", "NOR", "--since", "2025-01-01", "--format", "json"]
    )
    recent = json.loads(since.stdout)
    assert recent and all(x["date"] >= "2025-01-01" for x in recent)
    assert {x["rule"] for x in recent} == {"policy_event"}


def test_since_shows_what_reached_the_data_later(duck_engine: Any, tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    rel_old = duck_engine.relations().with_trade(
        ibis.memtable(trade_table([r for r in ROWS if r[0] < 2024]))
    )
    run_watch(duck_engine, ["NOR"], relations=rel_old, seen_path=seen, today=dt.date(2025, 1, 1))
    rel = duck_engine.relations().with_trade(ibis.memtable(trade_table(ROWS)))
    later = run_watch(
        duck_engine,
        ["NOR"],
        relations=rel,
        seen_path=seen,
        since="2025-06-01",
        today=dt.date(2025, 7, 1),
    )
    assert later and all(a["new"] and a["first_seen"] == "2025-07-01" for a in later)
    assert {a["year"] for a in later if a["rule"] != "list_status_change"} == {2024}
