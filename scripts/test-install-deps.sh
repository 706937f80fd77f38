#!/usr/bin/env bash
# Tests scripts/install-deps.sh's package check (`make test-deps`).
#
# 1. Runs package_installed N times (default 1000) for every package install-deps knows
#    (with --bench) that is installed here, and counts the answers "missing": any is a
#    false "missing", since nothing is removed meanwhile. Exit 1 when any.
# 2. With --missing PACKAGE (a small package that is not installed, e.g. `hello` or `jq`
#    after `apt-get remove jq`): runs install-deps with `--also PACKAGE` and checks that it
#    says it installs PACKAGE and that PACKAGE is installed afterwards.
#
# Usage: scripts/test-install-deps.sh [--runs N] [--missing PACKAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

runs=1000
missing_package=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift ;;
        --missing) missing_package=$2; shift ;;
        *) echo "usage: $0 [--runs N] [--missing PACKAGE]" >&2; exit 2 ;;
    esac
    shift
done

failed=0
mapfile -t packages < <(scripts/install-deps.sh --bench --list)
checked=0
for package in "${packages[@]}"; do
    # Only installed packages can show a false "missing"; say which ones are not.
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    if [ "$status" != installed ]; then
        echo "skip $package: not installed here (dpkg status '${status:-unknown}')"
        continue
    fi
    false_missing=0
    for _ in $(seq "$runs"); do
        package_installed "$package" || false_missing=$((false_missing + 1))
    done
    checked=$((checked + 1))
    echo "$package: $runs checks, $false_missing false missing"
    [ "$false_missing" = 0 ] || failed=1
done
echo "package check: $checked packages x $runs checks, $([ $failed = 0 ] && echo "0 false missing" || echo "FALSE MISSING SEEN")"

if [ -n "$missing_package" ]; then
    if package_installed "$missing_package"; then
        echo "--missing $missing_package: it is installed; remove it first (apt-get remove $missing_package)" >&2
        exit 2
    fi
    package_installed "$missing_package" && exit 2
    output=$(scripts/install-deps.sh --also "$missing_package" 2>&1) || {
        printf '%s\n' "$output" >&2
        echo "install-deps failed to install $missing_package" >&2
        exit 1
    }
    printf '%s\n' "$output" | grep -E "^install-deps: (missing|installed) "
    if [[ $output == *"missing $missing_package"* || $output == *"missing "*" $missing_package"* ]] &&
        [[ $output == *"installed "*"$missing_package"* ]] && package_installed "$missing_package"; then
        echo "missing package: install-deps installed $missing_package and said so"
    else
        echo "missing package: install-deps did not install $missing_package or did not say so" >&2
        failed=1
    fi
fi
exit $failed
