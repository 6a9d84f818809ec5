/*
 * bench_sqlite.c: the bench workloads on SQLite. Pooled, statements come from the
 * connection's cache (sqlpool_conn_prepare); unpooled, each transaction opens the file with
 * sqlite3_open_v2, prepares its statements and closes it again, as a program without a pool
 * would. read-write takes the write lock at BEGIN (BEGIN IMMEDIATE): a deferred transaction
 * that reads and then writes fails with SQLITE_BUSY_SNAPSHOT when another writer got there
 * first, which no busy timeout can wait out. mixed's writes do the same; pooled, they run in
 * sqlpool_write(), which begins (BEGIN IMMEDIATE) and commits for them, so that --group-commit
 * can share one COMMIT among them (the same code with it or without). Its reads are one
 * deferred (read) transaction, on a single-writer pool's reader.
 */
#include "bench_backend.h"
#include "commands.h"
#include "exitcodes.h"
#include "logger.h"
#include "options.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define SQL_SELECT1 "SELECT 1"
#define SQL_INSERT "INSERT INTO sqlpool_bench (label, n) VALUES (?1, ?2)"
#define SQL_READ "SELECT label, n FROM sqlpool_bench WHERE id = ?1"
#define SQL_UPDATE "UPDATE sqlpool_bench SET n = n + 1 WHERE id = ?1"

/* A connection: pooled (conn set, statements cached) or native (conn NULL). */
typedef struct sq {
    sqlite3 *db;
    sqlpool_conn *conn;
} sq;

/* Step sql once: nparams 1 binds ?1 to a; 2 binds a label and ?2 to a. 0 when the step gave
 * want (SQLITE_ROW or SQLITE_DONE). */
static int sq_run(sq *s, const char *sql, int nparams, long long a, int want) {
    sqlite3_stmt *st = NULL;
    int rc;
    if (s->conn != NULL)
        rc = sqlpool_conn_prepare(s->conn, sql, &st) == SQLPOOL_OK ? SQLITE_OK : SQLITE_ERROR;
    else
        rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return -1;
    if (nparams == 1) (void)sqlite3_bind_int64(st, 1, a);
    if (nparams == 2) {
        (void)sqlite3_bind_text(st, 1, "sqlpool-bench", -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 2, a);
    }
    rc = sqlite3_step(st);
    if (s->conn != NULL)
        (void)sqlite3_reset(st);
    else
        (void)sqlite3_finalize(st);
    return rc == want ? 0 : -1;
}

static long long random_id(void) {
    return 1 + (long long)(bench_random() * BENCH_SEED_ROWS);
}

/* End a transaction that failed (a statement may have rolled it back already): -1. */
static int rolled_back(sq *s) {
    if (!sqlite3_get_autocommit(s->db)) (void)sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
    return -1;
}

/* mixed's read: two primary-key reads in one snapshot. */
static int mixed_read(sq *s) {
    if (sq_run(s, "BEGIN", 0, 0, SQLITE_DONE) != 0) return -1;
    if (sq_run(s, SQL_READ, 1, random_id(), SQLITE_ROW) != 0 ||
        sq_run(s, SQL_READ, 1, random_id(), SQLITE_ROW) != 0 ||
        sq_run(s, "COMMIT", 0, 0, SQLITE_DONE) != 0)
        return rolled_back(s);
    return 0;
}

/* mixed's write's statements: a read, then an INSERT (what the check after the run counts)
 * and an UPDATE. 0, or -1 when one failed. */
static int mixed_write_statements(sq *s) {
    if (sq_run(s, SQL_READ, 1, random_id(), SQLITE_ROW) != 0 ||
        sq_run(s, SQL_INSERT, 2, 1, SQLITE_DONE) != 0 ||
        sq_run(s, SQL_UPDATE, 1, random_id(), SQLITE_DONE) != 0)
        return -1;
    return 0;
}

