#!/usr/bin/env bash
# The local multi-site lab: one nginx on loopback serving three TLS "sites"
# (east :18441, west :18442, eu :18443), each with GET /health that answers
# 200 "ok" or, while $LAB_DIR/<site>/down exists, 503 "down".
#
# Usage: lab.sh start | stop | status | down SITE | up SITE
# Lab directory: ${LAB_DIR:-/tmp/failoverctl-lab}; the lab CA is $LAB_DIR/ca.pem.
set -euo pipefail

SITES=(east west eu)
declare -A PORT=([east]=18441 [west]=18442 [eu]=18443)
NGINX=${NGINX:-/usr/sbin/nginx}
READY_TIMEOUT=10  # seconds
STOP_TIMEOUT=10   # seconds

LAB_DIR=$(realpath -m -- "${LAB_DIR:-/tmp/failoverctl-lab}")
PID_FILE="$LAB_DIR/nginx.pid"
CONF="$LAB_DIR/nginx.conf"
ERROR_LOG="$LAB_DIR/error.log"
CA_KEY="$LAB_DIR/ca.key"
CA_PEM="$LAB_DIR/ca.pem"

die() { echo "lab.sh: $*" >&2; exit 1; }

usage() {
    cat >&2 <<USAGE
usage: $0 start | stop | status | down SITE | up SITE
  SITE is one of: ${SITES[*]}
  lab directory: \$LAB_DIR (now $LAB_DIR)
USAGE
    exit 2
}

check_site() {
    local site=${1:-}
    [ -n "$site" ] || usage
    [ -n "${PORT[$site]:-}" ] || die "unknown site \"$site\" (expected one of: ${SITES[*]})"
}

# The PID of the lab's nginx master, if it is running; nothing otherwise.
# Only a process named nginx started with this lab's config counts, so a reused PID
# or another nginx is never taken for ours.
running_pid() {
    [ -f "$PID_FILE" ] || return 0
    local pid cmdline
    pid=$(tr -dc '0-9' <"$PID_FILE")
    [ -n "$pid" ] || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ] || return 0
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
    [[ "$cmdline" == *"$CONF"* ]] || return 0
    echo "$pid"
}

# HTTP status code of a site's /health ("000" when nothing answers).
health_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CA_PEM" \
        "https://127.0.0.1:${PORT[$1]}/health" 2>/dev/null || true
}

make_ca() {
    echo "lab.sh: creating lab CA $CA_PEM (valid 10 years)"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$CA_KEY" -out "$CA_PEM" -days 3650 -sha256 \
        -subj "/O=failoverctl lab/CN=failoverctl lab CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" 2>/dev/null
    chmod 600 "$CA_KEY"
}

make_site_cert() {
    local site=$1 dir="$LAB_DIR/$1"
    echo "lab.sh: creating certificate for $site (127.0.0.1, localhost; valid 1 year)"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/key.pem" -out "$dir/csr.pem" \
        -subj "/O=failoverctl lab/CN=$site.lab" 2>/dev/null
    cat >"$dir/ext.cnf" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EXT
    openssl x509 -req -in "$dir/csr.pem" -CA "$CA_PEM" -CAkey "$CA_KEY" -CAcreateserial \
        -CAserial "$LAB_DIR/ca.srl" -days 365 -sha256 -extfile "$dir/ext.cnf" \
        -out "$dir/cert.pem" 2>/dev/null
    chmod 600 "$dir/key.pem"
    rm -f "$dir/csr.pem" "$dir/ext.cnf"
}

# Creates whatever is missing: the CA, and each site's key and certificate. A site
# certificate that expires within 30 days, or that the CA does not sign, is renewed.
ensure_certs() {
    local new_ca=0 site dir
    if [ ! -s "$CA_PEM" ] || [ ! -s "$CA_KEY" ] || ! openssl x509 -in "$CA_PEM" -noout -checkend 2592000 >/dev/null 2>&1; then
        make_ca
        new_ca=1
    fi
    for site in "${SITES[@]}"; do
        dir="$LAB_DIR/$site"
        mkdir -p "$dir"
        if [ "$new_ca" = 1 ] || [ ! -s "$dir/cert.pem" ] || [ ! -s "$dir/key.pem" ] \
            || ! openssl x509 -in "$dir/cert.pem" -noout -checkend 2592000 >/dev/null 2>&1 \
            || ! openssl verify -CAfile "$CA_PEM" "$dir/cert.pem" >/dev/null 2>&1; then
            make_site_cert "$site"
        fi
    done
}

