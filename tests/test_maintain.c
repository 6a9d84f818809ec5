/*
 * test_maintain.c: what maintenance does to a pool: idle_timeout, max_lifetime and its jitter,
 * min_idle, keepalive pings, validation on borrow, leak warnings; the maintenance thread on
 * its own; and the scoped helpers sqlpool_with and SQLPOOL_SCOPED.
 *
 * Most tests drive time with a test clock (config.clock), which also means there is no
 * maintenance thread: passes run when the test calls sqlpool_maintain().
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct test_clock {
    double now;
} test_clock;

static double test_clock_read(void *ctx) {
    return ((test_clock *)ctx)->now;
}

typedef struct fixture {
    test_clock clock;
    testutil_log log;
    sqlpool_config cfg;
    sqlpool *pool;
    char *dir;
    char *path;
} fixture;

/* A config on the test clock (starting at 1000), logging into fx->log. file: a file database
 * in a fresh folder through the test VFS; else in memory. */
static void fixture_init(fixture *fx, int file) {
    memset(fx, 0, sizeof *fx);
    fx->clock.now = 1000.0;
    sqlpool_config_init(&fx->cfg);
    fx->cfg.clock = test_clock_read;
    fx->cfg.clock_ctx = &fx->clock;
    fx->cfg.log = testutil_log_sink;
    fx->cfg.log_ctx = &fx->log;
    fx->cfg.log_level = SQLPOOL_LOG_WARNING;
    if (file) {
        testvfs_register();
        testvfs_reset();
        fx->dir = testutil_tmpdir();
        fx->path = testutil_format("%s/maintain.db", fx->dir);
        fx->cfg.db = fx->path;
        fx->cfg.sqlite_vfs = "sqlpool-test";
    }
}

static void fixture_open(fixture *fx) {
    int rc = sqlpool_open(&fx->cfg, &fx->pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
}

static void fixture_fini(fixture *fx) {
    testvfs_reset();
    sqlpool_close(fx->pool);
    if (fx->dir != NULL) testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

static void maintain_ok(sqlpool *pool) {
    assert_int_equal(sqlpool_maintain(pool), SQLPOOL_OK);
}

/* A connection's own mark, which a new connection does not have (sqlite3 pointers can be
 * reused once a handle is closed). */
static void mark(sqlpool_conn *conn) {
    testutil_exec(conn, "CREATE TEMP TABLE mark(x)");
}
static int is_marked(sqlpool_conn *conn) {
    sqlite3_stmt *stmt = NULL;
    int rc =
        sqlite3_prepare_v2(sqlpool_conn_sqlite(conn), "SELECT x FROM temp.mark", -1, &stmt, NULL);
    (void)sqlite3_finalize(stmt);
    return rc == SQLITE_OK;
}

static int log_count(const testutil_log *log, const char *needle) {
    int n = 0;
    for (int i = 0; i < log->count; i++)
        if (strstr(log->lines[i], needle) != NULL) n++;
    return n;
}

/* ---- idle_timeout ---- */

static void test_maintain_idle_timeout_keeps_min_idle(void **state) {
    fixture fx;
    sqlpool_conn *c[3];
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.min_idle = 1;
    fx.cfg.max_idle = 5;
    fx.cfg.idle_timeout = 10;
    fixture_open(&fx);
    for (int i = 0; i < 3; i++)
        c[i] = testutil_acquire(fx.pool);
    for (int i = 0; i < 3; i++)
        sqlpool_release(c[i]);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 3);
    assert_int_equal(st.created, 3);

    fx.clock.now += 9; /* not yet */
    maintain_ok(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).idle, 3);
    assert_int_equal(testutil_stats(fx.pool).closed_idle, 0);

    fx.clock.now += 2;
    maintain_ok(fx.pool);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.closed_idle, 2);
    assert_int_equal(st.closed, 2);
    assert_int_equal(st.created, 3); /* min_idle was kept, not refilled */

    fx.clock.now += 100; /* the last one is min_idle's, however old */
    maintain_ok(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).idle, 1);
    assert_int_equal(testutil_stats(fx.pool).closed_idle, 2);
    fixture_fini(&fx);
}

/* ---- max_lifetime ---- */

