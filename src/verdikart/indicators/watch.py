"""Early-warning rules over the trade and production series, as Ibis expressions.

Owns the set-based part of the watch (:mod:`verdikart.scenarios.watch` adds the list changes,
the evidence texts, the ids and the record of alerts seen). Every rule reads the ordinary
indicators (:func:`verdikart.indicators.trade.trade_indicators_expr`,
:func:`~verdikart.indicators.trade.supplier_shares_expr`,
:func:`~verdikart.indicators.trade.partner_flows_expr`,
:func:`verdikart.indicators.production.production_hhi_expr`) for many reporters at once and
compares each year of the window with the year before; it runs on DuckDB and Spark alike.

Rules (thresholds in ``reference/data/watch.toml``, overridable; sources there):

* ``supplier_share`` — a supplier's share of the reporter's imports of a material rises above
  the threshold (it was at or below it, or absent, the year before);
* ``hhi_rise`` — the HHI of the reporter's imports of a material rises by more than ``points``
  to at least ``min_hhi_points``;
* ``new_dominant_supplier`` — the largest supplier changes and the new one has at least
  ``min_share``;
* ``export_drop`` — a supplier that gave at least ``min_share`` of the reporter's imports the
  year before exports more than ``drop`` less of the material to the world than that year;
* ``unit_value_jump`` — the unit value (USD/t) of the reporter's imports of a material changes
  by more than ``change`` (either way);
* ``production_hhi_rise`` — the HHI of world production of a material the reporter imports
  rises by more than ``points``;
* ``list_status_change`` — a material the reporter imports entered or left the EU list
  between two editions (the changes come from ``reference/data/lists.toml``);
* ``policy_event`` — a dated measure (:mod:`verdikart.scenarios.events`) on a material the
  reporter imports from the country that imposes it (export measures), or exports to it
  (import measures); the share in the latest year of the window.

Alerts are rows of one shape (``ALERT_COLUMNS``); a material a reporter imported less than
``min_import_kusd`` of in a year raises no trade alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.indicators.production import production_hhi_expr
from verdikart.indicators.trade import (
    _normalise_products,
    partner_flows_expr,
    supplier_shares_expr,
    trade_indicators_expr,
)

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

ALERT_COLUMNS = (
    "rule",
    "reporter",
    "material",
    "stage",
    "partner",
    "year",
    "value",
    "previous",
    "threshold",
    "amount_kusd",
    "event_id",
    "source",
)
LIST_CHANGE_SCHEMA = pa.schema(
    [("material", pa.string()), ("change_id", pa.string()), ("list_year", pa.int32())]
)
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("product", pa.string()),
        ("iso3", pa.string()),
        ("direction", pa.string()),
    ]
)


def _alerts(t: ir.Table, **cols: Any) -> ir.Table:
    """A rule's rows in the alert shape (missing columns NULL, types fixed)."""
    types = {
        "rule": "string",
        "reporter": "string",
        "material": "string",
        "stage": "string",
        "partner": "string",
        "year": "int32",
        "value": "float64",
        "previous": "float64",
        "threshold": "float64",
        "amount_kusd": "float64",
        "event_id": "string",
        "source": "string",
    }
    out = {}
    for name in ALERT_COLUMNS:
        value = cols.get(name)
        if value is None:
            out[name] = ibis.null(types[name])
        elif isinstance(value, str | float | int):
            out[name] = ibis.literal(value, types[name])
        else:
            out[name] = value.cast(types[name])
    return t.select(**out)


def _trade_series(
    rel: Relations, reporters: pa.Table, products: pa.Table, years: Sequence[int]
) -> ir.Table:
    """The import indicators of every reporter, material and year, with the previous year's."""
    ti = trade_indicators_expr(rel, reporters, products, years, basis="value")
    w = ibis.window(group_by=[ti.reporter, ti.product], order_by=[ti.year])
    unit = ti.import_value_kusd * 1000.0 / ti.import_quantity_t.nullif(0)
    s = ti.mutate(unit_value=unit)
    return s.mutate(
        prev_year=s.year.lag().over(w),
        prev_hhi=s.hhi_points.lag().over(w),
        prev_top=s.top_supplier.lag().over(w),
        prev_value=s.import_value_kusd.lag().over(w),
        prev_unit_value=s.unit_value.lag().over(w),
    )


