"""Parquet in, Parquet out: export a store table, import it elsewhere; bad files change nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import SourceError
from verdikart.sources import run_import
from verdikart.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store.duckdb", create=True)


def export(store: Store, query: str, path: Path) -> Path:
    store.con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
    return path


def state(store: Store) -> tuple[dict[str, int], int]:
    return store.row_counts(), len(store.imports())


def test_governance_round_trip_through_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out" / "governance.parquet"
    first = ["--store", str(tmp_path / "a.duckdb")]
    second = ["--store", str(tmp_path / "b.duckdb")]
    result = runner.invoke(cli, [*first, "data", "export", "governance", str(out)])
    assert result.exit_code == 0 and "wrote 37,907 rows of governance" in result.output
    # the table comes from the file name
    result = runner.invoke(cli, [*second, "data", "import", "parquet", str(out)])
    assert result.exit_code == 0, result.output
    assert "imported 37,907 rows into governance" in result.output
    assert "years 1996-2024" in result.output
    with Store.open(tmp_path / "b.duckdb") as b:
        status = {row["table"]: row for row in b.status()}
        assert status["governance"]["origin"] == "imported"
        assert status["governance"]["rows"] == 37_907
        # the imported rows replaced the bundled ones, value for value
        bundled = b.rows(
            "SELECT count(*) AS n FROM (SELECT * FROM governance EXCEPT ALL "
            f"SELECT * FROM read_parquet('{out}'))"
        )
        assert bundled == [{"n": 0}]


def test_trade_slice_supersedes_its_year_only(tmp_path: Path, store: Store) -> None:
    slice_2022 = export(
        store,
        "SELECT * FROM trade WHERE year = 2022 AND hs6 IN ('260400', '810520')",
        tmp_path / "nickel_cobalt_2022.parquet",
    )
    before_2021 = store.rows("SELECT count(*) AS n FROM trade WHERE year = 2021")
    report = run_import(store, "parquet", slice_2022, table="trade")
    n_slice = store.rows(f"SELECT count(*) AS n FROM read_parquet('{slice_2022}')")[0]["n"]
    assert report.rows == n_slice > 0 and report.years == [2022]
    # coverage key (year, HS revision): the 2022 HS92 rows are now the slice, nothing else
    assert store.rows("SELECT count(*) AS n FROM trade WHERE year = 2022") == [{"n": n_slice}]
    assert store.rows("SELECT count(*) AS n FROM trade WHERE year = 2021") == before_2021
    # Norway's 2022 nickel-ore imports from Canada survive the trip unchanged
    assert store.rows(
        "SELECT round(value_kusd, 3) AS v FROM trade WHERE year = 2022 AND importer = 'NOR' "
        "AND exporter = 'CAN' AND hs6 = '260400'"
    ) == [{"v": 733.331}]


BAD = {
    "missing column": ("SELECT * EXCLUDE (quantity_t) FROM good", "missing column(s) quantity_t"),
    "extra column": ("SELECT *, 1 AS note FROM good", "unexpected column(s) note"),
    "not a number": (
        "SELECT * REPLACE (CASE WHEN r = 3 THEN 'n/a' ELSE CAST(value_kusd AS VARCHAR) END "
        "AS value_kusd) FROM good",
        "column 'value_kusd' is not DOUBLE: 1 row(s) (first at row 3)",
    ),
    "negative value": (
        "SELECT * REPLACE (CASE WHEN r = 2 THEN -1.0 ELSE quantity_t END AS quantity_t) FROM good",
        "column 'quantity_t' is negative: 1 row(s) (first at row 2)",
    ),
    "hs6 not six digits": (
        "SELECT * REPLACE (CASE WHEN r = 4 THEN '7601' ELSE hs6 END AS hs6) FROM good",
        "column 'hs6' is not six digits: 1 row(s) (first at row 4)",
    ),
    "empty source": (
        "SELECT * REPLACE (CASE WHEN r >= 2 THEN NULL ELSE source END AS source) FROM good",
        "column 'source' is empty: 4 row(s) (first at row 2, 3, 4, 5)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_names_the_problem_and_changes_nothing(
    tmp_path: Path, store: Store, case: str
) -> None:
    query, words = BAD[case]
    con = duckdb.connect()
    good = store.arrow(
        "SELECT * FROM trade WHERE year = 2022 AND importer = 'NOR' ORDER BY exporter, hs6 LIMIT 5"
    )
    con.register("good_arrow", good)
    con.execute("CREATE TABLE good AS SELECT *, row_number() OVER () AS r FROM good_arrow")
    bad = tmp_path / "trade.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (r) FROM ({query})) TO '{bad}' (FORMAT parquet)")
    before = state(store)
    with pytest.raises(SourceError) as info:
        run_import(store, "parquet", bad)
    message = str(info.value)
    assert message.startswith(str(bad)) and words in message, message
    assert state(store) == before


def test_unknown_table_and_exit_code(tmp_path: Path) -> None:
    path = tmp_path / "mystery.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS a) TO '{path}' (FORMAT parquet)")
    result = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "s.duckdb"), "data", "import", "parquet", str(path)]
    )
    assert result.exit_code != 0  # (the installed `verdikart` maps it to exit code 2)
    assert "the file name 'mystery.parquet' names no store table; pass --table" in str(
        result.exception
    )
    with pytest.raises(SourceError, match="--table 'baci_trade' is no store table"):
        run_import(
            Store.open(tmp_path / "t.duckdb", create=True), "parquet", path, table="baci_trade"
        )


BACI_FIXTURE = (
    Path(__file__).resolve().parent / "fixtures" / "baci" / "BACI_HS17_Y2022_V202401b.csv"
)
COMTRADE_FIXTURE = next((Path(__file__).resolve().parent / "fixtures" / "comtrade").glob("*.csv"))
HS17_2022 = "SELECT source, count(*) AS n FROM trade WHERE year = 2022 AND hs_revision = 'HS17' "


def test_trade_round_trip_of_imported_baci_replaces_it(tmp_path: Path, store: Store) -> None:
    """BACI then its own export back: the same 10 flows, not 20; and the other way round."""
    run_import(store, "baci", BACI_FIXTURE)
    out = export(store, HS17_2022.replace("source, count(*) AS n", "*"), tmp_path / "t.parquet")
    run_import(store, "parquet", out, table="trade")
    assert store.rows(HS17_2022 + "GROUP BY ALL") == [
        {"source": "CEPII BACI HS17 V202401b", "n": 10}
    ]
    run_import(store, "baci", BACI_FIXTURE)  # BACI again after the Parquet rows
    assert store.rows(HS17_2022 + "GROUP BY ALL") == [
        {"source": "CEPII BACI HS17 V202401b", "n": 10}
    ]


def test_trade_parquet_of_baci_keeps_another_dataset(tmp_path: Path, store: Store) -> None:
    """UN Comtrade rows of the same year and revision are another dataset: they stay."""
    other = Store.open(tmp_path / "other.duckdb", create=True)
    run_import(other, "baci", BACI_FIXTURE)
    out = export(other, HS17_2022.replace("source, count(*) AS n", "*"), tmp_path / "b.parquet")
    report = run_import(store, "comtrade", COMTRADE_FIXTURE)
    comtrade = store.rows(HS17_2022 + "GROUP BY ALL")
    assert [r["source"] for r in comtrade] == [report.source]
    run_import(store, "parquet", out, table="trade")
    assert store.rows(HS17_2022 + "GROUP BY ALL ORDER BY source") == [
        {"source": "CEPII BACI HS17 V202401b", "n": 10},
        *comtrade,
    ]
