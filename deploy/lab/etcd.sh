#!/usr/bin/env bash
# A 3-member etcd 3.4 cluster for the lab's quorum of controllers (failoverctl-quorum.yaml),
# on loopback with non-default ports:
#   member m1 client http://127.0.0.1:12379 (peer :12380)
#   member m2 client http://127.0.0.1:22379 (peer :22380)
#   member m3 client http://127.0.0.1:32379 (peer :32380)
#
# Usage: etcd.sh start | stop | status | kill MEMBER (m1, m2 or m3, SIGKILL)
# Lab directory: ${LAB_DIR:-/tmp/failoverctl-lab}; data in $LAB_DIR/etcd/MEMBER, removed by
# stop. Only what this script started is stopped, by the PIDs it recorded.
set -euo pipefail

LAB_DIR=$(realpath -m -- "${LAB_DIR:-/tmp/failoverctl-lab}")
DIR="$LAB_DIR/etcd"
declare -A CLIENT=([m1]=12379 [m2]=22379 [m3]=32379)
declare -A PEER=([m1]=12380 [m2]=22380 [m3]=32380)
MEMBERS=(m1 m2 m3)
READY_TIMEOUT=30

die() { echo "etcd.sh: $*" >&2; exit 1; }

# PID recorded for MEMBER when that process still runs etcd; nothing otherwise.
alive() {
    local file="$DIR/$1.pid" pid
    [ -f "$file" ] || return 0
    pid=$(tr -dc '0-9' <"$file")
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = etcd ] && echo "$pid"
    return 0
}

healthy() {
    local body
    body=$(curl -sf --max-time 1 "http://127.0.0.1:${CLIENT[$1]}/health") || return 1
    [[ $body == *'"health":"true"'* ]]
}

cmd_start() {
    command -v etcd >/dev/null || die "etcd not found (scripts/install-deps.sh installs etcd-server)"
    mkdir -p "$DIR"
    local cluster="" member
    for member in "${MEMBERS[@]}"; do cluster+="${cluster:+,}$member=http://127.0.0.1:${PEER[$member]}"; done
    for member in "${MEMBERS[@]}"; do
        [ -n "$(alive "$member")" ] && continue
        etcd --name "$member" --data-dir "$DIR/$member" \
            --listen-client-urls "http://127.0.0.1:${CLIENT[$member]}" --advertise-client-urls "http://127.0.0.1:${CLIENT[$member]}" \
            --listen-peer-urls "http://127.0.0.1:${PEER[$member]}" --initial-advertise-peer-urls "http://127.0.0.1:${PEER[$member]}" \
            --initial-cluster "$cluster" --initial-cluster-token failoverctl-lab --initial-cluster-state new \
            --heartbeat-interval 100 --election-timeout 1000 --logger zap --log-level warn \
            >"$DIR/$member.log" 2>&1 &
        echo $! >"$DIR/$member.pid"
    done
    local deadline=$((SECONDS + READY_TIMEOUT))
    for member in "${MEMBERS[@]}"; do
        until healthy "$member"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                tail -n 30 "$DIR/$member.log" >&2 || true
                die "member $member not healthy within ${READY_TIMEOUT}s (log above)"
            fi
            sleep 0.1
        done
    done
    echo "etcd.sh: 3 members healthy: http://127.0.0.1:12379, http://127.0.0.1:22379, http://127.0.0.1:32379"
}

stop_member() {
    local member=$1 signal=$2 pid
    pid=$(alive "$member")
    [ -n "$pid" ] || { rm -f "$DIR/$member.pid"; return 0; }
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/$member.pid"
    echo "etcd.sh: stopped member $member (pid $pid)"
}

cmd_stop() {
    local member
    for member in "${MEMBERS[@]}"; do stop_member "$member" TERM; done
    rm -rf "$DIR"
}

cmd_status() {
    local member
    for member in "${MEMBERS[@]}"; do
        if [ -z "$(alive "$member")" ]; then echo "$member: not running"
        elif healthy "$member"; then echo "$member: healthy (client :${CLIENT[$member]})"
        else echo "$member: running, not healthy"
        fi
    done
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    kill)
        [ -n "${CLIENT[${2:-}]:-}" ] || die "kill: name a member: m1, m2 or m3"
        stop_member "$2" KILL ;;
    *) echo "usage: $0 start | stop | status | kill MEMBER" >&2; exit 2 ;;
esac
