"""Issue 13: exports by industry, corrections, activity indicators, CLI and report.

Expected values are computed by hand from the fixtures (tests/fixtures/industry, written by
make_industry_fixtures.py in SSB's layouts) and the bundled Eurostat correspondence:

exports 2023 (NOK): 28046900 silicon 1,000,000 -> CPA 20.13.21 -> C20; 72022100 FeSi 2,000,000
and 76011000 aluminium 4,000,000 -> C24; 73089099 3,000,000: HS 7308.90 has three CN8 codes,
one to CPA 24.33.30 (C24), two to 25.11.23 (C25), so 1,000,000 to C24 and 2,000,000 to other;
27101943 5,000,000 -> C19.2; 47032100 500,000 -> C17.1; 25232900 250,000 -> C23.5/C23.9;
03021400 10,000,000 -> other; 85171200 750,000 unknown in CN 2022; 99999999 6,000,000
confidential; 81052000 suppressed (':'). C24 = 2 + 4 + 1 = 7,000,000; process industry =
0.5 + 5 + 1 + 0.25 + 7 = 13,750,000; total = 32,500,000; share 13.75 / 32.5 = 0.4230769.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from verdikart.app import Verdikart
from verdikart.cli import cli
from verdikart.config import Settings
from verdikart.errors import DataValidationError, SourceError, UnknownCodeError
from verdikart.sources import run_import

FIX = Path(__file__).resolve().parent / "fixtures" / "industry"


@pytest.fixture
def app(tmp_path: Path) -> Verdikart:
    settings = Settings()
    settings = type(settings)(**{**settings.__dict__, "store_path": tmp_path / "s.duckdb"})
    core = Verdikart(settings)
    core.data_import("ssb", FIX / "08801_2023.csv")
    yield core
    core.close()


def _groups(app: Verdikart, **kw: object) -> dict[str, dict[str, object]]:
    result = app.industry_trade(year=2023, **kw)  # type: ignore[arg-type]
    return {r["group"]: r for r in result.groups.to_pylist()}


def test_exports_by_group_hand_computed(app: Verdikart) -> None:
    g = _groups(app)
    assert {k: g[k]["value_nok"] for k in g} == {
        "C17.1": 500_000.0,
        "C19.2": 5_000_000.0,
        "C20": 1_000_000.0,
        "C23.5/C23.9": 250_000.0,
        "C24": 7_000_000.0,
        "confidential": 6_000_000.0,
        "process_industry": 13_750_000.0,
        "other": 12_000_000.0,
        "unknown": 750_000.0,
        "total": 32_500_000.0,
    }
    assert g["process_industry"]["share"] == pytest.approx(13.75 / 32.5)
    assert g["confidential"]["share"] == pytest.approx(6 / 32.5)
    assert g["C24"]["suppressed_rows"] == 1  # 81052000, never 0
    # EUR at Norges Bank's 2023 average 11.421 NOK
    assert g["total"]["value_eur"] == pytest.approx(32_500_000 / 11.421)


def test_split_hs6_over_two_cpa_codes(app: Verdikart) -> None:
    split = app.industry_trade(year=2023).split.to_pylist()
    steel = [r for r in split if r["hs6"] == "730890"]
    assert [(r["cpa"], r["grp"], r["weight"], r["value_nok"]) for r in steel] == [
        ("24.33.30", "C24", pytest.approx(1 / 3), pytest.approx(1_000_000)),
        ("25.11.23", "other", pytest.approx(2 / 3), pytest.approx(2_000_000)),
    ]


def test_unknown_codes_reported_with_counts(app: Verdikart) -> None:
    result = app.industry_trade(year=2023)
    assert result.unknown.to_pylist() == [
        {"cn8": "85171200", "hs6": "851712", "rows": 1, "value_nok": 750_000.0}
    ]
    assert any("85171200 (1 rows)" in n for n in result.notes)


def test_hs_chapter_table_and_product_groups(app: Verdikart) -> None:
    result = app.industry_trade(year=2023)
    ch = {r["chapter_group"]: r for r in result.chapters.to_pylist()}
    assert ch["72-83"]["value_nok"] == 9_000_000  # 7202 + 7601 + 7308
    assert ch["72-83"]["process_industry_value_nok"] == pytest.approx(7_000_000)
    assert ch["72-83"]["process_industry_share"] == pytest.approx(7 / 9)
    assert ch["93-99"]["value_nok"] == 6_000_000  # the confidential code, chapter 99
    assert ch["total"]["process_industry_share"] == pytest.approx(13.75 / 32.5)
    products = {r["product_group"]: r for r in result.products.to_pylist()}
    assert products["ferroalloys"]["value_nok"] == 3_000_000  # silicon 2804.69 + FeSi 7202.21
    assert products["ferroalloys"]["nace_groups"] == "C20, C24"  # crosses NACE lines
    assert products["nickel_refining"]["value_nok"] is None  # only the suppressed cobalt row


def test_company_correction_beside_the_official_figure(app: Verdikart) -> None:
    app.industry_correct(
        year=2023,
        group="C20",
        value_nok=4_000_000,
        company="Yara Norge AS",
        confirmed_on="2024-05-02",
        reference="letter to the secretariat (test)",
        from_confidential=True,
    )
    official = _groups(app)
    assert official["C20"]["value_nok"] == 1_000_000  # the official figure is untouched
    assert "correction exists" in str(official["C20"]["basis"])
    used = _groups(app, corrections=True)
    assert used["C20"]["value_nok"] == 5_000_000
    assert used["C20"]["official_value_nok"] == 1_000_000
    assert used["confidential"]["value_nok"] == 2_000_000  # came off the pooled code
    assert used["process_industry"]["value_nok"] == 17_750_000
    assert used["total"]["value_nok"] == 32_500_000
    assert "Yara Norge AS (2024-05-02)" in str(used["C20"]["basis"])
    # a later confirmation supersedes, the earlier one stays in the audit trail
    app.industry_correct(
        year=2023,
        group="C20",
        value_nok=4_500_000,
        company="Yara Norge AS",
        confirmed_on="2024-06-01",
        reference="revised figure (test)",
        from_confidential=True,
    )
    assert _groups(app, corrections=True)["C20"]["value_nok"] == 5_500_000
    trail = app.industry_corrections(2023)
    assert [(r["value_nok"], r["applies"]) for r in trail] == [(4e6, False), (4.5e6, True)]


def test_correction_refused_with_every_problem(app: Verdikart) -> None:
    with pytest.raises(DataValidationError) as err:
        app.industry_correct(
            year=2023,
            group="C99",
            value_nok=-1,
            company=" ",
            confirmed_on="2024-13-01",
            reference="",
        )
    assert len(err.value.problems) == 5


def test_jsonstat_import_regrouped(tmp_path: Path) -> None:
    from verdikart.store import Store

    with Store.open(tmp_path / "j.duckdb", create=True) as store:
        run_import(store, "ssb-jsonstat", FIX / "08801_2023.json")
        from verdikart.indicators.industry import industry_trade

        g = {r["group"]: r for r in industry_trade(store.engine(), year=2023).groups.to_pylist()}
    # silicon DE 1,000,000 + US 250,000 -> C20; cobalt DE 2,000,000 -> C24 (24.45.30), US ':'
    assert g["C20"]["value_nok"] == 1_250_000
    assert g["C24"]["value_nok"] == 2_000_000 and g["C24"]["suppressed_rows"] == 1
    assert g["total"]["value_nok"] == 3_250_000


def test_cli_interface_exports_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERDIKART_STORE", str(tmp_path / "cli.duckdb"))
    runner = CliRunner()
    assert runner.invoke(cli, ["data", "import", "ssb", str(FIX / "08801_2023.csv")]).exit_code == 0
    result = runner.invoke(cli, ["industry", "exports", "--year", "2023", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["group"] for r in rows] == [
        "C17.1",
        "C19.2",
        "C20",
        "C23.5/C23.9",
        "C24",
        "confidential",
        "process_industry",
        "total",
    ]
    by = {r["group"]: r for r in rows}
    assert by["process_industry"]["value_nok"] == 13_750_000
    assert by["total"]["share"] == 1.0 and 0 <= by["C24"]["share"] <= 1
    assert by["total"]["unknown_codes"] == 1
    bad = runner.invoke(cli, ["industry", "exports", "--year", "2019"])
    # main() prints it as `error: ...` with exit 2 (VerdikartError)
    assert isinstance(bad.exception, UnknownCodeError) and bad.exception.exit_code == 2
    assert "no SSB exports for 2019" in str(bad.exception)


def test_activity_indicators(tmp_path: Path) -> None:
    from verdikart.indicators import activity as a
    from verdikart.store import Store

    with Store.open(tmp_path / "a.duckdb", create=True) as store:
        for name in ("11561_2023", "14091", "emissions", "employment"):
            run_import(store, "ssb-statbank", FIX / f"{name}.json")
        e = store.engine()
        sums = {r["product"]: r for r in a.energy(e, year=2023)["energy_intensive"]}
        # seed 000 l.802-806: 52,347 GWh in all, electricity 36,187 GWh
        assert sums["EP00"]["value_gwh"] == 52_347 and sums["EP06"]["value_gwh"] == 36_187
        assert sums["EP01"]["suppressed_cells"] == 2  # '.' for 12.1.3 and 12.1.9: not 0
        pulse = {r["period"]: r["rolling_12m_twh"] for r in a.power_pulse(e)}
        assert pulse["2022M11"] is None and pulse["2022M12"] == pytest.approx(36.0)
        assert pulse["2023M12"] == pytest.approx(34.8)  # 12 x 2,900 GWh
        em = {r["group"]: r for r in a.by_industry(e, table="emissions", year=2023)}
        assert em["C17.1"]["value"] == 210  # 17.1, not the broader C17
        assert em["C23.5/C23.9"]["value"] == 1110 and em["C23.5/C23.9"]["suppressed_cells"] == 1
        assert em["process_industry"]["value"] == 210 + 1010 + 2010 + 1110 + 5010
        jobs = {r["group"]: r for r in a.by_industry(e, table="employment", year=2022)}
        assert jobs["C24"]["value"] == 5000 and jobs["C24"]["unit"] == "persons"


def test_plant_emissions_2019_2020_with_installations() -> None:
    from verdikart.indicators.activity import plant_emissions
    from verdikart.store import Store

    with Store.open(None) as store:
        data = plant_emissions(store.engine(), years=[2019, 2020])
    totals = {(r["year"], r["group"]): r for r in data["totals"]}
    # refineries: Mongstad 1,706,281 + Slagentangen 347,759 t (EUTL, 2019)
    assert totals[(2019, "C19.2")]["verified_emissions_t_co2e"] == 2_054_040
    assert totals[(2019, "process_industry")]["verified_emissions_t_co2e"] == 11_017_710
    assert totals[(2020, "process_industry")]["verified_emissions_t_co2e"] == 10_845_625
    used = {r["installation_id"] for r in data["installations"]}
    assert {"NO_92", "NO_12", "NO_204078", "NO_110"} <= used and "NO_85" not in used  # no field


def test_statbank_unit_disagreement_names_file_and_field(tmp_path: Path) -> None:
    from verdikart.store import Store

    doc = json.loads((FIX / "11561_2023.json").read_text(encoding="utf-8"))
    doc["dimension"]["ContentsCode"]["category"]["unit"]["Energi"]["base"] = "1000 tonn"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with Store.open(tmp_path / "s.duckdb", create=True) as store:
        with pytest.raises(SourceError) as err:
            run_import(store, "ssb-statbank", bad)
    assert err.value.field == "dimension.ContentsCode.category.unit.Energi"
    assert str(bad) in str(err.value) and "does not agree with table 11561" in str(err.value)


def test_report_html_and_xlsx_both_languages(app: Verdikart, tmp_path: Path) -> None:
    html_path = app.industry_report(year=2023, lang="nb", out=tmp_path / "r.html")
    text = html_path.read_text(encoding="utf-8")
    assert "Status for prosessindustrien 2023" in text and "Kjente avvik i kildene" in text
    assert "13\u00a0750\u00a0000" in text  # the process industry, Norwegian number format
    xlsx = app.industry_report(year=2023, lang="en", out=tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["Exports by industry (NACE)"]
    assert ws["A4"].value == "Group" and ws["D5"].number_format == "0.00%"
    assert "Known inconsistencies in the so" in wb.sheetnames
