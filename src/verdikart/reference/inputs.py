"""The input rules every face shares (CLI options, web query parameters): one way to name a
material, a country or group, a material list and a set of years, with "did you mean" on every
unknown value.

- materials: id, English or Norwegian name, alias, symbol or official list name (`kobolt`,
  `nikkel`, `Natural Graphite`) via :mod:`verdikart.reference.materials`; a name the reference
  does not know passes through as a slug for the use case to check (it knows which materials
  have data and says so, with suggestions from :func:`unknown_materials_message`);
- countries and groups: ISO2/ISO3/numeric, BACI or SSB code, English or Norwegian name
  (`Norge`, `Sverige`), group id (`EU27`, `nato`) via :mod:`verdikart.reference.countries`;
- material lists: ids or common short names (`nato` -> nato2024, `eu` -> the latest EU list,
  `crma` -> crma-critical) via :func:`verdikart.reference.materials.resolve_list_id`;
- years: `2022`, `2018-2022`, `2020,2022`, `latest` (also `siste`), `all` (:class:`YearSpec`;
  `latest` is resolved against the years the question has data for).

Values may be repeated or comma-separated; `all` anywhere means every value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from verdikart.errors import UnknownCodeError

ALL = "all"
LATEST = ("latest", "siste", "last")
_RANGE = re.compile(r"^\s*(\d{4})\s*[-\u2013\u2014:]\s*(\d{4})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


def split_values(values: Sequence[str] | str) -> list[str] | None:
    """Repeatable, comma-separated values (stripped, in order, no repeats); None when any of
    them is 'all' (or 'alle')."""
    if isinstance(values, str):
        values = (values,)
    out: list[str] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            if part.casefold() in (ALL, "alle"):
                return None
            if part not in out:
                out.append(part)
    return out


def suggestions(text: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Up to `n` candidates close to `text` (case-insensitive), best first."""
    by_key: dict[str, str] = {}
    for c in candidates:
        by_key.setdefault(str(c).casefold(), str(c))
    close = difflib.get_close_matches(str(text).strip().casefold(), list(by_key), n=n, cutoff=0.6)
    return [by_key[c] for c in close]


def did_you_mean(texts: Iterable[str], candidates: Iterable[str]) -> str:
    """'did you mean: a, b? ' for the unknown `texts` ('' when nothing is close); material
    names the reference knows add their id (`cobolt` -> cobalt)."""
    from verdikart.reference.materials import material_suggestions

    pool = list(candidates)
    texts = list(texts)
    typed = {str(t).strip().casefold() for t in texts}
    found: dict[str, None] = {}
    for text in texts:
        for s in suggestions(text, pool):
            found.setdefault(s, None)
        for mid in material_suggestions(text):
            if mid in pool:
                found.setdefault(mid, None)
    for s in list(found):
        if s.casefold() in typed:  # the value itself has no data: suggesting it helps no one
            del found[s]
    return f"did you mean: {', '.join(found)}? " if found else ""


def unknown_materials_message(what: str, unknown: Sequence[str], known: Sequence[str]) -> str:
    """The one message for materials a question has no data for: what, suggestions, the list."""
    return (
        f"{what} for material(s) {', '.join(unknown)}; {did_you_mean(unknown, known)}"
        f"materials with data: {', '.join(known)}"
    )


# ---------------------------------------------------------------- materials


def material_id(text: str) -> str:
    """The material id for any name the reference knows; otherwise `text` as a slug
    ('Natural Graphite' -> natural-graphite) for the use case to check against its data."""
    from verdikart.reference.materials import find_material

    found = find_material(text)
    if found is not None:
        return found.id
    return re.sub(r"[^a-z0-9]+", "-", str(text).strip().casefold()).strip("-")


def material_ids(values: Sequence[str] | str | None) -> list[str] | None:
    """Material ids from repeatable/comma-separated names; None for 'all' (or no value)."""
    parts = None if values is None else split_values(values)
    if not parts:
        return None
    return list(dict.fromkeys(material_id(p) for p in parts))


# ---------------------------------------------------------------- countries and lists


