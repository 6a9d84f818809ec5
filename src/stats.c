/* stats.c: a snapshot of the books (sqlpool_stats_get(), through abi.c, fills the library's
 * full-size struct here). Connections idle in a per-processor slot count as idle, and the
 * acquires they served as reused ones that did not wait. */
#include "waiter.h"

#include <stdint.h>
#include <string.h>

static void quantiles(const sqlpool__histogram *waits, sqlpool_stats *out);

/* One lane's (or a plain pool's) books; waits: its histogram, for summing lanes. */
static void fill_one(sqlpool *pool, sqlpool_stats *out, sqlpool__histogram *hist) {
    sqlpool__histogram waits;
    long long closed = 0, taken = 0;
    int in_slots;
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
    out->closed_role = pool->closed_by[CLOSE_ROLE];
    out->read_fallbacks = atomic_load_explicit(&pool->read_fallbacks, memory_order_relaxed);
    out->group_commits = atomic_load_explicit(&pool->group_commits, memory_order_relaxed);
    out->grouped = atomic_load_explicit(&pool->grouped, memory_order_relaxed);
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
    if (pool->backend->stats != NULL) pool->backend->stats(pool->backend_state, out);
    quantiles(&waits, out);
    *hist = waits;
}

static void quantiles(const sqlpool__histogram *waits, sqlpool_stats *out) {
    out->wait_p50 = (double)sqlpool__hist_quantile(waits, 0.50) * 1e-9;
    out->wait_p90 = (double)sqlpool__hist_quantile(waits, 0.90) * 1e-9;
    out->wait_p99 = (double)sqlpool__hist_quantile(waits, 0.99) * 1e-9;
    out->wait_max = (double)waits->max_ns * 1e-9;
}

/* The sum of a single_writer pool's lanes (each lane's snapshot is consistent; the two are
 * taken one after the other). Caps add up, except that an uncapped side leaves none. */
static void add_lane(sqlpool_stats *out, const sqlpool_stats *r) {
    out->created += r->created;
    out->reused += r->reused;
    out->idle += r->idle;
    out->max_idle += r->max_idle;
    out->in_use += r->in_use;
    out->peak_in_use += r->peak_in_use; /* each lane's peak: their sum bounds the pool's */
    out->open += r->open;
    out->connecting += r->connecting;
    out->waiting += r->waiting;
    out->max_open = out->max_open > 0 && r->max_open > 0 ? out->max_open + r->max_open : 0;
    out->closed += r->closed;
    out->closed_idle += r->closed_idle;
    out->closed_lifetime += r->closed_lifetime;
    out->closed_broken += r->closed_broken;
    out->closed_max_idle += r->closed_max_idle;
    out->closed_pool += r->closed_pool;
    out->discarded += r->discarded;
    out->connect_retries += r->connect_retries;
    out->connect_failures += r->connect_failures;
    out->acquires += r->acquires;
    out->wait_count += r->wait_count;
    out->timeouts += r->timeouts;
    out->wait_seconds += r->wait_seconds;
    out->closed_shrink += r->closed_shrink;
    out->closed_close_idle += r->closed_close_idle;
    out->discarded_by_hook += r->discarded_by_hook;
    out->closed_evicted += r->closed_evicted;
    out->closed_role += r->closed_role;
    out->read_fallbacks += r->read_fallbacks;
    out->group_commits += r->group_commits;
    out->grouped += r->grouped;
}

void sqlpool__stats_fill(sqlpool *pool, sqlpool_stats *out) {
    sqlpool__histogram waits, rwaits;
    sqlpool_stats r;
    if (pool == NULL || out == NULL) return;
    fill_one(pool, out, &waits);
    if (pool->read_lane == NULL) return;
    fill_one(pool->read_lane, &r, &rwaits);
    add_lane(out, &r);
    sqlpool__hist_merge(&waits, &rwaits);
    quantiles(&waits, out);
    /* One database, one WAL: the lanes' counters are the same hook's, counted apart. */
    out->checkpoints += r.checkpoints;
    out->checkpoints_busy += r.checkpoints_busy;
    if (r.wal_peak > out->wal_peak) out->wal_peak = r.wal_peak;
}

void sqlpool__stats_fill_lane(sqlpool *pool, sqlpool_stats *out) {
    sqlpool__histogram waits;
    fill_one(pool, out, &waits);
}
