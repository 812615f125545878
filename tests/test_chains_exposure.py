"""Stage-wise exposure and position in `chain show` (issue 9, point 3) and the mapping report's
value-chain section, on the bundled data.

Expected values are read off the bundled real tables by hand:

* EU CRM study 2023, EU sourcing of silicon metal (P): Norway 33 %, France 28 %, ... (Norway
  the top supplier); of processed nickel: Russia 29 %, Norway 10 %;
* the same study's global supply of silicon metal: China 75.7 %, Brazil 7.2 %, Norway 6.3 %,
  France 4.3 %, Russia 1.6 %, USA 1.2 %, Canada 1.0 %, Germany 1.0 %, Bosnia 0.9 %, Spain
  0.7 %, Iceland 0.3 %, Slovakia <0.1 % (0.05 %): HHI = 0.757² + 0.072² + ... = 0.58479025;
* CEPII BACI HS92 2022, HS 260200 (manganese ore) imported by the 27 EU members from outside
  the EU: 345,221.847 kUSD from 34 countries, Gabon 154,199.99 kUSD (44.67 %).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from verdikart.cli import cli

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    data = tmp_path_factory.mktemp("data")
    return CliRunner(env={"VERDIKART_DATA_DIR": str(data), "VERDIKART_LANGUAGE": "en"})


def _stages(runner: CliRunner, material: str) -> dict[str, dict]:
    result = runner.invoke(cli, ["chain", "show", material, "--year", "2022", "--format", "json"])
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["eu_reporter"] == "EU27"
    return {s["stage"]: s for s in view["stages"]}


@pytest.fixture(scope="module")
def silicon(runner: CliRunner) -> dict[str, dict]:
    return _stages(runner, "silicon")


def test_eu_sourcing_top_supplier_and_country_share(silicon: dict[str, dict]) -> None:
    (eu,) = silicon["silicon-metal"]["eu_sourcing"]
    assert (eu["material"], eu["stage"], eu["name"]) == ("silicon", "P", "Silicon metal")
    assert (eu["top_supplier"], eu["top_supplier_share"]) == ("NOR", 0.33)
    assert eu["country"] == "NOR" and eu["country_share"] == 0.33
    assert eu["n_suppliers"] == 13
    # Norway is not listed among the EU's manganese ore suppliers: no share, not zero
    (ore,) = silicon["manganese-ore"]["eu_sourcing"]
    assert ore["top_supplier"] == "ZAF" and ore["country_share"] is None
    # a stage without an EU stage has none
    assert silicon["quartz"]["eu_sourcing"] == []


def test_world_production_from_the_eu_global_shares_where_the_store_has_none(
    silicon: dict[str, dict],
) -> None:
    prod = silicon["silicon-metal"]["production"]
    assert prod["basis"] == "eu_global_supply_shares"
    assert prod["source"].startswith("global supply shares, EU CRM study 2023")
    assert (prod["top_country"], prod["top_share"], prod["n_producers"]) == ("CHN", 0.757, 12)
    assert prod["hhi"] == pytest.approx(0.58479025)
    assert any(
        "EU 2023 global supply shares are shown instead" in n
        for n in silicon["silicon-metal"]["notes"]
    )
    # the store's own series where it has one (World Mining Data)
    assert silicon["manganese-ore"]["production"]["basis"] == "production"
    assert silicon["manganese-ore"]["production"]["source"].startswith("World Mining Data")


def test_eu27_imports_by_supplier(silicon: dict[str, dict]) -> None:
    imp = silicon["manganese-ore"]["eu_imports"]
    assert imp["reporter"] == "EU27" and imp["year"] == 2022
    assert imp["import_value_kusd"] == pytest.approx(345_221.847)
    assert imp["n_suppliers"] == 34
    assert imp["top_supplier"] == "GAB"
    assert imp["top_supplier_share"] == pytest.approx(154_199.99 / 345_221.847)
    assert imp["concentration_flag"] is False  # 44.7 % is below 65 %
    members = {"AUT", "BEL", "DEU", "FRA", "NLD", "SWE", "FIN", "ESP", "ITA", "POL"}
    assert not members & {s["supplier"] for s in imp["suppliers"]}  # extra-EU only
    # no trade data for the code: no EU share either (one note names the codes)
    assert silicon["silicon-metal"]["eu_imports"] is None


def test_where_norway_supplies(silicon: dict[str, dict], runner: CliRunner) -> None:
    pos = silicon["silicon-metal"]["position"]
    assert pos["share_of_eu_sourcing"] == 0.33
    assert pos["share_of_world_production"] == 0.063  # the EU study's global share
    # HS 280469 is not in the bundled trade: no export share, a note saying how to fill it
    assert pos["share_of_world_exports"] is None and pos["exports_year"] is None
    assert "280469" in pos["note"] and "verdikart data import baci" in pos["note"]
    assert "EU sourcing: EU CRM study 2023" in pos["source"]
    for stage in ("silicomanganese", "ferromanganese"):
        assert silicon[stage]["position"]["share_of_eu_sourcing"] == 0.21
    nickel = _stages(runner, "nickel")
    (eu,) = nickel["nickel-metal"]["eu_sourcing"]
    assert (eu["top_supplier"], eu["top_supplier_share"], eu["country_share"]) == ("RUS", 0.29, 0.1)
    assert nickel["nickel-metal"]["position"]["share_of_eu_sourcing"] == 0.1
    # HS 260400 is in the bundled trade: the export share is computed on the whole code set
    ore = nickel["nickel-ore"]["position"]
    assert ore["share_of_world_exports"] is not None and ore["exports_year"] == 2022
    assert ore["note"] is None and "world exports: CEPII BACI" in ore["source"]


def test_table_shows_the_exposure(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["chain", "show", "silicon", "--year", "2022"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Where NOR supplies" in result.output
    assert "EU27 imports" in result.output


def test_picture_shows_the_exposure(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["chain", "show", "silicon", "--year", "2022", "--format", "svg"])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(result.output)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "NOR: 33 % of EU sourcing" in texts
    assert "EU sourcing 2023: top NOR 33 %" in texts
    assert "World supply (EU 2023): HHI 0.58" in texts
    assert any(t.startswith("EU27 imports: GAB 45 %") for t in texts)


def test_mapping_report_has_the_value_chain_pictures(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    result = runner.invoke(
        cli, ["map", "--country", "NOR", "--year", "2022", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    start = html.index('<section id="value-chains">')
    section = html[start : html.index("</section>", start)]
    figures = re.findall(r'<figure class="chain" id="fig-chain-([a-z-]+)">', section)
    assert len(figures) == 9 and {"nickel", "aluminium", "silicon"} <= set(figures)
    assert section.count("<svg") == 9
    assert "Silicon and ferroalloys: NOR supplies 33 % of the EU&#x27;s sourcing" in section
    # inline, self-contained: no external files; the pictures' CSS scoped to each picture
    assert not re.search(r'(src|href)="(?!#)', section)
    assert "#chain-silicon .flag{" in section and "\n.flag{" not in section
    # the report's other sections stay
    assert 'id="mapping"' in html and 'id="chart-suppliers"' in html
