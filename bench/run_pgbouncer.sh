#!/bin/sh
# Through pgbouncer against direct, for the README: `sqlpool bench --mode pooled` with
# --workload select1 and read-write, first on the server itself ($SQLPOOL_TEST_PG), then through
# the pgbouncer in transaction mode that scripts/with-pg.sh starts in front of it
# ($SQLPOOL_TEST_PGBOUNCER), in one session so the four runs share the machine's state.
# Usage: bench/run_pgbouncer.sh [BUILD_DIR] [CLIENTS] [SECONDS]   (default: build 8 5)
set -eu
build=${1:-build}
clients=${2:-8}
seconds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SQLPOOL_TEST_PG:-}" ]; then
    exec sh "$here/../scripts/with-pg.sh" sh "$0" "$build" "$clients" "$seconds"
fi
if [ -z "${SQLPOOL_TEST_PGBOUNCER:-}" ]; then
    echo "run_pgbouncer: SQLPOOL_TEST_PGBOUNCER is not set (pgbouncer did not start)" >&2
    exit 69
fi
sqlpool="$build/sqlpool"
echo "# $("$sqlpool" --version 2>&1 | head -n 1); $(postgres --version); $(pgbouncer --version 2>&1 | head -n 1)"
echo "# $(uname -sm); $(nproc) cores; $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); tree $(git -C "$here/.." describe --always --dirty 2>/dev/null || echo unknown); --mode pooled --clients $clients --duration $seconds"
status=0
for workload in select1 read-write; do
    for via in direct pgbouncer; do
        if [ "$via" = direct ]; then db=$SQLPOOL_TEST_PG; else db=$SQLPOOL_TEST_PGBOUNCER; fi
        echo
        echo "== $workload, $via"
        # A run that fails is printed with its exit status; the others still run.
        "$sqlpool" bench --db "$db" --mode pooled --workload "$workload" --clients "$clients" \
            --duration "$seconds" || { rc=$?; echo "exit status $rc"; status=$rc; }
    done
done
exit "$status"
