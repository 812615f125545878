"""CLI command: `verdikart chain show MATERIAL` (parsing and printing only).

Calls :meth:`verdikart.app.Verdikart.chain_show` and prints its object as a table, JSON (the
stable interface other tools read), or the picture (SVG, PNG) drawn by
:mod:`verdikart.report.chain_svg`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verdikart.cli.common import Context, emit, pass_context

FORMATS = ("table", "json", "svg", "png")


@click.group("chain")
def chain() -> None:
    """Value chains by stage: HS codes, sectors, Norwegian plants and supplier concentration."""


@chain.command("show")
@click.argument("material")
@click.option(
    "--country",
    default="NOR",
    show_default=True,
    help="Importing country or group whose suppliers are shown (any code or name).",
)
@click.option("--year", type=int, default=None, help="Year (default: the latest trade year).")
@click.option("--stage", default=None, help="Only this stage (id or name), with its plants.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table, json (one object), or a picture: svg, png.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output (required for png).",
)
@pass_context
def chain_show(
    ctx: Context,
    material: str,
    country: str,
    year: int | None,
    stage: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """One material's value chain (id, English or Norwegian name, e.g. nikkel, or a chain id):
    stages left to right with HS codes, sectors, world production HHI, imports by supplier
    (65 % flag) and the Norwegian plants."""
    app = ctx.app()
    language = app.settings.language
    view = app.chain_show(material, country=country, year=year, stage=stage, language=language)
    if fmt in ("svg", "png"):
        from verdikart.report.chain_svg import chain_svg, svg_to_png

        svg = chain_svg(view, language)
        if fmt == "png":
            if out is None:
                raise click.UsageError("--format png needs --out FILE")
            out.write_bytes(svg_to_png(svg))
        elif out is None:
            click.echo(svg)
        else:
            out.write_text(svg, encoding="utf-8")
        if out is not None:
            click.echo(f"wrote {out}", err=True)
        return
    if fmt == "json":
        if out is not None:
            from verdikart.cli.common import render

            out.write_text(render(view, "json") + "\n", encoding="utf-8")
            click.echo(f"wrote {out}", err=True)
        else:
            emit(view, "json")
        return
    _print_table(view)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f} %"


def _print_table(view: dict[str, Any]) -> None:
    click.echo(
        f"{view['name']} ({view['chain']}; materials {', '.join(view['materials'])}), "
        f"{view['country']} {view['year'] or ''}"
    )
    rows = []
    for s in view["stages"]:
        prod = s["production"]
        imp = s["imports"]
        rows.append(
            {
                "stage": s["stage"],
                "name": s["name"],
                "HS92": ", ".join(s["hs_codes"]["HS92"]),
                "EU": ", ".join(f"{e['material']} {e['stage']}" for e in s["eu"]),
                "sectors": ", ".join(s["sectors"]),
                "world HHI": "" if prod is None else f"{prod['hhi']:.2f} ({prod['year']})",
                "top producer": ""
                if prod is None
                else f"{prod['top_country']} {_pct(prod['top_share'])}",
                "top supplier": "no trade data"
                if imp is None
                else (f"{imp['top_supplier']} {_pct(imp['top_supplier_share'])}")
                if imp["top_supplier"]
                else "no imports",
                ">65 %": ""
                if imp is None or imp["concentration_flag"] is None
                else ("yes" if imp["concentration_flag"] else "no"),
            }
        )
    emit(rows, "table", title="Stages")
    plants = [
        {
            "company": p["company"],
            "plant": p["plant"],
            "municipality": p["municipality"],
            "EU ETS": p["eu_ets_id"] or "",
            "in": ", ".join(p["stages_in"]),
            "out": ", ".join(p["stages_out"]),
            "capacity t/yr": "; ".join(
                f"{c['stage']} {c['t_per_year']:,.0f} ({c['basis']})" for c in p["capacity"]
            ),
        }
        for p in view["plants"]
    ]
    if plants:
        emit(plants, "table", title="Norwegian plants")
    from verdikart.chains.view import FILL_TRADE

    notes = [f"{s['stage']}: {n}" for s in view["stages"] for n in s["notes"]] + view["notes"]
    fill = any(FILL_TRADE in n for n in notes)
    for note in notes:
        click.echo(f"note: {note.replace(': ' + FILL_TRADE, '').replace(FILL_TRADE, '')}")
    if fill:
        click.echo(f"to fill the missing trade data: {FILL_TRADE}")


COMMANDS: list[click.Command] = [chain]
