"""Compiled SQL, kept: an Ibis expression's SQL is computed once and reused.

Compiling an Ibis expression to SQL costs 40-150 ms for an indicator of verdikart's size,
often more than running it on the bundled data. The SQL is a pure function of the expression
and of the compiler's version, so it is cached under a fingerprint of both:

* the **fingerprint** is a digest of the expression's operation graph (each operation's type
  and arguments; a table by its name and schema; an in-memory table by its schema and place
  in the graph, not its rows), so equal expressions built in different processes share one
  entry, and any change to an indicator's code that changes its expression changes the key:
  the cache is never stale;
* in-memory tables (``ibis.memtable``) get names from their place in the graph in the cached
  SQL (``vk_mt_0``, ``vk_mt_1``, ...); the caller registers their rows under those names to
  run it. The SQL names an in-memory table and never holds its rows, so one entry serves every
  expression that differs only in them: the same indicator for another country (whose
  reporters are an in-memory table) runs without compiling again;
* entries live in memory (per engine) and, when a folder is given, on disk (one file per
  entry, written atomically), so a command run again from the shell skips compiling too.

An expression holding anything this module cannot fingerprint is simply compiled each time.

**Prepared queries** go one step further. An indicator's expression is itself a pure function
of its builder's inputs (``trade_indicators_expr(rel, reporters, products, years, ...)``), and
building it costs more than compiling it (0.1-0.5 s of Ibis calls per indicator, plus 0.4 s of
importing Ibis). So :meth:`verdikart.engine.Engine.query` keeps, under a digest of the
builder's name and arguments, what running it needs: the SQL, the Arrow contents of its
in-memory tables and the Arrow schema Ibis gives its result. A command run again with the same
inputs runs the SQL without building (or importing) anything. The key also holds the version
of verdikart's code and reference data (every file of the package, by size and time) and of
the user-defined groups (:func:`verdikart.reference.countries.user_groups_state`), the only
inputs a builder reads besides its arguments; data are read when the SQL runs, so an import
needs no new entry.

A builder may declare **data parameters** (:func:`data_parameters`): Arrow tables whose rows
it only hands to the engine as an in-memory table, as they are, and never reads itself (the
reporters of ``trade_indicators_expr``). Their rows are then not part of the key, only their
schema, and the kept query names which in-memory table takes which argument's rows: the same
indicator for another country runs the kept SQL with that country's rows. A declared table
that the built expression does not hold as-is (or an empty one) keys by its rows as before.

**Shipped queries.** The package ships the prepared queries of the common questions
(``prepared/duckdb.arrow``, written by ``scripts/build_query_pack.py``), so that a new install
builds nothing either. They are keyed with the code taken by content
(:func:`shipped_code_version`), the same in every install of the same code; a query not kept
on disk is looked up there (:meth:`SqlCache.from_shipped`) before it is built.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import ibis.expr.operations as ops
    import ibis.expr.types as ir
    import pyarrow as pa

# entries kept in memory per engine, and files kept on disk (the oldest are removed beyond it)
MEMORY_ENTRIES = 512
DISK_ENTRIES = 4096
# a prepared query holding larger in-memory tables (a scenario's perturbed flows) is not kept
PREPARED_MAX_BYTES = 4_000_000
_MEMTABLE_PREFIX = "vk_mt_"
_PLAIN = (str, int, float, bool, type(None), date, datetime, time, timedelta, Decimal, bytes)


class Unfingerprintable(Exception):
    """The expression holds a value with no stable digest; compile it without the cache."""


@dataclass(frozen=True)
class CompiledQuery:
    """The SQL of one expression and the in-memory tables it reads (by their SQL names)."""

    sql: str
    memtables: Mapping[str, ops.InMemoryTable]


def fingerprint(op: ops.Node) -> tuple[str, dict[str, ops.InMemoryTable], dict[str, str]]:
    """A stable digest of an operation graph (in-memory tables by schema and place, not rows),
    its in-memory tables by their names in the cached SQL, and the SQL name of each in-memory
    table's own (random) name."""
    import ibis.expr.operations as ops
    from ibis.common.graph import Graph

    digests: dict[ops.Node, str] = {}
    memtables: dict[str, ops.InMemoryTable] = {}
    renamed: dict[str, str] = {}
    ordered, _ = Graph.from_bfs(op).toposort()
    symmetric = (ops.Equals, ops.NotEquals, ops.IdenticalTo, ops.And, ops.Or)
    # a reference (`.view()`, a join's side) carries a number from a process-wide counter;
    # it is replaced by its rank among the graph's references to the same relation (two
    # references to one relation are made in the same order by every build of the same
    # code; were they not, it would only cost a compile, never give another query's SQL)
    same_parent: dict[ops.Node, list[int]] = {}
    for node in ordered:
        if isinstance(node, ops.Reference):
            same_parent.setdefault(node.parent, []).append(node.identifier)
    for node in ordered:  # children before parents
        if isinstance(node, ops.Reference):
            place = sorted(same_parent[node.parent]).index(node.identifier)
            text = f"{type(node).__qualname__}({digests[node.parent]},{place})"
        elif isinstance(node, ops.InMemoryTable):
            # its place among the graph's in-memory tables (children first, as built): the
            # same in every build of the same code, whatever the rows
            place = len(memtables)
            memtables[f"{_MEMTABLE_PREFIX}{place}"] = node
            renamed[node.name] = f"{_MEMTABLE_PREFIX}{place}"
            text = f"InMemoryTable({place},{node.schema!r})"
        elif isinstance(node, ops.DatabaseTable):
            if node.name.startswith("ibis_"):  # a generated name (Table.cache()): never equal
                raise Unfingerprintable(node.name)
            # the table's name and schema make its SQL; the connection (source) does not
            text = f"DatabaseTable({node.name!r},{node.schema!r},{node.namespace!r})"
        else:
            parts = [_arg_text(arg, digests) for arg in node.__args__]
            if isinstance(node, symmetric):
                # `a = b` and `b = a` are one query: Ibis writes a join's condition either way
                # round, depending on how the expression was built
                parts.sort()
            text = f"{type(node).__module__}.{type(node).__qualname__}({','.join(parts)})"
        digests[node] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return digests[op], memtables, renamed


