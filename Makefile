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
CONNECTION   = Host=127.0.0.1;Port=$(1);Username=relabel;Database=relabel;Timeout=5;Command Timeout=300

.SILENT:
.PHONY: run test bench bench-build bench-load stop clean openapi deps system-deps web build db-start

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

db-start: system-deps
	RELABEL_PG_NAME=pg RELABEL_PG_PORT=$(PG_PORT) db/cluster.sh start

## Start PostgreSQL, migrate, load WordNet and the demo, serve API + SPA.
run: web build db-start
	echo
	echo "  Relabel is starting on $(API_URL)  (Swagger UI: $(API_URL)/swagger)"
	echo "  Demo accounts (name / password):"
	echo "    demo-admin    / demo-admin-password     (admin)"
	echo "    demo-reviewer / demo-reviewer-password  (reviewer)"
	echo "    demo-uploader / demo-uploader-password  (uploader)"
	echo "  Stop with Ctrl-C, then 'make stop' to stop PostgreSQL."
	echo
	cd api
	ConnectionStrings__Relabel="$(call CONNECTION,$(PG_PORT))" Relabel__Demo=true \
	  ASPNETCORE_ENVIRONMENT=Production exec $(DOTNET) run --no-build --no-launch-profile -- --urls $(API_URL)

## Every test suite on a throwaway cluster; the last line is "N passed, N failed, N skipped".
test: export NEED_BROWSER=1
test: web build
	RELABEL_PG_NAME=test-pg RELABEL_PG_PORT=$(TEST_PG_PORT) db/cluster.sh destroy
	RELABEL_PG_NAME=test-pg RELABEL_PG_PORT=$(TEST_PG_PORT) db/cluster.sh start
	trap 'RELABEL_PG_NAME=test-pg RELABEL_PG_PORT=$(TEST_PG_PORT) db/cluster.sh destroy' EXIT
	RELABEL_TEST_PG="Host=127.0.0.1;Port=$(TEST_PG_PORT);Username=relabel;Timeout=10;Command Timeout=300" \
	RELABEL_TEST_ORDER="$(TEST_ORDER)" tests/run-all.sh

## Benchmarks measure a Release build of the API (tests use Debug).
bench-build: deps
	$(DOTNET) build tests/Bench --no-restore -c Release --verbosity quiet -clp:ErrorsOnly -nologo
	$(DOTNET) build api --no-restore -c Release --verbosity quiet -clp:ErrorsOnly -nologo

bench: bench-build
	RELABEL_PG_NAME=bench-pg RELABEL_PG_PORT=$(BENCH_PG_PORT) db/cluster.sh destroy
	RELABEL_PG_NAME=bench-pg RELABEL_PG_PORT=$(BENCH_PG_PORT) db/cluster.sh start
	trap 'RELABEL_PG_NAME=bench-pg RELABEL_PG_PORT=$(BENCH_PG_PORT) db/cluster.sh destroy' EXIT
	RELABEL_BENCH_PG="Host=127.0.0.1;Port=$(BENCH_PG_PORT);Username=relabel;Timeout=10;Command Timeout=600" \
	RELABEL_BENCH_DISK="$$(dirname "$$(RELABEL_PG_NAME=bench-pg db/cluster.sh dir)")" \
	  $(DOTNET) run --project tests/Bench --no-build -c Release -- $(BENCH)

## Mixed traffic (reads, reviews, uploads) at the highest rate that keeps p99 under 100 ms, held for 60 s.
bench-load: bench-build
	RELABEL_PG_NAME=bench-pg RELABEL_PG_PORT=$(BENCH_PG_PORT) db/cluster.sh destroy
	RELABEL_PG_NAME=bench-pg RELABEL_PG_PORT=$(BENCH_PG_PORT) db/cluster.sh start
	trap 'RELABEL_PG_NAME=bench-pg RELABEL_PG_PORT=$(BENCH_PG_PORT) db/cluster.sh destroy' EXIT
	RELABEL_BENCH_PG="Host=127.0.0.1;Port=$(BENCH_PG_PORT);Username=relabel;Timeout=10;Command Timeout=600" \
	  $(DOTNET) run --project tests/Bench --no-build -c Release -- mixed-load

stop:
	RELABEL_PG_NAME=pg RELABEL_PG_PORT=$(PG_PORT) db/cluster.sh stop || true
	RELABEL_PG_NAME=test-pg RELABEL_PG_PORT=$(TEST_PG_PORT) db/cluster.sh stop || true

clean: stop
	for name in pg test-pg bench-pg; do RELABEL_PG_NAME=$$name db/cluster.sh destroy || true; done
	rm -rf .data

## Regenerate the committed API contract from the code.
openapi: build
	$(DOTNET) run --project api --no-build --no-launch-profile -- openapi openapi.yaml
