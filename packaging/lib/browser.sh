# shellcheck shell=bash
# Makes the browser test's tools available: Debian's `chromium` and an emoji font for names
# with emoji in the screenshots (installed with apt-get when missing; no browser is ever
# downloaded at test time) and the npm packages of tests/browser
# (`playwright-core` and `axe-core`, installed with `npm ci` when the lock file changed).
# Quick when everything is there already.

ensure_browser() {
    # Only what is missing (a node from elsewhere, with its own npm, is left alone).
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
    command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "browser: installing ${missing[*]} from Debian" >&2
        if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
            as_root apt-get update -qq >&2
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
        fi
    fi
    local dir=tests/browser stamp=tests/browser/node_modules/.lock-stamp
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
        echo "browser: npm ci in $dir" >&2
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
        cp "$dir/package-lock.json" "$stamp"
    fi
}
