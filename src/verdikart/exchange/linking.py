"""Wiring EXCHANGE-LOGIC's matching and critical-material modules to the database, with the
disclosure rules applied to what comes back.

The four relations `verdikart.exchange.matching.rank_matches` expects are built set-based: one
SELECT per table through SQLAlchemy core, turned column-wise into Arrow, and reshaped in DuckDB
(unit factors joined, JSON limit lists unnested). Nothing loops over data rows in Python.

A match on a stream the caller may not see in detail is cut to the public summary and the fact
that it matches (`matching.redact_match`); each such reveal is written to the stream owner's
audit trail (action `match_revealed`), so repeated probing with narrow limits is visible to them.
Likewise another organisation's need shown as a match for the caller's stream is written to the
need owner's trail (`need_match_revealed`): probing with own streams' compositions is visible too.

Undisclosed pairs (streams of other organisations without an active disclosure in need
matching; other organisations' needs in stream matching) are decided at public precision only
(`rank_matches(coarse=True)` on sites snapped by `coarsen_sites`): limits on the 1-2-5 grid,
distance on the public bands, a public order listed after the caller's own / disclosed pairs
(which keep exact scores and explanations). A search over limit values, max distance, sites or
own streams' quantities therefore resolves nothing finer than a grid step or a band.

`verdikart.exchange.service.ExchangeService` owns the transactions: the functions here take its
SQLAlchemy session (audit events commit with the work they record). Exchange potential reads no
analytic table: Norway's imports arrive as a `critical.ImportsT` from the application core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import duckdb
import pyarrow as pa
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from verdikart.exchange import repository as repo
from verdikart.exchange.auth import Principal
from verdikart.exchange.matching import STREAM_FIELDS
from verdikart.exchange.models import CompositionEntry, Need, SideStream, Site

if TYPE_CHECKING:
    from verdikart.exchange.critical import ImportsT


def _arrow(session: Session, stmt: Any, schema: pa.Schema) -> pa.Table:
    """Run one SELECT and build an Arrow table column-wise (no per-row Python work)."""
    result = session.execute(stmt)
    rows = result.all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema.names]
    return pa.Table.from_arrays(
        [pa.array(list(col), type=field.type) for col, field in zip(columns, schema, strict=True)],
        schema=schema,
    )


STREAM_SCHEMA = pa.schema(
    [*STREAM_FIELDS, ("critical_json", pa.string()), ("organisation_id", pa.string())]
)
COMPOSITION_SCHEMA = pa.schema(
    [
        ("stream_id", pa.string()),
        ("component", pa.string()),
        ("value", pa.float64()),
        ("value_min", pa.float64()),
        ("value_max", pa.float64()),
        ("unit", pa.string()),
    ]
)
NEED_SCHEMA = pa.schema(
    [
        ("need_id", pa.string()),
        ("material_class", pa.string()),
        ("accepts_hazardous", pa.bool_()),
        ("quantity_t_min", pa.float64()),
        ("quantity_t_max", pa.float64()),
        ("max_distance_km", pa.float64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("also_json", pa.string()),
        ("limits_json", pa.string()),
        ("organisation_id", pa.string()),
    ]
)


def load_relations(
    session: Session,
    *,
    stream_ids: list[str] | None = None,
    need_ids: list[str] | None = None,
    stream_classes: list[str] | None = None,
    con: duckdb.DuckDBPyConnection,
) -> dict[str, pa.Table]:
    """streams, composition, needs, limits (+ owners) as `rank_matches` wants them."""
    from verdikart.exchange.composition import UNIT_FACTORS

    s_stmt = select(
        SideStream.id,
        SideStream.material_class,
        SideStream.hazardous,
        SideStream.quantity_t_per_year,
        Site.lat,
        Site.lon,
        SideStream.name_public,
        SideStream.kind,
        SideStream.quantity_band,
        SideStream.region,
        SideStream.ewc_code,
        cast(SideStream.critical_materials, String),
        SideStream.organisation_id,
    ).outerjoin(Site, Site.id == SideStream.site_id)
    c_stmt = select(
        CompositionEntry.stream_id,
        CompositionEntry.component,
        CompositionEntry.value,
        CompositionEntry.value_min,
        CompositionEntry.value_max,
        CompositionEntry.unit,
    )
    n_stmt = select(
        Need.id,
        Need.material_class,
        Need.accepts_hazardous,
        Need.quantity_t_per_year_min,
        Need.quantity_t_per_year_max,
        Need.max_distance_km,
        Site.lat,
        Site.lon,
        cast(Need.also_classes, String),
        cast(Need.limits, String),
        Need.organisation_id,
    ).outerjoin(Site, Site.id == Need.site_id)
    if stream_ids is not None:
        s_stmt = s_stmt.where(SideStream.id.in_(stream_ids))
        c_stmt = c_stmt.where(CompositionEntry.stream_id.in_(stream_ids))
    if stream_classes is not None:
        # Only streams of the need's classes can be candidates: filter in SQL (indexed column).
        s_stmt = s_stmt.where(SideStream.material_class.in_(stream_classes))
        c_stmt = c_stmt.join(SideStream, SideStream.id == CompositionEntry.stream_id).where(
            SideStream.material_class.in_(stream_classes)
        )
    if need_ids is not None:
        n_stmt = n_stmt.where(Need.id.in_(need_ids))
    con.register("raw_streams", _arrow(session, s_stmt, STREAM_SCHEMA))
    con.register("raw_comp", _arrow(session, c_stmt, COMPOSITION_SCHEMA))
    con.register("raw_needs", _arrow(session, n_stmt, NEED_SCHEMA))
    con.register(
        "unit_factors",
        pa.table({"unit": list(UNIT_FACTORS), "factor": [float(v) for v in UNIT_FACTORS.values()]}),
    )
    streams = con.sql(
        """SELECT * EXCLUDE (critical_json),
                  coalesce(from_json(critical_json, '["VARCHAR"]'), []::VARCHAR[])
                      AS critical_materials
           FROM raw_streams"""
    ).to_arrow_table()
    composition = con.sql(
        """SELECT c.stream_id, c.component,
                  coalesce(c.value, c.value_min) * u.factor AS value_min,
                  coalesce(c.value, c.value_max) * u.factor AS value_max
           FROM raw_comp c JOIN unit_factors u USING (unit)"""
    ).to_arrow_table()
    needs = con.sql(
        """SELECT * EXCLUDE (also_json, limits_json),
                  coalesce(from_json(also_json, '["VARCHAR"]'), []::VARCHAR[])
                      AS accepted_classes
           FROM raw_needs"""
    ).to_arrow_table()
    limits = con.sql(
        """WITH l AS (
               SELECT need_id, unnest(from_json(limits_json,
                   '[{"component": "VARCHAR", "op": "VARCHAR", "value": "DOUBLE",
                      "unit": "VARCHAR"}]')) AS lim
               FROM raw_needs)
           SELECT need_id, lim.component AS component, lim.op AS op,
                  lim.value * u.factor AS value
           FROM l LEFT JOIN unit_factors u ON u.unit = lim.unit"""
    ).to_arrow_table()
    for view in ("raw_streams", "raw_comp", "raw_needs", "unit_factors"):
        con.unregister(view)
    return {"streams": streams, "composition": composition, "needs": needs, "limits": limits}


def _owners(table: pa.Table, id_column: str) -> dict[str, str]:
    """id -> owning organisation, from a loaded relation."""
    return dict(
        zip(
            table.column(id_column).to_pylist(),
            table.column("organisation_id").to_pylist(),
            strict=True,
        )
    )


def _split(table: pa.Table, id_column: str, exact_ids: set[str]) -> tuple[pa.Table, pa.Table]:
    """(rows whose id is in exact_ids, the other rows) -- a set-based Arrow filter."""
    import pyarrow.compute as pc

    mask = pc.is_in(table.column(id_column), value_set=pa.array(sorted(exact_ids), pa.string()))
    return table.filter(mask), table.filter(pc.invert(mask))


def _rank_split(
    rel: dict[str, pa.Table],
    *,
    per: Literal["need", "stream"],
    exact_ids: set[str],
    limit: int,
    con: duckdb.DuckDBPyConnection,
    sealed: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Exact ranking for the authorised side, coarse public-order ranking for the rest; the
    authorised pairs first, then the undisclosed ones, `rank` = position in that list.

    `sealed`: streams whose owners keep the analysis wholly confidential
    (`components_public` false); the coarse run sees no composition for them, so every limit
    is 'unknown' and nothing in the result depends on which components the analysis holds
    (a limit no real value meets, `Cd >= 100 wt%`, would otherwise list such a stream exactly
    when Cd is not analysed)."""
    from verdikart.engine import DuckDBEngine
    from verdikart.exchange.matching import coarsen_sites, rank_matches

    streams = rel["streams"].drop_columns(["organisation_id"])
    needs = rel["needs"].drop_columns(["organisation_id"])
    if per == "need":
        exact_s, other_s = _split(streams, "stream_id", exact_ids)
        runs = [(exact_s, needs, False), (coarsen_sites(other_s), needs, True)]
    else:
        exact_n, other_n = _split(needs, "need_id", exact_ids)
        runs = [(streams, exact_n, False), (streams, coarsen_sites(other_n), True)]
    composition = rel["composition"]
    coarse_composition = _split(composition, "stream_id", sealed)[1] if sealed else composition
    rows: list[dict[str, Any]] = []
    for s_rel, n_rel, coarse in runs:
        if s_rel.num_rows == 0 or n_rel.num_rows == 0:
            continue
        ranked = rank_matches(
            s_rel,
            coarse_composition if coarse else composition,
            n_rel,
            rel["limits"],
            per=per,
            k=limit,
            coarse=coarse,
            engine=DuckDBEngine(con),
        )
        rows.extend(ranked.to_pylist())
    rows = rows[:limit]
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    return rows


