"""What every command shares: the per-invocation context, `--format`, and printing rows."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import pyarrow as pa

    from verdikart.app import Verdikart
    from verdikart.config import Settings
    from verdikart.store import Store

FORMATS = ("table", "json", "csv")


@dataclass
class Context:
    """Per-invocation state: the root command's options and the application core (lazy)."""

    store_path: str | None = None
    engine_name: str | None = None
    _app: Verdikart | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        from verdikart.config import Settings

        settings = Settings()
        if self.store_path:
            settings.store = Path(self.store_path)
        if self.engine_name:
            settings.engine = self.engine_name
        return settings

    def app(self) -> Verdikart:
        """The application core, created once per invocation (resources open on first use)."""
        if self._app is None:
            from verdikart.app import Verdikart

            self._app = Verdikart(self.settings())
        return self._app

    def store(self) -> Store:
        """The analytic store of the application core."""
        return self.app().store()


pass_context = click.make_pass_decorator(Context, ensure=True)


def format_option(*extra: str, default: str = "table") -> Any:
    """`--format table|json|csv` (plus any extra formats a command supports)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS + extra),
        default=default,
        show_default=True,
        help="Output format; json is a list of flat objects (or one object).",
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _flat(value: Any) -> Any:
    """A JSON scalar: a list of scalars joined with ', ' (as in csv); a mapping, or a list
    holding mappings or lists, as JSON text (so `json.loads` reads it back)."""
    if isinstance(value, list | tuple) and not any(
        isinstance(v, Mapping | list | tuple) for v in value
    ):
        return ", ".join("" if v is None else str(_jsonable(v)) for v in value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return _jsonable(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return str(value)


def render(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> str:
    """Render rows (or one object) as table, json or csv text."""
    if fmt == "json":
        # a list is of flat objects (a list or mapping inside becomes text, as in csv);
        # one object (a detail view such as `materials show`) keeps its nesting
        payload = (
            _jsonable(rows)
            if isinstance(rows, Mapping)
            else [{k: _flat(v) for k, v in row.items()} for row in rows]
        )
        return json.dumps(payload, ensure_ascii=False, indent=2)
    row_list: list[Mapping[str, Any]] = [rows] if isinstance(rows, Mapping) else list(rows)
    cols = list(columns) if columns else _columns(row_list)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(cols)
        for row in row_list:
            writer.writerow([_cell(row.get(c)) for c in cols])
        return buffer.getvalue().rstrip("\n")
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in cols:
        table.add_column(col, overflow="fold")
    for row in row_list:
        table.add_row(*(_cell(row.get(c)) for c in cols))
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip("\n")


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def emit(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    click.echo(render(rows, fmt, columns=columns, title=title))


def emit_arrow(table: pa.Table, fmt: str, columns: Sequence[str], title: str) -> None:
    """Print an Arrow table like `emit`; JSON via :func:`verdikart.report.json_rows.json_list`
    (the full GeoPolRisk matrix, ~47,000 rows, takes seconds through Python's encoder)."""
    if fmt == "json":
        from verdikart.report.json_rows import json_list

        click.echo(json_list(table, columns))
        return
    emit(table.select(list(columns)).to_pylist(), fmt, columns=columns, title=title)


def split_values(values: Sequence[str]) -> list[str] | None:
    """Repeatable, comma-separated option values; None when any of them is 'all'."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if part.casefold() == "all":
                return None
            if part not in out:
                out.append(part)
    return out
