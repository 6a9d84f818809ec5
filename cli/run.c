/*
 * run.c: `sqlpool run`, the SQL Connection Simulator demo. Reads labels, inserts them in one
 * transaction with one prepared statement, streams every row of `events` into the JSON
 * summary, health-checks a reused connection and reports the pool's counters.
 *
 * Order matters for "nothing half-done": the input is opened and the output's temporary file
 * created before the database is touched; labels are checked while inserting, and any bad
 * one rolls the whole transaction back. The transaction stays open until the rows are in
 * the temporary file and flushed (the connection sees its own writes). From just before the
 * COMMIT on, signals are deferred (signals_defer): a SIGINT/TERM/HUP is recorded and the call
 * it interrupts fails with EINTR. The steps after the COMMIT, in this order:
 *   1. the second borrow: health check, pool stats, the tail of the summary;
 *   2. flush, fsync and close the temporary file (summary_finish);
 *   3. the copy on standard output (unless --quiet), read back from the temporary file;
 *   4. the rename over the output (summary_commit): the point of no return, with the signals
 *      held across it; a signal recorded before it makes it fail instead.
 * A failure or a signal at steps 1 to 4 deletes this run's rows again (undo_rows) and drops
 * the temporary file, so the rows and the new output land together or not at all; a signal
 * then ends the run by that signal. A signal during the rename is let in after it: both have
 * landed, and the run dies of it. Only SIGKILL or a crash between the COMMIT and the rename
 * can leave the rows without the output. A database file the run created stays, empty:
 * removing it could remove a database another run has just begun to use.
 */
#include "commands.h"
#include "dbfile.h"
#include "exitcodes.h"
#include "labels.h"
#include "logger.h"
#include "report.h"
#include "run.h"
#include "schema.h"
#include "signals.h"
#include "summary.h"

#include <limits.h>
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

static const char *db_name(sqlite3 *db) {
    const char *name = sqlite3_db_filename(db, "main");
    return name != NULL && name[0] != '\0' ? name : ":memory:";
}

static int sql_fail(sqlite3 *db, const char *what) {
    int rc = sqlite3_extended_errcode(db);
    commands_error(
        "%s failed on '%s': %s%s", what, db_name(db), sqlite3_errmsg(db),
        (rc & 0xff) == SQLITE_READONLY ? " (the database file, or its folder, is read-only)" : "");
    return exit_for_sqlite(rc);
}

/* A label the database refuses (too big, a constraint) is bad input: name its line. */
static int label_fail(sqlite3 *db, int rc, const label_reader *in) {
    if ((rc & 0xff) != SQLITE_TOOBIG && (rc & 0xff) != SQLITE_CONSTRAINT)
        return sql_fail(db, "inserting a label");
    commands_error("input '%s' line %ld: the database refuses the label: %s", in->path,
                   labels_line(in), sqlite3_errmsg(db));
    return EXIT_DATAERR;
}

/* Insert one label with the prepared statement; 0 or an exit status. */
static int insert_one(sqlite3 *db, sqlite3_stmt *ins, const label_reader *in, const char *label,
                      size_t len) {
    int rc;
    if (len > (size_t)INT_MAX) {
        commands_error("input '%s' line %ld: the label is longer than %d bytes", in->path,
                       labels_line(in), INT_MAX);
        return EXIT_DATAERR;
    }
    if ((rc = sqlite3_bind_text(ins, 1, label, (int)len, SQLITE_STATIC)) == SQLITE_OK &&
        (rc = sqlite3_step(ins)) == SQLITE_DONE) {
        (void)sqlite3_reset(ins);
        return 0;
    }
    return label_fail(db, rc, in);
}

/* Insert every label inside the open transaction. Returns 0 or an exit status. */
static int insert_labels(sqlite3 *db, run_ctx *r) {
    sqlite3_stmt *ins = NULL;
    const char *label;
    size_t len;
    char err[MSG];
    int got, status = 0;

    if (sqlite3_prepare_v2(db, "INSERT INTO events (label) VALUES (?1)", -1, &ins, NULL) !=
        SQLITE_OK)
        return sql_fail(db, "preparing the insert");
    while ((got = labels_next(&r->in, &label, &len, err, sizeof err)) == 1) {
        if ((status = insert_one(db, ins, &r->in, label, len)) != 0) break;
        ++r->inserted;
    }
    if (got > 1) {
        commands_error("%s", err);
        status = got;
    }
    (void)sqlite3_finalize(ins);
    r->last_id = r->inserted ? sqlite3_last_insert_rowid(db) : r->base_id;
    return status;
}

/* The largest id in events, 0 when empty. */
static int max_id(sqlite3 *db, long long *out) {
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM events", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_fail(db, "reading events");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    rc = rc == SQLITE_ROW ? 0 : sql_fail(db, "reading events");
    (void)sqlite3_finalize(st);
    return rc;
}

