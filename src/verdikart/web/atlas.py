"""The atlas's HTML pages (issue 11): the overview of a country's mapping (`/`), a material
(`/materials/{id}`), a country (`/countries/{iso3}`), the EU-method matrix (`/matrix`) and the
offline API documentation (`/docs`).

Every page calls the application core's use cases (:class:`verdikart.app.Verdikart`, one
reader per request) and renders with Jinja; no SQL here. Text comes from
:mod:`verdikart.web.atlas_text` in bokmål or English (`?lang=`, remembered in a cookie).
A project error (unknown material or country, a bad year) renders the atlas's error page
with the error's status and suggestions, never a 500.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from verdikart.errors import UnknownCodeError, VerdikartError
from verdikart.web.atlas_tables import (
    FORMATS,
    Table,
    distinct,
    download,
    footnote,
    names_of,
    pick,
    tables_json,
)
from verdikart.web.atlas_text import LANGS, SECTORS, num, pct, text, word
from verdikart.web.state import templates_dir

if TYPE_CHECKING:
    from verdikart.app import Verdikart

router = APIRouter(include_in_schema=False)
LANG_COOKIE = "verdikart_lang"
EU_YEAR = 2023  # the EU criticality assessment the bundled inputs hold
SR_THRESHOLD = 1.0  # EU method: critical when SR >= 1.0 and EI >= 2.8 (EC 2017 methodology)
EI_THRESHOLD = 2.8
CHAIN_SCOPE = "atlas-chain"
POSITIONS = ("vulnerability", "advantage")  # the mapping's labels: net importer / net exporter
_STYLE_ELEMENT = re.compile(r"<style>.*?</style>", re.DOTALL)
OVERVIEW_SORTS = (
    "rank",
    "material",
    "net_import_value_kusd",
    "top_supplier_share",
    "geopolrisk_score",
)


class BadQueryError(VerdikartError):
    """A query-string value of an atlas page that cannot be used (a year that is no number,
    an unknown language or sort key)."""

    http_status: ClassVar[int] = 422


@functools.cache
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(templates_dir()))


def _lang(request: Request, lang: str | None) -> str:
    if lang is not None and lang.strip() and lang not in LANGS:
        raise BadQueryError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    chosen = (lang or "").strip() or request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGS else "nb"


def _year(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        year = int(value.strip())
    except ValueError:
        raise BadQueryError(f"year must be a whole number such as 2023, not {value!r}") from None
    if not 1900 <= year <= 2100:
        raise BadQueryError(f"year {year} is out of range (1900–2100)")
    return year


def _render(request: Request, name: str, lang: str, status: int = 200, **context: Any) -> Response:
    def t(key: str, **values: Any) -> str:
        return text(key, lang, **values)

    def link(**changes: Any) -> str:
        """The current URL with query parameters changed (state stays in the query string;
        a repeated parameter such as ?list=a&list=b keeps all its values)."""
        from urllib.parse import urlencode

        new = {k: str(v) for k, v in changes.items() if v is not None}
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in new]
        return f"{request.url.path}?{urlencode([*kept, *new.items()])}"

    response = _templates().TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": t,
            "num": lambda v, d=None: num(v, lang, d),
            "pct": lambda v: pct(v, lang),
            "link": link,
            "w": lambda key: word(str(key), lang),
            "mname": functools.partial(_material_name, lang=lang),
            "known": _known_material,
            "cname": functools.partial(_country_name, lang=lang),
            "footnote": lambda table: footnote(table, lang),
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 24 * 3600)
    return response


def _material_name(mid: str | None, lang: str) -> str:
    from verdikart.reference.materials import material_name

    return material_name(mid, lang) if mid else ""


def _known_material(mid: str | None) -> bool:
    """Whether the reference knows a material (only those get a link to their page)."""
    from verdikart.reference.materials import find_material

    return bool(mid) and find_material(str(mid)) is not None


def _country_name(code: str | None, lang: str) -> str:
    from verdikart.report.labels import country_name

    if not code:
        return ""
    return country_name(code, "nb" if lang == "nb" else "en") or code


@contextmanager
def _core(request: Request) -> Iterator[Verdikart]:
    with request.app.state.verdikart.reader() as core:
        yield core


def _page(request: Request, lang_value: str | None, build: Callable[[str], Response]) -> Response:
    """Runs a page: the language first (a bad one is a 422 in English), then the page; any
    project error becomes the atlas's error page with its status."""
    try:
        lang = _lang(request, lang_value)
    except BadQueryError as exc:
        return _error(request, "en", exc)
    try:
        return build(lang)
    except VerdikartError as exc:
        return _error(request, lang, exc)


