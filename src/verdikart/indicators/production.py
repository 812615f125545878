"""Production indicators over the store's ``production`` table, one source per material/year.

Owns, per material, year and supply-chain stage: global producer shares, the
Herfindahl-Hirschman index (HHI) of production, and a country's or group's own production and
share. Everything is one set-based Ibis expression over the canonical relations
(:mod:`verdikart.relations`), run on DuckDB or Spark alike; nothing loops over rows.

Formulas (``q_c`` = production of country ``c``, ``Q = Σ_c q_c`` world production):

* producer share ``s_c = q_c / Q``;
* HHI = Σ_c s_c² on the 0–1 scale (Herfindahl 1950, "Concentration in the U.S. Steel
  Industry", PhD thesis, Columbia University; Hirschman 1945, "National Power and the Structure
  of Foreign Trade"), and ``hhi_points`` = 10,000 × HHI, the scale of the US Department of
  Justice / FTC Horizontal Merger Guidelines (2023, section 2.1). With ``n`` producers,
  1/n ≤ HHI ≤ 1.

Units: ``quantity`` is in the table's ``unit`` (t, kg, ct, million m3) expressed as
``content_basis`` (e.g. Li2O for lithium); ``quantity_t`` (:func:`verdikart.relations.quantity_t`)
converts kg to tonnes and is NULL for
units that are not masses (ct, million m3). Shares, HHI and world production are computed on one
common unit per material, year and stage, never on raw quantities in different units: when all
rows share a unit, that unit; when they mix masses (kg and t), tonnes (``quantity`` and ``unit``
are then given in t); when they mix units that do not convert (a mass with carats or
million m3), share, rank, world quantity and HHI are NULL and ``note`` says why.

The World Mining Data sheet for gold lists two rows under Guyana's code (one is French
Guiana); shares here sum them per country. The GeoPolRisk module keeps the peer's row-level
convention instead (see :mod:`verdikart.indicators.geopolrisk`).

One source per material, stage and year: the table can hold the same material/stage/year from
several sources (the bundled World Mining Data, imported USGS MCS releases, another WMD
edition). Adding them would double count producers and world production and mix content bases
(chromite ore gross weight with Cr2O3), so every indicator here, and GeoPolRisk's production
inputs, reads the rows of exactly one source per material/stage/year
(:func:`verdikart.relations.selected_production`)
and names it in a ``source`` column:

* an explicit ``source`` (a label prefix, case-insensitive: ``'USGS'``, ``'World Mining Data'``,
  ``'USGS MCS 2023'``) keeps only sources whose label starts with it;
* otherwise the default priority, per material/stage/year among the sources that have rows for
  it: World Mining Data first (the GeoPolRisk method's own production source), then USGS MCS,
  then any other source.

Among several matching sources of the same rank (two editions), the newest edition (the year in
the label) wins, then the label in alphabetical order. A source that lists one material/stage/
year under several content bases (USGS: silicon as Si in ferrosilicon and Si metal, titanium as
TiO2 in ilmenite and in rutile; each basis is the same element or oxide) is summed per country
as that source publishes it; ``content_basis`` lists the bases and ``note`` says so. USGS MCS
tables do not store their "Other countries" aggregate, so a USGS world quantity is the sum of
the countries it lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from verdikart.errors import UnknownCodeError
from verdikart.relations import in_years, quantity_t, selected_production

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.reference.countries import CountryRef
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

NO_UNIT = "(no unit)"


def production_rows(
    production: ir.Table,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> ir.Table:
    """One row per material, year, stage and country of the selection (one source per
    material/year/stage; `materials`/`years` None = all, `source` a label prefix).

    Columns: material, year, stage, country, content_basis, source, note, q, quantity, unit,
    common_unit. The quantity is in the common unit of its material/year/stage (``unit``; kg
    and t -> t when both occur). ``q`` is that quantity where the group has a common unit, NULL
    where its units do not convert (then ``unit``/``quantity`` are the country's own when it
    has one unit, and ``note`` says why).
    """
    sel = selected_production(production, materials=materials, years=years, source=source)
    base = sel.select(
        "material",
        "year",
        "stage",
        "country",
        "content_basis",
        "source",
        "quantity",
        unit=sel.unit.coalesce(NO_UNIT),
        quantity_t=quantity_t(sel.quantity, sel.unit),
        basis=ibis.cases((sel.unit.isin(["t", "kg"]), "t"), else_=sel.unit.coalesce(NO_UNIT)),
    )
    contents = base.content_basis.coalesce("(none)")
    grouped = base.group_by("material", "year", "stage").agg(
        g_source=base.source.max(),
        n_units=base.unit.nunique(),
        n_basis=base.basis.nunique(),
        units=base.unit.collect(distinct=True).sort().join(", "),
        n_contents=base.content_basis.coalesce("").nunique(),
        contents=contents.collect(distinct=True).sort().join(" + "),
        any_unit=base.unit.max(),
    )
    unit_note = ibis.cases(
        (
            grouped.n_basis > 1,
            "units "
            + grouped.units
            + " do not convert to one unit (only kg and t do); share, rank, world quantity "
            "and HHI not computed",
        ),
        (grouped.n_units > 1, "units " + grouped.units + " converted to t"),
    )
    content_note = ibis.cases(
        (
            grouped.n_contents > 1,
            "content bases " + grouped.contents + " of " + grouped.g_source + " summed",
        )
    )
    groups = grouped.select(
        g_material=grouped.material,
        g_year=grouped.year,
        g_stage=grouped.stage,
        g_source=grouped.g_source,
        g_n_units=grouped.n_units,
        common_unit=ibis.cases(
            (grouped.n_units == 1, grouped.any_unit), (grouped.n_basis == 1, "t")
        ),
        # concat_ws('; ', unit_note, content_note), NULL when both are NULL
        note=ibis.cases(
            (unit_note.notnull() & content_note.notnull(), unit_note + "; " + content_note),
            else_=unit_note.coalesce(content_note),
        ),
    )
    joined = base.join(
        groups,
        [
            base.material == groups.g_material,
            base.year == groups.g_year,
            base.stage == groups.g_stage,
        ],
    )
    per_country = joined.group_by(
        "material",
        "year",
        "stage",
        "country",
        "g_source",
        "common_unit",
        "g_n_units",
        "note",
    ).agg(
        content_basis=ibis.cases(
            (
                joined.content_basis.count() > 0,
                joined.content_basis.collect(distinct=True).sort().join(" + "),
            ),
            else_=ibis.null("string"),
        ),
        q_t=joined.quantity_t.sum(),
        own_units=joined.unit.nunique(),
        own_unit=joined.unit.max(),
        own_quantity=joined.quantity.sum(),
    )
    pc = per_country
    q = ibis.cases(
        (pc.g_n_units == 1, pc.own_quantity),
        (pc.common_unit.notnull(), pc.q_t),
        else_=ibis.null("float64"),
    )
    return pc.select(
        "material",
        "year",
        "stage",
        "country",
        "content_basis",
        source=pc.g_source,
        note=pc.note,
        q=q,
        quantity=ibis.cases(
            (pc.common_unit.notnull(), q),
            (pc.own_units == 1, pc.own_quantity),
            else_=ibis.null("float64"),
        ),
        unit=pc.common_unit.coalesce(ibis.cases((pc.own_units == 1, pc.own_unit))),
        common_unit=pc.common_unit,
    )


def known_sources(engine: Engine) -> list[str]:
    """Source labels of the production table."""
    return [r["source"] for r in engine.query_rows(_known_sources_expr)]


def _known_sources_expr(rel: Relations) -> ir.Table:
    p = rel.production
    return p.filter(p.source.notnull()).select("source").distinct().order_by("source")


def check_source(engine: Engine, source: str | None) -> str | None:
    """A production source prefix as given (stripped; None or '' = default priority).

    Raises UnknownCodeError listing the sources when no label starts with it.
    """
    if source is None or not source.strip():
        return None
    prefix = source.strip()
    sources = known_sources(engine)
    if not any(s.casefold().startswith(prefix.casefold()) for s in sources):
        raise UnknownCodeError(
            f"no production source starts with {prefix!r}; production sources: {'; '.join(sources)}"
        )
    return prefix


def known_materials(engine: Engine) -> list[str]:
    """Material slugs with production data in the store."""
    return [r["material"] for r in engine.query_rows(_known_materials_expr)]


def _known_materials_expr(rel: Relations) -> ir.Table:
    p = rel.production
    return p.select("material").distinct().order_by(ibis.asc("material", nulls_first=False))


def known_years(engine: Engine) -> list[int]:
    """Years with production data in the store."""
    return [int(r["year"]) for r in engine.query_rows(_known_years_expr)]


def _known_years_expr(rel: Relations) -> ir.Table:
    p = rel.production
    return p.select("year").distinct().order_by("year")


def check_selection(
    engine: Engine, materials: Sequence[str] | None, years: Sequence[int] | None
) -> tuple[list[str], list[int]]:
    """Validate material slugs and years against the production table (None = all).

    Raises UnknownCodeError listing what exists.
    """
    all_materials = known_materials(engine)
    all_years = known_years(engine)
    mats = list(all_materials) if materials is None else [m.strip().lower() for m in materials]
    unknown = [m for m in mats if m not in all_materials]
    if unknown:
        from verdikart.reference.inputs import unknown_materials_message

        raise UnknownCodeError(
            unknown_materials_message("no production data", unknown, list(all_materials))
        )
    yrs = list(all_years) if years is None else [int(y) for y in years]
    bad = [y for y in yrs if y not in all_years]
    if bad:
        raise UnknownCodeError(
            f"no production data for year(s) {', '.join(map(str, bad))}; "
            f"years with production data: {', '.join(map(str, all_years))}"
        )
    return mats, yrs


def _producer_order(rows: ir.Table) -> ir.IntegerValue:
    """A producer's place in its material/year/stage, from 0: largest quantity first, equal
    quantities by country code (the one ranking of producer shares and the top producer)."""
    order = ibis.window(
        group_by=["material", "year", "stage"],
        order_by=[ibis.desc(rows.q, nulls_first=False), ibis.asc(rows.country)],
    )
    return ibis.row_number().over(order)


def producer_shares_expr(
    rel: Relations,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> ir.Table:
    """The expression of :func:`producer_shares` (`materials`/`years` None = all; not
    validated here)."""
    rows = production_rows(rel.production, materials, years, source)
    w = ibis.window(group_by=["material", "year", "stage"])
    world = rows.q.sum().over(w)
    rank = ibis.cases(
        (rows.common_unit.notnull(), (_producer_order(rows) + 1).cast("int32")),
        else_=ibis.null("int32"),
    )
    out = rows.select(
        "material",
        year=rows.year.cast("int32"),
        stage=rows.stage,
        country=rows.country,
        quantity=rows.quantity,
        unit=rows.unit,
        content_basis=rows.content_basis,
        quantity_t=quantity_t(rows.quantity, rows.unit),
        world_quantity=world,
        share=ibis.cases((world > 0, rows.q / world), else_=ibis.null("float64")),
        rank=rank,
        source=rows.source,
        note=rows.note,
    )
    return out.order_by(
        [
            ibis.asc(out.material, nulls_first=False),
            ibis.asc(out.year, nulls_first=False),
            ibis.asc(out.stage, nulls_first=False),
            ibis.asc(out["rank"], nulls_first=False),
            ibis.asc(out.country, nulls_first=False),
        ]
    )


def producer_shares(
    engine: Engine,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> pa.Table:
    """Each producer's share of world production per material, year and stage.

    Columns: material, year, stage, country, quantity, unit, content_basis, quantity_t,
    world_quantity, share, rank (1 = largest), source, note. One source per material, year and
    stage (`source`: a label prefix; None = World Mining Data, then USGS MCS, then others; see
    the module docstring). Countries with several rows are summed.
    Quantities are in the common unit of the material/year/stage (kg and t together -> t); where
    its units do not convert (a mass and carats), share, rank and world_quantity are NULL and
    `note` says why.
    """
    mats, yrs = check_selection(engine, materials, years)
    src = check_source(engine, source)
    return engine.query(producer_shares_expr, mats, yrs, src)


def production_hhi_expr(
    rel: Relations,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> ir.Table:
    """The expression of :func:`production_hhi` (`materials`/`years` None = all; not
    validated here)."""
    rows = production_rows(rel.production, materials, years, source)
    # the top producer is rank 1 of producer_shares; a group whose quantities are all NULL
    # has none
    rows = rows.mutate(_first=_producer_order(rows) == 0)
    total = rows.q.sum()
    hhi = ibis.cases(
        (total > 0, (rows.q * rows.q).sum() / (total * total)), else_=ibis.null("float64")
    )
    agg = rows.group_by("material", "year", "stage").agg(
        unit=rows.common_unit.max(),
        n_producers=rows.quantity.count(where=rows.quantity > 0).cast("int32"),
        world_quantity=total,
        hhi=hhi,
        top_country=rows.country.max(where=rows._first & rows.q.notnull()),
        top_share=ibis.cases((total > 0, rows.q.max() / total), else_=ibis.null("float64")),
        source=rows.source.max(),
        note=rows.note.max(),
    )
    out = agg.select(
        "material",
        year=agg.year.cast("int32"),
        stage=agg.stage,
        unit=agg.unit,
        n_producers=agg.n_producers,
        world_quantity=agg.world_quantity,
        world_quantity_t=quantity_t(agg.world_quantity, agg.unit),
        hhi=agg.hhi,
        hhi_points=10000.0 * agg.hhi,
        top_country=agg.top_country,
        top_share=agg.top_share,
        source=agg.source,
        note=agg.note,
    )
    return out.order_by(
        [
            ibis.asc(out.material, nulls_first=False),
            ibis.asc(out.year, nulls_first=False),
            ibis.asc(out.stage, nulls_first=False),
        ]
    )


def production_hhi(
    engine: Engine,
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> pa.Table:
    """HHI of world production per material, year and stage (0–1 and 0–10,000 points).

    Columns: material, year, stage, unit, n_producers, world_quantity, world_quantity_t, hhi,
    hhi_points, top_country, top_share, source, note. One source per material, year and stage
    (`source` as in `producer_shares`). HHI is NULL (not 0) when world production is 0,
    and NULL with a `note` when the material/year/stage mixes units that do not convert.
    ``top_country`` is the largest producer (ties: the first by code, as rank 1 of
    `producer_shares`).
    """
    mats, yrs = check_selection(engine, materials, years)
    src = check_source(engine, source)
    return engine.query(production_hhi_expr, mats, yrs, src)


def own_production_expr(
    rel: Relations,
    countries: Sequence[CountryRef],
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> ir.Table:
    """The expression of :func:`own_production` for resolved countries and groups
    (`materials`/`years` None = all; not validated here)."""
    entities = entity_table(countries)
    rows = production_rows(rel.production, materials, years, source)
    # (entity, iso3, year) for the years of the rows, membership years applied
    row_years = rows.select(m_year=rows.year).distinct()
    crossed = entities.cross_join(row_years)
    members = (
        crossed.filter(in_years(crossed.m_year, crossed.year_from, crossed.year_to))
        .select(m_entity="entity", m_iso3="iso3", m_year="m_year")
        .distinct()
    )
    world = rows.group_by("material", "year", "stage").agg(
        unit=rows.common_unit.max(),
        world_quantity=rows.q.sum(),
        source=rows.source.max(),
        note=rows.note.max(),
    )
    mine = rows.join(members, [members.m_iso3 == rows.country, members.m_year == rows.year])
    own = mine.group_by(
        o_entity=mine.m_entity, o_material=mine.material, o_year=mine.year, o_stage=mine.stage
    ).agg(o_quantity=mine.q.sum())
    names = entities.select(e_entity="entity").distinct()
    grid = names.cross_join(world)
    full = grid.left_join(
        own,
        [
            own.o_entity == grid.e_entity,
            own.o_material == grid.material,
            own.o_year == grid.year,
            own.o_stage == grid.stage,
        ],
    )
    mine_q = full.o_quantity.coalesce(0.0)
    out = full.select(
        country=full.e_entity,
        material=full.material,
        year=full.year.cast("int32"),
        stage=full.stage,
        quantity=ibis.cases((full.unit.notnull(), mine_q), else_=ibis.null("float64")),
        unit=full.unit,
        quantity_t=quantity_t(mine_q, full.unit),
        world_quantity=full.world_quantity,
        share=ibis.cases(
            (full.world_quantity > 0, mine_q / full.world_quantity), else_=ibis.null("float64")
        ),
        source=full.source,
        note=full.note,
    )
    return out.order_by(
        [
            ibis.asc(out.country, nulls_first=False),
            ibis.asc(out.material, nulls_first=False),
            ibis.asc(out.year, nulls_first=False),
            ibis.asc(out.stage, nulls_first=False),
        ]
    )


def own_production(
    engine: Engine,
    countries: Sequence[str],
    materials: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
) -> pa.Table:
    """A country's or group's own production and share of world production.

    `countries` are ISO3 codes or group ids (anything `resolve_country` accepts); a group sums
    its members of that year. Columns: country, material, year, stage, quantity, unit,
    quantity_t, world_quantity, share, source, note. One source per material, year and stage
    (`source` as in `producer_shares`). A country that does not appear in the data of that
    source for a material/year produced 0 (World Mining Data lists every producer; USGS MCS
    lists the main ones).
    Quantities are in the common unit of the material/year/stage (kg and t together -> t);
    where its units do not convert, quantity, world_quantity and share are NULL and `note`
    says why.
    """
    from verdikart.reference.countries import resolve_country

    mats, yrs = check_selection(engine, materials, years)
    src = check_source(engine, source)
    refs = [resolve_country(c) for c in countries]
    return engine.query(own_production_expr, refs, mats, yrs, src)


ENTITY_SCHEMA = pa.schema(
    [
        ("entity", pa.string()),
        ("kind", pa.string()),
        ("iso3", pa.string()),
        ("year_from", pa.int32()),
        ("year_to", pa.int32()),
    ]
)


def entity_table(refs: Sequence[CountryRef]) -> ir.Table:
    """:func:`entity_rows` as an in-memory table (handed to Spark as Arrow)."""
    return ibis.memtable(entity_rows(refs))


def entity_rows(refs: Sequence[CountryRef]) -> pa.Table:
    """Countries and groups as (entity, kind, iso3, year_from, year_to): one row per member.

    A country is a group of one, valid in every year (NULL bounds). A group is expanded from
    the reference module's membership table (group_id, iso3, year_from, year_to; built-in and
    user groups), so membership years apply.
    """
    from verdikart.reference.countries import group_membership_table

    countries = [ref.id for ref in refs if ref.kind == "country"]
    group_ids = sorted({ref.id for ref in refs if ref.kind == "group"})
    n = len(countries)
    parts = [
        pa.table(
            [
                pa.array(countries, pa.string()),
                pa.array(["country"] * n, pa.string()),
                pa.array(countries, pa.string()),
                pa.nulls(n, pa.int32()),
                pa.nulls(n, pa.int32()),
            ],
            schema=ENTITY_SCHEMA,
        )
    ]
    if group_ids:
        m = group_membership_table(only=group_ids)
        parts.append(
            pa.table(
                [
                    m.column("group_id"),
                    pa.array(["group"] * m.num_rows, pa.string()),
                    m.column("iso3"),
                    # from Python values: a cast would import pyarrow.compute (0.08 s)
                    pa.array(m.column("year_from").to_pylist(), pa.int32()),
                    pa.array(m.column("year_to").to_pylist(), pa.int32()),
                ],
                schema=ENTITY_SCHEMA,
            )
        )
    return pa.concat_tables(parts).combine_chunks()
