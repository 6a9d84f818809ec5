/*
 * acquire.c: borrowing a connection (sqlpool_acquire and its variants, sqlpool_try_acquire,
 * sqlpool_with): this processor's slot (throughput mode), else the most recently released
 * idle connection (checked first when due), else another processor's slot, else a new
 * connection if there is room, else a place in the queue of waiters.
 *
 * sqlpool_try_acquire never waits and does no blocking I/O: it takes only an idle connection
 * that needs no round trip before it is handed out (the backend's non-blocking check is
 * fine); one due a ping, or past its lifetime, is left for the next acquire or maintenance.
 */
#include "acquire.h"
#include "jobs.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* An idle connection handed out: counted once it has passed its check. zero_wait: for an
 * acquire that did not wait (a waiter's wait is recorded when it leaves the queue). */
static void count_reuse_locked(sqlpool *pool, int zero_wait) {
    SQLPOOL__ASSERT_LOCKED(pool);
    pool->reused++;
    pool->acquires++;
    if (zero_wait) sqlpool__hist_record_zero(&pool->waits);
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

/* Under the lock: take c off the idle list for the caller. Returns the check it needs before
 * it is handed out: 0 none, 1 the backend's cheap one, 2 a ping too. */
static SQLPOOL__HOT_INLINE int take_idle_locked(sqlpool *pool, sqlpool_conn *c, double now,
                                                const char *file, int line) {
    int check;
    SQLPOOL__ASSERT_LOCKED(pool);
    sqlpool__books_lend(pool, c, BOOK_IDLE, now, file, line);
    check = sqlpool__needs_check(pool, c, now);
    return check ? 2 : pool->backend->check != NULL;
}

/* After the unlock: the check take_idle_locked() asked for. Returns 1 when c passed; else c
 * is closed and it returns 0, or -1 when the pool is closing (and may be gone). */
static int check_idle(sqlpool *pool, sqlpool_conn *c, double now, int check) {
    if (!sqlpool__expired(c, now) && usable(pool, c, check == 2)) return 1;
    return sqlpool__retire_lent(pool, c, BOOK_BORROWED,
                                sqlpool__expired(c, now) ? sqlpool__expiry_reason(c) : CLOSE_BROKEN)
               ? -1
               : 0;
}

/* The idle connection an acquire may take: the most recently released; for try_acquire,
 * the most recently released that needs no round trip first. */
static sqlpool_conn *idle_pick_locked(sqlpool *pool, double now, int try_only) {
    sqlpool_conn *c = pool->idle_head;
    SQLPOOL__ASSERT_LOCKED(pool);
    if (try_only)
        while (c != NULL && sqlpool__needs_check(pool, c, now))
            c = c->next;
    return c;
}

/* Leave the wait, under the lock: the last step of a waiter that touches the pool. */
static sqlpool__settlement waiter_leave_locked(sqlpool *pool, sqlpool__waiter *w, double now) {
    SQLPOOL__ASSERT_LOCKED(pool);
    sqlpool__record_wait_locked(pool, now - w->since);
    pool->waiters_live--;
    return sqlpool__settle_locked(pool);
}

/* Under the lock, for a timeout's message: the pool's state. */
static void describe_locked(sqlpool *pool, char *state, size_t len) {
    char cap[24] = " (no cap)";
    int in_slots = sqlpool__slotted(pool);
    SQLPOOL__ASSERT_LOCKED(pool);
    if (pool->max_open > 0) sqlpool__format(cap, sizeof cap, "/%d", pool->max_open);
    sqlpool__format(state, len,
                    "open %d%s, in use %d, idle %d, waiting %d, connecting %d; last "
                    "connect error: %s",
                    pool->open, cap, pool->in_use - in_slots, pool->idle + in_slots, pool->waiting,
                    pool->connecting,
                    pool->last_connect_error[0] ? pool->last_connect_error : "none");
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
    sqlpool__settlement st;
    char state[512];
    unsigned seen = 0, sent;
    double now, timer;
    int check = 0, timed_out = 0;

    if (deadline == SQLPOOL_DEADLINE_DEFAULT)
        deadline = pool->cfg.acquire_timeout > 0 ? since + pool->cfg.acquire_timeout : INFINITY;
    sqlpool__waiter_init(&w, since, file, line);
    sqlpool__queue_push_locked(pool, &w);
    pool->waiters_live++; /* until waiter_leave_locked: the pool stays while we may touch it */
    timer = sqlpool__head_timer_locked(pool, &w);
    sqlpool__pool_unlock(pool);

    for (;;) {
        (void)sqlpool__waiter_sleep(pool, &w, deadline, timer, &seen);
        now = sqlpool__now(pool);
        sqlpool__pool_lock(pool);
        if (w.conn != NULL || w.grant || w.closed) break; /* decided, and signaled or about to */
        if (pool->wait_head == &w && pool->cfg.barge_window > 0) {
            (void)sqlpool__head_timer_locked(pool, &w); /* stops the slots when our window ends */
            if ((c = pool->idle_head) != NULL) {        /* left idle for newcomers, who let it be */
                sqlpool__queue_remove_locked(pool, &w);
                check = take_idle_locked(pool, c, now, file, line);
                if (!check) break;
                sqlpool__pool_unlock(pool); /* still counted in waiters_live: the pool stays */
                if (!sqlpool__expired(c, now) && usable(pool, c, check == 2)) {
                    sqlpool__pool_lock(pool);
                    break;
                }
                /* Broken: close it, and stay first in line (with the room it leaves): not
                 * sqlpool__retire_lent(), which would grant that room to the next waiter. */
                sqlpool__close_lent_handle(pool, c);
                sqlpool__pool_lock(pool);
                sqlpool__retire_lent_locked(pool, c, BOOK_BORROWED,
                                            sqlpool__expired(c, now) ? sqlpool__expiry_reason(c)
                                                                     : CLOSE_BROKEN);
                c = NULL;
                if (pool->closing) {
                    w.closed = 1;
                    break;
                }
                if (sqlpool__can_connect_locked(pool)) {
                    w.grant = 1;
                    sqlpool__books_move(pool, NULL, BOOK_NONE, BOOK_CONNECTING, 0);
                    break;
                }
                sqlpool__queue_push_head_locked(pool, &w);
                timer = sqlpool__head_timer_locked(pool, &w);
                sqlpool__pool_unlock(pool);
                continue;
            }
            if (sqlpool__can_connect_locked(pool)) { /* room freed by a close that handed out
                                                      * nothing */
                sqlpool__queue_remove_locked(pool, &w);
                w.grant = 1;
                sqlpool__books_move(pool, NULL, BOOK_NONE, BOOK_CONNECTING, 0);
                break;
            }
        }
        if (now >= deadline) {
            sqlpool__queue_remove_locked(pool, &w);
            pool->timeouts++;
            w.waited = now - w.since;
            timed_out = 1;
            describe_locked(pool, state, sizeof state);
            break;
        }
        timer = sqlpool__head_timer_locked(pool, &w);
        sqlpool__pool_unlock(pool);
    }
    if (c != NULL) count_reuse_locked(pool, 0);
    st = waiter_leave_locked(pool, &w, now);
    sent = w.sent; /* out of the queue, with an outcome: no more signals will be decided */
    sqlpool__pool_unlock(pool);
    sqlpool__waiter_wait_delivered(&w, sent);
    sqlpool__waiter_destroy(&w);
    sqlpool__settle(pool, st); /* a closed pool may be freed here: touch it no more unless we
                                * hold a connection or a turn */
    if (timed_out)
        return sqlpool__fail(SQLPOOL_ETIMEDOUT,
                             "timed out after %.3f s waiting for a connection (%s)", w.waited,
                             state);
    if (w.closed) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
    if (w.grant) return sqlpool__connect_for(pool, out, deadline, file, line);
    *out = sqlpool__handle_of(c != NULL ? c : w.conn);
    return SQLPOOL_OK;
}

/* try_acquire found nothing idle and room for one more (a turn reserved): a job thread opens
 * a connection and offers it, to the first waiter or the idle list, within acquire_timeout. */
static void open_job(sqlpool__job *job) {
    sqlpool *pool = (sqlpool *)((char *)job - offsetof(sqlpool, open_job));
    double t = pool->cfg.acquire_timeout;
    sqlpool__settlement st;
    (void)sqlpool__open_offer(pool, t > 0 ? sqlpool__now(pool) + t : INFINITY, "open_failed");
    sqlpool__pool_lock(pool);
    pool->open_asked = 0;
    st = sqlpool__settle_locked(pool);
    sqlpool__pool_unlock(pool);
    sqlpool__settle(pool, st);
}

static void ask_open(sqlpool *pool) {
    pool->open_job.run = open_job;
    if (sqlpool__jobs_submit(pool, &pool->open_job) == 0) return;
    sqlpool__pool_lock(pool); /* no job thread (the pool is closing): the turn goes back */
    pool->open_asked = 0;
    sqlpool__pool_unlock(pool);
    sqlpool__turn_unused(pool);
}

/* This processor's slot (throughput mode): a connection borrowed from it, or NULL. One due a
 * check goes back to the books, for the lock's path below to check (try_acquire: to skip). */
static sqlpool_conn *from_slot(sqlpool *pool, double now, int try_only, const char *file,
                               int line) {
    sqlpool__slot *s = NULL;
    sqlpool_conn *c = sqlpool__slot_take(pool, &s);
    if (c == NULL) return NULL;
    if (sqlpool__needs_check(pool, c, now)) {
        sqlpool__unslot(pool, c, !try_only);
        return NULL;
    }
    return sqlpool__slot_lend(pool, s, c, file, line);
}

/* A nested acquire (config.nested_acquire): the earlier borrow by this thread, if any. */
typedef struct nested_site {
    const char *file;
    int line;
    int found;
} nested_site;

/* Only on the way to a wait (the fast path never looks): does the calling thread hold one of
 * the pool's connections? Under the lock; the walk is O(open). */
static void held_here_locked(sqlpool *pool, nested_site *site) {
    uintptr_t me = sqlpool__thread_id();
    SQLPOOL__ASSERT_LOCKED(pool);
    for (const sqlpool_conn *c = pool->all; c != NULL; c = c->all_next) {
        if (sqlpool__conn_state(c) != CONN_BORROWED ||
            atomic_load_explicit(&c->borrower, memory_order_relaxed) != me)
            continue;
        /* Ours: its borrow's fields were written by this thread. */
        site->file = c->acquired_file;
        site->line = c->acquired_line;
        site->found = 1;
        return;
    }
}

int sqlpool__held_here_locked(sqlpool *pool) {
    nested_site site = {NULL, 0, 0};
    held_here_locked(pool, &site);
    return site.found;
}

/* The thread would wait for a connection while it holds one: warn (naming both acquires), or
 * fail with SQLPOOL_EDEADLK. Outside the lock. */
static int report_nested(sqlpool *pool, const nested_site *held, const char *file, int line) {
    const char *hf = held->file != NULL ? held->file : "?", *nf = file != NULL ? file : "?";
    if (pool->cfg.nested_acquire == SQLPOOL_NESTED_FAIL)
        return sqlpool__fail(SQLPOOL_EDEADLK,
                             "nested acquire at %s:%d would wait while this thread holds a "
                             "connection of the pool acquired at %s:%d",
                             nf, line, hf, held->line);
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_WARNING,
                 "nested_acquire at %s:%d waits while this thread holds a connection acquired "
                 "at %s:%d (a deadlock once the pool is full)",
                 nf, line, hf, held->line);
    return SQLPOOL_OK;
}

/* Inlined into each entry point, so that try_only is a constant: try_acquire's look past
 * connections due a check costs sqlpool_acquire() nothing. */
static SQLPOOL__HOT_INLINE int acquire(sqlpool *pool, sqlpool_conn **out, double deadline,
                                       const char *file, int line, int try_only) {
    double since = -1; /* when this acquire started waiting: read outside the lock */
    int rc;
    for (;;) {
        double now = sqlpool__now_coarse(pool);
        sqlpool_conn *c = NULL;
        long long created, reused;
        int check;

        if (pool->nslots > 0 && (c = from_slot(pool, now, try_only, file, line)) != NULL) {
            *out = sqlpool__handle_of(c);
            return SQLPOOL_OK;
        }
        sqlpool__pool_lock(pool);
        if (pool->closing) {
            sqlpool__pool_unlock(pool);
            return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
        }
        /* An idle connection, unless that would overtake a waiter (throughput mode allows it
         * for a while). */
        if ((c = idle_pick_locked(pool, now, try_only)) != NULL &&
            (pool->wait_head == NULL || sqlpool__may_barge_locked(pool))) {
            check = take_idle_locked(pool, c, now, file, line);
            if (!check) count_reuse_locked(pool, 1);
            created = pool->created;
            reused = pool->reused;
            sqlpool__pool_unlock(pool);
            if (check) { /* try_acquire: the backend's non-blocking check only */
                int ok = check_idle(pool, c, now, check);
                if (ok < 0) return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
                if (ok == 0) continue;
                sqlpool__pool_lock(pool);
                count_reuse_locked(pool, 1);
                created = pool->created;
                reused = pool->reused;
                sqlpool__pool_unlock(pool);
            }
            SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "pool_reuse total=%lld reused=%lld", created,
                         reused);
            *out = sqlpool__handle_of(c);
            return SQLPOOL_OK;
        }
        if (pool->nslots > 0 && (c = sqlpool__slots_steal_locked(pool, now, file, line)) != NULL) {
            /* Idle in another processor's slot: better than a new connection or a wait (the
             * slots are on only while newcomers may overtake waiters). */
            sqlpool__pool_unlock(pool);
            *out = sqlpool__handle_of(c);
            return SQLPOOL_OK;
        }
        if (try_only) { /* what is idle needs a round trip first: left for others */
            int ask = pool->idle_head == NULL && pool->wait_head == NULL && !pool->open_asked &&
                      sqlpool__can_connect_locked(pool);
            if (ask) { /* nothing idle, and room: a job thread opens one for a later try */
                pool->open_asked = 1;
                sqlpool__books_move(pool, NULL, BOOK_NONE, BOOK_CONNECTING, 0);
            }
            sqlpool__pool_unlock(pool);
            if (ask) ask_open(pool);
            return sqlpool__fail(SQLPOOL_EAGAIN, "no idle connection");
        }
        if (pool->idle_head != NULL && pool->wait_head == NULL) { /* due a check, unslotted */
            sqlpool__pool_unlock(pool);
            continue;
        }
        if (pool->wait_head == NULL && sqlpool__can_connect_locked(pool)) {
            sqlpool__books_move(pool, NULL, BOOK_NONE, BOOK_CONNECTING, 0);
            sqlpool__hist_record_zero(&pool->waits);
            sqlpool__pool_unlock(pool);
            if (deadline == SQLPOOL_DEADLINE_DEFAULT) /* retries stop at acquire_timeout too */
                deadline = pool->cfg.acquire_timeout > 0
                               ? sqlpool__now(pool) + pool->cfg.acquire_timeout
                               : INFINITY;
            return sqlpool__connect_for(pool, out, deadline, file, line);
        }
        if (since < 0) { /* must wait: read the (caller's) clock outside the lock, then retry */
            nested_site site = {NULL, 0, 0};
            if (pool->cfg.nested_acquire != SQLPOOL_NESTED_ALLOW) held_here_locked(pool, &site);
            sqlpool__pool_unlock(pool);
            if (site.found && (rc = report_nested(pool, &site, file, line)) != SQLPOOL_OK)
                return rc;
            since = sqlpool__now(pool);
            continue;
        }
        return wait_turn(pool, out, deadline, since, file, line);
    }
}

