/*
 * release.c: a borrowed connection given back (sqlpool_release, sqlpool_discard): reset by
 * the backend outside the lock, then into this processor's slot (throughput mode), to the
 * first waiter, onto the idle list, or closed.
 */
#include "release.h"

#include <assert.h>

void sqlpool__unslot(sqlpool *pool, sqlpool_conn *c, int may_close) {
    sqlpool__waiter *wake = NULL;
    double now = sqlpool__now_coarse(pool);
    int pooled = 0, reason = CLOSE_POOL;
    int due = sqlpool__needs_check(pool, c, now);
    if (sqlpool__expired(c, now) && may_close) {
        (void)sqlpool__retire_lent(pool, c, BOOK_SLOTTED, sqlpool__expiry_reason(c));
        return;
    }
    sqlpool__pool_lock(pool);
    if (!pool->closing) {
        if (pool->wait_head != NULL && !due) {
            wake = sqlpool__offer_locked(pool, c, BOOK_SLOTTED, now, 0, &pooled);
        } else if ((pool->idle < pool->max_idle && !sqlpool__over_cap_locked(pool)) || due) {
            /* Keeps its released_at; due includes expired (with may_close 0). */
            sqlpool__books_move(pool, c, BOOK_SLOTTED, BOOK_IDLE, 0);
            pooled = 1;
        }
        reason = sqlpool__evicted(c) ? CLOSE_EVICTED : CLOSE_MAX_IDLE;
    }
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    if (!pooled) (void)sqlpool__retire_lent(pool, c, BOOK_SLOTTED, reason);
}

/* Throughput mode, once waiters are served again: a connection left idle for newcomers that
 * none took goes to the next waiters too. Returns the waiters to wake. */
static sqlpool__waiter *hand_parked_locked(sqlpool *pool, double now) {
    sqlpool__waiter *list = NULL;
    sqlpool_conn *c;
    SQLPOOL__ASSERT_LOCKED(pool);
    while ((c = pool->idle_head) != NULL && pool->wait_head != NULL &&
           !sqlpool__over_cap_locked(pool) && !sqlpool__evicted(c)) {
        sqlpool__waiter *w;
        int pooled;
        w = sqlpool__offer_locked(pool, c, BOOK_IDLE, now, 0, &pooled);
        assert(w != NULL); /* there was a waiter to take it */
        w->next = list;
        list = w;
    }
    return list;
}

