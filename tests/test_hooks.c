/*
 * test_hooks.c: setting up each new connection (config.init_sql, on_connect) and the
 * checkout and checkin hooks (on_acquire, on_release), on SQLite. PostgreSQL's init_sql is in
 * test_pg.c.
 */
#define _DEFAULT_SOURCE /* usleep */
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct hooks {
    sqlpool *pool; /* for the hooks that look at the stats */
    int connects, acquires, releases;
    int connect_rc;       /* what on_connect returns */
    int refuse_every;     /* on_acquire refuses every n-th call (0: none) */
    int release_rc;       /* what on_release returns */
    int call_stats;       /* the hooks call sqlpool_stats_get() */
    int saw_transaction;  /* on_release saw the borrower's transaction still open */
    int register_failed;  /* on_connect could not register its function */
    sqlite3 *refused[64]; /* the handles on_acquire refused */
    int nrefused;
} hooks;

static double clock_now = 1000.0;
static double test_clock(void *ctx) {
    (void)ctx;
    return clock_now;
}

static void hookfn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    (void)argv;
    sqlite3_result_int(ctx, 42);
}

static void look_at_stats(hooks *h) {
    sqlpool_stats st;
    if (h->call_stats && h->pool != NULL) sqlpool_stats_get(h->pool, &st);
}

static int on_connect(sqlpool_conn *conn, void *ctx) {
    hooks *h = ctx;
    sqlite3 *db = sqlpool_conn_sqlite(conn);
    h->connects++;
    look_at_stats(h);
    if (db == NULL || sqlite3_create_function(db, "hookfn", 0, SQLITE_UTF8, NULL, hookfn, NULL,
                                              NULL) != SQLITE_OK)
        h->register_failed++;
    return h->connect_rc;
}

static int on_acquire(sqlpool_conn *conn, void *ctx) {
    hooks *h = ctx;
    h->acquires++;
    look_at_stats(h);
    if (h->refuse_every > 0 && h->acquires % h->refuse_every == 0) {
        if (h->nrefused < 64) h->refused[h->nrefused++] = sqlpool_conn_sqlite(conn);
        return 1;
    }
    return 0;
}

static int on_release(sqlpool_conn *conn, void *ctx) {
    hooks *h = ctx;
    h->releases++;
    look_at_stats(h);
    if (!sqlite3_get_autocommit(sqlpool_conn_sqlite(conn))) h->saw_transaction = 1;
    return h->release_rc;
}

typedef struct fixture {
    char *dir;
    char *path;
    sqlpool_config cfg;
    hooks h;
    sqlpool *pool;
} fixture;

/* A file database in a fresh folder, all four set-up fields set, on the test clock (so no
 * maintenance thread: the test runs the passes). */
static void fixture_init(fixture *fx) {
    memset(fx, 0, sizeof *fx);
    fx->h.call_stats = 1;
    clock_now = 1000.0;
    fx->dir = testutil_tmpdir();
    fx->path = testutil_format("%s/hooks.db", fx->dir);
    sqlpool_config_init(&fx->cfg);
    fx->cfg.db = fx->path;
    fx->cfg.clock = test_clock;
    fx->cfg.init_sql = "PRAGMA foreign_keys=ON; PRAGMA cache_size=-1234;";
    fx->cfg.on_connect = on_connect;
    fx->cfg.on_connect_ctx = &fx->h;
    fx->cfg.on_acquire = on_acquire;
    fx->cfg.on_acquire_ctx = &fx->h;
    fx->cfg.on_release = on_release;
    fx->cfg.on_release_ctx = &fx->h;
}

static int fixture_open(fixture *fx) {
    int rc = sqlpool_open(&fx->cfg, &fx->pool);
    fx->h.pool = fx->pool;
    return rc;
}

