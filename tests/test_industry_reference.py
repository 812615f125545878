"""Issue 13, step 1: the classification reference data and SSB's StatBank layouts.

* the bundled CN -> CPA 2.1 correspondences (both CN years), CPA/NACE labels, the
  process-industry definition, product groups and the one exchange-rate table;
* the SSB readers: the API's code-with-year-suffix layout, status symbols (a suppressed cell
  stays suppressed, never 0), size mismatch and bad codes as errors naming file and field, and
  a store made before the `status` column still reading and importing.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from verdikart.errors import SourceError
from verdikart.reference import industry as ref
from verdikart.sources import run_import
from verdikart.store import Store, bundled_path

FIX = Path(__file__).resolve().parent / "fixtures" / "industry"
CSV = FIX / "08801_2023.csv"
JSON = FIX / "08801_2023.json"


def _cn_cpa(where: str) -> list[tuple[object, ...]]:
    path = bundled_path("cn_cpa")
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}') WHERE {where} ORDER BY ALL").fetchall()


def test_cn_cpa_both_years_and_the_split_share() -> None:
    path = bundled_path("cn_cpa")
    counts = dict(
        duckdb.sql(f"SELECT cn_year, count(*) FROM read_parquet('{path}') GROUP BY 1").fetchall()
    )
    assert counts == {2021: 9465, 2022: 9698}  # the publisher's rows (PROVENANCE)
    multi = duckdb.sql(
        "SELECT count(*) FILTER (WHERE n > 1), count(*) FROM (SELECT hs6, count(DISTINCT cpa) n "
        f"FROM read_parquet('{path}') WHERE cn_year = 2022 GROUP BY hs6)"
    ).fetchall()
    assert multi == [(167, 5612)]  # 3.0 % of HS6 codes, as PROVENANCE measures
    # silicon and ferrosilicon: CPA -> NACE class = the first four digits
    assert [r[1:5] for r in _cn_cpa("cn_year = 2022 AND cn8 IN ('28046900', '72022100')")] == [
        ("28046900", "280469", "20.13.21", "20.13"),
        ("72022100", "720221", "24.10.12", "24.10"),
    ]


def test_labels_english_with_levels() -> None:
    path = bundled_path("classification_labels")
    rows = duckdb.sql(
        f"SELECT scheme, code, label_en FROM read_parquet('{path}') "
        "WHERE code IN ('24.10', '24.10.12') ORDER BY ALL"
    ).fetchall()
    assert rows == [
        ("CPA 2.1", "24.10", "Basic iron and steel and ferro-alloys"),
        ("CPA 2.1", "24.10.12", "Ferro-alloys"),
        ("NACE Rev. 2", "24.10", "Manufacture of basic iron and steel and of ferro-alloys"),
    ]


def test_process_industry_definition_and_product_groups() -> None:
    groups = ref.process_industry_groups().to_pylist()
    assert [g["nace_prefix"] for g in groups] == ["17.1", "19.2", "20", "23.5", "23.9", "24"]
    assert {g["group"] for g in groups} == set(ref.GROUPS)
    ferro = [
        r["hs_prefix"]
        for r in ref.product_groups().to_pylist()
        if r["product_group"] == "ferroalloys"
    ]
    assert ferro == ["280469", "720211", "720219", "720221", "720229", "720230"]
    chapters = ref.hs_chapter_groups().to_pylist()
    by = {r["chapter"]: r["chapter_group"] for r in chapters}
    assert len(by) == 99 and by["03"] == "03" and by["04"] == "00-05" and by["99"] == "93-99"


def test_rates_one_table_with_inverse() -> None:
    assert ref.rate(2023, "EUR", "NOK") == pytest.approx(11.421)
    assert ref.rate(2023, "NOK", "USD") == pytest.approx(1 / 10.565)
    assert ref.rate(2020, "EUR", "USD") == pytest.approx(1.140)  # the report's own row
    assert ref.rate(2018, "EUR", "NOK") is None
    from verdikart.indicators.company import usd_per_unit

    assert usd_per_unit("NOK", 2019) == pytest.approx(1 / 8.804)  # company assessment: same table


def test_csv_symbols_suppressed_stay_null_nil_is_zero(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text(
        "aargang;impeks;varenr;obland;vnr_m2;m1_sum;m2_sum;v_sum\n"
        "2023;E;81052000;US;;:;;:\n"
        "2023;E;28046900;DE;;..;;-\n",
        encoding="utf-8",
    )
    with Store.open(tmp_path / "s.duckdb", create=True) as store:
        report = run_import(store, "ssb", src)
        rows = store.rows(
            "SELECT cn8, value_nok, quantity_1_kg, status FROM ssb_trade ORDER BY cn8"
        )
    assert rows == [
        {"cn8": "28046900", "value_nok": 0.0, "quantity_1_kg": None, "status": ".."},
        {"cn8": "81052000", "value_nok": None, "quantity_1_kg": None, "status": ":"},
    ]
    assert "':' 1" in report.warnings[0]


def test_jsonstat_year_suffix_and_suppressed_cell(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb", create=True) as store:
        run_import(store, "ssb-jsonstat", JSON)
        rows = store.rows(
            "SELECT cn8, flow, partner, value_nok, status FROM ssb_trade ORDER BY cn8, flow, partner"
        )
    assert rows == [
        {
            "cn8": "28046900",
            "flow": "export",
            "partner": "DEU",
            "value_nok": 1000000.0,
            "status": None,
        },
        {
            "cn8": "28046900",
            "flow": "export",
            "partner": "USA",
            "value_nok": 250000.0,
            "status": None,
        },
        {
            "cn8": "28046900",
            "flow": "import",
            "partner": "USA",
            "value_nok": 30000.0,
            "status": None,
        },
        {
            "cn8": "81052000",
            "flow": "export",
            "partner": "DEU",
            "value_nok": 2000000.0,
            "status": None,
        },
        # suppressed: kept as a row, no figure, SSB's symbol
        {"cn8": "81052000", "flow": "export", "partner": "USA", "value_nok": None, "status": ":"},
    ]


def _edited(tmp_path: Path, change: object) -> Path:
    doc = json.loads(JSON.read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    out = tmp_path / "bad.json"
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["value"].pop(), "value", "the sizes say 24"),
        (lambda d: d["size"].__setitem__(2, 3), "Land", "2 categories but size 3"),
        (
            lambda d: d["dimension"]["Varekoder"]["category"].update(
                index={"2804690_2012": 0, "81052000_1988": 1}
            ),
            "dimension.Varekoder",
            "not an 8-digit number",
        ),
        (
            lambda d: d["dimension"]["ContentsCode"]["category"]["unit"].update(
                Verdi={"base": "mill. dollar"}
            ),
            "dimension.ContentsCode.category.unit.Verdi",
            "cannot convert",
        ),
        (lambda d: d.update(status={"99": ":"}), "status", "not a cell index"),
    ],
)
def test_jsonstat_errors_name_file_and_field(
    tmp_path: Path, change: object, field: str, words: str
) -> None:
    bad = _edited(tmp_path, change)
    with Store.open(tmp_path / "s.duckdb", create=True) as store:
        with pytest.raises(SourceError) as err:
            run_import(store, "ssb-jsonstat", bad)
        assert store.rows("SELECT count(*) AS n FROM ssb_trade") == [{"n": 0}]  # all or nothing
    assert err.value.field == field and str(bad) in str(err.value) and words in str(err.value)


def test_store_made_before_the_status_column(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE imported_ssb_trade (year SMALLINT, period VARCHAR, flow VARCHAR, "
        "cn8 VARCHAR, hs6 VARCHAR, partner VARCHAR, partner_iso2 VARCHAR, quantity_1_kg DOUBLE, "
        "quantity_2 DOUBLE, quantity_2_unit VARCHAR, value_nok DOUBLE, source VARCHAR)"
    )
    con.execute(
        "INSERT INTO imported_ssb_trade VALUES (2022, '2022', 'export', '28046900', '280469', "
        "'DEU', 'DE', 1, NULL, NULL, 5, 'old')"
    )
    con.close()
    with Store.open(path) as store:
        assert store.rows("SELECT value_nok, status FROM ssb_trade") == [
            {"value_nok": 5.0, "status": None}
        ]
        run_import(store, "ssb", CSV)
        assert store.rows("SELECT count(*) AS n FROM ssb_trade WHERE status = ':'") == [{"n": 1}]
