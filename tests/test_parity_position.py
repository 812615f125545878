"""Norway's position and the world-share series give the same rows on DuckDB and Spark.

Bundled data. Focal exporters: Norway; the EEA (a group with accession years, as
chains/mapping.py builds it, whose members make up all of the EU27 market) with a second
group whose membership has year bounds; markets: the allied markets of the mapping
(chains/mapping.py ``market_table``: EU27, NATO, EEA); products: every material of the
mapping's lists (and every HS6 code, for the store-wide RCA basket); several report years,
each with its five-year trend window.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.chains import mapping as mp
from verdikart.indicators import position as pos
from verdikart.indicators import trade as tr

pytestmark = pytest.mark.spark

KEYS = ("reporter", "product", "year")


def _products(engine: Any, level: str) -> pa.Table:
    products, _ = mp.material_products(engine, mp.DEFAULT_LISTS, level, 2022)
    assert products.num_rows > 20
    return products


def _groups() -> pa.Table:
    """The EEA (as the mapping builds it) and a group whose members joined or left."""
    eea, rid, _ = mp.reporter_table("EEA")
    assert rid == "EEA" and eea.num_rows >= 30
    bounded = pa.table(
        {
            "reporter": ["NORDIC", "NORDIC", "NORDIC"],
            "iso3": ["NOR", "SWE", "FIN"],
            "year_from": pa.array([None, None, 2020], pa.int32()),
            "year_to": pa.array([None, 2019, None], pa.int32()),
        }
    )
    return pa.concat_tables([eea.select(bounded.column_names), bounded])


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    assert_same_rows(a, b, KEYS)
    order = [tuple(r[k] for k in KEYS) for r in a.select(list(KEYS)).to_pylist()]
    assert order == sorted(order)
    assert order == [tuple(r[k] for k in KEYS) for r in b.select(list(KEYS)).to_pylist()]


def test_position_norway_allied_markets(duck_engine: Any, spark_engine: Any) -> None:
    products = _products(duck_engine, "material")
    focal = tr.country_reporters(["NOR"])
    years = [2018, 2020, 2022]

    def run(engine: Any) -> pa.Table:
        return pos.position(engine, focal, mp.market_table(), products, years)

    duck = run(duck_engine)
    per_year = {y: {r["product"] for r in duck.to_pylist() if r["year"] == y} for y in years}
    assert len(per_year[2022]) > 20 and all(v == per_year[2022] for v in per_year.values())
    for market in mp.MARKETS:
        assert f"{market}_external_share" in duck.column_names
    assert any(r["NATO_share"] for r in duck.to_pylist())
    _same(duck, run(spark_engine))


def test_position_groups(duck_engine: Any, spark_engine: Any) -> None:
    """Two group exporters at once; the EEA's own markets (EU27, EEA) are wholly inside it."""
    products = _products(duck_engine, "material")
    focal = _groups()

    def run(engine: Any) -> pa.Table:
        return pos.position(engine, focal, mp.market_table(), products, [2019, 2022])

    duck = run(duck_engine)
    eea = [r for r in duck.to_pylist() if r["reporter"] == "EEA"]
    # the EU27 seen by the EEA has no members left: no imports, shares unknown
    assert eea and all(r["EU27_import_value_kusd"] == 0.0 for r in eea)
    assert all(r["EU27_share"] is None for r in eea)
    assert {r["reporter"] for r in duck.to_pylist()} == {"EEA", "NORDIC"}
    _same(duck, run(spark_engine))


def test_position_store_basket_per_hs6(duck_engine: Any, spark_engine: Any) -> None:
    products = _products(duck_engine, "hs6")
    focal = tr.country_reporters(["NOR", "SWE"])

    def run(engine: Any) -> pa.Table:
        return pos.position(engine, focal, mp.market_table("EEA"), products, [2021], basket="store")

    duck = run(duck_engine)
    assert "EEA_share" not in duck.column_names
    _same(duck, run(spark_engine))


def test_world_share_series(duck_engine: Any, spark_engine: Any) -> None:
    products = _products(duck_engine, "material")
    focal = pa.concat_tables([tr.country_reporters(["NOR"]), _groups()])
    years = list(range(2016, 2023))

    def run(engine: Any) -> pa.Table:
        return pos.world_share_series(engine, focal, products, years)

    duck = run(duck_engine)
    assert duck.column_names == ["reporter", "product", "year", "world_export_share"]
    assert sorted(set(duck.column("year").to_pylist())) == years
    _same(duck, run(spark_engine))
