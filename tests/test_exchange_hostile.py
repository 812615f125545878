# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""Hostile input (issue #14, items 4-9), replayed over real HTTP on SQLite and PostgreSQL: every
such request gets a 4xx with a message, never a 500 -- pages and offsets beyond 64 bits, expiry
instants outside the calendar or years ahead, NUL characters in any text, path or filter,
infinite or NaN numbers -- and a made-up bearer header does not exempt a cookie-authenticated
cross-site post from the CSRF check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from test_exchange_support import auth, client, db_url, service, stream_payload

HUGE = "99999999999999999999"  # > 2**64


@pytest.fixture
def orgs(client: Any, service: Any) -> dict[str, dict[str, str]]:
    return {
        key: auth(service.add_user(name, "user")["token"])
        for key, name in (("a", "Org A"), ("b", "Org B"), ("c", "Org C"), ("d", "Org D"))
    }


def _refused(r: Any, *statuses: int) -> None:
    """A clear client error: one of `statuses` (default any 4xx) with a message."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    if statuses:
        assert r.status_code in statuses, (r.status_code, r.text[:500])
    if r.headers.get("content-type", "").startswith("application/json"):
        assert r.json().get("detail"), r.text


def _need(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "n", "material_class": "slag", "site": {"name": "s"}}
    body.update(extra)
    return body


def test_offsets_and_years_beyond_64_bits_are_422(client: Any, orgs: dict) -> None:
    a = orgs["a"]
    for params in ({"offset": HUGE}, {"offset": "9223372036854775808"}, {"limit": HUGE},
                   {"offset": str(2**62)}):  # fmt: skip
        _refused(client.get("/api/exchange/streams", params=params, headers=a), 422)
    # the largest offset allowed still answers (an empty page)
    from verdikart.exchange.repository import MAX_OFFSET

    ok = client.get("/api/exchange/streams", params={"offset": MAX_OFFSET}, headers=a)
    assert ok.status_code == 200 and ok.json()["items"] == []
    _refused(client.get("/api/exchange/audit", params={"limit": HUGE}, headers=a), 422)
    _refused(
        client.get(
            "/api/exchange/potential", params={"material": "manganese", "year": HUGE}, headers=a
        ),
        422,
    )
    client.cookies.set("verdikart_token", a["Authorization"].split()[1])
    _refused(client.get("/exchange/", params={"offset": HUGE}), 422)
    assert client.get("/exchange/", params={"offset": 10}).status_code == 200


def test_expiry_outside_the_calendar_or_the_window_is_refused(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    sid = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    req = client.post(f"/api/exchange/streams/{sid}/disclosure-requests", headers=b).json()["id"]
    url = f"/api/exchange/disclosure-requests/{req}/accept"
    for until in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                  "5138-01-01T00:00:00Z", "2000-01-01T00:00:00Z",
                  (datetime.now(UTC) + timedelta(days=6 * 366)).isoformat()):  # fmt: skip
        r = client.post(url, json={"expires_at": until}, headers=a)
        _refused(r, 422)
        assert "expires_at" in r.text, r.text
    assert (
        client.get(f"/api/exchange/disclosure-requests/{req}", headers=a).json()["status"]
        == "pending"
    )
    # within the window (a year ahead) it is accepted
    until = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    r = client.post(url, json={"expires_at": until}, headers=a)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text


def test_expiry_window_applies_to_the_service_too(service: Any) -> None:
    from verdikart.errors import ExchangeError

    a = service.authenticate(service.add_user("Org A", "Ann")["token"])
    b = service.authenticate(service.add_user("Org B", "Bob")["token"])
    sid = service.create_stream(a, stream_payload())
    req = service.request_disclosure(b, sid)["id"]
    far = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(ExchangeError, match="five years"):
        service.accept(a, req, expires_at=far)


NUL = "bad\x00name"
NUL_PATH = "bad%00name"  # as a client sends it in a path


def test_nul_characters_are_refused_everywhere(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    sid = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    need = client.post("/api/exchange/needs", json=_need(), headers=b).json()["id"]
    bodies = [
        stream_payload(summary={"name_public": NUL}),
        stream_payload(details={"name": NUL}),
        stream_payload(details={"site": {"name": NUL}}),
        stream_payload(details={"availability": NUL}),
        stream_payload(details={"contact": {"name": NUL}}),
        stream_payload(details={"documents": [{"name": NUL}]}),
        stream_payload(
            details={
                "composition": [{"component": "MnO", "value": 1, "unit": "wt%", "method": NUL}]
            }
        ),  # fmt: skip
    ]
    for body in bodies:
        _refused(client.post("/api/exchange/streams", json=body, headers=a), 422)
    for body in (_need(name=NUL), _need(site={"name": NUL}), _need(limits=["MnO >= 1 wt%" + NUL]),
                 _need(also_classes=[NUL])):  # fmt: skip
        _refused(client.post("/api/exchange/needs", json=body, headers=b), 422)
        _refused(client.put(f"/api/exchange/needs/{need}", json=body, headers=b), 422)
    _refused(
        client.post(
            f"/api/exchange/streams/{sid}/disclosure-requests", json={"message": NUL}, headers=b
        ),
        422,
    )
    # ids in paths and values in filters
    for path in (f"/api/exchange/streams/{NUL_PATH}", f"/api/exchange/needs/{NUL_PATH}",
                 f"/api/exchange/disclosure-requests/{NUL_PATH}", f"/api/exchange/imports/{NUL_PATH}",
                 f"/api/exchange/streams/{NUL_PATH}/matches", f"/api/exchange/needs/{NUL_PATH}/matches"):  # fmt: skip
        _refused(client.get(path, headers=b), 422)
    _refused(client.delete(f"/api/exchange/streams/{NUL_PATH}", headers=b), 422)
    _refused(client.post(f"/api/exchange/disclosure-requests/{NUL_PATH}/accept", headers=a), 422)
    for params in ({"material_class": NUL}, {"region": NUL}, {"quantity_band": NUL}):
        _refused(client.get("/api/exchange/streams", params=params, headers=b), 422)
    _refused(client.get("/api/exchange/potential", params={"material": NUL}, headers=b), 422)
    r = client.post(
        "/api/exchange/imports", files={"file": ("x.csv", b"a\n")}, data={"layout": NUL},
        headers=a,
    )  # fmt: skip
    _refused(r, 422)
    # the pages: a form post, a path and a filter
    client.cookies.set("verdikart_token", b["Authorization"].split()[1])
    r = client.post(f"/exchange/streams/{sid}/request", data={"message": NUL},
                    follow_redirects=False)  # fmt: skip
    _refused(r, 422)
    _refused(client.get(f"/exchange/streams/{NUL_PATH}"), 422)
    _refused(client.get("/exchange/", params={"region": NUL}), 422)
    form = {"name_public": NUL, "material_class": "slag", "kind": "by-product",
            "region": "Agder", "quantity": "10", "current_treatment": "landfill"}  # fmt: skip
    _refused(client.post("/exchange/streams/new", data=form), 422)
    client.cookies.clear()
    # nothing was stored, and the exchange still answers
    assert client.get("/api/exchange/streams", headers=b).json()["total"] == 1
    assert client.get("/api/exchange/disclosure-requests", headers=b).json() == []


def _raw(client: Any, method: str, path: str, text: str, headers: dict[str, str]) -> Any:
    """A JSON body sent as written (NaN, Infinity, 1e400 are not JSON but Python reads them)."""
    return client.request(
        method, path, content=text.encode(), headers={**headers, "content-type": "application/json"}
    )


def test_only_finite_numbers_in_range(client: Any, orgs: dict) -> None:
    a, b, c, d = orgs["a"], orgs["b"], orgs["c"], orgs["d"]
    for _key, org in (("x", a), ("y", c), ("z", d)):
        body = stream_payload(
            details={"quantity_t_per_year": 1000.0,
                     "composition": [{"component": "MnO", "value": 2.0, "unit": "wt%"}]}
        )  # fmt: skip
        assert client.post("/api/exchange/streams", json=body, headers=org).status_code == 201
    before = client.get("/api/exchange/potential", params={"material": "manganese"}, headers=b)
    assert before.json()["released"] is True and before.json()["secondary_t_min"], before.text
    good = json.dumps(
        stream_payload(
            details={
                "quantity_t_per_year": 1000.0,
                "composition": [{"component": "MnO", "value": 2.0, "unit": "wt%"}],
            }
        )  # fmt: skip
    )
    for bad in ('"quantity_t_per_year": 1e400', '"quantity_t_per_year": Infinity',
                '"quantity_t_per_year": NaN', '"quantity_t_per_year": 2e9'):  # fmt: skip
        text = good.replace('"quantity_t_per_year": 1000.0', bad)
        assert text != good
        _refused(_raw(client, "POST", "/api/exchange/streams", text, a), 422)
    for bad in ('"value": NaN', '"value": Infinity', '"value": -Infinity'):
        text = good.replace('"value": 2.0', bad)
        _refused(_raw(client, "POST", "/api/exchange/streams", text, a), 422)
    lat = good.replace('"lat": 58.31', '"lat": NaN')
    _refused(_raw(client, "POST", "/api/exchange/streams", lat, a), 422)
    # one member's attempt does not blank the figure everyone shares
    after = client.get("/api/exchange/potential", params={"material": "manganese"}, headers=b)
    assert after.json() == {**before.json()} and after.json()["secondary_t_max"] is not None
    need = json.dumps(_need(limits=[{"component": "MnO", "op": ">=", "value": 1.0,
                                     "unit": "wt%"}], max_distance_km=100.0,
                            quantity_t_per_year_min=10.0))  # fmt: skip
    for old, bad in (('"value": 1.0', '"value": NaN'), ('"value": 1.0', '"value": Infinity'),
                     ('"max_distance_km": 100.0', '"max_distance_km": Infinity'),
                     ('"max_distance_km": 100.0', '"max_distance_km": NaN'),
                     ('"max_distance_km": 100.0', '"max_distance_km": 1e400'),
                     ('"max_distance_km": 100.0', '"max_distance_km": 50000'),
                     ('"quantity_t_per_year_min": 10.0', '"quantity_t_per_year_min": NaN'),
                     ('"quantity_t_per_year_min": 10.0', '"quantity_t_per_year_min": 1e400')):  # fmt: skip
        text = need.replace(old, bad)
        assert text != need
        _refused(_raw(client, "POST", "/api/exchange/needs", text, b), 422)
    for limit in ("MnO >= nan wt%", "MnO >= inf wt%", "MnO <= 1e400 wt%"):
        _refused(client.post("/api/exchange/needs", json=_need(limits=[limit]), headers=b), 422)
    assert client.get("/api/exchange/needs", headers=b).json() == []
    # the page's form: 'inf' as a quantity, '1.2.3' in a composition line
    client.cookies.set("verdikart_token", a["Authorization"].split()[1])
    form = {"name_public": "x", "material_class": "slag", "kind": "by-product",
            "region": "Agder", "quantity": "inf", "current_treatment": "landfill"}  # fmt: skip
    _refused(client.post("/exchange/streams/new", data=form), 422)
    form |= {"quantity": "10", "composition": "MnO 1.2.3 wt%"}
    r = client.post("/exchange/streams/new", data=form)
    _refused(r, 422)
    assert "composition line 1" in r.text


def test_invalid_bearer_does_not_exempt_a_cookie_post_from_csrf(client: Any, orgs: dict) -> None:
    a = orgs["a"]
    token = a["Authorization"].split()[1]
    client.cookies.set("verdikart_token", token)
    form = {"name_public": "x", "material_class": "slag", "kind": "by-product",
            "region": "Agder", "quantity": "10", "current_treatment": "landfill"}  # fmt: skip
    evil = {"Origin": "https://evil.example"}
    # the last fake differs from the token in its last character (it must never equal it)
    wrong_last = "B" if token[-1] != "B" else "C"
    for fake in ("Bearer x", "Bearer " + "y" * 43, "bearer  ", "Bearer " + token[:-1] + wrong_last):
        r = client.post("/exchange/streams/new", data=form, headers={**evil, "Authorization": fake},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 403 and "cross-site" in r.text, (fake, r.status_code)
        r = client.post("/api/exchange/streams", json=stream_payload(),
                        headers={**evil, "Authorization": fake})  # fmt: skip
        assert r.status_code == 403, (fake, r.status_code)
    client.cookies.clear()
    assert client.get("/api/exchange/streams?mine=true", headers=a).json()["total"] == 0
    # a valid bearer token is still exempt, whatever its Origin
    r = client.post("/api/exchange/streams", json=stream_payload(), headers={**a, **evil})
    assert r.status_code == 201, r.text


def test_nul_characters_in_an_imported_file_end_the_job_failed(client: Any, orgs: dict) -> None:
    """A NUL in a cell or in the header of an uploaded file: the job ends `failed` with a
    message (PostgreSQL could store neither the stream nor a problem quoting the character)."""
    import time
    from pathlib import Path

    a = orgs["a"]
    good = (Path(__file__).parent / "fixtures" / "exchange" / "streams_template.csv").read_text(
        "utf-8"
    )
    header, first, *rest = good.splitlines()
    cell = "\n".join([header, first.replace("Fosfatslam", "Fosfat\x00slam", 1), *rest]) + "\n"
    head = "\n".join([header.replace("name_public", "name\x00public", 1), first]) + "\n"
    for content in (cell, head):
        r = client.post("/api/exchange/imports", files={"file": ("nul.csv", content.encode())},
                        headers=a)  # fmt: skip
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 60
        while True:
            job = client.get(f"/api/exchange/imports/{r.json()['id']}", headers=a).json()
            if job["status"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert job["status"] == "failed" and job["problems"], job
        assert not any("\x00" in problem for problem in job["problems"]), job
        print(job["problems"])
    assert client.get("/api/exchange/streams", headers=a).json()["total"] == 0
