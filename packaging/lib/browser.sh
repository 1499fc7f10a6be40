# shellcheck shell=bash
# Makes the browser test's tools available: Debian's `chromium` (installed with apt-get when
# missing; no browser is ever downloaded at test time) and the npm packages of tests/browser
# (`playwright-core` and `axe-core`, installed with `npm ci` when the lock file changed).
# Quick when everything is there already.

ensure_browser() {
    if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "browser: installing chromium, node and npm from Debian" >&2
        if ! DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium nodejs npm >&2; then
            as_root apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium nodejs npm >&2
        fi
    fi
    local dir=tests/browser stamp=tests/browser/node_modules/.lock-stamp
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
        echo "browser: npm ci in $dir" >&2
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
        cp "$dir/package-lock.json" "$stamp"
    fi
}
