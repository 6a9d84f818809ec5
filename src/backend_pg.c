/*
 * backend_pg.c: the PostgreSQL backend, through libpq.
 *
 * Connecting is non-blocking (PQconnectStartParams + PQconnectPoll) under our own deadline,
 * with TCP keepalives on unless the db string says otherwise. Errors that can pass (refused
 * while the server starts, too many connections, shutting down, a timeout) are retried by the
 * core; the others (bad password, unknown database) fail at once. Every round trip the pool
 * makes itself (the first SELECT 1, pings, rollbacks, the reset query) runs under the same
 * deadline, so a dead peer cannot hang a thread. A connection's own statements are the
 * borrower's business; the pool looks at what they left behind on release.
 */
#include "backend_pg.h"
#include "alloc.h"
#include "dsn.h"
#include "internal.h"
#include "pg_hosts.h"
#include "pg_role.h"
#include "pg_wire.h"

#include <libpq-fe.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the pool ---- */

/* Does a reset query drop the connection's prepared statements (DISCARD ALL, DEALLOCATE
 * [PREPARE] ALL)? Then the cache forgets them too. */
static int drops_statements(const char *sql) {
    static const char *const dropping[] = {"discard all", "deallocate all",
                                           "deallocate prepare all"};
    char norm[64];
    size_t n = 0;
    for (const char *p = sql; *p && n + 1 < sizeof norm; p++) {
        char ch = (char)tolower((unsigned char)*p);
        if (isspace((unsigned char)ch) || ch == ';') {
            if (n > 0 && norm[n - 1] != ' ') norm[n++] = ' ';
        } else {
            norm[n++] = ch;
        }
    }
    while (n > 0 && norm[n - 1] == ' ')
        n--;
    norm[n] = '\0';
    for (size_t i = 0; i < sizeof dropping / sizeof dropping[0]; i++)
        if (strcmp(norm, dropping[i]) == 0) return 1;
    return 0;
}

static void state_free(pg_state *st) {
    if (st == NULL) return;
    (void)pthread_mutex_destroy(&st->mu);
    sqlpool__free(st->db);
    sqlpool__free(st->reset_query);
    sqlpool__free(st);
}