def _error(
    request: Request,
    lang: str,
    exc: VerdikartError,
    suggestions: list[tuple[str, str]] | None = None,
) -> Response:
    status = exc.http_status
    if request.url.path.startswith("/api/"):  # the atlas's API answers errors in JSON
        return JSONResponse(
            {
                "detail": str(exc),
                "suggestions": [{"name": name, "url": href} for href, name in suggestions or []],
            },
            status_code=status,
        )
    title = text("not_found" if status == 404 else "bad_request", lang)
    return _render(
        request,
        "atlas_error.html",
        lang,
        status=status,
        title=title,
        error=str(exc),
        suggestions=suggestions or [],
    )


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---------------------------------------------------------------- downloads

OVERVIEW_COLUMNS = ("material", "material_name", "year", "position", "import_value_kusd",
                    "export_value_kusd", "net_import_value_kusd", "n_suppliers", "top_supplier",
                    "top_supplier_name", "top_supplier_share", "concentration_flag", "hhi",
                    "geopolrisk_score", "lists", "sectors")  # fmt: skip
MATRIX_COLUMNS = ("material", "material_name", "sr", "ei", "critical", "sr_stage", "wgi_year")


def _check_format(value: str | None, table: str | None = None) -> None:
    if value not in (None, "", *FORMATS):
        raise BadQueryError(f"format must be one of {', '.join(FORMATS)}, not {value!r}")
    if table is not None and table.strip() and not re.fullmatch(r"[a-z_]{1,40}", table):
        raise BadQueryError(f"table must be a table name such as 'mapping', not {table!r}")


def _download(
    request: Request, tables: list[Table], fmt: str | None, name: str | None, lang: str, stem: str
) -> Response | None:
    """The download the query asks for (`format=csv|xlsx|json`, `table=NAME`), or None for the
    page. JSON gives every table of the page unless `table` names one (the atlas's API)."""
    if fmt == "json":
        return tables_json([pick(tables, name)] if name else tables, lang, str(request.url))
    if fmt not in ("csv", "xlsx"):
        if name:
            pick(tables, name)  # a bad table name is a 422 on the page too
        return None
    return download(pick(tables, name), fmt, lang, str(request.url), stem)


def _named(rows: list[dict[str, Any]], lang: str, key: str = "material") -> list[dict[str, Any]]:
    """Rows with `material_name` in the page's language (the reference's Norwegian names)."""
    return [{**r, "material_name": _material_name(r.get(key), lang)} for r in rows]


def _store_sources(request: Request, core: Verdikart) -> dict[str, str]:
    """The store's source per table (the GeoPolRisk footnote names its trade, production and
    governance data), kept on the app under the core's data version (the store's status takes
    a few hundred milliseconds; an import gives a new version)."""
    version = core.data_version()
    kept = getattr(request.app.state, "atlas_store_sources", None)
    if kept is None or kept[0] != version:
        kept = (version, {str(r["table"]): str(r["source"]) for r in core.data_status()})
        request.app.state.atlas_store_sources = kept
    return dict(kept[1])


# ---------------------------------------------------------------- overview


