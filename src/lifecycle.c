/*
 * lifecycle.c: a pool's life: sqlpool__open() (sqlpool_open(), through abi.c, with the
 * caller's config checked and completed) and sqlpool_close(), which closes what is idle at
 * once and waits up to close_timeout for borrowed connections before leaving the pool to the
 * last of them (settle.c).
 */
#include "maintain.h"
#include "alloc.h"
#include "dsn.h"
#include "fork.h"
#include "jobs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *sqlpool_version(void) {
    return SQLPOOL_VERSION;
}

/* ---- open ---- */

/* The per-processor caches serve throughput mode when nothing needs the lock's bookkeeping on
 * every borrow: no leak tracking (where and when acquired), no per-borrow backend check
 * (PostgreSQL's), a validation window, and no info-level log line per reuse. */
static int slots_wanted(const sqlpool *pool) {
    const sqlpool_config *cfg = &pool->cfg;
    return cfg->barge_window > 0 && cfg->leak_threshold <= 0 && cfg->validation_bypass > 0 &&
           pool->backend->check == NULL && !sqlpool__log_enabled(cfg, SQLPOOL_LOG_INFO);
}

static void slots_init(sqlpool *pool) {
    int n = sqlpool__cpus();
    pool->slots = sqlpool__aligned_alloc(SQLPOOL__LINE, (size_t)n * sizeof *pool->slots);
    if (pool->slots == NULL) return; /* without them, every borrow takes the lock: still correct */
    pool->nslots = n;
    for (int i = 0; i < n; i++) {
        atomic_init(&pool->slots[i].conn, NULL);
        atomic_init(&pool->slots[i].taken, 0);
        atomic_init(&pool->slots[i].inflight, 0);
    }
}