static void fixture_fini(fixture *fx) {
    if (fx->pool != NULL) sqlpool_close(fx->pool);
    testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

/* The set-up holds on this connection: both PRAGMAs and on_connect's function. */
static void assert_set_up(sqlpool_conn *conn) {
    assert_int_equal(testutil_query_int(conn, "PRAGMA foreign_keys"), 1);
    assert_int_equal(testutil_query_int(conn, "PRAGMA cache_size"), -1234);
    assert_int_equal(testutil_query_int(conn, "SELECT hookfn()"), 42);
}

static void test_hooks_set_up_on_every_connection(void **state) {
    fixture fx;
    sqlpool_conn *c[3];
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx);
    fx.cfg.min_idle = 2;
    fx.cfg.max_lifetime = 60;
    fx.cfg.max_open = 3;
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    assert_int_equal(fx.h.connects, 2); /* sqlpool_open's min_idle */
    for (int i = 0; i < 3; i++)
        c[i] = testutil_acquire(fx.pool); /* two idle ones and a new one */
    assert_int_equal(fx.h.connects, 3);
    assert_int_equal(fx.h.acquires, 3); /* on_acquire for the new one too */
    for (int i = 0; i < 3; i++) {
        assert_set_up(c[i]);
        sqlpool_release(c[i]);
    }
    assert_int_equal(fx.h.releases, 3);

    /* Past max_lifetime: the pass retires them all and refills min_idle. */
    clock_now += 120;
    assert_int_equal(sqlpool_maintain(fx.pool), SQLPOOL_OK);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.closed_lifetime, 3);
    assert_int_equal(st.idle, 2);
    assert_int_equal(fx.h.connects, 5);
    c[0] = testutil_acquire(fx.pool);
    c[1] = testutil_acquire(fx.pool);
    assert_set_up(c[0]);
    assert_set_up(c[1]);
    sqlpool_release(c[0]);
    sqlpool_release(c[1]);

    /* After sqlpool_evict(): every connection is a new one, set up again. */
    sqlpool_evict(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).closed_evicted, 2);
    c[0] = testutil_acquire(fx.pool);
    assert_int_equal(fx.h.connects, 6);
    assert_set_up(c[0]);
    sqlpool_release(c[0]);
    assert_int_equal(fx.h.register_failed, 0);
    assert_int_equal(testutil_stats(fx.pool).created, fx.h.connects);
    fixture_fini(&fx);
}

static void test_hooks_failing_init_sql_closes_and_names_statement(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx);
    fx.cfg.init_sql = "PRAGMA foreign_keys=ON;\n  SELEC 1; PRAGMA cache_size=1";
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_ECONNECT);
    assert_null(conn);
    if (strstr(sqlpool_errmsg(), "init_sql statement 2 (SELEC 1) failed") == NULL)
        fail_msg("errmsg: %s", sqlpool_errmsg());
    assert_non_null(strstr(sqlpool_errmsg(), "syntax error"));
    assert_int_equal(fx.h.connects, 0); /* on_connect comes after init_sql */
    assert_int_equal(fx.h.acquires, 0);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.connecting, 0);
    assert_int_equal(st.connect_failures, 1);
    fixture_fini(&fx);

    /* With min_idle, sqlpool_open() fails the same way. */
    fixture_init(&fx);
    fx.cfg.init_sql = "PRAGMA no_such_table_xyz; CREATE TABLE t(x); CREATE TABLE t(x)";
    fx.cfg.min_idle = 1;
    assert_int_equal(fixture_open(&fx), SQLPOOL_ECONNECT);
    assert_null(fx.pool);
    assert_non_null(strstr(sqlpool_errmsg(), "init_sql statement 3 (CREATE TABLE t(x))"));
    assert_non_null(strstr(sqlpool_errmsg(), "already exists"));
    fixture_fini(&fx);
}

static void test_hooks_on_connect_refusal_closes(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx);
    fx.h.connect_rc = 7;
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_ECONNECT);
    assert_null(conn);
    assert_non_null(strstr(sqlpool_errmsg(), "on_connect returned 7"));
    assert_int_equal(fx.h.connects, 1);
    assert_int_equal(fx.h.acquires, 0);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.connecting, 0);
    /* The next connect that the hook accepts serves. */
    fx.h.connect_rc = 0;
    conn = testutil_acquire(fx.pool);
    assert_set_up(conn);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(fx.pool).open, 1);
    fixture_fini(&fx);
}

