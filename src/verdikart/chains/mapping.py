"""The mapping of seed 003: orchestrates lists, sectors, trade indicators and Norway's position.

Seven steps (seed 003, "Forslag til å avgrense studien"): (1) the EU and NATO lists, (2) plus
Norwegian additions, (3) linked to strategic sectors, (4) supplier concentration with the 65 %
flag, (5) Norway's position, (6) from trade statistics, (7) a table and report for discussion
with industry. Everything numeric comes from :mod:`verdikart.indicators.trade` and
:mod:`verdikart.indicators.position`; this module only resolves codes, joins and ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from verdikart.engine import Engine
from verdikart.errors import UnknownCodeError
from verdikart.indicators import position as pos
from verdikart.indicators import trade as tr
from verdikart.reference.countries import CountryRef

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from verdikart.relations import Relations

DEFAULT_LISTS: tuple[str, ...] = ("crma-critical", "crma-strategic", "nato2024", "norway")
MARKETS: tuple[str, ...] = ("EU27", "NATO", "EEA")
LEVELS: tuple[str, ...] = ("material", "hs6")

Progress = Callable[[str], None]
YEARS_PER_PASS = 5
"""Years one pass of :func:`run_mappings_years` maps together: each pass rereads the four
years before its first (the trend window), so longer passes read less but hold more (10 years
of a 10 M-row-per-year store at once: 3.9 GB peak)."""


@dataclass(frozen=True)
class MapRequest:
    """What to map: a reporter (country or group), a year and the material lists."""

    country: str = "NOR"
    year: int | None = None
    lists: tuple[str, ...] = DEFAULT_LISTS
    level: str = "material"
    basis: tr.Basis = "value"
    threshold: float = tr.DEFAULT_THRESHOLD


@dataclass
class MapResult:
    """Ranked rows plus what the report needs to draw and footnote them."""

    request: MapRequest
    reporter: str
    reporter_name: str
    year: int
    rows: list[dict[str, Any]]
    supplier_table: pa.Table
    trend: list[dict[str, Any]]
    sources: list[str]
    notes: list[str] = field(default_factory=list)

    @cached_property
    def suppliers(self) -> list[dict[str, Any]]:
        """Imports by supplier (``tr.supplier_shares`` rows of this reporter and year), made
        into rows on first use: a mapping of every country keeps them as Arrow until read."""
        return self.supplier_table.to_pylist()


# -- resolving -----------------------------------------------------------------------------
def reporter_table(country: str | CountryRef) -> tuple[pa.Table, str, str]:
    """(reporters relation, reporter id, English name) for a country or group (a name or code,
    or one already resolved)."""
    from verdikart.reference.countries import group_membership_table, resolve_country

    ref = resolve_country(country) if isinstance(country, str) else country
    if ref.kind == "group":
        members = group_membership_table()
        mask = pc.equal(members.column("group_id"), ref.id)
        sub = members.filter(mask)
        table = pa.table(
            {
                "reporter": pa.array([ref.id] * sub.num_rows, pa.string()),
                "iso3": sub.column("iso3"),
                "year_from": sub.column("year_from").cast(pa.int32()),
                "year_to": sub.column("year_to").cast(pa.int32()),
            }
        )
        return table, ref.id, ref.name_en
    return tr.country_reporters([ref.id]), ref.id, ref.name_en


def market_table(exclude: str | None = None) -> pa.Table:
    """Members of the allied markets (EU27, NATO, EEA) as (market, iso3, year_from, year_to)."""
    from verdikart.reference.countries import group_membership_table

    members = group_membership_table()
    ids = [m for m in MARKETS if m != exclude]
    sub = members.filter(pc.is_in(members.column("group_id"), pa.array(ids)))
    return pa.table(
        {
            "market": sub.column("group_id"),
            "iso3": sub.column("iso3"),
            "year_from": sub.column("year_from").cast(pa.int32()),
            "year_to": sub.column("year_to").cast(pa.int32()),
        }
    )


def trade_years(engine: Engine) -> tuple[int, int]:
    """First and last year of the trade the indicators read (``trade_analysis``)."""
    row = engine.query_rows(_year_range_expr)[0]
    if row["first"] is None:
        raise UnknownCodeError("the store holds no trade data")
    return int(row["first"]), int(row["last"])


def check_year(engine: Engine, year: int | None) -> int:
    """The requested year, or the latest year with trade data; UnknownCodeError outside."""
    first, last = trade_years(engine)
    if year is None:
        return last
    if not first <= year <= last:
        raise UnknownCodeError(f"no trade data for year {year}; the store holds {first}–{last}")
    return year


def _year_range_expr(rel: Relations) -> ir.Table:
    years = rel.analysis_years
    return years.aggregate(first=years.year.min(), last=years.year.max())


def material_products(
    engine: Engine, lists: Sequence[str], level: str, year: int
) -> tuple[pa.Table, list[str]]:
    """Products (product, hs6, material, stage, material_name) of the lists; plus notes.

    Materials whose HS6 codes are absent from the trade data of `year` are reported, not
    dropped silently.
    """
    return material_products_by_year(engine, lists, level, [year])[year]


def material_products_by_year(
    engine: Engine, lists: Sequence[str], level: str, years: Sequence[int]
) -> dict[int, tuple[pa.Table, list[str]]]:
    """:func:`material_products` for several years, from one query of the codes present."""
    if level not in LEVELS:
        raise UnknownCodeError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    from verdikart.reference import materials as mat

    # ids or the short names people use (nato, eu, crma); unknown ones raise with suggestions
    lists = list(dict.fromkeys(mat.resolve_list_id(x) for x in lists))
    every = mat.load_materials()
    chosen: dict[str, Any] = {}
    for list_id in lists:
        for entry in mat.list_members(list_id):
            chosen[entry.material] = every[entry.material]
    hs = [r for r in mat.material_hs6_table("HS92").to_pylist() if r["material"] in chosen]
    codes = sorted({r["hs6"] for r in hs})
    asked = sorted({int(y) for y in years})
    in_store: dict[int, set[str]] = {y: set() for y in asked}
    for r in engine.query_rows(_codes_present_expr, codes, asked):
        in_store[int(r["year"])].add(r["hs6"])
    return {y: _products_of_year(hs, chosen, lists, level, y, in_store[y]) for y in asked}


def _codes_present_expr(rel: Relations, codes: list[str], years: list[int]) -> ir.Table:
    """The (year, HS6 code) pairs of `codes` present in the analysed trade of `years`."""
    trade = rel.trade_analysis
    present = trade.filter(trade.year.isin(years) & trade.hs6.isin(codes))
    return present.select("year", "hs6").distinct()


def _products_of_year(
    hs: list[dict[str, Any]],
    chosen: dict[str, Any],
    lists: list[str],
    level: str,
    year: int,
    in_store: set[str],
) -> tuple[pa.Table, list[str]]:
    """The products table of one year: the chosen materials' codes present in its trade."""
    rows = [r for r in hs if r["hs6"] in in_store]
    covered = {r["material"] for r in rows}
    absent_codes = sorted({r["hs6"] for r in hs} - in_store)
    missing = sorted(set(chosen) - covered)
    notes = []
    if missing:
        notes.append(
            f"{len(missing)} material(s) of the lists have no HS6 code in the trade data "
            f"of {year} and are left out: {', '.join(missing)}"
        )
    if absent_codes:
        notes.append(
            f"{len(absent_codes)} HS6 code(s) of these materials are not in the trade data of "
            f"{year}, so material totals cover only the codes present: {', '.join(absent_codes)}"
        )
    product = [r["material"] if level == "material" else r["hs6"] for r in rows]
    table = pa.table(
        {
            "product": pa.array(product, pa.string()),
            "hs6": pa.array([r["hs6"] for r in rows], pa.string()),
            "material": pa.array([r["material"] for r in rows], pa.string()),
            "stage": pa.array([r.get("stage") for r in rows], pa.string()),
            "material_name": pa.array([chosen[r["material"]].name_en for r in rows], pa.string()),
            "lists": pa.array(
                [",".join(sorted(set(chosen[r["material"]].lists) & set(lists))) for r in rows],
                pa.string(),
            ),
        }
    )
    return table, notes


