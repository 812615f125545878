"""Reading the reference package's own data files (CSV with '#' comment lines, JSON, TOML)."""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

from verdikart.errors import SourceError


def data_path(name: str) -> Path:
    """Path of a file under `verdikart/reference/data/`."""
    return Path(str(resources.files("verdikart.reference") / "data" / name))


def read_csv(
    name: str, columns: tuple[str, ...], nonempty: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """Rows of a packaged CSV as dicts of strings ('' = empty); '#' lines are comments.

    Raises SourceError naming the file (and line, field) when one of `columns` is absent or a
    `nonempty` field is empty.
    """
    path = data_path(name)
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        raise SourceError(path, f"missing column(s) {', '.join(missing)}; header is {header}")
    rows: list[dict[str, str]] = []
    comments = sum(1 for line in text.splitlines() if line.startswith("#"))
    for number, row in enumerate(reader, start=2 + comments):
        for col in nonempty:
            if not (row.get(col) or "").strip():
                raise SourceError(path, "empty value", line=number, field=col)
        rows.append({k: (v or "").strip() for k, v in row.items()})
    return rows
