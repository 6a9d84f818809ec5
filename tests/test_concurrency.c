/*
 * test_concurrency.c: the pool under threads: the first-come-first-served queue and direct
 * hand-off, acquire timeouts, close against waiters and borrowers, max_connecting, a stress
 * run with injected faults, and throughput mode (barge_window): overtaking within the window,
 * waiters served in order after it, and nobody starved.
 *
 * cmocka's assertions longjmp, so they run on the main thread only: worker threads record what
 * they saw and the main thread checks it after joining them.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Poll (1 ms) until stats.waiting reaches n; 1 on success, 0 after timeout seconds. */
static int wait_for_waiting(sqlpool *pool, int n, double timeout) {
    double end = now_s() + timeout;
    while (testutil_stats(pool).waiting != n) {
        if (now_s() > end) return 0;
        sleep_s(0.001);
    }
    return 1;
}

static sqlpool *open_pool(sqlpool_config *cfg) {
    sqlpool *pool = NULL;
    int rc = sqlpool_open(cfg, &pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
    assert_non_null(pool);
    return pool;
}

static void exec_ok(sqlite3 *db, const char *sql) {
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, err ? err : sqlite3_errstr(rc));
}

static long long query_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *stmt = NULL;
    long long v;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    v = sqlite3_column_int64(stmt, 0);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    return v;
}

/* ---- FIFO and hand-off ---- */

#define FIFO_THREADS 6

typedef struct fifo_shared {
    sqlpool *pool;
    pthread_mutex_t mu;
    int order[FIFO_THREADS];
    int count; /* under mu */
} fifo_shared;

typedef struct fifo_arg {
    fifo_shared *shared;
    int index;
    int rc;
    char err[256];
} fifo_arg;

static void *fifo_worker(void *p) {
    fifo_arg *arg = p;
    sqlpool_conn *conn = NULL;
    arg->rc = sqlpool_acquire(arg->shared->pool, &conn);
    if (arg->rc != SQLPOOL_OK) {
        snprintf(arg->err, sizeof arg->err, "%s", sqlpool_errmsg());
        return NULL;
    }
    if (pthread_mutex_lock(&arg->shared->mu) != 0) abort();
    arg->shared->order[arg->shared->count++] = arg->index;
    if (pthread_mutex_unlock(&arg->shared->mu) != 0) abort();
    sqlpool_release(conn);
    return NULL;
}

/* Waiters queued in a known order are served in that order, in either mode. */
static void check_fifo_order(double barge_window) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *held;
    fifo_shared shared;
    fifo_arg args[FIFO_THREADS];
    pthread_t threads[FIFO_THREADS];
    sqlpool_stats st;

    sqlpool_config_init(&cfg);
    cfg.barge_window = barge_window;
    cfg.max_open = 1;
    cfg.acquire_timeout = 10.0;
    pool = open_pool(&cfg);
    held = testutil_acquire(pool);

    memset(&shared, 0, sizeof shared);
    shared.pool = pool;
    assert_int_equal(pthread_mutex_init(&shared.mu, NULL), 0);
    /* One at a time, each queued before the next starts: the queue order is 0..N-1. */
    for (int i = 0; i < FIFO_THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].shared = &shared;
        args[i].index = i;
        assert_int_equal(pthread_create(&threads[i], NULL, fifo_worker, &args[i]), 0);
        if (!wait_for_waiting(pool, i + 1, 5.0))
            fail_msg("thread %d never queued: waiting %d", i, testutil_stats(pool).waiting);
    }
    st = testutil_stats(pool);
    assert_int_equal(st.waiting, FIFO_THREADS);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.in_use, 1);

    sqlpool_release(held);
    for (int i = 0; i < FIFO_THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < FIFO_THREADS; i++)
        if (args[i].rc != SQLPOOL_OK) fail_msg("thread %d: %d %s", i, args[i].rc, args[i].err);
    assert_int_equal(shared.count, FIFO_THREADS);
    for (int i = 0; i < FIFO_THREADS; i++)
        assert_int_equal(shared.order[i], i);

    st = testutil_stats(pool);
    assert_int_equal(st.created, 1); /* one connection went round, hand to hand */
    assert_int_equal(st.reused, FIFO_THREADS);
    assert_int_equal(st.wait_count, FIFO_THREADS);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.idle, 1);
    assert_int_equal(pthread_mutex_destroy(&shared.mu), 0);
    sqlpool_close(pool);
}

static void test_concurrency_fifo_order(void **state) {
    (void)state;
    check_fifo_order(0);
}

typedef struct handoff_arg {
    sqlpool *pool;
    int rc;
    sqlite3 *db;         /* the connection it was handed */
    atomic_int got;      /* set once it holds the connection */
    atomic_int may_free; /* the main thread's go-ahead to release */
} handoff_arg;

