"""Source readers: one module per official file format, each importing into the store.

The registry maps a source id to a reader ``(store, path, **options) -> ImportReport``; every
reader imports through `Store.import_rows`, so an import is all-or-nothing. Readers are
imported lazily (nothing heavy at import time). A new reader (e.g. ``eu-crm``) is one more
`ReaderInfo` in `_builtin()`; there is no mutable registry.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verdikart.errors import UnknownCodeError

if TYPE_CHECKING:
    from verdikart.sources._common import ImportReport

__all__ = [
    "ImportReport",
    "ReaderInfo",
    "download_options",
    "get_reader",
    "reader_options",
    "readers",
    "run_download",
    "run_import",
]

# Display only (a progress callback): passed to the readers that report progress, dropped for
# the others; it never changes what is imported.
PROGRESS = "progress"


@dataclass(frozen=True)
class ReaderInfo:
    """A source id, where its reader and downloader live, and what it accepts."""

    source_id: str
    module: str
    function: str
    table: str
    accepts: str
    url: str
    options: tuple[str, ...] = ()
    downloader: str | None = None

    def load(self) -> Callable[..., ImportReport]:
        return getattr(importlib.import_module(self.module), self.function)


def _builtin() -> dict[str, ReaderInfo]:
    base = "verdikart.sources."
    infos = [
        ReaderInfo(
            "baci",
            base + "baci",
            "import_baci",
            "trade",
            "CEPII BACI yearly CSV (t,i,j,k,v,q) of any HS revision, plain, a directory of "
            "them, or the official zip BACI_HSxx_Vyyyy.zip",
            "https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS92_V202401b.zip",
            ("hs_revision", "year", "allow_unmapped"),
            "download_baci",
        ),
        ReaderInfo(
            "ssb",
            base + "ssb",
            "import_ssb_csv",
            "ssb_trade",
            "SSB external trade bulk CSV (semicolon; aargang;impeks;varenr;obland;...; CN8, NOK)",
            "https://www.ssb.no/en/utenriksokonomi/utenrikshandel/statistikk/utenrikshandel-med-varer",
            ("year", "allow_unmapped"),
        ),
        ReaderInfo(
            "ssb-jsonstat",
            base + "ssb",
            "import_ssb_jsonstat",
            "ssb_trade",
            "SSB StatBank JSON-stat2 response for table 08801 (Varekoder, ImpEks, Land, "
            "ContentsCode, Tid)",
            "https://data.ssb.no/api/v0/no/table/08801",
            ("allow_unmapped",),
            "download_ssb_08801",
        ),
        ReaderInfo(
            "ssb-statbank",
            base + "ssb_statbank",
            "import_ssb_statbank",
            "ssb_statbank",
            "SSB StatBank JSON-stat2 response of the process-industry statistics: 11561 energy "
            "balance, 14091 monthly electricity balance, emissions (09288) or employment "
            "(13126) by industry; --table names it when the response does not",
            "https://data.ssb.no/api/v0/no/table/11561",
            ("table",),
        ),
        ReaderInfo(
            "comtrade",
            base + "comtrade",
            "import_comtrade",
            "trade",
            "UN Comtrade CSV (bulk or API download; typeCode, freqCode, refYear, reporterISO, "
            "flowCode, partnerISO, cmdCode, netWgt, primaryValue, ...)",
            "https://comtradeapi.un.org/data/v1/get/C/A/HS",
            ("hs_revision", "allow_unmapped"),
            "download_comtrade",
        ),
        ReaderInfo(
            "wgi",
            base + "wgi",
            "import_wgi",
            "governance",
            "World Bank WGI dataset, long CSV (codeindyr,code,countryname,year,indicator,"
            "estimate,stddev,nsource,pctrank,pctranklower,pctrankupper)",
            "https://www.worldbank.org/content/dam/sites/govindicators/doc/wgidataset.xlsx",
            ("allow_unmapped",),
            "download_wgi",
        ),
        ReaderInfo(
            "wmd",
            base + "wmd",
            "import_wmd",
            "production",
            "World Mining Data XLSX 6.4 Production_of_Mineral_Raw_Materials_of_individual_"
            "Countries_by_Minerals.xlsx (one sheet per commodity)",
            "https://www.world-mining-data.info/wmd/downloads/XLS/6.4. Production_of_Mineral_Raw_Materials_of_individual_Countries_by_Minerals.xlsx",
            ("allow_unmapped",),
            "download_wmd",
        ),
        ReaderInfo(
            "usgs",
            base + "usgs",
            "import_usgs",
            "production",
            "USGS Mineral Commodity Summaries data release: a directory (or zip) of "
            "mcsYYYY-*_world.csv and mcsYYYY-*_salient.csv files, or one such CSV",
            "https://www.sciencebase.gov/catalog/item/65a6e45fd34e5af967a46749",
            ("allow_unmapped",),
        ),
        ReaderInfo(
            "eu-crm",
            base + "eu_crm",
            "import_eu_crm",
            "eu_supply_shares",
            "EU CRM assessment 2023 input tables: fact_GlobalSupplyShares&t.csv / "
            "fact_EUSupplyShares&t.csv (Material,Stage,Country,Share,t), "
            "fact_MaterialUseShares.csv (Material,Application,Share,NACE sector,VA), "
            "dimension_ScreenedMatGroupings.csv (screened_material,perm_...), "
            "eu_parameters.csv (material,stage,ir,eol_rir,si_sr,si_ei); a directory or one file",
            "https://github.com/erikemilsson/EU-Critical-Raw-Materials-CRM-Reports-Datasets",
            ("year", "source", "scope"),
        ),
        ReaderInfo(
            "parquet",
            base + "parquet",
            "import_parquet",
            "(--table)",
            "A Parquet file in a store table's own layout (as `verdikart data export` writes); "
            "the table from --table or the file name (trade.parquet)",
            "",
            ("table",),
        ),
    ]
    return {info.source_id: info for info in infos}


def readers() -> dict[str, ReaderInfo]:
    """Every known source id -> its ReaderInfo."""
    return _builtin()


def get_reader(source_id: str) -> ReaderInfo:
    known = readers()
    info = known.get(source_id)
    if info is None:
        raise UnknownCodeError(f"unknown source {source_id!r}; known: {', '.join(sorted(known))}")
    return info


def _keyword_options(fn: Callable[..., object]) -> tuple[str, ...]:
    """The keyword-only parameters of a reader or downloader: the options it takes (a
    trailing ``**_`` catch-all does not count)."""
    return tuple(
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def reader_options(source_id: str) -> tuple[str, ...]:
    """The options the reader of `source_id` takes (from its signature; `progress` aside)."""
    return tuple(o for o in _keyword_options(get_reader(source_id).load()) if o != PROGRESS)


def download_options(source_id: str) -> tuple[str, ...]:
    """The options the downloader of `source_id` takes (from its signature)."""
    return _keyword_options(_downloader(get_reader(source_id)))


def _checked(what: str, given: Mapping[str, Any], takes: tuple[str, ...]) -> dict[str, Any]:
    """The options `given`, refused with UnknownCodeError naming the option and the ones
    `what` takes when one is not taken. None or False count as not given (what a front end
    passes for a flag the user did not set), and are dropped."""
    unknown = [k for k, v in given.items() if k not in takes and v is not None and v is not False]
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        options = ", ".join(o for o in takes if o != PROGRESS) or "none"
        raise UnknownCodeError(f"{what} does not take option {names}; its options: {options}")
    return {k: v for k, v in given.items() if k in takes}


def run_import(store: Any, source_id: str, path: Path | str, **options: Any) -> ImportReport:
    """Import `path` with the reader of `source_id`.

    An option the reader does not take (`reader_options`) is an UnknownCodeError naming it
    and the reader's options, never silently ignored; `progress` (a display callback) is
    passed only to readers that report progress."""
    reader = get_reader(source_id).load()
    takes = _keyword_options(reader)
    given = {k: v for k, v in options.items() if k != PROGRESS or PROGRESS in takes}
    return reader(store, Path(path), **_checked(f"the {source_id!r} reader", given, takes))


def _downloader(info: ReaderInfo) -> Callable[..., Path]:
    if info.downloader is None:
        where = f"get it from {info.url}" if info.url else "it is a local file format"
        raise UnknownCodeError(f"source {info.source_id!r} has no automatic download; {where}")
    fn: Callable[..., Path] = getattr(importlib.import_module(info.module), info.downloader)
    return fn


def run_download(source_id: str, dest_dir: Path, **options: Any) -> Path:
    """Download the source's official file into `dest_dir` (OfflineError without network).

    An option the downloader does not take (`download_options`) is an UnknownCodeError naming
    it and the downloader's options."""
    fn = _downloader(get_reader(source_id))
    checked = _checked(f"the {source_id!r} download", options, _keyword_options(fn))
    return fn(dest_dir, **checked)


def __getattr__(name: str) -> Any:
    # ImportReport lives with the DuckDB-using helpers; import them only when asked (the CLI
    # imports this package at start-up to list source ids).
    if name == "ImportReport":
        from verdikart.sources._common import ImportReport

        return ImportReport
    raise AttributeError(name)
