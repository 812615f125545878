"""The typed core facade: one entry point per capability, called by the CLI and the web app.

Each function opens nothing itself beyond what it is given; callers pass a `Store` (analytics)
or rely on `Settings` for locations.
"""

from __future__ import annotations

from typing import Any

from verdikart.config import Settings
from verdikart.store import Store


def open_store(settings: Settings | None = None) -> Store:
    """The analytic store named by the settings (bundled data only until something is imported)."""
    return Store.open((settings or Settings()).store_path)


def data_status(store: Store) -> list[dict[str, Any]]:
    """Per table and source: rows, years, countries, origin."""
    return store.status()