static void *handoff_waiter(void *p) {
    handoff_arg *arg = p;
    sqlpool_conn *conn = NULL;
    arg->rc = sqlpool_acquire(arg->pool, &conn);
    if (arg->rc != SQLPOOL_OK) return NULL;
    arg->db = sqlpool_conn_sqlite(conn);
    atomic_store(&arg->got, 1);
    while (!atomic_load(&arg->may_free))
        sleep_s(0.001);
    sqlpool_release(conn);
    return NULL;
}

typedef struct spinner_arg {
    sqlpool *pool;
    atomic_int stop;
    atomic_int started;
    long tries, successes, unexpected;
} spinner_arg;

/* A newcomer that keeps trying to grab an idle connection. */
static void *spinner(void *p) {
    spinner_arg *arg = p;
    atomic_store(&arg->started, 1);
    while (!atomic_load(&arg->stop)) {
        sqlpool_conn *conn = NULL;
        int rc = sqlpool_try_acquire(arg->pool, &conn);
        arg->tries++;
        if (rc == SQLPOOL_OK) {
            arg->successes++;
            sqlpool_release(conn);
        } else if (rc != SQLPOOL_EAGAIN) {
            arg->unexpected++;
        }
    }
    return NULL;
}

static void test_concurrency_newcomer_never_overtakes_waiter(void **state) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *held, *other = NULL;
    sqlite3 *held_db;
    handoff_arg waiter;
    spinner_arg spin;
    pthread_t wt, st_thread;
    sqlpool_stats st;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.acquire_timeout = 10.0;
    pool = open_pool(&cfg);
    held = testutil_acquire(pool);
    held_db = sqlpool_conn_sqlite(held);

    memset(&waiter, 0, sizeof waiter);
    waiter.pool = pool;
    atomic_init(&waiter.got, 0);
    atomic_init(&waiter.may_free, 0);
    assert_int_equal(pthread_create(&wt, NULL, handoff_waiter, &waiter), 0);
    if (!wait_for_waiting(pool, 1, 5.0)) fail_msg("the waiter never queued");

    /* Queued waiter: a newcomer gets nothing. */
    assert_int_equal(sqlpool_try_acquire(pool, &other), SQLPOOL_EAGAIN);
    assert_null(other);

    memset(&spin, 0, sizeof spin);
    spin.pool = pool;
    atomic_init(&spin.stop, 0);
    atomic_init(&spin.started, 0);
    assert_int_equal(pthread_create(&st_thread, NULL, spinner, &spin), 0);
    while (!atomic_load(&spin.started))
        sleep_s(0.001);

    /* The release hands the connection straight to the waiter: it never sits idle. */
    sqlpool_release(held);
    st = testutil_stats(pool);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.in_use, 1);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(sqlpool_try_acquire(pool, &other), SQLPOOL_EAGAIN);
    assert_null(other);

    {
        double end = now_s() + 5.0;
        while (!atomic_load(&waiter.got) && now_s() < end)
            sleep_s(0.001);
    }
    assert_int_equal(atomic_load(&waiter.got), 1);
    sleep_s(0.02); /* let the spinner try a while longer against a borrowed connection */
    atomic_store(&spin.stop, 1);
    assert_int_equal(pthread_join(st_thread, NULL), 0);
    assert_true(spin.tries > 0);
    assert_int_equal(spin.successes, 0);
    assert_int_equal(spin.unexpected, 0);

    atomic_store(&waiter.may_free, 1);
    assert_int_equal(pthread_join(wt, NULL), 0);
    assert_int_equal(waiter.rc, SQLPOOL_OK);
    assert_ptr_equal(waiter.db, held_db); /* the same connection, handed over */
    st = testutil_stats(pool);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.in_use, 0);
    sqlpool_close(pool);
}

/* ---- timeouts ---- */

static void expect_timeout_message(const char *msg, const char *last_error) {
    if (strstr(msg, "open 1/1") == NULL) fail_msg("no \"open 1/1\" in: %s", msg);
    if (strstr(msg, "waiting") == NULL) fail_msg("no \"waiting\" in: %s", msg);
    if (strstr(msg, last_error) == NULL) fail_msg("no \"%s\" in: %s", last_error, msg);
}

static void test_concurrency_acquire_timeout(void **state) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *held, *conn = (sqlpool_conn *)&cfg;
    double t0, elapsed;
    int rc;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.acquire_timeout = 0.2;
    pool = open_pool(&cfg);
    held = testutil_acquire(pool);

    t0 = now_s();
    rc = sqlpool_acquire(pool, &conn);
    elapsed = now_s() - t0;
    assert_int_equal(rc, SQLPOOL_ETIMEDOUT);
    assert_null(conn);
    if (elapsed < 0.2 || elapsed > 1.2) fail_msg("timed out after %.3f s, not 0.2", elapsed);
    expect_timeout_message(sqlpool_errmsg(), "none");
    assert_int_equal(testutil_stats(pool).timeouts, 1);
    assert_int_equal(testutil_stats(pool).waiting, 0);

    /* A deadline on the pool's clock instead. */
    conn = (sqlpool_conn *)&cfg;
    t0 = now_s();
    rc = sqlpool_acquire_until(pool, &conn, sqlpool_clock(pool) + 0.1);
    elapsed = now_s() - t0;
    assert_int_equal(rc, SQLPOOL_ETIMEDOUT);
    assert_null(conn);
    if (elapsed < 0.1 || elapsed > 1.1) fail_msg("timed out after %.3f s, not 0.1", elapsed);
    expect_timeout_message(sqlpool_errmsg(), "none");
    assert_int_equal(testutil_stats(pool).timeouts, 2);

    /* The holder is unaffected. */
    assert_non_null(sqlpool_conn_sqlite(held));
    sqlpool_release(held);
    assert_int_equal(testutil_stats(pool).idle, 1);
    sqlpool_close(pool);
}

