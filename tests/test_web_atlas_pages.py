"""The atlas's scenario, watch and exchange pages (issue 11): real HTTP requests through
FastAPI's TestClient in bokmål and English, the numbers shown equal the core's for the same
query, 422 pages for bad parameters (never 500), the exchange matches page with exactly the
API's confidentiality (another organisation's confidential fields never in the HTML); one
Chromium test that submits the scenario form and sees the result."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from test_exchange_support import (  # the exchange tests' fixtures and helpers
    SECRETS,
    auth,
    db_url,  # noqa: F401 -- a fixture (SQLite and PostgreSQL)
    service,  # noqa: F401 -- a fixture
    stream_payload,
)
from verdikart.web.atlas_text import TEXT, num, pct

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def tx(key: str, lang: str) -> str:
    return TEXT[key][0 if lang == "nb" else 1]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app over the bundled data for the module (a fresh data dir and exchange database)."""
    from verdikart.web import create_app

    data = tmp_path_factory.mktemp("atlas-pages")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERDIKART_DATA_DIR", str(data))
        mp.setenv("VERDIKART_DB_URL", f"sqlite:///{data / 'exchange.sqlite'}")
        mp.delenv("VERDIKART_STORE", raising=False)
        from verdikart.config import Settings

        with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
            yield c


@pytest.fixture(scope="module")
def core(client: TestClient) -> Iterator[Any]:
    with client.app.state.verdikart.reader() as reader:  # type: ignore[attr-defined]
        yield reader