def _arg_text(arg: Any, digests: Mapping[Any, str]) -> str:
    import ibis.expr.datatypes as dt
    import ibis.expr.operations as ops
    import ibis.expr.schema as sch

    if isinstance(arg, ops.Node):
        return digests[arg]
    if isinstance(arg, _PLAIN):
        return f"{type(arg).__name__}:{arg!r}"
    if isinstance(arg, dt.DataType | sch.Schema | Enum):
        return repr(arg)
    if isinstance(arg, tuple | list | frozenset):
        items = [_arg_text(a, digests) for a in arg]
        if isinstance(arg, frozenset):
            items.sort()
        return "(" + ",".join(items) + ")"
    if isinstance(arg, Mapping):
        return "{" + ",".join(f"{k!r}:{_arg_text(v, digests)}" for k, v in arg.items()) + "}"
    raise Unfingerprintable(type(arg).__name__)


def memtable_arrow(node: ops.InMemoryTable) -> pa.Table:
    """The rows of an in-memory table as Arrow (as Ibis itself registers them)."""
    return node.data.to_pyarrow(node.schema)


@dataclass(frozen=True)
class PreparedQuery:
    """What running a builder's expression needs, without the expression: its SQL, the Arrow
    contents of the in-memory tables it reads (by their SQL names) and its result's schema
    (as Ibis types it: the engine's raw result is cast to it)."""

    sql: str
    memtables: Mapping[str, pa.Table]
    schema: pa.Schema
    # in-memory tables that take a data parameter's rows: SQL name -> parameter name
    bound: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.memtables.values())

    def tables(self, data: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
        """The in-memory tables to register, the bound ones with the rows in `data`."""
        return {**self.memtables, **{name: data[param] for name, param in self.bound.items()}}


DATA_PARAMETERS = "__verdikart_data_parameters__"
B = TypeVar("B", bound=Callable[..., Any])


def data_parameters(*names: str) -> Callable[[B], B]:
    """Declare a builder's parameters whose Arrow tables are data only: the builder makes an
    in-memory table of each as it is and reads none of its rows itself (no codes, counts or
    columns taken from them), so the same SQL serves any rows of the same schema."""

    def declare(builder: B) -> B:
        setattr(builder, DATA_PARAMETERS, frozenset(names))
        return builder

    return declare


def bind_data(
    memtables: Mapping[str, pa.Table], data: Mapping[str, pa.Table]
) -> dict[str, str] | None:
    """Which in-memory tables of a built query hold a data parameter's rows as they are
    (SQL name -> parameter); None when a data parameter has none, so its rows may have shaped
    the query (it is then kept by its rows)."""
    bound = {
        name: param
        for name, table in memtables.items()
        for param, rows in data.items()
        if table.schema == rows.schema and table.equals(rows)
    }
    return bound if set(bound.values()) == set(data) else None


@functools.cache
def _compiler_version() -> str:
    """The versions of Ibis and sqlglot, which write the SQL, read from their files (importing
    them costs 0.4 s; asking the installed packages' metadata 0.1 s)."""
    import importlib.util

    texts = []
    for module, file in (("ibis", "__init__.py"), ("sqlglot", "_version.py")):
        spec = importlib.util.find_spec(module)
        folder = None if spec is None or spec.origin is None else Path(spec.origin).parent
        try:
            texts.append(f"{module}:{(folder / file).read_text('utf-8')}" if folder else module)
        except OSError:
            texts.append(f"{module}:?")
    return hashlib.blake2b("|".join(texts).encode(), digest_size=16).hexdigest()


def inputs_key(
    builder: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    by_rows: bool = False,
    shipped: bool = False,
) -> tuple[str, dict[str, pa.Table]]:
    """A digest of a builder and its arguments, with the versions its output depends on, and
    the builder's data parameters (:func:`data_parameters`) that the digest takes by schema
    only: the non-empty Arrow tables given for them (none with `by_rows`). With `shipped`,
    the key of the queries shipped with the package (the code by content, not by file times).
    Raises Unfingerprintable for an argument with no stable digest."""
    import pyarrow as pa

    from verdikart.reference.countries import user_groups_state

    declared: frozenset[str] = getattr(builder, DATA_PARAMETERS, frozenset())
    data: dict[str, pa.Table] = {}
    params: list[str] = []
    if declared and not by_rows:
        # the relations come first: the arguments after it, by the builder's names
        signature = inspect.signature(builder)
        params = list(signature.parameters)[1:]
        named = signature.bind_partial(None, *args, **kwargs).arguments
        data = {
            name: value
            for name, value in named.items()
            if name in declared and isinstance(value, pa.Table) and value.num_rows > 0
        }

    def text(name: str | None, value: Any) -> str:
        if name in data:
            return f"rows-of:{_schema_digest(value)}"
        return _input_text(value)

    parts = [
        _compiler_version(),
        f"{builder.__module__}.{builder.__qualname__}",
        shipped_code_version() if shipped else _code_version(),
        repr(user_groups_state()),
        *(text(params[i] if i < len(params) else None, a) for i, a in enumerate(args)),
        *(f"{k}={text(k, v)}" for k, v in sorted(kwargs.items())),
    ]
    return hashlib.blake2b("|".join(parts).encode(), digest_size=20).hexdigest(), data


def _schema_digest(table: pa.Table) -> str:
    return hashlib.blake2b(table.schema.serialize().to_pybytes(), digest_size=16).hexdigest()


def _input_text(value: Any) -> str:
    import pyarrow as pa

    if isinstance(value, _PLAIN):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, pa.Table):
        return f"table:{_arrow_digest(value)}"
    if isinstance(value, tuple | list | frozenset | set):
        items = [_input_text(v) for v in value]
        if isinstance(value, frozenset | set):
            items.sort()
        return f"{type(value).__name__}(" + ",".join(items) + ")"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k!r}:{_input_text(v)}" for k, v in value.items()) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(
            f"{f.name}={_input_text(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__module__}.{type(value).__qualname__}({fields})"
    raise Unfingerprintable(type(value).__name__)


