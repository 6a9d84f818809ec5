/*
 * pool.c: the pool core: the LIFO list of idle connections, the first-come-first-served queue
 * of waiters, the counters, and the acquire, release and close paths.
 *
 * The pool lock guards only pointer and counter updates. Database work (connect, reset, ping,
 * close) always happens outside it, through the backend table, and so does every wait: a
 * thread that waits for a connection sleeps on its own condition variable and is handed a
 * connection (or a turn to open one) directly by whoever frees it.
 */
#include "pool_internal.h"
#include "alloc.h"

#include "dsn.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void waiter_signal(sqlpool__waiter *w);

static void lock(sqlpool *pool) {
    sqlpool__lock_acquire(&pool->lock);
}

/* In throughput mode a connection may be left idle while threads wait (see give_back()); the
 * first waiter then must look at it before long. If it sleeps without a timer, nudge it. */
static void unlock(sqlpool *pool) {
    sqlpool__waiter *nudge = NULL;
    if (pool->wait_head != NULL && !pool->head_awake && pool->cfg.barge_window > 0 &&
        (pool->idle > 0 || pool->nslots > 0)) {
        nudge = pool->wait_head;
        nudge->sent++;
        pool->head_awake = 1;
    }
    sqlpool__lock_release(&pool->lock);
    if (nudge != NULL) waiter_signal(nudge); /* it cannot leave before this arrives */
}

void sqlpool__unlock(sqlpool *pool) {
    unlock(pool);
}

const char *sqlpool_version(void) {
    return SQLPOOL_VERSION;
}

/* ---- clocks ---- */

