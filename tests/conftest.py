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
