"""Per-app state: settings, the lazily opened ExchangeService, template and static locations."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verdikart.config import Settings
    from verdikart.exchange.service import ExchangeService
    from verdikart.store import Store

WEB_DIR = Path(__file__).resolve().parent
_log = logging.getLogger("verdikart.web")


def static_dir() -> Path:
    return WEB_DIR / "static"


def templates_dir() -> Path:
    return WEB_DIR / "templates"


@dataclass
class AppState:
    settings: Settings
    service: ExchangeService | None = None
    _owned: bool = False
    _store: Store | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def exchange(self) -> ExchangeService:
        """The ExchangeService, created (and migrated) on first use, once per app."""
        with self._lock:
            if self.service is None:
                from verdikart.exchange.service import ExchangeService

                self.service = ExchangeService(self.settings.database_url)
                self._owned = True
            return self.service

    def store(self) -> Store:
        """The analytic store (DuckDB), opened once per app; reads only.

        A store that cannot be opened (locked by a running `verdikart data import`, damaged)
        is the server's condition, not the caller's mistake: EngineError (HTTP 503), whose
        message does not show the server's file path (the server log has the details)."""
        from verdikart.engine import EngineError
        from verdikart.errors import VerdikartError

        with self._lock:
            if self._store is None:
                from verdikart.api import open_store

                try:
                    self._store = open_store(self.settings)
                except EngineError:
                    raise
                except VerdikartError as exc:
                    _log.error("cannot open the analytic store: %s", exc)
                    raise EngineError(
                        "the analytic store cannot be opened (busy with an import, or "
                        "damaged); try again later -- the server log has the details"
                    ) from exc
            return self._store

    def close(self) -> None:
        if self._owned and self.service is not None:
            self.service.close()
            self.service = None
        if self._store is not None:
            self._store.close()
            self._store = None