static void test_concurrency_timeout_names_last_connect_error(void **state) {
    char *dir = testutil_tmpdir();
    char *path = testutil_format("%s/timeout.db", dir);
    char connect_error[256];
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *held, *conn = NULL;
    int rc;
    (void)state;

    testvfs_register();
    testvfs_reset();
    sqlpool_config_init(&cfg);
    cfg.db = path;
    cfg.sqlite_vfs = "sqlpool-test";
    cfg.max_open = 1;
    cfg.acquire_timeout = 0.1;
    pool = open_pool(&cfg);

    testvfs_fail_opens(1, SQLITE_CANTOPEN);
    rc = sqlpool_acquire(pool, &conn);
    assert_int_equal(rc, SQLPOOL_ECONNECT);
    snprintf(connect_error, sizeof connect_error, "%s", sqlpool_errmsg());
    assert_true(strlen(connect_error) > 0);

    held = testutil_acquire(pool);
    rc = sqlpool_acquire(pool, &conn);
    assert_int_equal(rc, SQLPOOL_ETIMEDOUT);
    assert_null(conn);
    expect_timeout_message(sqlpool_errmsg(), connect_error);
    assert_int_equal(testutil_stats(pool).connect_failures, 1);
    assert_int_equal(testutil_stats(pool).timeouts, 1);

    sqlpool_release(held);
    sqlpool_close(pool);
    testvfs_reset();
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- close ---- */

#define CLOSE_WAITERS 5

typedef struct close_waiter_arg {
    sqlpool *pool;
    int rc;
    sqlpool_conn *conn;
    double returned_at;
} close_waiter_arg;

static void *close_waiter(void *p) {
    close_waiter_arg *arg = p;
    arg->conn = (sqlpool_conn *)arg; /* must come back NULL */
    arg->rc = sqlpool_acquire(arg->pool, &arg->conn);
    arg->returned_at = now_s();
    if (arg->rc == SQLPOOL_OK) sqlpool_release(arg->conn);
    return NULL;
}

typedef struct closer_arg {
    sqlpool *pool;
    double started_at, returned_at;
} closer_arg;

static void *closer(void *p) {
    closer_arg *arg = p;
    arg->started_at = now_s();
    sqlpool_close(arg->pool);
    arg->returned_at = now_s();
    return NULL;
}

static void test_concurrency_close_wakes_every_waiter(void **state) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *held;
    close_waiter_arg args[CLOSE_WAITERS];
    pthread_t threads[CLOSE_WAITERS], ct;
    closer_arg carg;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.acquire_timeout = 20.0; /* far beyond the test: only the close can end the waits */
    cfg.close_timeout = 0.2;
    pool = open_pool(&cfg);
    held = testutil_acquire(pool);

    for (int i = 0; i < CLOSE_WAITERS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].pool = pool;
        assert_int_equal(pthread_create(&threads[i], NULL, close_waiter, &args[i]), 0);
    }
    if (!wait_for_waiting(pool, CLOSE_WAITERS, 5.0))
        fail_msg("waiting %d, expected %d", testutil_stats(pool).waiting, CLOSE_WAITERS);

    memset(&carg, 0, sizeof carg);
    carg.pool = pool;
    assert_int_equal(pthread_create(&ct, NULL, closer, &carg), 0);
    for (int i = 0; i < CLOSE_WAITERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(pthread_join(ct, NULL), 0);
    for (int i = 0; i < CLOSE_WAITERS; i++) {
        double after = args[i].returned_at - carg.started_at;
        assert_int_equal(args[i].rc, SQLPOOL_ECLOSED);
        assert_null(args[i].conn);
        if (after > 1.0) fail_msg("waiter %d returned %.3f s after the close began", i, after);
    }
    /* close gave up on the borrowed connection after close_timeout; it still works, and its
     * release frees the pool (ASan reports a leak otherwise). */
    if (carg.returned_at - carg.started_at > 2.0)
        fail_msg("close took %.3f s with close_timeout 0.2", carg.returned_at - carg.started_at);
    exec_ok(sqlpool_conn_sqlite(held), "SELECT 1");
    sqlpool_release(held);
}

typedef struct borrower_arg {
    sqlpool *pool;
    atomic_int holding;
    atomic_int released; /* set just before the release */
    int rc;
} borrower_arg;

