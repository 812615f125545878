"""Write src/verdikart/reference/data/hs2022_subheadings.txt: every HS 2022 six-digit code.

Read from Eurostat's Combined Nomenclature 2022 (CN 2022; its eight-digit codes begin with the
HS 2022 subheading), as published in Eurostat's R package "correspondenceTables" 1.0.2
(inst/extdata/test/CN2022.csv; EUPL). The value-chain loader (verdikart.chains.model) rejects
an HS code that is not in this list (nor a documented older-revision code of materials.toml).

    python scripts/make_hs_codes.py [PATH/TO/eurostat_CN2022.csv]

Default input: ../shared/data/correspondences/eurostat_CN2022.csv beside the checkout.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "correspondences" / "eurostat_CN2022.csv"
OUT = ROOT / "src" / "verdikart" / "reference" / "data" / "hs2022_subheadings.txt"
HEADER = """\
# HS 2022 subheadings (six-digit codes), one a line: {n} codes.
# Source: Eurostat, Combined Nomenclature 2022 (CN 2022), the first six digits of its eight-digit
# codes; file CN2022.csv of Eurostat's R package "correspondenceTables" 1.0.2 (EUPL).
# Written by scripts/make_hs_codes.py; do not edit by hand.
"""


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    codes: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            code = (row.get("CN 2022") or "").strip()
            if len(code) == 8 and code.isdigit():
                codes.add(code[:6])
    if len(codes) < 5000:
        raise SystemExit(f"{path}: only {len(codes)} HS6 codes; not the CN 2022 table?")
    OUT.write_text(HEADER.format(n=len(codes)) + "\n".join(sorted(codes)) + "\n", encoding="utf-8")
    print(f"wrote {len(codes)} codes to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
