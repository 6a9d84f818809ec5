/*
 * test_resize.c: changing an open pool: sqlpool_resize() (waiters served when the cap grows,
 * idle connections closed down to smaller caps, borrowed ones only as they come back),
 * sqlpool_evict() (every connection open at the call retired, also from the per-processor
 * slots, none handed to an acquire that began after it, under 16 threads of load) and
 * sqlpool_set_db() (new connections open the new database; invalid strings refused). The
 * evict-under-load test looks inside (pool_internal.h through books.h) to tell which epoch a
 * connection was opened under; the rest use the public API. PostgreSQL's password rotation
 * is in test_pg.c.
 */
#include "books.h"
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_s(double s) {
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct fixture {
    char *dir, *path;
    sqlpool_config cfg;
    sqlpool *pool;
} fixture;

static void fixture_init(fixture *fx, int max_open, int max_idle) {
    memset(fx, 0, sizeof *fx);
    fx->dir = testutil_tmpdir();
    fx->path = testutil_format("%s/resize.db", fx->dir);
    sqlpool_config_init(&fx->cfg);
    fx->cfg.db = fx->path;
    fx->cfg.max_open = max_open;
    fx->cfg.max_idle = max_idle;
    fx->cfg.acquire_timeout = 10.0;
}

static void fixture_open(fixture *fx) {
    int rc = sqlpool_open(&fx->cfg, &fx->pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
}

static void fixture_fini(fixture *fx) {
    if (fx->pool != NULL) sqlpool_close(fx->pool);
    testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

/* Poll the stats until pred holds or 5 s pass; returns whether it held. */
static int wait_for(sqlpool *pool, int (*pred)(const sqlpool_stats *, int), int want) {
    double until = mono_s() + 5.0;
    while (mono_s() < until) {
        sqlpool_stats st = testutil_stats(pool);
        if (pred(&st, want)) return 1;
        sleep_s(0.002);
    }
    return 0;
}
static int waiting_is(const sqlpool_stats *st, int want) {
    return st->waiting == want;
}
static int idle_is(const sqlpool_stats *st, int want) {
    return st->idle == want;
}

/* ---- resize ---- */

typedef struct waiter_arg {
    sqlpool *pool;
    int rc;
    double took;
    sqlpool_conn *conn;
} waiter_arg;

static void *waiter_main(void *p) {
    waiter_arg *a = p;
    double t0 = mono_s();
    a->rc = sqlpool_acquire(a->pool, &a->conn);
    a->took = mono_s() - t0;
    return NULL;
}

/* Two threads wait at max_open 1; a resize to 3 serves both at once (without it they would
 * wait out their 10 s acquire_timeout). */
static void test_resize_up_wakes_waiters(void **state) {
    fixture fx;
    pthread_t t[2];
    waiter_arg a[2];
    sqlpool_conn *held;
    sqlpool_stats st;
    double t0;
    (void)state;

    fixture_init(&fx, 1, 1);
    fixture_open(&fx);
    held = testutil_acquire(fx.pool);
    for (int i = 0; i < 2; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].pool = fx.pool;
        assert_int_equal(pthread_create(&t[i], NULL, waiter_main, &a[i]), 0);
    }
    assert_true(wait_for(fx.pool, waiting_is, 2));
    sleep_s(0.05);
    assert_int_equal(testutil_stats(fx.pool).waiting, 2); /* still waiting: the cap holds */
    t0 = mono_s();
    assert_int_equal(sqlpool_resize(fx.pool, 3, 3), SQLPOOL_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (a[i].rc != SQLPOOL_OK) fail_msg("waiter %d: %d %s", i, a[i].rc, sqlpool_errmsg());
    }
    assert_true(mono_s() - t0 < 2.0);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.max_open, 3);
    assert_int_equal(st.max_idle, 3);
    assert_int_equal(st.in_use, 3);
    assert_int_equal(st.open, 3);
    assert_int_equal(st.timeouts, 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(testutil_query_int(a[i].conn, "SELECT 1"), 1);
        sqlpool_release(a[i].conn);
    }
    sqlpool_release(held);
    assert_int_equal(testutil_stats(fx.pool).idle, 3);
    fixture_fini(&fx);
}

/* Six open, three borrowed: a resize to max_open 2, max_idle 1 closes the three idle ones at
 * once and leaves the borrowed ones working; as they come back, one is closed (over
 * max_open), one pooled, one closed (beyond max_idle). Meanwhile no new connection opens. */
static void test_resize_down_closes_to_caps(void **state) {
    fixture fx;
    sqlpool_conn *c[6], *extra = NULL;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 6, 6);
    fixture_open(&fx);
    for (int i = 0; i < 6; i++)
        c[i] = testutil_acquire(fx.pool);
    for (int i = 3; i < 6; i++)
        sqlpool_release(c[i]);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.open, 6);
    assert_int_equal(st.idle, 3);

    assert_int_equal(sqlpool_resize(fx.pool, 2, 1), SQLPOOL_OK);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.max_open, 2);
    assert_int_equal(st.max_idle, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.in_use, 3);
    assert_int_equal(st.open, 3);
    assert_int_equal(st.closed_max_idle, 3);
    for (int i = 0; i < 3; i++) /* untouched */
        assert_int_equal(testutil_query_int(c[i], "SELECT 1"), 1);
    /* Over the cap: no room for another. */
    assert_int_equal(sqlpool_acquire_until(fx.pool, &extra, 0), SQLPOOL_ETIMEDOUT);

    sqlpool_release(c[0]);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.open, 2);
    assert_int_equal(st.idle, 0);
    sqlpool_release(c[1]);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.open, 2);
    assert_int_equal(st.idle, 1);
    sqlpool_release(c[2]);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.closed_max_idle, 5);
    assert_int_equal(st.created, 6);

    /* And back up: room again. */
    assert_int_equal(sqlpool_resize(fx.pool, 4, 4), SQLPOOL_OK);
    for (int i = 0; i < 4; i++)
        c[i] = testutil_acquire(fx.pool);
    for (int i = 0; i < 4; i++)
        sqlpool_release(c[i]);
    assert_int_equal(testutil_stats(fx.pool).open, 4);
    fixture_fini(&fx);
}

