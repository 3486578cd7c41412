#!/usr/bin/env bash
# Builds fettle for the browser: the engine and the shipped rules compiled to WebAssembly
# (web/wasm, a crate of its own with its own lock file and target folder), copied to
# web/pkg/fettle.wasm next to the page (index.html, app.js, worker.js, style.css).
#
#   bash web/build.sh
#
# Needs the stable Rust toolchain and its wasm32-unknown-unknown target (added here with rustup when
# missing). Nothing else: no wasm-bindgen, no wasm-pack, no npm. Afterwards, serve the folder `web/`
# with any static web server, or rebuild fettle (`cargo build --release`) and run `fettle serve`,
# which embeds these files.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target_dir="${CARGO_TARGET_DIR:-$here/wasm/target}"

if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "adding the wasm32-unknown-unknown target (rustup)" >&2
  rustup target add wasm32-unknown-unknown
fi

(cd "$here/wasm" && cargo build --release --target wasm32-unknown-unknown --lib --quiet)

mkdir -p "$here/pkg"
cp "$target_dir/wasm32-unknown-unknown/release/fettle_web.wasm" "$here/pkg/fettle.wasm.tmp"
mv "$here/pkg/fettle.wasm.tmp" "$here/pkg/fettle.wasm"
size=$(wc -c <"$here/pkg/fettle.wasm")
echo "web/pkg/fettle.wasm: $((size / 1024)) KB; serve web/ (or run \`fettle serve\` after rebuilding fettle)"
