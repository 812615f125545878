# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The supplier register's interface names (`verdikart suppliers ...`, `/api/suppliers/`), needs
(hand-entered and from eForms notices) and matchmaking (issue #12), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from test_exchange_support import auth, client, db_url, service

FIX = Path(__file__).resolve().parent / "fixtures" / "register"
EFORMS = Path("/work/shared/data/eforms")
VARIANT = "112233504"  # the fixture's NACE 24 / Vestland unit


def _cli(*args: str) -> Any:
    from verdikart.cli import cli

    return CliRunner().invoke(cli, list(args))


# --- interface names -------------------------------------------------------------------------


def test_suppliers_cli_and_the_old_register_alias(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    out = _cli("suppliers", "import", "enhetsregisteret", str(FIX / "enheter.json.gz"),
               "--format", "json")  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["inserted"] == 5
    out = _cli("suppliers", "show", VARIANT, "--format", "json")
    shown = json.loads(out.output)
    assert shown["organisation_number"] == VARIANT
    assert shown["nace"] == ["24.420", "24.450"] and shown["name"]
    again = _cli("register", "import", str(FIX / "enheter.json.gz"), "--format", "json")
    assert json.loads(again.output)["updated"] == 5  # the hidden alias still works
    assert "register" not in _cli("--help").output.split("Commands:")[1].split()


def test_api_under_suppliers_and_register_alias(client: Any, service: Any) -> None:
    token = service.add_user("Buyer AS", "Bo")["token"]
    for prefix in ("/api/suppliers", "/api/register"):
        got = client.get(f"{prefix}/units?nace=24", headers=auth(token))
        assert got.status_code == 200, got.text
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/suppliers/units" in paths and "/api/register/units" not in paths


# --- needs and eForms notices ----------------------------------------------------------------


def _reg(service: Any) -> Any:
    from verdikart.register.service import RegisterService

    return RegisterService(service)


def test_eforms_notices_make_needs_and_bad_ones_change_nothing(service: Any) -> None:
    from verdikart.errors import SourceError

    reg = _reg(service)
    buyer = service.authenticate(service.add_user("Buyer AS", "Bo")["token"])
    out = reg.import_eforms(buyer, [EFORMS / "cn_24_minimal.xml", EFORMS / "pin-only_24_lots.xml"])
    assert [o["status"] for o in out] == ["created", "created"]
    need = reg.get_need(out[0]["need_id"])
    assert need["codes"] == [{"scheme": "cpv", "code": "72230000", "main": True}]
    assert need["nuts"] == ["FRD22"] and need["deadline"] == "2020-02-04"
    assert need["buyer"] == "Publications Office of the European Union"
    assert need["source"] == "eforms" and need["notice_type"] == "cn-standard"
    pin = reg.get_need(out[1]["need_id"])
    assert len(pin["lots"]) == 10 and pin["deadline"] is None
    assert pin["codes"][0] == {"scheme": "cpv", "code": "44110000", "main": True}
    again = reg.import_eforms(buyer, [EFORMS / "cn_24_minimal.xml"])
    assert again[0]["status"] == "updated" and again[0]["need_id"] == out[0]["need_id"]
    cases = [
        ("INVALID_cn_24_empty.xml", "ContractNotice/cbc:CustomizationID"),
        ("can_24_minimal.xml", "ContractAwardNotice/cbc:NoticeTypeCode"),
    ]
    for name, element in cases:
        with pytest.raises(SourceError) as err:  # the good notice first: nothing is written
            reg.import_eforms(buyer, [EFORMS / "cn_25.xml", EFORMS / name])
        assert name in str(err.value) and f"field '{element}'" in str(err.value)
    with pytest.raises(SourceError, match="not an eForms notice: the root element is 'svg'"):
        reg.import_eforms(buyer, [("picture.xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>')])
    with pytest.raises(SourceError, match="refused XML construct"):
        bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
        reg.import_eforms(buyer, [("bomb.xml", bomb)])
    assert len(reg.list_needs()) == 2


def test_cli_import_eforms_prints_need_ids(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from verdikart.errors import SourceError

    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    monkeypatch.delenv("VERDIKART_TOKEN", raising=False)
    out = _cli("suppliers", "import", "eforms", str(EFORMS / "cn_25.xml"), "--format", "json")
    assert out.exit_code == 0, out.output
    ids = [r["need_id"] for r in json.loads(out.output)]
    assert len(ids) == 1 and len(ids[0]) == 32
    bad = _cli("suppliers", "import", "eforms", str(EFORMS / "INVALID_cn_24_empty.xml"))
    assert isinstance(bad.exception, SourceError) and bad.exception.exit_code == 2
    shown = _cli("suppliers", "need", "list", "--format", "json")
    assert [n["id"] for n in json.loads(shown.output)] == ids


def test_hand_entered_need_is_checked(service: Any) -> None:
    from verdikart.errors import DataValidationError

    reg = _reg(service)
    buyer = service.authenticate(service.add_user("Buyer AS", "Bo")["token"])
    with pytest.raises(DataValidationError) as err:
        reg.create_need(buyer, {"title": "x", "codes": [{"scheme": "cpv", "code": "4431"}],
                                "required_certifications": ["ISO 9999"], "region": "99",
                                "clearance_level": "VERY SECRET"})  # fmt: skip
    text = str(err.value)
    for field in ("codes.0.code", "required_certifications", "region", "clearance_level"):
        assert field in text
    need = reg.create_need(buyer, _need())
    assert need["clearance_level"] == "KONFIDENSIELT" and need["region"] == "46"


# --- matchmaking: a tiny example with hand-computed scores -----------------------------------

IN_100 = (date.today() + timedelta(days=100)).isoformat()
IN_50 = (date.today() + timedelta(days=50)).isoformat()
IN_365 = (date.today() + timedelta(days=365)).isoformat()
SESAM = "112233458"  # Oslo (county 03)


def _need() -> dict[str, Any]:
    return {
        "title": "Silisiummetall til forsvarsmateriell (test)",
        "codes": [
            {"scheme": "cpv", "code": "44316000-8", "main": True},
            {"scheme": "nace", "code": "24.45"},
        ],
        "region": "46",
        "deadline": IN_100,
        "required_certifications": ["ISO 9001", "AQAP 2110"],
        "clearance_level": "confidential",
        "max_lead_time_weeks": 8,
    }


def _alpha(**details: Any) -> dict[str, Any]:
    """Public-only supplier in Vestland: CPV exact (1.0), NACE 24.10 vs 24.45 same division
    (0.25): code score (2*1.0 + 0.25)/3 = 0.75; region 1; score (4*0.75 + 1)/5 = 0.8."""
    return {
        "organisation_number": VARIANT,
        "summary": "Alpha: silicon metal (illustrative)",
        "codes": [{"scheme": "cpv", "code": "44316000"}, {"scheme": "nace", "code": "24.10"}],
        "details": {
            "certifications": [{"standard": "ISO 9001", "valid_until": IN_365},
                               {"standard": "AQAP 2110", "valid_until": IN_365}],
            "lead_time_weeks": 4,
            "security_clearance": "HEMMELIG",
            "ncage": "ALPHA",
            "description": "ALPHA-SECRET",
            **details,
        },
    }  # fmt: skip


def _beta() -> dict[str, Any]:
    """Supplier in Oslo: CPV 44318000 same class as 44316000 (0.6), NACE exact (1.0): code score
    (2*0.6 + 1.0)/3 = 0.7333; region 0. Public score 4*0.7333/5 = 0.5867. With its details (ISO
    9001 valid on the deadline, AQAP 2110 expiring before it: 0.5; lead 6 <= 8: 1; HEMMELIG >=
    KONFIDENSIELT: 1): (2.9333 + 0 + 2*0.5 + 1 + 2)/10 = 0.6933."""
    return {
        "organisation_number": SESAM,
        "summary": "Beta: ferrosilicon (illustrative)",
        "codes": [{"scheme": "cpv", "code": "44318000"}, {"scheme": "nace", "code": "24.45"}],
        "details": {
            "certifications": [{"standard": "ISO 9001", "valid_until": IN_365},
                               {"standard": "AQAP 2110", "valid_until": IN_50}],
            "lead_time_weeks": 6,
            "security_clearance": "HEMMELIG",
            "ncage": "BETA1",
            "description": "BETA-SECRET",
        },
    }  # fmt: skip


def _setup(service: Any) -> tuple[Any, Any, Any, Any, str, str, str]:
    reg = _reg(service)
    reg.import_file(FIX / "enheter.json.gz")
    tok = {n: service.add_user(n, n[:3])["token"] for n in ("Buyer AS", "Other AS", "Alpha AS",
                                                              "Beta AS", "Gamma AS")}  # fmt: skip
    who = {n: service.authenticate(t) for n, t in tok.items()}
    alpha = reg.put_profile(who["Alpha AS"], _alpha())["id"]
    beta = reg.put_profile(who["Beta AS"], _beta())["id"]
    reg.put_profile(who["Gamma AS"], {"summary": "Gamma: building works",
                                      "codes": [{"scheme": "cpv", "code": "45000000"}]})  # fmt: skip
    need = reg.create_need(who["Buyer AS"], _need())["id"]
    return reg, who, tok, None, alpha, beta, need


def _by_org(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["organisation"]: m for m in result["matches"]}


def test_scores_by_hand_and_details_only_when_shared(service: Any) -> None:
    reg, who, _tok, _, alpha, beta, need = _setup(service)
    seen = reg.match_need(who["Buyer AS"], need)
    assert [m["organisation"] for m in seen["matches"]] == ["Alpha AS", "Beta AS"]
    assert seen["candidates"] == 2  # Gamma (CPV division 45) is no candidate
    m = _by_org(seen)
    assert m["Alpha AS"]["score"] == 0.8
    assert m["Alpha AS"]["components"] == {"codes": 0.75, "region": 1.0}
    assert m["Beta AS"]["score"] == pytest.approx(0.5867, abs=1e-4)
    assert m["Beta AS"]["access"] == "public"
    assert (
        "CPV 44316000 (main code): 44318000 in the same class (0.60)"
        in (m["Beta AS"]["explanation"]["en"])
    )
    assert "i samme klasse (0,60)" in m["Beta AS"]["explanation"]["nb"]  # decimal comma
    reg.share(who["Beta AS"], beta, "Buyer AS")
    shared = _by_org(reg.match_need(who["Buyer AS"], need))
    assert shared["Beta AS"]["score"] == pytest.approx(0.6933, abs=1e-4)
    assert shared["Beta AS"]["components"] == {
        "codes": 0.7333, "region": 0.0, "certifications": 0.5, "lead_time": 1.0, "clearance": 1.0
    }  # fmt: skip
    assert "missing AQAP 2110" in shared["Beta AS"]["explanation"]["en"]
    other = _by_org(reg.match_need(who["Other AS"], need))  # not shared with: public only
    assert other["Beta AS"]["score"] == pytest.approx(0.5867, abs=1e-4)
    assert set(other["Beta AS"]["components"]) == {"codes", "region"}
    mine = reg.match_my_profile(who["Beta AS"])  # the supplier's side: all its own components
    assert mine["matches"][0]["need_id"] == need
    assert mine["matches"][0]["score"] == pytest.approx(0.6933, abs=1e-4)
    assert mine["matches"][0]["components"] == shared["Beta AS"]["components"]


def test_confidential_changes_never_change_what_a_buyer_without_access_sees(
    service: Any,
) -> None:
    reg, who, _tok, _, alpha, beta, need = _setup(service)
    before = reg.match_need(who["Buyer AS"], need)
    # Alpha's confidential tier changes completely: nothing the buyer sees may move
    reg.put_profile(who["Alpha AS"], _alpha(certifications=[], lead_time_weeks=100,
                                            security_clearance=None))  # fmt: skip
    after = reg.match_need(who["Buyer AS"], need)
    assert before == after
    text = json.dumps(after["matches"])
    for secret in ("ALPHA-SECRET", "BETA-SECRET", "BETA1", "HEMMELIG", "AQAP", "weeks", "uker"):
        assert secret not in text


def test_migration_indexes_details_of_profiles_written_before(db_url: str) -> None:
    from sqlalchemy import select

    from verdikart.exchange.db import make_engine, migrate
    from verdikart.exchange.service import ExchangeService
    from verdikart.register.models import ProfileCertification, ProfilePrivate

    engine = make_engine(db_url)
    migrate(engine, "0004")
    with engine.begin() as con:
        con.exec_driver_sql(
            "INSERT INTO ex_organisation (id, name, created_at) VALUES ('o1', 'Old', "
            "CURRENT_TIMESTAMP)"
        )
        con.exec_driver_sql(
            "INSERT INTO rg_profile (id, organisation_id, summary, details, created_at, "
            "updated_at) VALUES ('p1', 'o1', 's', '{\"lead_time_weeks\": 3, "
            '"security_clearance": "NATO SECRET", "certifications": [{"standard": '
            '"ISO 9001", "valid_until": "2030-01-01"}]}\', CURRENT_TIMESTAMP, '
            "CURRENT_TIMESTAMP)"
        )
    engine.dispose()
    svc = ExchangeService(db_url)
    try:
        with svc.engine.connect() as con:
            assert con.execute(select(ProfilePrivate.lead_time_weeks,
                                      ProfilePrivate.clearance_rank)).all() == [(3, 3)]  # fmt: skip
            assert con.execute(select(ProfileCertification.standard)).scalars().all() == [
                "ISO 9001"
            ]
    finally:
        svc.close()


# --- over HTTP -------------------------------------------------------------------------------


def test_needs_api_errors_and_guessed_ids(client: Any, service: Any) -> None:
    buyer = auth(service.add_user("Buyer AS", "Bo")["token"])
    other = auth(service.add_user("Other AS", "Ola")["token"])
    xml = {"Content-Type": "application/xml"}
    bad = client.post("/api/suppliers/needs/eforms?name=INVALID_cn_24_empty.xml",
                      content=(EFORMS / "INVALID_cn_24_empty.xml").read_bytes(),
                      headers={**buyer, **xml})  # fmt: skip
    assert bad.status_code == 422 and "cbc:CustomizationID" in bad.text
    junk = client.post("/api/suppliers/needs/eforms", content=b"<a><b></a>",
                       headers={**buyer, **xml})  # fmt: skip
    assert junk.status_code == 422 and "not well-formed" in junk.text
    made = client.post("/api/suppliers/needs/eforms?name=cn_24_minimal.xml",
                       content=(EFORMS / "cn_24_minimal.xml").read_bytes(),
                       headers={**buyer, **xml})  # fmt: skip
    assert made.status_code == 201, made.text
    need_id = made.json()[0]["need_id"]
    assert client.get("/api/suppliers/needs", headers=other).json()[0]["id"] == need_id
    assert client.get("/api/suppliers/needs?mine=true", headers=other).json() == []
    patch = {"required_certifications": ["ISO 9001"]}
    denied = client.patch(f"/api/suppliers/needs/{need_id}/requirements", json=patch,
                          headers=other)  # fmt: skip
    assert denied.status_code == 403
    unknown = client.patch(f"/api/suppliers/needs/{need_id}/requirements",
                           json={"title": "x"}, headers=buyer)  # fmt: skip
    assert unknown.status_code == 422
    for path in ("/api/suppliers/needs/" + "0" * 32, "/api/suppliers/needs/x/matches",
                 "/api/suppliers/profiles/" + "0" * 32 + "/requests"):  # fmt: skip
        method = client.post if path.endswith("requests") else client.get
        assert method(path, headers=buyer).status_code == 404
    assert client.get(f"/api/suppliers/needs/{need_id}/matches").status_code == 401
    hand = client.post("/api/suppliers/needs", json=_need(), headers=buyer)
    assert hand.status_code == 201 and hand.json()["source"] == "manual"
    assert client.post("/api/suppliers/needs", json={"title": ""}, headers=buyer).status_code == 422


def test_walkthrough_script_over_a_real_server(db_url: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "scripts" / "suppliers_walkthrough.py"
    env = {**os.environ, "VERDIKART_DB_URL": db_url, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "walk-through complete: every check passed" in done.stdout
    assert '"access": "details"' in done.stdout and "A-SECRET-NOTE" not in done.stdout


def test_sql_rules_agree_with_the_similarity_definition() -> None:
    """`expand` (the rules the SQL uses) gives, for every pair, the reference `similarity`."""
    import random

    from verdikart.register.matching import expand, similarity

    def by_rules(scheme: str, need: str, code: str) -> float:
        hits = [
            score
            for prefix, lo, hi, score in expand(scheme, need)
            if (code == prefix if lo == hi else code.startswith(prefix)) and lo <= code <= hi
        ]
        return max(hits, default=0.0) if code[:2] == need[:2] else 0.0

    rng = random.Random(7)
    cpv = [f"{rng.choice(['44', '45', '09'])}{rng.randrange(10**6):06d}" for _ in range(300)]
    cpv = [c[: rng.randrange(2, 9)].ljust(8, "0") for c in cpv]
    nace = ["24", "24.4", "24.45", "24.452", "24.42", "24.1", "25.11", "24.451"]
    hs = ["2804", "280469", "28046910", "280461", "2805", "7202", "72022100"]
    for scheme, codes in (("cpv", cpv), ("nace", nace), ("hs", hs)):
        for need in codes[:60]:
            for code in codes:
                assert by_rules(scheme, need, code) == similarity(scheme, need, code), (
                    scheme, need, code
                )  # fmt: skip
    assert similarity("cpv", "44316000", "44000000") == 1.0  # the division covers it
    assert similarity("cpv", "44316000", "44318000") == 0.6  # same class 4431
    assert similarity("nace", "24.45", "24.10") == 0.25
    assert similarity("hs", "280469", "280461") == 0.5


def test_cli_match_prints_one_object_per_supplier(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from verdikart.exchange.service import ExchangeService

    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    monkeypatch.delenv("VERDIKART_TOKEN", raising=False)
    svc = ExchangeService(db_url)
    try:
        _reg_, who, tok, _, _alpha_id, beta, need = _setup(svc)
        _reg_.share(who["Beta AS"], beta, "Buyer AS")
    finally:
        svc.close()
    anonymous = _cli("suppliers", "match", "--need", need, "--format", "json")
    assert anonymous.exit_code == 0, anonymous.output
    rows = json.loads(anonymous.output)
    assert [(r["organisation_number"], r["score"]) for r in rows] == [
        (VARIANT, 0.8), (SESAM, 0.5867)
    ]  # fmt: skip
    assert all(r["explanation_nb"] and r["explanation"] == r["explanation_en"] for r in rows)
    as_buyer = json.loads(_cli("suppliers", "match", "--need", need, "--token",
                               tok["Buyer AS"], "--format", "json").output)  # fmt: skip
    assert [r["score"] for r in as_buyer] == [0.8, 0.6933]
    table = _cli("--lang", "nb", "suppliers", "match", "--need", need, "--format", "csv")
    assert "samme fylke" in table.output
    mine = json.loads(_cli("suppliers", "match", "--profile", "--token", tok["Beta AS"],
                           "--format", "json").output)  # fmt: skip
    assert [r["need_id"] for r in mine] == [need]
    assert _cli("suppliers", "match", "--format", "json").exit_code == 2


def test_audit_of_matches(service: Any) -> None:
    reg, who, _tok, _, _alpha, beta, need = _setup(service)
    reg.share(who["Beta AS"], beta, "Buyer AS")
    reg.match_need(who["Other AS"], need)  # not shared with: no read of details
    reg.match_need(who["Buyer AS"], need)
    beta_trail = service.audit_trail(who["Beta AS"])
    reads = [e for e in beta_trail if e["action"] == "profile.read-details"]
    assert len(reads) == 1 and reads[0]["actor_organisation"] == "Buyer AS"
    assert reads[0]["detail"] == {"via": "match", "need_id": need}
    buyer_trail = service.audit_trail(who["Buyer AS"])  # not told that Other AS looked
    assert not [e for e in buyer_trail if e["actor_organisation"] == "Other AS"]
    assert not [e for e in service.audit_trail(who["Alpha AS"])
                if e["action"] == "profile.read-details"]  # fmt: skip