static void *borrower(void *p) {
    borrower_arg *arg = p;
    sqlpool_conn *conn = NULL;
    arg->rc = sqlpool_acquire(arg->pool, &conn);
    atomic_store(&arg->holding, 1);
    if (arg->rc != SQLPOOL_OK) return NULL;
    sleep_s(0.1);
    atomic_store(&arg->released, 1);
    sqlpool_release(conn);
    return NULL;
}

static void test_concurrency_close_waits_for_borrowers(void **state) {
    sqlpool_config cfg;
    sqlpool *pool;
    borrower_arg arg;
    pthread_t t;
    double t0, elapsed;
    int released_when_closed;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.close_timeout = 5.0;
    pool = open_pool(&cfg);
    memset(&arg, 0, sizeof arg);
    arg.pool = pool;
    atomic_init(&arg.holding, 0);
    atomic_init(&arg.released, 0);
    assert_int_equal(pthread_create(&t, NULL, borrower, &arg), 0);
    while (!atomic_load(&arg.holding))
        sleep_s(0.001);
    assert_int_equal(arg.rc, SQLPOOL_OK);

    t0 = now_s();
    sqlpool_close(pool);
    elapsed = now_s() - t0;
    released_when_closed = atomic_load(&arg.released);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(released_when_closed, 1); /* close did not return before the release */
    if (elapsed > 3.0) fail_msg("close took %.3f s for a borrow of 0.1 s", elapsed);
}

/* ---- max_connecting ---- */

#define CONNECTING_THREADS 4

typedef struct connecting_shared {
    sqlpool *pool;
    atomic_int holding;        /* threads holding a connection now */
    atomic_int max_connecting; /* the most stats.connecting seen */
    atomic_int stop;
} connecting_shared;

typedef struct connecting_arg {
    connecting_shared *shared;
    int rc;
    int all_held; /* saw every thread holding a connection at once */
    char err[256];
} connecting_arg;

static void note_connecting(connecting_shared *sh) {
    int c = testutil_stats(sh->pool).connecting;
    int seen = atomic_load(&sh->max_connecting);
    while (c > seen && !atomic_compare_exchange_weak(&sh->max_connecting, &seen, c)) {
    }
}

static void *connecting_worker(void *p) {
    connecting_arg *arg = p;
    connecting_shared *sh = arg->shared;
    sqlpool_conn *conn = NULL;
    double end;
    note_connecting(sh);
    arg->rc = sqlpool_acquire(sh->pool, &conn);
    note_connecting(sh);
    if (arg->rc != SQLPOOL_OK) {
        snprintf(arg->err, sizeof arg->err, "%s", sqlpool_errmsg());
        return NULL;
    }
    /* Hold it until every thread holds one: max_open is unlimited, so each must get its own. */
    atomic_fetch_add(&sh->holding, 1);
    end = now_s() + 1.5;
    while (atomic_load(&sh->holding) < CONNECTING_THREADS && now_s() < end) {
        note_connecting(sh);
        sleep_s(0.001);
    }
    arg->all_held = atomic_load(&sh->holding) == CONNECTING_THREADS;
    sqlpool_release(conn);
    return NULL;
}

static void *connecting_sampler(void *p) {
    connecting_shared *sh = p;
    while (!atomic_load(&sh->stop)) {
        note_connecting(sh);
        sleep_s(0.0005);
    }
    return NULL;
}

