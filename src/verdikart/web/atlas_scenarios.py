"""The atlas's scenario and watch pages (issue 11): `/scenarios` runs a disruption scenario
from a form (a shipped scenario and/or one shock) and shows its result, re-sourcing and
knock-on effects; `/watch` shows the current early-warning alerts with their evidence, and
those new since a date.

Both call the application core's use cases (:meth:`verdikart.app.Verdikart.scenario`,
:meth:`verdikart.app.Verdikart.watch`), the same the CLI's `scenario run` and `watch` call.
The state is in the query string (a result's URL can be shared); a parameter that cannot be
used is a 422 page naming it, never a 500. Only shipped scenarios are offered: a scenario
value is checked against their ids before the core sees it (the core also accepts a file
path, which a web request must never name).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from verdikart.errors import UnknownCodeError
from verdikart.web.atlas import (
    BadQueryError,
    _check_format,
    _core,
    _country_name,
    _download,
    _material_name,
    _page,
    _render,
    _year,
)
from verdikart.web.atlas_tables import Table, distinct
from verdikart.web.atlas_text import text

router = APIRouter(include_in_schema=False)
BASES = ("value", "quantity")
MAX_TEXT = 100  # any free-text parameter (supplier, importer) longer than this is refused
# the downloads' columns (the core's names; ScenarioResult rows, knock-on rows, watch alerts)
SCENARIO_COLUMNS = ("importer", "importer_name", "material", "material_name", "product", "year",
                    "basis", "import_value_kusd", "import_quantity_t", "lost_share",
                    "resourced_share", "residual_gap_share", "years_to_close_gap",
                    "alternative_suppliers", "top_supplier_before", "top_supplier_share_before",
                    "top_supplier_after", "top_supplier_share_after", "hhi_points_before",
                    "hhi_points_after", "knock_on_stages", "notes", "source")  # fmt: skip
KNOCK_ON_COLUMNS = ("importer", "product", "kind", "name", "relation", "output_stage",
                    "capacity_t", "output_at_risk_t", "output_at_risk_max_t")  # fmt: skip
ALERT_COLUMNS = ("id", "date", "rule", "country", "material", "material_name", "partner", "year",
                 "value", "previous", "threshold", "event", "evidence", "sources")  # fmt: skip
BAR_W, BAR_H, LABEL_W = 900, 22, 330  # the scenario chart's geometry (SVG user units)


def shipped() -> list[tuple[str, Any]]:
    """(id, Scenario) of the shipped scenarios, in file order."""
    from verdikart.scenarios.spec import load_scenario, shipped_scenarios

    return [(path.stem, load_scenario(path)) for path in shipped_scenarios()]


def _text(name: str, value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT or any(ch in value for ch in ":\x00\n"):
        raise BadQueryError(f"{name}: {value[:MAX_TEXT]!r} is not a country, group or material")
    return value


def _change(value: str | None) -> str:
    """The shock's change in percent as the core's text (-100%); 422 outside -100..0."""
    raw = (value or "").strip().removesuffix("%").strip()
    if not raw:
        return "-100%"
    try:
        number = float(raw.replace(",", ".").replace("\u2212", "-"))
    except ValueError:
        raise BadQueryError(
            f"change must be a number of percent such as -100 or -40, not {value!r}"
        ) from None
    if not -100.0 <= number <= 0.0:
        raise BadQueryError(f"change {number:g} % is outside -100 % to 0 % (a cut of exports)")
    return f"{number:g}%"


def listed(value: Any) -> str:
    """A list the core returns (suppliers, stages, notes) as one line; '–' when empty."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def scenario_chart(rows: list[dict[str, Any]], label: Any) -> dict[str, Any]:
    """The bars of the scenario chart: per row the share lost, split into re-sourced and the
    residual gap, as SVG widths (0..BAR_W - LABEL_W)."""
    span = BAR_W - LABEL_W - 60
    bars = []
    for i, r in enumerate(rows):
        lost = min(max(float(r.get("lost_share") or 0.0), 0.0), 1.0)
        gap = min(max(float(r.get("residual_gap_share") or 0.0), 0.0), lost)
        bars.append(
            {
                "y": 8 + i * (BAR_H + 6),
                "label": label(r),
                "resourced_w": round((lost - gap) * span, 1),
                "gap_w": round(gap * span, 1),
                "lost": lost,
            }
        )
    return {"bars": bars, "w": BAR_W, "h": 16 + len(rows) * (BAR_H + 6), "x0": LABEL_W}


