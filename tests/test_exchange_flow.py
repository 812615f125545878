# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The disclosure walk-through (issue #4) over HTTP, on SQLite and PostgreSQL: in-process
(TestClient) and against a real `verdikart serve` uvicorn server."""

from __future__ import annotations

from typing import Any

import httpx

from test_exchange_support import (  # noqa: F401 - fixtures
    assert_no_secrets,
    auth,
    client,
    db_url,
    live_server,
    service,
    stream_payload,
)


def _walkthrough(http: Any, token_a: str, token_b: str) -> dict[str, Any]:
    """A registers; B sees the summary; B requests; A accepts; B sees details; A revokes."""
    a, b = auth(token_a), auth(token_b)
    created = http.post("/api/exchange/streams", json=stream_payload(), headers=a)
    assert created.status_code == 201, created.text
    stream_id = created.json()["id"]

    seen = http.get(f"/api/exchange/streams/{stream_id}", headers=b)
    assert seen.status_code == 200
    assert "details" not in seen.json()
    assert seen.json()["access"] == "summary"
    assert seen.json()["quantity_band"] == "≥100 kt"
    assert_no_secrets(seen.text)

    req = http.post(f"/api/exchange/streams/{stream_id}/disclosure-requests", headers=b)
    assert req.status_code == 201, req.text
    request_id = req.json()["id"]
    assert req.json()["owner_organisation"] is None  # not revealed before acceptance

    # B cannot accept its own request.
    assert (
        http.post(f"/api/exchange/disclosure-requests/{request_id}/accept", headers=b).status_code
        == 403
    )
    accepted = http.post(f"/api/exchange/disclosure-requests/{request_id}/accept", headers=a)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"

    full = http.get(f"/api/exchange/streams/{stream_id}", headers=b).json()
    assert full["access"] == "disclosed"
    assert full["details"]["name"] == "SECRET-NAME slag line 3"
    assert full["details"]["quantity_t_per_year"] == 123_456.0
    assert full["details"]["composition"][0]["value"] == 6.4821

    revoked = http.post(f"/api/exchange/disclosure-requests/{request_id}/revoke", headers=a)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = http.get(f"/api/exchange/streams/{stream_id}", headers=b)
    assert "details" not in again.json()
    assert_no_secrets(again.text)

    trail = http.get("/api/exchange/audit", headers=a).json()
    reads = [e for e in trail if e["action"] == "read_details" and e["object_id"] == stream_id]
    assert len(reads) == 1
    assert reads[0]["actor_organisation"] == "Org B"
    assert reads[0]["detail"]["reader_user"] == "Bob"
    actions = {e["action"] for e in trail}
    assert {
        "create_stream",
        "request_disclosure",
        "accept_disclosure",
        "revoke_disclosure",
    } <= actions
    # B's trail shows B's own actions on A's data, but not A's other events.
    trail_b = http.get("/api/exchange/audit", headers=b).json()
    assert {e["action"] for e in trail_b} == {"add_user", "request_disclosure", "read_details"}
    return {"stream_id": stream_id, "request_id": request_id}


def test_walkthrough_in_process(client: Any, service: Any) -> None:
    token_a = service.add_user("Org A", "Ann")["token"]
    token_b = service.add_user("Org B", "Bob")["token"]
    _walkthrough(client, token_a, token_b)


def test_walkthrough_real_server(live_server: str, db_url: str) -> None:
    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(db_url)
    try:
        token_a = svc.add_user("Org A", "Ann")["token"]
        token_b = svc.add_user("Org B", "Bob")["token"]
    finally:
        svc.close()
    with httpx.Client(base_url=live_server, timeout=30) as http:
        _walkthrough(http, token_a, token_b)


def test_time_limited_agreement_expires(client: Any, service: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from verdikart.exchange.models import DisclosureRequest

    a = auth(service.add_user("Org A", "Ann")["token"])
    b = auth(service.add_user("Org B", "Bob")["token"])
    stream_id = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    request_id = client.post(
        f"/api/exchange/streams/{stream_id}/disclosure-requests", headers=b
    ).json()["id"]
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    r = client.post(
        f"/api/exchange/disclosure-requests/{request_id}/accept",
        json={"expires_at": until},
        headers=a,
    )
    assert r.status_code == 200 and r.json()["expires_at"] is not None
    assert "details" in client.get(f"/api/exchange/streams/{stream_id}", headers=b).json()
    # Move the end of the agreement into the past: details disappear without any action.
    with service.sessions() as session, session.begin():
        session.execute(
            update(DisclosureRequest)
            .where(DisclosureRequest.id == request_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert "details" not in client.get(f"/api/exchange/streams/{stream_id}", headers=b).json()


def test_add_user_cli_prints_token(tmp_path: Any, monkeypatch: Any, db_url: str) -> None:
    import json

    from click.testing import CliRunner

    from verdikart.cli import cli

    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    runner = CliRunner()
    out = runner.invoke(
        cli, ["exchange", "add-user", "--org", "New Org", "--name", "Nina", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    user = json.loads(out.output)
    assert user["organisation"] == "New Org" and len(user["token"]) >= 40
    # The token is stored only as its sha256.
    from sqlalchemy import select

    from verdikart.exchange.auth import hash_token
    from verdikart.exchange.models import User
    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(db_url)
    try:
        with svc.sessions() as session:
            stored = session.scalars(select(User.token_hash)).all()
        assert stored == [hash_token(user["token"])]
        assert user["token"] not in stored
    finally:
        svc.close()