def get(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == status, (url, response.status_code, response.text[-500:])
    assert "content-security-policy" in response.headers
    assert "Traceback" not in response.text
    return response.text


# ---------------------------------------------------------------- scenarios


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_scenario_form_both_languages(client: TestClient, lang: str) -> None:
    client.cookies.clear()
    html = get(client, f"/scenarios?lang={lang}")
    assert f'lang="{lang}"' in html
    assert tx("scenario_intro", lang) in unescape(html)
    assert 'value="cn-graphite-2023"' in html  # the shipped scenarios are offered
    assert 'id="scenario-table"' not in html  # no result before the form is sent
    assert 'href="/scenarios?lang=' in html and 'href="/watch?lang=' in html  # navigation


def test_scenario_shock_result_equals_the_core(client: TestClient, core: Any) -> None:
    client.cookies.clear()
    html = get(client, "/scenarios?lang=nb&supplier=CHN&material=graphite&change=-100")
    expected = core.scenario(shocks=["CHN:graphite:-100%"], importers=["NOR"], language="nb")
    assert expected.rows
    rows = re.findall(r"<tr>\s*<td>", html.split('id="scenario-table"')[1].split("</table>")[0])
    assert len(rows) == len(expected.rows)
    first = expected.rows[0]
    for value in (first["lost_share"], first["resourced_share"], first["residual_gap_share"]):
        assert pct(value, "nb") in html
    assert num(first["import_value_kusd"], "nb") in html
    assert 'id="scenario-chart"' in html
    assert "Norge" in html  # the importer's Norwegian name
    # the form keeps its state (shareable URL)
    assert 'name="supplier" id="f-supplier" value="CHN"' in html
    assert 'value="graphite" selected' in html


def test_shipped_scenario_in_english(client: TestClient) -> None:
    client.cookies.clear()
    html = unescape(get(client, "/scenarios?lang=en&scenario=cn-graphite-2023"))
    assert "China stops exporting natural graphite" in html
    assert tx("knock_on_stages", "en") in html
    assert tx("assumptions", "en") in html


@pytest.mark.parametrize(
    "query",
    [
        "scenario=/etc/passwd",  # only shipped ids, never a path
        "scenario=nope",
        "supplier=CHN",  # a shock needs a material too
        "material=graphite",
        "supplier=Narnia&material=graphite",
        "supplier=CHN&material=unobtainium",
        "supplier=CHN&material=graphite&change=-150",
        "supplier=CHN&material=graphite&change=half",
        "supplier=CHN&material=graphite&year=abc",
        "supplier=CHN&material=graphite&basis=weight",
        "supplier=CHN%3Acobalt&material=graphite",
        "lang=xx",
    ],
)
def test_scenario_bad_parameters_are_422_pages(client: TestClient, query: str) -> None:
    client.cookies.clear()
    html = get(client, f"/scenarios?{query}", 422)
    assert 'role="alert"' in html
    assert "<h1>" in html


def test_scenario_year_without_trade_is_a_readable_page(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/scenarios?lang=en&supplier=CHN&material=graphite&year=1990")
    assert response.status_code in (200, 404, 422)
    assert "Traceback" not in response.text


def test_scenario_downloads_equal_the_page(client: TestClient, core: Any) -> None:
    import csv
    import io

    client.cookies.clear()
    url = "/scenarios?lang=en&supplier=CHN&material=graphite&change=-100"
    html = get(client, url)
    assert "format=csv&amp;table=scenario" in html and "format=xlsx&amp;table=scenario" in html
    response = client.get(url + "&format=csv&table=scenario")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = core.scenario(shocks=["CHN:graphite:-100%"], importers=["NOR"], language="en")
    assert [r["Importer"] for r in rows] == [r["importer"] for r in expected.rows]
    assert float(rows[0]["Lost share (0–1)"]) == pytest.approx(expected.rows[0]["lost_share"])
    xlsx = client.get(url + "&format=xlsx&table=knock_on")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    get(client, "/scenarios?lang=en&format=csv", 422)  # nothing to download before a run
    get(client, url + "&table=nope", 422)
    get(client, url + "&format=pdf", 422)


# ---------------------------------------------------------------- watch


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_watch_both_languages_equals_the_core(client: TestClient, core: Any, lang: str) -> None:
    client.cookies.clear()
    html = get(client, f"/watch?lang={lang}&since=2025-01-01")
    expected = core.watch(["NOR"], since="2025-01-01", record=False, language=lang)
    assert expected
    assert len(re.findall(r'<tr class="alert"', html)) == len(expected)
    text = unescape(html)
    for alert in expected:
        assert alert["evidence"] in text
        assert alert["date"] >= "2025-01-01" or str(alert.get("first_seen")) >= "2025-01-01"
    assert tx("alerts_since", lang).split("{n}")[1].split("{since}")[0].strip() in text


def test_watch_download_in_bokmaal(client: TestClient, core: Any) -> None:
    client.cookies.clear()
    response = client.get("/watch?lang=nb&since=2025-01-01&format=csv&table=alerts")
    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    header, *lines = body.strip().split("\n")
    assert header.startswith("Id;Dato;Regel;")
    expected = core.watch(["NOR"], since="2025-01-01", record=False, language="nb")
    assert [line.split(";")[0] for line in lines] == [a["id"] for a in expected]


def test_watch_rule_filter_and_bad_values(client: TestClient) -> None:
    client.cookies.clear()
    html = get(client, "/watch?lang=en&rule=policy_event")
    rules = re.findall(
        r'<tr class="alert" id="[^"]+">\s*<td class="n">[^<]*</td><td>([^<]*)</td>', html
    )
    assert rules and set(rules) == {tx("policy_event", "en")}
    for query in ("since=yesterday", "since=2025-13-01", "rule=bogus", "country=Narnia"):
        get(client, f"/watch?{query}", 422)
    assert not (Path(client.app.state.verdikart.settings.data_dir) / "watch-seen.json").exists()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- exchange pages


# every form in which a secret of stream_payload() could be printed on a page
SECRET_FORMS = (
    *SECRETS,
    num(123_456.0, "nb"),
    num(123_456.0, "en"),
    "123 456",
    "6,4821",
    "Kvinesdal",
    "kari@",
)
B_SECRETS = ("B's slag need", "B plant", "MnO &gt;= 5", "MnO >= 5")


@pytest.fixture
def xclient(service: Any, tmp_path: Path) -> Iterator[TestClient]:  # noqa: F811
    """An app over the bundled data and the exchange `service` (SQLite and PostgreSQL)."""
    from verdikart.web import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERDIKART_DATA_DIR", str(tmp_path / "data"))
        mp.delenv("VERDIKART_STORE", raising=False)
        from verdikart.config import Settings

        with TestClient(create_app(Settings(), service=service)) as c:
            yield c


@pytest.fixture
def world(xclient: TestClient, service: Any) -> dict[str, Any]:  # noqa: F811
    """A owns a secret stream (stream_payload); B has a slag need it matches; C has nothing."""
    tokens = {
        "a": service.add_user("Org A", "Ann")["token"],
        "b": service.add_user("Org B", "Bob")["token"],
        "c": service.add_user("Org C", "Cid")["token"],
    }
    h = {k: auth(v) for k, v in tokens.items()}
    stream_id = xclient.post("/api/exchange/streams", json=stream_payload(), headers=h["a"]).json()[
        "id"
    ]
    need = {
        "name": "B's slag need",
        "material_class": "slag",
        "limits": ["MnO >= 5 wt%", "SiO2 lowest possible"],
        "site": {"name": "B plant", "lat": 59.1, "lon": 9.6},
    }
    need_id = xclient.post("/api/exchange/needs", json=need, headers=h["b"]).json()["id"]
    return {"tokens": tokens, "h": h, "stream": stream_id, "need": need_id}


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
        assert secret not in html, f"leaked {secret!r}"
        assert secret not in unescape(html), f"leaked {secret!r}"


def test_exchange_pages_need_a_sign_in(xclient: TestClient) -> None:
    xclient.cookies.clear()
    for path in ("/exchange/needs", "/exchange/matches", "/exchange/potential"):
        response = xclient.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/exchange/login"


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_needs_page_both_languages(xclient: TestClient, world: dict[str, Any], lang: str) -> None:
    sign_in(xclient, world["tokens"]["b"])
    html = page(xclient, f"/exchange/needs?lang={lang}")
    assert f'lang="{lang}"' in html and tx("own_needs", lang) in unescape(html)
    assert "B&#39;s slag need" in html or "B's slag need" in html  # B's own need in full
    assert f"/exchange/matches?need={world['need']}" in html
    sign_in(xclient, world["tokens"]["c"])
    other = page(xclient, f"/exchange/needs?lang={lang}")
    # C sees B's need as the API shows it: material class and county only
    api = xclient.get("/api/exchange/needs?mine=false", headers=world["h"]["c"]).json()
    assert api == [{"id": world["need"], "material_class": "slag", "region": None}]
    assert "<td>slag</td><td>–</td>" in other
    assert_hidden(other, B_SECRETS)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_matches_page_has_the_apis_confidentiality(
    xclient: TestClient, world: dict[str, Any], lang: str
) -> None:
    # B's need matches A's stream: the page shows exactly the API's summary, no secret of A's
    sign_in(xclient, world["tokens"]["b"])
    html = page(xclient, f"/exchange/matches?lang={lang}")
    (api,) = xclient.get(
        f"/api/exchange/needs/{world['need']}/matches", headers=world["h"]["b"]
    ).json()
    assert api["access"] == "summary" and api["stream_id"] == world["stream"]
    assert f"/exchange/streams/{world['stream']}" in html
    assert api["name_public"] in html and tx("access_summary", lang) in html
    assert_hidden(html, SECRET_FORMS)
    assert tx("score", lang) not in html.split("<tbody>", 1)[1]  # no score for a summary match
    # A's stream matched against B's need: A sees only the need's class and county
    sign_in(xclient, world["tokens"]["a"])
    mine = page(xclient, f"/exchange/matches?lang={lang}")
    (sm,) = xclient.get(
        f"/api/exchange/streams/{world['stream']}/matches", headers=world["h"]["a"]
    ).json()
    assert sm["need"] == {"id": world["need"], "material_class": "slag", "region": None}
    assert tx("other_organisation", lang) in unescape(mine)
    assert_hidden(mine, B_SECRETS)
    # C has nothing to match and sees no one's data
    sign_in(xclient, world["tokens"]["c"])
    none = page(xclient, f"/exchange/matches?lang={lang}")
    assert tx("nothing_to_match", lang) in unescape(none)
    assert_hidden(none, SECRET_FORMS + B_SECRETS)


def test_matches_after_disclosure_show_what_the_api_shows(
    xclient: TestClient, world: dict[str, Any]
) -> None:
    h = world["h"]
    request_id = xclient.post(
        f"/api/exchange/streams/{world['stream']}/disclosure-requests", headers=h["b"]
    ).json()["id"]
    xclient.post(f"/api/exchange/disclosure-requests/{request_id}/accept", headers=h["a"])
    (api,) = xclient.get(f"/api/exchange/needs/{world['need']}/matches", headers=h["b"]).json()
    assert api["access"] == "disclosed"
    sign_in(xclient, world["tokens"]["b"])
    html = page(xclient, f"/exchange/matches?lang=nb&need={world['need']}")
    assert tx("access_disclosed", "nb") in html
    assert num(api["quantity_t_per_year"], "nb") in html  # the disclosed quantity, 123 456
    mno = next(x for x in api["limits"] if x["component"] == "MnO")
    shown = f"MnO &gt;= {pct(mno['limit_value'], 'nb')} ({pct(mno['value_min'], 'nb')}): oppfylt"
    assert shown in html
    # a third organisation still sees nothing of it anywhere on its pages
    sign_in(xclient, world["tokens"]["c"])
    for path in ("/exchange/needs", "/exchange/matches", "/exchange/potential?material=manganese"):
        assert_hidden(page(xclient, path + ("&" if "?" in path else "?") + "lang=en"), SECRET_FORMS)


def test_matches_page_matches_three_of_each_unless_one_is_chosen(
    xclient: TestClient, world: dict[str, Any]
) -> None:
    h = world["h"]
    ids = []
    for i in range(4):
        need = {"name": f"B need {i}", "material_class": "slag", "limits": ["MnO >= 1 wt%"],
                "site": {"name": "B site", "lat": 59.1, "lon": 9.6}}  # fmt: skip
        ids.append(xclient.post("/api/exchange/needs", json=need, headers=h["b"]).json()["id"])
    sign_in(xclient, world["tokens"]["b"])
    html = page(xclient, "/exchange/matches?lang=en")
    assert html.count('<section class="match-need">') == 3
    assert tx("choose_more", "en") in unescape(html)
    one = page(xclient, f"/exchange/matches?lang=nb&need={ids[0]}")
    assert one.count('<section class="match-need">') == 1 and "B need 0" in one
    assert tx("choose_more", "nb") not in unescape(one)


def test_matches_page_bad_and_foreign_ids(xclient: TestClient, world: dict[str, Any]) -> None:
    sign_in(xclient, world["tokens"]["c"])
    # another organisation's need or stream: the same 404 as an id that does not exist
    assert "B&#39;s" not in page(xclient, f"/exchange/matches?need={world['need']}", 404)
    page(xclient, f"/exchange/matches?stream={world['stream']}", 404)
    page(xclient, "/exchange/matches?need=0123456789abcdef0123456789abcdef", 404)
    page(xclient, "/exchange/matches?need=../../etc", 422)
    page(xclient, "/exchange/matches?lang=xx", 422)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_potential_page_equals_the_api(
    xclient: TestClient, world: dict[str, Any], lang: str
) -> None:
    sign_in(xclient, world["tokens"]["b"])
    html = page(xclient, f"/exchange/potential?lang={lang}&material=manganese")
    api = xclient.get("/api/exchange/potential?material=manganese", headers=world["h"]["b"]).json()
    assert api["released"] is False  # one other organisation: withheld
    assert tx("withheld", lang) in html
    assert num(api["imports_t"], lang) in html
    assert pct(api["import_grade"], lang) in html
    assert_hidden(html, SECRET_FORMS)
    # A's own stream is its own data: shown apart, exactly
    sign_in(xclient, world["tokens"]["a"])
    own = page(xclient, f"/exchange/potential?lang={lang}&material=manganese")
    mine = xclient.get("/api/exchange/potential?material=manganese", headers=world["h"]["a"]).json()
    assert mine["own"]["n_streams"] == 1
    assert num(mine["own"]["secondary_t_max"], lang) in own


def test_potential_page_bad_values(xclient: TestClient, world: dict[str, Any]) -> None:
    sign_in(xclient, world["tokens"]["b"])
    page(xclient, "/exchange/potential?material=cobalt", 422)
    page(xclient, "/exchange/potential?material=manganese&year=abc", 422)
    # a year without imports answers as the API does (no figures), never a 500
    api = xclient.get(
        "/api/exchange/potential?material=manganese&year=1990", headers=world["h"]["b"]
    )
    assert api.status_code == 200
    page(xclient, "/exchange/potential?material=manganese&year=1990&lang=en")
    page(xclient, "/exchange/potential?material=manganese&year=3000", 422)


# ---------------------------------------------------------------- browser


@pytest.mark.browser
def test_browser_runs_a_scenario_from_the_form(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_exchange_support import start_server, stop_server

    proc, base = start_server(
        {"VERDIKART_DATA_DIR": str(tmp_path / "data"),
         "VERDIKART_DB_URL": f"sqlite:///{tmp_path / 'exchange.sqlite'}"},
        log=tmp_path / "server.log",
    )  # fmt: skip
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                errors: list[str] = []
                failed: list[str] = []
                # a CSP violation is a console error; a failed asset a response >= 400 (the
                # browser's own /favicon.ico probe aside)
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
                        failed.append(r.url)
                        if r.status >= 400 and not r.url.endswith("/favicon.ico")
                        else None
                    ),
                )
                page.goto(base + "/scenarios?lang=en")
                assert "Scenarios" in page.locator("h1").inner_text()
                # on submit the page says it is computing (static/atlas_pages.js); seen here on a
                # submit held back, as the real one replaces the page
                assert not page.get_by_role("status").is_visible()
                held = page.evaluate(
                    """() => {
                        const form = document.getElementById("scenario-form");
                        form.addEventListener("submit", (e) => e.preventDefault());
                        form.requestSubmit();
                        const note = document.querySelector("p.progress");
                        return [getComputedStyle(note).display, note.textContent];
                    }"""
                )
                assert held == ["block", "Computing … this may take a few seconds."]
                page.goto(base + "/scenarios?lang=en")
                page.get_by_label("Supplier country").fill("CHN")
                page.locator("#f-material").select_option("graphite")
                page.get_by_label("Change in exports (%)").fill("-100")
                page.get_by_role("button", name="Run").click()
                page.wait_for_selector("#scenario-table", timeout=240_000)
                assert "supplier=CHN" in page.url and "material=graphite" in page.url
                first = page.locator("#scenario-table tbody tr").first.inner_text()
                assert "Norway" in first and "%" in first
                assert page.locator("#scenario-chart").is_visible()
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0
                # the language switch keeps the scenario (state in the query string)
                page.get_by_role("link", name="norsk").click()
                page.wait_for_selector("#scenario-table", timeout=240_000)
                assert "Norge" in page.locator("#scenario-table tbody tr").first.inner_text()
                assert not errors, errors
                assert not failed, failed
            finally:
                browser.close()
    finally:
        stop_server(proc)
    assert "Traceback" not in (tmp_path / "server.log").read_text("utf-8", errors="replace")


@pytest.mark.browser
def test_browser_accessibility_of_the_new_pages(tmp_path: Path) -> None:
    """axe-core (bundled in the axe-playwright-python wheel) on the scenario, watch and
    exchange pages in both languages, signed in as a demo organisation: no serious or
    critical violation; the exchange pages fit a laptop screen."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    from test_exchange_support import start_server, stop_server
    from verdikart.exchange.demo import load_demo
    from verdikart.exchange.service import ExchangeService

    db = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    svc = ExchangeService(db)
    try:
        token = {r["organisation"]: r["token"] for r in load_demo(svc)}["Kemira Chemicals"]
    finally:
        svc.close()
    proc, base = start_server(
        {"VERDIKART_DATA_DIR": str(tmp_path / "data"), "VERDIKART_DB_URL": db},
        log=tmp_path / "server.log",
    )
    paths = (
        "/scenarios?scenario=cn-graphite-2023",
        "/watch?since=2025-01-01",
        "/exchange/needs",
        "/exchange/matches",
        "/exchange/potential?material=manganese",
    )
    found: dict[str, list[str]] = {}
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(base + "/exchange/login")
                page.fill("input[name=token]", token)
                page.click("button[type=submit]")
                page.wait_for_url("**/exchange/")
                axe = axe_sync.Axe()
                tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
                for path in paths:
                    for lang in ("nb", "en"):
                        page.goto(
                            f"{base}{path}&lang={lang}"
                            if "?" in path
                            else f"{base}{path}?lang={lang}",
                            timeout=120_000,
                        )
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
                page.goto(f"{base}/exchange/matches?lang=nb")
                assert "Iron(II) sulphate" in page.locator("table.matches").first.inner_text()
            finally:
                browser.close()
    finally:
        stop_server(proc)
    assert not found, found
    assert "Traceback" not in (tmp_path / "server.log").read_text("utf-8", errors="replace")