static void test_concurrency_max_connecting(void **state) {
    char *dir = testutil_tmpdir();
    char *path = testutil_format("%s/connecting.db", dir);
    sqlite3 *blocker = NULL;
    sqlpool_config cfg;
    sqlpool *pool;
    connecting_shared sh;
    connecting_arg args[CONNECTING_THREADS];
    pthread_t threads[CONNECTING_THREADS], sampler;
    sqlpool_stats st;
    double end;
    (void)state;

    /* A connect reads the database (journal_mode=WAL), so an exclusive lock held elsewhere
     * keeps it in its busy handler: connects stay in progress until we let go. */
    assert_int_equal(sqlite3_open(path, &blocker), SQLITE_OK);
    exec_ok(blocker, "BEGIN EXCLUSIVE; CREATE TABLE t(x);");

    sqlpool_config_init(&cfg);
    cfg.db = path;
    cfg.max_connecting = 1;
    cfg.connect_timeout = 8.0;
    cfg.acquire_timeout = 3.0;
    pool = open_pool(&cfg);

    memset(&sh, 0, sizeof sh);
    sh.pool = pool;
    atomic_init(&sh.holding, 0);
    atomic_init(&sh.max_connecting, 0);
    atomic_init(&sh.stop, 0);
    assert_int_equal(pthread_create(&sampler, NULL, connecting_sampler, &sh), 0);
    for (int i = 0; i < CONNECTING_THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].shared = &sh;
        assert_int_equal(pthread_create(&threads[i], NULL, connecting_worker, &args[i]), 0);
    }
    /* One connects, the others queue for a turn. */
    end = now_s() + 5.0;
    for (;;) {
        st = testutil_stats(pool);
        if (st.connecting == 1 && st.waiting == CONNECTING_THREADS - 1) break;
        if (now_s() > end)
            fail_msg("connecting %d, waiting %d: never 1 and %d", st.connecting, st.waiting,
                     CONNECTING_THREADS - 1);
        sleep_s(0.001);
    }
    sleep_s(0.05); /* let a stampede show, if there is one */
    st = testutil_stats(pool);
    assert_int_equal(st.connecting, 1);
    assert_int_equal(st.open, 0);
    exec_ok(blocker, "COMMIT");
    assert_int_equal(sqlite3_close(blocker), SQLITE_OK);

    for (int i = 0; i < CONNECTING_THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    atomic_store(&sh.stop, 1);
    assert_int_equal(pthread_join(sampler, NULL), 0);
    for (int i = 0; i < CONNECTING_THREADS; i++)
        if (args[i].rc != SQLPOOL_OK) fail_msg("thread %d: %d %s", i, args[i].rc, args[i].err);
    for (int i = 0; i < CONNECTING_THREADS; i++)
        if (!args[i].all_held)
            fail_msg("thread %d never saw all %d threads holding a connection (at most %d)", i,
                     CONNECTING_THREADS, atomic_load(&sh.holding));
    assert_int_equal(atomic_load(&sh.max_connecting), 1);
    st = testutil_stats(pool);
    assert_int_equal(st.created, CONNECTING_THREADS);
    assert_int_equal(st.connecting, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.timeouts, 0);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- stress ---- */

#define STRESS_THREADS 64
#define STRESS_CYCLES 300
#define STRESS_MAX_OPEN 4

typedef struct stress_shared {
    sqlpool *pool;
    atomic_int stop;
    /* From the monitor: snapshots that broke an invariant. */
    long samples, bad_open, bad_books;
    int max_open_seen;
} stress_shared;

typedef struct stress_arg {
    stress_shared *shared;
    int id;
    long commits;       /* inserts that committed */
    long acquire_ebusy; /* acquires failed by the injected open failures */
    long other_acquire; /* any other acquire error */
    long insert_errors; /* inserts that failed */
    long discards;
    char first_error[256];
} stress_arg;

static void stress_note(stress_arg *arg, const char *what, const char *detail) {
    if (arg->first_error[0] == '\0')
        snprintf(arg->first_error, sizeof arg->first_error, "%s: %s", what, detail);
}

static void *stress_worker(void *p) {
    stress_arg *arg = p;
    unsigned seed = (unsigned)arg->id * 2654435761u + 1u;
    for (int i = 0; i < STRESS_CYCLES; i++) {
        sqlpool_conn *conn = NULL;
        sqlite3_stmt *stmt = NULL;
        sqlite3 *db;
        int rc;
        /* Now and then, make the next connects fail for a while (they retry). */
        if (arg->id == 0 && i % 60 == 30) testvfs_fail_opens(2, SQLITE_BUSY);
        rc = sqlpool_acquire(arg->shared->pool, &conn);
        if (rc == SQLPOOL_EBUSY) {
            arg->acquire_ebusy++;
            continue;
        }
        if (rc != SQLPOOL_OK) {
            arg->other_acquire++;
            stress_note(arg, "acquire", sqlpool_errmsg());
            continue;
        }
        db = sqlpool_conn_sqlite(conn);
        /* Durability is not under test; spare the disk the syncs. */
        (void)sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
        rc = sqlite3_prepare_v2(db, "INSERT INTO t(thread, seq) VALUES (?, ?)", -1, &stmt, NULL);
        if (rc == SQLITE_OK) {
            (void)sqlite3_bind_int(stmt, 1, arg->id);
            (void)sqlite3_bind_int(stmt, 2, i);
            rc = sqlite3_step(stmt);
        }
        if (rc == SQLITE_DONE) {
            arg->commits++;
        } else {
            arg->insert_errors++;
            stress_note(arg, "insert", sqlite3_errmsg(db));
        }
        (void)sqlite3_finalize(stmt);
        if (rand_r(&seed) % 20 == 0) {
            arg->discards++;
            sqlpool_discard(conn);
        } else {
            sqlpool_release(conn);
        }
    }
    return NULL;
}

static void *stress_monitor(void *p) {
    stress_shared *sh = p;
    while (!atomic_load(&sh->stop)) {
        sqlpool_stats st = testutil_stats(sh->pool);
        sh->samples++;
        if (st.open > sh->max_open_seen) sh->max_open_seen = st.open;
        if (st.open + st.connecting > STRESS_MAX_OPEN || st.idle > STRESS_MAX_OPEN) sh->bad_open++;
        if (st.created - st.closed != st.open || st.idle + st.in_use > st.open) sh->bad_books++;
        sleep_s(0.001);
    }
    return NULL;
}

static void run_stress(double barge_window) {
    char *dir = testutil_tmpdir();
    char *path = testutil_format("%s/stress.db", dir);
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *conn;
    stress_shared sh;
    stress_arg *args = calloc(STRESS_THREADS, sizeof *args);
    pthread_t threads[STRESS_THREADS], monitor;
    sqlpool_stats st;
    long commits = 0, ebusy = 0, discards = 0;
    sqlite3 *db;

    assert_non_null(args);
    testvfs_register();
    testvfs_reset();
    sqlpool_config_init(&cfg);
    cfg.db = path;
    cfg.sqlite_vfs = "sqlpool-test";
    cfg.max_open = STRESS_MAX_OPEN;
    cfg.max_idle = STRESS_MAX_OPEN;
    cfg.connect_timeout = 30.0;
    cfg.acquire_timeout = 60.0;
    cfg.retry_backoff = 0.001;
    cfg.barge_window = barge_window;
    pool = open_pool(&cfg);
    conn = testutil_acquire(pool);
    exec_ok(sqlpool_conn_sqlite(conn), "CREATE TABLE t(thread INTEGER NOT NULL, seq INTEGER NOT "
                                       "NULL, PRIMARY KEY (thread, seq))");
    sqlpool_release(conn);

    memset(&sh, 0, sizeof sh);
    sh.pool = pool;
    atomic_init(&sh.stop, 0);
    assert_int_equal(pthread_create(&monitor, NULL, stress_monitor, &sh), 0);
    for (int i = 0; i < STRESS_THREADS; i++) {
        args[i].shared = &sh;
        args[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, stress_worker, &args[i]), 0);
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    atomic_store(&sh.stop, 1);
    assert_int_equal(pthread_join(monitor, NULL), 0);
    testvfs_reset();

    for (int i = 0; i < STRESS_THREADS; i++) {
        if (args[i].other_acquire != 0 || args[i].insert_errors != 0)
            fail_msg("thread %d: %ld unexpected acquire errors, %ld insert errors; first: %s", i,
                     args[i].other_acquire, args[i].insert_errors, args[i].first_error);
        commits += args[i].commits;
        ebusy += args[i].acquire_ebusy;
        discards += args[i].discards;
    }
    assert_int_equal(commits + ebusy, (long)STRESS_THREADS * STRESS_CYCLES);
    assert_int_equal(sh.bad_open, 0);
    assert_int_equal(sh.bad_books, 0);
    assert_true(sh.samples > 0);
    assert_in_range(sh.max_open_seen, 1, STRESS_MAX_OPEN);

    st = testutil_stats(pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.connecting, 0);
    assert_int_equal(st.created - st.closed, st.open);
    assert_in_range(st.open, 0, STRESS_MAX_OPEN);
    assert_int_equal(st.open, st.idle);
    assert_int_equal(st.discarded, discards);
    assert_int_equal(st.connect_failures, ebusy);
    assert_int_equal(st.timeouts, 0);
    assert_true(st.connect_retries >= 1); /* the injected failures were met, and retried */
    assert_true(st.peak_in_use <= STRESS_MAX_OPEN);
    sqlpool_close(pool);

    /* Every committed row is there, per thread, read by a connection of our own. */
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), commits);
    for (int i = 0; i < STRESS_THREADS; i++) {
        char *sql = testutil_format("SELECT count(*) FROM t WHERE thread = %d", i);
        long long n = query_int(db, sql);
        if (n != args[i].commits)
            fail_msg("thread %d: %lld rows, %ld commits", i, n, args[i].commits);
        free(sql);
    }
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    free(args);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static void test_concurrency_stress(void **state) {
    (void)state;
    run_stress(0);
}

