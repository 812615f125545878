# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""Regression tests for the security review's oracle attacks, replayed over real HTTP (FastAPI
TestClient on SQLite and PostgreSQL): binary searches on need limits, max distance, own-stream
quantities and stream compositions resolve nothing finer than the public 1-2-5 grid / distance
band; `potential` cannot be differenced with own streams; the audit trail names no undisclosed
owner; a failing import job ends "failed" with its message."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from test_exchange_support import assert_no_secrets, auth, client, db_url, service, stream_payload
from verdikart.exchange.composition import element_fraction
from verdikart.exchange.matching import snap_fraction

MNO_TRUE = 6.4821  # wt% MnO of stream_payload(); Mn fraction 0.0502
KF_MNO = element_fraction("MnO", "Mn")
GRID = sorted({m * 10.0**d for d in range(-7, 1) for m in (1, 2, 5)} | {0.0})
BAND_EDGES = (0.0, 25.0, 50.0, 100.0, 250.0, 500.0)


def _bisect(test: Any, lo: float, hi: float, steps: int = 22) -> tuple[float, float]:
    """Binary search for the cut-off where `test` flips from True (at lo) to False (at hi)."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        if test(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def _on_grid(fraction: float, tol: float = 1e-4) -> bool:
    return any(math.isclose(fraction, g, rel_tol=tol, abs_tol=1e-9) for g in GRID)


def _need(limits: list[str], **extra: Any) -> dict[str, Any]:
    body = {
        "name": "probe",
        "material_class": "slag",
        "limits": limits,
        "accepts_hazardous": True,
        "site": {"name": "probe site", "lat": 59.12, "lon": 9.63},
    }
    body.update(extra)
    return body


@pytest.fixture
def orgs(client: Any, service: Any) -> dict[str, dict[str, str]]:
    return {
        key: auth(service.add_user(name, "user")["token"])
        for key, name in (("a", "Victim A"), ("b", "Prober B"), ("c", "Org C"), ("d", "Org D"))
    }


def test_limit_search_on_need_resolves_only_the_grid(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    victim = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    need = client.post("/api/exchange/needs", json=_need(["MnO >= 1 wt%"]), headers=b).json()["id"]

    def hit(limit: str) -> bool:
        r = client.put(f"/api/exchange/needs/{need}", json=_need([limit]), headers=b)
        assert r.status_code == 200, r.text
        rows = client.get(f"/api/exchange/needs/{need}/matches", headers=b).json()
        for row in rows:
            assert "score" not in row and "limits" not in row and "reasons" not in row
        return any(row["stream_id"] == victim for row in rows)

    lo, hi = _bisect(lambda x: hit(f"MnO >= {x:.6f} wt%"), 0.0, 50.0)
    # The search converges on a grid point of the Mn fraction (here 0.1 -> 12.9 wt% MnO),
    # not on the true 6.4821 wt%.
    assert _on_grid(hi / 100 * KF_MNO, tol=1e-3), hi
    assert abs(hi - MNO_TRUE) > 1.0
    # Changing the basis (Mn instead of MnO) lands on the same element grid: no refinement.
    lo_mn, hi_mn = _bisect(lambda x: hit(f"Mn >= {x:.6f} wt%"), 0.0, 50.0)
    assert _on_grid(hi_mn / 100, tol=1e-3) and math.isclose(
        hi_mn / 100, hi / 100 * KF_MNO, rel_tol=1e-3
    )
    # Upper bounds: snapped up, so "MnO <= x" matches from the grid point below the content;
    # both searches together only bracket the content by one grid step (0.05 .. 0.1 Mn).
    lo_u, hi_u = _bisect(lambda x: not hit(f"MnO <= {x:.6f} wt%"), 0.0, 50.0)
    assert _on_grid(hi_u / 100 * KF_MNO, tol=1e-3)
    assert hi / hi_u >= 2 - 1e-3 and hi_u <= MNO_TRUE <= hi


def test_distance_search_resolves_only_the_bands(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    victim = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    need = client.post("/api/exchange/needs", json=_need([]), headers=b).json()["id"]

    def hit(max_km: float, lat: float = 59.12) -> bool:
        body = _need([], max_distance_km=max_km, site={"name": "p", "lat": lat, "lon": 9.63})
        assert client.put(f"/api/exchange/needs/{need}", json=body, headers=b).status_code == 200
        rows = client.get(f"/api/exchange/needs/{need}/matches", headers=b).json()
        return any(r["stream_id"] == victim for r in rows)

    lo, hi = _bisect(lambda x: not hit(x), 0.0, 2000.0)
    # true distance is ~225 km; the cut-off is a public band edge
    assert any(math.isclose(hi, edge, abs_tol=1e-3) for edge in BAND_EDGES), hi
    assert hi <= 250.0


def test_rank_order_does_not_follow_hidden_quantity(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    small = stream_payload(details={"quantity_t_per_year": 12_000.0})
    large = stream_payload(details={"quantity_t_per_year": 90_000.0})
    victims = [
        client.post("/api/exchange/streams", json=p, headers=a).json()["id"] for p in (small, large)
    ]
    need = client.post(
        "/api/exchange/needs", json=_need([], quantity_t_per_year_min=1e6), headers=b
    ).json()["id"]
    orders = []
    for quantity in (1.0, 11_000.0, 13_000.0, 95_000.0, 1e6):
        own = stream_payload(details={"quantity_t_per_year": quantity, "name": "own probe"})
        sid = client.post("/api/exchange/streams", json=own, headers=b).json()["id"]
        rows = client.get(f"/api/exchange/needs/{need}/matches", headers=b).json()
        ranks = {r["stream_id"]: r["rank"] for r in rows}
        assert ranks[sid] == 1  # own streams first, whatever their quantity
        orders.append([r["stream_id"] for r in rows if r["stream_id"] != sid])
        assert client.delete(f"/api/exchange/streams/{sid}", headers=b).status_code == 204
    # the undisclosed streams (same distance and quantity band) are ordered by id, always
    assert all(order == sorted(victims) for order in orders), orders


def test_stream_matches_do_not_reveal_others_need_limits(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    hidden = client.post("/api/exchange/needs", json=_need(["MnO >= 5 wt%"]), headers=b)
    need = hidden.json()["id"]

    def appears(x: float) -> bool:
        body = stream_payload(
            details={"composition": [{"component": "MnO", "value": x, "unit": "wt%"}]}
        )
        sid = client.post("/api/exchange/streams", json=body, headers=a).json()["id"]
        rows = client.get(f"/api/exchange/streams/{sid}/matches", headers=a).json()
        client.delete(f"/api/exchange/streams/{sid}", headers=a)
        return any(r["need_id"] == need for r in rows)

    lo, hi = _bisect(lambda x: not appears(x), 0.0, 50.0)
    # the hidden 5 wt% MnO (0.0387 Mn) is only learnt as "Mn >= 0.02" (the grid point below)
    assert _on_grid(hi / 100 * KF_MNO, tol=1e-3) and abs(hi - 5.0) > 1.0, hi


def _stream(material: str, quantity: float, value: float) -> dict[str, Any]:
    return stream_payload(
        details={
            "quantity_t_per_year": quantity,
            "composition": [{"component": material, "value": value, "unit": "wt%"}],
        }
    )


def test_potential_cannot_be_differenced_with_own_streams(client: Any, orgs: dict) -> None:
    a, b, c, d = orgs["a"], orgs["b"], orgs["c"], orgs["d"]
    client.post("/api/exchange/streams", json=_stream("MnO", 50_000, 0.37), headers=a)
    before = client.get("/api/exchange/potential", params={"material": "manganese"}, headers=b)
    assert before.status_code == 200, before.text
    assert before.json()["released"] is False and before.json()["secondary_t_max"] is None
    own = [
        client.post("/api/exchange/streams", json=_stream("MnO", 1000, 1.0), headers=b).json()["id"]
        for _ in range(3)
    ]
    after = client.get("/api/exchange/potential", params={"material": "manganese"}, headers=b)
    body = after.json()
    # own streams do not count towards the 3 organisations and are reported apart
    assert body["released"] is False and body["secondary_t_min"] is None
    assert "n_streams" not in body
    assert math.isclose(body["own"]["secondary_t_max"], 3 * 1000 * 0.01 * KF_MNO, rel_tol=1e-9)
    # three other organisations: released, 2 significant figures, unchanged by own streams
    client.post("/api/exchange/streams", json=_stream("MnO", 12_345, 2.0), headers=c)
    client.post("/api/exchange/streams", json=_stream("MnO", 7_777, 3.0), headers=d)
    released = client.get("/api/exchange/potential", params={"material": "manganese"}, headers=b)
    r1 = released.json()
    exact = (50_000 * 0.0037 + 12_345 * 0.02 + 7_777 * 0.03) * KF_MNO
    assert r1["released"] is True
    assert r1["secondary_t_min"] == float(f"{exact:.2g}") != exact
    for sid in own:
        client.delete(f"/api/exchange/streams/{sid}", headers=b)
    r2 = client.get("/api/exchange/potential", params={"material": "manganese"}, headers=b).json()
    assert r2["secondary_t_min"] == r1["secondary_t_min"]
    # the contributors see the query in their audit trail
    trail = client.get("/api/exchange/audit", headers=a).json()
    assert any(e["action"] == "potential_query" for e in trail)
    # the querier sees one event per query, not one per contributing organisation
    mine = [e for e in client.get("/api/exchange/audit", headers=b).json()
            if e["action"] == "potential_query"]  # fmt: skip
    assert len(mine) == 4 and {e["owner_organisation"] for e in mine} == {"Prober B"}


def test_audit_trail_names_no_undisclosed_owner(client: Any, orgs: dict) -> None:
    a, b = orgs["a"], orgs["b"]
    victim = client.post("/api/exchange/streams", json=stream_payload(), headers=a).json()["id"]
    need = client.post("/api/exchange/needs", json=_need([]), headers=b).json()["id"]
    assert client.get(f"/api/exchange/needs/{need}/matches", headers=b).json()
    req = client.post(f"/api/exchange/streams/{victim}/disclosure-requests", headers=b).json()
    trail = client.get("/api/exchange/audit", headers=b)
    actions = {e["action"] for e in trail.json()}
    assert {"match_revealed", "request_disclosure"} <= actions
    assert "Victim A" not in trail.text
    client.cookies.set("verdikart_token", b["Authorization"].split()[1])
    page = client.get("/exchange/audit")
    assert page.status_code == 200 and "Victim A" not in page.text
    client.cookies.clear()
    # the owner still sees who probed and requested
    assert "Prober B" in client.get("/api/exchange/audit", headers=a).text
    # once A accepts, B may see A's name
    assert client.post(
        f"/api/exchange/disclosure-requests/{req['id']}/accept", headers=a
    ).is_success
    assert "Victim A" in client.get("/api/exchange/audit", headers=b).text
    # ... and the disclosed match is explained with exact values
    rows = client.get(f"/api/exchange/needs/{need}/matches", headers=b).json()
    (row,) = [r for r in rows if r["stream_id"] == victim]
    assert row["access"] == "disclosed" and row["quantity_t_per_year"] == 123_456.0
    # revoked again: the name is hidden again
    client.post(f"/api/exchange/disclosure-requests/{req['id']}/revoke", headers=a)
    assert "Victim A" not in client.get("/api/exchange/audit", headers=b).text


def test_import_job_with_bad_header_ends_failed(client: Any, orgs: dict) -> None:
    a = orgs["a"]
    bad = b"this,is,not,the,template\n1,2,3,4,5\n"
    r = client.post("/api/exchange/imports", files={"file": ("bad.csv", bad)}, headers=a)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    while True:
        job = client.get(f"/api/exchange/imports/{r.json()['id']}", headers=a).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job["status"] == "failed", job
    assert job["finished_at"] and any(p.strip() for p in job["problems"]), job


# --- issue #14: the three side channels, as attacks ------------------------------------------


def _listed(client: Any, headers: dict[str, str], need: str, limit: str, stream: str) -> bool:
    """Whether the prober's need, set to `limit`, lists `stream`."""
    r = client.put(f"/api/exchange/needs/{need}", json=_need([limit]), headers=headers)
    assert r.status_code == 200, r.text
    rows = client.get(f"/api/exchange/needs/{need}/matches", headers=headers).json()
    return any(row["stream_id"] == stream for row in rows)


