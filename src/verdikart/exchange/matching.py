"""Matching side streams to needs, set-based as Ibis expressions, with an explanation per match.

Inputs are four relations (Arrow tables or DuckDB relations), so the exchange's repository can
load them from SQL and call :func:`rank_matches`:

``streams``      stream_id, material_class, hazardous, quantity_t_per_year (NULL for energy),
                 lat, lon (NULL when unknown); optional public-summary columns (name_public, kind,
                 quantity_band, region, ewc_code, critical_materials) are passed through.
``composition``  stream_id, component, value_min, value_max  -- weight fractions (0..1), canonical
                 component ids of :mod:`verdikart.exchange.composition`.
``needs``        need_id, material_class, accepts_hazardous, quantity_t_min, quantity_t_max,
                 max_distance_km, lat, lon; optional accepted_classes (list of further classes).
``limits``       need_id, component, op ('<', '<=', '>', '>=', 'lowest', 'highest'),
                 value (weight fraction; NULL for the soft 'lowest/highest possible').

They enter the expressions as ``ibis.memtable``; the same expressions run on any
:class:`verdikart.engine.Engine` -- DuckDB (an in-memory database by default) or Spark. Each
step is a pure expression (:func:`match_inputs`, :func:`candidate_pairs_expr`,
:func:`stream_values_expr`, :func:`signatures_expr`, :func:`hard_counts_expr`,
:func:`ranked_expr`, :func:`explained_expr`); :func:`rank_matches` runs them, keeping the
inputs, the pairs, the stream values and the top-k on the engine (temp tables on DuckDB,
cached DataFrames on Spark) because several later steps read them.

Candidate pairs: same material class (or one of the need's accepted classes); a hazardous stream
only for a need that accepts hazardous waste; within the need's max distance when both sites have
coordinates (pairs with an unknown distance stay, with distance NULL and a reason).

Score (0..1) = 0.5 x composition + 0.2 x quantity fit + 0.2 x distance fit + 0.1 x preference:

* composition = (hard limits passed + 0.5 x unknown) / hard limits (1 when the need has none);
  a failed hard limit excludes the pair (``excluded`` true with the reason; ranked after every
  non-excluded pair when ``include_excluded``). Limit values are resolved as in
  :func:`verdikart.exchange.composition.resolve_content`: the component itself, else its key
  element (reported directly, or summed over compounds containing it) converted to the limit's
  basis, so a stream reporting P2O5 is judged against a P limit.
* quantity fit = min(1, stream t/yr / need minimum t/yr) (1 without a minimum; NULL -> 0.5).
* distance fit = 1 - d / max distance (or 1 - min(d, 2000) / 2000 without a maximum; NULL -> 0.5);
  d = great-circle (haversine) distance, mean Earth radius 6371.0088 km (IUGG).
* preference = mean over soft limits of 1 - percent_rank of the stream's mid value among the
  need's candidates (lowest possible) or percent_rank (highest possible); unknown -> 0.5.

Only the top-k pairs per need (or per stream) get the per-limit explanation list, so matching
100,000 streams against 10,000 needs does the heavy work as joins and window functions. The
explanation's sentences (numbers printed like C's ``%.4g``) are written in Python from the
top-k rows' limit lists: number formatting differs between engines (C printf, Java).

Coarse mode (``coarse=True``, for pairs whose confidential side the viewer may not read): the
result may only say what the public tier could say, so that probing with crafted limits, sites
or quantities learns nothing finer than the public grid:

* hard limits are snapped OUTWARD to the 1-2-5 grid per decade of the weight fraction of the
  limit's key element (lower bounds down, upper bounds up; '>'/'<' become '>='/'<='), so a match
  means "possibly within spec" and a search on the limit value only finds the grid interval
  (factor 2-2.5) the content lies in -- on the same element grid whatever compound the limit
  names, so changing the basis (P vs P2O5) does not refine it;
* the distance filter uses the public bands: a pair passes when its band's lower edge is
  <= max_distance_km (i.e. distance < the first band edge above max_distance_km);
* the order is public-only (excluded, distance band, quantity band from large to small, id),
  never the score, so adding or removing own streams cannot reveal hidden quantities.
  The confidential side's site should be snapped first (:func:`coarsen_sites`).

Disclosure: :func:`redact_matches` / :func:`redact_match` cut a match down to what an
unauthorised viewer may see -- ids, rank, that it matches, a distance *band* and the stream's
public summary; never values, exact quantities, exact distance, site or the explanation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import duckdb
import pyarrow as pa

from verdikart.errors import ExchangeError
from verdikart.exchange.composition import component_element_table, components

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
WEIGHTS = {"composition": 0.5, "quantity": 0.2, "distance": 0.2, "preference": 0.1}
DISTANCE_BANDS_KM: tuple[tuple[float, str], ...] = (
    (25.0, "<25 km"),
    (50.0, "25–50 km"),
    (100.0, "50–100 km"),
    (250.0, "100–250 km"),
    (500.0, "250–500 km"),
)
DISTANCE_TOP_BAND = "≥500 km"
SITE_GRID_DEG = 0.25  # undisclosed sites are moved to the centre of their 0.25° x 0.25° cell
QUANTITY_BAND_ORDER = ("≥100 kt", "10–100 kt", "1–10 kt", "100–1000 t", "<100 t",
                       "≥100 GWh", "10–100 GWh", "1–10 GWh", "<1 GWh")  # fmt: skip
PUBLIC_STREAM_COLUMNS = (
    "name_public",
    "material_class",
    "kind",
    "quantity_band",
    "region",
    "hazardous",
    "ewc_code",
    "critical_materials",
)
PUBLIC_MATCH_COLUMNS = ("need_id", "stream_id", "rank", "matches", "distance_band")

_REQUIRED = {
    "streams": ("stream_id", "material_class", "hazardous", "quantity_t_per_year", "lat", "lon"),
    "composition": ("stream_id", "component", "value_min", "value_max"),
    "needs": (
        "need_id",
        "material_class",
        "accepts_hazardous",
        "quantity_t_min",
        "quantity_t_max",
        "max_distance_km",
        "lat",
        "lon",
    ),
    "limits": ("need_id", "component", "op", "value"),
}
# the types the expressions compute with (an input column of another type is cast)
_TYPES = {
    "hazardous": "boolean",
    "accepts_hazardous": "boolean",
    "quantity_t_per_year": "float64",
    "quantity_t_min": "float64",
    "max_distance_km": "float64",
    "lat": "float64",
    "lon": "float64",
    "value_min": "float64",
    "value_max": "float64",
    "value": "float64",
    "stream_id": "string",
    "need_id": "string",
    "material_class": "string",
    "component": "string",
    "op": "string",
    "accepted_classes": "array<string>",
}
OPS = ("<", "<=", ">", ">=", "lowest", "highest")

Relation: TypeAlias = "pa.Table | duckdb.DuckDBPyRelation"
HardCounts: TypeAlias = Literal["pairs", "signatures"]


# The stream columns matching reads (exact quantity and site included: matching runs
# server-side); callers add their own extra columns.
STREAM_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("stream_id", pa.string()),
    ("material_class", pa.string()),
    ("hazardous", pa.bool_()),
    ("quantity_t_per_year", pa.float64()),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
    ("name_public", pa.string()),
    ("kind", pa.string()),
    ("quantity_band", pa.string()),
    ("region", pa.string()),
    ("ewc_code", pa.string()),
)

LIMIT_TYPE = pa.struct(
    [
        ("component", pa.string()),
        ("op", pa.string()),
        ("limit_value", pa.float64()),
        ("status", pa.string()),
        ("value_min", pa.float64()),
        ("value_max", pa.float64()),
        ("source", pa.string()),
    ]
)
# the result's columns before the stream's public-summary columns
RESULT_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("need_id", pa.string()),
    ("stream_id", pa.string()),
    ("rank", pa.int64()),
    ("score", pa.float64()),
    ("composition_score", pa.float64()),
    ("quantity_fit", pa.float64()),
    ("distance_km", pa.float64()),
    ("distance_band", pa.string()),
    ("preference_score", pa.float64()),
    ("n_pass", pa.int64()),
    ("n_fail", pa.int64()),
    ("n_unknown", pa.int64()),
    ("excluded", pa.bool_()),
    ("matches", pa.bool_()),
    ("reasons", pa.list_(pa.string())),
    ("limits", pa.list_(LIMIT_TYPE)),
    ("quantity_t_per_year", pa.float64()),
    ("material_class", pa.string()),
    ("hazardous", pa.bool_()),
)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (haversine formula, spherical Earth of radius 6371.0088 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def distance_band(distance_km: float | None) -> str:
    """Public band for a distance: '<25 km', '25–50 km', ..., '≥500 km', or 'unknown'."""
    if distance_km is None:
        return "unknown"
    for upper, label in DISTANCE_BANDS_KM:
        if distance_km < upper:
            return label
    return DISTANCE_TOP_BAND


def snap_fraction(value: float, *, down: bool) -> float:
    """Python twin of the coarse-mode snap (for docs and tests): 0.1047 -> 0.1 down, 0.2 up."""
    if value <= 0:
        return 0.0
    d = math.floor(math.log10(value) + 1e-12)
    m = value / 10**d
    if down:
        step = 5 if m >= 5 - 1e-9 else 2 if m >= 2 - 1e-9 else 1
    else:
        step = 1 if m <= 1 + 1e-9 else 2 if m <= 2 + 1e-9 else 5 if m <= 5 + 1e-9 else 10
    return min(1.0, 10**d * step)


def coarsen_sites(table: pa.Table) -> pa.Table:
    """`table` with lat/lon moved to the centre of their SITE_GRID_DEG cell (NULL stays NULL):
    applied to the undisclosed side before coarse matching, so the distance band edges cannot
    be used to trilaterate an exact site."""
    import pyarrow.compute as pc

    out = table
    for name in ("lat", "lon"):
        col = out.column(name)
        snapped = pc.add(
            pc.multiply(pc.floor(pc.divide(col, SITE_GRID_DEG)), SITE_GRID_DEG), SITE_GRID_DEG / 2
        )
        out = out.set_column(out.column_names.index(name), name, snapped)
    return out


# ---------------------------------------------------------------------------------------------
# Expression pieces (Ibis; the same on DuckDB and Spark)


def _haversine(
    lat1: ir.FloatingValue,
    lon1: ir.FloatingValue,
    coslat1: ir.FloatingValue,
    lat2: ir.FloatingValue,
    lon2: ir.FloatingValue,
    coslat2: ir.FloatingValue,
) -> ir.FloatingValue:
    """Great-circle distance in km, as :func:`haversine_km` (cos(latitude) precomputed per site)."""
    h = ((lat2 - lat1).radians() / 2).sin() ** 2 + coslat1 * coslat2 * (
        (lon2 - lon1).radians() / 2
    ).sin() ** 2
    return (2 * EARTH_RADIUS_KM) * h.sqrt().asin()


def _band(km: ir.FloatingValue) -> ir.StringValue:
    """The public band of a distance (as :func:`distance_band`)."""
    return ibis.cases(
        (km.isnull(), "unknown"),
        *((km < upper, label) for upper, label in DISTANCE_BANDS_KM),
        else_=DISTANCE_TOP_BAND,
    )


def _band_index(km: ir.FloatingValue) -> ir.IntegerValue:
    """Position of a distance's public band (unknown after the top band)."""
    top = len(DISTANCE_BANDS_KM)
    return ibis.cases(
        (km.isnull(), top + 1),
        *((km < upper, i) for i, (upper, _) in enumerate(DISTANCE_BANDS_KM)),
        else_=top,
    )


