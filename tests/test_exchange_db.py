# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""Storage: migrations (and that they match the models), all-or-nothing imports, validation
errors (422/413) and concurrent writers through a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from test_exchange_support import (
    auth,
    client,
    db_url,
    live_server,
    service,
    stream_payload,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exchange"


def _head(engine: Any) -> str:
    """The newest migration (so a new revision needs no edit here)."""
    from alembic.script import ScriptDirectory

    from verdikart.exchange.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None and head >= "0005"
    return head


def test_migrations_reach_head_and_match_models(service: Any) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from verdikart.exchange.db import current_revision, migrate
    from verdikart.exchange.models import Base

    assert current_revision(service.engine) == _head(service.engine)
    migrate(service.engine)  # idempotent
    with service.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert diff == []


def test_upgrade_keeps_existing_rows(db_url: str) -> None:
    from verdikart.exchange.db import current_revision, make_engine, migrate
    from verdikart.exchange.service import ExchangeService

    engine = make_engine(db_url)
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as con:
        con.exec_driver_sql(
            "INSERT INTO ex_organisation (id, name, created_at) "
            "VALUES ('o1', 'Old Org', CURRENT_TIMESTAMP)"
        )
    engine.dispose()
    svc = ExchangeService(db_url)  # migrates to head on first use
    try:
        assert current_revision(svc.engine) == _head(svc.engine)
        assert svc.add_user("Old Org", "Olga")["organisation_id"] == "o1"
    finally:
        svc.close()


def test_bulk_create_is_all_or_nothing(service: Any) -> None:
    from verdikart.errors import DataValidationError
    from verdikart.exchange.repository import StreamQuery

    who = service.authenticate(service.add_user("Org A", "Ann")["token"])
    bad = stream_payload(summary={"kind": "waste", "ewc_code": "99 99 99"})
    with pytest.raises(DataValidationError, match="ewc_code"):
        service.create_streams(who, [stream_payload(), stream_payload(), bad])
    assert service.list_streams(who, StreamQuery())["total"] == 0


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"details": {"composition": [{"component": "Xq", "value": 1, "unit": "wt%"}]}},
         "details.composition.0.component", "unknown component"),
        ({"details": {"composition": [{"component": "MnO", "value": 120, "unit": "wt%"}]}},
         "details.composition.0", "over 100"),
        ({"details": {"composition": [{"component": "MnO", "value": 60, "unit": "wt%"},
                                      {"component": "SiO2", "value": 50, "unit": "wt%"}]}},
         "details", "add up to"),
        ({"details": {"composition": [{"component": "MnO", "value": 6, "unit": "furlongs"}]}},
         "details.composition.0.unit", "unknown unit"),
        ({"summary": {"kind": "waste", "ewc_code": "10 02 98"}}, "summary.ewc_code",
         "not on the European List of Waste"),
        ({"summary": {"kind": "waste", "ewc_code": "19 01 13*", "hazardous": False}}, "summary",
         "hazardous"),
        ({"summary": {"kind": "waste"}}, "summary", "ewc_code"),
        ({"summary": {"material_class": "gold"}}, "summary.material_class", "unknown material"),
        ({"summary": {"region": "Viken"}}, "summary.region", "dissolved"),
    ],
)  # fmt: skip
def test_invalid_streams_are_rejected_with_clear_messages(
    client: Any, service: Any, change: dict[str, Any], field: str, words: str
) -> None:
    a = auth(service.add_user("Org A", "Ann")["token"])
    r = client.post("/api/exchange/streams", json=stream_payload(**change), headers=a)
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert any(p.startswith(field) and words in p for p in problems), problems
    assert client.get("/api/exchange/streams", headers=a).json()["total"] == 0


