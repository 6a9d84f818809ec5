/* test_pool.c: the pool core: counters, the LIFO idle stack, limits, arguments, threads. */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sqlpool *open_memory_pool(int max_idle) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    cfg.max_idle = max_idle;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    assert_non_null(pool);
    return pool;
}

/* A pool whose sqlpool_close() waits at most close_timeout for borrowed connections. */
static sqlpool *open_memory_pool_closing(int max_idle, double close_timeout) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    cfg.max_idle = max_idle;
    cfg.close_timeout = close_timeout;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    return pool;
}

static void test_pool_acquire_creates(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_stats st = testutil_stats(pool);
    sqlpool_conn *conn;
    (void)state;

    assert_int_equal(st.created, 0);
    assert_int_equal(st.open, 0);
    conn = testutil_acquire(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.reused, 0);
    assert_int_equal(st.in_use, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.max_idle, 5);
    assert_int_equal(st.closed, 0);
    sqlpool_release(conn);
    st = testutil_stats(pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.idle, 1);
    sqlpool_close(pool);
}

static void test_pool_release_then_acquire_reuses(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_conn *first, *again;
    sqlite3 *db;
    sqlpool_stats st;
    (void)state;

    first = testutil_acquire(pool);
    db = sqlpool_conn_sqlite(first);
    sqlpool_release(first);
    again = testutil_acquire(pool);
    assert_ptr_not_equal(again, first);               /* a new borrow gets a new handle... */
    assert_ptr_equal(sqlpool_conn_sqlite(again), db); /* ...to the same connection */
    st = testutil_stats(pool);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.reused, 1);
    assert_int_equal(st.in_use, 1);
    assert_int_equal(st.idle, 0);
    sqlpool_release(again);
    sqlpool_close(pool);
}

/* Handles change with every borrow; the SQLite handle names the connection. */
static sqlite3 *db_of(sqlpool_conn *conn) {
    sqlite3 *db = sqlpool_conn_sqlite(conn);
    assert_non_null(db);
    return db;
}

static void test_pool_reuse_is_lifo(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_conn *a, *b, *c, *got[3];
    sqlite3 *da, *db, *dc;
    (void)state;

    a = testutil_acquire(pool);
    b = testutil_acquire(pool);
    c = testutil_acquire(pool);
    da = db_of(a);
    db = db_of(b);
    dc = db_of(c);
    assert_ptr_not_equal(da, db);
    assert_ptr_not_equal(db, dc);
    assert_ptr_not_equal(da, dc);
    sqlpool_release(b);
    sqlpool_release(a);
    sqlpool_release(c);
    /* The most recently released comes back first, again after a round trip. */
    got[0] = testutil_acquire(pool);
    assert_ptr_equal(db_of(got[0]), dc);
    sqlpool_release(got[0]);
    got[0] = testutil_acquire(pool);
    got[1] = testutil_acquire(pool);
    got[2] = testutil_acquire(pool);
    assert_ptr_equal(db_of(got[0]), dc);
    assert_ptr_equal(db_of(got[1]), da);
    assert_ptr_equal(db_of(got[2]), db);
    assert_int_equal(testutil_stats(pool).created, 3);
    assert_int_equal(testutil_stats(pool).reused, 4);
    for (int i = 0; i < 3; i++)
        sqlpool_release(got[i]);
    sqlpool_close(pool);
}

static void test_pool_idle_capped_at_max_idle(void **state) {
    static const int sizes[] = {1, 3, 5};
    (void)state;

    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int size = sizes[s];
        sqlpool *pool = open_memory_pool(size);
        sqlpool_conn *conns[10];
        sqlpool_stats st;

        for (int i = 0; i < 2 * size; i++)
            conns[i] = testutil_acquire(pool);
        st = testutil_stats(pool);
        assert_int_equal(st.in_use, 2 * size);
        assert_int_equal(st.created, 2 * size);
        for (int i = 0; i < 2 * size; i++) {
            sqlpool_release(conns[i]);
            st = testutil_stats(pool);
            assert_true(st.idle <= size);
        }
        st = testutil_stats(pool);
        assert_int_equal(st.idle, size);
        assert_int_equal(st.closed, size);
        assert_int_equal(st.discarded, 0);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.open, size);
        assert_int_equal(st.max_idle, size);
        sqlpool_close(pool);
    }
}

