#!/usr/bin/env bash
# bench/run.sh: `sqlpool run` against its hand-written floor (bench/floor_run), then the
# acquire/release micro-benchmark. Prints figures; never fails on time. Fails loudly only
# when the two programs' outputs differ, or a program fails.
#
# Usage: bash bench/run.sh [build dir, default build]   (builds nothing: build first, e.g.
#   cmake -S . -B build-bench -DSQLPOOL_TESTS=OFF -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-bench -j2)
# Environment: ROUNDS (default 5), LABELS (default 1000000), FILE_DB=0 to skip the file-db
# variant, ACQUIRE_ARGS (default "5000000 7": iterations per round, rounds), POOLS_ARGS
# (default "-d 1 -r 3": seconds per cell, repetitions; see bench/bench_pools.c), POOLS=0 to
# skip the pool comparison, ONLY_POOLS=1 to run nothing else.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ -d "$build" ] || { echo "run.sh: no build folder '$build'" >&2; exit 2; }
build=$(cd "$build" && pwd)
rounds=${ROUNDS:-5}
labels=${LABELS:-1000000}
out="$here/out"
mkdir -p "$out"

find_bin() {
    local f
    for f in "$build/$1" "$build/bench/$1"; do [ -x "$f" ] && { echo "$f"; return; }; done
    echo "run.sh: '$1' not found in $build (build it first)" >&2
    exit 2
}
cli=$(find_bin sqlpool)
floor=$(find_bin floor_run)
acquire=$(find_bin bench_acquire)
pools=$(find_bin bench_pools)
timer=/usr/bin/time
[ -x "$timer" ] || { echo "run.sh: $timer (GNU time) is needed for max RSS" >&2; exit 2; }

# Deterministic labels, 8-24 characters: a Park-Miller generator (exact in awk's doubles),
# so every awk gives the same file. About one label in 97 carries a quote, a backslash or
# non-ASCII text, so the escaping paths are exercised too.
input="$out/labels_$labels.txt"
[ "$labels" = 1000000 ] && input="$out/labels_1m.txt"
if [ ! -s "$input" ]; then
    echo "generating $labels labels into $input"
    awk -v n="$labels" 'BEGIN {
        abc = "abcdefghijklmnopqrstuvwxyz0123456789_-"; m = length(abc); x = 20240601
        for (i = 0; i < n; i++) {
            x = (x * 16807) % 2147483647; len = 8 + x % 17; s = ""
            for (j = 0; j < len; j++) {
                x = (x * 16807) % 2147483647; s = s substr(abc, 1 + x % m, 1)
            }
            if (i % 97 == 13) s = substr(s, 1, 4) "\"caf\303\251\\" substr(s, 5, len - 10)
            print s
        }
    }' > "$input.tmp"
    mv "$input.tmp" "$input"
fi

# bench_pools: sqlpool against apr_reslist, libzdb, a mutex pair and no pool (HikariCP-style).
# It prints its own tables, RESULT lines and a markdown table after a marker line.
run_pools() {
    echo "== bench_pools ${POOLS_ARGS:--d 1 -r 3} (about 2 min at the defaults) =="
    # shellcheck disable=SC2086
    "$pools" ${POOLS_ARGS:--d 1 -r 3} > "$out/bench_pools.txt"
    sed '/^<!-- bench_pools markdown -->$/,$d' "$out/bench_pools.txt"
}
pools_markdown() {
    echo
    sed -n '/^<!-- bench_pools markdown -->$/,$p' "$out/bench_pools.txt" | tail -n +2
}
if [ "${ONLY_POOLS:-0}" != 0 ]; then
    run_pools
    pools_markdown
    exit 0
fi

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | tail -n 1; }

# run_one NAME OUTPUT DB CMD...: time one run; append "seconds rss_kib" to $out/NAME.times.
run_one() {
    local name=$1 output=$2 db=$3
    shift 3
    if [ "$db" != ":memory:" ]; then rm -f "$db" "$db-wal" "$db-shm" "$db-journal"; fi
    rm -f "$output"
    if ! "$timer" -f '%e %M' -o "$out/$name.last" "$@" --input "$input" --output "$output" \
        --db "$db" >/dev/null 2>"$out/$name.err"; then
        echo "run.sh: $name failed:" >&2
        cat "$out/$name.err" "$out/$name.last" >&2
        exit 1
    fi
    tail -n 1 "$out/$name.last" >> "$out/$name.times"
    printf '  %-14s %6ss  %7.1f MiB\n' "$name" "$(awk '{ print $1 }' "$out/$name.last")" \
        "$(awk '{ print $2 / 1024 }' "$out/$name.last")"
}

