/*
 * pool.c: the pool core: the LIFO stack of idle connections, the counters, and the acquire
 * and release paths. Database work (connect, reset, ping, close) always happens outside the
 * pool lock, through the backend table.
 */
#include "backend.h"
#include "internal.h"
#include "lock.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct sqlpool_conn {
    sqlpool *pool;
    void *handle;       /* the backend's connection */
    sqlpool_conn *next; /* next idle connection; under pool->lock */
    atomic_int idle;    /* 1 while on the idle stack; written under pool->lock */
};

struct sqlpool {
    sqlpool__lock lock;
    const sqlpool__backend *backend;
    void *backend_state;
    sqlpool_config cfg; /* a copy; cfg.db points at db_copy. Read-only after open. */
    char *db_copy;

    /* Everything below is under lock. */
    sqlpool_conn *idle_top; /* the most recently released idle connection */
    int idle;
    int in_use;
    int peak_in_use;
    int closing;
    long long created, reused, closed, discarded, connect_retries, connect_failures;
};

static void lock(sqlpool *pool) {
    sqlpool__lock_acquire(&pool->lock);
}

static void unlock(sqlpool *pool) {
    sqlpool__lock_release(&pool->lock);
}

const char *sqlpool_version(void) {
    return SQLPOOL_VERSION;
}

void sqlpool_config_init(sqlpool_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->db = ":memory:";
    cfg->max_idle = 5;
    cfg->max_retries = 3;
    cfg->connect_timeout = 5.0;
    cfg->retry_backoff = 0.010;
    cfg->create = 1;
    cfg->log_level = SQLPOOL_LOG_INFO;
}

static int valid_seconds(double s) {
    return isfinite(s) && s >= 0;
}

static int check_config(const sqlpool_config *cfg) {
    if (cfg->db == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "db is NULL");
    if (cfg->max_idle < 1)
        return sqlpool__fail(SQLPOOL_EINVAL, "max_idle must be at least 1, got %d", cfg->max_idle);
    if (cfg->max_retries < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "max_retries must not be negative, got %d",
                             cfg->max_retries);
    if (!valid_seconds(cfg->connect_timeout))
        return sqlpool__fail(SQLPOOL_EINVAL, "connect_timeout must be a finite number >= 0");
    if (!valid_seconds(cfg->retry_backoff))
        return sqlpool__fail(SQLPOOL_EINVAL, "retry_backoff must be a finite number >= 0");
    return SQLPOOL_OK;
}

int sqlpool_open(const sqlpool_config *cfg, sqlpool **out) {
    char err[256];
    sqlpool *pool;
    int rc;

    sqlpool__clear_error();
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (cfg == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "cfg is NULL");
    rc = check_config(cfg);
    if (rc != SQLPOOL_OK) return rc;

    pool = calloc(1, sizeof *pool);
    if (pool == NULL) return sqlpool__fail(SQLPOOL_ENOMEM, "out of memory creating the pool");
    pool->cfg = *cfg;
    pool->db_copy = strdup(cfg->db);
    if (pool->db_copy == NULL) {
        free(pool);
        return sqlpool__fail(SQLPOOL_ENOMEM, "out of memory creating the pool");
    }
    pool->cfg.db = pool->db_copy;
    pool->cfg.sqlite_vfs = NULL; /* not copied: resolved by the backend during pool_init */
    pool->backend = sqlpool__backend_for(cfg->db);

    err[0] = '\0';
    rc = pool->backend->pool_init(cfg, &pool->backend_state, err, sizeof err);
    if (rc != SQLPOOL_OK) {
        free(pool->db_copy);
        free(pool);
        return sqlpool__fail(rc, "%s", err);
    }
    *out = pool;
    return SQLPOOL_OK;
}

