/*
 * run.c: `sqlpool run`, the SQL Connection Simulator demo. Reads labels, inserts them in one
 * transaction, streams every row of `events` into the JSON summary, health-checks a reused
 * connection and reports the pool's counters. This file orders the steps; the SQL is the
 * backend table's (run_backend.h: run_sqlite.c, run_pg.c), picked once for --db.
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
#include "backends.h"
#include "commands.h"
#include "dbfile.h"
#include "exitcodes.h"
#include "labels.h"
#include "logger.h"
#include "report.h"
#include "run.h"
#include "run_backend.h"
#include "signals.h"
#include "summary.h"

#include <stdio.h>
#include <string.h>

#define MSG 512

/* Log the count and open the "rows" array. */
static void rows_begin(run_ctx *r) {
    logger_printf(SQLPOOL_LOG_INFO, "inserted rows=%lld", r->inserted);
    summary_rows_begin(&r->out, r->inserted);
}

/* Close the array and flush the output; from then on signals are deferred, as the COMMIT
 * comes next. 0, or an exit status with the error printed. */
static int rows_end(run_ctx *r) {
    char err[MSG];
    int status;
    summary_rows_end(&r->out);
    if ((status = summary_flush(&r->out, err, sizeof err)) != 0) commands_error("%s", err);
    if (status == 0) signals_defer();
    return status;
}

static int acquire(sqlpool *pool, sqlpool_conn **conn) {
    int rc = sqlpool_acquire(pool, conn);
    if (rc == SQLPOOL_OK) return 0;
    commands_error("%s", logger_errmsg());
    return commands_exit_for(rc);
}

/* First borrow: create, insert, stream the rows out, and only then commit. */
static int first_pass(run_ctx *r) {
    const run_backend *b = r->backend;
    sqlpool_conn *conn;
    int status = acquire(r->pool, &conn);
    if (status != 0) return status;
    status = b->load(r, conn);
    if (status == 0) {
        rows_begin(r);
        status = b->dump_rows(r, conn);
    }
    if (status == 0) status = rows_end(r);
    if (status == 0) status = b->commit(r, conn);
    if (status == 0) {
        r->committed = 1;
    } else {
        b->rollback(conn);
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
        char why[sizeof health.error]; /* the library's words, escaped again in the line */
        logger_unescape(health.error, why, sizeof why);
        logger_printf(SQLPOOL_LOG_WARNING, "health status=unhealthy error=%s", why);
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
    char sql[128];
    long long n;
    (void)snprintf(sql, sizeof sql, "DELETE FROM events WHERE id > %lld AND id <= %lld", r->base_id,
                   r->last_id);
    if (sqlpool_acquire(r->pool, &conn) != SQLPOOL_OK) {
        (void)snprintf(why, whylen, "%s", logger_errmsg());
        return -1;
    }
    n = r->backend->exec(conn, sql, why, whylen);
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
        commands_error("%s", logger_errmsg());
        return commands_exit_for(rc);
    }
    /* NULL only for a backend the CLI was built without, which sqlpool_open refuses too. */
    if ((r->backend = backends_run(r->opts->db)) == NULL) {
        commands_error("--db: this build has no PostgreSQL support");
        sqlpool_close(r->pool);
        return EXIT_USAGE;
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
        (!o->quiet && (status = dbfile_check_stdout(o->db, err, sizeof err)) != 0) ||
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