/* Hooks that give back the very connection they were handed: refused as misuse, and the
 * pool's set-up, acquire or release goes on with it (once, with the books right). */
static int releasing_hook(sqlpool_conn *conn, void *ctx) {
    int *calls = ctx;
    (*calls)++;
    if (*calls % 2 == 0)
        sqlpool_discard(conn);
    else
        sqlpool_release(conn);
    return 0;
}

static void test_hooks_giving_back_inside_a_hook_refused(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *conn;
    sqlpool_stats st;
    int connects = 0, acquires = 0, releases = 0;
    (void)state;
    sqlpool_config_init(&cfg);
    cfg.on_connect = releasing_hook;
    cfg.on_connect_ctx = &connects;
    cfg.on_acquire = releasing_hook;
    cfg.on_acquire_ctx = &acquires;
    cfg.on_release = releasing_hook;
    cfg.on_release_ctx = &releases;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    for (int i = 0; i < 4; i++) {
        conn = testutil_acquire(pool);
        assert_int_equal(testutil_query_int(conn, "SELECT 7"), 7);
        sqlpool_release(conn); /* on_release gives it back itself: refused, released once */
    }
    assert_int_equal(connects, 1);
    assert_int_equal(acquires, 4);
    assert_int_equal(releases, 4);
    st = testutil_stats(pool);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.closed, 0);
    sqlpool_close(pool);
}

/* init_sql that leaves a transaction open would hand its first borrower a connection inside
 * it: refused like a failing statement. */
static void test_hooks_init_sql_left_in_a_transaction_refused(void **state) {
    fixture fx;
    sqlpool_conn *conn = NULL;
    (void)state;
    fixture_init(&fx);
    fx.cfg.init_sql = "PRAGMA foreign_keys=ON; BEGIN; PRAGMA cache_size=-1234";
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire(fx.pool, &conn), SQLPOOL_ECONNECT);
    assert_null(conn);
    if (strstr(sqlpool_errmsg(), "init_sql left a transaction open") == NULL)
        fail_msg("errmsg: %s", sqlpool_errmsg());
    assert_int_equal(testutil_stats(fx.pool).open, 0);
    fixture_fini(&fx);
}

/* PRAGMA foreign_keys and sqlite3_create_function expire a connection's prepared statements:
 * done once, at connect, before the cache holds any of the caller's, they never do. */
static void test_hooks_cache_not_invalidated(void **state) {
    fixture fx;
    sqlite3_stmt *first = NULL;
    (void)state;
    fixture_init(&fx);
    fx.cfg.max_open = 2;
    fx.cfg.on_acquire = NULL;
    fx.cfg.on_release = NULL;
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    for (int i = 0; i < 1000; i++) {
        sqlpool_conn *conn = testutil_acquire(fx.pool);
        sqlite3_stmt *stmt = NULL;
        assert_int_equal(sqlpool_conn_prepare(conn, "SELECT hookfn() + ?", &stmt), SQLPOOL_OK);
        if (first == NULL) first = stmt;
        assert_ptr_equal(stmt, first); /* prepared once, then the cache's */
        assert_int_equal(sqlite3_bind_int(stmt, 1, i), SQLITE_OK);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(stmt, 0), 42 + i);
        assert_int_equal(sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0), 0);
        sqlpool_release(conn);
    }
    assert_int_equal(fx.h.connects, 1);
    fixture_fini(&fx);
}