@router.get("/")
def overview(
    request: Request,
    country: str = "NOR",
    year: str | None = None,
    lang: str | None = None,
    list_: Annotated[list[str] | None, Query(alias="list")] = None,
    position: str | None = None,
    sector: str | None = None,
    sort: str = "rank",
    format: str | None = None,  # noqa: A002 -- the query parameter's public name
    table: str | None = None,
) -> Response:
    def build(lng: str) -> Response:
        from verdikart.chains.mapping import MapRequest
        from verdikart.reference.countries import resolve_country
        from verdikart.reference.materials import lists as all_lists

        if sort not in OVERVIEW_SORTS:
            raise BadQueryError(f"sort must be one of {', '.join(OVERVIEW_SORTS)}, not {sort!r}")
        if position not in (None, "", *POSITIONS):
            raise BadQueryError(f"position must be vulnerability or advantage, not {position!r}")
        _check_format(format, table)
        if sector not in (None, "", *SECTORS):
            raise BadQueryError(f"sector must be one of {', '.join(SECTORS)}, not {sector!r}")
        chosen = [x for x in (list_ or []) if x]
        ref = resolve_country(country)
        req = MapRequest(country=ref.id, year=_year(year))
        if chosen:
            from verdikart.reference.inputs import list_ids

            req = MapRequest(country=ref.id, year=req.year, lists=tuple(list_ids(chosen) or ()))
        with _core(request) as core:
            result = core.map(req)
        rows = result.rows
        if position:
            rows = [r for r in rows if r.get("position") == position]
        if sector:
            rows = [r for r in rows if sector in str(r.get("sectors") or "").split(",")]
        if sort != "rank":
            rows = sorted(
                rows,
                key=lambda r: (
                    r.get(sort) is None,
                    -(r.get(sort) or 0) if sort != "material" else 0,
                    str(r.get("material")),
                ),
            )
        mapping = Table(
            "mapping",
            f"{text('overview', lng)}: {_country_name(ref.id, lng)} {result.year}",
            names_of(_named(rows, lng), "top_supplier", lng),
            OVERVIEW_COLUMNS,
            sources=tuple(result.sources),
            years=(str(result.year),),
        )
        got = _download(request, [mapping], format, table, lng, f"verdikart-{ref.id}-{result.year}")
        if got is not None:
            return got
        flagged = [r for r in result.rows if r.get("concentration_flag")]
        scored = [r for r in result.rows if _finite(r.get("geopolrisk_score"))]
        top = max(scored, key=lambda r: r["geopolrisk_score"]) if scored else None
        return _render(
            request,
            "atlas_overview.html",
            lng,
            result=result,
            rows=rows,
            tables={"mapping": mapping},
            country=ref,
            chosen=chosen,
            position=position or "",
            sector=sector or "",
            all_sectors=SECTORS,
            sort=sort,
            sorts=OVERVIEW_SORTS,
            all_lists=all_lists(),
            n_vuln=sum(r.get("position") == "vulnerability" for r in result.rows),
            n_pos=sum(r.get("position") == "advantage" for r in result.rows),
            flagged=flagged,
            flagged_names=", ".join(_material_name(r["material"], lng) for r in flagged),
            top=top,
        )

    return _page(request, lang, build)


# ---------------------------------------------------------------- material