def match_need(
    session: Session, principal: Principal, need_id: str, *, limit: int = 20
) -> list[dict[str, Any]]:
    """Streams ranked for one of the caller's needs; undisclosed streams decided at public
    precision, listed after the own/disclosed ones in a public order and redacted. Runs in
    the caller's transaction (`ExchangeService.match_need`): the audit events commit with it."""
    from verdikart.exchange.matching import redact_match

    need = repo.owned_need(session, principal, need_id)
    con = duckdb.connect()
    try:
        rel = load_relations(
            session,
            need_ids=[need.id],
            stream_classes=[need.material_class, *(need.also_classes or [])],
            con=con,
        )
        owners = _owners(rel["streams"], "stream_id")
        granted = {s for s, o in owners.items() if o == principal.org_id}
        granted |= repo.all_granted_stream_ids(session, principal) & set(owners)
        classes = [need.material_class, *(need.also_classes or [])]
        sealed = (
            set(
                session.scalars(
                    select(SideStream.id).where(
                        SideStream.material_class.in_(classes),
                        SideStream.components_public.is_(False),
                    )
                ).all()
            )
            - granted
        )
        rows = _rank_split(rel, per="need", exact_ids=granted, limit=limit, con=con, sealed=sealed)
    finally:
        con.close()
    out = []
    for row in rows:
        allowed = row["stream_id"] in granted
        view = redact_match(row, allowed)
        view["access"] = (
            ("owner" if owners[row["stream_id"]] == principal.org_id else "disclosed")
            if allowed
            else "summary"
        )
        out.append(view)
        if view["access"] == "disclosed":
            # The explanation carries composition values and the exact quantity.
            repo.audit(
                session,
                principal,
                "read_details",
                "stream",
                row["stream_id"],
                owner_org_id=owners[row["stream_id"]],
                reader_org=principal.org_name,
                reader_user=principal.user_name,
                via="match",
            )
        if not allowed:
            repo.audit(
                session,
                principal,
                "match_revealed",
                "stream",
                row["stream_id"],
                owner_org_id=owners[row["stream_id"]],
                need_id=need.id,
            )
    return out


