"""The register's fixed vocabularies, in a module of their own so that the CLI can offer them
as choices without importing the database models (SQLAlchemy costs a command's start-up)."""

from __future__ import annotations

OFFSET_SECTORS = ("defence", "offshore-wind", "maritime", "energy", "process-industry")
"""The sectors an offset obligation may be fulfilled in: those issue #12 names (from the
manufacturing industry's strategy, seed 004)."""
