"""CLI command `verdikart position`: where a country supplies, by material and value-chain stage.

Parsing and printing only; the rows come from :meth:`verdikart.app.Verdikart.supplier_position`
(:mod:`verdikart.indicators.stage_position`).
"""

from __future__ import annotations

from typing import Any

import click

from verdikart.cli.common import Context, emit, emit_arrow, format_option, pass_context

SHARES = ("share_of_eu_sourcing", "share_of_world_production", "share_of_world_exports")
TABLE_COLUMNS = ("rank", "material_name", "stage_name", *SHARES, "note", "source")


def _percent(value: Any) -> str:
    """A share 0-1 as a percentage for people: 33 %, 3.4 %, 0.05 %; empty when unknown."""
    if value is None:
        return ""
    pct = float(value) * 100
    if pct == 0:
        return "0 %"
    digits = 0 if pct >= 10 else 1 if pct >= 1 else 2
    return f"{pct:.{digits}f} %"


@click.command("position")
@click.option(
    "--country",
    "-c",
    required=True,
    help="Country: ISO code, number or name in English or Norwegian (NOR, 578, Norway, Norge); "
    "a group (NORDIC) sums its members.",
)
@click.option(
    "--year",
    "-y",
    type=int,
    default=None,
    help="Year of the world export shares (default: the latest year with trade data); "
    "production shares from the latest year up to it.",
)
@format_option()
@pass_context
def position_command(ctx: Context, country: str, year: int | None, fmt: str) -> None:
    """Where a country supplies the EU and the world, by material and stage.

    Hvor landet er leverandør til EU og verden, per råvare og ledd i verdikjeden.

    One row per material and stage (E extraction, P processing, as in the EU's 2023
    criticality assessment), ranked by the largest of three shares (0-1): of the EU's
    sourcing (EU assessment 2023), of world production (the assessment's global supply
    shares, else World Mining Data) and of world exports by value (only where the trade data
    hold every HS code of the stage; otherwise empty, and `note` says which codes are
    missing and how to add them). `source` names the data of each share.
    """
    from verdikart.indicators.stage_position import COLUMNS

    table = ctx.app().supplier_position(country, year=year)
    if fmt != "table":
        emit_arrow(table, fmt, COLUMNS, "Position")
        return
    rows = table.to_pylist()
    shown = [{**r, **{k: _percent(r[k]) for k in SHARES}} for r in rows]
    reporter = rows[0]["country"] if rows else country
    title = (
        f"{reporter}: supplier position by stage / leverandørposisjon per ledd "
        f"({len(rows)} material stages)"
    )
    emit(shown, fmt, columns=TABLE_COLUMNS, title=title)


COMMANDS: list[click.Command] = [position_command]