static void test_pool_close_idle_drains(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_conn *conns[3];
    sqlpool_stats st;
    (void)state;

    for (int i = 0; i < 3; i++)
        conns[i] = testutil_acquire(pool);
    for (int i = 0; i < 3; i++)
        sqlpool_release(conns[i]);
    assert_int_equal(testutil_stats(pool).idle, 3);
    sqlpool_close_idle(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.closed, 3);
    assert_int_equal(st.discarded, 0);
    /* The pool still works afterwards, with a new connection. */
    conns[0] = testutil_acquire(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.created, 4);
    assert_int_equal(st.reused, 0);
    sqlpool_release(conns[0]);
    sqlpool_close(pool);
}

static void test_pool_close_idle_leaves_borrowed(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_conn *held = testutil_acquire(pool), *other = testutil_acquire(pool);
    sqlpool_stats st;
    (void)state;

    sqlpool_release(other);
    sqlpool_close_idle(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.in_use, 1);
    assert_int_equal(st.closed, 1);
    testutil_exec(held, "CREATE TABLE t(x)");
    sqlpool_release(held);
    assert_int_equal(testutil_stats(pool).idle, 1);
    sqlpool_close(pool);
}

static void test_pool_shrink_keeps_most_recent(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_conn *conns[5], *got;
    sqlite3 *dbs[5];
    sqlpool_stats st;
    (void)state;

    for (int i = 0; i < 5; i++) {
        conns[i] = testutil_acquire(pool);
        dbs[i] = db_of(conns[i]);
    }
    for (int i = 0; i < 5; i++)
        sqlpool_release(conns[i]); /* conns[4] is the most recent */
    assert_int_equal(sqlpool_shrink(pool, 2), 3);
    st = testutil_stats(pool);
    assert_int_equal(st.idle, 2);
    assert_int_equal(st.closed, 3);
    assert_int_equal(st.max_idle, 5);
    /* Nothing more to close. */
    assert_int_equal(sqlpool_shrink(pool, 2), 0);
    assert_int_equal(sqlpool_shrink(pool, 4), 0);
    assert_int_equal(testutil_stats(pool).idle, 2);
    got = testutil_acquire(pool);
    assert_ptr_equal(db_of(got), dbs[4]);
    conns[0] = testutil_acquire(pool);
    assert_ptr_equal(db_of(conns[0]), dbs[3]);
    st = testutil_stats(pool);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.created, 5);
    sqlpool_release(conns[0]);
    sqlpool_release(got);
    assert_int_equal(sqlpool_shrink(pool, 0), 2);
    assert_int_equal(testutil_stats(pool).idle, 0);
    assert_int_equal(testutil_stats(pool).closed, 5);
    sqlpool_close(pool);
}

static void test_pool_shrink_rejects_bad_arguments(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_conn *conn = testutil_acquire(pool);
    (void)state;

    sqlpool_release(conn);
    assert_int_equal(sqlpool_shrink(pool, -1), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "negative"));
    assert_int_equal(testutil_stats(pool).idle, 1);
    assert_int_equal(sqlpool_shrink(NULL, 0), SQLPOOL_EINVAL);
    assert_int_equal(testutil_stats(pool).closed, 0);
    sqlpool_close(pool);
}

static void test_pool_peak_in_use(void **state) {
    sqlpool *pool = open_memory_pool(2);
    sqlpool_conn *conns[4];
    sqlpool_stats st;
    (void)state;

    assert_int_equal(testutil_stats(pool).peak_in_use, 0);
    for (int i = 0; i < 3; i++)
        conns[i] = testutil_acquire(pool);
    assert_int_equal(testutil_stats(pool).peak_in_use, 3);
    for (int i = 0; i < 3; i++)
        sqlpool_release(conns[i]);
    conns[0] = testutil_acquire(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.in_use, 1);
    assert_int_equal(st.peak_in_use, 3);
    for (int i = 1; i < 4; i++)
        conns[i] = testutil_acquire(pool);
    assert_int_equal(testutil_stats(pool).peak_in_use, 4);
    for (int i = 0; i < 4; i++)
        sqlpool_release(conns[i]);
    st = testutil_stats(pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.peak_in_use, 4);
    sqlpool_close(pool);
}

