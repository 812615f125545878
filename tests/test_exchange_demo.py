# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The demonstration cases through the CLI: tokens to a private file, matching finds and
explains, potential runs."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from test_exchange_support import db_url
from verdikart.cli import cli


def _run(runner: CliRunner, *args: str) -> Any:
    out = runner.invoke(cli, list(args))
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.fixture
def demo(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The demo loaded; its tokens read from the private file it writes (never printed)."""
    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    tokens = tmp_path / "tokens.json"
    out = CliRunner().invoke(cli, ["exchange", "demo", "--tokens", str(tokens), "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert rows and all("token" not in r for r in rows)
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    by_org: dict[str, str] = json.loads(tokens.read_text(encoding="utf-8"))
    assert all(token not in out.output for token in by_org.values())
    assert str(tokens) in out.stderr and "VERDIKART_TOKEN" in out.stderr
    return by_org


def test_demo_loads_seed_cases_once(demo: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("VERDIKART_TOKEN", demo["Yara"])
    streams = _run(runner, "exchange", "list", "--format", "json")
    names = {s["name_public"] for s in streams}
    assert "Silicomanganese slag (SiGS)" in names
    assert "Surplus heat, Mo Industripark" in names
    assert len(streams) == 9
    heat = next(s for s in streams if s["material_class"] == "surplus-heat")
    assert heat["quantity_band"] == "≥100 GWh"  # 400 GWh/yr, seed 001 l.2911
    # Loading again issues fresh tokens but adds no streams.
    _run(runner, "exchange", "demo", "--format", "json")
    assert len(_run(runner, "exchange", "list", "--format", "json")) == 9
    # Compositions are marked illustrative, quantities cite the seed lines.
    monkeypatch.setenv("VERDIKART_TOKEN", demo["Eramet Norway"])
    sigs = next(s for s in streams if s["name_public"].startswith("Silicomanganese"))
    shown = _run(runner, "exchange", "show", sigs["id"], "--format", "json")
    assert shown["details"]["quantity_t_per_year"] == 220_000
    assert "l.2405-2407" in shown["details"]["source"]
    assert all("ILLUSTRATIVE" in c["method"] for c in shown["details"]["composition"])


def test_yara_phosphate_need_finds_p_bearing_stream(
    demo: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("VERDIKART_TOKEN", demo["Yara"])
    needs = _run(runner, "exchange", "list", "--needs", "--format", "json")
    phosphate = next(n for n in needs if n["material_class"] == "phosphate")
    matches = _run(runner, "exchange", "match", "--need", phosphate["id"], "--format", "json")
    assert [m["name_public"] for m in matches] == ["Sewage sludge ash (ILLUSTRATIVE example)"]
    assert matches[0]["matches"] is True and "limits" not in matches[0]  # not disclosed yet
    # After the owner accepts, the same match carries the explanation per limit.
    request = _run(runner, "exchange", "request", matches[0]["stream_id"], "--format", "json")
    monkeypatch.setenv("VERDIKART_TOKEN", demo["Demo water utility (illustrative)"])
    _run(runner, "exchange", "accept", request["id"], "--format", "json")
    monkeypatch.setenv("VERDIKART_TOKEN", demo["Yara"])
    (explained,) = _run(runner, "exchange", "match", "--need", phosphate["id"], "--format", "json")
    # a JSON list from the CLI is of flat objects: the per-limit list comes as JSON text
    limits = json.loads(explained["limits"])
    status = {x["component"]: x["status"] for x in limits}
    assert status == {"P": "pass", "Cd": "pass", "Cl": "pass"}
    # disclosed: evaluated against the exact limit (P >= 7 wt%), not the public 1-2-5 grid
    limit_p = next(x["limit_value"] for x in limits if x["component"] == "P")
    assert limit_p == pytest.approx(0.07)
    assert 0 < explained["score"] <= 1


def test_kemira_need_ranks_kronos_iron_sulphate(
    demo: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("VERDIKART_TOKEN", demo["Kemira Chemicals"])
    (need,) = _run(runner, "exchange", "list", "--needs", "--format", "json")
    matches = _run(runner, "exchange", "match", "--need", need["id"], "--format", "json")
    assert matches[0]["name_public"].startswith("Iron(II) sulphate")
    assert matches[0]["distance_band"] == "<25 km"


def test_potential_runs_on_demo(demo: dict[str, str]) -> None:
    result = _run(CliRunner(), "exchange", "potential", "--material", "phosphate-rock",
                  "--format", "json")  # fmt: skip
    assert result["basis"] == "P2O5" and result["n_streams"] >= 1
    assert result["secondary_t_max"] >= result["secondary_t_min"] > 0
    assert result["hs6"]  # the HS6 codes compared against
