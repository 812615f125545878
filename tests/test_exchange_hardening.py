# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""Regression tests for the second security review, replayed over real HTTP (FastAPI TestClient
on SQLite and PostgreSQL): `potential` withholds aggregates one organisation dominates; expiry
instants with any UTC offset end access at the true instant; probing another organisation's need
through stream matching is audited to the need's owner; cross-site form posts are refused;
import problems name the uploaded file, not the server's temp path; only the upload routes take
bodies over 1 MB."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from test_exchange_support import auth, client, db_url, service, stream_payload
from verdikart.exchange.composition import element_fraction

KF_MNO = element_fraction("MnO", "Mn")
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exchange"


@pytest.fixture
def orgs(client: Any, service: Any) -> dict[str, dict[str, str]]:
    return {
        key: auth(service.add_user(name, "user")["token"])
        for key, name in (
            ("a", "Org A"),
            ("b", "Org B"),
            ("c", "Org C"),
            ("d", "Org D"),
            ("e", "Org E"),
        )
    }


def _mn_stream(quantity: float, low: float, high: float | None = None) -> dict[str, Any]:
    value: dict[str, Any] = (
        {"value": low} if high is None else {"value_min": low, "value_max": high}
    )
    return stream_payload(
        details={
            "quantity_t_per_year": quantity,
            "composition": [{"component": "MnO", "unit": "wt%", **value}],
        }
    )


