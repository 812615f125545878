# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The atlas's supplier-register pages (issue #12): real HTTP requests through FastAPI's
TestClient against a real database (SQLite; PostgreSQL when reachable), each page in bokmål
and English, the need page's matches exactly the API's (score, explanation in the page's
language), a supplier's confidential fields never in the HTML of a buyer it did not share with
and there after it shares, 404 pages for unknown ids and 422 pages for malformed parameters."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from test_exchange_support import auth, db_url, service
from test_suppliers import FIX, IN_50, SESAM, VARIANT, _alpha, _beta, _need
from verdikart.web.atlas_text import TEXT, num

# every confidential field of the two suppliers (details tier only)
ALPHA_SECRETS = ("ALPHA-SECRET", ">ALPHA<", "HEMMELIG")
BETA_SECRETS = ("BETA-SECRET", "BETA1")


def tx(key: str, lang: str) -> str:
    return TEXT[key][0 if lang == "nb" else 1]


@pytest.fixture
def web(service: Any, tmp_path: Path) -> Iterator[TestClient]:
    from verdikart.web import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERDIKART_DATA_DIR", str(tmp_path / "data"))
        mp.delenv("VERDIKART_STORE", raising=False)
        from verdikart.config import Settings

        with TestClient(create_app(Settings(), service=service)) as c:
            yield c


@pytest.fixture
def world(web: TestClient, service: Any) -> dict[str, Any]:
    """Buyer AS owns a need that Alpha AS and Beta AS match (Beta not yet sharing); Other AS
    has nothing; one offset obligation entered by a platform administrator."""
    from verdikart.register.service import RegisterService

    reg = RegisterService(service)
    reg.import_file(FIX / "enheter.json.gz")
    names = ("Buyer AS", "Other AS", "Alpha AS", "Beta AS")
    tok = {n: service.add_user(n, n[:3])["token"] for n in names}
    tok["admin"] = service.add_user("Register operator", "op", role="platform")["token"]
    h = {n: auth(t) for n, t in tok.items()}
    alpha = web.put("/api/suppliers/profile", json=_alpha(), headers=h["Alpha AS"]).json()["id"]
    beta = web.put("/api/suppliers/profile", json=_beta(), headers=h["Beta AS"]).json()["id"]
    need = web.post("/api/suppliers/needs", json=_need(), headers=h["Buyer AS"]).json()["id"]
    offset = {
        "foreign_supplier": "TEST SUPPLIER A (illustrative)",
        "programme": "TEST PROGRAMME",
        "value_nok": 1_500_000_000,
        "period_start": "2024-01-01",
        "period_end": "2031-12-31",
        "sectors": ["defence", "maritime"],
        "source_text": "test entry, no real obligation",
    }
    got = web.post("/api/suppliers/offsets", json=offset, headers=h["admin"])
    assert got.status_code == 201, got.text
    return {"tok": tok, "h": h, "alpha": alpha, "beta": beta, "need": need}


