"""Printing results for people: tables that fit the terminal, and the files of `--out`.

Owns the terminal layout of every command's rows (:func:`table_text`): the terminal's real width
(click's `terminal_width`, else COLUMNS, else the tty, else 80), readable headers with units and
formatted numbers from :mod:`verdikart.report.labels`, at most `--rows` rows with the count and
a hint, and a layout that never runs past the width: all columns when they fit; a few rows turned
on their side (one column per row) or shown as records when they do not; many rows with the
columns that fit, naming the ones left out. Also the CSV styles (`--csv-style nb`: semicolon,
decimal comma, UTF-8 with BOM for Norwegian Excel) and the per-invocation output settings read
from click's context (`--lang`, `--rows`, `--out`, `--csv-style`).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import click

from verdikart.report.labels import column, display, is_numeric, label, language

DEFAULT_ROWS = 100
MAX_TABLE_ROWS = 5000
MIN_WIDTH = 40
_TEXT_MIN = 14  # a text column narrower than this wraps too often to read


def _root_obj() -> Any:
    """The invocation's :class:`verdikart.cli.common.Context` (None outside a command)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    from verdikart.cli.common import Context

    return ctx.find_object(Context)


def terminal_width() -> int:
    """The width to print at: click's terminal_width (tests), COLUMNS, the tty, else 80."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.terminal_width:
            return max(MIN_WIDTH, int(ctx.terminal_width))
        ctx = ctx.parent
    env = os.environ.get("COLUMNS", "")
    if env.strip().isdigit():
        return max(MIN_WIDTH, int(env))
    return max(MIN_WIDTH, shutil.get_terminal_size((80, 24)).columns)


def current_language() -> str:
    """'nb' or 'en': `--lang`, else VERDIKART_LANGUAGE (settings.language)."""
    obj = _root_obj()
    if obj is not None and getattr(obj, "lang", None):
        return language(obj.lang)
    from verdikart.config import Settings

    return language(Settings().language)


def max_rows() -> int:
    """Rows a terminal table shows (`--rows`; 0 = all, up to MAX_TABLE_ROWS)."""
    obj = _root_obj()
    rows = getattr(obj, "rows", None) if obj is not None else None
    if rows is None:
        return DEFAULT_ROWS
    return MAX_TABLE_ROWS if rows <= 0 else min(rows, MAX_TABLE_ROWS)


def tr(en: str, nb: str) -> str:
    """The message in the current language."""
    return nb if current_language() == "nb" else en


def wrap(text: str, width: int | None = None) -> str:
    """Text wrapped to the terminal width (long words broken, nothing runs past it)."""
    w = width or terminal_width()
    return "\n".join(
        textwrap.fill(par, w, break_long_words=True, break_on_hyphens=False) if par else ""
        for par in text.split("\n")
    )


# ---------------------------------------------------------------- CSV


def csv_text(
    rows: Sequence[Mapping[str, Any]], cols: Sequence[str], cell: Any, style: str = "en"
) -> str:
    """CSV: 'en' comma and dot (as before); 'nb' semicolon and decimal comma (the BOM is added
    when written to a file or the terminal by :func:`verdikart.cli.common.emit`)."""
    from verdikart.report.labels import plain

    buffer = io.StringIO()
    if style == "nb":
        writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_nb_cell(row.get(c), plain) for c in cols])
    else:
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([cell(row.get(c)) for c in cols])
    return buffer.getvalue().rstrip("\n")


def _nb_cell(value: Any, plain: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_nb_cell(v, plain) for v in value)
    if isinstance(value, Mapping):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return str(plain(value, decimal_comma=True))


# ---------------------------------------------------------------- terminal tables


def _words_max(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def _measure(header: str, cells: list[str], numeric: bool) -> tuple[int, int]:
    """(minimum, natural) width of a column."""
    longest = max((len(c) for c in cells), default=0)
    natural = max(len(header), longest)
    if numeric:
        return max(_words_max(header), longest), natural
    words = max((_words_max(c) for c in cells), default=0)
    return max(_words_max(header), min(max(longest, 1), _TEXT_MIN, max(words, 6))), natural


def _allocate(mins: list[int], naturals: list[int], width: int) -> list[int]:
    """Column widths: every minimum, then the room left shared out towards the natural widths
    (in proportion to what each still wants), never more than `width` in all."""
    widths = list(mins)
    room = width - _overhead(len(mins)) - sum(widths)
    wants = [max(0, n - m) for m, n in zip(mins, naturals, strict=True)]
    while room > 0 and any(wants):
        total_want = sum(wants)
        given = 0
        for i, want in enumerate(wants):
            if not want:
                continue
            share = min(want, max(1, room * want // total_want))
            share = min(share, room - given)
            widths[i] += share
            wants[i] -= share
            given += share
            if given >= room:
                break
        room -= given
        if not given:
            break
    return widths


def _overhead(n: int) -> int:
    """Characters a table of n columns spends outside its cells (padding and dividers)."""
    return max(0, 3 * n - 3)


def _rich_table(
    headers: list[str],
    body: list[list[str]],
    numeric: list[bool],
    mins: list[int],
    title: str | None,
    width: int | None = None,
    naturals: list[int] | None = None,
) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    fixed = _allocate(mins, naturals or mins, width) if width else None

    table = Table(
        title=Text(title) if title else None,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title_justify="left",
    )
    for i, (head, num, low) in enumerate(zip(headers, numeric, mins, strict=True)):
        table.add_column(
            Text(head, style="bold"),
            justify="right" if num else "left",
            no_wrap=False,
            overflow="fold",
            min_width=low,
            width=None if fixed is None else fixed[i],
        )
    for cells in body:
        table.add_row(*(Text(c) for c in cells))
    return table


def _print(renderables: list[Any], width: int) -> str:
    from rich.console import Console

    console = Console(
        width=width,
        record=True,
        file=io.StringIO(),
        color_system=None,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    for item in renderables:
        console.print(item)
    lines = console.export_text().rstrip("\n").split("\n")
    return "\n".join(line.rstrip() for line in lines)


def _fits(mins: list[int], width: int) -> bool:
    return sum(mins) + _overhead(len(mins)) <= width


def table_text(
    rows: Sequence[Mapping[str, Any]],
    cols: Sequence[str],
    *,
    title: str | None = None,
    total: int | None = None,
    width: int | None = None,
    lang: str | None = None,
    limit: int | None = None,
) -> str:
    """Rows as a table for people that fits `width` (see the module docstring)."""
    width = width or terminal_width()
    lang = lang or current_language()
    nb = lang == "nb"
    limit = max_rows() if limit is None else limit
    total = len(rows) if total is None else max(total, len(rows))
    shown = list(rows[:limit])
    cols = list(cols)
    headers = [label(c, lang) for c in cols]
    body = [[display(c, r.get(c), lang) for c in cols] for r in shown]
    numeric = [is_numeric(c) for c in cols]
    measures = [_measure(h, [b[i] for b in body], numeric[i]) for i, h in enumerate(headers)]
    mins = [m for m, _ in measures]
    naturals = [n for _, n in measures]
    out: list[Any] = []
    footer: list[str] = []
    if not cols:
        out.append(tr("(no columns)", "(ingen kolonner)"))
    elif _fits(mins, width) or len(cols) == 1:
        out.append(_rich_table(headers, body, numeric, mins, title, width, naturals))
    elif len(shown) <= 6:
        out.extend(_sideways(headers, body, numeric, title, width, nb))
    else:
        keep = _choose_columns(cols, mins, width)
        left_out = [headers[i] for i in range(len(cols)) if i not in keep]
        out.append(
            _rich_table(
                [headers[i] for i in keep],
                [[b[i] for i in keep] for b in body],
                [numeric[i] for i in keep],
                [mins[i] for i in keep],
                title,
                width,
                [naturals[i] for i in keep],
            )
        )
        footer.append(
            tr(
                f"Not shown at this width ({len(left_out)} columns): {', '.join(left_out)}. "
                "A wider terminal, or --format csv, json or xlsx --out FILE, shows them.",
                f"Ikke vist i denne bredden ({len(left_out)} kolonner): {', '.join(left_out)}. "
                "Et bredere vindu, eller --format csv, json eller xlsx --out FIL, viser dem.",
            )
        )
    if not shown:
        footer.append(tr("No rows.", "Ingen rader."))
    if total > len(shown):
        footer.append(more_rows_hint(len(shown), total))
    text = _print(out, width)
    if footer:
        text += "\n" + "\n".join(wrap(f, width) for f in footer)
    return text


def more_rows_hint(shown: int, total: int) -> str:
    """'Showing the first 100 of 6,547 rows ...' with how to get them all."""
    if current_language() == "nb":
        n = f"{total:,}".replace(",", "\u00a0")
        return (
            f"Viser de første {shown} av {n} rader. Alle rader: --format csv, json eller xlsx "
            "med --out FIL (verdikart --rows N ... viser flere her)."
        )
    return (
        f"Showing the first {shown} of {total:,} rows. All rows: --format csv, json or xlsx "
        "with --out FILE (verdikart --rows N ... shows more here)."
    )


def _choose_columns(cols: list[str], mins: list[int], width: int) -> list[int]:
    """Indexes of the columns that fit, in order: the first always, then the others in order,
    columns marked low-priority only when room is left."""
    keep = [0]
    used = mins[0]
    for low_pass in (False, True):
        for i in range(1, len(cols)):
            if i in keep or column(cols[i]).low != low_pass:
                continue
            if used + mins[i] + 3 <= width:
                keep.append(i)
                used += mins[i] + 3
    return sorted(keep)


def _sideways(
    headers: list[str],
    body: list[list[str]],
    numeric: list[bool],
    title: str | None,
    width: int,
    nb: bool,
) -> list[Any]:
    """A few rows turned on their side (field, row 1, row 2 ...), or one record after another
    when even that does not fit."""
    field = "Felt" if nb else "Field"
    label_min = max(_words_max(h) for h in headers)
    label_natural = max(len(h) for h in headers)
    value_mins, value_naturals = [], []
    for j in range(len(body)):
        cells = [body[j][i] for i in range(len(headers))]
        low, natural = _measure("", cells, numeric=False)
        value_mins.append(min(low, 10))
        value_naturals.append(natural)
    if len(body) > 1 and _fits([label_min, *value_mins], width):
        heads = [field, *[f"{j + 1}" for j in range(len(body))]]
        rows = [[headers[i], *[b[i] for b in body]] for i in range(len(headers))]
        return [
            _rich_table(
                heads,
                rows,
                [False] * len(heads),
                [label_min, *value_mins],
                title,
                width,
                [label_natural, *value_naturals],
            )
        ]
    return [
        _pairs(
            [[headers[i], b[i]] for i in range(len(headers))],
            title if len(body) == 1 else f"{title or ''} ({j + 1}/{len(body)})".strip(),
            width,
            nb,
        )
        for j, b in enumerate(body)
    ]


def _pairs(rows: list[list[str]], title: str | None, width: int, nb: bool) -> Any:
    """Field/value rows as a two-column table fitted to `width`."""
    label_min = min(max((_words_max(r[0]) for r in rows), default=4), width // 3)
    label_natural = min(max((len(r[0]) for r in rows), default=4), width // 2)
    value_natural = max((len(r[1]) for r in rows), default=1)
    return _rich_table(
        ["Felt" if nb else "Field", "Verdi" if nb else "Value"],
        rows,
        [False, False],
        [label_min, 6],
        title,
        width,
        [label_natural, value_natural],
    )


def record_text(data: Mapping[str, Any], *, title: str | None = None) -> str:
    """One object (a detail view) as field/value lines that fit the terminal."""
    import json

    lang = current_language()
    rows = []
    for key, value in data.items():
        if isinstance(value, Mapping) or (
            isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value)
        ):
            text = json.dumps(value, ensure_ascii=False, default=str)
        else:
            text = display(key, value, lang)
        rows.append([label(key, lang), text])
    width = terminal_width()
    return _print([_pairs(rows, title, width, lang == "nb")], width)


__all__ = [
    "DEFAULT_ROWS",
    "MAX_TABLE_ROWS",
    "csv_text",
    "current_language",
    "max_rows",
    "more_rows_hint",
    "record_text",
    "table_text",
    "terminal_width",
    "tr",
    "wrap",
]
