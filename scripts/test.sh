#!/usr/bin/env bash
# The test command: installs what is missing (Debian packages), builds with
# warnings as errors, runs every test (unit and integration: each integration
# test starts and stops its own Dovecot and SMTP capture server on loopback),
# then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs
# every test again. Exit status 0 only when every run passes. The release
# binary's hardening is checked too (scripts/check-hardening.sh). The Debian
# package is not built here (CI time): see README, "Checking the package".
# The integration tests run a second time against PostgreSQL (a throwaway
# server the tests start with initdb/pg_ctl on a Unix socket in a temporary
# folder), in the release build only. The browser test (tests/browser/, headless
# Chromium through chromedriver) runs in the release build only, its screenshots
# in build/release/screenshots.
#   PPO_SKIP_SANITIZERS=1  skip the sanitizer run (quicker local iterations)
#   PPO_SKIP_POSTGRES=1    skip the PostgreSQL run
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CCACHE_BASEDIR=$root
jobs=${PPO_JOBS:-$(nproc)}

scripts/setup.sh
# Cyrus and Courier IMAP for the integration tests (unpacked, not installed).
scripts/fetch-imap-servers.sh

echo "== build (warnings are errors)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPPO_WERROR=ON >/dev/null
cmake --build build/release -j "$jobs"
echo "== hardening (PIE, stack protector, fortify, RELRO, BIND_NOW)"
scripts/check-hardening.sh build/release/daemon/ppo-intake
echo "== tests"
ctest --test-dir build/release --output-on-failure -j "$jobs"

if [ "${PPO_SKIP_POSTGRES:-0}" != 1 ]; then
  echo "== integration tests on PostgreSQL"
  pg_start=$(date +%s)
  PPO_TEST_DATABASE=postgresql ctest --test-dir build/release --output-on-failure -L integration -j "$jobs"
  echo "== PostgreSQL pass: $(( $(date +%s) - pg_start )) s"
fi

if [ "${PPO_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DPPO_WERROR=ON -DPPO_SANITIZE=ON >/dev/null
  cmake --build build/asan -j "$jobs"
  echo "== tests under ASan + UBSan"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
  # The browser test (label browser) drives Chromium for a minute: once, in the
  # release build, is enough.
  ctest --test-dir build/asan --output-on-failure -j "$jobs" -LE browser
fi
echo "== all tests passed"
