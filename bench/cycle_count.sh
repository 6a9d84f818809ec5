#!/bin/sh
# bench/cycle_count.sh: instructions per acquire + release cycle, counted by callgrind on
# bench_cycle (a loop of 300,000 cycles less one of 100,000, over 200,000): the same figure on
# every run of the same binary, whatever else the machine does.
# Usage: sh bench/cycle_count.sh [path to bench_cycle]
set -eu
bin=${1:-build-bench/bench/bench_cycle}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
total() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" "$bin" "$1" >/dev/null 2>&1
    callgrind_annotate "$tmp/cg.$1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
a=$(total 100000)
b=$(total 300000)
echo "RESULT bench_cycle instructions_per_cycle=$(( (b - a) / 200000 ))"