static double system_clock(clockid_t id) {
    struct timespec ts;
    (void)clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double sqlpool__now(sqlpool *pool) {
    if (pool->cfg.clock != NULL) return pool->cfg.clock(pool->cfg.clock_ctx);
    return system_clock(CLOCK_MONOTONIC);
}

/* A few milliseconds coarse and several times cheaper: for idle ages and lifetimes. */
double sqlpool__now_coarse(sqlpool *pool) {
    if (pool->cfg.clock != NULL) return pool->cfg.clock(pool->cfg.clock_ctx);
#ifdef CLOCK_MONOTONIC_COARSE
    return system_clock(CLOCK_MONOTONIC_COARSE);
#else
    return system_clock(CLOCK_MONOTONIC);
#endif
}

/* The clock of the barging window: the system's, whatever config.clock says. */
static double mono(void) {
    return system_clock(CLOCK_MONOTONIC);
}

double sqlpool_clock(sqlpool *pool) {
    return pool != NULL ? sqlpool__now(pool) : 0.0;
}

/* ---- handles and states ---- */

static unsigned state_of(unsigned word) {
    return word & 3u;
}
static unsigned gen_of(unsigned word) {
    return word >> 2;
}

static void set_word(sqlpool_conn *c, unsigned gen, unsigned state) {
    atomic_store_explicit(&c->word, gen << 2 | state, memory_order_relaxed);
}

static sqlpool_conn *handle_of(sqlpool_conn *c) {
    unsigned gen = gen_of(atomic_load_explicit(&c->word, memory_order_relaxed));
    return (sqlpool_conn *)((uintptr_t)c | (gen & SQLPOOL__GEN_MASK));
}

/* The connection behind a handle, when the handle's borrow is the current one; else NULL. */
static sqlpool_conn *borrowed(sqlpool_conn *handle) {
    uintptr_t u = (uintptr_t)handle;
    sqlpool_conn *c = (sqlpool_conn *)(u & ~(uintptr_t)SQLPOOL__GEN_MASK);
    unsigned word = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (state_of(word) != CONN_BORROWED ||
        (gen_of(word) & SQLPOOL__GEN_MASK) != (u & SQLPOOL__GEN_MASK))
        return NULL;
    return c;
}

/* The pool of a handle that is no longer current, to log against; structs outlive borrows. */
static sqlpool *pool_of_stale(sqlpool_conn *handle) {
    return ((sqlpool_conn *)((uintptr_t)handle & ~(uintptr_t)SQLPOOL__GEN_MASK))->pool;
}

static int misuse(sqlpool_conn *handle, const char *what) {
    SQLPOOL__LOG(&pool_of_stale(handle)->cfg, SQLPOOL_LOG_ERROR,
                 "conn_misuse %s on a connection that was already released", what);
    return sqlpool__fail(SQLPOOL_EMISUSE, "%s on a connection that was already released", what);
}

/* ---- lists (under lock) ---- */

static void idle_push_locked(sqlpool *pool, sqlpool_conn *c) {
    assert(sqlpool__lock_held(&pool->lock));
    c->prev = NULL;
    c->next = pool->idle_head;
    if (pool->idle_head)
        pool->idle_head->prev = c;
    else
        pool->idle_tail = c;
    pool->idle_head = c;
    pool->idle++;
}

/* At the idle list's old end: for a connection back from a keepalive check. */
static void idle_push_old_locked(sqlpool *pool, sqlpool_conn *c) {
    assert(sqlpool__lock_held(&pool->lock));
    c->next = NULL;
    c->prev = pool->idle_tail;
    if (pool->idle_tail)
        pool->idle_tail->next = c;
    else
        pool->idle_head = c;
    pool->idle_tail = c;
    pool->idle++;
}

void sqlpool__idle_remove_locked(sqlpool *pool, sqlpool_conn *c) {
    assert(sqlpool__lock_held(&pool->lock));
    if (c->prev)
        c->prev->next = c->next;
    else
        pool->idle_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        pool->idle_tail = c->prev;
    c->prev = c->next = NULL;
    pool->idle--;
}

void sqlpool__all_add_locked(sqlpool *pool, sqlpool_conn *c) {
    assert(sqlpool__lock_held(&pool->lock));
    c->all_prev = NULL;
    c->all_next = pool->all;
    if (pool->all) pool->all->all_prev = c;
    pool->all = c;
}

static void all_remove_locked(sqlpool *pool, sqlpool_conn *c) {
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        pool->all = c->all_next;
    if (c->all_next) c->all_next->all_prev = c->all_prev;
    c->all_prev = c->all_next = NULL;
}

/* Throughput mode, once the first waiter has waited out its window: turn the per-processor
 * slots off (no more overtaking through them) and put what idles there on the idle list,
 * where the waiters find it (a release filling a slot meanwhile sees slots_off and hands its
 * connection over). max_idle may be exceeded by a connection per slot, until releases or
 * maintenance trim the list. */
/* Under the lock: empty every slot onto the idle list (keeping released_at). With retire,
 * what is beyond max_idle, or everything when closing, is retired into *retire instead, for
 * the caller to close after the unlock. */
static void drain_slots_locked(sqlpool *pool, sqlpool_conn **retire) {
    assert(sqlpool__lock_held(&pool->lock));
    for (int i = 0; i < pool->nslots; i++) {
        sqlpool_conn *c;
        if (atomic_load_explicit(&pool->slots[i].conn, memory_order_relaxed) == NULL) continue;
        c = atomic_exchange_explicit(&pool->slots[i].conn, NULL, memory_order_seq_cst);
        if (c == NULL) continue;
        pool->in_use--;
        if (retire == NULL || (pool->idle < pool->cfg.max_idle && !pool->closing)) {
            idle_push_locked(pool, c);
        } else {
            sqlpool__retire_locked(pool, c, pool->closing ? CLOSE_POOL : CLOSE_MAX_IDLE);
            c->next = *retire;
            *retire = c;
        }
    }
}

static void slots_stop_locked(sqlpool *pool) {
    assert(sqlpool__lock_held(&pool->lock));
    atomic_store_explicit(&pool->slots_off, 1, memory_order_seq_cst);
    /* Order the store before the drain's loads (which may be relaxed), against slot_put()'s
     * fill-then-read: a store-release alone may pass a later load on weakly ordered CPUs. */
    atomic_thread_fence(memory_order_seq_cst);
    drain_slots_locked(pool, NULL);
}

/* A new first waiter (or none). In throughput mode newcomers may overtake it until it has
 * waited barge_window in all; then the slots stop, and releases hand it their connection. */
static void head_changed_locked(sqlpool *pool) {
    sqlpool__waiter *w = pool->wait_head;
    pool->head_awake = 0;
    if (pool->cfg.barge_window <= 0) return;
    if (w != NULL) pool->head_until = w->mono_since + pool->cfg.barge_window;
    if (pool->nslots == 0 || pool->closing) return;
    if (w != NULL && mono() >= pool->head_until)
        slots_stop_locked(pool);
    else
        atomic_store_explicit(&pool->slots_off, 0, memory_order_seq_cst);
}

/* Throughput mode: may a newcomer take a connection while threads wait? Only while the first
 * waiter has waited less than barge_window. */
static int may_barge_locked(const sqlpool *pool) {
    return pool->cfg.barge_window > 0 && mono() < pool->head_until;
}

static void queue_push_locked(sqlpool *pool, sqlpool__waiter *w) {
    assert(sqlpool__lock_held(&pool->lock));
    if (pool->cfg.barge_window > 0) w->mono_since = mono();
    w->next = NULL;
    w->prev = pool->wait_tail;
    if (pool->wait_tail) {
        pool->wait_tail->next = w;
    } else {
        pool->wait_head = w;
        head_changed_locked(pool);
    }
    pool->wait_tail = w;
    pool->waiting++;
}

/* Back at the front of the queue: a first waiter whose connection failed its check. */
static void queue_push_head_locked(sqlpool *pool, sqlpool__waiter *w) {
    assert(sqlpool__lock_held(&pool->lock));
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

static void queue_remove_locked(sqlpool *pool, sqlpool__waiter *w) {
    assert(sqlpool__lock_held(&pool->lock));
    int was_head = w->prev == NULL;
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

/* ---- the books (under lock) ---- */

static void record_wait_locked(sqlpool *pool, double seconds) {
    assert(sqlpool__lock_held(&pool->lock));
    if (seconds < 0) seconds = 0;
    sqlpool__hist_record(&pool->waits, (uint64_t)(seconds * 1e9));
    if (seconds > 0) {
        pool->wait_count++;
        pool->wait_seconds += seconds;
    }
}

/* Connections idle in the per-processor slots (counted in in_use; see slot_put()). */
static int slotted(const sqlpool *pool) {
    int n = 0;
    for (int i = 0; i < pool->nslots; i++)
        n += atomic_load_explicit(&pool->slots[i].conn, memory_order_relaxed) != NULL;
    return n;
}

/* Make c borrowed by a new holder: a new generation, so older handles stop working. */
static void borrow_locked(sqlpool *pool, sqlpool_conn *c, double now, const char *file, int line) {
    assert(sqlpool__lock_held(&pool->lock));
    set_word(c, gen_of(atomic_load_explicit(&c->word, memory_order_relaxed)) + 1, CONN_BORROWED);
    if (++pool->in_use > pool->peak_in_use) {
        int borrowed_now = pool->in_use - slotted(pool);
        if (borrowed_now > pool->peak_in_use) pool->peak_in_use = borrowed_now;
    }
    c->acquired_at = now;
    c->acquired_file = file;
    c->acquired_line = line;
    c->leak_warned = 0;
    c->native_used = 0;
}

static int can_connect_locked(const sqlpool *pool) {
    const sqlpool_config *cfg = &pool->cfg;
    return pool->connecting < cfg->max_connecting &&
           (cfg->max_open == 0 || pool->open + pool->connecting < cfg->max_open);
}

void sqlpool__retire_locked(sqlpool *pool, sqlpool_conn *c, int reason) {
    assert(sqlpool__lock_held(&pool->lock));
    all_remove_locked(pool, c);
    set_word(c, gen_of(atomic_load_explicit(&c->word, memory_order_relaxed)), CONN_CLOSED);
    pool->open--;
    pool->closed_by[reason]++;
}

sqlpool__waiter *sqlpool__grant_locked(sqlpool *pool) {
    assert(sqlpool__lock_held(&pool->lock));
    sqlpool__waiter *list = NULL, **tail = &list;
    while (pool->wait_head != NULL && can_connect_locked(pool)) {
        sqlpool__waiter *w = pool->wait_head;
        queue_remove_locked(pool, w);
        w->grant = 1;
        w->sent++;
        pool->connecting++;
        *tail = w;
        tail = &w->next;
    }
    return list;
}

sqlpool__waiter *sqlpool__offer_locked(sqlpool *pool, sqlpool_conn *c, double now, int old,
                                       int *pooled) {
    assert(sqlpool__lock_held(&pool->lock));
    sqlpool__waiter *w = pool->wait_head;
    *pooled = 1;
    if (w != NULL) {
        queue_remove_locked(pool, w);
        borrow_locked(pool, c, now, w->file, w->line);
        pool->reused++;
        pool->acquires++;
        w->conn = c;
        w->sent++;
        return w;
    }
    if (pool->idle < pool->cfg.max_idle && !pool->closing) {
        set_word(c, gen_of(atomic_load_explicit(&c->word, memory_order_relaxed)), CONN_IDLE);
        if (old) {
            idle_push_old_locked(pool, c);
        } else {
            c->released_at = now;
            idle_push_locked(pool, c);
        }
        return NULL;
    }
    *pooled = 0;
    return NULL;
}

/* ---- waking ---- */

static void waiter_signal(sqlpool__waiter *w) {
    if (pthread_mutex_lock(&w->mu) != 0) abort();
    w->delivered++;
    if (pthread_cond_signal(&w->cv) != 0) abort();
    if (pthread_mutex_unlock(&w->mu) != 0) abort();
}

void sqlpool__wake_all(sqlpool__waiter *list) {
    while (list != NULL) {
        /* Read next first: once signaled, the waiter may return and its frame vanish. */
        sqlpool__waiter *next = list->next;
        waiter_signal(list);
        list = next;
    }
}

/* ---- open and close ---- */

static void free_pool(sqlpool *pool) {
    sqlpool_conn *c = pool->spare;
    while (c != NULL) {
        sqlpool_conn *next = c->next;
        sqlpool__aligned_free(c);
        c = next;
    }
    pool->backend->pool_fini(pool->backend_state);
    if (pool->slots != NULL) sqlpool__aligned_free(pool->slots);
    (void)pthread_mutex_destroy(&pool->maint_mu);
    (void)pthread_cond_destroy(&pool->maint_cv);
    sqlpool__free(pool->db_copy);
    sqlpool__free(pool);
}

/* The per-processor caches serve throughput mode when nothing needs the lock's bookkeeping on
 * every borrow: no leak tracking (where and when acquired), no per-borrow backend check
 * (PostgreSQL's), a validation window, and no info-level log line per reuse. */
static int slots_wanted(const sqlpool *pool) {
    const sqlpool_config *cfg = &pool->cfg;
    return cfg->barge_window > 0 && cfg->leak_threshold <= 0 && cfg->validation_bypass > 0 &&
           pool->backend->check == NULL && !sqlpool__log_enabled(cfg, SQLPOOL_LOG_INFO);
}

static int init_pool(sqlpool *pool, const sqlpool_config *cfg) {
    char err[256] = "";
    int rc;
    const char *name = cfg->name != NULL ? cfg->name : "sqlpool";
    size_t dblen = strlen(cfg->db), namelen = strlen(name);
    pool->cfg = *cfg;
    /* One block for both strings: db, then name. */
    pool->db_copy = sqlpool__malloc(dblen + 1 + namelen + 1);
    if (pool->db_copy == NULL) return sqlpool__fail(SQLPOOL_ENOMEM, "out of memory");
    memcpy(pool->db_copy, cfg->db, dblen + 1);
    memcpy(pool->db_copy + dblen + 1, name, namelen + 1);
    pool->cfg.db = pool->db_copy;
    pool->cfg.name = pool->db_copy + dblen + 1;
    pool->cfg.sqlite_vfs = NULL; /* not copied: resolved by the backend in pool_init */
    pool->backend = sqlpool__backend_for(cfg->db);
    rc = pool->backend->pool_init(cfg, &pool->backend_state, err, sizeof err);
    if (rc != SQLPOOL_OK) {
        sqlpool__free(pool->db_copy);
        return sqlpool__fail(rc, "%s", err);
    }
    if (pthread_mutex_init(&pool->maint_mu, NULL) != 0) abort();
    sqlpool__cond_init_monotonic(&pool->maint_cv);
    atomic_init(&pool->slots_off, 0);
    if (slots_wanted(pool)) {
        int n = sqlpool__cpus();
        pool->slots = sqlpool__aligned_alloc(SQLPOOL__LINE, (size_t)n * sizeof *pool->slots);
        if (pool->slots != NULL) { /* without them, every borrow takes the lock: still correct */
            pool->nslots = n;
            for (int i = 0; i < n; i++) {
                atomic_init(&pool->slots[i].conn, NULL);
                atomic_init(&pool->slots[i].taken, 0);
                atomic_init(&pool->slots[i].inflight, 0);
            }
        }
    }
    return SQLPOOL_OK;
}

int sqlpool__open(const sqlpool_config *cfg, sqlpool **out) {
    sqlpool *pool;
    int rc;

    sqlpool__clear_error();
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (cfg == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "cfg is NULL");
    if (!sqlpool_has_postgresql() && sqlpool__dsn_is_pg(cfg->db))
        return sqlpool__fail(SQLPOOL_ENOTSUP, "this build has no PostgreSQL support (libpq)");
    pool = sqlpool__calloc(1, sizeof *pool);
    if (pool == NULL) return sqlpool__fail(SQLPOOL_ENOMEM, "out of memory creating the pool");
    if ((rc = init_pool(pool, cfg)) != SQLPOOL_OK) {
        sqlpool__free(pool);
        return rc;
    }
    /* min_idle connections now, so a database that cannot be reached fails here, with the
     * code an acquire would have returned (busy, broken, ...). */
    if (cfg->min_idle > 0) {
        char why[256];
        sqlpool__maintain_pass(pool);
        lock(pool);
        rc = pool->idle > 0                        ? SQLPOOL_OK
             : pool->last_connect_rc != SQLPOOL_OK ? pool->last_connect_rc
                                                   : SQLPOOL_ECONNECT;
        memcpy(why, pool->last_connect_error, sizeof why);
        unlock(pool);
        if (rc != SQLPOOL_OK) {
            pool->cfg.close_timeout = 0;
            sqlpool_close(pool);
            return sqlpool__fail(rc, "%s", why);
        }
    }
    if ((rc = sqlpool__maintenance_start(pool)) != SQLPOOL_OK) {
        sqlpool_close(pool);
        return rc;
    }
    *out = pool;
    return SQLPOOL_OK;
}

static sqlpool_conn *new_conn_struct(sqlpool *pool) {
    sqlpool_conn *c;
    lock(pool);
    c = pool->spare;
    if (c != NULL) pool->spare = c->next;
    unlock(pool);
    if (c == NULL) {
        size_t size = (sizeof *c + SQLPOOL__CONN_ALIGN - 1) & ~(size_t)(SQLPOOL__CONN_ALIGN - 1);
        c = sqlpool__aligned_alloc(SQLPOOL__CONN_ALIGN, size);
        if (c == NULL) return NULL;
        memset(c, 0, sizeof *c);
        atomic_init(&c->word, CONN_CLOSED);
        c->pool = pool;
    }
    c->prev = c->next = NULL;
    c->handle = NULL;
    return c;
}

static void spare_push_locked(sqlpool *pool, sqlpool_conn *c) {
    assert(sqlpool__lock_held(&pool->lock));
    c->next = pool->spare;
    pool->spare = c;
}

static void recycle_conn_struct(sqlpool *pool, sqlpool_conn *c) {
    lock(pool);
    spare_push_locked(pool, c);
    unlock(pool);
}

void sqlpool__close_conn(sqlpool *pool, sqlpool_conn *c) {
    pool->backend->close(c->handle);
    c->handle = NULL;
    recycle_conn_struct(pool, c);
}

/* The wait before a connect retry, cut short by sqlpool_close(): in slices, looking at
 * pool->closing between them. Returns 1 when the pool began to close. */
static int retry_sleep(sqlpool *pool, double seconds) {
    for (;;) {
        int closing;
        double slice = seconds < 0.05 ? seconds : 0.05;
        sqlpool__sleep(slice);
        seconds -= slice;
        lock(pool);
        closing = pool->closing;
        unlock(pool);
        if (closing) return 1;
        if (seconds <= 0) return 0;
    }
}

/* Only +INFINITY means "no deadline"; -INFINITY is a deadline long past, like any other. */
static int no_deadline(double t) {
    return t == INFINITY;
}

/* Connect, retrying errors that can pass, while the deadline (pool clock; INFINITY for none)
 * leaves room for the next wait and the pool is not closing. */
static int connect_with_retry(sqlpool *pool, void **handle, double deadline) {
    const sqlpool_config *cfg = &pool->cfg;
    char err[256];

    for (int attempt = 0;; attempt++) {
        int retriable = 0, rc;
        double wait;
        err[0] = '\0';
        if (cfg->before_connect != NULL && cfg->before_connect(cfg->before_connect_ctx) != 0) {
            rc = SQLPOOL_ECONNECT; /* injected: a failure that can pass */
            retriable = 1;
            sqlpool__format(err, sizeof err, "connect failed (injected by before_connect)");
        } else {
            rc = pool->backend->connect(pool->backend_state, handle, &retriable, err, sizeof err);
        }
        if (rc == SQLPOOL_OK) return SQLPOOL_OK;
        if (!retriable) return sqlpool__fail(rc, "%s", err);
        if (attempt >= cfg->max_retries)
            return sqlpool__fail(SQLPOOL_EBUSY, "failed after %d retries: %s", cfg->max_retries,
                                 err);
        wait = sqlpool__backoff_delay(cfg->retry_backoff, attempt);
        if (!no_deadline(deadline) && sqlpool__now(pool) + wait >= deadline)
            return sqlpool__fail(SQLPOOL_ETIMEDOUT,
                                 "timed out connecting: retry %d would come after the deadline: %s",
                                 attempt + 1, err);
        SQLPOOL__LOG(cfg, SQLPOOL_LOG_WARNING, "connect_retry attempt=%d wait_ms=%.1f error=%s",
                     attempt + 1, wait * 1e3, err);
        lock(pool);
        pool->connect_retries++;
        unlock(pool);
        if (retry_sleep(pool, wait)) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    }
}

/* The connection's expiry: max_lifetime less up to 2.5%, so a batch does not expire at once. */
static double expiry(const sqlpool *pool, double now) {
    double life = pool->cfg.max_lifetime;
    if (life <= 0) return INFINITY;
    return now + life * (1.0 - 0.025 * sqlpool__random_unit());
}

int sqlpool__open_conn(sqlpool *pool, sqlpool_conn **out, double now, double deadline) {
    sqlpool_conn *c = new_conn_struct(pool);
    int rc;
    *out = NULL;
    if (c == NULL) {
        (void)sqlpool__fail(SQLPOOL_ENOMEM, "out of memory opening a connection");
        return SQLPOOL_ENOMEM; /* spelled out: the analyzer cannot see what sqlpool__fail returns */
    }
    rc = connect_with_retry(pool, &c->handle, deadline);
    if (rc != SQLPOOL_OK) {
        recycle_conn_struct(pool, c);
        return rc;
    }
    c->created_at = c->released_at = c->checked_at = now;
    c->expires_at = expiry(pool, now);
    *out = c;
    return SQLPOOL_OK;
}

/*
 * While the pool is closing, whoever takes the last borrowed connection or connect in flight
 * off the books either wakes sqlpool_close() or, once that has given up waiting, frees the
 * pool. settle_locked() decides under the lock, in the same critical section as the
 * decrement; settle() acts after the unlock and is the caller's last use of the pool.
 */
/* Nobody can touch the pool any more: nothing borrowed, connecting, held for a check, and no
 * thread still inside acquire's wait. */
static int drained_locked(const sqlpool *pool) {
    return pool->in_use == 0 && pool->connecting == 0 && pool->held == 0 && pool->waiters_live == 0;
}

typedef struct settlement {
    sqlpool__waiter *closer;
    int free_pool;
} settlement;

static settlement settle_locked(sqlpool *pool) {
    settlement st = {NULL, 0};
    assert(sqlpool__lock_held(&pool->lock));
    if (!pool->closing || !drained_locked(pool)) return st;
    if (pool->closer != NULL) {
        st.closer = pool->closer;
        pool->closer = NULL;
    } else if (pool->orphaned) {
        st.free_pool = 1;
    }
    return st;
}

static void settle(sqlpool *pool, settlement st) {
    if (st.closer != NULL) waiter_signal(st.closer);
    if (st.free_pool) free_pool(pool);
}

/* Close a borrowed connection and take it off the books. The handle is closed first, while
 * the caller still counts in in_use, so a closing pool cannot be freed under it. Returns 1
 * when the pool may have been freed: the caller must not touch it again. */
static void close_borrowed_handle(sqlpool *pool, sqlpool_conn *c) {
    pool->backend->close(c->handle);
    c->handle = NULL;
    sqlpool__maintenance_kick(pool);
}

/* Under the lock, after close_borrowed_handle(): off the books, its struct kept for reuse. */
static void retire_borrowed_locked(sqlpool *pool, sqlpool_conn *c, int reason) {
    pool->in_use--;
    sqlpool__retire_locked(pool, c, reason);
    spare_push_locked(pool, c);
}

static int retire_borrowed(sqlpool *pool, sqlpool_conn *c, int reason) {
    sqlpool__waiter *wake;
    settlement st;
    close_borrowed_handle(pool, c);
    lock(pool);
    retire_borrowed_locked(pool, c, reason);
    wake = sqlpool__grant_locked(pool);
    st = settle_locked(pool);
    unlock(pool);
    sqlpool__wake_all(wake);
    settle(pool, st);
    return st.closer != NULL || st.free_pool; /* 1: the pool may be gone */
}

/* A connection the caller has the right to open (connecting already counted): open it and
 * make it the caller's. */
static int connect_for(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                       int line) {
    sqlpool_conn *c = NULL;
    sqlpool__waiter *wake;
    settlement st;
    long long created, reused;
    double now = sqlpool__now_coarse(pool);
    int rc = sqlpool__open_conn(pool, &c, now, deadline);

    if (rc == SQLPOOL_OK) {
        lock(pool);
        if (!pool->closing) {
            pool->connecting--;
            pool->created++;
            pool->open++;
            sqlpool__all_add_locked(pool, c);
            borrow_locked(pool, c, now, file, line);
            pool->acquires++;
            created = pool->created;
            reused = pool->reused;
            wake = sqlpool__grant_locked(pool); /* our turn is over: the next waiter's */
            unlock(pool);
            sqlpool__wake_all(wake);
            SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_create total=%lld reused=%lld",
                         created, reused);
            *out = handle_of(c);
            return SQLPOOL_OK;
        }
        unlock(pool);
        pool->backend->close(c->handle); /* opened too late: the pool is closing */
        rc = sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    } else {
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR, "connect_failed error=%s", sqlpool_errmsg());
    }
    lock(pool);
    pool->connecting--;
    if (c != NULL) spare_push_locked(pool, c);
    if (rc != SQLPOOL_ECLOSED) {
        pool->connect_failures++;
        if (rc == SQLPOOL_ETIMEDOUT) pool->timeouts++; /* the acquire's deadline came first */
        pool->last_connect_rc = rc;
        sqlpool__format(pool->last_connect_error, sizeof pool->last_connect_error, "%s",
                        sqlpool_errmsg());
    }
    wake = sqlpool__grant_locked(pool); /* the turn passes on */
    st = settle_locked(pool);
    unlock(pool);
    sqlpool__wake_all(wake);
    settle(pool, st);
    return rc;
}

/* ---- idle connections handed out ---- */

/* An idle connection handed out: counted once it has passed its check. zero_wait: for an
 * acquire that did not wait (a waiter's wait is recorded when it leaves the queue). */
static void count_reuse_locked(sqlpool *pool, int zero_wait) {
    assert(sqlpool__lock_held(&pool->lock));
    pool->reused++;
    pool->acquires++;
    if (zero_wait) sqlpool__hist_record_zero(&pool->waits);
}

static int expired(const sqlpool_conn *c, double now) {
    return now >= c->expires_at;
}

/* Whether an idle connection must be checked (or retired) before it is handed out: past its
 * lifetime, or idle longer than validation_bypass (0: always). */
static int needs_check(const sqlpool *pool, const sqlpool_conn *c, double now) {
    return expired(c, now) || pool->cfg.validation_bypass <= 0 ||
           now - c->released_at > pool->cfg.validation_bypass;
}

/* Before a connection is handed out: the backend's cheap check (PostgreSQL: has the server
 * hung up?), and a ping when it sat idle longer than validation_bypass. */
static int usable(sqlpool *pool, sqlpool_conn *c, int ping) {
    char err[256] = "";
    if (pool->backend->check != NULL && pool->backend->check(c->handle) != SQLPOOL_OK) {
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING, "conn_invalid reason=connection lost");
        return 0;
    }
    if (!ping || pool->backend->ping(c->handle, err, sizeof err) == SQLPOOL_OK) return 1;
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING, "conn_invalid reason=%s", err);
    return 0;
}