# -- ranking -------------------------------------------------------------------------------
def rank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Vulnerabilities (net importers) first, then advantages (net exporters).

    Vulnerabilities: flagged (top supplier above the threshold) first, each group by import
    value, so the largest concentrated dependencies lead. Advantages: by world export share,
    then export value.
    """

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        if r["position"] == "vulnerability":
            return (0, not r.get("concentration_flag"), -(r.get("import_value_kusd") or 0.0), 0)
        return (1, False, -(r.get("world_export_share") or 0.0), -(r.get("export_value_kusd") or 0))

    ranked = sorted(rows, key=key)
    for i, r in enumerate(ranked, start=1):
        r["rank"] = i
    return ranked


def _position_label(net_import_value_kusd: float | None) -> str:
    if net_import_value_kusd is None:
        return "no trade"
    return "vulnerability" if net_import_value_kusd > 0 else "advantage"


# -- the run -------------------------------------------------------------------------------
def run_mapping(engine: Engine, request: MapRequest, progress: Progress | None = None) -> MapResult:
    """All seven steps for one reporter and year; set-based queries, one per indicator family."""
    step = progress or (lambda _msg: None)
    year = check_year(engine, request.year)
    step("resolving country and lists")
    from verdikart.reference.countries import resolve_country

    # the reporter is resolved once here and handed down (reporters relation and GeoPolRisk)
    ref = resolve_country(request.country)
    reporters, reporter_id, reporter_name = reporter_table(ref)
    results = _map_reporters(
        engine,
        request,
        [year],
        reporters,
        {reporter_id: reporter_name},
        market_table(exclude=reporter_id),
        step,
        ref,
    )
    return results[year][reporter_id]


def run_mappings(
    engine: Engine,
    countries: Sequence[str],
    request: MapRequest,
    progress: Progress | None = None,
) -> dict[str, MapResult]:
    """The same mapping for many countries at once (each query family runs once for all).

    `countries` are ISO alpha-3 codes; `request.country` is ignored. Returns one result per
    country, keyed by its code.
    """
    year = check_year(engine, request.year)
    return run_mappings_years(engine, countries, [year], request, progress)[year]


def run_mappings_years(
    engine: Engine,
    countries: Sequence[str],
    years: Sequence[int],
    request: MapRequest,
    progress: Progress | None = None,
) -> dict[int, dict[str, MapResult]]:
    """The mapping of many countries for many years: each query family runs once for every
    year whose products are the same (usually all), so overlapping windows (the previous
    year of the year-on-year change, the five years of the trend) are read once, not per year.

    Gives exactly what :func:`run_mappings` gives year by year (``tests/test_map_many.py``).
    `request.country` and `request.year` are ignored.
    """
    from verdikart.reference.countries import resolve_country

    step = progress or (lambda _msg: None)
    asked = sorted({check_year(engine, int(y)) for y in years})
    names = {}
    for code in countries:
        try:
            names[code] = resolve_country(code).name_en
        except UnknownCodeError:
            names[code] = code  # BACI pseudo-codes such as S19 have no ISO entry
    reporters = tr.country_reporters(list(names))
    return _map_reporters(engine, request, asked, reporters, names, market_table(), step)


@dataclass(frozen=True)
class _YearGroup:
    """Years mapped together: the same products table (the same codes present in trade)."""

    years: list[int]
    products: pa.Table


def _year_groups(by_year: dict[int, tuple[pa.Table, list[str]]]) -> list[_YearGroup]:
    groups: dict[tuple[tuple[Any, ...], ...], list[int]] = {}
    tables: dict[tuple[tuple[Any, ...], ...], pa.Table] = {}
    for year, (table, _notes) in sorted(by_year.items()):
        key = tuple(tuple(c.to_pylist()) for c in table.columns)
        groups.setdefault(key, []).append(year)
        tables.setdefault(key, table)
    return [
        _YearGroup(years[i : i + YEARS_PER_PASS], tables[key])
        for key, years in groups.items()
        for i in range(0, len(years), YEARS_PER_PASS)
    ]


def _slices(table: pa.Table, keys: Sequence[str]) -> dict[tuple[Any, ...], pa.Table]:
    """Zero-copy slices of `table` (sorted by `keys` first) per distinct value of `keys`."""
    if table.num_rows == 0:
        return {}
    key_columns = [table.column(k).combine_chunks() for k in keys]
    change = pc.not_equal(key_columns[0][1:], key_columns[0][:-1])
    for column in key_columns[1:]:
        change = pc.or_(change, pc.not_equal(column[1:], column[:-1]))
    starts = [0, *(pc.add(pc.indices_nonzero(change), 1).to_pylist())]
    ends = [*starts[1:], table.num_rows]
    return {
        tuple(column[start].as_py() for column in key_columns): table.slice(start, end - start)
        for start, end in zip(starts, ends, strict=True)
    }


def _map_reporters(
    engine: Engine,
    request: MapRequest,
    years: list[int],
    reporters: pa.Table,
    names: dict[str, str],
    markets: pa.Table,
    step: Progress,
    ref: CountryRef | None = None,
) -> dict[int, dict[str, MapResult]]:
    """`ref`: the one reporter, resolved (None: `names` are ISO codes, each a country)."""
    by_year = material_products_by_year(engine, request.lists, request.level, years)
    governance = _governance_sources(engine, years)
    unused = tr.trade_not_analysed_by_year(engine, years)
    results: dict[int, dict[str, MapResult]] = {}
    for group in _year_groups(by_year):
        products, gyears = group.products, group.years
        step("trade indicators")
        ind = tr.trade_indicators(
            engine,
            reporters,
            products,
            gyears,
            basis=request.basis,
            threshold=request.threshold,
        ).to_pylist()
        step("supplier shares")
        suppliers = tr.supplier_shares(engine, reporters, products, gyears, basis=request.basis)
        # per reporter and year, each in product and rank order (as one year's query gives)
        suppliers = suppliers.sort_by(
            [(k, "ascending") for k in ("reporter", "year", "product", "supplier_rank")]
        )
        step("Norway's position")
        positions = pos.position(engine, reporters, markets, products, gyears).to_pylist()
        trend_years = list(range(min(gyears) - pos.TREND_YEARS + 1, max(gyears) + 1))
        trend_of: dict[str, list[dict[str, Any]]] = {reporter: [] for reporter in names}
        for r in pos.world_share_series(engine, reporters, products, trend_years).to_pylist():
            trend_of[r["reporter"]].append(r)
        step("GeoPolRisk")
        gpr, gpr_notes = _geopolrisk_scores(engine, list(names), products, gyears, ref)
        step("joining and ranking")
        meta = _product_meta(products)
        position_of = {(p["reporter"], p["product"], p["year"]): p for p in positions}
        rows_of: dict[tuple[str, int], list[dict[str, Any]]] = {
            (reporter, year): [] for reporter in names for year in gyears
        }
        for r in ind:
            m = meta[r["product"]]
            p = position_of.get((r["reporter"], r["product"], r["year"]), {})
            rows_of[(r["reporter"], r["year"])].append(
                {
                    "product": r["product"],
                    "hs6": m["hs6"],
                    "material": m["material"],
                    "material_name": m["material_name"],
                    "description": m["description"],
                    "lists": m["lists"],
                    "sectors": m["sectors"],
                    "year": r["year"],
                    "position": _position_label(r["net_import_value_kusd"]),
                    **{k: r[k] for k in _TRADE_COLUMNS},
                    **{k: p.get(k) for k in _POSITION_COLUMNS},
                    **_product_geopolrisk(m["materials"], gpr.get((r["reporter"], r["year"]), {})),
                    "source": r["source"],
                    "notes": r["notes"],
                }
            )
        supplier_slices = _slices(suppliers, ("reporter", "year"))
        no_suppliers = suppliers.slice(0, 0)
        for (reporter, year), rows in rows_of.items():
            notes = [*by_year[year][1], gpr_notes.get((reporter, year), ""), *unused[year]]
            silent = sorted(set(meta) - {r["product"] for r in rows})
            if silent:
                notes.append(
                    f"{len(silent)} product(s) with no trade for {reporter} in {year}: "
                    + ", ".join(silent)
                )
            sources = sorted(
                {s for r in rows for s in (r["source"] or "").split("; ") if s} | governance[year]
            )
            first_trend_year = year - pos.TREND_YEARS + 1
            results.setdefault(year, {})[reporter] = MapResult(
                request=request,
                reporter=reporter,
                reporter_name=names[reporter],
                year=year,
                rows=rank_rows(rows),
                supplier_table=supplier_slices.get((reporter, year), no_suppliers),
                trend=[t for t in trend_of[reporter] if first_trend_year <= t["year"] <= year],
                sources=sources,
                notes=[n for n in notes if n],
            )
    return results


_TRADE_COLUMNS = (
    "import_value_kusd",
    "import_quantity_t",
    "export_value_kusd",
    "export_quantity_t",
    "net_import_value_kusd",
    "net_import_quantity_t",
    "n_suppliers",
    "top_supplier",
    "top_supplier_share",
    "top3_share",
    "hhi",
    "hhi_points",
    "concentration_flag",
    "hhi_wgi",
    "supplier_risk",
    "governance_coverage",
    "import_reliance",
    "import_value_yoy",
)
_POSITION_COLUMNS = (
    "world_export_share",
    "rca",
    "world_export_share_slope",
    "EU27_share",
    "EU27_external_share",
    "NATO_share",
    "EEA_share",
)


def _product_meta(products: pa.Table) -> dict[str, dict[str, Any]]:
    """Per product: its HS6 codes, materials, names and a description."""
    from verdikart.chains.sectors import sectors_of
    from verdikart.reference.materials import load_materials

    # the reference's own description of each HS92 code ("what" of the material's HS item)
    descriptions: dict[str, str] = {}
    for material in load_materials().values():
        for item in material.hs_items:
            for code in item.codes.get("HS92", ()):
                descriptions.setdefault(code, item.what)
    meta: dict[str, dict[str, Any]] = {}
    for r in products.to_pylist():
        entry = meta.setdefault(
            r["product"],
            {"hs6s": [], "materials": [], "names": [], "lists": set(), "stages": []},
        )
        entry["hs6s"].append(r["hs6"])
        entry["materials"].append(r["material"])
        entry["names"].append(r["material_name"])
        entry["lists"].update((r["lists"] or "").split(","))
        entry["stages"].append(r["stage"])
    out = {}
    for product, e in meta.items():
        hs6s = sorted(set(e["hs6s"]))
        mats = sorted(set(e["materials"]))
        desc = "; ".join(d for d in (descriptions.get(h) for h in hs6s) if d)
        out[product] = {
            "hs6": ",".join(hs6s),
            "material": ",".join(mats),
            "materials": mats,
            "material_name": ", ".join(sorted(set(e["names"]))),
            "description": desc or None,
            "lists": ",".join(sorted(x for x in e["lists"] if x)),
            "sectors": ",".join(sorted({s for mm in mats for s in sectors_of(mm)})),
        }
    return out


def _product_geopolrisk(
    materials: Sequence[str], scores: dict[str, float | None]
) -> dict[str, Any]:
    """A product's GeoPolRisk: the highest score among its materials, which one, and all.

    An HS6 code can cover several materials (280530 is rare earths and scandium); each is
    looked up on its own, and ``geopolrisk_scores`` lists every one ("n/a" = no score) so a
    material without a score is visible, not dropped.
    """
    known = {mm: scores[mm] for mm in materials if scores.get(mm) is not None}
    top = max(known, key=lambda mm: (known[mm], mm), default=None)
    return {
        "geopolrisk_score": None if top is None else known[top],
        "geopolrisk_material": top,
        "geopolrisk_scores": "; ".join(
            f"{mm}={'n/a' if scores.get(mm) is None else format(scores[mm], '.4g')}"
            for mm in materials
        )
        or None,
    }


def _geopolrisk_scores(
    engine: Engine,
    reporters: Sequence[str],
    products: pa.Table,
    years: Sequence[int],
    ref: CountryRef | None = None,
) -> tuple[dict[tuple[str, int], dict[str, float | None]], dict[tuple[str, int], str]]:
    """GeoPolRisk score per (reporter, year) and material from
    :mod:`verdikart.indicators.geopolrisk` (one expression for all reporters and years; not
    redone here), and a note per reporter and year. `ref`: the one reporter, already resolved;
    None: every country with data, then ours are kept."""
    from verdikart.indicators import geopolrisk as gpr

    available = set(gpr.available_years(engine))
    notes: dict[tuple[str, int], str] = {}
    for year in years:
        if year not in available:
            notes.update(
                {
                    (r, year): f"GeoPolRisk scores left out: no production data for {year}"
                    for r in reporters
                }
            )
    scored = [y for y in years if y in available]
    if not scored:
        return {}, notes
    assessable = {m["material"] for m in gpr.assessable_materials(engine)}
    wanted = sorted(set(products.column("material").to_pylist()) & assessable)
    if not wanted:
        notes.update(
            {
                (r, y): "GeoPolRisk scores left out: no assessable material"
                for r in reporters
                for y in scored
            }
        )
        return {}, notes
    # One reporter: its resolved reference (a group with its membership years); many: every
    # country with data in one pass (pseudo-codes such as S19 are not resolvable), then ours.
    asked = [ref] if ref is not None else None
    scores: dict[tuple[str, int], dict[str, float | None]] = {
        (r, y): {} for r in reporters for y in scored
    }
    entities = gpr.entities_of(asked)
    rows = engine.query_rows(
        gpr.geopolrisk_entities_expr, entities, wanted, scored, all_countries=asked is None
    )
    for row in rows:
        key = (row["country"], int(row["year"]))
        if key in scores:
            scores[key][row["material"]] = row["score"]
    for (r, y), by_material in scores.items():
        notes[(r, y)] = (
            f"GeoPolRisk score (Gemechu et al. 2016; verdikart.indicators.geopolrisk) per material "
            f"for {r} {y}: {sum(v is not None for v in by_material.values())} of "
            f"{len(wanted)} assessable materials have a score"
        )
    return scores, notes


def _governance_sources(engine: Engine, years: Sequence[int]) -> dict[int, set[str]]:
    """The governance sources the mapping of each year footnotes."""
    out: dict[int, set[str]] = {int(y): set() for y in years}
    for r in engine.query_rows(_governance_sources_expr, sorted(out)):
        out[int(r["year"])].add(r["source"])
    return out


def _governance_sources_expr(rel: Relations, years: list[int]) -> ir.Table:
    g = rel.governance
    chosen = g.filter((g.indicator == tr.DEFAULT_GOVERNANCE) & g.year.isin(years))
    return chosen.select("year", "source").distinct()
