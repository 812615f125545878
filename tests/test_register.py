# ruff: noqa: F401, F811 - pytest fixtures imported from test_exchange_support
"""The supplier register (issue #12) on SQLite and PostgreSQL: Enhetsregisteret imports
(streaming, all-or-nothing, re-runnable, filtered; bad input named by file/line/field), and
capability profiles whose details only the owner and the buyers it picked can read, checked
with real HTTP requests through the FastAPI app.

Fixtures: tests/fixtures/register/ (written by make_fixtures.py from the API layout samples).
"""

from __future__ import annotations

import gzip
import io
import json
import urllib.error
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from test_exchange_support import auth, client, db_url, service

FIX = Path(__file__).resolve().parent / "fixtures" / "register"
SESAM = "112233458"  # the sample's 112233445 with a valid check digit
VARIANT = "112233504"  # the NACE 24 / Vestland test variant (no employees published)
DELETED = "123456793"


def _register(service: Any) -> Any:
    from verdikart.register.service import RegisterService

    return RegisterService(service)


def _counts(service: Any) -> tuple[int, int]:
    from sqlalchemy import func, select

    from verdikart.register.models import RegisterNace, RegisterUnit

    with service.engine.connect() as con:
        units = con.execute(select(func.count()).select_from(RegisterUnit)).scalar_one()
        codes = con.execute(select(func.count()).select_from(RegisterNace)).scalar_one()
    return units, codes


# --- Enhetsregisteret ------------------------------------------------------------------------


def test_reimport_and_changed_copy_update_without_duplicates(service: Any) -> None:
    reg = _register(service)
    first = reg.import_file(FIX / "enheter.json.gz")
    assert (first["read"], first["inserted"], first["updated"]) == (5, 5, 0)
    assert _counts(service) == (5, 5)  # five units; the deleted one has no industry code
    again = reg.import_file(FIX / "enheter.json.gz")
    assert (again["inserted"], again["updated"]) == (0, 5)
    assert _counts(service) == (5, 5)
    changed = reg.import_file(FIX / "enheter-changed.json.gz")
    assert (changed["inserted"], changed["updated"]) == (1, 5)
    assert _counts(service)[0] == 6
    unit = reg.unit(SESAM)
    assert unit["name"] == "SESAM STASJON OG HAVN"
    assert unit["employees"] == 55
    assert unit["nace"] == unit["nace_sn2025"] == ["52.292"]


def test_employees_absent_stay_null_never_zero(service: Any) -> None:
    reg = _register(service)
    reg.import_file(FIX / "enheter.json.gz")
    assert reg.unit(SESAM)["employees"] == 50
    assert reg.unit(VARIANT)["employees"] is None  # harRegistrertAntallAnsatte false, no count
    assert reg.unit("971497017")["employees"] == 0  # the sample publishes 0: kept as given
    reg.import_file(FIX / "enheter.csv")  # the CSV layout: empty cell, still NULL
    assert reg.unit(VARIANT)["employees"] is None
    assert reg.unit(DELETED)["employees"] is None


def test_flags_parent_and_sites(service: Any) -> None:
    reg = _register(service)
    reg.import_file(FIX / "enheter.json.gz")
    reg.import_file(FIX / "underenheter.json.gz")
    deleted = reg.unit(DELETED)
    assert deleted["deleted"] is True and deleted["deleted_date"] == "2017-10-20"
    sesam = reg.unit(SESAM)
    assert sesam["deleted"] is False and sesam["bankrupt"] is False
    assert sesam["organisational_form"] == "AS" and sesam["municipality"] == "0301"
    assert [s["kind"] for s in sesam["sites"]] == ["sub-unit"]
    site = sesam["sites"][0]
    assert site["parent_number"] == SESAM and site["deleted_date"] == "2018-10-20"


def test_csv_layout_gives_the_same_units(service: Any) -> None:
    reg = _register(service)
    out = reg.import_file(FIX / "enheter.csv")
    assert (out["layout"], out["read"], out["inserted"]) == ("csv", 5, 5)
    variant = reg.unit(VARIANT)
    assert variant["nace"] == ["24.420", "24.450"] and variant["municipality"] == "4601"


