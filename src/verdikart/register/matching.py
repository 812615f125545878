"""Matchmaking between needs and capability profiles (issue #12), set-based in SQL (SQLAlchemy
Core, the same statement on SQLite and PostgreSQL): one need against every profile, or one
profile against every need.

**Code similarity** of a need code n and a profile code p of the same scheme, from k, the length
of their common prefix, and each code's significant length (a CPV code without its trailing
zeros, at least 2 -- the CPV levels division/group/class/category are coded by trailing zeros,
Commission Regulation (EC) No 213/2008, Annex I; NACE Rev. 2 / SN2007/SN2025 and HS/CN codes are
hierarchical by prefix):

- 1.0 when one code is the other or lies under it (k reaches either significant length);
- CPV: same category (k >= 5) 0.8, class (4) 0.6, group (3) 0.4, division (2) 0.2;
- NACE ('24.45'): same class (k >= 5) 0.75, group ('24.4', 4) 0.5, division (2) 0.25;
- HS/CN: same subheading (6) 0.75, heading (4) 0.5, chapter (2) 0.25.

A profile is a candidate when it shares at least a division/chapter with a need code (so every
candidate has a code score > 0). The **code score** is the weighted mean over the need's codes
of the best similarity any profile code reaches (main code weight 2, others 1).

**Score** = sum(weight x component) / sum(weight) over the components that apply:

| component | weight | tier | applies when |
|---|---|---|---|
| codes | 4 | public | always |
| region: the supplier's county (its Enhetsregisteret municipality) is the need's | 1 | public | the need has a region |
| certifications: share of the required ones the supplier holds valid on the need's deadline (today if none) | 2 | confidential | the need requires any |
| lead time: the supplier's lead time is at most the need's maximum | 1 | confidential | the need sets a maximum |
| clearance: the supplier's level is at least the need's | 2 | confidential | the need sets a level |

**Tiers.** Confidential components apply only for a viewer who may read the profile's details
(its own organisation, or a buyer the supplier shares with); for every other viewer they are
left out of both sums, so that viewer's score, rank, count and explanation are computed from
public fields only and are the same whatever the supplier's confidential data. `match_need`
ranks in two passes: the profiles the viewer may not read, from public tables only (the
confidential index is not in that statement at all), and the few it may read, with their
confidential components; the two are merged by score.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from verdikart.exchange.models import Organisation
from verdikart.register.models import (
    CapabilityProfile,
    Need,
    NeedCertification,
    NeedCode,
    ProfileCertification,
    ProfileCode,
    ProfilePrivate,
    ProfileShare,
    RegisterUnit,
)
from verdikart.register.needs import CLEARANCE_LEVELS, clearance_rank

W_CODES, W_REGION, W_CERTS, W_LEAD, W_CLEARANCE = 4.0, 1.0, 2.0, 1.0, 2.0
LEVELS = {
    "cpv": ((5, 0.8), (4, 0.6), (3, 0.4), (2, 0.2)),
    "nace": ((5, 0.75), (4, 0.5), (2, 0.25)),
    "hs": ((6, 0.75), (4, 0.5), (2, 0.25)),
}
LEVEL_NAMES = {
    "cpv": {0.8: ("samme kategori", "same category"), 0.6: ("samme klasse", "same class"),
            0.4: ("samme gruppe", "same group"), 0.2: ("samme divisjon", "same division")},
    "nace": {0.75: ("samme næringsklasse", "same class"), 0.5: ("samme gruppe", "same group"),
             0.25: ("samme næringshovedgruppe", "same division")},
    "hs": {0.75: ("samme underposisjon", "same subheading"),
           0.5: ("samme posisjon", "same heading"), 0.25: ("samme kapittel", "same chapter")},
}  # fmt: skip


def similarity(scheme: str, need_code: str, profile_code: str) -> float:
    """The similarity of two stored codes of one scheme, as defined above (the reference the
    SQL expansion `expand` is tested against)."""
    if scheme not in LEVELS:
        return 1.0 if need_code == profile_code else 0.0
    k = 0
    for a, b in zip(need_code, profile_code, strict=False):
        if a != b:
            break
        k += 1

    def sig(code: str) -> int:
        return max(2, len(code.rstrip("0"))) if scheme == "cpv" else len(code)

    if k >= sig(need_code) or k >= sig(profile_code):
        return 1.0
    return next((value for n, value in LEVELS[scheme] if k >= n), 0.0)


def expand(scheme: str, code: str) -> list[tuple[str, str, str, float]]:
    """(prefix, lo, hi, score): every other code x of `scheme` that starts with `prefix` has
    at least `score` similarity with `code`, and the best such score is `similarity`. `lo`..`hi`
    bound the codes starting with `prefix` (an index range, in any collation: codes are digits
    and dots)."""

    def starts(prefix: str, score: float) -> tuple[str, str, str, float]:
        return prefix, prefix, prefix + "9" * (10 - len(prefix)), score

    def exactly(value: str) -> tuple[str, str, str, float]:
        return value, value, value, 1.0

    if scheme not in LEVELS:
        return [exactly(code)]
    if scheme == "cpv":
        sig = max(2, len(code.rstrip("0")))
        rows = [starts(code[:sig], 1.0)]
        rows += [exactly(code[:j] + "0" * (8 - j)) for j in range(2, sig)]  # codes above it
    else:
        sig = len(code)
        rows = [starts(code, 1.0)]
        cuts = (2, 4, 5) if scheme == "nace" else (2, 4, 6)  # '24', '24.4', '24.45'; HS levels
        rows += [exactly(code[:j]) for j in cuts if j < sig]
    rows += [starts(code[:n], value) for n, value in LEVELS[scheme] if n < sig]
    return rows


def _expansion(codes: Sequence[tuple[str, str, float]]) -> Any:
    """The expansions of (scheme, code, weight) as rows of a derived table (bound literals)."""
    selects = [
        select(
            literal(scheme).label("scheme"),
            literal(code).label("src_code"),
            literal(weight).label("w"),
            literal(prefix).label("prefix"),
            literal(len(prefix)).label("plen"),
            literal(lo).label("lo"),
            literal(hi).label("hi"),
            literal(score).label("score"),
        )
        for scheme, code, weight in codes
        for prefix, lo, hi, score in expand(scheme, code)
    ]
    return union_all(*selects).subquery("ex")


def _matched(ex: Any, target: Any) -> Any:
    """The join condition of expansion rows with a table of (scheme, code)."""
    return and_(
        target.c.scheme == ex.c.scheme,
        target.c.code >= ex.c.lo,  # the range lets the (scheme, code) index work
        target.c.code <= ex.c.hi,
        func.substr(target.c.code, 1, ex.c.plen) == ex.c.prefix,
    )


def _score_of(code_col: Any, scheme: str, code: str) -> ColumnElement[float]:
    """The similarity of `code_col` (a code of the same scheme and division) with `code`, as one
    CASE over `expand`'s rules, finest first."""
    rules = sorted(expand(scheme, code), key=lambda r: (-r[3], -len(r[0])))
    whens: list[tuple[Any, float]] = []
    for prefix, lo, hi, score in rules:
        if lo == hi:
            whens.append((code_col == prefix, score))
        else:
            whens.append((func.substr(code_col, 1, len(prefix)) == prefix, score))
    return case(*whens, else_=0.0)


