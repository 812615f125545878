"""The EU criticality method: supply risk (SR), economic importance (EI) and the critical flag.

Method: European Commission (2017), *Methodology for establishing the EU list of critical raw
materials -- Guidelines* (DG GROW, ISBN 978-92-79-68051-9, doi:10.2873/769526), with the
background report Blengini et al. (2017), JRC, doi:10.2760/73303; as applied in the 2020 and
2023 assessments (European Commission, *Study on the critical raw materials for the EU 2023 --
Final report*, which evaluates SR at the extraction and the processing stage and keeps the
higher value). Citations name the Guidelines' sections (page numbers not checked offline).

* Economic importance (Guidelines, "Economic importance"): ``EI = Σ_s (A_s × Q_s) × SI_EI``
  with ``A_s`` the share of the material's end uses in NACE Rev. 2 2-digit sector ``s`` and
  ``Q_s`` that sector's EU value added, scaled to 0..10 by the value added of the largest
  manufacturing sector (``Q_s = 10 × VA_s / max VA``).
* Supply risk (Guidelines, "Supply risk"): ``SR = [HHI_GS × IR/2 + HHI_EUS × (1 − IR/2)] ×
  (1 − EoL_RIR) × SI_SR`` where each ``HHI = Σ_c S_c² × WGI_c × t_c`` over supplier countries
  ``c`` of global supply (GS) or EU sourcing (EUS), ``WGI_c`` the country's governance scaled
  to 0..10 (10 = worst) and ``t_c`` the trade-related variable (taken as published in the
  assessment tables). Import reliance ``IR = (import − export) / (domestic production +
  import − export)``.
* Thresholds: critical when ``SR ≥ 1.0`` and ``EI ≥ 2.8``.

Implementation: pure functions for the formulas (known-answer tests) and one set-based DuckDB
query (:func:`eu_criticality`) over the store's ``eu_supply_shares``, ``eu_end_uses``,
``eu_parameters`` (:mod:`verdikart.sources.eu_crm`), ``governance``, ``production``, ``trade``
and ``wmd_hs_map`` tables. Inputs a store lacks are replaced by documented defaults and every
result row lists them in ``inputs_defaulted`` (see docs/method-eu-criticality.md):

* ``global_shares:production`` -- no published global supply shares for the material: shares
  computed from the store's ``production`` table (one source per material, stage and year:
  World Mining Data first, then USGS MCS; :func:`verdikart.indicators.production.selected_production_sql`)
  and ``t`` = 1;
* ``sourcing:none`` -- no EU (or national) sourcing shares: SR uses global supply alone;
* ``ir`` -- IR = 1 (full import reliance; global and sourcing mixes weigh 1/2 each);
* ``eol_rir:wmd_hs_map`` -- EoL-RIR from the bundled ``wmd_hs_map`` (the EU values carried by
  the GeoPolRisk data); ``eol_rir`` -- 0 when neither is known;
* ``si_sr`` / ``si_ei`` -- substitution index 1 (no substitution);
* ``end_uses`` -- no end-use shares: EI is NULL (and so is ``critical`` unless SR < 1);
* ``wgi:<dims>`` -- fewer than the six WGI dimensions in the store; ``wgi_missing:<n>`` -- n
  supplier countries without a governance score, given the neutral mid-scale value 5.

A national perspective (``perspective='NOR'`` or any ISO3 country) replaces the EU sourcing
shares by the country's own import shares (bundled ``trade``, by value, over the material's
HS6 codes) and the EU import reliance by the country's own (trade and production tonnages).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from verdikart.errors import UnknownCodeError, VerdikartError
from verdikart.indicators.production import selected_production_sql
from verdikart.store import registered

SR_THRESHOLD = 1.0
EI_THRESHOLD = 2.8
WGI_DIMENSIONS: tuple[str, ...] = (
    "va.estimate",
    "pv.estimate",
    "ge.estimate",
    "rq.estimate",
    "rl.estimate",
    "cc.estimate",
)
NEUTRAL_WGI = 5.0  # mid-scale: neither good nor bad governance
DEFAULT_IR = 1.0
DEFAULT_SI = 1.0
DEFAULT_EOL_RIR = 0.0
METHOD = "EC 2017 CRM methodology (as applied 2023)"


# -- pure formulas ------------------------------------------------------------------------
def scale_wgi(estimate: float) -> float:
    """One WGI estimate (−2.5 good .. 2.5 bad reversed) mapped linearly to 0..10, 10 = worst.

    Guidelines, "Supply risk" (governance): the WGI is rescaled so that higher values mean a
    higher risk; the
    estimate range [−2.5, 2.5] maps to [10, 0]. Values outside the range are clipped.
    """
    return min(10.0, max(0.0, (2.5 - estimate) * 2.0))


def scaled_wgi(estimates: Sequence[float]) -> float:
    """The EU method's country governance score: mean of the six WGI dimensions, scaled 0..10.

    Guidelines, "Supply risk" (all six dimensions: voice and accountability, political stability,
    government effectiveness, regulatory quality, rule of law, control of corruption).
    """
    if not estimates:
        raise ValueError("no WGI estimates")
    return scale_wgi(sum(estimates) / len(estimates))


def hhi_wgi_t(shares: Sequence[float], wgi: Sequence[float], t: Sequence[float]) -> float:
    """``HHI_WGI,t = Σ_c S_c² × WGI_c × t_c`` (Guidelines, "Supply risk"); shares as fractions."""
    if not len(shares) == len(wgi) == len(t):
        raise ValueError("shares, wgi and t must have the same length")
    return sum(s * s * w * tc for s, w, tc in zip(shares, wgi, t, strict=True))


def import_reliance(imports: float, exports: float, production: float) -> float | None:
    """``IR = (I − E) / (P + I − E)`` clipped to [0, 1] (Guidelines, "Import reliance").

    None when apparent consumption ``P + I − E`` is not positive (undefined).
    """
    consumption = production + imports - exports
    if consumption <= 0:
        return None
    return min(1.0, max(0.0, (imports - exports) / consumption))


def supply_risk(
    hhi_gs: float,
    hhi_eu: float | None,
    ir: float,
    eol_rir: float = DEFAULT_EOL_RIR,
    si_sr: float = DEFAULT_SI,
) -> float:
    """``SR = [HHI_GS × IR/2 + HHI_EUS × (1 − IR/2)] × (1 − EoL_RIR) × SI_SR``.

    Guidelines, "Supply risk".

    Without sourcing shares (``hhi_eu`` None) the global mix stands alone; this reproduces the
    2023 study's cobalt and vanadium SR (extraction stage, which has no EU sourcing rows).
    """
    mix = hhi_gs if hhi_eu is None else hhi_gs * ir / 2 + hhi_eu * (1 - ir / 2)
    return mix * (1 - eol_rir) * si_sr


def economic_importance(
    shares: Sequence[float],
    value_added: Sequence[float],
    max_value_added: float,
    si_ei: float = DEFAULT_SI,
) -> float:
    """``EI = Σ_s A_s × Q_s × SI_EI`` with ``Q_s = 10 × VA_s / max VA``.

    Guidelines, "Economic importance".

    ``A_s`` are the end-use shares allocated to a sector, renormalised to sum to 1 (uses
    published as unallocated "Other" are spread in proportion; see the method note).
    """
    total = sum(shares)
    if total <= 0 or max_value_added <= 0:
        raise ValueError("shares and max value added must be positive")
    weighted = sum(a * q for a, q in zip(shares, value_added, strict=True)) / total
    return weighted / max_value_added * 10 * si_ei


def is_critical(
    sr: float | None,
    ei: float | None,
    sr_threshold: float = SR_THRESHOLD,
    ei_threshold: float = EI_THRESHOLD,
) -> bool | None:
    """Critical when SR ≥ 1.0 and EI ≥ 2.8 (Guidelines' thresholds); None when unknown."""
    if sr is not None and not math.isnan(sr) and sr < sr_threshold:
        return False
    if ei is not None and not math.isnan(ei) and ei < ei_threshold:
        return False
    if sr is None or ei is None:
        return None
    return True


# -- set-based computation ----------------------------------------------------------------
_SQL = """
WITH
wgi AS (
    SELECT country,
           least(10.0, greatest(0.0, (2.5 - avg(value)) * 2.0)) AS wgi_scaled
    FROM governance
    WHERE year = $wgi_year AND value IS NOT NULL
      AND indicator IN (SELECT unnest($wgi_dims::VARCHAR[]))
    GROUP BY country
),
gs_pub AS (
    SELECT material, stage, country, share, t, source
    FROM eu_supply_shares WHERE year = $year AND scope = 'global'
),
gs_prod AS (
    -- no published shares for the material: production shares (one source per
    -- material, stage and year: World Mining Data first, see indicators.production), t = 1
    SELECT material, CASE stage WHEN 'extraction' THEN 'E' ELSE 'P' END AS stage, country,
           sum(quantity) / sum(sum(quantity)) OVER (PARTITION BY material, stage) AS share,
           1.0 AS t, string_agg(DISTINCT source, '; ') AS source
    FROM ({selected_production})
    WHERE year BETWEEN $p0 AND $p1 AND quantity > 0
      AND material NOT IN (SELECT material FROM gs_pub)
    GROUP BY material, stage, country
),
gs AS (
    SELECT *, false AS from_production FROM gs_pub
    UNION ALL SELECT *, true FROM gs_prod
),
nat_flows AS (
    SELECT h.material, h.stage, tr.exporter AS country, sum(tr.value_kusd) AS value_kusd,
           string_agg(DISTINCT tr.source, '; ') AS source
    FROM trade_analysis tr JOIN _eu_hs6 h ON tr.hs6 = h.hs6
    WHERE $national AND tr.importer = $iso AND tr.year BETWEEN $t0 AND $t1
      AND tr.value_kusd > 0
    GROUP BY ALL
),
sourcing AS (
    SELECT material, stage, country, share, t, source
    FROM eu_supply_shares WHERE NOT $national AND year = $year AND scope = 'eu_sourcing'
    UNION ALL
    SELECT f.material, f.stage, f.country,
           f.value_kusd / sum(f.value_kusd) OVER (PARTITION BY f.material, f.stage),
           coalesce(p.t, 1.0), f.source
    FROM nat_flows f
    LEFT JOIN gs_pub p ON p.material = f.material AND p.stage = f.stage AND p.country = f.country
),
hhi_gs AS (
    SELECT material, stage,
           sum(share * share * coalesce(w.wgi_scaled, $neutral_wgi) * t) AS hhi,
           count(*) FILTER (WHERE w.wgi_scaled IS NULL) AS no_wgi,
           bool_or(from_production) AS from_production,
           string_agg(DISTINCT source, '; ') AS source
    FROM gs LEFT JOIN wgi w USING (country)
    GROUP BY material, stage
),
hhi_src AS (
    SELECT material, stage,
           sum(share * share * coalesce(w.wgi_scaled, $neutral_wgi) * t) AS hhi,
           count(*) FILTER (WHERE w.wgi_scaled IS NULL) AS no_wgi,
           string_agg(DISTINCT source, '; ') AS source
    FROM sourcing LEFT JOIN wgi w USING (country)
    GROUP BY material, stage
),
params AS (
    SELECT g.material, g.stage,
           coalesce(any_value(p.ir) FILTER (WHERE p.stage = g.stage),
                    any_value(p.ir) FILTER (WHERE p.stage IS NULL)) AS ir,
           coalesce(any_value(p.eol_rir) FILTER (WHERE p.stage = g.stage),
                    any_value(p.eol_rir) FILTER (WHERE p.stage IS NULL)) AS eol_rir,
           coalesce(any_value(p.si_sr) FILTER (WHERE p.stage = g.stage),
                    any_value(p.si_sr) FILTER (WHERE p.stage IS NULL)) AS si_sr,
           coalesce(any_value(p.si_ei) FILTER (WHERE p.stage = g.stage),
                    any_value(p.si_ei) FILTER (WHERE p.stage IS NULL)) AS si_ei,
           string_agg(DISTINCT p.source, '; ') AS source
    FROM hhi_gs g
    LEFT JOIN eu_parameters p
      ON p.year = $year AND p.material = g.material AND (p.stage = g.stage OR p.stage IS NULL)
    GROUP BY g.material, g.stage
),
nat_ir AS (
    SELECT h.material, h.stage,
           sum(tr.quantity_t) FILTER (WHERE tr.importer = $iso) / $n_years AS imports_t,
           coalesce(sum(tr.quantity_t) FILTER (WHERE tr.exporter = $iso), 0) / $n_years
               AS exports_t
    FROM trade_analysis tr JOIN _eu_hs6 h ON tr.hs6 = h.hs6
    WHERE $national AND tr.year BETWEEN $t0 AND $t1
      AND (tr.importer = $iso OR tr.exporter = $iso)
    GROUP BY ALL
),
nat_prod AS (
    SELECT material, CASE stage WHEN 'extraction' THEN 'E' ELSE 'P' END AS stage,
           sum(quantity) / $n_years AS production_t
    FROM ({selected_production})
    WHERE $national AND country = $iso AND unit = 't' AND year BETWEEN $t0 AND $t1
    GROUP BY ALL
),
nat AS (
    SELECT i.material, i.stage,
           CASE WHEN coalesce(p.production_t, 0) + i.imports_t - i.exports_t > 0
                THEN least(1.0, greatest(0.0, (i.imports_t - i.exports_t)
                     / (coalesce(p.production_t, 0) + i.imports_t - i.exports_t)))
           END AS ir
    FROM nat_ir i LEFT JOIN nat_prod p USING (material, stage)
    WHERE i.imports_t IS NOT NULL
),
wmd AS (SELECT material, max(eol_rir) AS eol_rir FROM wmd_hs_map GROUP BY material),
max_va AS (SELECT max(value_added_meur) AS va FROM eu_end_uses WHERE year = $year),
ei_raw AS (
    SELECT material,
           sum(share * value_added_meur) FILTER (WHERE nace2 IS NOT NULL)
             / nullif(sum(share) FILTER (WHERE nace2 IS NOT NULL AND share IS NOT NULL), 0)
             / (SELECT va FROM max_va) * 10 AS ei_raw,
           string_agg(DISTINCT source, '; ') AS source
    FROM eu_end_uses WHERE year = $year
    GROUP BY material
),
stage_rows AS (
    SELECT g.material, g.stage, g.hhi AS hhi_gs, s.hhi AS hhi_eu,
           CASE WHEN $national THEN n.ir ELSE p.ir END AS ir_in,
           p.eol_rir AS eol_in, w.eol_rir AS eol_wmd, p.si_sr AS si_sr_in, p.si_ei AS si_ei_in,
           e.ei_raw, g.from_production,
           g.no_wgi + coalesce(s.no_wgi, 0) AS no_wgi,
           concat_ws(' | ', 'global: ' || g.source, $sourcing_label || s.source,
                     'end uses: ' || e.source, 'parameters: ' || p.source,
                     CASE WHEN p.eol_rir IS NULL AND w.eol_rir IS NOT NULL
                          THEN 'EoL-RIR: wmd_hs_map' END,
                     $wgi_label) AS source
    FROM hhi_gs g
    LEFT JOIN hhi_src s USING (material, stage)
    LEFT JOIN params p USING (material, stage)
    LEFT JOIN nat n USING (material, stage)
    LEFT JOIN wmd w USING (material)
    LEFT JOIN ei_raw e USING (material)
    WHERE $all_materials OR g.material IN (SELECT unnest($materials::VARCHAR[]))
),
computed AS (
    SELECT *,
           coalesce(ir_in, $default_ir) AS ir,
           coalesce(eol_in, eol_wmd, $default_eol) AS eol_rir,
           coalesce(si_sr_in, $default_si) AS si_sr,
           coalesce(si_ei_in, $default_si) AS si_ei
    FROM stage_rows
),
result AS (
    SELECT material, stage, stage AS sr_stage,
           CASE WHEN hhi_eu IS NULL THEN hhi_gs
                ELSE hhi_gs * ir / 2 + hhi_eu * (1 - ir / 2) END
             * (1 - eol_rir) * si_sr AS sr,
           ei_raw * si_ei AS ei,
           hhi_gs, hhi_eu,
           CASE WHEN hhi_eu IS NULL THEN NULL ELSE ir END AS ir,
           eol_rir, si_sr, si_ei,
           list_filter([
               CASE WHEN from_production THEN 'global_shares:production' END,
               CASE WHEN from_production THEN 't' END,
               CASE WHEN hhi_eu IS NULL THEN 'sourcing:none' END,
               CASE WHEN hhi_eu IS NOT NULL AND ir_in IS NULL THEN 'ir' END,
               CASE WHEN eol_in IS NULL AND eol_wmd IS NOT NULL THEN 'eol_rir:wmd_hs_map' END,
               CASE WHEN eol_in IS NULL AND eol_wmd IS NULL THEN 'eol_rir' END,
               CASE WHEN si_sr_in IS NULL THEN 'si_sr' END,
               CASE WHEN ei_raw IS NULL THEN 'end_uses' END,
               CASE WHEN ei_raw IS NOT NULL AND si_ei_in IS NULL THEN 'si_ei' END,
               $wgi_flag,
               CASE WHEN no_wgi > 0 THEN 'wgi_missing:' || no_wgi END
           ], lambda x: x IS NOT NULL) AS inputs_defaulted,
           source
    FROM computed
),
with_max AS (
    SELECT * FROM result
    UNION ALL
    -- the material's SR is that of its riskier stage (2023 study); the row is copied whole
    SELECT * REPLACE ('max' AS stage) FROM result
    QUALIFY row_number() OVER (PARTITION BY material ORDER BY sr DESC NULLS LAST, stage) = 1
)
SELECT material, stage, sr_stage, sr, ei,
       CASE WHEN sr < $sr_t OR ei < $ei_t THEN false
            WHEN sr >= $sr_t AND ei >= $ei_t THEN true END AS critical,
       hhi_gs, hhi_eu, ir, eol_rir, si_sr, si_ei, inputs_defaulted,
       $perspective AS perspective, $year AS year, $wgi_year AS wgi_year, source
FROM with_max
ORDER BY material, CASE stage WHEN 'E' THEN 0 WHEN 'P' THEN 1 ELSE 2 END
""".replace("{selected_production}", selected_production_sql())


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    rows = con.execute(sql, list(params)).fetchall()
    return rows[0][0] if rows else None


def default_wgi_year(con: duckdb.DuckDBPyConnection, year: int) -> int | None:
    """The WGI year an assessment of `year` uses: year − 2 (2023 study: WGI 2021) or earlier."""
    found = _scalar(
        con,
        "SELECT max(year) FROM governance WHERE indicator LIKE '%.estimate' AND year <= ?",
        [year - 2],
    )
    if found is None:
        found = _scalar(con, "SELECT max(year) FROM governance WHERE indicator LIKE '%.estimate'")
    return int(found) if found is not None else None


def material_hs6(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """(material, stage 'E'|'P', hs6) for the national perspective's trade shares: the
    material reference's own codes (not those shared with other materials)."""
    from verdikart.reference.materials import material_hs6_table

    table = material_hs6_table("HS92")
    # a code shared with other materials (e.g. 253090 "mineral substances n.e.s." for
    # lithium ores) would make other materials' trade look like this one's suppliers
    own = "AND NOT coalesce(shared, false)" if "shared" in table.column_names else ""
    with registered(con, _eu_hs6_raw=table):
        return con.sql(
            "SELECT DISTINCT CAST(material AS VARCHAR) AS material, "
            "upper(left(CAST(stage AS VARCHAR), 1)) AS stage, CAST(hs6 AS VARCHAR) AS hs6 "
            "FROM _eu_hs6_raw WHERE upper(left(CAST(stage AS VARCHAR), 1)) IN ('E', 'P') " + own
        ).to_arrow_table()


def _perspective(perspective: str) -> str:
    from verdikart.reference.countries import resolve_country

    text = perspective.strip()
    if text.upper() in ("EU", "EU27"):
        return "EU"
    ref = resolve_country(text)
    if ref.kind != "country":
        raise UnknownCodeError(
            f"perspective {perspective!r} is a group; use EU or one country (e.g. NOR)"
        )
    return ref.id


def _years_window(
    con: duckdb.DuckDBPyConnection, table: str, years: tuple[int, int] | None
) -> tuple[int, int]:
    if years is not None:
        return int(years[0]), int(years[1])
    last = _scalar(con, f'SELECT max(year) FROM "{table}"')
    last = int(last) if last is not None else 0
    return last - 4, last


def eu_criticality(
    con: duckdb.DuckDBPyConnection,
    *,
    year: int = 2023,
    materials: Sequence[str] | None = None,
    perspective: str = "EU",
    wgi_year: int | None = None,
    trade_years: tuple[int, int] | None = None,
    production_years: tuple[int, int] | None = None,
    sr_threshold: float = SR_THRESHOLD,
    ei_threshold: float = EI_THRESHOLD,
) -> pa.Table:
    """SR per stage (E, P) and its maximum (stage ``'max'``), EI and the critical flag.

    `con` is a store connection (``store.con``). `materials` are material ids (None = every
    material with global supply shares for `year`, published or from production). One pass of
    SQL; returns an Arrow table with columns material, stage, sr_stage, sr, ei, critical,
    hhi_gs, hhi_eu, ir, eol_rir, si_sr, si_ei, inputs_defaulted, perspective, year, wgi_year,
    source.
    """
    iso = _perspective(perspective)
    national = iso != "EU"
    wyear = wgi_year if wgi_year is not None else default_wgi_year(con, year)
    if wyear is None:
        raise VerdikartError("no WGI estimates in the store's governance table")
    dims = [
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT indicator FROM governance WHERE year = ? AND indicator IN "
            "(SELECT unnest(?::VARCHAR[])) ORDER BY 1",
            [wyear, list(WGI_DIMENSIONS)],
        ).fetchall()
    ]
    if not dims:
        raise VerdikartError(f"no WGI estimates for {wyear} in the governance table")
    wgi_flag = None if len(dims) == len(WGI_DIMENSIONS) else "wgi:" + "+".join(dims)
    t0, t1 = _years_window(con, "trade", trade_years)
    p0, p1 = _years_window(con, "production", production_years)
    wanted = [m.strip() for m in materials] if materials else []
    params = {
        "year": year,
        "wgi_year": wyear,
        "wgi_dims": dims,
        "neutral_wgi": NEUTRAL_WGI,
        "p0": p0,
        "p1": p1,
        "t0": t0,
        "t1": t1,
        "n_years": float(t1 - t0 + 1),
        "national": national,
        "iso": iso,
        "default_ir": DEFAULT_IR,
        "default_eol": DEFAULT_EOL_RIR,
        "default_si": DEFAULT_SI,
        "wgi_flag": wgi_flag,
        "wgi_label": f"WGI {wyear} ({len(dims)} of 6 dimensions)",
        "sourcing_label": (f"{iso} imports {t0}-{t1}: " if national else "EU sourcing: "),
        "all_materials": not wanted,
        "materials": wanted,
        "sr_t": sr_threshold,
        "ei_t": ei_threshold,
        "perspective": iso,
        # one production source per material, stage and year (indicators.production)
        "mats": None,
        "years": None,
        "source": None,
    }
    hs6 = (
        material_hs6(con)
        if national
        else pa.table(
            {
                "material": pa.array([], pa.string()),
                "stage": pa.array([], pa.string()),
                "hs6": pa.array([], pa.string()),
            }
        )
    )
    with registered(con, _eu_hs6=hs6):
        result = con.sql(_SQL, params=params).to_arrow_table()
    if wanted:
        found = set(result.column("material").to_pylist())
        missing = [m for m in wanted if m not in found]
        if missing:
            known = sorted(
                {
                    str(r[0])
                    for r in con.execute(
                        "SELECT DISTINCT material FROM eu_supply_shares WHERE year = ? "
                        "UNION SELECT DISTINCT material FROM production",
                        [year],
                    ).fetchall()
                }
            )
            raise UnknownCodeError(
                f"no supply data for material(s) {', '.join(missing)}; known: {', '.join(known)}"
            )
    return result