def _band_max(km: ir.FloatingValue) -> ir.FloatingValue:
    """The distance a coarse pair must stay below for a need's max distance `km`: the first
    band edge above it (NULL = no limit, from the top band's lower edge on)."""
    return ibis.cases(
        *((km < upper, upper) for upper, _ in DISTANCE_BANDS_KM),
        else_=ibis.null("float64"),
    )


def _snap(value: ir.FloatingValue, *, down: bool) -> ir.FloatingValue:
    """`value` (a fraction > 0) snapped to the 1-2-5 grid per decade, down or up (max 1); the
    twin of :func:`snap_fraction`. NULL gives 1.0 (LEAST skips NULL on both engines)."""
    positive = ibis.cases((value > 0, value), else_=ibis.null("float64"))  # no log of <= 0
    scale = ibis.literal(10.0) ** (positive.log10() + 1e-12).floor()
    m = positive / scale
    if down:
        step = ibis.cases((m >= 5 - 1e-9, 5), (m >= 2 - 1e-9, 2), else_=1)
    else:
        step = ibis.cases((m <= 1 + 1e-9, 1), (m <= 2 + 1e-9, 2), (m <= 5 + 1e-9, 5), else_=10)
    return ibis.cases((value <= 0, 0.0), else_=ibis.least(1.0, scale * step))


