#!/usr/bin/env bash
# Fetches Cyrus IMAP and Courier IMAP, as Debian ships them, for the
# integration tests (tests/bench/cyrus_server.h, tests/bench/courier_server.h).
#
# cyrus-imapd and courier-imap conflict with dovecot-imapd (all three provide
# imap-server), which the tests need installed. So their packages are not
# installed: `apt-get download` fetches them into a cache folder and
# `dpkg-deb -x` unpacks them there; the tests run the unpacked binaries with
# their own configuration, state and spool in a temporary folder. Their
# dependencies that do not conflict (libraries, courier-authlib, sasl2-bin)
# are installed normally by scripts/setup.sh.
#
# Unpacked (and not installed) because they conflict, or because installing
# them would pull in a mail transport agent and start system services:
#   cyrus-imapd cyrus-common courier-imap courier-base
#
#   scripts/fetch-imap-servers.sh [DIR]     default DIR: /var/tmp/ppo-imap-servers-UID
#
# Not under the checkout by default: the servers drop to unprivileged users
# (Cyrus runs as nobody, Courier's daemons as courier), who must be able to
# reach the unpacked tree, and a clone may sit in a folder only its owner can
# enter (mktemp -d makes them 0700).
#
# DIR/root/ is the unpacked tree; DIR/READY lists the unpacked packages and
# their versions. Idempotent and quick: it returns at once when DIR/READY is
# newer than apt's package lists, or matches the versions apt offers. Safe to
# run from several test processes at once (flock). Exit 0 when DIR/root is ready.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/var/tmp/ppo-imap-servers-$(id -u)}
mkdir -p "$dir"
chmod 755 "$dir"
dir=$(cd "$dir" && pwd)
packages=(cyrus-imapd cyrus-common courier-imap courier-base)

exec 9>"$dir/.lock"
flock 9

# Quick path: unpacked before, and apt's package lists not refreshed since.
if [ -f "$dir/READY" ] && [ -d "$dir/root" ] &&
   [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -newer "$dir/READY" 2>/dev/null | head -n 1)" ]; then
  exit 0
fi

# The candidate versions apt would fetch now ("" when apt knows none).
wanted=""
policy=$(apt-cache policy "${packages[@]}" 2>/dev/null || true)
for p in "${packages[@]}"; do
  v=$(awk -v p="$p:" '$1 == p { on = 1; next } /^[^ ]/ { on = 0 } on && $1 == "Candidate:" { print $2; exit }' <<<"$policy")
  [ "$v" = "(none)" ] && v=""
  wanted+="$p ${v}"$'\n'
done
if [ -f "$dir/READY" ] && [ -d "$dir/root" ]; then
  # Same versions (or apt has no lists to compare with, offline): keep it.
  if [ "$(cat "$dir/READY")" = "${wanted%$'\n'}" ] || grep -q ' $' <<<"$wanted"; then
    touch "$dir/READY"
    exit 0
  fi
fi
if grep -q ' $' <<<"$wanted"; then
  # A fresh machine: apt has no package lists yet.
  if [ "$(id -u)" -eq 0 ]; then apt-get update -q >&2; else echo "fetch-imap-servers: run 'apt-get update' first" >&2; fi
fi

debs="$dir/debs"
rm -rf "$debs" "$dir/root.new"
mkdir -p "$debs" "$dir/root.new"
# apt's sandbox user must be able to write into the download folder.
chmod 0777 "$debs"
(cd "$debs" && apt-get download -q "${packages[@]}" >&2)
found=""
for p in "${packages[@]}"; do
  deb=$(ls "$debs"/"${p}"_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || { echo "fetch-imap-servers: apt-get download $p gave no file" >&2; exit 1; }
  dpkg-deb -x "$deb" "$dir/root.new"
  found+="$p $(dpkg-deb -f "$deb" Version)"$'\n'
done
rm -rf "$dir/root"
mv "$dir/root.new" "$dir/root"
rm -rf "$debs"
printf '%s' "${found%$'\n'}" >"$dir/READY"
echo "fetch-imap-servers: unpacked into $dir/root:" >&2
cat "$dir/READY" >&2
echo >&2
