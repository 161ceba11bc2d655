#!/bin/sh
# The intake benchmark: a Release build in build/bench, then ppo_intake_bench
# with the arguments given (N ... rounds, default 1000; --acks-only, --no-big,
# --no-idle, --keep). Not part of ctest. See bench/README.md.
# PPO_TEST_DATABASE=postgresql: ppo-intake on a PostgreSQL server started for
# the run (initdb/pg_ctl, as the tests do), instead of SQLite.
# PPO_BENCH_SINK=smtp-sink (default; Postfix's /usr/sbin/smtp-sink) or
# aiosmtpd (the tests' Python capture) takes ppo-intake's mails.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build/bench"
sink="${PPO_BENCH_SINK:-smtp-sink}"
if [ "$sink" = smtp-sink ] && [ ! -x /usr/sbin/smtp-sink ]; then
    echo "run_bench.sh: /usr/sbin/smtp-sink missing (apt-get install postfix, debconf \"No configuration\"); using aiosmtpd" >&2
    sink=aiosmtpd
fi
export PPO_BENCH_SINK="$sink"
launcher=""
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release $launcher >/dev/null
cmake --build "$build" -j"$(nproc)" --target ppo-intake ppo_intake_bench
exec "$build/tests/ppo_intake_bench" "$@"