def _status(t: ir.Table) -> ir.StringValue:
    """A limit's status for a stream (columns hard, op, limit_value, vmin, vmax); the slack
    mirrors composition._EPS."""
    below, above = t.limit_value * (1 - 1e-9), t.limit_value * (1 + 1e-9)
    op, vmin, vmax = t["op"], t.vmin, t.vmax
    return ibis.cases(
        (~t.hard, "preference"),
        (vmin.isnull(), "unknown"),
        ((op == "<") & (vmax < below), "pass"),
        ((op == "<") & (vmin >= below), "fail"),
        ((op == "<=") & (vmax <= above), "pass"),
        ((op == "<=") & (vmin > above), "fail"),
        ((op == ">") & (vmin > above), "pass"),
        ((op == ">") & (vmax <= above), "fail"),
        ((op == ">=") & (vmin >= below), "pass"),
        ((op == ">=") & (vmax < below), "fail"),
        else_="unknown",
    )


def _text_key(value: ir.StringValue) -> ir.StringValue:
    """`value` as an unambiguous part of a concatenated key (length-prefixed; NULL -> '-')."""
    return ibis.coalesce(value.length().cast("string") + ":" + value, "-")


def _typed(table: pa.Table) -> ir.Table:
    """An input table as a memtable, the columns matching computes with cast to their types
    (an all-NULL column of Arrow type null, which engines cannot store, as text)."""
    t = ibis.memtable(table)
    types = {f.name: "string" for f in table.schema if pa.types.is_null(f.type)}
    types.update({c: dtype for c, dtype in _TYPES.items() if c in t.columns})
    casts = {c: t[c].cast(dtype) for c, dtype in types.items() if t[c].type() != ibis.dtype(dtype)}
    return t.mutate(**casts) if casts else t


Materialise: TypeAlias = "Callable[[ir.Table], ir.Table]"


def _as_is(table: ir.Table) -> ir.Table:
    return table


@dataclass(frozen=True)
class MatchInputs:
    """The prepared relations of one matching run (Ibis tables on no engine in particular).

    streams: + m_sk (surrogate key in stream_id order), m_coslat, quantity_band_order;
    needs: + m_nk (surrogate key in need_id order), m_coslat; need_classes: (m_nk, cls);
    limits: need_id, m_nk, limit_id, component, op, limit_value (snapped in coarse mode), hard,
    key_element, key_fraction, key_fraction_text; composition as given.
    """

    streams: ir.Table
    composition: ir.Table
    needs: ir.Table
    need_classes: ir.Table
    limits: ir.Table
    coarse: bool


def match_inputs(
    streams: pa.Table,
    composition: pa.Table,
    needs: pa.Table,
    limits: pa.Table,
    *,
    coarse: bool = False,
    materialise: Materialise = _as_is,
) -> MatchInputs:
    """The four input tables prepared for matching (see :class:`MatchInputs`)."""
    s = _typed(streams)
    # public ordering key for coarse mode (larger quantity bands first)
    band_order = (
        ibis.cases(
            *((s.quantity_band == b, i) for i, b in enumerate(QUANTITY_BAND_ORDER)),
            else_=len(QUANTITY_BAND_ORDER),
        )
        if "quantity_band" in s.columns
        else ibis.literal(0)
    )
    # integer surrogate keys in id order: joins and group-bys over millions of pairs stay on
    # integers, and ordering by them equals ordering by the string ids; cos(latitude) once per
    # site for the haversine (the same value as computing it per pair)
    s_in = materialise(
        s.mutate(
            quantity_band_order=band_order,
            m_sk=ibis.row_number().over(order_by=ibis.asc(s.stream_id, nulls_first=False)),
            m_coslat=s.lat.radians().cos(),
        )
    )
    n = _typed(needs)
    n_in = materialise(
        n.mutate(
            m_nk=ibis.row_number().over(order_by=ibis.asc(n.need_id, nulls_first=False)),
            m_coslat=n.lat.radians().cos(),
        )
    )
    # the classes a need takes: its own and its accepted ones, once each (NULL never matches)
    classes = n_in.select("m_nk", cls=n_in.material_class)
    if "accepted_classes" in n_in.columns:
        accepted = n_in.select("m_nk", cls=n_in.accepted_classes).unnest("cls")
        classes = ibis.union(classes, accepted, distinct=False)
    need_classes = materialise(classes.filter(classes.cls.notnull()).distinct())

    elements = component_element_table()
    fraction = {(c, e): f for c, e, f in elements}
    keys = [
        (c.id, c.key_element, fraction[(c.id, c.key_element)])
        for c in components().values()
        if c.kind != "aggregate" and c.key_element is not None
    ]
    key_table = ibis.memtable(
        pa.table(
            {
                "k_component": pa.array([k[0] for k in keys], pa.string()),
                "key_element": pa.array([k[1] for k in keys], pa.string()),
                "key_fraction": pa.array([k[2] for k in keys], pa.float64()),
                # printed here, once: '%.4f' is not portable SQL (printf on DuckDB, Java on Spark)
                "key_fraction_text": pa.array([f"{k[2]:.4f}" for k in keys], pa.string()),
            }
        )
    )
    raw = _typed(limits)
    lim = raw.join(n_in.select("need_id", "m_nk"), "need_id")  # limits of the needs matched
    lim = lim.left_join(key_table, lim.component == key_table.k_component).drop("k_component")
    op, value = lim["op"], lim.value
    if coarse:
        # snap outward on the key element's fraction, then back to the limit's basis
        kf = lim.key_fraction.coalesce(1.0)
        ev = lim.value * kf
        value = ibis.cases(
            (lim["op"].isin([">", ">="]), _snap(ev, down=True) / kf),
            (lim["op"].isin(["<", "<="]), _snap(ev, down=False) / kf),
            else_=lim.value,
        )
        op = ibis.cases((lim["op"] == ">", ">="), (lim["op"] == "<", "<="), else_=lim["op"])
    # a limit's id within its need: in (component, op, value) order
    limit_id = ibis.row_number().over(
        group_by=lim.need_id,
        order_by=[
            ibis.asc(lim.component, nulls_first=False),
            ibis.asc(lim["op"], nulls_first=False),
            ibis.asc(lim.value, nulls_first=False),
        ],
    )
    limits_t = materialise(
        lim.select(
            "need_id",
            "m_nk",
            (limit_id + 1).name("limit_id"),
            "component",
            op.name("op"),
            value.name("limit_value"),
            (~lim["op"].isin(["lowest", "highest"])).name("hard"),
            "key_element",
            "key_fraction",
            "key_fraction_text",
        )
    )
    return MatchInputs(
        streams=s_in,
        composition=_typed(composition),
        needs=n_in,
        need_classes=need_classes,
        limits=limits_t,
        coarse=coarse,
    )


