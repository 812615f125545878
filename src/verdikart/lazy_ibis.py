"""Ibis, imported on its first use: ``from verdikart.lazy_ibis import ibis``.

Importing Ibis costs about 0.4 s, more than a whole command whose queries are prepared
(:mod:`verdikart.sql_cache`) and need no expression built. The indicator modules therefore
name Ibis through this stand-in, which imports it when an expression is first built; type
checkers see the real module (each module imports it under ``TYPE_CHECKING``).
"""

from __future__ import annotations

import importlib
from typing import Any


class _LazyIbis:
    """Forwards every attribute to the ``ibis`` module, importing it on the first one."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("ibis"), name)

    def __repr__(self) -> str:
        return "<ibis, imported on first use>"


ibis = _LazyIbis()
