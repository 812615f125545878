"""The analytic engine: hands out an Ibis backend and the canonical relations on it.

The only module that knows engines. Indicators are Ibis expressions over
:class:`verdikart.relations.Relations`; this module compiles and runs them on

* **DuckDB** (the embedded default): the store's connection, whose views already join the
  bundled Parquet files and the rows users imported (see :mod:`verdikart.store`);
* **PySpark** (the scale-out engine, ``VERDIKART_ENGINE=spark``): a Spark session (local mode
  by default, ``VERDIKART_SPARK_MASTER`` for a cluster) reading the store's Parquet layout, as
  written by ``verdikart data export --all DIR`` (``DIR/<table>/...``, partitioned), from a
  local path or any URL Spark reads (``hdfs://``, ``s3a://``); without a layout, the bundled
  files as they are.

Small inputs (a list of reporters, products, a company's purchases) enter an expression with
``ibis.memtable``; on Spark they are handed over as Arrow, never through pandas, which would
turn a missing text into the string 'NaN'.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from verdikart.errors import VerdikartError
from verdikart.schema import TABLES
from verdikart.sql_cache import (
    PreparedQuery,
    Unfingerprintable,
    bind_data,
    inputs_key,
    memtable_arrow,
)

if TYPE_CHECKING:
    import duckdb
    import ibis
    import ibis.expr.types as ir
    import pyarrow as pa

    from verdikart.relations import Relations
    from verdikart.sql_cache import SqlCache

T = TypeVar("T")
Builder = Callable[..., "ir.Table"]
"""An indicator's expression builder: ``builder(relations, *inputs, **options) -> ir.Table``
(``trade_indicators_expr``, ``geopolrisk_expr``, ...), a pure function of its arguments."""

ENGINES: tuple[str, ...] = ("duckdb", "spark")
# The relations an indicator may read: the listed tables of verdikart.schema (the storage-only
# tables, such as imported BACI's narrow rows, are read through `trade`).
RELATION_NAMES: tuple[str, ...] = tuple(name for name, spec in TABLES.items() if spec.listed)


class EngineError(VerdikartError):
    """The analytic engine cannot be started or cannot read its data."""

    http_status = 503  # the service cannot answer now; not the caller's fault


class Engine(ABC):
    """One Ibis backend plus the canonical relations on it."""

    name: str
    _relations: Relations | None = None

    @property
    @abstractmethod
    def backend(self) -> Any:
        """The Ibis backend (``ibis.backends.duckdb.Backend`` or the PySpark one)."""

    @abstractmethod
    def table(self, name: str) -> ir.Table:
        """A canonical relation (one of RELATION_NAMES) as an Ibis table."""

    def relations(self) -> Relations:
        """The canonical relations (built once per engine; they are immutable expressions)."""
        cached = self._relations
        if cached is None:
            from verdikart.relations import Relations

            cached = Relations(
                {name: self.table(name) for name in RELATION_NAMES} | self._kept_relations()
            )
            self._relations = cached
        return cached

    def _kept_relations(self) -> dict[str, ir.Table]:
        """Derived relations the engine keeps itself (else Relations derives them)."""
        return {}

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        """Run an expression; the result as an Arrow table."""
        try:
            return self.backend.to_pyarrow(expr)
        except VerdikartError:
            raise
        except Exception as exc:  # the engine's own failure, named with the engine
            raise EngineError(
                f"the {self.name} engine failed: {type(exc).__name__}: {exc}"
            ) from exc

    def rows(self, expr: ir.Expr) -> list[dict[str, Any]]:
        """Run an expression; the result as a list of dicts (small results only)."""
        return self.to_arrow(expr).to_pylist()

    def query(self, builder: Builder, *args: Any, **kwargs: Any) -> pa.Table:
        """Run ``builder(self.relations(), *args, **kwargs)``, an indicator's expression over
        this engine's relations; the result as an Arrow table. The way indicators run: an
        engine may answer from a prepared query of the same builder and inputs."""
        return self.to_arrow(builder(self.relations(), *args, **kwargs))

    def query_rows(self, builder: Builder, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """:meth:`query` as a list of dicts (small results only)."""
        return self.query(builder, *args, **kwargs).to_pylist()


@functools.cache
def _silence_the_copy_warning() -> None:
    """DuckDBEngine._run_sql fetches through the DB-API on purpose (see there); DuckDB warns
    that this copies the rows once more, which costs far less than `con.sql()` binding every
    query before it runs it. Warning filters are per process: set once (an engine is made per
    web request), never around a query."""
    warnings.filterwarnings(
        "ignore", message="Arrow output on a DB-API result", category=UserWarning
    )


class DuckDBEngine(Engine):
    """Ibis over a DuckDB connection that holds the store's views."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, sql_cache: SqlCache | None = None) -> None:
        from verdikart.sql_cache import SqlCache

        self._con = con
        self._backend: Any = None
        self._sql_cache = sql_cache if sql_cache is not None else SqlCache("duckdb")
        _silence_the_copy_warning()

    @property
    def backend(self) -> Any:
        """Ibis's DuckDB backend, made on first need: a query whose SQL is in the cache runs
        without it (importing Ibis's compilers costs 0.2 s of a command's start-up)."""
        if self._backend is None:
            import ibis

            self._backend = ibis.duckdb.from_connection(self._con)
        return self._backend

    def _compile(self, expr: ir.Table) -> str:
        return str(self.backend.compile(expr))

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        """Run an expression on the connection: its SQL from the compiled-SQL cache, its
        in-memory tables registered for this query only, the result typed as Ibis types it."""
        return self._guarded(lambda: self._run_expr(expr)[0])

    def query(self, builder: Builder, *args: Any, **kwargs: Any) -> pa.Table:
        """:meth:`Engine.query`, from the prepared query of the same builder and inputs when
        one is kept (:mod:`verdikart.sql_cache`): no expression built, Ibis not imported."""
        try:
            key, data = inputs_key(builder, args, kwargs)
        except Unfingerprintable:  # an input with no stable digest: build as usual
            return super().query(builder, *args, **kwargs)
        prepared = self._sql_cache.prepared(key)
        if prepared is None:  # not run before here: perhaps shipped with the package
            shipped_key, _ = inputs_key(builder, args, kwargs, shipped=True)
            prepared = self._sql_cache.from_shipped(shipped_key, key)
        if prepared is not None:
            kept = prepared
            return self._guarded(
                lambda: _conformed(self._run_sql(kept.sql, kept.tables(data)), kept.schema)
            )
        expr = builder(self.relations(), *args, **kwargs)
        result, sql, memtables = self._guarded(lambda: self._run_expr(expr))
        bound = bind_data(memtables, data) if data else {}
        if bound is None:  # a data table's rows shaped the query: keep it by its rows
            key, _ = inputs_key(builder, args, kwargs, by_rows=True)
            shipped_key, _ = inputs_key(builder, args, kwargs, by_rows=True, shipped=True)
            bound = {}
        rows = {name: table for name, table in memtables.items() if name not in bound}
        self._sql_cache.keep(key, PreparedQuery(sql, rows, result.schema, bound), shipped_key)
        return result

    def _run_expr(self, expr: ir.Expr) -> tuple[Any, str, dict[str, pa.Table]]:
        """Run an expression: its result, typed as Ibis types it (a table for a table
        expression), with the SQL and in-memory tables that made it."""
        query = self._sql_cache.compiled(expr.as_table(), self._compile)
        memtables = {name: memtable_arrow(node) for name, node in query.memtables.items()}
        result = self._run_sql(query.sql, memtables)
        typed = expr.__pyarrow_result__(result, data_mapper=_duckdb_arrow_data())
        return typed, query.sql, memtables

    def _run_sql(self, sql: str, memtables: Mapping[str, pa.Table]) -> pa.Table:
        """Run `sql` with its in-memory tables registered for this query only."""
        registered = []
        try:
            for name, table in memtables.items():
                self._con.register(name, table)
                registered.append(name)
            # execute(), not sql(): a relation binds (parses and plans) the query before it
            # runs it, which costs a mapping's 11 queries 0.06 s of 0.33 s (Ibis's SQL is long)
            return self._con.execute(sql).to_arrow_table()
        finally:
            for name in registered:
                self._con.unregister(name)

    def _guarded(self, run: Callable[[], T]) -> T:
        """`run()`, with the engine's own failures named with the engine."""
        try:
            return run()
        except VerdikartError:
            raise
        except Exception as exc:
            raise EngineError(
                f"the {self.name} engine failed: {type(exc).__name__}: {exc}"
            ) from exc

    def _kept_relations(self) -> dict[str, ir.Table]:
        import ibis
        import ibis.expr.operations as ops

        from verdikart.relations import TRADE_COVERAGE

        # the store's view of trade's coverage (Store._trade_coverage_sql)
        schema = ibis.schema({"year": "int16", "hs_revision": "string", "source": "string"})
        return {TRADE_COVERAGE: ops.DatabaseTable(TRADE_COVERAGE, schema, self).to_expr()}

    def table(self, name: str) -> ir.Table:
        """The store's view `name`, typed from verdikart.schema (no catalog query: the views
        are made from the same declaration, see Store._view_sql)."""
        _check_relation(name)
        import ibis.expr.operations as ops

        # the source is this engine: the SQL names the view, and queries run on its connection
        return ops.DatabaseTable(name, spec_schema(name), self).to_expr()


