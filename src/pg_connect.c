/*
 * pg_connect.c: connecting to PostgreSQL (see backend_pg.c): the db string's hosts tried in
 * turn under the acquire's deadline, each non-blocking (PQconnectStartParams + PQconnectPoll)
 * under its own connect timeout, then "SELECT 1" and target_session_attrs (pg_hosts.c); and
 * config.init_sql.
 */
#include "backend_pg.h"
#include "alloc.h"
#include "dsn.h"
#include "internal.h"
#include "pg_hosts.h"
#include "pg_role.h"
#include "pg_wire.h"

#include <ctype.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Errors the server sends while the connection is idle (a FATAL before it hangs up: admin
 * shutdown, pg_terminate_backend) reach libpq as notices: mark the connection broken, and keep
 * them off stderr. */
static void notice_receiver(void *arg, const PGresult *r) {
    pg_conn_h *c = arg;
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sqlpool__pg_fatal_result(r) ||
        (sev != NULL && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0)))
        c->broken = 1;
}

/* A copy of the db string taken under mu (sqlpool_set_db() frees the string it replaces); not
 * libpq's calls under it, which may resolve a host name. */
static char *db_copy(pg_state *st, char *primary, size_t len) {
    char *db;
    if (pthread_mutex_lock(&st->mu) != 0) abort();
    db = sqlpool__strdup(st->db);
    sqlpool__format(primary, len, "%s", st->last_primary);
    if (pthread_mutex_unlock(&st->mu) != 0) abort();
    return db;
}

/* A pool that writes stays with the host that served it as a primary last: after a failover
 * (the standby promoted), an old primary back as a primary earlier in the host list gets no
 * new connections while the new one answers (split brain). Other targets use the list's
 * order. */
static int sticks(int target) {
    return target == SQLPOOL__PG_TARGET_READ_WRITE || target == SQLPOOL__PG_TARGET_PRIMARY;
}

int sqlpool__pg_set_db(void *state, const char *db, char *err, size_t errlen) {
    pg_state *st = state;
    char *copy, *old;
    int rc = sqlpool__pg_db_parses(db, err, errlen);
    if (rc != SQLPOOL_OK) return rc;
    if ((copy = sqlpool__strdup(db)) == NULL) {
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    if (pthread_mutex_lock(&st->mu) != 0) abort();
    old = st->db;
    st->db = copy;
    st->target = sqlpool__pg_db_target(copy);
    if (pthread_mutex_unlock(&st->mu) != 0) abort();
    sqlpool__free(old);
    return SQLPOOL_OK;
}

int sqlpool__pg_connect(void *state, double budget, void **handle, int *retriable, char *err,
                        size_t errlen) {
    pg_state *st = state;
    pg_conn_h *c = sqlpool__calloc(1, sizeof *c);
    char primary[sizeof st->last_primary];
    char *db = c != NULL ? db_copy(st, primary, sizeof primary) : NULL;
    sqlpool__pg_hosts hosts;
    int rc, used = -1;

    *handle = NULL;
    *retriable = 0;
    if (db == NULL) {
        sqlpool__free(c);
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    rc = sqlpool__pg_hosts_parse(db, &hosts, err, errlen);
    sqlpool__free(db);
    if (rc == SQLPOOL_OK) {
        hosts.first = sticks(hosts.target) && primary[0] ? primary : NULL;
        rc = sqlpool__pg_hosts_connect(&hosts, st->timeout, sqlpool__pg_mono() + budget, &c->pg,
                                       &used, retriable, err, errlen);
    }
    if (rc == SQLPOOL_OK && sticks(hosts.target) && used >= 0 && hosts.n > 1) {
        if (pthread_mutex_lock(&st->mu) != 0) abort();
        sqlpool__format(st->last_primary, sizeof st->last_primary, "%s", hosts.hosts[used].name);
        if (pthread_mutex_unlock(&st->mu) != 0) abort();
    }
    sqlpool__pg_hosts_free(&hosts);
    if (rc != SQLPOOL_OK) {
        sqlpool__free(c);
        if (rc == SQLPOOL_EINVAL) rc = SQLPOOL_ECONNECT; /* checked when set: cannot happen */
        return rc;
    }
    c->st = st;
    /* Made after any finding of a demoted server (and checked for its role as it connects):
     * the borrow check is for connections older than the finding, not this one. */
    c->demoted_seen = atomic_load_explicit(&st->demoted_gen, memory_order_relaxed);
    PQsetNoticeReceiver(c->pg, notice_receiver, c);
    *handle = c;
    return SQLPOOL_OK;
}

/* config.init_sql in one simple-query round trip under the connect deadline: the server
 * runs the statements in order and stops at the first that fails, whose result is the last.
 * It parses the whole string first, so a syntax error fails before any runs: its position
 * names the statement then (the text between the ';' around it); else the results before
 * the failure count which one it was. */
/* The byte offset of character n of s: PostgreSQL counts an error's position in characters,
 * which in UTF-8 (the client encoding of nearly every connection) may be several bytes each;
 * in other encodings taken as bytes. strlen(s) past the end. */
static size_t char_offset(PGconn *pg, const char *s, size_t n) {
    size_t i = 0;
    if (strcmp(pg_encoding_to_char(PQclientEncoding(pg)), "UTF8") != 0) {
        size_t len = strlen(s);
        return n < len ? n : len;
    }
    for (; s[i] != '\0'; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80 && n-- == 0) return i;
    return i;
}

int sqlpool__pg_setup(void *handle, const char *sql, int *retriable, char *err, size_t errlen) {
    pg_conn_h *c = handle;
    char why[256] = "";
    int n = 0, ok;
    PGresult *r;
    ExecStatusType s;
    const char *pos;

    *retriable = 0;
    (void)PQsetnonblocking(c->pg, 1);
    r = sqlpool__pg_await_last(c->pg, PQsendQuery(c->pg, sql), c->st->timeout, &n, why, sizeof why);
    s = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
    if (ok) {
        PQclear(r);
        if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) return SQLPOOL_OK;
        sqlpool__format(err, errlen, "init_sql left a transaction open");
        return SQLPOOL_ECONNECT;
    }
    if (r == NULL) {
        c->broken = 1;
        sqlpool__format(err, errlen, "init_sql failed: %s", why);
        return SQLPOOL_ECONNECT;
    }
    pos = PQresultErrorMessage(r);
    sqlpool__pg_message(NULL, pos != NULL && pos[0] ? pos : PQresStatus(s), why, sizeof why);
    pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    if (pos != NULL && atoi(pos) >= 1 &&
        char_offset(c->pg, sql, (size_t)atoi(pos) - 1) < strlen(sql)) {
        size_t at = char_offset(c->pg, sql, (size_t)atoi(pos) - 1), from = at, to;
        while (from > 0 && sql[from - 1] != ';')
            from--;
        while (isspace((unsigned char)sql[from]))
            from++;
        to = from + strcspn(sql + from, ";");
        while (to > from && isspace((unsigned char)sql[to - 1]))
            to--;
        sqlpool__format(err, errlen, "init_sql statement (%.*s) failed: %s",
                        (int)(to - from > 120 ? 120 : to - from), sql + from, why);
    } else {
        sqlpool__format(err, errlen, "init_sql statement %d failed: %s", n, why);
    }
    PQclear(r);
    return SQLPOOL_ECONNECT;
}
