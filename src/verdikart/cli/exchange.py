"""CLI commands: `verdikart exchange ...` (the materialbørs). Parsing and printing only; every
command calls `verdikart.exchange.service.ExchangeService`.

Commands acting for a user take `--token` (or VERDIKART_TOKEN), the token printed by `add-user`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from verdikart.cli.common import Context, emit, format_option, pass_context

if TYPE_CHECKING:
    from verdikart.exchange.auth import Principal
    from verdikart.exchange.service import ExchangeService

token_option = click.option(
    "--token",
    envvar="VERDIKART_TOKEN",
    required=True,
    help="Bearer token of the acting user (env VERDIKART_TOKEN).",
)


def _service(ctx: Context) -> ExchangeService:
    """The exchange service of the application core."""
    return ctx.app().exchange()


def _who(svc: ExchangeService, token: str) -> Principal:
    return svc.authenticate(token)


@click.group("exchange")
def exchange() -> None:
    """Materialbørs: side streams, needs, disclosure agreements, matching, import."""


@exchange.command("init")
@format_option()
@pass_context
def init(ctx: Context, fmt: str) -> None:
    """Create or upgrade the exchange database (Alembic migrations)."""
    from sqlalchemy.engine import make_url

    from verdikart.exchange.db import current_revision

    svc = _service(ctx)
    url = make_url(ctx.settings().database_url).render_as_string(hide_password=True)
    emit({"database": url, "revision": current_revision(svc.engine)}, fmt)


@exchange.command("add-user")
@click.option("--org", required=True, help="Organisation name (created when new).")
@click.option("--name", required=True, help="The user's name.")
@click.option(
    "--role",
    type=click.Choice(["member", "admin", "hub", "platform"]),
    default="member",
    show_default=True,
    help="hub = hub operator of --cluster; platform = platform admin.",
)
@click.option("--cluster", default=None, help="Cluster the organisation belongs to / hub runs.")
@format_option()
@pass_context
def add_user(ctx: Context, org: str, name: str, role: str, cluster: str | None, fmt: str) -> None:
    """Create a user and print its bearer token (shown once; only its hash is stored)."""
    emit(_service(ctx).add_user(org, name, role=role, cluster=cluster), fmt)


def _read_json(path: str) -> Any:
    from verdikart.errors import SourceError

    text = click.open_file(path, encoding="utf-8").read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None


@exchange.command("add-stream")
@click.argument("file", type=click.Path(allow_dash=True))
@token_option
@format_option()
@pass_context
def add_stream(ctx: Context, file: str, token: str, fmt: str) -> None:
    """Register a side stream from a JSON file ({"summary": {...}, "details": {...}}; - = stdin)."""
    svc = _service(ctx)
    emit({"id": svc.create_stream(_who(svc, token), _read_json(file))}, fmt)


@exchange.command("add-need")
@click.argument("file", type=click.Path(allow_dash=True))
@token_option
@format_option()
@pass_context
def add_need(ctx: Context, file: str, token: str, fmt: str) -> None:
    """Register a need from a JSON file (material_class, limits, site, ...)."""
    svc = _service(ctx)
    emit({"id": svc.create_need(_who(svc, token), _read_json(file))}, fmt)


@exchange.command("list")
@token_option
@click.option("--material-class", default=None, help="Only streams of this material class.")
@click.option(
    "--kind",
    type=click.Choice(["by-product", "waste", "surplus-energy"]),
    help="Only streams of this kind.",
)
@click.option("--region", default=None, help="County (fylke).")
@click.option("--mine", is_flag=True, help="Only your organisation's streams.")
@click.option("--cluster", is_flag=True, help="Hub operators: only your cluster's members.")
@click.option("--needs", "needs", is_flag=True, help="List your organisation's needs instead.")
@click.option(
    "--limit",
    type=click.IntRange(1, 500),
    default=50,
    show_default=True,
    help="At most this many streams.",
)
@format_option()
@pass_context
def list_(
    ctx: Context,
    token: str,
    material_class: str | None,
    kind: str | None,
    region: str | None,
    mine: bool,
    cluster: bool,
    needs: bool,
    limit: int,
    fmt: str,
) -> None:
    """Public summaries of side streams (or your needs)."""
    from verdikart.exchange.repository import StreamQuery

    svc = _service(ctx)
    who = _who(svc, token)
    if needs:
        emit(svc.list_needs(who), fmt)
        return
    page = svc.list_streams(
        who,
        StreamQuery(
            material_class=material_class,
            kind=kind,
            region=region,
            mine=mine,
            cluster=cluster,
            limit=limit,
        ),
    )
    emit(
        page["items"],
        fmt,
        columns=[
            "id",
            "name_public",
            "material_class",
            "kind",
            "quantity_band",
            "region",
            "hazardous",
            "critical_materials",
            "access",
        ],
        title=f"{page['total']} side stream(s)",
    )


@exchange.command("show")
@click.argument("stream_id")
@token_option
@format_option(default="json")
@pass_context
def show(ctx: Context, stream_id: str, token: str, fmt: str) -> None:
    """One stream: summary, plus details when your organisation may see them (audited)."""
    svc = _service(ctx)
    emit(svc.get_stream(_who(svc, token), stream_id), fmt)


@exchange.command("request")
@click.argument("stream_id")
@click.option("--message", default=None, help="A note to the owner: who you are and why.")
@token_option
@format_option()
@pass_context
def request(ctx: Context, stream_id: str, message: str | None, token: str, fmt: str) -> None:
    """Ask a stream's owner to disclose its details to your organisation."""
    svc = _service(ctx)
    emit(svc.request_disclosure(_who(svc, token), stream_id, message), fmt)


