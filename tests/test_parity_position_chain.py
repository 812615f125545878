"""Where a country supplies, by material and stage (`verdikart position`), gives the same rows
on DuckDB and Spark.

Bundled data on both engines (Spark reads the bundled Parquet files, the EU CRM 2023 tables
among them): Norway in the latest trade year (titanium ores with a world export share, most
processing stages without one: incomplete code sets), the NORDIC group summed over its
members in 2022 (an earlier trade year, production up to it), and China in 2020 (many stages,
World Mining Data shares where the EU publishes none).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.indicators import stage_position as sp

pytestmark = pytest.mark.spark

KEYS = ("material", "stage")


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    assert_same_rows(a, b, KEYS)
    assert a.select(["rank", *KEYS]).to_pylist() == b.select(["rank", *KEYS]).to_pylist()


@pytest.mark.parametrize(("country", "year"), [("NOR", None), ("NORDIC", 2022), ("CHN", 2020)])
def test_stage_position_same_on_both_engines(
    duck_engine: Any, spark_engine: Any, country: str, year: int | None
) -> None:
    duck = sp.stage_position(duck_engine, country, year=year)
    rows = duck.to_pylist()
    assert len(rows) > 10
    assert any(r["share_of_world_exports"] is not None for r in rows)
    assert any(r["note"] and "code set is incomplete" in r["note"] for r in rows)
    assert any(r["share_of_eu_sourcing"] is not None for r in rows)
    _same(duck, sp.stage_position(spark_engine, country, year=year))
