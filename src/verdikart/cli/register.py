"""CLI commands `verdikart suppliers ...`: the supplier register (issue #12). Parsing and
printing only; the work is `verdikart.register.service.RegisterService` via the application
core (`Verdikart.register()`).

`verdikart register ...` is the first slice's name, kept as a hidden alias (same commands; its
`import PATH` is `suppliers import enhetsregisteret PATH`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verdikart.cli.common import Context, emit, format_option, pass_context

UNIT_COLUMNS = (
    "organisation_number",
    "name",
    "kind",
    "organisational_form",
    "nace",
    "employees",
    "municipality",
    "parent_number",
    "deleted",
    "bankrupt",
)


@click.group("suppliers")
def suppliers() -> None:
    """Supplier register: organisations from Enhetsregisteret and what they can deliver."""


@click.group("register", hidden=True)
def register() -> None:
    """Supplier register (old name of `verdikart suppliers`)."""


@suppliers.group("import")
def import_group() -> None:
    """Import organisations (Enhetsregisteret) or needs (eForms)."""


def _unit_import_options(f: Any) -> Any:
    f = click.argument("path", type=click.Path(dir_okay=False, path_type=Path))(f)
    for option in reversed(_UNIT_IMPORT_OPTIONS):
        f = option(f)
    return format_option()(f)


_UNIT_IMPORT_OPTIONS = [
    click.option(
        "--nace",
        multiple=True,
        help="Load only units with an industry code starting with this (e.g. 24 or 24.42); repeatable.",
    ),
    click.option(
        "--county", default=None, help="Load only units in this county (2 digits, e.g. 46)."
    ),
    click.option(
        "--municipality", default=None, help="Load only units in this municipality (4 digits)."
    ),
    click.option(
        "--nace-standard",
        type=click.Choice(["SN2025", "SN2007"]),
        default="SN2025",
        show_default=True,
        help="Industry standard of the file's codes: SN2025 for files from 2025 on, SN2007 before.",
    ),
    click.option(
        "--kind",
        type=click.Choice(["auto", "unit", "sub-unit"]),
        default="auto",
        show_default=True,
        help="Organisations (enheter) or sites (underenheter); auto decides by organisation form.",
    ),
]


@import_group.command("enhetsregisteret")
@_unit_import_options
@pass_context
def import_enhetsregisteret(
    ctx: Context,
    path: Path,
    nace: tuple[str, ...],
    county: str | None,
    municipality: str | None,
    nace_standard: str,
    kind: str,
    fmt: str,
) -> None:
    """Import an Enhetsregisteret file (the gzipped JSON or CSV download, one unit, or an API
    search response). All or nothing; a second run updates instead of duplicating."""
    _import_units(ctx, path, nace, county, municipality, nace_standard, kind, fmt)


# the first slice's `verdikart register import PATH`: the same command under the old name
register.add_command(import_enhetsregisteret, "import")


def _import_units(
    ctx: Context,
    path: Path,
    nace: tuple[str, ...],
    county: str | None,
    municipality: str | None,
    nace_standard: str,
    kind: str,
    fmt: str,
) -> None:
    from verdikart.register.importer import make_filter

    result = (
        ctx.app()
        .register()
        .import_file(
            path,
            unit_filter=make_filter(nace, county, municipality),
            nace_standard=nace_standard,
            kind=kind,
        )
    )
    emit(
        {k: v for k, v in result.items() if k != "filter"},
        fmt,
        title="Enhetsregisteret import / import fra Enhetsregisteret",
    )


@suppliers.command("download")
@click.option(
    "--kind",
    type=click.Choice(["unit", "sub-unit"]),
    default="unit",
    show_default=True,
    help="Organisations (enheter) or sites (underenheter).",
)
@click.option(
    "--layout",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="Gzipped JSON or CSV.",
)
@click.option(
    "--dir",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to save the file in.",
)
def download(kind: str, layout: str, dest: Path) -> None:
    """Download today's bulk file from Brønnøysundregistrene (open data, NLOD)."""
    from verdikart.register.importer import download_bulk

    click.echo(str(download_bulk(dest, kind=kind, fmt=layout)))


@suppliers.command("show")
@click.argument("organisation_number")
@format_option(default="json")
@pass_context
def show(ctx: Context, organisation_number: str, fmt: str) -> None:
    """One organisation or site from the register, with its sites."""
    unit = ctx.app().register().unit(organisation_number)
    if fmt == "json":
        emit(unit, fmt)
    else:
        emit([unit, *unit.pop("sites")], fmt, columns=UNIT_COLUMNS)


