/*
 * txn.c: sqlpool_write() and sqlpool_read(), a transaction in scope on a borrowed
 * connection: begin, the caller's function, commit or roll back, release. The statements
 * are the backend's (backend.h: txn), so that SQLite's write transactions begin IMMEDIATE:
 * the write lock is taken at BEGIN, where the busy timeout waits for another process's
 * writer, and no statement inside can fail as busy (nor, in WAL, as a stale snapshot).
 */
#include "conn.h"
#include "group_commit.h"

/* Give the connection back: discarded when the caller or the pool found it broken. */
static void give_back(sqlpool_conn *conn, int broken) {
    if (broken)
        sqlpool_discard(conn);
    else
        sqlpool_release(conn);
}

static int in_transaction(sqlpool_conn *conn, int begin, sqlpool_fn fn, void *ctx,
                          const char *who) {
    sqlpool_conn *c = sqlpool__borrowed(conn);
    const sqlpool__backend *be;
    char err[256] = "", msg[320];
    int rc, frc;
    if (c == NULL) return sqlpool__misuse(conn, who); /* (never: just acquired) */
    be = c->pool->backend;
    c->native_used = 1; /* a transaction of the pool's own: release must look for it */
    if ((rc = be->txn(c->handle, begin, err, sizeof err)) != SQLPOOL_OK) {
        give_back(conn, rc == SQLPOOL_EBROKEN);
        return sqlpool__fail(rc, "%s: the transaction could not begin: %s", who, err);
    }
    sqlpool__clear_error(); /* what fn's failure leaves, not an older call's message */
    frc = fn(conn, ctx);
    if (sqlpool__borrowed(conn) != c) /* fn gave it back, against the contract */
        return sqlpool__misuse(conn, who);
    if (frc == 0 && be->txn(c->handle, SQLPOOL__TXN_OPEN, err, sizeof err) != SQLPOOL_OK) {
        sqlpool_release(conn); /* fn ran COMMIT or ROLLBACK itself: nothing is known here */
        return sqlpool__fail(SQLPOOL_EMISUSE, "%s: " SQLPOOL__TXN_ENDED_BY_FN, who);
    }
    if (frc != 0) {
        /* A failing statement may have ended the transaction already: then nothing to undo. */
        rc = be->txn(c->handle, SQLPOOL__TXN_ROLLBACK, err, sizeof err);
        give_back(conn, frc == SQLPOOL_EBROKEN || rc != SQLPOOL_OK);
        return frc;
    }
    if ((rc = sqlpool__txn_finish(conn, who, 0, msg, sizeof msg)) != SQLPOOL_OK)
        return sqlpool__fail(rc, "%s", msg);
    return SQLPOOL_OK;
}

int sqlpool_write(sqlpool *pool, sqlpool_fn fn, void *ctx) {
    sqlpool_conn *conn = NULL;
    int rc;
    if (pool == NULL || fn == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool or fn is NULL");
    /* A nested write (from fn of a batch, or by a thread holding a connection of the pool)
     * waits for a connection as without group_commit, where nested_acquire sees it. */
    if (pool->cfg.group_commit > 1 && !sqlpool__group_running_in(pool)) {
        int nested = 0;
        rc = sqlpool__group_write(pool, fn, ctx, &nested);
        if (!nested) return rc;
    }
    rc = sqlpool_acquire_at(pool, &conn, SQLPOOL_DEADLINE_DEFAULT, "sqlpool_write", 0);
    if (rc != SQLPOOL_OK) return rc;
    return in_transaction(conn, SQLPOOL__TXN_BEGIN_WRITE, fn, ctx, "sqlpool_write");
}

int sqlpool_read(sqlpool *pool, sqlpool_fn fn, void *ctx) {
    sqlpool_conn *conn = NULL;
    int rc;
    if (pool == NULL || fn == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool or fn is NULL");
    rc = sqlpool_acquire_read_at(pool, &conn, SQLPOOL_DEADLINE_DEFAULT, "sqlpool_read", 0);
    if (rc != SQLPOOL_OK) return rc;
    return in_transaction(conn, SQLPOOL__TXN_BEGIN_READ, fn, ctx, "sqlpool_read");
}
