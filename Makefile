# Quartet developer commands. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION ?= 3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
HOST ?= 127.0.0.1
PORT ?= 8000
SERVICES := $(BIN)/python scripts/services.py
STAMP := $(VENV)/.installed

.PHONY: help install lock services-up services-down services-status services-reset dev run test \
        lint fmt migrate revision seed db-reset schema check openapi clean backup bench-shop bench-posts \
        bench bench-quick bench-soak bench-all bench-auth bench-events bench-media bench-rbac \
        bench-dashboard lint-deploy drills drills-short cluster-up cluster-down cluster-status \
        test-cluster bench-template

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/dev.txt
	@python3 -m uv --version >/dev/null 2>&1 || command -v uv >/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check uv
	@test -x $(BIN)/python || $(UV) venv --quiet --python $(PYTHON_VERSION) $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## create .venv from the hash-pinned requirements (uv)

lock: ## re-lock requirements/*.txt from pyproject.toml (hash-pinned)
	$(UV) pip compile pyproject.toml --python-version $(PYTHON_VERSION) --generate-hashes \
		--quiet -o requirements/main.txt
	$(UV) pip compile pyproject.toml --extra dev --prerelease=if-necessary-or-explicit \
		--python-version $(PYTHON_VERSION) --generate-hashes --quiet -o requirements/dev.txt

services-up: install ## start PostgreSQL, Redis, MongoDB-wire, Cassandra and Mailpit (idempotent)
	$(SERVICES) up

services-down: install ## stop the local stores (data kept)
	$(SERVICES) down

services-status: install ## show each local store's state and version
	$(SERVICES) status

services-reset: install ## stop the local stores and wipe their data
	$(SERVICES) reset

migrate: services-up ## apply PostgreSQL migrations
	$(BIN)/quartet db upgrade

revision: install ## new migration: make revision m="add things"
	@test -n "$(m)" || (echo 'usage: make revision m="message"' && exit 2)
	$(BIN)/quartet db revision -m "$(m)"

seed: migrate ## idempotent seed data (first superuser, permissions, system groups)
	$(BIN)/quartet db seed

db-reset: services-up ## drop and re-create the dev database schema, then seed
	$(BIN)/quartet db reset

schema: services-up ## apply the Cassandra keyspace and tables, MongoDB validators and indexes
	$(BIN)/quartet schema

check: install ## validate settings and reach every store
	$(BIN)/quartet check

backup: install ## timestamped MongoDB backup under BACKUP_DIR, keeping the newest BACKUP_KEEP
	$(BIN)/quartet backup mongo

bench: services-up ## ONE table (wrk): each endpoint beside its raw ceiling, 3 interleaved rounds of 10 s
	$(BIN)/python -m bench.table $(BENCH_ARGS)

bench-quick: services-up ## the same table, 2 rounds of 3 s (a few minutes)
	$(BIN)/python -m bench.table --duration 3 --rounds 2 $(BENCH_ARGS)

bench-soak: services-up ## 10 minutes of mixed traffic (wrk) on one worker, its RSS curve and peak
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

