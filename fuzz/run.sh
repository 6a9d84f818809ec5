#!/bin/sh
# fuzz/run.sh BUILD_DIR SECONDS: run each libFuzzer target of BUILD_DIR/fuzz for SECONDS, side
# by side, on a copy of its seed corpus (fuzz/corpus/<target>/) in a temporary folder, so
# nothing is written into the repository. Prints one line per target (executions, coverage)
# and exits non-zero when any target crashed, leaked, timed out or ran out of memory; its log
# and the input that broke it are then kept and named. FUZZ_SEED fixes libFuzzer's seed (the
# smoke run in make test uses one, so CI walks the path a developer's run walked); unset or 0,
# a random one.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
targets="fuzz_labels fuzz_dsn fuzz_options"
work=$(mktemp -d "${TMPDIR:-/tmp}/sqlpool-fuzz.XXXXXX") || exit 1

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

pids=""
trap 'kill $pids 2>/dev/null; exit 130' INT TERM
for t in $targets; do
    bin=$build/fuzz/$t
    if [ ! -x "$bin" ]; then
        echo "fuzz/run.sh: $bin is missing (configure with -DSQLPOOL_FUZZ=ON)" >&2
        exit 1
    fi
    mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
    cp "$here/corpus/$t/"* "$work/$t/corpus/" 2>/dev/null
    "$bin" -max_total_time="$seconds" -seed="${FUZZ_SEED:-0}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 \
        -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" >"$work/$t/log" 2>&1 &
    pids="$pids $!"
    eval "pid_$t=\$!"
done

failed=0
for t in $targets; do
    eval "pid=\$pid_$t"
    wait "$pid"
    rc=$?
    log=$work/$t/log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        printf '%-13s ok     %s execs (%s/s) in %ss; %s\n' "$t" "${execs:-?}" "${rate:-?}" \
            "$seconds" "${cov:-no coverage line}"
    else
        failed=1
        printf '%-13s FAILED exit %s after %s execs; %s\n' "$t" "$rc" "${execs:-?}" \
            "${cov:-no coverage line}"
        grep -E 'ERROR: |invariant broken|SUMMARY: ' "$log" | head -n 5 | sed 's/^/    /'
        for a in "$work/$t/artifacts/"*; do
            [ -e "$a" ] && echo "    input: $a (replay: $build/fuzz/$t $a)"
        done
        echo "    log: $log"
    fi
done

if [ "$failed" -eq 0 ]; then
    rm -rf "$work"
else
    echo "fuzz/run.sh: a target failed; logs and inputs kept in $work" >&2
fi
exit "$failed"
