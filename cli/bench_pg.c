/*
 * bench_pg.c: the bench workloads on PostgreSQL. Pooled, statements go through
 * sqlpool_conn_pg_exec (prepared once per connection); unpooled, each transaction connects
 * with libpq, sends its statements with PQexecParams and hangs up, as a program without a
 * pool would. Every connection carries application_name=sqlpool-bench-<pid>, so --kill-every
 * only ever terminates a backend of this bench.
 */
#include "bench_backend.h"
#include "commands.h"
#include "exitcodes.h"
#include "logger.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SQL_INSERT "INSERT INTO sqlpool_bench (label, n) VALUES ($1, $2)"
#define SQL_READ "SELECT label, n FROM sqlpool_bench WHERE id = $1"
#define SQL_UPDATE "UPDATE sqlpool_bench SET n = n + 1 WHERE id = $1"

static char *pg_tagged(const char *db) {
    int uri = strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
    const char *sep = !uri ? " " : strchr(db, '?') != NULL ? "&" : "?";
    size_t len = strlen(db) + 64;
    char *out = malloc(len);
    if (out != NULL)
        (void)snprintf(out, len, "%s%sapplication_name=sqlpool-bench-%ld", db, sep, (long)getpid());
    return out;
}

/* A connection: pooled (conn set) or native (pg only). */
typedef struct pq {
    PGconn *pg;
    sqlpool_conn *conn;
    int lost; /* the connection failed: discard it */
} pq;

/* Run sql with nparams text parameters; 0 when its status is want (and, for a command, its
 * tag starts with tag when tag is not NULL). */
static int pq_run(pq *s, const char *sql, int nparams, const char *const *values,
                  ExecStatusType want, const char *tag) {
    PGresult *res = NULL;
    int ok;
    if (s->conn != NULL) {
        int rc = sqlpool_conn_pg_exec(s->conn, sql, nparams, values, &res);
        if (rc == SQLPOOL_EBROKEN) s->lost = 1;
    } else {
        res = PQexecParams(s->pg, sql, nparams, NULL, values, NULL, NULL, 0);
    }
    ok = res != NULL && PQresultStatus(res) == want &&
         (tag == NULL || strncmp(PQcmdStatus(res), tag, strlen(tag)) == 0) &&
         (want != PGRES_TUPLES_OK || PQntuples(res) >= 1);
    if (PQstatus(s->pg) != CONNECTION_OK) s->lost = 1;
    PQclear(res);
    return ok ? 0 : -1;
}

static void random_id(char *buf, size_t len) {
    (void)snprintf(buf, len, "%d", 1 + (int)(bench_random() * BENCH_SEED_ROWS));
}

/* mixed's read: two primary-key reads in one transaction. */
static int mixed_read(pq *s) {
    char a[16], b[16];
    const char *va[1] = {a}, *vb[1] = {b};
    random_id(a, sizeof a);
    random_id(b, sizeof b);
    if (pq_run(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL) != 0 ||
        pq_run(s, SQL_READ, 1, va, PGRES_TUPLES_OK, NULL) != 0 ||
        pq_run(s, SQL_READ, 1, vb, PGRES_TUPLES_OK, NULL) != 0 ||
        pq_run(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, "COMMIT") != 0)
        return -1; /* rolled back: by release, or by hanging up */
    return 0;
}

/* mixed's write: a read, then an INSERT (what the check after the run counts) and an UPDATE. */
static int mixed_write(pq *s, long long *inserted, int *doubt) {
    const char *ins_values[2] = {"sqlpool-bench", "1"};
    char a[16], b[16];
    const char *va[1] = {a}, *vb[1] = {b};
    random_id(a, sizeof a);
    random_id(b, sizeof b);
    if (pq_run(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL) != 0 ||
        pq_run(s, SQL_READ, 1, va, PGRES_TUPLES_OK, NULL) != 0 ||
        pq_run(s, SQL_INSERT, 2, ins_values, PGRES_COMMAND_OK, NULL) != 0 ||
        pq_run(s, SQL_UPDATE, 1, vb, PGRES_COMMAND_OK, NULL) != 0)
        return -1;
    if (pq_run(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, "COMMIT") != 0) {
        *doubt = s->lost;
        return -1;
    }
    *inserted = 1;
    return 0;
}

/* The transaction; 0 when it committed. *inserted gets its rows; *doubt is set when the
 * statement that commits failed with the connection, so its outcome is unknown. */