/* ---- per-processor caches (throughput mode) ----
 *
 * A release on processor i may leave the connection in slot i instead of the idle list, and
 * the next acquire on processor i takes it from there: no pool lock, and on a busy machine no
 * cache line of the pool's travels between processors. A connection in a slot is idle but
 * still counted in in_use; whoever takes it out of the slot (an acquire, or the lock holder
 * emptying the slots) owns it. The slots are off (slots_off) once the first waiter has waited
 * barge_window (it must then see every idle connection), and while the pool closes. Setting
 * slots_off and then emptying the slots, against filling a slot and then reading slots_off
 * (all seq_cst), leaves no connection in a slot unseen: one side sees the other. An acquire
 * that finds nothing idle takes from any slot before it waits. */

/* A connection out of a slot (state CONN_IDLE, counted in in_use) back to the books: closed
 * if past its lifetime; else handed to the first waiter, unless it is due a check (then the
 * idle list, where whoever takes it checks it); else the idle list, or closed beyond
 * max_idle. */
static void unslot(sqlpool *pool, sqlpool_conn *c) {
    sqlpool__waiter *wake = NULL;
    double now = sqlpool__now_coarse(pool);
    int pooled = 0, reason = CLOSE_POOL;
    int due = needs_check(pool, c, now);
    if (expired(c, now)) {
        (void)retire_borrowed(pool, c, CLOSE_LIFETIME);
        return;
    }
    lock(pool);
    if (!pool->closing) {
        pool->in_use--;
        if (pool->wait_head != NULL && !due) {
            wake = sqlpool__offer_locked(pool, c, now, 0, &pooled);
        } else if (pool->idle < pool->cfg.max_idle || due) {
            idle_push_locked(pool, c); /* keeps its released_at */
            pooled = 1;
        }
        if (!pooled) pool->in_use++; /* retire_borrowed() counts it down */
        reason = CLOSE_MAX_IDLE;
    }
    unlock(pool);
    sqlpool__wake_all(wake);
    if (!pooled) (void)retire_borrowed(pool, c, reason);
}

