#!/bin/sh
# Run a command with a throwaway PostgreSQL cluster on loopback, its address in the
# environment (SQLPOOL_TEST_PG, SQLPOOL_TEST_PG_CTL, SQLPOOL_TEST_PG_ADMIN), and a pgbouncer
# in transaction mode in front of it (SQLPOOL_TEST_PGBOUNCER), and remove both afterwards,
# whatever the command did.
#   scripts/with-pg.sh make test-unit
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/sqlpool-pg.XXXXXX")
cleanup() {
    sh "$here/pgbouncer-test.sh" stop "$dir/bouncer" || true
    sh "$here/pg-test-cluster.sh" stop "$dir"
}
trap cleanup EXIT INT TERM
vars=$(sh "$here/pg-test-cluster.sh" start "$dir")
eval "$vars"
export SQLPOOL_TEST_PG SQLPOOL_TEST_PG_CTL SQLPOOL_TEST_PG_ADMIN
echo "with-pg: PostgreSQL test cluster at $(echo "$SQLPOOL_TEST_PG" | sed 's/:[^:@]*@/:***@/')" >&2
# Without it only the tests through pgbouncer fail (SQLPOOL_TEST_PGBOUNCER unset), not all.
if vars=$(sh "$here/pgbouncer-test.sh" start "$dir/bouncer" "$SQLPOOL_TEST_PG"); then
    eval "$vars"
    export SQLPOOL_TEST_PGBOUNCER
    echo "with-pg: pgbouncer (transaction mode) at $(echo "$SQLPOOL_TEST_PGBOUNCER" | sed 's/:[^:@]*@/:***@/')" >&2
else
    echo "with-pg: pgbouncer did not start: the tests through it will fail" >&2
fi
"$@"