@functools.cache
def _code_version() -> str:
    """verdikart's code and reference data: every file of the package by path, size and
    modification time (listed once per process: the code does not change under it)."""
    root = Path(__file__).parent
    stamps = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".tmp")):
                continue
            stat = os.stat(os.path.join(folder, name))
            stamps.append(
                f"{os.path.relpath(folder, root)}/{name}:{stat.st_size}:{stat.st_mtime_ns}"
            )
    return hashlib.blake2b("\n".join(stamps).encode(), digest_size=16).hexdigest()


@functools.cache
def shipped_code_version() -> str:
    """verdikart's code and reference data by content, the same in every install of the same
    code (the prepared queries shipped with the package are keyed by it): every ``.py`` file
    and every file of ``reference/data`` by path and content, and the bundled Parquet files by
    path and size (their rows are read when the SQL runs, not by a builder; reading their
    13 MB would cost 60 ms more). Computed only when a query is not kept on disk (10-20 ms)."""
    root = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=16)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        relative = Path(folder).relative_to(root).as_posix()
        for name in sorted(files):
            path = Path(folder, name)
            if name.endswith(".py") or relative.startswith("reference/data"):
                digest.update(f"{relative}/{name}:".encode() + path.read_bytes())
            elif relative == "bundled" and name.endswith(".parquet"):
                digest.update(f"{relative}/{name}:{path.stat().st_size}".encode())
    return digest.hexdigest()


