/*
 * run_pg.c: `sqlpool run` on PostgreSQL. The same steps and the same JSON as on SQLite, in
 * one transaction: the labels go in with COPY (a stream, not a round trip per row), and the
 * rows come back through a cursor in batches, so memory does not grow with the table.
 */
#include "commands.h"
#include "exitcodes.h"
#include "logger.h"
#include "run_backend.h"
#include "summary.h"

#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_CHUNK (1 << 16)
#define FETCH "FETCH 10000 FROM sqlpool_rows"

/* The exit status for a failed statement, by SQLSTATE class. */
static int exit_for(const PGresult *res) {
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL) return EXIT_UNAVAILABLE; /* no answer: the connection is gone */
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) return EXIT_DATAERR;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
        strcmp(state, "57014") == 0)
        return EXIT_TEMPFAIL;
    if (strncmp(state, "53", 2) == 0) return EXIT_IOERR;
    return EXIT_UNAVAILABLE;
}

/* libpq's message on one line. */
static void one_line(const char *msg, char *out, size_t len) {
    (void)sqlpool_text_mask(msg, out, len); /* libpq may quote the db string */
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    for (size_t n = strlen(out); n > 0 && out[n - 1] == ' '; n--)
        out[n - 1] = '\0';
}

static int fail(run_ctx *r, PGconn *pg, PGresult *res, const char *what) {
    char msg[512];
    int status = exit_for(res);
    one_line(PQerrorMessage(pg), msg, sizeof msg);
    commands_error("%s failed on '%s': %s", what, r->db_shown, msg);
    PQclear(res);
    return status;
}

/* Run sql expecting status want; 0 or an exit status (error printed). */
static int expect(run_ctx *r, PGconn *pg, const char *sql, ExecStatusType want, const char *what) {
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != want) return fail(r, pg, res, what);
    PQclear(res);
    return 0;
}

static int fetch_id(run_ctx *r, PGconn *pg, const char *sql, long long *out) {
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return fail(r, pg, res, "reading events");
    *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* COPY's text format: backslash, tab, newline and carriage return escaped. */
static size_t copy_escape(const char *label, size_t len, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = label[i];
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\t' ? "\\t"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                                      : NULL;
        if (esc != NULL) {
            out[o++] = esc[0];
            out[o++] = esc[1];
        } else {
            out[o++] = c;
        }
    }
    out[o++] = '\n';
    return o;
}

/* Send buf[0..*used) as copy data and empty it. 0, or -1. */
static int send_chunk(PGconn *pg, char *buf, size_t *used) {
    int ok = *used == 0 || PQputCopyData(pg, buf, (int)*used) == 1;
    *used = 0;
    return ok ? 0 : -1;
}

/* Say why sending the COPY data failed: the connection's own words. */
static void copy_fail(run_ctx *r, PGconn *pg, int status) {
    char msg[512];
    if (status == EXIT_SOFTWARE) {
        commands_error("inserting the labels failed: out of memory");
        return;
    }
    one_line(PQerrorMessage(pg), msg, sizeof msg);
    commands_error("inserting the labels failed on '%s': %s", r->db_shown,
                   msg[0] ? msg : "the connection was lost");
}

/* Send one label too big for the buffer on its own. 0, or an exit status. */
static int send_big(PGconn *pg, const char *label, size_t len) {
    char *big = malloc(len * 2 + 1);
    int ok;
    if (big == NULL) return EXIT_SOFTWARE;
    ok = PQputCopyData(pg, big, (int)copy_escape(label, len, big)) == 1;
    free(big);
    return ok ? 0 : EXIT_UNAVAILABLE;
}

/* Stream every label into COPY, in chunks; 0, or an exit status (the COPY is then aborted,
 * and the transaction with it). */
