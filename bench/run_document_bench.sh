#!/bin/sh
# The document-reading benchmark (issue 12): a Release build in build/bench,
# then ppo_document_bench [ROUNDS] (default 20): extraction time per test
# document through the child process, and the parse alone. Not part of ctest.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build/bench"
launcher=""
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release $launcher >/dev/null
cmake --build "$build" -j"$(nproc)" --target ppo-intake ppo_document_bench
exec "$build/tests/ppo_document_bench" "$@"