def _profile_scores(need_codes: Sequence[tuple[str, str, bool]], only: Any = None) -> Any:
    """Per profile: the weighted mean over the need's codes of the best similarity. One join row
    per (need code, profile code of the same division); one GROUP BY profile."""
    weighted = [(s, c, 2.0 if main else 1.0) for s, c, main in need_codes]
    total = sum(w for _s, _c, w in weighted)
    ex = union_all(
        *[
            select(
                literal(i).label("src"),
                literal(s).label("scheme"),
                literal(c[:2]).label("prefix"),
                literal(c[:2]).label("lo"),
                literal(c[:2] + "9" * 8).label("hi"),
            )
            for i, (s, c, _w) in enumerate(weighted)
        ]
    ).subquery("ex")
    pc = ProfileCode.__table__
    sim = case(
        *[(ex.c.src == i, _score_of(pc.c.code, s, c)) for i, (s, c, _w) in enumerate(weighted)],
        else_=0.0,
    )
    joined = (
        select(pc.c.profile_id, ex.c.src, sim.label("sim"))
        .select_from(
            ex.join(
                pc,
                and_(
                    pc.c.scheme == ex.c.scheme,
                    pc.c.code >= ex.c.lo,
                    pc.c.code <= ex.c.hi,
                    func.substr(pc.c.code, 1, 2) == ex.c.prefix,
                ),
            )
        )
        .where(true() if only is None else pc.c.profile_id.in_(only))
        .subquery()
    )
    got = sum(
        (
            w * func.coalesce(func.max(case((joined.c.src == i, joined.c.sim))), 0.0)
            for i, (_s, _c, w) in enumerate(weighted)
        ),
        start=literal(0.0),
    )
    return (
        select(joined.c.profile_id, (got / total).label("code_score"))
        .group_by(joined.c.profile_id)
        .subquery()
    )


