#!/usr/bin/env bash
# Checks that an ELF executable carries the hardening Debian expects
# (dpkg-buildflags hardening=+all, what hardening-check(1) and lintian look for):
#   PIE                ELF type DYN with the PIE flag
#   stack protector    calls __stack_chk_fail (-fstack-protector-strong)
#   fortify            calls at least one __*_chk libc function (-D_FORTIFY_SOURCE=2)
#   RELRO              a GNU_RELRO segment (-z relro)
#   BIND_NOW           BIND_NOW / FLAGS_1 NOW (-z now; with RELRO: full RELRO)
#   NX stack           GNU_STACK not executable
# Uses readelf (binutils, part of build-essential) only; when hardening-check
# (package devscripts) is installed it runs too, as a second opinion.
#   scripts/check-hardening.sh [BINARY]     (default build/release/daemon/ppo-intake)
# Exit status 0 only when every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/daemon/ppo-intake}
[ -f "$bin" ] || { echo "check-hardening: $bin: no such file (build it first)" >&2; exit 2; }

header=$(readelf -h -W "$bin")
dynamic=$(readelf -d -W "$bin")
segments=$(readelf -l -W "$bin")
symbols=$(readelf --dyn-syms -W "$bin")

failed=0
check() {   # check NAME CONDITION-RESULT HINT
  if [ "$2" = yes ]; then
    printf '  %-18s yes\n' "$1"
  else
    printf '  %-18s NO  (%s)\n' "$1" "$3"
    failed=1
  fi
}
has() { grep -Eq "$1" <<<"$2" && echo yes || echo no; }

echo "hardening of $bin:"
pie=no
if grep -Eq 'Type:[[:space:]]+DYN' <<<"$header" && grep -Eq 'FLAGS_1.*PIE' <<<"$dynamic"; then pie=yes; fi
check "PIE" "$pie" "linked without -pie, or a -specs=no-pie leaked from a pkg-config file"
check "stack protector" "$(has '__stack_chk_fail' "$symbols")" "-fstack-protector-strong missing"
check "fortify" "$(has ' __[a-z0-9_]+_chk(@|$)' "$symbols")" "-D_FORTIFY_SOURCE=2 missing, or built without optimisation"
check "RELRO" "$(has 'GNU_RELRO' "$segments")" "-Wl,-z,relro missing"
bindnow=no
if grep -Eq '\(BIND_NOW\)|FLAGS.*BIND_NOW|FLAGS_1.*NOW' <<<"$dynamic"; then bindnow=yes; fi
check "BIND_NOW" "$bindnow" "-Wl,-z,now missing"
nx=no
if grep -E 'GNU_STACK' <<<"$segments" | grep -Eqv 'RWE'; then nx=yes; fi
check "NX stack" "$nx" "an object asked for an executable stack"

if command -v hardening-check >/dev/null 2>&1; then
  echo "hardening-check:"
  hardening-check "$bin" | sed 's/^/  /' || failed=1
fi
if [ "$failed" -ne 0 ]; then
  echo "check-hardening: $bin is missing some hardening (see above)" >&2
  exit 1
fi
echo "check-hardening: ok"
