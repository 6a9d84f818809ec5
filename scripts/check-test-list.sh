#!/bin/sh
# The test list's checks (tests/testlist.cmake) fail when they should: builds the fixture
# tests/fixtures/testlist/, where each test_<case>.c breaks one rule (a test left out of its
# array, static, global or declared global; a misnamed entry; an entry twice) and test_good.c
# keeps them, and checks each failure, the configure check of the area list, and the CTest
# entries test_good.c gets (names, labels, timeout, lock; both run and pass).
#   scripts/check-test-list.sh
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
fixture=$src/tests/fixtures/testlist
work=$(mktemp -d "${TMPDIR:-/tmp}/sqlpool-testlist.XXXXXX")
trap 'rm -rf "$work"' EXIT
b=$work/build
log=$work/log
areas="good;static;proto;global;badname;dup"
failed=""

fail() {
    echo "check-test-list: FAILED: $1" >&2
    sed 's/^/    /' "$log" | tail -n 30 >&2
    failed="$failed
  $1"
}
# expect_ok what command...: the command succeeds.
expect_ok() {
    what=$1
    shift
    if "$@" >"$log" 2>&1; then echo "check-test-list: ok: $what"; else fail "$what"; fi
}
# expect_fail what pattern... -- command...: the command fails, its output holding each pattern.
expect_fail() {
    what=$1
    shift
    pats=""
    while [ "$1" != "--" ]; do
        pats="$pats
$1"
        shift
    done
    shift
    if "$@" >"$log" 2>&1; then
        fail "$what (it passed)"
        return
    fi
    echo "$pats" | while IFS= read -r p; do
        [ -z "$p" ] && continue
        grep -q -- "$p" "$log" || { echo "missing: $p" >>"$log"; exit 1; }
    done || {
        fail "$what (failed, but not saying what it should)"
        return
    }
    echo "check-test-list: ok: $what"
}
configure() { cmake -S "$fixture" -B "$b" -DSQLPOOL_SOURCE_DIR="$src" "$@"; }
build() { cmake --build "$b" --target "$1"; }

expect_ok "configure the fixture" configure "-DFIXTURE_AREAS=$areas" \
    -DFIXTURE_LOCK_TEST=test_good_second
expect_fail "an unbuilt program is one failing entry" "test_good_NOT_BUILT" -- \
    ctest --test-dir "$b" -R '^test_good_NOT_BUILT$'

expect_ok "test_good registers" build test_good_list
ctest --test-dir "$b" -N -R '^test_good_' >"$log" 2>&1
names=$(sed -n 's/^ *Test *#[0-9]*: //p' "$log" | sort | tr '\n' ' ')
[ "$names" = "test_good_first test_good_second " ] || fail "test_good's entries: '$names'"
entries=$b/test_good_tests.cmake
cp "$entries" "$log" 2>/dev/null || echo "no $entries" >"$log"
grep -q 'test_good_first.*LABELS "good;fixture" TIMEOUT "7"' "$log" ||
    fail "test_good_first's labels and timeout"
grep -q 'test_good_second.* RESOURCE_LOCK "fixture_lock"' "$log" || fail "test_good_second's lock"
if grep -q 'test_good_first.*RESOURCE_LOCK' "$log"; then fail "test_good_first has a lock"; fi
expect_ok "test_good's two entries run and pass" \
    ctest --test-dir "$b" -L fixture -V --no-tests=error
for t in test_good_first test_good_second; do # each entry runs its own test
    grep -q "^[0-9]*: \[ *OK *\] $t\$" "$log" || fail "the entry $t runs $t"
done
ctest --test-dir "$b" -N -L fixture >"$log" 2>&1
grep -q "Total Tests: 2$" "$log" || fail "label fixture selects test_good's two tests"

expect_fail "a static test left out fails the compile" "test_static_forgotten" "unused-function" \
    -- build test_static
expect_fail "an undeclared global test left out fails the compile" "test_proto_forgotten" \
    "missing-prototypes" -- build test_proto
expect_ok "a declared global test left out compiles" build test_global
expect_fail "a declared global test left out fails the listing" "test_global_forgotten" \
    "not in its" -- build test_global_list
expect_fail "a name without its area's prefix fails the listing" "test_badnam_typo" \
    "does not start" -- build test_badname_list
expect_fail "a test listed twice fails the listing" "test_dup_twice" "twice" -- \
    build test_dup_list

expect_fail "a lock naming a test not in the array fails the listing" "test_good_third" \
    "RESOURCE_LOCK" -- sh -c 'cmake -S "$1" -B "$2" -DSQLPOOL_SOURCE_DIR="$3" \
        -DFIXTURE_AREAS="$4" -DFIXTURE_LOCK_TEST=test_good_third &&
        cmake --build "$2" --target test_good_list' sh "$fixture" "$b" "$src" "$areas"
expect_fail "a test_<area>.c missing from the areas fails configure" "test_dup.c" \
    "not in the list" -- configure "-DFIXTURE_AREAS=good;static;proto;global;badname"
expect_fail "an area without its file fails configure" "test_gone.c" "missing" -- \
    configure "-DFIXTURE_AREAS=$areas;gone"

if [ -n "$failed" ]; then
    echo "check-test-list: failed:$failed" >&2
    exit 1
fi
echo "check-test-list: every check fails where it should"
