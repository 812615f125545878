"""CLI commands `verdikart suppliers offsets ...`: the offset obligations register (gjenkjøp,
issue #12). Parsing and printing only; the work is `verdikart.register.offsets.OffsetService`
over the application core's exchange database. Reading needs no token (the register is
public); adding, changing and deleting need the token of a platform administrator.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from verdikart.cli.common import Context, emit, format_option, pass_context
from verdikart.register.vocabulary import OFFSET_SECTORS

if TYPE_CHECKING:
    from verdikart.register.offsets import OffsetService

COLUMNS = (
    "id",
    "foreign_supplier",
    "programme",
    "value_nok",
    "period_start",
    "period_end",
    "sectors",
    "source_url",
)
TITLE = "Offset obligations / gjenkjøpsforpliktelser"

token_option = click.option(
    "--token",
    envvar="VERDIKART_TOKEN",
    required=True,
    help="Access token of a platform administrator (env VERDIKART_TOKEN).",
)


def _service(ctx: Context) -> OffsetService:
    from verdikart.register.offsets import OffsetService

    return OffsetService(ctx.app().exchange())


def _fields(
    path: Path | None,
    supplier: str | None,
    programme: str | None,
    value_nok: int | None,
    start: str | None,
    end: str | None,
    sectors: tuple[str, ...],
    source_url: str | None,
    source_text: str | None,
    notes: str | None,
) -> dict[str, Any]:
    """The entry's fields from a JSON file and/or options (an option overrides the file)."""
    from verdikart.errors import SourceError

    payload: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
        except UnicodeDecodeError as exc:
            raise SourceError(path, f"not UTF-8: {exc}") from exc
        except OSError as exc:
            raise SourceError(path, f"cannot read the file: {exc.strerror or exc}") from exc
        if not isinstance(loaded, dict):
            raise SourceError(path, "expected a JSON object (one offset obligation)")
        payload.update(loaded)
    options = {
        "foreign_supplier": supplier,
        "programme": programme,
        "value_nok": value_nok,
        "period_start": start,
        "period_end": end,
        "sectors": list(sectors) or None,
        "source_url": source_url,
        "source_text": source_text,
        "notes": notes,
    }
    payload.update({k: v for k, v in options.items() if v is not None})
    return payload


def _entry_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option("--file", "path", default=None,
                         type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="A JSON object with the fields (docs/register.md); options override it."),  # noqa: E501
            click.option("--supplier", default=None, help="The foreign supplier."),
            click.option("--programme", default=None, help="The procurement programme."),
            click.option("--value-nok", type=int, default=None,
                         help="Obligation value in NOK (whole kroner, 0 or more)."),
            click.option("--start", default=None, help="Period start (YYYY-MM-DD)."),
            click.option("--end", default=None, help="Period end (YYYY-MM-DD), not before the start."),  # noqa: E501
            click.option("--sector", "sectors", multiple=True, type=click.Choice(OFFSET_SECTORS),
                         help="A sector it may be fulfilled in; repeatable."),
            click.option("--source-url", default=None, help="Where the figures are published."),
            click.option("--source-text", default=None,
                         help="The source in words (a report, a decision, a page)."),
            click.option("--notes", default=None, help="Free text."),
        ]
    ):  # fmt: skip
        f = option(f)
    return f


@click.group("offsets")
def offsets() -> None:
    """Offset obligations (gjenkjøp): foreign suppliers' obligations to buy from Norwegian
    industry, with programme, value, period, sectors and source."""


@offsets.command("list")
@click.option("--sector", type=click.Choice(OFFSET_SECTORS), default=None,
              help="Only obligations that may be fulfilled in this sector.")  # fmt: skip
@click.option("--supplier", default=None, help="Only foreign suppliers whose name contains this.")
@click.option("--active-on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only obligations running on this date (YYYY-MM-DD).")  # fmt: skip
@format_option()
@pass_context
def list_(ctx: Context, sector: str | None, supplier: str | None, active_on: Any, fmt: str) -> None:
    """The offset obligations, largest value first."""
    day: date | None = active_on.date() if active_on is not None else None
    rows = _service(ctx).search(sector=sector, supplier=supplier, active_on=day)
    if fmt != "json":
        rows = [dict(r, sectors=", ".join(r["sectors"])) for r in rows]
    emit(rows, fmt, columns=COLUMNS if fmt == "table" else None, title=TITLE)


@offsets.command("show")
@click.argument("offset_id")
@format_option(default="json")
@pass_context
def show(ctx: Context, offset_id: str, fmt: str) -> None:
    """One offset obligation with its source."""
    emit(_service(ctx).get(offset_id), fmt, title=TITLE)


@offsets.command("add")
@_entry_options
@token_option
@format_option(default="json")
@pass_context
def add(ctx: Context, path: Path | None, token: str, fmt: str, **fields: Any) -> None:
    """Add an offset obligation (platform administrators; audited)."""
    payload = _fields(path, **fields)
    who = ctx.app().exchange().authenticate(token)
    emit(_service(ctx).create(who, payload), fmt, title=TITLE)


@offsets.command("update")
@click.argument("offset_id")
@_entry_options
@token_option
@format_option(default="json")
@pass_context
def update(
    ctx: Context, offset_id: str, path: Path | None, token: str, fmt: str, **fields: Any
) -> None:
    """Change fields of an offset obligation; the others stay (platform administrators;
    audited with the old and new values)."""
    payload = _fields(path, **fields)
    if not payload:
        raise click.UsageError("nothing to change: give --file or at least one field option")
    who = ctx.app().exchange().authenticate(token)
    emit(_service(ctx).update(who, offset_id, payload), fmt, title=TITLE)


@offsets.command("delete")
@click.argument("offset_id")
@token_option
@format_option(default="json")
@pass_context
def delete(ctx: Context, offset_id: str, token: str, fmt: str) -> None:
    """Delete an offset obligation (platform administrators; the audit log keeps it)."""
    who = ctx.app().exchange().authenticate(token)
    emit(_service(ctx).delete(who, offset_id), fmt, title=TITLE)
