/* test_release.c: what release and discard do to a connection before it is reused. */
#include "testutil.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    char *path;
    sqlpool_config cfg;
    testutil_log log;
    sqlpool *pool;
} fixture;

/* A file database in a fresh folder, through the test VFS. */
static void fixture_init(fixture *fx, int ping_on_release) {
    memset(fx, 0, sizeof *fx);
    testvfs_register();
    testvfs_reset();
    fx->dir = testutil_tmpdir();
    fx->path = testutil_format("%s/release.db", fx->dir);
    sqlpool_config_init(&fx->cfg);
    fx->cfg.db = fx->path;
    fx->cfg.sqlite_vfs = "sqlpool-test";
    fx->cfg.ping_on_release = ping_on_release;
    fx->cfg.log = testutil_log_sink;
    fx->cfg.log_ctx = &fx->log;
    fx->cfg.log_level = SQLPOOL_LOG_DEBUG;
    assert_int_equal(sqlpool_open(&fx->cfg, &fx->pool), SQLPOOL_OK);
}

static void fixture_fini(fixture *fx) {
    testvfs_reset();
    sqlpool_close(fx->pool);
    testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

static long long query_int(sqlpool_conn *conn, const char *sql) {
    sqlite3_stmt *stmt = NULL;
    long long v;
    int rc = sqlite3_prepare_v2(sqlpool_conn_sqlite(conn), sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(sqlpool_conn_sqlite(conn)));
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    v = sqlite3_column_int64(stmt, 0);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    return v;
}

static int log_has(const testutil_log *log, const char *prefix) {
    for (int i = 0; i < log->count; i++)
        if (strncmp(log->lines[i], prefix, strlen(prefix)) == 0) return 1;
    return 0;
}

static void test_release_rolls_back_open_transaction(void **state) {
    fixture fx;
    sqlpool_conn *conn, *again;
    sqlite3 *db;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    testutil_exec(conn, "BEGIN; INSERT INTO t VALUES (2)");
    db = sqlpool_conn_sqlite(conn);
    assert_int_equal(sqlite3_get_autocommit(db), 0);
    sqlpool_release(conn);

    again = testutil_acquire(fx.pool);
    assert_ptr_equal(sqlpool_conn_sqlite(again), db);
    assert_int_equal(sqlite3_get_autocommit(sqlpool_conn_sqlite(again)), 1);
    assert_int_equal(query_int(again, "SELECT count(*) FROM t"), 1);
    assert_int_equal(query_int(again, "SELECT max(x) FROM t"), 1);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.reused, 1);
    assert_int_equal(st.discarded, 0);
    /* The write lock went with the rollback: another connection can write. */
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "INSERT INTO t VALUES (3)");
    assert_int_equal(query_int(again, "SELECT count(*) FROM t"), 2);
    sqlpool_release(conn);
    sqlpool_release(again);
    fixture_fini(&fx);
}

static void test_release_resets_busy_statement(void **state) {
    fixture fx;
    sqlpool_conn *conn, *again;
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    (void)state;

    fixture_init(&fx, 0);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)");
    assert_int_equal(sqlite3_prepare_v2(sqlpool_conn_sqlite(conn), "SELECT x FROM t ORDER BY x", -1,
                                        &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_true(sqlite3_stmt_busy(stmt));
    db = sqlpool_conn_sqlite(conn);
    sqlpool_release(conn);

    again = testutil_acquire(fx.pool);
    assert_ptr_equal(sqlpool_conn_sqlite(again), db);
    assert_false(sqlite3_stmt_busy(stmt));
    /* Reset, not finalized: it runs again from the first row. */
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 1);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    assert_int_equal(testutil_stats(fx.pool).discarded, 0);
    sqlpool_release(again);
    fixture_fini(&fx);
}

static void test_release_discard_closes(void **state) {
    fixture fx;
    sqlpool_conn *conn, *next;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    conn = testutil_acquire(fx.pool);
    sqlpool_discard(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.discarded, 1);
    assert_int_equal(st.closed, 1);
    next = testutil_acquire(fx.pool);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.reused, 0);
    sqlpool_release(next);
    fixture_fini(&fx);
}

