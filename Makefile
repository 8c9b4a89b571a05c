# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOURCES := function emulator tests scripts bench

.PHONY: demo test lint typecheck unit contract package bench faults clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: lint typecheck
	$(BIN)/pytest --cov --cov-branch --cov-report=term:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_sources.py

typecheck: $(STAMP)
	$(BIN)/mypy --strict function emulator

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# -- contract suite against real Nova (tests/contract) ----------------------------
NOVA_VENV := .venv-nova
NOVA_STAMP := $(NOVA_VENV)/.installed

$(NOVA_STAMP): requirements-nova.txt
	$(PYTHON) -m venv $(NOVA_VENV)
	$(NOVA_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-nova.txt
	touch $(NOVA_STAMP)

# -- and its network half against real Neutron (tests/contract/neutron_target) ---
NEUTRON_VENV := .venv-neutron
NEUTRON_STAMP := $(NEUTRON_VENV)/.installed

$(NEUTRON_STAMP): requirements-neutron.txt
	$(PYTHON) -m venv $(NEUTRON_VENV)
	$(NEUTRON_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-neutron.txt
	touch $(NEUTRON_STAMP)

contract: $(STAMP) $(NOVA_STAMP) $(NEUTRON_STAMP)
	NICATTACH_NOVA_PYTHON=$(NOVA_VENV)/bin/python NICATTACH_NEUTRON_PYTHON=$(NEUTRON_VENV)/bin/python \
		$(BIN)/pytest tests/contract --nova --neutron

# -- FunctionGraph zip (function/ + runtime deps) ---------------------------------
package: $(STAMP)
	$(BIN)/python scripts/package.py $(if $(POLICY),--policy $(POLICY))

# -- benchmarks (bench/) ----------------------------------------------------------
bench: $(STAMP)
	$(BIN)/python -m bench

# -- fault suite (tests/faults) ---------------------------------------------------
faults: $(STAMP)
	$(BIN)/python tests/faults/fault_suite.py --servers $(or $(SERVERS),200) --backend nova
	$(BIN)/python tests/faults/fault_suite.py --servers $(or $(SERVERS),200) --backend huawei-v1
	NICATTACH_STATEFUL_EXAMPLES=$(or $(EXAMPLES),400) $(BIN)/pytest -q -s tests/integration/test_stateful.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
