#!/usr/bin/env bash
# Benchmark (c) of issue 2: an idle controller probing 3 sites x 3 checks (ping, tcp, https:
# the lab's nginx sites) every second. Reports steady-state RSS and CPU share of one core.
# Goal: <= 40 MB RSS and <= 1% of one core. The workload is fixed here (its own config, no
# groups, no database checks) so the figure stays comparable as the lab grows;
# WITH_LAB=1 measures the whole lab config instead (databases, group web).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
WARMUP=${WARMUP:-10}
MEASURE=${MEASURE:-60}
SWIFT=${SWIFT:-swift}

BIN=$(release_binary failoverctl)
RUN_DIR=$(mktemp -d /tmp/fo-bench-idle.XXXXXX)
export LAB_DIR="$RUN_DIR/lab"
export FAILOVERCTL_LAB_CA="$LAB_DIR/ca.pem"
export FAILOVERCTL_LAB_PG="$LAB_DIR/pg"
export FAILOVERCTL_STATE_DIR="$RUN_DIR/state"
export FAILOVERCTL_LISTEN="127.0.0.1:$(free_port)"
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    deploy/lab/servers.sh stop >/dev/null 2>&1 || true
    deploy/lab/lab.sh stop >/dev/null 2>&1 || true
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT
deploy/lab/lab.sh start >/dev/null
CONFIG=deploy/lab/failoverctl.yaml
if [ "${WITH_LAB:-0}" = 1 ]; then
    # The lab's east and west also check their PostgreSQL servers (run as user postgres).
    chmod 711 "$RUN_DIR"
    deploy/lab/servers.sh start >/dev/null
else
    CONFIG="$RUN_DIR/failoverctl.yaml"
    mkdir -p "$RUN_DIR/sites"
    for site in east west eu; do
        # The site files without their database check and actions.
        sed -n '/^  - name: db$/q;p' "sites/$site.yaml" >"$RUN_DIR/sites/$site.yaml"
    done
    printf 'controller:\n  id: bench\n  listen: %s\n  state_dir: %s\nsites: sites/\n' \
        "$FAILOVERCTL_LISTEN" "$FAILOVERCTL_STATE_DIR" >"$CONFIG"
fi
"$BIN" run --config "$CONFIG" --log-level warning 2>"$RUN_DIR/controller.log" &
PID=$!
sleep "$WARMUP"
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
start_ticks=$(ticks)
max_rss=0
for _ in $(seq "$MEASURE"); do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
    [ "$rss" -gt "$max_rss" ] && max_rss=$rss
    sleep 1
done
end_ticks=$(ticks)
status=$("$BIN" status --config "$CONFIG" || true)
status=${status%%$'\n'*}
python3 - "$start_ticks" "$end_ticks" "$HZ" "$MEASURE" "$max_rss" "$status" <<'PY'
import sys
start, end, hz, secs, rss_kb, status = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
cpu = (end - start) / hz
share = 100 * cpu / secs
print(f"idle controller, 3 sites x 3 checks at 1s, {secs}s measured after warm-up")
print(f"  status: {status}")
print(f"  CPU: {cpu:.2f}s over {secs}s = {share:.2f}% of one core (goal <= 1%)")
print(f"  max RSS: {rss_kb/1024:.1f} MB (goal <= 40 MB)")
print(f"  result: {'PASS' if share <= 1.0 and rss_kb <= 40*1024 else 'FAIL'}")
PY
