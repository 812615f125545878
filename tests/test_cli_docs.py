"""Docs that cannot drift: docs/cli.md is the commands' own help, regenerated."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_cli_docs", ROOT / "scripts" / "make_cli_docs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == module.render(), "docs/cli.md is stale: run python scripts/make_cli_docs.py"


def test_every_command_has_help() -> None:
    import click

    from verdikart.cli import cli

    def walk(command: click.Command, name: str) -> list[str]:
        missing = [] if (command.help or "").strip() else [name]
        if isinstance(command, click.Group):
            for sub, child in command.commands.items():
                missing += walk(child, f"{name} {sub}")
        return missing

    assert walk(cli, "verdikart") == []
