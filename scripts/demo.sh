#!/usr/bin/env bash
# `make demo`: builds failoverctl, starts the three-site lab (deploy/lab/lab.sh), runs a
# controller on it, fails site east (the primary of group web) so the group fails over to
# west, brings east back, runs a planned drill back to east, and shows what failoverctl
# saw and did with the measured RTO of each incident. Everything it starts is stopped on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SWIFT=${SWIFT:-swift}
CONFIG=deploy/lab/failoverctl.yaml
LAB=deploy/lab/lab.sh
SERVERS=deploy/lab/servers.sh
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
    LAB_DIR="$RUN_DIR/lab" "$SERVERS" stop >/dev/null 2>&1 || true
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
        0) echo "OK" ;;
        1) echo "warning: a standby down, a site suspect, a group paused or failing over" ;;
        2) echo "critical: a primary down, a group stuck" ;;
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

# Runs the check "$4..." every $POLL s until it succeeds, for at most $1 seconds; $2 says what
# is awaited and $3 is a function printing the current state for the timeout message. Fails
# the demo with the controller's log if the controller dies or time runs out.
wait_until() {
    local limit=$1 what=$2 describe=$3 start
    shift 3
    start=$(now_us)
    until "$@"; do
        if ! kill -0 "$CTL_PID" 2>/dev/null; then
            echo "demo: the controller exited while waiting until $what" >&2
            show_log >&2
            exit 1
        fi
        if [ $(($(now_us) - start)) -ge $((limit * 1000000)) ]; then
            echo "demo: timed out after ${limit}s waiting until $what ($("$describe"))" >&2
            show_status >&2
            show_log >&2
            exit 1
        fi
        sleep "$POLL"
    done
}

status_is() { [ "$(status_code)" = "$1" ]; }
describe_status() { echo "status exits $(status_code)"; }

# Polls `failoverctl status` until it exits with $1, for at most $2 seconds.
wait_status() { wait_until "$2" "$3" describe_status status_is "$1"; }

# "PRIMARY PHASE" of group $1, from `status --json`.
group_state() {
    "$BIN" status --config "$CONFIG" --json 2>/dev/null | python3 -c '
import json, sys
report = json.load(sys.stdin)
group = next((g for g in report.get("groups", []) if g["name"] == sys.argv[1]), None)
print("%s %s" % (group["primary"], group["phase"]) if group else "none none")' "$1" || true
}
group_is() { [ "$(group_state "$1")" = "$2 steady" ]; }
describe_web() { echo "group web: $(group_state web)"; }

# Polls until group $1's primary is $2 and no failover runs, for at most $3 seconds.
wait_group() { wait_until "$3" "$4" describe_web group_is "$1" "$2"; }

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

header "[1/7] Building failoverctl (swift build --product failoverctl; the first build takes minutes)"
t=$(now_us)
if ! "$SWIFT" build --product failoverctl >"$RUN_DIR/build.log" 2>&1; then
    echo "demo: swift build failed:" >&2
    grep -E 'error:|warning: unable|fatal' "$RUN_DIR/build.log" >&2 || tail -n 40 "$RUN_DIR/build.log" >&2
    exit 1
fi
BIN="$("$SWIFT" build --show-bin-path)/failoverctl"
say "built $BIN in $(since "$t") s"

header "[2/7] Starting the lab: three TLS sites (nginx), PostgreSQL primary + replica, HAProxy, PowerDNS"
export LAB_DIR="$RUN_DIR/lab"
export FAILOVERCTL_LAB_CA="$LAB_DIR/ca.pem"
export FAILOVERCTL_LAB_PG="$LAB_DIR/pg"
export FAILOVERCTL_STATE_DIR="$RUN_DIR/state"
# The bearer token the drill command sends (the lab config reads it as controller.api_token).
FAILOVERCTL_API_TOKEN="demo-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export FAILOVERCTL_API_TOKEN
FAILOVERCTL_LISTEN="127.0.0.1:$(free_port)"
export FAILOVERCTL_LISTEN
t=$(now_us)
"$LAB" start | indent
# PostgreSQL runs as user postgres: it must be able to reach its data directory in here.
chmod 711 "$RUN_DIR"
"$SERVERS" start | indent
say "lab ready in $(since "$t") s: sites east :18441, west :18442, eu :18443 (GET /health);"
say "east's database is the primary, west's its streaming replica; HAProxy sends app traffic to east;"
say "PowerDNS answers app.example.test A 127.0.0.1 (east)"
"$SERVERS" status | indent
say "\$ failoverctl check --config $CONFIG"
"$BIN" check --config "$CONFIG" 2>&1 | indent