static int pg_pool_init(const sqlpool_config *cfg, void **state, char *err, size_t errlen) {
    pg_state *st = sqlpool__calloc(1, sizeof *st);
    int rc;

    *state = NULL;
    if (st == NULL) return SQLPOOL_ENOMEM;
    if (pthread_mutex_init(&st->mu, NULL) != 0) abort();
    if ((rc = sqlpool__pg_db_parses(cfg->db, err, errlen)) != SQLPOOL_OK) {
        state_free(st);
        return rc;
    }
    st->db = sqlpool__strdup(cfg->db);
    st->reset_query = cfg->pg_reset_query ? sqlpool__strdup(cfg->pg_reset_query) : NULL;
    st->timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout : 5.0;
    st->unnamed = cfg->pg_unnamed_statements != 0;
    st->reset_drops_statements = st->reset_query != NULL && drops_statements(st->reset_query);
    st->cache_size = cfg->stmt_cache_size;
    st->statement_timeout = cfg->statement_timeout;
    st->target = sqlpool__pg_db_target(cfg->db);
    if (st->db == NULL || (cfg->pg_reset_query && st->reset_query == NULL)) {
        state_free(st);
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    *state = st;
    return SQLPOOL_OK;
}

static void pg_pool_fini(void *state) {
    state_free(state);
}

static void conn_free(pg_conn_h *c) {
    if (c == NULL) return;
    for (int i = 0; i < c->nstmts; i++)
        sqlpool__free(c->stmts[i].sql);
    sqlpool__free(c->stmts);
    if (c->pg != NULL) PQfinish(c->pg);
    sqlpool__free(c);
}

/* ---- checks ---- */

/* On borrow, without a round trip: has the server closed or written to the socket? */
static int socket_alive(pg_conn_h *c);

/* ---- role drift ----
 * A connection's server can change role under it (a failover): a standby promoted, a primary
 * demoted or, split brain, an old primary back as a primary. Three places look: validation
 * (pg_ping: the role asked again, so no connection in the wrong role outlives
 * validation_bypass), a release of a connection that broke on a server now read-only (the
 * 25006 of a write after a failover), and, after such a finding, every borrow check, which
 * closes the pool's other connections to that server (by host:port; one made to it after the
 * finding is closed once too, should the server be a primary again: the price of not keeping
 * a time per connection). Such closes count as closed_role (role_lost). */

static int target_of(pg_conn_h *c) {
    pg_state *st = (pg_state *)c->st; /* mu and target are the state's mutable part */
    int target;
    if (pthread_mutex_lock(&st->mu) != 0) abort();
    target = st->target;
    if (pthread_mutex_unlock(&st->mu) != 0) abort();
    return target;
}

static int wants_writes(int target) {
    return target == SQLPOOL__PG_TARGET_READ_WRITE || target == SQLPOOL__PG_TARGET_PRIMARY;
}

/* c's server, found read-only by a pool that writes: its other connections go too. */
static void note_demoted(pg_conn_h *c) {
    pg_state *st = (pg_state *)c->st;
    if (pthread_mutex_lock(&st->mu) != 0) abort();
    sqlpool__pg_server_name(c->pg, st->demoted, sizeof st->demoted);
    c->demoted_seen = atomic_fetch_add(&st->demoted_gen, 1) + 1;
    if (pthread_mutex_unlock(&st->mu) != 0) abort();
}

/* On borrow, after a finding: is c on the server found read-only? */
static int on_demoted(pg_conn_h *c) {
    pg_state *st = (pg_state *)c->st;
    unsigned gen = atomic_load_explicit(&st->demoted_gen, memory_order_relaxed);
    char mine[96];
    int same;
    if (gen == c->demoted_seen) return 0;
    sqlpool__pg_server_name(c->pg, mine, sizeof mine);
    if (pthread_mutex_lock(&st->mu) != 0) abort();
    same = strcmp(mine, st->demoted) == 0 && wants_writes(st->target);
    c->demoted_seen = atomic_load_explicit(&st->demoted_gen, memory_order_relaxed);
    if (pthread_mutex_unlock(&st->mu) != 0) abort();
    return same;
}

/* A broken connection's server reports itself read-only (PostgreSQL 14+ sends in_hot_standby
 * and default_transaction_read_only on every change, so no round trip) to a pool that
 * writes: it broke on a failover. */
static void broken_on_read_only(pg_conn_h *c) {
    const char *hot = PQparameterStatus(c->pg, "in_hot_standby");
    const char *ro = PQparameterStatus(c->pg, "default_transaction_read_only");
    int read_only =
        (hot != NULL && strcmp(hot, "on") == 0) || (ro != NULL && strcmp(ro, "on") == 0);
    if (c->wrong_role || !read_only || !wants_writes(target_of(c))) return;
    c->wrong_role = 1;
    note_demoted(c);
}

/* Validation's half: SQLPOOL_OK when the server still serves the pool's target; else
 * SQLPOOL_EBROKEN with err naming the server and its role. prefer-standby counts as standby
 * here, so a read pool leaves a promoted standby (when no standby is left, it connects to the
 * primary again, and does so again after each validation_bypass: reads stay served). */
static int role_still_fits(pg_conn_h *c, char *err, size_t errlen) {
    int target = target_of(c), r;
    if (target == SQLPOOL__PG_TARGET_PREFER_STANDBY) target = SQLPOOL__PG_TARGET_STANDBY;
    if (target == SQLPOOL__PG_TARGET_ANY) return SQLPOOL_OK;
    r = sqlpool__pg_role_matches(c->pg, target, sqlpool__pg_mono() + c->st->timeout, err, errlen);
    if (r > 0) return SQLPOOL_OK;
    if (r == 0) {
        c->wrong_role = 1;
        if (wants_writes(target)) note_demoted(c);
    } else {
        c->broken = 1; /* no answer */
    }
    return SQLPOOL_EBROKEN;
}

/* Asked of every connection closed as broken, a discarded one too (no reset runs then): the
 * 25006 of a write after a failover marks its server here as on release. */
static int pg_role_lost(void *handle) {
    pg_conn_h *c = handle;
    if (!c->wrong_role && c->broken && c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK)
        broken_on_read_only(c);
    return c->wrong_role;
}

/* On borrow, without a round trip: PostgreSQL 14+ reports in_hot_standby and
 * default_transaction_read_only with its answers (a change before its next ReadyForQuery), so
 * a connection in steady use, never idle long enough to be validated, still sees a promotion
 * or a demotion by its last round trip. any and prefer-standby never leave this way (a
 * prefer-standby pool on the primary because no standby answered must not churn). */
static int role_reported_wrong(pg_conn_h *c) {
    sqlpool__pg_role role;
    char err[64];
    int target;
    if (PQparameterStatus(c->pg, "in_hot_standby") == NULL) return 0; /* before 14: validation */
    target = target_of(c);
    if (target == SQLPOOL__PG_TARGET_ANY || target == SQLPOOL__PG_TARGET_PREFER_STANDBY) return 0;
    if (sqlpool__pg_role_get(c->pg, 0, &role, err, sizeof err) != 0 ||
        sqlpool__pg_role_fits(&role, target))
        return 0;
    if (wants_writes(target)) note_demoted(c);
    return 1;
}

/* On borrow: alive, idle (not inside a transaction), not on a server found demoted, and (14+)
 * not on a server that reports another role than the pool's. */
static int pg_check(void *handle) {
    pg_conn_h *c = handle;
    if (socket_alive(c) != SQLPOOL_OK) return SQLPOOL_EBROKEN;
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) return SQLPOOL_EBROKEN;
    if (on_demoted(c) || role_reported_wrong(c)) {
        c->wrong_role = 1;
        return SQLPOOL_EBROKEN;
    }
    return SQLPOOL_OK;
}

