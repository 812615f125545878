"""Strategic sectors of each material (seed 003 step 3): energy, defence, process industry.

A small, cited reference mapping, not a model. Each link names the published source that puts
the material in the sector, so the mapping report can footnote it:

* defence: NATO's defence-critical raw materials list (NATO, "NATO releases list of 12
  defence-critical raw materials", 3 Dec 2024, nato.int/cps/en/natohq/news_231765.htm);
* energy: US DOE "Critical Materials Assessment" 2023 (critical for energy, short/medium term)
  and IEA "Global Critical Minerals Outlook 2024" (focus minerals for clean-energy technology);
* process industry: materials the Norwegian process industry produces or depends on, as named
  in the Prosess21 source documents (seeds 000, 002, 003; line numbers of the text versions).
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

CHAIN_SECTORS: tuple[str, ...] = (
    "energy",
    "defence",
    "process industry",
    "fertiliser and food",
    "digital",
)
"""The sectors a value-chain stage can serve (``verdikart.chains.model``): this module's three
(energy, defence, process industry) plus fertiliser and food (seed 003: Yara and European food
security) and digital (the EU CRM 2023 end uses in NACE C26, electronics)."""


class SectorLink(NamedTuple):
    material: str
    sector: str
    role: str
    citation: str


NATO_2024 = "NATO defence-critical raw materials list, 3 Dec 2024"
DOE_2023 = "US DOE Critical Materials Assessment 2023"
IEA_2024 = "IEA Global Critical Minerals Outlook 2024"
SEED_003_POS = "Prosess21, input on mapping critical value chains, 'Norges posisjon'"
SEED_002 = "Prosess21, mandate for the expert group on processed CRMs"
SEED_000 = "Prosess21, status of the process industry 2024, plant list"
SEED_001 = "Prosess21, circular economy report 2020"

_DEFENCE = (
    "aluminium",
    "beryllium",
    "cobalt",
    "gallium",
    "germanium",
    "graphite",
    "lithium",
    "manganese",
    "platinum",
    "rare-earths",
    "titanium",
    "tungsten",
)
_ENERGY_DOE = (
    "aluminium",
    "cobalt",
    "copper",
    "gallium",
    "lithium",
    "magnesium",
    "graphite",
    "nickel",
    "platinum",
    "rare-earths",
    "silicon",
)
_ENERGY_IEA = ("copper", "lithium", "nickel", "cobalt", "graphite", "rare-earths")
# Norwegian process industry: (material, role, citation)
_PROCESS = (
    ("aluminium", "Norway produces (Hydro); Europe's largest producer", SEED_003_POS),
    ("bauxite", "input to alumina/aluminium (Hydro, Alcoa)", SEED_000),
    ("silicon", "Norway produces silicon and ferrosilicon (Elkem, Wacker, Finnfjord)", SEED_000),
    ("manganese", "ore imported for Mn alloys (Eramet Sauda/Porsgrunn/Kvinesdal)", SEED_000),
    ("nickel", "matte refined to Ni at Glencore Nikkelverk", SEED_003_POS),
    ("cobalt", "refined at Glencore Nikkelverk", SEED_003_POS),
    ("copper", "by-product of Glencore Nikkelverk", SEED_000),
    ("zinc", "Boliden Odda zinc plant; seed 003 step 2 names zinc", SEED_000),
    (
        "phosphate-rock",
        "eruptive phosphate for Yara's NPK (South Africa sole source)",
        SEED_003_POS,
    ),
    ("potash", "fertiliser input (Yara)", SEED_002),
    ("magnesium", "almost all from China; Norwegian vulnerability", SEED_003_POS),
    ("titanium", "ilmenite (Titania, Tizir, Kronos Titan)", SEED_001),
    ("coking-coal", "reductant for metal smelters", SEED_000),
    ("graphite", "electrodes; Norway mines natural graphite (Skaland)", SEED_002),
    ("fluorspar", "fluoride for aluminium electrolysis", SEED_000),
    ("rare-earths", "Fensfeltet deposit; REE processing (Reetec)", SEED_002),
)


def sector_links() -> tuple[SectorLink, ...]:
    """Every (material, sector) link with its citation; several citations may back one link."""
    links = [SectorLink(m, "defence", "NATO defence-critical", NATO_2024) for m in _DEFENCE]
    links += [SectorLink(m, "energy", "critical for energy", DOE_2023) for m in _ENERGY_DOE]
    links += [SectorLink(m, "energy", "clean-energy focus mineral", IEA_2024) for m in _ENERGY_IEA]
    links += [SectorLink(m, "process industry", role, cite) for m, role, cite in _PROCESS]
    return tuple(links)


def sector_table() -> pa.Table:
    """Arrow table (material, sector, role, citation) for joins."""
    links = sector_links()
    return pa.table(
        {
            "material": [link.material for link in links],
            "sector": [link.sector for link in links],
            "role": [link.role for link in links],
            "citation": [link.citation for link in links],
        }
    )


def sectors_of(material: str) -> list[str]:
    """The sectors a material is linked to, in a fixed order (energy, defence, process)."""
    order = ("energy", "defence", "process industry")
    found = {link.sector for link in sector_links() if link.material == material}
    return [s for s in order if s in found]
