"""Imports from the project template (CSV/XLSX) and the Miljødirektoratet self-reporting layout."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from verdikart.errors import DataValidationError, SourceError
from verdikart.exchange.reporting import (
    material_class_for_waste_code,
    read_miljodir,
    read_template,
    template_header,
    treatment_from_norwegian,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exchange"


def test_template_csv_and_xlsx_agree() -> None:
    from_csv = read_template(FIXTURES / "streams_template.csv")
    from_xlsx = read_template(FIXTURES / "streams_template.xlsx")
    assert len(from_csv) == 5
    assert [r.model_dump() for r in from_csv] == [r.model_dump() for r in from_xlsx]
    sludge, slag, silica, heat, dust = from_csv
    assert sludge.summary.quantity_band == "1–10 kt"
    assert sludge.details.current_treatment == "landfill"  # 'deponi' in the file
    p2o5 = sludge.details.composition[0]
    assert (p2o5.component, p2o5.value_min, p2o5.value_max, p2o5.unit) == ("P2O5", 18, 22, "wt%")
    cd = next(e for e in sludge.details.composition if e.component == "Cd")
    assert (cd.value_min, cd.value_max) == (0.0, 2.0)  # '<2' = below detection limit
    assert sludge.details.documents[0].url == "https://example.no/a.pdf"
    assert slag.summary.quantity_band == "≥100 kt"
    assert "manganese" in slag.summary.critical_materials
    assert silica.summary.critical_materials == ["silicon"]
    assert heat.summary.kind == "surplus-energy" and heat.summary.quantity_band == "≥100 GWh"
    assert dust.summary.hazardous and dust.summary.ewc_code == "100319"


def test_miljodir_layout() -> None:
    records = read_miljodir(FIXTURES / "miljodir_egenrapportering.csv")
    assert len(records) == 6
    first = records[0]
    assert first.summary.kind == "waste" and first.summary.ewc_code == "060503"
    assert first.details.quantity_t_per_year == 1234.5  # '1 234,5'
    assert first.details.current_receiver == "Eksempel Deponi AS"
    assert first.details.site.name == "Herøya" and first.details.site.municipality == "Porsgrunn"
    assert [r.details.current_treatment for r in records] == [
        "landfill", "other", "material-recovery", "landfill", "energy-recovery",
        "material-recovery",
    ]  # fmt: skip
    assert [r.summary.hazardous for r in records] == [False, True, False, False, False, False]
    assert records[2].summary.material_class == "slag"
    assert records[2].details.quantity_t_per_year == 45000


@pytest.mark.parametrize(
    ("term", "treatment"),
    [
        ("Materialgjenvinning", "material-recovery"),
        ("materialgjenvinning ", "material-recovery"),
        ("Energiutnyttelse", "energy-recovery"),
        ("Forbrenning med energiutnyttelse", "energy-recovery"),
        ("Forbrenning uten energiutnyttelse", "other"),
        ("Deponi", "landfill"),
        ("Annet", "other"),
        ("R1", "energy-recovery"),
        ("R4", "material-recovery"),
        ("R13", "other"),
        ("D1", "landfill"),
        ("D10", "other"),
    ],
)
def test_treatment_terms(term: str, treatment: str) -> None:
    assert treatment_from_norwegian(term) == treatment


def test_unknown_treatment() -> None:
    with pytest.raises(ValueError, match="unknown treatment 'kompostering'"):
        treatment_from_norwegian("kompostering")


def test_material_class_from_waste_code() -> None:
    assert material_class_for_waste_code("100202") == "slag"
    assert material_class_for_waste_code("100102") == "fly-ash"
    assert material_class_for_waste_code("060101") == "spent-acid"
    assert material_class_for_waste_code("200301") == "other"


def _rewrite(src: Path, dst: Path, edits: dict[tuple[int, str], str], delimiter: str) -> Path:
    with src.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    header = rows[0]
    for (row_number, column), value in edits.items():
        rows[row_number - 1][header.index(column)] = value
    with dst.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return dst


def test_template_bad_rows_all_reported_nothing_returned(tmp_path: Path) -> None:
    path = _rewrite(
        FIXTURES / "streams_template.csv",
        tmp_path / "bad.csv",
        {
            (2, "comp:P2O5_wt%"): "lots",
            (3, "quantity_t_per_year"): "-5",
            (4, "region"): "Viken",
            (6, "ewc_code"): "10 03 98",
        },
        ",",
    )
    with pytest.raises(DataValidationError) as info:
        read_template(path)
    problems = info.value.problems
    assert problems[0] == "row 2, column 'comp:P2O5_wt%': 'lots' is not a number"
    assert any(p.startswith("row 3, column 'quantity_t_per_year'") for p in problems)
    assert any(p.startswith("row 4, column 'region'") and "dissolved" in p for p in problems)
    assert any(p.startswith("row 6, column 'ewc_code'") for p in problems)
    assert not any(p.startswith("row 5") for p in problems)
    assert str(path) in str(info.value)


def test_template_composition_errors_name_the_column(tmp_path: Path) -> None:
    path = _rewrite(
        FIXTURES / "streams_template.csv",
        tmp_path / "bad.csv",
        {(2, "comp:P2O5_wt%"): "22-18", (6, "comp:Zn_wt%"): "120"},
        ",",
    )
    with pytest.raises(DataValidationError) as info:
        read_template(path)
    assert info.value.problems == [
        "row 2, column 'comp:P2O5_wt%': P2O5: value_min 22.0 > value_max 18.0",
        "row 6, column 'comp:Zn_wt%': Zn: 120 wt% is over 100 %",
    ]


def test_template_header_problems(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("name,colour\nx,blue\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"line 1: missing column\(s\): name_public"):
        read_template(path)
    assert template_header(["P2O5_wt%"])[-1] == "comp:P2O5_wt%"


def test_miljodir_bad_rows(tmp_path: Path) -> None:
    path = _rewrite(
        FIXTURES / "miljodir_egenrapportering.csv",
        tmp_path / "bad.csv",
        {
            (2, "Disponering"): "kompostering",
            (3, "Farlig avfall"): "Nei",  # 06 04 05* is a hazardous entry
            (5, "Mengde (tonn)"): "mye",
            (7, "Avfallskode"): "999999",
        },
        ";",
    )
    with pytest.raises(DataValidationError) as info:
        read_miljodir(path)
    problems = info.value.problems
    assert [p.split(",")[0] for p in problems] == ["row 2", "row 3", "row 5", "row 7"]
    assert problems[0].startswith("row 2, column 'Disponering': unknown treatment")
    assert "06 04 05* is a hazardous" in problems[1]
    assert problems[2] == "row 5, column 'Mengde (tonn)': 'mye' is not a number"


def test_miljodir_without_county_needs_region(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "Avfallskode;Avfallstype;Mengde (tonn);Disponering;Mottaker;Anleggsnavn\n"
        "100202;Slagg;10;Deponi;X;Øye\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match="pass region="):
        read_miljodir(path)
    (record,) = read_miljodir(path, region="Agder")
    assert record.summary.region == "Agder" and record.summary.quantity_band == "<1 kt"


def test_unreadable_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(SourceError, match="broken.xlsx: cannot read XLSX"):
        read_template(path)
