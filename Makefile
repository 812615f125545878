# The README's two commands: `make run` (install + main job on the bundled data), `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/verdikart data status
	$(VENV)/bin/verdikart map --country NOR --year 2022 --out verdikart-map-NOR-2022.html --format html
	@echo "Report written to verdikart-map-NOR-2022.html"

test: install
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup -q

# The parity suite alone: every indicator on DuckDB and on Spark in local mode (needs Java).
test-spark: install
	$(VENV)/bin/python -m pytest -m spark -q

# The prepared queries the package ships, rebuilt after a change to the package (about 80 s;
# tests/test_query_pack.py fails until then).
query-pack: install
	$(PY) scripts/build_query_pack.py

.PHONY: install run test test-spark query-pack