/* Close what drain_slots_locked() retired. After the unlock. */
static void close_list(sqlpool *pool, sqlpool_conn *list) {
    while (list != NULL) {
        sqlpool_conn *next = list->next;
        sqlpool__close_conn(pool, list);
        list = next;
    }
}

void sqlpool__drain_slots(sqlpool *pool) {
    sqlpool_conn *retire = NULL;
    if (pool->nslots == 0) return;
    lock(pool);
    drain_slots_locked(pool, &retire);
    unlock(pool);
    close_list(pool, retire);
}

/* Turn the slots off and wait until no release is between its look at slots_off and its
 * last touch of the pool; then the caller, under the lock, empties them for good. */
static void slots_shut(sqlpool *pool) {
    atomic_store_explicit(&pool->slots_off, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst); /* see slots_stop_locked() */
    for (int i = 0; i < pool->nslots; i++)
        while (atomic_load_explicit(&pool->slots[i].inflight, memory_order_acquire) != 0)
            sched_yield();
}

/* A connection just taken out of slot s, borrowed by the taker (counted in in_use already). */
static sqlpool_conn *slot_borrow(sqlpool__slot *s, sqlpool_conn *c) {
    set_word(c, gen_of(atomic_load_explicit(&c->word, memory_order_relaxed)) + 1, CONN_BORROWED);
    c->native_used = 0;
    atomic_fetch_add_explicit(&s->taken, 1, memory_order_relaxed);
    return c;
}

