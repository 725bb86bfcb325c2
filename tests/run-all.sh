#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed, N skipped" (web todo tests count as skipped).
# The .NET tests run in the order RELABEL_TEST_ORDER names (default, reverse or random:SEED); without it, a random
# order whose seed is printed, so that a failure that depends on the order can be replayed.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
passed=0; failed=0; skipped=0; status=0

export RELABEL_TEST_ORDER="${RELABEL_TEST_ORDER:-random:$(( (RANDOM << 15) | RANDOM ))}"
echo "test order: $RELABEL_TEST_ORDER (replay with: make test TEST_ORDER=$RELABEL_TEST_ORDER)"

# .NET: API, metrics and browser tests (xunit against the real PostgreSQL of RELABEL_TEST_PG).
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet test Backend.sln --no-build --no-restore \
  --logger "console;verbosity=minimal" 2>&1 | tee "$log" | grep -vE "^\s+at |^\s*$|^\[xUnit.net [0-9:.]+\]\s+(/|at )"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
done < <(sed -nE 's/.*(Passed|Failed)! +- +Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 \3 \4/p' "$log")
if ! grep -qE "(Passed|Failed)! +- +Failed:" "$log"; then
  echo "dotnet test produced no results:"; tail -n 40 "$log"; status=1; failed=$((failed + 1))
fi

# Web: unit tests of the SPA's pure logic and of its API client (node's test runner, TAP summary lines).
(cd web && npm test --silent) >"$log" 2>&1 || status=1
grep -E "^# (pass|fail|cancelled|skipped|todo) |^not ok" "$log" || true
count() { sed -nE "s/^# $1 ([0-9]+)$/\1/p" "$log" | tail -n 1; }
p=$(count pass); f=$(count fail); c=$(count cancelled); s=$(count skipped); t=$(count todo)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${c:-0})); skipped=$((skipped + ${s:-0} + ${t:-0}))
[ -n "$p" ] || { echo "web tests produced no results:"; tail -n 40 "$log"; status=1; failed=$((failed + 1)); }

rm -f "$log"
# The counts decide as well as the exit codes: any failed test fails the run.
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
