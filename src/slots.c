/* slots.c: the per-processor caches' work under the pool lock (see slots.h). */
#include "slots.h"

#include <sched.h>

void sqlpool__slots_drain_locked(sqlpool *pool, sqlpool_conn **retire) {
    SQLPOOL__ASSERT_LOCKED(pool);
    for (int i = 0; i < pool->nslots; i++) {
        sqlpool_conn *c;
        if (atomic_load_explicit(&pool->slots[i].conn, memory_order_relaxed) == NULL) continue;
        c = atomic_exchange_explicit(&pool->slots[i].conn, NULL, memory_order_seq_cst);
        if (c == NULL) continue;
        if (retire == NULL || (pool->idle < pool->max_idle && !pool->closing)) {
            sqlpool__books_move(pool, c, BOOK_SLOTTED, BOOK_IDLE, 0); /* keeps released_at */
        } else {
            sqlpool__books_move(pool, c, BOOK_SLOTTED, BOOK_CLOSED,
                                pool->closing ? CLOSE_POOL : CLOSE_MAX_IDLE);
            c->next = *retire;
            *retire = c;
        }
    }
}

void sqlpool__slots_stop_locked(sqlpool *pool) {
    SQLPOOL__ASSERT_LOCKED(pool);
    atomic_store_explicit(&pool->slots_off, 1, memory_order_seq_cst);
    /* Order the store before the drain's loads (which may be relaxed), against
     * sqlpool__slot_put()'s fill-then-read: a store-release alone may pass a later load on
     * weakly ordered CPUs. */
    atomic_thread_fence(memory_order_seq_cst);
    sqlpool__slots_drain_locked(pool, NULL);
}

void sqlpool__slots_shut(sqlpool *pool) {
    atomic_store_explicit(&pool->slots_off, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst); /* see sqlpool__slots_stop_locked() */
    for (int i = 0; i < pool->nslots; i++)
        while (atomic_load_explicit(&pool->slots[i].inflight, memory_order_acquire) != 0)
            (void)sched_yield();
}

sqlpool_conn *sqlpool__slots_steal_locked(sqlpool *pool, double now, const char *file, int line) {
    SQLPOOL__ASSERT_LOCKED(pool);
    if (atomic_load_explicit(&pool->slots_off, memory_order_relaxed)) return NULL;
    for (int i = 0; i < pool->nslots; i++) {
        sqlpool__slot *s = &pool->slots[i];
        sqlpool_conn *c;
        if (atomic_load_explicit(&s->conn, memory_order_relaxed) == NULL) continue;
        c = atomic_exchange_explicit(&s->conn, NULL, memory_order_acquire);
        if (c == NULL) continue;
        if (sqlpool__needs_check(pool, c, now)) { /* onto the idle list, where acquire checks it */
            sqlpool__books_move(pool, c, BOOK_SLOTTED, BOOK_IDLE, 0);
            continue;
        }
        return sqlpool__slot_lend(pool, s, c, file, line);
    }
    return NULL;
}
