"""Process-industry statistics: Norway's exports and imports by industry (issue 13).

Owns the regrouping of SSB's external trade (table 08801, the store's ``ssb_trade``) from the
8-digit commodity number to the process industry's NACE groups, the seed's HS-chapter table,
named product groups and the company corrections beside the official figures. Every figure is a
set-based Ibis expression over :class:`verdikart.relations.Relations` (``*_expr``), run by a
runner ``(engine, ...)`` on DuckDB or Spark alike; nothing loops over data rows.

Method (Prosess21, "Status for prosessindustrien 2024", seed 000, footnote 7, l.524–527):
commodity code → CPA 2.1 through Eurostat's CN → CPA correspondence → NACE Rev. 2 (the first
four digits of a CPA code are its NACE class: CPA 24.10.12 → NACE 24.10) → the group whose
prefix the class starts with (``reference/data/industry/process_industry_groups.csv``).

* **Join through HS6.** SSB's numbers are national codes (the Norwegian customs tariff), not
  EU CN8, so a row joins the correspondence on its first six digits (HS6). The correspondence
  of the row's year is used: CN 2021 for years up to 2021, CN 2022 from 2022.
* **Split rule.** An HS6 code whose CN8 subheadings map to several CPA codes (3.0 % of HS6
  codes in CN 2022) is split over them in proportion to the number of its CN8 subheadings
  each CPA code receives: ``weight(hs6, cpa) = n_cn8(hs6, cpa) / n_cn8(hs6)``; the weights
  of an HS6 sum to 1, so nothing is lost or counted twice. Example: HS 7308.90 has three CN8
  codes, 7308 90 51 → CPA 24.33.30 (C24) and 7308 90 59, 7308 90 98 → CPA 25.11.23 (C25):
  a third of its value goes to C24, two thirds outside the process industry. Split rows are
  listed by :func:`split_rows`.
* **Confidential goods.** Code 99999999 ("sum of all commodity numbers with restricted
  publication", seed l.611) is its own line, ``confidential``, never in a NACE group: it holds
  mineral fertiliser among others.
* **Unknown codes.** An HS6 code the year's correspondence does not hold (a code of another
  HS revision, a typo) has no group: its value stays in the total, the line ``unknown`` and
  :func:`unknown_codes` list it with row counts; never dropped.
* **Suppressed cells.** A row SSB suppressed (``status`` ':' , '..') has no figure: it is
  counted (``suppressed_rows``), never read as 0.
* **Corrections.** A company-confirmed figure (``industry_corrections``) adds to its group and,
  when it was inside the confidential pool (``from_confidential``), comes off that line; the
  latest correction per year, flow, group and company applies. The official figure stays in
  ``official_value_nok``; ``value_nok`` is the figure used, ``basis`` says which.
* **Shares.** ``share = value_nok / total`` with total = all the year's exports (or imports)
  in the store, confidential line and unknown codes included, as the seed's 1,881 bn NOK.

Currencies: EUR and USD at Norges Bank's annual average for the year
(:mod:`verdikart.reference.industry`); NULL with a note where the table has no rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from verdikart.reference.industry import (
    CONFIDENTIAL,
    CONFIDENTIAL_CODE,
    GROUPS,
    OTHER,
    PROCESS_INDUSTRY,
    TOTAL,
    group_labels,
    hs_chapter_groups,
    process_industry_groups,
    product_groups,
    rate,
)

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from verdikart.engine import Engine
    from verdikart.relations import Relations
else:
    from verdikart.lazy_ibis import ibis  # imported on first use

UNKNOWN = "unknown"
FLOWS = ("export", "import")
GROUP_ORDER = (*GROUPS, CONFIDENTIAL, PROCESS_INDUSTRY, OTHER, UNKNOWN, TOTAL)


def cn_year_for(year: int) -> int:
    """The CN version whose correspondence regroups a trade year (CN 2021 up to 2021)."""
    return 2021 if year <= 2021 else 2022


# -- building blocks ---------------------------------------------------------------------------
def hs6_split_expr(rel: Relations, cn_year: int) -> ir.Table:
    """(hs6, cpa, nace, weight, n_cpa): each HS6 code's CPA codes with the split weight
    ``n_cn8(hs6, cpa) / n_cn8(hs6)`` (module docstring); ``n_cpa`` > 1 marks a split code."""
    m = rel["cn_cpa"]
    m = m.filter(m.cn_year == cn_year)
    per = m.group_by("hs6", "cpa", "nace").agg(n=m.cn8.count())
    tot = per.group_by(t_hs6=per.hs6).agg(n_hs6=per.n.sum(), n_cpa=per.cpa.count())
    j = per.join(tot, per.hs6 == tot.t_hs6)
    return j.select(
        "hs6",
        "cpa",
        "nace",
        weight=j.n.cast("float64") / j.n_hs6.cast("float64"),
        n_cpa=j.n_cpa,
    )


def _groups_table() -> ir.Table:
    return ibis.memtable(process_industry_groups().select(["group", "nace_prefix"]))


def nace_groups_expr(split: ir.Table) -> ir.Table:
    """`split` with ``grp``: the process-industry group of its NACE class, else 'other'."""
    g = _groups_table().rename(g_group="group", g_prefix="nace_prefix")
    j = split.left_join(
        g,
        (split.nace.substr(0, 4) == g.g_prefix) | (split.nace.substr(0, 2) == g.g_prefix),
    )
    return j.select(*split.columns, grp=j.g_group.fill_null(OTHER))


def trade_parts_expr(rel: Relations, *, year: int, flow: str = "export") -> ir.Table:
    """The year's trade rows, each split into its group parts: cn8, hs6, partner, status,
    cpa, nace, grp, weight, split (bool), value_nok (the part), row_value_nok (the row's)."""
    t = rel["ssb_trade"]
    t = t.filter((t.year == year) & (t.flow == flow))
    t = t.select(
        "cn8",
        "partner",
        "status",
        r_hs6=t.cn8.substr(0, 6),
        row_value_nok=t.value_nok,
    )
    split = nace_groups_expr(hs6_split_expr(rel, cn_year_for(year)))
    j = t.left_join(split, t.r_hs6 == split.hs6)
    confidential = j.cn8 == CONFIDENTIAL_CODE
    weight = ibis.cases((confidential | j.weight.isnull(), 1.0), else_=j.weight)
    grp = ibis.cases(
        (confidential, ibis.literal(CONFIDENTIAL)),
        (j.cpa.isnull(), ibis.literal(UNKNOWN)),
        else_=j.grp,
    )
    return j.select(
        "cn8",
        "partner",
        "status",
        hs6=j.r_hs6,
        cpa=ibis.cases((confidential, ibis.null("string")), else_=j.cpa),
        nace=ibis.cases((confidential, ibis.null("string")), else_=j.nace),
        grp=grp,
        weight=weight,
        split=(~confidential & (j.n_cpa.fill_null(1) > 1)),
        value_nok=j.row_value_nok * weight,
        row_value_nok=j.row_value_nok,
    )


def corrections_expr(rel: Relations, *, year: int, flow: str = "export") -> ir.Table:
    """The corrections that apply: the latest per (group, company) of the year and flow."""
    c = rel["industry_corrections"]
    c = c.filter((c.year == year) & (c.flow == flow))
    ranked = c.mutate(
        _latest=ibis.row_number().over(
            group_by=["grp", "company"],
            order_by=[ibis.desc(c.recorded_at), ibis.desc(c.correction_id)],
        )
    )
    return ranked.filter(ranked._latest == 0).drop("_latest")


def _correction_deltas(rel: Relations, *, year: int, flow: str) -> ir.Table:
    """(grp, correction_nok, corrections): what the corrections add to each line (a
    correction from the confidential pool also comes off the confidential line)."""
    c = corrections_expr(rel, year=year, flow=flow)
    added = c.select(
        grp=c.grp,
        delta=c.value_nok,
        who=c.company + ibis.literal(" (") + c.confirmed_on.cast("string") + ibis.literal(")"),
    )
    moved = c.filter(c.from_confidential).select(
        grp=ibis.literal(CONFIDENTIAL),
        delta=-c.value_nok,
        who=c.company + ibis.literal(" (") + c.confirmed_on.cast("string") + ibis.literal(")"),
    )
    u = added.union(moved)
    return u.group_by("grp").agg(
        correction_nok=u.delta.sum(), corrections=u.who.count(), corrected_by=u.who.min()
    )


# -- the table by group ------------------------------------------------------------------------
def by_group_expr(
    rel: Relations, *, year: int, flow: str = "export", corrections: bool = False
) -> ir.Table:
    """One row per line: the five groups, confidential, other, unknown, process_industry
    (the groups' sum, without the confidential line) and total, with ``official_value_nok``,
    ``correction_nok``, ``value_nok`` (the figure used), ``share`` of the total (0–1),
    ``rows``, ``suppressed_rows``, ``split_rows``, ``basis``."""
    parts = trade_parts_expr(rel, year=year, flow=flow)
    lines = parts.group_by("grp").agg(
        official_value_nok=parts.value_nok.sum(),
        rows=parts.cn8.count(),
        suppressed_rows=parts.status.notnull().cast("int64").sum(),
        split_rows=parts.split.cast("int64").sum(),
        codes=parts.cn8.nunique(),
    )
    in_pi = lines.grp.isin(list(GROUPS))
    pi = lines.filter(in_pi).aggregate(
        official_value_nok=lines.official_value_nok.sum(),
        rows=lines.rows.sum(),
        suppressed_rows=lines.suppressed_rows.sum(),
        split_rows=lines.split_rows.sum(),
        codes=lines.codes.sum(),
    )
    total = lines.aggregate(
        official_value_nok=lines.official_value_nok.sum(),
        rows=lines.rows.sum(),
        suppressed_rows=lines.suppressed_rows.sum(),
        split_rows=lines.split_rows.sum(),
        codes=lines.codes.sum(),
    )
    cols = ["grp", "official_value_nok", "rows", "suppressed_rows", "split_rows", "codes"]
    everything = ibis.memtable(
        pa.table({"grp": pa.array([g for g in GROUP_ORDER], pa.string())})
    ).mutate(position=ibis.row_number())
    u = (
        lines.select(cols)
        .union(pi.mutate(grp=ibis.literal(PROCESS_INDUSTRY)).select(cols))
        .union(total.mutate(grp=ibis.literal(TOTAL)).select(cols))
    )
    # every line shows, with NULL value and 0 rows where the year has none
    j = everything.left_join(u, everything.grp == u.grp)
    base = j.select(
        grp=everything.grp,
        position=everything.position,
        official_value_nok=j.official_value_nok,
        rows=j.rows.fill_null(0),
        suppressed_rows=j.suppressed_rows.fill_null(0),
        split_rows=j.split_rows.fill_null(0),
        codes=j.codes.fill_null(0),
    )
    d = _correction_deltas(rel, year=year, flow=flow)
    d_pi = d.filter(d.grp.isin(list(GROUPS))).aggregate(
        correction_nok=d.correction_nok.sum(),
        corrections=d.corrections.sum(),
        corrected_by=d.corrected_by.min(),
    )
    d_total = d.aggregate(
        correction_nok=d.correction_nok.sum(),
        corrections=d.corrections.sum(),
        corrected_by=d.corrected_by.min(),
    )
    dcols = ["grp", "correction_nok", "corrections", "corrected_by"]
    deltas = (
        d.select(dcols)
        .union(d_pi.mutate(grp=ibis.literal(PROCESS_INDUSTRY)).select(dcols))
        .union(d_total.mutate(grp=ibis.literal(TOTAL)).select(dcols))
    ).rename(d_grp="grp")
    k = base.left_join(deltas, base.grp == deltas.d_grp)
    has = k.corrections.fill_null(0) > 0
    correction = k.correction_nok.fill_null(0.0)
    if corrections:
        used = ibis.cases(
            (has, k.official_value_nok.fill_null(0.0) + correction),
            else_=k.official_value_nok,
        )
        basis = ibis.cases(
            (has, ibis.literal("official + company correction: ") + k.corrected_by),
            else_=ibis.literal("official"),
        )
    else:
        used = k.official_value_nok
        basis = ibis.cases(
            (has, ibis.literal("official (a company correction exists: --corrections)")),
            else_=ibis.literal("official"),
        )
    out = k.select(
        group=k.grp,
        position=k.position,
        value_nok=used,
        official_value_nok=k.official_value_nok,
        correction_nok=ibis.cases((has, correction), else_=ibis.null("float64")),
        basis=basis,
        rows=k.rows,
        suppressed_rows=k.suppressed_rows,
        split_rows=k.split_rows,
        codes=k.codes,
    )
    # the total as a window over all lines (a self-join of `out` would mix its two sides)
    t_value = ibis.cases((out.group == TOTAL, out.value_nok), else_=ibis.null("float64"))
    w = out.mutate(_t=t_value.max().over(ibis.window()))
    return w.select(
        *out.columns,
        share=ibis.cases((w._t > 0, w.value_nok / w._t), else_=ibis.null("float64")),
    ).order_by("position")


def hs_chapter_expr(rel: Relations, *, year: int, flow: str = "export") -> ir.Table:
    """The seed's HS-chapter table (l.537–577): per chapter group, all exports
    (``value_nok``, ``share``), the process industry's (``process_industry_value_nok``,
    ``share_of_process_industry``) and its share of the chapter group
    (``process_industry_share``); a last row ``total``. Official figures; the confidential
    code sits in chapter 99 (group 93-99), as SSB publishes it."""
    parts = trade_parts_expr(rel, year=year, flow=flow)
    chapters = ibis.memtable(hs_chapter_groups())
    p = parts.mutate(
        chapter=parts.cn8.substr(0, 2),
        pi_value=ibis.cases(
            (parts.grp.isin(list(GROUPS)), parts.value_nok), else_=ibis.null("float64")
        ),
    )
    j = p.left_join(chapters, p.chapter == chapters.chapter)
    g = j.group_by(
        chapter_group=j.chapter_group.fill_null("??"),
        position=j.position.fill_null(99),
        label_en=j.label_en.fill_null("(no HS chapter)"),
        label_nb=j.label_nb.fill_null("(uten HS-kapittel)"),
    ).agg(value_nok=j.value_nok.sum(), process_industry_value_nok=j.pi_value.sum())
    # every row of the seed's table, also a chapter group with no trade in the year (0 NOK:
    # no row published), then the codes with no HS chapter
    known = chapters.select("chapter_group", "position", "label_en", "label_nb").distinct()
    gk = g.select(k_group=g.chapter_group, k_value=g.value_nok, k_pi=g.process_industry_value_nok)
    filled = known.left_join(gk, known.chapter_group == gk.k_group).select(
        "chapter_group",
        "position",
        "label_en",
        "label_nb",
        value_nok=gk.k_value.fill_null(0.0),
        process_industry_value_nok=gk.k_pi,
    )
    g = filled.cast(g.schema()).union(g.filter(g.chapter_group == "??"))
    tot = g.aggregate(t_value=g.value_nok.sum(), t_pi=g.process_industry_value_nok.sum())
    total_row = tot.select(
        chapter_group=ibis.literal(TOTAL),
        position=ibis.literal(100),
        label_en=ibis.literal("Exports: Norway")
        if flow == "export"
        else ibis.literal("Imports: Norway"),
        label_nb=ibis.literal("Eksportverdi: Norge")
        if flow == "export"
        else ibis.literal("Importverdi: Norge"),
        value_nok=tot.t_value,
        process_industry_value_nok=tot.t_pi,
    )
    u = g.union(total_row.cast(g.schema()))
    w = u.cross_join(tot)
    return w.select(
        "chapter_group",
        "position",
        "label_en",
        "label_nb",
        "value_nok",
        share=ibis.cases((w.t_value > 0, w.value_nok / w.t_value), else_=ibis.null("float64")),
        process_industry_value_nok=w.process_industry_value_nok,
        share_of_process_industry=ibis.cases(
            (w.t_pi > 0, w.process_industry_value_nok / w.t_pi), else_=ibis.null("float64")
        ),
        process_industry_share=ibis.cases(
            (w.value_nok > 0, w.process_industry_value_nok / w.value_nok),
            else_=ibis.null("float64"),
        ),
    ).order_by("position")


def product_groups_expr(rel: Relations, *, year: int, flow: str = "export") -> ir.Table:
    """The named product groups that cross NACE lines (ferro-alloys, nickel-refinery metals,
    aluminium, refined petroleum): ``value_nok``, ``rows``, ``share`` of the total, and the
    NACE groups their codes fall in (``nace_groups``)."""
    parts = trade_parts_expr(rel, year=year, flow=flow)
    pg = ibis.memtable(product_groups().select(["product_group", "hs_prefix", "cpa_prefix"]))
    by_hs = pg.filter(pg.hs_prefix.notnull())
    by_cpa = pg.filter(pg.hs_prefix.isnull())
    a = parts.join(by_hs, parts.hs6.startswith(by_hs.hs_prefix))
    with_cpa = parts.filter(parts.cpa.notnull())
    b = with_cpa.join(by_cpa, with_cpa.cpa.startswith(by_cpa.cpa_prefix))
    cols = ["product_group", "cn8", "grp", "value_nok"]
    u = a.select(cols).union(b.select(cols), distinct=False)
    g = u.group_by("product_group").agg(
        value_nok=u.value_nok.sum(),
        rows=u.cn8.count(),
        nace_groups=u.grp.collect(distinct=True).sort().join(", "),
    )
    total = parts.aggregate(t_value=parts.value_nok.sum())
    w = g.cross_join(total)
    return w.select(
        "product_group",
        "value_nok",
        "rows",
        "nace_groups",
        share=ibis.cases((w.t_value > 0, w.value_nok / w.t_value), else_=ibis.null("float64")),
    ).order_by(ibis.desc("value_nok"), "product_group")


def unknown_codes_expr(rel: Relations, *, year: int, flow: str = "export") -> ir.Table:
    """Commodity codes whose HS6 the year's correspondence does not hold: (cn8, hs6, rows,
    value_nok), largest first; their value stays in the total."""
    parts = trade_parts_expr(rel, year=year, flow=flow)
    u = parts.filter(parts.grp == UNKNOWN)
    return (
        u.group_by("cn8", "hs6")
        .agg(rows=u.cn8.count(), value_nok=u.value_nok.sum())
        .order_by([ibis.desc("value_nok"), "cn8"])
    )


def split_rows_expr(rel: Relations, *, year: int, flow: str = "export") -> ir.Table:
    """The split HS6 codes of the year: (hs6, cpa, nace, grp, weight, rows, value_nok)."""
    parts = trade_parts_expr(rel, year=year, flow=flow)
    s = parts.filter(parts.split)
    return (
        s.group_by("hs6", "cpa", "nace", "grp", "weight")
        .agg(rows=s.cn8.count(), value_nok=s.value_nok.sum())
        .order_by(["hs6", "cpa"])
    )


# -- runners -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndustryTrade:
    """The exports (or imports) by industry of one year, with what the report needs."""

    year: int
    flow: str
    corrections: bool
    groups: pa.Table
    chapters: pa.Table
    products: pa.Table
    unknown: pa.Table
    split: pa.Table
    notes: tuple[str, ...]


def _currency(table: pa.Table, year: int, columns: Sequence[str]) -> tuple[pa.Table, list[str]]:
    notes: list[str] = []
    for cur in ("EUR", "USD"):
        nok = rate(year, cur, "NOK")
        if nok is None:
            notes.append(
                f"no Norges Bank NOK/{cur} rate for {year} in the rate table: value_{cur.lower()} "
                "is empty"
            )
        for col in columns:
            values = table.column(col)
            converted = (
                pa.nulls(len(values), pa.float64())
                if nok is None
                else pa.compute.divide(values.cast(pa.float64()), nok)
            )
            name = col.replace("_nok", f"_{cur.lower()}")
            table = table.append_column(name, converted)
    return table, notes


def industry_trade(
    engine: Engine,
    *,
    year: int,
    flow: str = "export",
    corrections: bool = False,
) -> IndustryTrade:
    """Run the expressions of one year: groups, HS chapters, product groups, unknown codes,
    split codes; EUR and USD columns; notes for the known gaps."""
    import pyarrow.compute  # noqa: F401  (pa.compute)

    from verdikart.errors import UnknownCodeError

    if flow not in FLOWS:
        raise UnknownCodeError(f"unknown flow {flow!r}; flows: {', '.join(FLOWS)}")
    rel = engine.relations()
    t = rel["ssb_trade"]
    years = sorted(
        int(r["year"])
        for r in engine.rows(t.filter(t.flow == flow).select("year").distinct())
        if r["year"] is not None
    )
    if year not in years:
        have = ", ".join(map(str, years)) or "none"
        raise UnknownCodeError(
            f"no SSB {flow}s for {year} in the store (years: {have}); import table 08801 "
            "with `verdikart data import ssb FILE` (bulk CSV) or `ssb-jsonstat FILE`"
        )
    groups = engine.to_arrow(by_group_expr(rel, year=year, flow=flow, corrections=corrections))
    labels = group_labels()
    extra = {
        CONFIDENTIAL: (
            "Confidential commodity codes (SSB code 99999999)",
            "Varenumre med restriksjoner ved publisering (99999999)",
        ),
        PROCESS_INDUSTRY: ("Process industry, sum of the groups", "Prosessindustrien, sum"),
        OTHER: ("Other industries", "Andre næringer"),
        UNKNOWN: ("Commodity codes not in the correspondence", "Varenumre uten korrespondanse"),
        TOTAL: ("All goods", "Alle varer"),
    }
    names = [labels.get(g) or extra[g] for g in groups.column("group").to_pylist()]
    groups = groups.append_column("label_en", pa.array([n[0] for n in names], pa.string()))
    groups = groups.append_column("label_nb", pa.array([n[1] for n in names], pa.string()))
    groups = groups.append_column("year", pa.array([year] * groups.num_rows, pa.int16()))
    groups = groups.append_column("flow", pa.array([flow] * groups.num_rows, pa.string()))
    groups, notes = _currency(groups, year, ["value_nok"])
    chapters = engine.to_arrow(hs_chapter_expr(rel, year=year, flow=flow))
    products = engine.to_arrow(product_groups_expr(rel, year=year, flow=flow))
    unknown = engine.to_arrow(unknown_codes_expr(rel, year=year, flow=flow))
    split = engine.to_arrow(split_rows_expr(rel, year=year, flow=flow))
    notes += _notes(groups, unknown, split, corrections)
    return IndustryTrade(
        year, flow, corrections, groups, chapters, products, unknown, split, tuple(notes)
    )


def _notes(groups: pa.Table, unknown: pa.Table, split: pa.Table, corrections: bool) -> list[str]:
    notes: list[str] = []
    by = {r["group"]: r for r in groups.to_pylist()}
    if unknown.num_rows:
        rows = sum(int(r) for r in unknown.column("rows").to_pylist())
        shown = ", ".join(
            f"{r['cn8']} ({r['rows']} rows)" for r in unknown.slice(0, 10).to_pylist()
        )
        notes.append(
            f"{unknown.num_rows} commodity code(s) in {rows} row(s) not in the year's CN->CPA "
            f"correspondence (kept in the total, line 'unknown'): {shown}"
        )
    if split.num_rows:
        codes = len(set(split.column("hs6").to_pylist()))
        notes.append(
            f"{codes} HS6 code(s) split over several CPA codes in proportion to their CN8 "
            "subheadings (see the split table)"
        )
    suppressed = int(by.get(TOTAL, {}).get("suppressed_rows") or 0)
    if suppressed:
        notes.append(
            f"{suppressed} suppressed row(s) (SSB status ':' or '..') have no figure and are "
            "not in the sums (never counted as 0)"
        )
    conf = by.get(CONFIDENTIAL, {})
    if conf.get("official_value_nok"):
        notes.append(
            "code 99999999 pools every commodity with restricted publication (incl. mineral "
            "fertiliser; Prosess21 status report 2024): its own line, outside the process-industry sum"
        )
    if any(r.get("correction_nok") is not None for r in by.values()) and not corrections:
        notes.append("company corrections exist for this year: shown with --corrections")
    return notes


def rows_with_labels(table: pa.Table, lang: str) -> list[dict[str, Any]]:
    """Rows with one ``label`` in the language asked (nb or en)."""
    out = []
    for r in table.to_pylist():
        row = {k: v for k, v in r.items() if k not in ("label_en", "label_nb", "position")}
        row["label"] = r.get("label_nb" if lang == "nb" else "label_en")
        out.append(row)
    return out


# -- company corrections -----------------------------------------------------------------------
def record_correction(
    store: Any,
    *,
    year: int,
    group: str,
    value_nok: float,
    company: str,
    confirmed_on: str,
    reference: str,
    flow: str = "export",
    from_confidential: bool = False,
    note: str | None = None,
    recorded_by: str | None = None,
) -> dict[str, Any]:
    """Append one company-confirmed figure to ``industry_corrections`` (never edits a row):
    attributed (`company`, `reference`), dated (`confirmed_on`, recorded time and user).
    Returns the stored row. Bad input is a DataValidationError listing every problem."""
    import datetime as dt
    import getpass

    from verdikart.errors import DataValidationError
    from verdikart.schema import INDUSTRY_CORRECTIONS
    from verdikart.store import arrow_loader

    problems: list[str] = []
    allowed = (*GROUPS, CONFIDENTIAL)
    if group not in allowed:
        problems.append(f"group {group!r} is not one of {', '.join(allowed)}")
    if flow not in FLOWS:
        problems.append(f"flow {flow!r} is not one of {', '.join(FLOWS)}")
    if not (value_nok >= 0):
        problems.append(f"value_nok {value_nok!r} is not a non-negative number of NOK")
    if not company.strip():
        problems.append("company is empty: a correction must say who confirmed it")
    if not reference.strip():
        problems.append("reference is empty: say where the figure is documented")
    if from_confidential and group == CONFIDENTIAL:
        problems.append("a correction of the confidential line cannot come from it")
    try:
        confirmed = dt.date.fromisoformat(confirmed_on)
        if confirmed > dt.date.today():
            problems.append(f"confirmed_on {confirmed_on} is in the future")
    except ValueError:
        problems.append(f"confirmed_on {confirmed_on!r} is not a date (YYYY-MM-DD)")
        confirmed = None
    if problems:
        raise DataValidationError(problems, source="industry correction")
    rel = store.engine().relations()
    c = rel["industry_corrections"]
    last = store.engine().rows(c.aggregate(n=c.correction_id.max()))
    next_id = int(last[0]["n"] or 0) + 1 if last else 1
    row = {
        "correction_id": next_id,
        "year": year,
        "flow": flow,
        "grp": group,
        "value_nok": float(value_nok),
        "from_confidential": from_confidential,
        "company": company.strip(),
        "confirmed_on": confirmed,
        "reference": reference.strip(),
        "note": note,
        "recorded_by": recorded_by or getpass.getuser(),
        "recorded_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": f"company correction: {company.strip()}",
    }
    table = pa.Table.from_pylist([row])
    store.import_rows(
        "industry_corrections",
        arrow_loader(table, INDUSTRY_CORRECTIONS),
        source=row["source"],
        replace_coverage=False,
    )
    return row


def list_corrections(engine: Engine, *, year: int | None = None) -> list[dict[str, Any]]:
    """Every stored correction (the audit trail), oldest first, with ``applies`` = whether it
    is the latest of its year, flow, group and company."""
    rel = engine.relations()
    c = rel["industry_corrections"]
    if year is not None:
        c = c.filter(c.year == year)
    latest = c.mutate(
        _rank=ibis.row_number().over(
            group_by=["year", "flow", "grp", "company"],
            order_by=[ibis.desc(c.recorded_at), ibis.desc(c.correction_id)],
        )
    )
    out = latest.select(
        *[col for col in c.columns if col != "source"], applies=latest._rank == 0
    ).order_by("correction_id")
    return engine.rows(out.rename(group="grp"))
