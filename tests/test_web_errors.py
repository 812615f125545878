"""Every VerdikartError reaches a web caller with the status its class declares, never 500.

Real requests through FastAPI's TestClient over the real app (`create_app`) and a real SQLite
exchange database: JSON `{"detail": ...}` on `/api/...` routes, the error page on the HTML
pages. The status and exit code of each class are declared once, in `verdikart.errors`
(`http_status`, `exit_code`); this file pins the published values.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from verdikart.engine import EngineError
from verdikart.errors import (
    DataValidationError,
    ExchangeError,
    NotFoundError,
    OfflineError,
    PermissionDeniedError,
    SourceError,
    UnknownCodeError,
    VerdikartError,
)
from verdikart.exchange.auth import AuthenticationError
from verdikart.web.atlas import BadQueryError

# the published mapping (docs/exchange.md, the API's docstring): class -> HTTP status
STATUS = {
    VerdikartError: 400,
    ExchangeError: 400,
    SourceError: 422,
    DataValidationError: 422,
    UnknownCodeError: 404,
    NotFoundError: 404,
    PermissionDeniedError: 403,
    AuthenticationError: 401,
    OfflineError: 503,
    EngineError: 503,
    BadQueryError: 422,
}


def _instance(cls: type[VerdikartError]) -> VerdikartError:
    if cls is SourceError:
        return SourceError("purchases.csv", "not UTF-8 text", line=3)
    if cls is DataValidationError:
        return DataValidationError(["row 2: unknown material 'x'", "row 5: year"], source="f.csv")
    return cls(f"a {cls.__name__} for the test")


def _all_subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_all_subclasses(sub)}
    return out


def test_every_error_class_declares_status_and_exit_code() -> None:
    for cls, status in STATUS.items():
        assert cls.http_status == status, cls
        assert cls.exit_code == 2, cls
    # a new error class must be placed in this table (and so in the published mapping)
    import verdikart.exchange.auth  # noqa: F401 - registers AuthenticationError
    import verdikart.store  # noqa: F401

    unlisted = {c for c in _all_subclasses(VerdikartError) if c.__module__.startswith("verdikart")}
    assert unlisted <= set(STATUS), unlisted - set(STATUS)


def _finished(
    client: Any, url: str, headers: dict[str, str], timeout: float = 60
) -> dict[str, Any]:
    """An import job's status once it has ended (jobs run in their own process)."""
    deadline = time.monotonic() + timeout
    while True:
        job = dict(client.get(url, headers=headers).json())
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _page_status(html: str) -> str:
    """The job status an import status page shows (its `<strong id="status">`)."""
    found = re.search(r'<strong id="status"[^>]*>([^<]*)</strong>', html)
    assert found, html
    return found.group(1).strip()