static void expect_open_rejected(const sqlpool_config *cfg, const char *what) {
    sqlpool *pool = (sqlpool *)&pool; /* any non-NULL value: it must be overwritten */
    int rc = sqlpool_open(cfg, &pool);
    if (rc != SQLPOOL_EINVAL || pool != NULL) {
        sqlpool_close(rc == SQLPOOL_OK ? pool : NULL);
        fail_msg("%s: sqlpool_open returned %d, out %p; expected %d and NULL", what, rc,
                 (void *)pool, SQLPOOL_EINVAL);
    }
    if (sqlpool_errmsg()[0] == '\0') fail_msg("%s: no error message", what);
}

static void test_pool_open_rejects_bad_config(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    (void)state;

    /* The defaults are accepted, so every rejection below is due to the one change. */
    sqlpool_config_init(&cfg);
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    assert_non_null(pool);
    sqlpool_close(pool);

    cfg.max_idle = 0;
    expect_open_rejected(&cfg, "max_idle 0");
    assert_non_null(strstr(sqlpool_errmsg(), "max_idle"));
    cfg.max_idle = -3;
    expect_open_rejected(&cfg, "max_idle -3");
    sqlpool_config_init(&cfg);
    cfg.max_retries = -1;
    expect_open_rejected(&cfg, "max_retries -1");
    assert_non_null(strstr(sqlpool_errmsg(), "max_retries"));
    sqlpool_config_init(&cfg);
    cfg.connect_timeout = -0.5;
    expect_open_rejected(&cfg, "connect_timeout -0.5");
    cfg.connect_timeout = NAN;
    expect_open_rejected(&cfg, "connect_timeout NaN");
    cfg.connect_timeout = INFINITY;
    expect_open_rejected(&cfg, "connect_timeout inf");
    sqlpool_config_init(&cfg);
    cfg.retry_backoff = -1.0;
    expect_open_rejected(&cfg, "retry_backoff -1");
    cfg.retry_backoff = NAN;
    expect_open_rejected(&cfg, "retry_backoff NaN");
    sqlpool_config_init(&cfg);
    cfg.db = NULL;
    expect_open_rejected(&cfg, "db NULL");
    expect_open_rejected(NULL, "cfg NULL");
    sqlpool_config_init(&cfg);
    assert_int_equal(sqlpool_open(&cfg, NULL), SQLPOOL_EINVAL);

    /* Boundary values that are valid. */
    sqlpool_config_init(&cfg);
    cfg.max_idle = 1;
    cfg.max_retries = 0;
    cfg.connect_timeout = 0;
    cfg.retry_backoff = 0;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    sqlpool_close(pool);
}

static void test_pool_null_arguments_harmless(void **state) {
    sqlpool *pool = open_memory_pool(5);
    sqlpool_conn *conn = (sqlpool_conn *)&conn;
    sqlpool_stats st;
    (void)state;

    assert_int_equal(sqlpool_acquire(NULL, &conn), SQLPOOL_EINVAL);
    assert_null(conn);
    assert_int_equal(sqlpool_acquire(pool, NULL), SQLPOOL_EINVAL);
    sqlpool_release(NULL);
    sqlpool_discard(NULL);
    sqlpool_close(NULL);
    sqlpool_close_idle(NULL);
    sqlpool_stats_get(NULL, &st);
    sqlpool_stats_get(pool, NULL);
    assert_null(sqlpool_conn_sqlite(NULL));
    st = testutil_stats(pool);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.connect_failures, 0);
    sqlpool_close(pool);
}