static void test_maintain_max_lifetime_retires_idle(void **state) {
    fixture fx;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.max_lifetime = 100;
    fixture_open(&fx);
    sqlpool_release(testutil_acquire(fx.pool));
    fx.clock.now += 50;
    sqlpool_release(testutil_acquire(fx.pool)); /* use does not extend a lifetime */
    fx.clock.now += 51;
    maintain_ok(fx.pool);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_lifetime, 1);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.open, 0);
    fixture_fini(&fx);
}

static void test_maintain_max_lifetime_on_release(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.max_lifetime = 100;
    fixture_open(&fx);
    conn = testutil_acquire(fx.pool);
    fx.clock.now += 101;
    maintain_ok(fx.pool); /* a borrowed connection is left alone... */
    assert_int_equal(testutil_stats(fx.pool).closed_lifetime, 0);
    assert_int_equal(testutil_stats(fx.pool).in_use, 1);
    sqlpool_release(conn); /* ...and retired when it comes back */
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_lifetime, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.open, 0);
    fixture_fini(&fx);
}

#define JITTER_CONNS 20

static void test_maintain_max_lifetime_jitter(void **state) {
    fixture fx;
    sqlpool_conn *c[JITTER_CONNS];
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.max_lifetime = 100;
    fx.cfg.max_idle = JITTER_CONNS;
    fixture_open(&fx);
    for (int i = 0; i < JITTER_CONNS; i++)
        c[i] = testutil_acquire(fx.pool);
    for (int i = 0; i < JITTER_CONNS; i++)
        sqlpool_release(c[i]);
    assert_int_equal(testutil_stats(fx.pool).idle, JITTER_CONNS);

    fx.clock.now += 97; /* the jitter is at most 2.5%: nobody expires before 97.5 */
    maintain_ok(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).closed_lifetime, 0);
    assert_int_equal(testutil_stats(fx.pool).idle, JITTER_CONNS);

    fx.clock.now += 3; /* and everybody by 100 */
    maintain_ok(fx.pool);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_lifetime, JITTER_CONNS);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.open, 0);
    fixture_fini(&fx);
}

/* ---- min_idle ---- */

static void test_maintain_min_idle_refill(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.min_idle = 2;
    fixture_open(&fx);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 2); /* opened by sqlpool_open itself */
    assert_int_equal(st.created, 2);

    conn = testutil_acquire(fx.pool);
    sqlpool_discard(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.closed_broken, 1);
    maintain_ok(fx.pool);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 2);
    assert_int_equal(st.created, 3);
    assert_int_equal(st.open, 2);
    maintain_ok(fx.pool); /* nothing more to do */
    assert_int_equal(testutil_stats(fx.pool).created, 3);
    fixture_fini(&fx);
}

/* ---- keepalive ---- */

static void test_maintain_keepalive_closes_broken(void **state) {
    fixture fx;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 1);
    fx.cfg.keepalive_interval = 5;
    fixture_open(&fx);
    sqlpool_release(testutil_acquire(fx.pool));

    fx.clock.now += 4; /* not due yet: no ping, so the fault goes unnoticed */
    testvfs_fail_reads(1);
    maintain_ok(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).idle, 1);
    assert_int_equal(testutil_stats(fx.pool).closed, 0);

    fx.clock.now += 2;
    maintain_ok(fx.pool);
    testvfs_fail_reads(0);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.open, 0);
    assert_int_equal(log_count(&fx.log, "keepalive_failed"), 1);
    fixture_fini(&fx);
}

static void test_maintain_keepalive_keeps_healthy(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 1);
    fx.cfg.keepalive_interval = 5;
    fixture_open(&fx);
    conn = testutil_acquire(fx.pool);
    mark(conn);
    sqlpool_release(conn);
    for (int i = 0; i < 3; i++) {
        fx.clock.now += 6;
        maintain_ok(fx.pool);
        st = testutil_stats(fx.pool);
        assert_int_equal(st.idle, 1);
        assert_int_equal(st.closed, 0);
    }
    conn = testutil_acquire(fx.pool);
    assert_true(is_marked(conn));
    assert_int_equal(testutil_stats(fx.pool).created, 1);
    sqlpool_release(conn);
    assert_int_equal(log_count(&fx.log, "keepalive_failed"), 0);
    fixture_fini(&fx);
}

