#!/usr/bin/env bash
# Benchmark of issue 3: from the quorum verdict "primary down" to the first plan step
# starting, through a real controller runtime (status board, group supervisor, SQLite event
# log, step runner) on a scripted prober. Goal: p99 <= 10 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ITERATIONS=${ITERATIONS:-300}
INTERVAL_MS=${INTERVAL_MS:-50}
BIN=$(release_binary failover-bench)
echo "failover-bench: $ITERATIONS failovers, probe interval ${INTERVAL_MS}ms (goal: p99 <= 10 ms)"
"$BIN" "$ITERATIONS" "$INTERVAL_MS"
