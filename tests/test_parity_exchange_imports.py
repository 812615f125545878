"""Norway's imports for exchange potential are the same on DuckDB and Spark (bundled data).

Every material with a basis (``MATERIAL_BASIS``) in 2018-2022, with its basis' stage (the HS92
codes potential compares against) and its other stage, and the default year (the latest with a
quantity).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.exchange.critical import (
    MATERIAL_BASIS,
    ImportsT,
    norway_import_year_expr,
    norway_imports_t,
)

pytestmark = pytest.mark.spark

YEARS = range(2018, 2023)
KEYS = ("material", "year", "stage")


def _table(rows: list[ImportsT]) -> pa.Table:
    """ImportsT values as rows (code lists as text, so rows compare as values)."""
    records = [
        asdict(r) | {"hs6": ",".join(r.hs6), "hs6_with_flows": ",".join(r.hs6_with_flows)}
        for r in rows
    ]
    return pa.Table.from_pylist(records)


def _all(engine: Any) -> list[ImportsT]:
    out = []
    for material, basis in MATERIAL_BASIS.items():
        other = "processing" if basis.stage == "extraction" else "extraction"
        for year in YEARS:
            out.append(norway_imports_t(engine, material, year))  # the basis' stage
            out.append(norway_imports_t(engine, material, year, stage=other))
    return out


def test_norway_imports_same_on_duckdb_and_spark(duck_engine: Any, spark_engine: Any) -> None:
    duck, spark = _all(duck_engine), _all(spark_engine)
    assert_same_rows(_table(duck), _table(spark), KEYS)
    # the bundled data do have imports with quantities and flows lacking one: both rules run
    assert any(r.imports_t for r in duck)
    assert any(r.n_missing_quantity for r in duck)
    assert all(isinstance(r.n_flows, int) and isinstance(r.n_missing_quantity, int) for r in spark)


def test_default_year_same_on_duckdb_and_spark(duck_engine: Any, spark_engine: Any) -> None:
    (duck,) = duck_engine.rows(norway_import_year_expr(duck_engine.relations()))
    (spark,) = spark_engine.rows(norway_import_year_expr(spark_engine.relations()))
    assert duck == spark and duck["year"] is not None
    latest = [norway_imports_t(e, "manganese", None) for e in (duck_engine, spark_engine)]
    assert latest[0].year == duck["year"]
    assert_same_rows(_table(latest[:1]), _table(latest[1:]), KEYS)
