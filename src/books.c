/*
 * books.c: the check that the pool's books agree, run after every move (books.h) in checked
 * builds, as SQLite's sqlite3PcachePageSanity() is: it walks the lists, so it costs O(open)
 * per move, which a test build can afford and a release build never pays.
 */
#include "books.h"

#ifdef SQLPOOL__CHECKED
const int sqlpool__books_checked = 1;
#else
const int sqlpool__books_checked = 0;
#endif

#include <string.h>

void sqlpool__books_restart_locked(sqlpool *pool) {
    SQLPOOL__ASSERT_LOCKED(pool);
    pool->idle_head = pool->idle_tail = NULL;
    pool->all = NULL;
    pool->idle = pool->open = pool->in_use = pool->held = pool->connecting = 0;
    pool->peak_in_use = 0;
    pool->created = pool->reused = pool->acquires = pool->wait_count = pool->timeouts = 0;
    pool->connect_retries = pool->connect_failures = 0;
    memset(pool->closed_by, 0, sizeof pool->closed_by);
    pool->wait_seconds = 0;
    memset(&pool->waits, 0, sizeof pool->waits);
    for (int i = 0; i < pool->nslots; i++) {
        atomic_store_explicit(&pool->slots[i].conn, NULL, memory_order_relaxed);
        atomic_store_explicit(&pool->slots[i].taken, 0, memory_order_relaxed);
        atomic_store_explicit(&pool->slots[i].inflight, 0, memory_order_relaxed);
    }
    atomic_store_explicit(&pool->slots_off, 0, memory_order_relaxed);
#ifdef SQLPOOL__CHECKED
    sqlpool__books_check_locked(pool);
#endif
}

#ifndef SQLPOOL__CHECKED
void sqlpool__books_check_locked(sqlpool *pool) {
    (void)pool; /* never called: books.h calls it in checked builds only */
}
#else
void sqlpool__books_check_locked(sqlpool *pool) {
    const sqlpool_config *cfg = &pool->cfg;
    long long closed = 0;
    int idle = 0, open = 0, held = 0, borrowed = 0, waiting = 0;
    SQLPOOL__ASSERT_LOCKED(pool);
    for (const sqlpool_conn *c = pool->idle_head; c != NULL; c = c->next) {
        SQLPOOL__ASSERT(sqlpool__conn_state(c) == CONN_IDLE);
        SQLPOOL__ASSERT(c->next != NULL ? c->next->prev == c : pool->idle_tail == c);
        idle++;
    }
    for (const sqlpool_conn *c = pool->all; c != NULL; c = c->all_next) {
        unsigned state = sqlpool__conn_state(c);
        SQLPOOL__ASSERT(state != CONN_CLOSED);
        SQLPOOL__ASSERT(c->all_next == NULL || c->all_next->all_prev == c);
        held += state == CONN_HELD;
        /* Racy against the slots' lock-free moves, which stay within in_use. */
        borrowed += state == CONN_BORROWED;
        open++;
    }
    for (const sqlpool__waiter *w = pool->wait_head; w != NULL; w = w->next) {
        SQLPOOL__ASSERT(w->next != NULL ? w->next->prev == w : pool->wait_tail == w);
        waiting++;
    }
    for (int r = 0; r < CLOSE_REASONS; r++)
        closed += pool->closed_by[r];
    SQLPOOL__ASSERT(idle == pool->idle);
    SQLPOOL__ASSERT(open == pool->open);
    SQLPOOL__ASSERT(held == pool->held);
    SQLPOOL__ASSERT(waiting == pool->waiting);
    SQLPOOL__ASSERT(pool->created - closed == pool->open);
    SQLPOOL__ASSERT(pool->idle + pool->in_use + pool->held == pool->open);
    SQLPOOL__ASSERT(borrowed <= pool->in_use);
    SQLPOOL__ASSERT(sqlpool__slotted(pool) <= pool->in_use);
    SQLPOOL__ASSERT(pool->connecting >= 0 && pool->connecting <= cfg->max_connecting);
    /* Above max_open only as far as a resize left it (no connect is granted there). */
    SQLPOOL__ASSERT(pool->max_open == 0 || pool->open + pool->connecting <= pool->max_open ||
                    pool->open + pool->connecting <= pool->resize_peak);
    SQLPOOL__ASSERT((pool->wait_head == NULL) == (pool->waiting == 0));
}
#endif
