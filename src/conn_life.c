/*
 * conn_life.c: connect with retry, open, close. The backend's connect, close and the retry
 * waits all run outside the pool lock; only the books' moves and the struct recycling take
 * it.
 */
#include "conn_life.h"
#include "alloc.h"
#include "fork.h"

#include <math.h>
#include <string.h>

/* ---- structs ---- */

static sqlpool_conn *new_conn_struct(sqlpool *pool) {
    sqlpool_conn *c;
    sqlpool__pool_lock(pool);
    c = pool->spare;
    if (c != NULL) pool->spare = c->next;
    sqlpool__pool_unlock(pool);
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

void sqlpool__spare_push_locked(sqlpool *pool, sqlpool_conn *c) {
    SQLPOOL__ASSERT_LOCKED(pool);
    c->next = pool->spare;
    pool->spare = c;
}

static void recycle_conn_struct(sqlpool *pool, sqlpool_conn *c) {
    sqlpool__pool_lock(pool);
    sqlpool__spare_push_locked(pool, c);
    sqlpool__pool_unlock(pool);
}

void sqlpool__close_conn(sqlpool *pool, sqlpool_conn *c) {
    if (c->handle != NULL) pool->backend->close(c->handle);
    c->handle = NULL;
    recycle_conn_struct(pool, c);
}

void sqlpool__close_list(sqlpool *pool, sqlpool_conn *list) {
    while (list != NULL) {
        sqlpool_conn *next = list->next;
        sqlpool__close_conn(pool, list);
        list = next;
    }
}

/* ---- connecting ---- */

/* The wait before a connect retry, cut short by sqlpool_close(): in slices, looking at
 * pool->closing between them. Returns 1 when the pool began to close. */
static int retry_sleep(sqlpool *pool, double seconds) {
    for (;;) {
        int closing;
        double slice = seconds < 0.05 ? seconds : 0.05;
        sqlpool__sleep(slice);
        seconds -= slice;
        sqlpool__pool_lock(pool);
        closing = pool->closing;
        sqlpool__pool_unlock(pool);
        if (closing) return 1;
        if (seconds <= 0) return 0;
    }
}

/* The child of a fork made from inside the pool (fork.h: SQLPOOL__FORK_INSIDE): the
 * connection is the parent's, so it is let go of without a word to its server, and refused. */
static int forked_inside(sqlpool_conn *c) {
    sqlpool *pool = c->pool;
    if (atomic_load_explicit(&pool->fork_pending, memory_order_relaxed) != SQLPOOL__FORK_INSIDE)
        return 0;
    if (c->handle != NULL) pool->backend->abandon(c->handle);
    c->handle = NULL; /* whoever closes c now closes nothing */
    return 1;
}

int sqlpool__call_hook(sqlpool_fn fn, sqlpool_conn *c, void *ctx) {
    sqlpool__inside frame;
    int rc;
    if (forked_inside(c)) return SQLPOOL_ECLOSED; /* not even shown to the hook */
    sqlpool__inside_enter(&frame, c->pool, c);
    rc = fn(sqlpool__handle_of(c), ctx);
    sqlpool__inside_leave(&frame);
    /* The hook forked, and this is the child: whatever it answered, the connection is gone. */
    if (forked_inside(c)) return SQLPOOL_ECLOSED;
    return rc;
}

int sqlpool__in_hook(const sqlpool_conn *c) {
    for (const sqlpool__inside *f = sqlpool__fork_inside; c != NULL && f != NULL; f = f->outer)
        if (f->conn == c) return 1;
    return 0;
}

/* The caller's set-up of a connection just opened: config.init_sql, then on_connect (outside
 * the lock, on this thread). For on_connect the connection looks borrowed, with a handle of
 * its own that the books' lend later makes stale (a generation of its own; the books count
 * it as connecting meanwhile). Returns SQLPOOL_OK, or an error with err set; *retriable as
 * the backend's connect sets it. */
static int set_up(sqlpool *pool, sqlpool_conn *c, int *retriable, char *err, size_t errlen) {
    const sqlpool_config *cfg = &pool->cfg;
    int rc;
    if (cfg->init_sql != NULL && cfg->init_sql[0] != '\0') {
        rc = pool->backend->setup(c->handle, cfg->init_sql, retriable, err, errlen);
        if (rc != SQLPOOL_OK) return rc;
    }
    if (cfg->on_connect != NULL) {
        unsigned gen = sqlpool__conn_gen(c) + 1;
        sqlpool__set_word(c, gen, CONN_BORROWED);
        rc = sqlpool__call_hook(cfg->on_connect, c, cfg->on_connect_ctx);
        sqlpool__set_word(c, gen, CONN_CLOSED);
        c->native_used = 0; /* what the hook did is the connection's set-up, not a borrow's */
        if (rc != 0) {
            *retriable = 0;
            if (c->handle == NULL) /* forked_inside() let go of it */
                sqlpool__format(err, errlen, "fork() from inside the pool: closed in the child");
            else
                sqlpool__format(err, errlen, "on_connect returned %d", rc);
            return SQLPOOL_ECONNECT;
        }
    }
    return SQLPOOL_OK;
}

/* Connect and set up, retrying errors that can pass, while the deadline (pool clock; INFINITY
 * for none) leaves room for the next wait and the pool is not closing. */
static int connect_with_retry(sqlpool *pool, sqlpool_conn *c, double deadline) {
    const sqlpool_config *cfg = &pool->cfg;
    void **handle = &c->handle;
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
            double budget =
                sqlpool__no_deadline(deadline) ? INFINITY : deadline - sqlpool__now(pool);
            rc = pool->backend->connect(pool->backend_state, budget, handle, &retriable, err,
                                        sizeof err);
            if (rc == SQLPOOL_OK &&
                (rc = set_up(pool, c, &retriable, err, sizeof err)) != SQLPOOL_OK) {
                if (*handle != NULL) pool->backend->close(*handle);
                *handle = NULL;
            }
        }
        if (rc == SQLPOOL_OK) return SQLPOOL_OK;
        if (!retriable) return sqlpool__fail(rc, "%s", err);
        if (attempt >= cfg->max_retries)
            return sqlpool__fail(SQLPOOL_EBUSY, "failed after %d retries: %s", cfg->max_retries,
                                 err);
        wait = sqlpool__backoff_delay(cfg->retry_backoff, attempt);
        if (!sqlpool__no_deadline(deadline) && sqlpool__now(pool) + wait >= deadline)
            return sqlpool__fail(SQLPOOL_ETIMEDOUT,
                                 "timed out connecting: retry %d would come after the deadline: %s",
                                 attempt + 1, err);
        SQLPOOL__LOG(cfg, SQLPOOL_LOG_WARNING, "connect_retry attempt=%d wait_ms=%.1f error=%s",
                     attempt + 1, wait * 1e3, err);
        sqlpool__pool_lock(pool);
        pool->connect_retries++;
        sqlpool__pool_unlock(pool);
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
    sqlpool__inside frame;
    int rc;
    *out = NULL;
    if (c == NULL) {
        (void)sqlpool__fail(SQLPOOL_ENOMEM, "out of memory opening a connection");
        return SQLPOOL_ENOMEM; /* spelled out: the analyzer cannot see what sqlpool__fail returns */
    }
    /* The epoch before the connect: one evicted meanwhile is retired when next seen. Acquire,
     * pairing with sqlpool_evict()'s release: a db string set before that evict is used. */
    c->epoch = atomic_load_explicit(&pool->epoch, memory_order_acquire);
    sqlpool__inside_enter(&frame, pool, NULL); /* before_connect, on_connect: fork.h */
    rc = connect_with_retry(pool, c, deadline);
    sqlpool__inside_leave(&frame);
    if (rc != SQLPOOL_OK) {
        recycle_conn_struct(pool, c);
        return rc;
    }
    c->created_at = c->released_at = c->checked_at = now;
    c->expires_at = expiry(pool, now);
    *out = c;
    return SQLPOOL_OK;
}

