#!/usr/bin/env bash
# The lab's real servers, beside lab.sh's nginx sites, all on loopback with non-default ports:
#   PostgreSQL 15  east primary 127.0.0.1:15432, west streaming replica 127.0.0.1:15433
#   HAProxy        frontend 127.0.0.1:18080 -> backend web (servers east :18441, west :18442),
#                  runtime API tcp:127.0.0.1:19999
#   PowerDNS       API http://127.0.0.1:18081 (key $PDNS_API_KEY, default lab-pdns-key),
#                  DNS 127.0.0.1:15353, zone example.test. with app.example.test. A 127.0.0.1
#   moto_server    AWS APIs (Route 53, ELBv2) http://127.0.0.1:15000, when moto_server is installed
#
# Usage: servers.sh start | stop | status | kill-db SITE | rejoin SITE PRIMARY
# Lab directory: ${LAB_DIR:-/tmp/failoverctl-lab}. PostgreSQL runs as user postgres, so every
# directory above $LAB_DIR must be searchable by it (start says so when it is not).
# Only what this script started is stopped, by the PIDs it recorded.
set -euo pipefail

LAB_DIR=$(realpath -m -- "${LAB_DIR:-/tmp/failoverctl-lab}")
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PDNS_API_KEY=${PDNS_API_KEY:-lab-pdns-key}
declare -A PG_PORT=([east]=15432 [west]=15433)
HAPROXY_PORT=18080
HAPROXY_ADMIN=19999
PDNS_API_PORT=18081
PDNS_DNS_PORT=15353
MOTO_PORT=15000
READY_TIMEOUT=30

die() { echo "servers.sh: $*" >&2; exit 1; }
as_postgres() { runuser -u postgres -- "$@"; }

# PID recorded in FILE when that process still runs with COMM; nothing otherwise.
alive() {
    local file=$1 comm=$2 pid
    [ -f "$file" ] || return 0
    pid=$(head -n 1 "$file" | tr -dc '0-9')
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && echo "$pid"
    return 0
}