@suppliers.command("search")
@click.option("--material", default=None, help="A material of the value chains (e.g. silicon).")
@click.option("--stage", default=None, help="A value-chain stage (e.g. silicon/silicon-metal).")
@click.option("--cpv", default=None, help="A CPV code; finds it and the codes under it.")
@click.option("--nace", default=None, help="A NACE code or prefix (e.g. 24.4).")
@click.option("--hs", default=None, help="An HS/CN code or heading (4, 6 or 8 digits).")
@click.option(
    "--units/--profiles",
    default=False,
    help="Search the imported organisations by NACE (--units) or the capability profiles.",
)
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True,
              help="At most this many results.")  # fmt: skip
@format_option()
@pass_context
def search(
    ctx: Context,
    material: str | None,
    stage: str | None,
    cpv: str | None,
    nace: str | None,
    hs: str | None,
    units: bool,
    limit: int,
    fmt: str,
) -> None:
    """Who can deliver a material, stage or code (public summaries only)."""
    reg = ctx.app().register()
    if units:
        if not nace:
            raise click.UsageError("--units searches by --nace")
        emit(reg.search_units(nace=nace, limit=limit), fmt, columns=UNIT_COLUMNS)
        return
    rows = reg.search_profiles(
        cpv=cpv, nace=nace, hs=hs, material=material, stage=stage, limit=limit
    )
    flat = [
        {
            "organisation": r["organisation"],
            "organisation_number": r["organisation_number"],
            "summary": r["summary"],
            "codes": ", ".join(f"{c['scheme']}:{c['code']}" for c in r["codes"]),
            "id": r["id"],
        }
        for r in rows
    ]
    emit(flat, fmt, columns=("organisation", "organisation_number", "summary", "codes", "id"))


token_option = click.option(
    "--token",
    envvar="VERDIKART_TOKEN",
    required=True,
    help="Access token of the acting user (env VERDIKART_TOKEN), from `exchange add-user`.",
)


@suppliers.group("profile")
def profile() -> None:
    """Your organisation's capability profile: public summary and codes, shared details."""


@profile.command("set")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@token_option
@format_option(default="json")
@pass_context
def profile_set(ctx: Context, path: Path, token: str, fmt: str) -> None:
    """Create or replace your profile from a JSON file (layout in docs/register.md)."""
    payload = _read_json(path)
    app = ctx.app()
    emit(app.register().put_profile(app.exchange().authenticate(token), payload), fmt)


@profile.command("show")
@click.argument("profile_id", required=False)
@token_option
@format_option(default="json")
@pass_context
def profile_show(ctx: Context, profile_id: str | None, token: str, fmt: str) -> None:
    """A profile (yours without an id): details only if yours or shared with you."""
    app = ctx.app()
    who = app.exchange().authenticate(token)
    reg = app.register()
    emit(reg.get_profile(who, profile_id) if profile_id else reg.my_profile(who), fmt)


@profile.command("share")
@click.argument("profile_id")
@click.option("--buyer", required=True, help="The buyer organisation's name.")
@click.option("--stop", is_flag=True, help="Stop sharing with this buyer.")
@token_option
@format_option(default="json")
@pass_context
def profile_share(
    ctx: Context, profile_id: str, buyer: str, stop: bool, token: str, fmt: str
) -> None:
    """Show your profile's details to a buyer organisation (or stop, with --stop)."""
    app = ctx.app()
    who = app.exchange().authenticate(token)
    reg = app.register()
    emit(reg.unshare(who, profile_id, buyer) if stop else reg.share(who, profile_id, buyer), fmt)


optional_token = click.option(
    "--token",
    envvar="VERDIKART_TOKEN",
    default=None,
    help="Access token of the acting user (env VERDIKART_TOKEN); without one, public data only.",
)


@import_group.command("eforms")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@optional_token
@format_option()
@pass_context
def import_eforms(ctx: Context, paths: tuple[Path, ...], token: str | None, fmt: str) -> None:
    """Import needs from eForms notices (contract notices and prior information notices; an
    award notice is refused). All or nothing; prints the need ids."""
    app = ctx.app()
    who = app.exchange().authenticate(token) if token else None
    rows = app.register().import_eforms(who, list(paths))
    emit(rows, fmt, columns=("need_id", "status", "notice_type", "file"),
         title="eForms import / import av kunngjøringer")  # fmt: skip


@suppliers.group("need")
def need() -> None:
    """Buyers' needs: add by hand, list and show."""