/* ---- validation on borrow ---- */

static void test_maintain_validation_bypass_skips_ping(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3 *db;
    sqlpool_stats st;
    int rc;
    (void)state;

    fixture_init(&fx, 1);
    fx.cfg.validation_bypass = 0.5;
    fixture_open(&fx);
    conn = testutil_acquire(fx.pool);
    db = sqlpool_conn_sqlite(conn);
    sqlpool_release(conn);

    /* Idle for less than validation_bypass: handed out unchecked, so a fault goes unseen. */
    fx.clock.now += 0.1;
    testvfs_fail_reads(1);
    conn = testutil_acquire(fx.pool);
    assert_ptr_equal(sqlpool_conn_sqlite(conn), db); /* nothing was closed in between */
    sqlpool_release(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.closed, 0);

    /* Idle for longer: checked, found broken, replaced; the replacement cannot read the file
     * either, so the acquire fails, having closed the broken one. */
    fx.clock.now += 1.0;
    conn = (sqlpool_conn *)&fx;
    rc = sqlpool_acquire(fx.pool, &conn);
    assert_int_not_equal(rc, SQLPOOL_OK);
    assert_null(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(st.open, 0);
    testvfs_fail_reads(0);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE IF NOT EXISTS t(x)");
    sqlpool_release(conn);
    fixture_fini(&fx);
}

/* sqlpool_try_acquire does no round trip: a connection due a check is left idle for the next
 * acquire (or maintenance), and one that needs none is handed out. Failing reads stand in for
 * a check that would block: a ping through them fails, and closes its connection. */
static void test_maintain_try_acquire_leaves_checks_to_acquire(void **state) {
    fixture fx;
    sqlpool_conn *old, *fresh, *conn, *other;
    sqlite3 *fresh_db;
    sqlpool_stats st;
    int rc;
    (void)state;

    fixture_init(&fx, 1);
    fx.cfg.validation_bypass = 0.5;
    fixture_open(&fx);
    old = testutil_acquire(fx.pool);
    fresh = testutil_acquire(fx.pool);
    fresh_db = sqlpool_conn_sqlite(fresh);
    sqlpool_release(old); /* at 1000: due a check after 1000.5 */
    fx.clock.now += 1.0;
    sqlpool_release(fresh); /* at 1001 */
    testvfs_fail_reads(1);

    conn = NULL;
    assert_int_equal(sqlpool_try_acquire(fx.pool, &conn), SQLPOOL_OK);
    assert_ptr_equal(sqlpool_conn_sqlite(conn), fresh_db);
    other = (sqlpool_conn *)&fx;
    assert_int_equal(sqlpool_try_acquire(fx.pool, &other), SQLPOOL_EAGAIN);
    assert_null(other);
    st = testutil_stats(fx.pool);
    if (st.closed != 0 || st.idle != 1 || st.in_use != 1)
        fail_msg("try_acquire checked the due connection: closed %lld, idle %d, in use %d",
                 st.closed, st.idle, st.in_use);

    /* sqlpool_acquire does check it: broken, closed; the replacement cannot read either. */
    other = (sqlpool_conn *)&fx;
    rc = sqlpool_acquire(fx.pool, &other);
    assert_int_not_equal(rc, SQLPOOL_OK);
    assert_null(other);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_broken, 1);
    testvfs_fail_reads(0);
    sqlpool_release(conn);
    fixture_fini(&fx);
}

