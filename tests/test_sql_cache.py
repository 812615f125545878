"""The compiled-SQL cache: stable keys, reuse across processes (on disk), no leaked tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

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
    # other rows make the same SQL: the SQL names the in-memory table, its rows are registered
    assert fingerprint(build(2022, ["260400", "260300"]).op())[0] == first
    # the in-memory table is named by its place in the graph, not by Ibis's random name
    assert list(tables) == ["vk_mt_0"]


def test_another_country_reuses_the_sql_with_its_own_rows(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "verdikart.duckdb")
    _, norway = _shares(store)
    _, sweden = _shares(store, "SWE")
    assert len(list((tmp_path / "cache" / "sql").glob("*/*.sql"))) == 1  # compiled once
    assert set(norway.column("reporter").to_pylist()) == {"NOR"}
    assert set(sweden.column("reporter").to_pylist()) == {"SWE"}
    # Sweden's shares are those of a store that never ran Norway's (its own cache, in memory)
    _, alone = _shares(Store.open(None), "SWE")
    assert sweden.equals(alone)


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


# -- prepared queries: a builder's SQL, in-memory tables and result schema, by its inputs --
def _counting(calls: list[int]) -> object:
    """supplier_shares_expr, counting its calls."""

    def counted_shares_expr(rel: object, *args: object, **kwargs: object) -> ibis.Table:
        calls.append(1)
        return tr.supplier_shares_expr(rel, *args, **kwargs)

    return counted_shares_expr


def _run(store: Store, builder: object, year: int = 2022) -> pa.Table:
    return store.engine().query(
        builder,
        tr.country_reporters(["NOR"]),
        tr.hs6_products(["260800", "810520"]),
        [year],
        basis="value",
    )


def _first_run(tmp_path: Path) -> tuple[Path, list[int], object, pa.Table]:
    """A store file whose engine ran the counting builder once: (file, calls, builder,
    result); the store is closed again, as at the end of a command."""
    store_file = tmp_path / "verdikart.duckdb"
    calls: list[int] = []
    builder = _counting(calls)
    first = Store.open(store_file)
    expected = _run(first, builder)
    first.close()
    return store_file, calls, builder, expected


def test_a_prepared_query_runs_in_a_new_store_without_building_its_expression(
    tmp_path: Path,
) -> None:
    store_file, calls, builder, expected = _first_run(tmp_path)
    assert calls == [1] and expected.num_rows > 0
    assert len(list((tmp_path / "cache" / "sql").glob("*/*.prepared"))) == 1

    second = Store.open(store_file)  # a new process would open a new store
    again = _run(second, builder)
    assert calls == [1], "the expression was built again"
    assert second.engine()._relations is None and second.engine()._backend is None
    assert again.equals(expected) and again.schema == expected.schema
    # other inputs are another query
    _run(second, builder, year=2021)
    assert calls == [1, 1]


def test_a_prepared_query_gives_what_building_gives() -> None:
    """The raw result is typed as Ibis types it: the same schema (int16, NULL-typed columns,
    lists) and rows as the built expression."""

    def typed_expr(rel: object) -> ibis.Table:
        p = rel.production  # type: ignore[attr-defined]
        p = p.filter(p.material == "cobalt")
        return (
            p.group_by("year")
            .agg(n=p.count(), countries=p.country.collect(distinct=True).sort())
            .mutate(year=ibis._.year.cast("int16"), nothing=ibis.null())
            .order_by("year")
        )

    store = Store.open(None)
    engine = store.engine()
    built = engine.to_arrow(typed_expr(engine.relations()))
    first = engine.query(typed_expr)
    prepared = engine.query(typed_expr)  # from memory
    assert built.num_rows > 0 and built.schema.field("nothing").type == pa.null()
    assert built.schema.field("year").type == pa.int16()
    assert first.equals(built) and prepared.equals(built)


def test_an_input_with_no_stable_digest_builds_every_time() -> None:
    calls: list[int] = []

    def with_object_expr(rel: object, marker: object) -> ibis.Table:
        calls.append(1)
        return rel.analysis_years  # type: ignore[attr-defined]

    store = Store.open(None)
    for _ in range(2):
        store.engine().query(with_object_expr, object())
    assert calls == [1, 1]


def test_a_damaged_prepared_file_is_built_again(tmp_path: Path) -> None:
    store_file, calls, builder, expected = _first_run(tmp_path)
    (kept,) = (tmp_path / "cache" / "sql").glob("*/*.prepared")
    kept.write_bytes(kept.read_bytes()[:40])
    second = Store.open(store_file)
    assert _run(second, builder).equals(expected)
    assert calls == [1, 1]


def test_a_change_to_the_user_groups_changes_the_key(tmp_path: Path, monkeypatch: Any) -> None:
    """A builder may read user-defined groups (a group's members): their file is in the key."""
    from verdikart.sql_cache import inputs_key

    monkeypatch.setenv("VERDIKART_DATA_DIR", str(tmp_path))
    before, _ = inputs_key(tr.supplier_shares_expr, ([2022],), {})
    (tmp_path / "groups.json").write_text('{"NORDIC": {"members": ["NOR", "SWE"]}}', "utf-8")
    after, _ = inputs_key(tr.supplier_shares_expr, ([2022],), {})
    assert before != after
    assert inputs_key(tr.supplier_shares_expr, ([2022],), {})[0] == after
    assert inputs_key(tr.trade_indicators_expr, ([2022],), {})[0] != after


def test_a_warm_command_does_not_import_ibis(tmp_path: Path) -> None:
    """The second run of a command finds every query prepared: it builds no expression and
    does not import Ibis (0.4 s of start-up)."""
    import json

    from program import probed, run_program

    args = ["geopolrisk", "--country", "NOR", "--material", "cobalt", "--year", "2022"]
    runs = [
        run_program([*args, "--format", "json"], "'ibis' in sys.modules", tmp_path)
        for _ in range(2)
    ]
    assert probed(runs[0]) == "True", runs[0].stderr
    assert probed(runs[1]) == "False", runs[1].stderr
    # the same score (DuckDB's parallel sums may differ in the last bit from run to run)
    first, again = (json.loads(r.stdout)[0] for r in runs)
    assert again["score"] == pytest.approx(0.17027503137526864, rel=1e-12)
    assert again.keys() == first.keys() and again["score"] == pytest.approx(first["score"])


# -- data parameters: a builder's tables whose rows are registered, not keyed ---------------
def _declared_cases() -> list[tuple[Any, str, tuple[Any, ...], tuple[Any, ...], dict[str, Any]]]:
    """(builder, data parameter, arguments with Norway, with another reporter, keywords)."""
    from verdikart.indicators import geopolrisk as gpr
    from verdikart.indicators import position as pos
    from verdikart.reference.countries import resolve_country

    products = tr.hs6_products(["260500", "810520"])
    nor, swe = tr.country_reporters(["NOR"]), tr.country_reporters(["SWE", "FIN"])
    markets = pa.table(
        {
            "market": ["NORDIC", "NORDIC"],
            "iso3": ["SWE", "DNK"],
            "year_from": pa.array([None, None], pa.int32()),
            "year_to": pa.array([None, None], pa.int32()),
        }
    )
    norway = gpr.entities_of([resolve_country("NOR")])
    eu = gpr.entities_of([resolve_country("EU27"), resolve_country("SWE")])
    return [
        (
            tr.trade_indicators_expr,
            "reporters",
            (nor, products, [2022]),
            (swe, products, [2022]),
            {},
        ),
        (
            tr.supplier_shares_expr,
            "reporters",
            (nor, products, [2022]),
            (swe, products, [2022]),
            {},
        ),
        (
            pos.position_expr,
            "focal",
            (nor, markets, products, [2022]),
            (swe, markets, products, [2022]),
            {},
        ),
        (
            pos.world_share_series_expr,
            "focal",
            (nor, products, [2021, 2022]),
            (swe, products, [2021, 2022]),
            {},
        ),
        (
            gpr.geopolrisk_entities_expr,
            "entities",
            (norway, ["cobalt"], [2022]),
            (eu, ["cobalt"], [2022]),
            {},
        ),
    ]


@pytest.mark.parametrize("case", range(5))
def test_a_declared_data_parameter_only_feeds_an_in_memory_table(case: int) -> None:
    """The contract of `data_parameters`, checked for every declared builder: other rows of
    the same schema build the same query (same fingerprint), holding the rows as they are."""
    from verdikart.sql_cache import DATA_PARAMETERS, memtable_arrow

    builder, param, first_args, other_args, kwargs = _declared_cases()[case]
    assert getattr(builder, DATA_PARAMETERS) == frozenset({param})
    rel = Store.open(None).engine().relations()
    first, first_tables, _ = fingerprint(builder(rel, *first_args, **kwargs).op())
    other, other_tables, _ = fingerprint(builder(rel, *other_args, **kwargs).op())
    assert first == other
    for args, tables in ((first_args, first_tables), (other_args, other_tables)):
        rows = args[0]
        assert any(memtable_arrow(t).equals(rows) for t in tables.values())


def test_another_country_runs_the_prepared_query_without_building(tmp_path: Path) -> None:
    import functools

    from verdikart.sql_cache import data_parameters

    calls: list[int] = []

    @data_parameters("reporters")
    @functools.wraps(tr.supplier_shares_expr)
    def counted(*args: Any, **kwargs: Any) -> ibis.Table:
        calls.append(1)
        return tr.supplier_shares_expr(*args, **kwargs)

    def shares(store: Store, iso3: list[str]) -> pa.Table:
        products = tr.hs6_products(["260800", "810520"])
        return store.engine().query(counted, tr.country_reporters(iso3), products, [2022])

    store_file = tmp_path / "verdikart.duckdb"
    norway = shares(Store.open(store_file), ["NOR"])
    second = Store.open(store_file)  # a new process
    sweden = shares(second, ["SWE", "FIN"])
    assert calls == [1], "the expression was built again"
    assert second.engine()._backend is None
    assert set(norway.column("reporter").to_pylist()) == {"NOR"}
    assert set(sweden.column("reporter").to_pylist()) == {"SWE", "FIN"}
    built = (
        Store.open(None)
        .engine()
        .to_arrow(
            tr.supplier_shares_expr(
                second.engine().relations(),
                tr.country_reporters(["SWE", "FIN"]),
                tr.hs6_products(["260800", "810520"]),
                [2022],
            )
        )
    )
    assert sweden.equals(built)
    # no rows: keyed by its rows (a builder may treat an empty table apart)
    assert shares(second, []).num_rows == 0 and calls == [1, 1]


def test_a_declared_table_whose_rows_shape_the_query_is_keyed_by_its_rows() -> None:
    """A builder that breaks the contract (reads the rows, holds no table of them) is caught
    when its query is kept: it is kept by its rows, so other rows give their own answer."""
    from verdikart.sql_cache import data_parameters

    @data_parameters("reporters")
    def reads_its_rows_expr(rel: Any, reporters: pa.Table) -> ibis.Table:
        wanted = reporters.column("iso3").to_pylist()
        c = rel.baci_countries
        return c.filter(c.iso3.isin(wanted)).select("iso3").order_by("iso3")

    engine = Store.open(None).engine()
    first = engine.query(reads_its_rows_expr, tr.country_reporters(["NOR"]))
    other = engine.query(reads_its_rows_expr, tr.country_reporters(["SWE"]))
    assert first.column("iso3").to_pylist() == ["NOR"]
    assert other.column("iso3").to_pylist() == ["SWE"]
