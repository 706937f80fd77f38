#!/usr/bin/env bash
# Benchmark (b) of the core issue: one controller probing 1,000 HTTP targets (1,000
# sites of one check each) every second against a loopback nginx. Reports peak RSS,
# CPU, and whether rounds stay on schedule (rounds run vs due, late rounds, worst
# lateness from the controller's /healthz). Goal: RSS <= 60 MB, probes on schedule.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
TARGETS=${TARGETS:-1000}
WARMUP=${WARMUP:-15}
MEASURE=${MEASURE:-60}
SWIFT=${SWIFT:-swift}

BIN=$(release_binary failoverctl)
RUN_DIR=$(mktemp -d /tmp/fo-bench-scale.XXXXXX)
NGINX_PORT=$(free_port)
API=127.0.0.1:$(free_port)
PID=""
NGINX_PID=""
cleanup() {
    [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; } || true
    [ -n "$NGINX_PID" ] && { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; } || true
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT

mkdir -p "$RUN_DIR/nginx/logs" "$RUN_DIR/sites"
cat >"$RUN_DIR/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $RUN_DIR/nginx/nginx.pid;
error_log $RUN_DIR/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $RUN_DIR/nginx/body;
    proxy_temp_path $RUN_DIR/nginx/proxy;
    fastcgi_temp_path $RUN_DIR/nginx/fastcgi;
    uwsgi_temp_path $RUN_DIR/nginx/uwsgi;
    scgi_temp_path $RUN_DIR/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
CONF
/usr/sbin/nginx -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!

cat >"$RUN_DIR/failoverctl.yaml" <<YML
controller:
  id: bench-scale
  listen: $API
  state_dir: $RUN_DIR/state
coordination:
  backend: local
sites: sites/
YML
for i in $(seq -w 1 "$TARGETS"); do
    printf 'name: t%s\ninterval: 1s\ntimeout: 800ms\nchecks:\n  - name: http\n    http: http://127.0.0.1:%s/health/%s\n' \
        "$i" "$NGINX_PORT" "$i" >"$RUN_DIR/sites/t$i.yaml"
done
"$BIN" check --config "$RUN_DIR/failoverctl.yaml" >/dev/null
"$BIN" run --config "$RUN_DIR/failoverctl.yaml" --log-level warning 2>"$RUN_DIR/controller.log" &
PID=$!
sleep "$WARMUP"
kill -0 "$PID" || { cat "$RUN_DIR/controller.log" >&2; exit 1; }

healthz() { curl -fsS "http://$API/healthz"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['schedule'][sys.argv[2]])" "$1" "$2"; }
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
before=$(healthz); start_ticks=$(ticks); start_ms=$(date +%s%3N); max_rss=0
for _ in $(seq "$MEASURE"); do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
    [ "$rss" -gt "$max_rss" ] && max_rss=$rss
    sleep 1
done
after=$(healthz); end_ticks=$(ticks); elapsed_ms=$(( $(date +%s%3N) - start_ms ))
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
split=$(awk '/RssAnon|RssFile|Threads/ {printf "%s %s ", $1, $2}' "/proc/$PID/status")
rounds=$(( $(field "$after" rounds) - $(field "$before" rounds) ))
late=$(( $(field "$after" late_rounds) - $(field "$before" late_rounds) ))
worst=$(field "$after" max_lateness_ms)
up=$("$BIN" status --config "$RUN_DIR/failoverctl.yaml" --json | python3 -c "import json,sys; r=json.load(sys.stdin); print(sum(1 for s in r['sites'] if s['state']=='up'))")
python3 - "$TARGETS" "$MEASURE" "$rounds" "$late" "$worst" "$start_ticks" "$end_ticks" "$HZ" "$max_rss" "$hwm" "$up" "$split" "$elapsed_ms" <<'PY'
import sys
targets, secs, rounds, late, worst, t0, t1, hz, rss, hwm, up = map(int, sys.argv[1:12])
elapsed = int(sys.argv[13]) / 1000
due = round(targets * elapsed)
cpu = (t1 - t0) / hz
print(f"{targets} HTTP targets at 1s, {elapsed:.1f}s measured")
print(f"  sites up: {up} of {targets}")
print(f"  rounds run: {rounds} of {due} due ({100*rounds/due:.1f}%), late (>100 ms): {late}, worst lateness since start: {worst} ms")
print(f"  CPU: {cpu:.1f}s = {100*cpu/elapsed:.1f}% of one core")
print(f"  RSS: max sampled {rss/1024:.1f} MB, peak (VmHWM) {hwm/1024:.1f} MB (goal <= 60 MB)")
ok = hwm <= 60*1024 and rounds >= 0.99*due and late <= 0.01*max(rounds,1) and up == targets
print(f"  now: {sys.argv[12]}")
print(f"  result: {'PASS' if ok else 'FAIL'}")
PY
