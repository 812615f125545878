# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""No endpoint, filter, sort, match, page or error message leaks a stream's details to an
organisation without an agreement; guessed ids of others' objects get the same 404 as ids that
do not exist. Real HTTP requests (TestClient in-process; one test over a real server)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from test_exchange_support import (
    assert_no_secrets,
    auth,
    client,
    db_url,
    live_server,
    service,
    stream_payload,
)


@pytest.fixture
def world(client: Any, service: Any) -> dict[str, Any]:
    """A owns a secret stream; B and C are other organisations; B has a phosphate-free need."""
    tokens = {
        "a": service.add_user("Org A", "Ann", cluster="Eyde")["token"],
        "b": service.add_user("Org B", "Bob")["token"],
        "c": service.add_user("Org C", "Cid")["token"],
        "hub": service.add_user("Eyde hub", "Hanne", role="hub", cluster="Eyde")["token"],
        "hub2": service.add_user("Mo hub", "Mona", role="hub", cluster="Mo")["token"],
    }
    headers = {k: auth(v) for k, v in tokens.items()}
    stream_id = client.post(
        "/api/exchange/streams", json=stream_payload(), headers=headers["a"]
    ).json()["id"]
    need = {
        "name": "B's slag need",
        "material_class": "slag",
        "limits": ["MnO >= 5 wt%", "SiO2 lowest possible"],
        "site": {"name": "B plant", "lat": 59.1, "lon": 9.6},
    }
    need_id = client.post("/api/exchange/needs", json=need, headers=headers["b"]).json()["id"]
    request_id = client.post(
        f"/api/exchange/streams/{stream_id}/disclosure-requests", headers=headers["b"]
    ).json()["id"]
    return {"h": headers, "stream": stream_id, "need": need_id, "request": request_id}


# The atlas's API (`verdikart.web.api_atlas`): the public pages' tables of public statistics,
# open like the pages themselves; it reads no exchange or register table.
PUBLIC_ATLAS_API = {
    "/api/overview",
    "/api/materials/{material_id}",
    "/api/countries/{iso3}",
    "/api/matrix",
}


