#!/bin/sh
# A throwaway pgbouncer on loopback, in transaction mode, in front of the test cluster
# (scripts/pg-test-cluster.sh), for the tests of statements behind a transaction pooler.
#
#   pgbouncer-test.sh start DIR URL   start one in DIR (a new folder) in front of the server
#                                     of URL (postgresql://user:password@127.0.0.1:port/db);
#                                     prints the shell assignment of SQLPOOL_TEST_PGBOUNCER,
#                                     the same URL through pgbouncer
#   pgbouncer-test.sh stop DIR        stop it (SIGTERM, then SIGKILL after 5 s) and remove DIR
#
# Random free port, 127.0.0.1 only, no Unix socket. Clients log in with scram against an
# auth_file holding the test user's password, which pgbouncer also uses to log into the
# server. Every wait is bounded. As root it runs as the postgres user (pgbouncer refuses
# root).
set -eu

cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || { echo "usage: $0 start DIR URL | stop DIR" >&2; exit 64; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_it() {
    [ -f "$dir/pgbouncer.pid" ] || return 0
    pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
}

case "$cmd" in
start)
    url=${3:-}
    bouncer=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
    [ -n "$bouncer" ] || { echo "pgbouncer-test: no pgbouncer found (apt-get install pgbouncer)" >&2; exit 1; }
    # postgresql://USER:PASSWORD@HOST:PORT/DB, as pg-test-cluster.sh prints it.
    rest=${url#postgresql://}
    user=${rest%%:*}; rest=${rest#*:}
    password=${rest%%@*}; rest=${rest#*@}
    host=${rest%%:*}; rest=${rest#*:}
    pgport=${rest%%/*}; db=${rest#*/}; db=${db%%\?*}
    [ -n "$user" ] && [ -n "$password" ] && [ -n "$pgport" ] && [ -n "$db" ] ||
        { echo "pgbouncer-test: cannot read the server URL" >&2; exit 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    printf '"%s" "%s"\n' "$user" "$password" >"$dir/userlist.txt"
    chmod 600 "$dir/userlist.txt"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/userlist.txt"
    tries=0
    while :; do
        port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
        cat >"$dir/pgbouncer.ini" <<INI
[databases]
$db = host=$host port=$pgport dbname=$db
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
        rm -f "$dir/pgbouncer.pid"
        if as_owner "$bouncer" -d -q "$dir/pgbouncer.ini" 2>>"$dir/start.log"; then
            # Up when it accepts a login (10 s at most).
            n=0
            while [ $n -lt 100 ]; do
                if PGPASSWORD=$password PGCONNECT_TIMEOUT=2 psql -X -q -h 127.0.0.1 -p "$port" \
                    -U "$user" -d "$db" -c 'SELECT 1' >/dev/null 2>&1; then
                    echo "SQLPOOL_TEST_PGBOUNCER='postgresql://$user:$password@127.0.0.1:$port/$db'"
                    exit 0
                fi
                sleep 0.1
                n=$((n + 1))
            done
            stop_it
        fi
        tries=$((tries + 1))
        [ $tries -lt 5 ] || { cat "$dir/start.log" "$dir/pgbouncer.log" >&2 2>/dev/null; exit 1; }
    done
    ;;
stop)
    stop_it
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start DIR URL | stop DIR" >&2
    exit 64
    ;;
esac