PRESENCE_PROBES = ("Cd >= 100 wt%", "Cd <= 100 wt%", "Cd <= 0.00001 wt%", "Cd >= 0.00001 wt%",
                   "Cd > 50 wt%", "Cd < 50 wt%")  # fmt: skip


def test_matching_does_not_tell_which_components_are_analysed(client: Any, orgs: dict) -> None:
    """The attacker B sets its need's limits to values no real analysis meets (or every one
    meets) and watches which of A's streams are listed: under the old rules `Cd >= 100 wt%`
    listed a stream exactly when Cd was NOT analysed. Now a stream whose owner keeps the
    analysis confidential gets the same answer to every probe whatever it holds, and for a
    stream whose owner published its components, what the probes tell is what its public
    summary says anyway."""
    a, b = orgs["a"], orgs["b"]
    cd = {"component": "Cd", "value": 3, "unit": "mg/kg"}

    def register(with_cd: bool, public: bool) -> str:
        body = stream_payload(summary={"components_public": public})
        if with_cd:
            body["details"]["composition"] = [*body["details"]["composition"], cd]
        r = client.post("/api/exchange/streams", json=body, headers=a)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    need = client.post("/api/exchange/needs", json=_need([]), headers=b).json()["id"]
    sealed_with, sealed_without = register(True, False), register(False, False)
    public_with, public_without = register(True, True), register(False, True)

    def answers(stream: str) -> list[bool]:
        return [_listed(client, b, need, probe, stream) for probe in PRESENCE_PROBES]

    # the attack: any probe answered differently tells "Cd analysed" from "not analysed"
    assert answers(sealed_with) == answers(sealed_without)
    for sid in (sealed_with, sealed_without):
        summary = client.get(f"/api/exchange/streams/{sid}", headers=b).json()
        assert summary["components"] is None and "details" not in summary
    # published: the summary lists the components, so the probes learn nothing beyond it
    for sid, has_cd in ((public_with, True), (public_without, False)):
        summary = client.get(f"/api/exchange/streams/{sid}", headers=b).json()
        assert ("Cd" in summary["components"]) is has_cd
        assert summary["components"] == sorted(summary["components"])
        assert_no_secrets(str(summary))
        inferred = not _listed(client, b, need, "Cd >= 100 wt%", sid)
        assert inferred is has_cd


