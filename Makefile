# Relabel: "make run" serves the demo on http://127.0.0.1:5080; "make test" runs every test.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c

PORT        ?= 5080
PG_PORT     ?= 54329
TEST_PG_PORT?= 54339
BENCH_PG_PORT?= 54359
## "make test TEST_ORDER=reverse" (or default, or random:SEED) fixes the order of the .NET tests; unset, it is random.
TEST_ORDER  ?=
## "make bench BENCH=review" runs only the benchmarks whose name contains "review".
BENCH       ?=
API_URL     := http://127.0.0.1:$(PORT)
DOTNET      := env DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 dotnet
## The role "relabel" of a cluster ($(1): pg, test-pg, bench-pg on port $(2)) with its pgpass file; add the database.
CLUSTER      = RELABEL_PG_NAME=$(1) RELABEL_PG_PORT=$(2) db/cluster.sh

.SILENT:
.PHONY: run demo-zoo test bench bench-build bench-load stop clean openapi deps system-deps web build release db-start

## Install what is missing: Debian packages, then npm and NuGet packages.
system-deps:
	missing=()
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
	[ -f /usr/share/wordnet/data.noun ] || missing+=(wordnet-base)
	if [ "$${NEED_BROWSER:-0}" = 1 ]; then command -v chromium >/dev/null || missing+=(chromium); fi
	if [ $${#missing[@]} -gt 0 ]; then
	  echo "Installing Debian packages: $${missing[*]}"
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo
	  $$sudo apt-get update -qq
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq "$${missing[@]}" >/dev/null
	fi

deps: system-deps
	[ -d web/node_modules ] || (cd web && npm ci --no-audit --no-fund --loglevel=error)
	$(DOTNET) restore Backend.sln --verbosity quiet

web: deps
	cd web && npm run --silent build

build: deps
	$(DOTNET) build Backend.sln --no-restore --verbosity quiet -clp:ErrorsOnly -nologo

## The API as "make run" and the benchmarks serve it: a Release build.
release: deps
	$(DOTNET) build api --no-restore -c Release --verbosity quiet -clp:ErrorsOnly -nologo

db-start: system-deps
	$(call CLUSTER,pg,$(PG_PORT)) start

## Start PostgreSQL, migrate, load WordNet and the demo, serve API + SPA (a Release build, as in production).
run: web release db-start
	echo
	echo "  Relabel is starting on $(API_URL)  (Swagger UI: $(API_URL)/swagger)"
	echo "  Demo accounts: demo-admin, demo-reviewer, demo-uploader. Their passwords are generated on the first start and"
	echo "  shown once, on this terminal (or, without one, in .data/initial-secrets.txt); an admin can reset them."
	echo "  Stop with Ctrl-C, then 'make stop' to stop PostgreSQL."
	echo
	connection="$$($(call CLUSTER,pg,$(PG_PORT)) connection);Database=relabel;Timeout=5;Command Timeout=300"
	cd api
	ConnectionStrings__Relabel="$$connection" Relabel__Demo=true \
	  ASPNETCORE_ENVIRONMENT=Production exec $(DOTNET) bin/Release/net10.0/Relabel.Api.dll --urls $(API_URL)

## The timm zoo (1,556 models, synthetic predictions calibrated to their published results) into "make run"'s database.
demo-zoo: web release db-start
	connection="$$($(call CLUSTER,pg,$(PG_PORT)) connection);Database=relabel;Timeout=5;Command Timeout=600"
	cd api
	ConnectionStrings__Relabel="$$connection" ASPNETCORE_ENVIRONMENT=Production Relabel__Demo=true \
	  $(DOTNET) bin/Release/net10.0/Relabel.Api.dll demo-zoo --data ../../shared/data

## Every test suite on a throwaway cluster; the last line is "N passed, N failed, N skipped".
test: export NEED_BROWSER=1
test: web build
	$(call CLUSTER,test-pg,$(TEST_PG_PORT)) destroy
	$(call CLUSTER,test-pg,$(TEST_PG_PORT)) start
	trap '$(call CLUSTER,test-pg,$(TEST_PG_PORT)) destroy' EXIT
	RELABEL_TEST_PG="$$($(call CLUSTER,test-pg,$(TEST_PG_PORT)) connection);Timeout=30;Command Timeout=300" \
	RELABEL_TEST_PG_ADMIN="$$($(call CLUSTER,test-pg,$(TEST_PG_PORT)) admin-connection);Timeout=30;Command Timeout=300" \
	RELABEL_TEST_ORDER="$(TEST_ORDER)" tests/run-all.sh

## Benchmarks measure a Release build of the API (tests use Debug).
bench-build: web release
	$(DOTNET) build tests/Bench --no-restore -c Release --verbosity quiet -clp:ErrorsOnly -nologo

## The API runs as the ordinary role, as in "make run"; the superuser only creates and drops the benchmarks' databases.
bench: bench-build
	$(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) destroy
	$(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) start
	trap '$(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) destroy' EXIT
	RELABEL_BENCH_PG="$$($(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) connection);Timeout=10;Command Timeout=600" \
	RELABEL_BENCH_PG_ADMIN="$$($(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) admin-connection);Timeout=10;Command Timeout=600" \
	RELABEL_BENCH_DISK="$$(dirname "$$($(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) dir)")" \
	  $(DOTNET) run --project tests/Bench --no-build -c Release -- $(BENCH)

## Mixed traffic (reads, reviews, uploads) at the highest rate that keeps p99 under 100 ms, held for 60 s.
bench-load: bench-build
	$(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) destroy
	$(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) start
	trap '$(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) destroy' EXIT
	RELABEL_BENCH_PG="$$($(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) connection);Timeout=10;Command Timeout=600" \
	RELABEL_BENCH_PG_ADMIN="$$($(call CLUSTER,bench-pg,$(BENCH_PG_PORT)) admin-connection);Timeout=10;Command Timeout=600" \
	  $(DOTNET) run --project tests/Bench --no-build -c Release -- mixed-load

stop:
	$(call CLUSTER,pg,$(PG_PORT)) stop || true
	$(call CLUSTER,test-pg,$(TEST_PG_PORT)) stop || true

clean: stop
	for name in pg test-pg bench-pg; do RELABEL_PG_NAME=$$name db/cluster.sh destroy || true; done
	rm -rf .data

## Regenerate the committed API contract from the code.
openapi: build
	$(DOTNET) run --project api --no-build --no-launch-profile -- openapi openapi.yaml
