/* test_health.c: sqlpool_conn_health on good, failing and missing connections. */
#include "testutil.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static sqlpool *open_pool(const char *db) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    if (db != NULL) cfg.db = db;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    return pool;
}

static void expect_healthy(sqlpool_conn *conn) {
    sqlpool_health h;
    memset(&h, 'x', sizeof h); /* every field must be written, and terminated */
    assert_int_equal(sqlpool_conn_health(conn, &h), SQLPOOL_OK);
    assert_int_equal(h.healthy, 1);
    assert_string_equal(h.backend, "sqlite");
    assert_string_equal(h.version, sqlite3_libversion());
    assert_string_equal(h.error, "");
}

static void test_health_good_memory_connection(void **state) {
    sqlpool *pool = open_pool(NULL);
    sqlpool_conn *conn = testutil_acquire(pool);
    (void)state;

    expect_healthy(conn);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

static void test_health_good_file_connection(void **state) {
    char *dir = testutil_tmpdir();
    char *path = testutil_format("%s/health.db", dir);
    sqlpool *pool = open_pool(path);
    sqlpool_conn *conn = testutil_acquire(pool);
    (void)state;

    expect_healthy(conn);
    sqlpool_release(conn);
    /* And again on the reused connection. */
    conn = testutil_acquire(pool);
    expect_healthy(conn);
    sqlpool_release(conn);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static int abort_statement(void *ctx) {
    int *calls = ctx;
    (*calls)++;
    return 1; /* non-zero: SQLite interrupts the running statement */
}

/*
 * "SELECT sqlite_version()" touches no table, so it never reads the database file: a
 * connection whose file became unreadable (testvfs_fail_reads) still passes it. What it
 * does catch is a connection that cannot run a statement at all; a progress handler that
 * aborts every statement is such a connection, made through the public SQLite API.
 */
static void test_health_unhealthy_reports_error(void **state) {
    sqlpool *pool = open_pool(NULL);
    sqlpool_conn *conn = testutil_acquire(pool);
    sqlite3 *db = sqlpool_conn_sqlite(conn);
    sqlpool_health h;
    int calls = 0;
    (void)state;

    sqlite3_progress_handler(db, 1, abort_statement, &calls);
    memset(&h, 'x', sizeof h);
    assert_int_equal(sqlpool_conn_health(conn, &h), SQLPOOL_EBROKEN);
    assert_true(calls > 0);
    assert_int_equal(h.healthy, 0);
    assert_string_equal(h.backend, "sqlite");
    assert_string_equal(h.version, "");
    assert_true(strlen(h.error) > 0);
    assert_non_null(strstr(h.error, "interrupt"));
    assert_non_null(strstr(sqlpool_errmsg(), "health check failed"));
    assert_non_null(strstr(sqlpool_errmsg(), h.error));

    /* The same connection is healthy once the cause is gone. */
    sqlite3_progress_handler(db, 0, NULL, NULL);
    expect_healthy(conn);
    sqlpool_discard(conn);
    sqlpool_close(pool);
}

static void test_health_null_arguments(void **state) {
    sqlpool *pool = open_pool(NULL);
    sqlpool_conn *conn = testutil_acquire(pool);
    sqlpool_health h;
    (void)state;

    memset(&h, 'x', sizeof h);
    assert_int_equal(sqlpool_conn_health(NULL, &h), SQLPOOL_EINVAL);
    assert_int_equal(h.healthy, 0);
    assert_true(strlen(h.error) > 0);
    assert_true(strlen(h.error) < sizeof h.error);
    assert_int_equal(sqlpool_conn_health(conn, NULL), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_conn_health(NULL, NULL), SQLPOOL_EINVAL);
    assert_string_not_equal(sqlpool_errmsg(), "");
    /* The connection was not disturbed. */
    expect_healthy(conn);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_health_good_memory_connection),
    cmocka_unit_test(test_health_good_file_connection),
    cmocka_unit_test(test_health_unhealthy_reports_error),
    cmocka_unit_test(test_health_null_arguments),
};

SQLPOOL_TEST_MAIN(tests)
