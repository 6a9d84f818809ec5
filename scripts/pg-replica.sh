#!/bin/sh
# A throwaway PostgreSQL primary and hot standby on loopback, for the failover tests.
#
#   pg-replica.sh start DIR   create and start both in DIR (a new folder); prints shell
#                             assignments (to be eval'ed):
#       SQLPOOL_TEST_PG_PRIMARY   conninfo of the primary (the test role, password auth)
#       SQLPOOL_TEST_PG_STANDBY   conninfo of the standby
#       SQLPOOL_TEST_PG_PRIMARY_PORT, SQLPOOL_TEST_PG_STANDBY_PORT
#       SQLPOOL_TEST_PG_PRIMARY_CTL, SQLPOOL_TEST_PG_STANDBY_CTL   "pg_ctl -D <data>" for each,
#                             to which the caller appends stop -m immediate, start, promote
#       SQLPOOL_TEST_PG_PRIMARY_ADMIN, SQLPOOL_TEST_PG_STANDBY_ADMIN   superuser conninfo
#                             (through the socket in DIR)
#   pg-replica.sh stop DIR    stop both and remove DIR
#
# The standby is a pg_basebackup -R of the primary, streaming from it through a replication
# slot, and synchronous (synchronous_standby_names = 'standby', synchronous_commit = on), so a
# commit the primary acknowledged is on the standby: what a test of "no acknowledged commit
# lost" needs. Random free ports, 127.0.0.1 only, fsync off, every wait bounded. As root, the
# servers run as the postgres user (initdb refuses root).
set -eu

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "pg-replica: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }
cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 64; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A random port; one in use makes pg_ctl start fail, and start_server tries another.
free_port() {
    echo $(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
}

# start_server DATA LOG: up to 5 ports before giving up.
start_server() {
    data=$1; log=$2; tries=0
    while :; do
        port=$(free_port)
        sed -i '/^port = /d' "$data/postgresql.auto.conf"
        echo "port = $port" >>"$data/postgresql.auto.conf"
        if as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 30 start >/dev/null 2>&1; then
            return 0
        fi
        tries=$((tries + 1))
        [ $tries -lt 5 ] || { cat "$log" >&2; return 1; }
    done
}

psql_admin() { # PORT SQL...
    p=$1; shift
    as_owner "$bin/psql" -q -X -h "$dir" -p "$p" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/primary" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    cat >"$dir/primary/pg_hba.conf" <<HBA
local all postgres trust
local replication postgres trust
host  all all 127.0.0.1/32 scram-sha-256
HBA
    cat >"$dir/primary/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
max_connections = 100
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
hot_standby = on
wal_receiver_status_interval = 1
CONF
    start_server "$dir/primary" "$dir/primary.log"
    pport=$port
    psql_admin "$pport" <<SQL >/dev/null
CREATE ROLE sqlpool LOGIN PASSWORD 'sqlpool-test-secret';
CREATE DATABASE sqlpool_test OWNER sqlpool;
SELECT pg_create_physical_replication_slot('standby');
SQL
    as_owner "$bin/pg_basebackup" -h "$dir" -p "$pport" -U postgres -D "$dir/standby" -R -S standby -c fast \
        -X stream --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    # -R wrote primary_conninfo into the copy's postgresql.auto.conf (with the primary's port
    # in it, which stays); the application name makes it the synchronous standby.
    sed -i "s/^primary_conninfo = '/primary_conninfo = 'application_name=standby /" \
        "$dir/standby/postgresql.auto.conf"
    start_server "$dir/standby" "$dir/standby.log"
    sport=$port
    # Synchronous from now on: once the standby streams, commits wait for it.
    psql_admin "$pport" -c "ALTER SYSTEM SET synchronous_standby_names = 'standby'" >/dev/null
    psql_admin "$pport" -c "SELECT pg_reload_conf()" >/dev/null
    i=0
    until [ "$(psql_admin "$pport" -At -c "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'")" = 1 ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "pg-replica: the standby never streamed" >&2; cat "$dir/standby.log" >&2; exit 1; }
        sleep 0.1
    done
    for side in primary standby; do
        ctl="$bin/pg_ctl -D $dir/$side -l $dir/$side.log -w -t 30"
        [ "$(id -u)" -eq 0 ] && ctl="runuser -u postgres -- $ctl"
        eval "ctl_$side=\$ctl"
    done
    cred="user=sqlpool password=sqlpool-test-secret dbname=sqlpool_test"
    echo "SQLPOOL_TEST_PG_PRIMARY='host=127.0.0.1 port=$pport $cred'"
    echo "SQLPOOL_TEST_PG_STANDBY='host=127.0.0.1 port=$sport $cred'"
    echo "SQLPOOL_TEST_PG_PRIMARY_PORT='$pport'"
    echo "SQLPOOL_TEST_PG_STANDBY_PORT='$sport'"
    echo "SQLPOOL_TEST_PG_PRIMARY_CTL='$ctl_primary'"
    echo "SQLPOOL_TEST_PG_STANDBY_CTL='$ctl_standby'"
    echo "SQLPOOL_TEST_PG_PRIMARY_ADMIN='host=$dir port=$pport user=postgres dbname=sqlpool_test'"
    echo "SQLPOOL_TEST_PG_STANDBY_ADMIN='host=$dir port=$sport user=postgres dbname=sqlpool_test'"
    ;;
stop)
    for side in standby primary; do
        if [ -d "$dir/$side" ]; then
            as_owner "$bin/pg_ctl" -D "$dir/$side" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 64
    ;;
esac
