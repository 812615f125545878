"""Matching side streams to needs, set-based in DuckDB, with an explanation per match.

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
100,000 streams against 10,000 needs does the heavy work as joins and window functions.

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
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeAlias

import duckdb
import pyarrow as pa

from verdikart.errors import ExchangeError
from verdikart.exchange.composition import component_element_table, components

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

Relation: TypeAlias = "pa.Table | duckdb.DuckDBPyRelation"


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


def _haversine_sql(a: str, b: str) -> str:
    return (
        f"2 * {EARTH_RADIUS_KM} * asin(sqrt("
        f"pow(sin(radians({b}.lat - {a}.lat) / 2), 2) + {a}.m_coslat * "
        f"{b}.m_coslat * pow(sin(radians({b}.lon - {a}.lon) / 2), 2)))"
    )


def _band_sql(column: str) -> str:
    cases = " ".join(
        f"WHEN {column} < {upper} THEN '{label}'" for upper, label in DISTANCE_BANDS_KM
    )
    return f"CASE WHEN {column} IS NULL THEN 'unknown' {cases} ELSE '{DISTANCE_TOP_BAND}' END"


def _band_lower_sql(column: str) -> str:
    """Lower edge (km) of the public distance band of `column` (0 for the first band)."""
    edges = [0.0] + [upper for upper, _ in DISTANCE_BANDS_KM]
    cases = " ".join(
        f"WHEN {column} < {upper} THEN {lower}"
        for lower, upper in zip(edges, edges[1:], strict=False)
    )
    return f"CASE {cases} ELSE {edges[-1]} END"


def _band_index_sql(column: str) -> str:
    cases = " ".join(f"WHEN {column} < {upper} THEN {i}" for i, (upper, _) in
                     enumerate(DISTANCE_BANDS_KM))  # fmt: skip
    top = len(DISTANCE_BANDS_KM)
    return f"CASE WHEN {column} IS NULL THEN {top + 1} {cases} ELSE {top} END"


def _band_max_sql(column: str) -> str:
    """The distance a coarse pair must stay below for a need's max distance `column`: the first
    band edge above it (NULL = no limit, from the top band's lower edge on)."""
    cases = " ".join(f"WHEN {column} < {upper} THEN {upper}" for upper, _ in DISTANCE_BANDS_KM)
    return f"CASE WHEN {column} IS NULL THEN NULL {cases} ELSE NULL END"


def _snap_sql(value: str, down: bool) -> str:
    """`value` (a fraction > 0) snapped to the 1-2-5 grid per decade, down or up (max 1)."""
    d = f"floor(log10({value}) + 1e-12)"
    m = f"({value} / pow(10, {d}))"
    if down:
        step = f"CASE WHEN {m} >= 5 - 1e-9 THEN 5 WHEN {m} >= 2 - 1e-9 THEN 2 ELSE 1 END"
        return f"CASE WHEN {value} <= 0 THEN 0.0 ELSE least(1.0, pow(10, {d}) * {step}) END"
    step = (
        f"CASE WHEN {m} <= 1 + 1e-9 THEN 1 WHEN {m} <= 2 + 1e-9 THEN 2 "
        f"WHEN {m} <= 5 + 1e-9 THEN 5 ELSE 10 END"
    )
    return f"CASE WHEN {value} <= 0 THEN 0.0 ELSE least(1.0, pow(10, {d}) * {step}) END"


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


def _setup(
    con: duckdb.DuckDBPyConnection,
    streams: pa.Table,
    composition: pa.Table,
    needs: pa.Table,
    limits: pa.Table,
    coarse: bool = False,
) -> None:
    # copy the inputs into DuckDB temp tables: joins over native tables are much faster than
    # repeated scans of registered Arrow data
    # cos(latitude) once per site for the haversine (the same value as computing it per pair)
    coslat = ", cos(radians(lat)) AS m_coslat"
    for name, table in (("m_streams_in", streams), ("m_comp_in", composition),
                        ("m_needs_in", needs), ("m_limits_in", limits)):  # fmt: skip
        con.register("m_arrow_in", table)
        extra = ""
        if name == "m_streams_in":
            # public ordering key for coarse mode (larger quantity bands first)
            order = (
                "CASE "
                + " ".join(
                    f"WHEN quantity_band = '{b}' THEN {i}"
                    for i, b in enumerate(QUANTITY_BAND_ORDER)
                )  # fmt: skip
                + f" ELSE {len(QUANTITY_BAND_ORDER)} END"
                if "quantity_band" in table.column_names
                else "0"
            )
            # integer surrogate key in id order: joins and group-bys over millions of pairs
            # stay on integers, and ordering by it equals ordering by the string id
            extra = (
                f", {order} AS quantity_band_order, row_number() OVER (ORDER BY stream_id) AS m_sk"
                + coslat
            )
        elif name == "m_needs_in":
            extra = ", row_number() OVER (ORDER BY need_id) AS m_nk" + coslat
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT *{extra} FROM m_arrow_in")
        con.unregister("m_arrow_in")
    elements = component_element_table()
    con.register(
        "m_elements",
        pa.table(
            {
                "component": [r[0] for r in elements],
                "element": [r[1] for r in elements],
                "fraction": [r[2] for r in elements],
            }
        ),
    )
    keys = [
        (
            c.id,
            c.key_element,
            next(r[2] for r in elements if r[0] == c.id and r[1] == c.key_element),
        )
        for c in components().values()
        if c.kind != "aggregate" and c.key_element is not None
    ]
    con.register(
        "m_keys",
        pa.table(
            {
                "component": [k[0] for k in keys],
                "key_element": [k[1] for k in keys],
                "key_fraction": [k[2] for k in keys],
            }
        ),
    )
    classes = (
        "list_distinct(list_append(coalesce(accepted_classes, []::VARCHAR[]), material_class))"
        if "accepted_classes" in needs.column_names
        else "[material_class]"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE m_need_classes AS
        SELECT m_nk, unnest({classes}) AS cls FROM m_needs_in
        """
    )
    # limits: give each limit an id within its need, and attach its key element basis
    op, value = "l.op", "l.value"
    if coarse:
        # snap outward on the key element's fraction, then back to the limit's basis
        kf = "coalesce(k.key_fraction, 1.0)"
        ev = f"(l.value * {kf})"
        value = (
            f"CASE WHEN l.op IN ('>', '>=') THEN {_snap_sql(ev, down=True)} / {kf} "
            f"WHEN l.op IN ('<', '<=') THEN {_snap_sql(ev, down=False)} / {kf} "
            "ELSE l.value END"
        )
        op = "CASE l.op WHEN '>' THEN '>=' WHEN '<' THEN '<=' ELSE l.op END"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE m_limits AS
        SELECT l.need_id, n.m_nk,
               row_number() OVER (PARTITION BY l.need_id ORDER BY l.component, l.op) AS limit_id,
               l.component, {op} AS op, {value} AS limit_value,
               l.op NOT IN ('lowest', 'highest') AS hard,
               k.key_element, k.key_fraction
        FROM m_limits_in l LEFT JOIN m_keys k USING (component)
        LEFT JOIN (SELECT need_id, m_nk FROM m_needs_in) n USING (need_id)
        """
    )
    # per-stream element contents: reported directly, else summed over compounds containing it
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_elem AS
        WITH j AS (
            SELECT c.stream_id, e.element, c.component, c.value_min, c.value_max, e.fraction,
                   c.component = e.element AS direct
            FROM m_comp_in c JOIN m_elements e USING (component)
            -- only the elements some limit is about: keeps this small for large registers
            WHERE e.element IN (SELECT key_element FROM m_limits)
        )
        SELECT stream_id, element,
               coalesce(max(value_min) FILTER (direct),
                        sum(value_min * fraction) FILTER (NOT direct)) AS vmin,
               coalesce(max(value_max) FILTER (direct),
                        sum(value_max * fraction) FILTER (NOT direct)) AS vmax,
               CASE WHEN bool_or(direct) THEN element
                    ELSE string_agg(component || ' × ' || printf('%.4f', fraction), ' + '
                                    ORDER BY component) END AS source
        FROM j GROUP BY stream_id, element
        """
    )


def _pairs_sql(coarse: bool = False) -> str:
    dist = _haversine_sql("n", "s")
    # coarse: the need's max distance widened to the first public band edge above it
    dmax = _band_max_sql("n.max_distance_km") if coarse else "n.max_distance_km"
    keep = f"{dist} < {dmax}" if coarse else f"{dist} <= {dmax}"

    def cand(where: str) -> str:
        return f"""
            SELECT n.m_nk, s.m_sk, s.quantity_t_per_year,
                   n.quantity_t_min, {dmax} AS max_distance_km,
                   s.quantity_band_order,
                   CASE WHEN n.lat IS NULL OR s.lat IS NULL THEN NULL ELSE {dist} END
                       AS distance_km
            FROM m_need_classes nc
            JOIN m_needs_in n USING (m_nk)
            JOIN m_streams_in s ON s.material_class = nc.cls
            WHERE (n.accepts_hazardous OR NOT s.hazardous) AND {where}"""

    # two branches so the haversine is only evaluated in the filter where a need has a max
    # distance and a site (a single OR-ed filter evaluated it for every pair, twice)
    return f"""
        CREATE OR REPLACE TEMP TABLE m_pairs AS
        WITH cand AS (
            {cand(f"({dmax} IS NULL OR n.lat IS NULL)")}
            UNION ALL
            {cand(f"{dmax} IS NOT NULL AND n.lat IS NOT NULL AND (s.lat IS NULL OR (")}
                -- cheap latitude window first (1 degree of latitude >= 111.0 km) so the
                -- haversine is only computed for plausible pairs
                abs(s.lat - n.lat) <= {dmax} / 111.0 AND {keep}))
        )
        SELECT m_nk, m_sk, quantity_t_per_year, distance_km, quantity_band_order,
            CASE WHEN quantity_t_per_year IS NULL THEN NULL
                 WHEN quantity_t_min IS NULL OR quantity_t_min = 0 THEN 1.0
                 ELSE least(1.0, quantity_t_per_year / quantity_t_min) END AS quantity_fit,
            CASE WHEN distance_km IS NULL THEN NULL
                 WHEN max_distance_km IS NULL THEN 1.0 - least(distance_km, 2000.0) / 2000.0
                 ELSE 1.0 - distance_km / max_distance_km END AS distance_fit
        FROM cand
    """


# status CASE shared by scoring and explanation; slack mirrors composition._EPS
_STATUS_SQL = """
    CASE WHEN NOT hard THEN 'preference'
         WHEN vmin IS NULL THEN 'unknown'
         WHEN op = '<'  AND vmax <  limit_value * (1 - 1e-9) THEN 'pass'
         WHEN op = '<'  AND vmin >= limit_value * (1 - 1e-9) THEN 'fail'
         WHEN op = '<=' AND vmax <= limit_value * (1 + 1e-9) THEN 'pass'
         WHEN op = '<=' AND vmin >  limit_value * (1 + 1e-9) THEN 'fail'
         WHEN op = '>'  AND vmin >  limit_value * (1 + 1e-9) THEN 'pass'
         WHEN op = '>'  AND vmax <= limit_value * (1 + 1e-9) THEN 'fail'
         WHEN op = '>=' AND vmin >= limit_value * (1 - 1e-9) THEN 'pass'
         WHEN op = '>=' AND vmax <  limit_value * (1 - 1e-9) THEN 'fail'
         ELSE 'unknown' END
