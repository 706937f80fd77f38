#!/usr/bin/env bash
# Benchmark of issue 5: three controllers (lab-1..3) coordinated through a real 3-member etcd,
# over the lab of real servers (PostgreSQL primary + replica, HAProxy, PowerDNS, nginx sites),
# interval 1 s, fall 3, release build. Each run crashes east's database and fails its /health
# (an unplanned failover east -> west), then rejoins east and drills back through the leader.
# Prints:
#   - from the last needed vote to the leader's decision (goal: p99 <= 200 ms): for every
#     quorum verdict change the leader saw, the time from the vote that completed the quorum
#     (the needed-th controller's site_state_changed, mirrored into the leader's log) to the
#     leader's failover_started (for east going down) or quorum_verdict_changed;
#   - the unplanned failovers' RTO (goal: p95 <= 5 s), as `report` measures it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
RUNS=${RUNS:-20}
BIN=$(release_binary failoverctl)
CONFIG=deploy/lab/failoverctl-quorum.yaml
RESULTS=$(mktemp /tmp/fo-bench-quorum-results.XXXXXX)
run_dir=""
pids=()
declare -A LISTEN
# Stops what the current run started (on every exit path, a failed wait included).
cleanup_run() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    pids=()
    if [ -n "$run_dir" ]; then
        deploy/lab/servers.sh stop >/dev/null 2>&1 || true
        deploy/lab/lab.sh stop >/dev/null 2>&1 || true
        deploy/lab/etcd.sh stop >/dev/null 2>&1 || true
        rm -rf "$run_dir"
    fi
    run_dir=""
}
trap 'cleanup_run; rm -f "$RESULTS"' EXIT

# failoverctl as controller $1 (its id, listen address and state).
as() {
    local id=$1
    shift
    FAILOVERCTL_ID=$id FAILOVERCTL_LISTEN=${LISTEN[$id]} FAILOVERCTL_STATE_DIR="$run_dir/state-$id" "$BIN" "$@"
}

show_logs() {
    echo "controller logs:"
    for id in lab-1 lab-2 lab-3; do echo "== $id"; tail -n 20 "$run_dir/$id.log" || true; done
}

# Python over `status --json` of controller $1: exits 0 when the expression holds.
status_is() {
    local id=$1 expr=$2
    { as "$id" status --config "$CONFIG" --json 2>/dev/null || true; } | python3 -c "
import json, sys
try: s = json.load(sys.stdin)
except ValueError: sys.exit(1)
g = next((g for g in s.get('groups', []) if g['name'] == 'web'), None)
sites = {x['name']: x['quorum']['verdict'] for x in s['sites']}
sys.exit(0 if ($expr) else 1)"
}
all_status() { local id; for id in lab-1 lab-2 lab-3; do status_is "$id" "$1" || return 1; done; }
leader() { as lab-1 status --config "$CONFIG" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["coordination"].get("leader") or "")' || true; }