write_conf() {
    local site
    mkdir -p "$LAB_DIR/tmp"
    {
        echo "# Written by deploy/lab/lab.sh; rewritten on every start."
        # Workers stat the down flags inside \$LAB_DIR, which may be private to root.
        if [ "$(id -u)" = 0 ]; then echo "user root;"; fi
        cat <<CONF
worker_processes 1;
pid "$PID_FILE";
error_log "$ERROR_LOG" warn;

events {
    worker_connections 1024;
}

http {
    access_log "$LAB_DIR/access.log";
    client_body_temp_path "$LAB_DIR/tmp/client_body";
    proxy_temp_path "$LAB_DIR/tmp/proxy";
    fastcgi_temp_path "$LAB_DIR/tmp/fastcgi";
    uwsgi_temp_path "$LAB_DIR/tmp/uwsgi";
    scgi_temp_path "$LAB_DIR/tmp/scgi";
    server_tokens off;
    keepalive_requests 100000;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:lab:1m;
CONF
        for site in "${SITES[@]}"; do
            cat <<CONF

    # $site
    server {
        listen 127.0.0.1:${PORT[$site]} ssl;
        server_name $site.lab localhost 127.0.0.1;
        ssl_certificate "$LAB_DIR/$site/cert.pem";
        ssl_certificate_key "$LAB_DIR/$site/key.pem";
        default_type text/plain;

        location = /health {
            if (-f "$LAB_DIR/$site/down") {
                return 503 "down\n";
            }
            return 200 "ok\n";
        }
        location / {
            return 404 "not found\n";
        }
    }
CONF
        done
        echo "}"
    } >"$CONF"
}

all_ready() {
    local site code
    for site in "${SITES[@]}"; do
        code=$(health_code "$site")
        case "$code" in 200|503) ;; *) return 1 ;; esac
    done
}

show_error_log() {
    if [ -s "$ERROR_LOG" ]; then
        echo "--- $ERROR_LOG (last 40 lines) ---" >&2
        tail -n 40 "$ERROR_LOG" >&2
    elif [ -s "$LAB_DIR/nginx.stderr" ]; then
        cat "$LAB_DIR/nginx.stderr" >&2
    else
        echo "(nginx error log $ERROR_LOG is empty)" >&2
    fi
}

cmd_start() {
    local pid
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        echo "lab.sh: already running (nginx pid $pid, $LAB_DIR)"
        return 0
    fi
    [ -x "$NGINX" ] || die "$NGINX not found: install nginx-light (scripts/install-deps.sh)"
    command -v openssl >/dev/null || die "openssl not found: install openssl (scripts/install-deps.sh)"
    command -v curl >/dev/null || die "curl not found: install curl (scripts/install-deps.sh)"
    mkdir -p "$LAB_DIR"
    rm -f "$PID_FILE"
    ensure_certs
    write_conf
    : >"$ERROR_LOG"
    if ! "$NGINX" -p "$LAB_DIR" -c "$CONF" -e "$ERROR_LOG" 2>"$LAB_DIR/nginx.stderr"; then
        echo "lab.sh: nginx failed to start" >&2
        show_error_log
        exit 1
    fi
    local deadline=$((SECONDS + READY_TIMEOUT))
    until all_ready; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "lab.sh: sites did not answer /health within ${READY_TIMEOUT}s" >&2
            show_error_log
            cmd_stop >/dev/null 2>&1 || true
            exit 1
        fi
        if [ -z "$(running_pid)" ]; then
            echo "lab.sh: nginx exited during start-up" >&2
            show_error_log
            exit 1
        fi
        sleep 0.1
    done
    echo "lab.sh: started nginx pid $(running_pid) in $LAB_DIR:" \
        "east https://127.0.0.1:18441, west https://127.0.0.1:18442, eu https://127.0.0.1:18443 (CA $CA_PEM)"
}

cmd_stop() {
    local pid
    pid=$(running_pid)
    if [ -z "$pid" ]; then
        echo "lab.sh: not running ($LAB_DIR)"
        rm -f "$PID_FILE"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "lab.sh: nginx pid $pid did not stop within ${STOP_TIMEOUT}s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.1
    done
    rm -f "$PID_FILE"
    echo "lab.sh: stopped nginx pid $pid"
}

cmd_status() {
    local pid site code state
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        echo "nginx: running (pid $pid, $LAB_DIR)"
    else
        echo "nginx: not running ($LAB_DIR)"
    fi
    for site in "${SITES[@]}"; do
        code=$(health_code "$site")
        state=""
        if [ -f "$LAB_DIR/$site/down" ]; then state="(down flag set)"; fi
        printf '%-5s https://127.0.0.1:%s/health  %s  %s\n' "$site" "${PORT[$site]}" "$code" "$state"
    done
    [ -n "$pid" ]
}

cmd_down() {
    check_site "${1:-}"
    mkdir -p "$LAB_DIR/$1"
    touch "$LAB_DIR/$1/down"
    echo "lab.sh: $1 is down (/health answers 503)"
}

cmd_up() {
    check_site "${1:-}"
    rm -f "$LAB_DIR/$1/down"
    echo "lab.sh: $1 is up (/health answers 200)"
}

case "${1:-}" in
    start) [ $# -eq 1 ] || usage; cmd_start ;;
    stop) [ $# -eq 1 ] || usage; cmd_stop ;;
    status) [ $# -eq 1 ] || usage; cmd_status ;;
    down) [ $# -eq 2 ] || usage; cmd_down "$2" ;;
    up) [ $# -eq 2 ] || usage; cmd_up "$2" ;;
    *) usage ;;
esac
