# Sourced by scripts/test: what the browser tests need. Debian's Chromium with a Japanese
# font (without one, Japanese renders as empty boxes), Node.js, and playwright-core from
# web-tests/package-lock.json (it drives /usr/bin/chromium; it never downloads a browser).
browser_packages=(chromium fonts-ipafont-gothic nodejs)
browser_missing=()
for p in "${browser_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || browser_missing+=("$p")
done
# A Node.js from elsewhere (with its npm) does as well as Debian's.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    browser_missing=("${browser_missing[@]/nodejs}")
fi
browser_missing=($(printf '%s\n' "${browser_missing[@]}" | grep -v '^$' || true))
if ((${#browser_missing[@]})); then
    say "installing ${browser_missing[*]}"
    [ "$(id -u)" = 0 ] || { echo "the browser tests need: ${browser_missing[*]} (run as root)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${browser_missing[@]}" $(command -v npm >/dev/null 2>&1 || echo npm) >/dev/null
fi
say "npm ci (web-tests)"
(cd web-tests && npm ci --no-audit --no-fund --loglevel=error)
# The browser tests must run here, never skip.
export ONSHI_REQUIRE_BROWSER=1
export ONSHI_CHROMIUM="${ONSHI_CHROMIUM:-/usr/bin/chromium}"