def test_every_api_route_requires_a_token(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert len(paths) >= 12
    atlas = {
        p for p, ops in paths.items() if any("atlas" in o.get("tags", []) for o in ops.values())
    }
    assert atlas == PUBLIC_ATLAS_API  # a new open route must be added here on purpose
    for path, ops in paths.items():
        if path in PUBLIC_ATLAS_API:
            continue
        concrete = path.replace("{stream_id}", uuid.uuid4().hex)
        concrete = concrete.replace("{request_id}", uuid.uuid4().hex)
        concrete = concrete.replace("{need_id}", uuid.uuid4().hex)
        concrete = concrete.replace("{job_id}", uuid.uuid4().hex)
        for method in ops:
            r = client.request(method.upper(), concrete, params={"material": "manganese"}, json={})
            assert r.status_code in (401, 422), (method, path, r.status_code)
            if r.status_code == 422:  # body validation ran first; with a body, auth must fail
                assert method in ("post", "put")


def test_list_filter_sort_show_only_summaries(client: Any, world: dict[str, Any]) -> None:
    b = world["h"]["b"]
    page = client.get("/api/exchange/streams", headers=b)
    assert page.status_code == 200 and page.json()["total"] == 1
    assert_no_secrets(page.text)
    assert "organisation" not in page.json()["items"][0]
    # Filtering or sorting by confidential fields is not possible: unknown filters are ignored,
    # unknown sort keys refused, so no result depends on hidden values.
    probe = client.get(
        "/api/exchange/streams",
        params={"quantity_t_per_year": 123456, "name": "SECRET-NAME"},
        headers=b,
    )
    assert probe.json()["total"] == 1
    bad_sort = client.get(
        "/api/exchange/streams", params={"sort": "quantity_t_per_year"}, headers=b
    )
    assert bad_sort.status_code == 422
    assert_no_secrets(bad_sort.text)
    for params in ({"material_class": "slag"}, {"region": "Agder"}, {"sort": "region"}):
        r = client.get("/api/exchange/streams", params=params, headers=b)
        assert_no_secrets(r.text)


def test_guessed_ids_get_identical_404(client: Any, world: dict[str, Any]) -> None:
    c = world["h"]["c"]
    unknown = uuid.uuid4().hex
    for template in (
        "/api/exchange/disclosure-requests/{}",
        "/api/exchange/needs/{}",
        "/api/exchange/needs/{}/matches",
        "/api/exchange/streams/{}/matches",
        "/api/exchange/imports/{}",
    ):
        real_id = world["request"] if "disclosure" in template else world["need"]
        if "streams" in template:
            real_id = world["stream"]
        other = client.get(template.format(real_id), headers=c)
        missing = client.get(template.format(unknown), headers=c)
        assert other.status_code == missing.status_code == 404, template
        assert other.json() == missing.json()
        assert_no_secrets(other.text)
    for action in ("accept", "reject", "revoke"):
        other = client.post(
            f"/api/exchange/disclosure-requests/{world['request']}/{action}", headers=c
        )
        missing = client.post(f"/api/exchange/disclosure-requests/{unknown}/{action}", headers=c)
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()
    other = client.delete(f"/api/exchange/streams/{world['stream']}", headers=c)
    missing = client.delete(f"/api/exchange/streams/{unknown}", headers=c)
    assert other.status_code == missing.status_code == 404 and other.json() == missing.json()
    assert client.get(f"/api/exchange/streams/{unknown}", headers=c).status_code == 404


def test_only_owner_decides_and_requester_cannot_self_grant(
    client: Any, world: dict[str, Any]
) -> None:
    b = world["h"]["b"]
    r = client.post(f"/api/exchange/disclosure-requests/{world['request']}/accept", headers=b)
    assert r.status_code == 403
    assert "details" not in client.get(f"/api/exchange/streams/{world['stream']}", headers=b).json()
    # A request does not reveal the owner before acceptance.
    got = client.get(f"/api/exchange/disclosure-requests/{world['request']}", headers=b).json()
    assert got["owner_organisation"] is None
    listed = client.get("/api/exchange/disclosure-requests", headers=b).json()
    assert [x["owner_organisation"] for x in listed] == [None]


def test_third_party_and_hubs_never_see_details(client: Any, world: dict[str, Any]) -> None:
    h = world["h"]
    client.post(f"/api/exchange/disclosure-requests/{world['request']}/accept", headers=h["a"])
    assert (
        "details" in client.get(f"/api/exchange/streams/{world['stream']}", headers=h["b"]).json()
    )
    for who in ("c", "hub", "hub2"):
        r = client.get(f"/api/exchange/streams/{world['stream']}", headers=h[who])
        assert r.status_code == 200 and "details" not in r.json()
        assert_no_secrets(r.text)
        assert_no_secrets(client.get("/api/exchange/streams", headers=h[who]).text)
        assert client.get("/api/exchange/audit", headers=h[who]).json()[0]["action"] == "add_user"
    # The cluster's hub operator sees which member it is; another cluster's hub does not.
    hub_view = client.get("/api/exchange/streams", headers=h["hub"]).json()["items"][0]
    assert hub_view["organisation"] == "Org A"
    assert (
        "organisation"
        not in client.get("/api/exchange/streams", headers=h["hub2"]).json()["items"][0]
    )
    # A hub lists its cluster's members' streams; other hubs get none; members may not ask.
    assert client.get("/api/exchange/streams?cluster=true", headers=h["hub"]).json()["total"] == 1
    assert client.get("/api/exchange/streams?cluster=true", headers=h["hub2"]).json()["total"] == 0
    assert client.get("/api/exchange/streams?cluster=true", headers=h["c"]).status_code == 403


def test_matches_reveal_only_summary_until_disclosed(
    client: Any, service: Any, world: dict[str, Any]
) -> None:
    h = world["h"]
    matches = client.get(f"/api/exchange/needs/{world['need']}/matches", headers=h["b"])
    assert matches.status_code == 200, matches.text
    (m,) = matches.json()
    assert m["matches"] is True and m["stream_id"] == world["stream"]
    assert m["access"] == "summary"
    assert set(m) <= {"need_id", "stream_id", "rank", "matches", "distance_band", "access",
                      "name_public", "material_class", "kind", "quantity_band", "region",
                      "hazardous", "ewc_code", "critical_materials"}  # fmt: skip
    assert_no_secrets(matches.text)
    # The reveal is recorded in the owner's audit trail, without naming the need's owner.
    trail = client.get("/api/exchange/audit", headers=h["a"]).json()
    assert any(e["action"] == "match_revealed" and e["actor_organisation"] is None for e in trail)
    assert "Org B" not in str([e for e in trail if e["action"] == "match_revealed"])
    # After acceptance, the same match carries its explanation with the values.
    client.post(f"/api/exchange/disclosure-requests/{world['request']}/accept", headers=h["a"])
    (full,) = client.get(f"/api/exchange/needs/{world['need']}/matches", headers=h["b"]).json()
    assert full["access"] == "disclosed"
    limits = {x["component"]: x for x in full["limits"]}
    assert limits["MnO"]["status"] == "pass"
    assert limits["MnO"]["value_min"] == pytest.approx(0.064821)
    trail = client.get("/api/exchange/audit", headers=h["a"]).json()
    assert any(e["action"] == "read_details" and e["detail"].get("via") == "match" for e in trail)
    # A (the stream's owner) sees B's need only as a summary when matching its stream.
    (sm,) = client.get(f"/api/exchange/streams/{world['stream']}/matches", headers=h["a"]).json()
    assert sm["need"] == {"id": world["need"], "material_class": "slag", "region": None}
    assert "limits" not in sm and "B plant" not in str(sm)


def test_needs_of_others_are_summaries(client: Any, world: dict[str, Any]) -> None:
    others = client.get("/api/exchange/needs", params={"mine": "false"}, headers=world["h"]["c"])
    assert others.json() == [{"id": world["need"], "material_class": "slag", "region": None}]


def test_pages_do_not_leak(client: Any, world: dict[str, Any]) -> None:
    token_c = world["h"]["c"]["Authorization"].split()[1]
    client.cookies.set("verdikart_token", token_c)
    for path in ("/exchange/", f"/exchange/streams/{world['stream']}", "/exchange/requests",
                 "/exchange/audit"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 200, path
        assert_no_secrets(r.text)
    r = client.get(f"/exchange/streams/{uuid.uuid4().hex}")
    assert r.status_code == 404


def test_real_server_guessing(live_server: str, db_url: str) -> None:
    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(db_url)
    try:
        a = auth(svc.add_user("Org A", "Ann")["token"])
        c = auth(svc.add_user("Org C", "Cid")["token"])
    finally:
        svc.close()
    with httpx.Client(base_url=live_server, timeout=30) as http:
        stream_id = http.post("/api/exchange/streams", json=stream_payload(), headers=a).json()[
            "id"
        ]
        seen = http.get(f"/api/exchange/streams/{stream_id}", headers=c)
        assert "details" not in seen.json()
        assert_no_secrets(seen.text)
        assert http.get("/api/exchange/streams/../audit", headers=c).status_code in (200, 404)
        assert (
            http.get(f"/api/exchange/streams/{stream_id}", headers=auth("x" * 43)).status_code
            == 401
        )

        # Chunked (no Content-Length) oversize body: refused while streaming.
        def chunks() -> Any:
            for _ in range(40):
                yield b" " * 65_536

        big = http.post(
            "/api/exchange/streams",
            content=chunks(),
            headers={**a, "content-type": "application/json"},
        )
        assert big.status_code == 413


def _links(trail: list[dict[str, Any]], names: set[str]) -> set[tuple[str, str]]:
    """What an attacker reads off its audit trail: (object id, organisation name) for every
    event in which an id and another organisation's name appear together."""
    links = set()
    for event in trail:
        text = str(event)
        ids = {event["object_id"], *(v for v in event["detail"].values() if isinstance(v, str))}
        for name in names:
            if name in text:
                links |= {(i, name) for i in ids if i and len(i) == 32}
    return links


def test_audit_never_names_the_other_party_of_a_match(client: Any, service: Any) -> None:
    """A matches its stream against needs, B matches its need against streams, C probes A's
    stream with a need of its own. Neither trail may link an undisclosed stream or need to
    its owner: under the old rules B's trail showed `need_match_revealed` by "Org A" with
    A's stream id, and A's showed `match_revealed` by "Org B" with B's need id."""
    h = {k: auth(service.add_user(f"Org {k.upper()}", k)["token"]) for k in "abc"}
    stream = client.post("/api/exchange/streams", json=stream_payload(), headers=h["a"]).json()
    need = {"name": "n", "material_class": "slag", "site": {"name": "s", "lat": 59.1, "lon": 9.6}}
    need_b = client.post("/api/exchange/needs", json=need, headers=h["b"]).json()["id"]
    need_c = client.post("/api/exchange/needs", json=need, headers=h["c"]).json()["id"]
    assert client.get(f"/api/exchange/streams/{stream['id']}/matches", headers=h["a"]).json()
    for who, nid in (("b", need_b), ("c", need_c)):
        rows = client.get(f"/api/exchange/needs/{nid}/matches", headers=h[who]).json()
        assert [r["stream_id"] for r in rows] == [stream["id"]]
    names = {"Org A", "Org B", "Org C"}
    for who in "abc":
        trail = client.get("/api/exchange/audit", headers=h[who]).json()
        actions = {e["action"] for e in trail}
        assert actions & {"match_revealed", "need_match_revealed"}, (who, actions)
        own = f"Org {who.upper()}"
        assert _links(trail, names - {own}) == set(), (who, trail)
    # the owners still see that their stream / need was shown, and how often
    trail_a = client.get("/api/exchange/audit", headers=h["a"]).json()
    probes = [e for e in trail_a if e["action"] == "match_revealed"]
    assert len(probes) == 2 and {e["object_id"] for e in probes} == {stream["id"]}
    assert all(e["actor_organisation"] is None for e in probes)
    trail_b = client.get("/api/exchange/audit", headers=h["b"]).json()
    (shown,) = [e for e in trail_b if e["action"] == "need_match_revealed"]
    assert shown["object_id"] == need_b and shown["actor_organisation"] is None
