"""Inline SVG charts for the standalone mapping report (no JavaScript, no CDN).

Pure functions: data in, an SVG string out. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TypedDict

_TEXT = {
    "supplier_title": ("Supplier shares of imports", "Leverandørandeler av importen"),
    "supplier_axis": (
        "share of imports (0–100 %); red outline: one supplier above the threshold",
        "andel av importen (0–100 %); rød ramme: én leverandør over terskelen",
    ),
    "other": ("other", "andre"),
    "scatter_title": ("Concentration against import value", "Konsentrasjon mot importverdi"),
    "no_imports": ("no imports", "ingen import"),
    "x_axis": ("import value, 1000 USD (log scale)", "importverdi, 1000 USD (log-skala)"),
    "y_axis": ("supplier concentration (HHI)", "leverandørkonsentrasjon (HHI)"),
    "position_title": ("Position as exporter", "Posisjon som eksportør"),
    "world": ("share of world exports", "andel av verdens eksport"),
    "eu": ("share of the EU's imports from outside the EU", "andel av EUs import utenfra EU"),
}


def _t(key: str, lang: str) -> str:
    en, nb = _TEXT[key]
    return nb if lang == "nb" else en


def text_width(text: str, size: float) -> float:
    """A generous estimate of a text's width in px (0.62 em a character; sans-serif glyphs
    average about 0.5 em), so that placed labels keep clear of each other in any browser."""
    return len(text) * size * 0.62 + 2


def fit_text(text: str, size: float, max_w: float) -> str:
    """The text, cut with an ellipsis to fit `max_w` px (the full text stays in a tooltip)."""
    if text_width(text, size) <= max_w:
        return text
    n = max(1, int((max_w - 2) / (size * 0.62)) - 1)
    return text[:n].rstrip() + "…"


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box, pad: float = 1.0) -> bool:
    return not (
        a[2] + pad <= b[0] or b[2] + pad <= a[0] or a[3] + pad <= b[1] or b[3] + pad <= a[1]
    )


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


def supplier_bars(products: Sequence[SupplierBar], width: int = 720, lang: str = "en") -> str:
    """Horizontal 100 % bars: each product's top-3 supplier shares plus the rest.

    `products`: dicts with `label`, `flag` and `suppliers` = [(iso3, share), ...] (sorted).
    Product labels are cut to the left margin and segment labels drawn only where they fit,
    so no text overlaps or leaves the picture.
    """
    row_h, left, top = 26, 180, 28
    height = top + row_h * len(products) + 12
    plot_w = width - left - 10
    parts = [_svg_open(width, height, _t("supplier_title", lang))]
    parts.append(
        f'<text x="{left}" y="16" class="axis">{escape(fit_text(_t("supplier_axis", lang), 11, plot_w))}</text>'
    )
    for i, prod in enumerate(products):
        y = top + i * row_h
        full = str(prod["label"])
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" class="label">'
            f"<title>{escape(full)}</title>{escape(fit_text(full, 12, left - 10))}</text>"
        )
        x = float(left)
        shown = list(prod["suppliers"][:3])
        rest = max(0.0, 1.0 - sum(s for _, s in shown))
        segments = [*shown, ("other", rest)] if rest > 1e-9 else shown
        for j, (iso3, share) in enumerate(segments):
            w = plot_w * (share or 0.0)
            colour = PALETTE[j] if iso3 != "other" else PALETTE[-1]
            name = _t("other", lang) if iso3 == "other" else str(iso3)
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{colour}"><title>{escape(name)}: {share:.1%}</title></rect>'
            )
            seg = f"{name} {share:.0%}"
            if text_width(seg, 10) + 6 < w:
                parts.append(f'<text x="{x + 4:.1f}" y="{y + 16}" class="seg">{escape(seg)}</text>')
            x += w
        if prod.get("flag"):
            parts.append(
                f'<rect x="{left}" y="{y + 2}" width="{plot_w}" height="{row_h - 6}" '
                f'fill="none" stroke="{FLAG}" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def place_labels(
    points: Sequence[tuple[str, float, float]],
    bounds: Box,
    size: float = 10,
    radius: float = 5,
) -> list[tuple[float, float, str, bool] | None]:
    """Greedy label placement: for each (label, x, y) point in order, the first of a ring of
    candidate positions (beside, above, below, then further out with a leader line) whose box
    stays inside `bounds` and clear of every point and label placed before; None where no
    candidate fits (the caller numbers that point). Returns (x, y baseline, anchor, leader)."""
    placed: list[Box] = [(x - radius, y - radius, x + radius, y + radius) for _, x, y in points]
    out: list[tuple[float, float, str, bool] | None] = []
    h = size + 2
    for label, px, py in points:
        w = text_width(label, size)
        found = None
        for dist, leader in ((radius + 3, False), (18.0, True), (32.0, True), (48.0, True)):
            for dx, dy in ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 1), (-1, -1), (-1, 1)):
                cx, cy = px + dx * dist, py + dy * dist
                x0 = cx if dx > 0 else cx - w if dx < 0 else cx - w / 2
                y0 = cy - h / 2 if dy == 0 else cy - h if dy < 0 else cy
                box = (x0, y0, x0 + w, y0 + h)
                if (
                    box[0] < bounds[0]
                    or box[2] > bounds[2]
                    or box[1] < bounds[1]
                    or box[3] > bounds[3]
                ):
                    continue
                if any(_overlaps(box, b) for b in placed):
                    continue
                placed.append(box)
                found = (x0, y0 + h - 3, "start", leader)
                break
            if found:
                break
        out.append(found)
    return out


def hhi_scatter(
    points: Sequence[ScatterPoint], width: int = 720, height: int = 380, lang: str = "en"
) -> str:
    """HHI (y, 0–1) against import value (x, log10 kUSD); flagged points in red.

    Labels placed greedily (:func:`place_labels`) with leader lines where they move away from
    their point; a label that finds no free place becomes a number explained in a legend
    below the plot, so no two labels overlap and none is clipped."""
    left, right, top, bottom = 60, 12, 20, 45
    # (label, x, y, flag) of the points that can be drawn: a positive import value and an HHI
    pts = [
        (str(p["label"]), x, y, bool(p.get("flag")))
        for p in points
        if (x := p["x"]) is not None and x > 0 and (y := p["y"]) is not None
    ]
    if not pts:
        return (
            _svg_open(width, 60, _t("scatter_title", lang))
            + f'<text x="20" y="40" class="label">{_t("no_imports", lang)}</text></svg>'
        )
    lo = math.floor(math.log10(min(x for _, x, _, _ in pts)))
    hi = math.ceil(math.log10(max(x for _, x, _, _ in pts)))
    hi = hi if hi > lo else lo + 1
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + pw * (math.log10(v) - lo) / (hi - lo)

    def sy(v: float) -> float:
        return top + ph * (1 - v)

    # flagged and larger imports first: they get the nearest places
    order = sorted(range(len(pts)), key=lambda i: (not pts[i][3], -pts[i][1]))
    xy = [(pts[i][0], sx(pts[i][1]), sy(pts[i][2])) for i in order]
    spots = place_labels(xy, (left + 1, 2, width - 2, top + ph - 2))
    unplaced = [k for k, s in enumerate(spots) if s is None]
    numbers = {k: n + 1 for n, k in enumerate(unplaced)}
    if unplaced:
        # a second pass places the numbers (short) beside their points
        taken = [
            (sp[0], sp[1] - 10, sp[0] + text_width(xy[k][0], 10), sp[1] + 2)
            for k, sp in enumerate(spots)
            if sp is not None
        ]
        num_pts = [(str(numbers[k]), xy[k][1], xy[k][2]) for k in unplaced]
        num_spots = _place_numbers(num_pts, taken, xy, (left + 1, 2, width - 2, top + ph - 2))
        for k, sp in zip(unplaced, num_spots, strict=True):
            spots[k] = sp
    col_w = 230
    per_row = max(1, (width - left) // col_w)
    legend_rows = math.ceil(len(unplaced) / per_row)
    total_h = height + (legend_rows * 16 + 6 if unplaced else 0)
    parts = [_svg_open(width, total_h, _t("scatter_title", lang))]
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
        f"{_t('x_axis', lang)}</text>"
        f'<text x="14" y="{top + ph / 2}" class="axis" transform="rotate(-90 14 {top + ph / 2})" '
        f'text-anchor="middle">{_t("y_axis", lang)}</text>'
    )
    for i in order:
        label, x, y, flag = pts[i]
        colour = FLAG if flag else OK
        parts.append(
            f'<circle class="pt" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" '
            f'fill="{colour}" fill-opacity="0.75"><title>{escape(label)}: '
            f"{x:,.0f} kUSD, HHI {y:.2f}</title></circle>"
        )
    for k, spot in enumerate(spots):
        if spot is None:
            continue
        label, px, py = xy[k]
        text = str(numbers[k]) if k in numbers else label
        tx, ty, _, leader = spot
        if leader:
            w = text_width(text, 10)
            ex = min(max(px, tx), tx + w)
            ey = min(max(py, ty - 9), ty + 1)
            parts.append(
                f'<line class="leader" x1="{px:.1f}" y1="{py:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" '
                f'stroke="#999" stroke-width="0.7"/>'
            )
        cls = "pl num" if k in numbers else "pl"
        parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}" class="{cls}">{escape(text)}</text>')
    for n, k in enumerate(unplaced):
        row, col = divmod(n, per_row)
        lx, ly = left + col * col_w, height + 6 + row * 16
        entry = fit_text(f"{numbers[k]} {xy[k][0]}", 10, col_w - 8)
        parts.append(f'<text x="{lx}" y="{ly + 10}" class="pl legend">{escape(entry)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _place_numbers(
    nums: Sequence[tuple[str, float, float]],
    taken: Sequence[Box],
    all_pts: Sequence[tuple[str, float, float]],
    bounds: Box,
) -> list[tuple[float, float, str, bool] | None]:
    """Numbers beside their points, clear of the labels already placed and of every point;
    falls back to the right of the point when the ring is full (a number is 1-2 glyphs)."""
    obstacles = [*taken, *((x - 5, y - 5, x + 5, y + 5) for _, x, y in all_pts)]
    out: list[tuple[float, float, str, bool] | None] = []
    for text, px, py in nums:
        w, h = text_width(text, 10), 12.0
        found = None
        for dist, leader in ((8.0, False), (16.0, True), (26.0, True), (40.0, True), (56.0, True)):
            for dx, dy in ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 1), (-1, -1), (-1, 1)):
                cx, cy = px + dx * dist, py + dy * dist
                x0 = cx if dx > 0 else cx - w if dx < 0 else cx - w / 2
                y0 = cy - h / 2 if dy == 0 else cy - h if dy < 0 else cy
                box = (x0, y0, x0 + w, y0 + h)
                if (
                    box[0] < bounds[0]
                    or box[2] > bounds[2]
                    or box[1] < bounds[1]
                    or box[3] > bounds[3]
                ):
                    continue
                if any(_overlaps(box, b) for b in obstacles):
                    continue
                obstacles.append(box)
                found = (x0, y0 + h - 3, "start", leader)
                break
            if found:
                break
        out.append(found or (px + 7, py + 4, "start", False))
    return out


def position_bars(rows: Sequence[PositionRow], width: int = 720, lang: str = "en") -> str:
    """Grouped bars: share of world exports and of extra-EU27 imports, per product."""
    row_h, left, top = 34, 180, 30
    height = top + row_h * len(rows) + 10
    plot_w = width - left - 70
    values = [v for r in rows for v in (r.get("world"), r.get("eu")) if v]
    top_value = max(values) if values else 1.0
    parts = [_svg_open(width, height, _t("position_title", lang))]
    world, eu = _t("world", lang), _t("eu", lang)
    x_eu = left + 16 + text_width(world, 11) + 12
    parts.append(
        f'<rect x="{left}" y="6" width="12" height="10" fill="{OK}"/>'
        f'<text x="{left + 16}" y="15" class="axis">{escape(world)}</text>'
        f'<rect x="{x_eu:.0f}" y="6" width="12" height="10" fill="{PALETTE[1]}"/>'
        f'<text x="{x_eu + 16:.0f}" y="15" class="axis">'
        f"{escape(fit_text(eu, 11, width - x_eu - 18))}</text>"
    )
    for i, r in enumerate(rows):
        y = top + i * row_h
        full = str(r["label"])
        parts.append(
            f'<text x="{left - 6}" y="{y + 18}" text-anchor="end" class="label">'
            f"<title>{escape(full)}</title>{escape(fit_text(full, 12, left - 10))}</text>"
        )
        for j, (share, colour) in enumerate(((r["world"], OK), (r["eu"], PALETTE[1]))):
            v = share or 0.0
            w = plot_w * v / top_value
            yy = y + 3 + j * 13
            parts.append(
                f'<rect class="bar" x="{left}" y="{yy}" width="{w:.1f}" height="12" fill="{colour}">'
                f"<title>{v:.2%}</title></rect>"
                f'<text x="{left + w + 4:.1f}" y="{yy + 10}" class="axis val">{_pct(v, lang)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _pct(v: float, lang: str) -> str:
    from verdikart.report.labels import percent

    return percent(v, lang)


# the charts' own styles inside each SVG: browsers apply the page's too, but PDF renderers
# (WeasyPrint) style an inline SVG only from its own <style>
_SVG_CSS = (
    ".axis{font-size:11px;fill:#555}.label{font-size:12px;fill:#222}"
    ".seg{font-size:10px;fill:#fff}.pl{font-size:10px;fill:#333}.pl.num{font-weight:700}"
    ".ax{stroke:#444}.grid{stroke:#eee}"
)


def _svg_open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
        f"<style>{_SVG_CSS}</style>"
    )


def _tick(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:g} M"
    if v >= 1e3:
        return f"{v / 1e3:g} k"
    return f"{v:g}"