def _element_contents(inp: MatchInputs) -> ir.Table:
    """Per stream and element some limit is about: the content (vmin, vmax), reported directly,
    else summed over the compounds containing it, and its source text."""
    elements = component_element_table()
    element_table = ibis.memtable(
        pa.table(
            {
                "component": pa.array([r[0] for r in elements], pa.string()),
                "element": pa.array([r[1] for r in elements], pa.string()),
                "fraction": pa.array([r[2] for r in elements], pa.float64()),
                "fraction_text": pa.array([f"{r[2]:.4f}" for r in elements], pa.string()),
            }
        )
    )
    c = inp.composition
    j = c.join(element_table, "component")
    # only the elements some limit is about: keeps this small for large registers
    j = j.filter(j.element.isin(inp.limits.key_element))
    j = j.mutate(direct=j.component == j.element, label=j.component + " × " + j.fraction_text)
    agg = j.group_by(["stream_id", "element"]).aggregate(
        vmin=ibis.coalesce(
            j.value_min.max(where=j.direct), (j.value_min * j.fraction).sum(where=~j.direct)
        ),
        vmax=ibis.coalesce(
            j.value_max.max(where=j.direct), (j.value_max * j.fraction).sum(where=~j.direct)
        ),
        any_direct=j.direct.any(),
        # ordered by component: ' × ' sorts before any character a component id continues with
        compounds=j.label.collect().sort().join(" + "),
    )
    return agg.select(
        "stream_id",
        "element",
        "vmin",
        "vmax",
        source=ibis.cases((agg.any_direct, agg.element), else_=agg.compounds),
    )


def stream_values_expr(inp: MatchInputs) -> ir.Table:
    """Per (limit component, stream): the content on the limit's basis (m_sk, stream_id,
    component, vmin, vmax, source), computed once per stream."""
    lc = inp.limits.select("component", "key_element", "key_fraction", "key_fraction_text")
    lc = lc.distinct()
    c = inp.composition
    direct = c.join(lc, "component").select(
        "stream_id", "component", vmin=c.value_min, vmax=c.value_max, source=c.component
    )
    e = _element_contents(inp)
    via = e.join(lc, e.element == lc.key_element).select(
        v_stream_id=e.stream_id,
        v_component=lc.component,
        v_vmin=e.vmin / lc.key_fraction,
        v_vmax=e.vmax / lc.key_fraction,
        v_source=e.source
        + ibis.cases((lc.component == lc.key_element, ""), else_=" ÷ " + lc.key_fraction_text),
    )
    x = direct.outer_join(
        via, [direct.stream_id == via.v_stream_id, direct.component == via.v_component]
    ).select(
        stream_id=ibis.coalesce(direct.stream_id, via.v_stream_id),
        component=ibis.coalesce(direct.component, via.v_component),
        vmin=ibis.coalesce(direct.vmin, via.v_vmin),
        vmax=ibis.coalesce(direct.vmax, via.v_vmax),
        source=ibis.coalesce(direct.source, via.v_source),
    )
    keys = inp.streams.select(k_stream_id=inp.streams.stream_id, m_sk=inp.streams.m_sk)
    x = x.view()  # a relation of its own, not a continuation of the outer join
    return x.join(keys, x.stream_id == keys.k_stream_id).select(
        "m_sk", "stream_id", "component", "vmin", "vmax", "source"
    )


def candidate_pairs_expr(inp: MatchInputs) -> ir.Table:
    """Candidate (need, stream) pairs: m_nk, m_sk, quantity_t_per_year, distance_km,
    quantity_band_order, quantity_fit, distance_fit."""
    n = inp.needs.select(
        "m_nk",
        "accepts_hazardous",
        "quantity_t_min",
        "max_distance_km",
        n_lat=inp.needs.lat,
        n_lon=inp.needs.lon,
        n_cos=inp.needs.m_coslat,
    )
    s = inp.streams.select(
        "m_sk",
        "material_class",
        "hazardous",
        "quantity_t_per_year",
        "quantity_band_order",
        s_lat=inp.streams.lat,
        s_lon=inp.streams.lon,
        s_cos=inp.streams.m_coslat,
    )
    j = inp.need_classes.join(n, "m_nk")
    j = j.join(s, j.cls == s.material_class)
    j = j.filter(j.accepts_hazardous | ~j.hazardous)
    # coarse: the need's max distance widened to the first public band edge above it
    dmax = _band_max(j.max_distance_km) if inp.coarse else j.max_distance_km
    # the distance filter applies where the need has a max distance and both sites are known;
    # a cheap latitude window first (1 degree of latitude >= 111.0 km), so the haversine is
    # only computed for plausible pairs
    limited = dmax.notnull() & j.n_lat.notnull() & j.s_lat.notnull()
    j = j.filter(~limited | ((j.s_lat - j.n_lat).abs() <= dmax / 111.0))
    c = j.select(
        "m_nk",
        "m_sk",
        "quantity_t_per_year",
        "quantity_t_min",
        "quantity_band_order",
        limited=limited,
        max_distance_km=dmax,
        distance_km=ibis.cases(
            (j.n_lat.isnull() | j.s_lat.isnull(), ibis.null("float64")),
            else_=_haversine(j.n_lat, j.n_lon, j.n_cos, j.s_lat, j.s_lon, j.s_cos),
        ),
    )
    within = c.distance_km < c.max_distance_km if inp.coarse else c.distance_km <= c.max_distance_km
    c = c.filter(~c.limited | within)
    return c.select(
        "m_nk",
        "m_sk",
        "quantity_t_per_year",
        "distance_km",
        "quantity_band_order",
        quantity_fit=ibis.cases(
            (c.quantity_t_per_year.isnull(), ibis.null("float64")),
            (c.quantity_t_min.isnull() | (c.quantity_t_min == 0), 1.0),
            else_=ibis.least(1.0, c.quantity_t_per_year / c.quantity_t_min),
        ),
        distance_fit=ibis.cases(
            (c.distance_km.isnull(), ibis.null("float64")),
            (c.max_distance_km.isnull(), 1.0 - ibis.least(c.distance_km, 2000.0) / 2000.0),
            else_=1.0 - c.distance_km / c.max_distance_km,
        ),
    )


