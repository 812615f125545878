"""What every command shares: the per-invocation context, `--format` (with `--out` and
`--csv-style`), the input rules, and printing rows.

Printing goes through :func:`render` / :func:`emit` / :func:`emit_arrow`: a table fitted to the
terminal (:mod:`verdikart.cli.output`), JSON, CSV (`--csv-style nb` for Norwegian Excel) or a
formatted workbook (`--format xlsx --out FILE`, :mod:`verdikart.report.xlsx`); with `--out`
every format goes to the file. Option values follow one set of rules
(:mod:`verdikart.reference.inputs`): names in English or Norwegian, codes, list short names,
years as 2018-2022, 2020,2022 or latest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from verdikart.errors import VerdikartError

if TYPE_CHECKING:
    import pyarrow as pa

    from verdikart.app import Verdikart
    from verdikart.config import Settings
    from verdikart.reference.inputs import YearSpec
    from verdikart.store import Store

FORMATS = ("table", "json", "csv", "xlsx")
ARGV_KEY = "verdikart.argv"


@dataclass
class Context:
    """Per-invocation state: the root command's options and the application core (lazy).

    `lang` (--lang), `rows` (--rows) and the output options of the command (`out`,
    `csv_style`, set by :func:`format_option`'s --out and --csv-style) are read when printing.
    """

    store_path: str | None = None
    engine_name: str | None = None
    lang: str | None = None
    rows: int | None = None
    out: str | None = None
    csv_style: str | None = None
    # the invocation is the `verdikart` program's own process (main()), not a caller's Python
    # (a test, a notebook): it may hide pandas from itself (verdikart.no_pandas)
    own_process: bool = False
    _app: Verdikart | None = field(default=None, repr=False)
    _sheets: list[Any] = field(default_factory=list, repr=False)
    _written: set[str] = field(default_factory=set, repr=False)

    def settings(self) -> Settings:
        from verdikart.config import Settings

        settings = Settings()
        if self.store_path:
            settings.store = Path(self.store_path)
        if self.engine_name:
            settings.engine = self.engine_name
        if self.lang:
            settings.language = self.lang
        return settings

    def language(self) -> str:
        """'nb' or 'en' (--lang, else VERDIKART_LANGUAGE)."""
        from verdikart.report.labels import language

        return language(self.lang or self.settings().language)

    def app(self) -> Verdikart:
        """The application core, created once per invocation (resources open on first use)."""
        if self._app is None:
            from verdikart.app import Verdikart

            if self.own_process:
                from verdikart.no_pandas import hide_pandas

                hide_pandas()
            self._app = Verdikart(self.settings())
        return self._app

    def store(self) -> Store:
        """The analytic store of the application core."""
        return self.app().store()


pass_context = click.make_pass_decorator(Context, ensure=True)


def _remember(name: str) -> Any:
    """An option callback keeping the value on the invocation's Context (not a parameter of
    the command function, so every command using format_option gets the option unchanged)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is not None:
            setattr(ctx.ensure_object(Context), name, value)
        return value

    return callback


