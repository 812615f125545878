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
            assert "vulnerability" in rows.first.inner_text()
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
