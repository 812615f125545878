"""Critical-material flags on side streams, and the secondary-supply potential of a material.

* :data:`ELEMENT_MATERIALS` maps a chemical element to the material ids (slugs of
  ``verdikart.reference.materials``) whose supply a stream containing it could add to; any
  component containing the element (P2O5, Ca5(PO4)3F, ...) maps through its key element.
* :func:`critical_flags` derives a stream's public ``critical_materials`` flags from its
  composition: a material is flagged when the stream's content of the element reaches
  :data:`FLAG_MIN_FRACTION` (0.1 wt %, i.e. 1000 mg/kg) at the upper end of the analysed range;
  trace contents below that are not a recoverable secondary source and are not flagged.
"""

from __future__ import annotations

from collections.abc import Iterable

from verdikart.exchange.composition import REE_ELEMENTS, canonical_component, components

# element -> material slugs (the same slugs as production.material / reference.materials)
ELEMENT_MATERIALS: dict[str, tuple[str, ...]] = {
    "P": ("phosphate-rock", "phosphorus"),
    "Mn": ("manganese",),
    "Si": ("silicon",),
    "Al": ("aluminium", "bauxite"),
    "Ti": ("titanium",),
    "F": ("fluorspar",),
    "Co": ("cobalt",),
    "Ni": ("nickel",),
    "Cu": ("copper",),
    "Zn": ("zinc",),
    "Mg": ("magnesium",),
    "Li": ("lithium",),
    "V": ("vanadium",),
    "W": ("tungsten",),
    "Ga": ("gallium",),
    "Ge": ("germanium",),
    "Nb": ("niobium",),
    "Ta": ("tantalum",),
    "Sb": ("antimony",),
    "Bi": ("bismuth",),
    "Be": ("beryllium",),
    "B": ("boron",),
    "Cr": ("chromium",),
    "Mo": ("molybdenum",),
    "Sr": ("strontium",),
    "Hf": ("hafnium",),
    "Ba": ("baryte",),
    "As": ("arsenic",),
    "Pt": ("platinum", "pgm"),
    "Pd": ("palladium", "pgm"),
    "Rh": ("rhodium", "pgm"),
    "Ir": ("pgm",),
    "Ru": ("pgm",),
    "Os": ("pgm",),
    **{el: ("rare-earths",) for el in REE_ELEMENTS},
}
AGGREGATE_MATERIALS: dict[str, tuple[str, ...]] = {
    "REE": ("rare-earths",),
    "REO": ("rare-earths",),
    "PGM": ("pgm",),
}
FLAG_MIN_FRACTION = 1e-3  # 0.1 wt %: below this a content is a trace, not a secondary source


def component_materials(component: str) -> tuple[str, ...]:
    """Material ids a component can supply (through its key element, or the aggregate table)."""
    comp = components()[canonical_component(component)]
    if comp.kind == "aggregate":
        return AGGREGATE_MATERIALS.get(comp.id, ())
    if comp.key_element is None:
        return ()
    return ELEMENT_MATERIALS.get(comp.key_element, ())


def critical_flags(entries: Iterable[tuple[str, float]]) -> list[str]:
    """Sorted material ids flagged for (component, max weight fraction) pairs of one stream."""
    flagged: set[str] = set()
    for component, max_fraction in entries:
        if max_fraction >= FLAG_MIN_FRACTION:
            flagged.update(component_materials(component))
    return sorted(flagged)
