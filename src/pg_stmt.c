/*
 * pg_stmt.c: a PostgreSQL connection's statement cache and sqlpool_conn_pg_exec (see
 * backend_pg.c).
 */
#include "backend_pg.h"
#include "alloc.h"
#include "dsn.h"
#include "internal.h"
#include "pg_wire.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sqlpool__pg_run_ok(pg_conn_h *c, const char *sql, char *err, size_t errlen) {
    PGresult *r = sqlpool__pg_exec_deadline(c->pg, sql, c->st->timeout, err, errlen);
    ExecStatusType s = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (r != NULL && !ok) {
        sqlpool__pg_message(c->pg, PQresStatus(s), err, errlen);
        if (sqlpool__pg_fatal_result(r)) c->broken = 1;
    }
    if (r == NULL) c->broken = 1; /* no answer: the connection is in an unknown state */
    PQclear(r);
    return ok ? 0 : -1;
}

/* Seconds a cancelled statement's connection has to become idle again before it is given up
 * (closed on release): the cancel request's own connection, and the server ending the
 * query. */
#define SQLPOOL__PG_CANCEL_BOUND 1.0

void sqlpool__pg_forget_statements(pg_conn_h *c) {
    for (int i = 0; i < c->nstmts; i++)
        sqlpool__free(c->stmts[i].sql);
    c->nstmts = 0;
}

/* Deallocate least recently used statements beyond the cache size. */
void sqlpool__pg_trim_statements(pg_conn_h *c) {
    char sql[64], err[128];
    while (c->nstmts > c->st->cache_size && !c->broken) {
        int lru = 0;
        for (int i = 1; i < c->nstmts; i++)
            if (c->stmts[i].used < c->stmts[lru].used) lru = i;
        sqlpool__format(sql, sizeof sql, "DEALLOCATE %s", c->stmts[lru].name);
        (void)sqlpool__pg_run_ok(c, sql, err, sizeof err);
        sqlpool__free(c->stmts[lru].sql);
        c->stmts[lru] = c->stmts[--c->nstmts];
    }
}

static pg_stmt *find_statement(pg_conn_h *c, const char *sql) {
    for (int i = 0; i < c->nstmts; i++)
        if (strcmp(c->stmts[i].sql, sql) == 0) return &c->stmts[i];
    return NULL;
}

static void drop_statement(pg_conn_h *c, pg_stmt *s) {
    sqlpool__free(s->sql);
    *s = c->stmts[--c->nstmts];
}