bench-all: services-up ## every benchmark script: each bench/*.py with a main, one after another
	@status=0; for script in $$(grep -l '^if __name__ == "__main__":' bench/*.py); do \
		name=$$(basename $$script .py); echo "== bench.$$name"; \
		$(BIN)/python -m bench.$$name || status=1; \
	done; exit $$status

bench-auth: services-up ## auth benchmark: GET /auth/me req/s vs a raw asyncpg ceiling, liveness p99 during bcrypt logins
	$(BIN)/python -m bench.auth_me

bench-template: services-up ## GET /auth/me beside full-stack-fastapi-template's /users/me stand-in (wrk, 3 rounds of 10 s)
	$(BIN)/python -m bench.template_pair $(BENCH_ARGS)

bench-shop: services-up ## shop benchmark: POST /orders/ rate, customer stats p50/p99 (100k orders)
	$(BIN)/python -m bench.shop

bench-posts: services-up ## posts benchmark: GET /api/v1/posts?limit=50 req/s, p50/p99 vs a raw asyncpg ceiling
	$(BIN)/python bench/posts_list.py

bench-rbac: services-up ## RBAC benchmark (wrk): /auth/me vs the same route with and without a permission check
	$(BIN)/python -m bench.rbac

bench-events: services-up ## event log benchmark: POST /api/v1/logs/ per second vs raw cassandra-driver inserts
	$(BIN)/python -m bench.events

bench-media: services-up ## media benchmark: 10 MB upload MB/s per backend (local, s3), peak RSS during 8 concurrent uploads
	$(BIN)/python -m bench.media

bench-dashboard: services-up ## dashboard benchmark: all-statistics latency at 100k users, cold (computed) and warm (cached, wrk)
	$(BIN)/python -m bench.dashboard

dev: services-up migrate schema seed ## everything, then the API with auto-reload on :8000
	$(BIN)/uvicorn quartet.main:app --reload --reload-dir src --host $(HOST) --port $(PORT)

run: services-up migrate ## the API without reload (uvloop, httptools)
	$(BIN)/quartet serve --host $(HOST) --port $(PORT)

test: services-up ## the whole test suite against the real local stores
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install ## ruff, mypy and the import-linter contracts (docs/architecture.md)
	$(BIN)/ruff check src tests scripts migrations bench
	$(BIN)/ruff format --check src tests scripts migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install ## format and auto-fix
	$(BIN)/ruff format src tests scripts migrations bench
	$(BIN)/ruff check --fix src tests scripts migrations bench

# Deployment checks need Go (>= 1.21; it fetches the toolchain each tool asks for) to build the
# tools below into $(TOOLS); hadolint and kubernetes-validate come with the dev requirements.
TOOLS := .tools
KUSTOMIZE_VERSION := v5.8.2
SUPERCRONIC_VERSION := v0.2.48

$(TOOLS)/compose-check: scripts/compose_check/main.go scripts/compose_check/go.mod scripts/compose_check/go.sum
	cd scripts/compose_check && go build -trimpath -o $(CURDIR)/$@ .

$(TOOLS)/kustomize-$(KUSTOMIZE_VERSION):
	GOBIN=$(CURDIR)/$(TOOLS)/kustomize.d go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(TOOLS)/kustomize.d/kustomize $@ && rmdir $(TOOLS)/kustomize.d

$(TOOLS)/supercronic-$(SUPERCRONIC_VERSION):
	GOBIN=$(CURDIR)/$(TOOLS)/supercronic.d go install github.com/aptible/supercronic@$(SUPERCRONIC_VERSION)
	mv $(TOOLS)/supercronic.d/supercronic $@ && rmdir $(TOOLS)/supercronic.d

lint-deploy: install $(TOOLS)/compose-check $(TOOLS)/kustomize-$(KUSTOMIZE_VERSION) $(TOOLS)/supercronic-$(SUPERCRONIC_VERSION) ## check compose.yaml, docker/k8s, the Dockerfile and the backup crontab
	$(TOOLS)/compose-check -env-file .env.example compose.yaml
	$(BIN)/hadolint docker/Dockerfile
	$(TOOLS)/supercronic-$(SUPERCRONIC_VERSION) -no-reap -test docker/backup/crontab
	@mkdir -p $(TOOLS)/rendered
	$(TOOLS)/kustomize-$(KUSTOMIZE_VERSION) build docker/k8s/base > $(TOOLS)/rendered/base.yaml
	$(TOOLS)/kustomize-$(KUSTOMIZE_VERSION) build docker/k8s/overlays/production > $(TOOLS)/rendered/production.yaml
	@for version in 1.30.0 1.37.0; do \
		echo "kubernetes-validate --strict -k $$version"; \
		$(BIN)/kubernetes-validate --strict --quiet -k $$version $(TOOLS)/rendered/base.yaml \
			$(TOOLS)/rendered/production.yaml docker/k8s/base/secret.example.yaml || exit 1; \
	done

openapi: install ## write the committed openapi.json snapshot (tests/openapi diffs the app against it)
	$(BIN)/python -c "import sys; from quartet.main import create_app; \
		from quartet.core.openapi import snapshot; \
		sys.stdout.write(snapshot(create_app().openapi()))" > openapi.json
	@echo "wrote openapi.json"

clean: ## remove caches and build output (not .venv or .services)
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

drills: install ## fault drills on stores of their own: each stopped 20 s and frozen 15 s under load
	$(BIN)/python scripts/drills.py $(DRILL_ARGS)

drills-short: install ## the CI drills: each store stopped and frozen 6 s under load
	$(BIN)/python scripts/drills.py --short $(DRILL_ARGS)

# Past one machine (README "Scaling out"): a three-node Cassandra ring, a Redis Cluster and three
# API instances behind nginx, on loopback aliases and ports of their own (quartet.local_ports).
# CLUSTER_ARGS=--no-redis-cluster keeps the instances on the single local Redis.
CLUSTER := $(BIN)/python scripts/cluster.py
CLUSTER_SUITES ?= tests/events tests/erasure tests/dashboard tests/health tests/auth tests/sessions \
	tests/cache tests/verification tests/core
# Not on the cluster: the outage tests put tests/tcp_proxy.py before ONE Cassandra node or ONE
# Redis (the drivers find the cluster's other nodes by themselves; tests/cluster drills a node
# instead), and the 200-request burst is a capacity test that 3x replication outgrows on a
# 2-core machine.
CLUSTER_DESELECT := \
	tests/events/test_outage.py::test_a_running_app_recovers_when_cassandra_returns \
	tests/events/test_outage.py::test_a_slow_cassandra_times_out_as_503_and_recovers \
	tests/erasure/test_store_failures.py::test_a_store_down_mid_erasure_is_retried_until_nothing_is_left[cassandra] \
	tests/erasure/test_store_failures.py::test_a_store_down_mid_erasure_is_retried_until_nothing_is_left[redis] \
	tests/events/test_logs_api.py::test_200_concurrent_writes_are_all_readable
# The suites with every app on the ring and the Redis Cluster; then the drills under load.
CLUSTER_ENV := QUARTET_TEST_CASSANDRA_RING=1 QUARTET_TEST_REDIS_CLUSTER=1

cluster-up: services-up ## Cassandra ring, Redis Cluster, 3 API instances behind nginx on :23000
	$(CLUSTER) up $(CLUSTER_ARGS)

cluster-down: install ## stop the cluster's processes (data kept)
	$(CLUSTER) down $(CLUSTER_ARGS)

cluster-status: install ## each cluster process's state and the ring's nodetool status
	$(CLUSTER) status

test-cluster: cluster-up ## the Cassandra and Redis suites on the ring and the Redis Cluster, then node-loss drills under load; stops the cluster
	@status=0; \
	$(CLUSTER_ENV) $(BIN)/pytest $(CLUSTER_SUITES) -m "not restarts_services" -q \
		$(addprefix --deselect ,$(CLUSTER_DESELECT)) $(PYTEST_ARGS) || status=1; \
	$(CLUSTER_ENV) $(BIN)/pytest tests/cluster -m cluster -q $(PYTEST_ARGS) || status=1; \
	$(CLUSTER) down $(CLUSTER_ARGS) || status=1; \
	exit $$status
