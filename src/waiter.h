/*
 * waiter.h: threads that wait for a connection (waiter.c): the first-come-first-served queue,
 * the hand-off of a connection or of a turn to connect to the first waiter, throughput
 * mode's barging window, and sleeping and waking. Also the pool lock's wrappers: unlocking
 * may have to nudge the first waiter.
 */
#ifndef SQLPOOL_WAITER_H
#define SQLPOOL_WAITER_H

#include "jobs.h"
#include "slots.h"

/* Wake one waiter: a signal decided on (its `sent` counted) under the pool lock, delivered
 * after the unlock. */
void sqlpool__waiter_signal(sqlpool__waiter *w);

static inline void sqlpool__pool_lock(sqlpool *pool) {
    sqlpool__lock_acquire(&pool->lock);
}

/* Release the pool lock. In throughput mode a connection may be left idle while threads wait
 * (see release.c); the first waiter then must look at it before long: if it sleeps without a
 * timer, nudge it. */
static inline void sqlpool__pool_unlock(sqlpool *pool) {
    sqlpool__waiter *nudge = NULL;
    int serve = 0;
    if (pool->wait_head != NULL && !pool->head_awake && pool->cfg.barge_window > 0 &&
        (pool->idle > 0 || pool->nslots > 0)) {
        nudge = pool->wait_head;
        pool->head_awake = 1;
        if (nudge->notify != NULL) { /* a request: a job thread looks for it */
            serve = !pool->serve_asked;
            pool->serve_asked = 1;
            nudge = NULL;
        } else {
            nudge->sent++;
        }
    }
    sqlpool__lock_release(&pool->lock);
    if (nudge != NULL) sqlpool__waiter_signal(nudge); /* it cannot leave before this arrives */
    if (serve) (void)sqlpool__jobs_submit(pool, &pool->serve_job); /* none when closing */
}

/* Wake the waiters of a list (chained by next) built under the lock. After unlocking. */
void sqlpool__wake_all(sqlpool__waiter *list);

void sqlpool__waiter_init(sqlpool__waiter *w, double since, const char *file, int line);
void sqlpool__waiter_destroy(sqlpool__waiter *w);
/* Sleep until a signal beyond the *seen-th arrives (then note it in *seen and return 1), or
 * the deadline (on the pool clock) or the timer (on the system's, sqlpool__mono()) passes
 * (0). Without the pool lock. */
int sqlpool__waiter_sleep(sqlpool *pool, sqlpool__waiter *w, double deadline, double timer,
                          unsigned *seen);
/* Wait until n signals have arrived: those decided on (under the pool lock) but not yet
 * delivered are on their way, and w must outlive them. */
void sqlpool__waiter_wait_delivered(sqlpool__waiter *w, unsigned n);

/* The queue, under the lock. push_head: back at the front, for a first waiter whose
 * connection failed its check. */
void sqlpool__queue_push_locked(sqlpool *pool, sqlpool__waiter *w);
void sqlpool__queue_push_head_locked(sqlpool *pool, sqlpool__waiter *w);
void sqlpool__queue_remove_locked(sqlpool *pool, sqlpool__waiter *w);

/* Throughput mode: may a newcomer take a connection while threads wait? Only while the first
 * waiter has waited less than barge_window. */
int sqlpool__may_barge_locked(const sqlpool *pool);
/* Throughput mode: when the first waiter w should wake by itself to look at the idle list
 * (system clock), or INFINITY once newcomers may no longer overtake it (releases then hand
 * it the next connection; the slots stop). Either way it now counts as awake. */
double sqlpool__head_timer_locked(sqlpool *pool, sqlpool__waiter *w);

/* Record a wait of so many seconds in the pool's wait statistics. */
void sqlpool__record_wait_locked(sqlpool *pool, double seconds);

/* Is there room for one more connect (max_connecting, max_open)? */
int sqlpool__can_connect_locked(const sqlpool *pool);
/* More open (or connecting) than max_open, as a sqlpool_resize() down may leave the pool: a
 * connection given back is closed rather than pooled or handed on. */
static inline int sqlpool__over_cap_locked(const sqlpool *pool) {
    SQLPOOL__ASSERT_LOCKED(pool);
    return pool->max_open > 0 && pool->open + pool->connecting > pool->max_open;
}
/* Hand free capacity to waiters as turns to connect (NONE -> CONNECTING); returns a list
 * (via next) of waiters to wake. */
sqlpool__waiter *sqlpool__grant_locked(sqlpool *pool);
/* Give c, which nobody holds (in state `from`: CONNECTING just opened, BORROWED given back,
 * SLOTTED, HELD back from a check, IDLE), to the oldest waiter, or to the idle list (its
 * stale end when old; else its recent end, released now). Returns the waiter to wake, or
 * NULL; sets *pooled to 0 when neither would take it (or the pool is over max_open, or c
 * was evicted): c is then still in `from`, and the caller closes it. */
sqlpool__waiter *sqlpool__offer_locked(sqlpool *pool, sqlpool_conn *c, int from, double now,
                                       int old, int *pooled);

/* min_idle within the caps: at most max_idle, and max_open when there is one. */
static inline int sqlpool__min_idle_within(int min_idle, int max_open, int max_idle) {
    if (min_idle > max_idle) min_idle = max_idle;
    if (max_open > 0 && min_idle > max_open) min_idle = max_open;
    return min_idle;
}
/* Wake the maintenance thread for a pass now (it refills min_idle). */
void sqlpool__maintenance_kick(sqlpool *pool);

#endif
