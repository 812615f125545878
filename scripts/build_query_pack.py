"""Write src/verdikart/prepared/duckdb.arrow: the prepared queries shipped with the package.

python scripts/build_query_pack.py

A query's first run builds its Ibis expression and compiles it to SQL (1-1.5 s for a mapping);
every later run reads the prepared query kept on disk (:mod:`verdikart.sql_cache`). This
script runs the commonly asked questions once, on the bundled data in an empty data folder,
and ships what they prepared, so that a new install, and a year not asked before, start
from prepared queries too:

* ``verdikart map`` for every year of the bundled trade data, with the command's default lists,
  level, basis and threshold: for any country or group (the reporters are a data parameter of
  the queries), and for the allied markets EU27, NATO and EEA (whose position columns leave
  out the group itself);
* ``verdikart geopolrisk`` for every country and group, every material, and every year or
  the latest year.

The pack is keyed by the content of verdikart's code and reference data, and by the Ibis and
sqlglot versions: after a change to either, the pack is not used (nothing is wrong, the first
runs are only slower) until this script is run again. tests/test_query_pack.py fails then.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

PACK = Path(__file__).resolve().parents[1] / "src" / "verdikart" / "prepared" / "duckdb.arrow"


def build(pack: Path = PACK) -> int:
    """Run the questions in an empty data folder and write the pack; the number of queries."""
    from verdikart.app import Verdikart
    from verdikart.chains.mapping import MARKETS, MapRequest, trade_years
    from verdikart.cli.common import country_ids, parse_years, split_values
    from verdikart.config import Settings
    from verdikart.sql_cache import write_shipped_pack

    with tempfile.TemporaryDirectory(prefix="verdikart-pack-") as home:
        # every setting as in a new install (a builder reads the user's groups from the data
        # folder the environment names, and they are part of every key)
        os.environ["VERDIKART_DATA_DIR"] = home
        for name in ("VERDIKART_STORE", "VERDIKART_ENGINE"):
            os.environ.pop(name, None)
        app = Verdikart(Settings(data_dir=Path(home), engine="duckdb"))
        cache = app.store().sql_cache()
        cache.start_shipping()
        every = ("all",)
        for years in ("all", "latest"):
            app.geopolrisk(
                country_ids(every), split_values(every), parse_years(years, default="latest")
            )
        first, last = trade_years(app.engine())
        for year in range(first, last + 1):
            for reporter in ("NOR", *MARKETS):
                app.map(MapRequest(country=reporter, year=year))
            print(f"map {year}: {len(cache.shipping())} queries so far", file=sys.stderr)
        entries = cache.shipping()
        app.close()
    write_shipped_pack(pack, entries)
    return len(entries)


def main() -> None:
    started = time.perf_counter()
    count = build()
    size_kib = PACK.stat().st_size / 1024
    print(
        f"wrote {PACK.name}: {count} prepared queries, {size_kib:,.0f} KiB, "
        f"in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
