"""A TOML or YAML data file with the line of every value, so that errors name file and line.

Owns reading the editable data files of scenarios, the event table and the watch thresholds:
``tomllib`` and PyYAML report no line of a value, so the lines are found here (TOML: by its
table headers and keys; YAML: from the composed nodes) and every problem becomes a
:class:`verdikart.errors.SourceError` naming the file, line, field and reason.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from verdikart.errors import SourceError

Key = str | int
_ARRAY = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")


def _toml_lines(text: str) -> dict[tuple[Key, ...], int]:
    """path -> line of each table, array element and key of a TOML text."""
    out: dict[tuple[Key, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    current: tuple[Key, ...] = ()
    for n, line in enumerate(text.splitlines(), start=1):
        array = _ARRAY.match(line)
        table = None if array else _TABLE.match(line)
        if array:
            name = tuple(p.strip().strip('"') for p in array.group(1).split("."))
            index = counts.get(name, 0)
            counts[name] = index + 1
            current = (*name, index)
            out.setdefault(current, n)
            out.setdefault(name, n)
        elif table:
            current = tuple(p.strip().strip('"') for p in table.group(1).split("."))
            out.setdefault(current, n)
        else:
            key = _KEY.match(line)
            if key:
                out.setdefault((*current, key.group(1).strip("\"'")), n)
    return out


def _yaml_lines(node: Any, path: tuple[Key, ...], out: dict[tuple[Key, ...], int]) -> None:
    import yaml

    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value)
            out.setdefault((*path, name), key.start_mark.line + 1)
            _yaml_lines(value, (*path, name), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, (*path, i), out)


class DataFile:
    """A parsed data file (``data``) and the line of each value (:meth:`line`)."""

    def __init__(self, path: Path, data: dict[str, Any], lines: dict[tuple[Key, ...], int]):
        self.path = path
        self.data = data
        self._lines = lines

    @classmethod
    def read(cls, path: str | Path) -> DataFile:
        """Read a .toml, .yaml or .yml file; SourceError when it cannot be read or parsed."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceError(p, f"cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise SourceError(p, "not UTF-8 text") from exc
        if p.suffix.lower() in (".yaml", ".yml"):
            return cls._yaml(p, text)
        if p.suffix.lower() != ".toml":
            raise SourceError(p, "a scenario or table file is .toml, .yaml or .yml")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"line (\d+)", str(exc))
            raise SourceError(
                p, f"invalid TOML: {exc}", line=int(found.group(1)) if found else None
            ) from exc
        return cls(p, data, _toml_lines(text))

    @classmethod
    def _yaml(cls, p: Path, text: str) -> DataFile:
        import yaml

        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise SourceError(
                p, f"invalid YAML: {exc}", line=None if mark is None else mark.line + 1
            ) from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise SourceError(p, "the file must hold a mapping (key: value) at the top", line=1)
        lines: dict[tuple[Key, ...], int] = {}
        if node is not None:
            _yaml_lines(node, (), lines)
        return cls(p, data, lines)

    def line(self, *path: Key) -> int | None:
        """The line of the value at `path`, else of the nearest enclosing table."""
        keys = tuple(path)
        while keys:
            if keys in self._lines:
                return self._lines[keys]
            keys = keys[:-1]
        return None

    def fail(self, problem: str, *path: Key) -> SourceError:
        """A SourceError naming this file, the line of `path` and its last named key."""
        field = next((str(k) for k in reversed(path) if isinstance(k, str)), None)
        return SourceError(self.path, problem, line=self.line(*path), field=field)


def parse_date(value: Any) -> dt.date:
    """A date from a TOML/YAML date or an ISO text (YYYY-MM-DD); ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(f"{value!r} is not a date")
