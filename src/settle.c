/* settle.c: the end of a closing pool: who frees it (see settle.h). */
#include "settle.h"
#include "alloc.h"
#include "jobs.h"

int sqlpool__drained_locked(const sqlpool *pool) {
    SQLPOOL__ASSERT_LOCKED(pool);
    return pool->in_use == 0 && pool->connecting == 0 && pool->held == 0 && pool->waiters_live == 0;
}

sqlpool__settlement sqlpool__settle_locked(sqlpool *pool) {
    sqlpool__settlement st = {NULL, 0};
    SQLPOOL__ASSERT_LOCKED(pool);
    if (!pool->closing || !sqlpool__drained_locked(pool)) return st;
    if (pool->closer != NULL) {
        st.closer = pool->closer;
        pool->closer = NULL;
    } else if (pool->orphaned) {
        st.free_pool = 1;
    }
    return st;
}

void sqlpool__settle(sqlpool *pool, sqlpool__settlement st) {
    if (st.closer != NULL) sqlpool__waiter_signal(st.closer);
    if (st.free_pool) sqlpool__free_pool(pool);
}

static void free_one(sqlpool *pool) {
    sqlpool_conn *c = pool->spare;
    while (c != NULL) {
        sqlpool_conn *next = c->next;
        sqlpool__aligned_free(c);
        c = next;
    }
    pool->backend->pool_fini(pool->backend_state);
    if (pool->slots != NULL) sqlpool__aligned_free(pool->slots);
    sqlpool__jobs_fini(pool);
    (void)pthread_cond_destroy(&pool->ev_cv);
    (void)pthread_mutex_destroy(&pool->ev_mu);
    (void)pthread_mutex_destroy(&pool->gc_mu);
    (void)pthread_mutex_destroy(&pool->maint_mu);
    (void)pthread_cond_destroy(&pool->maint_cv);
    sqlpool__free(pool->db_copy);
    sqlpool__free(pool);
}

/* A lane of a single_writer pool is freed with the other: a hook of one lane may reach the
 * other through the pool the caller holds, so neither goes while the other lives. */
void sqlpool__free_pool(sqlpool *pool) {
    sqlpool *writer = pool->lane_writer != NULL ? pool->lane_writer : pool;
    if (writer->read_lane == NULL) {
        free_one(pool);
        return;
    }
    if (atomic_fetch_sub_explicit(&writer->lanes_left, 1, memory_order_acq_rel) != 1) return;
    free_one(writer->read_lane);
    free_one(writer);
}