static void test_maintain_validation_replaces_deleted_file(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    char *wal, *shm;
    (void)state;

    fixture_init(&fx, 1);
    fx.cfg.validation_bypass = 0.5;
    fixture_open(&fx);
    wal = testutil_format("%s-wal", fx.path);
    shm = testutil_format("%s-shm", fx.path);
    conn = testutil_acquire(fx.pool);
    mark(conn);
    testutil_exec(conn, "CREATE TABLE t(x)");
    sqlpool_release(conn);

    assert_int_equal(unlink(fx.path), 0);
    (void)unlink(wal);
    (void)unlink(shm);
    fx.clock.now += 1.0;
    conn = testutil_acquire(fx.pool);
    assert_false(is_marked(conn)); /* a new connection */
    testutil_exec(conn, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    assert_int_equal(access(fx.path, F_OK), 0); /* on a new file */
    sqlpool_release(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.open, 1);
    free(wal);
    free(shm);
    fixture_fini(&fx);
}

/* ---- leaks ---- */

static void test_maintain_leak_warning(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    char *where;
    int rc, line;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.leak_threshold = 2;
    fixture_open(&fx);
    rc = sqlpool_acquire(fx.pool, &conn), line = __LINE__;
    assert_int_equal(rc, SQLPOOL_OK);
    where = testutil_format("test_maintain.c:%d", line);

    fx.clock.now += 1; /* below the threshold */
    maintain_ok(fx.pool);
    assert_int_equal(log_count(&fx.log, "connection_leak"), 0);

    fx.clock.now += 2;
    maintain_ok(fx.pool);
    assert_int_equal(log_count(&fx.log, "connection_leak"), 1);
    assert_int_equal(log_count(&fx.log, where), 1);
    for (int i = 0; i < fx.log.count; i++)
        if (strstr(fx.log.lines[i], "connection_leak") != NULL)
            assert_int_equal(fx.log.levels[i], SQLPOOL_LOG_WARNING);

    fx.clock.now += 10; /* said once per borrow */
    maintain_ok(fx.pool);
    assert_int_equal(log_count(&fx.log, "connection_leak"), 1);
    sqlpool_release(conn);
    free(where);
    fixture_fini(&fx);
}

/* ---- the maintenance thread ---- */

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_maintain_thread_closes_idle(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_stats st;
    double end;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.idle_timeout = 0.1;
    cfg.min_idle = 0;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    sqlpool_release(testutil_acquire(pool));
    end = now_s() + 2.0;
    for (;;) {
        struct timespec ts = {0, 5000000};
        st = testutil_stats(pool);
        if (st.idle == 0 || now_s() > end) break;
        (void)nanosleep(&ts, NULL);
    }
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.closed_idle, 1);
    assert_int_equal(st.open, 0);
    sqlpool_close(pool);
}

/* ---- sqlpool_with and SQLPOOL_SCOPED ---- */

typedef struct with_ctx {
    sqlpool *pool;
    int calls;
    int in_use_inside;
    int result;      /* what fn returns */
    long long value; /* what fn read through the connection */
} with_ctx;

static int with_fn(sqlpool_conn *conn, void *p) {
    with_ctx *ctx = p;
    sqlite3_stmt *stmt = NULL;
    ctx->calls++;
    ctx->in_use_inside = testutil_stats(ctx->pool).in_use;
    if (sqlite3_prepare_v2(sqlpool_conn_sqlite(conn), "SELECT 6 * 7", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        ctx->value = sqlite3_column_int64(stmt, 0);
    (void)sqlite3_finalize(stmt);
    return ctx->result;
}

static void test_maintain_with_releases(void **state) {
    fixture fx;
    with_ctx ctx;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    fixture_open(&fx);
    memset(&ctx, 0, sizeof ctx);
    ctx.pool = fx.pool;
    ctx.result = 1234;
    assert_int_equal(sqlpool_with(fx.pool, with_fn, &ctx), 1234);
    assert_int_equal(ctx.calls, 1);
    assert_int_equal(ctx.in_use_inside, 1);
    assert_int_equal(ctx.value, 42);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.idle, 1);

    ctx.result = SQLPOOL_EINVAL; /* any other failure: still released, and pooled */
    assert_int_equal(sqlpool_with(fx.pool, with_fn, &ctx), SQLPOOL_EINVAL);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.closed, 0);
    assert_int_equal(st.created, 1);

    ctx.result = SQLPOOL_EBROKEN; /* discarded */
    assert_int_equal(sqlpool_with(fx.pool, with_fn, &ctx), SQLPOOL_EBROKEN);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(ctx.calls, 3);
    fixture_fini(&fx);
}