/* An acquire's first try: this processor's slot. Returns the connection, borrowed, or NULL. */
static sqlpool_conn *slot_take(sqlpool *pool, double now) {
    sqlpool__slot *s;
    sqlpool_conn *c;
    if (atomic_load_explicit(&pool->slots_off, memory_order_relaxed)) return NULL;
    s = &pool->slots[sqlpool__cpu() % pool->nslots];
    if (atomic_load_explicit(&s->conn, memory_order_relaxed) == NULL) return NULL;
    c = atomic_exchange_explicit(&s->conn, NULL, memory_order_acquire);
    if (c == NULL) return NULL;
    if (needs_check(pool, c, now)) {
        unslot(pool, c); /* acquire finds it on the idle list and checks it, or it is closed */
        return NULL;
    }
    return slot_borrow(s, c);
}

/* Under the lock, when nothing is idle: take a connection from any slot (while they are on).
 * Returns it, borrowed, or NULL. */
static sqlpool_conn *slot_steal(sqlpool *pool, double now) {
    if (atomic_load_explicit(&pool->slots_off, memory_order_relaxed)) return NULL;
    for (int i = 0; i < pool->nslots; i++) {
        sqlpool__slot *s = &pool->slots[i];
        sqlpool_conn *c;
        if (atomic_load_explicit(&s->conn, memory_order_relaxed) == NULL) continue;
        c = atomic_exchange_explicit(&s->conn, NULL, memory_order_acquire);
        if (c == NULL) continue;
        if (needs_check(pool, c, now)) { /* onto the idle list, where acquire checks it */
            pool->in_use--;
            idle_push_locked(pool, c);
            continue;
        }
        return slot_borrow(s, c);
    }
    return NULL;
}

/* A release's first try: leave c in this processor's slot. Returns 1 when done with c. */
static int slot_put(sqlpool *pool, sqlpool_conn *c, double now) {
    sqlpool__slot *s;
    sqlpool_conn *empty = NULL;
    unsigned gen = gen_of(atomic_load_explicit(&c->word, memory_order_relaxed));
    int done = 0;
    if (atomic_load_explicit(&pool->slots_off, memory_order_relaxed)) return 0;
    s = &pool->slots[sqlpool__cpu() % pool->nslots];
    if (atomic_load_explicit(&s->conn, memory_order_relaxed) != NULL) return 0;
    atomic_fetch_add_explicit(&s->inflight, 1, memory_order_seq_cst);
    if (!atomic_load_explicit(&pool->slots_off, memory_order_seq_cst)) {
        c->released_at = now;
        set_word(c, gen, CONN_IDLE);
        if (atomic_compare_exchange_strong_explicit(&s->conn, &empty, c, memory_order_seq_cst,
                                                    memory_order_relaxed)) {
            done = 1;
            /* Threads began to wait (or the pool to close) and may have emptied the slots
             * before we filled ours: give it to them. */
            if (atomic_load_explicit(&pool->slots_off, memory_order_seq_cst)) {
                sqlpool_conn *back = atomic_exchange_explicit(&s->conn, NULL, memory_order_acquire);
                if (back != NULL) unslot(pool, back);
            }
        } else {
            set_word(c, gen, CONN_BORROWED); /* taken meanwhile: the lock's way */
        }
    }
    atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_release);
    return done;
}

/* ---- waiting ---- */

static void deadline_timespec(double seconds_from_now, struct timespec *ts) {
    double t;
    /* A far deadline (DBL_MAX) must not overflow time_t; the caller's loop waits again. */
    if (seconds_from_now > 1e6) seconds_from_now = 1e6;
    t = system_clock(CLOCK_MONOTONIC) + seconds_from_now;
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void sqlpool__cond_init_monotonic(pthread_cond_t *cv) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) abort();
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0) abort();
    if (pthread_cond_init(cv, &attr) != 0) abort();
    (void)pthread_condattr_destroy(&attr);
}

static void waiter_init(sqlpool__waiter *w, double since, const char *file, int line) {
    memset(w, 0, sizeof *w);
    w->since = since;
    w->file = file;
    w->line = line;
    if (pthread_mutex_init(&w->mu, NULL) != 0) abort();
    sqlpool__cond_init_monotonic(&w->cv);
}

static void waiter_destroy(sqlpool__waiter *w) {
    (void)pthread_cond_destroy(&w->cv);
    (void)pthread_mutex_destroy(&w->mu);
}

/* Sleep until a signal beyond the *seen-th arrives (then note it in *seen and return 1), or
 * the deadline (on the pool clock) or the timer (on the system's, see mono()) passes (0). */