"""

# per (limit component, stream): the content on the limit's basis, computed once per stream
_STREAM_VALUES_SQL = """
    CREATE OR REPLACE TEMP TABLE m_sv AS
    WITH lc AS (SELECT DISTINCT component, key_element, key_fraction FROM m_limits),
    direct AS (
        SELECT c.stream_id, lc.component, c.value_min AS vmin, c.value_max AS vmax,
               lc.component AS source
        FROM m_comp_in c JOIN lc USING (component)
    ),
    via AS (
        SELECT e.stream_id, lc.component, e.vmin / lc.key_fraction AS vmin,
               e.vmax / lc.key_fraction AS vmax,
               e.source || CASE WHEN lc.component = lc.key_element THEN ''
                                ELSE ' ÷ ' || printf('%.4f', lc.key_fraction) END AS source
        FROM m_elem e JOIN lc ON e.element = lc.key_element
    )
    SELECT s.m_sk, x.* FROM (
        SELECT stream_id, component,
               coalesce(d.vmin, v.vmin) AS vmin, coalesce(d.vmax, v.vmax) AS vmax,
               coalesce(d.source, v.source) AS source
        FROM direct d FULL OUTER JOIN via v USING (stream_id, component)) x
    JOIN (SELECT stream_id, m_sk FROM m_streams_in) s USING (stream_id)
