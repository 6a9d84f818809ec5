/* test_retry.c: connect retry with backoff for errors that pass, fail-fast for the rest. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct fixture {
    char *dir;
    char *path;
    sqlpool_config cfg;
    testutil_log log;
    sqlpool *pool;
} fixture;

/* A file database in a fresh folder, opened through the test VFS, logging everything. */
static void fixture_init(fixture *fx, const char *db) {
    memset(fx, 0, sizeof *fx);
    testvfs_register();
    testvfs_reset();
    fx->dir = testutil_tmpdir();
    fx->path = testutil_format("%s/retry.db", fx->dir);
    sqlpool_config_init(&fx->cfg);
    fx->cfg.db = db != NULL ? db : fx->path;
    fx->cfg.sqlite_vfs = "sqlpool-test";
    fx->cfg.retry_backoff = 0.001;
    fx->cfg.log = testutil_log_sink;
    fx->cfg.log_ctx = &fx->log;
    fx->cfg.log_level = SQLPOOL_LOG_DEBUG;
}

static void fixture_open(fixture *fx) {
    assert_int_equal(sqlpool_open(&fx->cfg, &fx->pool), SQLPOOL_OK);
}

static void fixture_fini(fixture *fx) {
    testvfs_reset();
    sqlpool_close(fx->pool);
    testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

static sqlpool_stats stats_of(sqlpool *pool) {
    sqlpool_stats st;
    sqlpool_stats_get(pool, &st);
    return st;
}

static double now_seconds(void) {
    struct timespec ts;
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The wait_ms of every connect_retry log line, in order; returns how many. */
static int retry_waits(const testutil_log *log, double *waits, int max) {
    int n = 0;
    for (int i = 0; i < log->count; i++) {
        const char *w;
        int attempt = 0;
        if (strncmp(log->lines[i], "connect_retry ", 14) != 0) continue;
        assert_int_equal(log->levels[i], SQLPOOL_LOG_WARNING);
        assert_int_equal(sscanf(log->lines[i], "connect_retry attempt=%d", &attempt), 1);
        assert_int_equal(attempt, n + 1);
        w = strstr(log->lines[i], "wait_ms=");
        if (w == NULL) fail_msg("no wait_ms in '%s'", log->lines[i]);
        assert_true(n < max);
        assert_int_equal(sscanf(w, "wait_ms=%lf", &waits[n]), 1);
        n++;
    }
    return n;
}

/* lo <= ms < hi, allowing for the log's rounding to 0.1 ms. */
static void expect_wait_within(double ms, double lo, double hi) {
    if (ms < lo - 0.05 || ms > hi + 0.05) fail_msg("wait_ms %.1f not in [%.1f, %.1f)", ms, lo, hi);
}

/* Acquire must fail with want, and leave *out NULL. */
static void acquire_fails(sqlpool *pool, int want) {
    sqlpool_conn *conn = (sqlpool_conn *)&conn;
    int rc = sqlpool_acquire(pool, &conn);
    if (rc == SQLPOOL_OK) sqlpool_release(conn);
    assert_int_equal(rc, want);
    assert_null(conn);
}

static void expect_fail_fast_stats(sqlpool *pool) {
    sqlpool_stats st = stats_of(pool);
    assert_int_equal(st.connect_retries, 0);
    assert_int_equal(st.connect_failures, 1);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.open, 0);
}

static void test_retry_busy_then_success(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    double waits[8], start, elapsed;
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.retry_backoff = 0.01;
    fixture_open(&fx);
    testvfs_fail_opens(2, SQLITE_BUSY);
    start = now_seconds();
    assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_OK);
    elapsed = now_seconds() - start;
    assert_non_null(conn);
    assert_int_equal(testvfs_open_attempts(), 3);
    st = stats_of(fx.pool);
    assert_int_equal(st.connect_retries, 2);
    assert_int_equal(st.connect_failures, 0);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.in_use, 1);

    assert_int_equal(retry_waits(&fx.log, waits, 8), 2);
    assert_true(waits[1] > waits[0]);
    /* base 10 ms doubling per retry, each scaled by a factor in [0.75, 1.25) */
    expect_wait_within(waits[0], 7.5, 12.5);
    expect_wait_within(waits[1], 15.0, 25.0);
    /* It really slept (sleeps last at least as asked), and not absurdly long. */
    assert_true(elapsed * 1e3 >= waits[0] + waits[1] - 1.0);
    assert_true(elapsed < 2.0);
    assert_int_equal(sqlite3_exec(sqlpool_conn_sqlite(conn), "CREATE TABLE t(x)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlpool_release(conn);
    fixture_fini(&fx);
}

static void test_retry_locked_and_protocol_are_retried(void **state) {
    static const int codes[] = {SQLITE_LOCKED, SQLITE_PROTOCOL, SQLITE_BUSY_SNAPSHOT};
    (void)state;

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        fixture fx;
        sqlpool_conn *conn = NULL;
        fixture_init(&fx, NULL);
        fixture_open(&fx);
        testvfs_fail_opens(1, codes[i]);
        assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_OK);
        assert_int_equal(testvfs_open_attempts(), 2);
        assert_int_equal(stats_of(fx.pool).connect_retries, 1);
        sqlpool_release(conn);
        fixture_fini(&fx);
    }
}