static void test_pool_strerror_codes(void **state) {
    static const struct {
        int code;
        const char *text;
    } known[] = {
        {SQLPOOL_OK, "success"},
        {SQLPOOL_EINVAL, "invalid argument"},
        {SQLPOOL_ENOMEM, "out of memory"},
        {SQLPOOL_ECONNECT, "cannot connect to the database"},
        {SQLPOOL_EBUSY, "database busy"},
        {SQLPOOL_EBROKEN, "connection broken"},
        {SQLPOOL_ECLOSED, "pool closed"},
        {SQLPOOL_EMISUSE, "library misuse"},
        {SQLPOOL_ENOTSUP, "not supported"},
        {SQLPOOL_ETIMEDOUT, "timed out waiting for a connection"},
        {SQLPOOL_EAGAIN, "no connection available now"},
        {SQLPOOL_EDEADLK, "would wait while holding a connection of the same pool"},
    };
    size_t n = sizeof known / sizeof known[0];
    (void)state;

    for (size_t i = 0; i < n; i++) {
        assert_string_equal(sqlpool_strerror(known[i].code), known[i].text);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(sqlpool_strerror(known[i].code),
                                    sqlpool_strerror(known[j].code));
    }
    assert_string_equal(sqlpool_strerror(-12), "unknown error");
    assert_string_equal(sqlpool_strerror(1), "unknown error");
    assert_string_equal(sqlpool_strerror(-1000000), "unknown error");
    assert_string_equal(sqlpool_version(), SQLPOOL_VERSION);
}

static void *errmsg_in_thread(void *arg) {
    const char **out = arg;
    *out = strdup(sqlpool_errmsg());
    return NULL;
}

static void test_pool_errmsg_set_on_failure(void **state) {
    sqlpool_config cfg;
    sqlpool *pool;
    pthread_t thread;
    const char *other = NULL;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_idle = -7;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "max_idle"));
    assert_non_null(strstr(sqlpool_errmsg(), "-7"));
    /* Thread-local: a thread that made no failing call sees none. */
    assert_int_equal(pthread_create(&thread, NULL, errmsg_in_thread, &other), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_non_null(other);
    assert_string_equal(other, "");
    free((void *)other);
    assert_non_null(strstr(sqlpool_errmsg(), "max_idle"));

    assert_int_equal(sqlpool_acquire(NULL, NULL), SQLPOOL_EINVAL);
    assert_string_not_equal(sqlpool_errmsg(), "");
    assert_null(strstr(sqlpool_errmsg(), "max_idle"));
}

static void test_pool_close_with_borrowed_connection(void **state) {
    sqlpool *pool = open_memory_pool_closing(5, 0.05);
    sqlpool_conn *a = testutil_acquire(pool), *b = testutil_acquire(pool),
                 *idle = testutil_acquire(pool);
    (void)state;

    sqlpool_release(idle);
    testutil_exec(a, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)");
    sqlpool_close(pool);
    /* Borrowed connections keep working, and still share the in-memory database. */
    testutil_exec(a, "INSERT INTO t VALUES (3)");
    assert_int_equal(testutil_query_int(b, "SELECT count(*) FROM t"), 3);
    sqlpool_release(a);
    testutil_exec(b, "INSERT INTO t VALUES (4)");
    assert_int_equal(testutil_query_int(b, "SELECT sum(x) FROM t"), 10);
    /* The last release frees the pool; ASan reports a leak if it does not. */
    sqlpool_release(b);
}

static void test_pool_acquire_after_close_fails(void **state) {
    sqlpool *pool = open_memory_pool_closing(5, 0);
    sqlpool_conn *held = testutil_acquire(pool), *conn = (sqlpool_conn *)&conn;
    (void)state;

    sqlpool_close(pool);
    /* The pool stays allocated while held is out, and refuses new borrowers. */
    assert_int_equal(sqlpool_acquire(pool, &conn), SQLPOOL_ECLOSED);
    assert_null(conn);
    sqlpool_release(held);
}

#define STRESS_THREADS 8
#define STRESS_CYCLES 2000

typedef struct stress_arg {
    sqlpool *pool;
    int id;
    int failures;
    char first_error[256];
} stress_arg;