static int workload(pq *s, bench_workload w, bench_kind k, long long *inserted, int *doubt) {
    const char *ins_values[2] = {"sqlpool-bench", "1"};
    char a[16], b[16], c[16];
    const char *va[1] = {a}, *vb[1] = {b}, *vc[1] = {c};
    int ins;
    *inserted = 0;
    *doubt = 0;
    switch (w) {
    case BENCH_SELECT1: return pq_run(s, "SELECT 1", 0, NULL, PGRES_TUPLES_OK, NULL);
    case BENCH_INSERT:
        if (pq_run(s, SQL_INSERT, 2, ins_values, PGRES_COMMAND_OK, NULL) != 0) {
            *doubt = s->lost;
            return -1;
        }
        *inserted = 1;
        return 0;
    case BENCH_READ_WRITE:
        ins = bench_random() < 0.5;
        random_id(a, sizeof a);
        random_id(b, sizeof b);
        random_id(c, sizeof c);
        if (pq_run(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL) != 0 ||
            pq_run(s, SQL_READ, 1, va, PGRES_TUPLES_OK, NULL) != 0 ||
            pq_run(s, SQL_READ, 1, vb, PGRES_TUPLES_OK, NULL) != 0 ||
            (ins ? pq_run(s, SQL_INSERT, 2, ins_values, PGRES_COMMAND_OK, NULL)
                 : pq_run(s, SQL_UPDATE, 1, vc, PGRES_COMMAND_OK, NULL)) != 0)
            return -1; /* rolled back: by release, or by hanging up */
        /* An aborted transaction's COMMIT succeeds with the tag ROLLBACK. */
        if (pq_run(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, "COMMIT") != 0) {
            *doubt = s->lost && ins;
            return -1;
        }
        *inserted = ins;
        return 0;
    case BENCH_MIXED: return k == BENCH_WRITE ? mixed_write(s, inserted, doubt) : mixed_read(s);
    }
    return -1;
}

/* A native connection, with --fail-connect's faults and --retries' retries. */
static PGconn *native_connect(bench_run *r, bench_tally *t) {
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    char timeout[32];
    const char *values[] = {r->db, timeout, NULL};
    double backoff = 0.010;
    /* libpq takes whole seconds, and reads 0 as no limit. */
    (void)snprintf(timeout, sizeof timeout, "%.0f",
                   r->opts->timeout > 0 ? ceil(r->opts->timeout) : 0.0);
    for (int attempt = 0;; attempt++) {
        if (!bench_connect_fault(r)) {
            PGconn *pg = PQconnectdbParams(keys, values, 1);
            if (pg != NULL && PQstatus(pg) == CONNECTION_OK) {
                t->connects++;
                return pg;
            }
            PQfinish(pg);
        }
        if (attempt >= r->opts->retries || atomic_load(&r->stop)) return NULL;
        t->retries++;
        bench_pause(r, backoff);
        backoff *= 2;
    }
}

static int pg_transaction(bench_run *r, bench_tally *t, bench_kind k) {
    double t0 = bench_now();
    long long inserted = 0;
    pq s = {NULL, NULL, 0};
    int rc, doubt = 0;
    if (r->mode == BENCH_POOLED) {
        if (bench_borrow(r, t, k, &s.conn) != 0) return -1;
        s.pg = sqlpool_conn_pg(s.conn);
    } else if ((s.pg = native_connect(r, t)) == NULL) {
        bench_count_error(t, k, 0);
        return -1;
    }
    bench_count_wait(t, k, bench_now() - t0);
    rc = workload(&s, r->opts->workload, k, &inserted, &doubt);
    if (s.conn == NULL)
        PQfinish(s.pg);
    else if (s.lost)
        sqlpool_discard(s.conn);
    else
        sqlpool_release(s.conn);
    if (rc != 0) {
        bench_count_error(t, k, 0);
        t->in_doubt += doubt;
        return -1;
    }
    t->inserted += inserted;
    bench_count_commit(t, k, bench_now() - t0);
    return 0;
}

/* libpq's message on one line. */
static void one_line(const char *msg, char *out, size_t len) {
    (void)sqlpool_text_mask(msg, out, len); /* libpq may quote the db string */
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    for (size_t n = strlen(out); n > 0 && out[n - 1] == ' '; n--)
        out[n - 1] = '\0';
}

/* Run sql (simple protocol: several statements allowed) on a pooled connection; with count,
 * the first column of the first row. 0 or -1 with err. */
