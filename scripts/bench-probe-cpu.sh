#!/usr/bin/env bash
# Benchmark (a) of the core issue: CPU seconds per 10,000 HTTPS probes against loopback
# nginx, failoverctl's prober (probe-bench, release build) side by side with
# prometheus-blackbox-exporter probing the same targets in the same run.
# Only the prober process's CPU is counted (getrusage for ours, /proc/PID/stat for
# blackbox's); the load driver that asks blackbox for /probe is not.
# Goal: ours <= 1.0x blackbox's CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
COUNT=${COUNT:-10000}
CONCURRENCY=${CONCURRENCY:-50}
ROUNDS=${ROUNDS:-3}
SWIFT=${SWIFT:-swift}

command -v prometheus-blackbox-exporter >/dev/null || { echo "prometheus-blackbox-exporter missing: run scripts/install-deps.sh --bench" >&2; exit 1; }
BENCH=$(release_binary probe-bench)

RUN_DIR=$(mktemp -d /tmp/fo-bench-cpu.XXXXXX)
export LAB_DIR="$RUN_DIR/lab"
BB_PID=""
cleanup() {
    if [ -n "$BB_PID" ]; then kill "$BB_PID" 2>/dev/null || true; wait "$BB_PID" 2>/dev/null || true; fi
    deploy/lab/lab.sh stop >/dev/null 2>&1 || true
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT
deploy/lab/lab.sh start >/dev/null
CA="$LAB_DIR/ca.pem"
TARGETS=(https://127.0.0.1:18441/health https://127.0.0.1:18442/health https://127.0.0.1:18443/health)

BB_PORT=$(free_port)
cat >"$RUN_DIR/blackbox.yml" <<YML
modules:
  https_2xx:
    prober: http
    timeout: 2s
    http:
      method: GET
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: $CA
YML
prometheus-blackbox-exporter --config.file="$RUN_DIR/blackbox.yml" --web.listen-address="127.0.0.1:$BB_PORT" \
    --log.level=warn >"$RUN_DIR/blackbox.log" 2>&1 &
BB_PID=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$BB_PORT/-/healthy" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$BB_PORT/-/healthy" >/dev/null || { cat "$RUN_DIR/blackbox.log" >&2; exit 1; }

HZ=$(getconf CLK_TCK)
bb_ticks() { awk '{print $14 + $15}' "/proc/$BB_PID/stat"; }

run_blackbox() {
    python3 - "$BB_PORT" "$COUNT" "$CONCURRENCY" "${TARGETS[@]}" <<'PY'
import http.client, sys, threading, urllib.parse
port, count, concurrency, targets = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
lock = threading.Lock(); state = {"next": 0, "failed": 0}
def worker():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while True:
        with lock:
            i = state["next"]
            if i >= count: return
            state["next"] += 1
        q = urllib.parse.urlencode({"module": "https_2xx", "target": targets[i % len(targets)]})
        conn.request("GET", "/probe?" + q)
        body = conn.getresponse().read()
        if b"\nprobe_success 1" not in body:
            with lock: state["failed"] += 1
threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads: t.start()
for t in threads: t.join()
print(state["failed"])
PY
}

# Warm-up for blackbox too (Go runtime, first TLS config load).
COUNT_SAVED=$COUNT; COUNT=200; run_blackbox >/dev/null; COUNT=$COUNT_SAVED
URL_ARGS=(); for t in "${TARGETS[@]}"; do URL_ARGS+=(--url "$t"); done

echo "CPU per $COUNT HTTPS probes of nginx on loopback, concurrency $CONCURRENCY, $ROUNDS rounds"
RATIOS=()
for round in $(seq "$ROUNDS"); do
    ours_line=$("$BENCH" "${URL_ARGS[@]}" --count "$COUNT" --concurrency "$CONCURRENCY" --ca-file "$CA")
    ours=$(sed -E 's/.*cpu_seconds=([0-9.]+).*/\1/' <<<"$ours_line")
    ours_failed=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$ours_line")
    ours_rss=$(sed -E 's/.*peak_rss_mb=([0-9.]+).*/\1/' <<<"$ours_line")
    before=$(bb_ticks); bb_failed=$(run_blackbox); after=$(bb_ticks)
    bb=$(python3 -c "print(f'{($after - $before) / $HZ:.3f}')")
    ratio=$(python3 -c "print(f'{$ours / $bb:.2f}')")
    RATIOS+=("$ratio")
    echo "  round $round: failoverctl ${ours}s CPU (failed $ours_failed, peak RSS ${ours_rss} MB) | blackbox ${bb}s CPU (failed $bb_failed) | ratio ${ratio}x"
done
median=$(printf '%s\n' "${RATIOS[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
echo "  median ratio: ${median}x (goal <= 1.0x): $(python3 -c "print('PASS' if $median <= 1.0 else 'FAIL')")"
