"""The standalone HTML mapping report, rendered and opened in Debian Chromium (Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _report(tmp_path: Path) -> Path:
    out = tmp_path / "map-NOR-2022.html"
    res = CliRunner().invoke(
        cli, ["map", "--country", "NOR", "--year", "2022", "--format", "html", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out


def test_html_is_standalone(tmp_path: Path) -> None:
    html = _report(tmp_path).read_text(encoding="utf-8")
    assert "<svg" in html and "http://www.w3.org/2000/svg" in html
    # no external resources: nothing fetched from a CDN or the network
    assert "<script src" not in html and "<link" not in html and "https://" not in html
    assert "CEPII BACI HS92 V202401b" in html and "World Bank WGI" in html


@pytest.mark.browser
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    report = _report(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(report.as_uri())
            assert page.title() == "verdikart mapping: Norway 2022"
            rows = page.locator("#mapping tbody tr")
            assert rows.count() > 20
            assert "vulnerable" in rows.first.inner_text()
            # three charts, each an SVG with drawn marks of non-zero size
            assert page.locator("figure[id^=chart-] svg").count() == 3
            assert page.locator("#chart-suppliers rect.bar").count() > 10
            assert page.locator("#chart-scatter circle.pt").count() > 20
            assert page.locator("#chart-position rect.bar").count() > 2
            box = page.locator("#chart-scatter svg").bounding_box()
            assert box is not None and box["width"] > 500 and box["height"] > 300
            assert page.locator("#sources li").count() >= 2
            # the value-chain section: every chain's picture, scaled to the page's width
            chains = page.locator("#value-chains figure.chain svg")
            assert chains.count() == 9
            wide = page.locator("#chain-aluminium").bounding_box()
            assert wide is not None and 600 < wide["width"] <= 1280
            assert page.locator("#chain-silicon text.own").count() >= 2
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()


# -- analyst-grade report (issue 15): languages, summary, stamp, A4 width, labels ----------


def _report_lang(tmp_path: Path, lang: str, fmt: str = "html") -> Path:
    out = tmp_path / f"map-NOR-2022-{lang}.{fmt}"
    res = CliRunner().invoke(
        cli,
        ["map", "--country", "NOR", "--year", "2022", "--format", fmt, "--lang", lang]
        + ["--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    return out


def test_report_in_norwegian_has_summary_stamp_and_names(tmp_path: Path) -> None:
    from verdikart import __version__

    html = _report_lang(tmp_path, "nb").read_text(encoding="utf-8")
    assert '<html lang="nb">' in html
    # the summary of findings comes before the first chart
    assert html.index('id="summary"') < html.index('id="chart-suppliers"')
    assert "Hovedfunn" in html and "Kritiske råvarer: Norges import og posisjon, 2022" in html
    assert f"med verdikart {__version__}" in html and "CEPII BACI HS92 V202401b" in html
    # Norwegian names from the reference data (materials.toml name_no), supplier countries too
    assert "Kokskull" in html and "Råfosfat" in html and "Colombia" in html
    assert "sårbar" in html and "65 %" in html
    # plain words in the table; the technical note kept behind a numbered footnote
    assert "Importavhengighet ikke beregnet" in html and 'href="#tn-1"' in html
    assert "reliance n/a: HS6 270112" in html.split('id="tech-notes"')[1]
    assert "seed" not in html.casefold()
    # the value-chain section's captions in bokmål too
    assert "NORs import over 65 % fra én leverandør: Bauksitt (TUR 91 %)" in html
    assert "norske anlegg" in html and "Norwegian plants" not in html.split("<figcaption>")[1]
    en = _report_lang(tmp_path, "en").read_text(encoding="utf-8")
    assert "Key findings" in en and "Coking coal" in en and "Import reliance not estimated" in en


def test_summary_sentences_hand_checked(tmp_path: Path) -> None:
    html = _report_lang(tmp_path, "en").read_text(encoding="utf-8")
    summary = html.split('id="summary"')[1].split("</section>")[0]
    # NOR 2022 in the bundled BACI: 27 materials, 17 net imports, coking coal 66.7 % Colombia
    assert "27 critical raw materials mapped: 17 where Norway imports more" in summary
    assert "Coking coal (66.7 % from Colombia)" in summary
    assert "Largest imports: Aluminium (USD 662 million)" in summary


def test_plain_note_words() -> None:
    from verdikart.report import plain_note

    note = "import quantity missing in 1 source row(s); reliance n/a: no zinc extraction"
    assert plain_note(note, "en") == "Some tonnes missing; import reliance not estimated"
    assert plain_note("no governance score for S19", "nb") == (
        "Én leverandør uten styringsindikator"
    )


def test_place_labels_never_overlap_or_leave_bounds() -> None:
    from verdikart.report.charts import _overlaps, place_labels, text_width

    # ten points on top of each other: all but the first few must move or be dropped (None)
    pts = [(f"material {i}", 100.0 + i, 100.0) for i in range(10)]
    spots = place_labels(pts, (0, 0, 300, 200))
    boxes = [
        (sp[0], sp[1] - 9, sp[0] + text_width(pts[k][0], 10), sp[1] + 3)
        for k, sp in enumerate(spots)
        if sp is not None
    ]
    assert len(boxes) >= 4
    for i, a in enumerate(boxes):
        assert a[0] >= 0 and a[2] <= 300 and a[1] >= 0 and a[3] <= 200
        assert not any(_overlaps(a, b, pad=0) for b in boxes[i + 1 :])


def test_report_pdf(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint") if not CHROMIUM.exists() else None
    pdf = _report_lang(tmp_path, "nb", "pdf")
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 20_000


A4_PX = 794  # 210 mm at 96 CSS px per inch


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_report_fits_a4_width_and_labels_do_not_overlap(tmp_path: Path, lang: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    report = _report_lang(tmp_path, lang)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": A4_PX, "height": 1123})
            page.goto(report.as_uri())
            for media in ("screen", "print"):
                page.emulate_media(media=media)  # type: ignore[arg-type]
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= A4_PX, (media, width)
            page.emulate_media(media="screen")
            for chart in ("chart-suppliers", "chart-scatter", "chart-position"):
                svg = page.locator(f"#{chart} svg").bounding_box()
                assert svg is not None and svg["x"] >= 0 and svg["x"] + svg["width"] <= A4_PX
                boxes = page.evaluate(
                    """id => [...document.querySelectorAll('#' + id + ' svg text')]
                        .map(t => t.getBoundingClientRect())
                        .filter(r => r.width > 0)
                        .map(r => [r.left, r.top, r.right, r.bottom])""",
                    chart,
                )
                assert len(boxes) > 5
                for i, a in enumerate(boxes):
                    # inside the picture: nothing clipped at its edges
                    assert a[0] >= svg["x"] - 0.5 and a[2] <= svg["x"] + svg["width"] + 0.5, a
                    for b in boxes[i + 1 :]:
                        overlap_w = min(a[2], b[2]) - max(a[0], b[0])
                        overlap_h = min(a[3], b[3]) - max(a[1], b[1])
                        # glyph boxes of adjacent lines may touch by a pixel, never more
                        assert overlap_w <= 1 or overlap_h <= 1, (chart, a, b)
            labels = page.locator("#chart-scatter text.pl:not(.legend)").count()
            assert labels == page.locator("#chart-scatter circle.pt").count()
            page.screenshot(path=f"/tmp/report-{lang}.png", full_page=True)
        finally:
            browser.close()
