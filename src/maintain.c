/*
 * maintain.c: keeping the pool in shape: idle connections beyond min_idle closed after
 * idle_timeout, connections retired after max_lifetime, idle ones pinged every
 * keepalive_interval, leak warnings after leak_threshold, and min_idle kept ready. A pass does
 * its bookkeeping under the pool lock and its I/O (close, ping, connect) outside it.
 *
 * The maintenance thread runs a pass every quarter of the shortest interval configured (at
 * most every 30 s), and at once when a closed connection leaves fewer than min_idle. With a
 * caller's clock (config.clock) there is no thread: the caller drives passes with
 * sqlpool_maintain().
 */
#include "pool_internal.h"

#include <assert.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEAKS_PER_PASS 16

typedef struct leak {
    const char *file;
    int line;
    double held;
} leak;

static void lock(sqlpool *pool) {
    sqlpool__lock_acquire(&pool->lock);
}
static void unlock(sqlpool *pool) {
    sqlpool__unlock(pool);
}

static unsigned gen_of(const sqlpool_conn *c) {
    return atomic_load_explicit(&c->word, memory_order_relaxed) >> 2;
}

/* ---- one pass ---- */

/* What an idle connection is due: 0 nothing, else a CLOSE_* reason + 1, or -1 a keepalive. */
static int idle_due(const sqlpool *pool, const sqlpool_conn *c, double now) {
    const sqlpool_config *cfg = &pool->cfg;
    if (now >= c->expires_at) return CLOSE_LIFETIME + 1;
    if (cfg->idle_timeout > 0 && pool->idle > cfg->min_idle &&
        now - c->released_at >= cfg->idle_timeout)
        return CLOSE_IDLE + 1;
    if (cfg->keepalive_interval > 0 && now - c->checked_at >= cfg->keepalive_interval) return -1;
    return 0;
}

/* Take the idle connections that are due out of the idle list, oldest first. */
static void collect_idle_locked(sqlpool *pool, double now, sqlpool_conn **retire,
                                sqlpool_conn **check) {
    assert(sqlpool__lock_held(&pool->lock));
    sqlpool_conn *c = pool->idle_tail;
    while (c != NULL) {
        sqlpool_conn *newer = c->prev;
        int due = idle_due(pool, c, now);
        if (due != 0) {
            sqlpool__idle_remove_locked(pool, c);
            if (due < 0) {
                atomic_store_explicit(&c->word, gen_of(c) << 2 | CONN_HELD, memory_order_relaxed);
                pool->held++;
                c->next = *check;
                *check = c;
            } else {
                sqlpool__retire_locked(pool, c, due - 1);
                c->next = *retire;
                *retire = c;
            }
        }
        c = newer;
    }
}

static int collect_leaks_locked(sqlpool *pool, double now, leak *leaks) {
    assert(sqlpool__lock_held(&pool->lock));
    int n = 0;
    if (pool->cfg.leak_threshold <= 0) return 0;
    for (sqlpool_conn *c = pool->all; c != NULL && n < LEAKS_PER_PASS; c = c->all_next) {
        unsigned word = atomic_load_explicit(&c->word, memory_order_relaxed);
        if ((word & 3u) != CONN_BORROWED || c->leak_warned ||
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

/* Reserve turns to connect for the connections min_idle lacks. */
static int reserve_refill_locked(sqlpool *pool) {
    assert(sqlpool__lock_held(&pool->lock));
    const sqlpool_config *cfg = &pool->cfg;
    int want = cfg->min_idle < cfg->max_idle ? cfg->min_idle : cfg->max_idle;
    int n = 0;
    want -= pool->idle + pool->held + pool->connecting;
    while (n < want && pool->connecting < cfg->max_connecting &&
           (cfg->max_open == 0 || pool->open + pool->connecting < cfg->max_open)) {
        pool->connecting++;
        n++;
    }
    return n;
}

static void close_list(sqlpool *pool, sqlpool_conn *list) {
    while (list != NULL) {
        sqlpool_conn *next = list->next;
        sqlpool__close_conn(pool, list);
        list = next;
    }
}

/* Ping a held idle connection and put it back where it was (the old end), or close it. */
static void keepalive(sqlpool *pool, sqlpool_conn *c) {
    char err[256] = "";
    sqlpool__waiter *wake = NULL;
    int ok = pool->backend->ping(c->handle, err, sizeof err) == SQLPOOL_OK, pooled = 0;
    double now = sqlpool__now(pool);

    lock(pool);
    pool->held--;
    if (ok && !pool->closing) {
        c->checked_at = now;
        wake = sqlpool__offer_locked(pool, c, now, 1, &pooled);
    }
    if (!pooled) {
        sqlpool__retire_locked(pool, c,
                               ok ? (pool->closing ? CLOSE_POOL : CLOSE_MAX_IDLE) : CLOSE_BROKEN);
        wake = sqlpool__grant_locked(pool);
    }
    unlock(pool);
    sqlpool__wake_all(wake);
    if (!ok) SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING, "keepalive_failed reason=%s", err);
    if (!pooled) sqlpool__close_conn(pool, c);
}

/* Open one connection for min_idle and offer it. Returns 0 when the connect failed. */
static int refill_one(sqlpool *pool) {
    sqlpool_conn *c;
    sqlpool__waiter *wake = NULL;
    double now = sqlpool__now(pool);
    int rc = sqlpool__open_conn(pool, &c, now, INFINITY), pooled = 0;

    lock(pool);
    pool->connecting--;
    if (rc != SQLPOOL_OK) {
        pool->connect_failures++;
        pool->last_connect_rc = rc;
        sqlpool__format(pool->last_connect_error, sizeof pool->last_connect_error, "%s",
                        sqlpool_errmsg());
    } else {
        pool->created++;
        pool->open++;
        sqlpool__all_add_locked(pool, c);
        wake = sqlpool__offer_locked(pool, c, now, 0, &pooled);
        if (!pooled) sqlpool__retire_locked(pool, c, pool->closing ? CLOSE_POOL : CLOSE_MAX_IDLE);
    }
    /* Our turn to connect is over: pass it on (after the waiter offered the connection). */
    if (wake != NULL)
        wake->next = sqlpool__grant_locked(pool);
    else
        wake = sqlpool__grant_locked(pool);
    unlock(pool);
    sqlpool__wake_all(wake);
    if (rc != SQLPOOL_OK) {
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR, "refill_failed error=%s", sqlpool_errmsg());
        return 0;
    }
    if (!pooled) sqlpool__close_conn(pool, c);
    return 1;
}

static void report_leaks(sqlpool *pool, const leak *leaks, int n) {
    for (int i = 0; i < n; i++)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING,
                     "connection_leak acquired_at=%s:%d held_s=%.3f threshold_s=%.3f",
                     leaks[i].file ? leaks[i].file : "unknown", leaks[i].line, leaks[i].held,
                     pool->cfg.leak_threshold);
}

