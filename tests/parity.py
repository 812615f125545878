"""Comparing one result from two engines: same rows, same NULLs, numbers within 1e-9 relative."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

REL_TOL = 1e-9


def _same(a: Any, b: Any, rel_tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=1e-12)
    return bool(a == b)


def assert_same_rows(
    a: pa.Table, b: pa.Table, keys: Sequence[str], *, rel_tol: float = REL_TOL
) -> None:
    """Assert two results hold the same rows (matched by `keys`) and the same columns."""
    assert set(a.column_names) == set(b.column_names), (a.column_names, b.column_names)
    assert a.num_rows == b.num_rows, f"rows: {a.num_rows} != {b.num_rows}"

    def index(t: pa.Table) -> dict[tuple[Any, ...], dict[str, Any]]:
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in t.to_pylist():
            key = tuple(row[k] for k in keys)
            assert key not in out, f"key {key} twice"
            out[key] = row
        return out

    ia, ib = index(a), index(b)
    assert ia.keys() == ib.keys(), sorted(set(ia) ^ set(ib), key=str)[:5]
    bad = []
    for key, ra in ia.items():
        rb = ib[key]
        for col in a.column_names:
            if not _same(ra[col], rb[col], rel_tol):
                bad.append((key, col, ra[col], rb[col]))
    assert not bad, f"{len(bad)} differing cell(s), first: {bad[:5]}"
