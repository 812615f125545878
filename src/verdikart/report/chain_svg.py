"""The picture of a value chain: stages left to right, concentration on each, plants beneath.

Pure functions: the JSON-ready dict of :func:`verdikart.chains.view.chain_view` in, SVG text
out (our own code: no JavaScript, no CDN, every text escaped); PNG from the same SVG through
cairosvg (libcairo). Labels follow the language (English, or Norwegian bokmål for no/nb).

Layout: a stage's column is its longest path from a root of the graph (a root sits just left
of its first consumer); within a column stages are ordered by the mean row of their inputs.
Each stage is a box with its name, HS codes, world production HHI and top producer (the EU
study's global supply shares where the store has no series), the top supplier of EU sourcing,
the reporter's and the EU27's imports (top supplier and share, red when above the 65 %
threshold, grey when the store lacks the trade data), in green the reporter's own shares of
EU sourcing, world production and world exports (from 1 %), and under the box the Norwegian
plants that produce it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from verdikart.chains.view import GLOBAL_PREFIX

BOX_W = 244
COL_GAP = 64
MARGIN = 24
TITLE_H = 58
LINE_H = 15
PLANT_H = 14
BOX_GAP = 18
NAME_CHARS = 28  # bold 12.5 px in a 244 px box
LINE_CHARS = 36
BODY_CHARS = 40  # 11 px lines; bold ones narrower
BOLD_CHARS = 35
BOLD = {"flag", "own"}
FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
FLAG = "#c62828"
OK = "#1565c0"
GREY = "#6d6d6d"
OWN = "#1b5e20"
OWN_MIN = 0.01  # the country's shares drawn from 1 %, the EU study's listing threshold
# box heads: white bold 12.5 px text on them has WCAG AA contrast (at least 4.5:1)
KIND_COLOURS = {
    "ore": "#8d6e63",
    "intermediate": "#546e7a",
    "ferroalloy": "#5c6bc0",
    "refined": "#1565c0",
    "chemical": "#2e7d32",
    "co-product": "#616161",
    "semi": "#6a1b9a",
    "product": "#00796b",
}

SECTORS_NO = {
    "energy": "energi",
    "defence": "forsvar",
    "process industry": "prosessindustri",
    "fertiliser and food": "gjødsel og mat",
    "digital": "digital",
}

LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "{name}: value chain, {country} {year}",
        "world": "World production",
        "world_eu": "World supply (EU {year})",
        "top": "top",
        "imports": "{country} imports",
        "no_trade": "no trade data in the store",
        "decimal": ".",
        "no_imports": "no imports",
        "no_production": "not in the store",
        "eu_top": "EU sourcing {year}: top {top}",
        "of_eu": "{country}: {share} of EU sourcing",
        "of_world": "{country}: {share} of world production",
        "of_exports": "{country}: {share} of world exports",
        "plants": "Norwegian plants",
        "legend": (
            "HHI = Herfindahl index of world production shares (0-1; 'EU 2023' = the EU study's "
            "global supply shares where the store has no production series). EU sourcing = the "
            "EU's supply of the stage by country (EU CRM study 2023). Imports: the top supplier's "
            "share of {country}'s and the EU27's (extra-EU) imports of the stage's HS codes; red "
            "= above {threshold} (one supplier); grey = the store lacks trade data for these "
            "codes. Green: {country}'s shares of 1 % or more. ▲ Norwegian plants that make the stage."
        ),
        "sources": "Sources: {sources}",
        "shared": "codes also cover other products",
    },
    "no": {
        "title": "{name}: verdikjede, {country} {year}",
        "world": "Verdensproduksjon",
        "world_eu": "Verdensforsyning (EU {year})",
        "top": "størst",
        "imports": "Import {country}",
        "no_trade": "ingen handelsdata i lageret",
        "decimal": ",",
        "no_imports": "ingen import",
        "no_production": "ikke i lageret",
        "eu_top": "EUs forsyning {year}: størst {top}",
        "of_eu": "{country}: {share} av EUs forsyning",
        "of_world": "{country}: {share} av verdensprod.",
        "of_exports": "{country}: {share} av verdenseksport",
        "plants": "Norske anlegg",
        "legend": (
            "HHI = Herfindahl-indeks for andeler av verdensproduksjonen (0-1; 'EU 2023' = EU-"
            "studiens globale forsyningsandeler der lageret ikke har produksjonsserien). EUs "
            "forsyning = EUs tilgang på trinnet etter land (EUs råvarestudie 2023). Import: "
            "største leverandørs andel av {country}s og EU27s (utenfor EU) import av trinnets "
            "HS-koder; rødt = over {threshold} (én leverandør); grått = lageret mangler "
            "handelsdata for kodene. Grønt: {country}s andeler fra 1 %. ▲ norske anlegg som "
            "lager trinnet."
        ),
        "sources": "Kilder: {sources}",
        "shared": "kodene dekker også andre varer",
    },
}


def _dec(value: float, labels: Mapping[str, str]) -> str:
    """Two decimals with the language's decimal mark (0.40 / 0,40)."""
    return f"{value:.2f}".replace(".", labels["decimal"])


