# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The offset obligations register (gjenkjøp, issue #12) on SQLite and PostgreSQL: everyone
signed in reads, only a platform administrator writes, every change is audited, bad input is
named by field (422 / exit 2), never 500; over real HTTP requests and the CLI.

The entries here are made-up test values (supplier 'TEST SUPPLIER ...'), not real
obligations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from test_exchange_support import auth, client, db_url, service

BASE = "/api/suppliers/offsets"


def _entry(**change: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "foreign_supplier": "TEST SUPPLIER A",
        "programme": "Test programme (made up)",
        "value_nok": 1_500_000_000,
        "period_start": "2024-01-01",
        "period_end": "2033-12-31",
        "sectors": ["maritime", "defence"],
        "source_url": "https://example.org/offsets/test",
    }
    entry.update(change)
    return {k: v for k, v in entry.items() if v is not None}


def _users(service: Any) -> tuple[str, str]:
    admin = service.add_user("Register operator", "operator", role="platform")["token"]
    member = service.add_user("Buyer AS", "buyer", role="admin")["token"]
    return admin, member


def test_admin_writes_everyone_reads_and_changes_are_audited(client: Any, service: Any) -> None:
    admin, member = _users(service)
    r = client.post(BASE, json=_entry(), headers=auth(admin))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["sectors"] == ["defence", "maritime"]  # canonical order, each once
    oid = created["id"]
    client.post(BASE, json=_entry(foreign_supplier="TEST SUPPLIER B", value_nok=0,
                                  sectors=["energy"]), headers=auth(admin))  # fmt: skip
    listed = client.get(BASE, headers=auth(member)).json()
    assert [o["foreign_supplier"] for o in listed] == ["TEST SUPPLIER A", "TEST SUPPLIER B"]
    assert [o["id"] for o in client.get(BASE, params={"sector": "maritime"},
                                        headers=auth(member)).json()] == [oid]  # fmt: skip
    assert len(client.get(BASE, params={"supplier": "supplier b"}, headers=auth(member)).json())
    assert client.get(BASE, params={"active_on": "2040-01-01"}, headers=auth(member)).json() == []
    assert client.get(f"{BASE}/{oid}", headers=auth(member)).json()["value_nok"] == 1_500_000_000

    # a member of another organisation may read but not write
    assert client.post(BASE, json=_entry(), headers=auth(member)).status_code == 403
    assert (
        client.patch(f"{BASE}/{oid}", json={"value_nok": 1}, headers=auth(member)).status_code
        == 403
    )  # noqa: E501
    assert client.delete(f"{BASE}/{oid}", headers=auth(member)).status_code == 403
    assert client.get(BASE).status_code == 401  # not signed in

    r = client.patch(f"{BASE}/{oid}", json={"value_nok": 2_000_000_000, "period_end": "2034-06-30"},
                     headers=auth(admin))  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["value_nok"], r.json()["period_end"]) == (2_000_000_000, "2034-06-30")
    assert r.json()["programme"] == "Test programme (made up)"  # unchanged fields stay
    assert client.delete(f"{BASE}/{oid}", headers=auth(admin)).status_code == 200
    assert client.get(f"{BASE}/{oid}", headers=auth(member)).status_code == 404

    trail = client.get("/api/exchange/audit", headers=auth(admin)).json()
    events = trail["events"] if isinstance(trail, dict) else trail
    mine = [e for e in events if e["object_type"] == "offset"]
    actions = [e["action"] for e in mine]
    assert actions.count("offset.create") == 2
    update = next(e for e in mine if e["action"] == "offset.update")
    assert update["detail"]["changed"]["value_nok"] == [1_500_000_000, 2_000_000_000]
    deleted = next(e for e in mine if e["action"] == "offset.delete")
    assert deleted["detail"]["entry"]["foreign_supplier"] == "TEST SUPPLIER A"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value_nok": -1}, "value_nok"),
        ({"value_nok": 1.5}, "value_nok"),
        ({"value_nok": "lots"}, "value_nok"),
        ({"period_end": "2020-01-01"}, "period_end"),
        ({"period_start": "2024-13-01"}, "period_start"),
        ({"sectors": ["mining"]}, "sectors.0"),
        ({"sectors": []}, "sectors"),
        ({"source_url": None}, "source_url"),
        ({"source_url": "javascript:alert(1)"}, "source_url"),
        ({"foreign_supplier": ""}, "foreign_supplier"),
        ({"foreign_supplier": "A\x00B"}, "foreign_supplier"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: Any, service: Any, change: dict[str, Any], field: str
) -> None:
    admin, _ = _users(service)
    r = client.post(BASE, json=_entry(**change), headers=auth(admin))
    assert r.status_code == 422, r.text
    body = r.json()
    assert any(p.startswith(f"{field}:") for p in body.get("problems", [])) or field in str(body)
    assert client.get(BASE, headers=auth(admin)).json() == []