# variant TAG DB: ROUNDS interleaved rounds of the CLI and the floor (alternating which goes
# first, to share out warm caches and the other load on the machine), outputs compared.
variant() {
    local tag=$1 db=$2 r
    rm -f "$out/cli_$tag.times" "$out/floor_$tag.times"
    echo "== $tag: --db $db, $rounds rounds =="
    for r in $(seq 1 "$rounds"); do
        echo " round $r"
        if [ $((r % 2)) = 1 ]; then
            run_one "cli_$tag" "$out/cli_$tag.json" "$db" "$cli" run --quiet --log-level error
            run_one "floor_$tag" "$out/floor_$tag.json" "$db" "$floor"
        else
            run_one "floor_$tag" "$out/floor_$tag.json" "$db" "$floor"
            run_one "cli_$tag" "$out/cli_$tag.json" "$db" "$cli" run --quiet --log-level error
        fi
        if ! cmp "$out/cli_$tag.json" "$out/floor_$tag.json"; then
            echo "run.sh: FAIL: sqlpool and floor_run outputs differ ($tag, round $r):" >&2
            cmp -l "$out/cli_$tag.json" "$out/floor_$tag.json" | head -n 5 >&2 || true
            exit 1
        fi
    done
    rm -f "$out/cli_$tag.json" "$out/floor_$tag.json" # identical, and 60+ MiB each
}

variant memory ":memory:"
file_db=${FILE_DB:-1}
if [ "$file_db" != 0 ]; then variant file "$out/bench.db"; fi
rm -f "$out/bench.db" "$out/bench.db-wal" "$out/bench.db-shm"

echo "== bench_acquire ${ACQUIRE_ARGS:-5000000 7} =="
# shellcheck disable=SC2086
"$acquire" ${ACQUIRE_ARGS:-5000000 7} | tee "$out/bench_acquire.txt"

# The summary, as a markdown table for the README.
row() {
    local tag=$1 label=$2 cs cm fs fm
    cs=$(awk '{ print $1 }' "$out/cli_$tag.times" | median)
    cm=$(awk '{ print $2 / 1024 }' "$out/cli_$tag.times" | max)
    fs=$(awk '{ print $1 }' "$out/floor_$tag.times" | median)
    fm=$(awk '{ print $2 / 1024 }' "$out/floor_$tag.times" | max)
    awk -v l="$label" -v cs="$cs" -v cm="$cm" -v fs="$fs" -v fm="$fm" 'BEGIN {
        printf "| %s | %.2f | %.1f | %.2f | %.1f | %.2f | %.2f |\n", l, cs, cm, fs, fm,
               (fs > 0 ? cs / fs : 0), (fm > 0 ? cm / fm : 0) }'
    echo "RESULT variant=$tag sqlpool_s=$cs floor_s=$fs sqlpool_rss_mib=$cm floor_rss_mib=$fm" >&2
}
nlabels=$(wc -l < "$input")
echo
echo "### Benchmarks ($nlabels labels, median of $rounds interleaved rounds; $(nproc) CPUs)"
echo
echo "| \`sqlpool run --quiet\` vs floor | sqlpool s | sqlpool max RSS MiB | floor s | floor max RSS MiB | time ratio (target <= 1.3) | RSS ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row memory "--db :memory:" 2>"$out/results.txt"
if [ "$file_db" != 0 ]; then row file "--db file (fresh, WAL)" 2>>"$out/results.txt"; fi
awk '/^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "\n| acquire + release, one thread | single-threaded process, ns | multi-threaded process, ns |\n|---|---:|---:|\n"
    printf "| pthread mutex lock+unlock (baseline) | %.1f | %.1f |\n", v["mutex_pair_ns"], v["mt_mutex_pair_ns"]
    printf "| sqlpool_acquire + sqlpool_release | %.1f (%.2fx) | %.1f (%.2fx) |\n", v["acquire_release_ns"], v["ratio"], v["mt_acquire_release_ns"], v["mt_ratio"]
    printf "| acquire + SELECT 1 (prepared per use) + release | %.1f | |\n", v["acquire_select1_release_ns"]
}' "$out/bench_acquire.txt"
if [ "${POOLS:-1}" != 0 ]; then
    run_pools
    pools_markdown
fi
echo
cat "$out/results.txt"