def watch_expr(
    rel: Relations,
    reporters: pa.Table,
    products: pa.Table,
    window: Sequence[int],
    rules: Mapping[str, Mapping[str, Any]],
    events: pa.Table,
    *,
    min_import_kusd: float,
    list_changes: pa.Table | None = None,
) -> ir.Table:
    """Every alert of the enabled `rules` (name -> thresholds) for the `window` years (each
    compared with the year before), plus the policy events (``events``: event_id, product,
    iso3 of the imposing country, direction 'export' | 'import') and the list changes
    (``list_changes``: material, change_id, list_year) of materials the reporter imports, in
    the alert shape."""
    if list_changes is None:
        list_changes = LIST_CHANGE_SCHEMA.empty_table()
    years = sorted({int(y) for y in window})
    first, latest = years[0], years[-1]
    series_years = sorted(set(years) | {first - 1})
    parts: list[ir.Table] = []
    on = {name: r for name, r in rules.items() if r.get("enabled", True)}
    need_series = {
        "hhi_rise",
        "new_dominant_supplier",
        "unit_value_jump",
        "production_hhi_rise",
        "list_status_change",
    }
    if need_series & set(on):
        s = _trade_series(rel, reporters, products, series_years)
        big = s.import_value_kusd >= float(min_import_kusd)
        base = s.filter(big & s.year.isin(years) & (s.prev_year == s.year - 1))
        if "hhi_rise" in on:
            r = on["hhi_rise"]
            hit = base.filter(
                (base.hhi_points - base.prev_hhi > float(r["points"]))
                & (base.hhi_points >= float(r["min_hhi_points"]))
            )
            parts.append(
                _alerts(
                    hit,
                    rule="hhi_rise",
                    reporter=hit.reporter,
                    material=hit.product,
                    partner=hit.top_supplier,
                    year=hit.year,
                    value=hit.hhi_points,
                    previous=hit.prev_hhi,
                    threshold=float(r["points"]),
                    amount_kusd=hit.import_value_kusd,
                    source=hit.source,
                )
            )
        if "new_dominant_supplier" in on:
            r = on["new_dominant_supplier"]
            hit = base.filter(
                (base.top_supplier != base.prev_top)
                & (base.top_supplier_share >= float(r["min_share"]))
            )
            parts.append(
                _alerts(
                    hit,
                    rule="new_dominant_supplier",
                    reporter=hit.reporter,
                    material=hit.product,
                    partner=hit.top_supplier,
                    stage=hit.prev_top,  # the previous largest supplier (evidence)
                    year=hit.year,
                    value=hit.top_supplier_share,
                    threshold=float(r["min_share"]),
                    amount_kusd=hit.import_value_kusd,
                    source=hit.source,
                )
            )
        if "unit_value_jump" in on:
            r = on["unit_value_jump"]
            change = base.unit_value / base.prev_unit_value.nullif(0) - 1.0
            hit = base.mutate(_change=change)
            hit = hit.filter(hit._change.abs() > float(r["change"]))
            parts.append(
                _alerts(
                    hit,
                    rule="unit_value_jump",
                    reporter=hit.reporter,
                    material=hit.product,
                    year=hit.year,
                    value=hit.unit_value,
                    previous=hit.prev_unit_value,
                    threshold=float(r["change"]),
                    amount_kusd=hit.import_value_kusd,
                    source=hit.source,
                )
            )
        if "production_hhi_rise" in on:
            r = on["production_hhi_rise"]
            mats = sorted(set(products.column("material").cast(pa.string()).to_pylist()))
            ph = production_hhi_expr(rel, mats, None)
            pw = ibis.window(group_by=[ph.material, ph.stage], order_by=[ph.year])
            ph = ph.mutate(prev_year=ph.year.lag().over(pw), prev_hhi=ph.hhi_points.lag().over(pw))
            ph = ph.filter(
                (ph.prev_year == ph.year - 1)
                & (ph.year >= first)
                & (ph.hhi_points - ph.prev_hhi > float(r["points"]))
            ).select(
                q_material="material",
                q_stage="stage",
                q_year="year",
                q_hhi="hhi_points",
                q_prev="prev_hhi",
                q_top="top_country",
                q_source="source",
            )
            # the reporters that imported the material in the window's last year
            imp = s.filter(big & (s.year == latest)).select("reporter", "product")
            hit = imp.join(ph, imp.product == ph.q_material)
            parts.append(
                _alerts(
                    hit,
                    rule="production_hhi_rise",
                    reporter=hit.reporter,
                    material=hit.product,
                    stage=hit.q_stage,
                    partner=hit.q_top,
                    year=hit.q_year,
                    value=hit.q_hhi,
                    previous=hit.q_prev,
                    threshold=float(r["points"]),
                    source=hit.q_source,
                )
            )
        if "list_status_change" in on and list_changes.num_rows:
            lc = ibis.memtable(list_changes.cast(LIST_CHANGE_SCHEMA))
            imp = s.filter(big & (s.year == latest)).select("reporter", "product", "source")
            hit = imp.join(lc, imp.product == lc.material)
            parts.append(
                _alerts(
                    hit,
                    rule="list_status_change",
                    reporter=hit.reporter,
                    material=hit.product,
                    year=hit.list_year,
                    event_id=hit.change_id,
                    source=hit.source,
                )
            )
    shares = None
    if {"supplier_share", "export_drop", "policy_event"} & set(on):
        shares = supplier_shares_expr(rel, reporters, products, series_years, basis="value")
    if "supplier_share" in on and shares is not None:
        r = on["supplier_share"]
        ss = shares
        w = ibis.window(group_by=[ss.reporter, ss.product, ss.supplier], order_by=[ss.year])
        ss = ss.mutate(prev_year=ss.year.lag().over(w), prev_share=ss.share.lag().over(w))
        t = float(r["threshold"])
        total = ss.value_kusd / ss.share.nullif(0)
        hit = ss.filter(
            ss.year.isin(years)
            & (ss.share > t)
            & (total >= float(min_import_kusd))
            & ((ss.prev_year != ss.year - 1) | ss.prev_year.isnull() | (ss.prev_share <= t))
        )
        prev = ibis.cases((hit.prev_year == hit.year - 1, hit.prev_share), else_=0.0)
        parts.append(
            _alerts(
                hit,
                rule="supplier_share",
                reporter=hit.reporter,
                material=hit.product,
                partner=hit.supplier,
                year=hit.year,
                value=hit.share,
                previous=prev,
                threshold=t,
                amount_kusd=hit.value_kusd,
                source=hit.source,
            )
        )
    if "export_drop" in on and shares is not None:
        r = on["export_drop"]
        prods = ibis.memtable(_normalise_products(products)).select("product", "hs6").distinct()
        codes = sorted(set(products.column("hs6").cast(pa.string()).to_pylist()))
        ta = rel.trade_analysis
        ta = ta.filter(ta.year.isin(series_years), ta.hs6.isin(codes))
        j = ta.join(prods, ta.hs6 == prods.hs6)
        world = j.group_by(product=j.product, exporter=j.exporter, year=j.year).agg(
            value=j.value_kusd.sum()
        )
        prev = world.select(
            p_product="product", p_exporter="exporter", p_year=world.year + 1, p_value="value"
        )
        cur = world.select(
            c_product="product", c_exporter="exporter", c_year="year", c_value="value"
        )
        d = prev.left_join(
            cur,
            [
                prev.p_product == cur.c_product,
                prev.p_exporter == cur.c_exporter,
                prev.p_year == cur.c_year,
            ],
        )
        d = d.select(
            "p_product",
            "p_exporter",
            "p_year",
            "p_value",
            now=d.c_value.fill_null(0.0),
        )
        d = d.filter(d.p_year.isin(years) & (d.p_value > 0))
        d = d.filter(1.0 - d.now / d.p_value > float(r["drop"]))
        ss = shares.filter(
            (shares.share >= float(r["min_share"]))
            & (shares.value_kusd / shares.share.nullif(0) >= float(min_import_kusd))
        )
        hit = ss.join(
            d,
            [
                ss.product == d.p_product,
                ss.supplier == d.p_exporter,
                ss.year == d.p_year - 1,
            ],
        )
        parts.append(
            _alerts(
                hit,
                rule="export_drop",
                reporter=hit.reporter,
                material=hit.product,
                partner=hit.supplier,
                year=hit.p_year,
                value=hit.now,
                previous=hit.p_value,
                threshold=float(r["drop"]),
                amount_kusd=hit.value_kusd,
                source=hit.source,
            )
        )
    if "policy_event" in on and events.num_rows and shares is not None:
        r = on["policy_event"]
        ev = ibis.memtable(events.cast(EVENT_SCHEMA))
        ex = ev.filter(ev.direction == "export")
        ss = shares.filter(shares.year == latest)
        j = ss.join(ex, [ss.product == ex.product, ss.supplier == ex.iso3])
        got = j.group_by("reporter", "product", "event_id").agg(
            share=j.share.sum(), value=j.value_kusd.sum(), source=j.source.max()
        )
        got = got.filter(got.share > float(r["min_share"]))
        parts.append(
            _alerts(
                got,
                rule="policy_event",
                reporter=got.reporter,
                material=got.product,
                year=latest,
                value=got.share,
                threshold=float(r["min_share"]),
                amount_kusd=got.value,
                event_id=got.event_id,
                source=got.source,
            )
        )
        im = ev.filter(ev.direction == "import")
        flows = partner_flows_expr(rel, reporters, products, [latest])
        flows = flows.filter(flows.flow == "export")
        tot = flows.group_by(t_reporter="reporter", t_product="product").agg(
            t_value=flows.value_kusd.sum()
        )
        k = flows.join(im, [flows.product == im.product, flows.partner == im.iso3])
        sold = k.group_by("reporter", "product", "event_id").agg(
            value=k.value_kusd.sum(), source=k.source.max()
        )
        sold = sold.join(tot, [sold.reporter == tot.t_reporter, sold.product == tot.t_product])
        share = sold.value / sold.t_value.nullif(0)
        sold = sold.mutate(share=share)
        sold = sold.filter(sold.share > float(r["min_share"]))
        parts.append(
            _alerts(
                sold,
                rule="policy_event",
                reporter=sold.reporter,
                material=sold.product,
                year=latest,
                value=sold.share,
                threshold=float(r["min_share"]),
                amount_kusd=sold.value,
                event_id=sold.event_id,
                source=sold.source,
            )
        )
    if not parts:
        empty = pa.table({c: pa.array([], pa.string()) for c in ALERT_COLUMNS})
        return _alerts(ibis.memtable(empty))
    out = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    return out.order_by("reporter", "rule", "material", "year", "partner", "event_id")
