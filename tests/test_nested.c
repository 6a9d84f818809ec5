/*
 * test_nested.c: config.nested_acquire, a thread that would wait for a connection while it
 * holds one of the same pool (a self-deadlock once the pool is full): WARN (the default) logs
 * both acquires' file:line and waits, FAIL returns SQLPOOL_EDEADLK at once, ALLOW waits
 * silently; another thread's borrow is no reason; throughput mode's slots record the
 * borrower too.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static testutil_log logbuf;

static sqlpool *one_conn_pool(int mode, double timeout, double barge) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    cfg.db = ":memory:";
    cfg.max_open = 1;
    cfg.acquire_timeout = timeout;
    cfg.nested_acquire = mode;
    cfg.barge_window = barge;
    memset(&logbuf, 0, sizeof logbuf);
    cfg.log = testutil_log_sink;
    cfg.log_ctx = &logbuf;
    cfg.log_level = SQLPOOL_LOG_WARNING;
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) fail_msg("open: %s", sqlpool_errmsg());
    return pool;
}

static int logged(const char *a, const char *b) {
    for (int i = 0; i < logbuf.count; i++)
        if (strstr(logbuf.lines[i], a) != NULL && (b == NULL || strstr(logbuf.lines[i], b) != NULL))
            return logbuf.levels[i] == SQLPOOL_LOG_WARNING ? 1 : 0;
    return 0;
}

static void test_nested_warn_names_both_sites(void **state) {
    sqlpool *pool = one_conn_pool(SQLPOOL_NESTED_WARN, 0.2, 0);
    sqlpool_conn *a = NULL, *b = NULL;
    char first[64], second[64];
    int la, lb, rc;
    (void)state;
    la = __LINE__ + 1;
    assert_int_equal(sqlpool_acquire(pool, &a), SQLPOOL_OK);
    lb = __LINE__ + 1;
    rc = sqlpool_acquire(pool, &b);
    assert_int_equal(rc, SQLPOOL_ETIMEDOUT); /* it waited */
    (void)snprintf(first, sizeof first, "test_nested.c:%d", la);
    (void)snprintf(second, sizeof second, "test_nested.c:%d", lb);
    if (!logged(first, second))
        fail_msg("no warning naming %s and %s (%d lines; first: %s)", first, second, logbuf.count,
                 logbuf.count > 0 ? logbuf.lines[0] : "");
    sqlpool_release(a);
    sqlpool_close(pool);
}

static void test_nested_fail_returns_edeadlk_at_once(void **state) {
    sqlpool *pool = one_conn_pool(SQLPOOL_NESTED_FAIL, 5, 0);
    sqlpool_conn *a = NULL, *b = NULL;
    char first[64];
    double t0;
    int la, rc;
    (void)state;
    la = __LINE__ + 1;
    assert_int_equal(sqlpool_acquire(pool, &a), SQLPOOL_OK);
    t0 = now_s();
    rc = sqlpool_acquire(pool, &b);
    assert_int_equal(rc, SQLPOOL_EDEADLK);
    assert_true(now_s() - t0 < 0.5);
    assert_null(b);
    (void)snprintf(first, sizeof first, "test_nested.c:%d", la);
    assert_non_null(strstr(sqlpool_errmsg(), first));
    assert_non_null(strstr(sqlpool_errmsg(), "test_nested.c:"));
    sqlpool_release(a);
    /* Free again: no longer nested. */
    assert_int_equal(sqlpool_acquire(pool, &b), SQLPOOL_OK);
    sqlpool_release(b);
    sqlpool_close(pool);
}

static void test_nested_allow_waits(void **state) {
    sqlpool *pool = one_conn_pool(SQLPOOL_NESTED_ALLOW, 0.3, 0);
    sqlpool_conn *a = NULL, *b = NULL;
    double t0;
    (void)state;
    assert_int_equal(sqlpool_acquire(pool, &a), SQLPOOL_OK);
    t0 = now_s();
    assert_int_equal(sqlpool_acquire(pool, &b), SQLPOOL_ETIMEDOUT);
    assert_true(now_s() - t0 >= 0.25);
    assert_int_equal(logged("nested_acquire", NULL), 0);
    sqlpool_release(a);
    sqlpool_close(pool);
}

typedef struct holder {
    sqlpool *pool;
    sqlpool_conn *conn;
    int rc;
} holder;

static void *hold_main(void *arg) {
    holder *h = arg;
    h->rc = sqlpool_acquire(h->pool, &h->conn);
    return NULL;
}

/* Another thread's borrow is an ordinary wait, even under FAIL. */
static void test_nested_other_thread_is_not_nested(void **state) {
    sqlpool *pool = one_conn_pool(SQLPOOL_NESTED_FAIL, 0.2, 0);
    holder h = {.pool = pool};
    pthread_t t;
    sqlpool_conn *b = NULL;
    (void)state;
    assert_int_equal(pthread_create(&t, NULL, hold_main, &h), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(h.rc, SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire(pool, &b), SQLPOOL_ETIMEDOUT);
    sqlpool_release(h.conn); /* released by another thread than its borrower: allowed */
    sqlpool_close(pool);
}

/* Throughput mode: a borrow from a per-processor slot records its borrower too. */
static void test_nested_fail_in_throughput_mode(void **state) {
    sqlpool *pool = one_conn_pool(SQLPOOL_NESTED_FAIL, 5, 0.001);
    sqlpool_conn *a = NULL, *b = NULL;
    (void)state;
    for (int i = 0; i < 50; i++) { /* warm: later borrows come from a slot */
        assert_int_equal(sqlpool_acquire(pool, &a), SQLPOOL_OK);
        sqlpool_release(a);
    }
    assert_int_equal(sqlpool_acquire(pool, &a), SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire(pool, &b), SQLPOOL_EDEADLK);
    assert_non_null(strstr(sqlpool_errmsg(), "test_nested.c:"));
    sqlpool_release(a);
    sqlpool_close(pool);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nested_warn_names_both_sites),
    cmocka_unit_test(test_nested_fail_returns_edeadlk_at_once),
    cmocka_unit_test(test_nested_allow_waits),
    cmocka_unit_test(test_nested_other_thread_is_not_nested),
    cmocka_unit_test(test_nested_fail_in_throughput_mode),
};

SQLPOOL_TEST_MAIN(tests)