def _need_scores(profile_codes: Sequence[tuple[str, str]]) -> Any:
    """Per need: the weighted mean over the need's codes of the best similarity any of the
    profile's codes reaches (weights: main 2, others 1)."""
    ex = _expansion([(s, c, 1.0) for s, c in profile_codes])
    nc = NeedCode.__table__
    best = (
        select(nc.c.need_id, nc.c.main, func.max(ex.c.score).label("best"))
        .select_from(ex.join(nc, _matched(ex, nc)))
        .group_by(nc.c.need_id, nc.c.scheme, nc.c.code, nc.c.main)
        .subquery()
    )
    weight = case((best.c.main, 2.0), else_=1.0)
    sums = (
        select(best.c.need_id, func.sum(weight * best.c.best).label("got"))
        .group_by(best.c.need_id)
        .subquery()
    )
    totals = (
        select(nc.c.need_id, func.sum(case((nc.c.main, 2.0), else_=1.0)).label("w"))
        .where(nc.c.need_id.in_(select(sums.c.need_id)))
        .group_by(nc.c.need_id)
        .subquery()
    )
    return (
        select(sums.c.need_id, (sums.c.got / totals.c.w).label("code_score"))
        .join(totals, totals.c.need_id == sums.c.need_id)
        .subquery()
    )