def _limit_values(
    pairs: ir.Table, limits: ir.Table, values: ir.Table, hard: bool | None = None
) -> ir.Table:
    """(pair, limit) rows with the stream's value on the limit's basis (vmin, vmax, source),
    for the pair's need's hard limits, soft limits (``hard=False``) or all (None)."""
    lim = limits if hard is None else limits.filter(limits.hard if hard else ~limits.hard)
    lim = lim.select("m_nk", "limit_id", "component", "op", "limit_value", "hard")
    j = pairs.select("m_nk", "m_sk").join(lim, "m_nk")
    v = values.select(
        v_sk=values.m_sk, v_component=values.component, vmin=values.vmin, vmax=values.vmax,
        source=values.source,
    )  # fmt: skip
    return j.left_join(v, [j.m_sk == v.v_sk, j.component == v.v_component]).drop(
        "v_sk", "v_component"
    )


def signatures_expr(inp: MatchInputs) -> ir.Table:
    """Needs with the same hard limits, classes and hazardous acceptance share a signature:
    (m_nk, sig_id, n_limits, accepts_hazardous), sig_id = the smallest m_nk of the signature;
    needs without hard limits have none."""
    hard = inp.limits.filter(inp.limits.hard & inp.limits.m_nk.notnull())
    entry = (
        _text_key(hard.component)
        + " "
        + hard["op"]
        + " "
        + hard.limit_value.cast("string").coalesce("-")
    )
    lims = hard.group_by("m_nk").aggregate(
        lims=entry.collect().sort().join(";"), n_limits=hard.count()
    )
    nc = inp.need_classes
    classes = nc.group_by("m_nk").aggregate(
        classes=_text_key(nc.cls).collect(distinct=True).sort().join(";")
    )
    classes = classes.rename(c_nk="m_nk")
    keyed = lims.join(inp.needs.select("m_nk", "accepts_hazardous"), "m_nk")
    keyed = keyed.left_join(classes, keyed.m_nk == classes.c_nk).drop("c_nk")
    sig_id = keyed.m_nk.min().over(
        group_by=[keyed.lims, keyed.classes, keyed.accepts_hazardous, keyed.n_limits]
    )
    return keyed.select("m_nk", sig_id.name("sig_id"), "n_limits", "accepts_hazardous")


def _hard_count_work(inp: MatchInputs, pairs: ir.Table, sigs: ir.Table) -> ir.Table:
    """One row: the (limit, pair) join rows of the 'pairs' strategy and the (limit, stream)
    rows of the 'signatures' strategy."""
    by_pairs = pairs.join(sigs.select("m_nk", "n_limits"), "m_nk")
    per_class = inp.streams.group_by("material_class").aggregate(n=inp.streams.count())
    reps = sigs.select("sig_id", "n_limits").distinct()
    reps = reps.join(inp.need_classes, reps.sig_id == inp.need_classes.m_nk)
    by_sigs = reps.join(per_class, reps.cls == per_class.material_class)
    return by_pairs.aggregate(by_pairs=by_pairs.n_limits.sum().coalesce(0)).cross_join(
        by_sigs.aggregate(by_sigs=(by_sigs.n_limits * by_sigs.n).sum().coalesce(0))
    )


def hard_counts_expr(
    inp: MatchInputs,
    pairs: ir.Table,
    values: ir.Table,
    sigs: ir.Table | None,
    strategy: HardCounts,
) -> ir.Table:
    """The pairs with their hard-limit counts n_pass, n_fail, n_unknown, n_hard (NULL when the
    need has no hard limit).

    'pairs': one (pair, hard limit) join grouped by pair. 'signatures': needs with the same
    hard limits, classes and hazardous acceptance share their per-stream counts, so the
    (limit, stream) work is done once per distinct signature instead of once per pair -- much
    less work when many needs share limit sets. Both give the same counts. ``sigs``
    (:func:`signatures_expr`) is read by 'signatures' only.
    """
    if strategy == "pairs":
        lv = _limit_values(pairs, inp.limits, values, hard=True)
        lv = lv.mutate(status=_status(lv))
        agg = lv.group_by(a_nk=lv.m_nk, a_sk=lv.m_sk).aggregate(
            n_pass=lv.count(where=lv.status == "pass"),
            n_fail=lv.count(where=lv.status == "fail"),
            n_unknown=lv.count(where=lv.status == "unknown"),
            n_hard=lv.count(),
        )
        return pairs.left_join(agg, [pairs.m_nk == agg.a_nk, pairs.m_sk == agg.a_sk]).drop(
            "a_nk", "a_sk"
        )
    if sigs is None:
        raise ValueError("the 'signatures' strategy needs the signatures (signatures_expr)")
    # per (signature, stream of its classes): counts over the limits the stream has a value
    # for; a limit without a value row is 'unknown' (as the pair join's NULL row would be)
    g = sigs.select("sig_id", "accepts_hazardous").distinct()
    g = g.join(inp.need_classes, g.sig_id == inp.need_classes.m_nk).select(
        "sig_id", "accepts_hazardous", "cls"
    )
    s = inp.streams.select("m_sk", "material_class", "hazardous")
    x = g.join(s, (s.material_class == g.cls) & (g.accepts_hazardous | ~s.hazardous))
    hard = inp.limits.filter(inp.limits.hard).select(
        "m_nk", "limit_id", "component", "op", "limit_value", "hard"
    )
    x = x.join(hard, x.sig_id == hard.m_nk)
    v = values.select(
        v_sk=values.m_sk, v_component=values.component, vmin=values.vmin, vmax=values.vmax
    )
    x = x.join(v, [x.m_sk == v.v_sk, x.component == v.v_component])
    x = x.mutate(status=_status(x))
    agg = x.group_by(a_sig=x.sig_id, a_sk=x.m_sk).aggregate(
        n_pass=x.count(where=x.status == "pass"),
        n_fail=x.count(where=x.status == "fail"),
        n_known=x.limit_id.nunique(),
        n_rows=x.count(),
    )
    sig = sigs.select(g_nk=sigs.m_nk, sig_id=sigs.sig_id, n_limits=sigs.n_limits)
    p = pairs.left_join(sig, pairs.m_nk == sig.g_nk)
    p = p.left_join(agg, [p.sig_id == agg.a_sig, p.m_sk == agg.a_sk])
    n_pass, n_fail = p.n_pass.coalesce(0), p.n_fail.coalesce(0)
    n_hard = p.n_limits - p.n_known.coalesce(0) + p.n_rows.coalesce(0)
    return p.select(
        *pairs.columns,
        n_pass=n_pass,
        n_fail=n_fail,
        n_unknown=n_hard - n_pass - n_fail,
        n_hard=n_hard,
    )