def _arrow_digest(table: pa.Table) -> str:
    """A digest of a table's schema and rows (of its Arrow IPC stream)."""
    return hashlib.blake2b(_ipc_bytes(table), digest_size=16).hexdigest()


def _ipc_bytes(table: pa.Table) -> bytes:
    """A table as one Arrow IPC stream."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _prepared_bytes(prepared: PreparedQuery) -> bytes:
    """One Arrow IPC stream: a row per in-memory table (its name and its own IPC stream);
    the SQL and the result schema in the schema's metadata."""
    import pyarrow as pa

    streams = [_ipc_bytes(table) for table in prepared.memtables.values()]
    index = pa.table(
        {
            "name": pa.array(list(prepared.memtables), pa.string()),
            "ipc": pa.array(streams, pa.binary()),
        }
    ).replace_schema_metadata(
        {
            b"sql": prepared.sql.encode(),
            b"schema": prepared.schema.serialize().to_pybytes(),
            b"bound": json.dumps(dict(prepared.bound)).encode(),
        }
    )
    return _ipc_bytes(index)


def _prepared_from_bytes(data: bytes) -> PreparedQuery:
    import pyarrow as pa

    index = pa.ipc.open_stream(data).read_all()
    meta = index.schema.metadata or {}
    names = index.column("name").to_pylist()
    streams = index.column("ipc").to_pylist()
    return PreparedQuery(
        sql=meta[b"sql"].decode(),
        memtables={
            n: pa.ipc.open_stream(s).read_all() for n, s in zip(names, streams, strict=True)
        },
        schema=pa.ipc.read_schema(pa.py_buffer(meta[b"schema"])),
        bound=json.loads(meta[b"bound"]),
    )


def shipped_pack_path(dialect: str) -> Path:
    """The prepared queries shipped with the package for `dialect` (one Arrow IPC file,
    written by ``scripts/build_query_pack.py``)."""
    return Path(__file__).parent / "prepared" / f"{dialect}.arrow"


def write_shipped_pack(path: Path, entries: Mapping[str, bytes]) -> None:
    """Write prepared queries (shipped key -> :func:`_prepared_bytes`) as a pack file, sorted
    by key (the same queries give the same file), with the versions they were made by."""
    import pyarrow as pa

    keys = sorted(entries)
    table = pa.Table.from_arrays(
        [pa.array(keys, pa.string()), pa.array([entries[k] for k in keys], pa.binary())],
        names=["key", "prepared"],
    ).replace_schema_metadata(
        {"code_version": shipped_code_version(), "compiler_version": _compiler_version()}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_file(str(path), table.schema, options=options) as writer:
        writer.write_table(table)


def _versions_of(meta: Mapping[bytes, bytes] | None) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in (meta or {}).items()}


def pack_versions(path: Path) -> dict[str, str]:
    """The code and compiler versions a pack file was made by (empty if it is unreadable)."""
    import pyarrow as pa

    try:
        with pa.memory_map(str(path)) as source:
            return _versions_of(pa.ipc.open_file(source).schema.metadata)
    except (OSError, ValueError):  # absent, or not a pack (pyarrow's errors are ValueErrors)
        return {}


def _read_pack(path: Path) -> dict[str, bytes]:
    """A pack's entries, if it was made by this code and compiler (else none: every key
    would miss); the file is opened once, its entries read only when the versions match."""
    import pyarrow as pa

    current = {"code_version": shipped_code_version(), "compiler_version": _compiler_version()}
    try:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            if _versions_of(reader.schema.metadata) != current:
                return {}
            table = reader.read_all()
    except (OSError, ValueError):  # absent, not a pack, or damaged: build instead
        return {}
    return dict(
        zip(table.column("key").to_pylist(), table.column("prepared").to_pylist(), strict=True)
    )


