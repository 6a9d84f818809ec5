/*
 * waiter.c: threads that wait for a connection. A waiter sleeps on its own condition
 * variable, never on the pool lock, and whoever frees a connection (or room to open one)
 * hands it over directly, first come first served: the decision is made under the pool lock
 * and the signal delivered after the unlock. In throughput mode (barge_window > 0),
 * newcomers may overtake the first waiter until it has waited barge_window.
 */
#include "waiter.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- waking and sleeping ---- */

void sqlpool__waiter_signal(sqlpool__waiter *w) {
    if (w->notify != NULL) { /* a request: no thread to wake (request.c) */
        w->notify(w);
        return;
    }
    if (pthread_mutex_lock(&w->mu) != 0) abort();
    w->delivered++;
    if (pthread_cond_signal(&w->cv) != 0) abort();
    if (pthread_mutex_unlock(&w->mu) != 0) abort();
}

void sqlpool__wake_all(sqlpool__waiter *list) {
    while (list != NULL) {
        /* Read next first: once signaled, the waiter may return and its frame vanish. */
        sqlpool__waiter *next = list->next;
        sqlpool__waiter_signal(list);
        list = next;
    }
}

void sqlpool__waiter_init(sqlpool__waiter *w, double since, const char *file, int line) {
    memset(w, 0, sizeof *w);
    w->since = since;
    w->file = file;
    w->line = line;
    w->thread = sqlpool__thread_id();
    if (pthread_mutex_init(&w->mu, NULL) != 0) abort();
    sqlpool__cond_init_monotonic(&w->cv);
}

void sqlpool__waiter_destroy(sqlpool__waiter *w) {
    (void)pthread_cond_destroy(&w->cv);
    (void)pthread_mutex_destroy(&w->mu);
}

int sqlpool__waiter_sleep(sqlpool *pool, sqlpool__waiter *w, double deadline, double timer,
                          unsigned *seen) {
    int woke;
    if (pthread_mutex_lock(&w->mu) != 0) abort();
    while (w->delivered == *seen && sqlpool__cond_wait_until(pool, &w->cv, &w->mu, deadline, timer))
        continue;
    woke = w->delivered != *seen;
    *seen = w->delivered;
    if (pthread_mutex_unlock(&w->mu) != 0) abort();
    return woke;
}

void sqlpool__waiter_wait_delivered(sqlpool__waiter *w, unsigned n) {
    if (pthread_mutex_lock(&w->mu) != 0) abort();
    while (w->delivered < n)
        if (pthread_cond_wait(&w->cv, &w->mu) != 0) abort();
    if (pthread_mutex_unlock(&w->mu) != 0) abort();
}

void sqlpool__maintenance_kick(sqlpool *pool) {
    /* cfg's, not the current min_idle: read without the lock (a kick when a resize has made
     * it 0 only costs the thread a pass). */
    if (pool->cfg.min_idle == 0) return;
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    if (pool->maint_started && !pool->maint_stop) {
        pool->maint_kicked = 1;
        if (pthread_cond_signal(&pool->maint_cv) != 0) abort();
    }
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
}

void sqlpool__record_wait_locked(sqlpool *pool, double seconds) {
    SQLPOOL__ASSERT_LOCKED(pool);
    if (seconds < 0) seconds = 0;
    sqlpool__hist_record(&pool->waits, (uint64_t)(seconds * 1e9));
    if (seconds > 0) {
        pool->wait_count++;
        pool->wait_seconds += seconds;
    }
}

/* A request's wait ends when its outcome is decided (a thread's, when it leaves the wait). */
static void request_decided_locked(sqlpool *pool, const sqlpool__waiter *w) {
    if (w->notify != NULL) sqlpool__record_wait_locked(pool, sqlpool__now(pool) - w->since);
}

/* ---- the queue (under the lock) ---- */

/* A new first waiter (or none). In throughput mode newcomers may overtake it until it has
 * waited barge_window in all; then the slots stop, and releases hand it their connection. */
static void head_changed_locked(sqlpool *pool) {
    sqlpool__waiter *w = pool->wait_head;
    SQLPOOL__ASSERT_LOCKED(pool);
    pool->head_awake = 0;
    if (pool->cfg.barge_window <= 0) return;
    if (w != NULL) pool->head_until = w->mono_since + pool->cfg.barge_window;
    if (pool->nslots == 0 || pool->closing) return;
    /* A request first in line has no timer of its own to stop the slots when its window
     * ends (request.c): they stay off while it is first. */
    if (w != NULL && (w->notify != NULL || sqlpool__mono() >= pool->head_until))
        sqlpool__slots_stop_locked(pool);
    else
        atomic_store_explicit(&pool->slots_off, 0, memory_order_seq_cst);
}

