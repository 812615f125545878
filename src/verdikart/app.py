"""The application core: one object, ``Verdikart(settings)``, the front door for every face.

It owns the analytic store and engine (DuckDB by default, Spark when the settings say so) and
the materialbørs service, and offers one typed use-case function per question a user can ask:
data status, import and export; GeoPolRisk; production shares and HHI; the EU criticality
method; where a country supplies, by value-chain stage; the mapping report; a company's
sourcing assessment; the process-industry statistics (exports by industry, energy,
emissions, employment, the yearly report); the materialbørs potential; the material and
country views. The CLI (:mod:`verdikart.cli`) and the web app (:mod:`verdikart.web`) parse, call one of these, and
print or render: they never run SQL.

Resources open lazily on first use (``verdikart --version`` stays fast). A web request uses
:meth:`Verdikart.reader`: its own DuckDB cursor over the same store, shared exchange service.
Countries, groups and years are resolved once per request, here or in the use case, and handed
down as resolved values.

The analytic use cases' results are kept in the core's :class:`~verdikart.result_cache.ResultCache`
(shared with its readers) under their arguments and :meth:`Verdikart.data_version` (the engine
and the store's import log): pure functions of both, they are computed once per data version.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from verdikart.config import Settings
from verdikart.result_cache import ResultCache

if TYPE_CHECKING:
    import pyarrow as pa

    from verdikart.chains.mapping import MapRequest, MapResult
    from verdikart.chains.view import ChainIndicators
    from verdikart.engine import Engine
    from verdikart.exchange.auth import Principal
    from verdikart.exchange.critical import ImportsT
    from verdikart.exchange.service import ExchangeService
    from verdikart.indicators.industry import IndustryTrade
    from verdikart.reference.countries import CountryRef
    from verdikart.reference.inputs import YearSpec
    from verdikart.register.service import RegisterService
    from verdikart.scenarios.run import ScenarioResult
    from verdikart.sources._common import ImportReport
    from verdikart.store import Store

Progress = Callable[[str], None]
T = TypeVar("T")
# a web request's data version is read from the store's import log again after any write
# through the core, else at most this often (seconds)
VERSION_RECHECK_S = 1.0


class Verdikart:
    """verdikart's core: settings, the analytic store and engine, the exchange service."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        exchange: ExchangeService | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._store = store
        self._engine: Engine | None = None
        self._exchange = exchange
        self._owns_exchange = exchange is None
        self._parent: Verdikart | None = None  # a per-request reader's app (shares its exchange)
        # analytic results by (data version, use case, arguments); a reader shares its app's
        self._results = ResultCache()
        self._version: Hashable | None = None  # a reader's data version, read once
        # the app's own cursor for its readers' data versions (store.reader(), made once), the
        # version it last read, when, and the number of writes made through the core then
        self._version_reader: Store | None = None
        self._version_lock = threading.Lock()
        self._shared_version: tuple[Hashable, float, int] | None = None
        self._writes = 0

    # -- resources ------------------------------------------------------------------------
    def store(self) -> Store:
        """The analytic store (DuckDB file or in-memory bundled data), opened once; a reader's
        own cursor over its app's store, made on first need (a request answered from the kept
        results needs none)."""
        if self._store is None and self._parent is not None:
            self._store = self._parent.store().reader()
        if self._store is None:
            from verdikart.store import Store

            self._store = Store.open(self.settings.store_path)
        return self._store

    def engine(self) -> Engine:
        """The analytic engine the settings name (``engine``: duckdb | spark), opened once."""
        if self._engine is None:
            if self.settings.engine == "duckdb":
                self._engine = self.store().engine()
            else:
                from verdikart.engine import open_engine

                self._engine = open_engine(
                    self.settings.engine,
                    spark_master=self.settings.spark_master,
                    spark_data=self.settings.spark_data,
                )
        return self._engine

    def exchange(self) -> ExchangeService:
        """The materialbørs service (SQLite by default, PostgreSQL when db_url is set)."""
        if self._parent is not None:
            return self._parent.exchange()
        if self._exchange is None:
            from verdikart.exchange.service import ExchangeService

            self._exchange = ExchangeService(self.settings.database_url)
            self._owns_exchange = True
        return self._exchange

    def register(self) -> RegisterService:
        """The supplier register (Enhetsregisteret units, capability profiles) on the
        exchange's database."""
        from verdikart.register.service import RegisterService

        return RegisterService(self.exchange())

    def reader(self) -> Verdikart:
        """A per-request core: its own DuckDB cursor over this store (its own views, safe beside
        other threads' cursors; made when first needed); the exchange service, the kept results
        and a Spark engine are shared. Close it after the request (closes the cursor only)."""
        core = Verdikart(self.settings, exchange=None)
        core._owns_exchange = False
        core._parent = self
        core._results = self._results
        if self.settings.engine != "duckdb":
            core._engine = self.engine()
        return core

    def close(self) -> None:
        if self._parent is None:  # a reader leaves its app's results in place
            self._results.clear()
        with self._version_lock:
            if self._version_reader is not None:
                self._version_reader.close()
                self._version_reader = None
        if self._store is not None:
            self._store.close()
            self._store = None
            self._engine = None
        if self._owns_exchange and self._exchange is not None:
            self._exchange.close()
            self._exchange = None

    def __enter__(self) -> Verdikart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- kept results ---------------------------------------------------------------------
    def data_version(self) -> Hashable:
        """What the analytic results depend on besides their arguments: the engine and the
        data it reads. DuckDB: the store's file and its import log (every write to the store
        is an import the log records: `data import`, a company file saved, a correction), so
        an import gives a new version. Spark: the engine's settings (it lists the layout's
        files once, when it first reads a table, and reads those for its life)."""
        if self.settings.engine != "duckdb":
            return (self.settings.engine, self.settings.spark_master, self.settings.spark_data)
        if self._parent is None:
            store = self.store()
            return _log_version(store.path, store.imports())
        if self._version is None:  # once per request; a write through the reader forgets it
            self._version = self._parent._readers_version()
        return self._version

    def _readers_version(self) -> Hashable:
        """The data version for a reader, read on this app's own cursor (no views made per
        request; a new cursor when the store changed connection: its file made by the first
        import). Read again after any write through this core or its readers, else at most
        every VERSION_RECHECK_S (the log's two catalogue queries cost several ms a request;
        the recheck catches a write made around the core, straight into its store)."""
        store = self.store()
        now = time.monotonic()
        with self._version_lock:
            shared = self._shared_version
            kept = self._version_reader
            if (
                shared is not None
                and kept is not None
                and kept.path == store.path
                and shared[2] == self._writes
                and now - shared[1] < VERSION_RECHECK_S
            ):
                return shared[0]
            if kept is None or kept.path != store.path:
                if kept is not None:
                    kept.close()
                kept = self._version_reader = store.reader()
            version = _log_version(store.path, kept.imports())
            self._shared_version = (version, now, self._writes)
            return version

    def _forget(self) -> None:
        """After a write: the data version is read again (the import log names the new one)
        and the kept results, of no more use, are freed at once."""
        self._version = None
        app = self._parent or self
        with app._version_lock:
            app._writes += 1
            app._shared_version = None
        self._results.clear()

    def _kept(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """A use case's result from the kept results (shared with this core's readers), or
        `compute`d and kept under `key` and the data version."""
        return self._results.get((self.data_version(), *key), compute)

    def cache_stats(self) -> dict[str, int]:
        """The kept results: entries, hits and misses (for benchmarks and tests)."""
        return {
            "entries": len(self._results),
            "hits": self._results.hits,
            "misses": self._results.misses,
        }

    # -- data -----------------------------------------------------------------------------
    def data_status(self) -> list[dict[str, Any]]:
        """Per table and source: rows, years, countries, origin and provenance."""
        return self.store().status()

    def data_import(
        self, source: str, path: Path, progress: Any = None, **options: Any
    ) -> ImportReport:
        """Import an official file into the store (atomic; supersedes the same coverage)."""
        from verdikart.sources import run_import

        if progress is not None:
            options["progress"] = progress
        try:
            return run_import(self.store(), source, path, **options)
        finally:
            self._forget()

    def data_export(self, table: str, path: Path) -> int:
        """One logical table (bundled + imported rows) to a Parquet file; rows written."""
        return self.store().export_table(table, path)

    def data_export_layout(
        self, root: Path, progress: Callable[[str, int], None] | None = None
    ) -> dict[str, int]:
        """Every table to the partitioned Parquet layout the Spark engine reads."""
        return self.store().export_layout(root, progress)

    # -- indicators -----------------------------------------------------------------------
    def geopolrisk(
        self,
        countries: Sequence[str] | None,
        materials: Sequence[str] | None,
        years: Sequence[int] | YearSpec | None,
        *,
        source: str | None = None,
    ) -> pa.Table:
        """GeoPolRisk score and CF per country or group, material and year (None = all).

        Materials by any name the reference knows (`kobolt`); years as a list or a
        :class:`~verdikart.reference.inputs.YearSpec` (`latest` = the last year with trade
        and production data)."""
        from verdikart.indicators.geopolrisk import available_years, geopolrisk
        from verdikart.reference.inputs import YearSpec, material_ids

        def compute() -> pa.Table:
            engine = self.engine()
            yrs = years
            if isinstance(yrs, YearSpec):
                yrs = yrs.resolve(available_years(engine), what="trade and production data")
            return geopolrisk(
                engine,
                None if countries is None else list(countries),
                None if materials is None else material_ids(list(materials)),
                None if yrs is None else list(yrs),
                source=source,
            )

        key = ("geopolrisk", _frozen(countries), _frozen(materials), _frozen(years), source)
        return self._kept(key, compute)

    def geopolrisk_years(self) -> list[int]:
        """Years GeoPolRisk can be computed for (trade and production data)."""
        from verdikart.indicators.geopolrisk import available_years

        return self._kept(("geopolrisk_years",), lambda: available_years(self.engine()))

    def production(
        self,
        materials: Sequence[str] | None,
        years: Sequence[int] | YearSpec | None,
        *,
        countries: Sequence[str] = (),
        source: str | None = None,
    ) -> pa.Table:
        """Producer shares (or the countries' own production and share) with the HHI.

        Materials by any name the reference knows; years a list or a YearSpec (`latest` =
        the last year with production data)."""
        from verdikart.indicators.production import (
            known_years,
            own_production,
            producer_shares,
            production_hhi,
        )
        from verdikart.reference.inputs import YearSpec, material_ids

        def compute() -> pa.Table:
            engine = self.engine()
            spec = years
            if isinstance(spec, YearSpec):
                spec = spec.resolve(known_years(engine), what="production data")
            mats = None if materials is None else material_ids(list(materials))
            yrs = None if spec is None else list(spec)
            hhi = production_hhi(engine, mats, yrs, source=source).select(
                ["material", "year", "stage", "n_producers", "hhi", "hhi_points"]
            )
            if countries:
                table = own_production(engine, list(countries), mats, yrs, source=source)
                last = "country"
            else:
                table = producer_shares(engine, mats, yrs, source=source)
                last = "rank"
            joined = table.join(hhi, keys=["material", "year", "stage"], join_type="left outer")
            return joined.sort_by(
                [("material", "ascending"), ("year", "ascending"), (last, "ascending")]
            )

        key = ("production", _frozen(materials), _frozen(years), _frozen(countries), source)
        return self._kept(key, compute)

    def criticality(
        self,
        *,
        year: int,
        materials: Sequence[str] | None,
        perspective: str,
        wgi_year: int | None = None,
        trade_years: tuple[int, int] | None = None,
    ) -> pa.Table:
        """The EU criticality method (SR per stage and max, EI, critical) for a perspective."""
        from verdikart.indicators.eu_method import eu_criticality

        def compute() -> pa.Table:
            return eu_criticality(
                self.engine(),
                year=year,
                materials=None if materials is None else self._eu_material_ids(materials),
                perspective=perspective,
                wgi_year=wgi_year,
                trade_years=trade_years,
                production_years=trade_years,
            )

        key = ("criticality", year, _frozen(materials), perspective, wgi_year, trade_years)
        return self._kept(key, compute)

    def _eu_material_ids(self, materials: Sequence[str]) -> list[str]:
        """The EU assessment's own material ids ('hree', 'titanium-metal', 'Natural
        Graphite' -> graphite) first, then any name the reference knows (`kobolt`)."""
        from verdikart.reference.inputs import material_id
        from verdikart.sources.eu_crm import material_slug

        rel = self.engine().relations()
        es = rel["eu_supply_shares"]
        eu = {str(r["material"]) for r in self.engine().rows(es.select("material").distinct())}
        out = [material_slug(m) if material_slug(m) in eu else material_id(m) for m in materials]
        return list(dict.fromkeys(out))

    def supplier_position(
        self, country: str, *, year: int | None = None, eu_year: int = 2023
    ) -> pa.Table:
        """Where a country (any code or name; a group's members summed) supplies, by material
        and stage (E/P): its share of EU sourcing, of world production and of world exports
        where the trade data hold the stage's whole code set, ranked, with sources."""
        from verdikart.indicators.stage_position import stage_position

        return self._kept(
            ("supplier_position", country, year, eu_year),
            lambda: stage_position(self.engine(), country, year=year, eu_year=eu_year),
        )

    def map(self, request: MapRequest, progress: Progress | None = None) -> MapResult:
        """The mapping of seed 003's seven steps for one reporter and year (kept: `progress`
        hears the steps only when the mapping is computed)."""
        from verdikart.chains.mapping import run_mapping

        return self._kept(
            ("map", request), lambda: run_mapping(self.engine(), request, progress=progress)
        )

    def company_assess(
        self,
        path: Path,
        *,
        year: int | None = None,
        threshold: float | None = None,
        save: bool = False,
        nok_per_usd: float | None = None,
        nok_per_eur: float | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A company's purchases file assessed (concentration, country risk); read locally.

        Returns the rows and, with ``save``, the number of purchase rows saved to the store.
        ``nok_per_usd`` / ``nok_per_eur``: the annual average for a year the bundled Norges
        Bank table does not hold.
        """
        from verdikart.indicators.company import assess_company, read_purchases, save_purchases
        from verdikart.relations import SINGLE_SUPPLIER_THRESHOLD

        purchases = read_purchases(path, nok_per_usd=nok_per_usd, nok_per_eur=nok_per_eur)
        rows = assess_company(
            self.engine(),
            purchases,
            year=year,
            threshold=SINGLE_SUPPLIER_THRESHOLD if threshold is None else threshold,
        )
        saved = None
        if save:
            saved = save_purchases(self.store(), purchases, source=f"company file {path.name}")
            self._forget()
        return rows, saved

    # -- value chains -----------------------------------------------------------------------
    def chain_show(
        self,
        material: str,
        *,
        country: str = "NOR",
        year: int | None = None,
        stage: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """A material's value chain (stages, HS codes, sectors, Norwegian plants) with the
        world production concentration and the country's imports by supplier on each stage
        (the stable JSON of `chain show`; :mod:`verdikart.chains.view`). `material` is a chain
        id or any material name; `stage` keeps one stage. Unknown names raise
        UnknownCodeError with suggestions."""
        from verdikart.chains.model import find_chain
        from verdikart.chains.view import chain_view
        from verdikart.reference.countries import resolve_country

        chain, material_id = find_chain(material)
        ref = resolve_country(country)
        lang = language or self.settings.language
        return self._kept(
            ("chain_show", chain.id, material_id, ref.id, year, stage, lang),
            lambda: chain_view(
                self.engine(),
                chain,
                material=material_id,
                country=ref,
                year=year,
                stage=stage,
                language=lang,
                indicators=self._chain_indicators(ref, year),
            ),
        )

    def chain_views(
        self, country: str = "NOR", *, year: int | None = None, language: str | None = None
    ) -> list[dict[str, Any]]:
        """The views of `chain_show` for the chains relevant to a country: every chain for
        Norway (each has Norwegian plants); for another country or group the chains with a
        stage where it holds a share of EU sourcing, world production or world exports."""
        from verdikart.chains.model import load_chains
        from verdikart.chains.view import chain_view
        from verdikart.reference.countries import resolve_country

        ref = resolve_country(country)
        lang = language or self.settings.language

        def compute() -> list[dict[str, Any]]:
            indicators = self._chain_indicators(ref, year)
            return [
                chain_view(
                    self.engine(),
                    chain,
                    material=None,
                    country=ref,
                    year=year,
                    language=lang,
                    indicators=indicators,
                )
                for chain in load_chains().values()
            ]

        views = self._kept(("chain_views", ref.id, year, lang), compute)
        keys = ("share_of_eu_sourcing", "share_of_world_production", "share_of_world_exports")
        return [
            v
            for v in views
            if v["plants"] or any((s["position"] or {}).get(k) for s in v["stages"] for k in keys)
        ]

    def _chain_indicators(self, country: CountryRef, year: int | None) -> ChainIndicators:
        """The indicators of every chain for a country and year (three queries), kept per
        data version."""
        from verdikart.chains.view import chain_indicators

        return self._kept(
            ("chain_indicators", country.id, year),
            lambda: chain_indicators(self.engine(), country, year),
        )

    # -- scenarios and watch ----------------------------------------------------------------
    def scenario(
        self,
        *,
        file: str | Path | None = None,
        shocks: Sequence[str] = (),
        year: int | None = None,
        importers: Sequence[str] | None = None,
        basis: str | None = None,
        language: str | None = None,
        progress: Progress | None = None,
    ) -> ScenarioResult:
        """A disruption scenario (:mod:`verdikart.scenarios`): the ordinary trade indicators
        over perturbed flows, re-sourcing from other suppliers, the residual gap and the
        years to close it, and knock-on effects down the value chains and to Norwegian plants.

        `file`: a scenario file (TOML or YAML) or a shipped scenario's id; `shocks`:
        ``SUPPLIER:MATERIAL:CHANGE`` texts (added to the file's). `year`, `importers` and
        `basis` override the file's (default: latest trade year, NOR, value); importers
        ``['all']`` = every importing country. Bad input raises SourceError naming file, line
        and reason, or UnknownCodeError; the store is only read."""
        from dataclasses import replace

        from verdikart.errors import UnknownCodeError
        from verdikart.scenarios.run import run_scenario
        from verdikart.scenarios.spec import find_scenario_file, from_shocks, load_scenario

        if file is None and not shocks:
            raise UnknownCodeError(
                "give a scenario file or at least one --shock SUPPLIER:MATERIAL:CHANGE "
                "(e.g. CHN:graphite:-100%)"
            )
        spec = from_shocks(shocks, year=year, importers=(), basis=basis or "value")
        if file is not None:
            loaded = load_scenario(find_scenario_file(str(file)))
            spec = replace(loaded, shocks=loaded.shocks + spec.shocks)
        chosen: Sequence[str] | None = list(importers) if importers else list(spec.importers)
        if chosen and any(str(c).casefold() in ("all", "alle") for c in chosen):
            chosen = None
        elif not chosen:
            chosen = ["NOR"]
        return run_scenario(
            self.engine(),
            spec,
            year=year,
            importers=chosen,
            basis=basis,
            language=language or self.settings.language,
            progress=progress,
        )

    def watch(
        self,
        countries: Sequence[str] | None,
        *,
        since: str | None = None,
        rules: str | Path | None = None,
        events: str | Path | None = None,
        record: bool = True,
        language: str | None = None,
        progress: Progress | None = None,
    ) -> list[dict[str, Any]]:
        """Early-warning alerts for countries or groups (None = every country): rules over
        the trade and production series and the dated policy events, with evidence and
        sources (:mod:`verdikart.scenarios.watch`). Alert ids are stable; with `record` the
        ids seen are kept in the data directory (``watch-seen.json``), so each alert says
        when it was first seen and whether it is new; `since` (YYYY-MM-DD) keeps the alerts
        dated or first seen on or after it."""
        from verdikart.scenarios.watch import run_watch

        return run_watch(
            self.engine(),
            countries,
            since=since,
            rules_path=rules,
            events_path=events,
            seen_path=self.settings.data_dir / "watch-seen.json" if record else None,
            language=language or self.settings.language,
            progress=progress,
        )

    # -- materialbørs -----------------------------------------------------------------------
    def norway_imports(self, material: str, year: int | None) -> ImportsT:
        """Norway's imports in tonnes of a material's codes (the materialbørs potential's basis);
        year None = the latest year with a quantity."""
        from verdikart.exchange.critical import norway_imports_t

        return norway_imports_t(self.engine(), material, year)

    def exchange_potential(
        self,
        principal: Principal | None,
        material: str,
        *,
        year: int | None = None,
        min_organisations: int = 3,
    ) -> dict[str, Any]:
        """Secondary-supply potential of a critical material in the exchange's streams against
        Norway's imports: for a principal only what the disclosure and dominance rules release
        (docs/exchange-logic.md); without one (the operator's CLI) exact."""
        return self.exchange().potential(
            principal,
            material,
            year=year,
            imports=self.norway_imports,
            min_organisations=min_organisations,
        )

    # -- process-industry statistics (issue 13) -----------------------------------------------
    def industry_trade(
        self, *, year: int, flow: str = "export", corrections: bool = False
    ) -> IndustryTrade:
        """Exports (or imports) of one year by process-industry group (SSB 08801 -> HS6 ->
        CPA 2.1 -> NACE), the seed's HS-chapter table, product groups, unknown and split codes;
        with company corrections beside the official figures (used when `corrections`)."""
        from verdikart.indicators.industry import industry_trade

        return self._kept(
            ("industry_trade", year, flow, corrections),
            lambda: industry_trade(self.engine(), year=year, flow=flow, corrections=corrections),
        )

    def industry_correct(self, **correction: Any) -> dict[str, Any]:
        """Store a company-confirmed figure (attributed, dated, appended; never over the
        official figure); the stored row. See indicators.industry.record_correction."""
        from verdikart.indicators.industry import record_correction

        try:
            return record_correction(self.store(), **correction)
        finally:
            self._forget()

    def industry_corrections(self, year: int | None = None) -> list[dict[str, Any]]:
        """Every stored correction (the audit trail) with whether it applies."""
        from verdikart.indicators.industry import list_corrections

        return list_corrections(self.engine(), year=year)

    def industry_energy(self, *, year: int) -> dict[str, Any]:
        """Energy use by the process industry's balance items (SSB 11561) with the
        energy-intensive sums and the power pulse (SSB 14091) when imported."""
        from verdikart.errors import UnknownCodeError
        from verdikart.indicators.activity import energy, power_pulse

        out = energy(self.engine(), year=year)
        try:
            out["power_pulse"] = power_pulse(self.engine())
        except UnknownCodeError:
            out["power_pulse"] = []
        return out

    def industry_emissions(self, *, year: int) -> dict[str, Any]:
        """Emissions by industry (SSB, when imported) and the EU ETS verified emissions of the
        process industry's installations (bundled for Norway, 2013-2020)."""
        from verdikart.errors import UnknownCodeError
        from verdikart.indicators.activity import by_industry, plant_emissions

        out: dict[str, Any] = plant_emissions(self.engine(), years=[year])
        try:
            out["by_industry"] = by_industry(self.engine(), table="emissions", year=year)
        except UnknownCodeError:
            out["by_industry"] = []
        return out

    def industry_employment(self, *, year: int) -> list[dict[str, Any]]:
        """Employment by process-industry group (SSB, when imported)."""
        from verdikart.indicators.activity import by_industry

        return by_industry(self.engine(), table="employment", year=year)

    def industry_report(self, *, year: int, lang: str, out: Path) -> Path:
        """The yearly status overview as HTML or a formatted XLSX (by the file's suffix)."""
        from verdikart.report.industry import write_industry_report

        return write_industry_report(self, year=year, lang=lang, out=out)


def _log_version(path: Path | None, log: list[dict[str, Any]]) -> Hashable:
    """A DuckDB store's data version: its file and its import log's length and last entry."""
    last = log[-1] if log else {}
    return ("duckdb", str(path), len(log), last.get("import_id"), str(last.get("imported_at")))


def _frozen(value: Any) -> Hashable:
    """A use case's argument as part of a key: sequences as tuples (a YearSpec is hashable)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return value