static int copy_labels(run_ctx *r, PGconn *pg) {
    char *buf = malloc(COPY_CHUNK), err[512];
    size_t used = 0, len;
    const char *label;
    int got = 0, status = buf == NULL ? EXIT_SOFTWARE : 0;

    while (status == 0 && (got = labels_next(&r->in, &label, &len, err, sizeof err)) == 1) {
        size_t need = len * 2 + 1;
        if (len > (size_t)INT_MAX / 2 - 1) {
            commands_error("input '%s' line %ld: the label is too long", r->in.path,
                           labels_line(&r->in));
            status = EXIT_DATAERR;
        } else if (need > COPY_CHUNK - used && send_chunk(pg, buf, &used) != 0) {
            status = EXIT_UNAVAILABLE;
        } else if (need > COPY_CHUNK) {
            status = send_big(pg, label, len);
        } else {
            used += copy_escape(label, len, buf + used);
        }
        if (status == 0) r->inserted++;
    }
    if (got > 1) {
        commands_error("%s", err);
        status = got;
    }
    if (status == 0 && send_chunk(pg, buf, &used) != 0) status = EXIT_UNAVAILABLE;
    free(buf);
    if (PQputCopyEnd(pg, status == 0 ? NULL : "sqlpool: input rejected") != 1 && status == 0)
        status = EXIT_UNAVAILABLE;
    if (status == EXIT_UNAVAILABLE || status == EXIT_SOFTWARE) /* not reported yet */
        copy_fail(r, pg, status);
    return status;
}

/* The shape of events, as the catalog gives it: one row, the column numbers below. */
static const char *const shape_sql =
    "SELECT c.relkind, i.atttypid::regtype::text, i.attidentity <> '' OR "
    "coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false), "
    "l.atttypid::regtype::text, format_type(l.atttypid, l.atttypmod), l.attnotnull, "
    "l.attgenerated <> '', "
    "(SELECT tgname FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal "
    "ORDER BY tgname LIMIT 1), "
    "(SELECT rulename FROM pg_rewrite WHERE ev_class = c.oid AND rulename <> '_RETURN' "
    "ORDER BY rulename LIMIT 1), "
    "(SELECT attname FROM pg_attribute o WHERE o.attrelid = c.oid AND o.attnum > 0 AND NOT "
    "o.attisdropped AND o.attname NOT IN ('id', 'label') AND o.attnotnull AND NOT o.atthasdef "
    "AND o.attidentity = '' AND o.attgenerated = '' ORDER BY o.attnum LIMIT 1), "
    "(SELECT h.inhrelid::regclass::text FROM pg_inherits h WHERE h.inhparent = c.oid "
    "ORDER BY 1 LIMIT 1) "
    "FROM pg_class c "
    "LEFT JOIN pg_attribute i ON i.attrelid = c.oid AND i.attname = 'id' AND NOT i.attisdropped "
    "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = i.attnum "
    "LEFT JOIN pg_attribute l ON l.attrelid = c.oid AND l.attname = 'label' AND NOT "
    "l.attisdropped WHERE c.oid = 'events'::regclass";
enum {
    S_KIND,
    S_ID_TYPE,
    S_ID_AUTO,
    S_LABEL_TYPE,
    S_LABEL_SHOWN,
    S_LABEL_NOTNULL,
    S_LABEL_GEN,
    S_TRIGGER,
    S_RULE,
    S_OTHER,
    S_CHILD
};

/* The first difference that keeps events from giving back exactly what is written, in why;
 * 0 when there is none (the same rules as schema.c's for SQLite, in PostgreSQL's terms). */