static void test_retry_busy_exhausts_retries(void **state) {
    fixture fx;
    sqlpool_stats st;
    double waits[8];
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.max_retries = 3;
    fixture_open(&fx);
    testvfs_fail_opens(1000, SQLITE_BUSY);
    acquire_fails(fx.pool, SQLPOOL_EBUSY);
    if (strncmp(sqlpool_errmsg(), "failed after 3 retries", 22) != 0)
        fail_msg("errmsg '%s'", sqlpool_errmsg());
    assert_non_null(strstr(sqlpool_errmsg(), "database is locked"));
    assert_int_equal(testvfs_open_attempts(), 4);
    st = stats_of(fx.pool);
    assert_int_equal(st.connect_failures, 1);
    assert_int_equal(st.connect_retries, 3);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(retry_waits(&fx.log, waits, 8), 3);
    assert_true(waits[0] < waits[1]);
    assert_true(waits[1] < waits[2]);
    assert_non_null(strstr(fx.log.lines[fx.log.count - 1], "connect_failed"));
    assert_int_equal(fx.log.levels[fx.log.count - 1], SQLPOOL_LOG_ERROR);

    /* Once the database is free again the pool recovers. */
    testvfs_fail_opens(0, SQLITE_OK);
    {
        sqlpool_conn *conn = NULL;
        assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_OK);
        sqlpool_release(conn);
    }
    fixture_fini(&fx);
}

static void test_retry_zero_retries_busy(void **state) {
    fixture fx;
    double waits[8];
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.max_retries = 0;
    fixture_open(&fx);
    testvfs_fail_opens(1000, SQLITE_BUSY);
    acquire_fails(fx.pool, SQLPOOL_EBUSY);
    assert_int_equal(testvfs_open_attempts(), 1);
    if (strncmp(sqlpool_errmsg(), "failed after 0 retries", 22) != 0)
        fail_msg("errmsg '%s'", sqlpool_errmsg());
    assert_int_equal(stats_of(fx.pool).connect_retries, 0);
    assert_int_equal(stats_of(fx.pool).connect_failures, 1);
    assert_int_equal(retry_waits(&fx.log, waits, 8), 0);
    fixture_fini(&fx);
}

static void test_retry_cantopen_fails_fast(void **state) {
    fixture fx;
    double waits[8];
    (void)state;

    fixture_init(&fx, NULL);
    fixture_open(&fx);
    testvfs_fail_opens(1000, SQLITE_CANTOPEN);
    acquire_fails(fx.pool, SQLPOOL_ECONNECT);
    assert_int_equal(testvfs_open_attempts(), 1);
    expect_fail_fast_stats(fx.pool);
    assert_non_null(strstr(sqlpool_errmsg(), fx.path));
    assert_non_null(strstr(sqlpool_errmsg(), "unable to open database file"));
    assert_int_equal(retry_waits(&fx.log, waits, 8), 0);
    fixture_fini(&fx);
}

