# Two commands on a fresh machine: `make run` and `make test`. Every target is idempotent:
# stamp files make a second run skip the work that is already done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/package.json -type f 2>/dev/null)

.PHONY: run run-cluster test test-python test-unit test-web test-cluster coverage lint format setup clean soak fuzz bench bench-quick bench-sharded screenshots

run: setup
	$(BIN)/parley dev

# Several instances behind HAProxy (cookie stickiness) on a local Redis Cluster:
# parley/devstack/run_cluster.py. `make run-cluster INSTANCES=4`; PARLEY_PORT as for `make run`.
run-cluster: setup
	scripts/ensure-haproxy
	$(BIN)/python -m parley.devstack.run_cluster --instances $(or $(INSTANCES),3)

# The audit runs beside Vitest (it waits on the network, not a core) and both must pass before
# pytest starts; where its advisory data cannot be reached it says so and the tests go on
# (findings still fail). `make audit` is the strict one.
test: setup
	scripts/ensure-chromium
	scripts/ensure-haproxy
	scripts/audit --offline-ok & audit=$$!; \
		$(MAKE) test-web; web=$$?; \
		wait $$audit && exit $$web
	$(MAKE) test-python
	$(MAKE) test-cluster CLUSTER_TESTS="$(CLUSTER_SMOKE)"

setup: $(PY_STAMP) $(WEB_BUILD)

$(PY_STAMP): pyproject.toml constraints.txt
	scripts/check-python $(PYTHON)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,aws,test]'
	touch $@

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_BUILD): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run build

# Known vulnerabilities in the pinned Python packages and the front end's production npm ones
# (scripts/audit): fails on a finding, and when the advisory data cannot be reached.
.PHONY: audit
audit: $(PY_STAMP) $(WEB_STAMP)
	scripts/audit

# Two pytest-xdist workers, each with its own redis-server, DynamoDB endpoint and app servers
# (whole files to a worker): most of the suite waits on those processes, not on a core. Files
# go out in tests/conftest.py's order, longest first (xdist would otherwise sort them by their
# number of tests, which sent the one-test 90 s wheel install last); the 15 slowest are listed.
# `make test-python PYTEST_WORKERS=0` runs it in one process. Redis 7 or later on PATH
# (scripts/ensure-redis): the sharded fan-out's SSUBSCRIBE.
PYTEST_WORKERS ?= 2
test-python: $(PY_STAMP) $(WEB_BUILD)
	scripts/ensure-redis
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

# The in-process layer alone (tests/unit): seconds, against one redis-server and moto.
test-unit: $(PY_STAMP)
	scripts/ensure-redis
	$(BIN)/pytest tests/unit -q

# The whole Python suite under coverage.py, the `parley serve` processes of the end-to-end
# suites included ([tool.coverage.run] patch); ends with the TOTAL line for parley/.
# `make coverage TESTS=tests/unit` measures one layer.
coverage: $(PY_STAMP) $(WEB_BUILD)
	scripts/ensure-chromium
	scripts/ensure-redis
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -p no:cacheprovider $(TESTS); status=$$?; \
		$(BIN)/coverage combine --quiet && $(BIN)/coverage report; exit $$status

# The Redis side's end-to-end suites against local 3-primary Redis Clusters instead of one
# redis-server (tests/redis_cluster.py). `make test` runs the ones that prove login, sends,
# session kicks, presence across instances and the stream consumer; this target runs them all.
CLUSTER_SUITES := tests/realtime tests/ingest tests/faults tests/api/test_auth.py tests/api/test_sessions.py
CLUSTER_SMOKE := tests/api/test_auth.py tests/realtime/test_chat.py tests/realtime/test_session_end.py \
	tests/realtime/test_instances.py tests/ingest/test_stream.py
test-cluster: $(PY_STAMP) $(WEB_BUILD)
	scripts/ensure-redis
	PARLEY_TEST_REDIS_CLUSTER=1 $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(or $(CLUSTER_TESTS),$(CLUSTER_SUITES))

test-web: $(WEB_STAMP)
	cd web && npm test

lint: $(PY_STAMP) $(WEB_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd web && npm run lint

format: $(PY_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the README's screenshots from a run of the browser tests.
screenshots: $(PY_STAMP) $(WEB_BUILD)
	scripts/ensure-chromium
	PARLEY_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/browser -q

# The long soak: more clients for longer (see tests/faults/test_soak.py), and the socket flood
# with 40 clients for 50 rounds where `make test` runs 20 for 20 (tests/realtime/test_flood.py).
soak: $(PY_STAMP)
	PARLEY_SOAK_CLIENTS=$${PARLEY_SOAK_CLIENTS:-200} PARLEY_SOAK_SECONDS=$${PARLEY_SOAK_SECONDS:-120} \
	PARLEY_FLOOD_CLIENTS=$${PARLEY_FLOOD_CLIENTS:-40} PARLEY_FLOOD_ROUNDS=$${PARLEY_FLOOD_ROUNDS:-50} \
		$(BIN)/pytest tests/faults/test_soak.py tests/realtime/test_flood.py -s -m "soak or not soak"

# The deep socket fuzz: 1000 Hypothesis examples per event where `make test` runs 100
# (PARLEY_FUZZ_EXAMPLES; tests/fuzz/test_socket_fuzz.py), each test given 20 minutes.
fuzz: $(PY_STAMP)
	scripts/ensure-redis
	PARLEY_FUZZ_EXAMPLES=$${PARLEY_FUZZ_EXAMPLES:-1000} $(BIN)/pytest tests/fuzz/test_socket_fuzz.py --timeout 1200

# Load benchmarks against a real `parley serve` (see bench/README.md); results in bench/results/.
bench: $(PY_STAMP)
	@$(BIN)/python -c "import matplotlib, psutil" 2>/dev/null && test -x $(BIN)/py-spy \
		|| $(BIN)/python -m pip install --quiet -c constraints.txt -r bench/requirements.txt
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m bench

bench-quick: $(PY_STAMP)
	@$(BIN)/python -c "import matplotlib, psutil" 2>/dev/null && test -x $(BIN)/py-spy \
		|| $(BIN)/python -m pip install --quiet -c constraints.txt -r bench/requirements.txt
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m bench --quick

# The sharded fan-out against the one broadcast channel: 4 instances, 40 rooms, both buses
# side by side in one run (bench/sharded.py; 20 s measured); results in bench/results/.
bench-sharded: $(PY_STAMP)
	@$(BIN)/python -c "import psutil" 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet -c constraints.txt -r bench/requirements.txt
	scripts/ensure-redis
	$(BIN)/python -m bench.sharded

clean:
	rm -rf $(VENV) web/node_modules bench/node/node_modules web/dist .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
