/*
 * backend_pg.h: the PostgreSQL backend's own layout and helpers, shared by its files:
 *   backend_pg.c   the table, the pool's state, checks, reset, health, close
 *   pg_connect.c   connecting (the handshake under a deadline) and config.init_sql
 *   pg_hosts.c     the db string's hosts, tried in turn; pg_role.c: target_session_attrs
 *   pg_stmt.c      the per-connection statement cache, sqlpool_conn_pg_exec, and the
 *                  pool's own round trips (sqlpool__pg_run_ok)
 *   pg_conninfo.c  a db string checked before use (libpq's parse, masked errors)
 * each calling only those below it (backend_pg.c the rest), all above pg_wire.c (round trips
 * under a deadline, error messages).
 */
#ifndef SQLPOOL_BACKEND_PG_H
#define SQLPOOL_BACKEND_PG_H

#include "backend.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>

typedef struct pg_state {
    char *db; /* as given; under mu (sqlpool_set_db) */
    pthread_mutex_t mu;
    char *reset_query;          /* run on every release, or NULL */
    double timeout;             /* seconds, for connects and the pool's own round trips */
    int unnamed;                /* never prepare named statements (pgbouncer in transaction mode) */
    int reset_drops_statements; /* reset_query is DISCARD ALL or DEALLOCATE ALL */
    int cache_size;
    int target; /* db's target_session_attrs (pg_role.h: SQLPOOL__PG_TARGET_*); under mu */
    char last_primary[128];   /* host:port that served a read-write/primary connect last; mu */
    double statement_timeout; /* seconds, for sqlpool_conn_pg_exec; 0: none */
    /* Role drift (backend_pg.c): the last server a pool that writes found read-only
     * ("host:port"), under mu; demoted_gen counts such findings (atomic: read on every borrow
     * check). Connections to that server seen before then are closed at their next borrow. */
    char demoted[96];
    atomic_uint demoted_gen;
} pg_state;

/* One prepared statement, by SQL text. Its name is a hash of the text, the same on every
 * connection (pg_stmt.c). */
typedef struct pg_stmt {
    char *sql;
    char name[48];
    unsigned long long used; /* LRU stamp */
} pg_stmt;

typedef struct pg_conn_h {
    PGconn *pg;
    const pg_state *st;
    pg_stmt *stmts;
    int nstmts, cap;
    unsigned long long tick;
    int broken;     /* a fatal error was seen on it */
    int pooler;     /* behind a transaction pooler? 0 not known yet, 1 no, 2 yes (pg_stmt.c) */
    int wrong_role; /* its server's role no longer fits target_session_attrs */
    unsigned demoted_seen; /* the st->demoted_gen it was last compared with */
} pg_conn_h;

/* A round trip of the pool's own under the connection's deadline: 0 when it succeeded, -1
 * with err (and the connection marked broken when the error was fatal or no answer came). */
int sqlpool__pg_run_ok(pg_conn_h *c, const char *sql, char *err, size_t errlen); /* pg_stmt.c */
/* SQLPOOL_OK when db parses as a libpq connection string; else an error with libpq's reason,
 * masked. */
int sqlpool__pg_db_parses(const char *db, char *err, size_t errlen); /* pg_conninfo.c */

/* pg_connect.c */
int sqlpool__pg_connect(void *state, double budget, void **handle, int *retriable, char *err,
                        size_t errlen);
int sqlpool__pg_set_db(void *state, const char *db, char *err, size_t errlen);
int sqlpool__pg_setup(void *handle, const char *sql, int *retriable, char *err, size_t errlen);

/* pg_stmt.c */
int sqlpool__pg_exec(void *handle, const char *sql, int nparams, const char *const *values,
                     void **result, char *err, size_t errlen);
int sqlpool__pg_exec_until(void *handle, const char *sql, int nparams, const char *const *values,
                           double budget, void **result, char *err, size_t errlen);
int sqlpool__pg_check_result(void *handle, const void *result, char *err, size_t errlen);
/* The name of sql's prepared statement, deterministic for the text (pg_stmt.c). */
void sqlpool__pg_statement_name(const char *sql, char *name, size_t len);
/* The cache forgets every statement (the server dropped them: DISCARD ALL). */
void sqlpool__pg_forget_statements(pg_conn_h *c);
/* Deallocate least recently used statements beyond the cache size. */
void sqlpool__pg_trim_statements(pg_conn_h *c);

#endif
