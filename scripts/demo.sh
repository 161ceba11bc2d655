#!/usr/bin/env bash
# The README's main command: builds ppo-intake, then runs it on an embedded
# default — a throwaway Dovecot with sample PPO mails, the sample directory in
# SQLite, a local SMTP capture — and shows the status table, the triage queue
# and the acknowledgements it sent. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CCACHE_BASEDIR=$(pwd)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j "$(nproc)" --target ppo-intake ppo_demo >/dev/null
exec build/release/tests/ppo_demo