static void test_concurrency_stress_barging(void **state) {
    (void)state;
    run_stress(0.001);
}

/* ---- throughput mode (barge_window > 0) ---- */

static void test_concurrency_barge_waiters_keep_their_order(void **state) {
    (void)state;
    check_fifo_order(0.2);
}

typedef struct barge_waiter {
    sqlpool *pool;
    int rc;
    char err[256];
    double asked, served; /* when it called acquire, when it returned (now_s) */
} barge_waiter;

static void *barge_wait(void *p) {
    barge_waiter *w = p;
    sqlpool_conn *conn = NULL;
    w->asked = now_s();
    w->rc = sqlpool_acquire(w->pool, &conn);
    w->served = now_s();
    if (w->rc != SQLPOOL_OK) {
        snprintf(w->err, sizeof w->err, "%s", sqlpool_errmsg());
        return NULL;
    }
    sqlpool_release(conn);
    return NULL;
}

static sqlpool *open_barging(double window) {
    sqlpool_config cfg;
    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.acquire_timeout = 30.0;
    cfg.barge_window = window;
    return open_pool(&cfg);
}

static void join_served(pthread_t thread, barge_waiter *w) {
    assert_int_equal(pthread_join(thread, NULL), 0);
    if (w->rc != SQLPOOL_OK) fail_msg("waiter: %d %s", w->rc, w->err);
}

