"""Scenarios and the watch give the same rows on DuckDB and Spark (bundled data).

The graphite scenario (China stops exporting natural graphite, 2022) for Norway, the EU27 and
several countries on both bases, with the other suppliers' re-sourcing; and every watch rule
for Norway and the EU27 over the last five trade years.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.indicators import scenario as isc
from verdikart.indicators.watch import watch_expr
from verdikart.scenarios import spec
from verdikart.scenarios.run import _reporters
from verdikart.scenarios.watch import _products, event_table, list_changes, load_rules

pytestmark = pytest.mark.spark

IMPORTERS = ["NOR", "EU27", "USA", "JPN", "DEU"]


def _inputs(duck_engine: Any, shocks: list[str], year: int) -> tuple[Any, ...]:
    sc = spec.from_shocks(shocks, year=year, importers=(), basis="value")
    reporters, members, _ = _reporters(duck_engine, IMPORTERS, year, duck_engine.relations())
    return (
        reporters,
        spec.products_table(sc),
        year,
        spec.shock_table(sc, year),
        spec.excluded_table(sc, members, year),
        spec.params_table(sc),
    )


@pytest.mark.parametrize("basis", ["value", "quantity"])
def test_scenario_parity(basis: str, duck_engine: Any, spark_engine: Any) -> None:
    args = _inputs(duck_engine, ["CHN:graphite:-100%", "RUS:nickel:-40%"], 2022)
    for fn, keys in (
        (isc.scenario_expr, ("importer", "product")),
        (isc.scenario_alternatives_expr, ("reporter", "product", "supplier")),
    ):
        duck = duck_engine.to_arrow(fn(duck_engine.relations(), *args, basis=basis))
        spark = spark_engine.to_arrow(fn(spark_engine.relations(), *args, basis=basis))
        assert duck.num_rows > 0
        assert duck.schema == spark.schema
        assert_same_rows(duck, spark, keys)


def test_watch_parity(duck_engine: Any, spark_engine: Any) -> None:
    from verdikart.scenarios.events import load_events

    config = load_rules()
    products = _products()
    reporters, _, _ = _reporters(duck_engine, ["NOR", "EU27"], 2024, duck_engine.relations())
    changes, _ = list_changes()
    args = (
        reporters,
        products,
        [2020, 2021, 2022, 2023, 2024],
        config.rules,
        event_table(load_events(), products),
    )
    kw = {"min_import_kusd": config.min_import_kusd, "list_changes": changes}
    duck = duck_engine.to_arrow(watch_expr(duck_engine.relations(), *args, **kw))
    spark = spark_engine.to_arrow(watch_expr(spark_engine.relations(), *args, **kw))
    assert duck.num_rows > 100
    keys = ("rule", "reporter", "material", "stage", "partner", "year", "event_id")
    assert_same_rows(duck, spark, keys)
    assert isinstance(duck, pa.Table)
