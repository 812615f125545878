"""Critical-material flags on streams and the secondary-supply potential against imports."""

from __future__ import annotations

import pyarrow as pa
import pytest

from verdikart.exchange.composition import element_fraction
from verdikart.exchange.critical import (
    AGGREGATE_MATERIALS,
    ELEMENT_MATERIALS,
    MATERIAL_BASIS,
    component_materials,
    critical_flags,
    norway_imports_t,
    potential,
)
from verdikart.store import Store


def test_flags_map_compounds_through_their_key_element() -> None:
    assert component_materials("P2O5") == ("phosphate-rock", "phosphorus")
    assert component_materials("CaF2") == ("fluorspar",)
    assert "neodymium" in component_materials("Nd2O3")
    assert component_materials("Fe2O3") == ()
    # flagged only from 0.1 wt% (upper end of the range)
    assert critical_flags([("MnO", 0.12), ("Co", 0.0005), ("TiO2", 0.001)]) == [
        "manganese", "titanium",
    ]  # fmt: skip


def test_every_mapped_material_exists_in_the_reference() -> None:
    from verdikart.reference.materials import load_materials

    known = load_materials()
    mapped = {m for ms in (*ELEMENT_MATERIALS.values(), *AGGREGATE_MATERIALS.values()) for m in ms}
    assert sorted(mapped - set(known)) == []
    assert set(MATERIAL_BASIS) <= set(known)


def test_norway_imports_manganese_2022() -> None:
    # BACI HS92 260200 into NOR 2022: BRA 54 + DNK 3.785 + FRA 6750.3 + GAB 554120.195
    # + SWE 30 + ZAF 685018.136 = 1,245,976.416 t; AUT's flow has no quantity (counted, not 0)
    out = norway_imports_t(Store.open(None).engine(), "manganese", 2022)
    assert out.hs6 == ("260200",)
    assert out.imports_t == pytest.approx(1_245_976.416, abs=1e-6)
    assert (out.n_flows, out.n_missing_quantity) == (7, 1)


def test_potential_phosphate_hand_computed() -> None:
    streams = pa.table({"stream_id": ["a", "b", "c", "heat"],
                        "quantity_t_per_year": [8000.0, 1000.0, 500.0, None]})  # fmt: skip
    composition = pa.table(
        {
            "stream_id": ["a", "b", "c", "heat"],
            "component": ["P2O5", "P", "SiO2", "P2O5"],
            "value_min": [0.18, 0.10, 0.9, 0.0],
            "value_max": [0.22, 0.10, 0.9, 0.01],
        }
    )
    # imports: BACI HS92 251020 into NOR 2022 (FIN 80037.8 + PRT 112.76 + SWE 29 + DNK 1.35
    # + ZAF 0.5 + NLD 0.088 = 80181.498 t of rock) at 30 % P2O5 = 24054.4494 t P2O5
    imports = norway_imports_t(Store.open(None).engine(), "phosphate-rock", 2022)
    assert imports.imports_t == pytest.approx(80_181.498, abs=1e-6)
    out = potential("phosphate-rock", streams, composition, imports.imports_t)
    p_from_p = 1000 * 0.10 / element_fraction("P2O5", "P")  # 229.13 t P2O5
    assert out["basis"] == "P2O5"
    assert out["secondary_t_min"] == pytest.approx(8000 * 0.18 + p_from_p)  # 1669.13
    assert out["secondary_t_max"] == pytest.approx(8000 * 0.22 + p_from_p)  # 1989.13
    assert (out["n_streams"], out["n_streams_without_quantity"]) == (2, 1)
    assert out["imports_basis_t"] == pytest.approx(24_054.4494)
    assert out["share_min"] == pytest.approx(1669.13 / 24_054.4494, abs=1e-5)
    assert out["share_max"] == pytest.approx(1989.13 / 24_054.4494, abs=1e-5)
    unknown = potential("phosphate-rock", streams, composition, None)
    assert unknown["share_min"] is None and unknown["note"]


def test_potential_needs_a_basis_for_unlisted_materials() -> None:
    empty = pa.table({"stream_id": pa.array([], pa.string()),
                      "quantity_t_per_year": pa.array([], pa.float64())})  # fmt: skip
    comp = pa.table({"stream_id": pa.array([], pa.string()), "component": pa.array([], pa.string()),
                     "value_min": pa.array([], pa.float64()),
                     "value_max": pa.array([], pa.float64())})  # fmt: skip
    with pytest.raises(Exception, match="no default basis"):
        potential("cobalt", empty, comp, 100.0)
    out = potential("cobalt", empty, comp, 100.0, basis="Co", grade=1.0)
    assert out["secondary_t_min"] == 0.0 and out["share_min"] == 0.0