int sqlpool__acquire_now(sqlpool *pool, sqlpool__waiter *w, sqlpool_conn **c, int *check,
                         const char *file, int line) {
    double now = sqlpool__now_coarse(pool);
    *c = NULL;
    *check = 0;
    /* try_only: one due a check goes back to the books unclosed (a close is I/O). */
    if (pool->nslots > 0 && (*c = from_slot(pool, now, 1, file, line)) != NULL)
        return SQLPOOL__NOW_CONN;
    sqlpool__pool_lock(pool);
    if (pool->closing) {
        sqlpool__pool_unlock(pool);
        return SQLPOOL_ECLOSED;
    }
    if ((*c = idle_pick_locked(pool, now, 0)) != NULL &&
        (pool->wait_head == NULL || sqlpool__may_barge_locked(pool))) {
        *check = take_idle_locked(pool, *c, now, file, line);
        if (!*check) count_reuse_locked(pool, 1);
        sqlpool__pool_unlock(pool);
        return SQLPOOL__NOW_CONN;
    }
    if (pool->nslots > 0 && (*c = sqlpool__slots_steal_locked(pool, now, file, line)) != NULL) {
        sqlpool__pool_unlock(pool);
        return SQLPOOL__NOW_CONN;
    }
    *c = NULL;
    if (pool->wait_head == NULL && sqlpool__can_connect_locked(pool)) {
        sqlpool__books_move(pool, NULL, BOOK_NONE, BOOK_CONNECTING, 0);
        sqlpool__hist_record_zero(&pool->waits);
        sqlpool__pool_unlock(pool);
        return SQLPOOL__NOW_CONNECT;
    }
    sqlpool__queue_push_locked(pool, w);
    return SQLPOOL__NOW_QUEUED;
}

