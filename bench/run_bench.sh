#!/bin/sh
# The intake benchmark: a Release build in build/bench, then ppo_intake_bench
# with N messages (default 1000). Extra arguments go to the benchmark
# (--no-small, --no-big, --keep). Not part of ctest. See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build/bench"
n="${1:-1000}"
[ $# -gt 0 ] && shift
launcher=""
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release $launcher >/dev/null
cmake --build "$build" -j"$(nproc)" --target ppo-intake ppo_intake_bench
exec "$build/tests/ppo_intake_bench" "$n" "$@"
