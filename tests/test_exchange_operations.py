# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""Operations (issue #14, items 8, 10-12), over real HTTP on SQLite and PostgreSQL: accounts
(deactivate, rotate, revoke; sign-out ends the session on the server), security headers,
document addresses, expired agreements, no duplicate requests; idempotency keys on the create
endpoints; import jobs bounded in rows, columns and time, off the request path, recovered
after a crash and cancelled on shutdown."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from test_exchange_support import auth, client, db_url, live_server, service, stream_payload


@pytest.fixture
def people(client: Any, service: Any) -> dict[str, Any]:
    users = {
        "admin": service.add_user("Org A", "Ada", role="admin"),
        "member": service.add_user("Org A", "Max"),
        "other": service.add_user("Org B", "Bo", role="admin"),
    }
    return {k: {**v, "h": auth(v["token"])} for k, v in users.items()}


def _me(client: Any, headers: dict[str, str]) -> int:
    return int(client.get("/api/exchange/me", headers=headers).status_code)


def test_deactivate_rotate_and_revoke(client: Any, people: dict) -> None:
    admin, member, other = people["admin"], people["member"], people["other"]
    listed = client.get("/api/exchange/users", headers=admin["h"]).json()
    assert {u["name"] for u in listed} == {"Ada", "Max"}
    assert all(u["token_revoked"] is False and "token" not in u for u in listed)
    mid = member["user_id"]
    # another organisation's admin and the member itself cannot deactivate
    r = client.post(f"/api/exchange/users/{mid}/deactivate", headers=other["h"])
    assert r.status_code == 404
    r = client.post(f"/api/exchange/users/{mid}/deactivate", headers=member["h"])
    assert r.status_code == 403
    assert (
        client.post(f"/api/exchange/users/{mid}/deactivate", headers=admin["h"]).status_code == 204
    )
    assert _me(client, member["h"]) == 401
    assert client.post(f"/api/exchange/users/{mid}/activate", headers=admin["h"]).status_code == 204
    assert _me(client, member["h"]) == 200
    # rotating: the old token dies, the new one works
    new = client.post("/api/exchange/me/token", headers=member["h"]).json()["token"]
    assert _me(client, member["h"]) == 401 and _me(client, auth(new)) == 200
    # the admin revokes it: nothing works until a new token is made
    r = client.post(f"/api/exchange/users/{mid}/revoke-token", headers=admin["h"])
    assert r.status_code == 204 and _me(client, auth(new)) == 401
    newer = client.post(f"/api/exchange/users/{mid}/token", headers=admin["h"]).json()["token"]
    assert _me(client, auth(newer)) == 200
    trail = client.get("/api/exchange/audit", headers=admin["h"]).json()
    assert {"deactivate_user", "activate_user", "rotate_token", "revoke_token"} <= {
        e["action"] for e in trail
    }


