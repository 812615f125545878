"""EU criticality method: formulas (known answers), the eu_crm reader, the set-based run,
defaults, the national perspective and the CLI.

Hand-computed values use the fixture files in tests/fixtures/eu_crm/ (made by make.py) and
governance scores chosen so that scaled WGI values are round numbers.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from verdikart.errors import SourceError, UnknownCodeError
from verdikart.indicators import eu_method as em
from verdikart.sources.eu_crm import import_eu_crm
from verdikart.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "eu_crm"

# Six WGI estimates per country for 2021; scaled WGI = (2.5 - mean) x 2.
GOVERNANCE_2021: dict[str, list[float]] = {
    "CHN": [-1.0, 0.0, -0.5, -0.5, -0.8, -0.2],  # mean -0.5 -> 6.0
    "AUS": [1.0] * 6,  # -> 3.0
    "FIN": [2.0] * 6,  # -> 1.0
    "NOR": [1.5] * 6,  # -> 2.0
    "COD": [-1.5] * 6,  # -> 8.0
    "TUR": [0.0] * 6,  # -> 5.0
}
SCALED = {"CHN": 6.0, "AUS": 3.0, "FIN": 1.0, "NOR": 2.0, "COD": 8.0, "TUR": 5.0}


def load_governance(store: Store, scores: dict[str, list[float]], year: int = 2021) -> None:
    rows = [
        {"year": year, "country": c, "indicator": dim, "value": v, "source": "test"}
        for c, values in scores.items()
        for dim, v in zip(em.WGI_DIMENSIONS, values, strict=True)
    ]
    table = pa.Table.from_pylist(rows)

    def load(con: Any, staging: str) -> int:
        con.register("_gov", table)
        con.execute(
            f'INSERT INTO "{staging}" SELECT year, country, indicator, value, source FROM _gov'
        )
        con.unregister("_gov")
        return len(rows)

    store.import_rows("governance", load, source="test governance")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "store.duckdb", create=True)
    import_eu_crm(s, FIXTURES)
    load_governance(s, GOVERNANCE_2021)
    yield s
    s.close()


def by_stage(table: pa.Table, material: str) -> dict[str, dict[str, Any]]:
    return {r["stage"]: r for r in table.to_pylist() if r["material"] == material}


# -- pure formulas ------------------------------------------------------------------------
def test_scaled_wgi_maps_range_and_averages_six_dimensions() -> None:
    assert em.scale_wgi(-2.5) == 10.0
    assert em.scale_wgi(2.5) == 0.0
    assert em.scale_wgi(0.0) == 5.0
    assert em.scale_wgi(3.1) == 0.0  # clipped
    assert em.scaled_wgi(GOVERNANCE_2021["CHN"]) == pytest.approx(6.0)


def test_hhi_wgi_t_two_countries() -> None:
    # 0.6^2 x 6.0 + 0.4^2 x 3.0 = 2.16 + 0.48
    assert em.hhi_wgi_t([0.6, 0.4], [6.0, 3.0], [1.0, 1.0]) == pytest.approx(2.64)
    # the trade variable multiplies each country's term: 0.36 x 6 x 1.1 + 0.48 x 0.8
    assert em.hhi_wgi_t([0.6, 0.4], [6.0, 3.0], [1.1, 0.8]) == pytest.approx(2.376 + 0.384)


def test_supply_risk_known_answer() -> None:
    # [2.64 x 0.5/2 + 0.7 x (1 - 0.5/2)] x (1 - 0.1) x 0.9 = 1.185 x 0.81
    assert em.supply_risk(2.64, 0.7, ir=0.5, eol_rir=0.1, si_sr=0.9) == pytest.approx(0.95985)
    # no sourcing shares: the global mix alone
    assert em.supply_risk(6.6, None, ir=0.5, eol_rir=0.1, si_sr=0.9) == pytest.approx(5.346)


def test_import_reliance() -> None:
    assert em.import_reliance(imports=80, exports=20, production=40) == pytest.approx(0.6)
    assert em.import_reliance(imports=10, exports=30, production=100) == 0.0  # net exporter
    assert em.import_reliance(imports=10, exports=30, production=0) is None  # undefined


def test_economic_importance_known_answer() -> None:
    # (0.5 x 89422 + 0.3 x 64561) / 0.8 / 204200 x 10 x 0.8
    expected = (0.5 * 89422 + 0.3 * 64561) / 0.8 / 204200 * 10 * 0.8
    assert em.economic_importance([0.5, 0.3], [89422, 64561], 204200, 0.8) == pytest.approx(
        expected
    )
    assert expected == pytest.approx(3.138066, abs=1e-6)


def test_is_critical() -> None:
    assert em.is_critical(1.0, 2.8) is True
    assert em.is_critical(0.99, 9.0) is False
    assert em.is_critical(2.0, 2.79) is False
    assert em.is_critical(0.5, None) is False  # SR alone decides
    assert em.is_critical(2.0, None) is None


# -- reader -------------------------------------------------------------------------------
def test_reader_imports_published_layout(store: Store) -> None:
    rows = store.rows(
        "SELECT scope, material, stage, country, country_name, share, share_text, t "
        "FROM eu_supply_shares ORDER BY scope, material, stage, country_name"
    )
    assert len(rows) == 9
    turkey = next(r for r in rows if r["country_name"] == "Türkiye")
    assert turkey["country"] == "TUR" and turkey["share"] == pytest.approx(0.0005)
    assert turkey["share_text"] == "<0.1%"
    congo = next(r for r in rows if r["country_name"] == "Congo, D.R.")
    assert congo["country"] == "COD" and congo["t"] == 1.1
    atlantis = next(r for r in rows if r["country_name"] == "Atlantis")
    assert atlantis["country"] is None  # kept, not dropped; reported below
    uses = store.rows("SELECT * FROM eu_end_uses ORDER BY material, application")
    assert [(u["application"], u["nace2"], u["value_added_meur"]) for u in uses[:3]] == [
        ("Batteries", "C27", 89422.0),
        ("Other", None, None),
        ("Superalloys", "C24", 64561.0),
    ]
    assert uses[2]["nace_name"] == "Manufacture of basic metals"  # embedded newline joined
    params = store.rows("SELECT * FROM eu_parameters")
    assert params[0]["stage"] is None and params[0]["ir"] == 0.5 and params[0]["si_sr"] == 0.9


def test_reader_report(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb", create=True) as s:
        report = import_eu_crm(s, FIXTURES)
    assert report.rows == 9
    assert report.extra_tables == {"eu_end_uses": 4, "eu_parameters": 1}
    assert report.unmapped == {"Atlantis": 1}
    assert report.countries == 6 and report.years == [2023]
    assert "1 share(s) published as '<0.1%' (stored as midpoint)" in report.warnings


def _bad_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "bad"
    shutil.copytree(FIXTURES, folder, ignore=shutil.ignore_patterns("*.py"))
    path = folder / name
    text = path.read_bytes().decode("cp1252").replace(old, new, 1)
    path.write_bytes(text.encode("cp1252"))
    return folder


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("fact_GlobalSupplyShares&t.csv", "40%", "forty", "line 3, field 'Share'"),
        ("fact_GlobalSupplyShares&t.csv", "Cobalt,P", "Cobalt,X", "line 4, field 'Stage'"),
        ("fact_EUSupplyShares&t.csv", "50%,0.8", "50%,abc", "line 2, field 't'"),
        ("fact_MaterialUseShares.csv", "89422", "", "line 2, field 'VA in million €'"),
        ("fact_MaterialUseShares.csv", "C27 - ", "Batteries sector ", "field 'NACE sector'"),
        ("fact_EUSupplyShares&t.csv", "Country", "Land", "missing column 'Country'"),
    ],
)
def test_bad_input_names_file_line_field_and_writes_nothing(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    folder = _bad_copy(tmp_path, name, old, new)
    with Store.open(tmp_path / "s.duckdb", create=True) as s:
        before = s.row_counts()  # the bundled EU tables
        with pytest.raises(SourceError) as err:
            import_eu_crm(s, folder)
        assert name in str(err.value) and message in str(err.value)
        # all-or-nothing: the good files of the same import were not written either
        assert s.imports() == [] and s.row_counts() == before


def test_unrecognised_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fact_other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with Store.open(None) as s, pytest.raises(SourceError, match="not an EU CRM input table"):
        import_eu_crm(s, path)


# -- the set-based run on the fixture -----------------------------------------------------
def test_eu_run_matches_hand_computation(store: Store) -> None:
    out = em.eu_criticality(store.engine(), materials=["cobalt", "tungsten"])
    cobalt = by_stage(out, "cobalt")
    assert cobalt["E"]["hhi_gs"] == pytest.approx(2.64)
    assert cobalt["E"]["hhi_eu"] == pytest.approx(0.25 * 1.0 * 0.8 + 0.25 * 2.0 * 1.0)
    assert cobalt["E"]["sr"] == pytest.approx(0.95985)
    assert cobalt["E"]["critical"] is False
    assert cobalt["P"]["sr"] == pytest.approx(6.0 * 1.1 * 0.9 * 0.9)
    ei = (0.5 * 89422 + 0.3 * 64561) / 0.8 / 204200 * 10 * 0.8
    assert cobalt["max"]["sr_stage"] == "P"
    assert cobalt["max"]["sr"] == pytest.approx(5.346)
    assert cobalt["max"]["ei"] == pytest.approx(ei)
    assert cobalt["max"]["critical"] is True
    assert cobalt["E"]["inputs_defaulted"] == []
    assert cobalt["P"]["inputs_defaulted"] == ["sourcing:none"]
    assert cobalt["max"]["wgi_year"] == 2021 and cobalt["max"]["perspective"] == "EU"

    tungsten = by_stage(out, "tungsten")["max"]
    hhi = 0.8**2 * 6.0 + 0.199**2 * 8.0 * 1.1 + 0.0005**2 * 5.0 + 0.001**2 * em.NEUTRAL_WGI
    assert tungsten["hhi_gs"] == pytest.approx(hhi)
    assert tungsten["sr"] == pytest.approx(hhi * (1 - 0.42))  # EoL-RIR of wmd_hs_map
    assert tungsten["ei"] == pytest.approx(10.0)
    assert tungsten["inputs_defaulted"] == [
        "sourcing:none",
        "eol_rir:wmd_hs_map",
        "si_sr",
        "si_ei",
        "wgi_missing:1",
    ]


def test_result_does_not_depend_on_row_order(store: Store, tmp_path: Path) -> None:
    first = em.eu_criticality(store.engine(), materials=["tungsten"]).to_pylist()
    folder = tmp_path / "reversed"
    shutil.copytree(FIXTURES, folder, ignore=shutil.ignore_patterns("*.py"))
    path = folder / "fact_GlobalSupplyShares&t.csv"
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join([lines[0], *reversed([x for x in lines[1:] if x])]) + b"\r\n")
    import_eu_crm(store, folder)
    second = em.eu_criticality(store.engine(), materials=["tungsten"]).to_pylist()
    assert [r["sr"] for r in first] == pytest.approx([r["sr"] for r in second])


def test_runs_without_an_import_on_the_bundled_eu_inputs() -> None:
    """No import: the bundled EU CRM 2023 tables give published global shares and EI
    (tests/test_reference_bundle.py checks the numbers); only the factsheet scalars and five
    WGI dimensions are defaulted."""
    with Store.open(None) as s:
        out = em.eu_criticality(s.engine(), materials=["cobalt"])
    row = by_stage(out, "cobalt")["max"]
    assert row["sr"] > 0 and row["ei"] is not None
    for flag in ("global_shares:production", "t", "end_uses"):
        assert flag not in row["inputs_defaulted"]
    assert "si_sr" in row["inputs_defaulted"] and "si_ei" in row["inputs_defaulted"]
    # only political stability is bundled: the governance input is flagged as partial
    assert "wgi:pv.estimate" in row["inputs_defaulted"]
    assert row["critical"] is True


def test_runs_without_eu_inputs_and_says_what_was_defaulted() -> None:
    """Without EU tables at all (empty relations): production shares, EI NULL, all flagged."""
    with Store.open(None) as s:
        engine = s.engine()
        rel = engine.relations()
        for name in ("eu_supply_shares", "eu_end_uses"):
            rel = rel.with_table(name, rel[name].filter(False))
        out = em.eu_criticality(engine, materials=["cobalt"], relations=rel)
    row = by_stage(out, "cobalt")["max"]
    assert row["sr"] > 0 and row["ei"] is None
    for flag in ("global_shares:production", "t", "sourcing:none", "end_uses"):
        assert flag in row["inputs_defaulted"]
    assert "wgi:pv.estimate" in row["inputs_defaulted"]
    assert row["critical"] in (None, False)


def test_unknown_material_and_perspective(store: Store) -> None:
    with pytest.raises(UnknownCodeError, match="unobtainium"):
        em.eu_criticality(store.engine(), materials=["unobtainium"])
    with pytest.raises(UnknownCodeError):
        em.eu_criticality(store.engine(), materials=["cobalt"], perspective="NATO")


def test_national_perspective_uses_norwegian_imports(store: Store) -> None:
    """Cobalt processing seen from Norway: Norway's 2022 import shares of the material's
    processing HS6 codes (e.g. 282200 cobalt oxides; bundled BACI) replace the EU sourcing
    shares; the expected HHI is summed here from the trade rows themselves."""
    codes = em.material_hs6(store.engine()).to_pylist()
    hs6 = [r["hs6"] for r in codes if r["material"] == "cobalt" and r["stage"] == "P"]
    assert "282200" in hs6
    flows = store.rows(
        "SELECT exporter, sum(value_kusd) AS v FROM trade WHERE importer = 'NOR' AND year = 2022 "
        "AND hs6 IN (SELECT unnest(?::VARCHAR[])) AND value_kusd > 0 GROUP BY exporter",
        [hs6],
    )
    assert flows, "bundled trade has Norwegian cobalt-oxide imports in 2022"
    total = sum(f["v"] for f in flows)
    t_global = {"CHN": 1.1}  # the fixture's published t for cobalt processing
    expected = sum(
        (f["v"] / total) ** 2
        * SCALED.get(f["exporter"], em.NEUTRAL_WGI)
        * t_global.get(f["exporter"], 1.0)
        for f in flows
    )
    out = em.eu_criticality(
        store.engine(), materials=["cobalt"], perspective="Norway", trade_years=(2022, 2022)
    )
    row = by_stage(out, "cobalt")["P"]
    assert row["perspective"] == "NOR"
    assert row["hhi_eu"] == pytest.approx(expected)
    assert row["hhi_gs"] == pytest.approx(6.6)
    assert "NOR imports 2022-2022" in row["source"]
    assert 0.0 <= row["ir"] <= 1.0 or "ir" in row["inputs_defaulted"]


def test_cli_prints_rows(store: Store) -> None:
    from verdikart.cli import cli

    path = str(store.path)
    store.close()
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["--store", path, "criticality", "-m", "Cobalt", "--summary", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["material"] for r in rows] == ["cobalt"]
    assert rows[0]["stage"] == "max" and rows[0]["critical"] is True
    assert rows[0]["sr"] == pytest.approx(5.346)
    table = runner.invoke(cli, ["--store", path, "criticality", "-m", "tungsten"])
    assert table.exit_code == 0 and "Defaults used" in table.output  # readable header
    csv_out = runner.invoke(cli, ["--store", path, "criticality", "--format", "csv"])
    assert csv_out.output.splitlines()[0].startswith("material,stage,sr,ei,critical")
    assert not math.isnan(rows[0]["ei"])
