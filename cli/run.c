/*
 * run.c: `sqlpool run`, the SQL Connection Simulator demo. Reads labels, inserts them in one
 * transaction with one prepared statement, streams every row of `events` into the JSON
 * summary, health-checks a reused connection and reports the pool's counters.
 *
 * Order matters for "nothing half-done": the input is opened and the output's temporary file
 * created before the database is touched; labels are checked while inserting, and any bad
 * one rolls the whole transaction back.
 */
#include "commands.h"
#include "exitcodes.h"
#include "labels.h"
#include "logger.h"
#include "summary.h"

#include <sqlite3.h>
#include <string.h>

#define MSG 512

static const char *const create_sql =
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, label TEXT NOT NULL)";

/* The exit status for an SQLite failure during the demo. */
static int exit_for_sqlite(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return EXIT_TEMPFAIL;
    case SQLITE_FULL:
    case SQLITE_IOERR: return EXIT_IOERR;
    case SQLITE_NOMEM: return EXIT_SOFTWARE;
    default: return EXIT_UNAVAILABLE;
    }
}

static int sql_fail(sqlite3 *db, const char *what) {
    int rc = sqlite3_extended_errcode(db);
    commands_error("%s failed on '%s': %s", what,
                   sqlite3_db_filename(db, "main")[0] ? sqlite3_db_filename(db, "main")
                                                      : ":memory:",
                   sqlite3_errmsg(db));
    return exit_for_sqlite(rc);
}

/* Insert every label inside the open transaction. Returns 0 or an exit status. */
static int insert_labels(sqlite3 *db, label_reader *in, long long *count) {
    sqlite3_stmt *ins = NULL;
    const char *label;
    size_t len;
    char err[MSG];
    int got, status = 0;

    if (sqlite3_prepare_v2(db, "INSERT INTO events (label) VALUES (?1)", -1, &ins, NULL) !=
        SQLITE_OK)
        return sql_fail(db, "preparing the insert");
    while ((got = labels_next(in, &label, &len, err, sizeof err)) == 1) {
        if (sqlite3_bind_text(ins, 1, label, (int)len, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_step(ins) != SQLITE_DONE) {
            status = sql_fail(db, "inserting a label");
            break;
        }
        (void)sqlite3_reset(ins);
        ++*count;
    }
    if (got > 1) {
        commands_error("%s", err);
        status = got;
    }
    (void)sqlite3_finalize(ins);
    return status;
}

/* All of the input or none of it: one transaction around the table and every row. */
static int load(sqlite3 *db, label_reader *in, long long *count) {
    int status;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(db, "starting the transaction");
    if (sqlite3_exec(db, create_sql, NULL, NULL, NULL) != SQLITE_OK)
        status = sql_fail(db, "creating table events");
    else
        status = insert_labels(db, in, count);
    if (status == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        status = sql_fail(db, "committing");
    if (status != 0) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        *count = 0;
    }
    return status;
}

/* Stream SELECT id, label FROM events ORDER BY id into the summary. */
static int dump_rows(sqlite3 *db, summary *out) {
    sqlite3_stmt *sel = NULL;
    int rc;
    if (sqlite3_prepare_v2(db, "SELECT id, label FROM events ORDER BY id", -1, &sel, NULL) !=
        SQLITE_OK)
        return sql_fail(db, "reading events");
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *label = (const char *)sqlite3_column_text(sel, 1);
        size_t len = (size_t)sqlite3_column_bytes(sel, 1);
        long long id = sqlite3_column_int64(sel, 0);
        if (summary_row(out, id, label ? label : "", len) != 0) {
            commands_error("events row id %lld: the label is not valid UTF-8", id);
            (void)sqlite3_finalize(sel);
            return EXIT_DATAERR;
        }
    }
    (void)sqlite3_finalize(sel);
    return rc == SQLITE_DONE ? 0 : sql_fail(db, "reading events");
}

static int acquire(sqlpool *pool, sqlpool_conn **conn) {
    int rc = sqlpool_acquire(pool, conn);
    if (rc == SQLPOOL_OK) return 0;
    commands_error("%s", sqlpool_errmsg());
    return commands_exit_for(rc);
}

/* First borrow: create, insert, read back. */
static int first_pass(sqlpool *pool, label_reader *in, summary *out, long long *inserted) {
    sqlpool_conn *conn;
    int status = acquire(pool, &conn);
    if (status != 0) return status;
    status = load(sqlpool_conn_sqlite(conn), in, inserted);
    if (status == 0) {
        logger_printf(SQLPOOL_LOG_INFO, "inserted rows=%lld", *inserted);
        summary_rows_begin(out, *inserted);
        status = dump_rows(sqlpool_conn_sqlite(conn), out);
    }
    sqlpool_release(conn);
    return status;
}