int sqlpool__may_barge_locked(const sqlpool *pool) {
    SQLPOOL__ASSERT_LOCKED(pool);
    return pool->cfg.barge_window > 0 && sqlpool__mono() < pool->head_until;
}

void sqlpool__queue_push_locked(sqlpool *pool, sqlpool__waiter *w) {
    SQLPOOL__ASSERT_LOCKED(pool);
    if (pool->cfg.barge_window > 0) w->mono_since = sqlpool__mono();
    w->next = NULL;
    w->prev = pool->wait_tail;
    if (pool->wait_tail)
        pool->wait_tail->next = w;
    else
        pool->wait_head = w;
    pool->wait_tail = w;
    pool->waiting++;
    /* Linked first: a new head may stop the slots, whose books check walks the queue. */
    if (w->prev == NULL) head_changed_locked(pool);
}

void sqlpool__queue_push_head_locked(sqlpool *pool, sqlpool__waiter *w) {
    SQLPOOL__ASSERT_LOCKED(pool);
    w->prev = NULL;
    w->next = pool->wait_head;
    if (pool->wait_head)
        pool->wait_head->prev = w;
    else
        pool->wait_tail = w;
    pool->wait_head = w;
    pool->waiting++;
    head_changed_locked(pool);
}

void sqlpool__queue_remove_locked(sqlpool *pool, sqlpool__waiter *w) {
    int was_head = w->prev == NULL;
    SQLPOOL__ASSERT_LOCKED(pool);
    if (w->prev)
        w->prev->next = w->next;
    else
        pool->wait_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        pool->wait_tail = w->prev;
    w->prev = w->next = NULL;
    pool->waiting--;
    if (was_head) head_changed_locked(pool);
}

double sqlpool__head_timer_locked(sqlpool *pool, sqlpool__waiter *w) {
    SQLPOOL__ASSERT_LOCKED(pool);
    if (pool->cfg.barge_window <= 0 || pool->wait_head != w) return INFINITY;
    pool->head_awake = 1;
    if (sqlpool__mono() < pool->head_until) return pool->head_until;
    /* The window is over: no more overtaking through the slots either (one clock reading
     * decides both, so the waiter never sleeps untimed while they are on). */
    if (pool->nslots > 0 && !atomic_load_explicit(&pool->slots_off, memory_order_relaxed))
        sqlpool__slots_stop_locked(pool);
    return INFINITY;
}

/* ---- hand-off (under the lock) ---- */

int sqlpool__can_connect_locked(const sqlpool *pool) {
    SQLPOOL__ASSERT_LOCKED(pool);
    return pool->connecting < pool->cfg.max_connecting &&
           (pool->max_open == 0 || pool->open + pool->connecting < pool->max_open);
}

sqlpool__waiter *sqlpool__grant_locked(sqlpool *pool) {
    sqlpool__waiter *list = NULL, **tail = &list;
    SQLPOOL__ASSERT_LOCKED(pool);
    while (pool->wait_head != NULL && sqlpool__can_connect_locked(pool)) {
        sqlpool__waiter *w = pool->wait_head;
        sqlpool__queue_remove_locked(pool, w);
        w->grant = 1;
        w->sent++;
        request_decided_locked(pool, w);
        sqlpool__books_move(pool, NULL, BOOK_NONE, BOOK_CONNECTING, 0);
        *tail = w;
        tail = &w->next;
    }
    return list;
}

sqlpool__waiter *sqlpool__offer_locked(sqlpool *pool, sqlpool_conn *c, int from, double now,
                                       int old, int *pooled) {
    sqlpool__waiter *w = pool->wait_head;
    SQLPOOL__ASSERT_LOCKED(pool);
    *pooled = 1;
    if (sqlpool__over_cap_locked(pool) || sqlpool__evicted(c)) {
        *pooled = 0;
        return NULL;
    }
    if (w != NULL) {
        sqlpool__queue_remove_locked(pool, w);
        sqlpool__books_lend(pool, c, from, now, w->file, w->line);
        atomic_store_explicit(&c->borrower, w->thread, memory_order_relaxed); /* for w */
        pool->reused++;
        pool->acquires++;
        w->conn = c;
        w->sent++;
        request_decided_locked(pool, w);
        return w;
    }
    if (pool->idle < pool->max_idle && !pool->closing) {
        if (!old) c->released_at = now;
        sqlpool__books_move(pool, c, from, old ? BOOK_IDLE_OLD : BOOK_IDLE, 0);
        return NULL;
    }
    *pooled = 0;
    return NULL;
}
