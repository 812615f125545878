"""The whole mapping, and the CLI, give the same answers on DuckDB and on Spark.

The mapping composes every indicator family (trade indicators, supplier shares, position,
world-share trend, GeoPolRisk, the notes on trade left out): Norway 2022 and EU27 2021 on the
bundled data must give the same rows on both engines. The CLI on Spark (a fresh process with
its own session) prints the known GeoPolRisk score of Norway's cobalt imports in 2022; the
Parquet layout written by `data export --all` reads back on Spark as the store's own rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.chains.mapping import MapRequest, run_mapping
from verdikart.engine import SparkEngine
from verdikart.store import Store

pytestmark = pytest.mark.spark

NOR_COBALT_2022 = 0.17027503137526864  # geopolrisk-py 2.0.1 on the same data


def _rows(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows)


@pytest.mark.parametrize(("country", "year"), [("NOR", 2022), ("EU27", 2021)])
def test_mapping_same_on_both_engines(
    duck_engine: object, spark_engine: SparkEngine, country: str, year: int
) -> None:
    request = MapRequest(country=country, year=year)
    duck = run_mapping(duck_engine, request)  # type: ignore[arg-type]
    spark = run_mapping(spark_engine, request)
    assert duck.rows, "the mapping has rows"
    assert_same_rows(_rows(duck.rows), _rows(spark.rows), ["product", "year"])
    assert [r["product"] for r in duck.rows] == [r["product"] for r in spark.rows]  # ranking
    assert_same_rows(
        _rows(duck.suppliers), _rows(spark.suppliers), ["reporter", "product", "year", "supplier"]
    )
    assert_same_rows(_rows(duck.trend), _rows(spark.trend), ["reporter", "product", "year"])
    assert duck.notes == spark.notes
    assert duck.sources == spark.sources


def test_cli_geopolrisk_on_spark_prints_the_known_score(tmp_path: Path) -> None:
    env = {**os.environ, "VERDIKART_ENGINE": "spark", "VERDIKART_SPARK_MASTER": "local[2]"}
    env["VERDIKART_DATA_DIR"] = str(tmp_path)
    out = subprocess.run(
        [str(Path(sys.executable).with_name("verdikart")), "geopolrisk", "--country", "NOR"]
        + ["--material", "cobalt", "--year", "2022", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    (row,) = json.loads(out.stdout)
    assert row["score"] == pytest.approx(NOR_COBALT_2022, rel=1e-12)


def test_exported_layout_reads_back_on_spark(tmp_path: Path) -> None:
    """The layout of a store (bundled rows) read by Spark equals the store's tables."""
    layout = tmp_path / "layout"
    with Store.open(None) as store:
        written = store.export_layout(layout)
        duck = store.engine()
        on_layout = SparkEngine("local[2]", str(layout))
        for name in ("trade", "production", "governance", "wmd_hs_map", "eu_end_uses"):
            a, b = duck.table(name), on_layout.table(name)
            assert a.schema() == b.schema(), name
            assert on_layout.rows(b.count().name("n").as_table())[0]["n"] == written[name]
        t_duck = duck.relations().trade_analysis
        t_spark = on_layout.relations().trade_analysis
        by_year = [
            t.group_by("year").agg(n=t.count(), v=t.value_kusd.sum()).order_by("year")
            for t in (t_duck, t_spark)
        ]
        assert_same_rows(duck.to_arrow(by_year[0]), on_layout.to_arrow(by_year[1]), ["year"])
