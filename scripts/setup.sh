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
  # Cyrus IMAP and Courier IMAP in the integration tests: the servers themselves
  # conflict with dovecot-imapd and are unpacked by scripts/fetch-imap-servers.sh;
  # these are their dependencies that install normally.
  # Cyrus (cyrus-imapd, cyrus-common): libraries, SASL (sasldb, saslpasswd2)
  libical3 libxapian30 libclamav12 libzephyr4 libjansson4 libwrap0
  libsasl2-modules libsasl2-modules-db sasl2-bin
  # Courier (courier-imap, courier-base): authdaemond + userdb, libraries, FAM for IDLE
  courier-authlib courier-authdaemon courier-authlib-userdb libcourier-unicode4
  libgdbm6 libidn12 gamin libgamin0
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
# Nor the packaged Courier authdaemond and saslauthd: the tests run their own.
for unit in courier-authdaemon saslauthd; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl stop "$unit" || true
  fi
done
