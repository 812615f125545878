"""CLI command `verdikart criticality`: the EU criticality method (SR, EI, critical flag).

Parsing and printing only; the numbers come from :mod:`verdikart.indicators.eu_method`.
The EU assessment inputs are imported with `verdikart data import eu-crm <dir>` (reader
:func:`verdikart.sources.eu_crm.import_eu_crm`); without them the command still runs on the
bundled data with the documented defaults listed in `inputs_defaulted`.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from verdikart.cli.common import (
    MATERIAL_HELP,
    Context,
    emit,
    format_option,
    parse_years,
    pass_context,
    split_values,
    working,
)

COLUMNS = (
    "material",
    "stage",
    "sr",
    "ei",
    "critical",
    "hhi_gs",
    "hhi_eu",
    "ir",
    "eol_rir",
    "si_sr",
    "si_ei",
    "inputs_defaulted",
    "source",
)


def _materials(values: Sequence[str]) -> list[str] | None:
    """Repeatable, comma-separated material names or ids (the use case resolves English,
    Norwegian and published names); None for 'all'."""
    return split_values(values) or None


@click.command("criticality")
@click.option(
    "--material",
    "-m",
    "materials",
    multiple=True,
    default=("all",),
    show_default=True,
    help=MATERIAL_HELP,
)
@click.option(
    "--perspective",
    "-p",
    default="EU",
    show_default=True,
    help="EU, or a country (NOR, Norge) whose own import shares and import reliance replace "
    "the EU's.",
)
@click.option(
    "--year",
    "-y",
    default="2023",
    show_default=True,
    help="Assessment year of the EU inputs (one year, or 'latest').",
)
@click.option(
    "--wgi-year",
    type=int,
    default=None,
    help="WGI year for governance (default: assessment year - 2, i.e. 2021 for 2023).",
)
@click.option(
    "--trade-years",
    default=None,
    help="Years of trade and production for a national perspective: a range (2019-2023), a "
    "list or 'latest' (default: the last 5).",
)
@click.option(
    "--summary",
    is_flag=True,
    help="Only the material's SR (riskier stage) rows, stage = 'max'.",
)
@format_option()
@pass_context
def criticality_command(
    ctx: Context,
    materials: tuple[str, ...],
    perspective: str,
    year: str,
    wgi_year: int | None,
    trade_years: str | None,
    summary: bool,
    fmt: str,
) -> None:
    """EU criticality: supply risk (SR), economic importance (EI) and the critical flag.

    The EC 2017 methodology as applied in 2023. SR = [HHI_GS x IR/2 + HHI_EUS x (1 - IR/2)] x (1 - EoL_RIR) x SI_SR with
    HHI = sum(share^2 x scaled WGI x t); EI = sum(A_s x Q_s) x SI_EI; critical when SR >= 1.0
    and EI >= 2.8. Rows per stage (E extraction, P processing) and 'max'; `inputs_defaulted`
    lists every input replaced by a default (see docs/method-eu-criticality.md).
    """
    from verdikart.cli.output import tr

    assessment = parse_years(year, default="2023")
    the_year = assessment.single(available=[2023]) or 2023
    window: tuple[int, int] | None = None
    if trade_years:
        spec = parse_years(trade_years)
        chosen = spec.explicit()
        if spec.latest or not chosen:
            raise click.BadParameter(
                f"give years, e.g. 2019-2023 (got {trade_years!r})", param_hint="--trade-years"
            )
        window = (chosen[0], chosen[-1])
    with working(tr("computing criticality", "beregner kritikalitet")):
        table = ctx.app().criticality(
            year=the_year,
            materials=_materials(materials),
            perspective=perspective,
            wgi_year=wgi_year,
            trade_years=window,
        )
    rows = table.to_pylist()
    if summary:
        rows = [r for r in rows if r["stage"] == "max"]
    title = None
    if fmt == "table" and rows:
        title = tr(
            f"EU criticality {the_year}, perspective {rows[0]['perspective']}, "
            f"WGI {rows[0]['wgi_year']}",
            f"EU-kritikalitet {the_year}, perspektiv {rows[0]['perspective']}, "
            f"WGI {rows[0]['wgi_year']}",
        )
    emit(rows, fmt, columns=COLUMNS, title=title)


COMMANDS: list[click.Command] = [criticality_command]
