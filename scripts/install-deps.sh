#!/usr/bin/env bash
# Installs the Debian packages failoverctl needs to build, test and run its demo lab.
# Idempotent: installs (after one `apt-get update`) only what dpkg's database says is missing.
#
# Usage: scripts/install-deps.sh [--bench] [--list] [--also PACKAGE]...
#   --bench         also the benchmark tools (prometheus-blackbox-exporter, python3)
#   --list          print the packages it would check, one a line, and exit
#   --also PACKAGE  check (and install if missing) PACKAGE too; scripts/test-install-deps.sh
#                   uses it to show that a missing package is installed
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PACKAGES=(libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev nginx-light openssl iproute2 curl)
# Real servers the action plugins' tests start on loopback: HAProxy (runtime API), PowerDNS
# with its sqlite backend (HTTP API), dig to query it, sqlite3 to create its database,
# PostgreSQL 15 (primary + streaming replica, run as user postgres), etcd 3.4 (a 3-member
# cluster for the quorum tests), Prometheus (promtool checks the rules and a /metrics
# scrape), Chromium (headless, for the status page's browser test) and OpenSSH (an sshd
# on loopback, and the ssh client, for commands on a database host).
SERVER_PACKAGES=(haproxy pdns-server pdns-backend-sqlite3 bind9-dnsutils sqlite3 postgresql-15 etcd-server etcd-client prometheus chromium openssh-server openssh-client)
PACKAGES+=("${SERVER_PACKAGES[@]}")
# moto_server comes from pip (below); pip needs python3 and python3-pip first.
command -v moto_server >/dev/null || PACKAGES+=(python3 python3-pip)
list=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bench) PACKAGES+=(prometheus-blackbox-exporter python3) ;;
        --list) list=1 ;;
        --also)
            [ $# -ge 2 ] || { echo "usage: $0 [--bench] [--list] [--also PACKAGE]..." >&2; exit 2; }
            PACKAGES+=("$2"); shift ;;
        *) echo "usage: $0 [--bench] [--list] [--also PACKAGE]..." >&2; exit 2 ;;
    esac
    shift
done
if [ $list = 1 ]; then
    printf '%s\n' "${PACKAGES[@]}" | sort -u
    exit 0
fi
SWIFT=${SWIFT:-swift}

missing=()
for package in "${PACKAGES[@]}"; do
    package_installed "$package" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    SUDO=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || {
            echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
            exit 1
        }
        SUDO=(sudo)
    fi
    echo "install-deps: missing ${missing[*]}; installing with apt-get"
    # Packaged services (haproxy, pdns) must not start on their default ports: the tests
    # start their own on free ports. A policy-rc.d that exits 101 tells invoke-rc.d "no";
    # ours is put in place only when a server package is missing and none exists already,
    # and removed afterwards whatever happens.
    POLICY=/usr/sbin/policy-rc.d
    needs_policy=0
    own_policy=0
    for package in "${missing[@]}"; do
        for server in "${SERVER_PACKAGES[@]}"; do
            [ "$package" = "$server" ] && needs_policy=1
        done
    done
    if [ $needs_policy = 1 ] && [ ! -e "$POLICY" ]; then
        own_policy=1
        trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
        printf '#!/bin/sh\n# Written by failoverctl scripts/install-deps.sh during apt-get install.\nexit 101\n' |
            "${SUDO[@]}" tee "$POLICY" >/dev/null
        "${SUDO[@]}" chmod 755 "$POLICY"
    fi
    # Wait for another apt/dpkg run to release its lock instead of failing at once.
    APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
    "${SUDO[@]}" apt-get "${APT_OPTS[@]}" -q update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get "${APT_OPTS[@]}" -q install -y --no-install-recommends "${missing[@]}"
    if [ $own_policy = 1 ]; then
        "${SUDO[@]}" rm -f "$POLICY"
        trap - EXIT
    fi
    still=()
    for package in "${missing[@]}"; do
        package_installed "$package" || still+=("$package")
    done
    if [ ${#still[@]} -gt 0 ]; then
        echo "install-deps: still missing after apt-get install: ${still[*]}" >&2
        exit 1
    fi
    echo "install-deps: installed ${missing[*]}"
else
    echo "install-deps: all packages present (${PACKAGES[*]})"
fi

# moto_server (PyPI moto[server]) plays Route 53 and ELBv2 in the AWS plugins' tests.
if ! command -v moto_server >/dev/null; then
    echo "install-deps: installing moto[server] (pip)"
    # Debian's Python is "externally managed" (PEP 668): retry past that guard if it refuses.
    python3 -m pip install --quiet 'moto[server]' ||
        python3 -m pip install --quiet --break-system-packages 'moto[server]' || {
        echo "install-deps: pip install 'moto[server]' failed; the route53/elbv2 tests need moto_server" >&2
        exit 1
    }
    command -v moto_server >/dev/null || {
        echo "install-deps: moto[server] installed but moto_server is not on PATH (pip's scripts directory)" >&2
        exit 1
    }
fi

if ! version=$("$SWIFT" --version 2>&1); then
    cat >&2 <<MSG
install-deps: the Swift toolchain is not usable: \`$SWIFT --version\` failed.
  failoverctl needs Swift 6 (swift.org toolchain for Linux) with \`swift\` on PATH,
  or SWIFT=/path/to/swift. Output was:
$(printf '%s\n' "$version" | sed 's/^/    /')
MSG
    exit 1
fi
echo "install-deps: ${version%%$'\n'*}"
