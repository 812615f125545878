# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The web atlas (issue 11): real HTTP requests through FastAPI's TestClient on every page in
bokmål and English, the numbers shown equal the core's for the same query, 404 pages with
suggestions, 4xx for bad query values, the CSP on every page, /docs without a CDN, the
matrix's label placement, the downloads; the browser tests are in test_web_atlas_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from verdikart.web.atlas import place_labels
from verdikart.web.atlas_text import TEXT, num, pct


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app over the bundled data for the module (a fresh data dir, no exchange users)."""
    from verdikart.web import create_app

    data = tmp_path_factory.mktemp("atlas-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERDIKART_DATA_DIR", str(data))
        mp.delenv("VERDIKART_STORE", raising=False)
        mp.delenv("VERDIKART_DB_URL", raising=False)
        from verdikart.config import Settings

        with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
            yield c


@pytest.fixture(scope="module")
def core(client: TestClient) -> Any:
    with client.app.state.verdikart.reader() as reader:  # type: ignore[attr-defined]
        yield reader


def get(client: TestClient, url: str, status: int = 200) -> str:
    client.cookies.clear()
    response = client.get(url, follow_redirects=False)
    assert response.status_code == status, (url, response.status_code, response.text[-500:])
    assert "content-security-policy" in response.headers
    assert "cdn" not in response.text.lower()
    assert "<script" not in response.text  # the CSP allows no inline script
    return response.text


def test_number_formats_per_language() -> None:
    assert num(1234567.4, "nb") == "1\u00a0234\u00a0567" or num(1234567.4, "nb") == "1 234 567"
    assert num(1234567.4, "en") == "1,234,567"
    assert pct(0.121, "nb") == "12,1 %"
    assert pct(0.121, "en") == "12.1 %"
    assert num(None, "en") == "–"
    assert all(len(pair) == 2 and all(pair) for pair in TEXT.values())


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_overview_both_languages_matches_the_core(client: TestClient, core: Any, lang: str) -> None:
    from verdikart.chains.mapping import MapRequest

    html = get(client, f"/?lang={lang}")
    result = core.map(MapRequest())
    assert (TEXT["key_findings"][0 if lang == "nb" else 1]) in html
    rows = re.findall(r'<tr class="(vulnerability|advantage)">', html)
    assert len(rows) == len(result.rows)
    n_vuln = sum(r["position"] == "vulnerability" for r in result.rows)
    counts = TEXT["finding_counts"][0 if lang == "nb" else 1].split("{v}")[0].split("{year}")[1]
    assert counts.strip(": ") in html
    assert f"{n_vuln} " in html
    flagged = [r for r in result.rows if r["concentration_flag"]]
    assert html.count('class="flag"') == len(flagged)
    assert f'lang="{lang}"' in html
    # the first row's top supplier's share, formatted per language
    first = result.rows[0]
    assert pct(first["top_supplier_share"], lang) in html


def _csv(response: Any, lang: str) -> list[list[str]]:
    import csv
    import io

    assert response.status_code == 200, response.text[-300:]
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    body = response.content.decode("utf-8-sig" if lang == "nb" else "utf-8")
    assert response.content.startswith(b"\xef\xbb\xbf") == (lang == "nb")  # BOM for Excel
    return list(csv.reader(io.StringIO(body), delimiter=";" if lang == "nb" else ","))


def test_csv_downloads_equal_the_core(client: TestClient, core: Any) -> None:
    from verdikart.chains.mapping import MapRequest

    rows = _csv(client.get("/?lang=nb&position=vulnerability&format=csv&table=mapping"), "nb")
    head, body = rows[0], rows[1:]
    assert head[:3] == ["Råvare (id)", "Råvare", "År"]
    assert "Største leverandørs andel (0–1)" in head
    expected = [r for r in core.map(MapRequest()).rows if r["position"] == "vulnerability"]
    assert [r[0] for r in body] == [r["material"] for r in expected]
    share = body[0][head.index("Største leverandørs andel (0–1)")]
    assert "," in share and float(share.replace(",", ".")) == pytest.approx(
        expected[0]["top_supplier_share"]
    )
    assert body[0][1] == "Kobolt" or body[0][1] != body[0][0]  # the Norwegian name
    en = _csv(client.get("/?lang=en&format=csv"), "en")  # the page's first table by default
    assert (
        en[0][:3] == ["Material (id)", "Material", "Year"] and "Top supplier share (0–1)" in en[0]
    )
    matrix = _csv(client.get("/matrix?lang=en&format=csv&table=matrix&critical=1"), "en")
    table = core.criticality(year=2023, materials=None, perspective="EU").to_pylist()
    assert len(matrix) - 1 == sum(1 for r in table if r["stage"] == "max" and r["critical"])
    html = get(client, "/?lang=en")
    assert 'href="/?lang=en&amp;format=csv&amp;table=mapping"' in html
    assert 'href="/?lang=en&amp;format=xlsx&amp;table=mapping"' in html
    # a repeated parameter keeps all its values in the download links
    two = get(client, "/?lang=en&list=nato2024&list=crma-strategic")
    assert 'href="/?lang=en&amp;list=nato2024&amp;list=crma-strategic&amp;format=csv' in two
    get(client, "/?format=pdf", 422)
    get(client, "/?format=csv&table=nosuch", 422)
    get(client, "/materials/cobalt?table=%3Cb%3E", 422)


def test_every_table_has_its_footnote_and_downloads(client: TestClient) -> None:
    """Each page's tables: a download link per table, a source and year under it, and every
    download answers in both formats."""
    pages = {
        "/?lang=nb": ["mapping"],
        "/matrix?lang=nb": ["matrix"],
        "/countries/CHN?lang=nb": ["supplies", "to_norway", "depends"],
        "/materials/cobalt?lang=nb": ["lists", "chain", "production", "imports", "position", "plants",
                                      "geopolrisk", "eu"],
    }  # fmt: skip
    for url, names in pages.items():
        html = unescape(get(client, url))
        found = re.findall(r"format=csv&table=(\w+)", html)
        assert found == names, (url, found)
        assert len(re.findall(r"format=xlsx&table=(\w+)", html)) == len(names)
        for name in names:
            sep = "&" if "?" in url else "?"
            for fmt in ("csv", "xlsx"):
                response = client.get(f"{url}{sep}format={fmt}&table={name}")
                assert response.status_code == 200, (url, name, fmt)
                assert f"-{name}.{fmt}" in response.headers["content-disposition"]
    # sources and years under the tables that lacked them
    country = unescape(get(client, "/countries/CHN?lang=en"))
    assert country.count('class="small source"') == 3
    assert "Source: CEPII BACI" in country or "Sources: CEPII BACI" in country
    material = unescape(get(client, "/materials/cobalt?lang=en"))
    assert "World Bank WGI" in material.split('id="gpr"')[1]  # GeoPolRisk's governance input
    assert "Year: 2024." in unescape(get(client, "/?lang=en&year=2024"))


def test_xlsx_download_is_formatted(client: TestClient, core: Any) -> None:
    import io

    from openpyxl import load_workbook

    from verdikart.chains.mapping import MapRequest

    response = client.get("/?lang=nb&format=xlsx&table=mapping")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    ws = book.worksheets[0]
    result = core.map(MapRequest())
    assert ws["A1"].value == f"Oversikt: Norge {result.year}"  # the title row
    assert "Kilder: CEPII BACI" in ws["A2"].value and f"År: {result.year}." in ws["A2"].value
    head = [c.value for c in ws[3]]
    assert head[:3] == ["Råvare (id)", "Råvare", "År"]
    col = head.index("Største leverandørs andel") + 1
    first = result.rows[0]
    cell = ws.cell(row=5, column=col)  # title, sources, labels, units, first row
    assert cell.value == pytest.approx(first["top_supplier_share"]) and cell.number_format == "0.0%"
    assert ws.cell(row=5, column=1).value == first["material"]
    assert len(book.sheetnames) == 2 and book.sheetnames[1] == "Kilder"
    en = load_workbook(io.BytesIO(client.get("/matrix?lang=en&format=xlsx").content))
    assert en.worksheets[0]["A1"].value == "Criticality matrix (2023)"
    assert en.worksheets[0].cell(row=3, column=3).value == "Supply risk (SR)"


def test_overview_filters_by_sector(client: TestClient, core: Any) -> None:
    from verdikart.chains.mapping import MapRequest

    html = get(client, "/?lang=nb&sector=defence")
    expected = [r for r in core.map(MapRequest()).rows if "defence" in (r["sectors"] or "")]
    assert 0 < len(re.findall(r'<tr class="(?:vulnerability|advantage)">', html)) == len(expected)
    assert "forsvar" in html
    get(client, "/?sector=farming", 422)


def test_overview_filters_by_list_and_position(client: TestClient, core: Any) -> None:
    from verdikart.chains.mapping import MapRequest

    html = get(client, "/?lang=en&list=nato2024&position=vulnerability&sort=geopolrisk_score")
    result = core.map(MapRequest(lists=("nato2024",)))
    expected = [r for r in result.rows if r["position"] == "vulnerability"]
    assert len(re.findall(r'<tr class="vulnerability">', html)) == len(expected)
    assert '<tr class="advantage">' not in html
    assert 'value="nato2024" selected' in html


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/?year=abc", 422),
        ("/?year=1990", 404),  # a year without trade data
        ("/?year=99999", 422),
        ("/?lang=xx", 422),
        ("/?lang=%3Cb%3E", 422),
        ("/?sort=bogus", 422),
        ("/?position=everything", 422),
        ("/?list=nolist", 404),
        ("/?country=Atlantis", 404),
        ("/matrix?critical=maybe", 422),
        ("/matrix?list=nolist", 404),
        ("/countries/NOR?year=abc", 422),
    ],
)
def test_bad_query_values_are_4xx_pages(client: TestClient, url: str, status: int) -> None:
    html = get(client, url, status)
    assert 'role="alert"' in html and "Traceback" not in html


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_material_page_both_languages(client: TestClient, core: Any, lang: str) -> None:
    html = get(client, f"/materials/cobalt?lang={lang}")
    assert "<h1>Kobolt" in html if lang == "nb" else "<h1>Cobalt" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'id="atlas-chain"' in html
    assert "<style>" not in html  # the picture's CSS comes from /atlas/chain.css (CSP)
    eu = core.criticality(year=2023, materials=["cobalt"], perspective="EU").to_pylist()
    best = next(r for r in eu if r["stage"] == "max")
    assert num(best["sr"], lang, 2) in html and num(best["ei"], lang, 2) in html
    gpr = core.geopolrisk(["NOR"], ["cobalt"], None).to_pylist()
    assert num(gpr[-1]["score"], lang) in html
    for heading in ("list_memberships", "world_production", "imports_by_supplier", "eu_method"):
        assert TEXT[heading][0 if lang == "nb" else 1] in unescape(html)
    # the lists by their titles in the page's language
    title = "EUs kritiske råvarer 2023" if lang == "nb" else "EU critical raw materials 2023"
    other = "EU critical raw materials 2023" if lang == "nb" else "EUs kritiske råvarer 2023"
    assert title in unescape(html) and other not in unescape(html)


def test_material_page_shows_norways_position_and_plants(client: TestClient, core: Any) -> None:
    html = unescape(get(client, "/materials/cobalt?lang=en"))
    view = core.chain_show("cobalt", language="en")
    own = [s for s in view["stages"] if s["material"] == "cobalt" and s["position"]]
    table = html.split('id="position"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(own) + 1
    assert "Glencore Nikkelverk AS, Nikkelverk (Kristiansand)" in html
    assert "cobalt-metal: 3,541 t" in html


def test_material_by_norwegian_name_and_unknown(client: TestClient) -> None:
    assert "<h1>Kobolt" in get(client, "/materials/kobolt?lang=nb")
    html = get(client, "/materials/cobolt?lang=en", 404)
    assert 'href="/materials/cobalt?lang=en"' in html
    assert "Did you mean" in html
    get(client, "/materials/%3Cscript%3E?lang=nb", 404)


def test_chain_css_is_served(client: TestClient) -> None:
    response = client.get("/atlas/chain.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "#atlas-chain .t{" in response.text


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_country_page_both_languages(client: TestClient, core: Any, lang: str) -> None:
    html = get(client, f"/countries/COD?lang={lang}")
    assert ("prosessering" in html) == (lang == "nb")
    supplies = core.supplier_position("COD").to_pylist()
    table = html.split('id="supplies"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(supplies) + 1  # the heading row and one per material
    assert pct(supplies[0]["importance"], lang) in html
    heading = TEXT["supplies_norway"][0 if lang == "nb" else 1]
    assert heading in html


def test_country_page_links_only_known_materials(client: TestClient) -> None:
    # the EU data name materials the reference has no value chain for (hydrogen): named as
    # the EU names them, with no dead link
    html = get(client, "/countries/CHN?lang=en")
    assert "Hydrogen" in html and 'href="/materials/hydrogen' not in html
    get(client, "/materials/hydrogen?lang=en", 404)


def test_unknown_country_is_404_with_suggestions(client: TestClient) -> None:
    html = get(client, "/countries/NORR?lang=en", 404)
    assert "/countries/NOR?lang=en" in html


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_matrix_both_languages(client: TestClient, core: Any, lang: str) -> None:
    html = get(client, f"/matrix?lang={lang}")
    table = core.criticality(year=2023, materials=None, perspective="EU").to_pylist()
    points = [
        r for r in table if r["stage"] == "max" and r["sr"] is not None and r["ei"] is not None
    ]
    assert html.count("<circle ") == len(points)
    assert html.count('class="threshold"') == 2
    assert ("SR = 1,0" if lang == "nb" else "SR = 1.0") in html
    # materials the EU assesses but verdikart has no value chain for are named, not by id
    assert "silica-sand" in {r["material"] for r in points}
    assert ("Kvartssand" if lang == "nb" else "Silica sand") in html
    assert ">silica-sand<" not in html and ">limestone<" not in html
    critical = get(client, f"/matrix?lang={lang}&critical=1")
    assert critical.count("<circle ") == sum(bool(r["critical"]) for r in points)


def test_matrix_labels_do_not_overlap(client: TestClient) -> None:
    html = get(client, "/matrix?lang=en")
    boxes = []
    for x, y, anchor, label in re.findall(
        r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)" class="lbl">([^<]+)</text>', html
    ):
        w = 6.2 * len(label)
        left = (
            float(x) if anchor == "start" else float(x) - w if anchor == "end" else float(x) - w / 2
        )
        boxes.append((left, float(y) - 10, left + w, float(y) + 2))
    assert len(boxes) > 10
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_place_labels_moves_a_crowded_label() -> None:
    # two points 5 px apart: the first label goes right of its point; the second cannot go
    # right (it would overlap the first) nor left over the first point, so it goes above
    placed = place_labels([(100.0, 100.0, "aaa"), (100.0, 105.0, "bbb")], 400, 400)
    assert placed[0] == (106.0, 104.0, "start", "aaa")
    assert placed[1] is not None and placed[1][3] == "bbb"
    assert placed[1][:3] != (106.0, 109.0, "start")
    # a reserved box (a threshold label) pushes the first label to the left of its point
    blocked = place_labels([(100.0, 100.0, "aaa")], 400, 400, [(104.0, 90.0, 140.0, 106.0)])
    assert blocked == [(94.0, 104.0, "end", "aaa")]
    # a label that fits nowhere inside the plot is left out (the table lists the point)
    assert place_labels([(2.0, 2.0, "x" * 100)], 50, 50) == [None]


def test_docs_render_offline(client: TestClient) -> None:
    html = get(client, "/docs?lang=en")
    assert "/api/exchange/streams" in html and 'href="/openapi.json"' in html
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_exchange_pages_still_answer(client: TestClient) -> None:
    response = client.get("/exchange/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/exchange/login"
    assert client.get("/exchange/login").status_code == 200


def test_language_is_remembered(client: TestClient) -> None:
    client.cookies.clear()
    client.get("/matrix?lang=en")
    assert "Criticality matrix" in client.get("/matrix").text
    client.cookies.clear()
    assert "Kritikalitetsmatrise" in client.get("/matrix").text