@router.get("/materials/{material_id}")
def material_page(
    request: Request,
    material_id: str,
    lang: str | None = None,
    format: str | None = None,  # noqa: A002 -- the query parameter's public name
    table: str | None = None,
) -> Response:
    def build(lng: str) -> Response:
        from verdikart.reference.inputs import parse_years
        from verdikart.reference.materials import (
            find_material,
            lists,
            material_suggestions,
        )
        from verdikart.report.chain_svg import chain_svg

        _check_format(format, table)
        m = find_material(material_id)
        if m is None:
            close = material_suggestions(material_id)
            exc = UnknownCodeError(text("not_found", lng) + f": {material_id!r}")
            return _error(
                request,
                lng,
                exc,
                [(f"/materials/{c}?lang={lng}", _material_name(c, lng)) for c in close],
            )
        notes: list[str] = []
        with _core(request) as core:
            svg = None
            view: dict[str, Any] | None = None
            imports: list[dict[str, Any]] = []
            position: list[dict[str, Any]] = []
            plants: list[dict[str, Any]] = []
            try:
                view = core.chain_show(m.id, language=lng)
                svg = _STYLE_ELEMENT.sub("", chain_svg(view, lng, scope=CHAIN_SCOPE), count=1)
                imports = [
                    {"stage": s["name"], **s["imports"]}
                    for s in view["stages"]
                    if s.get("material") == m.id and s.get("imports")
                ]
                own = [s for s in view["stages"] if s.get("material") == m.id]
                position = [{"stage": s["name"], **s["position"]} for s in own if s.get("position")]
                own_ids = {s["stage"] for s in own}
                plants = [p for p in view["plants"] if own_ids & set(p.get("stages_out") or ())]
            except UnknownCodeError as exc:
                notes.append(str(exc))
            try:
                production = core.production([m.id], parse_years("latest")).to_pylist()
            except UnknownCodeError as exc:
                production = []
                notes.append(str(exc))
            try:
                gpr = core.geopolrisk(["NOR"], [m.id], None).to_pylist()
            except UnknownCodeError as exc:
                gpr = []
                notes.append(str(exc))
            try:
                eu = core.criticality(year=EU_YEAR, materials=[m.id], perspective="EU").to_pylist()
            except UnknownCodeError as exc:
                eu = []
                notes.append(str(exc))
            store = _store_sources(request, core)
        stages: dict[str, list[dict[str, Any]]] = {}
        for row in production:
            stages.setdefault(str(row["stage"]), []).append(row)
        tables = _material_tables(
            m, lng, production, imports, position, plants, gpr, eu, store, view
        )
        got = _download(request, tables, format, table, lng, f"verdikart-{m.id}")
        if got is not None:
            return got
        return _render(
            request,
            "atlas_material.html",
            lng,
            m=m,
            lists=lists(),
            svg=svg,
            imports=imports,
            position=position,
            plants=plants,
            production=stages,
            gpr=gpr,
            eu=eu,
            notes=notes,
            tables={t.name: t for t in tables},
        )

    return _page(request, lang, build)


def _material_tables(
    m: Any,
    lang: str,
    production: list[dict[str, Any]],
    imports: list[dict[str, Any]],
    position: list[dict[str, Any]],
    plants: list[dict[str, Any]],
    gpr: list[dict[str, Any]],
    eu: list[dict[str, Any]],
    store: dict[str, str],
    view: dict[str, Any] | None,
) -> list[Table]:
    """The material page's tables, as shown (the production and import tables in full, where
    the page shows the ten largest)."""
    from verdikart.reference.materials import lists

    name = _material_name(m.id, lang)

    def title(key: str) -> str:
        return f"{name}: {text(key, lang)}"

    chain = [
        {
            "stage": s["name"],
            "material": s.get("material"),
            "hs_codes": ", ".join((s.get("hs_codes") or {}).get("HS92") or []),
            "production_year": (s.get("production") or {}).get("year"),
            "hhi_points": (s.get("production") or {}).get("hhi_points"),
            "top_country": (s.get("production") or {}).get("top_country"),
            "top_country_share": (s.get("production") or {}).get("top_share"),
            "year": (s.get("imports") or {}).get("year"),
            "import_value_kusd": (s.get("imports") or {}).get("import_value_kusd"),
            "top_supplier": (s.get("imports") or {}).get("top_supplier"),
            "top_supplier_share": (s.get("imports") or {}).get("top_supplier_share"),
            "concentration_flag": (s.get("imports") or {}).get("concentration_flag"),
            "sources": " | ".join(
                str(x["source"])
                for x in (s.get("production"), s.get("imports"))
                if x and x.get("source")
            ),
        }
        for s in (view or {}).get("stages", [])
    ]
    memberships = [
        {"list": x.title_in(lang), "list_date": x.date, "on_list": x.id in m.lists} for x in lists()
    ]
    suppliers = [
        {"stage": s["stage"], "year": s.get("year"), **sup, "source": s.get("source")}
        for s in imports
        for sup in s.get("suppliers") or []
    ]
    capacities = [
        {"company": p.get("company"), "plant": p.get("plant"),
         "municipality": p.get("municipality"), **c}
        for p in plants
        for c in p.get("capacity") or []
        if c.get("t_per_year")
    ]  # fmt: skip
    gpr_sources = (store.get("trade"), *distinct(gpr, "production_source"), store.get("governance"))
    return [
        Table("lists", title("list_memberships"), memberships, ("list", "list_date", "on_list")),
        Table("chain", title("value_chain"),
              names_of(names_of(chain, "top_country", lang), "top_supplier", lang),
              ("stage", "material", "hs_codes", "production_year", "hhi_points", "top_country",
               "top_country_name", "top_country_share", "year", "import_value_kusd",
               "top_supplier", "top_supplier_name", "top_supplier_share", "concentration_flag"),
              sources=_split_sources([{"source": r["sources"]} for r in chain]),
              years=distinct(chain, "production_year", "year")),
        Table("production", title("world_production"), names_of(production, "country", lang),
              ("stage", "year", "country", "country_name", "quantity_t", "share", "n_producers",
               "hhi_points"),
              sources=distinct(production, "source"), years=distinct(production, "year")),
        Table("imports", title("imports_by_supplier"), names_of(suppliers, "supplier", lang),
              ("stage", "year", "supplier", "supplier_name", "value_kusd", "share"),
              sources=distinct(imports, "source"), years=distinct(imports, "year")),
        Table("position", title("norway_position"), position,
              ("stage", "share_of_eu_sourcing", "share_of_world_production",
               "share_of_world_exports", "exports_year", "note"),
              sources=_split_sources(position), years=distinct(position, "exports_year")),
        Table("plants", title("plants"), capacities,
              ("company", "plant", "municipality", "stage", "t_per_year", "basis", "year"),
              sources=distinct(capacities, "source"), years=distinct(capacities, "year")),
        Table("geopolrisk", f"{title('geopolrisk')} ({_country_name('NOR', lang)})", gpr,
              ("year", "score", "characterization_factor", "hhi", "import_risk",
               "import_quantity_t", "import_value_kusd", "price_kusd_per_t", "own_production_t"),
              sources=tuple(x for x in gpr_sources if x), years=distinct(gpr, "year")),
        Table("eu", title("eu_method"), eu,
              ("stage", "sr", "ei", "critical", "sr_stage", "hhi_gs", "eol_rir", "si_sr",
               "si_ei", "wgi_year"),
              sources=_split_sources(eu), years=distinct(eu, "year")),
    ]  # fmt: skip