def test_potential_cannot_be_narrowed_across_years(client: Any, orgs: dict) -> None:
    """The attacker B queries the released potential for every year: each year has its own
    exact (public) import basis, and under the old rules `rounded share x exact basis`
    intersected over the years narrowed the total far below its 2 significant figures. The
    attack fails when two worlds whose totals round to the same figure (42,600 t and
    43,400 t Mn -> 43,000 t) give identical answers to every query: nothing an attacker
    computes from them can then be finer than the rounding of the total."""
    a, b, c, d = orgs["a"], orgs["b"], orgs["c"], orgs["d"]
    per_t = 0.20 * KF_MNO  # t Mn per t of stream at 20 wt% MnO
    for org in (a, c):
        client.post("/api/exchange/streams", json=_stream("MnO", 90_000, 20.0), headers=org)
    years = range(2010, 2025)

    def observe() -> list[dict[str, Any]]:
        out = []
        for year in years:
            r = client.get(
                "/api/exchange/potential",
                params={"material": "manganese", "year": year},
                headers=b,
            )
            assert r.status_code == 200, r.text
            out.append(r.json())
        return out

    worlds = []
    for total_mn in (42_600.0, 43_400.0):
        body = _stream("MnO", total_mn / per_t - 180_000, 20.0)
        sid = client.post("/api/exchange/streams", json=body, headers=d).json()["id"]
        worlds.append(observe())
        assert client.delete(f"/api/exchange/streams/{sid}", headers=d).status_code == 204
    first, second = worlds
    assert all(o["released"] for o in first), first[0]
    assert {o["secondary_t_min"] for o in first} == {43_000.0}
    assert len({o["imports_basis_t"] for o in first}) == len(years)  # 15 different bases
    assert first == second  # the attacker cannot tell 42,600 t from 43,400 t
    # and every share is the released total over the public basis, nothing finer
    for o in first:
        assert o["share_min"] == float(f"{43_000.0 / o['imports_basis_t']:.2g}")