def test_sign_out_is_a_post_that_ends_the_session(client: Any, people: dict) -> None:
    member = people["member"]
    r = client.post("/exchange/login", data={"token": member["token"]}, follow_redirects=False)
    assert r.status_code == 303
    cookie = client.cookies.get("verdikart_token")
    assert cookie and cookie != member["token"]  # a session of its own, not the API token
    assert client.get("/exchange/").status_code == 200
    assert client.get("/exchange/logout").status_code == 405  # no sign-out by a link or image
    r = client.post("/exchange/logout", follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    # a copy of the cookie (kept by an attacker or a shared computer) no longer works
    client.cookies.set("verdikart_token", cookie)
    r = client.get("/exchange/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/exchange/login")
    assert client.get("/api/exchange/me").status_code == 401
    client.cookies.clear()
    # deactivating a user ends its sessions too
    client.post("/exchange/login", data={"token": member["token"]})
    cookie = client.cookies.get("verdikart_token")
    mid = member["user_id"]
    client.cookies.clear()
    client.post(f"/api/exchange/users/{mid}/deactivate", headers=people["admin"]["h"])
    client.cookies.set("verdikart_token", cookie)
    assert client.get("/api/exchange/me").status_code == 401


def test_security_headers_on_every_answer(client: Any, people: dict) -> None:
    h = people["member"]["h"]
    for r in (client.get("/exchange/login"), client.get("/api/exchange/me", headers=h),
              client.get("/api/exchange/streams/" + "0" * 32, headers=h),
              client.get("/api/exchange/streams", params={"offset": -1}, headers=h),
              client.get("/static/exchange.css")):  # fmt: skip
        assert r.headers["x-frame-options"] == "DENY", r.url
        assert r.headers["x-content-type-options"] == "nosniff"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert r.headers["referrer-policy"] == "same-origin"


def test_document_addresses_are_http_with_a_host(client: Any, people: dict) -> None:
    h = people["member"]["h"]
    for url in ("//evil.example/report.pdf", "javascript:alert(1)", "/local/report.pdf",
                "https://", "ftp://example.org/x", "data:text/html,x", "https://exa mple.org/",
                "http://example.org:99999/"):  # fmt: skip
        body = stream_payload(details={"documents": [{"name": "report", "url": url}]})
        r = client.post("/api/exchange/streams", json=body, headers=h)
        assert r.status_code == 422 and "url" in r.text, url
    body = stream_payload(
        details={"documents": [{"name": "r", "url": "https://example.org/r.pdf"}]}
    )
    assert client.post("/api/exchange/streams", json=body, headers=h).status_code == 201


def test_expired_agreement_reads_expired(client: Any, people: dict) -> None:
    a, b = people["admin"]["h"], people["other"]["h"]
    sid = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    req = client.post(f"/api/exchange/streams/{sid}/disclosure-requests", headers=b).json()["id"]
    until = datetime.now(UTC) + timedelta(seconds=2)
    r = client.post(f"/api/exchange/disclosure-requests/{req}/accept",
                    json={"expires_at": until.isoformat()}, headers=a)  # fmt: skip
    assert r.json()["status"] == "accepted"
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.5)
    for who in (a, b):
        got = client.get(f"/api/exchange/disclosure-requests/{req}", headers=who).json()
        assert got["status"] == "expired", got
    listed = client.get("/api/exchange/disclosure-requests", params={"status": "accepted"},
                        headers=b).json()  # fmt: skip
    assert listed == []
    listed = client.get("/api/exchange/disclosure-requests", params={"status": "expired"},
                        headers=a).json()  # fmt: skip
    assert [x["id"] for x in listed] == [req]
    assert "details" not in client.get(f"/api/exchange/streams/{sid}", headers=b).json()
    # the owner may agree again
    r = client.post(f"/api/exchange/disclosure-requests/{req}/accept", headers=a)
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_no_duplicate_pending_requests(client: Any, people: dict) -> None:
    a, b = people["admin"]["h"], people["other"]["h"]
    sid = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    first = client.post(f"/api/exchange/streams/{sid}/disclosure-requests", headers=b)
    assert first.status_code == 201
    again = client.post(f"/api/exchange/streams/{sid}/disclosure-requests", headers=b)
    assert again.status_code == 400 and "pending already" in again.json()["detail"]
    assert len(client.get("/api/exchange/disclosure-requests", headers=a).json()) == 1
    client.post(f"/api/exchange/disclosure-requests/{first.json()['id']}/accept", headers=a)
    again = client.post(f"/api/exchange/streams/{sid}/disclosure-requests", headers=b)
    assert again.status_code == 400 and "accepted already" in again.json()["detail"]
    client.post(f"/api/exchange/disclosure-requests/{first.json()['id']}/revoke", headers=a)
    # after a revocation a new request may be made
    again = client.post(f"/api/exchange/streams/{sid}/disclosure-requests", headers=b)
    assert again.status_code == 201


def test_idempotency_keys_make_retries_safe(client: Any, people: dict) -> None:
    a, b = people["admin"]["h"], people["other"]["h"]
    key = {"Idempotency-Key": "3f1c2a9e-retry-1"}
    first = client.post("/api/exchange/streams", json=stream_payload(), headers={**a, **key})
    again = client.post("/api/exchange/streams", json=stream_payload(), headers={**a, **key})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert client.get("/api/exchange/streams", headers=a).json()["total"] == 1
    trail = client.get("/api/exchange/audit", headers=a).json()
    assert [e["object_id"] for e in trail if e["action"] == "create_stream"] == [first.json()["id"]]
    # the same key with another request is refused, and creates nothing
    other = stream_payload(summary={"name_public": "another"})
    r = client.post("/api/exchange/streams", json=other, headers={**a, **key})
    assert r.status_code == 422 and "Idempotency-Key" in r.text
    r = client.post("/api/exchange/needs", json={"material_class": "slag", "site": {"name": "s"}},
                    headers={**a, **key})  # fmt: skip
    assert r.status_code == 422
    assert client.get("/api/exchange/streams", headers=a).json()["total"] == 1
    # keys are per user: another user's same key is a new request
    r = client.post("/api/exchange/streams", json=stream_payload(), headers={**b, **key})
    assert r.status_code == 201 and r.json() != first.json()
    # needs and disclosure requests too; without a key every call creates
    need = {"material_class": "slag", "site": {"name": "s"}}
    k2 = {"Idempotency-Key": "need-1"}
    ids = {client.post("/api/exchange/needs", json=need, headers={**b, **k2}).json()["id"]
           for _ in range(3)}  # fmt: skip
    assert len(ids) == 1 and len(client.get("/api/exchange/needs", headers=b).json()) == 1
    url = f"/api/exchange/streams/{first.json()['id']}/disclosure-requests"
    k3 = {"Idempotency-Key": "req-1"}
    r1 = client.post(url, json={"message": "hi"}, headers={**b, **k3})
    r2 = client.post(url, json={"message": "hi"}, headers={**b, **k3})  # no "pending already"
    assert r1.status_code == r2.status_code == 201 and r1.json()["id"] == r2.json()["id"]
    for bad in (" ", "x" * 201, "a b", "tab\there"):
        r = client.post("/api/exchange/needs", json=need, headers={**b, "Idempotency-Key": bad})
        assert r.status_code == 422, bad
    assert len(client.get("/api/exchange/needs", headers=b).json()) == 1


