#!/usr/bin/env bash
# Installs every Debian package that the build, the tests and the demo need.
# Idempotent: does nothing slow when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libetpan-dev libpoco-dev libxml2-dev libpoppler-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libhowardhinnant-date-dev libsystemd-dev
  libsqlite3-dev libssl-dev libpq-dev libytnef0-dev libsodium-dev libxlsxwriter-dev tzdata libkainjow-mustache-dev
  dovecot-core dovecot-imapd python3-aiosmtpd python3 openssl
  isync sqlite3 ccache postgresql
  clang libclang-rt-14-dev systemd
  chromium chromium-driver python3-selenium
  # utf8proc: NFC normalisation and ligature folding of document text (parsers/text/utf8.h)
  libutf8proc-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  # Debian's dovecot-core and postgresql postinsts try to start the system
  # services; the tests start their own throwaway instances instead.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Never leave the packaged, system-wide Dovecot running: the tests start their own.
# (A system PostgreSQL may stay: the tests' own server listens on a Unix socket in a
# temporary folder only, and a developer's local PostgreSQL is none of our business.)
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
  systemctl stop dovecot || true
fi
