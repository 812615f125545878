"""The EU criticality method gives the same rows on DuckDB and Spark.

Every material the method can assess (materials=None), perspectives EU and NOR, on

* the bundled data alone (the EU CRM 2023 tables, production shares for the other materials,
  political stability only);
* the test fixture's assessment tables (tests/fixtures/eu_crm: published global and EU
  sourcing shares, end uses, parameters with and without a stage) and six WGI dimensions;
* the real 2023 assessment inputs and the World Bank WGI file (../shared/data; skipped when
  absent).

DuckDB reads the store's tables; Spark reads the bundled files, with the store's EU tables and
governance handed over as memtables (``Relations.with_table``): the same inputs on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from parity import assert_same_rows
from verdikart.indicators import eu_method as em
from verdikart.sources.eu_crm import import_eu_crm
from verdikart.store import Store, arrow_loader

pytestmark = pytest.mark.spark

KEYS = ("material", "stage")
PERSPECTIVES = ("EU", "NOR")
STORE_TABLES = ("eu_supply_shares", "eu_end_uses", "eu_parameters", "governance")
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "eu_crm"


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    assert_same_rows(a, b, KEYS)
    assert a.select(list(KEYS)).to_pylist() == b.select(list(KEYS)).to_pylist()  # order


def _spark_relations(spark_engine: Any, store: Store) -> Any:
    """Spark's relations with the store's EU tables and governance as memtables."""
    duck = store.engine()
    rel = spark_engine.relations()
    for name in STORE_TABLES:
        rel = rel.with_table(name, ibis.memtable(duck.to_arrow(duck.relations()[name])))
    return rel


def _store_parity(store: Store, spark_engine: Any, perspective: str, **kw: Any) -> pa.Table:
    duck = em.eu_criticality(store.engine(), perspective=perspective, **kw)
    spark = em.eu_criticality(
        spark_engine,
        perspective=perspective,
        relations=_spark_relations(spark_engine, store),
        **kw,
    )
    _same(duck, spark)
    return duck


@pytest.mark.parametrize("perspective", PERSPECTIVES)
def test_bundled(duck_engine: Any, spark_engine: Any, perspective: str) -> None:
    duck = em.eu_criticality(duck_engine, perspective=perspective)
    assert duck.num_rows > 100
    flags = duck.column("inputs_defaulted").to_pylist()
    # the bundled EU CRM 2023 global shares where published, production shares elsewhere
    assert any("global_shares:production" in r for r in flags)
    assert any("global_shares:production" not in r for r in flags)
    _same(duck, em.eu_criticality(spark_engine, perspective=perspective))


@pytest.fixture
def fixture_store(tmp_path: Path) -> Iterator[Store]:
    """The eu_crm fixture with six WGI dimensions for 2021 (test_eu_method's scores; one
    country of the fixture's suppliers left without a score)."""
    from verdikart.schema import GOVERNANCE

    means = {"CHN": -0.5, "AUS": 1.0, "FIN": 2.0, "NOR": 1.5, "COD": -1.5, "TUR": 0.0}
    rows = [
        {"year": 2021, "country": c, "indicator": dim, "value": v, "source": "test"}
        for c, v in means.items()
        for dim in em.WGI_DIMENSIONS
    ]
    store = Store.open(tmp_path / "fixture.duckdb", create=True)
    import_eu_crm(store, FIXTURES)
    store.import_rows(
        "governance",
        arrow_loader(pa.Table.from_pylist(rows), GOVERNANCE),
        source="test governance",
    )
    yield store
    store.close()


@pytest.mark.parametrize("perspective", PERSPECTIVES)
def test_fixture_inputs(fixture_store: Store, spark_engine: Any, perspective: str) -> None:
    duck = _store_parity(fixture_store, spark_engine, perspective, trade_years=(2020, 2022))
    rows = {(r["material"], r["stage"]): r for r in duck.to_pylist()}
    assert any(r["hhi_eu"] is not None for r in rows.values())  # sourcing of either kind
    assert rows[("cobalt", "E")]["perspective"] == ("EU" if perspective == "EU" else "NOR")


@pytest.fixture
def real_store(shared_data: Path, tmp_path: Path) -> Iterator[Store]:
    from verdikart.sources import run_import

    store = Store.open(tmp_path / "real.duckdb", create=True)
    import_eu_crm(store, shared_data / "eu_crm_2023_inputs")
    run_import(store, "wgi", shared_data / "wgi" / "wgidataset.csv")
    yield store
    store.close()


@pytest.mark.shared_data
@pytest.mark.parametrize("perspective", PERSPECTIVES)
def test_real_inputs(real_store: Store, spark_engine: Any, perspective: str) -> None:
    duck = _store_parity(real_store, spark_engine, perspective)
    materials = {r["material"] for r in duck.to_pylist()}
    assert len(materials) >= 60 and {"cobalt", "nickel", "lithium"} <= materials
