/*
 * resize.c: changing an open pool (sqlpool_resize, sqlpool_evict, sqlpool_set_db).
 *
 * The caps live in the pool's own fields under the lock (pool->max_open, max_idle, min_idle;
 * cfg keeps what the pool was opened with). A resize down closes what idles beyond the new
 * caps at once; connections borrowed beyond them are closed as they come back (release.c:
 * sqlpool__over_cap_locked(), and the over_cap flag that keeps such releases off the slots).
 * Nothing is taken from a borrower. A resize up hands the room to waiters at once.
 *
 * Evict bumps the pool's epoch; every connection carries the epoch its connect began under,
 * and one from an older epoch counts as expired (conn.h), so whoever sees it next retires it
 * with CLOSE_EVICTED: the evict itself for what idles (slots included), a release for what is
 * borrowed, maintenance for what it holds for a check, acquire for what slipped into a slot.
 */
#include "dsn.h"
#include "maintain.h"

#include <string.h>

/* Under the lock: close (on the books, into *retire) what idles beyond the caps, the longest
 * idle first. Returns how many. */
static int trim_idle_locked(sqlpool *pool, sqlpool_conn **retire) {
    int n = 0;
    SQLPOOL__ASSERT_LOCKED(pool);
    while (pool->idle > 0 && (pool->idle > pool->max_idle || sqlpool__over_cap_locked(pool))) {
        sqlpool_conn *c = pool->idle_tail;
        sqlpool__books_move(pool, c, BOOK_IDLE, BOOK_CLOSED, CLOSE_MAX_IDLE);
        c->next = *retire;
        *retire = c;
        n++;
    }
    return n;
}

int sqlpool_resize(sqlpool *pool, int max_open, int max_idle) {
    sqlpool_conn *retire = NULL;
    sqlpool__waiter *wake;
    int closed, over, open;

    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    /* single_writer: the caps are the readers'; the writer stays one. (read_db: the caps are
     * db's, this pool's; the read lane keeps read_max_open.) */
    if (pool->read_lane != NULL && pool->cfg.single_writer != SQLPOOL__LANE_NONE)
        return sqlpool_resize(pool->read_lane, max_open, max_idle);
    sqlpool__fork_check(pool);
    if (max_open < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "max_open must not be negative, got %d", max_open);
    if (max_idle < 1)
        return sqlpool__fail(SQLPOOL_EINVAL, "max_idle must be at least 1, got %d", max_idle);
    sqlpool__pool_lock(pool);
    if (pool->closing) {
        sqlpool__pool_unlock(pool);
        return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    }
    pool->resize_peak = pool->open + pool->connecting; /* for the books' check meanwhile */
    pool->max_open = max_open;
    pool->max_idle = max_idle;
    pool->min_idle = sqlpool__min_idle_within(pool->cfg.min_idle, max_open, max_idle);
    /* What idles in the slots is idle too: onto the list, where the caps below see it. */
    sqlpool__slots_drain_locked(pool, NULL);
    closed = trim_idle_locked(pool, &retire);
    over = sqlpool__over_cap_locked(pool);
    /* Still above max_open: borrowed (or connecting) ones, closed as they come back. */
    pool->resize_peak = over ? pool->open + pool->connecting : 0;
    atomic_store_explicit(&pool->over_cap, over, memory_order_relaxed);
    wake = sqlpool__grant_locked(pool); /* room for waiters, when the cap grew */
    open = pool->open;
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    sqlpool__close_list(pool, retire);
    sqlpool__maintenance_kick(pool); /* min_idle may want more now */
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO,
                 "pool_resize max_open=%d max_idle=%d closed=%d open=%d over_cap=%d", max_open,
                 max_idle, closed, open, over);
    return SQLPOOL_OK;
}

void sqlpool_evict(sqlpool *pool) {
    sqlpool_conn *retire = NULL;
    sqlpool__waiter *wake;
    int n = 0;

    if (pool == NULL) return;
    if (pool->read_lane != NULL) sqlpool_evict(pool->read_lane);
    sqlpool__fork_check(pool);
    sqlpool__pool_lock(pool);
    if (pool->closing) {
        sqlpool__pool_unlock(pool);
        return;
    }
    /* Release: a connect that reads the new epoch (conn_life.c) also sees a db string set
     * before this call. */
    atomic_fetch_add_explicit(&pool->epoch, 1, memory_order_release);
    sqlpool__slots_drain_locked(pool, NULL);
    /* Everything idle now is from an older epoch: nothing opened under the new one can be
     * pooled before we unlock. */
    while (pool->idle_head != NULL) {
        sqlpool_conn *c = pool->idle_head;
        sqlpool__books_move(pool, c, BOOK_IDLE, BOOK_CLOSED, CLOSE_EVICTED);
        c->next = retire;
        retire = c;
        n++;
    }
    wake = sqlpool__grant_locked(pool); /* the room they leave, to waiters */
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    sqlpool__close_list(pool, retire);
    sqlpool__maintenance_kick(pool); /* refill min_idle with new ones */
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_evict closed_idle=%d", n);
}

int sqlpool_set_db(sqlpool *pool, const char *db) {
    char err[256] = "", masked[512];
    int closing, rc;

    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    sqlpool__fork_check(pool);
    if (db == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "db is NULL");
    if (db[0] == '\0') return sqlpool__fail(SQLPOOL_EINVAL, "db is empty");
    if ((!sqlpool_has_postgresql() && sqlpool__dsn_is_pg(db)) ||
        sqlpool__backend_for(db) != pool->backend) {
        (void)sqlpool_db_mask(db, masked, sizeof masked);
        return sqlpool__fail(SQLPOOL_EINVAL,
                             "db '%s' is not a %s database string, as the pool's is", masked,
                             pool->backend->name);
    }
    sqlpool__pool_lock(pool);
    closing = pool->closing;
    sqlpool__pool_unlock(pool);
    if (closing) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    /* single_writer: the readers first. The same string for the same backend can then fail
     * the writer only for want of memory (the readers keep the new string: reported). */
    if (pool->read_lane != NULL && pool->cfg.single_writer != SQLPOOL__LANE_NONE &&
        (rc = sqlpool_set_db(pool->read_lane, db)) != SQLPOOL_OK) /* (read_db: db's only) */
        return rc;
    rc = pool->backend->set_db(pool->backend_state, db, err, sizeof err);
    if (rc != SQLPOOL_OK) return sqlpool__fail(rc, "%s", err[0] ? err : "cannot set db");
    (void)sqlpool_db_mask(db, masked, sizeof masked);
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_set_db db=%s", masked);
    return SQLPOOL_OK;
}
