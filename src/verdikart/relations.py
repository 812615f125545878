"""The canonical relations, declared once, and the portable definitions every indicator shares.

The relations are the store's logical tables (columns, types and units in
:mod:`verdikart.schema`), handed out as Ibis tables by :mod:`verdikart.engine` on DuckDB or
Spark:

* ``trade`` — bilateral flows (year, exporter, importer, hs_revision, hs6, value_kusd,
  quantity_t, source); ``quantity_t`` NULL when the source has no quantity, never 0;
* ``production`` — production by country (quantity in ``unit`` as ``content_basis``);
* ``governance`` — WGI scores by country, year and indicator;
* ``wmd_hs_map`` — World Mining Data commodity -> HS6 map (GeoPolRisk's material codes);
* ``baci_countries`` — BACI country codes;
* ``eu_supply_shares``, ``eu_end_uses``, ``eu_material_groups`` — the EU CRM 2023 assessment
  inputs (bundled; ``verdikart data import eu-crm`` supersedes them per year);
* ``eu_ets_installations``, ``eu_ets_emissions`` — EU ETS installations (id, name, place,
  coordinates) and their verified emissions per year (bundled: Norway's, 2013–2020).

Derived relations, defined here once (each with its NULL rule):

* ``trade_coverage`` — the (year, hs_revision, source) rows of ``trade``; an engine may hand
  over its own (the DuckDB store keeps one that never reads the imported rows);
* ``analysis_years`` — the years of ``trade_analysis``;

* :func:`trade_analysis` — what the indicators read of ``trade``: HS92 rows, and per year CEPII
  BACI when BACI has rows, else the other datasets (summing two datasets or revisions of one
  year would count flows twice);
* :func:`quantity_t` — a production quantity in tonnes (kg / 1,000; NULL for units that are not
  masses);
* :func:`selected_production` — production of one source per material, stage and year;
* :func:`governance_scores` — one score per country and year (the minimum where a source repeats
  a row);
* :func:`memberships` — reporters and groups as (entity, iso3, year_from, year_to) relations.

Everything here is an Ibis expression that compiles to DuckDB and Spark SQL alike; no engine is
imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

ANALYSIS_REVISION = "HS92"
"""The HS revision of the materials' code lists, and so of the trade the indicators read."""
BACI_LABEL_PREFIX = "CEPII BACI"
WMD_PREFIX = "World Mining Data"
USGS_PREFIX = "USGS MCS"
TRADE_COVERAGE = "trade_coverage"
"""The name of the optional relation of trade's (year, hs_revision, source) rows."""


@dataclass(frozen=True)
class Relations:
    """The canonical relations on one engine; built once per request by the engine.

    Every listed table of :mod:`verdikart.schema` is here by name (``rel["eu_supply_shares"]``);
    the ones every indicator reads are attributes. A scenario swaps one relation for a perturbed
    expression (:meth:`with_trade`) and runs the same indicators over it: the stored data never
    change.
    """

    tables: Mapping[str, ir.Table]

    def __getitem__(self, name: str) -> ir.Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(
                f"no relation {name!r}; relations: {', '.join(sorted(self.tables))}"
            ) from None

    @property
    def trade(self) -> ir.Table:
        return self.tables["trade"]

    @property
    def production(self) -> ir.Table:
        return self.tables["production"]

    @property
    def governance(self) -> ir.Table:
        return self.tables["governance"]

    @property
    def wmd_hs_map(self) -> ir.Table:
        return self.tables["wmd_hs_map"]

    @property
    def baci_countries(self) -> ir.Table:
        return self.tables["baci_countries"]

    @property
    def eu_supply_shares(self) -> ir.Table:
        return self.tables["eu_supply_shares"]

    @property
    def eu_ets_installations(self) -> ir.Table:
        return self.tables["eu_ets_installations"]

    @property
    def eu_ets_emissions(self) -> ir.Table:
        return self.tables["eu_ets_emissions"]

    @property
    def trade_coverage(self) -> ir.Table:
        """(year, hs_revision, source) of ``trade``, one row each: the engine's own small
        relation when it has one (the DuckDB store keeps it without reading every trade row),
        else derived from ``trade``."""
        supplied = self.tables.get(TRADE_COVERAGE)
        if supplied is not None:
            return supplied
        return self.trade.select("year", "hs_revision", "source").distinct()

    @property
    def trade_analysis(self) -> ir.Table:
        return trade_analysis(self.trade, self.trade_coverage)

    @property
    def analysis_years(self) -> ir.Table:
        """The years of :func:`trade_analysis` (column ``year``), from the coverage: a year is
        there when ``trade`` has HS92 rows in it (BACI's, or else another dataset's)."""
        c = self.trade_coverage
        return c.filter(c.hs_revision == ANALYSIS_REVISION).select("year").distinct()

    def with_table(self, name: str, table: ir.Table) -> Relations:
        tables = {**self.tables, name: table}
        if name == "trade":  # the kept coverage describes the stored trade, not this one
            tables.pop(TRADE_COVERAGE, None)
        return Relations(tables)

    def with_trade(self, trade: ir.Table) -> Relations:
        return self.with_table("trade", trade)


