#!/usr/bin/env bash
# Runs fuzz targets for a while each, from the small seed corpora in fuzz/seeds/, with a limit of
# 10 s per input (FUZZ_TIMEOUT; libFuzzer counts wall time, so a run starved of CPU on a busy
# machine needs more) and 1 GB of memory. Needs the nightly toolchain and cargo-fuzz.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: 60 s each, every target, one after another)
#
# FUZZ_NO_BUILD=1 runs the targets as last built.
#
# The corpora grow in FUZZ_OUT (default: a fresh temporary folder), never in the repository. A
# crash, a timeout or running out of memory stops the script with exit 1 and the input that did
# it (FUZZ_OUT/TARGET/crash-..., timeout-..., oom-...): turn it into a regression test. Each target
# ends with a line `fuzz: TARGET: N execs in S s (CPU S s), peak RSS M MB, no crash`.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(csv_reader rule_parser xlsx_reader xml_reader)
fi
out=${FUZZ_OUT:-$(mktemp -d)}
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
start=$(date +%s)
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  cargo +nightly fuzz build
  echo "fuzz: targets built in $(( $(date +%s) - start )) s"
fi
for t in "${targets[@]}"; do
  mkdir -p "$out/$t/corpus"
  cp -n seeds/"$t"/* "$out/$t/corpus/" 2>/dev/null || true
  log="$out/$t/log"
  begin=$(date +%s)
  status=0
  # `time` reports the CPU the target used (user + system), for the campaign's record.
  { TIMEFORMAT='%U %S'; time "target/$host/release/$t" -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" \
      -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/$t/" "$out/$t/corpus" \
      >"$log" 2>&1 || status=$?; } 2>"$out/$t/cpu"
  took=$(( $(date +%s) - begin ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$out/$t/cpu")
  if [ "$status" != 0 ]; then
    tail -40 "$log"
    echo "fuzz: $t FAILED after ${execs:-?} execs in $took s; the input is in $out/$t/ (exit $status)"
    exit 1
  fi
  echo "fuzz: $t: ${execs:-?} execs in $took s (CPU $cpu s), peak RSS ${rss:-?} MB, no crash"
done
