/*
 * test_async.c: requests from an event loop (sqlpool_acquire_async(), sqlpool_cancel(),
 * sqlpool_event_fd(), sqlpool_dispatch(), sqlpool_release_async()) on SQLite: the order they
 * are served in beside blocking acquires, deadlines, cancels, the close, a cold pool, and many
 * requests from one loop thread against blocking threads.
 */
#include "testutil.h"

#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct fixture {
    char *dir;
    char *path;
    sqlpool_config cfg;
    sqlpool *pool;
} fixture;

static void fixture_config(fixture *fx, int max_open) {
    memset(fx, 0, sizeof *fx);
    fx->dir = testutil_tmpdir();
    fx->path = testutil_format("%s/async.db", fx->dir);
    sqlpool_config_init(&fx->cfg);
    fx->cfg.db = fx->path;
    fx->cfg.max_open = max_open;
    fx->cfg.max_idle = max_open;
}

static void fixture_open(fixture *fx) {
    assert_int_equal(sqlpool_open(&fx->cfg, &fx->pool), SQLPOOL_OK);
}

static void fixture_fini(fixture *fx) {
    if (fx->pool != NULL) sqlpool_close(fx->pool);
    testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Is the pool's event fd readable within ms? */
static int readable(sqlpool *pool, int ms) {
    struct pollfd p = {.fd = sqlpool_event_fd(pool), .events = POLLIN};
    assert_true(p.fd >= 0);
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* A loop's turn: wait for the fd (up to ms), then dispatch. Returns how many ran. */
static int loop_once(sqlpool *pool, int ms) {
    if (!readable(pool, ms)) return 0;
    return sqlpool_dispatch(pool);
}

/* One request's outcome, as its callback saw it. */
typedef struct outcome {
    int calls;
    int rc;
    sqlpool_conn *conn;
    double at;
    int order;   /* the how-many-th to be served, of those sharing a counter */
    int *seq;    /* that counter (may be NULL) */
    int release; /* give the connection back at once (release_async) */
} outcome;

static void on_ready(int rc, sqlpool_conn *conn, void *ctx) {
    outcome *o = ctx;
    o->calls++;
    o->rc = rc;
    o->conn = conn;
    o->at = now_s();
    if (o->seq != NULL) o->order = ++*o->seq;
    if (o->release && conn != NULL) {
        sqlpool_release_async(conn);
        o->conn = NULL;
    }
}

/* Dispatch until o has been called back (or seconds pass). */
static void wait_called(sqlpool *pool, const outcome *o, double seconds) {
    double until = now_s() + seconds;
    while (o->calls == 0 && now_s() < until)
        (void)loop_once(pool, 50);
    assert_int_equal(o->calls, 1);
}

/* Until the pool's stats say nothing is borrowed (async releases finish on job threads). */
static void wait_in_use(sqlpool *pool, int in_use) {
    double until = now_s() + 10;
    while (testutil_stats(pool).in_use != in_use && now_s() < until) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(testutil_stats(pool).in_use, in_use);
}

static void wait_waiting(sqlpool *pool, int waiting) {
    double until = now_s() + 10;
    while (testutil_stats(pool).waiting != waiting && now_s() < until) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(testutil_stats(pool).waiting, waiting);
}

static void test_async_cold_pool_connects_on_job_thread(void **state) {
    fixture fx;
    outcome o = {0};
    sqlpool_request *req = NULL;
    (void)state;
    fixture_config(&fx, 4);
    fixture_open(&fx);
    assert_int_equal(testutil_stats(fx.pool).open, 0); /* cold: no min_idle */
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, &req),
                     SQLPOOL_OK);
    assert_non_null(req);
    assert_int_equal(o.calls, 0); /* never inside the call */
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_OK);
    assert_non_null(o.conn);
    assert_int_equal(testutil_query_int(o.conn, "SELECT 41 + 1"), 42);
    sqlpool_release_async(o.conn);
    wait_in_use(fx.pool, 0);
    assert_int_equal(testutil_stats(fx.pool).created, 1);
    assert_int_equal(testutil_stats(fx.pool).idle, 1);
    assert_false(readable(fx.pool, 0)); /* nothing left to dispatch */
    fixture_fini(&fx);
}