void sqlpool__note_connect_failure_locked(sqlpool *pool, int rc) {
    SQLPOOL__ASSERT_LOCKED(pool);
    pool->connect_failures++;
    pool->last_connect_rc = rc;
    sqlpool__format(pool->last_connect_error, sizeof pool->last_connect_error, "%s",
                    sqlpool__errmsg_raw());
}

int sqlpool__open_offer(sqlpool *pool, double deadline, const char *what) {
    sqlpool_conn *c;
    sqlpool__waiter *wake = NULL;
    double now = sqlpool__now(pool);
    int rc = sqlpool__open_conn(pool, &c, now, deadline), pooled = 0;

    sqlpool__pool_lock(pool);
    if (rc != SQLPOOL_OK) {
        sqlpool__books_move(pool, NULL, BOOK_CONNECTING, BOOK_NONE, 0);
        sqlpool__note_connect_failure_locked(pool, rc);
    } else {
        wake = sqlpool__offer_locked(pool, c, BOOK_CONNECTING, now, 0, &pooled);
        if (!pooled) /* opened and closed at once: counted as both */
            sqlpool__books_move(pool, c, BOOK_CONNECTING, BOOK_CLOSED,
                                pool->closing         ? CLOSE_POOL
                                : sqlpool__evicted(c) ? CLOSE_EVICTED
                                                      : CLOSE_MAX_IDLE);
    }
    /* Our turn to connect is over: pass it on (after the waiter offered the connection). */
    if (wake != NULL)
        wake->next = sqlpool__grant_locked(pool);
    else
        wake = sqlpool__grant_locked(pool);
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    if (rc != SQLPOOL_OK) {
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR, "%s error=%s", what, sqlpool__errmsg_raw());
        return 0;
    }
    if (!pooled) sqlpool__close_conn(pool, c);
    return 1;
}