/* mixed's write on a native connection: its own transaction. */
static int mixed_write(sq *s, long long *inserted) {
    if (sq_run(s, "BEGIN IMMEDIATE", 0, 0, SQLITE_DONE) != 0) return -1;
    if (mixed_write_statements(s) != 0 || sq_run(s, "COMMIT", 0, 0, SQLITE_DONE) != 0)
        return rolled_back(s);
    *inserted = 1;
    return 0;
}

/* mixed's write in sqlpool_write(), on the connection it borrowed (and began on). */
static int mixed_write_fn(sqlpool_conn *conn, void *ctx) {
    sq s = {sqlpool_conn_sqlite(conn), conn};
    (void)ctx;
    return mixed_write_statements(&s);
}

/* mixed's write on a pool: counted as committed, its row inserted, only when sqlpool_write()
 * returned 0. */
static int pooled_mixed_write(bench_run *r, bench_tally *t, double t0) {
    if (bench_write(r, t, BENCH_WRITE, t0, mixed_write_fn, NULL) != 0) return -1;
    t->inserted++;
    bench_count_commit(t, BENCH_WRITE, bench_now() - t0);
    return 0;
}

/* The transaction's statements; 0 when it committed. *inserted gets the rows it added. */
static int workload(sq *s, bench_workload w, bench_kind k, long long *inserted) {
    int ins;
    *inserted = 0;
    switch (w) {
    case BENCH_SELECT1: return sq_run(s, SQL_SELECT1, 0, 0, SQLITE_ROW);
    case BENCH_INSERT:
        if (sq_run(s, SQL_INSERT, 2, 1, SQLITE_DONE) != 0) return -1;
        *inserted = 1;
        return 0;
    case BENCH_READ_WRITE:
        ins = bench_random() < 0.5;
        if (sq_run(s, "BEGIN IMMEDIATE", 0, 0, SQLITE_DONE) != 0) return -1;
        if (sq_run(s, SQL_READ, 1, random_id(), SQLITE_ROW) != 0 ||
            sq_run(s, SQL_READ, 1, random_id(), SQLITE_ROW) != 0 ||
            sq_run(s, ins ? SQL_INSERT : SQL_UPDATE, ins ? 2 : 1, random_id(), SQLITE_DONE) != 0 ||
            sq_run(s, "COMMIT", 0, 0, SQLITE_DONE) != 0)
            return rolled_back(s);
        *inserted = ins;
        return 0;
    case BENCH_MIXED: return k == BENCH_WRITE ? mixed_write(s, inserted) : mixed_read(s);
    }
    return -1;
}

/* A native connection, with --fail-connect's faults and --retries' retries. */
static sqlite3 *native_open(bench_run *r, bench_tally *t) {
    double backoff = 0.010;
    int ms =
        r->opts->timeout * 1000.0 > (double)INT_MAX ? INT_MAX : (int)(r->opts->timeout * 1000.0);
    for (int attempt = 0;; attempt++) {
        sqlite3 *db = NULL;
        if (!bench_connect_fault(r)) {
            int rc = sqlite3_open_v2(r->db, &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                         SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                                     NULL);
            if (rc == SQLITE_OK) {
                (void)sqlite3_busy_timeout(db, ms);
                t->connects++;
                return db;
            }
            (void)sqlite3_close(db);
        }
        if (attempt >= r->opts->retries || atomic_load(&r->stop)) return NULL;
        t->retries++;
        bench_pause(r, backoff);
        backoff *= 2;
    }
}