/* Open the transaction, create the table and insert: all of the input or none of it. */
static int load(sqlite3 *db, run_ctx *r) {
    int status;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(db, "starting the transaction");
    if (sqlite3_exec(db, create_sql, NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(db, "creating table events");
    if ((status = schema_check_sqlite(db, db_name(db))) != 0) return status; /* a user's table */
    if (max_id(db, &r->base_id) != 0) return EXIT_UNAVAILABLE;
    return insert_labels(db, r);
}

/* One row read back: the label, or "" for a NULL one; exit 70 when SQLite ran out of memory
 * converting it (sqlite3_column_text returns NULL for a value that is not NULL). */
static int dump_one(sqlite3 *db, sqlite3_stmt *sel, summary *out) {
    int is_null = sqlite3_column_type(sel, 1) == SQLITE_NULL;
    const char *label = (const char *)sqlite3_column_text(sel, 1);
    size_t len = (size_t)sqlite3_column_bytes(sel, 1);
    long long id = sqlite3_column_int64(sel, 0);
    if (label == NULL && (!is_null || sqlite3_errcode(db) == SQLITE_NOMEM)) {
        commands_error("reading events row id %lld failed on '%s': %s", id, db_name(db),
                       sqlite3_errmsg(db));
        return EXIT_SOFTWARE;
    }
    if (summary_row(out, id, label ? label : "", len) != 0) {
        commands_error("events row id %lld: the label is not valid UTF-8", id);
        return EXIT_DATAERR;
    }
    return 0;
}

/* Stream SELECT id, label FROM events ORDER BY id into the summary. */
static int dump_rows(sqlite3 *db, summary *out) {
    sqlite3_stmt *sel = NULL;
    int rc, status = 0;
    if (sqlite3_prepare_v2(db, "SELECT id, label FROM events ORDER BY id", -1, &sel, NULL) !=
        SQLITE_OK)
        return sql_fail(db, "reading events");
    while (status == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW)
        status = dump_one(db, sel, out);
    if (status == 0 && rc != SQLITE_DONE) status = sql_fail(db, "reading events");
    (void)sqlite3_finalize(sel);
    return status;
}

void run_rows_begin(run_ctx *r) {
    logger_printf(SQLPOOL_LOG_INFO, "inserted rows=%lld", r->inserted);
    summary_rows_begin(&r->out, r->inserted);
}

int run_rows_end(run_ctx *r) {
    char err[MSG];
    int status;
    summary_rows_end(&r->out);
    if ((status = summary_flush(&r->out, err, sizeof err)) != 0) commands_error("%s", err);
    if (status == 0) signals_defer(); /* the COMMIT comes next, on either backend */
    return status;
}

/* The rows into the output, flushed: what must succeed before the COMMIT. */
static int stream_rows(sqlite3 *db, run_ctx *r) {
    int status;
    run_rows_begin(r);
    if ((status = dump_rows(db, &r->out)) != 0) return status;
    return run_rows_end(r);
}

static int acquire(sqlpool *pool, sqlpool_conn **conn) {
    int rc = sqlpool_acquire(pool, conn);
    if (rc == SQLPOOL_OK) return 0;
    commands_error("%s", sqlpool_errmsg());
    return commands_exit_for(rc);
}

/* First borrow: create, insert, stream the rows out, and only then commit. */
static int first_pass(run_ctx *r) {
    sqlpool_conn *conn;
    sqlite3 *db;
    int status = acquire(r->pool, &conn);
    if (status != 0) return status;
#ifdef SQLPOOL_CLI_HAVE_PG
    if (sqlpool_conn_pg(conn) != NULL) {
        status = run_pg_first_pass(r, conn);
        sqlpool_release(conn);
        return status;
    }
#endif
    db = sqlpool_conn_sqlite(conn);
    status = load(db, r);
    if (status == 0) status = stream_rows(db, r);
    if (status == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        status = sql_fail(db, "committing");
    if (status == 0) {
        r->committed = 1;
    } else {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        r->inserted = 0;
    }
    sqlpool_release(conn);
    return status;
}

/* Write the health and pool_stats objects; 0 or EXIT_SOFTWARE. */
static int write_tail(summary *out, const sqlpool_health *health, const sqlpool_stats *st) {
    json_t *h = report_health(health), *s = report_stats(st);
    int status = 0;
    if (h == NULL || s == NULL) {
        commands_error("out of memory");
        status = EXIT_SOFTWARE;
    } else {
        summary_object(out, "health", h, 0);
        summary_object(out, "pool_stats", s, 1);
    }
    json_decref(h);
    json_decref(s);
    return status;
}

/* Second borrow (a reuse): health check; then drain the pool and write the tail. */
static int second_pass(run_ctx *r) {
    sqlpool_conn *conn;
    sqlpool_health health;
    sqlpool_stats st;
    int status = acquire(r->pool, &conn);
    if (status != 0) return status;
    if (sqlpool_conn_health(conn, &health) == SQLPOOL_OK) {
        sqlpool_release(conn);
    } else {
        logger_printf(SQLPOOL_LOG_WARNING, "health status=unhealthy error=%s", health.error);
        sqlpool_discard(conn); /* a connection that failed its check is not pooled */
    }
    sqlpool_close_idle(r->pool);
    sqlpool_stats_get(r->pool, &st);
    return write_tail(&r->out, &health, &st);
}

/* Delete rows base_id+1 .. last_id on a fresh borrow; the number deleted, or -1 with the
 * reason in why. */
static long long delete_rows(run_ctx *r, char *why, size_t whylen) {
    sqlpool_conn *conn;
    sqlite3 *db;
    char sql[128];
    long long n = -1;
    (void)snprintf(sql, sizeof sql, "DELETE FROM events WHERE id > %lld AND id <= %lld", r->base_id,
                   r->last_id);
    if (sqlpool_acquire(r->pool, &conn) != SQLPOOL_OK) {
        (void)snprintf(why, whylen, "%s", sqlpool_errmsg());
        return -1;
    }
#ifdef SQLPOOL_CLI_HAVE_PG
    if (sqlpool_conn_pg(conn) != NULL) {
        n = run_pg_exec(conn, sql, why, whylen);
        sqlpool_release(conn);
        return n;
    }
#endif
    db = sqlpool_conn_sqlite(conn);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        n = sqlite3_changes(db);
    else
        (void)snprintf(why, whylen, "%s", sqlite3_errmsg(db));
    sqlpool_release(conn);
    return n;
}

/* After a failure past the COMMIT: take this run's rows out again, so a retry does not
 * duplicate them; say so when that fails too, and log the count the database really deleted. */
static void undo_rows(run_ctx *r) {
    char why[MSG];
    long long n;
    if (!r->committed || r->last_id <= r->base_id) return;
    if ((n = delete_rows(r, why, sizeof why)) < 0)
        commands_error("the run failed, and its rows (ids %lld to %lld) remain in '%s': deleting "
                       "them failed: %s",
                       r->base_id + 1, r->last_id, r->db_shown, why);
    else
        logger_printf(n == r->inserted ? SQLPOOL_LOG_INFO : SQLPOOL_LOG_WARNING,
                      "rows_deleted count=%lld ids=%lld-%lld inserted=%lld", n, r->base_id + 1,
                      r->last_id, r->inserted);
}

/* Steps 2 to 4 after the COMMIT (see the top of this file). */
static int publish(run_ctx *r) {
    char err[MSG];
    int status = summary_finish(&r->out, err, sizeof err);
    if (status == 0 && !r->opts->quiet) status = summary_print(&r->out, err, sizeof err);
    if (status == 0) status = summary_commit(&r->out, err, sizeof err);
    if (status != 0) commands_error("%s", err);
    return status;
}

static int simulate(run_ctx *r) {
    sqlpool_config cfg;
    int rc, status;

    commands_pool_config(r->opts, &cfg);
    cfg.ping_on_release = 1;
    if ((rc = sqlpool_open(&cfg, &r->pool)) != SQLPOOL_OK) {
        commands_error("%s", sqlpool_errmsg());
        return commands_exit_for(rc);
    }
    status = first_pass(r);
    if (status == 0) status = second_pass(r);
    if (status == 0) status = publish(r);
    if (status != 0) undo_rows(r);
    sqlpool_close(r->pool);
    return status;
}

/* Open the input and the output, in that order. */
static int open_files(run_ctx *r) {
    const cli_options *o = r->opts;
    char err[MSG];
    int status;
    if ((status = dbfile_check_output(o->db, "--output", o->output, err, sizeof err)) != 0 ||
        (status = labels_open(&r->in, o->input, err, sizeof err)) != 0) {
        commands_error("%s", err);
        return status;
    }
    if ((status = summary_begin(&r->out, r->opts->output, r->opts->quiet, err, sizeof err)) != 0) {
        commands_error("%s", err);
        labels_close(&r->in);
    }
    return status;
}

int command_run(const cli_options *opts) {
    run_ctx r;
    int status;

    memset(&r, 0, sizeof r);
    r.opts = opts;
    (void)signals_install();
    if ((status = open_files(&r)) != 0) return status;
    (void)sqlpool_db_mask(opts->db, r.db_shown, sizeof r.db_shown);
    logger_printf(SQLPOOL_LOG_INFO, "run_start input=%s db=%s pool_size=%d", opts->input,
                  r.db_shown, opts->pool_size);
    status = simulate(&r);
    labels_close(&r.in);
    if (status == 0) logger_printf(SQLPOOL_LOG_INFO, "summary_written path=%s", opts->output);
    summary_abort(&r.out);
    if (signals_caught())
        logger_printf(SQLPOOL_LOG_WARNING, "interrupted signal=%d output_written=%s",
                      signals_caught(), status == 0 ? "yes" : "no");
    signals_resume(); /* dies of a signal recorded since the COMMIT */
    return status;
}
