"""The European List of Waste (EWC / LoW) as the exchange's own code table.

Source: Commission Decision 2000/532/EC establishing a list of wastes, as replaced by Commission
Decision 2014/955/EU (in force 1 June 2015). In Norway the list is applied through the waste
regulations (avfallsforskriften, vedlegg til kapittel 11) as "EAL-koder"; the exchange uses the
6-digit entries only (the 2- and 4-digit headings are chapters and sub-chapters).

The table ``exchange/data/ewc.csv`` (code, description, hazardous, chapter) was written for this
project from the published Decision; an entry marked with an asterisk (*) in the Decision is
hazardous waste. ``tests/test_exchange_logic_ewc.py`` checks every row against an independent
copy of the list.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from verdikart.errors import UnknownCodeError

_CODE = re.compile(r"^\s*(\d{2})\s*(\d{2})\s*(\d{2})\s*(\*?)\s*$")


@dataclass(frozen=True)
class WasteCode:
    """One 6-digit List of Waste entry."""

    code: str  # 6 digits, no spaces, no asterisk
    description: str
    hazardous: bool
    chapter: str  # 2 digits

    @property
    def display(self) -> str:
        """The code as printed in the Decision: '10 01 04*'."""
        star = "*" if self.hazardous else ""
        return f"{self.code[:2]} {self.code[2:4]} {self.code[4:]}{star}"


@cache
def waste_codes() -> dict[str, WasteCode]:
    """All entries of the packaged table, keyed by 6-digit code (read once)."""
    text = resources.files("verdikart.exchange").joinpath("data/ewc.csv").read_text("utf-8")
    table: dict[str, WasteCode] = {}
    for row in csv.DictReader(text.splitlines()):
        code = row["code"]
        table[code] = WasteCode(
            code=code,
            description=row["description"],
            hazardous=row["hazardous"] == "true",
            chapter=row["chapter"],
        )
    return table


def normalise_code(text: str) -> tuple[str, bool]:
    """'10 01 04*' / '100104*' / '100104' -> ('100104', star_given). ValueError if malformed."""
    match = _CODE.match(str(text))
    if match is None:
        raise ValueError(
            f"waste code {text!r} is not a 6-digit List of Waste code (e.g. '10 01 04')"
        )
    return match.group(1) + match.group(2) + match.group(3), bool(match.group(4))


def lookup(text: str) -> WasteCode:
    """The entry for a code; UnknownCodeError when the code is not on the List of Waste.

    A trailing asterisk is accepted only on hazardous entries (it is part of how they are written).
    """
    try:
        code, star = normalise_code(text)
    except ValueError as exc:
        raise UnknownCodeError(str(exc)) from None
    entry = waste_codes().get(code)
    if entry is None:
        chapter = code[:2]
        known = sorted(c for c in waste_codes() if c[:4] == code[:4])
        hint = f"; codes in {code[:2]} {code[2:4]}: {', '.join(known[:12])}" if known else ""
        raise UnknownCodeError(
            f"waste code {text!r} is not on the European List of Waste (chapter {chapter}){hint}"
        )
    if star and not entry.hazardous:
        raise UnknownCodeError(
            f"waste code {text!r}: {entry.display} is a non-hazardous entry, it has no asterisk"
        )
    return entry


def is_hazardous(text: str) -> bool:
    """True when the code is an absolute or mirror hazardous (*) entry."""
    return lookup(text).hazardous