static void test_maintain_with_acquire_error(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *held;
    with_ctx ctx;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.acquire_timeout = 0.05;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    held = testutil_acquire(pool);
    memset(&ctx, 0, sizeof ctx);
    ctx.pool = pool;
    assert_int_equal(sqlpool_with(pool, with_fn, &ctx), SQLPOOL_ETIMEDOUT);
    assert_int_equal(sqlpool_with(pool, NULL, &ctx), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_with(NULL, with_fn, &ctx), SQLPOOL_EINVAL);
    assert_int_equal(ctx.calls, 0); /* fn never ran without a connection */
    assert_int_equal(testutil_stats(pool).in_use, 1);
    sqlpool_release(held);
    assert_int_equal(testutil_stats(pool).in_use, 0);
    sqlpool_close(pool);
}

static int scoped_use(sqlpool *pool, int *in_use_inside) {
    SQLPOOL_SCOPED sqlpool_conn *conn = NULL;
    if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) return -1;
    *in_use_inside = testutil_stats(pool).in_use;
    testutil_exec(conn, "CREATE TABLE IF NOT EXISTS t(x)");
    return 7; /* conn is released on the way out */
}

static void test_maintain_scoped_releases(void **state) {
    fixture fx;
    int inside = -1;
    (void)state;

    fixture_init(&fx, 0);
    fixture_open(&fx);
    assert_int_equal(scoped_use(fx.pool, &inside), 7);
    assert_int_equal(inside, 1);
    assert_int_equal(testutil_stats(fx.pool).in_use, 0);
    assert_int_equal(testutil_stats(fx.pool).idle, 1);
    {
        SQLPOOL_SCOPED sqlpool_conn *conn = testutil_acquire(fx.pool);
        assert_int_equal(testutil_stats(fx.pool).in_use, 1);
        assert_non_null(sqlpool_conn_sqlite(conn));
    }
    assert_int_equal(testutil_stats(fx.pool).in_use, 0);
    assert_int_equal(testutil_stats(fx.pool).created, 1);
    fixture_fini(&fx);
}

/* A clock that looks at the pool each time it is read, and moves on 10 ms a read. */
typedef struct nosy_clock {
    double now;
    sqlpool *pool;
    int reads;
} nosy_clock;

static double nosy_clock_read(void *ctx) {
    nosy_clock *c = ctx;
    sqlpool_stats st;
    if (c->pool != NULL) sqlpool_stats_get(c->pool, &st); /* takes the pool lock */
    c->reads++;
    return c->now += 0.01;
}

/* config.clock is never called with the pool lock held: a clock that calls back into the
 * pool (here through a wait that times out) neither deadlocks nor corrupts the lock. */
static void test_maintain_clock_called_without_the_lock(void **state) {
    nosy_clock clock = {1000.0, NULL, 0};
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *held = NULL, *other = NULL;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    cfg.clock = nosy_clock_read;
    cfg.clock_ctx = &clock;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    clock.pool = pool;
    assert_int_equal(sqlpool_acquire(pool, &held), SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire_until(pool, &other, sqlpool_clock(pool) + 0.05),
                     SQLPOOL_ETIMEDOUT);
    assert_null(other);
    assert_true(clock.reads > 3);
    sqlpool_release(held);
    assert_int_equal(sqlpool_maintain(pool), SQLPOOL_OK);
    sqlpool_close(pool);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_maintain_clock_called_without_the_lock),
    cmocka_unit_test(test_maintain_idle_timeout_keeps_min_idle),
    cmocka_unit_test(test_maintain_max_lifetime_retires_idle),
    cmocka_unit_test(test_maintain_max_lifetime_on_release),
    cmocka_unit_test(test_maintain_max_lifetime_jitter),
    cmocka_unit_test(test_maintain_min_idle_refill),
    cmocka_unit_test(test_maintain_keepalive_closes_broken),
    cmocka_unit_test(test_maintain_keepalive_keeps_healthy),
    cmocka_unit_test(test_maintain_validation_bypass_skips_ping),
    cmocka_unit_test(test_maintain_try_acquire_leaves_checks_to_acquire),
    cmocka_unit_test(test_maintain_validation_replaces_deleted_file),
    cmocka_unit_test(test_maintain_leak_warning),
    cmocka_unit_test(test_maintain_thread_closes_idle),
    cmocka_unit_test(test_maintain_with_releases),
    cmocka_unit_test(test_maintain_with_acquire_error),
    cmocka_unit_test(test_maintain_scoped_releases),
};

SQLPOOL_TEST_MAIN(tests)