void sqlpool__maintain_pass(sqlpool *pool) {
    sqlpool_conn *retire = NULL, *check = NULL;
    sqlpool__waiter *wake;
    leak leaks[LEAKS_PER_PASS];
    int nleaks, refill;
    double now = sqlpool__now(pool);

    sqlpool__drain_slots(pool); /* what sits in them is idle too */
    lock(pool);
    if (pool->closing) {
        unlock(pool);
        return;
    }
    collect_idle_locked(pool, now, &retire, &check);
    /* Room freed while threads wait (throughput mode leaves connections idle then): theirs. */
    wake = sqlpool__grant_locked(pool);
    nleaks = collect_leaks_locked(pool, now, leaks);
    refill = reserve_refill_locked(pool);
    unlock(pool);

    sqlpool__wake_all(wake);
    close_list(pool, retire);
    while (check != NULL) {
        sqlpool_conn *next = check->next;
        keepalive(pool, check);
        check = next;
    }
    report_leaks(pool, leaks, nleaks);
    while (refill > 0) {
        refill--;
        if (!refill_one(pool)) break;
    }
    if (refill > 0) { /* a connect failed: give back the turns not taken */
        lock(pool);
        pool->connecting -= refill;
        wake = sqlpool__grant_locked(pool);
        unlock(pool);
        sqlpool__wake_all(wake);
    }
}

/* ---- the thread ---- */

static double period(const sqlpool_config *cfg) {
    const double intervals[] = {cfg->idle_timeout, cfg->max_lifetime, cfg->keepalive_interval,
                                cfg->leak_threshold};
    double p = 30.0;
    for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++)
        if (intervals[i] > 0 && intervals[i] / 4 < p) p = intervals[i] / 4;
    if (cfg->min_idle > 0 && p > 1.0) p = 1.0;
    return p < 0.005 ? 0.005 : p;
}

static int needs_thread(const sqlpool_config *cfg) {
    return cfg->clock == NULL &&
           (cfg->min_idle > 0 || cfg->idle_timeout > 0 || cfg->max_lifetime > 0 ||
            cfg->keepalive_interval > 0 || cfg->leak_threshold > 0);
}

static void wait_period(sqlpool *pool, double seconds) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)seconds;
    ts.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&pool->maint_cv, &pool->maint_mu, &ts);
}

static void *maintenance_main(void *arg) {
    sqlpool *pool = arg;
    double p = period(&pool->cfg);
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    while (!pool->maint_stop) {
        if (!pool->maint_kicked) wait_period(pool, p);
        if (pool->maint_stop) break;
        pool->maint_kicked = 0;
        if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
        sqlpool__maintain_pass(pool);
        if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    }
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
    return NULL;
}

int sqlpool__maintenance_start(sqlpool *pool) {
    sigset_t all, old;
    int rc;
    if (!needs_thread(&pool->cfg)) return SQLPOOL_OK;
    /* The thread takes no signals: they belong to the application's threads. */
    (void)sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0) abort();
    rc = pthread_create(&pool->maint_thread, NULL, maintenance_main, pool);
    if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0) abort();
    if (rc != 0)
        return sqlpool__fail(SQLPOOL_ENOMEM, "cannot start the maintenance thread: %s",
                             strerror(rc));
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    pool->maint_started = 1;
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
    return SQLPOOL_OK;
}

void sqlpool__maintenance_kick(sqlpool *pool) {
    if (pool->cfg.min_idle == 0) return;
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    if (pool->maint_started && !pool->maint_stop) {
        pool->maint_kicked = 1;
        if (pthread_cond_signal(&pool->maint_cv) != 0) abort();
    }
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
}

void sqlpool__maintenance_stop(sqlpool *pool) {
    int started;
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    started = pool->maint_started;
    pool->maint_stop = 1;
    if (pthread_cond_signal(&pool->maint_cv) != 0) abort();
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
    if (started && pthread_join(pool->maint_thread, NULL) != 0) abort();
}