static void test_retry_missing_folder_fails_fast(void **state) {
    static const char missing[] = "/nonexistent-dir/x.db";
    struct stat sb;
    fixture fx;
    (void)state;

    assert_int_not_equal(stat("/nonexistent-dir", &sb), 0);
    fixture_init(&fx, missing);
    fixture_open(&fx);
    acquire_fails(fx.pool, SQLPOOL_ECONNECT);
    assert_int_equal(testvfs_open_attempts(), 1);
    expect_fail_fast_stats(fx.pool);
    assert_non_null(strstr(sqlpool_errmsg(), "does not exist"));
    assert_non_null(strstr(sqlpool_errmsg(), "'/nonexistent-dir'"));
    fixture_fini(&fx);
}

static void test_retry_not_a_database_fails_fast(void **state) {
    char text[4096];
    char *after;
    size_t len = 0;
    fixture fx;
    (void)state;

    for (size_t i = 0; i + 1 < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    text[sizeof text - 1] = '\n';
    fixture_init(&fx, NULL);
    testutil_write_file(fx.path, text, sizeof text);
    fixture_open(&fx);
    acquire_fails(fx.pool, SQLPOOL_EBROKEN); /* there, but not a database */
    assert_int_equal(testvfs_open_attempts(), 1);
    expect_fail_fast_stats(fx.pool);
    assert_non_null(strstr(sqlpool_errmsg(), "not a database"));
    assert_non_null(strstr(sqlpool_errmsg(), fx.path));
    /* The file is left as it was. */
    after = testutil_read_file(fx.path, &len);
    assert_non_null(after);
    assert_int_equal(len, sizeof text);
    assert_memory_equal(after, text, sizeof text);
    free(after);
    fixture_fini(&fx);
}

static void test_retry_directory_fails_fast(void **state) {
    fixture fx;
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.db = fx.dir;
    fixture_open(&fx);
    acquire_fails(fx.pool, SQLPOOL_ECONNECT);
    assert_int_equal(testvfs_open_attempts(), 1);
    expect_fail_fast_stats(fx.pool);
    assert_non_null(strstr(sqlpool_errmsg(), "folder"));
    assert_non_null(strstr(sqlpool_errmsg(), fx.dir));
    fixture_fini(&fx);
}

static void test_retry_unknown_vfs_rejected(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = (sqlpool *)&pool;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.db = "/tmp/never-created.db";
    cfg.sqlite_vfs = "no-such-vfs-registered";
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
    assert_null(pool);
    assert_non_null(strstr(sqlpool_errmsg(), "no-such-vfs-registered"));
}

/* before_connect fails the first two attempts: they are retried like a busy database. */
static int fail_twice(void *ctx) {
    int *calls = ctx;
    return ++*calls <= 2;
}

static void test_retry_before_connect_injects_passing_failures(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    int calls = 0;
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.before_connect = fail_twice;
    fx.cfg.before_connect_ctx = &calls;
    fixture_open(&fx);
    assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_OK);
    assert_int_equal(calls, 3);
    assert_int_equal(stats_of(fx.pool).connect_retries, 2);
    assert_int_equal(testvfs_open_attempts(), 1); /* only the third attempt reached SQLite */
    sqlpool_release(conn);
    /* Failing every attempt exhausts the retries: SQLPOOL_EBUSY, naming the injection. */
    calls = -100;
    sqlpool_close_idle(fx.pool);
    acquire_fails(fx.pool, SQLPOOL_EBUSY);
    assert_non_null(strstr(sqlpool_errmsg(), "injected"));
    fixture_fini(&fx);
}

static int fail_always(void *ctx) {
    (void)ctx;
    return 1;
}