/* SHA-256 (FIPS 180-4), for statement names: small and self-contained, no dependency. */
static const unsigned sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr32(uint32_t x, unsigned n) {
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const unsigned char *p) {
    uint32_t w[64], v[8];
    for (size_t i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr32(w[i - 15], 7) ^ rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr32(w[i - 2], 17) ^ rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(v, h, sizeof v);
    for (int i = 0; i < 64; i++) {
        uint32_t s1 = rotr32(v[4], 6) ^ rotr32(v[4], 11) ^ rotr32(v[4], 25);
        uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
        uint32_t t1 = v[7] + s1 + ch + sha256_k[i] + w[i];
        uint32_t s0 = rotr32(v[0], 2) ^ rotr32(v[0], 13) ^ rotr32(v[0], 22);
        uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
        memmove(v + 1, v, 7 * sizeof v[0]);
        v[4] += t1;
        v[0] = t1 + s0 + maj;
    }
    for (int i = 0; i < 8; i++)
        h[i] += v[i];
}

static void sha256(const unsigned char *data, size_t n, unsigned char out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    unsigned char tail[128];
    size_t full = n - n % 64, rest = n % 64, tlen = rest < 56 ? 64 : 128;
    unsigned long long bits = (unsigned long long)n * 8;
    for (size_t i = 0; i < full; i += 64)
        sha256_block(h, data + i);
    memset(tail, 0, sizeof tail);
    memcpy(tail, data + full, rest);
    tail[rest] = 0x80;
    for (int i = 0; i < 8; i++)
        tail[tlen - 1 - (size_t)i] = (unsigned char)(bits >> (8 * i));
    for (size_t i = 0; i < tlen; i += 64)
        sha256_block(h, tail + i);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

/* The name of sql's statement: the same on every connection of every pool, in every process,
 * for the same text (no key, no seed), and for different texts different names, so that
 * behind a transaction pooler, where one client's statement may be found by another on the
 * server they share, a name always means one text: a name meaning two texts would run the
 * other's statement and hand back its result. "sqlpool_" and the first 128 bits of the text's
 * SHA-256 in hex, 40 characters (PostgreSQL's identifiers end at 63): a collision takes about
 * 2^64 texts, where 64-bit FNV-1a (the name before) could be made to collide at will. */
void sqlpool__pg_statement_name(const char *sql, char *name, size_t len) {
    unsigned char d[32];
    char hex[33];
    sha256((const unsigned char *)sql, strlen(sql), d);
    for (size_t i = 0; i < 16; i++) {
        hex[2 * i] = "0123456789abcdef"[d[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    hex[32] = '\0';
    sqlpool__format(name, len, "sqlpool_%s", hex);
}

/* Prepare sql under its name and remember it: SQLPOOL_OK and *out, SQLPOOL_ENOMEM,
 * SQLPOOL_EINVAL (the server refused the SQL: its message in err, no cache entry) or
 * SQLPOOL_EBROKEN (the connection failed), SQLPOOL_ETIMEDOUT (deadline passed: cancelled).
 * "Already exists" (42P05) is a success: the name holds this text, wherever it came from. */
static int prepare_statement(pg_conn_h *c, const char *sql, int nparams, double deadline,
                             pg_stmt **out, char *err, size_t errlen) {
    pg_stmt *s;
    PGresult *r, *partial;
    int timed_out, rc = SQLPOOL_OK;
    char *copy = sqlpool__strdup(sql);
    if (copy != NULL && c->nstmts == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        pg_stmt *grown = sqlpool__realloc(c->stmts, (size_t)cap * sizeof *grown);
        if (grown != NULL) {
            c->stmts = grown;
            c->cap = cap;
        }
    }
    if (copy == NULL || c->nstmts == c->cap) {
        sqlpool__free(copy);
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    s = &c->stmts[c->nstmts];
    sqlpool__pg_statement_name(sql, s->name, sizeof s->name);
    /* Under the statement's deadline, as the statement itself: the parser may wait for a
     * table's lock behind a migration as long as the statement could (a dead peer is ended by
     * TCP keepalives when there is no deadline). */
    (void)PQsetnonblocking(c->pg, 1);
    r = sqlpool__pg_await_until(c->pg, PQsendPrepare(c->pg, s->name, sql, nparams, NULL), deadline,
                                NULL, &timed_out, &partial, err, errlen);
    if (r == NULL && timed_out) {
        r = partial;
        /* A prepare that finished as the deadline passed is a prepared statement. */
        if (!sqlpool__pg_cancel_drain(c->pg, SQLPOOL__PG_CANCEL_BOUND, &r)) c->broken = 1;
        if (r == NULL) {
            sqlpool__format(err, errlen, "statement deadline passed while preparing");
            rc = SQLPOOL_ETIMEDOUT;
        } else if (errlen > 0) {
            err[0] = '\0';
        }
    }
    if (rc == SQLPOOL_ETIMEDOUT) {
        /* err says so */
    } else if (r == NULL || sqlpool__pg_lost_result(c->pg, r)) {
        if (r != NULL) sqlpool__pg_result_message(r, "cannot prepare", err, errlen);
        c->broken = 1;
        rc = SQLPOOL_EBROKEN;
    } else if (PQresultStatus(r) != PGRES_COMMAND_OK && !sqlpool__pg_sqlstate_is(r, "42P05")) {
        sqlpool__pg_result_message(r, "cannot prepare", err, errlen);
        rc = SQLPOOL_EINVAL;
    }
    PQclear(r);
    if (rc != SQLPOOL_OK) {
        sqlpool__free(copy);
        return rc;
    }
    s->sql = copy;
    c->nstmts++;
    *out = s;
    return SQLPOOL_OK;
}

/* Send sql (as statement name, or unnamed when name is NULL) and wait for its last result
 * until deadline; on expiry cancel it: NULL and *timed_out. */
static PGresult *send_wait(pg_conn_h *c, const char *name, const char *sql, int nparams,
                           const char *const *values, double deadline, int *timed_out, char *err,
                           size_t errlen) {
    int sent;
    PGresult *r, *partial;
    (void)PQsetnonblocking(c->pg, 1);
    sent = name != NULL ? PQsendQueryPrepared(c->pg, name, nparams, values, NULL, NULL, 0)
                        : PQsendQueryParams(c->pg, sql, nparams, NULL, values, NULL, NULL, 0);
    r = sqlpool__pg_await_until(c->pg, sent, deadline, NULL, timed_out, &partial, err, errlen);
    if (r == NULL && *timed_out) {
        r = partial; /* a success read before the deadline, if any: the drain decides */
        if (!sqlpool__pg_cancel_drain(c->pg, SQLPOOL__PG_CANCEL_BOUND, &r))
            c->broken = 1; /* the cancel did not take: closed on release */
        if (r != NULL) { /* it finished (a COMMIT committed) as the deadline passed: its success */
            *timed_out = 0;
            if (errlen > 0) err[0] = '\0';
        }
    }
    return r;
}

/* Is the connection behind a transaction pooler (pgbouncer)? Then the server a transaction
 * runs on may lack a statement this connection prepared, or have it already: either fails
 * the transaction, so statements inside one go unnamed. A pooler answers the startup with
 * a backend key of its own, so PQbackendPID() is not the server's pg_backend_pid(). Asked
 * once per connection, at its first named statement. */
static int behind_pooler(pg_conn_h *c) {
    char err[128];
    PGresult *r;
    if (c->pooler != 0) return c->pooler == 2;
    r = sqlpool__pg_exec_deadline(c->pg, "SELECT pg_backend_pid()", c->st->timeout, err,
                                  sizeof err);
    if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        c->pooler = atoi(PQgetvalue(r, 0, 0)) == PQbackendPID(c->pg) ? 1 : 2;
    else if (sqlpool__pg_lost_result(c->pg, r))
        c->broken = 1;
    PQclear(r);
    return c->pooler != 1; /* not known (a failed transaction): unnamed this time */
}

/* Run sql as its named statement, preparing it first when this connection has not. A
 * statement the server lost (26000: a DEALLOCATE or DISCARD of the borrower's, or a
 * transaction pooler's other server) is prepared again and retried once, when no transaction
 * is open (the failure aborted nothing); if that lands on a server without it again, it is
 * sent unnamed. NULL with *rc set when it cannot run. */
static PGresult *run_named(pg_conn_h *c, const char *sql, int nparams, const char *const *values,
                           double deadline, int *timed_out, int *rc, char *err, size_t errlen) {
    PGresult *r = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        pg_stmt *s = find_statement(c, sql);
        if (s == NULL &&
            (*rc = prepare_statement(c, sql, nparams, deadline, &s, err, errlen)) != SQLPOOL_OK)
            return NULL;
        s->used = ++c->tick;
        r = send_wait(c, s->name, sql, nparams, values, deadline, timed_out, err, errlen);
        if (r == NULL || !sqlpool__pg_sqlstate_is(r, "26000") ||
            PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            return r;
        drop_statement(c, s); /* the server does not have it: the cache must not either */
        if (c->pooler == 1) c->pooler = 0; /* ask again: statements get lost here */
        PQclear(r);
    }
    return send_wait(c, NULL, sql, nparams, values, deadline, timed_out, err, errlen);
}

int sqlpool__pg_exec_until(void *handle, const char *sql, int nparams, const char *const *values,
                           double budget, void **result, char *err, size_t errlen) {
    pg_conn_h *c = handle;
    PGresult *r;
    int timed_out = 0, rc = SQLPOOL_OK;
    double deadline = isinf(budget) && budget > 0 ? INFINITY : sqlpool__pg_mono() + budget;

    *result = NULL;
    if (budget <= 0) {
        sqlpool__format(err, errlen, "statement deadline already passed");
        return SQLPOOL_ETIMEDOUT;
    }
    if (!c->st->unnamed && c->st->cache_size > 0 &&
        (PQtransactionStatus(c->pg) == PQTRANS_IDLE || !behind_pooler(c)))
        r = run_named(c, sql, nparams, values, deadline, &timed_out, &rc, err, errlen);
    else
        r = send_wait(c, NULL, sql, nparams, values, deadline, &timed_out, err, errlen);
    if (r == NULL && rc != SQLPOOL_OK) return rc;
    if (r == NULL && timed_out) {
        sqlpool__format(err, errlen, "statement deadline passed: cancelled%s",
                        c->broken ? " (the cancel did not take: the connection will be closed)"
                                  : "");
        return SQLPOOL_ETIMEDOUT;
    }
    if (sqlpool__pg_lost_result(c->pg, r)) {
        c->broken = 1;
        if (r != NULL)
            sqlpool__pg_result_message(r, "connection lost", err, errlen);
        else if (!err[0])
            sqlpool__pg_message(c->pg, "connection lost", err, errlen);
        *result = r; /* the caller's, to read and clear */
        return SQLPOOL_EBROKEN;
    }
    *result = r;
    return SQLPOOL_OK;
}

int sqlpool__pg_exec(void *handle, const char *sql, int nparams, const char *const *values,
                     void **result, char *err, size_t errlen) {
    pg_conn_h *c = handle;
    double budget = c->st->statement_timeout > 0 ? c->st->statement_timeout : INFINITY;
    return sqlpool__pg_exec_until(handle, sql, nparams, values, budget, result, err, errlen);
}

int sqlpool__pg_check_result(void *handle, const void *result, char *err, size_t errlen) {
    pg_conn_h *c = handle;
    if (!sqlpool__pg_lost_result(c->pg, result)) return SQLPOOL_OK;
    c->broken = 1;
    if (result != NULL)
        sqlpool__pg_result_message(result, "connection lost", err, errlen);
    else
        sqlpool__pg_message(c->pg, "no result", err, errlen);
    return SQLPOOL_EBROKEN;
}