# ---------------------------------------------------------------- country


@router.get("/countries/{iso3}")
def country_page(
    request: Request,
    iso3: str,
    lang: str | None = None,
    year: str | None = None,
    format: str | None = None,  # noqa: A002 -- the query parameter's public name
    table: str | None = None,
) -> Response:
    def build(lng: str) -> Response:
        from verdikart.chains.mapping import MapRequest
        from verdikart.reference.countries import _builtin_index, find_country
        from verdikart.reference.inputs import suggestions

        ref = find_country(iso3)
        if ref is None:
            close = suggestions(iso3, list(_builtin_index()))
            found = {}
            for c in close:
                hit = find_country(c)
                if hit is not None:
                    found[hit.id] = _country_name(hit.id, lng)
            return _error(
                request,
                lng,
                UnknownCodeError(text("not_found", lng) + f": {iso3!r}"),
                [(f"/countries/{k}?lang={lng}", v) for k, v in found.items()],
            )
        _check_format(format, table)
        yr = _year(year)
        notes: list[str] = []
        with _core(request) as core:
            supplies = core.supplier_position(ref.id, year=yr).to_pylist()
            norway = core.map(MapRequest(country="NOR", year=yr))
            to_norway = [s for s in norway.suppliers if s.get("supplier") == ref.id]
            depends: list[dict[str, Any]] = []
            if ref.id != "NOR":
                try:
                    depends = [
                        r
                        for r in core.map(MapRequest(country=ref.id, year=yr)).rows
                        if r.get("position") == "vulnerability"
                    ]
                except VerdikartError as exc:
                    notes.append(str(exc))
            else:
                depends = [r for r in norway.rows if r.get("position") == "vulnerability"]
        to_norway = sorted(to_norway, key=lambda s: -(s.get("value_kusd") or 0))
        cname = _country_name(ref.id, lng)
        tables = [
            Table("supplies", f"{cname}: {text('supplies', lng)}", _named(supplies, lng),
                  ("material", "material_name", "stage_name", "share_of_eu_sourcing",
                   "share_of_world_production", "share_of_world_exports", "production_year",
                   "exports_year", "note"),
                  sources=_split_sources(supplies),
                  years=distinct(supplies, "production_year", "exports_year")),
            Table("to_norway", f"{cname}: {text('supplies_norway', lng)} ({norway.year})",
                  _named(to_norway, lng, "product"),
                  ("product", "material_name", "year", "value_kusd", "quantity_t", "share"),
                  sources=distinct(to_norway, "source") or tuple(norway.sources[:1]),
                  years=(str(norway.year),)),
            Table("depends", f"{cname}: {text('depends_on', lng)}",
                  names_of(_named(depends, lng), "top_supplier", lng),
                  ("material", "material_name", "year", "net_import_value_kusd", "top_supplier",
                   "top_supplier_name", "top_supplier_share", "concentration_flag"),
                  sources=distinct(depends, "source"), years=distinct(depends, "year")),
        ]  # fmt: skip
        got = _download(request, tables, format, table, lng, f"verdikart-{ref.id}")
        if got is not None:
            return got
        return _render(
            request,
            "atlas_country.html",
            lng,
            country=ref,
            supplies=supplies,
            to_norway=to_norway,
            year=norway.year,
            depends=depends,
            notes=notes,
            tables={t.name: t for t in tables},
        )

    return _page(request, lang, build)


