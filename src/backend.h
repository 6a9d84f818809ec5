/*
 * backend.h: the table of operations a database backend provides to the pool core.
 *
 * The core never talks to a database directly; it calls through one of these tables, as
 * SQLite calls through its mutex and VFS tables. Every operation except pool_init/pool_fini
 * runs outside the pool lock and may block on I/O.
 */
#ifndef SQLPOOL_BACKEND_H
#define SQLPOOL_BACKEND_H

#include "sqlpool.h"

typedef struct sqlpool__backend {
    const char *name; /* "sqlite", "postgresql": sqlpool_backend() */

    /* Per-pool set-up from the caller's config, during sqlpool_open(): the backend copies
     * what it keeps (cfg and its strings belong to the caller). *state is the backend's own.
     * Returns SQLPOOL_OK, or an error with a message in err. */
    int (*pool_init)(const sqlpool_config *cfg, void **state, char *err, size_t errlen);
    void (*pool_fini)(void *state);

    /* One connect attempt, proven usable, ending within budget seconds (what is left of the
     * acquire's deadline; INFINITY for none). Returns SQLPOOL_OK and sets *handle, or an error
     * with a message in err; *retriable is set to 1 when another attempt may succeed;
     * SQLPOOL_ETIMEDOUT when the budget ran out. */
    int (*connect)(void *state, double budget, void **handle, int *retriable, char *err,
                   size_t errlen);

    /* Make a returned connection clean for its next borrower (roll back, reset statements,
     * clear cached statements' bindings, trim the statement cache to its size). Must be
     * cheap when there is nothing to do. native_used: the borrower asked for the native
     * handle, so may have left statements or a transaction of its own. SQLPOOL_OK, or
     * SQLPOOL_EBROKEN. */
    int (*reset)(void *handle, int native_used);
    /* Would reset() do its work without a round trip or disk I/O (nothing to roll back, no
     * reset query, no statement to deallocate)? 1 yes; 0 no, or cannot tell. Asked by a
     * release from an event loop (sqlpool_release_async()), which otherwise leaves reset to
     * the pool's job threads. May be NULL: never. */
    int (*reset_is_local)(void *handle, int native_used);

    /* A round trip that touches the database; SQLite also reports a database file that was
     * deleted, moved or replaced since the connection opened it. SQLPOOL_OK, or
     * SQLPOOL_EBROKEN and err. */
    int (*ping)(void *handle, char *err, size_t errlen);

    /* Fill *out; SQLPOOL_OK when healthy, SQLPOOL_EBROKEN when not. */
    int (*health)(void *handle, sqlpool_health *out);

    void (*close)(void *handle);

    /* In the child of a fork(): let go of a connection the parent still uses, without a
     * message to the server or a library call that could touch the parent's state (fork.c).
     * PostgreSQL closes its socket quietly; SQLite leaks the sqlite3 * and its descriptors. */
    void (*abandon)(void *handle);
    /* Around every fork() (fork.c), once per backend, not per pool: SQLPOOL__FORK_PREPARE
     * takes the library's own process-wide locks, so no other thread holds one frozen in the
     * child; SQLPOOL__FORK_PARENT and SQLPOOL__FORK_CHILD release them. NULL: none. */
    void (*atfork)(int phase);

    /* Run the caller's set-up statements (config.init_sql: one or more, separated by ';') on
     * a connection just opened, before the pool caches any statement of the caller's, under
     * the backend's connect deadline. SQLPOOL_OK, or an error with err naming the statement
     * that failed; *retriable is set to 1 when it failed as busy (another attempt may
     * succeed). */
    int (*setup)(void *handle, const char *sql, int *retriable, char *err, size_t errlen);

    /* sqlpool_set_db(): the db string connects use from now on, one this backend serves
     * (checked by the caller). Copied; a connect running meanwhile on another thread keeps
     * the one it started with (each connect copies it under the backend's own lock). Not
     * under the pool lock. SQLPOOL_OK, or SQLPOOL_EINVAL / SQLPOOL_ENOMEM with err (never
     * showing a password), nothing changed. */
    int (*set_db)(void *state, const char *db, char *err, size_t errlen);

    /* On every borrow, without a round trip: SQLPOOL_OK, or SQLPOOL_EBROKEN when the
     * connection is already known dead (PostgreSQL: the server closed the socket). NULL when
     * there is nothing to look at. */
    int (*check)(void *handle);

    /* Capabilities: each of the six below is NULL when the backend has no such thing; the
     * sqlpool_conn_* calls (conn_api.c) ask them, never which backend it is. */

    /* A cached prepared statement for sql (see sqlpool_conn_prepare). SQLPOOL_OK, or
     * SQLPOOL_EBROKEN (or SQLPOOL_ENOMEM) with err. SQLite only. */
    int (*prepare)(void *handle, const char *sql, void **stmt, char *err, size_t errlen);

    /* Run sql with text parameters through the statement cache (or unnamed); *result is a
     * PGresult the caller clears. PostgreSQL only. */
    int (*exec)(void *handle, const char *sql, int nparams, const char *const *values,
                void **result, char *err, size_t errlen);

    /* As exec, but the statement must end within budget seconds (INFINITY: no limit, whatever
     * config.statement_timeout says): past it the query is cancelled and SQLPOOL_ETIMEDOUT
     * returned (the connection marked broken when the cancel did not take). SQLPOOL_EBROKEN
     * with *result set (when one came) for a result that means the connection is gone.
     * PostgreSQL only. */
    int (*exec_until)(void *handle, const char *sql, int nparams, const char *const *values,
                      double budget, void **result, char *err, size_t errlen);
    /* sqlpool_conn_pg_check(): SQLPOOL_EBROKEN, the connection marked broken and err set,
     * when a result the borrower got from the native handle (NULL: none came) means the
     * connection or the server's role is gone; else SQLPOOL_OK. PostgreSQL only. */
    int (*check_result)(void *handle, const void *result, char *err, size_t errlen);

    /* The native handle exposed to callers: a sqlite3 * (sqlpool_conn_sqlite), or a PGconn *
     * (sqlpool_conn_pg). Each backend has one of the two. */
    void *(*sqlite_db)(void *handle);
    void *(*pg_conn)(void *handle);

    /* config.single_writer: make the pool's connections, from the first connect on, those of
     * a lane (SQLPOOL__LANE_WRITE or _READ). SQLPOOL_OK, or SQLPOOL_EINVAL with err when the
     * pool's database cannot have lanes (in memory, read-only). NULL: the backend has none
     * (PostgreSQL). */
    int (*set_lane)(void *state, int lane, char *err, size_t errlen);
    /* sqlpool_write(), sqlpool_read() (txn.c): begin (SQLPOOL__TXN_BEGIN_WRITE, _READ), end
     * (SQLPOOL__TXN_COMMIT) or undo (SQLPOOL__TXN_ROLLBACK: nothing to do when no
     * transaction is open) a transaction, or ask whether one is open (SQLPOOL__TXN_OPEN:
     * SQLPOOL_OK, or SQLPOOL_EMISUSE when none is); inside one, begin, keep or undo a
     * savepoint (SQLPOOL__TXN_SAVEPOINT, _RELEASE, _UNDO). SQLPOOL_OK; SQLPOOL_EBUSY when the
     * database stayed busy through the busy timeout; SQLPOOL_EBROKEN (or SQLPOOL_ENOMEM) otherwise,
     * a COMMIT that rolled back included; SQLPOOL_ETIMEDOUT when a COMMIT got no answer (its
     * outcome unknown); err says which statement and why. */
    int (*txn)(void *handle, int what, char *err, size_t errlen);
    /* As a connection closed as broken leaves the books (books.h: sqlpool__close_reason, maybe
     * under the pool lock, always before its close): 1 when it broke because its server's role
     * no longer fits the pool's (PostgreSQL: a promoted standby, a demoted primary), counted
     * as closed_role instead. Memory only. NULL: never. */
    int (*role_lost)(void *handle);
    /* Add the backend's own counters to *out (SQLite: the WAL's). NULL: none. */
    void (*stats)(void *state, sqlpool_stats *out);
} sqlpool__backend;