static void test_async_idle_connection_waits_for_dispatch(void **state) {
    fixture fx;
    outcome o = {0};
    (void)state;
    fixture_config(&fx, 2);
    fx.cfg.min_idle = 1;
    fixture_open(&fx);
    assert_false(readable(fx.pool, 0));
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, NULL),
                     SQLPOOL_OK);
    assert_int_equal(o.calls, 0);
    assert_true(readable(fx.pool, 0)); /* ready at once, run only by dispatch */
    assert_true(readable(fx.pool, 0)); /* level-triggered: still readable */
    assert_int_equal(sqlpool_dispatch(fx.pool), 1);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.rc, SQLPOOL_OK);
    assert_false(readable(fx.pool, 0));
    assert_int_equal(sqlpool_dispatch(fx.pool), 0);
    assert_int_equal(testutil_stats(fx.pool).created, 1);
    sqlpool_release(o.conn);
    fixture_fini(&fx);
}

/* A blocking acquire on its own thread, noting the order it was served in. */
typedef struct blocker {
    sqlpool *pool;
    int *seq;
    pthread_mutex_t *mu;
    int order;
    int rc;
} blocker;

static void *blocker_main(void *arg) {
    blocker *b = arg;
    sqlpool_conn *conn = NULL;
    b->rc = sqlpool_acquire(b->pool, &conn);
    if (b->rc == SQLPOOL_OK) {
        pthread_mutex_lock(b->mu);
        b->order = ++*b->seq;
        pthread_mutex_unlock(b->mu);
        sqlpool_release(conn);
    }
    return NULL;
}

static void test_async_order_with_blocking_waiters(void **state) {
    fixture fx;
    sqlpool_conn *held;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int seq = 0;
    blocker a = {0}, b = {0};
    outcome r = {0};
    pthread_t ta, tb;
    (void)state;
    fixture_config(&fx, 1);
    fixture_open(&fx);
    held = testutil_acquire(fx.pool);
    a = (blocker){fx.pool, &seq, &mu, 0, -1};
    b = a;
    pthread_create(&ta, NULL, blocker_main, &a);
    wait_waiting(fx.pool, 1); /* a first */
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &r, NULL),
                     SQLPOOL_OK);
    wait_waiting(fx.pool, 2); /* then the request */
    pthread_create(&tb, NULL, blocker_main, &b);
    wait_waiting(fx.pool, 3); /* then b */
    sqlpool_release(held);
    pthread_join(ta, NULL);
    wait_called(fx.pool, &r, 10);
    assert_int_equal(r.rc, SQLPOOL_OK);
    pthread_mutex_lock(&mu);
    r.order = ++seq; /* served when called back, under the same counter */
    pthread_mutex_unlock(&mu);
    sqlpool_release_async(r.conn);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, SQLPOOL_OK);
    assert_int_equal(b.rc, SQLPOOL_OK);
    assert_int_equal(a.order, 1);
    assert_int_equal(r.order, 2);
    assert_int_equal(b.order, 3);
    wait_in_use(fx.pool, 0);
    assert_int_equal(testutil_stats(fx.pool).created, 1);
    fixture_fini(&fx);
}

static void test_async_deadline_times_out(void **state) {
    fixture fx;
    sqlpool_conn *held;
    outcome o = {0};
    double t0;
    (void)state;
    fixture_config(&fx, 1);
    fixture_open(&fx);
    held = testutil_acquire(fx.pool);
    t0 = now_s();
    assert_int_equal(
        sqlpool_acquire_async(fx.pool, sqlpool_clock(fx.pool) + 0.2, on_ready, &o, NULL),
        SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_ETIMEDOUT);
    assert_null(o.conn);
    assert_true(o.at - t0 >= 0.19);
    assert_true(o.at - t0 < 2.0); /* generous: a loaded machine */
    assert_int_equal(testutil_stats(fx.pool).timeouts, 1);
    assert_int_equal(testutil_stats(fx.pool).waiting, 0);
    /* A deadline already past, with nothing idle: timed out, never a wait. */
    memset(&o, 0, sizeof o);
    assert_int_equal(sqlpool_acquire_async(fx.pool, -INFINITY, on_ready, &o, NULL), SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_ETIMEDOUT);
    sqlpool_release(held);
    fixture_fini(&fx);
}

