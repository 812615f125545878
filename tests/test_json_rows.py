"""JSON output of large Arrow results (verdikart.report.json_rows): order, NaN, lists."""

from __future__ import annotations

import json
import math

import pyarrow as pa

from verdikart.report.json_rows import json_list


def test_rows_keep_their_order_across_many_chunks() -> None:
    n = 120_000  # several DuckDB vectors and Arrow chunks: a parallel scan must keep the order
    chunks = [
        pa.table({"i": pa.array(range(s, min(s + 7_000, n)), pa.int64())})
        for s in range(0, n, 7_000)
    ]
    table = pa.concat_tables(chunks)
    rows = json.loads(json_list(table, ["i"]))
    assert [r["i"] for r in rows] == list(range(n))


def test_nan_is_null_lists_are_text_and_columns_keep_their_order() -> None:
    table = pa.table(
        {
            "score": pa.array([0.5, math.nan, None], pa.float64()),
            "sources": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
            "country": ["NOR", "SWE", "Côte d'Ivoire"],
        }
    )
    text = json_list(table, ["country", "score", "sources"])
    assert json.loads(text) == [
        {"country": "NOR", "score": 0.5, "sources": "a, b"},
        {"country": "SWE", "score": None, "sources": ""},
        {"country": "Côte d'Ivoire", "score": None, "sources": None},
    ]
    assert text.startswith("[\n{") and text.endswith("}\n]")
    assert list(json.loads(text)[0]) == ["country", "score", "sources"]


def test_no_rows_is_an_empty_list() -> None:
    assert json_list(pa.table({"a": pa.array([], pa.int64())}), ["a"]) == "[]"