def _potential(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    r = client.get("/api/exchange/potential", params={"material": "manganese"}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_potential_withholds_a_dominated_aggregate(client: Any, orgs: dict) -> None:
    a, b, c, d = orgs["a"], orgs["b"], orgs["c"], orgs["d"]
    # the review's case: A's 123,456 t/yr at 6.4821 wt% MnO against 1 t/yr each from C and D
    client.post("/api/exchange/streams", json=_mn_stream(123_456, 6.4821), headers=a)
    client.post("/api/exchange/streams", json=_mn_stream(1, 6.4821), headers=c)
    client.post("/api/exchange/streams", json=_mn_stream(1, 6.4821), headers=d)
    body = _potential(client, b)
    assert body["released"] is False, body
    assert all(body[k] is None for k in ("secondary_t_min", "secondary_t_max", "share_min",
                                         "share_max"))  # fmt: skip
    assert "dominance" in body["note"]
    assert "6200" not in str(body) and "6197" not in str(body)


def test_potential_two_largest_rule_and_release(client: Any, orgs: dict) -> None:
    a, b, c, d, e = orgs["a"], orgs["b"], orgs["c"], orgs["d"], orgs["e"]
    # the largest holds 46 % (<= 50 %) but the two largest 86 % (> 85 %): withheld
    client.post("/api/exchange/streams", json=_mn_stream(400, 1.0), headers=a)
    client.post("/api/exchange/streams", json=_mn_stream(460, 1.0), headers=c)
    client.post("/api/exchange/streams", json=_mn_stream(140, 1.0), headers=d)
    body = _potential(client, b)
    assert body["released"] is False and body["secondary_t_max"] is None, body
    # a fourth organisation evens it out: 400/460/140/200 -> largest 38 %, two largest 72 %
    client.post("/api/exchange/streams", json=_mn_stream(200, 1.0), headers=e)
    body = _potential(client, b)
    assert body["released"] is True, body
    assert body["secondary_t_min"] == float(f"{1200 * 0.01 * KF_MNO:.2g}")


def test_potential_dominance_applies_to_each_bound(client: Any, orgs: dict) -> None:
    a, b, c, d = orgs["a"], orgs["b"], orgs["c"], orgs["d"]
    # upper bounds 10/10/10 kt-% balanced; lower bounds: A 0 (below detection), C 9.9, D 0.1
    # -> C holds 99 % of the lower bound, which would be C's own figure
    client.post("/api/exchange/streams", json=_mn_stream(1000, 0.0, 1.0), headers=a)
    client.post("/api/exchange/streams", json=_mn_stream(1000, 0.99, 1.0), headers=c)
    client.post("/api/exchange/streams", json=_mn_stream(1000, 0.01, 1.0), headers=d)
    body = _potential(client, b)
    assert body["released"] is False and body["secondary_t_min"] is None, body
    assert body["secondary_t_max"] is None and "dominance" in body["note"]


def test_dominance_rule_thresholds() -> None:
    from verdikart.exchange.critical import dominated

    assert dominated([50, 30, 20]) is False  # 50 % and 80 %: at the limits, released
    assert dominated([50.01, 29.99, 20]) is True  # largest over 50 %
    assert dominated([45, 41, 14]) is True  # two largest 86 %
    assert dominated([40, 40]) is True  # fewer than 3 contributors
    assert dominated([1, 1, 1, 0, 0]) is False
    assert dominated([1, 1, 0, 0]) is True  # zero contributions do not count
    assert dominated([]) is True


def test_expiry_with_any_utc_offset_ends_at_the_true_instant(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    instant = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    offsets = (timedelta(hours=1), timedelta(hours=14), timedelta(hours=-5))
    streams = []
    for offset in offsets:
        sid = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
        req = client.post(f"/api/exchange/streams/{sid}/disclosure-requests", headers=b).json()
        until = instant.astimezone(timezone(offset)).isoformat()  # e.g. ...T14:44:07+01:00
        accepted = client.post(
            f"/api/exchange/disclosure-requests/{req['id']}/accept",
            json={"expires_at": until},
            headers=a,
        )
        assert accepted.status_code == 200, accepted.text
        assert datetime.fromisoformat(accepted.json()["expires_at"]) == instant
        streams.append(sid)
    # before the instant: details visible (a -05:00 expiry stored as wall time ended 5 h early)
    for sid in streams:
        assert "details" in client.get(f"/api/exchange/streams/{sid}", headers=b).json()
    listed = client.get(
        "/api/exchange/disclosure-requests", params={"role": "requester"}, headers=b
    ).json()
    assert {datetime.fromisoformat(r["expires_at"]) for r in listed} == {instant}
    time.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()) + 0.5)
    # after it: hidden (a +01:00 / +14:00 expiry stored as wall time lasted 1 h / 14 h longer)
    for sid in streams:
        assert "details" not in client.get(f"/api/exchange/streams/{sid}", headers=b).json()


def test_stream_matching_audits_each_revealed_need_to_its_owner(client: Any, orgs: dict) -> None:
    a, b, c = orgs["a"], orgs["b"], orgs["c"]
    need = {"name": "B's hidden need", "material_class": "slag", "limits": ["MnO >= 5 wt%"],
            "also_classes": ["dust"], "site": {"name": "B plant", "lat": 59.1, "lon": 9.6}}  # fmt: skip
    need_b = client.post("/api/exchange/needs", json=need, headers=b).json()["id"]
    need_a = client.post("/api/exchange/needs", json=need, headers=a).json()["id"]
    stream = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    rows = client.get(f"/api/exchange/streams/{stream}/matches", headers=a).json()
    assert {r["need_id"] for r in rows} == {need_a, need_b}
    trail_b = client.get("/api/exchange/audit", headers=b).json()
    (event,) = [e for e in trail_b if e["action"] == "need_match_revealed"]
    assert event["object_type"] == "need" and event["object_id"] == need_b
    # the need's owner sees that its need was shown, never who owns the stream (issue #14)
    assert event["actor_organisation"] is None and "Org A" not in str(trail_b)
    assert event["detail"] == {"stream_id": stream}
    # the prober's own need is no reveal; an organisation without needs gets no event
    trail_a = client.get("/api/exchange/audit", headers=a).json()
    assert [e["object_id"] for e in trail_a if e["action"] == "need_match_revealed"] == [need_b]
    assert "Org B" not in str(trail_a)  # the need's owner stays unnamed to the prober
    assert not [
        e for e in client.get("/api/exchange/audit", headers=c).json()
        if e["action"] == "need_match_revealed"
    ]  # fmt: skip


def test_cross_site_form_posts_are_refused(client: Any, orgs: dict) -> None:
    a = orgs["a"]
    token = a["Authorization"].split()[1]
    evil = {"Origin": "https://evil.example"}
    # login CSRF: a foreign page posting its own token would sign the victim in as the attacker
    r = client.post("/exchange/login", data={"token": token}, headers=evil, follow_redirects=False)
    assert r.status_code == 403 and "cross-site" in r.text
    assert "set-cookie" not in r.headers and not client.cookies
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://testserver:8080"},
                    {"Origin": "null"}, {"Origin": "http://testserver.evil.example"}):  # fmt: skip
        r = client.post("/exchange/login", data={"token": token}, headers=headers,
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 403 and "set-cookie" not in r.headers, headers
    # same origin (a browser) and no Origin at all (curl) still sign in
    for headers in ({"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}, {}):
        r = client.post("/exchange/login", data={"token": token}, headers=headers,
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and "verdikart_token" in r.headers["set-cookie"], headers
    # the other form posts too: a cross-site post with the victim's cookie changes nothing
    client.cookies.set("verdikart_token", token)
    form = {"name_public": "x", "material_class": "slag", "kind": "by-product",
            "region": "Agder", "quantity": "10", "current_treatment": "landfill"}  # fmt: skip
    r = client.post("/exchange/streams/new", data=form, headers=evil, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/exchange/import", files={"file": ("x.csv", b"a\n")}, headers=evil)
    assert r.status_code == 403
    # Basic credentials (a proxy's, resent by the browser itself) do not exempt a form post
    basic = {**evil, "Authorization": "Basic dXNlcjpwYXNz"}
    r = client.post("/exchange/streams/new", data=form, headers=basic, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/api/exchange/streams?mine=true", headers=a).json()["total"] == 0
    r = client.post("/exchange/streams/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    client.cookies.clear()
    # API calls with a bearer token are not affected, whatever their Origin
    r = client.post("/api/exchange/streams", json=stream_payload(), headers={**a, **evil})
    assert r.status_code == 201, r.text


def _job(client: Any, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job = client.get(f"/api/exchange/imports/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_import_problems_name_the_uploaded_file_not_the_temp_path(client: Any, orgs: dict) -> None:
    a = orgs["a"]
    tmp = tempfile.gettempdir()
    for content in (b"this,is,not,the,template\n1,2,3,4,5\n", b"name,kind\n\xff\xfe\xfa\n"):
        r = client.post(
            "/api/exchange/imports",
            files={"file": ("C:\\Users\\kari\\Desktop\\bad file.csv", content)},
            headers=a,
        )
        job = _job(client, r.json()["id"], a)
        assert job["status"] == "failed" and job["filename"] == "bad file.csv", job
        assert job["problems"] and all(p.startswith("bad file.csv") for p in job["problems"]), job
        assert tmp not in str(job) and "/tmp" not in str(job), job
    # the page's import and status page say the same
    client.cookies.set("verdikart_token", a["Authorization"].split()[1])
    r = client.post("/exchange/import", files={"file": ("../../etc/bad.csv", b"x,y\n1,2\n")})
    assert r.status_code == 200 and "bad.csv" in r.text and tmp not in r.text, r.text
    client.cookies.clear()
    # a good import records the uploaded name as the streams' source, not the temp file's
    good = (FIXTURES / "streams_template.csv").read_bytes()
    r = client.post("/api/exchange/imports", files={"file": ("mine.csv", good)}, headers=a)
    assert _job(client, r.json()["id"], a)["status"] == "done"
    items = client.get("/api/exchange/streams?mine=true", headers=a).json()["items"]
    sources = {client.get(f"/api/exchange/streams/{s['id']}", headers=a).json()["details"]
               ["source"] for s in items}  # fmt: skip
    assert sources == {"mine.csv"}


def test_upload_name_is_the_bare_printable_file_name() -> None:
    from verdikart.web.api_exchange import upload_name

    assert upload_name("C:\\Users\\kari\\bad\x07 file.csv") == "bad file.csv"
    assert upload_name("../../etc/passwd") == "passwd"
    assert upload_name("..") == upload_name("") == upload_name(None) == "upload"
    assert upload_name("x" * 300 + ".csv") == ("x" * 300 + ".csv")[-200:]


def test_only_the_upload_routes_take_bodies_over_1_mb(client: Any, orgs: dict) -> None:
    a = orgs["a"]
    need = client.post(
        "/api/exchange/needs",
        json={"name": "n", "material_class": "slag", "site": {"name": "s"}},
        headers=a,
    ).json()
    assert "id" in need, need
    body = b'{"material_class": "slag", "name": "' + b"x" * 3_000_000 + b'"}'
    json_headers = {**a, "content-type": "application/json"}
    # "import" in the path used to be enough for the 5 MB upload limit
    for method, path in (("PUT", "/api/exchange/needs/import"), ("POST", "/api/exchange/imports/x"),
                         ("PUT", f"/api/exchange/needs/{need['id']}"),
                         ("POST", "/exchange/import/../streams/new")):  # fmt: skip
        r = client.request(method, path, content=body, headers=json_headers)
        assert r.status_code == 413, (method, path, r.status_code)
    # the two upload routes take 3 MB (and refuse over 5 MB)
    big_csv = b"name,kind\n" + b"x" * 3_000_000
    r = client.post("/api/exchange/imports", files={"file": ("big.csv", big_csv)}, headers=a)
    assert r.status_code == 202, r.text
    client.cookies.set("verdikart_token", a["Authorization"].split()[1])
    r = client.post("/exchange/import", files={"file": ("big.csv", big_csv)},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
