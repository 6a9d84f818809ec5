/* test_memory.c: ":memory:" pools: one database per pool, shared by its connections. */
#include "testutil.h"

#include <sqlite3.h>
#include <string.h>

static sqlpool *open_memory_pool(void) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    cfg.db = ":memory:";
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    return pool;
}

static long long table_count(sqlpool_conn *conn, const char *name) {
    sqlite3_stmt *stmt = NULL;
    long long v;
    assert_int_equal(sqlite3_prepare_v2(sqlpool_conn_sqlite(conn),
                                        "SELECT count(*) FROM sqlite_master WHERE name = ?", -1,
                                        &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    v = sqlite3_column_int64(stmt, 0);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    return v;
}

static void test_memory_connections_share_database(void **state) {
    sqlpool *pool = open_memory_pool();
    sqlpool_conn *a = testutil_acquire(pool), *b = testutil_acquire(pool);
    (void)state;

    assert_ptr_not_equal(a, b);
    assert_ptr_not_equal(sqlpool_conn_sqlite(a), sqlpool_conn_sqlite(b));
    assert_int_equal(table_count(b, "shared"), 0);
    testutil_exec(a, "CREATE TABLE shared(x); INSERT INTO shared VALUES (41), (1)");
    /* b is held the whole time and sees a's committed work, and the other way round. */
    assert_int_equal(table_count(b, "shared"), 1);
    assert_int_equal(testutil_query_int(b, "SELECT sum(x) FROM shared"), 42);
    testutil_exec(b, "INSERT INTO shared VALUES (100)");
    assert_int_equal(testutil_query_int(a, "SELECT sum(x) FROM shared"), 142);
    sqlpool_release(a);
    sqlpool_release(b);
    sqlpool_close(pool);
}

static void test_memory_pools_do_not_share(void **state) {
    sqlpool *p1 = open_memory_pool(), *p2 = open_memory_pool();
    sqlpool_conn *a = testutil_acquire(p1), *b = testutil_acquire(p2);
    (void)state;

    testutil_exec(a, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    assert_int_equal(table_count(a, "t"), 1);
    assert_int_equal(table_count(b, "t"), 0);
    /* Creating the same table in the other pool works: it is another database. */
    testutil_exec(b, "CREATE TABLE t(x); INSERT INTO t VALUES (2), (3)");
    assert_int_equal(testutil_query_int(a, "SELECT count(*) FROM t"), 1);
    assert_int_equal(testutil_query_int(b, "SELECT count(*) FROM t"), 2);
    sqlpool_release(a);
    sqlpool_release(b);
    sqlpool_close(p1);
    sqlpool_close(p2);
}

static void test_memory_new_pool_starts_empty(void **state) {
    sqlpool *pool = open_memory_pool();
    sqlpool_conn *conn = testutil_acquire(pool);
    (void)state;

    testutil_exec(conn, "CREATE TABLE gone(x)");
    sqlpool_release(conn);
    sqlpool_close(pool);
    /* A pool opened after another closed gets a database of its own, not the old one. */
    pool = open_memory_pool();
    conn = testutil_acquire(pool);
    assert_int_equal(table_count(conn, "gone"), 0);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

static void test_memory_survives_close_idle(void **state) {
    sqlpool *pool = open_memory_pool();
    sqlpool_conn *conn = testutil_acquire(pool);
    sqlpool_stats st;
    (void)state;

    testutil_exec(conn, "CREATE TABLE kept(x); INSERT INTO kept VALUES (7), (8), (9)");
    sqlpool_release(conn);
    sqlpool_close_idle(pool);
    sqlpool_stats_get(pool, &st);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.closed, 1);
    /* No connection of the pool is open now; the keeper holds the database. */
    conn = testutil_acquire(pool);
    sqlpool_stats_get(pool, &st);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.reused, 0);
    assert_int_equal(testutil_query_int(conn, "SELECT sum(x) FROM kept"), 24);
    sqlpool_discard(conn);
    conn = testutil_acquire(pool);
    assert_int_equal(testutil_query_int(conn, "SELECT count(*) FROM kept"), 3);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_memory_connections_share_database),
    cmocka_unit_test(test_memory_pools_do_not_share),
    cmocka_unit_test(test_memory_new_pool_starts_empty),
    cmocka_unit_test(test_memory_survives_close_idle),
};

SQLPOOL_TEST_MAIN(tests)
