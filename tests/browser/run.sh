#!/usr/bin/env bash
# Runs the headless-Chromium tests: the HTML report (html-report.mjs) and fettle in the browser
# (web.mjs), installing what is missing: Chromium and Node.js from Debian's packages, playwright-core
# from the npm registry (as pinned in package-lock.json), the wasm32-unknown-unknown Rust target
# (rustup), the browser page (bash web/build.sh) and the release build of fettle (built after the
# page, so that `fettle serve` embeds it). Works as root on a fresh Debian machine (with sudo
# otherwise); Rust and cargo must already be there. Prints each test's checks, then the total:
# `N passed, N failed`; exits 1 when a check failed.
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
  bash "$root/web/build.sh"
  (cd "$root" && cargo build --release --quiet)
  # The tests run the fettle just built, wherever cargo puts it.
  export FETTLE_BIN="${FETTLE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/fettle}"
elif [ ! -x "$root/target/release/fettle" ] || [ ! -f "$root/web/pkg/fettle.wasm" ]; then
  echo "error: cargo is not installed and target/release/fettle or web/pkg/fettle.wasm is not built" >&2
  exit 2
fi

total_passed=0
total_failed=0
for t in html-report.mjs web.mjs; do
  echo "# $t"
  log="$(mktemp)"
  status=0
  node "$here/$t" | tee "$log" || status=$?
  counts="$(tail -n 1 "$log")"
  rm -f "$log"
  if [[ "$counts" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    total_passed=$((total_passed + BASH_REMATCH[1]))
    total_failed=$((total_failed + BASH_REMATCH[2]))
  else
    echo "not ok - $t did not finish (exit $status)"
    total_failed=$((total_failed + 1))
  fi
  if [ "$status" -ne 0 ] && [ "$total_failed" -eq 0 ]; then
    total_failed=1
  fi
done
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
