# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The supplier register's interface names (`verdikart suppliers ...`, `/api/suppliers/`), needs
(hand-entered and from eForms notices) and matchmaking (issue #12), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from test_exchange_support import auth, client, db_url, service

FIX = Path(__file__).resolve().parent / "fixtures" / "register"
EFORMS = Path("/work/shared/data/eforms")
VARIANT = "112233504"  # the fixture's NACE 24 / Vestland unit


def _cli(*args: str) -> Any:
    from verdikart.cli import cli

    return CliRunner().invoke(cli, list(args))


# --- interface names -------------------------------------------------------------------------


def test_suppliers_cli_and_the_old_register_alias(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    out = _cli("suppliers", "import", "enhetsregisteret", str(FIX / "enheter.json.gz"),
               "--format", "json")  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["inserted"] == 5
    out = _cli("suppliers", "show", VARIANT, "--format", "json")
    shown = json.loads(out.output)
    assert shown["organisation_number"] == VARIANT
    assert shown["nace"] == ["24.420", "24.450"] and shown["name"]
    again = _cli("register", "import", str(FIX / "enheter.json.gz"), "--format", "json")
    assert json.loads(again.output)["updated"] == 5  # the hidden alias still works
    assert "register" not in _cli("--help").output.split("Commands:")[1].split()


def test_api_under_suppliers_and_register_alias(client: Any, service: Any) -> None:
    token = service.add_user("Buyer AS", "Bo")["token"]
    for prefix in ("/api/suppliers", "/api/register"):
        got = client.get(f"{prefix}/units?nace=24", headers=auth(token))
        assert got.status_code == 200, got.text
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/suppliers/units" in paths and "/api/register/units" not in paths