def match_stream(
    session: Session, principal: Principal, stream_id: str, *, limit: int = 20
) -> list[dict[str, Any]]:
    """Needs ranked for one of the caller's streams; other organisations' needs are decided at
    public precision and appear only as their public summary (material class, county) with
    their position and the fact that they match. Each such need is written to its owner's
    audit trail (`need_match_revealed`, with the caller's stream), like `match_revealed`.
    Runs in the caller's transaction (`ExchangeService.match_stream`)."""
    from verdikart.exchange.matching import distance_band

    stream = repo.owned_stream(session, principal, stream_id)
    con = duckdb.connect()
    try:
        rel = load_relations(session, stream_ids=[stream.id], con=con)
        owners = _owners(rel["needs"], "need_id")
        own_needs = {n for n, o in owners.items() if o == principal.org_id}
        rows = _rank_split(rel, per="stream", exact_ids=own_needs, limit=limit, con=con)
    finally:
        con.close()
    needs = {
        n.id: n
        for n in session.scalars(select(Need).where(Need.id.in_([r["need_id"] for r in rows])))
    }
    out = []
    for row in rows:
        own = owners.get(row["need_id"]) == principal.org_id
        if own:
            view = dict(row)
        else:
            view = {
                "need_id": row["need_id"],
                "stream_id": row["stream_id"],
                "rank": row["rank"],
                "matches": row["matches"],
                "distance_band": distance_band(row.get("distance_km")),
            }
        view["need"] = repo.need_view(needs[row["need_id"]], full=own)
        out.append(view)
        if not own:
            # whether it matches says something about the need's hidden limits and
            # classes: the need's owner sees each such reveal, as stream owners do
            repo.audit(
                session,
                principal,
                "need_match_revealed",
                "need",
                row["need_id"],
                owner_org_id=owners[row["need_id"]],
                stream_id=stream.id,
            )
    return out