class SparkEngine(Engine):
    """Ibis over PySpark, reading the store's Parquet layout (or the bundled files).

    One Spark session per process (``SparkSession.builder.getOrCreate``); ``master`` applies
    only when this call creates it.
    """

    name = "spark"

    def __init__(self, master: str = "local[*]", data: str | None = None) -> None:
        self._session = spark_session(master)
        self._backend = _arrow_spark_backend(self._session)
        self._data = data
        self._views = itertools.count()
        self._tables: dict[str, ir.Table] = {}

    @property
    def backend(self) -> Any:
        return self._backend

    @property
    def session(self) -> Any:
        return self._session

    def table(self, name: str) -> ir.Table:
        _check_relation(name)
        if name not in self._tables:
            self._tables[name] = self._read(name)
        return self._tables[name]

    def _read(self, name: str) -> ir.Table:
        spec = TABLES[name]
        location = self._location(name)
        if location is None:  # a table with no rows here (not bundled, no layout given)
            import ibis
            import pyarrow as pa

            schema = spec_schema(name)
            return ibis.memtable(pa.table({c: [] for c in schema.names}, schema.to_pyarrow()))
        frame = self._session.read.parquet(location)
        view = f"verdikart_{name}_{next(self._views)}"
        frame.createOrReplaceTempView(view)
        table = self._backend.table(view)
        missing = [c for c in spec.column_names if c not in table.columns]
        if missing:
            raise EngineError(
                f"{location}: not the layout of table {name!r}: column(s) "
                f"{', '.join(missing)} missing"
            )
        # partition columns come back typed by Spark's inference: cast to the documented types
        return table.select([table[c].cast(_ibis_type(t)).name(c) for c, t in spec.columns])

    def _location(self, name: str) -> str | None:
        """Where table `name` lies: the layout's folder, or the bundled file; None = no rows."""
        if self._data:
            root = self._data.rstrip("/")
            if "://" in root:
                return f"{root}/{name}"
            if not Path(root).is_dir():
                raise EngineError(
                    f"{root}: no Parquet layout here (write one with "
                    f"'verdikart data export --all {root}')"
                )
            return f"{root}/{name}" if Path(root, name).exists() else None
        from verdikart.store import bundled_path

        bundled = bundled_path(name)
        return str(bundled) if TABLES[name].bundled and bundled.exists() else None