@need.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@token_option
@format_option(default="json")
@pass_context
def need_add(ctx: Context, path: Path, token: str, fmt: str) -> None:
    """Register a need from a JSON file (layout in docs/register.md); you are the buyer."""
    app = ctx.app()
    payload = _read_json(path)
    emit(app.register().create_need(app.exchange().authenticate(token), payload), fmt)


@need.command("list")
@click.option("--mine", is_flag=True, help="Only your organisation's needs (needs --token).")
@optional_token
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True,
              help="At most this many needs.")  # fmt: skip
@format_option()
@pass_context
def need_list(ctx: Context, mine: bool, token: str | None, limit: int, fmt: str) -> None:
    """Needs, newest first."""
    app = ctx.app()
    who = app.exchange().authenticate(token) if token else None
    rows = app.register().list_needs(who, mine=mine, limit=limit)
    flat = [
        {
            "id": r["id"],
            "title": r["title"],
            "buyer": r["buyer"],
            "deadline": r["deadline"],
            "codes": ", ".join(f"{c['scheme']}:{c['code']}" for c in r["codes"]),
            "source": r["source"],
        }
        for r in rows
    ]
    emit(flat if fmt != "json" else rows, fmt,
         columns=("id", "title", "buyer", "deadline", "codes", "source"))  # fmt: skip


@need.command("show")
@click.argument("need_id")
@format_option(default="json")
@pass_context
def need_show(ctx: Context, need_id: str, fmt: str) -> None:
    """One need with its codes, lots and requirements."""
    emit(ctx.app().register().get_need(need_id), fmt)


@suppliers.command("match")
@click.option("--need", "need_id", default=None, help="Rank suppliers for this need (its id).")
@click.option("--profile", "for_profile", is_flag=True,
              help="Rank needs for your organisation's profile instead (needs --token).")  # fmt: skip
@optional_token
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True,
              help="At most this many matches.")  # fmt: skip
@format_option()
@pass_context
def match(
    ctx: Context,
    need_id: str | None,
    for_profile: bool,
    token: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Ranked, explained suppliers for a need (or needs for your profile). A buyer sees a
    supplier's details-based score only if the supplier shared its details with it. The
    explanation is in the --lang language (JSON also gives explanation_nb and explanation_en)."""
    app = ctx.app()
    who = app.exchange().authenticate(token) if token else None
    reg = app.register()
    if for_profile == bool(need_id):
        raise click.UsageError("give either --need ID or --profile")
    if for_profile:
        if who is None:
            raise click.UsageError("--profile needs --token (whose profile?)")
        rows = reg.match_my_profile(who, limit=limit)["matches"]
        key: tuple[str, ...] = ("need_id", "title", "buyer", "deadline")
    else:
        rows = reg.match_need(who, str(need_id), limit=limit)["matches"]
        key = ("organisation_number", "organisation", "access")
    language = "nb" if ctx.language().startswith("nb") else "en"
    flat = [
        {
            **{k: r[k] for k in key},
            "score": r["score"],
            "explanation": r["explanation"][language],
            **({"explanation_nb": r["explanation"]["nb"], "explanation_en": r["explanation"]["en"],
                "components": r["components"], "profile_id": r.get("profile_id"),
                "summary": r.get("summary")} if fmt == "json" else {}),
        }
        for r in rows
    ]  # fmt: skip
    emit(flat, fmt, columns=(*key, "score", "explanation") if fmt != "json" else None)


@suppliers.command("request")
@click.argument("profile_id")
@click.option("--message", default="", help="A note to the supplier.")
@token_option
@format_option(default="json")
@pass_context
def request(ctx: Context, profile_id: str, message: str, token: str, fmt: str) -> None:
    """Ask a supplier to share its profile's details with you."""
    app = ctx.app()
    emit(app.register().request_details(app.exchange().authenticate(token), profile_id, message),
         fmt)  # fmt: skip


@suppliers.command("requests")
@token_option
@format_option()
@pass_context
def requests_(ctx: Context, token: str, fmt: str) -> None:
    """Buyers' requests for your profile's details, and whether you share."""
    app = ctx.app()
    rows = app.register().detail_requests(app.exchange().authenticate(token))
    emit(rows, fmt, columns=("buyer", "requested_at", "shared", "message", "profile_id"))


def _read_json(path: Path) -> object:
    import json

    from verdikart.errors import SourceError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8: {exc}") from exc


for _name in ("download", "show", "search", "profile"):
    register.add_command(suppliers.commands[_name])

COMMANDS: list[click.Command] = [suppliers, register]
