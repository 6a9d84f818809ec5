#!/bin/sh
# Run a command with a throwaway PostgreSQL cluster on loopback, its address in the
# environment (SQLPOOL_TEST_PG, SQLPOOL_TEST_PG_CTL, SQLPOOL_TEST_PG_ADMIN), and remove the
# cluster afterwards, whatever the command did.
#   scripts/with-pg.sh make test-unit
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/sqlpool-pg.XXXXXX")
cleanup() { sh "$here/pg-test-cluster.sh" stop "$dir"; }
trap cleanup EXIT INT TERM
vars=$(sh "$here/pg-test-cluster.sh" start "$dir")
eval "$vars"
export SQLPOOL_TEST_PG SQLPOOL_TEST_PG_CTL SQLPOOL_TEST_PG_ADMIN
echo "with-pg: PostgreSQL test cluster at $(echo "$SQLPOOL_TEST_PG" | sed 's/:[^:@]*@/:***@/')" >&2
"$@"