void sqlpool__turn_unused(sqlpool *pool) {
    sqlpool__waiter *wake;
    sqlpool__settlement st;
    sqlpool__pool_lock(pool);
    sqlpool__books_move(pool, NULL, BOOK_CONNECTING, BOOK_NONE, 0);
    wake = sqlpool__grant_locked(pool);
    st = sqlpool__settle_locked(pool);
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    sqlpool__settle(pool, st);
}

/* ---- closing what a caller holds ---- */

void sqlpool__close_lent_handle(sqlpool *pool, sqlpool_conn *c) {
    if (c->handle != NULL) pool->backend->close(c->handle); /* NULL: see forked_inside() */
    c->handle = NULL;
    sqlpool__maintenance_kick(pool);
}

void sqlpool__retire_lent_locked(sqlpool *pool, sqlpool_conn *c, int from, int reason) {
    SQLPOOL__ASSERT_LOCKED(pool);
    sqlpool__books_move(pool, c, from, BOOK_CLOSED, reason);
    sqlpool__spare_push_locked(pool, c);
}

int sqlpool__retire_lent(sqlpool *pool, sqlpool_conn *c, int from, int reason) {
    sqlpool__waiter *wake;
    sqlpool__settlement st;
    reason = sqlpool__close_reason(pool, c, reason); /* before the handle is closed */
    sqlpool__close_lent_handle(pool, c);
    sqlpool__pool_lock(pool);
    sqlpool__retire_lent_locked(pool, c, from, reason);
    wake = sqlpool__grant_locked(pool);
    st = sqlpool__settle_locked(pool);
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    sqlpool__settle(pool, st);
    return st.closer != NULL || st.free_pool; /* 1: the pool may be gone */
}

/* ---- a connection for a caller with a turn ---- */

int sqlpool__connect_for(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                         int line) {
    sqlpool_conn *c = NULL;
    sqlpool__waiter *wake;
    sqlpool__settlement st;
    long long created, reused;
    double now = sqlpool__now_coarse(pool);
    int rc = sqlpool__open_conn(pool, &c, now, deadline);

    if (rc == SQLPOOL_OK) {
        sqlpool__pool_lock(pool);
        if (!pool->closing) {
            sqlpool__books_lend(pool, c, BOOK_CONNECTING, now, file, line);
            pool->acquires++;
            created = pool->created;
            reused = pool->reused;
            wake = sqlpool__grant_locked(pool); /* our turn is over: the next waiter's */
            sqlpool__pool_unlock(pool);
            sqlpool__wake_all(wake);
            SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_create total=%lld reused=%lld",
                         created, reused);
            *out = sqlpool__handle_of(c);
            return SQLPOOL_OK;
        }
        sqlpool__pool_unlock(pool);
        pool->backend->close(c->handle); /* opened too late: the pool is closing */
        rc = sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    } else {
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR, "connect_failed error=%s",
                     sqlpool__errmsg_raw());
    }
    sqlpool__pool_lock(pool);
    sqlpool__books_move(pool, NULL, BOOK_CONNECTING, BOOK_NONE, 0);
    if (c != NULL) sqlpool__spare_push_locked(pool, c);
    if (rc != SQLPOOL_ECLOSED) {
        sqlpool__note_connect_failure_locked(pool, rc);
        if (rc == SQLPOOL_ETIMEDOUT) pool->timeouts++; /* the acquire's deadline came first */
    }
    wake = sqlpool__grant_locked(pool); /* the turn passes on */
    st = sqlpool__settle_locked(pool);
    sqlpool__pool_unlock(pool);
    sqlpool__wake_all(wake);
    sqlpool__settle(pool, st);
    return rc;
}
