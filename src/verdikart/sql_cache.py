"""Compiled SQL, kept: an Ibis expression's SQL is computed once and reused.

Compiling an Ibis expression to SQL costs 40-150 ms for an indicator of verdikart's size,
often more than running it on the bundled data. The SQL is a pure function of the expression
and of the compiler's version, so it is cached under a fingerprint of both:

* the **fingerprint** is a digest of the expression's operation graph (each operation's type
  and arguments; a table by its name and schema; a small in-memory table by its content), so
  equal expressions built in different processes share one entry, and any change to an
  indicator's code that changes its expression changes the key: the cache is never stale;
* small in-memory tables (``ibis.memtable``) get names made from their content in the cached
  SQL (``vk_mt_<digest>``); the caller registers them under those names to run it;
* entries live in memory (per engine) and, when a folder is given, on disk (one file per
  entry, written atomically), so a command run again from the shell skips compiling too.

An expression holding anything this module cannot fingerprint is simply compiled each time.
"""

from __future__ import annotations

import hashlib
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.operations as ops
    import ibis.expr.types as ir
    import pyarrow as pa

# entries kept in memory per engine, and files kept on disk (the oldest are removed beyond it)
MEMORY_ENTRIES = 512
DISK_ENTRIES = 4096
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
    """A stable digest of an operation graph, its in-memory tables by content name, and the
    content name of each in-memory table's own (random) name: two tables of equal rows get
    one content name."""
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
            content = _memtable_digest(node)
            memtables[_MEMTABLE_PREFIX + content] = node
            renamed[node.name] = _MEMTABLE_PREFIX + content
            text = f"InMemoryTable({content},{node.schema!r})"
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


def _memtable_digest(node: ops.InMemoryTable) -> str:
    import pyarrow as pa

    table = memtable_arrow(node)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.blake2b(sink.getvalue().to_pybytes(), digest_size=16).hexdigest()


def memtable_arrow(node: ops.InMemoryTable) -> pa.Table:
    """The rows of an in-memory table as Arrow (as Ibis itself registers them)."""
    return node.data.to_pyarrow(node.schema)


class SqlCache:
    """Compiled SQL by fingerprint: in memory, and in `folder` when one is given."""

    def __init__(self, dialect: str, folder: Path | None = None) -> None:
        import ibis
        import sqlglot

        self._dialect = dialect
        self._version = f"{dialect}|ibis {ibis.__version__}|sqlglot {sqlglot.__version__}"
        self._folder = folder
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()  # web requests share one cache across threads
        self._pruned = False

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
            for own_name, content_name in renamed.items():
                sql = sql.replace(own_name, content_name)
            self._write(key, sql)
        with self._lock:
            self._memory[key] = sql
            self._memory.move_to_end(key)
            while len(self._memory) > MEMORY_ENTRIES:
                self._memory.popitem(last=False)
        return CompiledQuery(sql, memtables)

    def _path(self, key: str) -> Path | None:
        return None if self._folder is None else self._folder / key[:2] / f"{key}.sql"

    def _read(self, key: str) -> str | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8")
        except OSError:  # absent (the usual case) or unreadable: compile instead
            return None

    def _write(self, key: str, sql: str) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename: a reader never sees half a file, even with writers racing
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(sql)
            os.replace(tmp, path)
            self._prune()
        except OSError:  # a read-only or full disk only costs the next run a compile
            return

    def _prune(self) -> None:
        """Keep the newest DISK_ENTRIES files (checked once per process: listing is slow)."""
        if self._pruned or self._folder is None:
            return
        self._pruned = True
        files = list(self._folder.glob("*/*.sql"))
        if len(files) <= DISK_ENTRIES:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for old in files[: len(files) - DISK_ENTRIES]:
            old.unlink(missing_ok=True)
