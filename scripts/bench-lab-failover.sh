#!/usr/bin/env bash
# Benchmark of issue 4: a whole failover in the lab of real servers (PostgreSQL primary +
# replica, HAProxy, PowerDNS, nginx sites), release build. Each run crashes east's database
# and fails its /health (an unplanned failover), then rejoins east and runs a planned drill
# back. Prints each step's time, the plan's, and the controller's own overhead: the time from
# the quorum verdict (or the drill's decision) to the last step's end that no step accounts
# for (decision, bookkeeping, the gaps between steps). Goal: overhead <= 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
RUNS=${RUNS:-3}
BIN=$(release_binary failoverctl)
CONFIG=deploy/lab/failoverctl.yaml
RESULTS=$(mktemp /tmp/fo-bench-lab-results.XXXXXX)
run_dir=""
pid=""
# Stops what the current run started (on every exit path, a failed wait included).
cleanup_run() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    pid=""
    if [ -n "$run_dir" ]; then
        deploy/lab/servers.sh stop >/dev/null 2>&1 || true
        deploy/lab/lab.sh stop >/dev/null 2>&1 || true
        rm -rf "$run_dir"
    fi
    run_dir=""
}
trap 'cleanup_run; rm -f "$RESULTS"' EXIT

run_once() {
    run_dir=$(mktemp -d /tmp/fo-bench-lab.XXXXXX)
    chmod 711 "$run_dir"
    export LAB_DIR="$run_dir/lab" FAILOVERCTL_LAB_CA="$run_dir/lab/ca.pem" FAILOVERCTL_STATE_DIR="$run_dir/state"
    export FAILOVERCTL_LAB_PG="$run_dir/lab/pg"
    export FAILOVERCTL_LISTEN="127.0.0.1:$(free_port)"
    export FAILOVERCTL_API_TOKEN="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    deploy/lab/lab.sh start >/dev/null
    deploy/lab/servers.sh start >/dev/null
    "$BIN" run --config "$CONFIG" --log-level warning 2>"$run_dir/controller.log" &
    pid=$!
    wait_for 60 "all sites up" bash -c "'$BIN' status --config '$CONFIG' >/dev/null 2>&1"
    deploy/lab/servers.sh kill-db east >/dev/null
    deploy/lab/lab.sh down east >/dev/null
    wait_for 60 "web on west" group_is west
    # The plan's rejoin step has made east's database a replica of west already.
    deploy/lab/lab.sh up east >/dev/null
    wait_for 60 "east up again" bash -c "'$BIN' status --config '$CONFIG' >/dev/null 2>&1"
    "$BIN" drill --planned --config "$CONFIG" --group web --to east >/dev/null
    "$BIN" events --config "$CONFIG" --json >>"$RESULTS"
    echo "," >>"$RESULTS"
    cleanup_run
}

show_logs() { echo "controller log:"; tail -n 30 "$run_dir/controller.log" || true; }

group_is() {
    # status exits 1 (a standby down) while the pipeline must report only python's verdict.
    { "$BIN" status --config "$CONFIG" --json 2>/dev/null || true; } | python3 -c '
import json, sys
g = next(g for g in json.load(sys.stdin)["groups"] if g["name"] == "web")
sys.exit(0 if (g["primary"], g["phase"]) == (sys.argv[1], "steady") else 1)' "$1"
}

echo "bench-lab-failover: $RUNS runs of an unplanned failover east -> west and a drill back (goal: overhead <= 50 ms)"
echo "[" >"$RESULTS"
for run in $(seq "$RUNS"); do run_once; echo "  run $run done"; done
echo "[]]" >>"$RESULTS"
python3 - "$RESULTS" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))[:-1]
rows, overheads = {}, []
for events in runs:
    down = [e for e in events if e["kind"] == "quorum_verdict_changed" and e.get("site") == "east" and e["details"]["to"] == "down"][0]["at"]
    for started in [e for e in events if e["kind"] == "failover_started"]:
        epoch = started["epoch"]
        steps = [e for e in events if e["kind"] == "step_finished" and e.get("epoch") == epoch]
        done = [e for e in events if e["kind"] == "failover_succeeded" and e.get("epoch") == epoch][0]["at"]
        kind = started["details"]["kind"]
        begin = down if kind == "failover" else started["at"]
        for s in steps:
            rows.setdefault((kind, s["details"]["step"], s["details"]["step_kind"]), []).append(s["details"]["duration_ms"])
        busy = sum(s["details"]["duration_ms"] for s in steps)
        overheads.append((kind, done - begin, busy, done - begin - busy))
for (kind, index, step), values in sorted(rows.items()):
    print(f"  {kind:8} step {index + 1} {step:8} median {statistics.median(values):7.1f} ms  (runs: {', '.join(f'{v:.0f}' for v in values)})")
for kind, total, busy, overhead in overheads:
    print(f"  {kind:8} {'verdict' if kind == 'failover' else 'decision'} -> last step {total} ms, in steps {busy:.0f} ms, controller overhead {overhead:.0f} ms")
worst = max(o[3] for o in overheads)
print(f"  worst overhead {worst:.0f} ms: " + ("PASS" if worst <= 50 else "FAIL") + " (goal <= 50 ms)")
PY
