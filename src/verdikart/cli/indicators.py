"""CLI commands for indicators: `verdikart geopolrisk` and `verdikart production`.

Parsing and printing only; the numbers come from the application core (`verdikart.app`),
imported inside the commands to keep start-up fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from verdikart.cli import common
from verdikart.cli.common import (
    Context,
    emit_arrow,
    format_option,
    parse_years,
    pass_context,
    split_values,
    working,
)


def split_years(values: Sequence[str]) -> list[int] | None:
    """Years from repeatable/comma-separated values, ranges like 2018-2022, or 'all'."""
    return common.split_years(values)


_COUNTRY_HELP = common.COUNTRY_HELP
_MATERIAL_HELP = common.MATERIAL_HELP
_YEAR_HELP = common.YEAR_HELP


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
latest_years_option = click.option(
    "--year",
    "-y",
    "years",
    multiple=True,
    default=("latest",),
    show_default=True,
    help=_YEAR_HELP + " Default: the latest year with data.",
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
@latest_years_option
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
    """GeoPolRisk supply risk and characterisation factor per country, material and year.

    Method: Koyamparambath et al. 2024. One row per country or group, material and year:
    score = HHI of world production x import risk; CF = score x price / 0.409412948 (eq. kg
    Cu/kg). Missing values are empty, with the reason. Production comes from one source and
    stage per material and year. Without --year: the latest year with data.
    """
    from verdikart.cli.output import tr
    from verdikart.indicators.geopolrisk import COLUMNS

    spec = parse_years(years, default="latest")
    with working(tr("computing GeoPolRisk", "beregner GeoPolRisk")):
        table = ctx.app().geopolrisk(
            common.country_ids(countries),
            split_values(materials),
            spec,
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
    """World producers' shares and the concentration (HHI) of production.

    One data source per material, stage and year.

    Without --country: every producer's share and rank with the material's HHI (0-1 and
    DoJ 0-10,000 points). With --country: that country's or group's production and share.
    `source` names the data used; `note` says why a share or HHI is empty.
    """
    from verdikart.cli.output import tr

    country_list = (common.country_ids(countries) or []) if countries else []
    with working(tr("computing production shares", "beregner produksjonsandeler")):
        table = ctx.app().production(
            split_values(materials),
            parse_years(years),
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