def _split_sources(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    """The distinct sources of rows whose `source` joins several with ' | ' (the supplier
    position's 'EU sourcing: … | world production: …')."""
    parts = [{"source": p.strip()} for r in rows for p in str(r.get("source") or "").split(" | ")]
    return distinct(parts, "source")


# ---------------------------------------------------------------- matrix

MATRIX_W, MATRIX_H, PAD_L, PAD_B, PAD_T, PAD_R = 760, 520, 60, 50, 20, 20
CHAR_W, LABEL_H = 6.2, 12


def place_labels(
    points: list[tuple[float, float, str]],
    width: float,
    height: float,
    reserved: list[tuple[float, float, float, float]] | None = None,
) -> list[tuple[float, float, str, str] | None]:
    """Greedy label placement: for each point (x, y, label) in order, the first of eight
    candidate positions around it whose box overlaps no label placed before, no point, and
    stays inside the plot and avoids the `reserved` boxes (left, top, right, bottom: the
    threshold labels); None when none fits (the table below lists every point).
    Returns (x, y, text-anchor, label) per point."""
    boxes: list[tuple[float, float, float, float]] = list(reserved or [])
    dots = [(x - 3, y - 3, x + 3, y + 3) for x, y, _ in points]
    out: list[tuple[float, float, str, str] | None] = []
    offsets = [(6, 4, "start"), (-6, 4, "end"), (0, -7, "middle"), (0, 15, "middle"),
               (6, -6, "start"), (-6, -6, "end"), (6, 14, "start"), (-6, 14, "end")]  # fmt: skip

    def hits(b: tuple[float, float, float, float], o: tuple[float, float, float, float]) -> bool:
        return b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]

    for x, y, label in points:
        w = CHAR_W * len(label)
        placed = None
        for dx, dy, anchor in offsets:
            lx, ly = x + dx, y + dy
            left = lx if anchor == "start" else lx - w if anchor == "end" else lx - w / 2
            box = (left, ly - LABEL_H + 2, left + w, ly + 2)
            if box[0] < 0 or box[2] > width or box[1] < 0 or box[3] > height:
                continue
            own = (x - 3, y - 3, x + 3, y + 3)
            if any(hits(box, b) for b in boxes) or any(hits(box, d) for d in dots if d != own):
                continue
            boxes.append(box)
            placed = (lx, ly, anchor, label)
            break
        out.append(placed)
    return out