def ranked_expr(
    inp: MatchInputs,
    pairs: ir.Table,
    values: ir.Table,
    counted: ir.Table,
    *,
    per: Literal["need", "stream"] = "need",
    k: int = 10,
    include_excluded: bool = False,
) -> ir.Table:
    """The top-k scored pairs per need (or per stream), with rank (1, 2, ...)."""
    # preference: percent_rank of the mid value among the need's candidates per soft limit
    lv = _limit_values(pairs, inp.limits, values, hard=False)
    mid = (lv.vmin + lv.vmax) / 2
    pr = ibis.percent_rank().over(
        group_by=[lv.m_nk, lv.limit_id, lv.vmin.isnull()],
        order_by=ibis.asc(mid, nulls_first=False),
    )
    pscore = ibis.cases((lv.vmin.isnull(), 0.5), (lv["op"] == "lowest", 1.0 - pr), else_=pr)
    pref = lv.select("m_nk", "m_sk", pscore=pscore)
    pagg = pref.group_by(g_nk=pref.m_nk, g_sk=pref.m_sk).aggregate(
        preference_score=pref.pscore.mean()
    )
    p = counted.left_join(pagg, [counted.m_nk == pagg.g_nk, counted.m_sk == pagg.g_sk])
    n_hard = p.n_hard.coalesce(0)
    scored = p.select(
        "m_nk",
        "m_sk",
        "quantity_t_per_year",
        "distance_km",
        "quantity_band_order",
        "quantity_fit",
        "distance_fit",
        n_pass=p.n_pass.coalesce(0),
        n_fail=p.n_fail.coalesce(0),
        n_unknown=p.n_unknown.coalesce(0),
        composition_score=ibis.cases(
            (n_hard == 0, 1.0), else_=(p.n_pass + 0.5 * p.n_unknown) / p.n_hard
        ),
        preference_score=p.preference_score.coalesce(1.0),
        excluded=p.n_fail.coalesce(0) > 0,
    )
    if not include_excluded:
        scored = scored.filter(~scored.excluded)
    w = WEIGHTS
    score = (
        w["composition"] * scored.composition_score
        + w["quantity"] * scored.quantity_fit.coalesce(0.5)
        + w["distance"] * scored.distance_fit.coalesce(0.5)
        + w["preference"] * scored.preference_score
    )
    scored = scored.mutate(score=score)
    part = scored.m_nk if per == "need" else scored.m_sk
    # the integer keys sort like the string ids (see match_inputs), so ties break by id
    if inp.coarse:
        # public order only: nothing confidential may decide who comes first
        order = [scored.excluded, _band_index(scored.distance_km)]
        if per == "need":
            order.append(scored.quantity_band_order)
        order.append(scored.m_sk if per == "need" else scored.m_nk)
        order_by = [ibis.asc(x, nulls_first=False) for x in order]
    else:
        order_by = [
            ibis.asc(scored.excluded),
            ibis.desc(scored.score, nulls_first=False),
            ibis.asc(scored.m_nk),
            ibis.asc(scored.m_sk),
        ]
    rank = ibis.row_number().over(group_by=part, order_by=order_by) + 1
    ranked = scored.mutate(rank=rank)
    return ranked.filter(ranked.rank <= int(k))


def explained_expr(
    inp: MatchInputs,
    top: ir.Table,
    values: ir.Table,
    *,
    per: Literal["need", "stream"] = "need",
) -> ir.Table:
    """The ranked pairs with ids, public columns and the explanation: ``limit_rows``, a list of
    (limit_id, component, op, limit_value, status, value_min, value_max, source) in limit_id
    order (NULL when the need has no limits). Sorted by the partition id and rank."""
    lv = _limit_values(top, inp.limits, values)
    lv = lv.mutate(status=_status(lv))
    row = ibis.struct(
        {
            "limit_id": lv.limit_id,
            "component": lv.component,
            "op": lv["op"],
            "limit_value": lv.limit_value,
            "status": lv.status,
            "value_min": lv.vmin,
            "value_max": lv.vmax,
            "source": lv.source,
        }
    )
    # sorted structs = limit_id order (an ordered collect is not portable to Spark)
    expl = lv.group_by(x_nk=lv.m_nk, x_sk=lv.m_sk).aggregate(limit_rows=row.collect().sort())
    public = [
        c
        for c in PUBLIC_STREAM_COLUMNS
        if c in inp.streams.columns and c not in ("hazardous", "material_class")
    ]
    s = inp.streams.select("m_sk", "stream_id", "material_class", "hazardous", *public)
    t = top.join(s, "m_sk").join(inp.needs.select("m_nk", "need_id"), "m_nk")
    t = t.left_join(expl, [t.m_nk == expl.x_nk, t.m_sk == expl.x_sk])
    out = t.select(
        "need_id",
        "stream_id",
        "rank",
        t.score.round(6).name("score"),
        "composition_score",
        "quantity_fit",
        "distance_km",
        _band(t.distance_km).name("distance_band"),
        "preference_score",
        t.n_pass.cast("int64").name("n_pass"),
        t.n_fail.cast("int64").name("n_fail"),
        t.n_unknown.cast("int64").name("n_unknown"),
        "excluded",
        (~t.excluded).name("matches"),
        "limit_rows",
        "quantity_t_per_year",
        "material_class",
        "hazardous",
        *public,
    )
    first = "need_id" if per == "need" else "stream_id"
    return out.order_by(ibis.asc(out[first], nulls_first=False), ibis.asc(out.rank))


def _pct(value: float | None, spec: str) -> str | None:
    return None if value is None else spec % (100 * value)