/* Open one connection, retrying errors that can pass with growing waits. */
static int connect_with_retry(sqlpool *pool, void **handle) {
    const sqlpool_config *cfg = &pool->cfg;
    char err[256];
    int attempt;

    for (attempt = 0;; attempt++) {
        int retriable = 0;
        int rc;
        double wait;

        err[0] = '\0';
        rc = pool->backend->connect(pool->backend_state, handle, &retriable, err, sizeof err);
        if (rc == SQLPOOL_OK) return SQLPOOL_OK;
        if (!retriable) return sqlpool__fail(rc, "%s", err);
        if (attempt >= cfg->max_retries)
            return sqlpool__fail(SQLPOOL_EBUSY, "failed after %d retries: %s", cfg->max_retries,
                                 err);
        wait = sqlpool__backoff_delay(cfg->retry_backoff, attempt);
        sqlpool__log(cfg, SQLPOOL_LOG_WARNING, "connect_retry attempt=%d wait_ms=%.1f error=%s",
                     attempt + 1, wait * 1e3, err);
        lock(pool);
        pool->connect_retries++;
        unlock(pool);
        sqlpool__sleep(wait);
    }
}

static int open_conn(sqlpool *pool, sqlpool_conn **out) {
    sqlpool_conn *conn = calloc(1, sizeof *conn);
    int rc;
    if (conn == NULL) return sqlpool__fail(SQLPOOL_ENOMEM, "out of memory opening a connection");
    rc = connect_with_retry(pool, &conn->handle);
    if (rc != SQLPOOL_OK) {
        free(conn);
        return rc;
    }
    conn->pool = pool;
    *out = conn;
    return SQLPOOL_OK;
}

int sqlpool_acquire(sqlpool *pool, sqlpool_conn **out) {
    sqlpool_conn *conn;
    long long created, reused;
    int rc;

    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");

    lock(pool);
    if (pool->closing) {
        unlock(pool);
        return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    }
    conn = pool->idle_top;
    if (conn != NULL) {
        pool->idle_top = conn->next;
        pool->idle--;
        pool->reused++;
        atomic_store_explicit(&conn->idle, 0, memory_order_relaxed);
        conn->next = NULL;
    }
    /* Count the slot now, even for a connection still to be opened, so peak_in_use and
     * in_use describe checked-out capacity. */
    if (++pool->in_use > pool->peak_in_use) pool->peak_in_use = pool->in_use;
    created = pool->created;
    reused = pool->reused;
    unlock(pool);

    if (conn != NULL) {
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_reuse total=%lld reused=%lld", created,
                     reused);
        *out = conn;
        return SQLPOOL_OK;
    }

    rc = open_conn(pool, &conn);
    lock(pool);
    if (rc == SQLPOOL_OK) {
        created = ++pool->created;
    } else {
        pool->in_use--;
        pool->connect_failures++;
    }
    reused = pool->reused;
    unlock(pool);
    if (rc != SQLPOOL_OK) {
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR, "connect_failed error=%s", sqlpool_errmsg());
        return rc;
    }
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_create total=%lld reused=%lld", created,
                 reused);
    *out = conn;
    return SQLPOOL_OK;
}

static void free_pool(sqlpool *pool) {
    pool->backend->pool_fini(pool->backend_state);
    free(pool->db_copy);
    free(pool);
}

static void close_conn(sqlpool *pool, sqlpool_conn *conn) {
    pool->backend->close(conn->handle);
    free(conn);
}

/* Return a borrowed connection; broken says the caller or a check found it unusable. */
static void give_back(sqlpool_conn *conn, int broken) {
    sqlpool *pool = conn->pool;
    char err[256];
    int pooled = 0, last;

    if (atomic_load_explicit(&conn->idle, memory_order_relaxed)) {
        /* Released twice: it is already on the stack; pushing it again would corrupt it. */
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR, "release_misuse connection released twice");
        return;
    }

    err[0] = '\0';
    if (!broken && pool->backend->reset(conn->handle) != SQLPOOL_OK) broken = 1;
    if (!broken && pool->cfg.ping_on_release &&
        pool->backend->ping(conn->handle, err, sizeof err) != SQLPOOL_OK)
        broken = 1;

    lock(pool);
    pool->in_use--;
    if (!broken && !pool->closing && pool->idle < pool->cfg.max_idle) {
        conn->next = pool->idle_top;
        atomic_store_explicit(&conn->idle, 1, memory_order_relaxed);
        pool->idle_top = conn;
        pool->idle++;
        pooled = 1;
    } else {
        pool->closed++;
        if (broken) pool->discarded++;
    }
    last = pool->closing && pool->in_use == 0;
    unlock(pool);

    if (pooled) return;
    if (broken)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING, "pool_discard reason=%s",
                     err[0] ? err : "broken");
    else
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_DEBUG, "pool_close_extra max_idle=%d",
                     pool->cfg.max_idle);
    close_conn(pool, conn);
    if (last) free_pool(pool);
}

