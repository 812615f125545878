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
    stages left to right with HS codes, sectors, world production concentration, the EU's
    sourcing (top supplier, the country's share), the country's and the EU27's imports by
    supplier (65 % flag), where the country supplies, and the Norwegian plants."""
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


def _top(
    entry: dict[str, Any] | None, key: str = "top_supplier", share: str = "top_supplier_share"
) -> str:
    """'NOR 33 %' of an entry with a top supplier (or producer) and its share."""
    if entry is None or entry.get(key) is None:
        return ""
    return f"{entry[key]} {_pct(entry[share])}"


def _imports_cell(imp: dict[str, Any] | None) -> str:
    if imp is None:
        return "no trade data"
    if not imp["top_supplier"]:
        return "no imports"
    flag = " >65 %" if imp["concentration_flag"] else ""
    return f"{_top(imp)}{flag}"


def _print_table(view: dict[str, Any]) -> None:
    from verdikart.cli.output import wrap

    country, eu = view["country"], view.get("eu_reporter", "EU27")
    click.echo(
        wrap(
            f"{view['name']} ({view['chain']}; materials {', '.join(view['materials'])}), "
            f"{country} {view['year'] or ''}".rstrip()
        )
    )
    rows = [
        {
            "stage": s["stage"],
            "name": s["name"],
            "HS92": ", ".join(s["hs_codes"]["HS92"]),
            "EU": ", ".join(f"{e['material']} {e['stage']}" for e in s["eu"]),
            "sectors": ", ".join(s["sectors"]),
        }
        for s in view["stages"]
    ]
    emit(rows, "table", title="Stages")
    exposure = []
    for s in view["stages"]:
        prod = s["production"]
        world = ""
        if prod is not None and prod["hhi"] is not None:
            basis = "EU" if prod.get("basis") == "eu_global_supply_shares" else ""
            world = f"{prod['hhi']:.2f} ({basis + ' ' if basis else ''}{prod['year']})"
        sourcing = s.get("eu_sourcing") or []
        exposure.append(
            {
                "stage": s["stage"],
                "world HHI": world,
                "top producer": _top(prod, "top_country", "top_share"),
                "EU's top supplier": "; ".join(_top(e) for e in sourcing),
                f"{country} of EU sourcing": "; ".join(
                    _pct(e["country_share"]) if e["country_share"] is not None else "not listed"
                    for e in sourcing
                ),
                f"{country} imports": _imports_cell(s["imports"]),
                f"{eu} imports": _imports_cell(s.get("eu_imports")),
            }
        )
    emit(exposure, "table", title="Concentration and imports (top supplier, share)")
    supplies = [
        {
            "stage": s["stage"],
            "of EU sourcing": _pct(pos["share_of_eu_sourcing"]),
            "of world production": _pct(pos["share_of_world_production"]),
            "of world exports": _pct(pos["share_of_world_exports"]),
        }
        for s in view["stages"]
        if (pos := s.get("position"))
        and any(
            pos[k] is not None
            for k in ("share_of_eu_sourcing", "share_of_world_production", "share_of_world_exports")
        )
    ]
    if supplies:
        emit(supplies, "table", title=f"Where {country} supplies")
    else:
        click.echo(wrap(f"{country}: no supplier shares known for these stages"))
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
    notes += [
        f"{s['stage']}: {s['position']['note']}"
        for s in view["stages"]
        if s.get("position") and s["position"]["note"] and s["imports"] is not None
    ]
    fill = any(FILL_TRADE in n for n in notes)
    for note in notes:
        click.echo(wrap(f"note: {note.replace(': ' + FILL_TRADE, '').replace(FILL_TRADE, '')}"))
    if fill:
        click.echo(wrap(f"to fill the missing trade data: {FILL_TRADE}"))


COMMANDS: list[click.Command] = [chain]
