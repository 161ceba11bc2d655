#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-DPPO_FUZZ=ON, ASan + UBSan) and runs
# each for SECONDS (default 600), starting from its seed corpus in
# fuzz/corpus/<target>/. Prints, per target, the executions and the findings
# (crash-*, leak-*, timeout-*, oom-* files written under BUILD/findings/<target>/).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   PPO_FUZZ_BUILD=dir       build folder (default build/fuzz)
#   PPO_FUZZ_PARALLEL=N      targets run at the same time (default 1)
#   PPO_FUZZ_SKIP_BUILD=1    use the binaries already built
# New interesting inputs go to BUILD/corpus/<target>/ (never into the source
# tree); copy a crashing input into fuzz/corpus/<target>/ once it is fixed, so
# that tests/parsers/test_fuzz_corpus.cpp replays it in every build.
# Exit status: 0 when no target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(mime header identify csv safe_file_name auth_results msg_id forward document_text tnef download_links)
build=${PPO_FUZZ_BUILD:-build/fuzz}
parallel=${PPO_FUZZ_PARALLEL:-1}

if [ -z "${PPO_FUZZ_SKIP_BUILD:-}" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DPPO_FUZZ=ON -DPPO_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "${PPO_JOBS:-$(nproc)}" --target fuzz_all
fi

run_one() {
  local t=$1
  local work="$build/corpus/$t" findings="$build/findings/$t" log="$build/fuzz-$t.log"
  local extra=()
  mkdir -p "$work" "$findings"
  case "$t" in
    mime) extra=(-max_len=65536) ;;
    csv) extra=(-max_len=16384) ;;
    document_text) extra=(-max_len=65536) ;;
    tnef) extra=(-max_len=16384) ;;
    *) extra=(-max_len=4096) ;;
  esac
  # -timeout: one input taking longer is a finding (denial of service).
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${extra[@]}" "$work" "fuzz/corpus/$t" >"$log" 2>&1 || true
}

pids=()
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${seconds}s (log $build/fuzz-$t.log)"
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done

status=0
printf '%-16s %14s %10s %8s %s\n' target executions exec/s corpus findings
for t in "${targets[@]}"; do
  log="$build/fuzz-$t.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  found=$(find "$build/findings/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
  printf '%-16s %14s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$found"
  if [ "$found" -gt 0 ]; then
    status=1
    find "$build/findings/$t" -type f | sed 's/^/    /'
    grep -m3 -E 'ERROR: |SUMMARY: |fuzz property violated' "$log" | sed 's/^/    /' || true
  fi
done
exit $status
