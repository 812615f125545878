"""The compiled-SQL cache: stable keys, reuse across processes (on disk), no leaked tables."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa

from verdikart.indicators import trade as tr
from verdikart.sql_cache import SqlCache, fingerprint
from verdikart.store import Store


def _shares(store: Store, reporter: str = "NOR") -> tuple[object, pa.Table]:
    engine = store.engine()
    expr = tr.supplier_shares_expr(
        engine.relations(),
        tr.country_reporters([reporter]),
        tr.hs6_products(["260800"]),
        [2022],
        basis="value",
    )
    return expr, engine.to_arrow(expr)


def test_equal_expressions_share_a_fingerprint_and_different_ones_do_not() -> None:
    def build(year: int, codes: list[str]) -> ibis.Table:
        t = ibis.memtable(pa.table({"hs6": codes}))
        return t.filter(t.hs6 != "x").mutate(year=ibis.literal(year))

    first, tables, _ = fingerprint(build(2022, ["260500"]).op())
    again, _, _ = fingerprint(build(2022, ["260500"]).op())  # new memtable, same content
    assert first == again
    assert fingerprint(build(2021, ["260500"]).op())[0] != first  # another literal
    assert fingerprint(build(2022, ["260400"]).op())[0] != first  # other rows
    # the in-memory table is named by its content, not by Ibis's random name
    assert list(tables) == [name for name in tables if name.startswith("vk_mt_")]


def test_a_cached_query_runs_in_a_new_store_without_compiling(tmp_path: Path) -> None:
    store_file = tmp_path / "verdikart.duckdb"
    first = Store.open(store_file)
    expr, expected = _shares(first)
    cached = list((tmp_path / "cache" / "sql").glob("*/*.sql"))
    assert len(cached) == 1
    first.close()

    # a new process would open a new store: the SQL comes from the file, Ibis's compiler
    # (the backend) is never made
    second = Store.open(store_file)
    _, again = _shares(second)
    assert second.engine()._backend is None
    assert again.equals(expected)
    assert expected.num_rows > 0


def test_query_tables_are_released_after_each_query() -> None:
    store = Store.open(None)
    _shares(store)
    _shares(store, "SWE")
    names = [row[0] for row in store.con.execute("SHOW TABLES").fetchall()]
    assert not [name for name in names if name.startswith(("vk_mt_", "ibis_"))]


def test_a_cache_folder_that_cannot_be_written_only_costs_a_compile(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    cache = SqlCache("duckdb", blocked / "sql")
    t = ibis.memtable(pa.table({"a": [1, 2]}))
    query = cache.compiled(t.filter(t.a > 1), lambda e: str(ibis.to_sql(e, dialect="duckdb")))
    assert "SELECT" in query.sql
    assert list(query.memtables)[0] in query.sql


def test_two_in_memory_tables_of_equal_rows_in_one_query() -> None:
    store = Store.open(None)
    rows = pa.table({"a": [1, 2]})
    both = ibis.memtable(rows).union(ibis.memtable(rows), distinct=False)
    assert store.engine().to_arrow(both).num_rows == 4


def test_an_equality_written_either_way_round_is_one_entry() -> None:
    t = ibis.memtable(pa.table({"a": [1, 2], "b": [2, 1]}))
    left, _, _ = fingerprint(t.filter(t.a == t.b).op())
    right, _, _ = fingerprint(t.filter(t.b == t.a).op())
    assert left == right
    assert fingerprint(t.filter(t.a > t.b).op())[0] != fingerprint(t.filter(t.b > t.a).op())[0]
