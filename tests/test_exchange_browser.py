# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""Browser test of the exchange pages (Playwright + Debian chromium, real server): sign in,
register a stream through the form, see it listed, see a validation error, watch an import's
status. Skipped when chromium or Playwright is absent."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from test_exchange_support import start_server, stop_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exchange"
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def server(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(url)
    token = svc.add_user("Eramet Norway", "Anne")["token"]
    other = svc.add_user("Yara", "Bjørn")["token"]
    svc.close()
    proc, base = start_server(
        {"VERDIKART_DB_URL": url, "VERDIKART_DATA_DIR": str(tmp_path / "data")},
        log=tmp_path / "server.log",
    )
    try:
        yield {"base": base, "token": token, "other": other}
    finally:
        stop_server(proc)


def _sign_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/exchange/")
    assert "/exchange/login" in page.url
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/exchange/")


def test_register_list_and_request_pages(browser: Any, server: dict[str, str]) -> None:
    base = server["base"]
    page = browser.new_page()
    _sign_in(page, base, server["token"])
    page.click("text=Register")
    page.fill("input[name=name_public]", "Silicomanganese slag")
    page.select_option("select[name=material_class]", "slag")
    page.select_option("select[name=kind]", "by-product")
    page.select_option("select[name=region]", "Agder")
    page.fill("input[name=name]", "SiGS internal")
    page.fill("input[name=quantity]", "220000")
    page.select_option("select[name=current_treatment]", "material-recovery")
    page.fill("input[name=site_name]", "Kvinesdal")
    page.fill("input[name=lat]", "58.31")
    page.fill("input[name=lon]", "6.95")
    page.fill("textarea[name=composition]", "MnO 5-10 wt%\nSiO2 40-46 wt%")
    page.click("button:has-text('Register')")
    page.wait_for_selector("h2:has-text('Confidential details')")
    assert "SiGS internal" in page.content()
    page.click("text=Side streams")
    row = page.locator("#streams tbody tr").first
    assert "Silicomanganese slag" in row.inner_text()
    assert "≥100 kt" in row.inner_text() and "manganese" in row.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "exchange_list.png"), full_page=True)

    # A bad form shows the problems and keeps the input.
    page.goto(f"{base}/exchange/streams/new")
    page.fill("input[name=name_public]", "Broken")
    page.select_option("select[name=kind]", "waste")
    page.fill("input[name=quantity]", "10")
    page.fill("input[name=site_name]", "x")
    page.fill("input[name=ewc_code]", "99 99 99")
    page.click("button:has-text('Register')")
    alert = page.locator(".error[role=alert]")
    assert "not on the European List of Waste" in alert.inner_text()
    assert page.input_value("input[name=name_public]") == "Broken"
    page.screenshot(path=str(SHOTS / "exchange_register_error.png"), full_page=True)

    # The other organisation sees the summary only and can ask for disclosure.
    other = browser.new_page()
    _sign_in(other, base, server["other"])
    other.click("#streams tbody tr a")
    assert "SiGS internal" not in other.content()
    other.fill("input[name=message]", "for trials")
    other.click("button:has-text('Request disclosure')")
    assert "is pending" in other.locator("main").inner_text()
    other.screenshot(path=str(SHOTS / "exchange_stream_summary.png"), full_page=True)


def test_import_page_shows_status(browser: Any, server: dict[str, str]) -> None:
    page = browser.new_page()
    _sign_in(page, server["base"], server["token"])
    page.click("text=Import")
    page.set_input_files("input[name=file]", str(FIXTURES / "streams_template.csv"))
    page.click("button:has-text('Import')")
    page.wait_for_url("**/exchange/imports/*")
    # a selector, not wait_for_function: the pages' Content-Security-Policy forbids eval
    page.wait_for_selector("#status:text-is('done')")
    assert "stream(s) imported" in page.locator("#rows").inner_text()
    page.screenshot(path=str(SHOTS / "exchange_import.png"), full_page=True)