def spark_session(master: str = "local[*]") -> Any:
    """The process's Spark session, created on first use with settings verdikart relies on."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # installed without the `spark` extra
        raise EngineError(
            "the Spark engine needs pyspark and pandas: pip install 'verdikart[spark]'"
        ) from exc
    from verdikart.no_pandas import allow_pandas

    allow_pandas()  # PySpark converts through pandas
    try:
        session = (
            SparkSession.builder.master(master)
            .appName("verdikart")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.session.timeZone", "UTC")
            # SQL NULL semantics as in DuckDB: a division by zero or a failed cast is NULL
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.driver.memory", "4g")
            .getOrCreate()
        )
    except Exception as exc:  # Java missing, cluster unreachable, ...
        raise EngineError(
            f"cannot start Spark (master {master!r}): {type(exc).__name__}: {exc}. Spark needs "
            "a Java runtime (Debian: openjdk-17-jre-headless)"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def _conformed(result: pa.Table, schema: pa.Schema) -> pa.Table:
    """The engine's raw result typed as Ibis typed it the first time (the same casts as Ibis's
    ``PyArrowData.convert_table``, a NULL-typed column as NULLs)."""
    import pyarrow as pa

    if result.schema == schema:
        return result
    columns = []
    for field in schema:
        column = result[field.name]
        if field.type == pa.null():
            columns.append(pa.nulls(len(column)))
        elif column.type != field.type:
            columns.append(column.cast(field.type))
        else:
            columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


@functools.cache
def _duckdb_arrow_data() -> Any:
    """Ibis's Arrow result conversion, with DuckDB's NULL-typed columns (as Ibis's DuckDB
    backend does, without its module that imports pandas: 0.3 s of start-up)."""
    import pyarrow as pa
    from ibis.formats.pyarrow import PyArrowData

    class DuckDBArrowData(PyArrowData):
        @classmethod
        def convert_scalar(cls, scalar: pa.Scalar, dtype: Any) -> pa.Scalar:
            return pa.scalar(None) if dtype.is_null() else super().convert_scalar(scalar, dtype)

        @classmethod
        def convert_column(cls, column: pa.Array, dtype: Any) -> pa.Array:
            return (
                pa.nulls(len(column)) if dtype.is_null() else super().convert_column(column, dtype)
            )

    return DuckDBArrowData


def _arrow_spark_backend(session: Any) -> Any:
    """Ibis's PySpark backend, handing memtables to Spark as Arrow (types and NULLs kept)."""
    import ibis
    from ibis.backends.pyspark import Backend
    from ibis.backends.pyspark.datatypes import PySparkSchema

    _ = ibis.pyspark  # loading the backend by name registers its options (ibis.options.pyspark)

    class ArrowPySparkBackend(Backend):
        def _register_in_memory_table(self, op: Any) -> None:
            schema = PySparkSchema.from_ibis(op.schema)
            frame = self._session.createDataFrame(op.data.to_pyarrow(op.schema), schema=schema)
            frame.createOrReplaceTempView(op.name)

        def to_pyarrow(self, expr: Any, /, *, params: Any = None, limit: Any = None) -> Any:
            # Spark's own Arrow transfer (4.0+): no pandas round trip, NULL stays NULL
            from ibis.formats.pyarrow import PyArrowData

            table_expr = expr.as_table()
            self._run_pre_execute_hooks(table_expr)
            sql = self.compile(table_expr, params=params, limit=limit)
            with self._safe_raw_sql(sql) as query:
                output = query.toArrow()
            table = PyArrowData.convert_table(output, table_expr.schema())
            return expr.__pyarrow_result__(table)

    backend = ArrowPySparkBackend()
    backend.do_connect(session)
    return backend


_IBIS_TYPES = {
    "SMALLINT": "int16",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}


def _ibis_type(sql_type: str) -> str:
    return _IBIS_TYPES.get(sql_type.upper(), "string")


def spec_schema(name: str) -> ibis.Schema:
    """The Ibis schema of a table of verdikart.schema (columns, types as declared)."""
    import ibis

    return ibis.schema({c: _ibis_type(t) for c, t in TABLES[name].columns})


def _check_relation(name: str) -> None:
    if name not in RELATION_NAMES:
        raise EngineError(f"unknown relation {name!r}; relations: {', '.join(RELATION_NAMES)}")


def open_engine(
    engine: str,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    spark_master: str = "local[*]",
    spark_data: str | None = None,
) -> Engine:
    """The engine named by the settings: DuckDB over `con` (the store's), or Spark."""
    if engine == "duckdb":
        if con is None:
            raise EngineError("the duckdb engine needs the store's connection")
        return DuckDBEngine(con)
    if engine == "spark":
        return SparkEngine(spark_master, spark_data)
    raise EngineError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