/* min_idle stays within the caps: after a resize to max_idle 2, maintenance keeps 2 ready,
 * not min_idle's 4. */
static void test_resize_min_idle_within_caps(void **state) {
    fixture fx;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 8, 4);
    fx.cfg.min_idle = 4;
    fixture_open(&fx);
    /* The maintenance thread fills min_idle (our pass too: whichever reserves first). */
    assert_int_equal(sqlpool_maintain(fx.pool), SQLPOOL_OK);
    assert_true(wait_for(fx.pool, idle_is, 4));
    assert_int_equal(sqlpool_resize(fx.pool, 8, 2), SQLPOOL_OK);
    assert_int_equal(testutil_stats(fx.pool).idle, 2);
    sqlpool_close_idle(fx.pool);
    assert_int_equal(sqlpool_maintain(fx.pool), SQLPOOL_OK);
    assert_true(wait_for(fx.pool, idle_is, 2));
    sleep_s(0.1); /* and no more come */
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 2);
    assert_int_equal(st.open, 2);
    fixture_fini(&fx);
}

static void test_resize_invalid(void **state) {
    fixture fx;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 3, 2);
    fixture_open(&fx);
    assert_int_equal(sqlpool_resize(NULL, 1, 1), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_resize(fx.pool, -1, 1), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "max_open"));
    assert_int_equal(sqlpool_resize(fx.pool, 4, 0), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "max_idle"));
    st = testutil_stats(fx.pool);
    assert_int_equal(st.max_open, 3); /* nothing changed */
    assert_int_equal(st.max_idle, 2);
    assert_int_equal(sqlpool_resize(fx.pool, 0, 1), SQLPOOL_OK); /* no cap */
    assert_int_equal(testutil_stats(fx.pool).max_open, 0);
    sqlpool_evict(NULL); /* a no-op */
    fixture_fini(&fx);
}

/* ---- evict ---- */

