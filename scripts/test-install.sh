#!/bin/sh
# Install a build into a temporary prefix, check what was installed, then build examples/
# against it twice, through pkg-config and through find_package(sqlpool), and run each
# program built. The PostgreSQL example needs a server in $SQLPOOL_TEST_PG (scripts/with-pg.sh
# provides one). One line per step; exits non-zero on any failure; removes what it made.
#   sh scripts/test-install.sh build
set -eu
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 64; }
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$1/cmake_install.cmake" ] || { echo "test-install: $1 is not a CMake build" >&2; exit 64; }
build=$(cd "$1" && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sqlpool-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
prefix=$tmp/prefix
lib=$prefix/lib
log=$tmp/log
failed=0

ok() { echo "test-install: ok   $*"; }
fail() {
    echo "test-install: FAIL $*" >&2
    [ -s "$log" ] && sed 's/^/    /' "$log" >&2
    exit 1
}
# quiet DESCRIPTION COMMAND...: run the command, its output kept for a failure report.
quiet() {
    what=$1
    shift
    "$@" >"$log" 2>&1 || fail "$what"
    ok "$what"
}
# example HOW NAME PROGRAM [ARG...]: run a built example; print the line it printed.
example() {
    how=$1 name=$2
    shift 2
    LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@" >"$log" 2>&1 ||
        fail "$how: run $name"
    ok "$how: run $name: $(tail -n 1 "$log")"
}

quiet "cmake --install $1 --prefix TMP" cmake --install "$build" --prefix "$prefix"

# What was installed.
: >"$log"
for f in lib/libsqlpool.so lib/libsqlpool.a include/sqlpool.h lib/pkgconfig/sqlpool.pc \
    lib/cmake/sqlpool/sqlpoolConfig.cmake lib/cmake/sqlpool/sqlpoolConfigVersion.cmake \
    lib/cmake/sqlpool/sqlpoolTargets.cmake bin/sqlpool share/sqlpool/sample_input.txt; do
    [ -e "$prefix/$f" ] || echo "missing: $f" >>"$log"
done
[ -s "$log" ] && fail "installed files"
ok "installed files: library (shared, static), header, pkg-config file, CMake package, CLI, sample"

soname=$(readelf -d "$lib/libsqlpool.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
real=$(readlink -f "$lib/libsqlpool.so")
case $soname in libsqlpool.so.[0-9]*) ;; *) fail "SONAME: '$soname'" ;; esac
if ! [ -L "$lib/libsqlpool.so" ] || ! [ -L "$lib/$soname" ] ||
    [ "$(readlink -f "$lib/$soname")" != "$real" ]; then
    fail "version links: libsqlpool.so -> $soname -> $(basename "$real")"
fi
ok "SONAME $soname, links libsqlpool.so -> $soname -> $(basename "$real")"

# Only the public API is exported (besides the linker's own symbols on older toolchains).
nm -D --defined-only "$real" | awk '{ print $NF }' |
    grep -v -x -e 'sqlpool_[a-z0-9][a-z0-9_]*' -e _init -e _fini -e _edata -e _end \
        -e __bss_start >"$log" || true
[ -s "$log" ] && fail "exported symbols: these are not public API"
ok "exported symbols: $(nm -D --defined-only "$real" | grep -c ' sqlpool_'), all sqlpool_*"

"$prefix/bin/sqlpool" --version >"$log" 2>&1 || fail "installed CLI: bin/sqlpool --version"
ok "installed CLI: bin/sqlpool --version: $(tail -n 1 "$log")"

# The installed `sqlpool run` without --input: data/sample_input.txt of the current folder
# when there is one, else the installed sample, named in the run_start log line.
sample=$prefix/share/sqlpool/sample_input.txt
cmp -s "$root/data/sample_input.txt" "$sample" || fail "installed sample: differs from data/"
# run_default FOLDER: `sqlpool run --quiet` in FOLDER; its log in $log, its summary in
# FOLDER/data/output_summary.json.
run_default() {
    (cd "$1" && "$prefix/bin/sqlpool" run --quiet) >"$log" 2>&1 ||
        fail "installed CLI: sqlpool run in $2 (exit $?)"
}
# expect_read FOLDER INPUT ROWS: the run in FOLDER logged INPUT and inserted ROWS rows.
expect_read() {
    grep -q -F "run_start input=$2 " "$log" || fail "installed CLI: the log does not name $2"
    grep -q "\"rows_inserted\": $3," "$1/data/output_summary.json" ||
        fail "installed CLI: not $3 rows from $2"
}
mkdir "$tmp/elsewhere" "$tmp/local" "$tmp/local/data"
run_default "$tmp/elsewhere" "a folder without data/"
expect_read "$tmp/elsewhere" "$sample" "$(grep -c '[^[:space:]]' "$sample")"
printf 'local_only\n' >"$tmp/local/data/sample_input.txt"
run_default "$tmp/local" "a folder with data/sample_input.txt"
expect_read "$tmp/local" data/sample_input.txt 1
ok "installed CLI: sqlpool run reads the installed sample outside the source tree, a local one first"

