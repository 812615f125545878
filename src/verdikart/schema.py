"""The store's documented schema: every logical table, its columns with units, and coverage.

Indicators depend on these tables only, never on a loader (the file format is the seam between
data and calculation). Declared once, here, so that a store opened at any time shows them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class TableSpec:
    """A logical table: its columns (name, DuckDB type) and what imported rows supersede."""

    name: str
    columns: tuple[tuple[str, str], ...]
    coverage_key: tuple[str, ...] = ()
    bundled: bool = False
    description: str = ""
    listed: bool = True  # False: physical storage read through another view (not in status)

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def ddl(self, table_name: str, *, temp: bool = False) -> str:
        cols = ", ".join(f'"{c}" {t}' for c, t in self.columns)
        create = "CREATE TEMP TABLE" if temp else "CREATE TABLE IF NOT EXISTS"
        return f'{create} "{table_name}" ({cols})'


TRADE = TableSpec(
    "trade",
    (
        ("year", "SMALLINT"),
        ("exporter", "VARCHAR"),
        ("importer", "VARCHAR"),
        ("exporter_code", "INTEGER"),
        ("importer_code", "INTEGER"),
        ("hs_revision", "VARCHAR"),
        ("hs6", "VARCHAR"),
        ("value_kusd", "DOUBLE"),
        ("quantity_t", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("year", "hs_revision"),
    bundled=True,
    description="Bilateral trade flows; exporter/importer as ISO alpha-3 (BACI pseudo-codes kept).",
)
PRODUCTION = TableSpec(
    "production",
    (
        ("year", "SMALLINT"),
        ("country", "VARCHAR"),
        ("material", "VARCHAR"),
        ("commodity", "VARCHAR"),
        ("stage", "VARCHAR"),
        ("content_basis", "VARCHAR"),
        ("quantity", "DOUBLE"),
        ("unit", "VARCHAR"),
        ("data_quality", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("material", "year", "source"),
    bundled=True,
    description="Production by country; quantity in `unit` expressed as `content_basis`.",
)
# Imported BACI releases, stored narrow (numeric codes; revision and source label once per file
# in `baci_batches`) because a year is ~10 M rows: the `trade` view maps codes to ISO alpha-3,
# HS6 text, revision and source when read.
BACI_TRADE = TableSpec(
    "baci_trade",
    (
        ("year", "SMALLINT"),
        ("exporter_code", "INTEGER"),
        ("importer_code", "INTEGER"),
        ("hs6_code", "INTEGER"),
        ("value_kusd", "DOUBLE"),
        ("quantity_t", "DOUBLE"),
        ("import_id", "INTEGER"),
    ),
    description="Imported BACI rows as published (numeric codes); read them through `trade`.",
    listed=False,
)
BACI_BATCHES = TableSpec(
    "baci_batches",
    (("import_id", "INTEGER"), ("hs_revision", "VARCHAR"), ("source", "VARCHAR")),
    description="One row per imported BACI file: its HS revision and source label.",
    listed=False,
)
GOVERNANCE = TableSpec(
    "governance",
    (
        ("year", "SMALLINT"),
        ("country", "VARCHAR"),
        ("indicator", "VARCHAR"),
        ("value", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("indicator", "year"),
    bundled=True,
    description="Governance indicators (WGI dimensions), by ISO alpha-3.",
)
BACI_COUNTRIES = TableSpec(
    "baci_countries",
    (("baci_code", "INTEGER"), ("name", "VARCHAR"), ("iso2", "VARCHAR"), ("iso3", "VARCHAR")),
    coverage_key=("baci_code",),
    bundled=True,
    description="BACI's own country codes (V202401b).",
)
WMD_HS_MAP = TableSpec(
    "wmd_hs_map",
    (
        ("commodity", "VARCHAR"),
        ("material", "VARCHAR"),
        ("category", "VARCHAR"),
        ("reference_id", "VARCHAR"),
        ("stage", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("eol_rir", "DOUBLE"),
        ("hs6", "VARCHAR"),
        ("hs6_complementary", "VARCHAR"),
        ("hs_description", "VARCHAR"),
        ("reference", "VARCHAR"),
    ),
    bundled=True,
    description="World Mining Data commodity -> HS92 code map with EoL recycling input rates.",
)

MINERAL_RESERVES = TableSpec(
    "mineral_reserves",
    (
        ("year", "SMALLINT"),
        ("country", "VARCHAR"),
        ("material", "VARCHAR"),
        ("commodity", "VARCHAR"),
        ("content_basis", "VARCHAR"),
        ("reserves", "DOUBLE"),
        ("unit", "VARCHAR"),
        ("note", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("material", "source"),
    description="Mineral reserves by country (USGS MCS); year = the edition's data year.",
)

USGS_SALIENT = TableSpec(
    "usgs_salient",
    (
        ("year", "SMALLINT"),
        ("commodity_code", "VARCHAR"),
        ("commodity", "VARCHAR"),
        ("variable", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("value", "DOUBLE"),
        ("value_text", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("commodity_code", "source"),
    description="USGS MCS US salient statistics, long; NIR_* = US net import reliance "
    "(% of apparent consumption; value_text keeps '>50', 'E' = net exporter).",
)

SSB_TRADE = TableSpec(
    "ssb_trade",
    (
        ("year", "SMALLINT"),
        ("period", "VARCHAR"),
        ("flow", "VARCHAR"),
        ("cn8", "VARCHAR"),
        ("hs6", "VARCHAR"),
        ("partner", "VARCHAR"),
        ("partner_iso2", "VARCHAR"),
        ("quantity_1_kg", "DOUBLE"),
        ("quantity_2", "DOUBLE"),
        ("quantity_2_unit", "VARCHAR"),
        ("value_nok", "DOUBLE"),
        ("status", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("year", "source"),
    description="Norway's external trade in goods by 8-digit commodity number and partner "
    "(SSB); flow 'import'|'export', partner ISO alpha-3, value in NOK; `status` SSB's symbol "
    "of a suppressed cell (':' confidential, '..' not available, '.' not applicable; its "
    "values are NULL, never 0), NULL for a published figure.",
)

CN_CPA = TableSpec(
    "cn_cpa",
    (
        ("cn_year", "SMALLINT"),
        ("cn8", "VARCHAR"),
        ("hs6", "VARCHAR"),
        ("cpa", "VARCHAR"),
        ("nace", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("cn_year",),
    bundled=True,
    description="Eurostat's correspondence CN (2021, 2022) -> CPA 2.1; `nace` = the NACE Rev. 2 "
    "class, the CPA code's first four digits (24.10).",
)

CLASSIFICATION_LABELS = TableSpec(
    "classification_labels",
    (
        ("scheme", "VARCHAR"),
        ("code", "VARCHAR"),
        ("level", "SMALLINT"),
        ("parent", "VARCHAR"),
        ("label_en", "VARCHAR"),
        ("label_nb", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("scheme",),
    bundled=True,
    description="Labels of CPA 2.1, NACE Rev. 2 and CN 2022 codes (English, Eurostat).",
)

SSB_STATBANK = TableSpec(
    "ssb_statbank",
    (
        ("table_id", "VARCHAR"),
        ("period", "VARCHAR"),
        ("year", "SMALLINT"),
        ("month", "SMALLINT"),
        ("item", "VARCHAR"),
        ("item_label", "VARCHAR"),
        ("product", "VARCHAR"),
        ("product_label", "VARCHAR"),
        ("contents", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("value", "DOUBLE"),
        ("status", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("table_id", "year"),
    description="SSB StatBank tables of the process-industry statistics (11561 energy balance, "
    "14091 monthly electricity, emissions and employment by industry), long: one row per "
    "cell; `item` the industry or balance item, `product` the energy product (or NULL); "
    "`status` SSB's symbol of a suppressed cell (value NULL, never 0).",
)

INDUSTRY_CORRECTIONS = TableSpec(
    "industry_corrections",
    (
        ("correction_id", "INTEGER"),
        ("year", "SMALLINT"),
        ("flow", "VARCHAR"),
        ("grp", "VARCHAR"),
        ("value_nok", "DOUBLE"),
        ("from_confidential", "BOOLEAN"),
        ("company", "VARCHAR"),
        ("confirmed_on", "DATE"),
        ("reference", "VARCHAR"),
        ("note", "VARCHAR"),
        ("recorded_by", "VARCHAR"),
        ("recorded_at", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    description="Company-confirmed figures for the process-industry exports: attributed, "
    "dated (recorded_at: ISO 8601 UTC), appended (never edited) and kept beside, never over, "
    "the official figure; the "
    "latest per year, flow, group and company applies, the earlier ones stay (the audit).",
)

EU_SUPPLY_SHARES = TableSpec(
    "eu_supply_shares",
    (
        ("year", "SMALLINT"),
        ("material", "VARCHAR"),
        ("material_name", "VARCHAR"),
        ("stage", "VARCHAR"),
        ("scope", "VARCHAR"),
        ("country", "VARCHAR"),
        ("country_name", "VARCHAR"),
        ("share", "DOUBLE"),
        ("share_text", "VARCHAR"),
        ("t", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("year", "scope"),
    bundled=True,
    description="EU CRM assessment: global / EU-sourcing supply shares by stage, with t.",
)

EU_END_USES = TableSpec(
    "eu_end_uses",
    (
        ("year", "SMALLINT"),
        ("material", "VARCHAR"),
        ("material_name", "VARCHAR"),
        ("application", "VARCHAR"),
        ("share", "DOUBLE"),
        ("share_text", "VARCHAR"),
        ("nace2", "VARCHAR"),
        ("nace_name", "VARCHAR"),
        ("value_added_meur", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("year",),
    bundled=True,
    description="EU CRM assessment: end-use shares with NACE 2-digit sector value added.",
)

EU_PARAMETERS = TableSpec(
    "eu_parameters",
    (
        ("year", "SMALLINT"),
        ("material", "VARCHAR"),
        ("material_name", "VARCHAR"),
        ("stage", "VARCHAR"),
        ("ir", "DOUBLE"),
        ("eol_rir", "DOUBLE"),
        ("si_sr", "DOUBLE"),
        ("si_ei", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("year",),
    description="EU CRM assessment scalars: import reliance, EoL-RIR, substitution indices.",
)

EU_MATERIAL_GROUPS = TableSpec(
    "eu_material_groups",
    (
        ("year", "SMALLINT"),
        ("material", "VARCHAR"),
        ("screened_material", "VARCHAR"),
        ("grouping", "VARCHAR"),
        ("material_group", "VARCHAR"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("year",),
    bundled=True,
    description="EU CRM assessment: screened materials' groups (REE/HREE/LREE/PGM, families) "
    "under each of the four grouping permutations.",
)

EU_ETS_INSTALLATIONS = TableSpec(
    "eu_ets_installations",
    (
        ("installation_id", "VARCHAR"),
        ("country", "VARCHAR"),
        ("name", "VARCHAR"),
        ("address", "VARCHAR"),
        ("postal_code", "VARCHAR"),
        ("city", "VARCHAR"),
        ("lat", "DOUBLE"),
        ("lon", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("country",),
    bundled=True,
    description="EU ETS installations (EUTL register): id like NO_204078, country ISO alpha-3, "
    "operator's name and address, WGS84 coordinates.",
)

EU_ETS_EMISSIONS = TableSpec(
    "eu_ets_emissions",
    (
        ("installation_id", "VARCHAR"),
        ("country", "VARCHAR"),
        ("year", "SMALLINT"),
        ("verified_emissions_t_co2e", "DOUBLE"),
        ("free_allocation_t_co2e", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("country", "year"),
    bundled=True,
    description="EU ETS verified emissions and free allocation per installation and year "
    "(t CO2-equivalent; one allowance = 1 t).",
)

COMPANY_PURCHASES = TableSpec(
    "company_purchases",
    (
        ("row", "INTEGER"),
        ("product", "VARCHAR"),
        ("material", "VARCHAR"),
        ("hs6", "VARCHAR"),
        ("origin", "VARCHAR"),
        ("year", "SMALLINT"),
        ("quantity_t", "DOUBLE"),
        ("value_kusd", "DOUBLE"),
        ("source", "VARCHAR"),
    ),
    coverage_key=("source",),
    description="A company's purchases, saved on request (verdikart company assess --save).",
)

# In view-creation order: `trade` reads the `baci_countries` and `baci_trade` views.
TABLES = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            BACI_COUNTRIES,
            BACI_TRADE,
            BACI_BATCHES,
            TRADE,
            PRODUCTION,
            GOVERNANCE,
            WMD_HS_MAP,
            MINERAL_RESERVES,
            USGS_SALIENT,
            SSB_TRADE,
            EU_SUPPLY_SHARES,
            EU_END_USES,
            EU_PARAMETERS,
            EU_MATERIAL_GROUPS,
            EU_ETS_INSTALLATIONS,
            EU_ETS_EMISSIONS,
            COMPANY_PURCHASES,
            CN_CPA,
            CLASSIFICATION_LABELS,
            SSB_STATBANK,
            INDUSTRY_CORRECTIONS,
        )
    }
)
