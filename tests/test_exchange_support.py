"""Shared fixtures and helpers of the exchange tests (imported by the test_exchange_* modules).

`db_url` runs a test on SQLite and on the real PostgreSQL server (its own schema, dropped
afterwards); `live_server` starts `verdikart serve` in a subprocess on a free port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

PG_BASE = os.environ.get("VERDIKART_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_reachable() -> str | None:
    """None when the server answers; otherwise the reason to skip."""
    try:
        import psycopg

        dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: skip with the reason
        return f"PostgreSQL at {PG_BASE} unreachable: {exc}"


def pg_schema_url() -> tuple[str, str]:
    """A fresh schema on the test server and a URL whose search_path points at it."""
    import psycopg

    schema = f"vk_{uuid.uuid4().hex[:12]}"
    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{PG_BASE}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    import psycopg

    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'exchange.sqlite'}"
        return
    reason = pg_reachable()
    if reason:
        pytest.skip(reason)
    schema, url = pg_schema_url()
    try:
        yield url
    finally:
        drop_schema(schema)


@pytest.fixture
def service(db_url: str) -> Iterator[Any]:
    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(db_url)
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def client(service: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from verdikart.config import Settings
    from verdikart.web import create_app

    with TestClient(create_app(Settings(), service=service)) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    env_extra: dict[str, str],
    *,
    workers: int = 1,
    log: Path | None = None,
    launcher: list[str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """`verdikart serve` on a free port; returns (process, base URL) once it answers.

    The server's output goes to `log` (a file, so a chatty server can never block on a pipe).
    `launcher` replaces the `verdikart` executable (e.g. ``[python, "-c", script]``, the
    arguments following)."""
    port = free_port()
    env = {**os.environ, **env_extra}
    verdikart = launcher or [str(Path(sys.executable).parent / "verdikart")]
    cmd = [*verdikart, "serve", "--port", str(port), "--log-level", "warning",
           "--workers", str(workers)]  # fmt: skip
    log = log or Path(env.get("VERDIKART_DATA_DIR", ".")) / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log.read_text("utf-8", errors="replace")
            raise RuntimeError(f"server exited with {proc.returncode}: {output}")
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not start within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "server.log"
    proc, base = start_server(
        {"VERDIKART_DB_URL": db_url, "VERDIKART_DATA_DIR": str(tmp_path / "data")}, log=log
    )
    try:
        yield base
    finally:
        stop_server(proc)
        text = log.read_text("utf-8", errors="replace")
        assert "Traceback" not in text, text[-5000:]


def stream_payload(**overrides: Any) -> dict[str, Any]:
    """A valid stream with a composition (SiMn-slag-like, values made up for the test)."""
    summary = {
        "name_public": "Test slag",
        "material_class": "slag",
        "kind": "by-product",
        "region": "Agder",
        "hazardous": False,
    }
    details = {
        "name": "SECRET-NAME slag line 3",
        "quantity_t_per_year": 123_456.0,
        "current_treatment": "material-recovery",
        "contact": {"name": "Kari Secret", "email": "kari@secret.example"},
        "site": {"name": "SECRET-SITE", "municipality": "Kvinesdal", "lat": 58.31, "lon": 6.95},
        "composition": [
            {"component": "MnO", "value": 6.4821, "unit": "wt%", "method": "XRF"},
            {"component": "SiO2", "value_min": 40, "value_max": 45, "unit": "wt%"},
        ],
    }
    summary.update(overrides.pop("summary", {}))
    details.update(overrides.pop("details", {}))
    return {"summary": summary, "details": details}


SECRETS = ("SECRET-NAME", "SECRET-SITE", "Kari Secret", "kari@secret", "123456", "6.4821", "XRF")


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"leaked {secret!r}"