static int shape_differs(const PGresult *res, char *why, size_t len) {
    const char *kind = PQgetvalue(res, 0, S_KIND), *id = PQgetvalue(res, 0, S_ID_TYPE);
    const char *label = PQgetvalue(res, 0, S_LABEL_TYPE);
    /* The triggers and rules checked are events' own: its partitions' and children's are not. */
    if (strcmp(kind, "p") == 0)
        (void)snprintf(why, len,
                       "events is partitioned, and its partitions' triggers and rules could "
                       "change or drop the rows written");
    else if (strcmp(kind, "r") != 0)
        (void)snprintf(why, len, "events is not a table (relkind '%s')", kind);
    else if (!PQgetisnull(res, 0, S_CHILD))
        (void)snprintf(why, len,
                       "it has the inheritance child '%s', whose rows the run would count and "
                       "whose triggers this check does not see",
                       PQgetvalue(res, 0, S_CHILD));
    else if (PQgetisnull(res, 0, S_ID_TYPE) || PQgetisnull(res, 0, S_LABEL_TYPE))
        (void)snprintf(why, len, "it has no column %s",
                       PQgetisnull(res, 0, S_ID_TYPE) ? "id" : "label");
    else if (strcmp(id, "integer") != 0 && strcmp(id, "bigint") != 0)
        (void)snprintf(why, len, "column id is %s; it needs integer or bigint", id);
    else if (strcmp(PQgetvalue(res, 0, S_ID_AUTO), "t") != 0)
        (void)snprintf(why, len,
                       "column id is neither an identity nor serial, so new rows get no id");
    else if (strcmp(label, "text") != 0 && strcmp(label, "character varying") != 0)
        (void)snprintf(why, len,
                       "column label is %s, which does not keep every label as written (such as "
                       "'007' or '1e3'); it needs text or varchar",
                       PQgetvalue(res, 0, S_LABEL_SHOWN));
    else if (strcmp(PQgetvalue(res, 0, S_LABEL_GEN), "t") == 0)
        (void)snprintf(why, len, "column label is a generated column");
    else if (strcmp(PQgetvalue(res, 0, S_LABEL_NOTNULL), "t") != 0)
        (void)snprintf(why, len,
                       "column label is not NOT NULL, and a NULL label would print as \"\"");
    else if (!PQgetisnull(res, 0, S_TRIGGER))
        (void)snprintf(why, len,
                       "it has the trigger '%s', which could change or drop the rows written, or "
                       "add rows the undo would not delete",
                       PQgetvalue(res, 0, S_TRIGGER));
    else if (!PQgetisnull(res, 0, S_RULE))
        (void)snprintf(why, len,
                       "it has the rule '%s', which could rewrite or drop the rows written",
                       PQgetvalue(res, 0, S_RULE));
    else if (!PQgetisnull(res, 0, S_OTHER))
        (void)snprintf(why, len,
                       "column '%s' is NOT NULL without a default, and the demo writes only label",
                       PQgetvalue(res, 0, S_OTHER));
    else
        return 0;
    return 1;
}

/* Refuse (EXIT_DATAERR) a user's events that cannot give back the labels exactly, then lock it
 * against other writers until the COMMIT, so that the ids above max(id) are this run's alone
 * (what the undo deletes); the wait for the lock is bounded by --timeout. */
static int check_events(run_ctx *r, PGconn *pg) {
    PGresult *res = PQexec(pg, shape_sql);
    char why[400], sql[96];
    int differs, status;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return fail(r, pg, res, "reading the shape of table events");
    differs = shape_differs(res, why, sizeof why);
    PQclear(res);
    if (differs) {
        commands_error("table events in '%s' cannot give back the labels exactly: %s", r->db_shown,
                       why);
        return EXIT_DATAERR;
    }
    /* In milliseconds, at least 1: 0 would mean no limit. */
    (void)snprintf(sql, sizeof sql, "SET LOCAL lock_timeout = %.0f",
                   r->opts->timeout * 1000.0 + 1.0);
    if ((status = expect(r, pg, sql, PGRES_COMMAND_OK, "locking table events")) != 0) return status;
    return expect(r, pg, "LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE", PGRES_COMMAND_OK,
                  "locking table events");
}

/* After the COPY: every row COPY counted is there with an id above the old max(id), or the
 * undo's range would miss some (a sequence set back below the table's ids, or a trigger or
 * rule the shape check missed). 0, or an exit status. */
static int check_new_ids(run_ctx *r, PGconn *pg) {
    char sql[96];
    long long above = 0;
    int status;
    (void)snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE id > %lld", r->base_id);
    if ((status = fetch_id(r, pg, sql, &above)) != 0) return status;
    if (above == r->inserted) return 0;
    commands_error("table events in '%s' cannot give back the labels exactly: %lld of the %lld new "
                   "rows are not above id %lld, the largest before the run (a trigger or rule "
                   "dropped or diverted them, or the sequence of id is behind the table)",
                   r->db_shown, r->inserted - above, r->inserted, r->base_id);
    return EXIT_DATAERR;
}

/* COPY the labels in and check what the server made of it. */
/* --statement-timeout: run's statements go to libpq directly (COPY has no parameters to
 * prepare), so the deadline is the server's, for this transaction only: SET LOCAL. */
