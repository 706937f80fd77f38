#!/usr/bin/env bash
# Benchmark of lossless role changes: DRILLS planned drills back and forth between east and
# west in the lab of real servers (PostgreSQL primary + replica, HAProxy, PowerDNS, nginx
# sites), release build, with a client inserting a row every 50 ms into whichever database
# accepts it and recording every acknowledgement. Each drill fences the old primary, waits
# until the target replayed its final WAL position, promotes, switches HAProxy and DNS,
# verifies, then rejoins the old primary as a streaming replica (pg_rewind). Prints the
# drills' RTO p50/p95 (goal p95 <= 1 s), the rejoin times, and the acknowledged rows missing
# from the final primary (goal 0).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
DRILLS=${DRILLS:-10}
BIN=$(release_binary failoverctl)
CONFIG=deploy/lab/failoverctl.yaml
RUN_DIR=$(mktemp -d /tmp/fo-bench-drill.XXXXXX)
chmod 711 "$RUN_DIR"
export LAB_DIR="$RUN_DIR/lab" FAILOVERCTL_LAB_CA="$RUN_DIR/lab/ca.pem" FAILOVERCTL_LAB_PG="$RUN_DIR/lab/pg"
export FAILOVERCTL_STATE_DIR="$RUN_DIR/state" FAILOVERCTL_LISTEN="127.0.0.1:$(free_port)"
export FAILOVERCTL_API_TOKEN="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
PID=""
WRITER=""
cleanup() {
    [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null && wait "$WRITER" 2>/dev/null || true
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    deploy/lab/servers.sh stop >/dev/null 2>&1 || true
    deploy/lab/lab.sh stop >/dev/null 2>&1 || true
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT

show_logs() { echo "controller log:"; tail -n 30 "$RUN_DIR/controller.log" || true; }
status_ok() { "$BIN" status --config "$CONFIG" >/dev/null 2>&1; }
sql() { runuser -u postgres -- psql -X -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAq -c "$2"; }

# The client: every 50 ms the next id, into east (15432) or else west (15433); an id is
# written to acked.log only once a server acknowledged its INSERT.
writer() {
    local id=0 port
    while :; do
        id=$((id + 1))
        for port in 15432 15433; do
            if sql "$port" "INSERT INTO acked VALUES ($id)" >/dev/null 2>&1; then
                echo "$id $port" >>"$RUN_DIR/acked.log"
                break
            fi
        done
        sleep 0.05
    done
}

deploy/lab/lab.sh start >/dev/null
deploy/lab/servers.sh start >/dev/null
"$BIN" run --config "$CONFIG" --log-level warning 2>"$RUN_DIR/controller.log" &
PID=$!
wait_for 60 "all sites up" status_ok
sql 15432 "CREATE TABLE acked (id int PRIMARY KEY)"
wait_for 30 "the table on west" bash -c "runuser -u postgres -- psql -X -h 127.0.0.1 -p 15433 -U postgres -tAc 'SELECT 1 FROM acked LIMIT 1' >/dev/null 2>&1"
writer &
WRITER=$!
echo "bench-drill: $DRILLS planned drills east <-> west with a client writing every 50 ms (goals: RTO p95 <= 1 s, 0 rows lost)"
target=west
for drill in $(seq "$DRILLS"); do
    "$BIN" drill --planned --config "$CONFIG" --group web --to "$target" >"$RUN_DIR/drill-$drill.out" 2>&1 || {
        cat "$RUN_DIR/drill-$drill.out" >&2
        exit 1
    }
    # The next drill needs the old primary streaming again (the plan's rejoin) and both sites up.
    wait_for 60 "status OK after drill $drill" status_ok
    echo "  drill $drill to $target done"
    [ "$target" = west ] && target=east || target=west
done
sleep 0.5
kill "$WRITER" && wait "$WRITER" 2>/dev/null || true
WRITER=""
primary=$([ "$target" = west ] && echo 15432 || echo 15433)
sql "$primary" "SELECT id FROM acked ORDER BY id" >"$RUN_DIR/rows.txt"
"$BIN" report --config "$CONFIG" --group web --json >"$RUN_DIR/report.json"
python3 - "$RUN_DIR/report.json" "$RUN_DIR/acked.log" "$RUN_DIR/rows.txt" <<'PY'
import json, statistics, sys
incidents = json.load(open(sys.argv[1]))
acked = [line.split() for line in open(sys.argv[2]) if line.strip()]
rows = {int(line) for line in open(sys.argv[3]) if line.strip()}
drills = [i for i in incidents if i["incident"]["kind"] == "drill"]
rto = sorted(i["measures"]["rto_ms"] for i in drills)
rejoin = sorted(s["ended_at"] - s["started_at"] for i in drills for s in i["incident"]["steps"] if s["kind"] == "rejoin")
rpo = [i["incident"].get("lag", {}).get("bytes") for i in drills]
def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
lost = [int(i) for i, _ in acked if int(i) not in rows]
by_server = {port: sum(1 for _, p in acked if p == port) for port in ("15432", "15433")}
print(f"  drills: {len(drills)}, RTO p50 {pct(rto, 50)} ms, p95 {pct(rto, 95)} ms, max {rto[-1]} ms (runs: {', '.join(map(str, rto))})")
print(f"  rejoin: p50 {pct(rejoin, 50):.0f} ms, max {rejoin[-1]:.0f} ms (outside the RTO)")
print(f"  RPO bytes per drill: {rpo}")
print(f"  rows acknowledged: {len(acked)} (east {by_server['15432']}, west {by_server['15433']}), missing from the final primary: {len(lost)} {lost[:10]}")
ok = pct(rto, 95) <= 1000 and not lost and all(b == 0 for b in rpo)
print("  " + ("PASS" if ok else "FAIL") + " (goals: RTO p95 <= 1000 ms, 0 rows lost, RPO 0 B)")
sys.exit(0 if ok else 1)
PY
