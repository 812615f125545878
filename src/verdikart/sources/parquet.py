"""Parquet in: a file in the store's own normalised layout, e.g. one `verdikart data export` wrote.

The round trip an analyst needs: export a table from one store, hand the Parquet file to a
colleague, import it into theirs. The file must hold exactly the table's documented columns
(`verdikart.schema`); every cell must convert to the column's type; coverage-key columns and
``source`` must be filled; quantities and values must not be negative; HS codes are six digits.
Problems are counted set-based and reported with their row numbers (1 = the first data row),
and nothing is imported. Rows supersede earlier imports of the same coverage, as every reader's
do; for ``trade`` per dataset: the same (year, HS revision, source label), and for BACI rows
any BACI release of those years and revisions (also one loaded by ``data import baci``), while
another dataset's rows (UN Comtrade next to BACI) stay.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from verdikart.errors import SourceError
from verdikart.schema import TABLES, TableSpec
from verdikart.sources._common import (
    ImportReport,
    Progress,
    check_rules,
    no_progress,
    require_file,
    sql_str,
)
from verdikart.sources.baci import supersede_baci_years
from verdikart.store import BACI_LABEL_SQL, Store

# Columns that hold an amount (a flow, a stock or a value) and so can never be negative.
NON_NEGATIVE = frozenset(
    {
        "value_kusd",
        "value_nok",
        "value_added_meur",
        "quantity",
        "quantity_t",
        "quantity_1_kg",
        "quantity_2",
        "reserves",
    }
)
COUNTRY_COLUMNS = ("country", "exporter", "importer", "origin", "partner")
ROWS_VIEW = "parquet_rows"


def importable_tables() -> list[str]:
    """Tables a Parquet file may be imported into (storage-only tables are not)."""
    return sorted(name for name, spec in TABLES.items() if spec.listed)


def import_parquet(
    store: Store,
    path: Path | str,
    *,
    table: str | None = None,
    progress: Progress = no_progress,
    **_: object,
) -> ImportReport:
    """Import one Parquet file into `table` (default: the file name's stem, e.g. trade.parquet)."""
    started = time.perf_counter()
    src = require_file(Path(path))
    spec = _spec_for(src, table)
    con = store.con
    parquet = f"read_parquet('{sql_str(src)}')"
    progress(f"checking {src.name}", 0, 1)
    try:
        _check_columns(con, src, spec)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {ROWS_VIEW} AS SELECT file_row_number + 1 AS line, * "
            f"FROM read_parquet('{sql_str(src)}', file_row_number = true)"
        )
        check_rules(con, ROWS_VIEW, _rules(spec), str(src), unit="row")
        report = _describe(con, spec, src)
        label = report.source
        casts = ", ".join(f'CAST("{c}" AS {t})' for c, t in spec.columns)

        def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
            # `con` may be a new connection (the store file is created on first write)
            progress(f"writing {spec.name}", 0, 1)
            con.execute(f'INSERT INTO temp."{staging}" SELECT {casts} FROM {parquet}')
            if spec.name == "trade":
                _supersede_trade(con, staging)
            row = con.execute(f'SELECT count(*) FROM temp."{staging}"').fetchone()
            return int(row[0]) if row else 0

        report.rows = store.import_rows(
            spec.name,
            load,
            source=label,
            path=str(src.resolve()),
            replace_coverage=spec.name != "trade",  # trade: per source, _supersede_trade
        )
    except duckdb.Error as exc:
        raise SourceError(src, f"cannot read as Parquet: {exc}") from exc
    finally:
        store.con.execute(f"DROP VIEW IF EXISTS temp.{ROWS_VIEW}")
    progress("done", 1, 1)
    report.seconds = time.perf_counter() - started
    return report


def _supersede_trade(con: duckdb.DuckDBPyConnection, staging: str) -> None:
    """Trade rows give way per dataset, not per year alone: rows of the same (year, HS
    revision, source label) are replaced, and BACI rows of any release (a `data import baci`
    too) for the file's BACI years and revisions; another dataset's rows (UN Comtrade next to
    BACI) stay."""
    con.execute(
        "DELETE FROM imported_trade WHERE (year, hs_revision, source) IN "
        f'(SELECT DISTINCT year, hs_revision, source FROM temp."{staging}")'
    )
    supersede_baci_years(
        con, f'SELECT DISTINCT year, hs_revision FROM temp."{staging}" WHERE {BACI_LABEL_SQL}'
    )


def _spec_for(src: Path, table: str | None) -> TableSpec:
    name = table or src.stem
    known = importable_tables()
    if name not in known:
        how = f"--table {name!r} is" if table else f"the file name {src.name!r} names"
        raise SourceError(src, f"{how} no store table; pass --table, one of: {', '.join(known)}")
    return TABLES[name]


def _check_columns(con: duckdb.DuckDBPyConnection, src: Path, spec: TableSpec) -> None:
    have = [
        str(r[0])
        for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{sql_str(src)}')").fetchall()
    ]
    missing = [c for c in spec.column_names if c not in have]
    extra = [c for c in have if c not in spec.column_names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        raise SourceError(
            src,
            f"not the layout of table {spec.name!r}: {'; '.join(parts)} "
            f"(expected {', '.join(spec.column_names)})",
            field=(missing or extra)[0],
        )


def _rules(spec: TableSpec) -> dict[str, str]:
    """Each rule is a SQL condition that is true for a bad row."""
    rules: dict[str, str] = {}
    for column, sql_type in spec.columns:
        rules[f"column {column!r} is not {sql_type}"] = (
            f'("{column}" IS NOT NULL AND TRY_CAST("{column}" AS {sql_type}) IS NULL)'
        )
    for column in dict.fromkeys((*spec.coverage_key, "source")):
        if column in spec.column_names:
            rules[f"column {column!r} is empty"] = f'"{column}" IS NULL'
    for column in spec.column_names:
        if column in NON_NEGATIVE:
            rules[f"column {column!r} is negative"] = f'TRY_CAST("{column}" AS DOUBLE) < 0'
        if column == "hs6":
            rules["column 'hs6' is not six digits"] = (
                "(hs6 IS NOT NULL AND NOT regexp_full_match(CAST(hs6 AS VARCHAR), '[0-9]{6}'))"
            )
        if column == "year":
            rules["column 'year' is outside 1900-2100"] = (
                "(TRY_CAST(year AS INTEGER) NOT BETWEEN 1900 AND 2100)"
            )
    return rules


def _describe(con: duckdb.DuckDBPyConnection, spec: TableSpec, src: Path) -> ImportReport:
    """The report's source labels, years and countries of the file, in one scan."""
    names = spec.column_names
    countries = [f'"{c}"' for c in COUNTRY_COLUMNS if c in names]
    years = (
        "list(DISTINCT CAST(year AS INTEGER)) FILTER (year IS NOT NULL)"
        if "year" in names
        else "NULL"
    )
    n_countries = (
        f"count(DISTINCT c) FROM {ROWS_VIEW}, unnest([{', '.join(countries)}]) u(c)"
        if countries
        else f"0 FROM {ROWS_VIEW}"
    )
    row = con.execute(
        f'SELECT list(DISTINCT "source" ORDER BY "source"), {years}, {n_countries}'
    ).fetchall()[0]
    label = "; ".join(str(x) for x in row[0] or []) or f"Parquet {src.name}"
    report = ImportReport("parquet", spec.name, label, str(src))
    report.years = sorted(int(y) for y in row[1] or [])
    report.countries = int(row[2] or 0)
    return report
