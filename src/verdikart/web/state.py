"""Per-app state: settings, the lazily opened ExchangeService, template and static locations."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEB_DIR = Path(__file__).resolve().parent


def static_dir() -> Path:
    return WEB_DIR / "static"


def templates_dir() -> Path:
    return WEB_DIR / "templates"


@dataclass
class AppState:
    settings: Any
    service: Any = None
    _owned: bool = False
    _store: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def exchange(self) -> Any:
        """The ExchangeService, created (and migrated) on first use, once per app."""
        with self._lock:
            if self.service is None:
                from verdikart.exchange.service import ExchangeService

                self.service = ExchangeService(self.settings.database_url)
                self._owned = True
            return self.service

    def store(self) -> Any:
        """The analytic store (DuckDB), opened once per app; reads only."""
        with self._lock:
            if self._store is None:
                from verdikart.api import open_store

                self._store = open_store(self.settings)
            return self._store

    def close(self) -> None:
        if self._owned and self.service is not None:
            self.service.close()
            self.service = None
