"""Disruption scenarios and the early-warning watch (docs/scenarios.md).

* :mod:`verdikart.scenarios.spec` — scenarios as data: ``--shock`` texts and scenario files
  (TOML or YAML), checked against the reference (countries, materials, chain stages), with the
  re-sourcing assumptions and their sources;
* :mod:`verdikart.scenarios.events` — the dated policy-event table (export controls, bans,
  tariffs, sanctions), a source for every row;
* :mod:`verdikart.scenarios.knockon` — what a gap does downstream through the value chains
  and to the Norwegian plants;
* :mod:`verdikart.scenarios.run` — a scenario's result (the expressions are in
  :mod:`verdikart.indicators.scenario`);
* :mod:`verdikart.scenarios.watch` — the watch rules, their thresholds, alert ids and the
  record of alerts seen.
"""