int sqlpool__check_taken(sqlpool *pool, sqlpool_conn *c, double now, int check) {
    int ok = check_idle(pool, c, now, check);
    if (ok <= 0) return ok;
    sqlpool__pool_lock(pool);
    count_reuse_locked(pool, 1);
    sqlpool__pool_unlock(pool);
    return 1;
}

/* With config.on_acquire: each connection an acquire would hand out (from a slot, the idle
 * list, a waiter's hand-off or a new one) goes to the hook first, after the take and outside
 * the lock; one it refuses is closed (CLOSE_HOOK) and the acquire goes on, within the same
 * deadline (try_acquire: until nothing is idle). Out of line: the pool without the hook pays
 * one test. */
static __attribute__((noinline)) int acquire_hooked(sqlpool *pool, sqlpool_conn **out,
                                                    double deadline, const char *file, int line,
                                                    int try_only) {
    const sqlpool_config *cfg = &pool->cfg;
    int refused = 0;
    if (deadline == SQLPOOL_DEADLINE_DEFAULT) /* one deadline for every attempt (the coarse
                                               * clock: a few ms early at worst, and cheap) */
        deadline =
            cfg->acquire_timeout > 0 ? sqlpool__now_coarse(pool) + cfg->acquire_timeout : INFINITY;
    for (;;) {
        sqlpool_conn *c, *handle;
        int rc = try_only ? acquire(pool, out, 0, file, line, 1)
                          : acquire(pool, out, deadline, file, line, 0);
        if (rc != SQLPOOL_OK) return rc;
        if ((handle = *out) == NULL || (c = sqlpool__borrowed(handle)) == NULL)
            return sqlpool__fail(SQLPOOL_EINVAL, "no connection"); /* (never) */
        if (sqlpool__call_hook(cfg->on_acquire, c, cfg->on_acquire_ctx) == 0) return SQLPOOL_OK;
        *out = NULL; /* refused (the hook cannot have given it back: see sqlpool__call_hook) */
        refused++;
        if (sqlpool__retire_lent(pool, c, BOOK_BORROWED, CLOSE_HOOK))
            return sqlpool__fail(SQLPOOL_ECLOSED, "the pool is closing");
        if (!try_only && !sqlpool__no_deadline(deadline) && sqlpool__now(pool) >= deadline) {
            sqlpool__pool_lock(pool);
            pool->timeouts++; /* an acquire that timed out, as any other */
            sqlpool__pool_unlock(pool);
            return sqlpool__fail(SQLPOOL_ETIMEDOUT, "timed out: on_acquire refused %d connection%s",
                                 refused, refused == 1 ? "" : "s");
        }
    }
}

int sqlpool_acquire_at(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                       int line) {
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    if (isnan(deadline)) return sqlpool__fail(SQLPOOL_EINVAL, "the deadline is not a number");
    sqlpool__fork_check(pool);
    if (pool->cfg.on_acquire != NULL) return acquire_hooked(pool, out, deadline, file, line, 0);
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
    sqlpool__fork_check(pool);
    if (pool->cfg.on_acquire != NULL) return acquire_hooked(pool, out, 0, NULL, 0, 1);
    return acquire(pool, out, 0, NULL, 0, 1);
}

int sqlpool_with(sqlpool *pool, sqlpool_fn fn, void *ctx) {
    sqlpool_conn *conn;
    int rc;
    if (fn == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "fn is NULL");
    rc = sqlpool_acquire_at(pool, &conn, SQLPOOL_DEADLINE_DEFAULT, "sqlpool_with", 0);
    if (rc != SQLPOOL_OK) return rc;
    sqlpool__clear_error(); /* what fn's failure leaves, not an older call's message */
    rc = fn(conn, ctx);
    if (rc == SQLPOOL_EBROKEN)
        sqlpool_discard(conn);
    else
        sqlpool_release(conn);
    return rc;
}