static void test_async_cancel_queued(void **state) {
    fixture fx;
    sqlpool_conn *held;
    outcome o = {0};
    sqlpool_request *req;
    (void)state;
    fixture_config(&fx, 1);
    fixture_open(&fx);
    held = testutil_acquire(fx.pool);
    assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, on_ready, &o, &req), SQLPOOL_OK);
    wait_waiting(fx.pool, 1);
    assert_int_equal(sqlpool_cancel(req), SQLPOOL_OK);
    assert_int_equal(testutil_stats(fx.pool).waiting, 0);
    sqlpool_release(held);
    assert_int_equal(loop_once(fx.pool, 100), 0);
    assert_int_equal(o.calls, 0);
    assert_int_equal(testutil_stats(fx.pool).idle, 1); /* nobody took it */
    fixture_fini(&fx);
}

static void test_async_cancel_after_grant(void **state) {
    fixture fx;
    outcome o = {0};
    sqlpool_request *req;
    (void)state;
    fixture_config(&fx, 1);
    fx.cfg.min_idle = 1;
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, on_ready, &o, &req), SQLPOOL_OK);
    assert_true(readable(fx.pool, 1000)); /* granted: ready to run */
    assert_int_equal(sqlpool_cancel(req), SQLPOOL_OK);
    assert_false(readable(fx.pool, 0)); /* nothing left to run */
    assert_int_equal(sqlpool_dispatch(fx.pool), 0);
    assert_int_equal(o.calls, 0);
    wait_in_use(fx.pool, 0); /* the connection went back */
    assert_int_equal(testutil_stats(fx.pool).idle, 1);
    fixture_fini(&fx);
}

/* A connect in progress (a busy first connect would do; here the cold pool's), cancelled: the
 * connection it opens goes to the pool. */
static void test_async_cancel_while_connecting(void **state) {
    fixture fx;
    outcome o = {0};
    sqlpool_request *req;
    (void)state;
    fixture_config(&fx, 1);
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, on_ready, &o, &req), SQLPOOL_OK);
    assert_int_equal(sqlpool_cancel(req), SQLPOOL_OK);
    (void)loop_once(fx.pool, 200);
    assert_int_equal(o.calls, 0);
    wait_in_use(fx.pool, 0);
    fixture_fini(&fx);
}

static sqlpool_request *self_req;
static int self_cancel_rc;
static void cancel_self(int rc, sqlpool_conn *conn, void *ctx) {
    (void)rc;
    self_cancel_rc = sqlpool_cancel(self_req);
    if (conn != NULL) sqlpool_release(conn);
    ++*(int *)ctx;
}

static void test_async_cancel_inside_own_callback_refused(void **state) {
    fixture fx;
    int calls = 0;
    (void)state;
    fixture_config(&fx, 1);
    fx.cfg.min_idle = 1;
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, cancel_self, &calls, &self_req),
                     SQLPOOL_OK);
    assert_int_equal(loop_once(fx.pool, 1000), 1);
    assert_int_equal(calls, 1);
    assert_int_equal(self_cancel_rc, SQLPOOL_EMISUSE);
    fixture_fini(&fx);
}

/* Callbacks that cancel the requests behind them in the same dispatch. */
static sqlpool_request *victims[3];
static void cancel_others(int rc, sqlpool_conn *conn, void *ctx) {
    (void)rc;
    for (int i = 0; i < 3; i++)
        if (victims[i] != NULL) assert_int_equal(sqlpool_cancel(victims[i]), SQLPOOL_OK);
    if (conn != NULL) sqlpool_release_async(conn);
    ++*(int *)ctx;
}