def is_baci(source: ir.StringValue) -> ir.BooleanValue:
    """A trade row of CEPII BACI (any release; the bundled slice's label too)."""
    return source.startswith(BACI_LABEL_PREFIX)


def trade_analysis(trade: ir.Table, coverage: ir.Table | None = None) -> ir.Table:
    """The trade the indicators read: HS92 rows, per year BACI when it has rows, else others.

    The other rows stay in ``trade`` (``verdikart data status`` shows them; the map names
    the rows it left out). `coverage`: ``trade``'s (year, hs_revision, source) rows, when kept
    apart (see :attr:`Relations.trade_coverage`); else derived from ``trade``.
    """
    hs = trade.filter(trade.hs_revision == ANALYSIS_REVISION)
    if coverage is None:
        coverage = trade.select("year", "hs_revision", "source").distinct()
    # a join, not `year NOT IN (subquery)`: Spark plans the latter as a null-aware anti join
    kept = coverage.filter((coverage.hs_revision == ANALYSIS_REVISION) & is_baci(coverage.source))
    baci = kept.select(_baci_year=kept.year).distinct()
    joined = hs.left_join(baci, hs.year == baci._baci_year)
    return joined.filter(is_baci(joined.source) | joined._baci_year.isnull()).select(trade.columns)


def quantity_t(quantity: ir.NumericValue, unit: ir.StringValue) -> ir.NumericValue:
    """A quantity in tonnes: t as it is, kg / 1,000; other units (ct, million m3) NULL."""
    return ibis.cases(
        (unit == "t", quantity.cast("float64")),
        (unit == "kg", quantity.cast("float64") / 1000.0),
        else_=ibis.null("float64"),
    )


def source_rank(source: ir.StringValue) -> ir.IntegerValue:
    """Default priority of a production source (lower first): WMD, USGS MCS, others."""
    low = source.lower()
    return ibis.cases(
        (low.startswith(WMD_PREFIX.lower()), 0),
        (low.startswith(USGS_PREFIX.lower()), 1),
        else_=2,
    )


def source_edition(source: ir.StringValue) -> ir.IntegerValue:
    """The edition of a source: the first year (19xx/20xx) in its label; NULL without one."""
    # Spark's regexp_extract gives '' where DuckDB gives NULL for no match: NULL both ways
    return source.re_extract(r"(19|20)[0-9]{2}", 0).nullif("").try_cast("int32")


def selected_production(
    production: ir.Table,
    *,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
    per_stage: bool = True,
) -> ir.Table:
    """The ``production`` rows of one source per material, stage and year.

    ``materials``/``years`` None = all; ``source`` a label prefix (case-insensitive), None =
    the default priority: World Mining Data, then USGS MCS, then others; within a rank the
    newest edition, then the label. With ``per_stage=False`` one (source, stage) per material
    and year (GeoPolRisk, whose HHI has no stage): the best source first, then extraction
    before processing.
    """
    cand = production
    if materials is not None:
        cand = cand.filter(cand.material.isin(list(materials)))
    if years is not None:
        cand = cand.filter(cand.year.isin([int(y) for y in years]))
    if source is not None:
        cand = cand.filter(cand.source.lower().startswith(source.lower()))
    cand = cand.select("material", "stage", "year", "source").distinct()
    order: list[ir.Value] = [
        source_rank(cand.source),
        ibis.desc(source_edition(cand.source), nulls_first=False),
        cand.source,
    ]
    if not per_stage:
        order.append(ibis.cases((cand.stage == "extraction", 0), (cand.stage == "processing", 1)))
    order.append(cand.stage)
    group = ["material", "stage", "year"] if per_stage else ["material", "year"]
    ranked = cand.mutate(_pick=ibis.row_number().over(group_by=group, order_by=order))
    chosen = ranked.filter(ranked._pick == 0).select(
        c_material="material", c_stage="stage", c_year="year", c_source="source"
    )
    p = production
    joined = p.join(
        chosen,
        [
            p.material == chosen.c_material,
            p.stage.identical_to(chosen.c_stage),
            p.year == chosen.c_year,
            p.source.identical_to(chosen.c_source),
        ],
    )
    return joined.select(production.columns)