@router.get("/matrix")
def matrix_page(
    request: Request,
    lang: str | None = None,
    list_: Annotated[list[str] | None, Query(alias="list")] = None,
    critical: str | None = None,
    format: str | None = None,  # noqa: A002 -- the query parameter's public name
    table: str | None = None,
) -> Response:
    def build(lng: str) -> Response:
        from verdikart.reference.inputs import list_ids
        from verdikart.reference.materials import find_material
        from verdikart.reference.materials import lists as all_lists

        _check_format(format, table)
        if critical not in (None, "", "1", "0"):
            raise BadQueryError(f"critical must be 1 or 0, not {critical!r}")
        chosen = [x for x in (list_ or []) if x]
        keep = set(list_ids(chosen) or ()) if chosen else None
        with _core(request) as core:
            result = core.criticality(year=EU_YEAR, materials=None, perspective="EU")
        rows = [
            r
            for r in result.to_pylist()
            if r["stage"] == "max" and _finite(r["sr"]) and _finite(r["ei"])
        ]
        if keep is not None:
            rows = [
                r
                for r in rows
                if (m := find_material(r["material"])) is not None and keep & set(m.lists)
            ]
        if critical == "1":
            rows = [r for r in rows if r["critical"]]
        rows.sort(key=lambda r: (-r["sr"], r["material"]))
        matrix = Table(
            "matrix",
            f"{text('matrix', lng)} ({EU_YEAR})",
            _named(rows, lng),
            MATRIX_COLUMNS,
            sources=_split_sources(rows),
            years=(str(EU_YEAR),),
        )
        got = _download(request, [matrix], format, table, lng, f"verdikart-matrix-{EU_YEAR}")
        if got is not None:
            return got
        ei_max = max([10.0, *(r["ei"] for r in rows)])
        sr_max = max([5.0, *(r["sr"] for r in rows)])
        pw, ph = MATRIX_W - PAD_L - PAD_R, MATRIX_H - PAD_T - PAD_B

        def sx(v: float) -> float:
            return round(PAD_L + v / ei_max * pw, 1)

        def sy(v: float) -> float:
            return round(PAD_T + ph - v / sr_max * ph, 1)

        points = [(sx(r["ei"]), sy(r["sr"]), _material_name(r["material"], lng)) for r in rows]
        # the threshold labels sit at the lines' ends; point labels keep clear of them
        sr_y, ei_x = sy(SR_THRESHOLD), sx(EI_THRESHOLD)
        reserved = [
            (MATRIX_W - PAD_R - 70, sr_y - 16, MATRIX_W - PAD_R, sr_y - 2),
            (ei_x + 2, MATRIX_H - PAD_B - 16, ei_x + 70, MATRIX_H - PAD_B - 2),
        ]
        labels = place_labels(points, MATRIX_W, MATRIX_H, reserved)
        return _render(
            request,
            "atlas_matrix.html",
            lng,
            rows=rows,
            points=list(zip(points, labels, rows, strict=True)),
            w=MATRIX_W,
            h=MATRIX_H,
            x0=PAD_L,
            x1=MATRIX_W - PAD_R,
            y0=PAD_T,
            y1=MATRIX_H - PAD_B,
            sr_line=sy(SR_THRESHOLD),
            ei_line=sx(EI_THRESHOLD),
            xticks=[(sx(v), v) for v in range(0, int(ei_max) + 1, 2)],
            yticks=[(sy(v), v) for v in range(0, int(sr_max) + 1)],
            chosen=chosen,
            critical=critical or "",
            all_lists=all_lists(),
            year=EU_YEAR,
            tables={"matrix": matrix},
        )

    return _page(request, lang, build)


# ---------------------------------------------------------------- docs


@router.get("/docs")
def docs_page(request: Request, lang: str | None = None) -> Response:
    """The API's endpoints from the OpenAPI description, server-rendered: no CDN script."""

    def build(lng: str) -> Response:
        spec = request.app.openapi()
        endpoints = [
            (method.upper(), path, op.get("summary") or op.get("description", "").split("\n")[0])
            for path, item in spec.get("paths", {}).items()
            for method, op in item.items()
            if isinstance(op, dict)
        ]
        return _render(
            request, "atlas_docs.html", lng, endpoints=endpoints, info=spec.get("info", {})
        )

    return _page(request, lang, build)


@router.get("/atlas/chain.css")
def chain_css() -> Response:
    """The value-chain picture's CSS, scoped to its element: the page's CSP allows styles from
    this origin only, so the picture's own <style> element is dropped when it is inlined."""
    from verdikart.report.chain_svg import _style

    return Response(_style(CHAIN_SCOPE), media_type="text/css")
