/*
 * run_sqlite.c: `sqlpool run` on SQLite: one BEGIN IMMEDIATE transaction, the labels inserted
 * with one prepared statement, the rows read back with one SELECT stepped row by row, so
 * memory does not grow with the table.
 */
#include "commands.h"
#include "exitcodes.h"
#include "labels.h"
#include "run_backend.h"
#include "schema.h"
#include "summary.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
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

static int sqlite_load(run_ctx *r, sqlpool_conn *conn) {
    return load(sqlpool_conn_sqlite(conn), r);
}

static int sqlite_dump_rows(run_ctx *r, sqlpool_conn *conn) {
    return dump_rows(sqlpool_conn_sqlite(conn), &r->out);
}

static int sqlite_commit(run_ctx *r, sqlpool_conn *conn) {
    sqlite3 *db = sqlpool_conn_sqlite(conn);
    (void)r;
    return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ? sql_fail(db, "committing")
                                                                     : 0;
}

static void sqlite_rollback(sqlpool_conn *conn) {
    (void)sqlite3_exec(sqlpool_conn_sqlite(conn), "ROLLBACK", NULL, NULL, NULL);
}

static long long sqlite_exec(sqlpool_conn *conn, const char *sql, char *why, size_t whylen) {
    sqlite3 *db = sqlpool_conn_sqlite(conn);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK) return sqlite3_changes(db);
    (void)snprintf(why, whylen, "%s", sqlite3_errmsg(db));
    return -1;
}

const run_backend run_sqlite_backend = {
    .load = sqlite_load,
    .dump_rows = sqlite_dump_rows,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .exec = sqlite_exec,
};