static void test_async_callback_cancels_later_ready(void **state) {
    fixture fx;
    int calls = 0;
    outcome o[3] = {{0}};
    (void)state;
    fixture_config(&fx, 4);
    fx.cfg.min_idle = 4;
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, cancel_others, &calls, NULL),
                     SQLPOOL_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, on_ready, &o[i], &victims[i]),
                         SQLPOOL_OK);
    assert_int_equal(loop_once(fx.pool, 1000), 1); /* the rest never ran */
    assert_int_equal(calls, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(o[i].calls, 0);
    memset(victims, 0, sizeof victims);
    wait_in_use(fx.pool, 0);
    fixture_fini(&fx);
}

static void test_async_close_with_pending(void **state) {
    fixture fx;
    sqlpool_conn *held;
    outcome o[4] = {{0}};
    (void)state;
    fixture_config(&fx, 1);
    fx.cfg.close_timeout = 5;
    fixture_open(&fx);
    held = testutil_acquire(fx.pool);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, on_ready, &o[i], NULL),
                         SQLPOOL_OK);
    wait_waiting(fx.pool, 4);
    sqlpool_release(held); /* the first is granted the connection, not yet dispatched */
    assert_true(readable(fx.pool, 1000));
    sqlpool_close(fx.pool); /* runs every callback, with SQLPOOL_ECLOSED */
    fx.pool = NULL;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(o[i].calls, 1);
        assert_int_equal(o[i].rc, SQLPOOL_ECLOSED);
        assert_null(o[i].conn);
    }
    fixture_fini(&fx);
}

static void test_async_try_acquire_asks_for_a_connection(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    double until;
    int rc;
    (void)state;
    fixture_config(&fx, 2);
    fixture_open(&fx);
    assert_int_equal(sqlpool_try_acquire(fx.pool, &conn), SQLPOOL_EAGAIN);
    until = now_s() + 10;
    while ((rc = sqlpool_try_acquire(fx.pool, &conn)) == SQLPOOL_EAGAIN && now_s() < until) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rc, SQLPOOL_OK);
    assert_int_equal(testutil_stats(fx.pool).created, 1);
    sqlpool_release(conn);
    fixture_fini(&fx);
}

/* on_acquire may do I/O: it runs on a job thread, never the loop's. */
static pthread_t hook_thread;
static atomic_int hook_calls;
static int note_hook(sqlpool_conn *conn, void *ctx) {
    (void)conn;
    (void)ctx;
    hook_thread = pthread_self();
    return atomic_fetch_add(&hook_calls, 1) == 0 ? 1 : 0; /* refuses the first */
}

static void test_async_on_acquire_runs_off_the_loop(void **state) {
    fixture fx;
    outcome o = {0};
    (void)state;
    fixture_config(&fx, 2);
    fx.cfg.min_idle = 1;
    fx.cfg.on_acquire = note_hook;
    atomic_store(&hook_calls, 0);
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, NULL),
                     SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_OK);
    assert_int_equal(atomic_load(&hook_calls), 2);
    assert_false(pthread_equal(hook_thread, pthread_self()));
    assert_int_equal(testutil_stats(fx.pool).discarded_by_hook, 1);
    sqlpool_release_async(o.conn);
    wait_in_use(fx.pool, 0);
    fixture_fini(&fx);
}

static void test_async_read_on_single_writer_is_a_reader(void **state) {
    fixture fx;
    outcome o = {0};
    (void)state;
    fixture_config(&fx, 4);
    fx.cfg.single_writer = 1;
    fixture_open(&fx);
    assert_int_equal(
        sqlpool_acquire_read_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, NULL),
        SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_OK);
    assert_int_equal(testutil_query_int(o.conn, "PRAGMA query_only"), 1);
    sqlpool_release_async(o.conn);
    memset(&o, 0, sizeof o);
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, NULL),
                     SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_OK);
    assert_int_equal(testutil_query_int(o.conn, "PRAGMA query_only"), 0); /* the writer */
    sqlpool_release_async(o.conn);
    fixture_fini(&fx);
}

