"""Build the bundled classification tables of the process-industry statistics (issue 13):
Eurostat's CN 2021 / CN 2022 -> CPA 2.1 correspondences and the labels of CPA 2.1, NACE Rev. 2
and CN 2022 (src/verdikart/bundled/cn_cpa.parquet, classification_labels.parquet).

The Eurostat tables are EUPL and may be bundled with attribution (../shared/data/README.md);
PROVENANCE.md names them. The script reads the publisher's files as published, from a local
copy by default:

    python scripts/build_industry_reference.py                # ../shared/data/correspondences
    python scripts/build_industry_reference.py --dir DIR
    python scripts/build_industry_reference.py --download     # fetches the files (URLs below)

Without internet, --download stops with a message naming the address and the --dir option.
The output is deterministic for the same input files: rows sorted, Parquet zstd-compressed.
It prints each input's sha256 and the share of HS6 codes that map to several CPA codes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "src" / "verdikart" / "bundled"
SHARED = REPO.parent / "shared" / "data" / "correspondences"

EUROSTAT_REPO = "eurostat/correspondenceTables"
EUROSTAT_COMMIT = "c86135f"
# local file name -> path in the publisher's repository (inst/extdata/test/)
FILES = {
    "eurostat_CN2021_CPA21.csv": "CN2021_CPA21.csv",
    "eurostat_CN2022_CPA21.csv": "CN2022_CPA21.csv",
    "eurostat_CN2022.csv": "CN2022.csv",
    "eurostat_CPA21.csv": "CPA21.csv",
    "eurostat_Nace2_long.csv": "Nace2_long.csv",
}
SOURCE = f"Eurostat correspondence tables (via {EUROSTAT_REPO} {EUROSTAT_COMMIT})"
CN_YEARS = {"eurostat_CN2021_CPA21.csv": 2021, "eurostat_CN2022_CPA21.csv": 2022}


def url(name: str) -> str:
    return (
        f"https://raw.githubusercontent.com/{EUROSTAT_REPO}/{EUROSTAT_COMMIT}/"
        f"inst/extdata/test/{FILES[name]}"
    )


def download(dest: Path) -> Path:
    """Fetch the publisher's files into `dest`; a clear message when offline."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        address = url(name)
        try:
            with urllib.request.urlopen(address, timeout=60) as response:
                (dest / name).write_bytes(response.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SystemExit(
                f"cannot download {address}: {reason}. Without internet, pass a local copy of "
                "the Eurostat files with --dir DIR (default ../shared/data/correspondences)"
            ) from exc
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows_of(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    return [
        {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text))
    ]


def build_cn_cpa(folder: Path) -> pa.Table:
    out: list[tuple[int, str, str, str, str]] = []
    for name, year in CN_YEARS.items():
        for number, row in enumerate(rows_of(folder / name), start=2):
            cn8, cpa = row[f"CN {year}"].replace(" ", ""), row["CPA 2.1"]
            if len(cn8) != 8 or not cn8.isdigit() or len(cpa) != 8 or cpa[2] != ".":
                raise SystemExit(f"{folder / name}, line {number}: unexpected row {row}")
            out.append((year, cn8, cn8[:6], cpa, cpa[:5]))
    out.sort()
    cols = list(zip(*out, strict=True))
    return pa.table(
        {
            "cn_year": pa.array(cols[0], pa.int16()),
            "cn8": pa.array(cols[1], pa.string()),
            "hs6": pa.array(cols[2], pa.string()),
            "cpa": pa.array(cols[3], pa.string()),
            "nace": pa.array(cols[4], pa.string()),
            "source": pa.array([SOURCE] * len(out), pa.string()),
        }
    )


def _na(value: str) -> str | None:
    return None if value in ("", "NA") else value


def build_labels(folder: Path) -> pa.Table:
    rows: list[tuple[str, str, int | None, str | None, str, None]] = []
    for row in rows_of(folder / "eurostat_CPA21.csv"):
        code = row["CPA 2.1"]
        level = {2: 2, 4: 3, 5: 4, 7: 5, 8: 6}.get(len(code))
        parent = code[:-1] if len(code) in (4, 7) else code[:-2] if len(code) in (5, 8) else None
        if parent is not None:
            parent = parent.rstrip(".")
        rows.append(("CPA 2.1", code, level, parent, row["Name"], None))
    for row in rows_of(folder / "eurostat_Nace2_long.csv"):
        level = int(row["Level"]) if row["Level"].isdigit() else None
        rows.append(("NACE Rev. 2", row["nace2"], level, _na(row["Parent"]), row["Name"], None))
    for row in rows_of(folder / "eurostat_CN2022.csv"):
        code = row["CN 2022"].replace(" ", "")
        digits = len(code) if code.isdigit() else 0
        level = {2: 2, 4: 4, 6: 6, 8: 8}.get(digits, 1)
        parent = code[: digits - 2] if digits > 2 else None
        rows.append(("CN 2022", code, level, parent, row["SupText"] or row["Name"], None))
    rows.sort(key=lambda r: (r[0], r[1]))
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "scheme": pa.array(cols[0], pa.string()),
            "code": pa.array(cols[1], pa.string()),
            "level": pa.array(cols[2], pa.int16()),
            "parent": pa.array(cols[3], pa.string()),
            "label_en": pa.array(cols[4], pa.string()),
            # Norwegian labels only where SSB's own can be cited (none in these files)
            "label_nb": pa.array(cols[5], pa.string()),
            "source": pa.array([SOURCE] * len(rows), pa.string()),
        }
    )


def multi_cpa_share(table: pa.Table, year: int) -> tuple[int, int]:
    by_hs6: dict[str, set[str]] = {}
    for r in table.to_pylist():
        if r["cn_year"] == year:
            by_hs6.setdefault(r["hs6"], set()).add(r["cpa"])
    return sum(1 for v in by_hs6.values() if len(v) > 1), len(by_hs6)


def write(table: pa.Table, name: str) -> Path:
    path = OUT_DIR / f"{name}.parquet"
    pq.write_table(table, path, compression="zstd")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=SHARED, help="folder of the Eurostat files")
    parser.add_argument("--download", action="store_true", help="fetch the files first")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = download(Path(tmp)) if args.download else args.dir
        missing = [n for n in FILES if not (folder / n).is_file()]
        if missing:
            raise SystemExit(
                f"{folder}: missing {', '.join(missing)}; get them from "
                f"{url(missing[0])} (or run with --download)"
            )
        for name in FILES:
            print(f"{name}: sha256 {sha256(folder / name)}")
        cn_cpa = build_cn_cpa(folder)
        labels = build_labels(folder)
    for year in CN_YEARS.values():
        multi, total = multi_cpa_share(cn_cpa, year)
        print(
            f"CN {year}: {multi} of {total} HS6 codes map to several CPA codes ({multi / total:.1%})"
        )
    print(f"{write(cn_cpa, 'cn_cpa')}: {cn_cpa.num_rows} rows")
    print(f"{write(labels, 'classification_labels')}: {labels.num_rows} rows")


if __name__ == "__main__":
    main()
