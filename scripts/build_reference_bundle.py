"""Build the bundled reference tables: the EU CRM 2023 assessment inputs and Norway's EU ETS
installations with their verified emissions (src/verdikart/bundled/*.parquet).

Both are redistributable with attribution (../shared/data/README.md; PROVENANCE.md names
them). The script reads the publishers' files as published, from a local copy by default:

    python scripts/build_reference_bundle.py                 # ../shared/data/eu_crm_2023_inputs
                                                             # and ../shared/data/eu_ets
    python scripts/build_reference_bundle.py --eu-crm DIR --eu-ets DIR
    python scripts/build_reference_bundle.py --download      # fetches the files (URLs below)

The EU tables are parsed by verdikart's own reader (verdikart.sources.eu_crm), so a bundled
row is exactly what `verdikart data import eu-crm DIR` stores, with a bundled source label.
The output is deterministic for the same input files: rows sorted, Parquet zstd-compressed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "src" / "verdikart" / "bundled"
SHARED = REPO.parent / "shared" / "data"

EU_CRM_YEAR = 2023
EU_CRM_REPO = "erikemilsson/EU-Critical-Raw-Materials-CRM-Reports-Datasets"
EU_CRM_COMMIT = "59383504ead25f91fe9c197a1e660f4813684f17"
EU_CRM_FILES = (
    "fact_GlobalSupplyShares&t.csv",
    "fact_EUSupplyShares&t.csv",
    "fact_MaterialUseShares.csv",
    "dimension_ScreenedMatGroupings.csv",
)
EU_CRM_SOURCE = f"EU CRM study {EU_CRM_YEAR} inputs (via {EU_CRM_REPO} {EU_CRM_COMMIT[:7]})"

ETS_REPO = "Hank-Behaeghel/EU_Emissions_Task"
ETS_COMMIT = "f0d85120cbca3f1ff4facb2ac97ca17efb1c6d95"
ETS_FILES = ("installation.csv", "compliance.csv")
ETS_SOURCE = f"EU ETS EUTL installations and compliance 2013-2020 (via {ETS_REPO} {ETS_COMMIT[:7]})"
ETS_COUNTRIES = ("NO",)  # EUTL country codes bundled (the README allows Norway's only)
ETS_MISSING = {"", "-"}  # the extract's marker for an unknown name, address or postal code

_TYPES = {"SMALLINT": pa.int16(), "VARCHAR": pa.string(), "DOUBLE": pa.float64()}


def raw_url(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{urllib.parse.quote(path)}"


def eu_crm_urls() -> dict[str, str]:
    return {name: raw_url(EU_CRM_REPO, EU_CRM_COMMIT, f"Data/{name}") for name in EU_CRM_FILES}


def ets_urls() -> dict[str, str]:
    return {name: raw_url(ETS_REPO, ETS_COMMIT, name) for name in ETS_FILES}


def download(urls: dict[str, str], dest: Path, option: str) -> Path:
    """Fetch the publisher's files into `dest`; a clear message when offline."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, url in urls.items():
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                (dest / name).write_bytes(response.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SystemExit(
                f"cannot download {url}: {reason}. Without internet, pass a local copy of the "
                f"publisher's files with {option} DIR"
            ) from exc
    return dest


def check_dir(path: Path, files: tuple[str, ...], option: str, urls: dict[str, str]) -> None:
    missing = [name for name in files if not (path / name).is_file()]
    if missing:
        listing = "\n  ".join(urls[name] for name in missing)
        raise SystemExit(
            f"{path}: missing {', '.join(missing)}. Pass the folder with {option} DIR, or "
            f"--download to fetch them from:\n  {listing}"
        )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_of(rows: list[dict[str, Any]], spec: Any, order: list[str]) -> pa.Table:
    schema = pa.schema([(name, _TYPES[kind]) for name, kind in spec.columns])
    table = pa.Table.from_pylist(rows, schema=schema)
    return table.sort_by([(c, "ascending") for c in order])


# -- EU CRM 2023 --------------------------------------------------------------------------
def build_eu_crm(folder: Path) -> dict[str, pa.Table]:
    """The four published tables through verdikart's reader: supply shares (global and EU
    sourcing), end uses, screened-material groupings."""
    from verdikart.schema import EU_END_USES, EU_MATERIAL_GROUPS, EU_SUPPLY_SHARES
    from verdikart.sources.eu_crm import parse, parse_groupings, resolve_country_names
    from verdikart.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        # only the four published files (a local eu_parameters.csv is verdikart's own layout,
        # not a publisher's file, and is not bundled)
        for name in EU_CRM_FILES:
            (Path(tmp) / name).write_bytes((folder / name).read_bytes())
        parsed = parse(Path(tmp), year=EU_CRM_YEAR, source=EU_CRM_SOURCE)
        groups = parse_groupings(
            Path(tmp) / "dimension_ScreenedMatGroupings.csv",
            year=EU_CRM_YEAR,
            source=EU_CRM_SOURCE,
        )
    with Store.open(None) as store:  # bundled BACI country names: the reader's last resort
        names = resolve_country_names(store, (r["country_name"] for r in parsed.supply))
    unmapped = sorted({n for n, code in names.items() if code is None})
    if unmapped:
        raise SystemExit(f"EU supply shares: country names without ISO3: {unmapped}")
    for row in parsed.supply:
        row["country"] = names[row["country_name"]]
    return {
        "eu_supply_shares": table_of(
            parsed.supply, EU_SUPPLY_SHARES, ["scope", "material", "stage", "country"]
        ),
        "eu_end_uses": table_of(parsed.end_uses, EU_END_USES, ["material", "application", "nace2"]),
        "eu_material_groups": table_of(
            groups, EU_MATERIAL_GROUPS, ["material", "grouping", "material_group"]
        ),
    }


# -- EU ETS, Norwegian installations ------------------------------------------------------
def _read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _text(value: str | None) -> str | None:
    stripped = (value or "").strip()
    return None if stripped in ETS_MISSING else stripped


def _number(value: str | None, where: str) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise SystemExit(f"{where}: not a number: {value!r}") from exc


def build_ets(folder: Path, countries: tuple[str, ...] = ETS_COUNTRIES) -> dict[str, pa.Table]:
    """Installations of `countries` (EUTL codes) and their yearly compliance rows."""
    from verdikart.reference.countries import resolve_country
    from verdikart.schema import EU_ETS_EMISSIONS, EU_ETS_INSTALLATIONS

    iso3 = {code: resolve_country(code).id for code in countries}
    installations: list[dict[str, Any]] = []
    for line, row in enumerate(_read_csv(folder / "installation.csv"), start=2):
        if row["country_id"] not in iso3:
            continue
        where = f"installation.csv line {line}"
        installations.append(
            {
                "installation_id": row["id"].strip(),
                "country": iso3[row["country_id"]],
                "name": _text(row["name"]),
                "address": _text(row["addressmain"]),
                "postal_code": _text(row["postalcode"]),
                "city": _text(row["city"]),
                "lat": _number(row["latitudegoogle"], f"{where} latitudegoogle"),
                "lon": _number(row["longitudegoogle"], f"{where} longitudegoogle"),
                "source": ETS_SOURCE,
            }
        )
    ids = {r["installation_id"]: r["country"] for r in installations}
    if len(ids) != len(installations):
        raise SystemExit("installation.csv: an installation id occurs twice")
    emissions: list[dict[str, Any]] = []
    for line, row in enumerate(_read_csv(folder / "compliance.csv"), start=2):
        iid = row["installation_id"].strip()
        if iid.split("_", 1)[0] not in iso3:
            continue
        where = f"compliance.csv line {line}"
        if iid not in ids:
            raise SystemExit(f"{where}: installation {iid} is not in installation.csv")
        emissions.append(
            {
                "installation_id": iid,
                "country": ids[iid],
                "year": int(row["year"]),
                "verified_emissions_t_co2e": _number(row["emission"], f"{where} emission"),
                "free_allocation_t_co2e": _number(row["free"], f"{where} free"),
                "source": ETS_SOURCE,
            }
        )
    return {
        "eu_ets_installations": table_of(installations, EU_ETS_INSTALLATIONS, ["installation_id"]),
        "eu_ets_emissions": table_of(emissions, EU_ETS_EMISSIONS, ["installation_id", "year"]),
    }


def write(table: pa.Table, name: str) -> Path:
    path = OUT_DIR / f"{name}.parquet"
    pq.write_table(table, path, compression="zstd", compression_level=19)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--eu-crm",
        type=Path,
        default=SHARED / "eu_crm_2023_inputs",
        help="folder with the four EU CRM 2023 CSV files (default: %(default)s)",
    )
    parser.add_argument(
        "--eu-ets",
        type=Path,
        default=SHARED / "eu_ets",
        help="folder with installation.csv and compliance.csv (default: %(default)s)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch the publishers' files from GitHub (pinned commits) instead",
    )
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.download:
            eu_dir = download(eu_crm_urls(), Path(tmp) / "eu_crm", "--eu-crm")
            ets_dir = download(ets_urls(), Path(tmp) / "eu_ets", "--eu-ets")
        else:
            eu_dir, ets_dir = args.eu_crm, args.eu_ets
        check_dir(eu_dir, EU_CRM_FILES, "--eu-crm", eu_crm_urls())
        check_dir(ets_dir, ETS_FILES, "--eu-ets", ets_urls())
        for folder, files in ((eu_dir, EU_CRM_FILES), (ets_dir, ETS_FILES)):
            for name in files:
                print(f"{name}: sha256={sha256(folder / name)}")
        outputs = {**build_eu_crm(eu_dir), **build_ets(ets_dir)}
    for name, table in outputs.items():
        path = write(table, name)
        print(f"{path.name}: {table.num_rows:,} rows, {path.stat().st_size / 1e3:.1f} kB")


if __name__ == "__main__":
    main()
