"""Docs that cannot drift: every `verdikart exchange` command and every /api/exchange route is
named in docs/exchange.md."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "exchange.md"


def test_every_exchange_command_is_documented() -> None:
    from verdikart.cli.exchange import exchange

    text = DOC.read_text("utf-8")
    missing = [name for name in exchange.commands if f"verdikart exchange {name}" not in text]
    assert missing == []
    assert "verdikart serve" in text


def test_every_api_route_is_documented() -> None:
    from verdikart.web import create_app

    text = DOC.read_text("utf-8")
    documented = set(re.findall(r"`(?:[A-Z]+(?:/[A-Z]+)* )?(/[^`?]*)", text))
    routes = [
        path.removeprefix("/api/exchange")
        for path in create_app().openapi()["paths"]
        if path.startswith("/api/exchange/")
    ]
    assert routes

    # Path parameters are written {id} in the doc, {stream_id} etc. in the code.
    def norm(path: str) -> str:
        return re.sub(r"\{[a-z_]+\}", "{id}", path.split("?")[0])

    documented = {norm(d) for d in documented}
    missing = [r for r in routes if norm(r) not in documented]
    assert missing == [], f"undocumented routes: {missing}"
