#!/usr/bin/env bash
# Compressed stats against nginx, back to back in one run: nginx (the peer harness's
# peers/nginx/run.sh) serving the plain /api/affiliate/stats body, and the release daemon
# serving it to gzip, brotli and plain clients; wrk -t2 -c64 -d10s --latency, twice each,
# 127.0.0.1 only, with the daemon's per-IP rate limit lifted (all load comes from one address);
# fails when any response was not 2xx. Stops only what it started.
#
# Usage, from the project's root after `cargo build --release`, with a writable copy of the
# peer harness (npm ci done in it) and an empty database:
#   BENCH_DIR=/tmp/bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/empty_db benches/gzip-vs-nginx.sh
set -euo pipefail
B=${BENCH_DIR:?set BENCH_DIR to a writable copy of the peer harness (shared/bench)}
BIN=${BIN:-target/release/goatedvips}
FIXTURE=${FIXTURE:-$(dirname "$0")/../tests/fixtures/goated/leaderboard-1800.json}
: "${DATABASE_URL:?set DATABASE_URL to an empty database}"
TMP=$(mktemp -d); chmod 755 "$TMP"; PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$TMP"' EXIT
port_free() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
up=$(port_free); port=$(port_free); nport=$(port_free)
cp "$FIXTURE" "$TMP/doc.json"
python3 "$B/fake-goated.py" "$up" "$TMP/doc.json" & PIDS+=($!)
FIXTURE=$(realpath "$FIXTURE") "$B/peers/nginx/run.sh" "$nport" "$TMP/nginx" > "$TMP/nginx.log" 2>&1 & PIDS+=($!)
env PORT=$port HOST=127.0.0.1 GOATEDVIPS_ENV_FILE= GOATEDVIPS_LOG__FILE= GOATEDVIPS_LOG__LEVEL=warning \
    GOATEDVIPS_ADMIN__SOCKET="$TMP/admin.sock" GOATEDVIPS_BACKUP__DIR="$TMP/backups" \
    GOATEDVIPS_UPSTREAM__SOURCE=goated GOATEDVIPS_UPSTREAM__BASE_URL="http://127.0.0.1:$up" \
    GOATEDVIPS_UPSTREAM__AFFILIATE_ID=BENCH GOATEDVIPS_UPSTREAM__TOKEN=bench \
    GOATEDVIPS_UPSTREAM__POLL_INTERVAL_SECS=1 GOATEDVIPS_SECURITY__RATE_LIMIT_REQUESTS=1000000000 \
    NODE_ENV=development \
    "$BIN" serve > "$TMP/daemon.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$nport/api/affiliate/stats" > /dev/null 2>&1 && break; sleep 0.25; done
sleep 3
echo "stats sizes: nginx plain $(curl -s http://127.0.0.1:$nport/api/affiliate/stats | wc -c) B; goatedvips plain $(curl -s http://127.0.0.1:$port/api/affiliate/stats | wc -c) B, gzip $(curl -s -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/api/affiliate/stats | wc -c) B, br $(curl -s -H 'Accept-Encoding: br' http://127.0.0.1:$port/api/affiliate/stats | wc -c) B"
run() { # label url [header]
  local label=$1 url=$2; shift 2
  local out; out=$(timeout 30 wrk -t2 -c64 -d10s --latency "$@" "$url")
  printf '%-32s %s | p99 %s | %s\n' "$label" "$(grep Requests/sec <<<"$out" | tr -s ' ')" "$(grep ' 99%' <<<"$out" | awk '{print $2}')" "$(grep Transfer/sec <<<"$out" | tr -s ' ')"
  # A 429 or 5xx is small and fast: a run with any would measure the wrong thing.
  if grep -q 'Non-2xx' <<<"$out"; then echo "  ^ not all 2xx: $(grep 'Non-2xx' <<<"$out" | tr -s ' ')" >&2; bad=1; fi
}
wrk -t2 -c64 -d3s "http://127.0.0.1:$nport/api/affiliate/stats" > /dev/null
wrk -t2 -c64 -d3s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/api/affiliate/stats" > /dev/null
bad=0
for rep in 1 2; do
  run "nginx plain #$rep" "http://127.0.0.1:$nport/api/affiliate/stats"
  run "goatedvips gzip #$rep" "http://127.0.0.1:$port/api/affiliate/stats" -H 'Accept-Encoding: gzip'
  run "goatedvips br #$rep" "http://127.0.0.1:$port/api/affiliate/stats" -H 'Accept-Encoding: br'
  run "goatedvips plain #$rep" "http://127.0.0.1:$port/api/affiliate/stats"
done
exit $bad
