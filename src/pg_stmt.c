/*
 * pg_stmt.c: a PostgreSQL connection's statement cache and sqlpool_conn_pg_exec (see
 * backend_pg.c).
 */
#include "backend_pg.h"
#include "alloc.h"
#include "dsn.h"
#include "internal.h"
#include "pg_wire.h"

#include <string.h>

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

/* Prepare sql under a new name and remember it: SQLPOOL_OK and *out, SQLPOOL_ENOMEM, or
 * SQLPOOL_EINVAL (the server refused the SQL) / SQLPOOL_EBROKEN (the connection failed). */
static int prepare_statement(pg_conn_h *c, const char *sql, int nparams, pg_stmt **out, char *err,
                             size_t errlen) {
    pg_stmt *s;
    PGresult *r;
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
    sqlpool__format(s->name, sizeof s->name, "sqlpool_%llu", ++c->serial);
    r = sqlpool__pg_prepare_deadline(c->pg, s->name, sql, nparams, c->st->timeout, err, errlen);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        if (r != NULL) sqlpool__pg_message(c->pg, "cannot prepare", err, errlen);
        if (r == NULL || sqlpool__pg_fatal_result(r)) c->broken = 1;
        PQclear(r);
        sqlpool__free(copy);
        return c->broken ? SQLPOOL_EBROKEN : SQLPOOL_EINVAL;
    }
    PQclear(r);
    s->sql = copy;
    c->nstmts++;
    *out = s;
    return SQLPOOL_OK;
}

int sqlpool__pg_exec(void *handle, const char *sql, int nparams, const char *const *values,
                     void **result, char *err, size_t errlen) {
    pg_conn_h *c = handle;
    PGresult *r;
    pg_stmt *s = NULL;

    if (!c->st->unnamed && c->st->cache_size > 0) {
        int rc;
        s = find_statement(c, sql);
        if (s == NULL && (rc = prepare_statement(c, sql, nparams, &s, err, errlen)) != SQLPOOL_OK)
            return rc;
        s->used = ++c->tick;
        r = PQexecPrepared(c->pg, s->name, nparams, values, NULL, NULL, 0);
    } else {
        r = PQexecParams(c->pg, sql, nparams, NULL, values, NULL, NULL, 0);
    }
    if (r == NULL || sqlpool__pg_fatal_result(r)) c->broken = 1;
    *result = r;
    if (r == NULL) {
        sqlpool__pg_message(c->pg, "out of memory", err, errlen);
        return SQLPOOL_EBROKEN;
    }
    return SQLPOOL_OK;
}