static void stress_fail(stress_arg *arg, const char *what, const char *detail) {
    if (arg->failures++ == 0)
        snprintf(arg->first_error, sizeof arg->first_error, "%s: %s", what, detail);
}

static void *stress_worker(void *p) {
    stress_arg *arg = p;
    for (int i = 0; i < STRESS_CYCLES; i++) {
        sqlpool_conn *conn = NULL;
        sqlite3_stmt *stmt = NULL;
        sqlite3 *db;
        int rc = sqlpool_acquire(arg->pool, &conn);
        if (rc != SQLPOOL_OK) {
            stress_fail(arg, "acquire", sqlpool_errmsg());
            continue;
        }
        db = sqlpool_conn_sqlite(conn);
        /* Durability is not under test; spare the disk 16000 syncs. */
        (void)sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
        rc = sqlite3_prepare_v2(db, "INSERT INTO t(thread, seq) VALUES (?, ?)", -1, &stmt, NULL);
        if (rc == SQLITE_OK) {
            (void)sqlite3_bind_int(stmt, 1, arg->id);
            (void)sqlite3_bind_int(stmt, 2, i);
            rc = sqlite3_step(stmt);
            if (rc != SQLITE_DONE) stress_fail(arg, "insert", sqlite3_errmsg(db));
        } else {
            stress_fail(arg, "prepare", sqlite3_errmsg(db));
        }
        (void)sqlite3_finalize(stmt);
        sqlpool_release(conn);
    }
    return NULL;
}

static void test_pool_threads_stress(void **state) {
    char *dir = testutil_tmpdir();
    char *path = testutil_format("%s/stress.db", dir);
    pthread_t threads[STRESS_THREADS];
    stress_arg args[STRESS_THREADS];
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.db = path;
    cfg.max_idle = 4;
    cfg.connect_timeout = 30.0;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    conn = testutil_acquire(pool);
    testutil_exec(conn, "CREATE TABLE t(thread INTEGER NOT NULL, seq INTEGER NOT NULL, "
                        "PRIMARY KEY (thread, seq))");
    sqlpool_release(conn);

    for (int i = 0; i < STRESS_THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].pool = pool;
        args[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, stress_worker, &args[i]), 0);
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < STRESS_THREADS; i++)
        if (args[i].failures != 0)
            fail_msg("thread %d: %d failures, first: %s", i, args[i].failures, args[i].first_error);

    st = testutil_stats(pool);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.open, st.idle);
    assert_true(st.idle >= 1);
    assert_true(st.idle <= 4);
    assert_int_equal(st.created - st.closed, st.open);
    assert_int_equal(st.created + st.reused, STRESS_THREADS * STRESS_CYCLES + 1);
    assert_true(st.peak_in_use >= 1);
    assert_true(st.peak_in_use <= STRESS_THREADS);
    assert_int_equal(st.discarded, 0);
    assert_int_equal(st.connect_failures, 0);

    conn = testutil_acquire(pool);
    assert_int_equal(testutil_query_int(conn, "SELECT count(*) FROM t"),
                     STRESS_THREADS * STRESS_CYCLES);
    assert_int_equal(testutil_query_int(conn, "SELECT count(DISTINCT thread) FROM t"),
                     STRESS_THREADS);
    assert_int_equal(
        testutil_query_int(conn, "SELECT count(*) FROM (SELECT thread FROM t GROUP BY thread "
                                 "HAVING count(*) = 2000 AND min(seq) = 0 "
                                 "AND max(seq) = 1999)"),
        STRESS_THREADS);
    sqlpool_release(conn);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

/* A deadline in the past, even -INFINITY, is a timeout at once on an exhausted pool: only
 * +INFINITY means no deadline. The acquire runs on a thread, so a hang fails the test (the
 * held connection is then released to let the thread end). */
typedef struct until_call {
    sqlpool *pool;
    double deadline;
    int rc, done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} until_call;