run_once() {
    run_dir=$(mktemp -d /tmp/fo-bench-quorum.XXXXXX)
    chmod 711 "$run_dir"
    export LAB_DIR="$run_dir/lab" FAILOVERCTL_LAB_CA="$run_dir/lab/ca.pem"
    export FAILOVERCTL_LAB_PG="$run_dir/lab/pg"
    export FAILOVERCTL_API_TOKEN="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    deploy/lab/lab.sh start >/dev/null
    deploy/lab/servers.sh start >/dev/null
    deploy/lab/etcd.sh start >/dev/null
    local id
    for id in lab-1 lab-2 lab-3; do
        LISTEN[$id]="127.0.0.1:$(free_port)"
        # Not through `as`: a function in the background is a subshell, and $! its pid.
        FAILOVERCTL_ID=$id FAILOVERCTL_LISTEN=${LISTEN[$id]} FAILOVERCTL_STATE_DIR="$run_dir/state-$id" \
            "$BIN" run --config "$CONFIG" --log-level notice 2>"$run_dir/$id.log" &
        pids+=($!)
    done
    wait_for 60 "all sites up by quorum and one leader" all_status \
        "s['coordination']['quorate'] and s['coordination'].get('leader') and all(v == 'up' for v in sites.values())"
    deploy/lab/servers.sh kill-db east >/dev/null
    deploy/lab/lab.sh down east >/dev/null
    wait_for 60 "web on west" all_status "g['primary'] == 'west' and g['phase'] == 'steady'"
    deploy/lab/servers.sh rejoin east west >/dev/null
    deploy/lab/lab.sh up east >/dev/null
    wait_for 60 "east up again" all_status "sites['east'] == 'up'"
    local lead
    lead=$(leader)
    as "$lead" drill --planned --config "$CONFIG" --group web --to east >/dev/null
    sleep 1.5  # the last events reach the leader's log through etcd (exchanged every 0.5 s)
    { echo "{\"leader\": \"$lead\", \"events\": "; as "$lead" events --config "$CONFIG" --json --limit 100000; echo ", \"report\": "
      as "$lead" report --config "$CONFIG" --json || true; echo "},"; } >>"$RESULTS"
    cleanup_run
}

echo "bench-quorum: $RUNS runs, 3 controllers + etcd + the lab, interval 1 s, fall 3 (goals: vote -> decision p99 <= 200 ms, RTO p95 <= 5 s)"
echo "[" >"$RESULTS"
for run in $(seq "$RUNS"); do run_once; echo "  run $run done"; done
echo "{}]" >>"$RESULTS"
python3 - "$RESULTS" <<'PY'
import json, math, sys
runs = json.load(open(sys.argv[1]))[:-1]
needed = 2
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1)]
latencies, rtos = [], []
for run in runs:
    leader, events = run["leader"], run["events"]
    for change in [e for e in events if e["kind"] == "quorum_verdict_changed" and e["controller"] == leader]:
        site, to = change["site"], change["details"]["to"]
        if to not in ("up", "down"):
            continue
        # Each controller's latest transition of SITE to TO before the leader's verdict.
        votes = {}
        for e in events:
            if e["kind"] == "site_state_changed" and e.get("site") == site and e["at"] <= change["at"] + 1000 \
                    and e["details"].get("to") == to and e["at"] > change["at"] - 30000:
                votes[e["controller"]] = max(votes.get(e["controller"], 0), e["at"])
        if len(votes) < needed:
            continue
        last_needed = sorted(votes.values())[needed - 1]
        decided = change["at"]
        if site == "east" and to == "down":
            started = [e["at"] for e in events if e["kind"] == "failover_started" and e["at"] >= last_needed]
            decided = min(started) if started else decided
        latencies.append(decided - last_needed)
    for incident in run["report"] or []:
        i = incident["incident"]
        if i["kind"] == "failover" and incident["measures"].get("rto_ms") is not None:
            rtos.append(incident["measures"]["rto_ms"])
print(f"  last needed vote -> leader's decision: {len(latencies)} samples, p50 {pct(latencies, 50)} ms, "
      f"p90 {pct(latencies, 90)} ms, p99 {pct(latencies, 99)} ms, max {max(latencies)} ms: "
      + ("PASS" if pct(latencies, 99) <= 200 else "FAIL") + " (goal p99 <= 200 ms)")
print(f"  unplanned failover RTO: {len(rtos)} runs, p50 {pct(rtos, 50) / 1000:.2f} s, p95 {pct(rtos, 95) / 1000:.2f} s, "
      f"max {max(rtos) / 1000:.2f} s: " + ("PASS" if pct(rtos, 95) <= 5000 else "FAIL") + " (goal p95 <= 5 s)")
print("  RTO per run (s): " + ", ".join(f"{r / 1000:.2f}" for r in rtos))
PY