@router.get("/scenarios")
def scenarios_page(
    request: Request,
    lang: str | None = None,
    scenario: str | None = None,
    supplier: str | None = None,
    material: str | None = None,
    change: str | None = None,
    importer: str | None = None,
    year: str | None = None,
    basis: str | None = None,
    format: str | None = None,  # noqa: A002 -- the query parameter's public name
    table: str | None = None,
) -> Response:
    def build(lng: str) -> Response:
        from verdikart.reference.materials import find_material, load_materials

        _check_format(format, table)

        scenarios = shipped()
        ids = [sid for sid, _ in scenarios]
        chosen = (scenario or "").strip()
        if chosen and chosen not in ids:
            raise BadQueryError(f"scenario must be one of {', '.join(ids)}, not {chosen[:60]!r}")
        if basis not in (None, "", *BASES):
            raise BadQueryError(f"basis must be value or quantity, not {basis!r}")
        who = _text("supplier", supplier)
        what = _text("material", material)
        imp = _text("importer", importer)
        cut = _change(change)
        yr = _year(year)
        if bool(who) != bool(what):
            raise BadQueryError(
                "a shock needs both a supplier country and a material "
                f"(supplier {who or '–'}, material {what or '–'})"
            )
        if what and find_material(what) is None:
            raise BadQueryError(f"material: {what!r} is not a material the reference knows")
        form = {
            "scenario": chosen,
            "supplier": who,
            "material": what,
            "change": (change or "").strip() or "-100",
            "importer": imp,
            "year": "" if yr is None else str(yr),
            "basis": basis or "",
        }
        result = None
        if chosen or who:
            shocks = [f"{who}:{what}:{cut}"] if who else []
            try:
                with _core(request) as core:
                    result = core.scenario(
                        file=chosen or None,
                        shocks=shocks,
                        year=yr,
                        importers=[imp] if imp else None,
                        basis=basis or None,
                        language=lng,
                    )
            except UnknownCodeError as exc:
                # a form value the core cannot resolve: the form's fault (422), not a missing page
                raise BadQueryError(str(exc).replace("--shock ", "")) from exc
        materials = sorted(
            load_materials().values(), key=lambda m: m.name_no if lng == "nb" else m.name_en
        )
        chart = None
        effects: list[dict[str, Any]] = []
        tables: list[Table] = []
        if result is not None:
            chart = scenario_chart(
                result.rows,
                lambda r: (
                    f"{_country_name(r.get('importer'), lng)} · "
                    f"{_material_name(r.get('material'), lng) or r.get('product')}"
                ),
            )
            effects = [k for k in result.knock_on if k["kind"] != "stage" or k["relation"] != "hit"]
            rows = [
                {**r, "material_name": _material_name(r.get("material"), lng)} for r in result.rows
            ]
            years = (str(result.year),)
            sources = distinct(result.rows, "source")
            name = result.scenario.name(lng)
            if not chosen:  # a shock of the form's: say it in words, not as the CLI's text
                name = f"{_country_name(who, lng) or who}: {_material_name(what, lng)} {cut.removesuffix('%')} %"
            tables = [
                Table("scenario", name, rows, SCENARIO_COLUMNS, sources, years),
                Table("knock_on", text("knock_on", lng), effects, KNOCK_ON_COLUMNS, sources, years),
            ]
            stem = f"verdikart-scenario-{result.year}"
            got = _download(request, tables, format, table, lng, stem)
            if got is not None:
                return got
        elif format in ("csv", "xlsx"):
            raise BadQueryError("run a scenario first: a download needs a scenario or a shock")
        return _render(
            request,
            "atlas_scenarios.html",
            lng,
            form=form,
            scenarios=scenarios,
            materials=materials,
            result=result,
            chart=chart,
            effects=effects,
            listed=listed,
            tables={t.name: t for t in tables},
            title=tables[0].title if tables else "",
        )

    return _page(request, lang, build)


def _since(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadQueryError(
            f"since must be a date YYYY-MM-DD such as 2025-01-01, not {value[:40]!r}"
        ) from None


@router.get("/watch")
def watch_page(
    request: Request,
    lang: str | None = None,
    country: str | None = None,
    since: str | None = None,
    rule: str | None = None,
    format: str | None = None,  # noqa: A002 -- the query parameter's public name
    table: str | None = None,
) -> Response:
    def build(lng: str) -> Response:
        from verdikart.reference.countries import resolve_country
        from verdikart.scenarios.watch import RULES

        _check_format(format, table)

        chosen = _text("country", country) or "NOR"
        day = _since(since)
        if rule not in (None, "", *RULES):
            raise BadQueryError(f"rule must be one of {', '.join(RULES)}, not {rule!r}")
        try:
            ref = resolve_country(chosen)
        except UnknownCodeError as exc:
            raise BadQueryError(f"country: {exc}") from exc
        with _core(request) as core:
            # record=False: a page view never changes what later runs call new
            alerts = core.watch([ref.id], since=day, record=False, language=lng)
        if rule:
            alerts = [a for a in alerts if a["rule"] == rule]
        alerts = [{**a, "material_name": _material_name(a.get("material"), lng)} for a in alerts]
        found = Table(
            "alerts",
            f"{text('watch', lng)}: {_country_name(ref.id, lng)}",
            alerts,
            ALERT_COLUMNS,
            tuple(
                dict.fromkeys(
                    s for a in alerts for s in str(a.get("sources") or "").split(" | ") if s
                )
            ),
            distinct(alerts, "year"),
        )
        got = _download(request, [found], format, table, lng, f"verdikart-watch-{ref.id}")
        if got is not None:
            return got
        return _render(
            request,
            "atlas_watch.html",
            lng,
            alerts=alerts,
            country=ref,
            since=day or "",
            rule=rule or "",
            rules=RULES,
            alerts_table=found,
        )

    return _page(request, lang, build)
