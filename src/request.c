/*
 * request.c: requests of event loops (sqlpool_acquire_async() and the calls beside it). A
 * request is a waiter without a thread: it takes an idle connection, a turn to connect or a
 * place in the pool's one queue exactly as a blocking acquire would (acquire.h), but what
 * would block is done by the pool's job threads (jobs.h): a connect, a ping, on_acquire,
 * and a release's reset. When its outcome is known, it joins the ready list of the pool the
 * caller holds, and the event fd turns readable; sqlpool_dispatch() runs its callback and
 * frees it. Its deadline is kept by the jobs' timer thread, which takes it out of the queue.
 *
 * Where a request is, and who ends it:
 *   queued      in its lane's queue (queued set and not decided, under the lane's lock):
 *               a hand-off, a turn, the close or the timer decides it (then notify()),
 *               sqlpool_cancel() takes it out and frees it;
 *   working     with a job, or in the hands of whoever decided it, on its way to ready;
 *               sqlpool_cancel() marks it cancelled, and ready_push() then ends it (a
 *               connection it got goes back through the job threads);
 *   ready       on the ready list (where, under ev_mu): dispatch runs and frees it,
 *               sqlpool_cancel() unlinks and frees it;
 *   running     its callback runs (dispatch frees it after).
 */
#include "acquire.h"
#include "alloc.h"
#include "fork.h"
#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

enum { REQ_PENDING = 0, REQ_READY, REQ_RUNNING };

/* What leak warnings name as the borrower of a request's connection. */
static const char request_site[] = "sqlpool_acquire_async";

struct sqlpool_request {
    sqlpool__waiter w; /* first: notify() gets the request from it */
    sqlpool__job job;
    sqlpool *lane;   /* where it waits (the read lane for a read of a single_writer pool) */
    sqlpool *holder; /* the pool the caller holds: its ready list and event fd */
    sqlpool_ready_fn fn;
    void *ctx;
    int read;     /* asked with sqlpool_acquire_read_async() */
    int fallback; /* config.read_db's back-off sent the read to the writer (lanes.c) */
    int reported; /* its read lane's outcome told to the back-off */
    /* The outcome, written by whoever decides it before ready_push(): */
    int rc;
    sqlpool_conn *conn; /* the handle (or, for job_check, the connection taken) */
    int check;          /* job_check: what sqlpool__check_taken() is to do */
    int hooked;         /* on_acquire has accepted conn */
    /* Under the lane's lock: */
    int queued; /* put in the queue (the queue's decisions say whether it still is) */
    int taken;  /* taken out of it by the timer */
    /* Under the holder's ev_mu: */
    int where, cancelled;
    struct sqlpool_request *prev, *next; /* the ready list; next also the timer's list */
};

static sqlpool_request *of_waiter(sqlpool__waiter *w) {
    return (sqlpool_request *)(void *)((char *)w - offsetof(sqlpool_request, w));
}
static sqlpool_request *of_job(sqlpool__job *job) {
    return (sqlpool_request *)(void *)((char *)job - offsetof(sqlpool_request, job));
}

/* ---- the event fd (under ev_mu) ---- */

