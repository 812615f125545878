"""The bundled reference tables (EU CRM 2023 inputs, Norway's EU ETS installations): what they
hold, that the EU method runs on them with no import, that an import supersedes them, and that
scripts/build_reference_bundle.py rebuilds exactly the committed files.

Hand-computed values from the published rows (European Commission, *Study on the critical raw
materials for the EU 2023*, Appendix 6 "material use shares", Appendix 7 supply shares):

Cobalt's end uses: C20 (value added 132,361 M€) 12 + 13 + 11 %, C25 (163,568 M€) 14 + 7 + 36 %,
C27 (89,422 M€) 3 %, "Other" 6 % unallocated; the largest sector's value added is 204,200 M€
(C24, C28). EI = (0.36 × 132,361 + 0.57 × 163,568 + 0.03 × 89,422) / 0.96 / 204,200 × 10
= 143,566.38 / 0.96 / 204,200 × 10 = 7.3236196.

Cobalt's extraction (global, Appendix 7): DR Congo 62.8 % with t = 1.1; the bundled WGI has
political stability only, COD 2021 = −1.657812476 → scaled (2.5 + 1.657812476) × 2 = 8.315625;
DR Congo's HHI term 0.628² × 8.315625 × 1.1 = 3.6075637, a lower bound of HHI_GS. No EU
sourcing at extraction: SR_E = HHI_GS × (1 − EoL-RIR 0.22) (cobalt's EoL-RIR in wmd_hs_map).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.sources.eu_crm import import_eu_crm
from verdikart.store import Store, bundled_path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "eu_crm"
BUNDLED_ROWS = {
    "eu_supply_shares": 3468,
    "eu_end_uses": 339,
    "eu_material_groups": 360,
    "eu_ets_installations": 194,
    "eu_ets_emissions": 1135,
}
COBALT_EI = (0.36 * 132361 + 0.57 * 163568 + 0.03 * 89422) / 0.96 / 204200 * 10
DRC_TERM = 0.628**2 * ((2.5 + 1.657812476158142) * 2) * 1.1


def _build_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "build_reference_bundle", REPO / "scripts" / "build_reference_bundle.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_bundled_tables_on_a_fresh_store(tmp_path: Path) -> None:
    with Store.open(tmp_path / "absent.duckdb") as store:
        counts = store.row_counts()
        assert {name: counts[name] for name in BUNDLED_ROWS} == BUNDLED_ROWS
        assert counts["eu_parameters"] == 0  # factsheet scalars: not published as a table
        norway = store.rows(
            "SELECT material, stage, share, share_text FROM eu_supply_shares "
            "WHERE scope = 'eu_sourcing' AND country = 'NOR' AND share >= 0.1 "
            "ORDER BY share DESC"
        )
        assert [(r["material"], r["stage"], r["share"]) for r in norway] == [
            ("silicon", "P", pytest.approx(0.33)),
            ("titanium-ores", "E", pytest.approx(0.23)),
            ("manganese", "P", pytest.approx(0.21)),
            ("nickel", "P", pytest.approx(0.10)),
        ]
        groups = store.rows(
            "SELECT screened_material, material_group FROM eu_material_groups "
            "WHERE material = 'dysprosium' ORDER BY grouping"
        )
        assert [g["material_group"] for g in groups] == ["HREE", "HREE", "REE", "REE"]
        statuses = {r["table"]: r for r in store.status()}
        assert statuses["eu_ets_emissions"]["origin"] == "bundled"
    assert not (tmp_path / "absent.duckdb").exists()


def test_ets_installations_and_emissions() -> None:
    """Hydro Aluminium Sunndal (NO_204078): 670,648 t CO2 verified in 2019 (EUTL)."""
    with Store.open(None) as store:
        sunndal = store.rows(
            "SELECT i.name, i.city, i.postal_code, i.lat, i.lon, e.verified_emissions_t_co2e, "
            "e.free_allocation_t_co2e FROM eu_ets_installations i JOIN eu_ets_emissions e "
            "USING (installation_id) WHERE installation_id = 'NO_204078' AND e.year = 2019"
        )
        assert sunndal == [
            {
                "name": "Hydro Aluminium AS Sunndal aluminiumsverk",
                "city": "Sunndalsøra",
                "postal_code": "6601",
                "lat": pytest.approx(62.67337),
                "lon": pytest.approx(8.5679979),
                "verified_emissions_t_co2e": 670648.0,
                "free_allocation_t_co2e": 502913.0,
            }
        ]
        summary = store.rows(
            "SELECT count(DISTINCT country) AS countries, min(year) AS y0, max(year) AS y1, "
            "count(*) FILTER (WHERE installation_id NOT IN "
            "(SELECT installation_id FROM eu_ets_installations)) AS orphans FROM eu_ets_emissions"
        )
        assert summary == [{"countries": 1, "y0": 2013, "y1": 2020, "orphans": 0}]
        # the extract's '-' placeholders are missing values, not text
        assert store.rows(
            "SELECT count(*) AS n FROM eu_ets_installations WHERE '-' IN (name, address, city)"
        ) == [{"n": 0}]


def test_engine_relations_read_the_new_tables() -> None:
    with Store.open(None) as store:
        engine = store.engine()
        rel = engine.relations()
        n = engine.rows(rel.eu_ets_installations.count().name("n").as_table())
        assert n == [{"n": 194}]
        assert rel["eu_material_groups"].columns[:3] == ("year", "material", "screened_material")


def test_cli_criticality_cobalt_on_a_fresh_store(tmp_path: Path) -> None:
    """The done-when of issue 9: SR, EI and the critical flag with no import."""
    result = CliRunner().invoke(cli, ["criticality", "--material", "cobalt", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["stage"]: r for r in json.loads(result.output)}
    assert set(rows) == {"E", "P", "max"}
    for row in rows.values():
        assert row["ei"] == pytest.approx(COBALT_EI, rel=1e-9)
        assert row["ei"] == pytest.approx(7.3236196, abs=1e-7)
        for flag in ("global_shares:production", "end_uses"):
            assert flag not in row["inputs_defaulted"]
    extraction = rows["E"]
    assert extraction["hhi_gs"] >= DRC_TERM
    assert extraction["sr"] == pytest.approx(extraction["hhi_gs"] * (1 - 0.22), rel=1e-12)
    assert "sourcing:none" in extraction["inputs_defaulted"]
    assert rows["P"]["hhi_eu"] is not None  # EU sourcing at processing
    assert rows["max"]["sr_stage"] == "E" and rows["max"]["sr"] >= 1.0
    assert rows["max"]["critical"] is True
    assert "EU CRM study 2023" in rows["max"]["source"]
    assert not (tmp_path / "verdikart-data" / "verdikart.duckdb").exists()


def test_import_supersedes_the_bundled_eu_tables(tmp_path: Path) -> None:
    """The eu_crm fixture (assessment year 2023, both scopes, end uses) replaces the bundled
    rows of 2023; the groupings, which the fixture lacks, stay bundled."""
    with Store.open(tmp_path / "s.duckdb", create=True) as store:
        import_eu_crm(store, FIXTURES)
        counts = store.row_counts()
        assert counts["eu_supply_shares"] == 9 and counts["eu_end_uses"] == 4
        assert counts["eu_material_groups"] == BUNDLED_ROWS["eu_material_groups"]
        sources = store.rows("SELECT DISTINCT source FROM eu_supply_shares")
        assert [s["source"] for s in sources] == ["EU CRM study 2023 inputs (eu_crm)"]


def test_build_script_rebuilds_the_committed_files(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _build_script()
    monkeypatch.setattr(build, "OUT_DIR", tmp_path)
    build.main(
        [
            "--eu-crm",
            str(shared_data / "eu_crm_2023_inputs"),
            "--eu-ets",
            str(shared_data / "eu_ets"),
        ]
    )
    for name, rows in BUNDLED_ROWS.items():
        built = pq.read_table(tmp_path / f"{name}.parquet")
        committed = pq.read_table(bundled_path(name))
        assert built.num_rows == rows
        assert built.equals(committed), name


def test_build_script_offline_and_missing_files_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.error

    build = _build_script()

    def offline(url: str, timeout: float) -> Any:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(build.urllib.request, "urlopen", offline)
    with pytest.raises(SystemExit) as err:
        build.download(build.eu_crm_urls(), tmp_path / "dl", "--eu-crm")
    message = str(err.value)
    assert "cannot download https://raw.githubusercontent.com/erikemilsson/" in message
    assert "Name or service not known" in message and "--eu-crm DIR" in message
    with pytest.raises(SystemExit, match="missing fact_GlobalSupplyShares&t.csv"):
        build.main(["--eu-crm", str(tmp_path / "nowhere")])