static int waiter_sleep(sqlpool *pool, sqlpool__waiter *w, double deadline, double timer,
                        unsigned *seen) {
    int woke;
    if (pthread_mutex_lock(&w->mu) != 0) abort();
    while (w->delivered == *seen) {
        struct timespec ts;
        double left = INFINITY, left_timer = INFINITY;
        if (no_deadline(deadline) && no_deadline(timer)) {
            if (pthread_cond_wait(&w->cv, &w->mu) != 0) abort();
            continue;
        }
        if (!no_deadline(deadline)) left = deadline - sqlpool__now(pool);
        if (!no_deadline(timer)) left_timer = timer - mono();
        if (left <= 0 || left_timer <= 0) break;
        /* A caller's clock may not follow the system's: look at it again now and then. */
        if (pool->cfg.clock != NULL && left > 0.01) left = 0.01;
        deadline_timespec(left < left_timer ? left : left_timer, &ts);
        (void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    woke = w->delivered != *seen;
    *seen = w->delivered;
    if (pthread_mutex_unlock(&w->mu) != 0) abort();
    return woke;
}

/* Wait until n signals have arrived: those decided on (under the pool lock) but not yet
 * delivered are on their way, and w must outlive them. */
static void waiter_wait_delivered(sqlpool__waiter *w, unsigned n) {
    if (pthread_mutex_lock(&w->mu) != 0) abort();
    while (w->delivered < n)
        if (pthread_cond_wait(&w->cv, &w->mu) != 0) abort();
    if (pthread_mutex_unlock(&w->mu) != 0) abort();
}

/* Leave the wait, under the lock: the last step of a waiter that touches the pool. */
static settlement waiter_leave_locked(sqlpool *pool, sqlpool__waiter *w, double now) {
    record_wait_locked(pool, now - w->since);
    pool->waiters_live--;
    return settle_locked(pool);
}

/* Throughput mode: when the first waiter w should wake by itself to look at the idle list
 * (system clock), or INFINITY once newcomers may no longer overtake it (releases then hand
 * it the next connection). Either way it now counts as awake. Under the lock. */
static double head_timer_locked(sqlpool *pool, sqlpool__waiter *w) {
    if (pool->cfg.barge_window <= 0 || pool->wait_head != w) return INFINITY;
    pool->head_awake = 1;
    if (mono() < pool->head_until) return pool->head_until;
    /* The window is over: no more overtaking through the slots either (one clock reading
     * decides both, so the waiter never sleeps untimed while they are on). */
    if (pool->nslots > 0 && !atomic_load_explicit(&pool->slots_off, memory_order_relaxed))
        slots_stop_locked(pool);
    return INFINITY;
}

/* Under the lock: take c off the idle list for the caller. Returns the check it needs before
 * it is handed out: 0 none, 1 the backend's cheap one, 2 a ping too. */
static int take_idle_locked(sqlpool *pool, sqlpool_conn *c, double now, const char *file,
                            int line) {
    int check;
    sqlpool__idle_remove_locked(pool, c);
    borrow_locked(pool, c, now, file, line);
    check = needs_check(pool, c, now);
    return check ? 2 : pool->backend->check != NULL;
}

/* After the unlock: the check take_idle_locked() asked for. Returns 1 when c passed; else c
 * is closed and it returns 0, or -1 when the pool is closing (and may be gone). */
static int check_idle(sqlpool *pool, sqlpool_conn *c, double now, int check) {
    if (!expired(c, now) && usable(pool, c, check == 2)) return 1;
    return retire_borrowed(pool, c, expired(c, now) ? CLOSE_LIFETIME : CLOSE_BROKEN) ? -1 : 0;
}

/* Queue behind earlier waiters and sleep until handed a connection or a turn to open one,
 * the pool closes, or the deadline passes; in throughput mode, the first waiter also wakes
 * by itself to take a connection left idle (or room to open one). Called with the lock held;
 * returns without it. since is when the acquire began (read before the lock: the clock may
 * be the caller's). */
static int wait_turn(sqlpool *pool, sqlpool_conn **out, double deadline, double since,
                     const char *file, int line) {
    sqlpool__waiter w;
    sqlpool_conn *c = NULL;
    settlement st;
    char state[512];
    unsigned seen = 0, sent;
    double now, timer;
    int check = 0, timed_out = 0;

    if (deadline == SQLPOOL_DEADLINE_DEFAULT)
        deadline = pool->cfg.acquire_timeout > 0 ? since + pool->cfg.acquire_timeout : INFINITY;
    waiter_init(&w, since, file, line);
    queue_push_locked(pool, &w);
    pool->waiters_live++; /* until waiter_leave_locked: the pool stays while we may touch it */
    timer = head_timer_locked(pool, &w);
    unlock(pool);

    for (;;) {
        (void)waiter_sleep(pool, &w, deadline, timer, &seen);
        now = sqlpool__now(pool);
        lock(pool);
        if (w.conn != NULL || w.grant || w.closed) break; /* decided, and signaled or about to */
        if (pool->wait_head == &w && pool->cfg.barge_window > 0) {
            (void)head_timer_locked(pool, &w);   /* stops the slots when our window is over */
            if ((c = pool->idle_head) != NULL) { /* left idle for newcomers, who let it be */
                queue_remove_locked(pool, &w);
                check = take_idle_locked(pool, c, now, file, line);
                if (!check) break;
                unlock(pool); /* still counted in waiters_live: the pool stays */
                if (!expired(c, now) && usable(pool, c, check == 2)) {
                    lock(pool);
                    break;
                }
                /* Broken: close it, and stay first in line (with the room it leaves): not
                 * retire_borrowed(), which would grant that room to the next waiter. */
                close_borrowed_handle(pool, c);
                lock(pool);
                retire_borrowed_locked(pool, c, expired(c, now) ? CLOSE_LIFETIME : CLOSE_BROKEN);
                c = NULL;
                if (pool->closing) {
                    w.closed = 1;
                    break;
                }
                if (can_connect_locked(pool)) {
                    w.grant = 1;
                    pool->connecting++;
                    break;
                }
                queue_push_head_locked(pool, &w);
                timer = head_timer_locked(pool, &w);
                unlock(pool);
                continue;
            }
            if (can_connect_locked(pool)) { /* room freed by a close that handed out nothing */
                queue_remove_locked(pool, &w);
                w.grant = 1;
                pool->connecting++;
                break;
            }
        }
        if (now >= deadline) {
            char cap[24] = " (no cap)";
            int in_slots = slotted(pool);
            queue_remove_locked(pool, &w);
            pool->timeouts++;
            w.waited = now - w.since;
            timed_out = 1;
            if (pool->cfg.max_open > 0) sqlpool__format(cap, sizeof cap, "/%d", pool->cfg.max_open);
            sqlpool__format(state, sizeof state,
                            "open %d%s, in use %d, idle %d, waiting %d, connecting %d; last "
                            "connect error: %s",
                            pool->open, cap, pool->in_use - in_slots, pool->idle + in_slots,
                            pool->waiting, pool->connecting,
                            pool->last_connect_error[0] ? pool->last_connect_error : "none");
            break;
        }
        timer = head_timer_locked(pool, &w);
        unlock(pool);
    }
    if (c != NULL) count_reuse_locked(pool, 0);
    st = waiter_leave_locked(pool, &w, now);
    sent = w.sent; /* out of the queue, with an outcome: no more signals will be decided */
    unlock(pool);
    waiter_wait_delivered(&w, sent);
    waiter_destroy(&w);
    settle(pool, st); /* a closed pool may be freed here: touch it no more unless we hold a
                       * connection or a turn */
    if (timed_out)
        return sqlpool__fail(SQLPOOL_ETIMEDOUT,
                             "timed out after %.3f s waiting for a connection (%s)", w.waited,
                             state);
    if (w.closed) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    if (w.grant) return connect_for(pool, out, deadline, file, line);
    *out = handle_of(c != NULL ? c : w.conn);
    return SQLPOOL_OK;
}

static int acquire(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file, int line,
                   int try_only) {
    double since = -1; /* when this acquire started waiting: read outside the lock */
    for (;;) {
        double now = sqlpool__now_coarse(pool);
        sqlpool_conn *c = NULL;
        long long created, reused;
        int check;

        if (pool->nslots > 0 && (c = slot_take(pool, now)) != NULL) {
            *out = handle_of(c);
            return SQLPOOL_OK;
        }
        lock(pool);
        if (pool->closing) {
            unlock(pool);
            return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
        }
        /* An idle connection, unless that would overtake a waiter (throughput mode allows it
         * for a while). */
        if ((c = pool->idle_head) != NULL && (pool->wait_head == NULL || may_barge_locked(pool))) {
            check = take_idle_locked(pool, c, now, file, line);
            if (!check) count_reuse_locked(pool, 1);
            created = pool->created;
            reused = pool->reused;
            unlock(pool);
            if (check) {
                int ok = check_idle(pool, c, now, check);
                if (ok < 0) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
                if (ok == 0) continue;
                lock(pool);
                count_reuse_locked(pool, 1);
                created = pool->created;
                reused = pool->reused;
                unlock(pool);
            }
            SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_reuse total=%lld reused=%lld", created,
                         reused);
            *out = handle_of(c);
            return SQLPOOL_OK;
        }
        if (pool->nslots > 0 && (c = slot_steal(pool, now)) != NULL) {
            /* Idle in another processor's slot: better than a new connection or a wait (the
             * slots are on only while newcomers may overtake waiters). */
            unlock(pool);
            *out = handle_of(c);
            return SQLPOOL_OK;
        }
        if (pool->idle_head != NULL && pool->wait_head == NULL) { /* due a check, unslotted */
            unlock(pool);
            continue;
        }
        if (try_only) {
            unlock(pool);
            return sqlpool__fail(SQLPOOL_EAGAIN, "no idle connection");
        }
        if (pool->wait_head == NULL && can_connect_locked(pool)) {
            pool->connecting++;
            sqlpool__hist_record_zero(&pool->waits);
            unlock(pool);
            if (deadline == SQLPOOL_DEADLINE_DEFAULT) /* retries stop at acquire_timeout too */
                deadline = pool->cfg.acquire_timeout > 0
                               ? sqlpool__now(pool) + pool->cfg.acquire_timeout
                               : INFINITY;
            return connect_for(pool, out, deadline, file, line);
        }
        if (since < 0) { /* must wait: read the (caller's) clock outside the lock, then retry */
            unlock(pool);
            since = sqlpool__now(pool);
            continue;
        }
        return wait_turn(pool, out, deadline, since, file, line);
    }
}

int sqlpool_acquire_at(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                       int line) {
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    if (isnan(deadline)) return sqlpool__fail(SQLPOOL_EINVAL, "the deadline is not a number");
    return acquire(pool, out, deadline, file, line, 0);
}

int(sqlpool_acquire)(sqlpool *pool, sqlpool_conn **out) {
    return sqlpool_acquire_at(pool, out, SQLPOOL_DEADLINE_DEFAULT, NULL, 0);
}

int(sqlpool_acquire_until)(sqlpool *pool, sqlpool_conn **out, double deadline) {
    return sqlpool_acquire_at(pool, out, deadline == SQLPOOL_DEADLINE_DEFAULT ? 0 : deadline, NULL,
                              0);
}

int sqlpool_try_acquire(sqlpool *pool, sqlpool_conn **out) {
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    return acquire(pool, out, 0, NULL, 0, 1);
}

/* ---- release ---- */

/* Throughput mode, once waiters are served again: a connection left idle for newcomers that
 * none took goes to the next waiters too. Returns the waiters to wake. */
static sqlpool__waiter *hand_parked_locked(sqlpool *pool, double now) {
    sqlpool__waiter *list = NULL;
    sqlpool_conn *c;
    while ((c = pool->idle_head) != NULL && pool->wait_head != NULL) {
        sqlpool__waiter *w;
        int pooled;
        sqlpool__idle_remove_locked(pool, c);
        w = sqlpool__offer_locked(pool, c, now, 0, &pooled);
        assert(w != NULL); /* there was a waiter to take it */
        w->next = list;
        list = w;
    }
    return list;
}

static void give_back(sqlpool_conn *handle, int broken) {
    sqlpool_conn *c = borrowed(handle);
    sqlpool *pool;
    sqlpool__waiter *wake = NULL;
    char err[256];
    double now;
    int pooled = 0, reason;

    if (c == NULL) {
        (void)misuse(handle, broken ? "discard" : "release");
        return;
    }
    pool = c->pool;
    err[0] = '\0';
    if (!broken && pool->backend->reset(c->handle, c->native_used) != SQLPOOL_OK) broken = 1;
    if (!broken && pool->cfg.ping_on_release &&
        pool->backend->ping(c->handle, err, sizeof err) != SQLPOOL_OK)
        broken = 1;
    now = sqlpool__now_coarse(pool);
    if (pool->nslots > 0 && !broken && !expired(c, now) && slot_put(pool, c, now)) return;

    lock(pool);
    if (!broken && !expired(c, now) && !pool->closing) {
        pool->in_use--;
        /* The common case, inline: back on the idle list. With threads waiting, only in
         * throughput mode: left for the next thread to ask, which saves a wake-up; the first
         * waiter looks at it by itself before long (unlock() nudges it). */
        if ((pool->wait_head == NULL && pool->idle < pool->cfg.max_idle) ||
            (pool->wait_head != NULL && pool->idle == 0 && may_barge_locked(pool))) {
            set_word(c, gen_of(atomic_load_explicit(&c->word, memory_order_relaxed)), CONN_IDLE);
            c->released_at = now;
            idle_push_locked(pool, c);
            unlock(pool);
            return;
        }
        wake = sqlpool__offer_locked(pool, c, now, 0, &pooled);
        if (!pooled)
            pool->in_use++; /* still ours: retire_borrowed() counts it down */
        else if (wake != NULL && pool->cfg.barge_window > 0)
            wake->next = hand_parked_locked(pool, now);
    }
    reason = broken            ? CLOSE_BROKEN
             : pool->closing   ? CLOSE_POOL
             : expired(c, now) ? CLOSE_LIFETIME
                               : CLOSE_MAX_IDLE;
    unlock(pool);

    sqlpool__wake_all(wake);
    if (pooled) return;
    if (broken)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING, "pool_discard reason=%s",
                     err[0] ? err : "broken");
    (void)retire_borrowed(pool, c, reason);
}

