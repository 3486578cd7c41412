#!/usr/bin/env bash
# Runs the headless-Chromium test of the HTML report (html-report.mjs), installing what is missing:
# Chromium and Node.js from Debian's packages, playwright-core from the npm registry (as pinned in
# package-lock.json), and the release build of fettle. Works as root on a fresh Debian machine
# (with sudo otherwise); Rust and cargo must already be there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update
  as_root apt-get install -y "${missing[@]}"
fi

cd "$here"
want="$(node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")"
have="$(node -p "try { require('./node_modules/playwright-core/package.json').version } catch (e) { '' }")"
if [ "$want" != "$have" ]; then
  echo "installing playwright-core $want (npm)" >&2
  npm ci --no-audit --no-fund
fi

if command -v cargo >/dev/null 2>&1; then
  (cd "$root" && cargo build --release --quiet)
elif [ ! -x "$root/target/release/fettle" ]; then
  echo "error: cargo is not installed and target/release/fettle is not built" >&2
  exit 2
fi

exec node "$here/html-report.mjs"