@exchange.command("requests")
@click.option(
    "--role",
    type=click.Choice(["any", "owner", "requester"]),
    default="any",
    show_default=True,
    help="Requests you received (owner), made (requester), or both.",
)
@token_option
@format_option()
@pass_context
def requests_(ctx: Context, role: str, token: str, fmt: str) -> None:
    """Disclosure requests your organisation made or received."""
    svc = _service(ctx)
    emit(svc.list_requests(_who(svc, token), role=role), fmt)


@exchange.command("accept")
@click.argument("request_id")
@click.option(
    "--until",
    "until",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Agreement ends at this date (UTC).",
)
@token_option
@format_option()
@pass_context
def accept(ctx: Context, request_id: str, until: datetime | None, token: str, fmt: str) -> None:
    """Owner: accept a disclosure request (optionally time-limited)."""
    svc = _service(ctx)
    emit(svc.accept(_who(svc, token), request_id, expires_at=until), fmt)


@exchange.command("revoke")
@click.argument("request_id")
@token_option
@format_option()
@pass_context
def revoke(ctx: Context, request_id: str, token: str, fmt: str) -> None:
    """Owner: revoke an accepted disclosure; details are hidden again at once."""
    svc = _service(ctx)
    emit(svc.revoke(_who(svc, token), request_id), fmt)


@exchange.command("audit")
@click.option(
    "--limit",
    type=click.IntRange(1, 100_000),
    default=100,
    show_default=True,
    help="At most this many entries, newest first.",
)
@token_option
@format_option()
@pass_context
def audit(ctx: Context, limit: int, token: str, fmt: str) -> None:
    """Your organisation's audit trail: who read or changed your data, and your own actions."""
    svc = _service(ctx)
    rows = svc.audit_trail(_who(svc, token), limit=limit)
    emit(
        rows,
        fmt,
        columns=[
            "at",
            "action",
            "actor_organisation",
            "owner_organisation",
            "object_type",
            "object_id",
        ],
    )