static json_t *health_json(const sqlpool_health *h) {
    if (h->healthy)
        return json_pack("{s:s, s:s}", "status", "healthy", "sqlite_version", h->version);
    return json_pack("{s:s, s:s}", "status", "unhealthy", "error", h->error);
}

/* Add one counter; returns -1 when out of memory. */
static int put_int(json_t *obj, const char *key, long long v) {
    return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static int put_real(json_t *obj, const char *key, double v) {
    return json_object_set_new(obj, key, json_real(v));
}

/* The original's four keys first, then the rest of the pool's counters. */
static json_t *stats_json(const sqlpool_stats *st) {
    json_t *o = json_object();
    int bad = o == NULL;
    bad = bad || put_int(o, "created", st->created) || put_int(o, "reused", st->reused) ||
          put_int(o, "idle", st->idle) || put_int(o, "pool_size", st->max_idle) ||
          put_int(o, "peak_in_use", st->peak_in_use) || put_int(o, "in_use", st->in_use) ||
          put_int(o, "open", st->open) || put_int(o, "max_open", st->max_open) ||
          put_int(o, "connecting", st->connecting) || put_int(o, "waiting", st->waiting) ||
          put_int(o, "closed", st->closed) || put_int(o, "closed_idle", st->closed_idle) ||
          put_int(o, "closed_lifetime", st->closed_lifetime) ||
          put_int(o, "closed_broken", st->closed_broken) ||
          put_int(o, "closed_max_idle", st->closed_max_idle) ||
          put_int(o, "closed_pool", st->closed_pool) || put_int(o, "discarded", st->discarded) ||
          put_int(o, "connect_retries", st->connect_retries) ||
          put_int(o, "connect_failures", st->connect_failures) ||
          put_int(o, "acquires", st->acquires) || put_int(o, "wait_count", st->wait_count) ||
          put_int(o, "timeouts", st->timeouts) || put_real(o, "wait_seconds", st->wait_seconds) ||
          put_real(o, "wait_p50", st->wait_p50) || put_real(o, "wait_p90", st->wait_p90) ||
          put_real(o, "wait_p99", st->wait_p99) || put_real(o, "wait_max", st->wait_max);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Second borrow (a reuse): health check; then drain the pool and write the tail. */
static int second_pass(sqlpool *pool, summary *out) {
    sqlpool_conn *conn;
    sqlpool_health health;
    sqlpool_stats st;
    json_t *h, *s;
    int status = acquire(pool, &conn);
    if (status != 0) return status;
    if (sqlpool_conn_health(conn, &health) != SQLPOOL_OK)
        logger_printf(SQLPOOL_LOG_WARNING, "health status=unhealthy error=%s", health.error);
    sqlpool_release(conn);
    sqlpool_close_idle(pool);
    sqlpool_stats_get(pool, &st);
    h = health_json(&health);
    s = stats_json(&st);
    if (h == NULL || s == NULL) {
        json_decref(h);
        json_decref(s);
        commands_error("out of memory");
        return EXIT_SOFTWARE;
    }
    summary_object(out, "health", h, 0);
    summary_object(out, "pool_stats", s, 1);
    json_decref(h);
    json_decref(s);
    return 0;
}

static int simulate(const cli_options *opts, label_reader *in, summary *out) {
    sqlpool_config cfg;
    sqlpool *pool;
    long long inserted = 0;
    int rc, status;

    commands_pool_config(opts, &cfg);
    cfg.ping_on_release = 1;
    if ((rc = sqlpool_open(&cfg, &pool)) != SQLPOOL_OK) {
        commands_error("%s", sqlpool_errmsg());
        return commands_exit_for(rc);
    }
    status = first_pass(pool, in, out, &inserted);
    if (status == 0) {
        summary_rows_end(out);
        status = second_pass(pool, out);
    }
    sqlpool_close(pool);
    return status;
}

int command_run(const cli_options *opts) {
    label_reader in;
    summary out;
    char err[MSG];
    int status;

    if ((status = labels_open(&in, opts->input, err, sizeof err)) != 0) {
        commands_error("%s", err);
        return status;
    }
    if ((status = summary_begin(&out, opts->output, err, sizeof err)) != 0) {
        commands_error("%s", err);
        labels_close(&in);
        return status;
    }
    logger_printf(SQLPOOL_LOG_INFO, "run_start input=%s db=%s pool_size=%d", opts->input, opts->db,
                  opts->pool_size);
    status = simulate(opts, &in, &out);
    labels_close(&in);
    if (status == 0 && (status = summary_commit(&out, err, sizeof err)) != 0)
        commands_error("%s", err);
    if (status == 0) {
        logger_printf(SQLPOOL_LOG_INFO, "summary_written path=%s", opts->output);
        if (!opts->quiet && (status = summary_print(&out, err, sizeof err)) != 0)
            commands_error("%s", err);
    }
    summary_abort(&out);
    return status;
}