@pytest.fixture
def app_parts(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The real app over a real SQLite exchange database, with two organisations."""
    from fastapi.testclient import TestClient

    from verdikart.config import Settings
    from verdikart.exchange.service import ExchangeService
    from verdikart.web import create_app

    svc = ExchangeService(f"sqlite:///{tmp_path / 'exchange.sqlite'}")
    a = svc.add_user("Org A", "Ann")["token"]
    b = svc.add_user("Org B", "Bob")["token"]
    app = create_app(Settings(data_dir=tmp_path / "data"), service=svc)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield {"client": client, "app": app, "a": a, "b": b, "svc": svc}
    finally:
        svc.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- each class through the app's one handler, on an API route and on an HTML page ----------


@pytest.mark.parametrize("cls", list(STATUS), ids=lambda c: c.__name__)
def test_every_error_class_through_the_real_app(app_parts: dict[str, Any], cls: type) -> None:
    """A route of the real app raising `cls`: the class's status, its message, never 500."""
    app, client = app_parts["app"], app_parts["client"]
    exc = _instance(cls)

    def boom() -> None:
        raise exc

    app.add_api_route("/api/exchange/test-raise", boom)
    app.add_api_route("/exchange/test-raise", boom)

    r = client.get("/api/exchange/test-raise")
    assert r.status_code == cls.http_status, r.text
    body = r.json()
    if cls is DataValidationError:
        assert body == {
            "detail": "2 problem(s) in f.csv",
            "problems": ["row 2: unknown material 'x'", "row 5: year"],
        }
    else:
        assert body == {"detail": str(exc)}
    if cls is AuthenticationError:
        assert r.headers["www-authenticate"] == "Bearer"

    page = client.get("/exchange/test-raise", follow_redirects=False)
    if cls is AuthenticationError:  # a page needing a sign-in sends the browser to it
        assert page.status_code == 303 and page.headers["location"] == "/exchange/login"
        return
    assert page.status_code == cls.http_status
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>" in page.text and 'role="alert"' in page.text
    if cls is DataValidationError:
        assert "row 2: unknown material" in page.text and "row 5: year" in page.text
    else:
        # the message, HTML-escaped by the template
        assert str(exc).replace("'", "&#39;") in page.text


# --- errors raised by the real code paths ----------------------------------------------------


def test_damaged_xlsx_upload_fails_the_job_with_a_clear_message(app_parts: dict[str, Any]) -> None:
    """The upload routes answer 202 / 303 (the import runs as a job); a damaged .xlsx ends the
    job `failed` with a SourceError naming the uploaded file -- not a 500, not the temp path."""
    client, a = app_parts["client"], _bearer(app_parts["a"])
    damaged = b"PK\x03\x04" + b"\x00" * 40  # a zip header and nothing else: a truncated .xlsx
    r = client.post(
        "/api/exchange/imports",
        files={"file": ("streams.xlsx", damaged, "application/octet-stream")},
        headers=a,
    )
    assert r.status_code == 202, r.text
    job = _finished(client, r.json()["status_url"], a)
    assert job["status"] == "failed"
    assert len(job["problems"]) == 1
    assert job["problems"][0].startswith("streams.xlsx: cannot read XLSX"), job["problems"]
    assert "/tmp" not in job["problems"][0]

    # the same through the HTML upload form and its status page
    client.cookies.set("verdikart_token", app_parts["a"])
    page = client.post(
        "/exchange/import",
        files={"file": ("streams.xlsx", damaged, "application/octet-stream")},
        follow_redirects=False,
    )
    assert page.status_code == 303
    # the job is "queued", then "running", then ended: wait on the status the page shows
    deadline = time.monotonic() + 60
    status = client.get(page.headers["location"])
    while _page_status(status.text) not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get(page.headers["location"])
    assert status.status_code == 200
    assert _page_status(status.text) == "failed"
    assert "streams.xlsx: cannot read XLSX" in status.text


def test_non_utf8_upload_fails_the_job_naming_the_file(app_parts: dict[str, Any]) -> None:
    client, a = app_parts["client"], _bearer(app_parts["a"])
    text = "name_public;material_class\nSlagg fra Sauda;slag\n".encode("cp1252") + b"\xe6\xf8"
    r = client.post("/api/exchange/imports", files={"file": ("sidestrommer.csv", text)}, headers=a)
    assert r.status_code == 202
    job = _finished(client, r.json()["status_url"], a)
    assert job["status"] == "failed"
    assert job["problems"][0].startswith("sidestrommer.csv: not UTF-8 text"), job["problems"]


def test_store_that_cannot_be_opened_is_503(tmp_path: Path) -> None:
    """The analytic store is a damaged file: the potential route answers 503 with a message
    that says what to do and does not show the server's path (EngineError)."""
    from fastapi.testclient import TestClient

    from verdikart.config import Settings
    from verdikart.exchange.service import ExchangeService
    from verdikart.web import create_app

    store = tmp_path / "secret-dir" / "verdikart.duckdb"
    store.parent.mkdir()
    store.write_bytes(b"this is not a DuckDB database file\n" * 200)
    svc = ExchangeService(f"sqlite:///{tmp_path / 'exchange.sqlite'}")
    try:
        token = svc.add_user("Org A", "Ann")["token"]
        app = create_app(Settings(data_dir=tmp_path, store=store), service=svc)
        with TestClient(app, raise_server_exceptions=False) as client:
            r = client.get("/api/exchange/potential?material=cobalt", headers=_bearer(token))
    finally:
        svc.close()
    assert r.status_code == 503, r.text
    detail = r.json()["detail"]
    assert "analytic store cannot be opened" in detail and "try again later" in detail
    assert "secret-dir" not in detail


def test_unknown_material_is_404_with_the_known_ones(app_parts: dict[str, Any]) -> None:
    client, a = app_parts["client"], _bearer(app_parts["a"])
    r = client.get("/api/exchange/potential?material=unobtainium", headers=a)
    assert r.status_code == 404
    assert "unobtainium" in r.json()["detail"]


def test_refused_operation_is_400_on_api_and_page(app_parts: dict[str, Any]) -> None:
    """Asking for the details of one's own stream is refused (ExchangeError, 400)."""
    from test_exchange_support import stream_payload

    client, a = app_parts["client"], _bearer(app_parts["a"])
    stream_id = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    r = client.post(f"/api/exchange/streams/{stream_id}/disclosure-requests", headers=a)
    assert r.status_code == 400
    assert r.json() == {"detail": "your organisation owns this stream already"}

    client.cookies.set("verdikart_token", app_parts["a"])
    page = client.post(f"/exchange/streams/{stream_id}/request", data={"message": ""})
    assert page.status_code == 400
    assert "Request refused" in page.text and "owns this stream already" in page.text
    assert "Ann" in page.text  # the signed-in user is still shown in the header


def test_unknown_ids_on_pages_are_404_error_pages(app_parts: dict[str, Any]) -> None:
    client = app_parts["client"]
    client.cookies.set("verdikart_token", app_parts["b"])
    for path in ("/exchange/streams/" + "0" * 32, "/exchange/imports/" + "0" * 32):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "Not found" in page.text and 'role="alert"' in page.text
    page = client.post("/exchange/requests/" + "0" * 32 + "/accept", follow_redirects=False)
    assert page.status_code == 404 and "Not found" in page.text


def test_bad_token_on_api_is_401(app_parts: dict[str, Any]) -> None:
    r = app_parts["client"].get("/api/exchange/me", headers=_bearer("x" * 43))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_xlsx_fixture_still_imports(app_parts: dict[str, Any]) -> None:
    """Control: a good workbook through the same route is imported (the failures above are
    the files', not the route's)."""
    client, a = app_parts["client"], _bearer(app_parts["a"])
    good = Path(__file__).parent / "fixtures" / "exchange" / "streams_template.xlsx"
    assert zipfile.is_zipfile(good)
    r = client.post(
        "/api/exchange/imports", files={"file": ("streams.xlsx", good.read_bytes())}, headers=a
    )
    job = _finished(client, r.json()["status_url"], a)
    assert job["status"] == "done" and job["rows"] > 0, job
