"""The mapping report's value-chain section: one picture per chain, inline, with a summary.

Owns :func:`chain_section_html`: the views of :meth:`verdikart.app.Verdikart.chain_views`
(the JSON of `chain show`) in, one self-contained HTML fragment out: per chain a one-line
summary and the picture of :func:`verdikart.report.chain_svg.chain_svg` inline (scoped CSS
and ids, no external assets). The report template places the fragment in its
``value_chains`` block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any


def _pct(value: float, lang: str = "en") -> str:
    text = f"{value * 100:.1f} %" if value < 0.01 else f"{value * 100:.0f} %"
    return text.replace(".", ",") if lang == "nb" else text


def chain_summary(view: Mapping[str, Any], language: str = "en") -> str:
    """One line in English or bokmål ('nb'): where the country supplies most, the stages
    whose imports one supplier dominates (65 % flag), the plants, and the stages without
    trade data."""
    nb = language == "nb"
    country = str(view["country"])
    stages = view["stages"]

    def name(item: Mapping[str, Any]) -> str:
        return str(item.get("name_no") or item["name_en"]) if nb else str(item["name_en"])

    parts: list[str] = []
    best = max(
        (s for s in stages if (s.get("position") or {}).get("share_of_eu_sourcing")),
        key=lambda s: s["position"]["share_of_eu_sourcing"],
        default=None,
    )
    if best is not None:
        share = _pct(best["position"]["share_of_eu_sourcing"], language)
        parts.append(
            f"{country} står for {share} av EUs forsyning av {name(best)} (EUs CRM-studie 2023)"
            if nb
            else f"{country} supplies {share} of the EU's sourcing of {name(best)} "
            "(EU CRM study 2023)"
        )
    flagged = [
        f"{name(s)} ({s['imports']['top_supplier']} "
        f"{_pct(s['imports']['top_supplier_share'], language)})"
        for s in stages
        if s.get("imports") and s["imports"].get("concentration_flag")
    ]
    if flagged:
        parts.append(
            f"{country}s import over 65 % fra én leverandør: {', '.join(flagged)}"
            if nb
            else f"{country}'s imports above 65 % from one supplier: {', '.join(flagged)}"
        )
    if view["plants"]:
        n = len(view["plants"])
        parts.append(
            f"{n} norsk{'e' if n > 1 else ''} anlegg"
            if nb
            else f"{n} Norwegian plant{'s' if n > 1 else ''}"
        )
    missing = sum(1 for s in stages if s.get("imports") is None)
    if missing:
        parts.append(
            f"{missing} av {len(stages)} ledd uten handelsdata i databasen"
            if nb
            else f"{missing} of {len(stages)} stages without trade data in the store"
        )
    return f"{name(view)}: " + "; ".join(parts) + "."


def chain_section_html(views: Sequence[Mapping[str, Any]], language: str = "en") -> str:
    """The section's HTML: per chain an anchor, the summary line and the inline picture."""
    from verdikart.report.chain_svg import chain_svg

    out = []
    for view in views:
        scope = f"chain-{view['chain']}"
        out.append(
            f'<figure class="chain" id="fig-{escape(scope)}">'
            f"<figcaption>{escape(chain_summary(view, language))}</figcaption>"
            f'<div class="chain-svg">{chain_svg(view, language, scope=scope)}</div></figure>'
        )
    return "\n".join(out)