static void test_async_bad_arguments(void **state) {
    fixture fx;
    sqlpool_request *req = (sqlpool_request *)&fx;
    (void)state;
    fixture_config(&fx, 1);
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(NULL, 0, on_ready, NULL, &req), SQLPOOL_EINVAL);
    assert_null(req);
    assert_int_equal(sqlpool_acquire_async(fx.pool, 0, NULL, NULL, &req), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "fn"));
    assert_int_equal(sqlpool_acquire_async(fx.pool, NAN, on_ready, NULL, &req), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_acquire_read_async(NULL, 0, on_ready, NULL, NULL), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_cancel(NULL), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_event_fd(NULL), -1);
    assert_int_equal(sqlpool_dispatch(NULL), -1);
    sqlpool_release_async(NULL); /* no-ops */
    sqlpool_discard_async(NULL);
    fixture_fini(&fx);
}

/* ---- many requests from one loop thread, against blocking threads ---- */

enum { STRESS_REQUESTS = 10000, STRESS_INFLIGHT = 1000, STRESS_THREADS = 8 };

typedef struct stress {
    sqlpool *pool;
    unsigned char calls[STRESS_REQUESTS];
    int done, ok, issued;
    atomic_int stop;
} stress;

typedef struct stress_req {
    stress *s;
    int id;
} stress_req;

static stress_req stress_reqs[STRESS_REQUESTS];

static void stress_ready(int rc, sqlpool_conn *conn, void *ctx) {
    stress_req *q = ctx;
    q->s->calls[q->id]++;
    q->s->done++;
    if (rc == SQLPOOL_OK) {
        q->s->ok++;
        if (testutil_query_int(conn, "SELECT 1") != 1) fail_msg("a wrong answer");
        if (q->id % 7 == 0)
            sqlpool_discard_async(conn);
        else
            sqlpool_release_async(conn);
    }
}

static void *stress_blocker(void *arg) {
    stress *s = arg;
    while (!atomic_load(&s->stop)) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(s->pool, &conn) == SQLPOOL_OK) {
            if (testutil_query_int(conn, "SELECT 2") != 2) fail_msg("a wrong answer");
            sqlpool_release(conn);
        }
    }
    return NULL;
}

static void stress_run(sqlpool_config *cfg, const char *path) {
    stress *s = calloc(1, sizeof *s);
    pthread_t threads[STRESS_THREADS];
    sqlpool_stats st;
    double until;
    assert_non_null(s);
    cfg->db = path;
    assert_int_equal(sqlpool_open(cfg, &s->pool), SQLPOOL_OK);
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_create(&threads[i], NULL, stress_blocker, s);
    until = now_s() + 240;
    while (s->done < STRESS_REQUESTS && now_s() < until) {
        while (s->issued < STRESS_REQUESTS && s->issued - s->done < STRESS_INFLIGHT) {
            stress_req *q = &stress_reqs[s->issued];
            q->s = s;
            q->id = s->issued++;
            assert_int_equal(sqlpool_acquire_async(s->pool, INFINITY, stress_ready, q, NULL),
                             SQLPOOL_OK);
        }
        (void)loop_once(s->pool, 100);
    }
    atomic_store(&s->stop, 1);
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(s->done, STRESS_REQUESTS);
    assert_int_equal(s->ok, STRESS_REQUESTS);
    for (int i = 0; i < STRESS_REQUESTS; i++)
        if (s->calls[i] != 1) fail_msg("request %d called back %d times", i, s->calls[i]);
    wait_in_use(s->pool, 0);
    st = testutil_stats(s->pool);
    assert_int_equal(st.waiting, 0);
    assert_true(st.open <= cfg->max_open);
    assert_int_equal(st.created - st.closed, st.open);
    assert_int_equal(st.idle, st.open);
    assert_true(st.acquires >= STRESS_REQUESTS);
    assert_false(readable(s->pool, 0));
    sqlpool_close(s->pool);
    free(s);
}

static void test_async_many_requests_one_loop(void **state) {
    fixture fx;
    (void)state;
    fixture_config(&fx, 4);
    stress_run(&fx.cfg, fx.path);
    fixture_fini(&fx);
}

static void test_async_many_requests_throughput_mode(void **state) {
    fixture fx;
    (void)state;
    fixture_config(&fx, 4);
    fx.cfg.barge_window = 0.001;
    stress_run(&fx.cfg, fx.path);
    fixture_fini(&fx);
}

