"""Inline SVG charts for the standalone mapping report (no JavaScript, no CDN).

Pure functions: data in, an SVG string out. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TypedDict

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#bbbbbb")
FLAG = "#c62828"
OK = "#1565c0"


class SupplierBar(TypedDict):
    """One product's bar: its label, the concentration flag, [(iso3, share), ...] sorted."""

    label: str
    flag: bool | None
    suppliers: list[tuple[str, float]]


class ScatterPoint(TypedDict):
    """One product: import value (x, kUSD), HHI (y, 0-1), the concentration flag."""

    label: str
    x: float | None
    y: float | None
    flag: bool | None


class PositionRow(TypedDict):
    """One product: share of world exports and of extra-EU27 imports (0-1)."""

    label: str
    world: float | None
    eu: float | None


def supplier_bars(products: Sequence[SupplierBar], width: int = 760) -> str:
    """Horizontal 100 % bars: each product's top-3 supplier shares plus the rest.

    `products`: dicts with `label`, `flag` and `suppliers` = [(iso3, share), ...] (sorted).
    """
    row_h, left, top = 26, 190, 28
    height = top + row_h * len(products) + 30
    plot_w = width - left - 20
    parts = [_svg_open(width, height, "Supplier shares of imports")]
    parts.append(
        f'<text x="{left}" y="16" class="axis">share of imports (0–100 %); '
        f"red outline: top supplier above threshold</text>"
    )
    for i, prod in enumerate(products):
        y = top + i * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" class="label">'
            f"{escape(str(prod['label']))}</text>"
        )
        x = float(left)
        shown = list(prod["suppliers"][:3])
        rest = max(0.0, 1.0 - sum(s for _, s in shown))
        segments = [*shown, ("other", rest)] if rest > 1e-9 else shown
        for j, (iso3, share) in enumerate(segments):
            w = plot_w * (share or 0.0)
            colour = PALETTE[j] if iso3 != "other" else PALETTE[-1]
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{colour}"><title>{escape(str(iso3))}: {share:.1%}</title></rect>'
            )
            if w > 34:
                parts.append(
                    f'<text x="{x + 4:.1f}" y="{y + 16}" class="seg">{escape(str(iso3))} '
                    f"{share:.0%}</text>"
                )
            x += w
        if prod.get("flag"):
            parts.append(
                f'<rect x="{left}" y="{y + 2}" width="{plot_w}" height="{row_h - 6}" '
                f'fill="none" stroke="{FLAG}" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def hhi_scatter(points: Sequence[ScatterPoint], width: int = 760, height: int = 380) -> str:
    """HHI (y, 0–1) against import value (x, log10 kUSD); flagged points in red."""
    left, right, top, bottom = 60, 20, 20, 45
    # (label, x, y, flag) of the points that can be drawn: a positive import value and an HHI
    pts = [
        (str(p["label"]), x, y, bool(p.get("flag")))
        for p in points
        if (x := p["x"]) is not None and x > 0 and (y := p["y"]) is not None
    ]
    parts = [_svg_open(width, height, "HHI against import value")]
    if not pts:
        parts.append('<text x="20" y="40" class="label">no imports</text></svg>')
        return "".join(parts)
    lo = math.floor(math.log10(min(x for _, x, _, _ in pts)))
    hi = math.ceil(math.log10(max(x for _, x, _, _ in pts)))
    hi = hi if hi > lo else lo + 1
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + pw * (math.log10(v) - lo) / (hi - lo)

    def sy(v: float) -> float:
        return top + ph * (1 - v)

    parts.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="ax"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" class="ax"/>'
    )
    for k in range(lo, hi + 1):
        x = sx(10.0**k)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" class="ax"/>'
            f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle" class="axis">'
            f"{_tick(10.0**k)}</text>"
        )
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<text x="{left - 6}" y="{sy(v) + 4:.1f}" text-anchor="end" class="axis">{v:g}</text>'
            f'<line x1="{left}" y1="{sy(v):.1f}" x2="{left + pw}" y2="{sy(v):.1f}" class="grid"/>'
        )
    parts.append(
        f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle" class="axis">'
        f"import value, kUSD (log scale)</text>"
        f'<text x="14" y="{top + ph / 2}" class="axis" transform="rotate(-90 14 {top + ph / 2})" '
        f'text-anchor="middle">HHI of supplier shares</text>'
    )
    for label, x, y, flag in pts:
        colour = FLAG if flag else OK
        parts.append(
            f'<circle class="pt" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" '
            f'fill="{colour}" fill-opacity="0.75"><title>{escape(label)}: '
            f"{x:,.0f} kUSD, HHI {y:.2f}</title></circle>"
            f'<text x="{sx(x) + 7:.1f}" y="{sy(y) + 4:.1f}" class="pl">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def position_bars(rows: Sequence[PositionRow], width: int = 760) -> str:
    """Grouped bars: share of world exports and of extra-EU27 imports, per product."""
    row_h, left, top = 34, 190, 30
    height = top + row_h * len(rows) + 20
    plot_w = width - left - 70
    values = [v for r in rows for v in (r.get("world"), r.get("eu")) if v]
    top_value = max(values) if values else 1.0
    parts = [_svg_open(width, height, "Position as exporter")]
    parts.append(
        f'<rect x="{left}" y="6" width="12" height="10" fill="{OK}"/>'
        f'<text x="{left + 16}" y="15" class="axis">share of world exports</text>'
        f'<rect x="{left + 180}" y="6" width="12" height="10" fill="{PALETTE[1]}"/>'
        f'<text x="{left + 196}" y="15" class="axis">share of EU27 extra-EU imports</text>'
    )
    for i, r in enumerate(rows):
        y = top + i * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 18}" text-anchor="end" class="label">'
            f"{escape(str(r['label']))}</text>"
        )
        for j, (share, colour) in enumerate(((r["world"], OK), (r["eu"], PALETTE[1]))):
            v = share or 0.0
            w = plot_w * v / top_value
            yy = y + 3 + j * 13
            parts.append(
                f'<rect class="bar" x="{left}" y="{yy}" width="{w:.1f}" height="12" fill="{colour}">'
                f"<title>{v:.2%}</title></rect>"
                f'<text x="{left + w + 4:.1f}" y="{yy + 10}" class="axis">{v:.1%}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    )


def _tick(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:g} M"
    if v >= 1e3:
        return f"{v / 1e3:g} k"
    return f"{v:g}"