static void test_release_ping_closes_broken_connection(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 1);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    assert_int_equal(query_int(conn, "SELECT count(*) FROM t"), 1); /* pages now cached */
    testvfs_fail_reads(1);
    sqlpool_release(conn);
    testvfs_fail_reads(0);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.discarded, 1);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.in_use, 0);
    assert_true(log_has(&fx.log, "pool_discard reason="));
    /* The fault is gone: a new connection sees the data. */
    conn = testutil_acquire(fx.pool);
    assert_int_equal(testutil_stats(fx.pool).created, 2);
    assert_int_equal(query_int(conn, "SELECT count(*) FROM t"), 1);
    sqlpool_release(conn);
    fixture_fini(&fx);
}

static void test_release_ping_keeps_healthy_connection(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 1);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE t(x)");
    sqlpool_release(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.discarded, 0);
    assert_int_equal(st.closed, 0);
    assert_false(log_has(&fx.log, "pool_discard"));
    fixture_fini(&fx);
}

static void test_release_without_ping_pools_connection(void **state) {
    fixture fx;
    sqlpool_conn *conn, *again;
    sqlite3 *db;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    conn = testutil_acquire(fx.pool);
    testutil_exec(conn, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    db = sqlpool_conn_sqlite(conn);
    sqlpool_release(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.discarded, 0);
    assert_int_equal(st.closed, 0);
    again = testutil_acquire(fx.pool);
    assert_ptr_equal(sqlpool_conn_sqlite(again), db);
    sqlpool_release(again);
    fixture_fini(&fx);
}

static void test_release_double_release_harmless(void **state) {
    fixture fx;
    sqlpool_conn *conn, *a, *b;
    sqlpool_stats st;
    (void)state;

    fixture_init(&fx, 0);
    conn = testutil_acquire(fx.pool);
    sqlpool_release(conn);
    sqlpool_release(conn);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.closed, 0);
    assert_true(log_has(&fx.log, "conn_misuse release"));

    a = testutil_acquire(fx.pool);
    b = testutil_acquire(fx.pool);
    assert_ptr_not_equal(a, conn); /* the same connection, borrowed anew */
    assert_ptr_not_equal(a, b);
    /* The old handle now names someone else's borrow: every use of it is refused. */
    sqlpool_release(conn);
    assert_null(sqlpool_conn_sqlite(conn));
    assert_int_equal(sqlpool_conn_prepare(conn, "SELECT 1", &(sqlite3_stmt *){NULL}),
                     SQLPOOL_EMISUSE);
    assert_int_equal(testutil_stats(fx.pool).in_use, 2);
    testutil_exec(a, "SELECT 1");
    assert_ptr_not_equal(sqlpool_conn_sqlite(a), sqlpool_conn_sqlite(b));
    st = testutil_stats(fx.pool);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.in_use, 2);
    assert_int_equal(st.idle, 0);
    sqlpool_release(a);
    sqlpool_release(b);
    assert_int_equal(testutil_stats(fx.pool).idle, 2);
    fixture_fini(&fx);
}

/* A handle from many borrows ago (here 128, a whole cycle of the 7-bit generations handles
 * once had) is still refused while the connection is borrowed anew. */
static void test_release_stale_handle_from_long_ago_refused(void **state) {
    fixture fx;
    sqlpool_conn *old, *now = NULL;
    (void)state;

    fixture_init(&fx, 0);
    old = testutil_acquire(fx.pool);
    sqlpool_release(old);
    for (int i = 0; i < 128; i++) {
        now = testutil_acquire(fx.pool);
        if (i < 127) sqlpool_release(now);
    }
    assert_int_equal(testutil_stats(fx.pool).created, 1); /* one connection all along */
    assert_null(sqlpool_conn_sqlite(old));
    sqlpool_release(old); /* refused: the borrow is someone else's */
    assert_int_equal(testutil_stats(fx.pool).in_use, 1);
    assert_non_null(sqlpool_conn_sqlite(now));
    sqlpool_release(now);
    fixture_fini(&fx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_release_rolls_back_open_transaction),
    cmocka_unit_test(test_release_stale_handle_from_long_ago_refused),
    cmocka_unit_test(test_release_resets_busy_statement),
    cmocka_unit_test(test_release_discard_closes),
    cmocka_unit_test(test_release_ping_closes_broken_connection),
    cmocka_unit_test(test_release_ping_keeps_healthy_connection),
    cmocka_unit_test(test_release_without_ping_pools_connection),
    cmocka_unit_test(test_release_double_release_harmless),
};

SQLPOOL_TEST_MAIN(tests)