static int sqlite_transaction(bench_run *r, bench_tally *t, bench_kind k) {
    double t0 = bench_now();
    long long inserted = 0;
    sq s = {NULL, NULL};
    int rc;
    if (r->mode == BENCH_POOLED && r->opts->workload == BENCH_MIXED && k == BENCH_WRITE)
        return pooled_mixed_write(r, t, t0);
    if (r->mode == BENCH_POOLED) {
        if (bench_borrow(r, t, k, &s.conn) != 0) return -1;
        s.db = sqlpool_conn_sqlite(s.conn);
    } else if ((s.db = native_open(r, t)) == NULL) {
        bench_count_error(t, k, 0);
        return -1;
    }
    bench_count_wait(t, k, bench_now() - t0);
    rc = workload(&s, r->opts->workload, k, &inserted);
    if (s.conn != NULL)
        sqlpool_release(s.conn);
    else
        (void)sqlite3_close(s.db);
    if (rc != 0) {
        bench_count_error(t, k, 0);
        return -1;
    }
    t->inserted += inserted;
    bench_count_commit(t, k, bench_now() - t0);
    return 0;
}

/* Run sql on a connection from the run's pool (fault injection is off outside measuring). */
static int pool_exec(bench_run *r, const char *sql, long long *count, char *err, size_t errlen) {
    sqlpool_conn *conn = NULL;
    sqlite3_stmt *st = NULL;
    char *msg = NULL;
    int rc = sqlpool_acquire(r->pool, &conn);
    if (rc != SQLPOOL_OK) {
        (void)snprintf(err, errlen, "%s", logger_errmsg());
        return -1;
    }
    if (count == NULL) {
        rc = sqlite3_exec(sqlpool_conn_sqlite(conn), sql, NULL, NULL, &msg);
    } else if ((rc = sqlite3_prepare_v2(sqlpool_conn_sqlite(conn), sql, -1, &st, NULL)) ==
               SQLITE_OK) {
        rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : SQLITE_ERROR;
        *count = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_OK)
        (void)snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(sqlpool_conn_sqlite(conn)));
    (void)sqlite3_finalize(st);
    sqlite3_free(msg);
    sqlpool_release(conn);
    return rc == SQLITE_OK ? 0 : -1;
}

static int sqlite_setup(bench_run *r, char *err, size_t errlen) {
    char seed[256];
    if (pool_exec(r,
                  "DROP TABLE IF EXISTS sqlpool_bench; CREATE TABLE sqlpool_bench (id INTEGER "
                  "PRIMARY KEY, label TEXT NOT NULL, n INTEGER NOT NULL)",
                  NULL, err, errlen) != 0)
        return -1;
    if (!bench_seeded(r->opts->workload)) return 0;
    (void)snprintf(seed, sizeof seed,
                   "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) "
                   "INSERT INTO sqlpool_bench (label, n) SELECT 'seed', 0 FROM s",
                   BENCH_SEED_ROWS);
    return pool_exec(r, seed, NULL, err, errlen);
}

static int sqlite_count(bench_run *r, long long *rows, char *err, size_t errlen) {
    return pool_exec(r, "SELECT count(*) FROM sqlpool_bench", rows, err, errlen);
}

/* No server: a connection cannot be broken from outside; a memory database is one per
 * connection. */
static int sqlite_check(const bench_options *o) {
    if (o->pg_only != NULL) {
        commands_error("%s", options_pg_only_message(o->pg_only));
        return EXIT_USAGE;
    }
    if (o->kill_every > 0) {
        commands_error("--kill-every: a SQLite connection cannot be broken from outside the "
                       "process (there is no server to drop it); use it with PostgreSQL");
        return EXIT_USAGE;
    }
    if ((o->mode & BENCH_UNPOOLED) &&
        (strcmp(o->db, ":memory:") == 0 || strncmp(o->db, "file::memory:", 13) == 0 ||
         strstr(o->db, "mode=memory") != NULL)) {
        commands_error("--mode: an unpooled run opens a new connection per transaction, and "
                       "each connection to an in-memory database gets an empty one of its own: "
                       "use a database file");
        return EXIT_USAGE;
    }
    return 0;
}

const bench_backend bench_sqlite_backend = {
    .check = sqlite_check,
    .setup = sqlite_setup,
    .count = sqlite_count,
    .transaction = sqlite_transaction,
};
