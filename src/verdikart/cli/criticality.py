"""CLI commands: criticality (placeholder until the owning issue lands)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
