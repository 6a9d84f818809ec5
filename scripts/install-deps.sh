#!/bin/sh
# Install, with apt-get, the Debian packages sqlpool needs, when missing. Safe to run again:
# it does nothing when everything is there.
#   sh scripts/install-deps.sh run    what `make run` needs: build the library and the CLI
#   sh scripts/install-deps.sh test   that, and what the tests, sanitizers, fuzzing, lint,
#                                     docs and benchmarks need (every other make target)
#   sh scripts/install-deps.sh --list run|test   print that set, one package a line
# scripts/check-deps.sh (in make test) checks that `make run` asks for no test package.
set -eu

# The demo: a C compiler, CMake, pkg-config, and the libraries the library and CLI link
# (libpq: the CLI's PostgreSQL side is built when it is there).
RUN_PACKAGES="gcc libc6-dev make cmake pkg-config libsqlite3-dev libjansson-dev libpq-dev"
# The rest: cmocka tests, the PostgreSQL test server and a pgbouncer in front of it, TSan and
# fuzzing (clang), valgrind, formatting and lint, the chart test (xmllint), the metrics server
# and its test (libmicrohttpd, curl, prometheus's promtool), man pages and API docs, the other
# pools the benchmarks compare, libuv for examples/libuv_server.c (run by the tests).
TEST_PACKAGES="git clang libclang-rt-dev clang-format clang-tidy cppcheck valgrind
               libcmocka-dev postgresql pgbouncer libxml2-utils libmicrohttpd-dev curl prometheus
               groff-base doxygen libaprutil1-dev libzdb-dev libuv1-dev"

usage() {
    echo "usage: $0 [--list] run|test" >&2
    exit 64
}
list=0
if [ "${1:-}" = --list ]; then
    list=1
    shift
fi
[ $# -eq 1 ] || usage
case $1 in
run) PACKAGES=$RUN_PACKAGES ;;
test) PACKAGES="$RUN_PACKAGES $TEST_PACKAGES" ;;
*) usage ;;
esac
if [ $list = 1 ]; then
    # shellcheck disable=SC2086 # one package a line
    printf '%s\n' $PACKAGES
    exit 0
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    target=deps
    [ "$1" = test ] && target=deps-test
    echo "install-deps: missing packages:$missing; run 'make $target' as root (or apt-get install them)" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
