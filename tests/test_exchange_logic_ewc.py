"""The exchange's own List of Waste table against an independent copy of the real list."""

from __future__ import annotations

import csv
import difflib
import re
from pathlib import Path

import pytest

from verdikart.errors import UnknownCodeError
from verdikart.exchange import wastecodes

EU_LOW_ENTRIES = 842  # 6-digit entries of Decision 2000/532/EC as amended by 2014/955/EU
EU_LOW_HAZARDOUS = 408


def _norm(text: str) -> str:
    """Lower case, words only: the UK copy edits capitalisation and punctuation a little."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _norm(a), _norm(b)).ratio()


def test_lookup_normalises_and_flags() -> None:
    entry = wastecodes.lookup("10 01 04*")
    assert entry.code == "100104" and entry.hazardous and entry.chapter == "10"
    assert entry.display == "10 01 04*"
    assert wastecodes.lookup("100101").hazardous is False
    assert wastecodes.is_hazardous("06 01 01")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("10 01 98", "not on the European List of Waste"),
        ("1001", "not a 6-digit"),
        ("10 01 01*", "non-hazardous entry"),
    ],
)
def test_lookup_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UnknownCodeError, match=fragment):
        wastecodes.lookup(text)


def test_table_shape() -> None:
    table = wastecodes.waste_codes()
    assert len(table) == EU_LOW_ENTRIES
    assert sum(e.hazardous for e in table.values()) == EU_LOW_HAZARDOUS
    assert all(e.chapter == e.code[:2] for e in table.values())
    for chapter in ("01", "06", "10", "11", "16", "17", "19"):
        assert any(c.startswith(chapter) for c in table), chapter


@pytest.mark.shared_data
def test_table_against_real_list(shared_data: Path) -> None:
    path = shared_data / "ewc" / "ewc_list_of_waste.csv"
    with path.open(encoding="utf-8") as handle:
        real = {row["code"]: row for row in csv.DictReader(handle)}
    ours = wastecodes.waste_codes()
    problems = []
    for code, entry in ours.items():
        other = real.get(code)
        if other is None:
            problems.append(f"{code}: not on the real list")
            continue
        if entry.hazardous != (other["isHazardous"] == "True"):
            problems.append(f"{code}: hazardous flag differs")
        score = _similar(entry.description, other["description"])
        if score < 0.9:
            problems.append(f"{code}: description differs ({score:.2f})")
    assert not problems, "\n".join(problems)
    coverage = len(set(ours) & set(real))
    print(f"EWC coverage: {coverage} of {len(real)} real entries")
    assert coverage == len(real) == EU_LOW_ENTRIES