/* Retries stop at the acquire's deadline: with waits of 0.2, 0.4, 0.8 s ... (ten retries: over
 * three minutes), acquire_timeout 0.5 ends it at about half a second, SQLPOOL_ETIMEDOUT
 * naming the connect error; and so does sqlpool_acquire_until's own deadline. */
static void test_retry_stops_at_the_deadline(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    double t0;
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.before_connect = fail_always;
    fx.cfg.max_retries = 10;
    fx.cfg.retry_backoff = 0.2;
    fx.cfg.acquire_timeout = 0.5;
    fixture_open(&fx);
    t0 = now_seconds();
    assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_ETIMEDOUT);
    assert_true(now_seconds() - t0 < 5.0); /* generous: the retries alone would take 204 s */
    assert_null(conn);
    assert_non_null(strstr(sqlpool_errmsg(), "injected"));
    st = stats_of(fx.pool);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.connect_failures, 1);
    assert_true(st.connect_retries >= 1);

    t0 = now_seconds();
    assert_int_equal(sqlpool_acquire_until(fx.pool, &conn, sqlpool_clock(fx.pool) + 0.3),
                     SQLPOOL_ETIMEDOUT);
    assert_true(now_seconds() - t0 < 5.0);
    fixture_fini(&fx);
}

typedef struct retrying {
    sqlpool *pool;
    int rc;
} retrying;

static void *acquire_retrying(void *p) {
    retrying *r = p;
    sqlpool_conn *conn = NULL;
    r->rc = sqlpool_acquire(r->pool, &conn);
    if (r->rc == SQLPOOL_OK) sqlpool_release(conn);
    return NULL;
}

/* sqlpool_close() cuts a retry wait short: the connecting thread gets SQLPOOL_ECLOSED and
 * close returns at once, not after the waits (1, 2, 4 ... s) or its close_timeout. */
