# Shared by scripts/*.sh: source it after `cd` to the repository root.

# A free TCP port on 127.0.0.1 (python3 when present, else a scan with ss).
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for port in $(seq 17400 17499); do
        if ! ss -Htln "sport = :$port" | grep -q .; then echo "$port"; return; fi
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
