/*
 * test_slots.c: throughput mode's per-processor caches. A release may leave its connection
 * in a slot, and the next acquire take it from there, without the pool lock; the connection
 * must stay on the books (counted, checked, expired, closed) as if it had gone through the
 * idle list. Time is driven by a test clock (config.clock), so there is no maintenance thread
 * and sqlpool_maintain() runs its pass. Three tests look inside the pool (books.h, and through
 * it pool_internal.h): the slots are invisible through the public API, by design, and so is
 * the books' check of checked builds, which one test shows catching a miscount.
 */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): CPU affinity */
#include "books.h"
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fixture {
    double now;
    char *dir, *path;
    sqlpool_config cfg;
} fixture;

static double clock_read(void *ctx) {
    return ((fixture *)ctx)->now;
}

/* Throughput mode on a file database, on the test clock. */
static fixture *fixture_new(void) {
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->now = 1000.0;
    fx->dir = testutil_tmpdir();
    fx->path = testutil_format("%s/slots.db", fx->dir);
    sqlpool_config_init(&fx->cfg);
    fx->cfg.db = fx->path;
    fx->cfg.max_open = 4;
    fx->cfg.max_idle = 4;
    fx->cfg.barge_window = 0.001;
    fx->cfg.clock = clock_read;
    fx->cfg.clock_ctx = fx;
    return fx;
}

static void fixture_free(fixture *fx) {
    testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
    free(fx);
}