/* Idle ones at once, borrowed ones on release; the next acquire opens a new one. */
static void test_resize_evict_idle_now_borrowed_on_release(void **state) {
    fixture fx;
    sqlpool_conn *kept, *idle, *fresh;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 4, 4);
    fixture_open(&fx);
    kept = testutil_acquire(fx.pool);
    idle = testutil_acquire(fx.pool);
    sqlpool_release(idle);
    testutil_exec(kept, "CREATE TEMP TABLE mark(x)"); /* this connection's own */

    sqlpool_evict(fx.pool);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_evicted, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.open, 1);
    assert_int_equal(testutil_query_int(kept, "SELECT count(*) FROM mark"), 0); /* still works */
    sqlpool_release(kept);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_evicted, 2);
    assert_int_equal(st.open, 0);

    fresh = testutil_acquire(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).created, 3);
    assert_int_equal(
        testutil_query_int(fresh, "SELECT count(*) FROM sqlite_temp_master WHERE name='mark'"), 0);
    sqlpool_release(fresh);
    assert_int_equal(testutil_stats(fx.pool).idle, 1); /* a new one pools as usual */
    fixture_fini(&fx);
}

/* Throughput mode: a connection idle in a per-processor slot is retired at once too. */
static void test_resize_evict_empties_slots(void **state) {
    fixture fx;
    sqlpool_conn *c[2];
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 4, 4);
    fx.cfg.barge_window = 0.001;
    fixture_open(&fx);
    c[0] = testutil_acquire(fx.pool);
    c[1] = testutil_acquire(fx.pool);
    sqlpool_release(c[0]);
    sqlpool_release(c[1]);
    assert_int_equal(testutil_stats(fx.pool).idle, 2);
    sqlpool_evict(fx.pool);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_evicted, 2);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.idle, 0);
    c[0] = testutil_acquire(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).created, 3);
    sqlpool_release(c[0]);
    fixture_fini(&fx);
}

typedef struct load {
    sqlpool *pool;
    atomic_int stop;
    atomic_uint after; /* the epoch an evict has returned with, +1 (0: none yet) */
    atomic_int errors, stale;
    atomic_long cycles;
} load;

static void *load_main(void *p) {
    load *l = p;
    while (!atomic_load(&l->stop)) {
        unsigned after = atomic_load(&l->after);
        sqlpool_conn *conn = NULL, *c;
        int rc = sqlpool_acquire(l->pool, &conn);
        if (rc != SQLPOOL_OK) {
            atomic_fetch_add(&l->errors, 1);
            continue;
        }
        c = (sqlpool_conn *)((uintptr_t)conn & ~(uintptr_t)SQLPOOL__GEN_MASK);
        /* Began after an evict returned: must be a connection opened after it. */
        if (after != 0 && c->epoch + 1 < after) atomic_fetch_add(&l->stale, 1);
        if (testutil_query_int(conn, "SELECT 1") != 1) atomic_fetch_add(&l->errors, 1);
        sqlpool_release(conn);
        atomic_fetch_add(&l->cycles, 1);
    }
    return NULL;
}

/* 16 threads borrow and release as fast as they can while set_db and evict run five times: no
 * caller sees an error, every acquire that began after an evict returned gets a connection opened
 * after it, and at the end every open connection is from the last epoch. Both modes. */
static void test_resize_evict_under_load(void **state) {
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        fixture fx;
        load l;
        pthread_t t[16];
        sqlpool_stats before, st;
        long long evicted_min = 0;
        fixture_init(&fx, 8, 8);
        fx.cfg.barge_window = mode ? 0.001 : 0;
        fixture_open(&fx);
        memset(&l, 0, sizeof l);
        l.pool = fx.pool;
        for (int i = 0; i < 16; i++)
            assert_int_equal(pthread_create(&t[i], NULL, load_main, &l), 0);
        sleep_s(0.1);
        for (int round = 0; round < 5; round++) {
            before = testutil_stats(fx.pool);
            evicted_min += before.open > 0 ? 1 : 0;
            /* The same file again: swapped while connects run (TSan sees the copy's lock). */
            assert_int_equal(sqlpool_set_db(fx.pool, fx.path), SQLPOOL_OK);
            sqlpool_evict(fx.pool);
            atomic_store(&l.after, atomic_load(&fx.pool->epoch) + 1);
            sleep_s(0.08);
        }
        atomic_store(&l.stop, 1);
        for (int i = 0; i < 16; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
        st = testutil_stats(fx.pool);
        if (atomic_load(&l.errors) != 0 || atomic_load(&l.stale) != 0)
            fail_msg("mode %d: %d errors, %d stale connections handed out", mode,
                     atomic_load(&l.errors), atomic_load(&l.stale));
        assert_true(atomic_load(&l.cycles) > 100);
        assert_true(st.closed_evicted >= evicted_min);
        assert_true(st.created > 8);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.closed_broken, 0);
        /* Whatever is still open was opened under the last epoch. */
        for (sqlpool_conn *c = fx.pool->all; c != NULL; c = c->all_next)
            assert_int_equal(c->epoch, atomic_load(&fx.pool->epoch));
        assert_int_equal(st.created - st.closed_evicted - st.closed_max_idle - st.closed_lifetime,
                         st.open);
        fixture_fini(&fx);
    }
}

