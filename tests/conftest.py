"""Shared test fixtures: isolated data dirs, the real shared datasets (skip when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory; nothing touches the user's store."""
    data_dir = tmp_path / "verdikart-data"
    monkeypatch.setenv("VERDIKART_DATA_DIR", str(data_dir))
    monkeypatch.delenv("VERDIKART_STORE", raising=False)
    monkeypatch.delenv("VERDIKART_DB_URL", raising=False)
    return data_dir


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (real public datasets, never committed); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not present at {SHARED_DATA} (a user's fresh clone)")
    return SHARED_DATA


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every Spark test runs on one xdist worker, so one Spark session serves the whole run."""
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark_engine():  # type: ignore[no-untyped-def]
    """The Spark engine in local mode over the bundled files: one session per test run."""
    from verdikart.engine import SparkEngine

    return SparkEngine("local[2]")


@pytest.fixture
def duck_engine():  # type: ignore[no-untyped-def]
    """The DuckDB engine over an in-memory store holding the bundled data only."""
    from verdikart.store import Store

    store = Store.open(None)
    yield store.engine()
    store.close()