def _fail_text(limit: Mapping[str, Any]) -> str | None:
    """The reason a failed limit gives (NULL parts give None, as SQL concatenation would)."""
    lo, hi = limit["value_min"], limit["value_max"]
    if lo is None or hi is None:
        found = None
    elif lo == hi:
        found = _pct(lo, "%.4g")
    else:
        found = f"{_pct(lo, '%.4g')}–{_pct(hi, '%.4g')}"
    value = _pct(limit["limit_value"], "%.4g")
    parts = (limit["component"], limit["op"], value, found, limit["source"])
    if any(p is None for p in parts):
        return None
    return f"{parts[0]} {parts[1]} {value} wt%: fails with {found} wt% ({parts[4]})"


def _finish(table: pa.Table, public: list[str], stream_schema: pa.Schema) -> pa.Table:
    """The engine's rows as the result: `limit_rows` -> `limits` (limit_id dropped) and the
    `reasons` list written from them (failed limits first, then distance, quantity, unknowns)."""
    import pyarrow.compute as pc

    rows = table.column("limit_rows").combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(rows), 0)
    offsets = pa.array([0, *pc.cumulative_sum(lengths).to_pylist()], pa.int32())
    flat = rows.flatten()
    fields = [flat.field(name).cast(LIMIT_TYPE.field(name).type) for name in LIMIT_TYPE.names]
    limits = pa.ListArray.from_arrays(
        offsets, pa.StructArray.from_arrays(fields, fields=list(LIMIT_TYPE)), pa.list_(LIMIT_TYPE)
    )
    failing = pc.fill_null(pc.greater(table.column("n_fail"), 0), False).to_pylist()
    limit_lists = limits.to_pylist() if any(failing) else None
    reasons: list[list[str | None]] = []
    for i, (km, fit, unknown) in enumerate(
        zip(
            table.column("distance_km").to_pylist(),
            table.column("quantity_fit").to_pylist(),
            table.column("n_unknown").to_pylist(),
            strict=True,
        )
    ):
        out: list[str | None] = []
        if failing[i] and limit_lists is not None:
            out.extend(_fail_text(x) for x in limit_lists[i] or [] if x["status"] == "fail")
        if km is None:
            out.append("distance unknown: a site has no coordinates")
        if fit is None:
            out.append("quantity unknown")
        elif fit < 1:
            out.append(f"stream covers {100 * fit:.0f} % of the minimum quantity")
        if unknown is not None and unknown > 0:
            out.append(f"{unknown} limit(s) not determinable from the analysis")
        reasons.append(out)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name, dtype in RESULT_FIELDS:
        if name == "reasons":
            columns[name] = pa.array(reasons, dtype)
        elif name == "limits":
            columns[name] = limits
        else:
            columns[name] = table.column(name).cast(dtype)
    for name in public:  # as the caller gave them
        dtype = stream_schema.field(name).type
        column = table.column(name)
        columns[name] = pa.nulls(len(column)) if pa.types.is_null(dtype) else column.cast(dtype)
    return pa.table(columns)


def _as_arrow(name: str, rel: Relation) -> pa.Table:
    if isinstance(rel, pa.Table):
        table = rel
    elif isinstance(rel, duckdb.DuckDBPyRelation):
        table = rel.arrow().read_all()
    else:
        raise ExchangeError(f"{name}: expected a pyarrow.Table or DuckDB relation, got {type(rel)}")
    missing = [c for c in _REQUIRED[name] if c not in table.column_names]
    if missing:
        raise ExchangeError(f"{name}: missing column(s) {', '.join(missing)}")
    return table


