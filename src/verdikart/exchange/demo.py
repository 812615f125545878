"""Demo data: the real side-stream cases of the Prosess21 circular-economy report (seed 001).

Quantities, kinds and places are the public facts stated in the report, each with the line
numbers of `/work/shared/seeds/001_prosess21-circular-economy-final-report-2020.txt` in its
`source`. Everything else is marked: compositions carry the method text
"ILLUSTRATIVE demo values, not a measured analysis", and site coordinates are approximate
locations of the named plants. One stream (sewage sludge ash) is entirely illustrative and says
so in its name, so that the phosphate-need example has a P-bearing stream to find.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from verdikart.exchange.models import SideStream

if TYPE_CHECKING:
    from verdikart.exchange.auth import Principal
    from verdikart.exchange.service import ExchangeService

SEED = "Prosess21 circular-economy report 2020"
ILLUSTRATIVE = "ILLUSTRATIVE demo values, not a measured analysis"
DEMO_MARK = "demo: "

CLUSTERS = {
    "Eyde": "Eyde-klyngen (Agder)",
    "Herøya": "Industrial Green Tech (Herøya)",
    "Mo": "Mo Industripark",
    "Øra": "NCCE (Øra, Fredrikstad)",
}

ORGS: dict[str, str | None] = {
    "Elkem": "Eyde",
    "Eramet Norway": "Eyde",
    "NOAH": None,
    "Alcoa Norway and Hydro": "Mo",
    "Yara": "Herøya",
    "Kronos Titan": "Øra",
    "Kemira Chemicals": "Øra",
    "Mo Industripark": "Mo",
    "VEAS": None,
    "Demo water utility (illustrative)": None,
}


def _comp(*rows: tuple[str, float | tuple[float, float], str]) -> list[dict[str, Any]]:
    out = []
    for component, value, unit in rows:
        entry: dict[str, Any] = {"component": component, "unit": unit, "method": ILLUSTRATIVE}
        if isinstance(value, tuple):
            entry["value_min"], entry["value_max"] = value
        else:
            entry["value"] = value
        out.append(entry)
    return out


def _stream(
    org: str,
    source: str,
    summary: dict[str, Any],
    details: dict[str, Any],
) -> dict[str, Any]:
    return {"org": org, "source": source, "payload": {"summary": summary, "details": details}}


STREAMS: list[dict[str, Any]] = [
    _stream(
        "Elkem",
        f"{SEED}, l.1867-1878: Elkem collects ~90,000 t/yr of process products; BriqSil sales "
        "to steelmakers rose from 0 to 17,000 t (2016-2019)",
        {
            "name_public": "Process products from silicon/ferrosilicon production",
            "material_class": "metal-scrap",
            "kind": "by-product",
            "region": "Agder",
            "hazardous": False,
        },
        {
            "name": "Collected process products (BriqSil feed)",
            "quantity_t_per_year": 90_000,
            "quantity_uncertainty_pct": 10,
            "form": "granulate",
            "current_treatment": "material-recovery",
            "availability": "part sold as BriqSil briquettes (17 kt in 2019)",
            "site": {
                "name": "Elkem (several plants; demo location Fiskaa, Kristiansand)",
                "municipality": "Kristiansand",
                "lat": 58.14,
                "lon": 7.99,
                "nace": "24.10",
            },
            "composition": _comp(
                ("Si", (60, 75), "wt%"),
                ("Fe", (15, 30), "wt%"),
                ("Al", (0.5, 2), "wt%"),
                ("Ca", (0.2, 1), "wt%"),
            ),
        },
    ),
    _stream(
        "Eramet Norway",
        f"{SEED}, l.2405-2407: SiGS (Silica Greenstone), a by-product of silicomanganese "
        "production; the Kvinesdal plant produces about 220,000 t per year",
        {
            "name_public": "Silicomanganese slag (SiGS)",
            "material_class": "slag",
            "kind": "by-product",
            "region": "Agder",
            "hazardous": False,
        },
        {
            "name": "SiGS (Silica Greenstone), Kvinesdal",
            "quantity_t_per_year": 220_000,
            "quantity_uncertainty_pct": 10,
            "form": "lump",
            "current_treatment": "material-recovery",
            "availability": "continuous",
            "site": {
                "name": "Eramet Kvinesdal",
                "municipality": "Kvinesdal",
                "lat": 58.31,
                "lon": 6.95,
                "nace": "24.10",
            },
            "composition": _comp(
                ("SiO2", (40, 46), "wt%"),
                ("CaO", (18, 25), "wt%"),
                ("Al2O3", (14, 20), "wt%"),
                ("MnO", (5, 10), "wt%"),
                ("MgO", (4, 8), "wt%"),
            ),
        },
    ),
    _stream(
        "NOAH",
        f"{SEED}, l.2096-2099: fly ash is hazardous waste; NOAH receives about 300,000 t per "
        "year; l.2128-2129: salt recovery could supply as much as 80,000 t/yr of raw materials",
        {
            "name_public": "Fly ash from waste incineration (received for treatment)",
            "material_class": "fly-ash",
            "kind": "waste",
            "region": "Vestfold",
            "hazardous": True,
            "ewc_code": "19 01 13*",
        },
        {
            "name": "Fly ash received at Langøya",
            "quantity_t_per_year": 300_000,
            "quantity_uncertainty_pct": 10,
            "form": "powder",
            "current_treatment": "landfill",
            "site": {
                "name": "NOAH Langøya",
                "municipality": "Holmestrand",
                "lat": 59.49,
                "lon": 10.36,
                "nace": "38.22",
            },
            "composition": _comp(
                ("CaO", (25, 35), "wt%"),
                ("Cl", (8, 15), "wt%"),
                ("Na", (2, 5), "wt%"),
                ("K", (2, 5), "wt%"),
                ("Zn", (0.5, 2), "wt%"),
                ("Pb", (0.1, 0.5), "wt%"),
                ("P2O5", (0.5, 1.5), "wt%"),
            ),
        },
    ),
    _stream(
        "NOAH",
        f"{SEED}, l.2099-2101 and l.2128-2129: salts (NaCl, KCl, CaCl2) recovered from fly ash, "
        "up to about 80,000 t per year (pilot stage)",
        {
            "name_public": "Salts recovered from fly ash (pilot; planned volume)",
            "material_class": "salt",
            "kind": "by-product",
            "region": "Vestfold",
            "hazardous": False,
        },
        {
            "name": "NaCl/KCl/CaCl2 from fly ash washing",
            "quantity_t_per_year": 80_000,
            "quantity_uncertainty_pct": 30,
            "form": "solid",
            "current_treatment": "other",
            "availability": "pilot test rig; full scale not yet built",
            "site": {
                "name": "NOAH Langøya",
                "municipality": "Holmestrand",
                "lat": 59.49,
                "lon": 10.36,
                "nace": "38.22",
            },
            "composition": _comp(
                ("NaCl", (40, 55), "wt%"), ("KCl", (25, 35), "wt%"), ("CaCl2", (10, 20), "wt%")
            ),
        },
    ),
    _stream(
        "Alcoa Norway and Hydro",
        f"{SEED}, l.3884-3890: about 10,000 t/yr of spent pot lining, hazardous waste, "
        "landfilled at NOAH's Langøya site; l.2858-2859: Alcoa Mosjøen sends ~50 t/yr of "
        "spent cathode linings to landfill",
        {
            "name_public": "Spent pot lining from aluminium electrolysis",
            "material_class": "spent-pot-lining",
            "kind": "waste",
            "region": "Nordland",
            "hazardous": True,
            "ewc_code": "16 11 01*",
        },
        {
            "name": "Spent pot lining (1st and 2nd cut), Norwegian smelters",
            "quantity_t_per_year": 10_000,
            "quantity_uncertainty_pct": 20,
            "form": "lump",
            "current_treatment": "landfill",
            "availability": "from relining campaigns; varies by year",
            "site": {
                "name": "Alcoa Mosjøen (demo location)",
                "municipality": "Vefsn",
                "lat": 65.84,
                "lon": 13.19,
                "nace": "24.42",
            },
            "composition": _comp(
                ("C", (30, 50), "wt%"),
                ("F", (8, 15), "wt%"),
                ("Na", (8, 14), "wt%"),
                ("Al", (6, 12), "wt%"),
                ("CN", (0.05, 0.3), "wt%"),
            ),
        },
    ),
    _stream(
        "Kronos Titan",
        f"{SEED}, l.3370-3375 and l.3417-3419: iron sulphate from Kronos Titan sold directly "
        "and used for flocculants (fellingskjemikalier) at Øra; the report gives no tonnage, so "
        "the quantity here is ILLUSTRATIVE",
        {
            "name_public": "Iron(II) sulphate from titanium dioxide production",
            "material_class": "salt",
            "kind": "by-product",
            "region": "Østfold",
            "hazardous": False,
        },
        {
            "name": "Ferrous sulphate heptahydrate (copperas), quantity ILLUSTRATIVE",
            "quantity_t_per_year": 50_000,
            "quantity_uncertainty_pct": 50,
            "form": "granulate",
            "current_treatment": "material-recovery",
            "site": {
                "name": "Kronos Titan Fredrikstad",
                "municipality": "Fredrikstad",
                "lat": 59.20,
                "lon": 10.95,
                "nace": "20.12",
            },
            "composition": _comp(
                ("FeSO4", (52, 56), "wt%"),
                ("H2O", (42, 46), "wt%"),
                ("Ti", (0.1, 0.5), "wt%"),
                ("Mn", (0.1, 0.3), "wt%"),
            ),
        },
    ),
    _stream(
        "Mo Industripark",
        f"{SEED}, l.2907-2913: Mo Industripark recovers 400 GWh per year (and has about 3.3 "
        "million t of surplus masses)",
        {
            "name_public": "Surplus heat, Mo Industripark",
            "material_class": "surplus-heat",
            "kind": "surplus-energy",
            "region": "Nordland",
            "hazardous": False,
        },
        {
            "name": "Recovered process heat",
            "energy_gwh_per_year": 400,
            "form": "heat",
            "current_treatment": "energy-recovery",
            "site": {
                "name": "Mo Industripark",
                "municipality": "Rana",
                "lat": 66.31,
                "lon": 14.13,
                "nace": "35.30",
            },
        },
    ),
    _stream(
        "VEAS",
        f"{SEED}, l.1384-1390 and l.1498: VEAS recovers 250-500 t N per year from reject water as "
        "an ammonium nitrate solution sold to Yara; quantity below = t of N",
        {
            "name_public": "Ammonium nitrate solution from wastewater reject water",
            "material_class": "nitrogen-solution",
            "kind": "by-product",
            "region": "Akershus",
            "hazardous": False,
        },
        {
            "name": "AN solution (quantity as t N/yr)",
            "quantity_t_per_year": 375,
            "quantity_uncertainty_pct": 33,
            "form": "solution",
            "current_treatment": "material-recovery",
            "site": {
                "name": "VEAS Slemmestad",
                "municipality": "Asker",
                "lat": 59.78,
                "lon": 10.49,
                "nace": "37.00",
            },
            "composition": _comp(
                ("NH4NO3", (15, 20), "wt%"),
                ("Cl", (0.01, 0.05), "wt%"),
                ("TOC", (0.01, 0.1), "wt%"),
            ),
        },
    ),
    _stream(
        "Demo water utility (illustrative)",
        "ILLUSTRATIVE stream, not from the report: a P-bearing ash for the phosphate example "
        f"({SEED}, l.3982-3990: Yara looks at replacing some phosphate rock with recycled "
        "phosphate)",
        {
            "name_public": "Sewage sludge ash (ILLUSTRATIVE example)",
            "material_class": "phosphate",
            "kind": "waste",
            "region": "Akershus",
            "hazardous": False,
            "ewc_code": "19 01 14",
        },
        {
            "name": "Mono-incinerated sewage sludge ash (ILLUSTRATIVE)",
            "quantity_t_per_year": 12_000,
            "quantity_uncertainty_pct": 25,
            "form": "powder",
            "current_treatment": "landfill",
            "site": {
                "name": "Illustrative site",
                "municipality": "Lillestrøm",
                "lat": 59.96,
                "lon": 11.05,
                "nace": "37.00",
            },
            "composition": _comp(
                ("P2O5", (18, 24), "wt%"),
                ("Fe2O3", (10, 15), "wt%"),
                ("CaO", (12, 18), "wt%"),
                ("Cd", (1, 3), "mg/kg"),
                ("Cl", (0.02, 0.08), "wt%"),
            ),
        },
    ),
]

NEEDS: list[dict[str, Any]] = [
    {
        "org": "Yara",
        "source": f"{SEED}, l.3982-3990: Yara uses 600,000-700,000 t/yr of phosphate rock in "
        "Porsgrunn and looks at replacing some with recycled phosphate; limits ILLUSTRATIVE",
        "payload": {
            "name": "Recycled phosphate for NPK production, Porsgrunn",
            "material_class": "phosphate",
            "limits": ["P >= 7 wt%", "Cd < 20 mg/kg", "Cl < 0.1 %"],
            "quantity_t_per_year_min": 10_000,
            "quantity_t_per_year_max": 700_000,
            "max_distance_km": 500,
            "site": {
                "name": "Yara Porsgrunn (Herøya)",
                "municipality": "Porsgrunn",
                "lat": 59.12,
                "lon": 9.63,
                "nace": "20.15",
            },
            "region": "Telemark",
        },
    },
    {
        "org": "Yara",
        "source": f"{SEED}, l.1425-1440: the AN solution must meet a specification for "
        "industrial use, e.g. lowest possible chloride (Cl) and organic matter (TOC)",
        "payload": {
            "name": "Ammonium nitrate solution for fertiliser production",
            "material_class": "nitrogen-solution",
            "limits": ["Cl lowest possible", "TOC lowest possible"],
            "site": {
                "name": "Yara Porsgrunn (Herøya)",
                "municipality": "Porsgrunn",
                "lat": 59.12,
                "lon": 9.63,
                "nace": "20.15",
            },
            "region": "Telemark",
        },
    },
    {
        "org": "Kemira Chemicals",
        "source": f"{SEED}, l.3370-3375: iron sulphate becomes flocculants through Kemira's "
        "business at Øra; limits ILLUSTRATIVE",
        "payload": {
            "name": "Iron sulphate for flocculant production",
            "material_class": "salt",
            "limits": ["FeSO4 >= 45 wt%", "Mn < 0.5 wt%"],
            "max_distance_km": 100,
            "site": {
                "name": "Kemira Fredrikstad",
                "municipality": "Fredrikstad",
                "lat": 59.20,
                "lon": 10.96,
                "nace": "20.13",
            },
            "region": "Østfold",
        },
    },
]


def load_demo(svc: ExchangeService) -> list[dict[str, Any]]:
    """Create the demo organisations, hub operators, streams and needs (once); always issue
    fresh tokens for one user per organisation and print them."""
    users: dict[str, Principal] = {}
    rows: list[dict[str, Any]] = []
    for org, cluster in ORGS.items():
        cluster_name = CLUSTERS[cluster] if cluster else None
        user = svc.add_user(org, f"{DEMO_MARK}{org} user", role="admin", cluster=cluster_name)
        users[org] = svc.authenticate(user["token"])
        rows.append({"organisation": org, "user": user["name"], "role": "admin",
                     "token": user["token"], "created": ""})  # fmt: skip
    for key, cluster_name in CLUSTERS.items():
        hub = svc.add_user(f"Hub operator {key}", f"{DEMO_MARK}{key} hub", role="hub",
                           cluster=cluster_name)  # fmt: skip
        rows.append({"organisation": hub["organisation"], "user": hub["name"], "role": "hub",
                     "token": hub["token"], "created": ""})  # fmt: skip
    with svc.sessions() as session:
        loaded = session.scalars(
            select(SideStream.id).where(SideStream.source.like(f"{SEED}%"))
        ).first()
    if loaded is None:
        created: dict[str, int] = {}
        for case in STREAMS:
            svc.create_streams(users[case["org"]], [case["payload"]], source=case["source"])
            created[case["org"]] = created.get(case["org"], 0) + 1
        for case in NEEDS:
            svc.create_need(users[case["org"]], case["payload"])
            created[case["org"]] = created.get(case["org"], 0) + 1
        for row in rows:
            row["created"] = str(created.get(row["organisation"], ""))
    return rows