static void *acquire_until_thread(void *p) {
    until_call *u = p;
    sqlpool_conn *conn = NULL;
    int rc = sqlpool_acquire_until(u->pool, &conn, u->deadline);
    if (rc == SQLPOOL_OK) sqlpool_release(conn);
    pthread_mutex_lock(&u->mu);
    u->rc = rc;
    u->done = 1;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

/* Returns 1 when the thread's acquire ended within two seconds. */
static int until_returns(until_call *u) {
    struct timespec ts;
    int rc = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    pthread_mutex_lock(&u->mu);
    while (!u->done && rc == 0)
        rc = pthread_cond_timedwait(&u->cv, &u->mu, &ts);
    rc = u->done;
    pthread_mutex_unlock(&u->mu);
    return rc;
}

static void test_pool_acquire_until_past_deadline_times_out(void **state) {
    const double past[] = {-INFINITY, -DBL_MAX, -1e300, -2.0};
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *held;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    held = testutil_acquire(pool);
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        until_call u = {pool, past[i], 0, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
        pthread_t t;
        int returned;
        assert_int_equal(pthread_create(&t, NULL, acquire_until_thread, &u), 0);
        returned = until_returns(&u);
        if (!returned) {
            sqlpool_release(held); /* let the stuck thread go before failing */
            assert_int_equal(pthread_join(t, NULL), 0);
            sqlpool_close(pool);
            fail_msg("sqlpool_acquire_until(%g) on an exhausted pool did not return", past[i]);
        }
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(u.rc, SQLPOOL_ETIMEDOUT);
        assert_int_equal(testutil_stats(pool).timeouts, (long long)i + 1);
    }
    /* NaN is no time at all. */
    {
        sqlpool_conn *c = (sqlpool_conn *)&c;
        assert_int_equal(sqlpool_acquire_until(pool, &c, NAN), SQLPOOL_EINVAL);
        assert_null(c);
    }
    sqlpool_release(held);
    sqlpool_close(pool);
}

/* +INFINITY is "no deadline", and DBL_MAX as good as one: the acquire waits for the release. */
static void test_pool_acquire_until_infinity_waits(void **state) {
    const double far[] = {INFINITY, DBL_MAX};
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.max_open = 1;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    for (int i = 0; i < 2; i++) {
        until_call u = {pool, far[i], 0, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
        sqlpool_conn *held = testutil_acquire(pool);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, acquire_until_thread, &u), 0);
        while (testutil_stats(pool).waiting < 1) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        pthread_mutex_lock(&u.mu);
        assert_int_equal(u.done, 0);
        pthread_mutex_unlock(&u.mu);
        sqlpool_release(held);
        assert_true(until_returns(&u));
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(u.rc, SQLPOOL_OK);
    }
    assert_int_equal(testutil_stats(pool).timeouts, 0);
    sqlpool_close(pool);
}

/* Connections closed by sqlpool_close_idle() and sqlpool_shrink() are counted under their own
 * reasons, not as closed_max_idle (a release beyond max_idle). */
static void test_pool_close_idle_and_shrink_reasons(void **state) {
    sqlpool *pool = open_memory_pool(2);
    sqlpool_conn *conns[3];
    sqlpool_stats st;
    (void)state;

    for (int i = 0; i < 3; i++)
        conns[i] = testutil_acquire(pool);
    for (int i = 0; i < 3; i++)
        sqlpool_release(conns[i]); /* the third finds max_idle idle: closed_max_idle */
    assert_int_equal(sqlpool_shrink(pool, 1), 1);
    sqlpool_close_idle(pool);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_max_idle, 1);
    assert_int_equal(st.closed_shrink, 1);
    assert_int_equal(st.closed_close_idle, 1);
    assert_int_equal(st.closed, 3);
    assert_int_equal(st.closed, st.closed_idle + st.closed_lifetime + st.closed_broken +
                                    st.closed_max_idle + st.closed_pool + st.closed_shrink +
                                    st.closed_close_idle);
    assert_int_equal(st.created - st.closed, st.open);
    sqlpool_close(pool);
}

/* Escapes read one way: a backslash in a path is written \\, so a path holding the text
 * "\x0a" never reads as an escaped newline; a C1 control in UTF-8 (U+009B, a terminal's CSI)
 * is written \u009b; other UTF-8 passes as it is. In errors, log lines and health alike. */