def governance_scores(governance: ir.Table, indicator: str) -> ir.Table:
    """One score per (country, year) of a governance indicator: ``country``, ``year``, ``score``.

    A source that repeats a row (wgi.db has Guyana twice) gives the smaller value, which is the
    first in the bundled years (GeoPolRisk's reference implementation takes the first).
    """
    g = governance.filter(governance.indicator == indicator)
    return g.group_by("country", "year").agg(score=g.value.min())


def in_years(
    year: ir.IntegerValue, year_from: ir.IntegerValue, year_to: ir.IntegerValue
) -> ir.BooleanValue:
    """``year`` within a membership's [year_from, year_to] (NULL bound = open)."""
    return (year_from.isnull() | (year_from <= year)) & (year_to.isnull() | (year <= year_to))


# -- shared definitions (one each; every indicator uses these) -------------------------------

SINGLE_SUPPLIER_THRESHOLD = 0.65
"""Top-supplier share above which a supply is flagged as concentrated: the CRMA's ceiling on
one third country's share of the Union's consumption of a strategic raw material (Regulation
(EU) 2024/1252, Art. 5(1)(d)), also the 65 % rule of thumb of seed 003, step 4."""


def missing_count(quantity: ir.NumericValue) -> ir.IntegerValue:
    """Rows of a group whose quantity is missing (an aggregate)."""
    return quantity.isnull().cast("int64").sum()


def complete_sum(quantity: ir.NumericValue) -> ir.NumericValue:
    """The sum of a group's quantities, NULL when any row lacks one (an aggregate).

    Imports in tonnes follow this rule: a partial sum of quantities would look like a real
    total, so it is unknown; :func:`missing_count` says how many rows lacked a quantity.
    """
    return ibis.cases((missing_count(quantity) == 0, quantity.sum()), else_=ibis.null("float64"))


def import_reliance(
    imports_t: ir.NumericValue,
    exports_t: ir.NumericValue,
    production_t: ir.NumericValue,
    *,
    net_exporter_zero: bool = False,
) -> ir.NumericValue:
    """Net import reliance ``(I − E) / (P + I − E)`` (USGS Mineral Commodity Summaries; EU
    criticality Guidelines, "Import reliance").

    NULL rule: NULL when any input is NULL or apparent consumption ``P + I − E`` is not
    positive. A net exporter (I ≤ E) is NULL, as USGS prints "E", or 0 with
    ``net_exporter_zero`` (the EU method clips IR to [0, 1]).
    """
    net = imports_t - exports_t
    consumption = production_t + net
    ratio = net / consumption
    if net_exporter_zero:
        value = ibis.greatest(ibis.least(ratio, 1.0), 0.0)
        return ibis.cases((consumption > 0, value), else_=ibis.null("float64"))
    return ibis.cases(((consumption > 0) & (net > 0), ratio), else_=ibis.null("float64"))


def import_reliance_value(
    imports_t: float, exports_t: float, production_t: float, *, net_exporter_zero: bool = False
) -> float | None:
    """:func:`import_reliance` for one set of numbers (the same rule, in Python)."""
    consumption = production_t + imports_t - exports_t
    if consumption <= 0:
        return None
    if net_exporter_zero:
        return min(1.0, max(0.0, (imports_t - exports_t) / consumption))
    if imports_t <= exports_t:
        return None
    return (imports_t - exports_t) / consumption
