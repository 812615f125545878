"""`verdikart chain show`: the JSON interface, the stage and plant content of the nickel,
aluminium and silicon chains on the bundled data, the picture (SVG, PNG) and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli
from verdikart.errors import VerdikartError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    data = tmp_path_factory.mktemp("data")
    return CliRunner(env={"VERDIKART_DATA_DIR": str(data), "VERDIKART_LANGUAGE": "en"})


def _show(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(cli, ["chain", "show", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def nickel(runner: CliRunner) -> dict:
    return _show(runner, "nickel", "--year", "2022")


def test_json_shape(nickel: dict) -> None:
    for key in ("material", "stages", "plants"):
        assert key in nickel
    assert nickel["material"] == "nickel"
    for stage in nickel["stages"]:
        assert {"stage", "hs_codes", "sectors"} <= set(stage)
        assert set(stage["hs_codes"]) == {"HS92", "HS2017", "HS2022"}
    for plant in nickel["plants"]:
        assert {"company", "plant", "eu_ets_id", "stages_in", "stages_out"} <= set(plant)


def test_nickel_stages_and_nikkelverk(nickel: dict) -> None:
    stages = {s["stage"]: s for s in nickel["stages"]}
    assert ["nickel-ore", "nickel-matte", "nickel-metal"] == [
        s for s in stages if s.startswith("nickel-") and s != "nickel-sulphate"
    ]
    assert stages["nickel-matte"]["hs_codes"]["HS92"] == ["750110", "750120"]
    assert stages["cobalt-metal"]["hs_codes"] == {
        "HS92": ["810510"],
        "HS2017": ["810520"],
        "HS2022": ["810520"],
    }
    assert stages["nickel-metal"]["eu"] == [{"material": "Nickel", "stage": "P"}]
    assert "energy" in stages["nickel-ore"]["sectors"]
    (plant,) = nickel["plants"]
    assert plant["company"] == "Glencore Nikkelverk AS"
    assert plant["eu_ets_id"] is None  # not in the register extract
    assert plant["stages_in"] == ["nickel-matte"]
    assert set(plant["stages_out"]) == {"nickel-metal", "cobalt-metal", "copper-cathode"}


def test_nickel_concentration_on_the_bundled_data(nickel: dict) -> None:
    stages = {s["stage"]: s for s in nickel["stages"]}
    ore = stages["nickel-ore"]
    # World Mining Data 2022, nickel mine production: Indonesia the top producer
    assert ore["production"]["year"] == 2022
    assert ore["production"]["top_country"] == "IDN"
    assert 0 < ore["production"]["hhi"] <= 1
    # 260400 is in the bundled trade: Norway's imports by supplier with the 65 % flag
    imp = ore["imports"]
    assert imp["reporter"] == "NOR" and imp["year"] == 2022
    assert imp["concentration_flag"] == (imp["top_supplier_share"] > 0.65)
    assert abs(sum(s["share"] for s in imp["suppliers"]) - 1) < 1e-9 or imp["n_suppliers"] > 5
    # the matte's codes are not in the bundled trade: no share, a note saying how to fill it
    matte = stages["nickel-matte"]
    assert matte["imports"] is None
    assert any("750110, 750120" in n and "verdikart data import baci" in n for n in matte["notes"])


def test_aluminium_chain(runner: CliRunner) -> None:
    view = _show(runner, "aluminium", "--year", "2022")
    ids = [s["stage"] for s in view["stages"]]
    assert ids == ["bauxite", "alumina", "primary-aluminium", "aluminium-alloys", "aluminium-semis"]
    plants = {p["plant"]: p for p in view["plants"]}
    assert {"Sunndal", "Karmøy", "Årdal", "Høyanger", "Husnes", "Lista", "Mosjøen"} <= set(plants)
    assert plants["Sunndal"]["eu_ets_id"] == "NO_204078"
    assert plants["Sunndal"]["stages_in"] == ["alumina"]
    assert "primary-aluminium" in plants["Lista"]["stages_out"]
    primary = view["stages"][2]
    assert primary["hs_codes"]["HS92"] == ["760110"]
    assert {"energy", "defence", "process industry"} <= set(primary["sectors"])
    assert primary["production"]["top_country"] == "CHN"


def test_silicon_chain_by_norwegian_name(runner: CliRunner) -> None:
    view = _show(runner, "silisium")
    assert view["material"] == "silicon"
    stages = {s["stage"]: s for s in view["stages"]}
    assert {"quartz", "manganese-ore", "silicon-metal", "ferrosilicon"} <= set(stages)
    assert {"silicomanganese", "ferromanganese"} <= set(stages)
    assert stages["silicon-metal"]["eu"] == [{"material": "Silicon metal", "stage": "P"}]
    assert stages["ferrosilicon"]["hs_codes"]["HS92"] == ["720221", "720229"]
    by_ets = {p["eu_ets_id"]: p for p in view["plants"]}
    assert by_ets["NO_203880"]["plant"] == "Bremanger"
    assert by_ets["NO_202505"]["company"] == "Finnfjord AS"
    assert by_ets["NO_203942"]["stages_out"] == ["silicon-metal"]  # Wacker Holla
    assert "ferromanganese" in by_ets["NO_202628"]["stages_out"]  # Eramet Sauda


def test_stage_option_and_bad_input(runner: CliRunner) -> None:
    view = _show(runner, "nickel", "--stage", "nickel-matte")
    assert [s["stage"] for s in view["stages"]] == ["nickel-matte"]
    assert [p["plant"] for p in view["plants"]] == ["Nikkelverk"]
    assert "did you mean nickel" in _fails(runner, "nickle")
    assert "stages: nickel-ore" in _fails(runner, "nickel", "--stage", "mate")
    assert "no value chain recorded for lithium" in _fails(runner, "lithium")


def _fails(runner: CliRunner, *args: str) -> str:
    """The message of a refused `chain show` (a VerdikartError: `main` exits 2 with it)."""
    result = runner.invoke(cli, ["chain", "show", *args])
    assert isinstance(result.exception, VerdikartError), result.output
    assert result.exception.exit_code == 2
    return str(result.exception)


def test_unknown_material_exits_2_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "VERDIKART_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "from verdikart.cli import main; main()", "chain", "show", "nikel"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown material or chain 'nikel'")
    assert "Traceback" not in done.stderr


def test_svg_is_xml_with_stage_names(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "al.svg"
    result = runner.invoke(
        cli, ["chain", "show", "aluminium", "--format", "svg", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for name in ("Bauxite", "Alumina", "Primary aluminium", "Sunndal"):
        assert name in text


def test_svg_in_norwegian(tmp_path: Path) -> None:
    runner = CliRunner(env={"VERDIKART_DATA_DIR": str(tmp_path), "VERDIKART_LANGUAGE": "nb"})
    result = runner.invoke(cli, ["chain", "show", "nikkel", "--format", "svg"])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(result.output)
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Nikkel-kobbermatte" in text and "verdikjede" in text


def test_png_signature(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("cairosvg")
    out = tmp_path / "si.png"
    result = runner.invoke(cli, ["chain", "show", "silicon", "--format", "png", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    bad = runner.invoke(cli, ["chain", "show", "silicon", "--format", "png"])
    assert bad.exit_code == 2 and "--out" in bad.output  # a click usage error