header "[3/7] Starting the controller (local coordination, API on $FAILOVERCTL_LISTEN)"
say "\$ failoverctl run --config $CONFIG --log-level info"
t=$(now_us)
"$BIN" run --config "$CONFIG" --log-level info >"$LOG" 2>&1 &
CTL_PID=$!
wait_status 0 "$START_TIMEOUT" "all sites are up"
T_START=$(since "$t")
show_log
say "all sites up $T_START s after the controller started (rise=2 good rounds at interval 1s)"
show_status

header "[4/7] Failing east: its database crashes and its /health answers 503"
t=$(now_us)
"$SERVERS" kill-db east | indent
"$LAB" down east | indent
say "after fall=3 failed rounds (1 s apart) east is down, and group web, whose primary it is,"
say "fails over to west: drain east in HAProxy, fence east's database (it is down: the step fails"
say "and the plan goes on, as configured), promote west's replica (RPO: what west lacks of east's"
say "last WAL position the checks saw), point app.example.test at west in PowerDNS, verify west;"
say "then, outside the RTO, rejoin east's database as west's streaming replica (pg_rewind), and"
say "update the CMDB."
wait_group web west "$CHANGE_TIMEOUT" "group web has failed over to west"
T_FAILOVER=$(since "$t")
show_log
say "group web on west $T_FAILOVER s after east started failing"
show_status
say "what the real servers say now:"
"$SERVERS" status | indent
say "\$ failoverctl report --config $CONFIG --group web"
"$BIN" report --config "$CONFIG" --group web 2>&1 | indent || true

header "[5/7] Restoring east: /health answers 200; its database already follows west"
t=$(now_us)
"$LAB" up east | indent
say "the plan's rejoin step made east's database a replica of west; a human can run it too:"
say "\$ failoverctl rejoin --config $CONFIG --group web --site east"
"$BIN" rejoin --config "$CONFIG" --group web --site east 2>&1 | indent
say "after rise=2 good rounds east is up again; failback is manual, so west stays primary."
wait_status 0 "$CHANGE_TIMEOUT" "east is up again"
T_UP=$(since "$t")
show_log
say "east marked up $T_UP s after it was restored"
show_status

header "[6/7] A planned drill back to east (failoverctl drill --planned)"
say "\$ failoverctl drill --planned --config $CONFIG --group web --to east --dry-run"
"$BIN" drill --planned --config "$CONFIG" --group web --to east --dry-run 2>&1 | indent
say "\$ failoverctl drill --planned --config $CONFIG --group web --to east"
say "(a drill drains west, fences its database read-only, waits until east has replayed west's"
say " final WAL position (RPO 0 B), promotes east, points app.example.test back at east, verifies,"
say " and rejoins west's database as east's streaming replica)"
t=$(now_us)
rc=0
"$BIN" drill --planned --config "$CONFIG" --group web --to east >"$RUN_DIR/drill.out" 2>&1 || rc=$?
indent <"$RUN_DIR/drill.out"
T_DRILL=$(since "$t")
say "(exit $rc: 0 passed, 1 missed a target, 2 stuck, vetoed or refused)"
[ "$rc" = 0 ] || { show_log >&2; exit 1; }
show_log
wait_status 0 "$CHANGE_TIMEOUT" "west streams from east"
show_status
say "one writable primary (east) and its streaming replica (west):"
"$SERVERS" status | indent

header "[7/7] Stopping the controller (SIGTERM)"
stop_controller
show_log

header "Summary"
say "all sites up after start:         $T_START s"
say "east failing -> web on west:      $T_FAILOVER s  (fall 3 x interval 1s, then the plan)"
say "east restored -> marked up:       $T_UP s  (rise 2 x interval 1s)"
say "planned drill back to east:       $T_DRILL s"
say "incidents with their measured RTO and RPO:"
"$BIN" report --config "$CONFIG" 2>&1 | indent || true
say "the lab and the temporary directory $RUN_DIR are removed now."
