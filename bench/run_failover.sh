#!/bin/sh
# bench/run_failover.sh: the README's failover figure. A primary and a synchronous hot standby
# on loopback (scripts/pg-replica.sh); `sqlpool bench --workload insert` through one
# multi-host db string (both servers, target_session_attrs=read-write) for 12 s; the primary
# killed (pg_ctl stop -m immediate) at 5 s and the standby promoted at 6 s; the timeline
# drawn to OUT.svg and the run's JSON to OUT.json.
# Usage: sh bench/run_failover.sh [path to sqlpool] [OUT, default bench/out/failover]
set -eu
cli=${1:-build/sqlpool}
out=${2:-bench/out/failover}
dir=$(mktemp -d)
chmod 755 "$dir" # the servers run as postgres when we are root
mkdir -p "$(dirname "$out")"
cleanup() { sh scripts/pg-replica.sh stop "$dir/rep" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
eval "$(sh scripts/pg-replica.sh start "$dir/rep")"
base=$(echo "$SQLPOOL_TEST_PG_PRIMARY" | sed 's/host=[^ ]*//; s/port=[^ ]*//')
db="$base host=127.0.0.1,127.0.0.1 port=$SQLPOOL_TEST_PG_PRIMARY_PORT,$SQLPOOL_TEST_PG_STANDBY_PORT target_session_attrs=read-write connect_timeout=1"
(
    sleep 5
    echo "t=5s: primary stopped (immediate)" >&2
    $SQLPOOL_TEST_PG_PRIMARY_CTL stop -m immediate >/dev/null 2>&1
    sleep 1
    echo "t=6s: standby promoted" >&2
    $SQLPOOL_TEST_PG_STANDBY_CTL promote >/dev/null 2>&1
) &
status=0
"$cli" bench --db "$db" --workload insert --clients 4 --duration 12 --acquire-timeout 2 \
    --timeline "$out.svg" --json >"$out.json" 2>"$dir/err" || status=$?
wait
grep -v '| ERROR |' "$dir/err" >&2 || true
echo "bench exit status: $status (timeline: $out.svg, JSON: $out.json)"
exit "$status"
