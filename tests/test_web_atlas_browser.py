"""The web atlas in a real browser (issue 11): Playwright drives Debian's Chromium against a
`verdikart serve` the module starts (one server and one browser for the module).

It opens the overview, the cobalt page, a country page and the matrix and checks that the
numbers shown equal the application core's (`Verdikart`'s use cases over the same bundled
data, the same query), switches the language (and the number formats with it: 1 234,5 and
12,1 % in bokmål), downloads a CSV and an XLSX through the browser's download event and reads
them, checks that no page is wider than a laptop screen, and runs axe-core (bundled in the
`axe-playwright-python` wheel, injected through the DevTools protocol: nothing from a CDN)
on every atlas page in both languages: no serious or critical violation."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from verdikart.web.atlas_text import num, pct

# one xdist worker runs the module: one server and one browser for all its tests
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("atlas-browser")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
LAPTOP = {"width": 1366, "height": 768}
PAGES = ("/", "/materials/cobalt", "/countries/NOR", "/countries/CHN", "/matrix")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ").strip()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("atlas-browser")


@pytest.fixture(scope="module")
def base(data_dir: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    from test_exchange_support import start_server, stop_server

    log = data_dir / "server.log"
    proc, url = start_server(
        {"VERDIKART_DATA_DIR": str(data_dir / "data"),
         "VERDIKART_DB_URL": f"sqlite:///{data_dir / 'exchange.sqlite'}"},
        log=log,
    )  # fmt: skip
    try:
        yield url
    finally:
        stop_server(proc)
    assert "Traceback" not in log.read_text("utf-8", errors="replace")


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def core(data_dir: Path) -> Iterator[Any]:
    """The application core over the same data as the server (the bundled store)."""
    from verdikart.app import Verdikart
    from verdikart.config import Settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERDIKART_DATA_DIR", str(data_dir / "data"))
        mp.delenv("VERDIKART_STORE", raising=False)
        with Verdikart(Settings()).reader() as reader:
            yield reader


def _cells(page: Any, table: str) -> list[list[str]]:
    rows = page.evaluate(
        f"""[...document.querySelectorAll('{table} tbody tr')]
             .map(tr => [...tr.cells].map(td => td.innerText))"""
    )
    return [[_plain(c) for c in row] for row in rows]


def test_overview_numbers_language_and_downloads(page: Any, base: str, core: Any) -> None:
    from openpyxl import load_workbook

    from verdikart.chains.mapping import MapRequest

    result = core.map(MapRequest())
    page.goto(f"{base}/?lang=nb")
    assert page.locator("h1").inner_text() == f"Oversikt: Norge {result.year}"
    shown = _cells(page, "#mapping")
    assert len(shown) == len(result.rows)
    for cells, row in zip(shown, result.rows, strict=True):
        assert cells[2] == _plain(num(row["import_value_kusd"], "nb")), (cells, row["material"])
        assert cells[5] == _plain(pct(row["top_supplier_share"], "nb"))
        assert cells[7] == _plain(num(row["geopolrisk_score"], "nb"))
    # bokmål formats: a space between thousands, a decimal comma, '12,1 %'
    assert any(re.fullmatch(r"\d{1,3}( \d{3})+", c[2]) for c in shown)
    assert any(re.fullmatch(r"\d+,\d %", c[5]) for c in shown)
    first_import = shown[0][2]

    # switch the language in the page's header; the choice is remembered
    page.locator("header a[lang=en]").click()
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("h1").inner_text() == f"Overview: Norway {result.year}"
    english = _cells(page, "#mapping")
    assert english[0][2] == _plain(num(result.rows[0]["import_value_kusd"], "en"))
    assert english[0][2] == first_import.replace(",", ".").replace(" ", ",")  # 22 176 -> 22,176
    assert any(re.fullmatch(r"\d+\.\d %", c[5]) for c in english)
    page.goto(f"{base}/matrix")
    assert page.locator("h1").inner_text().startswith("Criticality matrix")
    page.goto(f"{base}/?lang=en&position=vulnerability")

    # the CSV download: the same rows as the page's query, English headers
    with page.expect_download() as info:
        page.locator('a.download[href*="format=csv"]').click()
    download = info.value
    assert download.suggested_filename == f"verdikart-NOR-{result.year}-mapping.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    vulnerable = [r for r in result.rows if r["position"] == "vulnerability"]
    assert [r["Material (id)"] for r in rows] == [r["material"] for r in vulnerable]
    for got, want in zip(rows, vulnerable, strict=True):
        assert float(got["Top supplier share (0–1)"]) == pytest.approx(want["top_supplier_share"])
        assert float(got["Import value (1000 USD)"]) == pytest.approx(want["import_value_kusd"])

    # the XLSX download: a title row, source and year, labels, units, values with formats
    with page.expect_download() as info:
        page.locator('a.download[href*="format=xlsx"]').click()
    assert info.value.suggested_filename.endswith("-mapping.xlsx")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    ws = book.worksheets[0]
    assert ws["A1"].value == f"Overview: Norway {result.year}"
    assert f"Year: {result.year}." in ws["A2"].value and "CEPII BACI" in ws["A2"].value
    head = [c.value for c in ws[3]]
    share = ws.cell(row=5, column=head.index("Top supplier share") + 1)
    assert share.value == pytest.approx(vulnerable[0]["top_supplier_share"])
    assert share.number_format == "0.0%"
    assert ws.max_row == 4 + len(vulnerable)


def test_material_country_and_matrix_equal_the_core(page: Any, base: str, core: Any) -> None:
    from verdikart.chains.mapping import MapRequest
    from verdikart.reference.inputs import parse_years

    for lang in ("nb", "en"):
        page.goto(f"{base}/materials/cobalt?lang={lang}")
        assert page.locator("h1").inner_text().startswith("Kobolt" if lang == "nb" else "Cobalt")
        eu = core.criticality(year=2023, materials=["cobalt"], perspective="EU").to_pylist()
        shown = {r[0]: r for r in _cells(page, "#eu-method")}
        best = shown["høyeste" if lang == "nb" else "highest"]
        want = next(r for r in eu if r["stage"] == "max")
        assert best[1:3] == [_plain(num(want["sr"], lang, 2)), _plain(num(want["ei"], lang, 2))]
        gpr = core.geopolrisk(["NOR"], ["cobalt"], None).to_pylist()
        last = _cells(page, "#gpr-table")[-1]
        assert last[0] == str(gpr[-1]["year"]) and last[1] == _plain(num(gpr[-1]["score"], lang))
        production = core.production(["cobalt"], parse_years("latest")).to_pylist()
        top = _cells(page, "table.prod")[0]
        assert top[1] == _plain(num(production[0]["quantity_t"], lang))
        assert top[2].endswith(_plain(pct(production[0]["share"], lang)))
    assert page.locator("#atlas-chain").is_visible()

    # a country page: what Norway depends on, as the mapping says
    page.goto(f"{base}/countries/NOR?lang=nb")
    depends = [r for r in core.map(MapRequest()).rows if r["position"] == "vulnerability"]
    shown = _cells(page, "#depends")
    assert len(shown) == len(depends)
    assert [c[1] for c in shown] == [_plain(num(r["net_import_value_kusd"], "nb")) for r in depends]
    page.goto(f"{base}/countries/CHN?lang=en")
    assert len(_cells(page, "#supplies")) == core.supplier_position("CHN").num_rows

    # the matrix: one point and one table row per material with both axes
    page.goto(f"{base}/matrix?lang=nb")
    table = core.criticality(year=2023, materials=None, perspective="EU").to_pylist()
    points = sorted(
        (r for r in table if r["stage"] == "max" and r["sr"] is not None and r["ei"] is not None),
        key=lambda r: (-r["sr"], r["material"]),
    )
    assert page.locator("#matrix circle").count() == len(points)
    rows = _cells(page, "#matrix-table")
    assert [r[1:3] for r in rows] == [
        [_plain(num(p["sr"], "nb", 2)), _plain(num(p["ei"], "nb", 2))] for p in points
    ]
    # a bokmål CSV from the page: semicolons, decimal commas, Norwegian headers
    with page.expect_download() as info:
        page.locator('a.download[href*="format=csv"]').click()
    text = Path(info.value.path()).read_text("utf-8-sig")
    got = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(got) == len(points)
    sr = float(got[0]["Forsyningsrisiko (SR)"].replace(",", "."))
    assert sr == pytest.approx(points[0]["sr"])


def test_pages_fit_a_laptop_and_load_cleanly(page: Any, base: str) -> None:
    errors: list[str] = []
    failed: list[str] = []
    # a CSP violation is a console error; a failed asset a response >= 400 (the browser's own
    # /favicon.ico probe aside)
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            failed.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
        ),
    )
    for path in PAGES:
        page.goto(f"{base}{path}?lang=nb")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
    page.goto(f"{base}/?lang=nb")
    # the mapping table fits a laptop screen without its own scroll bar
    width = page.locator("#mapping").evaluate(
        "e => e.parentElement.scrollWidth - e.parentElement.clientWidth"
    )
    assert width <= 0
    # keyboard: the skip link is the first stop and leads to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#content"
    # the sortable headings are links; the sorted column says so
    page.locator("#mapping th a", has_text="GeoPolRisk").click()
    page.wait_for_url(re.compile("sort=geopolrisk_score"))
    assert page.locator("#mapping th[aria-sort=descending]").inner_text() == "GeoPolRisk"
    # printed on A4 (186 mm between the margins), no page is wider than the paper
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 703, "height": 1000})
    for path in PAGES:
        page.goto(f"{base}{path}?lang=en")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, ("print", path, overflow)
        assert page.locator("header nav").is_hidden()
    # the stylesheet's @page gives the size: A4 (595.92 x 842.88 pt)
    page.goto(f"{base}/?lang=nb")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf))
    assert boxes and all(
        abs(float(w) - 595.92) < 1 and abs(float(h) - 842.88) < 1 for w, h in boxes
    )
    assert not errors, errors
    assert not failed, failed


def test_accessibility_with_axe(page: Any, base: str) -> None:
    """axe-core on every atlas page in both languages: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found: dict[str, list[str]] = {}
    for path in (*PAGES, "/docs", "/materials/cobolt"):  # and the API docs, a 404 page
        for lang in ("nb", "en"):
            page.goto(f"{base}{path}?lang={lang}")
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
            assert results.response["testEngine"]["name"] == "axe-core"
            assert results.response["passes"], "axe ran no rule"
            for v in results.response["violations"]:
                if v["impact"] in ("serious", "critical"):
                    targets = [n["target"] for n in v["nodes"][:3]]
                    found.setdefault(f"{path}?lang={lang}", []).append(f"{v['id']}: {targets}")
    assert not found, found
