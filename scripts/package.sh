#!/bin/sh
# Builds a Release ppo-intake in build/package (installed layout: /usr, /etc)
# and makes the Debian package with CPack:
#   build/package/ppo-intake_<version>_<arch>.deb
# Install it with:  apt-get install ./build/package/ppo-intake_*.deb
# Options are passed to the configure step, e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build/package"

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DPPO_BUILD_TESTS=OFF "$@"
cmake --build "$build" -j "$(nproc)"
(cd "$build" && cpack -G DEB)

deb=$(ls -t "$build"/ppo-intake_*.deb | head -n 1)
echo
echo "Package: $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
echo
dpkg-deb --contents "$deb"