/* nowait: sqlpool__release_nowait() (release.h). */
static int give_back(sqlpool_conn *handle, int broken, int nowait, int *close_reason) {
    sqlpool_conn *c = sqlpool__borrowed(handle), *back;
    sqlpool *pool;
    sqlpool__waiter *wake = NULL;
    char err[256];
    double now;
    int pooled = 0, over = 0, reason;

    if (c == NULL) {
        (void)sqlpool__misuse(handle, broken ? "discard" : "release");
        return SQLPOOL__RELEASED;
    }
    pool = c->pool;
    err[0] = '\0';
    /* Only a pool with a connection hook can be inside one (the look at the thread-local is
     * a call in a shared library: kept off the path of pools without hooks). */
    if (pool->any_hook) {
        if (sqlpool__in_hook(c)) {
            /* In its own hook the connection is in the middle of its set-up, an acquire or
             * this very release: the hook may use it, not give it back. */
            const char *what = broken ? "discard" : "release";
            SQLPOOL__LOG(&c->pool->cfg, SQLPOOL_LOG_ERROR,
                         "conn_misuse %s of a connection inside its own hook", what);
            (void)sqlpool__fail(SQLPOOL_EMISUSE, "%s of a connection inside its own hook", what);
            return SQLPOOL__RELEASED;
        }
        if (nowait && pool->cfg.on_release != NULL) return SQLPOOL__RELEASE_LATER;
        if (!broken && pool->cfg.on_release != NULL &&
            sqlpool__call_hook(pool->cfg.on_release, c, pool->cfg.on_release_ctx) != 0) {
            SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_discard reason=on_release refused");
            (void)sqlpool__retire_lent(pool, c, BOOK_BORROWED, CLOSE_HOOK);
            return SQLPOOL__RELEASED;
        }
    }
    if (nowait && (broken || pool->cfg.ping_on_release || pool->backend->reset_is_local == NULL ||
                   !pool->backend->reset_is_local(c->handle, c->native_used)))
        return SQLPOOL__RELEASE_LATER; /* untouched */
    /* No longer this thread's: an acquire of this thread about to wait must not find it its
     * own while another thread takes it out of a slot (this thread sees its own store, or a
     * later one; never its older id). */
    atomic_store_explicit(&c->borrower, 0, memory_order_relaxed);
    if (!broken && pool->backend->reset(c->handle, c->native_used) != SQLPOOL_OK) broken = 1;
    if (!broken && pool->cfg.ping_on_release &&
        pool->backend->ping(c->handle, err, sizeof err) != SQLPOOL_OK)
        broken = 1;
    now = sqlpool__now_coarse(pool);
    /* over_cap: a resize left too many open, so the lock's path below closes this one. */
    if (pool->nslots > 0 && !broken && !sqlpool__expired(c, now) &&
        !atomic_load_explicit(&pool->over_cap, memory_order_relaxed) &&
        sqlpool__slot_put(pool, c, now, &back)) {
        /* nowait: not closed for its age (a close racing the slots' stop still may be) */
        if (back != NULL) sqlpool__unslot(pool, back, !nowait);
        return SQLPOOL__RELEASED;
    }

    sqlpool__pool_lock(pool);
    /* The flag is exact under the lock (resize sets it there): clear, the pool is within
     * max_open and the test below is skipped. */
    if (atomic_load_explicit(&pool->over_cap, memory_order_relaxed) &&
        !(over = sqlpool__over_cap_locked(pool)))
        atomic_store_explicit(&pool->over_cap, 0, memory_order_relaxed); /* back within it */
    if (!broken && !sqlpool__expired(c, now) && !pool->closing) {
        /* The common case, inline: back on the idle list. With threads waiting, only in
         * throughput mode: left for the next thread to ask, which saves a wake-up; the first
         * waiter looks at it by itself before long (sqlpool__pool_unlock() nudges it). */
        if (((pool->wait_head == NULL && pool->idle < pool->max_idle) ||
             (pool->wait_head != NULL && pool->idle == 0 && sqlpool__may_barge_locked(pool))) &&
            !over) {
            c->released_at = now;
            sqlpool__books_move(pool, c, BOOK_BORROWED, BOOK_IDLE, 0);
            sqlpool__pool_unlock(pool);
            return SQLPOOL__RELEASED;
        }
        wake = sqlpool__offer_locked(pool, c, BOOK_BORROWED, now, 0, &pooled);
        if (pooled && wake != NULL && pool->cfg.barge_window > 0)
            wake->next = hand_parked_locked(pool, now);
    }
    reason = broken                     ? CLOSE_BROKEN
             : pool->closing            ? CLOSE_POOL
             : sqlpool__expired(c, now) ? sqlpool__expiry_reason(c)
                                        : CLOSE_MAX_IDLE;
    sqlpool__pool_unlock(pool);

    sqlpool__wake_all(wake);
    if (pooled) return SQLPOOL__RELEASED;
    if (broken)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING, "pool_discard reason=%s",
                     err[0] ? err : "broken");
    if (nowait) { /* the close is the caller's to have done elsewhere */
        *close_reason = reason;
        return SQLPOOL__RELEASE_CLOSE;
    }
    (void)sqlpool__retire_lent(pool, c, BOOK_BORROWED, reason);
    return SQLPOOL__RELEASED;
}

int sqlpool__release_nowait(sqlpool_conn *handle, int *close_reason) {
    return give_back(handle, 0, 1, close_reason);
}

void sqlpool_release(sqlpool_conn *conn) {
    if (conn != NULL) (void)give_back(conn, 0, 0, NULL);
}

void sqlpool_discard(sqlpool_conn *conn) {
    if (conn != NULL) (void)give_back(conn, 1, 0, NULL);
}

void sqlpool_release_ptr(sqlpool_conn **conn) {
    if (conn != NULL && *conn != NULL) {
        sqlpool_release(*conn);
        *conn = NULL;
    }
}
