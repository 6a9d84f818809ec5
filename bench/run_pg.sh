#!/bin/sh
# PostgreSQL figures for the README, against a throwaway local cluster (scripts/with-pg.sh):
#   1. SELECT 1 pooled vs one persistent connection vs connect-per-use (bench_pg select1);
#   2. `sqlpool run` (COPY) vs one prepared INSERT round trip per row, 100,000 labels.
# Usage: bench/run_pg.sh [BUILD_DIR]   (default: build)
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SQLPOOL_TEST_PG:-}" ]; then
    exec sh "$here/../scripts/with-pg.sh" sh "$0" "$build"
fi
out="$here/out"
mkdir -p "$out"
labels="$out/labels_100k.txt"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "label_%d_%s\n", i, substr("abcdefghijklmnop", 1, i % 16) }' >"$labels"

"$build/bench/bench_pg" select1 "$SQLPOOL_TEST_PG" 1.0

reset_table() { psql -q "$SQLPOOL_TEST_PG" -c "DROP TABLE IF EXISTS events" >/dev/null; }
best_copy=999999
best_rows=999999
for round in 1 2 3; do
    reset_table
    t0=$(date +%s.%N)
    "$build/sqlpool" run --db "$SQLPOOL_TEST_PG" --input "$labels" --output "$out/pg_summary.json" \
        --quiet --log-level error
    t1=$(date +%s.%N)
    copy=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    reset_table
    rows=$("$build/bench/bench_pg" rowwise "$SQLPOOL_TEST_PG" "$labels" | sed -n 's/.*rowwise_s=//p')
    best_copy=$(awk -v a="$copy" -v b="$best_copy" 'BEGIN { print (a < b ? a : b) }')
    best_rows=$(awk -v a="$rows" -v b="$best_rows" 'BEGIN { print (a < b ? a : b) }')
    echo "round $round: sqlpool run (COPY, rows read back, JSON written) ${copy}s, one INSERT round trip per row ${rows}s"
done
reset_table
echo "RESULT pg_run_s=$best_copy rowwise_s=$best_rows speedup=$(awk -v a="$best_rows" -v b="$best_copy" 'BEGIN { printf "%.1f", a / b }')"
