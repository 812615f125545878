"""The process-industry statistics give the same rows on DuckDB and Spark.

The trade (SSB 08801 fixture, imported by the real reader), the company corrections and the
StatBank cells are handed to both engines as the same in-memory relations; the correspondence
and the EU ETS tables are the bundled files both engines read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from parity import assert_same_rows
from verdikart.indicators import activity as act
from verdikart.indicators import industry as ind
from verdikart.sources import run_import
from verdikart.store import Store

pytestmark = pytest.mark.spark

FIX = Path(__file__).parent / "fixtures" / "industry"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("industry")
    with Store.open(folder / "s.duckdb", create=True) as store:
        run_import(store, "ssb", FIX / "08801_2023.csv")
        for name in ("11561_2023", "14091", "emissions"):
            run_import(store, "ssb-statbank", FIX / f"{name}.json")
        ind.record_correction(
            store,
            year=2023,
            group="C20",
            value_nok=4_000_000,
            company="Yara Norge AS",
            confirmed_on="2024-05-02",
            reference="test",
            from_confidential=True,
            recorded_by="test",
        )
        return {
            name: store.arrow(f'SELECT * FROM "{name}"')
            for name in ("ssb_trade", "industry_corrections", "ssb_statbank")
        }


def _rel(engine: Any, inputs: dict[str, Any]) -> Any:
    rel = engine.relations()
    for name, table in inputs.items():
        rel = rel.with_table(name, ibis.memtable(table))
    return rel


CASES = [
    ("groups", lambda r: ind.by_group_expr(r, year=2023, corrections=True), ("group",)),
    ("official", lambda r: ind.by_group_expr(r, year=2023), ("group",)),
    ("chapters", lambda r: ind.hs_chapter_expr(r, year=2023), ("chapter_group",)),
    ("products", lambda r: ind.product_groups_expr(r, year=2023), ("product_group",)),
    ("split", lambda r: ind.split_rows_expr(r, year=2023), ("hs6", "cpa")),
    ("unknown", lambda r: ind.unknown_codes_expr(r, year=2023), ("cn8",)),
    ("energy", lambda r: act.energy_intensive_expr(r, year=2023), ("product",)),
    ("pulse", lambda r: act.power_pulse_expr(r), ("period",)),
    ("by_industry", lambda r: act.by_industry_expr(r, table="emissions", year=2023), ("group",)),
    ("plants", lambda r: act.plant_emissions_totals_expr(r, years=[2019, 2020]), ("year", "group")),
]


@pytest.mark.parametrize(("name", "build", "keys"), CASES, ids=[c[0] for c in CASES])
def test_same_rows(
    name: str,
    build: Any,
    keys: tuple[str, ...],
    inputs: dict[str, Any],
    duck_engine: Any,
    spark_engine: Any,
) -> None:
    duck = duck_engine.to_arrow(build(_rel(duck_engine, inputs)))
    spark = spark_engine.to_arrow(build(_rel(spark_engine, inputs)))
    assert duck.num_rows > 0, name
    assert duck.schema == spark.schema, (duck.schema, spark.schema)
    assert_same_rows(duck, spark, keys)