static int init_pool(sqlpool *pool, const sqlpool_config *cfg) {
    char err[256] = "";
    int rc;
    const char *name = cfg->name != NULL ? cfg->name : "sqlpool";
    size_t dblen = strlen(cfg->db), namelen = strlen(name);
    size_t sqllen = cfg->init_sql != NULL ? strlen(cfg->init_sql) + 1 : 0;
    pool->cfg = *cfg;
    pool->any_hook = cfg->on_connect != NULL || cfg->on_acquire != NULL || cfg->on_release != NULL;
    /* The caps sqlpool_resize() changes (resize.c); min_idle within them. */
    pool->max_open = cfg->max_open;
    pool->max_idle = cfg->max_idle;
    pool->min_idle = sqlpool__min_idle_within(cfg->min_idle, cfg->max_open, cfg->max_idle);
    /* One block for the strings: db, name, then init_sql (when set). */
    pool->db_copy = sqlpool__malloc(dblen + 1 + namelen + 1 + sqllen);
    if (pool->db_copy == NULL) return sqlpool__fail(SQLPOOL_ENOMEM, "out of memory");
    memcpy(pool->db_copy, cfg->db, dblen + 1);
    memcpy(pool->db_copy + dblen + 1, name, namelen + 1);
    pool->cfg.db = pool->db_copy;
    pool->cfg.name = pool->db_copy + dblen + 1;
    if (sqllen > 0) {
        memcpy(pool->db_copy + dblen + 1 + namelen + 1, cfg->init_sql, sqllen);
        pool->cfg.init_sql = pool->db_copy + dblen + 1 + namelen + 1;
    }
    pool->cfg.sqlite_vfs = NULL; /* not copied: resolved by the backend in pool_init */
    pool->backend = sqlpool__backend_for(cfg->db);
    rc = pool->backend->pool_init(cfg, &pool->backend_state, err, sizeof err);
    if (rc != SQLPOOL_OK) {
        sqlpool__free(pool->db_copy);
        return sqlpool__fail(rc, "%s", err);
    }
    if (cfg->single_writer != SQLPOOL__LANE_NONE) { /* a lane of a single_writer pool */
        rc = pool->backend->set_lane(pool->backend_state, cfg->single_writer, err, sizeof err);
        if (rc != SQLPOOL_OK) {
            pool->backend->pool_fini(pool->backend_state);
            sqlpool__free(pool->db_copy);
            return sqlpool__fail(rc, "%s", err);
        }
    }
    if (pthread_mutex_init(&pool->maint_mu, NULL) != 0) abort();
    sqlpool__cond_init_monotonic(&pool->maint_cv);
    atomic_init(&pool->slots_off, 0);
    atomic_init(&pool->lock.held, 0);
    atomic_init(&pool->lock.owner, 0);
    atomic_init(&pool->fork_pending, SQLPOOL__FORK_NONE);
    pool->maint_restart = sqlpool__maintenance_start;
    sqlpool__jobs_init(pool);
    if (pthread_mutex_init(&pool->ev_mu, NULL) != 0) abort();
    sqlpool__cond_init_monotonic(&pool->ev_cv);
    pool->ev_fd = pool->ev_wfd = -1;
    if (pthread_mutex_init(&pool->gc_mu, NULL) != 0) abort();
    atomic_init(&pool->group_commits, 0);
    atomic_init(&pool->grouped, 0);
    if (slots_wanted(pool)) slots_init(pool);
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
    /* On the registry before the first connect: a fork from inside an on_connect hook run
     * here finds the pool, and leaves the child's copy closed (fork.h). */
    sqlpool__fork_register(pool);
    /* min_idle connections now, so a database that cannot be reached fails here, with the
     * code an acquire would have returned (busy, broken, ...). */
    if (cfg->min_idle > 0) {
        char why[256];
        sqlpool__maintain_pass(pool);
        sqlpool__pool_lock(pool);
        rc = pool->idle > 0                        ? SQLPOOL_OK
             : pool->last_connect_rc != SQLPOOL_OK ? pool->last_connect_rc
                                                   : SQLPOOL_ECONNECT;
        memcpy(why, pool->last_connect_error, sizeof why);
        sqlpool__pool_unlock(pool);
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

/* ---- close ---- */

/* Wait up to close_timeout for borrowed connections and connects in flight. Returns 1 when
 * none are left, so the caller frees the pool; else the last of them will (orphaned). */
static int wait_for_borrowers(sqlpool *pool, double deadline) {
    sqlpool__waiter w;
    double timeout = pool->cfg.close_timeout;
    unsigned seen = 0;
    int done;

    sqlpool__waiter_init(&w, 0, NULL, 0);
    sqlpool__pool_lock(pool);
    done = sqlpool__drained_locked(pool);
    if (!done && timeout > 0)
        /* w outlives its publication: settle() clears pool->closer under the lock before
         * signaling, and we withdraw or consume that signal before returning. */
        // cppcheck-suppress autoVariables
        pool->closer = &w;
    else if (!done)
        pool->orphaned = 1;
    sqlpool__pool_unlock(pool);
    if (done || timeout <= 0) {
        sqlpool__waiter_destroy(&w);
        return done; /* when not done, the pool may already be gone: touch nothing */
    }
    if (!sqlpool__waiter_sleep(pool, &w, deadline, INFINITY, &seen)) {
        sqlpool__pool_lock(pool);
        if (pool->closer == &w) { /* nobody is signaling: give up */
            pool->closer = NULL;
            done = sqlpool__drained_locked(pool);
            if (!done) pool->orphaned = 1;
            sqlpool__pool_unlock(pool);
            sqlpool__waiter_destroy(&w);
            return done;
        }
        sqlpool__pool_unlock(pool);
        sqlpool__waiter_wait_delivered(&w, 1); /* a signal is on its way */
    }
    sqlpool__waiter_destroy(&w);
    return 1; /* signaled: the last borrower came back (and left the pool to us) */
}

/* The first half of a close: no more acquires, every waiter woken (with ECLOSED), what is
 * idle closed, the maintenance thread stopped. */
static void close_begin(sqlpool *pool) {
    sqlpool__waiter *wake, *w;
    sqlpool_conn *idle = NULL, *retire = NULL;
    int n = 0;
    sqlpool__fork_check(pool); /* the child of a fork: close what is its own */
    /* Closed in the child of a fork from inside it (fork.h): the connects its books still
     * count may be the parent's other threads', which never end here. Nothing to wait for;
     * what they would have freed stays (fork.c). */
    if (atomic_load_explicit(&pool->fork_pending, memory_order_relaxed) == SQLPOOL__FORK_INSIDE)
        pool->cfg.close_timeout = 0;
    sqlpool__fork_unregister(pool);

    if (pool->nslots > 0) {
        /* Closing first, so that no change of first waiter turns the slots back on; then
         * off for good, once no release is halfway into one. */
        sqlpool__pool_lock(pool);
        pool->closing = 1;
        sqlpool__pool_unlock(pool);
        sqlpool__slots_shut(pool);
    }
    sqlpool__pool_lock(pool);
    pool->closing = 1;
    sqlpool__slots_drain_locked(pool, &retire);
    wake = pool->wait_head;
    for (w = wake; w != NULL; w = w->next) {
        w->closed = 1;
        w->sent++;
    }
    pool->wait_head = pool->wait_tail = NULL;
    pool->waiting = 0;
    while (pool->idle_tail != NULL) { /* off the books, keeping the list's order */
        sqlpool_conn *c = pool->idle_tail;
        sqlpool__books_move(pool, c, BOOK_IDLE, BOOK_CLOSED, CLOSE_POOL);
        c->next = idle;
        idle = c;
        n++;
    }
    sqlpool__pool_unlock(pool);

    sqlpool__wake_all(wake);
    sqlpool__close_list(pool, retire);
    sqlpool__maintenance_stop(pool);
    sqlpool__close_list(pool, idle);
    if (n > 0) SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_DEBUG, "pool_close closed=%d", n);
}

void sqlpool_close(sqlpool *pool) {
    sqlpool *readers;
    double deadline;
    if (pool == NULL) return;
    readers = pool->read_lane;
    if (sqlpool__jobs_here(pool) || (readers != NULL && sqlpool__jobs_here(readers))) {
        /* A hook on a job thread: the close would wait for the job it is part of. */
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR,
                     "close_refused reason=called from a hook on the pool's own job thread");
        (void)sqlpool__fail(SQLPOOL_EMISUSE, "sqlpool_close from a hook on the pool's job thread");
        return;
    }
    /* single_writer: both lanes refuse acquires and wake their waiters before either waits
     * for its borrowers, and both wait within one close_timeout. */
    if (readers != NULL) {
        /* The writer refuses acquires first, while the readers' close takes its time. */
        sqlpool__pool_lock(pool);
        pool->closing = 1;
        sqlpool__pool_unlock(pool);
        close_begin(readers);
    }
    close_begin(pool);
    /* No job runs after this: what the job threads had queued is done (a connect for a
     * request ends at once: the pool is closing). Then the requests' last callbacks. */
    if (readers != NULL) sqlpool__jobs_stop(readers);
    sqlpool__jobs_stop(pool);
    if (pool->ev_close != NULL) pool->ev_close(pool);
    deadline = sqlpool__now(pool) + pool->cfg.close_timeout;
    if (readers != NULL && wait_for_borrowers(readers, deadline)) sqlpool__free_pool(readers);
    if (wait_for_borrowers(pool, deadline)) sqlpool__free_pool(pool);
}
