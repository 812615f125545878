"""Activity indicators of the process industry (issue 13): energy use, the monthly power pulse,
emissions and employment by industry (SSB StatBank, table ``ssb_statbank``), and plant-level
verified emissions (the bundled EU ETS register for Norway).

Set-based Ibis expressions over :class:`verdikart.relations.Relations` (``*_expr``) with
runners ``(engine, ...)``; DuckDB and Spark alike. Sources and rules:

* **Energy use** (SSB 11561, energy balance, GWh): the items of
  ``reference/data/industry/energy_balance_items.csv``, matched by the number their label
  begins with ("12.1.1 ..."); ``energy_intensive_expr`` sums items 12.1.1, 12.1.2, 12.1.3 and
  12.1.9 per energy product, as Prosess21 does (seed 000 l.776–778: electricity 36,187 GWh in
  2023). A suppressed component ('.') is not in the sum: the sum is then a lower bound and
  ``suppressed_cells`` says how many were missing.
* **Power pulse** (SSB 14091, monthly electricity balance): the consumer group whose label
  names power-intensive industry ("kraftintensiv"); ``rolling_12m_twh`` = the sum of the last
  12 months (TWh), NULL until 12 months with figures are there (the seed's moving average,
  l.660–662, as a 12-month sum).
* **Emissions / employment by industry** (SSB tables by NACE): an item belongs to a group when
  its NACE code (the digits in its code: ``C24`` → 24, ``C23.5`` → 23.5) starts with the
  group's prefix; per group only the least detailed matching level is summed (a table with
  both 23 and 23.5 would else count twice; 23 itself is broader than C23.5/C23.9 and so not in
  the group).
* **Plant emissions** (EU ETS verified emissions, t CO2e): Norway's installations assigned to a
  group in ``ets_installation_groups.csv`` (the register has no NACE code; each assignment
  names its basis), summed per group and year, with the installations used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.reference.industry import (
    GROUPS,
    PROCESS_INDUSTRY,
    energy_balance_items,
    ets_installation_groups,
    process_industry_groups,
)

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

PULSE_LABEL = "kraftintensiv"
ENERGY_TABLE, PULSE_TABLE = "11561", "14091"
BY_INDUSTRY = ("emissions", "employment")


def _statbank(rel: Relations, table: str) -> ir.Table:
    s = rel["ssb_statbank"]
    return s.filter(s.table_id == table)


# -- energy (11561) ----------------------------------------------------------------------------
def energy_expr(rel: Relations, *, year: int) -> ir.Table:
    """The 11561 items of the process-industry statistics for a year: item (its number),
    item_label, group, energy_intensive, product_label, value_gwh, status."""
    s = _statbank(rel, ENERGY_TABLE)
    s = s.filter(s.year == year)
    number = s.item_label.re_extract(r"^\s*([0-9]+(\.[0-9]+)*)", 1).nullif("")
    s = s.mutate(item_no=number)
    items = ibis.memtable(energy_balance_items().select(["item", "group", "energy_intensive"]))
    items = items.rename(e_item="item", e_group="group")
    j = s.join(items, s.item_no == items.e_item)
    return j.select(
        item=j.item_no,
        item_label=j.item_label,
        group=j.e_group,
        energy_intensive=j.energy_intensive,
        product=j.product,
        product_label=j.product_label,
        value_gwh=j.value,
        status=j.status,
    ).order_by(["item", "product"])


def energy_intensive_expr(rel: Relations, *, year: int) -> ir.Table:
    """Per energy product, the sum over the energy-intensive items (12.1.1, 12.1.2, 12.1.3,
    12.1.9): value_gwh, items, suppressed_cells."""
    e = energy_expr(rel, year=year)
    e = e.filter(e.energy_intensive)
    return (
        e.group_by("product", "product_label")
        .agg(
            value_gwh=e.value_gwh.sum(),
            items=e.item.count(),
            suppressed_cells=e.status.notnull().cast("int64").sum(),
        )
        .order_by("product")
    )


# -- power pulse (14091) -----------------------------------------------------------------------
def power_pulse_expr(rel: Relations, *, label: str = PULSE_LABEL) -> ir.Table:
    """Monthly electricity use of the consumer group whose label contains `label`: period,
    year, month, value_gwh, status, rolling_12m_twh (NULL until 12 months with figures)."""
    s = _statbank(rel, PULSE_TABLE)
    s = s.filter(s.month.notnull() & s.item_label.lower().contains(label.lower()))
    w = ibis.window(order_by=[s.year, s.month], preceding=11, following=0)
    s = s.mutate(
        _n=s.value.count().over(w),
        _sum=s.value.sum().over(w),
    )
    return s.select(
        "period",
        "year",
        "month",
        item=s.item_label,
        value_gwh=s.value,
        status=s.status,
        rolling_12m_twh=ibis.cases((s._n == 12, s._sum / 1000.0), else_=ibis.null("float64")),
    ).order_by(["year", "month"])


# -- emissions and employment by industry ------------------------------------------------------
def by_industry_expr(rel: Relations, *, table: str, year: int) -> ir.Table:
    """Per process-industry group (and ``process_industry``, their sum): value, unit, items
    summed (``items``), suppressed_cells; the least detailed matching NACE level per group."""
    s = _statbank(rel, table)
    s = s.filter(s.year == year)
    code = s.item.re_extract(r"([0-9]{2}(\.[0-9]{1,2})?)", 1).nullif("")
    s = s.mutate(nace=code)
    g = ibis.memtable(process_industry_groups().select(["group", "nace_prefix"]))
    j = s.join(g, s.nace.startswith(g.nace_prefix))
    j = j.mutate(_len=j.nace.length())
    j = j.mutate(_min=j._len.min().over(group_by=j.group))
    j = j.filter(j._len == j._min)
    per = j.group_by("group").agg(
        value=j.value.sum(),
        unit=j.unit.max(),
        items=j.item.collect(distinct=True).sort().join(", "),
        suppressed_cells=j.status.notnull().cast("int64").sum(),
    )
    total = per.aggregate(
        value=per.value.sum(),
        unit=per.unit.max(),
        items=per.group.count().cast("string") + ibis.literal(" groups"),
        suppressed_cells=per.suppressed_cells.sum(),
    ).mutate(group=ibis.literal(PROCESS_INDUSTRY))
    order = ibis.memtable(
        pa.table({"o_group": [*GROUPS, PROCESS_INDUSTRY], "position": list(range(len(GROUPS) + 1))})
    )
    u = per.union(total.select(per.columns))
    k = u.join(order, u.group == order.o_group)
    return (
        k.select("group", "value", "unit", "items", "suppressed_cells", "position")
        .order_by("position")
        .drop("position")
    )


# -- plant emissions (EU ETS) ------------------------------------------------------------------
def plant_emissions_expr(rel: Relations, *, years: Sequence[int]) -> ir.Table:
    """The process industry's EU ETS installations in Norway with their verified emissions in
    each of `years`: installation_id, name, city, group, nace, basis, year,
    verified_emissions_t_co2e (NULL where the register has no figure)."""
    inst = rel.eu_ets_installations
    inst = inst.filter(inst.country == "NOR")
    groups = ibis.memtable(ets_installation_groups()).rename(g_id="installation_id")
    yrs = ibis.memtable(pa.table({"year": pa.array([int(y) for y in years], pa.int16())}))
    base = inst.join(groups, inst.installation_id == groups.g_id).cross_join(yrs)
    em = rel.eu_ets_emissions
    em = em.filter(em.year.isin([int(y) for y in years])).select(
        e_id=em.installation_id, e_year=em.year, v=em.verified_emissions_t_co2e
    )
    j = base.left_join(em, (base.installation_id == em.e_id) & (base.year == em.e_year))
    return j.select(
        "installation_id",
        "name",
        "city",
        "group",
        "nace",
        "basis",
        "year",
        verified_emissions_t_co2e=j.v,
    ).order_by(["year", "group", ibis.desc("verified_emissions_t_co2e"), "installation_id"])


def plant_emissions_totals_expr(rel: Relations, *, years: Sequence[int]) -> ir.Table:
    """Per year and group (and ``process_industry``): verified_emissions_t_co2e summed over the
    installations with a figure, installations (with a figure), without_figure."""
    p = plant_emissions_expr(rel, years=years)
    per = p.group_by("year", "group").agg(
        verified_emissions_t_co2e=p.verified_emissions_t_co2e.sum(),
        installations=p.verified_emissions_t_co2e.count(),
        without_figure=p.verified_emissions_t_co2e.isnull().cast("int64").sum(),
    )
    total = (
        p.group_by("year")
        .agg(
            verified_emissions_t_co2e=p.verified_emissions_t_co2e.sum(),
            installations=p.verified_emissions_t_co2e.count(),
            without_figure=p.verified_emissions_t_co2e.isnull().cast("int64").sum(),
        )
        .mutate(group=ibis.literal(PROCESS_INDUSTRY))
    )
    u = per.union(total.select(per.columns))
    rank = ibis.cases((u.group == PROCESS_INDUSTRY, 1), else_=0)
    return u.order_by(["year", rank, "group"])


# -- runners -----------------------------------------------------------------------------------
def _years(engine: Engine, table: str) -> list[int]:
    s = _statbank(engine.relations(), table)
    return sorted(int(r["year"]) for r in engine.rows(s.select("year").distinct()))


def _require(engine: Engine, table: str, year: int | None, what: str) -> None:
    from verdikart.errors import UnknownCodeError

    years = _years(engine, table)
    if not years or (year is not None and year not in years):
        have = ", ".join(map(str, years)) or "none"
        raise UnknownCodeError(
            f"no SSB {what} for {year if year is not None else 'any year'} in the store "
            f"(years: {have}); import the StatBank table's JSON-stat2 response with "
            f"`verdikart data import ssb-statbank FILE`"
        )


def energy(engine: Engine, *, year: int) -> dict[str, Any]:
    """Energy use (11561) of a year: the items, the energy-intensive sums, notes."""
    _require(engine, ENERGY_TABLE, year, "energy balance (11561)")
    rel = engine.relations()
    items = engine.rows(energy_expr(rel, year=year))
    sums = engine.rows(energy_intensive_expr(rel, year=year))
    notes = []
    suppressed = [r for r in items if r["status"] is not None]
    if suppressed:
        notes.append(
            f"{len(suppressed)} cell(s) suppressed by SSB ('.'): no figure, not 0; the "
            "energy-intensive sums of those products are lower bounds"
        )
    notes.append(
        "12.1.2 includes pharmaceuticals (C21) and 12.1.4 all of C23: the balance items are "
        "broader than the process industry's NACE groups"
    )
    return {"items": items, "energy_intensive": sums, "notes": notes}


def power_pulse(engine: Engine, *, label: str = PULSE_LABEL) -> list[dict[str, Any]]:
    _require(engine, PULSE_TABLE, None, "monthly electricity balance (14091)")
    return engine.rows(power_pulse_expr(engine.relations(), label=label))


def by_industry(engine: Engine, *, table: str, year: int) -> list[dict[str, Any]]:
    _require(engine, table, year, f"{table} by industry")
    return engine.rows(by_industry_expr(engine.relations(), table=table, year=year))


def plant_emissions(engine: Engine, *, years: Sequence[int]) -> dict[str, list[dict[str, Any]]]:
    """The installations used and the sums per group and year."""
    rel = engine.relations()
    return {
        "totals": engine.rows(plant_emissions_totals_expr(rel, years=years)),
        "installations": engine.rows(plant_emissions_expr(rel, years=years)),
    }
