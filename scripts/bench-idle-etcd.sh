#!/usr/bin/env bash
# Benchmark: idle controllers coordinated through etcd. Three controllers (bench-1..3) on the
# lab's 3-member etcd (deploy/lab/etcd.sh: lease 3 s, poll 100 ms), each probing the lab's 3
# sites every second with 3 tcp checks each (CHECKS=lab: the sites' own ping, tcp and https
# checks), with group web (a plan that never runs: nothing fails). Measures each controller's
# CPU share of one core and peak RSS over MEASURE seconds after WARMUP, the leader apart.
# Goal: an etcd-mode controller idles at <= 1% of one core (the tcp workload is the one the
# goal was set on).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
WARMUP=${WARMUP:-10}
MEASURE=${MEASURE:-60}
BIN=$(release_binary failoverctl)
RUN_DIR=$(mktemp -d /tmp/fo-bench-idle-etcd.XXXXXX)
export LAB_DIR="$RUN_DIR/lab" FAILOVERCTL_LAB_CA="$RUN_DIR/lab/ca.pem" FAILOVERCTL_LAB_PG="$RUN_DIR/lab/pg"
pids=()
declare -A LISTEN PID
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    deploy/lab/lab.sh stop >/dev/null 2>&1 || true
    deploy/lab/etcd.sh stop >/dev/null 2>&1 || true
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT
deploy/lab/lab.sh start >/dev/null
deploy/lab/etcd.sh start >/dev/null
mkdir -p "$RUN_DIR/sites"
for site in east west eu; do
    if [ "${CHECKS:-tcp}" = lab ]; then
        sed -n '/^  - name: db$/q;p' "sites/$site.yaml" >"$RUN_DIR/sites/$site.yaml"
    else
        # The site's header, then its TCP port checked three times.
        port=$(sed -n 's/^    tcp: 127.0.0.1:\([0-9]*\)$/\1/p' "sites/$site.yaml" | head -n 1)
        { sed -n '/^checks:$/q;p' "sites/$site.yaml"; echo "checks:"
          for n in 1 2 3; do printf '  - name: tcp%s\n    tcp: 127.0.0.1:%s\n' "$n" "$port"; done; } >"$RUN_DIR/sites/$site.yaml"
    fi
done
cat >"$RUN_DIR/failoverctl.yaml" <<YAML
controller:
  id: \${FAILOVERCTL_ID}
  listen: \${FAILOVERCTL_LISTEN}
  state_dir: \${FAILOVERCTL_STATE_DIR}
coordination:
  backend: etcd
  members: [bench-1, bench-2, bench-3]
  etcd:
    endpoints: [http://127.0.0.1:12379, http://127.0.0.1:22379, http://127.0.0.1:32379]
    prefix: /failoverctl/bench-idle-$$
    lease_ttl: 3s
    timeout: 500ms
    poll: 100ms
sites: sites/
groups:
  - name: web
    primary: east
    standbys: [west]
    plan:
      - exec: ["/bin/true"]
YAML
for id in bench-1 bench-2 bench-3; do
    LISTEN[$id]="127.0.0.1:$(free_port)"
    FAILOVERCTL_ID=$id FAILOVERCTL_LISTEN=${LISTEN[$id]} FAILOVERCTL_STATE_DIR="$RUN_DIR/state-$id" \
        "$BIN" run --config "$RUN_DIR/failoverctl.yaml" --log-level warning 2>"$RUN_DIR/$id.log" &
    PID[$id]=$!
    pids+=($!)
done
sleep "$WARMUP"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
declare -A START MAXRSS
for id in bench-1 bench-2 bench-3; do START[$id]=$(ticks "${PID[$id]}"); MAXRSS[$id]=0; done
for _ in $(seq "$MEASURE"); do
    for id in bench-1 bench-2 bench-3; do
        rss=$(awk '/VmRSS/ {print $2}' "/proc/${PID[$id]}/status")
        [ "$rss" -gt "${MAXRSS[$id]}" ] && MAXRSS[$id]=$rss
    done
    sleep 1
done
leader=$(FAILOVERCTL_ID=bench-1 FAILOVERCTL_LISTEN=${LISTEN[bench-1]} FAILOVERCTL_STATE_DIR="$RUN_DIR/state-bench-1" \
    "$BIN" status --config "$RUN_DIR/failoverctl.yaml" --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["coordination"].get("leader") or "none")' || echo none)
echo "idle controllers on etcd: 3 controllers, 3 sites x 3 ${CHECKS:-tcp} checks at 1 s, poll 100 ms, ${MEASURE}s measured after warm-up"
worst=0
for id in bench-1 bench-2 bench-3; do
    end=$(ticks "${PID[$id]}")
    share=$(python3 -c "print(f'{100 * ($end - ${START[$id]}) / $HZ / $MEASURE:.2f}')")
    role=follower; [ "$id" = "$leader" ] && role=leader
    echo "  $id ($role): CPU $share% of one core, max RSS $(python3 -c "print(f'{${MAXRSS[$id]} / 1024:.1f}')") MB"
    worst=$(python3 -c "print(max($worst, $share))")
done
echo "  result: $(python3 -c "print('PASS' if $worst <= 1.0 else 'FAIL')") (goal <= 1% of one core for each; worst $worst%)"
