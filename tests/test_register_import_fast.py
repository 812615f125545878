# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The register import's fast paths (issue #12 benchmark) give the same records, lines and
errors as the record-by-record reader: blocks decoded in one go, a cut that lands inside a
string or an inner array of objects (the block fails and the slow reader takes over), and the
upsert counts on SQLite and PostgreSQL (temporary tables and COPY there)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from test_exchange_support import db_url, service

WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def _numbers(count: int, base: int = 91_000_000) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        digits = f"{base:08d}"
        check = 11 - sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
        if check != 10:
            out.append(digits + str(0 if check == 11 else check))
        base += 1
    return out


def _units(count: int) -> list[dict[str, Any]]:
    units: list[dict[str, Any]] = []
    for i, number in enumerate(_numbers(count)):
        unit: dict[str, Any] = {
            "organisasjonsnummer": number,
            # a name holding the text between two records, and an inner array of objects
            "navn": f"TRICKY }}, {{ ENHET {i} AS" if i % 3 == 0 else f"ENHET {i} AS",
            "organisasjonsform": {"kode": "AS"},
            "naeringskode1": {"kode": "24.420"},
            "forretningsadresse": {"kommunenummer": "4601"},
            "links": [{"rel": "self"}, {"rel": "x"}] if i % 4 == 0 else [],
        }
        if i % 2:
            unit["antallAnsatte"] = i
        units.append(unit)
    return units


def _pretty(units: list[dict[str, Any]]) -> str:
    return json.dumps(units, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_fast_reader_equals_slow_reader(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    from verdikart.register import importer

    monkeypatch.setattr(importer, "CHUNK_CHARS", chunk)
    text = _pretty(_units(60))
    fast = list(importer.iter_json_array(io.StringIO(text), Path("x"), fast=True))
    slow = list(importer.iter_json_array(io.StringIO(text), Path("x"), fast=False))
    assert fast == slow
    assert [v for _, _, v in fast] == json.loads(text)
    lines = text.split("\n")
    for _number, line, _value in fast:
        assert lines[line - 1] == "  {"


def test_fast_blocks_are_used_on_the_bulk_layout() -> None:
    from verdikart.register import importer

    text = "[" + ",\n".join(json.dumps(u) for u in _units(500)) + "]"
    groups = list(importer.iter_json_groups(io.StringIO(text), Path("x")))
    assert sum(len(g.values) for g in groups) == 500
    assert max(len(g.values) for g in groups) > 100  # decoded in blocks, not one by one


def test_error_in_a_fast_block_names_its_line(tmp_path: Path, service: Any) -> None:
    from verdikart.errors import SourceError
    from verdikart.register.service import RegisterService

    units = _units(40)
    units[25]["forretningsadresse"]["kommunenummer"] = "46x1"
    text = _pretty(units)
    path = tmp_path / "enheter.json.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    start = [i for i, line in enumerate(text.split("\n"), start=1) if line == "  {"][25]
    with pytest.raises(
        SourceError, match=rf"line {start}, field 'forretningsadresse.kommunenummer': record 26"
    ):
        RegisterService(service).import_file(path)


def test_counts_and_last_occurrence_wins(tmp_path: Path, service: Any, monkeypatch: Any) -> None:
    from verdikart.register import importer
    from verdikart.register.service import RegisterService

    monkeypatch.setattr(importer, "BATCH", 7)  # repeats across batches
    units = _units(30)
    again = dict(units[3], navn="SIST VINNER AS", antallAnsatte=7)
    path = tmp_path / "enheter.json"
    path.write_text(_pretty([*units, again]), encoding="utf-8")
    reg = RegisterService(service)
    first = reg.import_file(path)
    assert (first["read"], first["inserted"], first["updated"]) == (31, 30, 1)
    unit = reg.unit(units[3]["organisasjonsnummer"])
    assert (unit["name"], unit["employees"], unit["nace"]) == ("SIST VINNER AS", 7, ["24.420"])
    assert reg.unit(units[0]["organisasjonsnummer"])["employees"] is None  # absent: NULL
    second = reg.import_file(path)
    assert (second["inserted"], second["updated"]) == (0, 31)


def test_codes_are_replaced_not_accumulated(tmp_path: Path, service: Any) -> None:
    from verdikart.register.service import RegisterService

    units = _units(3)
    units[1]["naeringskode2"] = {"kode": "24.450"}
    units[1]["naeringskode3"] = {"kode": "20.130"}
    path = tmp_path / "enheter.json"
    path.write_text(_pretty(units), encoding="utf-8")
    reg = RegisterService(service)
    reg.import_file(path)
    number = units[1]["organisasjonsnummer"]
    assert reg.unit(number)["nace"] == ["24.420", "24.450", "20.130"]
    units[1]["naeringskode1"] = {"kode": "52.292"}
    del units[1]["naeringskode3"]
    path.write_text(_pretty(units), encoding="utf-8")
    reg.import_file(path)
    assert reg.unit(number)["nace"] == ["52.292", "24.450"]
    reg.import_file(path, nace_standard="SN2007")
    unit = reg.unit(number)
    assert unit["nace_sn2007"] == unit["nace_sn2025"] == ["52.292", "24.450"]