wait_until() {
    local what=$1 log=$2
    shift 2
    local deadline=$((SECONDS + READY_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "servers.sh: $what did not come up within ${READY_TIMEOUT}s; its log ($log):" >&2
            tail -n 40 "$log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
}

pg_query() { as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAc "$2"; }

start_postgres() {
    local pg="$LAB_DIR/pg"
    [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found: install postgresql-15 (scripts/install-deps.sh)"
    mkdir -p "$pg"
    chown postgres: "$pg"
    as_postgres test -w "$pg" || die "user postgres cannot reach $pg: make every directory above it searchable (chmod o+x)"
    if [ -z "$(alive "$pg/east/postmaster.pid" postgres)" ]; then
        rm -rf "$pg/east"
        as_postgres "$PG_BIN/initdb" -D "$pg/east" -U postgres --auth=trust -E UTF8 >"$pg/initdb.log" 2>&1 \
            || { tail -n 20 "$pg/initdb.log" >&2; die "initdb failed"; }
        cat >>"$pg/east/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg'
wal_level = replica
max_wal_senders = 5
hot_standby = on
# pg_rewind (the rejoin step) needs hint bits WAL-logged and the WAL back to the divergence.
wal_log_hints = on
wal_keep_size = '256MB'
CONF
        echo "host replication postgres 127.0.0.1/32 trust" >>"$pg/east/pg_hba.conf"
        as_postgres "$PG_BIN/pg_ctl" -D "$pg/east" -l "$pg/east.log" -o "-p ${PG_PORT[east]}" -w start >/dev/null \
            || { tail -n 20 "$pg/east.log" >&2; die "the east primary did not start"; }
        pg_query "${PG_PORT[east]}" "CREATE TABLE orders (id serial PRIMARY KEY, at timestamptz DEFAULT now())" >/dev/null
    fi
    if [ -z "$(alive "$pg/west/postmaster.pid" postgres)" ]; then
        rm -rf "$pg/west"
        as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[east]}" -U postgres -D "$pg/west" -R -X stream -c fast \
            >"$pg/basebackup.log" 2>&1 || { tail -n 20 "$pg/basebackup.log" >&2; die "pg_basebackup failed"; }
        as_postgres "$PG_BIN/pg_ctl" -D "$pg/west" -l "$pg/west.log" -o "-p ${PG_PORT[west]}" -w start >/dev/null \
            || { tail -n 20 "$pg/west.log" >&2; die "the west replica did not start"; }
    fi
    wait_until "west's streaming replication" "$pg/west.log" \
        test "$(pg_query "${PG_PORT[east]}" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1
}

start_haproxy() {
    local dir="$LAB_DIR/haproxy"
    mkdir -p "$dir"
    [ -n "$(alive "$dir/haproxy.pid" haproxy)" ] && return 0
    command -v haproxy >/dev/null || die "haproxy not found (scripts/install-deps.sh)"
    cat >"$dir/haproxy.cfg" <<CFG
# Written by deploy/lab/servers.sh
global
    stats socket ipv4@127.0.0.1:$HAPROXY_ADMIN level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend app
    bind 127.0.0.1:$HAPROXY_PORT
    default_backend web
backend web
    option httpchk GET /health
    server east 127.0.0.1:18441 ssl verify none check inter 1s
    server west 127.0.0.1:18442 ssl verify none check inter 1s backup
CFG
    haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
    echo $! >"$dir/haproxy.pid"
    wait_until "HAProxy's runtime API" "$dir/haproxy.log" \
        bash -c "info=\$(echo 'show info' | timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$HAPROXY_ADMIN; cat >&3; cat <&3'); [[ \$info == *Version* ]]"
}

start_powerdns() {
    local dir="$LAB_DIR/pdns"
    mkdir -p "$dir"
    [ -n "$(alive "$dir/pdns.pid" pdns_server)" ] && return 0
    command -v pdns_server >/dev/null || die "pdns_server not found (scripts/install-deps.sh)"
    rm -f "$dir/pdns.sqlite3"
    sqlite3 "$dir/pdns.sqlite3" </usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
    sqlite3 "$dir/pdns.sqlite3" <<SQL
INSERT INTO domains (name, type) VALUES ('example.test', 'NATIVE');
INSERT INTO records (domain_id, name, type, content, ttl) VALUES
  (1, 'example.test', 'SOA', 'ns1.example.test hostmaster.example.test 1 10800 3600 604800 30', 30),
  (1, 'example.test', 'NS', 'ns1.example.test', 30),
  (1, 'app.example.test', 'A', '127.0.0.1', 30);
SQL
    cat >"$dir/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$dir/pdns.sqlite3
local-address=127.0.0.1
local-port=$PDNS_DNS_PORT
api=yes
api-key=$PDNS_API_KEY
webserver=yes
webserver-address=127.0.0.1
webserver-port=$PDNS_API_PORT
webserver-allow-from=127.0.0.0/8
socket-dir=$dir
CONF
    pdns_server --config-dir="$dir" --daemon=no --guardian=no --disable-syslog=yes >"$dir/pdns.log" 2>&1 &
    echo $! >"$dir/pdns.pid"
    wait_until "PowerDNS's API" "$dir/pdns.log" \
        curl -sf -H "X-API-Key: $PDNS_API_KEY" "http://127.0.0.1:$PDNS_API_PORT/api/v1/servers/localhost/zones/example.test."
}

start_moto() {
    local dir="$LAB_DIR/moto"
    command -v moto_server >/dev/null || { echo "servers.sh: moto_server not installed: no AWS APIs in the lab"; return 0; }
    mkdir -p "$dir"
    [ -n "$(alive "$dir/moto.pid" moto_server)" ] && return 0
    # exec: the recorded PID is moto's own.
    bash -c "exec moto_server -H 127.0.0.1 -p $MOTO_PORT" >"$dir/moto.log" 2>&1 &
    echo $! >"$dir/moto.pid"
    wait_until "moto_server" "$dir/moto.log" curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/"
}

stop_pid() {
    local file=$1 comm=$2 pid
    pid=$(alive "$file" "$comm")
    [ -n "$pid" ] || { rm -f "$file"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$file"
    echo "servers.sh: stopped $comm pid $pid"
}

stop_postgres() {
    local site
    for site in west east; do
        if [ -n "$(alive "$LAB_DIR/pg/$site/postmaster.pid" postgres)" ]; then
            as_postgres "$PG_BIN/pg_ctl" -D "$LAB_DIR/pg/$site" -m immediate -w stop >/dev/null 2>&1 || true
            echo "servers.sh: stopped PostgreSQL $site"
        fi
    done
}

cmd_start() {
    mkdir -p "$LAB_DIR"
    start_postgres
    start_haproxy
    start_powerdns
    start_moto
    echo "servers.sh: PostgreSQL east :${PG_PORT[east]} (primary), west :${PG_PORT[west]} (replica);" \
        "HAProxy :$HAPROXY_PORT (admin :$HAPROXY_ADMIN); PowerDNS API :$PDNS_API_PORT, DNS :$PDNS_DNS_PORT; moto :$MOTO_PORT"
}

cmd_stop() {
    stop_pid "$LAB_DIR/moto/moto.pid" moto_server
    stop_pid "$LAB_DIR/pdns/pdns.pid" pdns_server
    stop_pid "$LAB_DIR/haproxy/haproxy.pid" haproxy
    stop_postgres
}

cmd_status() {
    local site role
    for site in east west; do
        role=$(pg_query "${PG_PORT[$site]}" "SELECT CASE WHEN pg_is_in_recovery() THEN 'replica, ' || COALESCE((SELECT status || ' from :' || sender_port FROM pg_stat_wal_receiver), 'not streaming') ELSE 'primary' || CASE WHEN current_setting('default_transaction_read_only') = 'on' THEN ', read-only (fenced)' ELSE '' END || ', ' || (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming') || ' streaming replica(s)' END" 2>/dev/null || echo down)
        echo "postgres $site :${PG_PORT[$site]}: $role"
    done
    echo "haproxy :$HAPROXY_PORT: $([ -n "$(alive "$LAB_DIR/haproxy/haproxy.pid" haproxy)" ] && echo running || echo stopped)"
    echo "haproxy servers: $(bash -c "exec 3<>/dev/tcp/127.0.0.1/$HAPROXY_ADMIN; echo 'show servers state web' >&3; cat <&3" 2>/dev/null | awk 'NR>2 && NF>6 {printf "%s(admin=%s) ", $4, $7}')"
    echo "powerdns: app.example.test A $(dig +short +time=1 +tries=1 @127.0.0.1 -p "$PDNS_DNS_PORT" app.example.test A 2>/dev/null | grep -v "^;" || echo "?")"
}

# Stops SITE's database at once, as a crash would.
cmd_kill_db() {
    local site=${1:-}
    [ -n "${PG_PORT[$site]:-}" ] || die "kill-db: SITE is east or west"
    as_postgres "$PG_BIN/pg_ctl" -D "$LAB_DIR/pg/$site" -m immediate -w stop >/dev/null
    echo "servers.sh: PostgreSQL $site stopped (immediate)"
}

# Recreates SITE's database as a streaming replica of PRIMARY (after a failover: the old
# primary rejoins as a standby).
cmd_rejoin() {
    local site=${1:-} primary=${2:-} pg="$LAB_DIR/pg"
    [ -n "${PG_PORT[$site]:-}" ] && [ -n "${PG_PORT[$primary]:-}" ] && [ "$site" != "$primary" ] \
        || die "rejoin: SITE and PRIMARY are east and west, in either order"
    if [ -n "$(alive "$pg/$site/postmaster.pid" postgres)" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$pg/$site" -m immediate -w stop >/dev/null
    fi
    rm -rf "$pg/$site"
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[$primary]}" -U postgres -D "$pg/$site" -R -X stream -c fast \
        >"$pg/basebackup.log" 2>&1 || { tail -n 20 "$pg/basebackup.log" >&2; die "pg_basebackup from $primary failed"; }
    as_postgres "$PG_BIN/pg_ctl" -D "$pg/$site" -l "$pg/$site.log" -o "-p ${PG_PORT[$site]}" -w start >/dev/null \
        || { tail -n 20 "$pg/$site.log" >&2; die "$site did not start"; }
    wait_until "$site's streaming replication" "$pg/$site.log" \
        test "$(pg_query "${PG_PORT[$primary]}" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" -ge 1
    echo "servers.sh: $site is a streaming replica of $primary again"
}

case "${1:-}" in
    start) cmd_start ;;
    rejoin) cmd_rejoin "${2:-}" "${3:-}" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    kill-db) cmd_kill_db "${2:-}" ;;
    *) echo "usage: $0 start | stop | status | kill-db SITE | rejoin SITE PRIMARY" >&2; exit 2 ;;
esac
