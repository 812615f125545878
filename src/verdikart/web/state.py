"""Per-app state: the application core (store, engine, exchange), per-request readers, and the
template and static locations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verdikart.app import Verdikart
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
    """The web app's hold on the application core (:class:`verdikart.app.Verdikart`).

    One core per app: its exchange service (created and migrated on first use) and its store.
    Every request that reads analytics gets its own reader (:meth:`reader`): a DuckDB cursor
    over the same store, with its own views, closed when the request ends.
    """

    settings: Settings
    service: ExchangeService | None = None
    _core: Verdikart | None = None
    _store_opened: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def core(self) -> Verdikart:
        with self._lock:
            if self._core is None:
                from verdikart.app import Verdikart

                self._core = Verdikart(self.settings, exchange=self.service)
            return self._core

    def exchange(self) -> ExchangeService:
        """The ExchangeService, created (and migrated) on first use, once per app."""
        core = self.core()
        with self._lock:
            return core.exchange()

    def _open_store(self, core: Verdikart) -> Store:
        """The app's store, opened once.

        A store that cannot be opened (locked by a running `verdikart data import`, damaged)
        is the server's condition, not the caller's mistake: EngineError (HTTP 503), whose
        message does not show the server's file path (the server log has the details)."""
        from verdikart.engine import EngineError
        from verdikart.errors import VerdikartError

        with self._lock:
            try:
                return core.store()
            except EngineError:
                raise
            except VerdikartError as exc:
                _log.error("cannot open the analytic store: %s", exc)
                raise EngineError(
                    "the analytic store cannot be opened (busy with an import, or "
                    "damaged); try again later -- the server log has the details"
                ) from exc

    @contextmanager
    def reader(self) -> Iterator[Verdikart]:
        """A per-request core with its own DuckDB cursor; closed after the request."""
        core = self.core()
        self._open_store(core)
        request_core = core.reader()
        try:
            yield request_core
        finally:
            request_core.close()

    def close(self) -> None:
        if self._core is not None:
            self._core.close()
            self._core = None