static void test_hooks_on_acquire_discards(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx);
    fx.h.refuse_every = 2;
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    conn = testutil_acquire(fx.pool); /* call 1: accepted (new) */
    sqlpool_release(conn);
    /* Call 2 refuses the idle one; call 3 accepts a new one. */
    conn = testutil_acquire(fx.pool);
    assert_int_equal(fx.h.acquires, 3);
    assert_int_equal(fx.h.nrefused, 1);
    assert_set_up(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.discarded_by_hook, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.created, 2);
    sqlpool_release(conn);

    /* try_acquire: a refused idle connection, nothing else idle: EAGAIN. */
    fx.h.acquires = 3; /* the next call is the 4th: refused */
    conn = NULL;
    assert_int_equal(sqlpool_try_acquire(fx.pool, &conn), SQLPOOL_EAGAIN);
    assert_null(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.discarded_by_hook, 2);
    /* Nothing was left idle, so the try asked a job thread for a connection: it is opened
     * and put on the idle list (no hook: nobody acquired it yet). */
    for (int i = 0; i < 10000 && (st.open != 1 || st.connecting != 0); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        st = testutil_stats(fx.pool);
    }
    assert_int_equal(st.open, 1);
    assert_int_equal(st.idle, 1);

    /* A hook that refuses everything: the acquire ends at its deadline. */
    fx.h.refuse_every = 1;
    assert_int_equal(sqlpool_acquire_until(fx.pool, &conn, clock_now), SQLPOOL_ETIMEDOUT);
    assert_non_null(strstr(sqlpool_errmsg(), "on_acquire refused 1 connection"));
    st = testutil_stats(fx.pool);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.timeouts, 1); /* counted as any acquire that timed out */
    fixture_fini(&fx);
}

/* Throughput mode's per-processor slot hands out connections without the lock: on_acquire
 * sees those too. */
static void test_hooks_on_acquire_sees_slot_path(void **state) {
    fixture fx;
    (void)state;
    fixture_init(&fx);
    fx.cfg.barge_window = 0.01;
    fx.cfg.validation_bypass = 3600;
    fx.h.refuse_every = 5;
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    for (int i = 0; i < 100; i++) {
        sqlpool_conn *conn = testutil_acquire(fx.pool);
        assert_int_equal(testutil_query_int(conn, "SELECT hookfn()"), 42);
        sqlpool_release(conn);
    }
    assert_int_equal(fx.h.acquires, 124); /* every 5th of them refused */
    assert_int_equal(testutil_stats(fx.pool).discarded_by_hook, 24);
    assert_int_equal(fx.h.releases, 100);
    assert_int_equal(fx.h.connects, 25);
    fixture_fini(&fx);
}

static void test_hooks_on_release_refusal_closes(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx);
    assert_int_equal(fixture_open(&fx), SQLPOOL_OK);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "BEGIN");
    sqlpool_release(conn); /* accepted, seen before the pool's rollback */
    assert_int_equal(fx.h.saw_transaction, 1);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.discarded_by_hook, 0);

    fx.h.release_rc = 1;
    conn = testutil_acquire(fx.pool);
    sqlpool_release(conn); /* refused: closed */
    st = testutil_stats(fx.pool);
    assert_int_equal(st.discarded_by_hook, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.open, 0);
    assert_int_equal(fx.h.releases, 2);

    /* sqlpool_discard() does not ask the hook. */
    conn = testutil_acquire(fx.pool);
    sqlpool_discard(conn);
    assert_int_equal(fx.h.releases, 2);
    assert_int_equal(testutil_stats(fx.pool).discarded_by_hook, 1);
    fixture_fini(&fx);
}

/* Every hook calls sqlpool_stats_get(), from several threads at once, under a maintenance
 * thread's refills: nothing deadlocks (the test's timeout would catch it). */
typedef struct worker {
    sqlpool *pool;
    int failures;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 300; i++) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(w->pool, &conn) != SQLPOOL_OK) {
            w->failures++;
            continue;
        }
        sqlpool_release(conn);
    }
    return NULL;
}

static _Atomic int mt_connects, mt_acquires, mt_releases;
static int mt_hook(sqlpool_conn *conn, void *ctx, _Atomic int *count) {
    sqlpool_stats st;
    (void)conn;
    atomic_fetch_add(count, 1);
    if (ctx == NULL) return 0; /* sqlpool_open()'s min_idle: the pool is not ours yet */
    memset(&st, 0, sizeof st);
    sqlpool_stats_get(ctx, &st);
    return st.open < 0; /* 0 */
}
static int mt_connect(sqlpool_conn *conn, void *ctx) {
    return mt_hook(conn, *(sqlpool **)ctx, &mt_connects);
}
static int mt_acquire(sqlpool_conn *conn, void *ctx) {
    return mt_hook(conn, *(sqlpool **)ctx, &mt_acquires);
}
static int mt_release(sqlpool_conn *conn, void *ctx) {
    return mt_hook(conn, *(sqlpool **)ctx, &mt_releases);
}