def _sig2(value: float | None) -> float | None:
    """`value` rounded to 2 significant figures (None stays None)."""
    if value is None or value == 0:
        return value
    return float(f"{value:.2g}")


RELEASED = ("secondary_t_min", "secondary_t_max", "share_min", "share_max")
RELEASE_PRECISION = (
    "2 significant figures of the key element's total; every figure is computed from that "
    "rounded total (and public import data) only; other organisations' streams only"
)


def released_figures(result: dict[str, Any]) -> dict[str, float | None]:
    """The released bounds and shares of an aggregate over other organisations' streams.

    Each bound is rounded ONCE, as a total of the basis component's key element (Mn, P, Al,
    ...), to 2 significant figures; the bound on the basis (Mn, P2O5, Al2O3, ...) and the
    share of the imports are then computed from that rounded total only (and public data:
    the imports and the grade), and shown to 2 significant figures. So no combination of
    queries -- over years (other import bases), materials with the same key element
    (aluminium / bauxite) or bases -- tells more than the one rounded total: each released
    number is a function of it. Rounding the share of an exact total instead let an attacker
    intersect the intervals `share +- half a unit x imports` over the years and narrow a
    5,100 t figure (+-0.98 %) to 0.18 % (issue #14).

    This is the consistent protection of linked tables -- one cell published in several
    tables must be protected the same way in all of them, or the tables are solved together
    -- and deterministic rounding of magnitude-table cells (Hundepool et al., *Statistical
    Disclosure Control*, Wiley 2012, ch. 4 on magnitude tables and linked tables, ch. 5 on
    rounding). The dominance rule (`_withheld_reason`) decides whether anything is released.
    """
    from verdikart.exchange.composition import components, element_fraction

    key = components()[result["basis"]].key_element
    f_basis = (element_fraction(result["basis"], key) if key else None) or 1.0
    imports = result.get("imports_basis_t")
    out: dict[str, float | None] = {}
    for bound in ("min", "max"):
        element_t = _sig2(result[f"secondary_t_{bound}"] * f_basis)
        total = None if element_t is None else element_t / f_basis
        out[f"secondary_t_{bound}"] = _sig2(total)
        share_ok = total is not None and imports is not None and imports > 0
        out[f"share_{bound}"] = _sig2(total / imports) if share_ok else None  # type: ignore[operator]
    return out


def _withheld_reason(
    n_orgs: int,
    contributions_min: list[float],
    contributions_max: list[float],
    *,
    min_organisations: int,
) -> str | None:
    """Why the aggregate over other organisations must be withheld, or None to release it.

    Threshold: at least `min_organisations` organisations contribute. Dominance
    (`critical.dominated`, the (n, k) rule of Hundepool et al., Statistical Disclosure Control,
    Wiley 2012, §4.2), applied to the lower and the upper bound separately with each
    organisation's contribution on the bounds' own basis (t/yr quantity x content): at least 3
    positive contributions, the largest <= 50 % and the two largest <= 85 % of the total.
    The reason does not say which bound or which part of the rule failed.
    """
    from verdikart.exchange.critical import dominated

    if n_orgs < min_organisations:
        return (
            f"withheld: fewer than {min_organisations} other organisations contribute "
            "(confidential details)"
        )
    if dominated(contributions_min) or dominated(contributions_max):
        return (
            "withheld: one or two organisations would dominate the figure (dominance rule: at "
            "least 3 organisations, the largest <= 50 % and the two largest <= 85 % of the total)"
        )
    return None