def test_filters_load_a_subset(service: Any) -> None:
    from verdikart.register.importer import make_filter

    reg = _register(service)
    out = reg.import_file(FIX / "enheter.json.gz", unit_filter=make_filter(["24"]))
    assert (out["inserted"], out["skipped_by_filter"]) == (1, 4)
    out = reg.import_file(FIX / "enheter.json.gz", unit_filter=make_filter(county="03"))
    assert out["inserted"] == 2  # two Oslo units (0301); the variant is already in
    assert [u["organisation_number"] for u in reg.search_units(nace="24.4")] == [VARIANT]
    assert [u["organisation_number"] for u in reg.search_units(county="46")] == [VARIANT]


def test_sn2007_and_sn2025_codes_are_kept_apart(service: Any) -> None:
    reg = _register(service)
    reg.import_file(FIX / "enheter.json.gz", nace_standard="SN2007")
    reg.import_file(FIX / "enheter-changed.json.gz", nace_standard="SN2025")
    unit = reg.unit(VARIANT)
    assert unit["nace_sn2007"] == unit["nace_sn2025"] == ["24.420", "24.450"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("enheter-bad-orgnr.json", "line 69, field 'organisasjonsnummer': record 3: 112233445 "
         "fails the mod-11"),
        ("enheter-truncated.json.gz", "truncated"),
    ],
)  # fmt: skip
def test_malformed_file_names_the_line_and_changes_nothing(
    service: Any, name: str, words: str
) -> None:
    from verdikart.errors import SourceError

    reg = _register(service)
    reg.import_file(FIX / "enheter.json.gz")
    before = reg.unit(SESAM)
    with pytest.raises(SourceError, match=words):
        reg.import_file(FIX / name)
    assert _counts(service) == (5, 5)
    assert reg.unit(SESAM) == before


def test_bad_field_in_csv_names_row_and_field(tmp_path: Path, service: Any) -> None:
    from verdikart.errors import SourceError

    text = (FIX / "enheter.csv").read_text(encoding="utf-8").replace(",52.292,", ",52-292,", 1)
    bad = tmp_path / "enheter.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=r"line 2, field 'naeringskode1.kode'.*'52-292'"):
        _register(service).import_file(bad)
    assert _counts(service) == (0, 0)


def test_nul_in_a_name_is_refused(tmp_path: Path, service: Any) -> None:
    from verdikart.errors import SourceError

    units = json.loads(gzip.decompress((FIX / "enheter.json.gz").read_bytes()))
    units[1]["navn"] = "SLETTET\x00ENHET"
    bad = tmp_path / "enheter.json"
    text = json.dumps(units, indent=2)
    bad.write_text(text, encoding="utf-8")
    start = [i for i, line in enumerate(text.split("\n"), start=1) if line == "  {"][1]
    with pytest.raises(SourceError, match=rf"line {start}, field 'navn': record 2: .*NUL"):
        _register(service).import_file(bad)
    assert _counts(service) == (0, 0)