def format_option(*extra: str, default: str = "table", out: bool = True) -> Any:
    """`--format table|json|csv|xlsx` (plus any extra formats a command supports), with
    `--out FILE` (required for xlsx; out=False for commands with their own) and
    `--csv-style en|nb`."""
    choices = FORMATS + tuple(e for e in extra if e not in FORMATS)

    def decorate(f: Any) -> Any:
        f = click.option(
            "--csv-style",
            type=click.Choice(["en", "nb"]),
            default=None,
            expose_value=False,
            callback=_remember("csv_style"),
            help="CSV for English (comma, decimal point; default) or Norwegian Excel "
            "(semicolon, decimal comma, UTF-8 with BOM).",
        )(f)
        if out:
            f = click.option(
                "--out",
                type=click.Path(dir_okay=False),
                default=None,
                expose_value=False,
                callback=_remember("out"),
                help="Write to this file instead of the terminal (required for xlsx).",
            )(f)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="Output format: table (for reading), json (a list of flat objects, or one "
            "object), csv, or xlsx (a formatted workbook with a sources sheet; needs --out).",
        )(f)

    return decorate


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
    """A CSV cell (English style): 6 significant digits, never scientific notation."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        text = f"{value:.6g}"
        if "e" in text:
            from verdikart.report.labels import plain

            text = plain(value) if abs(value) >= 1 else format(Decimal(text), "f")
        return text
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return str(value)


def _invocation() -> Context | None:
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.find_object(Context)


def render(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    total: int | None = None,
) -> str:
    """Render rows (or one object) as table, json or csv text.

    A table fits the terminal (readable headers with units, formatted numbers, at most
    `--rows` rows with a count and a hint; `total` = the full count when `rows` were cut
    before); csv follows `--csv-style`. xlsx is written by :func:`emit` (it needs --out).
    """
    if fmt == "json":
        # a list is of flat objects (a list or mapping inside becomes text, as in csv);
        # one object (a detail view such as `materials show`) keeps its nesting
        payload = (
            _jsonable(rows)
            if isinstance(rows, Mapping)
            else [{k: _flat(v) for k, v in row.items()} for row in rows]
        )
        return json.dumps(payload, ensure_ascii=False, indent=2)
    from verdikart.cli import output

    if fmt == "table" and isinstance(rows, Mapping) and columns is None:
        return output.record_text(rows, title=title)
    row_list: list[Mapping[str, Any]] = [rows] if isinstance(rows, Mapping) else list(rows)
    cols = list(columns) if columns else _columns(row_list)
    if fmt == "csv":
        obj = _invocation()
        style = (obj.csv_style if obj is not None else None) or "en"
        return output.csv_text(row_list, cols, _cell, style)
    return output.table_text(row_list, cols, title=title, total=total)


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def command_line() -> str:
    """The command line of this invocation as typed ('verdikart geopolrisk -m kobolt')."""
    import shlex

    ctx = click.get_current_context(silent=True)
    argv: list[str] | None = None
    root = ctx.find_root() if ctx is not None else None
    if root is not None:
        argv = root.meta.get(ARGV_KEY)
    if argv is None:
        import sys

        argv = sys.argv[1:]
    return shlex.join(["verdikart", *argv])


def _sources_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    found: dict[str, None] = {}
    for key in ("source", "production_source", "sources"):
        for row in rows[:100_000]:
            value = row.get(key)
            if isinstance(value, str) and value:
                found.setdefault(value, None)
            elif isinstance(value, list | tuple):
                for v in value:
                    found.setdefault(str(v), None)
    return list(found)


def write_out(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: str,
    path: str,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    sources: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> None:
    """Write rows to `path` in `fmt` (xlsx: a formatted workbook with a sources sheet; a second
    call in one invocation adds a sheet) and say so on stderr."""
    from verdikart.cli.output import tr

    obj = _invocation() or Context()
    target = Path(path)
    if fmt == "xlsx":
        from verdikart.report.xlsx import Sheet, write_xlsx

        row_list: list[Mapping[str, Any]] = (
            [{k: _flat(v) for k, v in rows.items()}] if isinstance(rows, Mapping) else list(rows)
        )
        name = title or (target.stem if not obj._sheets else f"{target.stem} {len(obj._sheets)}")
        obj._sheets.append(Sheet(name, row_list, columns, list(notes)))
        store_rows: Sequence[Mapping[str, Any]] = []
        if obj._app is not None:
            try:
                store_rows = obj._app.data_status()
            except VerdikartError:  # the sources sheet must not stop the output
                store_rows = []
        all_sources = list(sources)
        for sheet in obj._sheets:
            all_sources.extend(_sources_of(sheet.rows))
        write_xlsx(
            target,
            obj._sheets,
            command=command_line(),
            sources=all_sources,
            store_sources=store_rows,
            lang=obj.language(),
        )
    else:
        text = render(rows, fmt, columns=columns, title=title) + "\n"
        csv_nb = fmt == "csv" and obj.csv_style == "nb"
        mode = "a" if path in obj._written else "w"
        encoding = "utf-8-sig" if csv_nb and mode == "w" else "utf-8"
        with target.open(mode, encoding=encoding, newline="") as fh:
            fh.write(text)
    obj._written.add(path)
    click.echo(tr(f"wrote {path}", f"skrev {path}"), err=True)


def emit(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    total: int | None = None,
    sources: Sequence[str] = (),
) -> None:
    """Print rows (or one object) in `fmt`, or write them to `--out` when given."""
    obj = _invocation()
    out = obj.out if obj is not None else None
    if fmt == "xlsx" and not out:
        raise click.UsageError("--format xlsx needs --out FILE (e.g. --out result.xlsx)")
    if out:
        write_out(rows, fmt, out, columns=columns, title=title, sources=sources)
        return
    text = render(rows, fmt, columns=columns, title=title, total=total)
    if fmt == "csv" and obj is not None and obj.csv_style == "nb":
        text = "\ufeff" + text
    click.echo(text)


def emit_arrow(
    table: pa.Table, fmt: str, columns: Sequence[str], title: str, *, sources: Sequence[str] = ()
) -> None:
    """Print an Arrow table like `emit`; JSON via :func:`verdikart.report.json_rows.json_list`
    (the full GeoPolRisk matrix, ~47,000 rows, takes seconds through Python's encoder); a
    table converts only the rows it shows."""
    obj = _invocation()
    out = obj.out if obj is not None else None
    if fmt == "json" and not out:
        from verdikart.report.json_rows import json_list

        click.echo(json_list(table, columns))
        return
    if fmt == "table" and not out:
        from verdikart.cli.output import max_rows

        shown = table.slice(0, max_rows()).select(list(columns)).to_pylist()
        emit(shown, fmt, columns=columns, title=title, total=table.num_rows)
        return
    emit(
        table.select(list(columns)).to_pylist(), fmt, columns=columns, title=title, sources=sources
    )


def split_values(values: Sequence[str]) -> list[str] | None:
    """Repeatable, comma-separated option values; None when any of them is 'all'."""
    from verdikart.reference.inputs import split_values as split

    return split(values)


def split_years(values: Sequence[str]) -> list[int] | None:
    """Years from repeatable/comma-separated values and ranges (2018-2022); None for 'all'.
    ('latest' needs the years with data: use :func:`parse_years` and resolve it there.)"""
    from verdikart.reference.inputs import parse_years

    spec = parse_years(values)
    if spec.latest:
        raise click.BadParameter("'latest' is not accepted here", param_hint="--year")
    return spec.explicit()


def parse_years(values: Sequence[str] | str | None, default: str = "all") -> YearSpec:
    """Years as typed (2022, 2018-2022, 2020,2022, latest, all) for the use case to resolve."""
    from verdikart.reference.inputs import parse_years as parse

    return parse(values, default=default)


YEAR_HELP = "Year, range or list (2022, 2018-2022, 2020,2022), 'latest' or 'all'."
MATERIAL_HELP = (
    "Material: id or name in English or Norwegian (cobalt, kobolt, 'Natural Graphite'); "
    "repeatable or comma-separated; 'all'."
)
COUNTRY_HELP = (
    "Country: ISO2/ISO3/numeric or BACI code, English or Norwegian name (NOR, Norge, "
    "Sverige), or a group (EU27, NATO, NORDIC, ...); repeatable or comma-separated; 'all'."
)


def country_ids(values: Sequence[str]) -> list[str] | None:
    """ISO3 codes or group ids from any code or name (Norge, Sverige, nato); None for 'all'.
    Unknown names: UnknownCodeError with suggestions (exit 2)."""
    from verdikart.reference.inputs import country_ids as resolve

    return resolve(values)


def material_ids(values: Sequence[str]) -> list[str] | None:
    """Material ids from any name the reference knows (kobolt -> cobalt); None for 'all'."""
    from verdikart.reference.inputs import material_ids as resolve

    return resolve(values)


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner with elapsed time on stderr while long work runs (only on a terminal)."""
    import sys

    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        bar.add_task(message, total=None)
        yield
