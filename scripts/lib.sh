# Shared by scripts/*.sh: source it after `cd` to the repository root.
#
# Under `set -o pipefail` never end a pipeline with a reader that may stop early
# (`grep -q`, `head`): the writer then dies of SIGPIPE and the whole pipeline "fails" at
# random. Capture the output first, or ask a command that answers with its exit status.

# True when Debian package $1 is installed. dpkg-query prints only the status word, so no
# pipeline is involved (`dpkg -s | grep -q` misfired about one check in three).
package_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# A free TCP port on 127.0.0.1 (python3 when present, else a scan with ss).
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for port in $(seq 17400 17499); do
        if [ -z "$(ss -Htln "sport = :$port")" ]; then echo "$port"; return; fi
    done
    echo "no free port in 17400-17499" >&2
    return 1
}

# Builds PRODUCT as the benchmarks measure it (release, Swift runtime linked statically)
# and prints the binary's path.
release_binary() {
    ${SWIFT:-swift} build -c release --static-swift-stdlib --product "$1" >/dev/null || return 1
    echo "$(${SWIFT:-swift} build -c release --static-swift-stdlib --show-bin-path)/$1"
}

# Runs CMD... every 0.2 s until it succeeds. After LIMIT seconds: says it timed out waiting for
# WHAT, shows the caller's logs (its function `show_logs`, when it has one) and exits 1.
wait_for() {
    local limit=$1 what=$2 start=$SECONDS
    shift 2
    until "$@"; do
        if [ $((SECONDS - start)) -ge "$limit" ]; then
            echo "$(basename "$0" .sh): timed out waiting for $what" >&2
            if declare -F show_logs >/dev/null; then show_logs >&2; fi
            exit 1
        fi
        sleep 0.2
    done
}
