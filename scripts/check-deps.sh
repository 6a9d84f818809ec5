#!/bin/sh
# Check the package split of scripts/install-deps.sh as the Makefile uses it (make test runs
# this; it installs nothing and reads what make would do with `make -n`):
#  1. what `make run` installs holds none of the test tools;
#  2. the configure step of `make run` passes with the pkg-config files of every package it
#     does not install hidden (so the demo's build needs none of them: no cmocka, no zdb);
#  3. every other target that builds, tests, checks or measures installs the whole test set.
# One line per check; exits non-zero on the first failure.
#   sh scripts/check-deps.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sqlpool-deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log=$tmp/log

# Test tools the demo must not install (the issue named prometheus, doxygen and libzdb).
TEST_TOOLS="libcmocka-dev postgresql pgbouncer prometheus doxygen libzdb-dev libaprutil1-dev
            valgrind clang libclang-rt-dev clang-format clang-tidy cppcheck libxml2-utils curl
            groff-base git"
TARGETS="build test-unit test-asan test-tsan test-valgrind test-install format format-check
         lint man-check docs fuzz fuzz-smoke bench"

ok() { echo "check-deps: ok   $*"; }
fail() {
    echo "check-deps: FAIL $*" >&2
    [ -s "$log" ] && sed 's/^/    /' "$log" >&2
    exit 1
}

# The commands make would run for a target, without running them or the caller's flags.
dry() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -n BUILD="$tmp/build" "$1"
}

# The packages target $1 installs, sorted, one a line, into $tmp/$1.pkgs.
packages_of() {
    dry "$1" >"$tmp/$1.cmds" 2>"$log" || fail "make -n $1"
    : >"$tmp/$1.pkgs"
    sed -n 's|^sh scripts/install-deps\.sh *\(.*\)$|\1|p' "$tmp/$1.cmds" >"$tmp/$1.sets"
    [ -s "$tmp/$1.sets" ] || { : >"$log"; fail "make $1 does not call scripts/install-deps.sh"; }
    while read -r set; do
        # shellcheck disable=SC2086 # the set's words as make passes them
        sh scripts/install-deps.sh --list $set >>"$tmp/$1.pkgs" 2>"$log" ||
            fail "make $1: install-deps.sh '$set' is not a set that can be listed"
    done <"$tmp/$1.sets"
    sort -u -o "$tmp/$1.pkgs" "$tmp/$1.pkgs"
}

# 1. The demo's packages.
packages_of run
: >"$log"
for p in $TEST_TOOLS; do
    grep -q -x -F "$p" "$tmp/run.pkgs" && echo "make run installs $p" >>"$log"
done
[ -s "$log" ] && fail "make run installs test tools"
for p in cmake pkg-config libsqlite3-dev libjansson-dev; do
    grep -q -x -F "$p" "$tmp/run.pkgs" || echo "make run does not install $p" >>"$log"
done
[ -s "$log" ] && fail "make run misses what the demo's build needs"
ok "make run installs $(tr '\n' ' ' <"$tmp/run.pkgs")(no test tools)"

# 2. Hide the pkg-config files of every test package make run does not install, then run
# make run's configure step against what is left.
sh scripts/install-deps.sh --list test | sort -u >"$tmp/all.pkgs"
mkdir "$tmp/pc"
hidden=$(comm -23 "$tmp/all.pkgs" "$tmp/run.pkgs" | while read -r p; do
    dpkg -L "$p" 2>/dev/null | grep '\.pc$' || true
done)
for dir in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
    for pc in "$dir"/*.pc; do
        [ -e "$pc" ] || continue
        echo "$hidden" | grep -q -x -F "$pc" && continue
        ln -sf "$pc" "$tmp/pc/"
    done
done
PKG_CONFIG_LIBDIR=$tmp/pc PKG_CONFIG_PATH='' pkg-config --exists cmocka &&
    { : >"$log"; fail "cmocka's pkg-config file could not be hidden"; }
grep '^cmake -S ' "$tmp/run.cmds" >"$tmp/run.configure" ||
    { : >"$log"; fail "make run has no configure step"; }
while read -r cmd; do
    PKG_CONFIG_LIBDIR=$tmp/pc PKG_CONFIG_PATH='' sh -c "$cmd" >"$log" 2>&1 ||
        fail "make run's configure without the test packages: $cmd"
done <"$tmp/run.configure"
ok "make run's configure passes without the test packages' libraries (cmocka, zdb, apr-util, ...)"

# 3. Every other target installs everything.
for t in $TARGETS; do
    packages_of "$t"
    comm -23 "$tmp/all.pkgs" "$tmp/$t.pkgs" >"$log"
    [ -s "$log" ] && fail "make $t does not install these"
done
# shellcheck disable=SC2086,SC2116 # the list on one line
ok "make $(echo $TARGETS): each installs all $(wc -l <"$tmp/all.pkgs") packages"
echo "check-deps: passed"