void sqlpool_release(sqlpool_conn *conn) {
    if (conn != NULL) give_back(conn, 0);
}

void sqlpool_discard(sqlpool_conn *conn) {
    if (conn != NULL) give_back(conn, 1);
}

/* Detach up to (idle - target) idle connections, oldest first, to close outside the lock. */
static sqlpool_conn *take_idle_locked(sqlpool *pool, int target, int *count) {
    sqlpool_conn *taken = NULL, **link = &pool->idle_top;
    int keep = target, n = 0;

    /* The stack's top is the most recently used: keep the first `target`, take the rest. */
    while (*link != NULL && keep > 0) {
        link = &(*link)->next;
        keep--;
    }
    taken = *link;
    *link = NULL;
    for (sqlpool_conn *c = taken; c != NULL; c = c->next) {
        atomic_store_explicit(&c->idle, 0, memory_order_relaxed);
        n++;
    }
    pool->idle -= n;
    pool->closed += n;
    *count = n;
    return taken;
}

static void close_list(sqlpool *pool, sqlpool_conn *list) {
    while (list != NULL) {
        sqlpool_conn *next = list->next;
        close_conn(pool, list);
        list = next;
    }
}

int sqlpool_shrink(sqlpool *pool, int target) {
    sqlpool_conn *taken;
    int n;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    if (target < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "shrink target must not be negative, got %d", target);
    lock(pool);
    taken = take_idle_locked(pool, target, &n);
    unlock(pool);
    close_list(pool, taken);
    if (n > 0)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_shrink closed=%d target=%d", n, target);
    return n;
}

void sqlpool_close_idle(sqlpool *pool) {
    if (pool != NULL) (void)sqlpool_shrink(pool, 0);
}

void sqlpool_stats_get(sqlpool *pool, sqlpool_stats *out) {
    if (pool == NULL || out == NULL) return;
    lock(pool);
    out->created = pool->created;
    out->reused = pool->reused;
    out->idle = pool->idle;
    out->max_idle = pool->cfg.max_idle;
    out->in_use = pool->in_use;
    out->peak_in_use = pool->peak_in_use;
    out->open = pool->idle + pool->in_use;
    out->closed = pool->closed;
    out->discarded = pool->discarded;
    out->connect_retries = pool->connect_retries;
    out->connect_failures = pool->connect_failures;
    unlock(pool);
}

int sqlpool_conn_health(sqlpool_conn *conn, sqlpool_health *out) {
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    memset(out, 0, sizeof *out);
    if (conn == NULL) {
        sqlpool__format(out->error, sizeof out->error, "no connection");
        return sqlpool__fail(SQLPOOL_EINVAL, "conn is NULL");
    }
    if (conn->pool->backend->health(conn->handle, out) == SQLPOOL_OK) return SQLPOOL_OK;
    return sqlpool__fail(SQLPOOL_EBROKEN, "health check failed: %s", out->error);
}

sqlite3 *sqlpool_conn_sqlite(sqlpool_conn *conn) {
    if (conn == NULL) return NULL;
    return (sqlite3 *)conn->pool->backend->native(conn->handle);
}

void sqlpool_close(sqlpool *pool) {
    sqlpool_conn *taken;
    int n, last;
    if (pool == NULL) return;
    lock(pool);
    pool->closing = 1;
    taken = take_idle_locked(pool, 0, &n);
    last = pool->in_use == 0;
    unlock(pool);
    close_list(pool, taken);
    if (last) free_pool(pool);
}