"""


def _limit_values_sql(pairs: str, which: str = "TRUE") -> str:
    """(pair, limit) rows with the stream's value on the limit's basis, for the limits of the
    pair's need that satisfy `which` (a condition on `l`)."""
    return f"""
    SELECT p.m_nk, p.m_sk, l.limit_id, l.component, l.op, l.limit_value, l.hard,
           v.vmin, v.vmax
    FROM {pairs} p
    JOIN m_limits l ON l.m_nk = p.m_nk AND ({which})
    LEFT JOIN m_sv v ON v.m_sk = p.m_sk AND v.component = l.component
"""


def _hard_counts(con: duckdb.DuckDBPyConnection, strategy: str) -> str:
    """Create the hard-limit counts per candidate pair and return a FROM item yielding m_pairs'
    columns plus n_pass, n_fail, n_unknown, n_hard (NULL when the need has no hard limit).

    'pairs': one (pair, hard limit) join grouped by pair. 'signatures': needs with the same
    hard limits, classes and hazardous acceptance share their per-stream counts, so the
    (limit, stream) work is done once per distinct signature instead of once per pair -- much
    less work when many needs share limit sets. 'auto' picks the one with fewer join rows.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_sig AS
        WITH lims AS (
            SELECT m_nk, list((component, op, limit_value) ORDER BY limit_id) AS lims,
                   count(*) AS n_limits
            FROM m_limits WHERE hard AND m_nk IS NOT NULL GROUP BY m_nk
        ),
        keyed AS (
            SELECT m_nk, lims, n_limits, n.accepts_hazardous, c.classes
            FROM lims JOIN m_needs_in n USING (m_nk)
            LEFT JOIN (SELECT m_nk, list_sort(list_distinct(list(cls))) AS classes
                       FROM m_need_classes GROUP BY m_nk) c USING (m_nk)
        ),
        sigs AS (
            SELECT lims, classes, accepts_hazardous, any_value(n_limits) AS n_limits,
                   min(m_nk) AS rep
            FROM keyed GROUP BY lims, classes, accepts_hazardous
        )
        SELECT k.m_nk, s.rep AS sig_id, s.n_limits, s.accepts_hazardous, s.classes
        FROM keyed k
        JOIN sigs s ON s.lims IS NOT DISTINCT FROM k.lims AND s.classes IS NOT DISTINCT FROM k.classes
                   AND s.accepts_hazardous IS NOT DISTINCT FROM k.accepts_hazardous
        """
    )
    if strategy == "auto":
        by_pairs, by_sigs = con.execute(
            """
            SELECT (SELECT coalesce(sum(g.n_limits), 0) FROM m_pairs p JOIN m_sig g USING (m_nk)),
                   (SELECT coalesce(sum(g.n_limits * c.n), 0)
                    FROM (SELECT n_limits, unnest(classes) AS cls
                          FROM (SELECT DISTINCT sig_id, n_limits, classes FROM m_sig)) g
                    JOIN (SELECT material_class, count(*) AS n FROM m_streams_in
                          GROUP BY material_class) c ON c.material_class = g.cls)
            """
        ).fetchone() or (0, 0)
        strategy = "signatures" if by_sigs < by_pairs else "pairs"
    if strategy == "pairs":
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE m_agg AS
            SELECT m_nk, m_sk,
                   count(*) FILTER (status = 'pass') AS n_pass,
                   count(*) FILTER (status = 'fail') AS n_fail,
                   count(*) FILTER (status = 'unknown') AS n_unknown,
                   count(*) AS n_hard
            FROM (SELECT m_nk, m_sk, {_STATUS_SQL} AS status
                  FROM ({_limit_values_sql("m_pairs", "l.hard")}))
            GROUP BY m_nk, m_sk
            """
        )
        return """(SELECT p.*, a.n_pass, a.n_fail, a.n_unknown, a.n_hard
                   FROM m_pairs p LEFT JOIN m_agg a USING (m_nk, m_sk))"""
    # per (signature, stream of its classes): counts over the limits the stream has a value
    # for; a limit without a value row is 'unknown' (as the pair join's NULL row would be)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE m_agg AS
        SELECT sig_id, m_sk,
               count(*) FILTER (status = 'pass') AS n_pass,
               count(*) FILTER (status = 'fail') AS n_fail,
               count(DISTINCT limit_id) AS n_limits_known, count(*) AS n_rows
        FROM (
            SELECT g.sig_id, s.m_sk, l.limit_id, {_STATUS_SQL} AS status
            FROM (SELECT sig_id, accepts_hazardous, unnest(classes) AS cls
                  FROM (SELECT DISTINCT sig_id, accepts_hazardous, classes FROM m_sig)) g
            JOIN m_streams_in s
              ON s.material_class = g.cls AND (g.accepts_hazardous OR NOT s.hazardous)
            JOIN m_limits l ON l.m_nk = g.sig_id AND l.hard
            JOIN m_sv v ON v.m_sk = s.m_sk AND v.component = l.component)
        GROUP BY sig_id, m_sk
        """
    )
    return """(SELECT p.*, coalesce(a.n_pass, 0) AS n_pass, coalesce(a.n_fail, 0) AS n_fail,
                      g.n_limits - coalesce(a.n_limits_known, 0) + coalesce(a.n_rows, 0)
                          - coalesce(a.n_pass, 0) - coalesce(a.n_fail, 0) AS n_unknown,
                      g.n_limits - coalesce(a.n_limits_known, 0) + coalesce(a.n_rows, 0)
                          AS n_hard
               FROM m_pairs p LEFT JOIN m_sig g USING (m_nk)
               LEFT JOIN m_agg a ON a.sig_id = g.sig_id AND a.m_sk = p.m_sk)"""


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
    con: duckdb.DuckDBPyConnection | None = None,
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

    ``hard_counts``: how the hard-limit counts are computed (see :func:`_hard_counts`); an
    execution strategy only -- every choice gives the same result.
    """
    if k < 1:
        raise ExchangeError(f"k must be at least 1, got {k}")
    tables = {
        "streams": _as_arrow("streams", streams),
        "composition": _as_arrow("composition", composition),
        "needs": _as_arrow("needs", needs),
        "limits": _as_arrow("limits", limits),
    }
    bad_ops = set(tables["limits"].column("op").to_pylist()) - {
        "<", "<=", ">", ">=", "lowest", "highest",
    }  # fmt: skip
    if bad_ops:
        raise ExchangeError(f"limits: unknown op(s) {sorted(map(str, bad_ops))}")
    own = con is None
    con = con or duckdb.connect()
    try:
        _setup(
            con,
            tables["streams"],
            tables["composition"],
            tables["needs"],
            tables["limits"],
            coarse=coarse,
        )
        con.execute(_pairs_sql(coarse))
        con.execute(_STREAM_VALUES_SQL)
        part = "m_nk" if per == "need" else "m_sk"
        w = WEIGHTS
        # hard-limit counts per pair; the per-limit rows are never stored (explanations are
        # rebuilt for the top-k pairs only)
        counted = _hard_counts(con, hard_counts)
        # scored pairs feed the top-k window directly (never stored: millions of rows)
        scored_sql = f"""
            WITH pref AS (
                SELECT m_nk, m_sk, limit_id,
                       CASE WHEN vmin IS NULL THEN 0.5
                            WHEN op = 'lowest' THEN 1.0 - percent_rank() OVER w
                            ELSE percent_rank() OVER w END AS pscore
                FROM ({_limit_values_sql("m_pairs", "NOT l.hard")})
                WINDOW w AS (PARTITION BY m_nk, limit_id, vmin IS NULL
                             ORDER BY (vmin + vmax) / 2)
            ),
            pagg AS (SELECT m_nk, m_sk, avg(pscore) AS preference_score
                     FROM pref GROUP BY m_nk, m_sk),
            scored AS (
                SELECT p.m_nk, p.m_sk, p.quantity_t_per_year, p.distance_km,
                       p.quantity_band_order, p.quantity_fit, p.distance_fit,
                       coalesce(p.n_pass, 0) AS n_pass, coalesce(p.n_fail, 0) AS n_fail,
                       coalesce(p.n_unknown, 0) AS n_unknown,
                       CASE WHEN coalesce(p.n_hard, 0) = 0 THEN 1.0
                            ELSE (p.n_pass + 0.5 * p.n_unknown) / p.n_hard END AS composition_score,
                       coalesce(g.preference_score, 1.0) AS preference_score,
                       coalesce(p.n_fail, 0) > 0 AS excluded
                FROM {counted} p
                LEFT JOIN pagg g USING (m_nk, m_sk))
        """
        keep = "" if include_excluded else "WHERE NOT excluded"
        score_sql = (
            f"{w['composition']} * composition_score"
            f" + {w['quantity']} * coalesce(quantity_fit, 0.5)"
            f" + {w['distance']} * coalesce(distance_fit, 0.5)"
            f" + {w['preference']} * preference_score"
        )
        # the integer keys sort like the string ids (see _setup), so ties break as before
        if coarse:
            # public order only: nothing confidential may decide who comes first
            other = "m_sk" if per == "need" else "m_nk"
            order = (
                f"excluded, {_band_index_sql('distance_km')}, "
                f"{'quantity_band_order, ' if per == 'need' else ''}{other}"
            )
        else:
            order = f"excluded, {score_sql} DESC, m_nk, m_sk"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE m_top AS
            {scored_sql}
            SELECT * FROM (
                SELECT *, {score_sql} AS score,
                    row_number() OVER (PARTITION BY {part} ORDER BY {order}) AS rank
                FROM scored {keep})
            WHERE rank <= {int(k)}
            """
        )
        public = [
            c
            for c in PUBLIC_STREAM_COLUMNS
            if c in tables["streams"].column_names and c not in ("hazardous", "material_class")
        ]
        extra = "".join(f", s.{c}" for c in public)
        result = con.sql(
            f"""
            WITH lv AS (
                SELECT *, {_STATUS_SQL} AS status FROM ({_limit_values_sql("m_top")})
            ),
            expl AS (
                SELECT m_nk, m_sk,
                       list({{'component': component, 'op': op, 'limit_value': limit_value,
                              'status': status, 'value_min': vmin, 'value_max': vmax,
                              'source': source}} ORDER BY limit_id) AS limits,
                       list(component || ' ' || op || ' ' || printf('%.4g', 100 * limit_value)
                            || ' wt%: fails with ' || CASE WHEN vmin = vmax
                                THEN printf('%.4g', 100 * vmin)
                                ELSE printf('%.4g', 100 * vmin) || '–' || printf('%.4g', 100 * vmax)
                            END || ' wt% (' || source || ')'
                            ORDER BY limit_id) FILTER (status = 'fail') AS fails
                FROM (SELECT lv.*, sv.source FROM lv
                      LEFT JOIN m_sv sv USING (m_sk, component)) x
                GROUP BY m_nk, m_sk
            )
            SELECT n.need_id, s.stream_id, t.rank, round(t.score, 6) AS score,
                   t.composition_score, t.quantity_fit, t.distance_km,
                   {_band_sql("t.distance_km")} AS distance_band,
                   t.preference_score, t.n_pass, t.n_fail, t.n_unknown,
                   t.excluded, NOT t.excluded AS matches,
                   list_concat(
                       coalesce(x.fails, []::VARCHAR[]),
                       CASE WHEN t.distance_km IS NULL
                            THEN ['distance unknown: a site has no coordinates']
                            ELSE []::VARCHAR[] END,
                       CASE WHEN t.quantity_fit IS NULL THEN ['quantity unknown']
                            WHEN t.quantity_fit < 1 THEN ['stream covers '
                                 || printf('%.0f', 100 * t.quantity_fit)
                                 || ' % of the minimum quantity']
                            ELSE []::VARCHAR[] END,
                       CASE WHEN t.n_unknown > 0 THEN [t.n_unknown::VARCHAR
                                 || ' limit(s) not determinable from the analysis']
                            ELSE []::VARCHAR[] END) AS reasons,
                   coalesce(x.limits, []) AS limits,
                   t.quantity_t_per_year, s.material_class, s.hazardous{extra}
            FROM m_top t
            JOIN m_streams_in s USING (m_sk)
            JOIN m_needs_in n USING (m_nk)
            LEFT JOIN expl x USING (m_nk, m_sk)
            ORDER BY t.{part}, t.rank
            """
        ).to_arrow_table()
        return result
    finally:
        if own:
            con.close()
        else:
            for view in ("m_elements", "m_keys"):
                con.unregister(view)
            for table in ("m_streams_in", "m_comp_in", "m_needs_in", "m_limits_in",
                          "m_need_classes", "m_limits", "m_elem", "m_pairs", "m_sv", "m_agg", "m_sig",
                          "m_top"):  # fmt: skip
                con.execute(f"DROP TABLE IF EXISTS {table}")


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
