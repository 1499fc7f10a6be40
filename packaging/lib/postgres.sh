# shellcheck shell=bash
# Makes sure a PostgreSQL server is reachable and prints a superuser connection URL for it.
#
# Order: $TEST_DATABASE_URL / $DATABASE_URL if they answer; the server on 127.0.0.1:5432 as
# `postgres` (trust auth, as on CI); a local cluster that is installed but stopped (started
# here); otherwise Debian's `postgresql` package is installed and started. When TCP needs a
# password, the Unix socket is used with a superuser role named after the current OS user.

pg_log() { echo "postgres: $*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        pg_log "need root to run: $*"; return 1; fi
}

pg_answers() { # URL
    PGCONNECT_TIMEOUT=3 psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

pg_socket_dir=/var/run/postgresql

pg_start_clusters() {
    command -v pg_lsclusters >/dev/null || return 1
    local ver name
    while read -r ver name _; do
        [ -n "$ver" ] || continue
        pg_log "starting cluster $ver/$name"
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 || true
    done < <(pg_lsclusters --no-header 2>/dev/null)
    for _ in $(seq 1 30); do
        pg_isready -q -h "$pg_socket_dir" && return 0
        sleep 1
    done
    return 1
}

pg_install() {
    pg_log "no PostgreSQL found: installing Debian's postgresql package"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Prints a working superuser URL, installing/starting PostgreSQL if needed.
ensure_postgres() {
    local url
    if ! command -v psql >/dev/null; then
        if ! command -v pg_lsclusters >/dev/null; then pg_install; fi
    fi
    for url in "${TEST_DATABASE_URL:-}" "${DATABASE_URL:-}" "postgres://postgres@127.0.0.1:5432/postgres"; do
        if [ -n "$url" ] && pg_answers "$url"; then echo "$url"; return 0; fi
    done
    if ! pg_isready -q -h "$pg_socket_dir" 2>/dev/null; then
        if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters --no-header 2>/dev/null)" ]; then
            pg_install
        fi
        pg_start_clusters || { pg_log "PostgreSQL did not start"; return 1; }
    fi
    url="postgres://postgres@127.0.0.1:5432/postgres"
    if pg_answers "$url"; then echo "$url"; return 0; fi
    # Fresh Debian install: TCP wants a password, the socket uses peer auth.
    local me; me=$(id -un)
    url="postgresql:///postgres?host=$pg_socket_dir&user=$me"
    if ! pg_answers "$url"; then
        pg_log "creating PostgreSQL superuser role '$me' (peer authentication over $pg_socket_dir)"
        as_root su postgres -c "psql -Atqc \"CREATE ROLE \\\"$me\\\" LOGIN SUPERUSER\"" >&2 || true
    fi
    if pg_answers "$url"; then echo "$url"; return 0; fi
    pg_log "PostgreSQL runs but cannot be reached as a superuser; set TEST_DATABASE_URL"
    return 1
}

# Prints URL with its database name replaced by DB (keeps host, user and query).
pg_url_for_db() { # URL DB
    local base="${1%%\?*}"
    local query="${1#"$base"}"
    echo "${base%/*}/$2$query"
}