/* ---- set_db ---- */

/* New connections open the new file; with evict, every connection does. */
static void test_resize_set_db_then_evict_moves_to_new_file(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    char *other;
    sqlpool *side = NULL;
    sqlpool_config cfg;
    (void)state;

    fixture_init(&fx, 4, 4);
    fixture_open(&fx);
    other = testutil_format("%s/other.db", fx.dir);
    sqlpool_config_init(&cfg);
    cfg.db = other;
    assert_int_equal(sqlpool_open(&cfg, &side), SQLPOOL_OK);
    conn = testutil_acquire(side);
    testutil_exec(conn, "CREATE TABLE in_other(x)");
    sqlpool_release(conn);
    sqlpool_close(side);

    conn = testutil_acquire(fx.pool);
    assert_int_equal(
        testutil_query_int(conn, "SELECT count(*) FROM sqlite_master WHERE name='in_other'"), 0);
    sqlpool_release(conn);
    assert_int_equal(sqlpool_set_db(fx.pool, other), SQLPOOL_OK);
    conn = testutil_acquire(fx.pool); /* the idle one, still on the old file */
    assert_int_equal(
        testutil_query_int(conn, "SELECT count(*) FROM sqlite_master WHERE name='in_other'"), 0);
    sqlpool_release(conn);
    sqlpool_evict(fx.pool);
    conn = testutil_acquire(fx.pool);
    assert_int_equal(
        testutil_query_int(conn, "SELECT count(*) FROM sqlite_master WHERE name='in_other'"), 1);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(fx.pool).closed_evicted, 1);
    free(other);
    fixture_fini(&fx);
}

static void test_resize_set_db_invalid(void **state) {
    fixture fx;
    sqlpool *mem = NULL;
    sqlpool_config cfg;
    sqlpool_conn *conn;
    (void)state;

    fixture_init(&fx, 2, 2);
    fixture_open(&fx);
    assert_int_equal(sqlpool_set_db(NULL, "x.db"), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_set_db(fx.pool, NULL), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_set_db(fx.pool, ""), SQLPOOL_EINVAL);
    /* Another backend's string, password and all: refused, the password never shown. */
    assert_int_equal(sqlpool_set_db(fx.pool, "postgresql://u:hunter2sekret@127.0.0.1/db"),
                     SQLPOOL_EINVAL);
    assert_null(strstr(sqlpool_errmsg(), "hunter2sekret"));
    assert_non_null(strstr(sqlpool_errmsg(), "sqlite"));
    assert_int_equal(sqlpool_set_db(fx.pool, ":memory:"), SQLPOOL_EINVAL);
    /* Nothing changed: new connections still open the pool's own file. */
    sqlpool_evict(fx.pool);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE IF NOT EXISTS here(x)");
    sqlpool_release(conn);

    sqlpool_config_init(&cfg);
    cfg.db = ":memory:";
    assert_int_equal(sqlpool_open(&cfg, &mem), SQLPOOL_OK);
    assert_int_equal(sqlpool_set_db(mem, fx.path), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "in-memory"));
    sqlpool_close(mem);
    fixture_fini(&fx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_resize_up_wakes_waiters),
    cmocka_unit_test(test_resize_down_closes_to_caps),
    cmocka_unit_test(test_resize_min_idle_within_caps),
    cmocka_unit_test(test_resize_invalid),
    cmocka_unit_test(test_resize_evict_idle_now_borrowed_on_release),
    cmocka_unit_test(test_resize_evict_empties_slots),
    cmocka_unit_test(test_resize_evict_under_load),
    cmocka_unit_test(test_resize_set_db_then_evict_moves_to_new_file),
    cmocka_unit_test(test_resize_set_db_invalid),
};

SQLPOOL_TEST_MAIN(tests)
