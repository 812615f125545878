"""Results of the analytic use cases, kept: a bounded, thread-safe cache on the application core.

An analytic use case of :class:`verdikart.app.Verdikart` (the mapping, GeoPolRisk, production
shares, the EU method, a country's position, a value chain's view) is a pure function of its
arguments and of the data the engine reads. So its result is kept under a key made of the use
case's name, its arguments and the **data version** (the engine, the store file and the store's
import log: every write to the store goes through an import, which the log records), and handed
out again while the data are the same. An import changes the data version: the next call
computes afresh and the old entries age out of the LRU order.

* **Bounded**: at most ``max_entries`` results (least recently used dropped first).
* **Thread-safe**: the web app serves requests on threads that share the core's cache; a key
  being computed by one thread is waited for by the others (one computation per key, not one
  per request: a burst of first requests after start-up costs one mapping, not ten).
* **Detached results**: callers get their own copy of lists and dicts (Arrow tables are
  immutable and shared), so a caller that changes a result changes nothing for the next.
* Errors are not kept: a call that raises raises again next time (after computing again).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 256  # results kept per core (a mapping result is about 100 kB)


class ResultCache:
    """Use-case results by key, least recently used dropped beyond `max_entries`."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result under `key`, computed by `compute` when absent (once, however many
        threads ask at the same time); a detached copy."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return detached(self._entries[key])
            flight = self._computing.setdefault(key, threading.Lock())
        with flight:
            with self._lock:
                if key in self._entries:  # computed by another thread while this one waited
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return detached(self._entries[key])
                self.misses += 1
            try:
                value = compute()
                with self._lock:
                    self._entries[key] = value
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
            finally:
                with self._lock:
                    if self._computing.get(key) is flight:
                        del self._computing[key]
        return detached(value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def detached(value: T) -> T:
    """A copy of `value` that shares nothing mutable with it: dicts, lists and sets copied all
    the way down, dataclasses rebuilt with copied fields; immutable values (numbers, strings,
    Arrow tables, frozen dataclasses of such) are shared."""
    return _detach(value)


# values shared as they are (checked by exact type first: most of a result is these)
_ATOMIC = frozenset({str, int, float, bool, type(None), bytes})


def _detach(value: Any) -> Any:
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:
        return {k: v if type(v) in _ATOMIC else _detach(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMIC else _detach(v) for v in value]
    if isinstance(value, dict):
        return {k: _detach(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_detach(v) for v in value]
    if isinstance(value, set):
        return {_detach(v) for v in value}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):  # not a named tuple
        items = tuple(_detach(v) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        changes = {k: _detach(v) for k, v in fields.items()}
        frozen = bool(value.__dataclass_params__.frozen)  # type: ignore[attr-defined]
        if frozen and all(changes[k] is v for k, v in fields.items()):
            return value  # nothing mutable in it or inside
        new = copy.copy(value)
        for name, item in changes.items():
            object.__setattr__(new, name, item)  # frozen dataclasses too
        return new
    return value
