/*
 * maintain.c: keeping the pool in shape: idle connections beyond min_idle closed after
 * idle_timeout, connections retired after max_lifetime, idle ones pinged every
 * keepalive_interval, leak warnings after leak_threshold, and min_idle kept ready; and the
 * caller's own sqlpool_shrink(), sqlpool_close_idle() and sqlpool_maintain(). A pass does its
 * bookkeeping under the pool lock and its I/O (close, ping, connect) outside it. The thread
 * that runs passes is in maint_thread.c.
 */
#include "maintain.h"

#include <math.h>

#define LEAKS_PER_PASS 16

typedef struct leak {
    const char *file;
    int line;
    double held;
} leak;

/* ---- one pass ---- */

/* What an idle connection is due: 0 nothing, else a CLOSE_* reason + 1, or -1 a keepalive. */
static int idle_due(const sqlpool *pool, const sqlpool_conn *c, double now) {
    const sqlpool_config *cfg = &pool->cfg;
    if (sqlpool__expired(c, now)) return sqlpool__expiry_reason(c) + 1;
    if (cfg->idle_timeout > 0 && pool->idle > pool->min_idle &&
        now - c->released_at >= cfg->idle_timeout)
        return CLOSE_IDLE + 1;
    if (cfg->keepalive_interval > 0 && now - c->checked_at >= cfg->keepalive_interval) return -1;
    return 0;
}

/* Take the idle connections that are due out of the idle list, oldest first: HELD for a
 * keepalive into *check, or CLOSED into *retire. */
static void collect_idle_locked(sqlpool *pool, double now, sqlpool_conn **retire,
                                sqlpool_conn **check) {
    sqlpool_conn *c = pool->idle_tail;
    SQLPOOL__ASSERT_LOCKED(pool);
    while (c != NULL) {
        sqlpool_conn *newer = c->prev;
        int due = idle_due(pool, c, now);
        if (due < 0) {
            sqlpool__books_move(pool, c, BOOK_IDLE, BOOK_HELD, 0);
            c->next = *check;
            *check = c;
        } else if (due > 0) {
            sqlpool__books_move(pool, c, BOOK_IDLE, BOOK_CLOSED, due - 1);
            c->next = *retire;
            *retire = c;
        }
        c = newer;
    }
}

static int collect_leaks_locked(sqlpool *pool, double now, leak *leaks) {
    int n = 0;
    SQLPOOL__ASSERT_LOCKED(pool);
    if (pool->cfg.leak_threshold <= 0) return 0;
    for (sqlpool_conn *c = pool->all; c != NULL && n < LEAKS_PER_PASS; c = c->all_next) {
        if (sqlpool__conn_state(c) != CONN_BORROWED || c->leak_warned ||
            now - c->acquired_at < pool->cfg.leak_threshold)
            continue;
        c->leak_warned = 1;
        leaks[n].file = c->acquired_file;
        leaks[n].line = c->acquired_line;
        leaks[n].held = now - c->acquired_at;
        n++;
    }
    return n;
}

/* Reserve turns to connect (NONE -> CONNECTING) for the connections min_idle lacks. */
static int reserve_refill_locked(sqlpool *pool) {
    int want = pool->min_idle; /* within the caps (resize.c) */
    int n = 0;
    SQLPOOL__ASSERT_LOCKED(pool);
    want -= pool->idle + pool->held + pool->connecting;
    while (n < want && sqlpool__can_connect_locked(pool)) {
        sqlpool__books_move(pool, NULL, BOOK_NONE, BOOK_CONNECTING, 0);
        n++;
    }
    return n;
}

/* Ping a held idle connection and put it back where it was (the old end), or close it. */
static void keepalive(sqlpool *pool, sqlpool_conn *c) {
    char err[256] = "";
    sqlpool__waiter *wake = NULL;
    int ok = pool->backend->ping(c->handle, err, sizeof err) == SQLPOOL_OK, pooled = 0;
    double now = sqlpool__now(pool);

    sqlpool__pool_lock(pool);
    if (ok && !pool->closing) {
        c->checked_at = now;
        wake = sqlpool__offer_locked(pool, c, BOOK_HELD, now, 1, &pooled);
    }
    if (!pooled) {
        sqlpool__books_move(pool, c, BOOK_HELD, BOOK_CLOSED,
                            !ok                   ? CLOSE_BROKEN
                            : pool->closing       ? CLOSE_POOL
                            : sqlpool__evicted(c) ? CLOSE_EVICTED /* during its check */
                                                  : CLOSE_MAX_IDLE);
        wake = sqlpool__grant_locked(pool);
    }
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    if (!ok) SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING, "keepalive_failed reason=%s", err);
    if (!pooled) sqlpool__close_conn(pool, c);
}