static int local_timeout(run_ctx *r, PGconn *pg) {
    char sql[64];
    if (r->opts->statement_timeout <= 0.0) return 0;
    (void)snprintf(sql, sizeof sql, "SET LOCAL statement_timeout = %.0f",
                   ceil(r->opts->statement_timeout * 1000.0));
    return expect(r, pg, sql, PGRES_COMMAND_OK, "setting statement_timeout");
}

static int load(run_ctx *r, PGconn *pg) {
    PGresult *res;
    int status;
    if ((status = expect(r, pg, "BEGIN", PGRES_COMMAND_OK, "starting the transaction")) != 0 ||
        (status = local_timeout(r, pg)) != 0 ||
        (status = expect(r, pg,
                         "CREATE TABLE IF NOT EXISTS events (id BIGSERIAL PRIMARY KEY, "
                         "label TEXT NOT NULL)",
                         PGRES_COMMAND_OK, "creating table events")) != 0 ||
        (status = check_events(r, pg)) != 0 ||
        (status = fetch_id(r, pg, "SELECT coalesce(max(id), 0) FROM events", &r->base_id)) != 0)
        return status;
    res = PQexec(pg, "COPY events (label) FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN) return fail(r, pg, res, "starting COPY");
    PQclear(res);
    status = copy_labels(r, pg);
    res = PQgetResult(pg);
    if (status == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
        return fail(r, pg, res, "inserting the labels");
    PQclear(res);
    while ((res = PQgetResult(pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) break; /* would never end */
    }
    if (status != 0) return status;
    if ((status = fetch_id(r, pg, "SELECT coalesce(max(id), 0) FROM events", &r->last_id)) != 0)
        return status;
    return check_new_ids(r, pg);
}

/* One batch of rows into the summary; sets *more when the batch was full. */
static int dump_batch(run_ctx *r, PGconn *pg, int *more) {
    PGresult *res = PQexec(pg, FETCH);
    int n;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(r, pg, res, "reading events");
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        if (summary_row(&r->out, id, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1))) {
            commands_error("events row id %lld: the label is not valid UTF-8", id);
            PQclear(res);
            return EXIT_DATAERR;
        }
    }
    PQclear(res);
    *more = n == 10000;
    return 0;
}

/* The table's load: the labels in, then the cursor the rows come back through, declared
 * before the run logs its count (a failure there is one of loading, as on SQLite). */
static int pg_load(run_ctx *r, sqlpool_conn *conn) {
    PGconn *pg = sqlpool_conn_pg(conn);
    int status = load(r, pg);
    if (status != 0) return status;
    return expect(r, pg,
                  "DECLARE sqlpool_rows NO SCROLL CURSOR FOR SELECT id, label FROM events "
                  "ORDER BY id",
                  PGRES_COMMAND_OK, "reading events");
}

static int pg_dump_rows(run_ctx *r, sqlpool_conn *conn) {
    PGconn *pg = sqlpool_conn_pg(conn);
    int status = 0, more = 1;
    while (status == 0 && more)
        status = dump_batch(r, pg, &more);
    if (status == 0)
        status = expect(r, pg, "CLOSE sqlpool_rows", PGRES_COMMAND_OK, "reading events");
    return status;
}

static int pg_commit(run_ctx *r, sqlpool_conn *conn) {
    return expect(r, sqlpool_conn_pg(conn), "COMMIT", PGRES_COMMAND_OK, "committing");
}

static void pg_rollback(sqlpool_conn *conn) {
    PQclear(PQexec(sqlpool_conn_pg(conn), "ROLLBACK"));
}

static long long pg_exec(sqlpool_conn *conn, const char *sql, char *why, size_t whylen) {
    PGconn *pg = sqlpool_conn_pg(conn);
    PGresult *res = PQexec(pg, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    long long n = ok ? strtoll(PQcmdTuples(res), NULL, 10) : -1; /* "" (0) when it says none */
    if (!ok) one_line(PQerrorMessage(pg), why, whylen);
    PQclear(res);
    return n;
}

const run_backend run_pg_backend = {
    .load = pg_load,
    .dump_rows = pg_dump_rows,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
};