def potential_relations(session: Session) -> tuple[pa.Table, pa.Table]:
    """Every registered stream (stream_id, quantity_t_per_year, organisation_id) and the
    streams' composition (weight fractions), as `critical.potential` reads them."""
    con = duckdb.connect()
    try:
        rel = load_relations(session, need_ids=[], con=con)
    finally:
        con.close()
    streams = rel["streams"].select(["stream_id", "quantity_t_per_year", "organisation_id"])
    return streams, rel["composition"]


def potential(
    imports: ImportsT,
    streams: pa.Table,
    composition: pa.Table,
    *,
    principal: Principal | None = None,
    min_organisations: int = 1,
) -> tuple[dict[str, Any], set[str]]:
    """Secondary supply of `imports.material` in the registered streams
    (`potential_relations`) vs Norway's imports (`verdikart.exchange.critical.potential`;
    the imports come from the application core, see `critical.NorwayImports`).

    Returns the result and the organisations whose confidential data it used (to be written
    to their audit trails by `record_potential_query`; none without a principal).

    With a `principal` (the API): the aggregate is computed over OTHER organisations' streams
    only and released only when at least `min_organisations` distinct other organisations
    contribute and no one or two of them dominate either bound (`_withheld_reason`: the (n, k)
    dominance rule of Hundepool et al., Statistical Disclosure Control, Wiley 2012, §4.2),
    rounded to 2 significant figures, without stream counts; the caller's own
    streams are reported separately under `own` (exact -- their own data). Registering or
    deleting own streams therefore cannot change the released figure, and one company's
    quantity x content cannot be read off it. Every such query is written to the audit trail
    of each organisation whose confidential data it used (action `potential_query`).
    Without a principal (the local operator's CLI) all streams are aggregated, exactly.
    """
    from verdikart.exchange import critical

    mid = imports.material
    year = imports.year
    hs6 = list(imports.hs6) if year is not None else None
    if principal is None:
        result = critical.potential(
            mid, streams.drop_columns(["organisation_id"]), composition, imports.imports_t
        )
        result["year"] = year
        result["hs6"] = hs6
        if (result["n_streams"] or 0) < min_organisations:
            for key in RELEASED:
                result[key] = None
            result["note"] = "withheld: no stream contributes"
        return result, set()
    own, others = _split(streams, "organisation_id", {principal.org_id})
    result = critical.potential(mid, others, composition, imports.imports_t)
    mine = critical.potential(mid, own, composition, imports.imports_t)
    contributors = set(result.pop("organisation_ids"))
    withheld = _withheld_reason(
        result.pop("n_organisations") or 0,
        result.pop("contributions_min"),
        result.pop("contributions_max"),
        min_organisations=min_organisations,
    )
    for key in ("n_streams", "n_streams_without_quantity"):
        result.pop(key)
    result["year"] = year
    result["hs6"] = hs6
    result["released"] = withheld is None
    if withheld is None:
        result.update(released_figures(result))
        result["precision"] = RELEASE_PRECISION
    else:
        for key in RELEASED:
            result[key] = None
        result["note"] = withheld
    result["own"] = {
        key: mine[key]
        for key in ("secondary_t_min", "secondary_t_max", "share_min", "share_max", "n_streams")
    }
    return result, {principal.org_id, *contributors}


def record_potential_query(
    session: Session, principal: Principal, org_ids: set[str], material: str, *, released: bool
) -> None:
    """The caller's own record of a potential query, and one in each contributor's trail (the
    contributors' events are not shown to the caller)."""
    for org_id in sorted(org_ids):
        repo.audit(
            session,
            principal,
            "potential_query",
            "potential",
            None,
            owner_org_id=org_id,
            material=material,
            released=released,
        )
