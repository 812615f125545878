"""Production indicators give the same rows on DuckDB and Spark.

Bundled data: producer shares, production HHI and own production (countries and groups with
accession years) for every material and year. With the real USGS MCS releases (../shared/data;
skipped when absent): the store's production (World Mining Data + two USGS editions: content
bases summed, units that do not convert, several sources per material/stage/year) handed to
Spark as a memtable, default priority and an explicit source.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.indicators import production as prod
from verdikart.reference.countries import resolve_country
from verdikart.sources import run_import
from verdikart.store import Store

pytestmark = pytest.mark.spark

SHARE_KEYS = ("material", "year", "stage", "country")
HHI_KEYS = ("material", "year", "stage")
OWN_KEYS = ("country", "material", "year", "stage")
COUNTRIES = ["NOR", "CHN", "USA", "EU27", "EU28", "NORDIC", "NATO", "G7"]


def _same(a: pa.Table, b: pa.Table, keys: tuple[str, ...]) -> None:
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    assert_same_rows(a, b, keys)
    assert a.select(list(keys)).to_pylist() == b.select(list(keys)).to_pylist()  # order


def test_producer_shares(duck_engine: Any, spark_engine: Any) -> None:
    duck = prod.producer_shares(duck_engine)
    assert duck.num_rows > 10_000
    _same(duck, prod.producer_shares(spark_engine), SHARE_KEYS)


def test_production_hhi(duck_engine: Any, spark_engine: Any) -> None:
    duck = prod.production_hhi(duck_engine)
    assert duck.num_rows > 400
    assert duck.column("top_country").null_count < duck.num_rows
    _same(duck, prod.production_hhi(spark_engine), HHI_KEYS)


def test_own_production(duck_engine: Any, spark_engine: Any) -> None:
    duck = prod.own_production(duck_engine, COUNTRIES)
    assert set(duck.column("country").to_pylist()) == set(COUNTRIES)
    _same(duck, prod.own_production(spark_engine, COUNTRIES), OWN_KEYS)


def test_validation_on_spark(duck_engine: Any, spark_engine: Any) -> None:
    assert prod.known_materials(spark_engine) == prod.known_materials(duck_engine)
    assert prod.known_years(spark_engine) == prod.known_years(duck_engine)
    assert prod.known_sources(spark_engine) == prod.known_sources(duck_engine)


@pytest.fixture
def usgs_store(tmp_path: Path, shared_data: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "usgs.duckdb", create=True)
    for edition in ("2024", "2023"):
        path = shared_data / "usgs_mcs" / edition
        if not path.is_dir():
            pytest.skip(f"USGS MCS {edition} release not present at {path}")
        run_import(store, "usgs", path)
    yield store
    store.close()


@pytest.mark.parametrize("source", [None, "USGS", "USGS MCS 2023"])
def test_store_production_several_sources(
    usgs_store: Store, spark_engine: Any, source: str | None
) -> None:
    duck_engine = usgs_store.engine()
    duck_rel = duck_engine.relations()
    production = duck_engine.to_arrow(duck_rel.production)
    spark_rel = spark_engine.relations().with_table("production", ibis.memtable(production))
    refs = [resolve_country(c) for c in COUNTRIES]
    cases = [
        (prod.producer_shares_expr(duck_rel, source=source),
         prod.producer_shares_expr(spark_rel, source=source), SHARE_KEYS),
        (prod.production_hhi_expr(duck_rel, source=source),
         prod.production_hhi_expr(spark_rel, source=source), HHI_KEYS),
        (prod.own_production_expr(duck_rel, refs, source=source),
         prod.own_production_expr(spark_rel, refs, source=source), OWN_KEYS),
    ]  # fmt: skip
    notes = 0
    for duck_expr, spark_expr, keys in cases:
        duck = duck_engine.to_arrow(duck_expr)
        notes += duck.num_rows - duck.column("note").null_count
        _same(duck, spark_engine.to_arrow(spark_expr), keys)
    if source is None:
        assert notes > 0  # content bases summed / units that do not convert occur
