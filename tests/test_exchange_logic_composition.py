"""Component table, unit normalisation, spec-limit parsing, oxide conversion, evaluation."""

from __future__ import annotations

import pytest

from verdikart.exchange import composition as comp


def test_molar_masses_hand_computed() -> None:
    # P2O5 = 2 x 30.974 + 5 x 15.999 = 141.943 g/mol
    assert comp.molar_mass("P2O5") == pytest.approx(141.943, abs=1e-6)
    # gypsum CaSO4·2H2O = 40.078 + 32.06 + 4 x 15.999 + 2 x (2 x 1.008 + 15.999) = 172.164
    assert comp.molar_mass("CaSO4·2H2O") == pytest.approx(172.164, abs=1e-6)
    # apatite Ca5(PO4)3F = 5 x 40.078 + 3 x (30.974 + 4 x 15.999) + 18.998 = 504.298
    assert comp.molar_mass("Ca5(PO4)3F") == pytest.approx(504.298, abs=1e-6)


def test_oxide_to_element_factor() -> None:
    # P2O5 -> P: 61.948 / 141.943 = 0.43643; 20 wt% P2O5 -> 8.73 wt% P
    assert comp.element_fraction("P2O5", "P") == pytest.approx(0.43643, abs=1e-5)
    content = comp.resolve_content({"P2O5": (0.20, 0.20)}, "P")
    assert content is not None
    assert content[0] * 100 == pytest.approx(8.7286, abs=1e-4)
    assert content[2] == "P2O5 × 0.4364"
    # and back: a stream reporting 10 wt% P satisfies a P2O5 limit with 22.91 wt% P2O5
    back = comp.resolve_content({"P": (0.10, 0.10)}, "P2O5")
    assert back is not None and back[0] == pytest.approx(0.10 / 0.43643, rel=1e-4)
    # CaF2 -> F: 2 x 18.998 / 78.074 = 0.48667
    assert comp.element_fraction("CaF2", "F") == pytest.approx(0.48667, abs=1e-5)


def test_compounds_containing_an_element_are_summed() -> None:
    # Cl from NaCl (0.6066) and KCl (0.4755): 1 wt% each -> 1.0821 wt% Cl
    content = comp.resolve_content({"NaCl": (0.01, 0.01), "KCl": (0.01, 0.01)}, "Cl")
    assert content is not None
    assert content[0] == pytest.approx(0.01 * (35.45 / 58.44) + 0.01 * (35.45 / 74.548), rel=1e-4)


def test_direct_value_wins_and_aggregates_are_not_converted() -> None:
    content = comp.resolve_content({"P": (0.05, 0.05), "P2O5": (0.2, 0.2)}, "P")
    assert content == (0.05, 0.05, "P")
    assert comp.resolve_content({"C": (0.1, 0.1)}, "TOC") is None


@pytest.mark.parametrize(
    ("value", "unit", "fraction"),
    [(20, "wt%", 0.2), (20, "%", 0.2), (150, "mg/kg", 1.5e-4), (150, "ppm", 1.5e-4),
     (150, "g/t", 1.5e-4), (3, "g/kg", 3e-3), (5, "ug/g", 5e-6), (0.5, "fraction", 0.5)],
)  # fmt: skip
def test_units(value: float, unit: str, fraction: float) -> None:
    assert comp.to_fraction(value, unit) == pytest.approx(fraction)


def test_unknown_unit_and_component() -> None:
    with pytest.raises(ValueError, match="unknown unit 'lb/ton'"):
        comp.canonical_unit("lb/ton")
    with pytest.raises(ValueError, match="unknown component 'Xx'"):
        comp.canonical_component("Xx")
    assert comp.canonical_component("chloride") == "Cl"
    assert comp.canonical_component("toc") == "TOC"
    assert comp.canonical_component("Co") == "Co" and comp.canonical_component("CO") == "CO"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("Cl < 0.1 %", ("Cl", "<", 0.1, "%")),
        ("P ≥ 10 %", ("P", ">=", 10.0, "%")),
        ("P >= 10 wt%", ("P", ">=", 10.0, "wt%")),
        ("Fe2O3 <= 5%", ("Fe2O3", "<=", 5.0, "%")),
        ("Cd < 20 mg/kg", ("Cd", "<", 20.0, "mg/kg")),
        ("Cl max 0,1 %", ("Cl", "<=", 0.1, "%")),
        ("SiO2 min 85 wt%", ("SiO2", ">=", 85.0, "wt%")),
        ("Hg ≤ 0.5 ppm", ("Hg", "<=", 0.5, "ppm")),
        ("TOC lowest possible", ("TOC", "lowest", None, None)),
        ("TOC lavest mulig", ("TOC", "lowest", None, None)),
        ("chloride as low as possible", ("Cl", "lowest", None, None)),
        ("P2O5 highest possible", ("P2O5", "highest", None, None)),
    ],
)
def test_parse_limit(text: str, parsed: tuple[object, ...]) -> None:
    out = comp.parse_limit(text)
    assert (out["component"], out["op"], out["value"], out["unit"]) == parsed


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("Cl < 0.1", "no unit"), ("Cl about 0.1 %", "cannot read limit"), ("", "cannot read")],
)
def test_parse_limit_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        comp.parse_limit(text)


def test_evaluate_statuses_with_numbers() -> None:
    composition = {"P2O5": (0.20, 0.20), "Cd": (1e-6, 3e-6), "Cl": (0.0005, 0.002)}
    limits = [
        comp.Limit("P", ">=", 0.08),  # 8.73 % P: pass
        comp.Limit("P", ">=", 0.09),  # fail
        comp.Limit("Cd", "<", 2e-5),  # pass
        comp.Limit("Cl", "<", 0.001),  # range 0.05-0.2 % straddles 0.1 %: unknown
        comp.Limit("Zn", "<", 0.01),  # not analysed: unknown
        comp.Limit("TOC", "lowest", None),  # soft
    ]
    results = comp.evaluate(composition, limits)
    assert [r.status for r in results] == [
        "pass", "fail", "pass", "unknown", "unknown", "preference",
    ]  # fmt: skip
    assert results[0].value_min == pytest.approx(0.087286, abs=1e-6)
    assert results[0].source == "P2O5 × 0.4364"
    assert results[3].reason == "the analysed range straddles the limit"
    assert results[4].reason == "not analysed"
    assert [r.hard for r in results] == [True] * 5 + [False]


def test_every_element_and_listed_compound_known() -> None:
    table = comp.components()
    assert sum(c.kind == "element" for c in table.values()) == 118
    for formula in ("SiO2", "Al2O3", "CaO", "MgO", "Fe2O3", "MnO", "P2O5", "K2O", "Na2O", "TiO2",
                    "Cr2O3", "SO3", "FeSO4", "NaCl", "KCl", "CaF2"):  # fmt: skip
        assert table[formula].kind == "compound"
    for aggregate in ("TOC", "LOI"):
        assert table[aggregate].kind == "aggregate"
