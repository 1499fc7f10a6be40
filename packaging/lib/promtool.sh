# shellcheck shell=bash
# Makes Prometheus' `promtool` available to the metrics tests and prints its path. It comes from
# Debian's `prometheus` package, unpacked under target/ rather than installed, so no Prometheus
# server is set up or started on the machine. Cached after the first run.

ensure_promtool() {
    local dir="$PWD/target/promtool"
    local tool="$dir/usr/bin/promtool"
    if [ ! -x "$tool" ]; then
        local tmp
        tmp=$(mktemp -d)
        echo "promtool: unpacking Debian's prometheus package into $dir" >&2
        if ! (cd "$tmp" && apt-get download prometheus >&2 2>/dev/null); then
            as_root apt-get update -qq >&2
            (cd "$tmp" && apt-get download prometheus >&2)
        fi
        rm -rf "$dir"
        mkdir -p "$dir"
        dpkg-deb -x "$tmp"/prometheus_*.deb "$dir"
        rm -rf "$tmp"
    fi
    "$tool" --version >/dev/null 2>&1 || { echo "promtool: $tool does not run" >&2; return 1; }
    echo "$tool"
}
