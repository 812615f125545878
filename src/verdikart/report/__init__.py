"""The standalone HTML mapping report: Jinja2 template plus inline SVG charts, no network.

`render_map_html(result)` turns a :class:`verdikart.chains.mapping.MapResult` into one HTML file
that opens offline; every number in the table carries a footnote to its source and year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verdikart.chains.mapping import MapResult

MAX_CHART_ROWS = 15


def _fmt(value: Any, kind: str = "num") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "int":
        # small amounts keep a decimal so 0.185 kUSD does not print as 0
        return f"{value:,.1f}" if 0 < abs(value) < 10 else f"{value:,.0f}"
    if kind == "ratio":
        return f"{value:.3f}"
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def _chart_inputs(result: MapResult) -> dict[str, str]:
    from verdikart.report.charts import (
        PositionRow,
        ScatterPoint,
        SupplierBar,
        hhi_scatter,
        position_bars,
        supplier_bars,
    )

    by_product: dict[str, list[tuple[str, float]]] = {}
    for s in result.suppliers:
        if s["share"] is not None:
            by_product.setdefault(s["product"], []).append((s["supplier"], s["share"]))
    # the largest net-import dependencies, flagged or not, so the chart shows what matters most
    vulnerable = sorted(
        (r for r in result.rows if r["position"] == "vulnerability"),
        key=lambda r: -(r["import_value_kusd"] or 0.0),
    )[:MAX_CHART_ROWS]
    bars: list[SupplierBar] = [
        {
            "label": f"{r['product']} ({r['hs6']})" if r["product"] != r["hs6"] else r["product"],
            "flag": r["concentration_flag"],
            "suppliers": sorted(by_product.get(r["product"], []), key=lambda t: -t[1]),
        }
        for r in vulnerable
    ]
    points: list[ScatterPoint] = [
        {
            "label": r["product"],
            "x": r["import_value_kusd"],
            "y": r["hhi"],
            "flag": r["concentration_flag"],
        }
        for r in result.rows
    ]
    advantages = sorted(
        (r for r in result.rows if r["position"] == "advantage"),
        key=lambda r: -(r["world_export_share"] or 0.0),
    )[:MAX_CHART_ROWS]
    pos_rows: list[PositionRow] = [
        {"label": r["product"], "world": r["world_export_share"], "eu": r["EU27_external_share"]}
        for r in advantages
    ]
    return {
        "suppliers_svg": supplier_bars(bars),
        "scatter_svg": hhi_scatter(points),
        "position_svg": position_bars(pos_rows),
    }


def render_map_html(
    result: MapResult, chains: Sequence[Mapping[str, Any]] = (), language: str = "en"
) -> str:
    """The whole report as one HTML string; `chains`: the value-chain views of the section
    (:func:`verdikart.report.chain_section.chain_section_html`; none = no section)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("verdikart.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    env.filters["fmt"] = _fmt
    sources = list(result.sources)
    footnote = {s: i + 1 for i, s in enumerate(sources)}
    rows = []
    for r in result.rows:
        refs = sorted({footnote[s] for s in (r["source"] or "").split("; ") if s in footnote})
        rows.append({**r, "refs": refs})
    charts = _chart_inputs(result)
    from markupsafe import Markup

    if chains:
        from verdikart.report.chain_section import chain_section_html

        charts["chains_html"] = chain_section_html(chains, language)

    return env.get_template("map.html.j2").render(
        result=result,
        rows=rows,
        sources=sources,
        governance_ref=[footnote[s] for s in sources if s.startswith("World Bank")],
        flagged=sum(1 for r in result.rows if r["concentration_flag"]),
        **{k: Markup(v) for k, v in charts.items()},
    )
