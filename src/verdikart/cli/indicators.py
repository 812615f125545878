"""CLI commands for indicators: `verdikart geopolrisk` and `verdikart production`.

Parsing and printing only; the numbers come from `verdikart.indicators.geopolrisk` and
`verdikart.indicators.production` (imported inside the commands to keep start-up fast).
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from verdikart.cli.common import Context, emit, format_option, pass_context, split_values


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


def emit_table(store: object, table: object, fmt: str, columns: Sequence[str], title: str) -> None:
    """Print an Arrow table like `emit`; json is rendered by DuckDB (the full GeoPolRisk matrix,
    ~33,000 rows, would take seconds through Python's indenting json encoder)."""
    import pyarrow as pa

    from verdikart.store import registered

    assert isinstance(table, pa.Table)
    if fmt != "json":
        emit(table.select(list(columns)).to_pylist(), fmt, columns=columns, title=title)
        return
    con = store.con  # type: ignore[attr-defined]
    numbered = table.select(list(columns)).append_column(
        "_row", pa.array(range(table.num_rows), pa.int64())
    )
    fields = ", ".join(f'"{c}" := "{c}"' for c in columns)
    with registered(con, _emit_rows=numbered):
        rows = con.sql(
            f"SELECT string_agg(to_json(struct_pack({fields})), E',\\n' ORDER BY _row) "
            "FROM _emit_rows"
        ).fetchall()
    body = rows[0][0] if rows and rows[0][0] is not None else ""
    click.echo(f"[\n{body}\n]" if body else "[]")


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
    from verdikart.indicators.geopolrisk import COLUMNS, geopolrisk

    store = ctx.store()
    table = geopolrisk(
        store,
        split_values(countries),
        split_values(materials),
        split_years(years),
        source=production_source,
    )
    emit_table(store, table, fmt, COLUMNS, "GeoPolRisk")


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
    from verdikart.indicators.production import own_production, producer_shares, production_hhi

    store = ctx.store()
    mats = split_values(materials)
    yrs = split_years(years)
    src = production_source
    hhi = production_hhi(store, mats, yrs, source=src).select(
        ["material", "year", "stage", "n_producers", "hhi", "hhi_points"]
    )
    country_list = split_values(countries) if countries else []
    if country_list:
        table = own_production(store, country_list, mats, yrs, source=src)
        columns = [
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
        ]
    else:
        table = producer_shares(store, mats, yrs, source=src)
        columns = [
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
        ]
    joined = table.join(hhi, keys=["material", "year", "stage"], join_type="left outer")
    order = [("material", "ascending"), ("year", "ascending")]
    order.append(("country", "ascending") if country_list else ("rank", "ascending"))
    emit_table(store, joined.sort_by(order), fmt, columns, "Production")


COMMANDS: list[click.Command] = [geopolrisk_command, production_command]
