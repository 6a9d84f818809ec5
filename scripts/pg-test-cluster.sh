#!/bin/sh
# A throwaway PostgreSQL cluster on loopback for the tests.
#
#   pg-test-cluster.sh start DIR   create and start one in DIR (a new folder); prints shell
#                                  assignments of SQLPOOL_TEST_PG (the URL the tests use),
#                                  SQLPOOL_TEST_PG_CTL (pg_ctl for this cluster, for restart
#                                  tests) and SQLPOOL_TEST_PG_ADMIN (superuser conninfo)
#   pg-test-cluster.sh stop DIR    stop it and remove DIR
#
# Random free port, 127.0.0.1 only, fsync off. Password authentication over TCP (scram), so
# the tests can try a wrong password; the superuser connects through the socket in DIR. As
# root, the server runs as the postgres user (initdb refuses root).
set -eu

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "pg-test-cluster: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }
cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 64; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    cat >"$dir/data/pg_hba.conf" <<HBA
local all postgres trust
host  all all 127.0.0.1/32 scram-sha-256
HBA
    tries=0
    while :; do
        port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
        cat >"$dir/data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        [ $tries -lt 10 ] || { cat "$dir/server.log" >&2; exit 1; }
    done
    as_owner "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL >/dev/null
CREATE ROLE sqlpool LOGIN PASSWORD 'sqlpool-test-secret';
CREATE DATABASE sqlpool_test OWNER sqlpool;
SQL
    ctl="$bin/pg_ctl -D $dir/data -l $dir/server.log -w -t 30"
    [ "$(id -u)" -eq 0 ] && ctl="runuser -u postgres -- $ctl"
    # Shell assignments, to be eval'ed.
    echo "SQLPOOL_TEST_PG='postgresql://sqlpool:sqlpool-test-secret@127.0.0.1:$port/sqlpool_test'"
    echo "SQLPOOL_TEST_PG_CTL='$ctl'"
    echo "SQLPOOL_TEST_PG_ADMIN='host=$dir port=$port user=postgres dbname=sqlpool_test'"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 64
    ;;
esac