static sqlpool *open_pool(fixture *fx) {
    sqlpool *pool = NULL;
    int rc = sqlpool_open(&fx->cfg, &pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
    return pool;
}

/* One connection round and round: every acquire counted, the connection idle between. */
static void test_slots_keep_the_books(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool = open_pool(fx);
    sqlpool_stats st;
    (void)state;

    for (int i = 0; i < 1000; i++) {
        sqlpool_conn *conn = testutil_acquire(pool);
        if (i % 100 == 0) assert_int_equal(testutil_query_int(conn, "SELECT 1"), 1);
        sqlpool_release(conn);
        st = testutil_stats(pool);
        if (st.idle != 1 || st.in_use != 0 || st.open != 1)
            fail_msg("after %d: idle %d, in use %d, open %d", i, st.idle, st.in_use, st.open);
    }
    st = testutil_stats(pool);
    assert_int_equal(st.acquires, 1000);
    assert_int_equal(st.reused, 999);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.wait_count, 0);
    assert_true(st.wait_p99 == 0);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* Connections in slots now (white-box). */
static int in_slots(sqlpool *pool) {
    int n = 0;
    for (int i = 0; i < pool->nslots; i++)
        n += atomic_load(&pool->slots[i].conn) != NULL;
    return n;
}

/* A release goes to a slot, not the idle list, and the next acquire takes it from there. */
static void test_slots_release_goes_to_a_slot(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool = open_pool(fx);
    sqlpool_conn *first = testutil_acquire(pool), *again;
    long long taken = 0;
    (void)state;

    assert_true(pool->nslots >= 1);
    sqlpool_release(first);
    assert_int_equal(in_slots(pool), 1);
    assert_int_equal(pool->idle, 0); /* the idle list, without the slots */
    assert_int_equal(testutil_stats(pool).idle, 1);
    again = testutil_acquire(pool);
    assert_int_equal(in_slots(pool), 0);
    assert_ptr_equal((void *)((uintptr_t)again & ~(uintptr_t)SQLPOOL__GEN_MASK),
                     (void *)((uintptr_t)first & ~(uintptr_t)SQLPOOL__GEN_MASK));
    for (int i = 0; i < pool->nslots; i++)
        taken += atomic_load(&pool->slots[i].taken);
    assert_int_equal(taken, 1);
    sqlpool_release(again);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* Test builds check the books after every change of a connection's state: a count that
 * disagrees with its list aborts at the next move, naming the check. In a child, whose abort
 * the parent reads. */
static void test_slots_books_check_catches_a_miscount(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool;
    sqlpool_conn *conn;
    char out[512] = "";
    int fds[2], status = 0;
    ssize_t n, got = 0;
    pid_t child;
    (void)state;

    if (!sqlpool__books_checked) {
        fixture_free(fx);
        skip(); /* a build configured with -DSQLPOOL_CHECK_BOOKS=OFF */
    }
    fx->cfg.barge_window = 0; /* no slots: the release takes the lock, and moves on the books */
    pool = open_pool(fx);
    conn = testutil_acquire(pool);
    assert_int_equal(pipe(fds), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        sqlpool_conn *own;
        sqlpool_config mem;
        sqlpool *mine = NULL;
        (void)dup2(fds[1], 2);
        /* A pool of the child's own, in memory: the parent's file had a connection open at
         * the fork, which the child may not open again (fork.c, backend_sqlite.c). */
        sqlpool_config_init(&mem);
        if (sqlpool_open(&mem, &mine) != SQLPOOL_OK) _exit(4);
        if (sqlpool_acquire(mine, &own) != SQLPOOL_OK) _exit(3);
        mine->idle++; /* the idle list stays empty */
        sqlpool_release(own);
        _exit(0);
    }
    (void)close(fds[1]);
    while ((n = read(fds[0], out + got, sizeof out - 1 - (size_t)got)) > 0)
        got += n;
    (void)close(fds[0]);
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("the miscount went unnoticed (status %d): %s", status, out);
    assert_non_null(strstr(out, "internal check failed: idle == pool->idle"));
    sqlpool_release(conn);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* Strict FIFO, leak tracking, validation on every borrow and info logging keep them off. */
static void test_slots_off_when_the_lock_is_needed(void **state) {
    (void)state;
    for (int k = 0; k < 5; k++) { /* 0: throughput mode as it comes; then one reason each */
        fixture *fx = fixture_new();
        sqlpool *pool;
        testutil_log log;
        memset(&log, 0, sizeof log);
        if (k == 1) fx->cfg.barge_window = 0;
        if (k == 2) fx->cfg.leak_threshold = 60.0;
        if (k == 3) fx->cfg.validation_bypass = 0;
        if (k == 4) {
            fx->cfg.log = testutil_log_sink;
            fx->cfg.log_ctx = &log;
            fx->cfg.log_level = SQLPOOL_LOG_INFO;
        }
        pool = open_pool(fx);
        if (k == 0 ? pool->nslots == 0 : pool->nslots != 0)
            fail_msg("case %d: %d slots", k, pool->nslots);
        sqlpool_release(testutil_acquire(pool));
        assert_int_equal(in_slots(pool), k == 0 ? 1 : 0);
        sqlpool_close(pool);
        fixture_free(fx);
    }
}

/* A second release of a handle whose connection went to a slot is refused, and the handle is
 * dead for every other call too. */
static void test_slots_double_release_refused(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool = open_pool(fx);
    sqlpool_conn *conn = testutil_acquire(pool), *again;
    sqlpool_stats st;
    (void)state;

    sqlpool_release(conn);
    sqlpool_release(conn);
    assert_null(sqlpool_conn_sqlite(conn));
    st = testutil_stats(pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.idle, 1);
    again = testutil_acquire(pool); /* the same connection, under a new handle */
    assert_ptr_not_equal(again, conn);
    assert_null(sqlpool_conn_sqlite(conn));
    assert_non_null(sqlpool_conn_sqlite(again));
    sqlpool_release(conn); /* still refused while another holds it */
    assert_int_equal(testutil_stats(pool).in_use, 1);
    sqlpool_release(again);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* A connection left in a slot longer than validation_bypass is checked before reuse: its file
 * was deleted, so it is closed and a new one opened. */
static void test_slots_checked_after_validation_bypass(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;

    fx->cfg.validation_bypass = 0.5;
    pool = open_pool(fx);
    sqlpool_release(testutil_acquire(pool));
    assert_int_equal(unlink(fx->path), 0);
    fx->now += 1.0;
    conn = testutil_acquire(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(st.created, 2);
    assert_int_equal(testutil_query_int(conn, "SELECT 1"), 1);
    sqlpool_release(conn);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* Past max_lifetime a connection in a slot is retired, not reused. */
static void test_slots_expire_by_lifetime(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool;
    sqlpool_stats st;
    (void)state;

    fx->cfg.max_lifetime = 10.0;
    pool = open_pool(fx);
    sqlpool_release(testutil_acquire(pool));
    fx->now += 11.0;
    sqlpool_release(testutil_acquire(pool));
    st = testutil_stats(pool);
    assert_int_equal(st.closed_lifetime, 1);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.open, 1);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* Maintenance sees connections in slots: idle past idle_timeout, they are closed. */
static void test_slots_seen_by_maintenance(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool;
    sqlpool_conn *a, *b;
    sqlpool_stats st;
    (void)state;

    fx->cfg.idle_timeout = 10.0;
    pool = open_pool(fx);
    a = testutil_acquire(pool);
    b = testutil_acquire(pool);
    sqlpool_release(a); /* one to a slot, the other (its slot taken) to the idle list */
    sqlpool_release(b);
    fx->now += 11.0;
    assert_int_equal(sqlpool_maintain(pool), SQLPOOL_OK);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_idle, 2);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.in_use, 0);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* sqlpool_close_idle() closes connections in slots too; sqlpool_close() with one in a slot
 * closes it (ASan and valgrind see any leak). */
static void test_slots_closed_with_the_pool(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool = open_pool(fx);
    sqlpool_stats st;
    (void)state;

    sqlpool_release(testutil_acquire(pool));
    sqlpool_close_idle(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.closed_close_idle, 1); /* its own reason, not max_idle */
    sqlpool_release(testutil_acquire(pool));   /* and again one in a slot, for close */
    sqlpool_close(pool);
    fixture_free(fx);
}

/* Run the calling thread on processor cpu only; 0 when the machine has no such processor. */
static int pin(int cpu) {
    cpu_set_t set;
    if (cpu >= sysconf(_SC_NPROCESSORS_ONLN)) return 0;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/* Whether processors 0 and 1 can be used (else the test skips); saves the thread's affinity
 * into *all for unpin(). */
static int two_processors(cpu_set_t *all) {
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof *all, all), 0);
    return pin(0) && pin(1);
}

static void unpin(const cpu_set_t *all) {
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof *all, all), 0);
}

/* A connection idle in another processor's slot is found: by try_acquire, and by acquire
 * before it opens a new one. */
static void test_slots_other_processors_slot_is_found(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool = open_pool(fx);
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    cpu_set_t all;
    (void)state;

    if (!two_processors(&all)) {
        sqlpool_close(pool);
        fixture_free(fx);
        skip(); /* one processor: every slot is this one's */
    }
    assert_true(pin(0));
    sqlpool_release(testutil_acquire(pool)); /* into processor 0's slot */
    assert_true(pin(1));
    assert_int_equal(sqlpool_try_acquire(pool, &conn), SQLPOOL_OK);
    sqlpool_release(conn); /* into processor 1's slot */
    assert_true(pin(0));
    conn = testutil_acquire(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.peak_in_use, 1);
    sqlpool_release(conn);
    unpin(&all);
    sqlpool_close(pool);
    fixture_free(fx);
}

/* Found in another processor's slot past max_lifetime: closed as expired, not handed out. */
static void test_slots_expired_in_other_slot_not_handed_out(void **state) {
    fixture *fx = fixture_new();
    sqlpool *pool;
    sqlpool_conn *conn;
    sqlpool_stats st;
    cpu_set_t all;
    (void)state;

    fx->cfg.max_lifetime = 10.0;
    pool = open_pool(fx);
    if (!two_processors(&all)) {
        sqlpool_close(pool);
        fixture_free(fx);
        skip();
    }
    assert_true(pin(0));
    sqlpool_release(testutil_acquire(pool));
    fx->now += 11.0;
    assert_true(pin(1));
    conn = testutil_acquire(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_lifetime, 1);
    assert_int_equal(st.created, 2);
    sqlpool_release(conn);
    unpin(&all);
    sqlpool_close(pool);
    fixture_free(fx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_slots_release_goes_to_a_slot),
    cmocka_unit_test(test_slots_off_when_the_lock_is_needed),
    cmocka_unit_test(test_slots_keep_the_books),
    cmocka_unit_test(test_slots_double_release_refused),
    cmocka_unit_test(test_slots_checked_after_validation_bypass),
    cmocka_unit_test(test_slots_expire_by_lifetime),
    cmocka_unit_test(test_slots_seen_by_maintenance),
    cmocka_unit_test(test_slots_closed_with_the_pool),
    cmocka_unit_test(test_slots_other_processors_slot_is_found),
    cmocka_unit_test(test_slots_expired_in_other_slot_not_handed_out),
    cmocka_unit_test(test_slots_books_check_catches_a_miscount),
};

SQLPOOL_TEST_MAIN(tests)