def _best_pairs(
    need_codes: Sequence[tuple[str, str, bool]], profile_codes: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """For each need code: the profile code that matches it best (explanations of the rows
    shown only)."""
    out: list[dict[str, Any]] = []
    for scheme, need_code, main in need_codes:
        scored = [
            (similarity(scheme, need_code, code), code) for s, code in profile_codes if s == scheme
        ]
        scored = [(sim, code) for sim, code in scored if sim > 0]
        if scored:
            sim, code = min(scored, key=lambda t: (-t[0], t[1]))
            out.append({"scheme": scheme, "need_code": need_code, "main": main,
                        "profile_code": code, "sim": sim})  # fmt: skip
    out.sort(key=lambda p: (not p["main"], -p["sim"], p["need_code"]))
    return out


def _codes_by(
    session: Session, column: Any, ids: Sequence[str], *cols: Any
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {i: [] for i in ids}
    if ids:
        for row in session.execute(select(column, *cols).where(column.in_(ids))):
            out[row[0]].append(tuple(row[1:]))
    return out


def _access_ids(viewer_org_id: str | None) -> Any:
    """Profiles whose details the viewer may read: its own and those shared with it."""
    if viewer_org_id is None:
        return select(CapabilityProfile.id.label("profile_id")).where(false()).subquery()
    return union(
        select(CapabilityProfile.id.label("profile_id")).where(
            CapabilityProfile.organisation_id == viewer_org_id
        ),
        select(ProfileShare.profile_id).where(
            ProfileShare.buyer_org_id == viewer_org_id, ProfileShare.revoked_at.is_(None)
        ),
    ).subquery()


def _rank_expr(level: Any) -> ColumnElement[Any]:
    return case(*[(level == name, i + 1) for i, name in enumerate(CLEARANCE_LEVELS)], else_=None)


def _f(value: Any) -> ColumnElement[float]:
    return cast(value, Float)


def match_need(
    session: Session, need: Need, viewer_org_id: str | None, *, today: date, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Profiles ranked for `need` as `viewer_org_id` may see them; (rows, candidates).

    Two set-based passes: the candidates whose details the viewer may not read, ranked by
    their public score (top `limit` only), and the few it may read (its own profile, those
    shared with it), scored with their confidential components; then merged."""
    need_codes = [
        (s, c, bool(m))
        for s, c, m in session.execute(
            select(NeedCode.scheme, NeedCode.code, NeedCode.main).where(NeedCode.need_id == need.id)
        )
    ]
    if not need_codes:
        return [], 0
    access = _access_ids(viewer_org_id)
    readable = select(access.c.profile_id)
    required = list(need.required_certifications or [])
    on_day = need.deadline or today
    need_rank = clearance_rank(need.clearance_level)
    p, unit, priv = CapabilityProfile, RegisterUnit, ProfilePrivate
    region_ok = (
        _f(case((func.substr(unit.municipality, 1, 2) == need.region, 1.0), else_=0.0))
        if need.region
        else None
    )
    den_public = W_CODES + (W_REGION if region_ok is not None else 0.0)

    def public_num(scores: Any) -> Any:
        num: Any = W_CODES * scores.c.code_score
        return num + W_REGION * region_ok if region_ok is not None else num

    def ranked(scores: Any, score: Any, access_flag: bool) -> Any:
        query = (
            select(
                p.id.label("id"),
                p.organisation_number,
                scores.c.code_score,
                literal(access_flag).label("access"),
                score.label("score"),
                (unit.municipality if region_ok is not None else literal(None)).label(
                    "municipality"
                ),
                func.count().over().label("total"),
            )
            .select_from(scores)
            .join(p, p.id == scores.c.profile_id)
        )
        if region_ok is not None:
            query = query.outerjoin(unit, unit.organisation_number == p.organisation_number)
        return query

    # 1. the viewer cannot read these profiles' details: public fields only, top `limit`
    public = _profile_scores(need_codes)
    public_score = public_num(public) / den_public
    query = (
        ranked(public, public_score, False)
        .where(public.c.profile_id.not_in(readable))
        .order_by(public_score.desc(), p.organisation_number, p.id)
        .limit(limit)
    )
    rows = [dict(r) for r in session.execute(query).mappings()]
    total = int(rows[0]["total"]) if rows else 0
    # 2. the viewer may read these (few): confidential components too
    if viewer_org_id is not None:
        mine = _profile_scores(need_codes, only=readable)
        num: Any = public_num(mine)
        den = den_public
        query = ranked(mine, literal(0.0), True)
        if required:
            held = (
                select(ProfileCertification.profile_id, func.count().label("n"))
                .where(
                    ProfileCertification.profile_id.in_(readable),
                    ProfileCertification.standard.in_(required),
                    ProfileCertification.valid_until >= on_day,
                )
                .group_by(ProfileCertification.profile_id)
                .subquery()
            )
            query = query.outerjoin(held, held.c.profile_id == p.id)
            num = num + W_CERTS * _f(func.coalesce(held.c.n, 0)) / len(required)
            den += W_CERTS
        if need.max_lead_time_weeks is not None or need_rank is not None:
            query = query.outerjoin(priv, priv.profile_id == p.id)
        if need.max_lead_time_weeks is not None:
            lead_ok = case((priv.lead_time_weeks <= need.max_lead_time_weeks, 1.0), else_=0.0)
            num = num + W_LEAD * lead_ok
            den += W_LEAD
        if need_rank is not None:
            num = num + W_CLEARANCE * case((priv.clearance_rank >= need_rank, 1.0), else_=0.0)
            den += W_CLEARANCE
        query = query.with_only_columns(
            *[c for c in query.selected_columns if c.name != "score"], (num / den).label("score")
        )
        readable_rows = [dict(r) for r in session.execute(query).mappings()]
        total += len(readable_rows)
        rows += readable_rows
    rows.sort(key=lambda r: (-float(r["score"]), r["organisation_number"] or "", r["id"]))
    rows = rows[:limit]
    ids = [r["id"] for r in rows]
    shown = {
        pid: (summary, name)
        for pid, summary, name in session.execute(
            select(p.id, p.summary, Organisation.name)
            .join(Organisation, Organisation.id == p.organisation_id)
            .where(p.id.in_(ids))
        )
    }
    for r in rows:
        r["summary"], r["organisation"] = shown[r["id"]]
    codes = _codes_by(session, ProfileCode.profile_id, ids, ProfileCode.scheme, ProfileCode.code)
    private = _private_of(session, [r["id"] for r in rows if r["access"]], required, on_day)
    out = []
    for r in rows:
        pairs = _best_pairs(need_codes, codes[r["id"]])
        out.append(
            _match_out(
                need, r, pairs, private.get(r["id"]) if r["access"] else None, required, on_day
            )
        )
    return out, total


def _private_of(
    session: Session, profile_ids: Sequence[str], required: Sequence[str], on_day: date
) -> dict[str, dict[str, Any]]:
    """The confidential index of profiles the viewer may read (called with those ids only)."""
    out: dict[str, dict[str, Any]] = {
        pid: {"certs": {}, "lead": None, "rank": None} for pid in profile_ids
    }
    if not profile_ids:
        return out
    for pid, lead, rank in session.execute(
        select(ProfilePrivate.profile_id, ProfilePrivate.lead_time_weeks,
               ProfilePrivate.clearance_rank).where(ProfilePrivate.profile_id.in_(profile_ids))
    ):  # fmt: skip
        out[pid]["lead"], out[pid]["rank"] = lead, rank
    for pid, standard, until in session.execute(
        select(ProfileCertification.profile_id, ProfileCertification.standard,
               ProfileCertification.valid_until)
        .where(ProfileCertification.profile_id.in_(profile_ids))
    ):  # fmt: skip
        out[pid]["certs"][standard] = until
    return out


def _code_text(pair: dict[str, Any]) -> tuple[str, str]:
    scheme, need_code, code, sim = (
        pair["scheme"], pair["need_code"], pair["profile_code"], float(pair["sim"])
    )  # fmt: skip
    label = scheme.upper()
    main = (" (hovedkode)", " (main code)") if pair["main"] else ("", "")
    if sim >= 1.0:
        if code == need_code:
            return (
                f"{label} {need_code}{main[0]}: tilbys",
                f"{label} {need_code}{main[1]}: offered",
            )
        return (
            f"{label} {need_code}{main[0]}: dekket av {code}",
            f"{label} {need_code}{main[1]}: covered by {code}",
        )
    nb, en = LEVEL_NAMES[scheme][round(sim, 2)]
    sim_nb = format(sim, ".2f").replace(".", ",")  # bokmål's decimal comma
    return (
        f"{label} {need_code}{main[0]}: {code} i {nb} ({sim_nb})",
        f"{label} {need_code}{main[1]}: {code} in the {en} ({sim:.2f})",
    )


def _match_out(
    need: Need,
    row: Any,
    pairs: list[dict[str, Any]],
    private: dict[str, Any] | None,
    required: Sequence[str],
    on_day: date,
) -> dict[str, Any]:
    """One match as a viewer may see it: public summary, score, components, explanation."""
    components, explanation = _explain(
        need, row["code_score"], row["municipality"], pairs, private, required, on_day
    )
    return {
        "profile_id": row["id"],
        "organisation": row["organisation"],
        "organisation_number": row["organisation_number"],
        "summary": row["summary"],
        "score": round(float(row["score"]), 4),
        "access": "details" if private is not None else "public",
        "components": components,
        "explanation": explanation,
    }


def _explain(
    need: Need,
    code_score: float,
    municipality: str | None,
    pairs: list[dict[str, Any]],
    private: dict[str, Any] | None,
    required: Sequence[str],
    on_day: date,
) -> tuple[dict[str, float], dict[str, str]]:
    """(components, {'nb': ..., 'en': ...}); confidential parts only when `private` is given."""
    nb: list[str] = []
    en: list[str] = []
    for pair in pairs:
        a, b = _code_text(pair)
        nb.append(a)
        en.append(b)
    components: dict[str, float] = {"codes": round(float(code_score), 4)}
    if need.region:
        county = (municipality or "")[:2]
        same = county == need.region
        components["region"] = 1.0 if same else 0.0
        nb.append(
            f"fylke {need.region}: "
            + ("samme fylke" if same else f"leverandøren i {county or 'ukjent'}")
        )
        en.append(
            f"county {need.region}: "
            + ("same county" if same else f"supplier in {county or 'unknown'}")
        )
    if private is None:
        if required or need.max_lead_time_weeks is not None or need.clearance_level:
            nb.append("detaljer ikke delt: sertifiseringer, leveringstid og klarering ikke vurdert")
            en.append("details not shared: certifications, lead time and clearance not assessed")
    else:
        if required:
            valid = [s for s in required if (d := private["certs"].get(s)) and d >= on_day]
            missing = [s for s in required if s not in valid]
            components["certifications"] = round(len(valid) / len(required), 4)
            day = on_day.isoformat()
            nb.append(f"sertifiseringer gyldige {day}: {', '.join(valid) or 'ingen'}"
                      + (f"; mangler {', '.join(missing)}" if missing else ""))  # fmt: skip
            en.append(f"certifications valid on {day}: {', '.join(valid) or 'none'}"
                      + (f"; missing {', '.join(missing)}" if missing else ""))  # fmt: skip
        if need.max_lead_time_weeks is not None:
            lead = private["lead"]
            ok = lead is not None and lead <= need.max_lead_time_weeks
            components["lead_time"] = 1.0 if ok else 0.0
            shown = f"{lead}" if lead is not None else "?"
            nb.append(f"leveringstid {shown} uker (høyst {need.max_lead_time_weeks})")
            en.append(f"lead time {shown} weeks (at most {need.max_lead_time_weeks})")
        if need.clearance_level:
            rank = private["rank"]
            need_rank = clearance_rank(need.clearance_level) or 0
            ok = rank is not None and rank >= need_rank
            components["clearance"] = 1.0 if ok else 0.0
            nb.append(f"klarering {need.clearance_level}: " + ("oppfylt" if ok else "ikke oppfylt"))
            en.append(f"clearance {need.clearance_level}: " + ("met" if ok else "not met"))
    return components, {"nb": "; ".join(nb), "en": "; ".join(en)}


def match_profile(
    session: Session, profile: CapabilityProfile, *, today: date, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Needs ranked for `profile`, seen by its own organisation (all components apply)."""
    profile_codes = [
        (sc, c)
        for sc, c in session.execute(
            select(ProfileCode.scheme, ProfileCode.code).where(ProfileCode.profile_id == profile.id)
        )
    ]
    if not profile_codes:
        return [], 0
    scores = _need_scores(profile_codes)
    municipality = None
    if profile.organisation_number:
        municipality = session.scalar(
            select(RegisterUnit.municipality).where(
                RegisterUnit.organisation_number == profile.organisation_number
            )
        )
    county = (municipality or "")[:2]
    private = _private_of(session, [profile.id], [], today)[profile.id]
    n = Need
    required = (
        select(NeedCertification.need_id, func.count().label("r"))
        .group_by(NeedCertification.need_id)
        .subquery()
    )
    held = (
        select(NeedCertification.need_id, func.count().label("h"))
        .join(n, n.id == NeedCertification.need_id)
        .join(
            ProfileCertification,
            and_(
                ProfileCertification.standard == NeedCertification.standard,
                ProfileCertification.profile_id == profile.id,
                ProfileCertification.valid_until >= func.coalesce(n.deadline, today),
            ),
        )
        .group_by(NeedCertification.need_id)
        .subquery()
    )
    lead, rank = private["lead"], private["rank"]
    has_region = n.region.is_not(None)
    has_certs = func.coalesce(required.c.r, 0) > 0
    has_lead = n.max_lead_time_weeks.is_not(None)
    has_clr = n.clearance_level.is_not(None)
    region_ok = case((n.region == county, 1.0), else_=0.0)
    certs_ok = _f(func.coalesce(held.c.h, 0)) / _f(func.coalesce(required.c.r, 1))
    lead_ok = (
        case((n.max_lead_time_weeks >= lead, 1.0), else_=0.0) if lead is not None else literal(0.0)
    )
    clr_ok = (
        case((_rank_expr(n.clearance_level) <= rank, 1.0), else_=0.0)
        if rank is not None
        else literal(0.0)
    )
    num = (
        W_CODES * scores.c.code_score
        + case((has_region, W_REGION * region_ok), else_=0.0)
        + case((has_certs, W_CERTS * certs_ok), else_=0.0)
        + case((has_lead, W_LEAD * lead_ok), else_=0.0)
        + case((has_clr, W_CLEARANCE * clr_ok), else_=0.0)
    )
    den = (
        W_CODES
        + case((has_region, W_REGION), else_=0.0)
        + case((has_certs, W_CERTS), else_=0.0)
        + case((has_lead, W_LEAD), else_=0.0)
        + case((has_clr, W_CLEARANCE), else_=0.0)
    )
    score = num / den
    query = (
        select(n.id, scores.c.code_score, score.label("score"), func.count().over().label("total"))
        .select_from(scores)
        .join(n, n.id == scores.c.need_id)
        .outerjoin(required, required.c.need_id == n.id)
        .outerjoin(held, held.c.need_id == n.id)
        .order_by(score.desc(), n.deadline, n.id)
        .limit(limit)
    )
    rows = session.execute(query).all()
    total = rows[0].total if rows else 0
    ids = [r.id for r in rows]
    needs = {x.id: x for x in session.scalars(select(Need).where(Need.id.in_(ids)))}
    codes = _codes_by(session, NeedCode.need_id, ids, NeedCode.scheme, NeedCode.code, NeedCode.main)
    today_of = {i: (needs[i].deadline or today) for i in ids}
    out = []
    for r in rows:
        need = needs[r.id]
        components, explanation = _explain(
            need,
            r.code_score,
            municipality,
            _best_pairs([(a, b, bool(c)) for a, b, c in codes[r.id]], profile_codes),
            private,
            list(need.required_certifications or []),
            today_of[r.id],
        )
        out.append(
            {
                "need_id": need.id,
                "title": need.title,
                "buyer": need.buyer_name,
                "deadline": need.deadline.isoformat() if need.deadline else None,
                "score": round(float(r.score), 4),
                "components": components,
                "explanation": explanation,
            }
        )
    return out, int(total)
