"""Knock-on effects of a supply gap: downstream through the value chains, and to Norwegian plants.

Owns the walk over the chain model (:mod:`verdikart.chains.model`): a scenario's product hits
every chain stage whose HS92 codes it shares; every stage downstream of a hit stage (the
``[[link]]`` edges, followed to the end) is exposed, with the sectors that use it. For Norway
as importer, the Norwegian plants that consume a hit stage lose that input: each of their
outputs with a published capacity or production (``capacity`` in the chain file) is at risk
by the residual gap's share, on the assumption that the plant's input comes from the country's
imports in the same proportions as the imports as a whole (``output_at_risk_t``; where the
gap is unknown, ``output_at_risk_max_t`` is the capacity times the shock's cut, the bound when
all of the input came from the shocked supplier). Plants that produce a hit stage are listed as
domestic supply. Pure: reads the result rows of a scenario, no engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verdikart.chains.model import Capacity, Chain, load_chains

NORWAY = "NOR"


def _downstream(chain: Chain, start: set[str]) -> dict[str, str]:
    """Stages reachable from `start` (not in it), each with the stage it was reached from."""
    out: dict[str, str] = {}
    frontier = list(start)
    while frontier:
        node = frontier.pop(0)
        for link in chain.links:
            if link.source_stage == node and link.target_stage not in start | set(out):
                out[link.target_stage] = node
                frontier.append(link.target_stage)
    return out


def _codes(row: Mapping[str, Any], targets: Mapping[str, Sequence[str]]) -> set[str]:
    return set(targets.get(str(row["product"]), ()))


def knock_on(
    rows: Sequence[Mapping[str, Any]],
    targets: Mapping[str, Sequence[str]],
    cuts: Mapping[str, float],
    language: str = "en",
) -> list[dict[str, Any]]:
    """One record per (importer, product) and exposed stage or plant.

    `rows`: the scenario rows (importer, product, residual_gap_share, lost_share);
    `targets`: product -> its HS92 codes; `cuts`: product -> the largest cut on it (0..1).
    Kinds: ``stage`` (hit or downstream), ``plant`` (a Norwegian plant consuming a hit stage:
    its outputs at risk), ``plant-downstream`` (consuming a downstream stage), ``producer``
    (a Norwegian plant producing a hit stage).
    """
    chains = load_chains()
    out: list[dict[str, Any]] = []
    for row in rows:
        codes = _codes(row, targets)
        if not codes:
            continue
        gap = row.get("residual_gap_share")
        for chain in chains.values():
            hit = {s.id for s in chain.stages if codes & set(s.hs["HS92"])}
            if not hit:
                continue
            down = _downstream(chain, hit)
            base = {
                "importer": row["importer"],
                "product": row["product"],
                "chain": chain.id,
                "gap_share": gap,
            }
            for sid in [s.id for s in chain.stages if s.id in hit or s.id in down]:
                stage = chain.stage(sid)
                out.append(
                    {
                        **base,
                        "kind": "stage",
                        "stage": sid,
                        "name": stage.name(language),
                        "relation": "hit" if sid in hit else f"downstream of {down[sid]}",
                        "sectors": sorted({u.sector for u in stage.sectors}),
                        "plant": None,
                        "company": None,
                        "output_stage": None,
                        "capacity_t": None,
                        "capacity_basis": None,
                        "output_at_risk_t": None,
                        "output_at_risk_max_t": None,
                        "source": chain.citation(stage.source),
                    }
                )
            if row["importer"] != NORWAY:
                continue
            for plant in chain.plants:
                consumes_hit = set(plant.stages_in) & hit
                consumes_down = set(plant.stages_in) & set(down)
                produces_hit = set(plant.stages_out) & hit
                common = {
                    **base,
                    "plant": plant.plant,
                    "company": plant.company,
                    "sectors": [],
                    "relation": None,
                    "output_at_risk_t": None,
                    "output_at_risk_max_t": None,
                    "capacity_t": None,
                    "capacity_basis": None,
                    "output_stage": None,
                    "source": chain.citation(plant.public_facts),
                }
                if consumes_hit:
                    # outputs made from the hit stage: those downstream of it in the chain
                    outputs: list[Capacity | None] = [
                        c for c in plant.capacity if c.stage in plant.stages_out and c.stage in down
                    ]
                    via = ", ".join(sorted(consumes_hit))
                    for cap in outputs or [None]:
                        rec = {
                            **common,
                            "kind": "plant",
                            "stage": via,
                            "name": f"{plant.company}, {plant.plant}",
                            "relation": f"consumes {via}",
                        }
                        if cap is not None:
                            rec.update(
                                output_stage=cap.stage,
                                capacity_t=cap.t_per_year,
                                capacity_basis=cap.basis,
                                output_at_risk_t=None if gap is None else cap.t_per_year * gap,
                                output_at_risk_max_t=cap.t_per_year
                                * cuts.get(str(row["product"]), 1.0),
                                source=chain.citation(cap.source),
                            )
                        out.append(rec)
                elif consumes_down:
                    via = ", ".join(sorted(consumes_down))
                    out.append(
                        {
                            **common,
                            "kind": "plant-downstream",
                            "stage": via,
                            "name": f"{plant.company}, {plant.plant}",
                            "relation": f"consumes {via} (downstream)",
                        }
                    )
                if produces_hit:
                    via = ", ".join(sorted(produces_hit))
                    caps = [c for c in plant.capacity if c.stage in produces_hit]
                    out.append(
                        {
                            **common,
                            "kind": "producer",
                            "stage": via,
                            "name": f"{plant.company}, {plant.plant}",
                            "relation": f"produces {via} in Norway",
                            "output_stage": via,
                            "capacity_t": caps[0].t_per_year if caps else None,
                            "capacity_basis": caps[0].basis if caps else None,
                            "source": chain.citation(
                                caps[0].source if caps else plant.public_facts
                            ),
                        }
                    )
    return out