extern const sqlpool__backend sqlpool__sqlite_backend;
#ifdef SQLPOOL_HAVE_PG
extern const sqlpool__backend sqlpool__pg_backend;
#endif

enum { SQLPOOL__FORK_PREPARE, SQLPOOL__FORK_PARENT, SQLPOOL__FORK_CHILD };
enum {
    SQLPOOL__TXN_BEGIN_WRITE,
    SQLPOOL__TXN_BEGIN_READ,
    SQLPOOL__TXN_COMMIT,
    SQLPOOL__TXN_ROLLBACK,
    SQLPOOL__TXN_OPEN, /* a question, no statement: SQLPOOL_OK when a transaction is open */
    /* config.group_commit (group_commit.c): one transaction's part of a shared one, in a
     * savepoint: begun, kept (released into the transaction) or undone (rolled back to). */
    SQLPOOL__TXN_SAVEPOINT,
    SQLPOOL__TXN_RELEASE,
    SQLPOOL__TXN_UNDO
};
/* A pool's lane (lanes.c): a plain pool is LANE_NONE; a single_writer pool is two pools, its
 * writer (LANE_WRITE) and its readers (LANE_READ). */
enum {
    SQLPOOL__LANE_NONE = 0,
    SQLPOOL__LANE_WRITE = SQLPOOL_LANE_WRITE,
    SQLPOOL__LANE_READ = SQLPOOL_LANE_READ
};
/* backend.c: each built backend's atfork, in table order (prepare) or reversed. */
void sqlpool__backends_atfork(int phase);

/* The backend that serves a db string. */
const sqlpool__backend *sqlpool__backend_for(const char *db);

#endif
