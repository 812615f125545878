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
