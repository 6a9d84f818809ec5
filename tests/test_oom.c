/*
 * test_oom.c: out of memory, everywhere. An allocator (sqlpool_set_allocator) fails the 1st,
 * then the 2nd, ... allocation of a whole open / acquire / release / stats / close sequence,
 * until the sequence needs no more: every call fails with SQLPOOL_ENOMEM or succeeds, nothing
 * crashes, and everything allocated is freed (counted here; ASan's leak check too).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static long allocations; /* made so far in this round */
static long fail_at;     /* the allocation that fails (1-based); 0: none */
static long live;        /* blocks not yet freed */
static int failed;       /* this round's failure happened */

static void *oom_malloc(size_t size) {
    void *p;
    if (++allocations == fail_at) {
        failed = 1;
        return NULL;
    }
    p = malloc(size);
    if (p != NULL) live++;
    return p;
}

static void *oom_realloc(void *ptr, size_t size) {
    void *p;
    if (++allocations == fail_at) {
        failed = 1;
        return NULL;
    }
    p = realloc(ptr, size);
    if (p != NULL && ptr == NULL) live++;
    return p;
}

static void oom_free(void *ptr) {
    if (ptr != NULL) live--;
    free(ptr);
}

static const sqlpool_allocator failing = {oom_malloc, oom_realloc, oom_free};

/* A call's result under injected failures: success, or exactly SQLPOOL_ENOMEM. */
static int allowed(int rc, const char *what) {
    if (rc != SQLPOOL_OK && rc != SQLPOOL_ENOMEM)
        fail_msg("%s returned %d (%s) at allocation %ld", what, rc, sqlpool_errmsg(), fail_at);
    return rc == SQLPOOL_OK;
}

/* open, acquire twice (reuse and create), release both, stats, close. */
static void sequence(const char *db) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *a = NULL, *b = NULL;
    sqlpool_stats st;

    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.close_timeout = 0;
    if (!allowed(sqlpool_open(&cfg, &pool), "sqlpool_open")) {
        assert_null(pool);
        return;
    }
    if (allowed(sqlpool_acquire(pool, &a), "sqlpool_acquire")) sqlpool_release(a);
    if (allowed(sqlpool_acquire(pool, &a), "sqlpool_acquire (reuse)")) {
        if (allowed(sqlpool_acquire(pool, &b), "sqlpool_acquire (second)")) sqlpool_release(b);
        sqlpool_release(a);
    }
    sqlpool_stats_get(pool, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.created - st.closed, st.open);
    sqlpool_close(pool);
}

/* Fail each allocation in turn until the sequence runs without reaching the failure. */
static void fail_each_allocation(const char *db) {
    long n;
    sqlpool_set_allocator(&failing);
    for (n = 1; n < 10000; n++) {
        allocations = 0;
        fail_at = n;
        failed = 0;
        live = 0;
        sequence(db);
        if (live != 0) fail_msg("%ld block(s) leaked when allocation %ld failed", live, n);
        if (!failed) break;
    }
    sqlpool_set_allocator(NULL);
    print_message("%s: failed each of %ld allocations in turn\n", db, n - 1);
    assert_true(n > 3); /* the sequence allocates: the injection really happened */
    assert_true(n < 10000);
}

static void test_oom_memory_pool(void **state) {
    (void)state;
    fail_each_allocation(":memory:");
}

static void test_oom_file_pool(void **state) {
    char *dir = testutil_tmpdir(), *db = testutil_format("%s/oom.db", dir);
    (void)state;
    fail_each_allocation(db);
    testutil_rmtree(dir);
    free(db);
    free(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_oom_memory_pool),
    cmocka_unit_test(test_oom_file_pool),
};

SQLPOOL_TEST_MAIN(tests)
