"""`chain show`'s stage-wise indicators give the same values on DuckDB and Spark.

Bundled data on both engines (Spark reads the bundled Parquet files, the EU CRM 2023 tables
among them). :func:`verdikart.chains.view.chain_indicators` runs every expression of the
chain view for every chain at once: world production concentration, the EU 2023 tables'
concentration per scope (:func:`~verdikart.indicators.stage_position.eu_concentration_expr`),
the country's rows of ``position`` (:func:`~verdikart.indicators.stage_position.stage_position_expr`),
its world export shares on the stages' own code sets
(:func:`~verdikart.indicators.stage_position.export_shares_expr`) and the country's and the
EU27's imports by supplier. Norway in 2022 and the NORDIC group (members summed) in the latest
trade year; then the nickel view assembled from each engine's indicators is the same object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from parity import _same
from verdikart.chains.model import find_chain
from verdikart.chains.view import chain_indicators, chain_view
from verdikart.reference.countries import resolve_country

pytestmark = pytest.mark.spark

REL_TOL = 1e-9


def _assert_same(a: Any, b: Any, path: str = "") -> None:
    """Nested dicts, lists and values equal; floats within REL_TOL (sums run in another
    order on each engine)."""
    if isinstance(a, Mapping):
        assert isinstance(b, Mapping) and set(a) == set(b), (path, sorted(a), sorted(b))
        for key in a:
            _assert_same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list | tuple | frozenset | set):
        assert len(a) == len(b), (path, a, b)
        if isinstance(a, frozenset | set):
            assert a == b, path
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{path}[{i}]")
    else:
        assert _same(a, b, REL_TOL), (path, a, b)


@pytest.mark.parametrize(("country", "year"), [("NOR", 2022), ("NORDIC", None)])
def test_chain_indicators_same_on_both_engines(
    duck_engine: Any, spark_engine: Any, country: str, year: int | None
) -> None:
    ref = resolve_country(country)
    duck = chain_indicators(duck_engine, ref, year)
    assert duck.eu_shares[("eu_sourcing", "silicon", "P")]["top_country"] == "NOR"
    assert duck.eu_imports and duck.imports and duck.position and duck.exports
    assert any(x["x_share"] is not None for x in duck.exports.values())
    assert any(x["t_note"] for x in duck.exports.values())
    spark = chain_indicators(spark_engine, ref, year)
    _assert_same(vars(duck), vars(spark))
    chain, material = find_chain("nickel")
    views = [
        chain_view(e, chain, material=material, country=ref, year=year, indicators=ind)
        for e, ind in ((duck_engine, duck), (spark_engine, spark))
    ]
    _assert_same(views[0], views[1])