void sqlpool_release(sqlpool_conn *conn) {
    if (conn != NULL) give_back(conn, 0);
}

void sqlpool_discard(sqlpool_conn *conn) {
    if (conn != NULL) give_back(conn, 1);
}

void sqlpool_release_ptr(sqlpool_conn **conn) {
    if (conn != NULL && *conn != NULL) {
        sqlpool_release(*conn);
        *conn = NULL;
    }
}

int sqlpool_with(sqlpool *pool, sqlpool_fn fn, void *ctx) {
    sqlpool_conn *conn;
    int rc;
    if (fn == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "fn is NULL");
    rc = sqlpool_acquire_at(pool, &conn, SQLPOOL_DEADLINE_DEFAULT, "sqlpool_with", 0);
    if (rc != SQLPOOL_OK) return rc;
    rc = fn(conn, ctx);
    if (rc == SQLPOOL_EBROKEN)
        sqlpool_discard(conn);
    else
        sqlpool_release(conn);
    return rc;
}

/* ---- idle management ---- */

/* Close idle connections, the longest idle first, until target remain; counted as reason. */
static int close_idle_down_to(sqlpool *pool, int target, int reason) {
    sqlpool_conn *taken = NULL;
    sqlpool__waiter *wake;
    int n = 0;
    sqlpool__drain_slots(pool);
    lock(pool);
    /* The tail is the longest idle: keep the `target` most recently used. */
    while (pool->idle > target) {
        sqlpool_conn *c = pool->idle_tail;
        sqlpool__idle_remove_locked(pool, c);
        sqlpool__retire_locked(pool, c, reason);
        c->next = taken;
        taken = c;
        n++;
    }
    wake = sqlpool__grant_locked(pool); /* throughput mode: threads may wait meanwhile */
    unlock(pool);
    sqlpool__wake_all(wake);
    while (taken != NULL) {
        sqlpool_conn *next = taken->next;
        sqlpool__close_conn(pool, taken);
        taken = next;
    }
    if (n > 0)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "%s closed=%d target=%d",
                     reason == CLOSE_SHRINK ? "pool_shrink" : "pool_close_idle", n, target);
    return n;
}

int sqlpool_shrink(sqlpool *pool, int target) {
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    if (target < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "shrink target must not be negative, got %d", target);
    return close_idle_down_to(pool, target, CLOSE_SHRINK);
}

void sqlpool_close_idle(sqlpool *pool) {
    if (pool != NULL) (void)close_idle_down_to(pool, 0, CLOSE_CLOSE_IDLE);
}

int sqlpool_maintain(sqlpool *pool) {
    int closing;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    lock(pool);
    closing = pool->closing;
    unlock(pool);
    if (closing) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    sqlpool__maintain_pass(pool);
    return SQLPOOL_OK;
}

/* ---- stats ---- */

void sqlpool__stats_fill(sqlpool *pool, sqlpool_stats *out) {
    sqlpool__histogram waits;
    long long closed = 0, taken = 0;
    int in_slots;
    if (pool == NULL || out == NULL) return;
    memset(out, 0, sizeof *out);
    lock(pool);
    in_slots = slotted(pool); /* idle, though counted in in_use */
    for (int i = 0; i < pool->nslots; i++)
        taken += atomic_load_explicit(&pool->slots[i].taken, memory_order_relaxed);
    waits = pool->waits;
    waits.buckets[0] += (uint64_t)taken; /* served from a slot: no wait */
    waits.count += (uint64_t)taken;
    out->created = pool->created;
    out->reused = pool->reused + taken;
    out->idle = pool->idle + in_slots;
    out->max_idle = pool->cfg.max_idle;
    out->in_use = pool->in_use - in_slots;
    out->peak_in_use = pool->peak_in_use;
    out->open = pool->open;
    out->connecting = pool->connecting;
    out->waiting = pool->waiting;
    out->max_open = pool->cfg.max_open;
    out->closed_idle = pool->closed_by[CLOSE_IDLE];
    out->closed_lifetime = pool->closed_by[CLOSE_LIFETIME];
    out->closed_broken = pool->closed_by[CLOSE_BROKEN];
    out->closed_max_idle = pool->closed_by[CLOSE_MAX_IDLE];
    out->closed_pool = pool->closed_by[CLOSE_POOL];
    out->closed_shrink = pool->closed_by[CLOSE_SHRINK];
    out->closed_close_idle = pool->closed_by[CLOSE_CLOSE_IDLE];
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
    unlock(pool);
    out->wait_p50 = (double)sqlpool__hist_quantile(&waits, 0.50) * 1e-9;
    out->wait_p90 = (double)sqlpool__hist_quantile(&waits, 0.90) * 1e-9;
    out->wait_p99 = (double)sqlpool__hist_quantile(&waits, 0.99) * 1e-9;
    out->wait_max = (double)waits.max_ns * 1e-9;
}