static void test_async_ping_due_then_served(void **state) {
    fixture fx;
    outcome o = {0};
    (void)state;
    fixture_config(&fx, 2);
    fx.cfg.min_idle = 1;
    fx.cfg.validation_bypass = 0; /* every idle connection is due a ping: a job's */
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, NULL),
                     SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_OK);
    assert_int_equal(testutil_stats(fx.pool).reused, 1); /* the idle one, checked */
    sqlpool_release_async(o.conn);
    wait_in_use(fx.pool, 0);
    fixture_fini(&fx);
}

/* release_async rolls back what the borrower left open, as sqlpool_release() does. */
static void test_async_release_rolls_back(void **state) {
    fixture fx;
    outcome o = {0};
    sqlpool_conn *conn;
    (void)state;
    fixture_config(&fx, 1);
    fixture_open(&fx);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE t(x)");
    sqlpool_release(conn);
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, NULL),
                     SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    testutil_exec(o.conn, "BEGIN");
    testutil_exec(o.conn, "INSERT INTO t VALUES (1)");
    sqlpool_release_async(o.conn); /* in a transaction */
    wait_in_use(fx.pool, 0);
    conn = testutil_acquire(fx.pool);
    assert_int_equal(testutil_query_int(conn, "SELECT count(*) FROM t"), 0);
    assert_int_equal(testutil_query_int(conn, "SELECT 1"), 1);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(fx.pool).created, 1); /* reused, not replaced */
    fixture_fini(&fx);
}

/* A release_async that ends in a close (beyond max_idle) leaves the close to a job thread. */
static void test_async_release_beyond_max_idle_closes(void **state) {
    fixture fx;
    outcome a = {0}, b = {0};
    (void)state;
    fixture_config(&fx, 2);
    fx.cfg.max_idle = 1;
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &a, NULL),
                     SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &b, NULL),
                     SQLPOOL_OK);
    wait_called(fx.pool, &a, 10);
    wait_called(fx.pool, &b, 10);
    assert_int_equal(a.rc, SQLPOOL_OK);
    assert_int_equal(b.rc, SQLPOOL_OK);
    sqlpool_release_async(a.conn);
    sqlpool_release_async(b.conn);
    wait_in_use(fx.pool, 0);
    assert_int_equal(testutil_stats(fx.pool).idle, 1);
    assert_int_equal(testutil_stats(fx.pool).closed_max_idle, 1);
    assert_int_equal(testutil_stats(fx.pool).open, 1);
    fixture_fini(&fx);
}

/* A callback that closes the pool while more callbacks are ready (a server's shutdown): the
 * others run inside the close with SQLPOOL_ECLOSED, and dispatch touches the pool no more. */
static sqlpool *closing_pool;
static void close_from_callback(int rc, sqlpool_conn *conn, void *ctx) {
    outcome *o = ctx;
    o->calls++;
    o->rc = rc;
    if (conn != NULL) sqlpool_release(conn);
    if (closing_pool != NULL) {
        sqlpool *p = closing_pool;
        closing_pool = NULL;
        sqlpool_close(p);
    }
}

static void test_async_close_inside_callback(void **state) {
    fixture fx;
    outcome o[3] = {{0}};
    int ran;
    (void)state;
    fixture_config(&fx, 3);
    fx.cfg.min_idle = 3;
    fixture_open(&fx);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sqlpool_acquire_async(fx.pool, INFINITY, close_from_callback, &o[i], NULL),
                         SQLPOOL_OK);
    assert_true(readable(fx.pool, 1000));
    while (testutil_stats(fx.pool).in_use != 3) { /* all three ready */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    closing_pool = fx.pool;
    ran = sqlpool_dispatch(fx.pool); /* the first closes; the pool is gone after */
    fx.pool = NULL;
    assert_int_equal(ran, 1);
    assert_int_equal(o[0].rc, SQLPOOL_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(o[i].calls, 1);
    assert_int_equal(o[1].rc, SQLPOOL_ECLOSED);
    assert_int_equal(o[2].rc, SQLPOOL_ECLOSED);
    fixture_fini(&fx);
}

/* Throughput mode: one request at a time first in line among blocking threads that release
 * and ask again at once. The per-processor caches stay off while a request is first (it has no
 * timer of its own to stop them), so it is served, never starved to its deadline. */
static atomic_int head_stop;
static void *head_worker(void *arg) {
    sqlpool *pool = arg;
    while (!atomic_load(&head_stop)) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) continue;
        for (volatile int k = 0; k < 20000; k = k + 1)
            ;
        sqlpool_release(conn);
    }
    return NULL;
}

