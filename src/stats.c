/* stats.c: a snapshot of the books (sqlpool_stats_get(), through abi.c, fills the library's
 * full-size struct here). Connections idle in a per-processor slot count as idle, and the
 * acquires they served as reused ones that did not wait. */
#include "waiter.h"

#include <stdint.h>
#include <string.h>

void sqlpool__stats_fill(sqlpool *pool, sqlpool_stats *out) {
    sqlpool__histogram waits;
    long long closed = 0, taken = 0;
    int in_slots;
    if (pool == NULL || out == NULL) return;
    sqlpool__fork_check(pool);
    memset(out, 0, sizeof *out);
    sqlpool__pool_lock(pool);
    in_slots = sqlpool__slotted(pool);
    for (int i = 0; i < pool->nslots; i++)
        taken += atomic_load_explicit(&pool->slots[i].taken, memory_order_relaxed);
    waits = pool->waits;
    waits.buckets[0] += (uint64_t)taken; /* served from a slot: no wait */
    waits.count += (uint64_t)taken;
    out->created = pool->created;
    out->reused = pool->reused + taken;
    out->idle = pool->idle + in_slots;
    out->max_idle = pool->max_idle; /* the current caps (sqlpool_resize) */
    out->in_use = pool->in_use - in_slots;
    out->peak_in_use = pool->peak_in_use;
    out->open = pool->open;
    out->connecting = pool->connecting;
    out->waiting = pool->waiting;
    out->max_open = pool->max_open;
    out->closed_idle = pool->closed_by[CLOSE_IDLE];
    out->closed_lifetime = pool->closed_by[CLOSE_LIFETIME];
    out->closed_broken = pool->closed_by[CLOSE_BROKEN];
    out->closed_max_idle = pool->closed_by[CLOSE_MAX_IDLE];
    out->closed_pool = pool->closed_by[CLOSE_POOL];
    out->closed_shrink = pool->closed_by[CLOSE_SHRINK];
    out->closed_close_idle = pool->closed_by[CLOSE_CLOSE_IDLE];
    out->discarded_by_hook = pool->closed_by[CLOSE_HOOK];
    out->closed_evicted = pool->closed_by[CLOSE_EVICTED];
    for (int r = 0; r < CLOSE_REASONS; r++)
        closed += pool->closed_by[r];
    out->closed = closed;
    out->discarded = pool->closed_by[CLOSE_BROKEN];
    out->connect_retries = pool->connect_retries;
    out->connect_failures = pool->connect_failures;
    out->acquires = pool->acquires + taken;
    out->wait_count = pool->wait_count;
    out->timeouts = pool->timeouts;
    out->wait_seconds = pool->wait_seconds;
    sqlpool__pool_unlock(pool);
    out->wait_p50 = (double)sqlpool__hist_quantile(&waits, 0.50) * 1e-9;
    out->wait_p90 = (double)sqlpool__hist_quantile(&waits, 0.90) * 1e-9;
    out->wait_p99 = (double)sqlpool__hist_quantile(&waits, 0.99) * 1e-9;
    out->wait_max = (double)waits.max_ns * 1e-9;
}