static void test_pool_escapes_backslash_and_c1(void **state) {
    static const char db[] = "/nonexistent-dir/a\\x0ab\xc2\x9b[31mc\xc3\xa9\n.db";
    static const char want[] = "/nonexistent-dir/a\\\\x0ab\\u009b[31mc\xc3\xa9\\x0a.db";
    sqlpool_config cfg;
    sqlpool *pool = (sqlpool *)&pool;
    testutil_log log;
    int logged = 0;
    (void)state;

    memset(&log, 0, sizeof log);
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.min_idle = 1;
    cfg.connect_timeout = 0.05;
    cfg.log = testutil_log_sink;
    cfg.log_ctx = &log;
    cfg.log_level = SQLPOOL_LOG_DEBUG;
    assert_int_not_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    if (strstr(sqlpool_errmsg(), want) == NULL || strstr(sqlpool_errmsg(), "\xc2\x9b") != NULL)
        fail_msg("errmsg '%s' does not show the path as '%s'", sqlpool_errmsg(), want);
    for (int i = 0; i < log.count; i++) {
        if (strstr(log.lines[i], "\xc2\x9b") != NULL) fail_msg("raw CSI logged: %s", log.lines[i]);
        logged += strstr(log.lines[i], want) != NULL;
    }
    if (logged == 0) fail_msg("no log line shows the path as '%s'", want);
}

/* The health error names the file with its control bytes escaped, as messages do. */
static void test_pool_health_error_escapes_path(void **state) {
    char *dir = testutil_tmpdir();
    char *path = testutil_format("%s/new\nline\x1b[2J.db", dir);
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *conn;
    sqlpool_health h;
    (void)state;

    sqlpool_config_init(&cfg);
    cfg.db = path;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    conn = testutil_acquire(pool);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(sqlpool_conn_health(conn, &h), SQLPOOL_EBROKEN);
    assert_int_equal(h.healthy, 0);
    if (strpbrk(h.error, "\n\x1b") != NULL || strstr(h.error, "new\\x0aline\\x1b[2J.db") == NULL)
        fail_msg("health error '%s' does not escape the path", h.error);
    if (strpbrk(sqlpool_errmsg(), "\n\x1b") != NULL ||
        strstr(sqlpool_errmsg(), "new\\x0aline") == NULL)
        fail_msg("errmsg '%s' does not escape the path once", sqlpool_errmsg());
    sqlpool_discard(conn);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pool_acquire_creates),
    cmocka_unit_test(test_pool_release_then_acquire_reuses),
    cmocka_unit_test(test_pool_reuse_is_lifo),
    cmocka_unit_test(test_pool_idle_capped_at_max_idle),
    cmocka_unit_test(test_pool_close_idle_drains),
    cmocka_unit_test(test_pool_close_idle_leaves_borrowed),
    cmocka_unit_test(test_pool_shrink_keeps_most_recent),
    cmocka_unit_test(test_pool_shrink_rejects_bad_arguments),
    cmocka_unit_test(test_pool_peak_in_use),
    cmocka_unit_test(test_pool_open_rejects_bad_config),
    cmocka_unit_test(test_pool_null_arguments_harmless),
    cmocka_unit_test(test_pool_strerror_codes),
    cmocka_unit_test(test_pool_errmsg_set_on_failure),
    cmocka_unit_test(test_pool_close_with_borrowed_connection),
    cmocka_unit_test(test_pool_acquire_after_close_fails),
    cmocka_unit_test(test_pool_threads_stress),
    cmocka_unit_test(test_pool_acquire_until_past_deadline_times_out),
    cmocka_unit_test(test_pool_acquire_until_infinity_waits),
    cmocka_unit_test(test_pool_close_idle_and_shrink_reasons),
    cmocka_unit_test(test_pool_health_error_escapes_path),
    cmocka_unit_test(test_pool_escapes_backslash_and_c1),
};

SQLPOOL_TEST_MAIN(tests)
