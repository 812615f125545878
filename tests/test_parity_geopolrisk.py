"""GeoPolRisk gives the same rows on DuckDB and Spark.

Bundled data: every country with data and every group × every assessable material × every year
(about 47,000 rows); named countries and groups (EU27 and the other groups with accession
years, whose intra-group imports score 0); an explicit production source; the known answer
NOR, cobalt, 2022 on Spark. With the real USGS MCS releases (../shared/data; skipped when
absent): the store's production (World Mining Data + two USGS editions: content bases summed,
several sources per material and year) handed to Spark as a memtable, default and USGS source.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.indicators import geopolrisk as gpr
from verdikart.reference.countries import resolve_country
from verdikart.sources import run_import
from verdikart.store import Store

pytestmark = pytest.mark.spark

KEYS = ("country", "kind", "material", "year")
NOR_COBALT_2022 = 0.17027503137526864  # geopolrisk-py 2.0.1 on the same data
GROUPS = ["EU27", "EU28", "EEA", "NATO", "NORDIC", "G7", "MSP", "EU"]


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.column_names == list(gpr.COLUMNS)
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    assert_same_rows(a, b, KEYS)
    assert a.select(list(KEYS)).to_pylist() == b.select(list(KEYS)).to_pylist()  # order


def test_all_countries_materials_years(duck_engine: Any, spark_engine: Any) -> None:
    duck = gpr.geopolrisk(duck_engine, None, None, None)
    assert duck.num_rows > 45_000
    assert duck.column("score").null_count < duck.num_rows
    assert duck.column("missing_reason").null_count < duck.num_rows
    _same(duck, gpr.geopolrisk(spark_engine, None, None, None))


def test_known_answer_on_spark(spark_engine: Any) -> None:
    row = gpr.geopolrisk(spark_engine, ["NOR"], ["cobalt"], [2022]).to_pylist()[0]
    assert (row["country"], row["kind"], row["material"], row["year"]) == (
        "NOR",
        "country",
        "cobalt",
        2022,
    )
    assert row["score"] == pytest.approx(NOR_COBALT_2022, rel=1e-9)


def test_groups_and_countries(duck_engine: Any, spark_engine: Any) -> None:
    countries = [*GROUPS, "NOR", "DEU", "JPN", "USA", "CHN", "FIN"]
    duck = gpr.geopolrisk(duck_engine, countries, None, None)
    kinds = set(duck.column("kind").to_pylist())
    assert kinds == {"country", "group"}
    eu27 = [r for r in duck.to_pylist() if r["country"] == "EU27" and r["score"] is not None]
    assert eu27
    _same(duck, gpr.geopolrisk(spark_engine, countries, None, None))


def test_explicit_source(duck_engine: Any, spark_engine: Any) -> None:
    args = (["NOR", "EU27"], ["cobalt", "lithium", "natural-gas", "gold"], None)
    duck = gpr.geopolrisk(duck_engine, *args, source="world mining")
    _same(duck, gpr.geopolrisk(spark_engine, *args, source="world mining"))


def test_expression_composes(duck_engine: Any, spark_engine: Any) -> None:
    """geopolrisk_expr over the relations directly, every group (countries=None)."""
    refs = [resolve_country(c) for c in ("NOR", "EU27")]
    for countries in (refs, None):
        duck = duck_engine.to_arrow(
            gpr.geopolrisk_expr(duck_engine.relations(), countries, ["nickel"], [2021, 2022])
        )
        spark = spark_engine.to_arrow(
            gpr.geopolrisk_expr(spark_engine.relations(), countries, ["nickel"], [2021, 2022])
        )
        _same(duck, spark)


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


@pytest.mark.parametrize("source", [None, "USGS"])
def test_store_production_several_sources(
    usgs_store: Store, spark_engine: Any, source: str | None
) -> None:
    duck_engine = usgs_store.engine()
    mats = gpr.resolve_materials(duck_engine, None)
    yrs = gpr.resolve_years(duck_engine, None)
    production = duck_engine.to_arrow(duck_engine.relations().production)
    spark_rel = spark_engine.relations().with_table("production", ibis.memtable(production))
    for countries in (None, [resolve_country(c) for c in ("EU27", "NOR", "USA")]):
        duck = duck_engine.to_arrow(
            gpr.geopolrisk_expr(duck_engine.relations(), countries, mats, yrs, source)
        )
        spark = spark_engine.to_arrow(gpr.geopolrisk_expr(spark_rel, countries, mats, yrs, source))
        _same(duck, spark)
