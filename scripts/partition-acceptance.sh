#!/usr/bin/env bash
# The partition acceptance run: Tests/IntegrationTests/PartitionTests with PARTITION_RUNS
# runs per scenario (default 20) and KILL_RUNS kill -9 runs (default 10), three controllers and three etcd members in network
# namespaces of their own (needs root: ip netns, tc, setns). Prints every run's figures and
# one summary line per scenario, e.g.
#   partition all-etcd: 20 runs, 0 past the lease deadline, 0 overlaps
# Its own scratch path, so it never competes with `make test`'s .build.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SCRATCH=${SCRATCH:-.build-netns}
export PARTITION_RUNS=${PARTITION_RUNS:-20} KILL_RUNS=${KILL_RUNS:-10}
mkdir -p "$SCRATCH"
$SWIFT build --build-tests --scratch-path "$SCRATCH"
$SWIFT test --scratch-path "$SCRATCH" --skip-build --filter 'PartitionTests' 2>&1 | tee "$SCRATCH/partition.log"