class _Materialiser:
    """Materialisation points of one run on the engine (temp tables on DuckDB, cached
    DataFrames on Spark), released at the end: the pairs, values and ranked pairs are read by
    several later steps and must not be computed again for each."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cached: list[Any] = []

    def __call__(self, table: ir.Table) -> ir.Table:
        from verdikart.engine import EngineError

        try:
            # Table.cache() would pick Ibis's default backend for memtable-only expressions;
            # the engine's backend caches it where the engine runs (Spark's cache does not
            # register the memtables it reads itself)
            backend = self._engine.backend
            backend._run_pre_execute_hooks(table)
            cached = backend._cached_table(table)
        except Exception as exc:
            raise EngineError(
                f"the {self._engine.name} engine failed: {type(exc).__name__}: {exc}"
            ) from exc
        self._cached.append(cached)
        return cached

    def release(self) -> None:
        while self._cached:
            self._cached.pop().release()


def rank_matches(
    streams: Relation,
    composition: Relation,
    needs: Relation,
    limits: Relation,
    *,
    per: Literal["need", "stream"] = "need",
    k: int = 10,
    include_excluded: bool = False,
    coarse: bool = False,
    engine: Engine | None = None,
    hard_counts: Literal["auto", "pairs", "signatures"] = "auto",
) -> pa.Table:
    """Top-k matches per need (``per='need'``) or per stream, with scores and explanations.

    ``coarse``: public-precision matching for undisclosed pairs (see the module docstring):
    limits snapped outward to the 1-2-5 grid, distance filtered on the public bands, ranked in
    a public order instead of by score.

    Returns one row per kept pair: need_id, stream_id, rank, score, composition_score,
    quantity_fit, distance_km, distance_band, preference_score, n_pass, n_fail, n_unknown,
    excluded, matches, reasons (list), limits (list of struct: component, op, limit_value,
    status, value_min, value_max, source -- fractions), quantity_t_per_year and the stream's
    public-summary columns when present. Sorted by the partition id and rank.

    ``engine``: where the expressions run (default: a fresh in-memory DuckDB).
    ``hard_counts``: how the hard-limit counts are computed (see :func:`hard_counts_expr`;
    'auto' picks the one with fewer join rows); an execution strategy only -- every choice
    gives the same result.
    """
    if k < 1:
        raise ExchangeError(f"k must be at least 1, got {k}")
    tables = {
        "streams": _as_arrow("streams", streams),
        "composition": _as_arrow("composition", composition),
        "needs": _as_arrow("needs", needs),
        "limits": _as_arrow("limits", limits),
    }
    bad_ops = set(tables["limits"].column("op").to_pylist()) - set(OPS)
    if bad_ops:
        raise ExchangeError(f"limits: unknown op(s) {sorted(map(str, bad_ops))}")
    public = [
        c
        for c in PUBLIC_STREAM_COLUMNS
        if c in tables["streams"].column_names and c not in ("hazardous", "material_class")
    ]
    own = None
    if engine is None:
        from verdikart.engine import DuckDBEngine

        own = duckdb.connect()
        engine = DuckDBEngine(own)
    keep = _Materialiser(engine)
    try:
        inp = match_inputs(
            tables["streams"],
            tables["composition"],
            tables["needs"],
            tables["limits"],
            coarse=coarse,
            materialise=keep,
        )
        pairs = keep(candidate_pairs_expr(inp))
        values = keep(stream_values_expr(inp))
        strategy: HardCounts = "pairs" if hard_counts == "auto" else hard_counts
        sigs = None
        # 'auto' with one need: its signature's streams include all its pairs, so the pair
        # join is never the larger one
        if strategy == "signatures" or tables["needs"].num_rows > 1:
            sigs = keep(signatures_expr(inp))
        if hard_counts == "auto" and sigs is not None:
            work = engine.rows(_hard_count_work(inp, pairs, sigs))[0]
            strategy = "signatures" if work["by_sigs"] < work["by_pairs"] else "pairs"
        counted = hard_counts_expr(inp, pairs, values, sigs, strategy)
        top = keep(
            ranked_expr(
                inp, pairs, values, counted, per=per, k=k, include_excluded=include_excluded
            )
        )
        result = engine.to_arrow(explained_expr(inp, top, values, per=per))
    finally:
        try:
            keep.release()
        finally:
            if own is not None:
                own.close()
    return _finish(result, public, tables["streams"].schema)


def redact_matches(matches: pa.Table, authorised: bool) -> pa.Table:
    """Column selection by disclosure level: everything when authorised, else the public view.

    Unauthorised: need_id, stream_id, rank, matches, distance_band and the stream's public summary
    columns -- no score, values, exact quantity, exact distance, site or explanation.
    """
    if authorised:
        return matches
    keep = [c for c in (*PUBLIC_MATCH_COLUMNS, *PUBLIC_STREAM_COLUMNS) if c in matches.column_names]
    table = matches.select(keep)
    if "distance_band" not in keep and "distance_km" in matches.column_names:
        bands = [distance_band(d) for d in matches.column("distance_km").to_pylist()]
        table = table.append_column("distance_band", pa.array(bands, pa.string()))
    return table


def redact_match(match: Mapping[str, Any], authorised: bool) -> dict[str, Any]:
    """One match (a dict row of :func:`rank_matches`) cut to what the viewer may see."""
    if authorised:
        return dict(match)
    out = {c: match[c] for c in (*PUBLIC_MATCH_COLUMNS, *PUBLIC_STREAM_COLUMNS) if c in match}
    if "distance_band" not in out:
        out["distance_band"] = distance_band(match.get("distance_km"))
    return out


# ---------------------------------------------------------------------------------------------
# Building the input relations from validated schema objects (for the repository and tests)


def streams_relations(records: Iterable[tuple[str, Any]]) -> tuple[pa.Table, pa.Table]:
    """(streams, composition) Arrow tables from (stream_id, StreamCreate) pairs."""
    srows: dict[str, list[Any]] = {c: [] for c in (*_REQUIRED["streams"], *PUBLIC_STREAM_COLUMNS)}
    crows: dict[str, list[Any]] = {c: [] for c in _REQUIRED["composition"]}
    for stream_id, rec in records:
        s, d = rec.summary, rec.details
        values = {
            "stream_id": stream_id,
            "material_class": s.material_class,
            "hazardous": s.hazardous,
            "quantity_t_per_year": d.quantity_t_per_year,
            "lat": d.site.lat,
            "lon": d.site.lon,
            "name_public": s.name_public,
            "kind": s.kind,
            "quantity_band": s.quantity_band,
            "region": s.region,
            "ewc_code": s.ewc_code,
            "critical_materials": list(s.critical_materials),
        }
        for column in srows:
            srows[column].append(values[column])
        for entry in d.composition:
            crows["stream_id"].append(stream_id)
            crows["component"].append(entry.component)
            crows["value_min"].append(entry.fraction_min)
            crows["value_max"].append(entry.fraction_max)
    streams = pa.table(srows).cast(
        pa.schema([*STREAM_FIELDS, ("critical_materials", pa.list_(pa.string()))])
    )
    composition = pa.table(
        crows,
        schema=pa.schema(
            [
                ("stream_id", pa.string()),
                ("component", pa.string()),
                ("value_min", pa.float64()),
                ("value_max", pa.float64()),
            ]
        ),
    )
    return streams, composition


def needs_relations(records: Iterable[tuple[str, Any]]) -> tuple[pa.Table, pa.Table]:
    """(needs, limits) Arrow tables from (need_id, NeedCreate) pairs."""
    nrows: dict[str, list[Any]] = {c: [] for c in (*_REQUIRED["needs"], "accepted_classes")}
    lrows: dict[str, list[Any]] = {c: [] for c in _REQUIRED["limits"]}
    for need_id, rec in records:
        values = {
            "need_id": need_id,
            "material_class": rec.material_class,
            "accepts_hazardous": rec.accepts_hazardous,
            "quantity_t_min": rec.quantity_t_per_year_min,
            "quantity_t_max": rec.quantity_t_per_year_max,
            "max_distance_km": rec.max_distance_km,
            "lat": rec.site.lat,
            "lon": rec.site.lon,
            "accepted_classes": list(rec.also_classes),
        }
        for column in nrows:
            nrows[column].append(values[column])
        for limit in rec.limits:
            lrows["need_id"].append(need_id)
            lrows["component"].append(limit.component)
            lrows["op"].append(limit.op)
            lrows["value"].append(limit.fraction)
    needs = pa.table(
        nrows,
        schema=pa.schema(
            [
                ("need_id", pa.string()),
                ("material_class", pa.string()),
                ("accepts_hazardous", pa.bool_()),
                ("quantity_t_min", pa.float64()),
                ("quantity_t_max", pa.float64()),
                ("max_distance_km", pa.float64()),
                ("lat", pa.float64()),
                ("lon", pa.float64()),
                ("accepted_classes", pa.list_(pa.string())),
            ]
        ),
    )
    limits = pa.table(
        lrows,
        schema=pa.schema(
            [
                ("need_id", pa.string()),
                ("component", pa.string()),
                ("op", pa.string()),
                ("value", pa.float64()),
            ]
        ),
    )
    return needs, limits