static void report_leaks(sqlpool *pool, const leak *leaks, int n) {
    for (int i = 0; i < n; i++)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING,
                     "connection_leak acquired_at=%s:%d held_s=%.3f threshold_s=%.3f",
                     leaks[i].file ? leaks[i].file : "unknown", leaks[i].line, leaks[i].held,
                     pool->cfg.leak_threshold);
}

/* Empty the per-processor caches onto the idle list (what is beyond max_idle closed). */
static void drain_slots(sqlpool *pool) {
    sqlpool_conn *retire = NULL;
    if (pool->nslots == 0) return;
    sqlpool__pool_lock(pool);
    sqlpool__slots_drain_locked(pool, &retire);
    sqlpool__pool_unlock(pool);
    sqlpool__close_list(pool, retire);
}

void sqlpool__maintain_pass(sqlpool *pool) {
    sqlpool_conn *retire = NULL, *check = NULL;
    sqlpool__waiter *wake;
    leak leaks[LEAKS_PER_PASS];
    int nleaks, refill;
    double now = sqlpool__now(pool);

    drain_slots(pool); /* what sits in them is idle too */
    sqlpool__pool_lock(pool);
    if (pool->closing) {
        sqlpool__pool_unlock(pool);
        return;
    }
    collect_idle_locked(pool, now, &retire, &check);
    /* Room freed while threads wait (throughput mode leaves connections idle then): theirs. */
    wake = sqlpool__grant_locked(pool);
    nleaks = collect_leaks_locked(pool, now, leaks);
    refill = reserve_refill_locked(pool);
    sqlpool__pool_unlock(pool);

    sqlpool__wake_all(wake);
    sqlpool__close_list(pool, retire);
    while (check != NULL) {
        sqlpool_conn *next = check->next;
        keepalive(pool, check);
        check = next;
    }
    report_leaks(pool, leaks, nleaks);
    while (refill > 0) {
        refill--;
        if (!sqlpool__open_offer(pool, INFINITY, "refill_failed")) break;
    }
    if (refill > 0) { /* a connect failed: give back the turns not taken */
        sqlpool__pool_lock(pool);
        while (refill-- > 0)
            sqlpool__books_move(pool, NULL, BOOK_CONNECTING, BOOK_NONE, 0);
        wake = sqlpool__grant_locked(pool);
        sqlpool__pool_unlock(pool);
        sqlpool__wake_all(wake);
    }
}

/* ---- the caller's own ---- */

/* Close idle connections, the longest idle first, until target remain; counted as reason. */
static int close_idle_down_to(sqlpool *pool, int target, int reason) {
    sqlpool_conn *taken = NULL;
    sqlpool__waiter *wake;
    int n = 0;
    drain_slots(pool);
    sqlpool__pool_lock(pool);
    /* The tail is the longest idle: keep the `target` most recently used. */
    while (pool->idle > target) {
        sqlpool_conn *c = pool->idle_tail;
        sqlpool__books_move(pool, c, BOOK_IDLE, BOOK_CLOSED, reason);
        c->next = taken;
        taken = c;
        n++;
    }
    wake = sqlpool__grant_locked(pool); /* throughput mode: threads may wait meanwhile */
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    sqlpool__close_list(pool, taken);
    if (n > 0)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "%s closed=%d target=%d",
                     reason == CLOSE_SHRINK ? "pool_shrink" : "pool_close_idle", n, target);
    return n;
}

int sqlpool_shrink(sqlpool *pool, int target) {
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    sqlpool__fork_check(pool);
    if (target < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "shrink target must not be negative, got %d", target);
    if (pool->read_lane != NULL) { /* single_writer: the readers first, the writer with the rest */
        sqlpool_stats r;
        int n = sqlpool_shrink(pool->read_lane, target);
        if (n < 0) return n;
        sqlpool__stats_fill_lane(pool->read_lane, &r);
        return n + close_idle_down_to(pool, target > r.idle ? target - r.idle : 0, CLOSE_SHRINK);
    }
    return close_idle_down_to(pool, target, CLOSE_SHRINK);
}

void sqlpool_close_idle(sqlpool *pool) {
    if (pool == NULL) return;
    if (pool->read_lane != NULL) sqlpool_close_idle(pool->read_lane);
    sqlpool__fork_check(pool);
    (void)close_idle_down_to(pool, 0, CLOSE_CLOSE_IDLE);
}

int sqlpool_maintain(sqlpool *pool) {
    int closing;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    sqlpool__fork_check(pool);
    sqlpool__pool_lock(pool);
    closing = pool->closing;
    sqlpool__pool_unlock(pool);
    if (closing) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    sqlpool__maintain_pass(pool);
    return pool->read_lane != NULL ? sqlpool_maintain(pool->read_lane) : SQLPOOL_OK;
}