class SqlCache:
    """Compiled SQL by fingerprint, and prepared queries by their builder's inputs: in memory,
    in `folder` when one is given, and (read only) in the pack shipped with the package."""

    def __init__(
        self, dialect: str, folder: Path | None = None, shipped: Path | None = None
    ) -> None:
        self._dialect = dialect
        self._version = f"{dialect}|{_compiler_version()}"
        self._folder = folder
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._prepared: OrderedDict[str, PreparedQuery] = OrderedDict()
        self._lock = threading.Lock()  # web requests share one cache across threads
        self._pruned = False
        self._shipped_path = shipped
        self._shipped: dict[str, bytes] | None = None  # the pack, read on the first miss
        self._shipping: dict[str, bytes] | None = None  # entries for a new pack (start_shipping)

    def compiled(self, expr: ir.Table, compile_sql: Callable[[ir.Table], str]) -> CompiledQuery:
        """The SQL of `expr`, from the cache or from `compile_sql` (then kept)."""
        import ibis.expr.operations as ops

        try:
            digest, memtables, renamed = fingerprint(expr.op())
        except Unfingerprintable:
            plain = compile_sql(expr)
            return CompiledQuery(plain, {m.name: m for m in expr.op().find(ops.InMemoryTable)})
        key = hashlib.blake2b(f"{self._version}|{digest}".encode(), digest_size=20).hexdigest()
        with self._lock:
            kept = self._memory.get(key)
        sql = kept if kept is not None else self._read(key)
        if sql is None:
            sql = compile_sql(expr)
            for own_name, sql_name in renamed.items():
                sql = sql.replace(own_name, sql_name)
            self._write(key, sql)
        with self._lock:
            self._memory[key] = sql
            self._memory.move_to_end(key)
            while len(self._memory) > MEMORY_ENTRIES:
                self._memory.popitem(last=False)
        return CompiledQuery(sql, memtables)

    def prepared(self, key: str) -> PreparedQuery | None:
        """The prepared query kept under `key` (see :func:`inputs_key`), or None."""
        with self._lock:
            kept = self._prepared.get(key)
            if kept is not None:
                self._prepared.move_to_end(key)
                return kept
        path = self._path(key, ".prepared")
        if path is None:
            return None
        try:
            kept = _prepared_from_bytes(path.read_bytes())
        except OSError:  # absent (the usual case) or unreadable: build instead
            return None
        except (ValueError, KeyError, IndexError):  # damaged (pyarrow's errors are ValueErrors)
            return None
        self._remember(key, kept)
        return kept

    def from_shipped(self, shipped_key: str, key: str) -> PreparedQuery | None:
        """The prepared query the package ships under `shipped_key`, or None; a query found
        is kept under `key` too, so the next run finds it without the shipped key."""
        if self._shipped_path is None:
            return None
        with self._lock:
            if self._shipped is None:
                self._shipped = _read_pack(self._shipped_path)
            data = self._shipped.get(shipped_key)
        if data is None:
            return None
        try:
            prepared = _prepared_from_bytes(data)
        except (ValueError, KeyError, IndexError):  # damaged: build instead
            return None
        self._remember(key, prepared)
        self._write(key, data, ".prepared")
        return prepared

    def keep(self, key: str, prepared: PreparedQuery, shipped_key: str | None = None) -> None:
        """Keep a prepared query under `key` (unless its in-memory tables are large), and under
        `shipped_key` in the new pack when one is being made (:meth:`start_shipping`)."""
        if prepared.nbytes > PREPARED_MAX_BYTES:
            return
        self._remember(key, prepared)
        data = _prepared_bytes(prepared)
        self._write(key, data, ".prepared")
        if self._shipping is not None and shipped_key is not None:
            with self._lock:
                self._shipping[shipped_key] = data

    def start_shipping(self) -> None:
        """Collect every query kept from now on for a new pack (``scripts/build_query_pack.py``);
        the shipped pack is no longer read, so every query is built and collected."""
        self._shipped_path = None
        self._shipping = {}

    def shipping(self) -> dict[str, bytes]:
        """The entries collected since :meth:`start_shipping` (shipped key -> bytes)."""
        return dict(self._shipping or {})

    def _remember(self, key: str, prepared: PreparedQuery) -> None:
        with self._lock:
            self._prepared[key] = prepared
            self._prepared.move_to_end(key)
            while len(self._prepared) > MEMORY_ENTRIES:
                self._prepared.popitem(last=False)

    def _path(self, key: str, suffix: str = ".sql") -> Path | None:
        return None if self._folder is None else self._folder / key[:2] / f"{key}{suffix}"

    def _read(self, key: str) -> str | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8")
        except OSError:  # absent (the usual case) or unreadable: compile instead
            return None

    def _write(self, key: str, content: str | bytes, suffix: str = ".sql") -> None:
        path = self._path(key, suffix)
        if path is None:
            return
        data = content.encode("utf-8") if isinstance(content, str) else content
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename: a reader never sees half a file, even with writers racing
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
            self._prune()
        except OSError:  # a read-only or full disk only costs the next run a compile
            return

    def _prune(self) -> None:
        """Keep the newest DISK_ENTRIES files (checked once per process: listing is slow)."""
        if self._pruned or self._folder is None:
            return
        self._pruned = True
        files = [p for p in self._folder.glob("*/*") if p.suffix in (".sql", ".prepared")]
        if len(files) <= DISK_ENTRIES:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for old in files[: len(files) - DISK_ENTRIES]:
            old.unlink(missing_ok=True)
