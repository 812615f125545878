"""The layers the core issue set: no command-line module and no value-chain module runs SQL
(they go through the application core and its engine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "verdikart"
# SQL text, or a DuckDB connection used directly
SQL = re.compile(
    r"\bSELECT\b|\bINSERT\s+INTO\b|\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?(?:TABLE|VIEW)\b"
    r"|\bGROUP\s+BY\b|\bread_parquet\b|\.sql\(|\.execute\(|\bimport duckdb\b"
)


@pytest.mark.parametrize("folder", ["cli", "chains"])
def test_no_sql_in_the_command_line_or_value_chain_modules(folder: str) -> None:
    modules = sorted((PACKAGE / folder).rglob("*.py"))
    assert modules, folder
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in modules
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if SQL.search(line)
    ]
    assert found == []


def test_the_pattern_finds_sql() -> None:
    assert SQL.search('con.sql("SELECT 1")') and SQL.search("    import duckdb")
    assert not SQL.search("select the materials (a comment)")
