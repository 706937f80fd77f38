#!/usr/bin/env bash
# `make demo`: builds failoverctl, starts the three-site lab (deploy/lab/lab.sh), runs a
# controller on it, fails site east and brings it back, and shows what failoverctl saw
# with the measured time of each step. Everything it starts is stopped on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SWIFT=${SWIFT:-swift}
CONFIG=deploy/lab/failoverctl.yaml
LAB=deploy/lab/lab.sh
POLL=0.2           # seconds between `status` polls
START_TIMEOUT=60   # seconds for the controller to see all sites up
CHANGE_TIMEOUT=30  # seconds for a site to be marked down or up again

RUN_DIR=$(mktemp -d /tmp/failoverctl-demo.XXXXXX)
CTL_PID=""
LOG="$RUN_DIR/controller.log"
LOG_SHOWN=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$CTL_PID" ]; then
        stop_controller >/dev/null 2>&1 || true
    fi
    LAB_DIR="$RUN_DIR/lab" "$LAB" stop >/dev/null 2>&1 || true
    rm -rf "$RUN_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_us() { local t=$EPOCHREALTIME; echo "${t//[.,]/}"; }
# Seconds since a now_us mark, with one decimal: "3.1".
since() { local d=$(($(now_us) - $1)); printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000)); }

header() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
indent() { sed 's/^/   | /'; }

# Prints the controller's log lines written since the last call.
show_log() {
    [ -f "$LOG" ] || return 0
    local total
    total=$(wc -l <"$LOG")
    if [ "$total" -gt "$LOG_SHOWN" ]; then
        sed -n "$((LOG_SHOWN + 1)),${total}s/^/   controller> /p" "$LOG"
        LOG_SHOWN=$total
    fi
}


status_code() { "$BIN" status --config "$CONFIG" >/dev/null 2>&1 && echo 0 || echo $?; }

status_meaning() {
    case "$1" in
        0) echo "all sites up" ;;
        1) echo "warning" ;;
        2) echo "critical: a site is down" ;;
        3) echo "unknown" ;;
        *) echo "unexpected" ;;
    esac
}

show_status() {
    local rc=0 out
    out=$("$BIN" status --config "$CONFIG" 2>&1) || rc=$?
    say "\$ failoverctl status --config $CONFIG"
    printf '%s\n' "$out" | indent
    say "(exit $rc: $(status_meaning "$rc"))"
}

# Polls `failoverctl status` until it exits with $1, for at most $2 seconds.
# Fails the demo with the controller's log if the controller dies or time runs out.
wait_status() {
    local want=$1 limit=$2 what=$3 start rc
    start=$(now_us)
    while :; do
        rc=$(status_code)
        [ "$rc" = "$want" ] && return 0
        if ! kill -0 "$CTL_PID" 2>/dev/null; then
            echo "demo: the controller exited while waiting until $what" >&2
            show_log >&2
            exit 1
        fi
        if [ $(($(now_us) - start)) -ge $((limit * 1000000)) ]; then
            echo "demo: timed out after ${limit}s waiting until $what (status exits $rc, wanted $want)" >&2
            show_status >&2
            show_log >&2
            exit 1
        fi
        sleep "$POLL"
    done
}

stop_controller() {
    local pid=$CTL_PID start rc=0
    start=$(now_us)
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ $(($(now_us) - start)) -ge 10000000 ]; then
            say "controller did not stop within 10 s of SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || rc=$?
    CTL_PID=""
    say "controller stopped (exit $rc) $(since "$start") s after SIGTERM"
}

header "[1/6] Building failoverctl (swift build --product failoverctl; the first build takes minutes)"
t=$(now_us)
if ! "$SWIFT" build --product failoverctl >"$RUN_DIR/build.log" 2>&1; then
    echo "demo: swift build failed:" >&2
    grep -E 'error:|warning: unable|fatal' "$RUN_DIR/build.log" >&2 || tail -n 40 "$RUN_DIR/build.log" >&2
    exit 1
fi
BIN="$("$SWIFT" build --show-bin-path)/failoverctl"
say "built $BIN in $(since "$t") s"

header "[2/6] Starting the lab: one nginx, three TLS sites on loopback"
export LAB_DIR="$RUN_DIR/lab"
export FAILOVERCTL_LAB_CA="$LAB_DIR/ca.pem"
export FAILOVERCTL_STATE_DIR="$RUN_DIR/state"
FAILOVERCTL_LISTEN="127.0.0.1:$(free_port)"
export FAILOVERCTL_LISTEN
t=$(now_us)
"$LAB" start | indent
say "lab ready in $(since "$t") s: east :18441, west :18442, eu :18443 (GET /health)"
say "\$ failoverctl check --config $CONFIG"
"$BIN" check --config "$CONFIG" 2>&1 | indent

header "[3/6] Starting the controller (local coordination, API on $FAILOVERCTL_LISTEN)"
say "\$ failoverctl run --config $CONFIG --log-level info"
t=$(now_us)
"$BIN" run --config "$CONFIG" --log-level info >"$LOG" 2>&1 &
CTL_PID=$!
wait_status 0 "$START_TIMEOUT" "all sites are up"
T_START=$(since "$t")
show_log
say "all sites up $T_START s after the controller started (rise=2 good rounds at interval 1s)"
show_status

header "[4/6] Failing east: its /health now answers 503"
t=$(now_us)
"$LAB" down east | indent
say "ping and tcp still pass, but require: all fails the round when the api check fails;"
say "after fall=3 failed rounds (1 s apart) failoverctl marks east down."
wait_status 2 "$CHANGE_TIMEOUT" "east is marked down"
T_DOWN=$(since "$t")
show_log
say "east marked down $T_DOWN s after it started failing"
show_status
say "\$ failoverctl events --config $CONFIG --since 5m"
"$BIN" events --config "$CONFIG" --since 5m 2>&1 | indent

header "[5/6] Restoring east: /health answers 200 again"
t=$(now_us)
"$LAB" up east | indent
say "after rise=2 good rounds failoverctl marks east up again."
wait_status 0 "$CHANGE_TIMEOUT" "east is up again"
T_UP=$(since "$t")
show_log
say "east marked up $T_UP s after it recovered"
show_status
say "\$ failoverctl events --config $CONFIG --site east --since 5m"
"$BIN" events --config "$CONFIG" --site east --since 5m 2>&1 | indent

header "[6/6] Stopping the controller (SIGTERM)"
stop_controller
show_log

header "Summary"
say "all sites up after start:   $T_START s"
say "east down -> marked down:   $T_DOWN s  (fall 3 x interval 1s)"
say "east up -> marked up:       $T_UP s  (rise 2 x interval 1s)"
say "the lab and the temporary directory $RUN_DIR are removed now."
