"""CLI commands for indicators: `verdikart geopolrisk` and `verdikart production`.

Parsing and printing only; the numbers come from the application core (`verdikart.app`),
imported inside the commands to keep start-up fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from verdikart.cli.common import Context, emit_arrow, format_option, pass_context, split_values


def split_years(values: Sequence[str]) -> list[int] | None:
    """Years from repeatable/comma-separated values, ranges like 2018-2022, or 'all'."""
    parts = split_values(values)
    if parts is None:
        return None
    years: list[int] = []
    for part in parts:
        first, sep, last = part.partition("-")
        try:
            if sep:
                years.extend(range(int(first), int(last) + 1))
            else:
                years.append(int(part))
        except ValueError as exc:
            raise click.BadParameter(f"not a year or range: {part!r}", param_hint="--year") from exc
    return sorted(set(years))


_COUNTRY_HELP = (
    "ISO3/ISO2/name/BACI code or group id (EU27, NATO, ...); repeatable or comma-separated; "
    "'all' = every country with data plus the defined groups."
)
_MATERIAL_HELP = "Material slug (cobalt, lithium, ...); repeatable or comma-separated; 'all'."
_YEAR_HELP = "Year or range (2018-2022); repeatable or comma-separated; 'all'."


# Shared by the geopolrisk and production commands.
materials_option = click.option(
    "--material",
    "-m",
    "materials",
    multiple=True,
    default=("all",),
    show_default=True,
    help=_MATERIAL_HELP,
)
years_option = click.option(
    "--year", "-y", "years", multiple=True, default=("all",), show_default=True, help=_YEAR_HELP
)
production_source_option = click.option(
    "--production-source",
    "production_source",
    default=None,
    metavar="PREFIX",
    help="Production data of this source only (label prefix, any case: 'USGS', 'World Mining "
    "Data', 'USGS MCS 2023'). Default: one source per material, stage and year - World Mining "
    "Data, else USGS MCS, else others (newest edition first); never several added up.",
)


@click.command("geopolrisk")
@click.option(
    "--country",
    "-c",
    "countries",
    multiple=True,
    default=("all",),
    show_default=True,
    help=_COUNTRY_HELP,
)
@materials_option
@years_option
@production_source_option
@format_option()
@pass_context
def geopolrisk_command(
    ctx: Context,
    countries: tuple[str, ...],
    materials: tuple[str, ...],
    years: tuple[str, ...],
    production_source: str | None,
    fmt: str,
) -> None:
    """GeoPolRisk score and characterisation factor (Koyamparambath et al. 2024).

    One row per country or group, material and year: score = HHI of world production x
    import risk; CF = score x price / 0.409412948 (eq. kg Cu/kg). Missing values are empty,
    with `missing_reason`. Production comes from one source and stage per material and year
    (`production_source`, `production_stage`).
    """
    from verdikart.indicators.geopolrisk import COLUMNS

    table = ctx.app().geopolrisk(
        split_values(countries),
        split_values(materials),
        split_years(years),
        source=production_source,
    )
    emit_arrow(table, fmt, COLUMNS, "GeoPolRisk")


@click.command("production")
@materials_option
@years_option
@click.option(
    "--country",
    "-c",
    "countries",
    multiple=True,
    help="Only this country's or group's own production and share (repeatable).",
)
@production_source_option
@format_option()
@pass_context
def production_command(
    ctx: Context,
    materials: tuple[str, ...],
    years: tuple[str, ...],
    countries: tuple[str, ...],
    production_source: str | None,
    fmt: str,
) -> None:
    """World producer shares and HHI of production, one source per material/stage/year.

    Without --country: every producer's share and rank with the material's HHI (0-1 and
    DoJ 0-10,000 points). With --country: that country's or group's production and share.
    `source` names the data used; `note` says why a share or HHI is empty.
    """
    country_list = split_values(countries) if countries else []
    table = ctx.app().production(
        split_values(materials),
        split_years(years),
        countries=country_list or (),
        source=production_source,
    )
    emit_arrow(table, fmt, OWN_COLUMNS if country_list else SHARE_COLUMNS, "Production")


OWN_COLUMNS = (
    "country",
    "material",
    "year",
    "stage",
    "quantity",
    "unit",
    "quantity_t",
    "world_quantity",
    "share",
    "n_producers",
    "hhi",
    "hhi_points",
    "source",
    "note",
)
SHARE_COLUMNS = (
    "material",
    "year",
    "stage",
    "rank",
    "country",
    "quantity",
    "unit",
    "content_basis",
    "quantity_t",
    "share",
    "n_producers",
    "hhi",
    "hhi_points",
    "source",
    "note",
)


COMMANDS: list[click.Command] = [geopolrisk_command, production_command]