def test_potential_cannot_be_narrowed_across_materials(client: Any, orgs: dict) -> None:
    """Aluminium (basis Al) and bauxite (basis Al2O3) count the same Al: two roundings of
    proportional figures, intersected, would narrow the total (the old rules released
    80,000 t Al2O3 in one world and 82,000 t in the other). Every figure now comes from the
    one rounded Al total, so two worlds with 42,600 t and 43,400 t Al answer alike."""
    from verdikart.exchange.composition import element_fraction

    a, b, c, d = orgs["a"], orgs["b"], orgs["c"], orgs["d"]
    per_t = 0.20 * float(element_fraction("Al2O3", "Al") or 0)  # t Al per t at 20 wt% Al2O3
    for org in (a, c):
        client.post("/api/exchange/streams", json=_stream("Al2O3", 135_000, 20.0), headers=org)

    def observe() -> list[dict[str, Any]]:
        out = []
        for material in ("aluminium", "bauxite"):
            for year in (2017, 2018, 2019):
                r = client.get("/api/exchange/potential",
                               params={"material": material, "year": year}, headers=b)  # fmt: skip
                assert r.status_code == 200, r.text
                out.append(r.json())
        return out

    worlds = []
    for total_al in (42_600.0, 43_400.0):
        body = _stream("Al2O3", total_al / per_t - 270_000, 20.0)
        sid = client.post("/api/exchange/streams", json=body, headers=d).json()["id"]
        worlds.append(observe())
        assert client.delete(f"/api/exchange/streams/{sid}", headers=d).status_code == 204
    assert all(o["released"] for o in worlds[0]), [(o["material"], o["note"]) for o in worlds[0]]
    assert {o["secondary_t_min"] for o in worlds[0] if o["basis"] == "Al"} == {43_000.0}
    assert worlds[0] == worlds[1]