static int ev_make_locked(sqlpool *h) {
    int fds[2];
    if (h->ev_fd >= 0) return SQLPOOL_OK;
#ifdef __linux__
    fds[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fds[0] >= 0) {
        h->ev_fd = h->ev_wfd = fds[0];
        return SQLPOOL_OK;
    }
    if (errno != ENOSYS && errno != EINVAL)
        return sqlpool__fail(SQLPOOL_ENOMEM, "cannot make the event fd: %s", strerror(errno));
#endif
    if (pipe(fds) != 0)
        return sqlpool__fail(SQLPOOL_ENOMEM, "cannot make the event pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        (void)fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        (void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    h->ev_fd = fds[0];
    h->ev_wfd = fds[1];
    return SQLPOOL_OK;
}

/* Readable while the ready list is not empty: one write when it fills, drained when it
 * empties. */
static void ev_raise_locked(sqlpool *h) {
    uint64_t one = 1;
    if (h->ev_readable || h->ev_fd < 0) return;
    if (h->ev_wfd == h->ev_fd)
        (void)!write(h->ev_wfd, &one, sizeof one);
    else
        (void)!write(h->ev_wfd, "x", 1);
    h->ev_readable = 1;
}

static void ev_lower_locked(sqlpool *h) {
    char buf[64];
    if (!h->ev_readable) return;
    while (read(h->ev_fd, buf, h->ev_wfd == h->ev_fd ? 8 : sizeof buf) > 0)
        ;
    h->ev_readable = 0;
}

static void ready_unlink_locked(sqlpool *h, sqlpool_request *r) {
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        h->ready_head = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    else
        h->ready_tail = r->prev;
    r->prev = r->next = NULL;
    if (--h->ready_count == 0) ev_lower_locked(h);
}

/* ---- outcomes ---- */

static void attempt_again(sqlpool_request *r);

/* A cancelled request's end: its connection back through the job threads, its memory. */
static void drop(sqlpool_request *r) {
    if (r->conn != NULL) sqlpool_release_async(r->conn);
    sqlpool__free(r);
}

/* Under ev_mu: r is no longer carried by any thread (ready, or about to be freed). The last
 * wakes a sqlpool_close() waiting for them. */
static void live_done_locked(sqlpool *h) {
    if (--h->requests_live == 0 && pthread_cond_broadcast(&h->ev_cv) != 0) abort();
}

static void ready_push(sqlpool_request *r) {
    sqlpool *h = r->holder;
    if (pthread_mutex_lock(&h->ev_mu) != 0) abort();
    if (r->cancelled) {
        /* (The connection it holds keeps the pool open until drop() gives it back.) */
        live_done_locked(h);
        if (pthread_mutex_unlock(&h->ev_mu) != 0) abort();
        drop(r);
        return;
    }
    r->where = REQ_READY;
    r->next = NULL;
    r->prev = h->ready_tail;
    if (h->ready_tail != NULL)
        h->ready_tail->next = r;
    else
        h->ready_head = r;
    h->ready_tail = r;
    h->ready_count++;
    live_done_locked(h);
    ev_raise_locked(h);
    if (pthread_mutex_unlock(&h->ev_mu) != 0) abort();
}

/* To a job thread; when they have stopped (the pool is closing), run here: each job ends
 * at once on a closing pool. */
static void to_job(sqlpool_request *r, void (*run)(sqlpool__job *)) {
    r->job.run = run;
    if (sqlpool__jobs_submit(r->lane, &r->job) != 0) run(&r->job);
}

static void job_hook(sqlpool__job *job);

/* A read of config.read_db: the read lane's outcome for the back-off (an OK ends it). */
static int report_read(sqlpool_request *r, int rc) {
    if (!r->read || r->reported || r->lane != r->holder->read_lane) return 0;
    r->reported = 1;
    return sqlpool__read_falls_back(r->holder, r->lane, rc);
}

static void deliver(sqlpool_request *r, int rc, sqlpool_conn *handle) {
    (void)report_read(r, rc);
    if (rc == SQLPOOL_OK && r->fallback)
        atomic_fetch_add_explicit(&r->holder->read_fallbacks, 1, memory_order_relaxed);
    r->fallback = 0;
    r->rc = rc;
    r->conn = handle;
    if (rc == SQLPOOL_OK && r->lane->cfg.on_acquire != NULL && !r->hooked) {
        to_job(r, job_hook); /* the program's code, which may do I/O */
        return;
    }
    ready_push(r);
}

/* ---- the work a request may need, on a job thread ---- */

/* A turn to connect: open one, within the request's deadline (sqlpool__connect_for() passes
 * the turn on). On a closing pool, the turn goes back unused. */
static void job_connect(sqlpool__job *job) {
    sqlpool_request *r = of_job(job);
    sqlpool *lane = r->lane;
    sqlpool_conn *handle = NULL;
    int rc, closing;
    sqlpool__pool_lock(lane);
    closing = lane->closing;
    sqlpool__pool_unlock(lane);
    if (closing) {
        sqlpool__turn_unused(lane);
        deliver(r, SQLPOOL_ECLOSED, NULL);
        return;
    }
    rc = sqlpool__connect_for(lane, &handle, r->w.deadline, request_site, 0);
    if (rc != SQLPOOL_OK && report_read(r, rc)) {
        /* config.read_db: no standby could be reached. This thread may wait, so the read
         * falls back as sqlpool_acquire_read() does, within the same deadline. */
        rc = sqlpool_acquire_at(r->holder, &handle, r->w.deadline, request_site, 0);
        r->fallback = 1;
        r->hooked = rc == SQLPOOL_OK; /* that acquire ran on_acquire */
    }
    deliver(r, rc, rc == SQLPOOL_OK ? handle : NULL);
}

/* An idle connection due a ping. */
static void job_check(sqlpool__job *job) {
    sqlpool_request *r = of_job(job);
    sqlpool_conn *c = r->conn;
    int ok;
    r->conn = NULL;
    ok = sqlpool__check_taken(r->lane, c, sqlpool__now_coarse(r->lane), r->check);
    if (ok > 0)
        deliver(r, SQLPOOL_OK, sqlpool__handle_of(c));
    else if (ok < 0)
        deliver(r, SQLPOOL_ECLOSED, NULL);
    else
        attempt_again(r); /* closed as broken: look again */
}

/* config.on_acquire, as an acquire runs it: one it refuses is closed, and the request looks
 * again within its deadline. */
static void job_hook(sqlpool__job *job) {
    sqlpool_request *r = of_job(job);
    sqlpool *lane = r->lane;
    sqlpool_conn *c = sqlpool__borrowed(r->conn);
    const sqlpool_config *cfg = &c->pool->cfg; /* the lane's, or the writer's (a fallback) */
    if (sqlpool__call_hook(cfg->on_acquire, c, cfg->on_acquire_ctx) == 0) {
        r->hooked = 1;
        ready_push(r);
        return;
    }
    r->conn = NULL;
    if (sqlpool__retire_lent(c->pool, c, BOOK_BORROWED, CLOSE_HOOK)) {
        deliver(r, SQLPOOL_ECLOSED, NULL);
        return;
    }
    if (!sqlpool__no_deadline(r->w.deadline) && sqlpool__now(lane) >= r->w.deadline) {
        sqlpool__pool_lock(lane);
        lane->timeouts++;
        sqlpool__pool_unlock(lane);
        deliver(r, SQLPOOL_ETIMEDOUT, NULL);
        return;
    }
    attempt_again(r);
}

/* ---- the queue's deadlines: the jobs' timer thread (jobs.h) ---- */

static double expire(sqlpool *lane) {
    sqlpool_request *done = NULL, **tail = &done;
    double now = sqlpool__now(lane), next = INFINITY;
    sqlpool__pool_lock(lane);
    for (sqlpool__waiter *w = lane->wait_head, *after; w != NULL; w = after) {
        after = w->next;
        if (w->notify == NULL) continue;
        if (w->deadline > now) {
            if (w->deadline < next) next = w->deadline;
            continue;
        }
        sqlpool__queue_remove_locked(lane, w);
        lane->timeouts++;
        sqlpool__record_wait_locked(lane, now - w->since);
        of_waiter(w)->taken = 1;
        *tail = of_waiter(w);
        tail = &of_waiter(w)->next;
    }
    sqlpool__pool_unlock(lane);
    while (done != NULL) {
        sqlpool_request *r = done;
        done = r->next;
        r->next = NULL;
        deliver(r, SQLPOOL_ETIMEDOUT, NULL);
    }
    return next;
}

/* ---- serving ---- */

/* Throughput mode (barge_window): a first waiter takes a connection left idle for
 * newcomers by itself; for a request first in line, the unlock that would nudge a thread
 * queues this job (waiter.h). One left unserved (another took the connection) stays first,
 * and is handed the next connection once newcomers may no longer overtake it, as a thread
 * would be. */
static void job_serve_head(sqlpool__job *job) {
    sqlpool *lane = (sqlpool *)(void *)((char *)job - offsetof(sqlpool, serve_job));
    sqlpool__waiter *w, *wake = NULL;
    sqlpool_conn *c;
    double now = sqlpool__now_coarse(lane);
    int pooled;
    sqlpool__pool_lock(lane);
    lane->serve_asked = 0;
    w = lane->wait_head;
    /* Handed over as a release would: under this one lock hold, so it stays first. */
    if (w != NULL && w->notify != NULL && (c = lane->idle_head) != NULL &&
        !sqlpool__over_cap_locked(lane) && !sqlpool__evicted(c))
        wake = sqlpool__offer_locked(lane, c, BOOK_IDLE, now, 0, &pooled);
    sqlpool__pool_unlock(lane);
    sqlpool__wake_all(wake);
}

/* The queue decided (after its unlock, on the deciding thread). */
static void notify(sqlpool__waiter *w) {
    sqlpool_request *r = of_waiter(w);
    if (w->conn != NULL)
        deliver(r, SQLPOOL_OK, sqlpool__handle_of(w->conn));
    else if (w->grant)
        to_job(r, job_connect);
    else
        deliver(r, SQLPOOL_ECLOSED, NULL); /* closed (a request is never nudged: waiter.h) */
}

/* One look at the lane, never blocking on the loop's thread. Returns SQLPOOL_OK (the request
 * is on its way: queued, with a job, or ready), or SQLPOOL_ECLOSED when first and the pool is
 * closing (the caller frees it; later, the callback says so). */
static int attempt(sqlpool_request *r, int first) {
    sqlpool *lane = r->lane;
    for (;;) {
        sqlpool_conn *c;
        int check, ok;
        int how = sqlpool__acquire_now(lane, &r->w, &c, &check, request_site, 0);
        if (how == SQLPOOL__NOW_QUEUED) {
            double deadline = r->w.deadline;
            r->queued = 1;
            r->taken = r->w.grant = r->w.closed = 0;
            r->w.conn = NULL;
            /* Throughput mode: no slot keeps connections from a request, which no timer of
             * its own wakes to look (releases take the lock, and hand off once the window
             * is over). */
            if (lane->nslots > 0) sqlpool__slots_stop_locked(lane);
            sqlpool__pool_unlock(lane);
            /* r may be decided, delivered and freed from here on: only the copy is used. */
            if (!sqlpool__no_deadline(deadline)) sqlpool__jobs_tick_at(lane, deadline, expire);
            return SQLPOOL_OK;
        }
        if (how == SQLPOOL__NOW_CONNECT) {
            to_job(r, job_connect);
            return SQLPOOL_OK;
        }
        if (how != SQLPOOL__NOW_CONN) break;           /* closing */
        if (check == 2 && !sqlpool__jobs_here(lane)) { /* a ping: not on this thread */
            r->conn = c;
            r->check = check;
            to_job(r, job_check);
            return SQLPOOL_OK;
        }
        ok = check ? sqlpool__check_taken(lane, c, sqlpool__now_coarse(lane), check) : 1;
        if (ok > 0) {
            deliver(r, SQLPOOL_OK, sqlpool__handle_of(c));
            return SQLPOOL_OK;
        }
        if (ok < 0) break;
    }
    if (first) return SQLPOOL_ECLOSED;
    deliver(r, SQLPOOL_ECLOSED, NULL);
    return SQLPOOL_OK;
}

static void attempt_again(sqlpool_request *r) {
    (void)attempt(r, 0);
}

/* The sqlpool_dispatch() calls running on this thread (a callback may dispatch again, or
 * close the pool): a close from inside a callback tells them to touch the pool no more. */
typedef struct dispatch_frame {
    sqlpool *pool;
    int closed;
    struct dispatch_frame *outer;
} dispatch_frame;
static _Thread_local dispatch_frame *dispatching;

/* sqlpool_close(), once the job threads have stopped: every request is ready (the close
 * decided the queued ones) or on its way (requests_live); each callback runs with
 * SQLPOOL_ECLOSED, and a connection one was granted goes back (closed, as the pool closes). */
static void ev_close(sqlpool *h) {
    for (dispatch_frame *f = dispatching; f != NULL; f = f->outer)
        if (f->pool == h) f->closed = 1;
    /* Requests a thread still carries (decided under a lane's lock, on their way here) */
    if (pthread_mutex_lock(&h->ev_mu) != 0) abort();
    while (h->requests_live > 0)
        if (pthread_cond_wait(&h->ev_cv, &h->ev_mu) != 0) abort();
    if (pthread_mutex_unlock(&h->ev_mu) != 0) abort();
    for (;;) {
        sqlpool_request *r;
        if (pthread_mutex_lock(&h->ev_mu) != 0) abort();
        r = h->ready_head;
        if (r != NULL) {
            ready_unlink_locked(h, r);
            r->where = REQ_RUNNING;
        }
        if (pthread_mutex_unlock(&h->ev_mu) != 0) abort();
        if (r == NULL) break;
        if (r->conn != NULL) sqlpool_release(r->conn);
        r->fn(SQLPOOL_ECLOSED, NULL, r->ctx);
        sqlpool__free(r);
    }
    if (h->ev_wfd >= 0 && h->ev_wfd != h->ev_fd) (void)close(h->ev_wfd);
    if (h->ev_fd >= 0) (void)close(h->ev_fd);
    h->ev_fd = h->ev_wfd = -1;
}

/* The event fd made, and the close's last dispatch set up: before a request's first use. */
static int ev_ready(sqlpool *h, int request) {
    int rc;
    /* Before a request can queue in either lane (the lane's lock orders it before the unlock
     * that queues the job); never under ev_mu, which the fork handler takes after the pool
     * lock. */
    for (sqlpool *lane = h; lane != NULL; lane = lane == h ? h->read_lane : NULL) {
        sqlpool__pool_lock(lane);
        if (lane->serve_job.run == NULL) lane->serve_job.run = job_serve_head;
        sqlpool__pool_unlock(lane);
    }
    if (pthread_mutex_lock(&h->ev_mu) != 0) abort();
    h->ev_close = ev_close;
    rc = ev_make_locked(h);
    if (rc == SQLPOOL_OK && h->ready_count > 0) ev_raise_locked(h);
    if (rc == SQLPOOL_OK && request) h->requests_live++; /* the caller's new request */
    if (pthread_mutex_unlock(&h->ev_mu) != 0) abort();
    return rc;
}

/* A request that ends before it was ever ready (failed at once, cancelled, dropped). */
static void live_end(sqlpool *h) {
    if (pthread_mutex_lock(&h->ev_mu) != 0) abort();
    live_done_locked(h);
    if (pthread_mutex_unlock(&h->ev_mu) != 0) abort();
}

static int request(sqlpool *pool, int read, double deadline, sqlpool_ready_fn fn, void *ctx,
                   sqlpool_request **req) {
    sqlpool_request *r;
    sqlpool *lane;
    int rc, skip;
    if (req != NULL) *req = NULL;
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    if (fn == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "fn is NULL");
    if (isnan(deadline)) return sqlpool__fail(SQLPOOL_EINVAL, "the deadline is not a number");
    sqlpool__fork_check(pool);
    lane = read && pool->read_lane != NULL ? pool->read_lane : pool;
    /* config.read_db: while the back-off after a standby's failure lasts, to the writer. */
    skip = read && lane != pool && sqlpool__read_skip_lane(pool);
    r = sqlpool__calloc(1, sizeof *r);
    if (r == NULL) return sqlpool__fail(SQLPOOL_ENOMEM, "out of memory for a request");
    if ((rc = ev_ready(pool, 1)) != SQLPOOL_OK) {
        sqlpool__free(r);
        return rc;
    }
    r->lane = skip ? pool : lane;
    r->fallback = skip;
    r->holder = pool;
    r->fn = fn;
    r->ctx = ctx;
    r->read = read;
    r->w.notify = notify;
    r->w.file = request_site;
    r->w.since = sqlpool__now(lane);
    if (deadline == SQLPOOL_DEADLINE_DEFAULT)
        deadline =
            pool->cfg.acquire_timeout > 0 ? r->w.since + pool->cfg.acquire_timeout : INFINITY;
    r->w.deadline = deadline;
    if (req != NULL) *req = r;
    if ((rc = attempt(r, 1)) != SQLPOOL_OK) {
        if (req != NULL) *req = NULL;
        sqlpool__free(r);
        live_end(pool);
        return sqlpool__fail(rc, "the pool is closing");
    }
    return SQLPOOL_OK;
}

int sqlpool_acquire_async(sqlpool *pool, double deadline, sqlpool_ready_fn fn, void *ctx,
                          sqlpool_request **req) {
    return request(pool, 0, deadline, fn, ctx, req);
}

int sqlpool_acquire_read_async(sqlpool *pool, double deadline, sqlpool_ready_fn fn, void *ctx,
                               sqlpool_request **req) {
    return request(pool, 1, deadline, fn, ctx, req);
}

int sqlpool_cancel(sqlpool_request *r) {
    sqlpool *lane, *h;
    int removed = 0, running = 0;
    if (r == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "req is NULL");
    lane = r->lane;
    h = r->holder;
    /* Still queued: out, and nobody else knows it. */
    sqlpool__pool_lock(lane);
    if (r->queued && !r->taken && r->w.conn == NULL && !r->w.grant && !r->w.closed) {
        sqlpool__queue_remove_locked(lane, &r->w);
        removed = 1;
    }
    sqlpool__pool_unlock(lane);
    if (removed) {
        sqlpool__free(r);
        live_end(h);
        return SQLPOOL_OK;
    }
    if (pthread_mutex_lock(&h->ev_mu) != 0) abort();
    if (r->where == REQ_RUNNING) {
        running = 1;
    } else if (r->where == REQ_READY) {
        ready_unlink_locked(h, r);
        removed = 1;
    } else {
        r->cancelled = 1; /* working: ready_push() ends it */
    }
    if (pthread_mutex_unlock(&h->ev_mu) != 0) abort();
    if (running)
        return sqlpool__fail(SQLPOOL_EMISUSE, "cancel of a request inside its own callback");
    if (removed) drop(r);
    return SQLPOOL_OK;
}

int sqlpool_event_fd(sqlpool *pool) {
    if (pool == NULL) {
        (void)sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
        return -1;
    }
    sqlpool__fork_check(pool);
    if (ev_ready(pool, 0) != SQLPOOL_OK) return -1;
    return pool->ev_fd; /* set once made (until a fork or the close): read without the lock
                           by the thread that made it or saw it made */
}

int sqlpool_dispatch(sqlpool *pool) {
    dispatch_frame frame;
    int n, ran = 0;
    if (pool == NULL) return -1;
    frame.pool = pool;
    frame.closed = 0;
    frame.outer = dispatching;
    dispatching = &frame;
    if (pthread_mutex_lock(&pool->ev_mu) != 0) abort();
    n = pool->ready_count;
    if (pthread_mutex_unlock(&pool->ev_mu) != 0) abort();
    while (ran < n) {
        sqlpool_request *r;
        if (pthread_mutex_lock(&pool->ev_mu) != 0) abort();
        r = pool->ready_head;
        if (r != NULL) {
            ready_unlink_locked(pool, r);
            r->where = REQ_RUNNING;
        }
        if (pthread_mutex_unlock(&pool->ev_mu) != 0) abort();
        if (r == NULL) break; /* a callback cancelled the rest */
        r->fn(r->rc, r->conn, r->ctx);
        sqlpool__free(r);
        ran++;
        if (frame.closed) break; /* the callback closed the pool: it may be gone */
    }
    dispatching = frame.outer;
    return ran;
}

/* ---- releases from a loop ---- */

typedef struct release_job {
    sqlpool__job job;
    sqlpool_conn *handle; /* to release or discard; or, to close: */
    sqlpool_conn *c;
    int broken, reason;
} release_job;

static void job_release(sqlpool__job *job) {
    release_job *rj = (release_job *)(void *)job;
    if (rj->c != NULL)
        (void)sqlpool__retire_lent(rj->c->pool, rj->c, BOOK_BORROWED, rj->reason);
    else if (rj->broken)
        sqlpool_discard(rj->handle);
    else
        sqlpool_release(rj->handle);
    sqlpool__free(rj);
}

/* A release the loop's thread does itself when it needs no I/O (SQLite outside a
 * transaction, PostgreSQL idle without a reset query): no hop to a job thread, whose
 * wake-up would cost the loop more than the release. Else a job does it, or the close. */
static void give_back_async(sqlpool_conn *handle, int broken) {
    sqlpool_conn *c = sqlpool__borrowed(handle);
    release_job *rj;
    int how = SQLPOOL__RELEASE_LATER, reason = 0;
    if (c != NULL && !broken) how = sqlpool__release_nowait(handle, &reason);
    if (how == SQLPOOL__RELEASED) return;
    if (c == NULL || (rj = sqlpool__calloc(1, sizeof *rj)) == NULL) {
        /* misuse, reported there; or no memory: done here */
        if (how == SQLPOOL__RELEASE_CLOSE)
            (void)sqlpool__retire_lent(c->pool, c, BOOK_BORROWED, reason);
        else if (broken)
            sqlpool_discard(handle);
        else
            sqlpool_release(handle);
        return;
    }
    rj->job.run = job_release;
    rj->handle = handle;
    rj->broken = broken;
    if (how == SQLPOOL__RELEASE_CLOSE) {
        rj->c = c;
        rj->reason = reason;
    }
    if (sqlpool__jobs_submit(c->pool, &rj->job) != 0) job_release(&rj->job);
}

void sqlpool_release_async(sqlpool_conn *conn) {
    if (conn != NULL) give_back_async(conn, 0);
}

void sqlpool_discard_async(sqlpool_conn *conn) {
    if (conn != NULL) give_back_async(conn, 1);
}