static void test_retry_cut_short_by_close(void **state) {
    fixture fx;
    retrying r;
    pthread_t thread;
    double t0;
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.before_connect = fail_always;
    fx.cfg.max_retries = 10;
    fx.cfg.retry_backoff = 1.0;
    fx.cfg.acquire_timeout = 0; /* no deadline */
    fx.cfg.close_timeout = 30.0;
    fixture_open(&fx);
    r.pool = fx.pool;
    r.rc = 0;
    assert_int_equal(pthread_create(&thread, NULL, acquire_retrying, &r), 0);
    while (stats_of(fx.pool).connect_retries < 1) { /* it is in its first wait */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    t0 = now_seconds();
    sqlpool_close(fx.pool);
    assert_true(now_seconds() - t0 < 5.0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(r.rc, SQLPOOL_ECLOSED);
    fx.pool = NULL; /* closed already */
    fixture_fini(&fx);
}

/* A deadline already past, even -INFINITY, leaves no room for a retry: the first failure that
 * could pass ends the acquire with SQLPOOL_ETIMEDOUT, not the whole retry schedule
 * (SQLPOOL_EBUSY after max_retries). */
static void test_retry_past_deadline_no_retry(void **state) {
    const double past[] = {-INFINITY, -1e300};
    fixture fx;
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.before_connect = fail_always;
    fx.cfg.max_retries = 3;
    fx.cfg.retry_backoff = 0.01;
    fixture_open(&fx);
    for (int i = 0; i < 2; i++) {
        sqlpool_conn *conn = (sqlpool_conn *)&conn;
        assert_int_equal(sqlpool_acquire_until(fx.pool, &conn, past[i]), SQLPOOL_ETIMEDOUT);
        assert_null(conn);
        assert_non_null(strstr(sqlpool_errmsg(), "deadline"));
        assert_int_equal(stats_of(fx.pool).connect_retries, 0);
        assert_int_equal(stats_of(fx.pool).timeouts, i + 1);
    }
    fixture_fini(&fx);
}

/* sqlpool_open() with min_idle returns the code the header promises for the first
 * connection's failure, as an acquire would: SQLPOOL_EBUSY for a database that stays busy,
 * SQLPOOL_EBROKEN for a file that is not a database, SQLPOOL_ECONNECT for a missing folder. */
static void test_retry_open_min_idle_codes(void **state) {
    fixture fx;
    sqlpool *pool = (sqlpool *)&pool;
    (void)state;

    fixture_init(&fx, NULL);
    fx.cfg.min_idle = 1;
    fx.cfg.max_retries = 2;
    testvfs_fail_opens(1000, SQLITE_BUSY);
    assert_int_equal(sqlpool_open(&fx.cfg, &pool), SQLPOOL_EBUSY);
    assert_null(pool);
    if (strncmp(sqlpool_errmsg(), "failed after 2 retries", 22) != 0)
        fail_msg("errmsg '%s'", sqlpool_errmsg());
    testvfs_fail_opens(0, SQLITE_OK);

    testutil_write_file(fx.path, "this is not a database, not at all, not even close\n", 51);
    pool = (sqlpool *)&pool;
    assert_int_equal(sqlpool_open(&fx.cfg, &pool), SQLPOOL_EBROKEN);
    assert_null(pool);
    assert_non_null(strstr(sqlpool_errmsg(), "not a database"));

    fx.cfg.db = "/nonexistent-dir/x.db";
    pool = (sqlpool *)&pool;
    assert_int_equal(sqlpool_open(&fx.cfg, &pool), SQLPOOL_ECONNECT);
    assert_null(pool);
    fixture_fini(&fx);
}

/* Control bytes (a newline, a terminal escape) in a path reach neither sqlpool_errmsg() nor a
 * log line raw: they are shown as \x0a, \x1b, so a message stays one harmless line. */
static void test_retry_path_controls_escaped(void **state) {
    static const char db[] = "/nonexistent-dir\n\x1b[31mred/x\x7f.db";
    fixture fx;
    int logged = 0;
    (void)state;

    fixture_init(&fx, db);
    fixture_open(&fx);
    acquire_fails(fx.pool, SQLPOOL_ECONNECT);
    if (strpbrk(sqlpool_errmsg(), "\n\x1b\x7f") != NULL)
        fail_msg("raw control bytes in errmsg '%s'", sqlpool_errmsg());
    if (strstr(sqlpool_errmsg(), "/nonexistent-dir\\x0a\\x1b[31mred/x\\x7f.db") == NULL)
        fail_msg("errmsg '%s' does not show the path escaped", sqlpool_errmsg());
    for (int i = 0; i < fx.log.count; i++) {
        if (strpbrk(fx.log.lines[i], "\n\x1b\x7f") != NULL)
            fail_msg("raw control bytes in log line '%s'", fx.log.lines[i]);
        logged += strstr(fx.log.lines[i], "\\x1b[31mred") != NULL;
    }
    assert_true(logged > 0); /* the connect_failed line names the path */
    fixture_fini(&fx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_retry_stops_at_the_deadline),
    cmocka_unit_test(test_retry_past_deadline_no_retry),
    cmocka_unit_test(test_retry_open_min_idle_codes),
    cmocka_unit_test(test_retry_path_controls_escaped),
    cmocka_unit_test(test_retry_cut_short_by_close),
    cmocka_unit_test(test_retry_before_connect_injects_passing_failures),
    cmocka_unit_test(test_retry_busy_then_success),
    cmocka_unit_test(test_retry_locked_and_protocol_are_retried),
    cmocka_unit_test(test_retry_busy_exhausts_retries),
    cmocka_unit_test(test_retry_zero_retries_busy),
    cmocka_unit_test(test_retry_cantopen_fails_fast),
    cmocka_unit_test(test_retry_missing_folder_fails_fast),
    cmocka_unit_test(test_retry_not_a_database_fails_fast),
    cmocka_unit_test(test_retry_directory_fails_fast),
    cmocka_unit_test(test_retry_unknown_vfs_rejected),
};

SQLPOOL_TEST_MAIN(tests)