def test_bad_update_changes_nothing_and_unknown_ids_are_404(client: Any, service: Any) -> None:
    admin, member = _users(service)
    oid = client.post(BASE, json=_entry(), headers=auth(admin)).json()["id"]
    r = client.patch(f"{BASE}/{oid}", json={"period_start": "2040-01-01"}, headers=auth(admin))
    assert r.status_code == 422 and "period_end" in r.text
    assert client.get(f"{BASE}/{oid}", headers=auth(member)).json()["period_start"] == "2024-01-01"
    for guess in ("0" * 32, "x" * 500, "%27%20OR%201=1"):
        assert client.get(f"{BASE}/{guess}", headers=auth(member)).status_code == 404
        assert client.patch(f"{BASE}/{guess}", json={"value_nok": 1},
                            headers=auth(admin)).status_code == 404  # fmt: skip
    assert client.get(BASE, params={"sector": "mining"}, headers=auth(member)).status_code == 422
    assert client.patch(f"{BASE}/{oid}", json=[1], headers=auth(admin)).status_code == 422


def test_cli_add_list_update_delete(db_url: str, service: Any, monkeypatch: Any) -> None:
    from verdikart.cli import cli
    from verdikart.errors import DataValidationError, PermissionDeniedError

    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    admin, member = _users(service)
    runner = CliRunner()
    base = ["suppliers", "offsets"]
    out = runner.invoke(cli, [*base, "add", "--supplier", "TEST SUPPLIER C", "--programme",
                              "Test programme", "--value-nok", "250000000", "--start",
                              "2025-01-01", "--end", "2030-12-31", "--sector", "offshore-wind",
                              "--source-text", "made-up test entry", "--token", admin])  # fmt: skip
    assert out.exit_code == 0, out.output
    oid = json.loads(out.output)["id"]
    out = runner.invoke(cli, [*base, "list", "--format", "json", "--sector", "offshore-wind"])
    assert [o["id"] for o in json.loads(out.output)] == [oid]
    out = runner.invoke(cli, [*base, "list"])
    assert out.exit_code == 0 and "TEST SUPPLIER C" in out.output
    out = runner.invoke(cli, [*base, "update", oid, "--value-nok", "300000000", "--token", admin])
    assert json.loads(out.output)["value_nok"] == 300_000_000
    out = runner.invoke(cli, [*base, "update", oid, "--end", "2020-01-01", "--token", admin])
    assert isinstance(out.exception, DataValidationError) and out.exception.exit_code == 2
    assert "period_end" in str(out.exception)
    out = runner.invoke(cli, [*base, "add", "--supplier", "X", "--token", member])
    assert isinstance(out.exception, (PermissionDeniedError, DataValidationError))
    out = runner.invoke(cli, [*base, "delete", oid, "--token", member])
    assert isinstance(out.exception, PermissionDeniedError)
    out = runner.invoke(cli, [*base, "delete", oid, "--token", admin])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, [*base, "show", oid])
    assert out.exit_code != 0 and "no offset obligation" in str(out.exception)


def test_every_problem_is_named_at_once() -> None:
    from verdikart.errors import DataValidationError
    from verdikart.register.offsets import parse_offset

    bad = _entry(value_nok=-5, period_start="2030-01-01", period_end="2020-01-01",
                 source_url=None, sectors=["defence", "mining"])  # fmt: skip
    with pytest.raises(DataValidationError) as caught:
        parse_offset(bad)
    fields = sorted(p.split(":")[0] for p in caught.value.problems)
    assert fields == ["period_end", "sectors.1", "source_url", "value_nok"]
