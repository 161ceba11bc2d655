#!/bin/sh
# The web pages benchmark (issue 13): a Release build in build/bench, then
# ppo_web_bench: a campaign of 3,000 lycées and 10,000 submissions, `ppo-intake
# web`, every page timed (median, p95, max). Extra arguments go to the
# benchmark (--lycees N, --submissions N, --runs N, --forward-kb N,
# --command web|run, --keep). Not part of ctest. See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build/bench"
launcher=""
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release $launcher >/dev/null
cmake --build "$build" -j"$(nproc)" --target ppo-intake ppo_web_bench
exec "$build/tests/ppo_web_bench" "$@"
