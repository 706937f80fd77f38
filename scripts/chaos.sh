#!/usr/bin/env bash
# The long chaos run: Tests/IntegrationTests/ChaosTests with CHAOS_SCHEDULES long fault
# schedules (default 50; seeds from CHAOS_SEED, default 1, so a run is the same list of
# faults every time), three controllers and three etcd members in network namespaces of
# their own (needs root: ip netns, tc, setns); then the read model's acceptance
# (ReadModelTests, READMODEL_RUNS=10) and the partition and kill -9 acceptance
# (scripts/partition-acceptance.sh, PARTITION_RUNS=20, KILL_RUNS=10) when that script exists. Prints every
# schedule, its counts and the totals, e.g.
#   chaos: 50 schedules, 143 faults, 61 failovers, 0 overlaps, 0 violations
# A schedule replays alone with CHAOS_SEED=N CHAOS_SCHEDULES=1 (its header says so).
# Its own scratch path, so it never competes with `make test`'s .build.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SCRATCH=${SCRATCH:-.build-chaos}
export CHAOS_SCHEDULES=${CHAOS_SCHEDULES:-50}
export CHAOS_SEED=${CHAOS_SEED:-1}
export CHAOS_LENGTH=${CHAOS_LENGTH:-long}
mkdir -p "$SCRATCH"
$SWIFT build --build-tests --scratch-path "$SCRATCH"
status=0
$SWIFT test --scratch-path "$SCRATCH" --skip-build --filter 'ChaosTests' 2>&1 | tee "$SCRATCH/chaos.log" || status=$?
summaries=("$SCRATCH/chaos.log")
# The read model's acceptance: 10 restarts and hand-overs on a real etcd (loopback).
READMODEL_RUNS=${READMODEL_RUNS:-10} $SWIFT test --scratch-path "$SCRATCH" --skip-build --filter 'ReadModelTests' 2>&1 |
    tee "$SCRATCH/readmodel.log" || status=$?
summaries+=("$SCRATCH/readmodel.log")
if [ -f scripts/partition-acceptance.sh ]; then
    PARTITION_RUNS=${PARTITION_RUNS:-20} SCRATCH="$SCRATCH" SWIFT="$SWIFT" bash scripts/partition-acceptance.sh || status=$?
    summaries+=("$SCRATCH/partition.log")
fi
echo "== summary"
grep -hE '^(chaos( seed [0-9]+)?|partition [a-z-]+|kill -9 of the leader|read model): ' "${summaries[@]}" || true
exit "$status"
