"""`run_mappings` (every country at once) gives each country exactly what `run_mapping` gives."""

from __future__ import annotations

import math

from verdikart.chains.mapping import MapRequest, run_mapping, run_mappings
from verdikart.store import Store


def _same(a: object, b: object) -> bool:
    # sums over a different grouping may differ in the last bits
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b


def _same_rows(mine: list[dict], theirs: list[dict]) -> bool:
    return len(mine) == len(theirs) and all(
        m.keys() == t.keys() and all(_same(m[k], t[k]) for k in m)
        for m, t in zip(mine, theirs, strict=True)
    )


def test_many_equals_one_by_one() -> None:
    store = Store.open(None)
    request = MapRequest(year=2022)
    many = run_mappings(store.engine(), ["NOR", "SWE", "S19"], request)
    assert set(many) == {"NOR", "SWE", "S19"}
    for code in ("NOR", "SWE"):
        one = run_mapping(store.engine(), MapRequest(country=code, year=2022))
        got = many[code]
        assert [r["product"] for r in got.rows] == [r["product"] for r in one.rows]
        assert _same_rows(got.rows, one.rows), code
        assert _same_rows(got.suppliers, one.suppliers), code
        assert _same_rows(got.trend, one.trend), code
        assert got.sources == one.sources
    # a BACI pseudo-code (Taiwan as reported by BACI) is mapped too, by its code
    assert many["S19"].reporter_name == "Other Asia, nes" and many["S19"].rows


def test_many_years_equal_year_by_year() -> None:
    """One pass over several years (overlapping trend and previous-year windows read once)
    gives each year what a mapping of that year alone gives; 2023-2024 have no production
    data, so GeoPolRisk is left out there and the years fall into their own group."""
    from verdikart.chains.mapping import run_mappings_years

    store = Store.open(None)
    years = [2018, 2019, 2022, 2023]
    together = run_mappings_years(store.engine(), ["NOR", "CHN"], years, MapRequest())
    assert sorted(together) == years
    for year in years:
        alone = run_mappings(store.engine(), ["NOR", "CHN"], MapRequest(year=year))
        for code in ("NOR", "CHN"):
            got, one = together[year][code], alone[code]
            assert got.year == year
            assert _same_rows(got.rows, one.rows), (code, year)
            assert _same_rows(got.suppliers, one.suppliers), (code, year)
            assert _same_rows(got.trend, one.trend), (code, year)
            assert got.sources == one.sources
            assert got.notes == one.notes