def _wait_job(client: Any, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/exchange/imports/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("import did not finish")


@pytest.mark.parametrize(
    ("name", "count"),
    [("streams_template.csv", None), ("streams_template.xlsx", None),
     ("miljodir_egenrapportering.csv", None)],
)  # fmt: skip
def test_import_files_over_http(client: Any, service: Any, name: str, count: Any) -> None:
    from verdikart.exchange.service import read_records

    expected = len(read_records(FIXTURES / name))
    a = auth(service.add_user("Org A", "Ann")["token"])
    with (FIXTURES / name).open("rb") as fh:
        r = client.post("/api/exchange/imports", files={"file": (name, fh)}, headers=a)
    assert r.status_code == 202, r.text
    job = _wait_job(client, r.json()["id"], a)
    assert job["status"] == "done", job
    assert job["rows"] == expected >= 2
    assert (
        client.get("/api/exchange/streams", params={"mine": True}, headers=a).json()["total"]
        == expected
    )


def test_import_with_a_bad_row_saves_nothing(client: Any, service: Any, tmp_path: Path) -> None:
    text = (FIXTURES / "streams_template.csv").read_text("utf-8").splitlines()
    header = text[0].split(",")
    bad = text[1].split(",")
    bad[header.index("ewc_code")] = "12 34 56"
    bad[header.index("kind")] = "waste"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([text[0], text[2], ",".join(bad), *text[3:]]) + "\n", "utf-8")
    a = auth(service.add_user("Org A", "Ann")["token"])
    with path.open("rb") as fh:
        r = client.post("/api/exchange/imports", files={"file": ("bad.csv", fh)}, headers=a)
    job = _wait_job(client, r.json()["id"], a)
    assert job["status"] == "failed"
    assert any("row 3" in p and "ewc_code" in p for p in job["problems"]), job["problems"]
    assert client.get("/api/exchange/streams", headers=a).json()["total"] == 0


def test_oversize_upload_is_413(client: Any, service: Any) -> None:
    a = auth(service.add_user("Org A", "Ann")["token"])
    big = b"name,kind\n" + b"x" * 6_000_000
    r = client.post("/api/exchange/imports", files={"file": ("big.csv", big)}, headers=a)
    assert r.status_code == 413
    assert "too large" in r.json()["detail"]


def test_cli_import_and_list(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from verdikart.cli import cli

    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    runner = CliRunner()
    user = json.loads(
        runner.invoke(
            cli, ["exchange", "add-user", "--org", "A", "--name", "a", "--format", "json"]
        ).output
    )
    monkeypatch.setenv("VERDIKART_TOKEN", user["token"])
    out = runner.invoke(
        cli, ["exchange", "import", str(FIXTURES / "streams_template.csv"), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    imported = json.loads(out.output[out.output.index("{") :])["imported"]
    listed = runner.invoke(cli, ["exchange", "list", "--mine", "--format", "json"])
    assert len(json.loads(listed.output)) == imported
    shutil.copy(FIXTURES / "streams_template.csv", tmp_path / "again.csv")


def test_concurrent_writers_lose_nothing(live_server: str, db_url: str) -> None:
    """8 threads x 25 stream creations through the real HTTP server: all 200 present, and one
    create_stream audit event for each."""
    from verdikart.exchange.service import ExchangeService

    svc = ExchangeService(db_url)
    try:
        tokens = [svc.add_user(f"Org {i % 4}", f"user {i}")["token"] for i in range(8)]
    finally:
        svc.close()

    def worker(token: str) -> list[str]:
        ids = []
        with httpx.Client(base_url=live_server, timeout=60) as http:
            for n in range(25):
                payload = stream_payload(summary={"name_public": f"stream {n}"})
                r = http.post("/api/exchange/streams", json=payload, headers=auth(token))
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
        return ids

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = [i for ids in pool.map(worker, tokens) for i in ids]
    assert len(created) == len(set(created)) == 200
    with httpx.Client(base_url=live_server, timeout=60) as http:
        total = 0
        for org_token in tokens[:4]:  # one user per organisation
            page = http.get("/api/exchange/streams", params={"mine": True}, headers=auth(org_token))
            total += page.json()["total"]
            trail = http.get("/api/exchange/audit", params={"limit": 1000}, headers=auth(org_token))
            creates = [e for e in trail.json() if e["action"] == "create_stream"]
            assert len(creates) == page.json()["total"] == 50
        assert total == 200
