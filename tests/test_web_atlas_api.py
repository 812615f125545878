"""The atlas's JSON API (`/api/overview`, `/api/materials/{id}`, `/api/countries/{iso3}`,
`/api/matrix`): real requests through FastAPI's TestClient; the numbers equal the core's for
the same query, the tables are the pages' own, errors are JSON 404/422 with suggestions."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app over the bundled data (a fresh data dir)."""
    from verdikart.web import create_app

    data = tmp_path_factory.mktemp("atlas-api-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERDIKART_DATA_DIR", str(data))
        mp.delenv("VERDIKART_STORE", raising=False)
        mp.delenv("VERDIKART_DB_URL", raising=False)
        from verdikart.config import Settings

        with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
            yield c


def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text[-400:])
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_overview_equals_the_core(client: TestClient) -> None:
    from verdikart.chains.mapping import MapRequest

    got = get_json(client, "/api/overview?country=NOR&year=2022&lang=en")
    (mapping,) = got["tables"]
    assert mapping["name"] == "mapping" and "material" in mapping["columns"]
    with client.app.state.verdikart.reader() as core:  # type: ignore[attr-defined]
        result = core.map(MapRequest(country="NOR", year=2022))
    by_material = {r["material"]: r for r in result.rows}
    assert len(mapping["rows"]) == len(result.rows)
    for row in mapping["rows"]:
        mine = by_material[row["material"]]
        for column in ("import_value_kusd", "top_supplier_share", "hhi", "geopolrisk_score"):
            want = mine.get(column)
            if want is None or (isinstance(want, float) and math.isnan(want)):
                assert row[column] is None
            else:
                assert row[column] == pytest.approx(want, rel=1e-12), column
    assert mapping["years"] == ["2022"] and mapping["sources"]


def test_one_table_and_every_page(client: TestClient) -> None:
    material = get_json(client, "/api/materials/cobalt?lang=nb")
    names = [t["name"] for t in material["tables"]]
    assert len(names) > 1 and material["lang"] == "nb"
    one = get_json(client, f"/api/materials/cobalt?table={names[1]}")
    assert [t["name"] for t in one["tables"]] == [names[1]]
    country = get_json(client, "/api/countries/CHN")
    assert country["tables"] and all(t["columns"] for t in country["tables"])
    matrix = get_json(client, "/api/matrix?lang=en")
    (points,) = matrix["tables"]
    assert points["rows"] and {"sr", "ei"} <= set(points["columns"])
    schema = client.get("/openapi.json").json()
    assert {"/api/overview", "/api/materials/{material_id}", "/api/matrix"} <= set(schema["paths"])


def test_errors_are_json(client: TestClient) -> None:
    unknown = get_json(client, "/api/materials/cobalts", 404)
    assert "cobalts" in unknown["detail"]
    assert any("/materials/cobalt" in s["url"] for s in unknown["suggestions"])
    assert get_json(client, "/api/countries/XXZ", 404)["detail"]
    assert "table" in get_json(client, "/api/matrix?table=nope", 422)["detail"]
    assert "sort" in get_json(client, "/api/overview?sort=bogus", 422)["detail"]
    assert get_json(client, "/api/overview?year=20x2", 422)["detail"]
