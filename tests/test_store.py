"""The analytic store: bundled views, atomic imports, supersession, status."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from verdikart.store import (
    Store,
    _coverage_values_sql,
    bundled_coverage,
    bundled_path,
    coverage_metadata,
)


def _gov_loader(rows: list[tuple[int, str, str, float]], *, fail: bool = False):  # type: ignore[no-untyped-def]
    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        for year, country, indicator, value in rows:
            con.execute(
                f'INSERT INTO temp."{staging}" VALUES (?, ?, ?, ?, ?)',
                [year, country, indicator, value, "test WGI"],
            )
        if fail:
            raise ValueError("bad input")
        return len(rows)

    return load


def test_bundled_counts_without_a_store_file(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "absent.duckdb")
    counts = store.row_counts()
    assert counts["trade"] == 1_264_888
    assert counts["baci_countries"] == 238
    assert not (tmp_path / "absent.duckdb").exists()  # reading never creates the file


def test_import_creates_file_and_supersedes_bundled(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    bundled = store.rows(
        "SELECT count(*) AS n FROM governance WHERE indicator = 'pv.estimate' AND year = 2022"
    )[0]["n"]
    total = store.row_counts()["governance"]
    store.import_rows(
        "governance",
        _gov_loader([(2022, "NOR", "pv.estimate", 0.9)]),
        source="test WGI",
    )
    assert (tmp_path / "s.duckdb").exists()
    assert store.row_counts()["governance"] == total - bundled + 1
    assert store.rows(
        "SELECT value FROM governance WHERE indicator = 'pv.estimate' AND year = 2022"
    ) == [{"value": 0.9}]


def test_failed_import_leaves_everything_as_it_was(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb", create=True)
    store.import_rows("governance", _gov_loader([(2021, "NOR", "va.estimate", 1.7)]), source="x")
    before = (store.row_counts(), store.imports())
    with pytest.raises(ValueError):
        store.import_rows(
            "governance", _gov_loader([(2021, "SWE", "va.estimate", 1.5)], fail=True), source="x"
        )
    assert (store.row_counts(), store.imports()) == before
    # the connection is still usable, and no staging object is left behind
    assert store.rows("SELECT count(*) AS n FROM duckdb_tables() WHERE temporary") == [{"n": 0}]


def test_import_tables_is_one_transaction(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb", create=True)
    before = store.row_counts()

    def bad_production(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        raise RuntimeError("second table fails")

    with pytest.raises(RuntimeError):
        store.import_tables(
            {
                "governance": _gov_loader([(2020, "NOR", "rl.estimate", 1.9)]),
                "production": bad_production,
            },
            source="x",
        )
    assert store.row_counts() == before


def test_loader_may_stage_through_a_temp_view(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb", create=True)

    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        con.execute(f'DROP TABLE temp."{staging}"')
        con.execute(
            f'CREATE TEMP VIEW "{staging}" AS SELECT CAST(y AS SMALLINT) AS year, '
            "'NOR' AS country, 'ge.estimate' AS indicator, 1.0 * y AS value, 'v' AS source "
            "FROM range(2000, 2003) t(y)"
        )
        return 3

    assert store.import_rows("governance", load, source="v") == 3
    assert store.import_rows("governance", load, source="v") == 3  # idempotent
    assert store.rows("SELECT count(*) AS n FROM governance WHERE source = 'v'") == [{"n": 3}]


def test_same_source_only_keeps_other_sources(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb", create=True)

    def loader(source: str):  # type: ignore[no-untyped-def]
        def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
            con.execute(
                f'INSERT INTO temp."{staging}" VALUES (2022, ?, ?, 2.0, ?)',
                ["NOR", "cc.estimate", source],
            )
            return 1

        return load

    store.import_rows("governance", loader("a"), source="a")
    store.import_rows("governance", loader("b"), source="b", same_source_only=True)
    sources = store.rows(
        "SELECT source FROM governance WHERE indicator = 'cc.estimate' AND year = 2022 ORDER BY 1"
    )
    assert sources == [{"source": "a"}, {"source": "b"}]


def test_status_has_origin_and_provenance(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb", create=True)
    store.import_rows(
        "governance",
        _gov_loader([(2019, "NOR", "va.estimate", 1.8)]),
        source="test WGI",
        path="/x.csv",
    )
    rows = {(r["table"], r["source"]): r for r in store.status()}
    imported = rows[("governance", "test WGI")]
    assert imported["origin"] == "imported" and imported["provenance"].startswith(
        "/x.csv (imported "
    )
    assert (imported["rows"], imported["year_min"], imported["countries"]) == (1, 2019, 1)
    trade = next(r for (t, _), r in rows.items() if t == "trade")
    assert trade["origin"] == "bundled" and trade["provenance"] == "bundled/trade.parquet"


def test_bundled_trade_lists_its_coverage_in_its_footer(tmp_path: Path) -> None:
    """The footer list (scripts/build_bundled_data.py) is exactly what the file holds, and the
    view `trade_coverage` made from it is what `trade` holds."""
    store = Store.open(tmp_path / "absent.duckdb")
    listed = bundled_coverage(store.con, bundled_path("trade"))
    assert listed is not None and len(listed) == 30  # BACI HS92 1995-2024
    path = str(bundled_path("trade")).replace("'", "''")
    scanned = store.rows(
        f"SELECT DISTINCT year, hs_revision, source FROM read_parquet('{path}') ORDER BY ALL"
    )
    assert listed == [(r["year"], r["hs_revision"], r["source"]) for r in scanned]
    view = store.rows("SELECT * FROM trade_coverage ORDER BY ALL")
    assert view == scanned
    # read once per store: a reader (one per web request) takes the store's list
    reader = store.reader()
    assert reader._listed_coverage is store._listed_coverage and store._listed_coverage == listed
    assert reader.rows("SELECT * FROM trade_coverage ORDER BY ALL") == scanned
    assert (
        "read_parquet"
        not in store.rows("SELECT sql FROM duckdb_views() WHERE view_name = 'trade_coverage'")[0][
            "sql"
        ]
    )


def test_a_trade_file_without_a_footer_list(tmp_path: Path) -> None:
    con = duckdb.connect()
    rows = pa.table(
        {
            "year": pa.array([2021, 2022, 2022], pa.int16()),
            "hs_revision": ["HS92"] * 3,
            "source": ["BACI", "BACI", "O'Brien's data"],
        }
    )
    plain = tmp_path / "plain.parquet"
    pq.write_table(rows, plain)
    assert bundled_coverage(con, plain) is None
    listed = tmp_path / "listed.parquet"
    triples = [(2022, "HS92", "O'Brien's data"), (2021, "HS92", "BACI"), (2022, "HS92", "BACI")]
    pq.write_table(rows.replace_schema_metadata(coverage_metadata(triples)), listed)
    assert bundled_coverage(con, listed) == sorted(triples)
    # the inline relation keeps quotes and types; an empty list is a typed empty relation
    inline = con.sql(f"SELECT * FROM {_coverage_values_sql(sorted(triples))} ORDER BY ALL")
    assert inline.fetchall() == sorted(triples)
    assert [str(t) for t in inline.types] == ["SMALLINT", "VARCHAR", "VARCHAR"]
    assert con.sql(f"SELECT * FROM {_coverage_values_sql([])}").fetchall() == []
