#!/usr/bin/env bash
# Benchmark (not a test): /api/health flooded by `wrk -c64` for 30 s on a daemon whose Telegram
# bot is on and whose telegram_updates holds a million rows, while one client logs in and reads
# /api/account every 200 ms. Prints wrk's figures, how the logins and account reads answered,
# and how many health reads reached the database. Everything runs on 127.0.0.1 and stops by
# itself. Needs the release binary (built here), PostgreSQL (started or installed by
# packaging/lib/postgres.sh) and wrk (installed from Debian if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source packaging/lib/postgres.sh

DURATION=${DURATION:-30}
ROWS=${ROWS:-1000000}
admin_url=$(ensure_postgres)
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
bin=target/release/goatedvips

db="goatedvips_health_bench_$$"
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
db_url=$(pg_url_for_db "$admin_url" "$db")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$tmp/goatedvips.toml" <<TOML
[server]
host = "127.0.0.1"
port = $port
environment = "development"
[database]
url = "$db_url"
[log]
file = "$tmp/app.log"
stderr = false
level = "warning"
[admin]
socket = "$tmp/admin.sock"
[backup]
dir = "$tmp/backups"
[upstream]
source = "demo"
[telegram]
# On, with a Bot API address where nothing listens: the status still reads every queue.
bot_token = "1:bench"
webhook_secret = "bench-secret"
bot_username = "BenchBot"
api_url = "http://127.0.0.1:9"
[security]
# All the load comes from one address.
rate_limit_requests = 1000000000
auth_rate_limit_requests = 1000000000
TOML

env -u DATABASE_URL GOATEDVIPS_ENV_FILE= "$bin" --config "$tmp/goatedvips.toml" serve \
    >"$tmp/stdout.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -fs "$base/api/health" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fs "$base/api/health" >/dev/null || { tail -20 "$tmp/stdout.log"; exit 1; }

echo "health-under-load: inserting $ROWS handled updates" >&2
psql "$db_url" -qc "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at, processed_at, attempts)
    SELECT g, g % 5000, jsonb_build_object('update_id', g), now(), now(), 1
    FROM generate_series(1, $ROWS) g" >/dev/null
psql "$db_url" -qc "ANALYZE telegram_updates" >/dev/null
printf 'bench-password-1234\n' | env -u DATABASE_URL GOATEDVIPS_ENV_FILE= "$bin" \
    --config "$tmp/goatedvips.toml" user create --username benchuser --email bench@example.org >/dev/null

scans() { psql "$db_url" -Atc "SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'telegram_updates'"; }
# Reads of telegram_updates per second without health traffic (the update task polls it), to
# compare with the same under the flood: the status is read at most once a second either way.
idle_before=$(scans); sleep 10; idle_after=$(scans)
scans_before=$(scans)

# The account client: a login and an account read every 200 ms while wrk runs.
account_client() {
    local end=$((SECONDS + DURATION)) ok=0 other=0 worst=0 jar="$tmp/jar" t code
    while [ $SECONDS -lt $end ]; do
        for req in login account; do
            if [ $req = login ]; then
                read -r code t < <(curl -s -o /dev/null -c "$jar" -w '%{http_code} %{time_total}\n' \
                    -H 'Content-Type: application/json' \
                    -d '{"login":"benchuser","password":"bench-password-1234"}' "$base/api/auth/login")
            else
                read -r code t < <(curl -s -o /dev/null -b "$jar" -w '%{http_code} %{time_total}\n' \
                    "$base/api/account")
            fi
            if [ "${code:0:1}" = 2 ]; then ok=$((ok + 1)); else other=$((other + 1)); fi
            worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
        done
        sleep 0.2
    done
    echo "logins and account reads: $ok answered 2xx, $other otherwise; slowest ${worst}s"
}
account_client >"$tmp/account.txt" &
client=$!
wrk -t2 -c64 -d"${DURATION}s" --latency "$base/api/health" >"$tmp/wrk.txt"
wait $client

scans_after=$(scans)
echo "== /api/health, wrk -t2 -c64 -d${DURATION}s, $ROWS rows in telegram_updates"
grep -E 'Requests/sec|Latency  |  50%|  99%|Non-2xx|Socket errors' "$tmp/wrk.txt" || true
echo "== $(cat "$tmp/account.txt")"
echo "== telegram_updates read $(( (idle_after - idle_before) / 10 ))/s idle, $(( (scans_after - scans_before) / DURATION ))/s under the flood"