# With pkg-config.
PKG_CONFIG_PATH=$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
[ "$(pkg-config --variable=prefix sqlpool)" = "$prefix" ] || fail "pkg-config: prefix"
requires=$(pkg-config --print-requires sqlpool; pkg-config --print-requires-private sqlpool)
pg=0
echo "$requires" | grep -q '^libpq' && pg=1
pkg-config --static --libs sqlpool | grep -q -e '-lpthread' || fail "pkg-config: Libs.private"
ok "pkg-config: sqlpool $(pkg-config --modversion sqlpool), requires $(echo "$requires" | tr '\n' ' ' | sed 's/ $//')"
examples="minimal worker"
if [ $pg = 1 ]; then
    examples="$examples postgres"
else
    ok "postgres.c: not built (this libsqlpool has no PostgreSQL backend)"
fi
mkdir "$tmp/pc"
for ex in $examples; do
    extra=
    [ "$ex" = worker ] && extra=-pthread
    # shellcheck disable=SC2046 # pkg-config's flags are meant to be split
    quiet "pkg-config: cc $ex.c" "$cc" -Wall -Wextra -Werror $extra \
        $(pkg-config --cflags sqlpool) "$root/examples/$ex.c" -o "$tmp/pc/$ex" \
        $(pkg-config --libs sqlpool)
done

# sqlpool(3): its example program, built with the page's own build line, runs.
# man_block N: the Nth .EX block of the page's EXAMPLES, roff escapes undone.
man_block() {
    awk -v n="$1" '/^\.SH EXAMPLES/ { on = 1 } on && /^\.EE/ { inside = 0 }
        inside && k == n { print } on && /^\.EX/ { inside = 1; k++ }' "$root/docs/man/sqlpool.3" |
        sed -e 's/\\-/-/g' -e 's/\\e/\\/g'
}
mkdir "$tmp/man3"
man_block 1 >"$tmp/man3/example.c"
build_line=$(man_block 2)
case $build_line in
"cc example.c "*) ;;
*) fail "sqlpool(3): no build line 'cc example.c ...' after the example: '$build_line'" ;;
esac
quiet "sqlpool(3): $build_line" sh -c "cd \"\$1\" && $build_line -o example" sh "$tmp/man3"
# shellcheck disable=SC2016 # $1 is the inner shell's
example "sqlpool(3)" example sh -c 'cd "$1" && ./example' sh "$tmp/man3"

pg_missing() {
    echo "test-install: FAIL $1: run postgres: SQLPOOL_TEST_PG is not set; this build has" \
        "PostgreSQL, so run under a server: sh scripts/with-pg.sh make test-install" >&2
    failed=1
}
for ex in $examples; do
    if [ "$ex" = postgres ] && [ -z "${SQLPOOL_TEST_PG:-}" ]; then
        pg_missing pkg-config
        continue
    fi
    example pkg-config "$ex" "$tmp/pc/$ex"
done

# With find_package(sqlpool).
quiet "find_package: configure examples/" cmake -S "$root/examples" -B "$tmp/ex" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS=-Werror
found=$(sed -n 's/^sqlpool_DIR:PATH=//p' "$tmp/ex/CMakeCache.txt")
[ "$found" = "$lib/cmake/sqlpool" ] || fail "find_package: found $found, not TMP's"
quiet "find_package: build examples/" cmake --build "$tmp/ex"
[ $pg = 1 ] && [ ! -x "$tmp/ex/postgres" ] && fail "find_package: postgres was not built"
readelf -d "$tmp/ex/minimal_static" | grep -q 'libsqlpool' &&
    fail "find_package: minimal_static needs libsqlpool.so"
for ex in $(echo "$examples" | sed 's/^minimal /minimal minimal_static /'); do
    if [ "$ex" = postgres ] && [ -z "${SQLPOOL_TEST_PG:-}" ]; then
        pg_missing find_package
        continue
    fi
    example find_package "$ex" "$tmp/ex/$ex"
done

[ $failed = 0 ] || exit 1
echo "test-install: passed"