@exchange.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--layout",
    type=click.Choice(["template", "miljodir"]),
    default=None,
    help="File layout (default: detect).",
)
@token_option
@format_option()
@pass_context
def import_(ctx: Context, file: str, layout: str | None, token: str, fmt: str) -> None:
    """Import side streams from the CSV/XLSX template or Miljødirektoratet's layout
    (all or nothing)."""
    from rich.console import Console

    svc = _service(ctx)
    who = _who(svc, token)
    with Console(stderr=True).status(f"importing {Path(file).name} ..."):
        ids = svc.import_file(who, Path(file), layout=layout)
    emit({"file": file, "imported": len(ids), "ids": ids}, fmt)


@exchange.command("match")
@click.option("--need", "need_id", default=None, help="Rank streams for this need of yours.")
@click.option("--stream", "stream_id", default=None, help="Rank needs for this stream of yours.")
@click.option(
    "--limit",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="At most this many matches.",
)
@token_option
@format_option()
@pass_context
def match(
    ctx: Context, need_id: str | None, stream_id: str | None, limit: int, token: str, fmt: str
) -> None:
    """Ranked, explained matches; undisclosed streams show only their summary."""
    if (need_id is None) == (stream_id is None):
        raise click.UsageError("give exactly one of --need or --stream")
    svc = _service(ctx)
    who = _who(svc, token)
    if need_id is not None:
        rows = svc.match_need(who, need_id, limit=limit)
    elif stream_id is not None:
        rows = svc.match_stream(who, stream_id, limit=limit)
    emit(rows, fmt)


@exchange.command("potential")
@click.option(
    "--material",
    required=True,
    help="Material: id or name in English or Norwegian (phosphate-rock, mangan).",
)
@click.option(
    "--year",
    default="latest",
    show_default=True,
    help="Import year (2022) or 'latest' (the latest year with import quantities).",
)
@format_option()
@pass_context
def potential(ctx: Context, material: str, year: str, fmt: str) -> None:
    """Secondary-source potential of a critical material in the registered side streams,
    compared with Norway's imports (BACI)."""
    from verdikart.cli.common import parse_years
    from verdikart.reference.materials import get_material

    the_year = parse_years(year, default="latest").single()
    mid = get_material(material).id
    emit(ctx.app().exchange_potential(None, mid, year=the_year, min_organisations=1), fmt)


@exchange.command("demo")
@click.option(
    "--tokens",
    "tokens_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File for the demo users' access tokens (default: demo-tokens.json in the data "
    "directory); only you can read it.",
)
@format_option()
@pass_context
def demo(ctx: Context, tokens_path: Path | None, fmt: str) -> None:
    """Load the demonstration cases: real companies' public facts, with illustrative
    compositions.

    The demo users' access tokens are written to a file only you can read (not printed);
    the command says how to use one.
    """
    from verdikart.cli.output import tr
    from verdikart.exchange.demo import load_demo

    rows = load_demo(_service(ctx))
    path = tokens_path or ctx.settings().data_dir / "demo-tokens.json"
    _write_private(path, {r["organisation"]: r["token"] for r in rows})
    emit([{k: v for k, v in r.items() if k != "token"} for r in rows], fmt)
    first = rows[0]["organisation"] if rows else "Yara"
    click.echo(
        tr(
            f"The access tokens are in {path} (readable by you only), one per organisation. "
            f"To act as one, e.g. {first}:\n"
            f"  export VERDIKART_TOKEN=\"$(python3 -c 'import json,sys; "
            f"print(json.load(open(sys.argv[1]))[sys.argv[2]])' {path} '{first}')\"\n"
            "  verdikart exchange list",
            f"Tilgangsnøklene ligger i {path} (bare du kan lese filen), én per organisasjon. "
            f"For å handle som en av dem, f.eks. {first}:\n"
            f"  export VERDIKART_TOKEN=\"$(python3 -c 'import json,sys; "
            f"print(json.load(open(sys.argv[1]))[sys.argv[2]])' {path} '{first}')\"\n"
            "  verdikart exchange list",
        ),
        err=True,
    )


def _write_private(path: Path, payload: dict[str, str]) -> None:
    """JSON readable and writable by the owner only (0600), also when the file existed."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=2)


COMMANDS: list[click.Command] = [exchange]
