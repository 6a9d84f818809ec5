#!/bin/sh
# Install, with apt-get, the Debian packages sqlpool needs to build and test, when missing.
# Safe to run again: it does nothing when everything is there.
set -eu

PACKAGES="gcc libc6-dev make cmake pkg-config git clang libclang-rt-dev clang-format valgrind
          libsqlite3-dev libjansson-dev libcmocka-dev libpq-dev postgresql
          libaprutil1-dev libzdb-dev libxml2-utils prometheus doxygen groff-base
          libmicrohttpd-dev curl clang-tidy cppcheck"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run 'make deps' as root (or apt-get install them)" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