static void test_hooks_calling_stats_do_not_deadlock(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    pthread_t t[4];
    worker w[4];
    char *dir = testutil_tmpdir(), *path = testutil_format("%s/mt.db", dir);
    (void)state;
    sqlpool_config_init(&cfg);
    cfg.db = path;
    cfg.max_open = 3;
    cfg.min_idle = 2;
    cfg.max_lifetime = 0.05; /* the maintenance thread retires and refills all along */
    cfg.init_sql = "PRAGMA foreign_keys=ON";
    cfg.on_connect = mt_connect;
    cfg.on_acquire = mt_acquire;
    cfg.on_release = mt_release;
    cfg.on_connect_ctx = cfg.on_acquire_ctx = cfg.on_release_ctx = &pool;
    atomic_store(&mt_connects, 0);
    atomic_store(&mt_acquires, 0);
    atomic_store(&mt_releases, 0);
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    for (int i = 0; i < 4; i++) {
        w[i].pool = pool;
        w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(atomic_load(&mt_acquires), 1200);
    assert_int_equal(atomic_load(&mt_releases), 1200);
    assert_int_equal(atomic_load(&mt_connects), testutil_stats(pool).created);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

/* A busy database during set-up is retried like a busy connect. */
typedef struct locker {
    const char *path;
    int ready;
    pthread_mutex_t mu;
} locker;

static void *locker_main(void *arg) {
    locker *l = arg;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(l->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    pthread_mutex_lock(&l->mu);
    l->ready = 1;
    pthread_mutex_unlock(&l->mu);
    usleep(300 * 1000);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    return NULL;
}

static void test_hooks_busy_init_sql_retried(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *conn;
    pthread_t t;
    locker l;
    char *dir = testutil_tmpdir(), *path = testutil_format("%s/busy.db", dir);
    sqlite3 *db = NULL;
    (void)state;
    /* A WAL database first, so the pool's own open does not need the lock. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    sqlpool_config_init(&cfg);
    cfg.db = path;
    cfg.connect_timeout = 0.02; /* the busy timeout: shorter than the lock is held */
    cfg.max_retries = 100;
    cfg.retry_backoff = 0.02;
    cfg.acquire_timeout = 10;
    cfg.init_sql = "INSERT INTO t VALUES (1)";
    l.path = path;
    l.ready = 0;
    pthread_mutex_init(&l.mu, NULL);
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    assert_int_equal(pthread_create(&t, NULL, locker_main, &l), 0);
    for (;;) {
        int ready;
        pthread_mutex_lock(&l.mu);
        ready = l.ready;
        pthread_mutex_unlock(&l.mu);
        if (ready) break;
        usleep(1000);
    }
    conn = testutil_acquire(pool);
    assert_int_equal(testutil_query_int(conn, "SELECT count(*) FROM t"), 1);
    sqlpool_release(conn);
    assert_true(testutil_stats(pool).connect_retries > 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_mutex_destroy(&l.mu);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hooks_set_up_on_every_connection),
    cmocka_unit_test(test_hooks_failing_init_sql_closes_and_names_statement),
    cmocka_unit_test(test_hooks_on_connect_refusal_closes),
    cmocka_unit_test(test_hooks_cache_not_invalidated),
    cmocka_unit_test(test_hooks_on_acquire_discards),
    cmocka_unit_test(test_hooks_on_acquire_sees_slot_path),
    cmocka_unit_test(test_hooks_on_release_refusal_closes),
    cmocka_unit_test(test_hooks_calling_stats_do_not_deadlock),
    cmocka_unit_test(test_hooks_busy_init_sql_retried),
    cmocka_unit_test(test_hooks_giving_back_inside_a_hook_refused),
    cmocka_unit_test(test_hooks_init_sql_left_in_a_transaction_refused),
};

SQLPOOL_TEST_MAIN(tests)