/* ---- per-connection calls ---- */

int sqlpool_conn_health(sqlpool_conn *conn, sqlpool_health *out) {
    sqlpool_conn *c;
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    memset(out, 0, sizeof *out);
    if (conn == NULL) {
        sqlpool__format(out->error, sizeof out->error, "no connection");
        return sqlpool__fail(SQLPOOL_EINVAL, "conn is NULL");
    }
    if ((c = borrowed(conn)) == NULL) {
        sqlpool__format(out->error, sizeof out->error, "connection already released");
        return misuse(conn, "health check");
    }
    if (c->pool->backend->health(c->handle, out) == SQLPOOL_OK) return SQLPOOL_OK;
    {
        char raw[sizeof out->error]; /* it may name the file: escaped, as messages are */
        memcpy(raw, out->error, sizeof raw);
        sqlpool__escape_controls(raw, out->error, sizeof out->error);
    }
    return sqlpool__fail(SQLPOOL_EBROKEN, "health check failed: %s", out->error);
}

sqlite3 *sqlpool_conn_sqlite(sqlpool_conn *conn) {
    sqlpool_conn *c;
    if (conn == NULL) return NULL;
    if ((c = borrowed(conn)) == NULL) {
        (void)misuse(conn, "sqlpool_conn_sqlite");
        return NULL;
    }
    if (c->pool->backend != &sqlpool__sqlite_backend) return NULL;
    c->native_used = 1; /* release must then look for the borrower's own statements */
    return (sqlite3 *)c->pool->backend->native(c->handle);
}

int sqlpool_conn_prepare(sqlpool_conn *conn, const char *sql, sqlite3_stmt **out) {
    sqlpool_conn *c;
    char err[256] = "";
    void *stmt = NULL;
    int rc;
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (conn == NULL || sql == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "conn or sql is NULL");
    if ((c = borrowed(conn)) == NULL) return misuse(conn, "sqlpool_conn_prepare");
    rc = c->pool->backend->prepare(c->handle, sql, &stmt, err, sizeof err);
    if (rc != SQLPOOL_OK) return sqlpool__fail(rc, "%s", err);
    *out = stmt;
    return SQLPOOL_OK;
}

PGconn *sqlpool_conn_pg(sqlpool_conn *conn) {
    sqlpool_conn *c;
    if (conn == NULL) return NULL;
    if ((c = borrowed(conn)) == NULL) {
        (void)misuse(conn, "sqlpool_conn_pg");
        return NULL;
    }
    if (c->pool->backend->exec == NULL) return NULL; /* not PostgreSQL */
    c->native_used = 1;
    return (PGconn *)c->pool->backend->native(c->handle);
}

int sqlpool_conn_pg_exec(sqlpool_conn *conn, const char *sql, int nparams,
                         const char *const *values, PGresult **out) {
    sqlpool_conn *c;
    char err[256] = "";
    void *result = NULL;
    int rc;
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (conn == NULL || sql == NULL || nparams < 0 || (nparams > 0 && values == NULL))
        return sqlpool__fail(SQLPOOL_EINVAL, "conn, sql or values is NULL");
    if ((c = borrowed(conn)) == NULL) return misuse(conn, "sqlpool_conn_pg_exec");
    if (c->pool->backend->exec == NULL)
        return sqlpool__fail(SQLPOOL_ENOTSUP, "sqlpool_conn_pg_exec needs a PostgreSQL pool");
    rc = c->pool->backend->exec(c->handle, sql, nparams, values, &result, err, sizeof err);
    if (rc != SQLPOOL_OK) return sqlpool__fail(rc, "%s", err);
    *out = result;
    return SQLPOOL_OK;
}

int sqlpool_has_postgresql(void) {
#ifdef SQLPOOL_HAVE_PG
    return 1;
#else
    return 0;
#endif
}

const char *sqlpool_backend(sqlpool *pool) {
    return pool != NULL ? pool->backend->name : "";
}

const char *sqlpool_db_backend(const char *db) {
    return db != NULL && sqlpool__dsn_is_pg(db) ? "postgresql" : "sqlite";
}

size_t sqlpool_db_mask(const char *db, char *out, size_t len) {
    return sqlpool__dsn_mask(db, out, len);
}

/* ---- close ---- */

/* Wait up to close_timeout for borrowed connections and connects in flight. Returns 1 when
 * none are left, so the caller frees the pool; else the last of them will (orphaned). */
static int wait_for_borrowers(sqlpool *pool) {
    sqlpool__waiter w;
    double timeout = pool->cfg.close_timeout;
    double deadline = sqlpool__now(pool) + timeout;
    unsigned seen = 0;
    int done;

    waiter_init(&w, 0, NULL, 0);
    lock(pool);
    done = drained_locked(pool);
    if (!done && timeout > 0)
        /* w outlives its publication: settle() clears pool->closer under the lock before
         * signaling, and we withdraw or consume that signal before returning. */
        // cppcheck-suppress autoVariables
        pool->closer = &w;
    else if (!done)
        pool->orphaned = 1;
    unlock(pool);
    if (done || timeout <= 0) {
        waiter_destroy(&w);
        return done; /* when not done, the pool may already be gone: touch nothing */
    }
    if (!waiter_sleep(pool, &w, deadline, INFINITY, &seen)) {
        lock(pool);
        if (pool->closer == &w) { /* nobody is signaling: give up */
            pool->closer = NULL;
            done = drained_locked(pool);
            if (!done) pool->orphaned = 1;
            unlock(pool);
            waiter_destroy(&w);
            return done;
        }
        unlock(pool);
        waiter_wait_delivered(&w, 1); /* a signal is on its way */
    }
    waiter_destroy(&w);
    return 1; /* signaled: the last borrower came back (and left the pool to us) */
}

void sqlpool_close(sqlpool *pool) {
    sqlpool_conn *idle;
    sqlpool__waiter *wake, *w;
    int n = 0;
    sqlpool_conn *retire = NULL;
    if (pool == NULL) return;

    if (pool->nslots > 0) {
        /* Closing first, so that no change of first waiter turns the slots back on; then
         * off for good, once no release is halfway into one. */
        lock(pool);
        pool->closing = 1;
        unlock(pool);
        slots_shut(pool);
    }
    lock(pool);
    pool->closing = 1;
    drain_slots_locked(pool, &retire);
    wake = pool->wait_head;
    for (w = wake; w != NULL; w = w->next) {
        w->closed = 1;
        w->sent++;
    }
    pool->wait_head = pool->wait_tail = NULL;
    pool->waiting = 0;
    idle = pool->idle_head;
    for (sqlpool_conn *c = idle; c != NULL; c = c->next) {
        sqlpool__retire_locked(pool, c, CLOSE_POOL);
        n++;
    }
    pool->idle_head = pool->idle_tail = NULL;
    pool->idle = 0;
    unlock(pool);

    sqlpool__wake_all(wake);
    close_list(pool, retire);
    sqlpool__maintenance_stop(pool);
    while (idle != NULL) {
        sqlpool_conn *next = idle->next;
        sqlpool__close_conn(pool, idle);
        idle = next;
    }
    if (n > 0) SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_DEBUG, "pool_close closed=%d", n);
    if (wait_for_borrowers(pool)) free_pool(pool);
}