def country_ids(values: Sequence[str] | str | None) -> list[str] | None:
    """ISO3 codes or group ids from any code or name; None for 'all' (or no value).
    Unknown names raise UnknownCodeError with close matches (all of them in one message)."""
    from verdikart.reference.countries import resolve_country

    parts = None if values is None else split_values(values)
    if not parts:
        return None
    out: list[str] = []
    problems: list[str] = []
    for part in parts:
        try:
            ref = resolve_country(part)
        except UnknownCodeError as exc:
            problems.append(str(exc))
            continue
        if ref.id not in out:
            out.append(ref.id)
    if problems:
        raise UnknownCodeError("; ".join(problems))
    return out


def list_ids(values: Sequence[str] | str | None) -> list[str] | None:
    """Material list ids from ids or short names (nato, eu, crma); None for 'all'."""
    from verdikart.reference.materials import LIST_IDS, resolve_list_id

    parts = None if values is None else split_values(values)
    if parts is None:
        return list(LIST_IDS)
    return list(dict.fromkeys(resolve_list_id(p) for p in parts))


# ---------------------------------------------------------------- years


@dataclass(frozen=True)
class YearSpec:
    """Years as typed: explicit years, `latest`, or every year (`all`)."""

    years: tuple[int, ...] = ()
    latest: bool = False
    every: bool = False

    @property
    def is_all(self) -> bool:
        return self.every

    def explicit(self) -> list[int] | None:
        """The typed years alone, sorted (None for 'all'); `latest` is not in it."""
        return None if self.every else sorted(self.years)

    def resolve(self, available: Sequence[int], *, what: str = "data") -> list[int] | None:
        """Years against those with data: None for 'all', `latest` = the last available one.
        Years without data raise UnknownCodeError naming the years that have it."""
        if self.every:
            return None
        known = sorted({int(y) for y in available})
        out = set(self.years)
        if self.latest:
            if not known:
                raise UnknownCodeError(f"no {what} in the store: no latest year")
            out.add(known[-1])
        if known:
            bad = sorted(y for y in out if y not in known)
            if bad:
                raise UnknownCodeError(
                    f"no {what} for year(s) {', '.join(map(str, bad))}; years with {what}: "
                    f"{span_text(known)}"
                )
        return sorted(out)

    def single(self, available: Sequence[int] | None = None) -> int | None:
        """One year (None = 'latest', for use cases whose default is the latest year)."""
        if self.every or len(self.years) + int(self.latest) != 1:
            raise UnknownCodeError("give one year here (e.g. 2022 or latest), not several")
        if self.latest:
            return None if not available else max(available)
        return self.years[0]


def span_text(years: Sequence[int]) -> str:
    """'2018-2024' for consecutive years, else '2018, 2020, 2022'."""
    ys = sorted(set(years))
    if ys and ys == list(range(ys[0], ys[-1] + 1)) and len(ys) > 2:
        return f"{ys[0]}-{ys[-1]}"
    return ", ".join(map(str, ys))


def parse_years(values: Sequence[str] | str | None, *, default: str = ALL) -> YearSpec:
    """`2022`, `2018-2022`, `2020,2022`, `latest`/`siste`, `all` (repeatable, combinable).
    Raises UnknownCodeError on anything else, saying what is accepted."""
    if values is None or (not isinstance(values, str) and not values):
        values = (default,)
    parts = split_values(values)
    if parts is None:
        return YearSpec(every=True)
    years: set[int] = set()
    latest = False
    for part in parts:
        if part.casefold() in LATEST:
            latest = True
            continue
        single = _YEAR.match(part)
        ranged = _RANGE.match(part)
        if single:
            years.add(int(single.group(1)))
        elif ranged:
            first, last = int(ranged.group(1)), int(ranged.group(2))
            if first > last:
                raise UnknownCodeError(f"year range {part!r} runs backwards; write {last}-{first}")
            years.update(range(first, last + 1))
        else:
            raise UnknownCodeError(
                f"not a year: {part!r}; use a year (2022), a range (2018-2022), a list "
                "(2020,2022), 'latest' or 'all'"
            )
    bad = sorted(y for y in years if not 1900 <= y <= 2100)
    if bad:
        raise UnknownCodeError(f"not a plausible year: {', '.join(map(str, bad))}")
    return YearSpec(years=tuple(sorted(years)), latest=latest)


__all__ = [
    "YearSpec",
    "country_ids",
    "did_you_mean",
    "list_ids",
    "material_id",
    "material_ids",
    "parse_years",
    "span_text",
    "split_values",
    "suggestions",
    "unknown_materials_message",
]