def test_concurrent_retries_with_one_key_create_one_stream(live_server: str, db_url: str) -> None:
    """Eight clients send the same create with the same key at once (a client retrying on
    several connections): one stream, one audit event, every answer its id."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(db_url)
    try:
        h = auth(svc.add_user("Org A", "Ann")["token"])
    finally:
        svc.close()
    headers = {**h, "Idempotency-Key": "same-key-everywhere"}

    def send(_: int) -> tuple[int, str]:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            r = http.post("/api/exchange/streams", json=stream_payload(), headers=headers)
            return r.status_code, r.json().get("id", r.text)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(8)))
    assert {code for code, _ in answers} == {201}, answers
    assert len({sid for _, sid in answers}) == 1
    with httpx.Client(base_url=live_server, timeout=60) as http:
        assert http.get("/api/exchange/streams", headers=h).json()["total"] == 1
        trail = http.get("/api/exchange/audit", headers=h).json()
        assert len([e for e in trail if e["action"] == "create_stream"]) == 1


# --- import jobs: bounded, off the request path, recovered, cancelled -------------------------


def _wait_job(client: Any, job_id: str, headers: dict[str, str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/exchange/imports/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.1)


def _stray_cell_xlsx(path: Any) -> bytes:
    """The review's 1.5 KB workbook: the template's header, one row, and one cell at
    XFD1048576 (the sheet then claims 1,048,576 rows of 16,384 columns)."""
    import openpyxl

    from verdikart.exchange.reporting import template_header

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(template_header())
    sheet["XFD1048576"] = "x"
    book.save(path)
    return bytes(path.read_bytes())


def test_hostile_workbooks_end_fast_with_a_clear_message(
    client: Any, people: dict, tmp_path: Any
) -> None:
    h = people["member"]["h"]
    content = _stray_cell_xlsx(tmp_path / "stray.xlsx")
    assert len(content) < 10_000
    started = time.monotonic()
    r = client.post("/api/exchange/imports", files={"file": ("stray.xlsx", content)}, headers=h)
    assert r.status_code == 202
    job = _wait_job(client, r.json()["id"], h, timeout=30)
    assert job["status"] == "failed", job
    assert "1,048,576" in job["problems"][0] and "at most 10,000 rows" in job["problems"][0]
    assert time.monotonic() - started < 30  # was minutes at 100 % CPU
    # a CSV beyond the row and column bounds
    from verdikart.exchange.reporting import MAX_COLUMNS, MAX_ROWS, template_header

    header = ",".join(template_header())
    rows = header + "\n" + "\n".join(["x"] * (MAX_ROWS + 1)) + "\n"
    r = client.post("/api/exchange/imports", files={"file": ("rows.csv", rows.encode())}, headers=h)
    job = _wait_job(client, r.json()["id"], h)
    assert job["status"] == "failed" and "more than 10,000 rows" in str(job["problems"]), job
    wide = header + "," + ",".join(f"c{i}" for i in range(MAX_COLUMNS)) + "\n"
    r = client.post("/api/exchange/imports", files={"file": ("wide.csv", wide.encode())}, headers=h)
    job = _wait_job(client, r.json()["id"], h)
    assert job["status"] == "failed" and f"more than {MAX_COLUMNS} columns" in str(job["problems"])


def test_import_time_limit_stops_the_reader(client: Any, service: Any, people: dict) -> None:
    from pathlib import Path

    h = people["member"]["h"]
    good = (Path(__file__).parent / "fixtures" / "exchange" / "streams_template.csv").read_bytes()
    service.import_time_limit_s = 0.05  # less than a child process needs to start
    r = client.post("/api/exchange/imports", files={"file": ("mine.csv", good)}, headers=h)
    job = _wait_job(client, r.json()["id"], h)
    assert job["status"] == "failed" and "longer than 0.05 s" in job["problems"][0], job
    assert job["problems"][0].startswith("mine.csv")  # the upload's name, not the temp file
    service.import_time_limit_s = 60
    r = client.post("/api/exchange/imports", files={"file": ("mine.csv", good)}, headers=h)
    assert _wait_job(client, r.json()["id"], h)["status"] == "done"


def _big_csv() -> bytes:
    """A valid template file just under the 5 MB upload limit: 10,000 streams with 78 analysed
    trace elements each (some 20 s of reading and validation)."""
    from pathlib import Path

    from verdikart.exchange.composition import components

    elements = [k for k, v in components().items() if v.kind != "aggregate" and len(k) <= 2]
    src = (
        (Path(__file__).parent / "fixtures" / "exchange" / "streams_template.csv")
        .read_text("utf-8")
        .splitlines()
    )
    head, line = src[0].split(",")[:25], src[2].split(",")[:25]
    header = ",".join(head + [f"comp:{e}_mg/kg" for e in elements[:78]])
    body = [",".join([f"slagg {i}", *line[1:], *(["1-3"] * 78)]) for i in range(10_000)]
    return ("\n".join([header, *body]) + "\n").encode("utf-8")


def _uploads(where: Any, size: int) -> set[str]:
    """The server's temp copies of an upload of `size` bytes in its temp directory `where`
    (found by size, whatever they are called)."""
    found = set()
    for path in where.iterdir():
        try:
            if path.is_file() and path.stat().st_size == size:
                found.add(path.name)
        except OSError:  # removed meanwhile
            continue
    return found


def _running_import(base: str, headers: dict[str, str], content: bytes) -> str:
    import httpx

    r = httpx.post(f"{base}/api/exchange/imports", files={"file": ("big.csv", content)},
                   headers=headers, timeout=60)  # fmt: skip
    assert r.status_code == 202, r.text
    job_id = str(r.json()["id"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = httpx.get(f"{base}/api/exchange/imports/{job_id}", headers=headers).json()
        if status["status"] == "running":
            return job_id
        assert status["status"] == "queued", status
        time.sleep(0.05)
    raise AssertionError("the import did not start")


def test_crash_and_sigterm_during_an_import(db_url: str, tmp_path: Any) -> None:
    """kill -9 during an import leaves the job `running` and the confidential upload on disk;
    the next start-up ends the job `failed` and deletes the upload. SIGTERM during an import
    stops the server within a few seconds, the job ended `failed`, the upload deleted."""
    import signal

    import httpx

    from test_exchange_support import start_server, stop_server
    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(db_url)
    try:
        h = auth(svc.add_user("Org A", "Ann")["token"])
    finally:
        svc.close()
    # The server's own temp directory: the SQLite and PostgreSQL runs of this test may run at
    # once on two workers, and each must see only its own server's upload.
    server_tmp = tmp_path / "tmp"
    server_tmp.mkdir()
    env = {
        "VERDIKART_DB_URL": db_url,
        "VERDIKART_DATA_DIR": str(tmp_path / "data"),
        "TMPDIR": str(server_tmp),
    }
    content = _big_csv()
    assert len(content) < 5_000_000
    before = _uploads(server_tmp, len(content))

    proc, base = start_server(env, log=tmp_path / "one.log")
    try:
        crashed = _running_import(base, h, content)
        assert (
            _uploads(server_tmp, len(content)) - before
        )  # the upload waits on disk while the job runs
        proc.kill()  # a crash: nothing runs on the way out
        proc.wait(10)
    finally:
        stop_server(proc)
    assert _uploads(server_tmp, len(content)) - before, (
        "a crash leaves the upload behind (until the next start)"
    )
    proc, base = start_server(env, log=tmp_path / "two.log")
    try:
        job = httpx.get(f"{base}/api/exchange/imports/{crashed}", headers=h).json()
        assert job["status"] == "failed" and "restart or crash" in job["problems"][0], job
        assert not (_uploads(server_tmp, len(content)) - before), (
            "start-up deletes the crashed job's upload"
        )
        stopped = _running_import(base, h, content)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        took = time.monotonic() - t0
    finally:
        stop_server(proc)
    assert took < 5, f"SIGTERM during an import took {took:.1f} s"
    assert not (_uploads(server_tmp, len(content)) - before)
    svc = ExchangeService(db_url)
    try:
        who = svc.authenticate(h["Authorization"].split()[1])
        job = svc.get_job(who, stopped)
    finally:
        svc.close()
    assert job["status"] == "failed" and "stopped during the import" in job["problems"][0], job