/* Within the window a thread that asks may take the connection just released, ahead of the
 * waiter; the waiter still gets it by itself once the window has passed. */
static void test_concurrency_barge_newcomer_may_overtake(void **state) {
    sqlpool *pool = open_barging(2.0);
    sqlpool_conn *conn = testutil_acquire(pool), *again = NULL;
    barge_waiter w = {.pool = pool};
    pthread_t thread;
    double released;
    (void)state;

    assert_int_equal(pthread_create(&thread, NULL, barge_wait, &w), 0);
    assert_true(wait_for_waiting(pool, 1, 5.0));
    sqlpool_release(conn);
    assert_int_equal(sqlpool_try_acquire(pool, &again), SQLPOOL_OK); /* overtook the waiter */
    assert_int_equal(testutil_stats(pool).waiting, 1);
    /* Released again within the window: left idle, and nobody hands it over; the waiter
     * must take it by itself when its window ends. */
    sqlpool_release(again);
    released = now_s();
    join_served(thread, &w);
    assert_true(w.served >= released);
    assert_true(w.served - w.asked < 20.0); /* bounded: the window, not acquire_timeout */
    assert_int_equal(testutil_stats(pool).timeouts, 0);
    assert_int_equal(testutil_stats(pool).in_use, 0);
    sqlpool_close(pool);
}

/* Once the first waiter has been first for the window, a release hands it the connection:
 * a newcomer finds none. */
static void test_concurrency_barge_first_waiter_served_after_window(void **state) {
    sqlpool *pool = open_barging(0.05);
    sqlpool_conn *conn = testutil_acquire(pool), *again = NULL;
    barge_waiter w = {.pool = pool};
    pthread_t thread;
    (void)state;

    assert_int_equal(pthread_create(&thread, NULL, barge_wait, &w), 0);
    assert_true(wait_for_waiting(pool, 1, 5.0));
    sleep_s(0.3);
    sqlpool_release(conn);
    assert_int_equal(sqlpool_try_acquire(pool, &again), SQLPOOL_EAGAIN);
    join_served(thread, &w);
    sqlpool_close(pool);
}

/* A connection left idle while two wait reaches both, in order, without more releases: the
 * first takes it when its window ends; when it gives it back, the second (first in line now,
 * asleep without a timer) is woken to take it. acquire_timeout would fail them otherwise. */
static void test_concurrency_barge_idle_connection_reaches_waiters(void **state) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *conn;
    barge_waiter w[2];
    pthread_t threads[2];
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.acquire_timeout = 10.0;
    cfg.barge_window = 0.5;
    pool = open_pool(&cfg);
    conn = testutil_acquire(pool);
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].pool = pool;
        assert_int_equal(pthread_create(&threads[i], NULL, barge_wait, &w[i]), 0);
        assert_true(wait_for_waiting(pool, i + 1, 5.0));
    }
    sqlpool_release(conn);
    for (int i = 0; i < 2; i++)
        join_served(threads[i], &w[i]);
    assert_true(w[0].served <= w[1].served);
    assert_int_equal(testutil_stats(pool).timeouts, 0);
    assert_int_equal(testutil_stats(pool).wait_count, 2);
    sqlpool_close(pool);
}

/* A connection left idle for newcomers is closed while a thread waits (by close_idle, or by
 * maintenance for idle_timeout): the room it leaves goes to the waiter, which opens a new
 * one, instead of sleeping until acquire_timeout. */
static void check_parked_closed(int by_maintenance) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *conn;
    barge_waiter w = {0};
    pthread_t thread;
    sqlpool_stats st;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.acquire_timeout = 10.0;
    cfg.barge_window = 5.0; /* the waiter's own timer is far off */
    if (by_maintenance) cfg.idle_timeout = 0.05;
    pool = open_pool(&cfg);
    conn = testutil_acquire(pool);
    w.pool = pool;
    assert_int_equal(pthread_create(&thread, NULL, barge_wait, &w), 0);
    assert_true(wait_for_waiting(pool, 1, 5.0));
    sqlpool_release(conn); /* left idle: the waiter has been first for less than 5 s */
    if (!by_maintenance) sqlpool_close_idle(pool);
    join_served(thread, &w);
    assert_true(w.served - w.asked < 5.0); /* served by the freed room, not its timer */
    st = testutil_stats(pool);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(st.created - st.closed, st.open);
    sqlpool_close(pool);
}

static void test_concurrency_barge_parked_closed_by_close_idle(void **state) {
    (void)state;
    check_parked_closed(0);
}

static void test_concurrency_barge_parked_closed_by_maintenance(void **state) {
    (void)state;
    check_parked_closed(1);
}

/* The first waiter takes a connection left idle whose check fails (its file was deleted):
 * it is closed, and the waiter stays first, opens a new one, and its wait counts once. */