/* Has the server closed or written to the socket? No round trip. */
static int socket_alive(pg_conn_h *c) {
    struct pollfd p;
    PGnotify *n;
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK) return SQLPOOL_EBROKEN;
    p.fd = PQsocket(c->pg);
    p.events = POLLIN;
    p.revents = 0;
    if (p.fd < 0) return SQLPOOL_EBROKEN;
    if (poll(&p, 1, 0) > 0) {
        /* Idle connections get no data but notices, notifications and goodbyes. */
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) return SQLPOOL_EBROKEN;
        while ((n = PQnotifies(c->pg)) != NULL) /* parses input: notices reach the receiver */
            PQfreemem(n);
        if (c->broken) return SQLPOOL_EBROKEN;
    }
    return SQLPOOL_OK;
}

/* Also on a borrowed connection inside a transaction (a health check mid-transaction). */
static int pg_ping(void *handle, char *err, size_t errlen) {
    pg_conn_h *c = handle;
    if (socket_alive(c) != SQLPOOL_OK) {
        sqlpool__pg_message(c->pg, "connection lost", err, errlen);
        return SQLPOOL_EBROKEN;
    }
    if (sqlpool__pg_run_ok(c, "SELECT 1", err, errlen) != 0) {
        if (c->broken) broken_on_read_only(c);
        return SQLPOOL_EBROKEN;
    }
    /* Inside a transaction the role cannot change under it (a promotion ends it). */
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) return SQLPOOL_OK;
    return role_still_fits(c, err, errlen);
}

/* Idle is reused; inside a (failed) transaction is rolled back; anything else is closed. */
static int pg_reset(void *handle, int native_used) {
    pg_conn_h *c = handle;
    char err[256];
    (void)native_used;
    if (c->broken && PQstatus(c->pg) == CONNECTION_OK) broken_on_read_only(c); /* 25006? */
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK) return SQLPOOL_EBROKEN;
    switch (PQtransactionStatus(c->pg)) {
    case PQTRANS_IDLE: break;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
        if (sqlpool__pg_run_ok(c, "ROLLBACK", err, sizeof err) != 0 ||
            PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            return SQLPOOL_EBROKEN;
        break;
    default: return SQLPOOL_EBROKEN; /* a query still running, or unknown */
    }
    if (c->st->reset_query != NULL) {
        if (sqlpool__pg_run_ok(c, c->st->reset_query, err, sizeof err) != 0) return SQLPOOL_EBROKEN;
        if (c->st->reset_drops_statements) sqlpool__pg_forget_statements(c);
    }
    sqlpool__pg_trim_statements(c);
    return c->broken ? SQLPOOL_EBROKEN : SQLPOOL_OK;
}

/* pg_reset() with nothing to send: no transaction, no reset query, no statement over the
 * cache's size, nothing found wrong. */
static int pg_reset_is_local(void *handle, int native_used) {
    const pg_conn_h *c = handle;
    (void)native_used;
    return !c->broken && PQstatus(c->pg) == CONNECTION_OK &&
           PQtransactionStatus(c->pg) == PQTRANS_IDLE && c->st->reset_query == NULL &&
           c->nstmts <= c->st->cache_size;
}