def sign_in(client: TestClient, token: str) -> None:
    client.cookies.clear()
    response = client.post("/exchange/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303


def page(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == status, (url, response.status_code, response.text[-500:])
    assert "Traceback" not in response.text
    return response.text


def assert_hidden(html: str, secrets: tuple[str, ...]) -> None:
    for secret in secrets:
        assert secret not in html and secret not in unescape(html), f"leaked {secret!r}"


def test_pages_need_a_sign_in(web: TestClient) -> None:
    for path in ("/suppliers", "/suppliers/needs", "/suppliers/offsets", "/suppliers/needs/x"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/exchange/login"


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_search_page_both_languages(web: TestClient, world: dict[str, Any], lang: str) -> None:
    sign_in(web, world["tok"]["Other AS"])
    html = page(web, f"/suppliers?lang={lang}")
    assert tx("suppliers", lang) in html and tx("sup_give_criteria", lang) in html
    assert 'href="/suppliers?lang=' in html  # the atlas navigation links here
    api = web.get("/api/suppliers/units?nace=24&county=46", headers=world["h"]["Other AS"]).json()
    html = page(web, f"/suppliers?lang={lang}&nace=24&county=46")
    assert api and all(u["organisation_number"] in html for u in api)
    assert VARIANT in html and SESAM not in html  # Oslo is county 03
    by_number = page(web, f"/suppliers?lang={lang}&q={SESAM}")
    assert SESAM in by_number
    name = web.get(f"/api/suppliers/units/{SESAM}", headers=world["h"]["Other AS"]).json()["name"]
    by_name = page(web, f"/suppliers?lang={lang}&q={name[:5].lower()}")
    assert SESAM in by_name
    profiles = page(web, f"/suppliers?lang={lang}&scheme=cpv&code=44000000")
    assert "Alpha: silicon metal" in profiles and "Beta: ferrosilicon" in profiles
    assert_hidden(profiles, ALPHA_SECRETS + BETA_SECRETS + ("AQAP",))
    none = page(web, f"/suppliers?lang={lang}&scheme=cpv&code=45000000")
    assert tx("sup_no_profiles", lang) in none


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_needs_and_offsets_pages_both_languages(
    web: TestClient, world: dict[str, Any], lang: str
) -> None:
    sign_in(web, world["tok"]["Buyer AS"])
    html = page(web, f"/suppliers/needs?lang={lang}")
    assert tx("sup_own_needs", lang) in html and tx("sup_manual", lang) in html
    assert f"/suppliers/needs/{world['need']}?lang={lang}" in html
    deadline = _need()["deadline"]
    y, m, d = deadline.split("-")
    assert (f"{d}.{m}.{y}" if lang == "nb" else deadline) in html
    offsets = page(web, f"/suppliers/offsets?lang={lang}")
    assert "TEST SUPPLIER A (illustrative)" in offsets
    assert num(1_500_000_000, lang, 0) in offsets  # 1 500 000 000 / 1,500,000,000
    assert tx("maritime", lang) in offsets and tx("sup_offsets_intro", lang) in offsets
    assert "TEST SUPPLIER" not in page(web, f"/suppliers/offsets?lang={lang}&sector=energy")
    assert "TEST SUPPLIER" not in page(web, f"/suppliers/offsets?lang={lang}&active_on=2032-01-01")
    assert "TEST SUPPLIER" in page(web, f"/suppliers/offsets?lang={lang}&active_on=2030-01-01")


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_needs_page_ranks_needs_for_the_own_profile(
    web: TestClient, world: dict[str, Any], lang: str
) -> None:
    sign_in(web, world["tok"]["Beta AS"])
    html = page(web, f"/suppliers/needs?lang={lang}")
    api = web.get("/api/suppliers/profile/matches", headers=world["h"]["Beta AS"]).json()
    (m,) = api["matches"]
    assert tx("sup_fitting", lang) in html and m["need_id"] == world["need"]
    assert num(m["score"], lang, 2) in html and m["explanation"][lang] in unescape(html)
    sign_in(web, world["tok"]["Other AS"])  # no profile: no such table
    assert tx("sup_fitting", lang) not in page(web, f"/suppliers/needs?lang={lang}")


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_need_page_has_the_apis_matches_and_confidentiality(
    web: TestClient, world: dict[str, Any], lang: str
) -> None:
    h, need = world["h"], world["need"]
    sign_in(web, world["tok"]["Buyer AS"])
    html = page(web, f"/suppliers/needs/{need}?lang={lang}")
    api = web.get(f"/api/suppliers/needs/{need}/matches", headers=h["Buyer AS"]).json()
    assert [m["organisation"] for m in api["matches"]] == ["Alpha AS", "Beta AS"]
    for m in api["matches"]:
        assert m["organisation"] in html and num(m["score"], lang, 2) in html
        assert m["explanation"][lang] in unescape(html)
        assert m["access"] == "public"
    assert html.index("Alpha AS") < html.index("Beta AS")
    # Beta's AQAP 2110 expiry date is in its details tier only (the need names the standard)
    y, mo, d = IN_50.split("-")
    expiry = f"{d}.{mo}.{y}" if lang == "nb" else IN_50
    assert_hidden(html, ALPHA_SECRETS + BETA_SECRETS + (expiry,))
    # Beta shares its details with the buyer: its confidential fields appear, Alpha's never
    shared = web.post(f"/api/suppliers/profiles/{world['beta']}/shares",
                      json={"buyer": "Buyer AS"}, headers=h["Beta AS"])  # fmt: skip
    assert shared.status_code == 200, shared.text
    html = page(web, f"/suppliers/needs/{need}?lang={lang}")
    api = web.get(f"/api/suppliers/needs/{need}/matches", headers=h["Buyer AS"]).json()
    beta = next(m for m in api["matches"] if m["organisation"] == "Beta AS")
    assert beta["access"] == "details" and beta["explanation"][lang] in unescape(html)
    assert num(beta["score"], lang, 2) in html
    for secret in (*BETA_SECRETS, expiry):
        assert secret in html
    assert_hidden(html, ALPHA_SECRETS[:2])  # (Beta's clearance is HEMMELIG too)
    # another organisation sees the need (public, as the API's GET /needs/{id}) but no matches
    sign_in(web, world["tok"]["Other AS"])
    other = page(web, f"/suppliers/needs/{need}?lang={lang}")
    assert _need()["title"] in other and tx("sup_not_owner", lang) in other
    assert "Beta AS" not in other and "Alpha AS" not in other
    assert_hidden(other, ALPHA_SECRETS + BETA_SECRETS)
    # Beta stops sharing: its details are gone from the buyer's page again
    web.delete(f"/api/suppliers/profiles/{world['beta']}/shares/Buyer AS", headers=h["Beta AS"])
    sign_in(web, world["tok"]["Buyer AS"])
    assert_hidden(page(web, f"/suppliers/needs/{need}?lang={lang}"), ALPHA_SECRETS + BETA_SECRETS)


def test_unknown_ids_404_and_bad_parameters_422(web: TestClient, world: dict[str, Any]) -> None:
    sign_in(web, world["tok"]["Other AS"])
    guessed = "0123456789abcdef0123456789abcdef"
    html = page(web, f"/suppliers/needs/{guessed}?lang=en", 404)
    assert tx("not_found", "en") in html and guessed in html
    assert tx("not_found", "nb") in page(web, f"/suppliers/needs/{guessed}?lang=nb", 404)
    for url in (
        "/suppliers/needs/abc-def",
        "/suppliers?county=4x",
        "/suppliers?county=046",
        "/suppliers?nace=abc",
        "/suppliers?q=123456789",  # fails the mod-11 check digit
        "/suppliers?scheme=duns&code=1",
        "/suppliers?scheme=cpv&code=123",
        "/suppliers?scheme=material&code=unobtainium",
        "/suppliers/offsets?sector=space",
        "/suppliers/offsets?active_on=2026-13-01",
        "/suppliers/needs?lang=xx",
    ):
        html = page(web, url, 422)
        assert tx("bad_request", "en") in html or tx("bad_request", "nb") in html, url


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_eforms_need_page_shows_its_lots(web: TestClient, world: dict[str, Any], lang: str) -> None:
    from test_suppliers import EFORMS

    notice = (EFORMS / "pin-only_24_lots.xml").read_bytes()
    got = web.post("/api/suppliers/needs/eforms?name=pin.xml", content=notice,
                   headers={**world["h"]["Buyer AS"], "Content-Type": "application/xml"})  # fmt: skip
    assert got.status_code == 201, got.text
    need_id = got.json()[0]["need_id"]
    need = web.get(f"/api/suppliers/needs/{need_id}", headers=world["h"]["Buyer AS"]).json()
    sign_in(web, world["tok"]["Buyer AS"])
    html = page(web, f"/suppliers/needs/{need_id}?lang={lang}")
    assert tx("sup_eforms", lang).format(id=need["notice_id"]) in unescape(html)
    assert html.count("<tr><td>") >= len(need["lots"]) == 10
    assert all(lot["id"] in html for lot in need["lots"])
    listed = page(web, f"/suppliers/needs?lang={lang}")
    assert f"/suppliers/needs/{need_id}?lang={lang}" in listed


# ---------------------------------------------------------------- browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.mark.browser
def test_browser_accessibility_of_the_supplier_pages(tmp_path: Path) -> None:
    """axe-core on the supplier pages in both languages, signed in as the buyer (its need's
    page with a supplier that shares its details): no serious or critical violation, and the
    pages fit a laptop screen."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    from test_exchange_support import start_server, stop_server
    from verdikart.exchange.service import ExchangeService
    from verdikart.register.service import RegisterService

    db = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    svc = ExchangeService(db)
    try:
        reg = RegisterService(svc)
        reg.import_file(FIX / "enheter.json.gz")
        tok = {n: svc.add_user(n, n[:3])["token"] for n in ("Buyer AS", "Alpha AS", "Beta AS")}
        who = {n: svc.authenticate(t) for n, t in tok.items()}
        reg.put_profile(who["Alpha AS"], _alpha())
        beta = reg.put_profile(who["Beta AS"], _beta())["id"]
        reg.share(who["Beta AS"], beta, "Buyer AS")
        need = reg.create_need(who["Buyer AS"], _need())["id"]
    finally:
        svc.close()
    proc, base = start_server(
        {"VERDIKART_DATA_DIR": str(tmp_path / "data"), "VERDIKART_DB_URL": db},
        log=tmp_path / "server.log",
    )
    paths = (
        "/suppliers?nace=24&scheme=cpv&code=44000000",
        "/suppliers/needs",
        f"/suppliers/needs/{need}",
        f"/suppliers/profiles/{beta}",
        "/suppliers/offsets",
    )
    found: dict[str, list[str]] = {}
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(base + "/exchange/login")
                page.fill("input[name=token]", tok["Buyer AS"])
                page.click("button[type=submit]")
                page.wait_for_url("**/exchange/")
                axe = axe_sync.Axe()
                tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
                for path in paths:
                    for lang in ("nb", "en"):
                        sep = "&" if "?" in path else "?"
                        page.goto(f"{base}{path}{sep}lang={lang}", timeout=120_000)
                        assert page.locator("h1").count() == 1
                        overflow = page.evaluate(
                            "document.documentElement.scrollWidth"
                            " - document.documentElement.clientWidth"
                        )
                        assert overflow <= 0, (path, overflow)
                        results = axe.run(
                            page, options={"runOnly": {"type": "tag", "values": tags}}
                        )
                        assert results.response["passes"], "axe ran no rule"
                        for v in results.response["violations"]:
                            if v["impact"] in ("serious", "critical"):
                                targets = [n["target"] for n in v["nodes"][:3]]
                                found.setdefault(f"{path} {lang}", []).append(
                                    f"{v['id']}: {targets}"
                                )
                page.goto(f"{base}/suppliers/needs/{need}?lang=en")
                page.click("details summary")
                assert "BETA1" in page.locator("details").first.inner_text()
                page.screenshot(path=str(tmp_path / "need.png"), full_page=True)
            finally:
                browser.close()
    finally:
        stop_server(proc)
    assert not found, found
    assert "Traceback" not in (tmp_path / "server.log").read_text("utf-8", errors="replace")


def test_need_page_reads_are_audited_for_the_supplier(
    web: TestClient, service: Any, world: dict[str, Any]
) -> None:
    """A shared supplier's details shown on the buyer's page are logged in the supplier's
    audit trail (the match's read and the profile read); a supplier that did not share has
    no read logged, and another organisation's visit logs none."""
    h = world["h"]
    web.post(f"/api/suppliers/profiles/{world['beta']}/shares", json={"buyer": "Buyer AS"},
             headers=h["Beta AS"])  # fmt: skip
    sign_in(web, world["tok"]["Other AS"])
    page(web, f"/suppliers/needs/{world['need']}")
    sign_in(web, world["tok"]["Buyer AS"])
    page(web, f"/suppliers/needs/{world['need']}")
    beta = service.authenticate(world["tok"]["Beta AS"])
    alpha = service.authenticate(world["tok"]["Alpha AS"])
    reads = [e for e in service.audit_trail(beta) if e["action"] == "profile.read-details"]
    assert {e["actor_organisation"] for e in reads} == {"Buyer AS"}
    assert [e["detail"].get("via") for e in reads].count("match") == 1
    assert not [e for e in service.audit_trail(alpha) if e["action"] == "profile.read-details"]


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_profile_page_shows_details_only_to_owner_and_shared(
    web: TestClient, world: dict[str, Any], lang: str
) -> None:
    h, url = world["h"], f"/suppliers/profiles/{world['beta']}?lang={lang}"
    sign_in(web, world["tok"]["Buyer AS"])
    html = page(web, url)
    assert "Beta: ferrosilicon" in html and tx("sup_profile_public", lang) in html
    assert tx("sup_details_not_shared", lang) in html
    assert_hidden(html, BETA_SECRETS + ("HEMMELIG", "AQAP"))
    assert f"/suppliers/profiles/{world['beta']}?lang={lang}" in page(
        web, f"/suppliers?lang={lang}&scheme=nace&code=24"
    )  # the search links to the profile
    web.post(f"/api/suppliers/profiles/{world['beta']}/shares", json={"buyer": "Buyer AS"},
             headers=h["Beta AS"])  # fmt: skip
    html = page(web, url)
    assert tx("sup_profile_shared", lang) in html
    for secret in (*BETA_SECRETS, "HEMMELIG", "AQAP 2110"):
        assert secret in html
    sign_in(web, world["tok"]["Other AS"])  # not shared with
    assert_hidden(page(web, url), BETA_SECRETS + ("HEMMELIG", "AQAP"))
    sign_in(web, world["tok"]["Alpha AS"])  # its own profile
    own = page(web, f"/suppliers/profiles/{world['alpha']}?lang={lang}")
    assert tx("sup_profile_owner", lang) in own and "ALPHA-SECRET" in own
    page(web, "/suppliers/profiles/0123456789abcdef0123456789abcdef", 404)
    page(web, "/suppliers/profiles/not-an-id", 422)