static void test_concurrency_barge_broken_idle_keeps_place(void **state) {
    char *dir = testutil_tmpdir();
    char *path = testutil_format("%s/gone.db", dir);
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *conn;
    barge_waiter w[2];
    pthread_t threads[2];
    sqlpool_stats st;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.db = path;
    cfg.max_open = 1;
    cfg.acquire_timeout = 10.0;
    cfg.barge_window = 0.3;
    cfg.validation_bypass = 0.01; /* what waited the window out gets checked */
    pool = open_pool(&cfg);
    conn = testutil_acquire(pool);
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].pool = pool;
        assert_int_equal(pthread_create(&threads[i], NULL, barge_wait, &w[i]), 0);
        assert_true(wait_for_waiting(pool, i + 1, 5.0));
    }
    assert_int_equal(unlink(path), 0);
    sqlpool_release(conn);
    for (int i = 0; i < 2; i++)
        join_served(threads[i], &w[i]);
    assert_true(w[0].served <= w[1].served);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.wait_count, 2);
    assert_int_equal(st.timeouts, 0);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

#define STARVE_THREADS 16

typedef struct starve_arg {
    sqlpool *pool;
    atomic_int *stop;
    long cycles;
    int rc;
    char err[256];
} starve_arg;

static void *starve_worker(void *p) {
    starve_arg *arg = p;
    while (!atomic_load(arg->stop)) {
        sqlpool_conn *conn = NULL;
        arg->rc = sqlpool_acquire(arg->pool, &conn);
        if (arg->rc != SQLPOOL_OK) {
            snprintf(arg->err, sizeof arg->err, "%s", sqlpool_errmsg());
            return NULL;
        }
        arg->cycles++;
        sqlpool_release(conn);
    }
    return NULL;
}

/* Many threads on few connections, as fast as they can: every thread is served, none times
 * out, no acquire waited anywhere near the run's length (the window bounds how long a waiter
 * can be overtaken), and the books balance. */
static void test_concurrency_barge_nobody_starves(void **state) {
    sqlpool_config cfg;
    sqlpool *pool;
    starve_arg args[STARVE_THREADS];
    pthread_t threads[STARVE_THREADS];
    atomic_int stop;
    sqlpool_stats st;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 2;
    cfg.acquire_timeout = 20.0;
    cfg.barge_window = 0.001;
    pool = open_pool(&cfg);
    atomic_init(&stop, 0);
    for (int i = 0; i < STARVE_THREADS; i++) {
        args[i] = (starve_arg){.pool = pool, .stop = &stop};
        assert_int_equal(pthread_create(&threads[i], NULL, starve_worker, &args[i]), 0);
    }
    sleep_s(1.0);
    atomic_store(&stop, 1);
    for (int i = 0; i < STARVE_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        if (args[i].rc != SQLPOOL_OK) fail_msg("thread %d: %d %s", i, args[i].rc, args[i].err);
        if (args[i].cycles < 1) fail_msg("thread %d was never served", i);
    }
    st = testutil_stats(pool);
    assert_int_equal(st.timeouts, 0);
    if (st.wait_max >= 0.5) fail_msg("an acquire waited %.3f s of the 1 s run", st.wait_max);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.created - st.closed, st.open);
    assert_true(st.open <= 2);
    sqlpool_close(pool);
}

static void test_concurrency_barge_window_must_be_valid(void **state) {
    const double bad[] = {-0.001, NAN, INFINITY};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sqlpool_config cfg;
        sqlpool *pool = NULL;
        sqlpool_config_init(&cfg);
        cfg.barge_window = bad[i];
        assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
        assert_null(pool);
        assert_non_null(strstr(sqlpool_errmsg(), "finite number of seconds"));
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_concurrency_fifo_order),
    cmocka_unit_test(test_concurrency_newcomer_never_overtakes_waiter),
    cmocka_unit_test(test_concurrency_acquire_timeout),
    cmocka_unit_test(test_concurrency_timeout_names_last_connect_error),
    cmocka_unit_test(test_concurrency_close_wakes_every_waiter),
    cmocka_unit_test(test_concurrency_close_waits_for_borrowers),
    cmocka_unit_test(test_concurrency_max_connecting),
    cmocka_unit_test(test_concurrency_stress),
    cmocka_unit_test(test_concurrency_stress_barging),
    cmocka_unit_test(test_concurrency_barge_waiters_keep_their_order),
    cmocka_unit_test(test_concurrency_barge_newcomer_may_overtake),
    cmocka_unit_test(test_concurrency_barge_first_waiter_served_after_window),
    cmocka_unit_test(test_concurrency_barge_idle_connection_reaches_waiters),
    cmocka_unit_test(test_concurrency_barge_parked_closed_by_close_idle),
    cmocka_unit_test(test_concurrency_barge_parked_closed_by_maintenance),
    cmocka_unit_test(test_concurrency_barge_broken_idle_keeps_place),
    cmocka_unit_test(test_concurrency_barge_nobody_starves),
    cmocka_unit_test(test_concurrency_barge_window_must_be_valid),
};

SQLPOOL_TEST_MAIN(tests)