static int pg_health(void *handle, sqlpool_health *out) {
    pg_conn_h *c = handle;
    const char *v;
    sqlpool__format(out->backend, sizeof out->backend, "postgresql");
    if (pg_ping(handle, out->error, sizeof out->error) != SQLPOOL_OK) return SQLPOOL_EBROKEN;
    v = PQparameterStatus(c->pg, "server_version");
    sqlpool__format(out->version, sizeof out->version, "%s", v ? v : "unknown");
    out->healthy = 1;
    return SQLPOOL_OK;
}

static void *pg_native(void *handle) {
    return ((pg_conn_h *)handle)->pg;
}

static void pg_close(void *handle) {
    conn_free(handle);
}

/* The child of a fork(): /dev/null over the socket first, so that PQfinish's Terminate (and
 * a TLS close) go nowhere, and closing frees a descriptor of the child's own, never the
 * socket's number under a libpq that still uses it. */
static void pg_abandon(void *handle) {
    pg_conn_h *c = handle;
    int fd = c->pg != NULL ? PQsocket(c->pg) : -1;
    if (fd >= 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, fd) < 0) {
            /* Cannot silence it: leak the connection rather than speak on the parent's
             * socket. */
            if (null >= 0) (void)close(null);
            return;
        }
        (void)close(null);
    }
    conn_free(c);
}

/* Under the pool's own statement deadline, as reset's round trips. A COMMIT of a transaction
 * that had failed answers "ROLLBACK": a failure here. */
static int pg_txn(void *handle, int what, char *err, size_t errlen) {
    static const char *const sql[] = {"BEGIN",
                                      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                      "COMMIT",
                                      "ROLLBACK",
                                      NULL,
                                      "SAVEPOINT sqlpool__group",
                                      "RELEASE sqlpool__group",
                                      "ROLLBACK TO sqlpool__group; RELEASE sqlpool__group"};
    pg_conn_h *c = handle;
    PGresult *r;
    int ok;
    if (what == SQLPOOL__TXN_OPEN)
        return PQtransactionStatus(c->pg) == PQTRANS_IDLE ? SQLPOOL_EMISUSE : SQLPOOL_OK;
    if (what == SQLPOOL__TXN_ROLLBACK && PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return SQLPOOL_OK;
    /* A COMMIT may run deferred triggers and wait for a synchronous standby: not cut off by
     * the pool's connect_timeout (TCP keepalives still end one to a dead server), and if no
     * answer comes its outcome is unknown, never "rolled back". */
    r = sqlpool__pg_exec_deadline(
        c->pg, sql[what], what == SQLPOOL__TXN_COMMIT ? INFINITY : c->st->timeout, err, errlen);
    ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK &&
         (what != SQLPOOL__TXN_COMMIT || strcmp(PQcmdStatus(r), "COMMIT") == 0);
    if (r != NULL && !ok) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            sqlpool__format(err, errlen, "COMMIT rolled back: the transaction had failed");
        else
            sqlpool__pg_message(c->pg, sql[what], err, errlen);
        if (sqlpool__pg_fatal_result(r)) c->broken = 1;
    }
    if (r == NULL) c->broken = 1; /* no answer: the connection is in an unknown state */
    PQclear(r);
    if (r == NULL && what == SQLPOOL__TXN_COMMIT) return SQLPOOL_ETIMEDOUT;
    return ok ? SQLPOOL_OK : SQLPOOL_EBROKEN;
}

const sqlpool__backend sqlpool__pg_backend = {
    .name = "postgresql",
    .pool_init = pg_pool_init,
    .pool_fini = pg_pool_fini,
    .connect = sqlpool__pg_connect,
    .set_db = sqlpool__pg_set_db,
    .reset = pg_reset,
    .reset_is_local = pg_reset_is_local,
    .ping = pg_ping,
    .prepare = NULL, /* sqlpool_conn_pg_exec prepares */
    .health = pg_health,
    .sqlite_db = NULL,
    .pg_conn = pg_native,
    .close = pg_close,
    .abandon = pg_abandon,
    .setup = sqlpool__pg_setup,
    .check = pg_check,
    .exec = sqlpool__pg_exec,
    .exec_until = sqlpool__pg_exec_until,
    .check_result = sqlpool__pg_check_result,
    .txn = pg_txn,
    .role_lost = pg_role_lost,
};