def _pct(value: float | None) -> str:
    if value is None:
        return "–"
    if 0 < value < 0.01:
        return f"{value * 100:.1f} %"
    return f"{value * 100:.0f} %"


def _lang(language: str) -> str:
    return "no" if language.strip().lower() in {"no", "nb", "nn", "nob", "norsk"} else "en"


def _layout(view: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """(column, row) of each stage: longest-path columns, roots pulled next to their first
    consumer, rows by the mean row of each stage's inputs (fewer crossing arrows)."""
    stages = view["stages"]
    ids = [s["stage"] for s in stages]
    column = {s["stage"]: int(s["column"]) for s in stages}
    inputs = {s["stage"]: [i for i in s["inputs"] if i in column] for s in stages}
    outputs = {s["stage"]: [o for o in s["outputs"] if o in column] for s in stages}
    for sid in ids:
        if not inputs[sid] and outputs[sid]:
            column[sid] = max(column[sid], min(column[o] for o in outputs[sid]) - 1)
    # compact: no empty columns
    used = sorted(set(column.values()))
    column = {sid: used.index(c) for sid, c in column.items()}
    rows: dict[str, int] = {}
    for c in range(len(used)):
        members = [sid for sid in ids if column[sid] == c]

        def key(sid: str) -> tuple[float, int]:
            prev = [rows[i] for i in inputs[sid] if i in rows]
            return (sum(prev) / len(prev) if prev else float(ids.index(sid)), ids.index(sid))

        for r, sid in enumerate(sorted(members, key=key)):
            rows[sid] = r
    return {sid: (column[sid], rows[sid]) for sid in ids}


def _plant_label(plant: Mapping[str, Any]) -> str:
    """'Hydro Sunndal', 'Glencore Nikkelverk': the company without legal form or owner note,
    then the plant unless the company name already says it."""
    company = str(plant["company"]).split(" (")[0]
    words = [w for w in company.split() if w not in {"AS", "ASA", "ANS", "AB", "Norge", "Norway"}]
    company = " ".join(words) or company
    name = str(plant["plant"])
    if name.split(" (")[0].split()[0].casefold() in company.casefold():
        return company
    return f"{company} {name}"


def _imports_line(
    imp: Mapping[str, Any] | None, labels: Mapping[str, str], reporter: str
) -> tuple[str, str]:
    """One line: '{reporter} imports: GAB 55 % (HHI 0.39)', red when above the threshold."""
    head = labels["imports"].format(country=reporter)
    if imp is None:
        return ("none", f"{head}: {labels['no_trade']}")
    if not imp["suppliers"]:
        return ("imp", f"{head}: {labels['no_imports']}")
    text = f"{head}: {imp['top_supplier']} {_pct(imp['top_supplier_share'])}"
    if imp["hhi"] is not None:
        text += f" (HHI {_dec(imp['hhi'], labels)})"
    return ("flag" if imp["concentration_flag"] else "imp", text)


def _stage_lines(
    stage: Mapping[str, Any], labels: Mapping[str, str], country: str, eu: str = "EU27"
) -> list[tuple[str, str]]:
    """(css class, text) lines of a stage box below its name."""
    out: list[tuple[str, str]] = []
    codes = stage["hs_codes"]["HS92"]
    hs = "HS " + ", ".join(codes)
    if codes != stage["hs_codes"]["HS2022"]:
        hs += " (HS22 " + ", ".join(stage["hs_codes"]["HS2022"]) + ")"
    out.extend(("hs", part) for part in textwrap.wrap(hs, LINE_CHARS))
    prod = stage.get("production")
    if prod is not None and prod.get("hhi") is not None:
        if prod.get("basis") == "eu_global_supply_shares":
            head = labels["world_eu"].format(year=prod["year"])
        else:
            head = f"{labels['world']} {prod['year']}"
        out.append(("prod", f"{head}: HHI {_dec(prod['hhi'], labels)}"))
        out.append(("prod", f"{labels['top']} {prod['top_country']} {_pct(prod['top_share'])}"))
    elif stage.get("production_series"):
        out.append(("none", f"{labels['world']}: {labels['no_production']}"))
    for e in stage.get("eu_sourcing") or []:
        if e["top_supplier"] is not None:
            top = f"{e['top_supplier']} {_pct(e['top_supplier_share'])}"
            if len(stage["eu_sourcing"]) > 1:
                top += f" ({e['name']})"
            out.append(("eu", labels["eu_top"].format(year=e["year"], top=top)))
    out.append(_imports_line(stage.get("imports"), labels, country))
    if eu != country:
        out.append(_imports_line(stage.get("eu_imports"), labels, eu))
    pos = stage.get("position") or {}
    for key, label in (
        ("share_of_eu_sourcing", "of_eu"),
        ("share_of_world_production", "of_world"),
        ("share_of_world_exports", "of_exports"),
    ):
        value = pos.get(key)
        if value is not None and value >= OWN_MIN:
            out.append(("own", labels[label].format(country=country, share=_pct(value))))
    if stage.get("hs_shared"):
        out.append(("none", labels["shared"]))
    if stage["sectors"]:
        sectors = [SECTORS_NO.get(x, x) if labels is LABELS["no"] else x for x in stage["sectors"]]
        out.extend(("sector", part) for part in textwrap.wrap(", ".join(sectors), 40))
    return out


def _style(scope: str | None) -> str:
    """The picture's CSS; with `scope` every rule applies only inside the element of that id
    (several pictures inline in one HTML page neither restyle the page nor each other)."""
    rules = (
        (".t", "font-size:18px;font-weight:bold;fill:#222"),
        (".st", "font-size:12px;fill:#555"),
        (".n", "font-size:12.5px;font-weight:bold;fill:#fff"),
        (".hs", "font-size:10.5px;fill:#555"),
        (".prod", "font-size:11px;fill:#222"),
        (".imp", f"font-size:11px;fill:{OK}"),
        (".flag", f"font-size:11px;fill:{FLAG};font-weight:bold"),
        (".none", f"font-size:11px;fill:{GREY};font-style:italic"),
        (".eu", "font-size:11px;fill:#37474f"),
        (".own", f"font-size:11px;fill:{OWN};font-weight:bold"),
        (".sector", "font-size:10.5px;fill:#6d4c41"),
        (".pl", "font-size:11px;fill:#1b5e20"),
        (".lg", "font-size:11px;fill:#444"),
    )
    prefix = f"#{scope} " if scope else ""
    return "".join(f"{prefix}{sel}{{{rule}}}" for sel, rule in rules)


def chain_svg(view: Mapping[str, Any], language: str = "en", *, scope: str | None = None) -> str:
    """The chain as a standalone SVG document (our own drawing; see module doc). `scope`: an
    id for the root element that scopes its CSS and prefixes its element ids (for several
    pictures inline in one HTML page)."""
    lang = _lang(language)
    labels = LABELS[lang]
    country = str(view["country"])
    stages = {s["stage"]: s for s in view["stages"]}
    place = _layout(view)
    producers: dict[str, list[Mapping[str, Any]]] = {sid: [] for sid in stages}
    for plant in view["plants"]:
        for sid in plant["stages_out"]:
            if sid in producers:
                producers[sid].append(plant)
    # box geometry per stage
    blocks: dict[str, dict[str, Any]] = {}
    for sid, stage in stages.items():
        name = stage["name_no"] if lang == "no" else stage["name_en"]
        name_lines = textwrap.wrap(name, NAME_CHARS) or [sid]
        body = [
            (cls, part)
            for cls, text in _stage_lines(
                stage, labels, country, str(view.get("eu_reporter") or "EU27")
            )
            for part in textwrap.wrap(
                text, BOLD_CHARS if cls in BOLD else BODY_CHARS, subsequent_indent="  "
            )
        ]
        box_h = 10 + 16 * len(name_lines) + 4 + LINE_H * len(body) + 6
        plant_lines = [f"▲ {_plant_label(p)}" for p in producers[sid]]
        plant_lines = [line for pl in plant_lines for line in textwrap.wrap(pl, LINE_CHARS + 2)]
        block_h = box_h + (8 + PLANT_H * len(plant_lines) if plant_lines else 0)
        blocks[sid] = {
            "name": name_lines,
            "body": body,
            "box_h": box_h,
            "plants": plant_lines,
            "h": block_h,
        }
    n_cols = max(c for c, _ in place.values()) + 1
    x_of = {c: MARGIN + c * (BOX_W + COL_GAP) for c in range(n_cols)}
    y_of: dict[str, float] = {}
    col_bottom = {c: float(TITLE_H) for c in range(n_cols)}
    for sid in sorted(stages, key=lambda s: (place[s][0], place[s][1])):
        c = place[sid][0]
        y_of[sid] = col_bottom[c]
        col_bottom[c] += blocks[sid]["h"] + BOX_GAP
    width = MARGIN * 2 + n_cols * BOX_W + (n_cols - 1) * COL_GAP
    width = max(width, 640)
    legend = labels["legend"].format(country=country, threshold=_pct(view.get("threshold")))
    legend_lines = textwrap.wrap(legend, max(60, int((width - 2 * MARGIN) / 6.4)))
    sources = sorted(
        {
            str(s["production"]["source"]).removeprefix(GLOBAL_PREFIX)
            for s in view["stages"]
            if s.get("production") and s["production"].get("source")
        }
        | {
            src
            for s in view["stages"]
            for key in ("imports", "eu_imports")
            if s.get(key) and s[key].get("source")
            for src in str(s[key]["source"]).split("; ")
        }
        | {
            str(e["source"])
            for s in view["stages"]
            for e in s.get("eu_sourcing") or []
            if e["source"]
        }
        | ({"EU ETS installation register"} if view["plants"] else set())
    )
    source_lines = textwrap.wrap(
        labels["sources"].format(sources="; ".join(sources) or "–"),
        max(60, int((width - 2 * MARGIN) / 6.4)),
    )
    height = int(max(col_bottom.values()) + 10 + 14 * (len(legend_lines) + len(source_lines)) + 12)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}"'
        + (f' id="{escape(scope)}"' if scope else "")
        + ">",
        f"<title>{escape(view['name'])}</title>",
        f"<style>{_style(scope)}</style>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="26" class="t">'
        + escape(
            labels["title"].format(name=view["name"], country=country, year=view.get("year") or "")
        )
        + "</text>",
        f'<text x="{MARGIN}" y="44" class="st">'
        + escape(", ".join(view["materials"]) + f" · {view.get('file', '')}")
        + "</text>",
    ]
    # arrows first, under the boxes
    for link in view["links"]:
        a, b = link["from"], link["to"]
        if a not in stages or b not in stages:
            continue
        x1 = x_of[place[a][0]] + BOX_W
        y1 = y_of[a] + blocks[a]["box_h"] / 2
        x2 = x_of[place[b][0]] - 2
        y2 = y_of[b] + blocks[b]["box_h"] / 2
        mid = (x1 + x2) / 2
        out.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} '
            f'{x2 - 7:.1f},{y2:.1f}" fill="none" stroke="#78909c" stroke-width="1.6"/>'
        )
        out.append(
            f'<polygon points="{x2:.1f},{y2:.1f} {x2 - 9:.1f},{y2 - 4.5:.1f} '
            f'{x2 - 9:.1f},{y2 + 4.5:.1f}" fill="#78909c"/>'
        )
    for sid, stage in stages.items():
        x, y, blk = x_of[place[sid][0]], y_of[sid], blocks[sid]
        imp = stage.get("imports")
        border = FLAG if imp and imp.get("concentration_flag") else "#b0bec5"
        colour = KIND_COLOURS.get(stage["kind"], "#546e7a")
        head_h = 10 + 16 * len(blk["name"])
        out.append(f'<g id="{escape(scope + "-" if scope else "")}stage-{escape(sid)}">')
        out.append(
            f'<rect x="{x}" y="{y:.1f}" width="{BOX_W}" height="{blk["box_h"]}" rx="6" '
            f'fill="#fafafa" stroke="{border}" stroke-width="{2.5 if border == FLAG else 1.2}"/>'
        )
        out.append(
            f'<path d="M{x},{y + 6:.1f} a6,6 0 0 1 6,-6 h{BOX_W - 12} a6,6 0 0 1 6,6 '
            f'v{head_h - 6} h-{BOX_W} z" fill="{colour}"/>'
        )
        for i, text in enumerate(blk["name"]):
            out.append(
                f'<text x="{x + 8}" y="{y + 18 + 16 * i:.1f}" class="n">{escape(text)}</text>'
            )
        ty = y + head_h + 15
        for cls, text in blk["body"]:
            out.append(f'<text x="{x + 8}" y="{ty:.1f}" class="{cls}">{escape(text)}</text>')
            ty += LINE_H
        if blk["plants"]:
            py = y + blk["box_h"] + 8 + 10
            for text in blk["plants"]:
                out.append(f'<text x="{x + 6}" y="{py:.1f}" class="pl">{escape(text)}</text>')
                py += PLANT_H
        out.append("</g>")
    ly = max(col_bottom.values()) + 10
    for text in legend_lines + source_lines:
        out.append(f'<text x="{MARGIN}" y="{ly:.1f}" class="lg">{escape(text)}</text>')
        ly += 14
    out.append("</svg>")
    return "\n".join(out)


def svg_to_png(svg: str, scale: float = 1.5) -> bytes:
    """The SVG rendered to PNG by cairosvg (libcairo); OfflineError-free, pure local."""
    try:
        import cairosvg
    except (ImportError, OSError) as exc:  # OSError: libcairo missing
        from verdikart.errors import VerdikartError

        raise VerdikartError(
            f"PNG output needs cairosvg and the system's libcairo2 ({exc}); "
            "use --format svg, or install them (pip install cairosvg; apt install libcairo2)"
        ) from exc
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
    return bytes(png)


def stage_names(view: Mapping[str, Any], language: str = "en") -> Sequence[str]:
    """The stage names as drawn (for tests and captions)."""
    key = "name_no" if _lang(language) == "no" else "name_en"
    return [s[key] for s in view["stages"]]