static int pool_exec(bench_run *r, const char *sql, long long *count, char *err, size_t errlen) {
    sqlpool_conn *conn = NULL;
    PGresult *res;
    int ok;
    if (sqlpool_acquire(r->pool, &conn) != SQLPOOL_OK) {
        (void)snprintf(err, errlen, "%s", logger_errmsg());
        return -1;
    }
    res = PQexec(sqlpool_conn_pg(conn), sql);
    ok = PQresultStatus(res) == (count ? PGRES_TUPLES_OK : PGRES_COMMAND_OK);
    if (ok && count) *count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    if (!ok) one_line(PQerrorMessage(sqlpool_conn_pg(conn)), err, errlen);
    PQclear(res);
    sqlpool_release(conn);
    return ok ? 0 : -1;
}

static int pg_setup(bench_run *r, char *err, size_t errlen) {
    char sql[512], seed[128] = "";
    if (bench_seeded(r->opts->workload))
        (void)snprintf(seed, sizeof seed,
                       "INSERT INTO sqlpool_bench (label, n) SELECT 'seed', 0 FROM "
                       "generate_series(1, %d);",
                       BENCH_SEED_ROWS);
    (void)snprintf(sql, sizeof sql,
                   "BEGIN; SET LOCAL client_min_messages = warning; "
                   "DROP TABLE IF EXISTS sqlpool_bench; "
                   "CREATE TABLE sqlpool_bench (id bigserial PRIMARY KEY, label text NOT NULL, "
                   "n bigint NOT NULL); %s COMMIT",
                   seed);
    return pool_exec(r, sql, NULL, err, errlen);
}

static int pg_count(bench_run *r, long long *rows, char *err, size_t errlen) {
    return pool_exec(r, "SELECT count(*) FROM sqlpool_bench", rows, err, errlen);
}

/* Terminate, from side, the backend pid if it is one of this bench's (application_name app);
 * pid NULL: one of its backends at random, other than side's own. 1 killed, 0 none. */
static int terminate(PGconn *side, const char *pid, const char *app) {
    const char *values[2] = {app, pid};
    PGresult *res =
        PQexecParams(side,
                     pid != NULL ? "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = $1 AND pid = $2::int"
                                 : "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = $1 AND pid <> pg_backend_pid() "
                                   "ORDER BY random() LIMIT 1",
                     pid != NULL ? 2 : 1, NULL, values, NULL, NULL, 0);
    int killed = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                 strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return killed;
}

/* Take every idle connection (so none is in a transaction), terminate the backend of one
 * chosen at random from a side connection, and give them all back: the next borrower of the
 * broken one finds it dead, as after a server-side timeout or a failover. When none is idle
 * (every one borrowed), or the pid libpq gives is not a server's (behind pgbouncer it is
 * pgbouncer's own), a backend carrying this bench's application_name is terminated instead:
 * a borrowed connection's, whose borrower sees its statement fail, or behind pgbouncer a
 * server connection pgbouncer last lent to this bench. */
static int pg_kill_one(bench_run *r) {
    sqlpool_conn *held[64];
    char pid[16], app[64];
    PGconn *side;
    int n = 0, killed = -1;
    while (n < 64 && sqlpool_try_acquire(r->pool, &held[n]) == SQLPOOL_OK)
        n++;
    if (n > 0)
        (void)snprintf(pid, sizeof pid, "%d",
                       PQbackendPID(sqlpool_conn_pg(held[(int)(bench_random() * n)])));
    (void)snprintf(app, sizeof app, "sqlpool-bench-%ld", (long)getpid());
    side = PQconnectdb(r->db);
    if (PQstatus(side) == CONNECTION_OK) {
        killed = n > 0 ? terminate(side, pid, app) : 0;
        if (!killed) killed = terminate(side, NULL, app);
    }
    PQfinish(side);
    for (int i = 0; i < n; i++)
        sqlpool_release(held[i]);
    return killed;
}

/* One writer and many readers is SQLite's remedy for its one write lock; the library refuses
 * config.single_writer on PostgreSQL (SQLPOOL_EINVAL), so this is said before anything runs. */
static int pg_check(const bench_options *o) {
    if (o->single_writer || o->compare) {
        commands_error("%s: a single-writer pool is for SQLite (one write lock per file); "
                       "PostgreSQL serves concurrent writers itself and the library refuses "
                       "config.single_writer for it",
                       o->single_writer ? "--single-writer" : "--compare single-writer");
        return EXIT_USAGE;
    }
    return 0;
}

const bench_backend bench_pg_backend = {
    .check = pg_check,
    .tag_db = pg_tagged,
    .setup = pg_setup,
    .count = pg_count,
    .transaction = pg_transaction,
    .kill_one = pg_kill_one,
};