static void test_async_throughput_mode_head_served(void **state) {
    fixture fx;
    pthread_t threads[4];
    int timeouts = 0;
    (void)state;
    fixture_config(&fx, 2);
    fx.cfg.barge_window = 0.001;
    fixture_open(&fx);
    atomic_store(&head_stop, 0);
    for (int i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, head_worker, fx.pool);
    wait_in_use(fx.pool, 2); /* the threads are at it */
    for (int i = 0; i < 200; i++) {
        outcome o = {0};
        assert_int_equal(
            sqlpool_acquire_async(fx.pool, sqlpool_clock(fx.pool) + 5, on_ready, &o, NULL),
            SQLPOOL_OK);
        wait_called(fx.pool, &o, 20);
        if (o.rc == SQLPOOL_ETIMEDOUT) timeouts++;
        if (o.conn != NULL) sqlpool_release(o.conn);
    }
    atomic_store(&head_stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(timeouts, 0);
    fixture_fini(&fx);
}

/* sqlpool_close() from a hook a request's job runs would wait for that very job: refused. */
static sqlpool *hook_close_pool;
static char hook_close_err[256];
static int close_in_hook(sqlpool_conn *conn, void *ctx) {
    (void)conn;
    (void)ctx;
    sqlpool_close(hook_close_pool);
    snprintf(hook_close_err, sizeof hook_close_err, "%s", sqlpool_errmsg());
    return 0;
}

static void test_async_close_from_job_hook_refused(void **state) {
    fixture fx;
    outcome o = {0};
    (void)state;
    fixture_config(&fx, 2);
    fx.cfg.on_acquire = close_in_hook;
    fixture_open(&fx);
    hook_close_pool = fx.pool;
    assert_int_equal(sqlpool_acquire_async(fx.pool, SQLPOOL_DEADLINE_DEFAULT, on_ready, &o, NULL),
                     SQLPOOL_OK);
    wait_called(fx.pool, &o, 10);
    assert_int_equal(o.rc, SQLPOOL_OK); /* the pool is still open */
    assert_non_null(strstr(hook_close_err, "job thread"));
    sqlpool_release_async(o.conn);
    wait_in_use(fx.pool, 0);
    fixture_fini(&fx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_async_cold_pool_connects_on_job_thread),
    cmocka_unit_test(test_async_idle_connection_waits_for_dispatch),
    cmocka_unit_test(test_async_order_with_blocking_waiters),
    cmocka_unit_test(test_async_deadline_times_out),
    cmocka_unit_test(test_async_cancel_queued),
    cmocka_unit_test(test_async_cancel_after_grant),
    cmocka_unit_test(test_async_cancel_while_connecting),
    cmocka_unit_test(test_async_cancel_inside_own_callback_refused),
    cmocka_unit_test(test_async_callback_cancels_later_ready),
    cmocka_unit_test(test_async_close_with_pending),
    cmocka_unit_test(test_async_close_inside_callback),
    cmocka_unit_test(test_async_close_from_job_hook_refused),
    cmocka_unit_test(test_async_try_acquire_asks_for_a_connection),
    cmocka_unit_test(test_async_on_acquire_runs_off_the_loop),
    cmocka_unit_test(test_async_read_on_single_writer_is_a_reader),
    cmocka_unit_test(test_async_bad_arguments),
    cmocka_unit_test(test_async_ping_due_then_served),
    cmocka_unit_test(test_async_release_rolls_back),
    cmocka_unit_test(test_async_release_beyond_max_idle_closes),
    cmocka_unit_test(test_async_many_requests_one_loop),
    cmocka_unit_test(test_async_many_requests_throughput_mode),
    cmocka_unit_test(test_async_throughput_mode_head_served),
};

SQLPOOL_TEST_MAIN(tests)