def test_stream_parser_across_tiny_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sliding window never needs the whole file: with 7-character chunks every record
    still comes out, on the line it starts on."""
    from verdikart.register import importer

    monkeypatch.setattr(importer, "CHUNK_CHARS", 7)
    text = gzip.decompress((FIX / "enheter.json.gz").read_bytes()).decode("utf-8")
    records = list(importer.iter_json_array(io.StringIO(text), FIX / "x"))
    assert [r[2]["organisasjonsnummer"] for r in records] == [
        u["organisasjonsnummer"] for u in json.loads(text)
    ]
    lines = text.split("\n")
    for _number, line, value in records:
        assert lines[line - 1].strip() == "{"
        assert f'"{value["organisasjonsnummer"]}"' in lines[line]


def test_download_offline_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    from verdikart.errors import OfflineError
    from verdikart.register.importer import download_bulk

    def offline(*_a: Any, **_k: Any) -> Any:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(OfflineError, match="data.brreg.no/enhetsregisteret/api/enheter/lastned"):
        download_bulk(tmp_path)
    assert not list(tmp_path.iterdir())


def test_cli_import_search_and_bad_file(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from verdikart.cli import cli
    from verdikart.errors import SourceError

    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    runner = CliRunner()
    out = runner.invoke(
        cli, ["register", "import", str(FIX / "enheter.json.gz"), "--nace", "24", "--format",
              "json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["inserted"] == 1
    out = runner.invoke(cli, ["register", "show", VARIANT])
    assert json.loads(out.output)["nace"] == ["24.420", "24.450"]
    out = runner.invoke(cli, ["register", "search", "--units", "--nace", "24", "--format", "json"])
    assert [r["organisation_number"] for r in json.loads(out.output)] == [VARIANT]
    # the CLI's main() prints `error: <message>` and exits with the error's exit_code (2)
    out = runner.invoke(cli, ["register", "import", str(FIX / "enheter-bad-orgnr.json")])
    assert isinstance(out.exception, SourceError) and out.exception.exit_code == 2
    assert "enheter-bad-orgnr.json, line 69, field 'organisasjonsnummer'" in str(out.exception)
    out = runner.invoke(cli, ["register", "search", "--material", "unobtainium"])
    assert isinstance(out.exception, SourceError) and out.exception.exit_code == 2
    assert "unknown material" in str(out.exception)


# --- capability profiles over HTTP -----------------------------------------------------------


def _profile(**details: Any) -> dict[str, Any]:
    valid = (date.today() + timedelta(days=365)).isoformat()
    return {
        "organisation_number": SESAM,
        "summary": "Silicon metal and microsilica (illustrative test profile)",
        "codes": [
            {"scheme": "stage", "code": "silicon/silicon-metal"},
            {"scheme": "cpv", "code": "44316000-8"},
            {"scheme": "nace", "code": "24.45"},
            {"scheme": "hs", "code": "280469"},
        ],
        "details": {
            "description": "SECRET-CAPACITY-NOTE",
            "certifications": [{"standard": "ISO 9001", "valid_until": valid}],
            "lead_time_weeks": 6,
            "security_clearance": "HEMMELIG",
            "ncage": "N1234",
            **details,
        },
    }


def test_hidden_details_are_invisible_to_a_buyer_not_chosen(client: Any, service: Any) -> None:
    supplier = auth(service.add_user("Supplier AS", "Sam")["token"])
    chosen = auth(service.add_user("Chosen Buyer", "Cia")["token"])
    other = auth(service.add_user("Other Buyer", "Ole")["token"])

    made = client.put("/api/register/profile", json=_profile(), headers=supplier)
    assert made.status_code == 200, made.text
    pid = made.json()["id"]
    assert made.json()["details"]["description"] == "SECRET-CAPACITY-NOTE"
    shared = client.post(f"/api/register/profiles/{pid}/shares", json={"buyer": "Chosen Buyer"},
                         headers=supplier)  # fmt: skip
    assert shared.status_code == 200, shared.text

    # the buyer it did not pick: summary only, on every read path
    seen = client.get(f"/api/register/profiles/{pid}", headers=other)
    assert seen.status_code == 200 and seen.json()["access"] == "public"
    for path in (
        f"/api/register/profiles/{pid}",
        "/api/register/profiles?material=silicon",
        "/api/register/profiles?cpv=44000000",
        "/api/register/profiles?nace=24",
        "/api/register/profiles?hs=2804",
        "/api/register/profiles?stage=silicon/silicon-metal",
    ):
        response = client.get(path, headers=other)
        assert response.status_code == 200, (path, response.text)
        body = response.text
        assert "SECRET-CAPACITY-NOTE" not in body and "HEMMELIG" not in body, path
        assert "N1234" not in body and "details" not in body, path
    assert client.get(f"/api/register/profiles/{pid}/shares", headers=other).status_code == 403
    taken = client.post(f"/api/register/profiles/{pid}/shares", json={"buyer": "Other Buyer"},
                        headers=other)  # fmt: skip
    assert taken.status_code == 403
    assert client.get("/api/register/profiles/" + "0" * 32, headers=other).status_code == 404
    assert client.get(f"/api/register/profiles/{pid}").status_code == 401  # no token

    # the chosen buyer sees the details, and that read is in the supplier's audit trail
    got = client.get(f"/api/register/profiles/{pid}", headers=chosen).json()
    assert got["access"] == "shared" and got["details"]["ncage"] == "N1234"
    search = client.get("/api/register/profiles?material=silicon", headers=chosen).json()
    assert [p["id"] for p in search] == [pid] and "details" not in search[0]
    trail = client.get("/api/exchange/audit", headers=supplier)
    assert trail.status_code == 200
    actions = [e.get("action") for e in trail.json()]
    assert "profile.read-details" in actions and "profile.share" in actions

    # revoked: the chosen buyer is back to the summary
    gone = client.delete(f"/api/register/profiles/{pid}/shares/Chosen Buyer", headers=supplier)
    assert gone.status_code == 200
    after = client.get(f"/api/register/profiles/{pid}", headers=chosen).json()
    assert after["access"] == "public" and "details" not in after


def test_cli_profile_set_share_show(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from verdikart.cli import cli

    monkeypatch.setenv("VERDIKART_DB_URL", db_url)
    runner = CliRunner()

    def user(org: str) -> str:
        out = runner.invoke(
            cli, ["exchange", "add-user", "--org", org, "--name", "x", "--format", "json"]
        )
        return str(json.loads(out.output)["token"])

    supplier, chosen, other = user("Supplier AS"), user("Chosen Buyer"), user("Other Buyer")
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(_profile()), encoding="utf-8")
    made = runner.invoke(cli, ["register", "profile", "set", str(path), "--token", supplier])
    assert made.exit_code == 0, made.output
    pid = json.loads(made.output)["id"]
    shared = runner.invoke(
        cli,
        ["register", "profile", "share", pid, "--buyer", "Chosen Buyer", "--token", supplier],
    )
    assert shared.exit_code == 0, shared.output
    seen = runner.invoke(cli, ["register", "profile", "show", pid, "--token", other])
    assert "SECRET-CAPACITY-NOTE" not in seen.output and json.loads(seen.output)["access"] == (
        "public"
    )
    got = json.loads(
        runner.invoke(cli, ["register", "profile", "show", pid, "--token", chosen]).output
    )
    assert got["details"]["description"] == "SECRET-CAPACITY-NOTE"
    found = runner.invoke(cli, ["register", "search", "--cpv", "44316000", "--format", "json"])
    assert [r["id"] for r in json.loads(found.output)] == [pid]
    assert "SECRET" not in found.output


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"codes": [{"scheme": "material", "code": "unobtainium"}]}, "codes.0.code: unknown material"),
        ({"codes": [{"scheme": "cpv", "code": "4431"}]}, "codes.0.code: a CPV code is 8 digits"),
        ({"organisation_number": "112233445"}, "organisation_number"),
        ({"details": {"certifications": [{"standard": "ISO 9001", "valid_until": "2001-01-01"}]}},
         "expired"),
        ({"details": {"ncage": "bad"}}, "details.ncage"),
        ({"details": {"references": ["ok", "a\x00b"]}}, "NUL character"),
    ],
)  # fmt: skip
def test_bad_profile_is_422_naming_the_field(
    client: Any, service: Any, change: dict[str, Any], words: str
) -> None:
    supplier = auth(service.add_user("Supplier AS", "Sam")["token"])
    payload = {**_profile(), **change}
    response = client.put("/api/register/profile", json=payload, headers=supplier)
    assert response.status_code == 422, response.text
    assert words in response.text
    assert client.get("/api/register/profile", headers=supplier).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["cpv=abc", "nace=x", "hs=12", "material=unobtainium", "stage=silicon/none", "", "limit=0"],
)
def test_bad_search_is_4xx_never_500(client: Any, service: Any, query: str) -> None:
    buyer = auth(service.add_user("Buyer", "Bo")["token"])
    response = client.get(f"/api/register/profiles?{query}", headers=buyer)
    assert response.status_code in (400, 422), (query, response.status_code, response.text)


def test_units_over_http(client: Any, service: Any) -> None:
    _register(service).import_file(FIX / "enheter.json.gz")
    buyer = auth(service.add_user("Buyer", "Bo")["token"])
    got = client.get(f"/api/register/units/{VARIANT}", headers=buyer)
    assert got.status_code == 200 and got.json()["employees"] is None
    assert client.get("/api/register/units/112233445", headers=buyer).status_code == 422
    assert client.get("/api/register/units/976030788", headers=buyer).status_code == 200
    assert client.get("/api/register/units/914778271", headers=buyer).status_code == 404
    found = client.get("/api/register/units?nace=24&county=46", headers=buyer).json()
    assert [u["organisation_number"] for u in found] == [VARIANT]
    assert client.get("/api/register/units?county=4", headers=buyer).status_code == 422
