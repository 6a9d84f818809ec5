/*
 * test_stmt.c: sqlpool_conn_prepare and the per-connection statement cache: reuse without
 * re-preparing, bindings and steps undone on release, LRU eviction only after release, bad
 * SQL; and SQLite noticing a deleted database file.
 *
 * The pools run on a test clock that stands still, so no validation ping (which prepares a
 * statement of the backend's own) happens behind the test's back unless a test asks for one.
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct test_clock {
    double now;
} test_clock;

static double test_clock_read(void *ctx) {
    return ((test_clock *)ctx)->now;
}

typedef struct fixture {
    test_clock clock;
    sqlpool_config cfg;
    sqlpool *pool;
    char *dir;
    char *path;
} fixture;

/* One connection at most (max_idle 1), so every borrow gets the same one back. */
static void fixture_init(fixture *fx, int file) {
    memset(fx, 0, sizeof *fx);
    fx->clock.now = 1000.0;
    sqlpool_config_init(&fx->cfg);
    fx->cfg.clock = test_clock_read;
    fx->cfg.clock_ctx = &fx->clock;
    fx->cfg.max_idle = 1;
    if (file) {
        fx->dir = testutil_tmpdir();
        fx->path = testutil_format("%s/stmt.db", fx->dir);
        fx->cfg.db = fx->path;
    }
}

static void fixture_open(fixture *fx) {
    int rc = sqlpool_open(&fx->cfg, &fx->pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
}

static void fixture_fini(fixture *fx) {
    sqlpool_close(fx->pool);
    if (fx->dir != NULL) testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

static sqlpool_stats stats_of(sqlpool *pool) {
    sqlpool_stats st;
    memset(&st, 0x5a, sizeof st);
    sqlpool_stats_get(pool, &st);
    return st;
}

static sqlpool_conn *acquire_ok(sqlpool *pool) {
    sqlpool_conn *conn = NULL;
    int rc = sqlpool_acquire(pool, &conn);
    if (rc != SQLPOOL_OK) fail_msg("acquire: %d %s", rc, sqlpool_errmsg());
    assert_non_null(conn);
    return conn;
}

static sqlite3_stmt *prepare_ok(sqlpool_conn *conn, const char *sql) {
    sqlite3_stmt *stmt = NULL;
    int rc = sqlpool_conn_prepare(conn, sql, &stmt);
    if (rc != SQLPOOL_OK) fail_msg("prepare %s: %d %s", sql, rc, sqlpool_errmsg());
    assert_non_null(stmt);
    return stmt;
}

static void exec_ok(sqlpool_conn *conn, const char *sql) {
    char *err = NULL;
    int rc = sqlite3_exec(sqlpool_conn_sqlite(conn), sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, err ? err : sqlite3_errstr(rc));
}

/* How many statements the connection has prepared and not finalized. */
static int count_stmts(sqlite3 *db) {
    int n = 0;
    for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s != NULL; s = sqlite3_next_stmt(db, s))
        n++;
    return n;
}

/* Whether a statement with this SQL text is still prepared on the connection. */
static int has_stmt(sqlite3 *db, const char *sql) {
    for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s != NULL; s = sqlite3_next_stmt(db, s))
        if (strcmp(sqlite3_sql(s), sql) == 0) return 1;
    return 0;
}

static int runs_of(sqlite3_stmt *stmt) {
    return sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_RUN, 0);
}

/* ---- reuse ---- */

static void test_stmt_reused_not_reprepared(void **state) {
    fixture fx;
    sqlite3_stmt *first = NULL;
    sqlite3 *db = NULL;
    int baseline = -1;
    (void)state;

    fixture_init(&fx, 0);
    fixture_open(&fx);
    for (int i = 0; i < 100; i++) {
        sqlpool_conn *conn = acquire_ok(fx.pool);
        sqlite3_stmt *stmt = prepare_ok(conn, "SELECT 1");
        if (i == 0) {
            first = stmt;
            db = sqlpool_conn_sqlite(conn);
            baseline = count_stmts(db);
        }
        assert_ptr_equal(sqlpool_conn_sqlite(conn), db);
        assert_ptr_equal(stmt, first);
        assert_int_equal(count_stmts(db), baseline);
        assert_int_equal(sqlite3_stmt_busy(stmt), 0);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(stmt, 0), 1);
        assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
        assert_int_equal(runs_of(stmt), i + 1); /* the same statement ran every time */
        sqlpool_release(conn);
    }
    assert_int_equal(stats_of(fx.pool).created, 1);
    fixture_fini(&fx);
}

static void test_stmt_same_sql_in_one_borrow(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *a, *b;
    (void)state;

    fixture_init(&fx, 0);
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    a = prepare_ok(conn, "SELECT ?1 UNION ALL SELECT 2");
    assert_int_equal(sqlite3_bind_int(a, 1, 5), SQLITE_OK);
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(a, 0), 5);
    /* Asked again: the same statement, as if freshly prepared. */
    b = prepare_ok(conn, "SELECT ?1 UNION ALL SELECT 2");
    assert_ptr_equal(a, b);
    assert_int_equal(sqlite3_stmt_busy(b), 0);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
    sqlpool_release(conn);
    fixture_fini(&fx);
}

static void test_stmt_bindings_cleared_on_release(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *stmt, *again;
    (void)state;

    fixture_init(&fx, 0);
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    stmt = prepare_ok(conn, "SELECT ?1");
    assert_int_equal(sqlite3_bind_int(stmt, 1, 42), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 42);
    sqlpool_release(conn);

    conn = acquire_ok(fx.pool);
    again = prepare_ok(conn, "SELECT ?1");
    assert_ptr_equal(again, stmt);
    assert_int_equal(sqlite3_step(again), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(again, 0), SQLITE_NULL);
    sqlpool_release(conn);
    fixture_fini(&fx);
}

static void test_stmt_mid_step_reset_on_release(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *stmt, *again;
    sqlite3 *other = NULL;
    const char *sql = "SELECT x FROM t ORDER BY x";
    (void)state;

    fixture_init(&fx, 1);
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    exec_ok(conn, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)");
    stmt = prepare_ok(conn, sql);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 1);
    assert_int_not_equal(sqlite3_stmt_busy(stmt), 0); /* left mid-step, holding a read */
    sqlpool_release(conn);

    /* The read transaction ended with the release: a checkpoint elsewhere can finish. */
    assert_int_equal(sqlite3_open(fx.path, &other), SQLITE_OK);
    {
        int log = -1, done = -1;
        assert_int_equal(
            sqlite3_wal_checkpoint_v2(other, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done),
            SQLITE_OK);
    }
    assert_int_equal(sqlite3_close(other), SQLITE_OK);

    conn = acquire_ok(fx.pool);
    again = prepare_ok(conn, sql);
    assert_ptr_equal(again, stmt);
    assert_int_equal(sqlite3_stmt_busy(again), 0);
    assert_int_equal(sqlite3_step(again), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(again, 0), 1); /* from the start again */
    sqlpool_release(conn);
    fixture_fini(&fx);
}

/* ---- errors ---- */

static void test_stmt_syntax_error(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *stmt = (sqlite3_stmt *)&fx;
    sqlite3 *db;
    int before;
    (void)state;

    fixture_init(&fx, 0);
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    db = sqlpool_conn_sqlite(conn);
    before = count_stmts(db);
    assert_int_equal(sqlpool_conn_prepare(conn, "SELEC 1", &stmt), SQLPOOL_EINVAL);
    assert_null(stmt);
    if (strstr(sqlpool_errmsg(), "syntax error") == NULL)
        fail_msg("no \"syntax error\" in: %s", sqlpool_errmsg());
    stmt = (sqlite3_stmt *)&fx;
    assert_int_equal(sqlpool_conn_prepare(conn, "SELECT * FROM missing", &stmt), SQLPOOL_EINVAL);
    assert_null(stmt);
    if (strstr(sqlpool_errmsg(), "missing") == NULL)
        fail_msg("no \"missing\" in: %s", sqlpool_errmsg());
    stmt = (sqlite3_stmt *)&fx;
    assert_int_equal(sqlpool_conn_prepare(conn, "  -- nothing", &stmt), SQLPOOL_EINVAL);
    assert_null(stmt);
    assert_int_equal(count_stmts(db), before); /* nothing left behind */
    /* The connection is fine. */
    stmt = prepare_ok(conn, "SELECT 1");
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    sqlpool_release(conn);
    assert_int_equal(stats_of(fx.pool).idle, 1);
    assert_int_equal(stats_of(fx.pool).closed, 0);
    fixture_fini(&fx);
}

static void test_stmt_released_handle_refused(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *stmt = (sqlite3_stmt *)&fx;
    (void)state;

    fixture_init(&fx, 0);
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    sqlpool_release(conn);
    assert_int_equal(sqlpool_conn_prepare(conn, "SELECT 1", &stmt), SQLPOOL_EMISUSE);
    assert_null(stmt);
    assert_int_equal(sqlpool_conn_prepare(NULL, "SELECT 1", &stmt), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_conn_prepare(conn, "SELECT 1", NULL), SQLPOOL_EINVAL);
    fixture_fini(&fx);
}

/* ---- eviction ---- */

static void test_stmt_lru_eviction_after_release(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3 *db;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.stmt_cache_size = 2;
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    (void)prepare_ok(conn, "SELECT 'a'");
    (void)prepare_ok(conn, "SELECT 'b'");
    sqlpool_release(conn);

    conn = acquire_ok(fx.pool);
    db = sqlpool_conn_sqlite(conn);
    assert_true(has_stmt(db, "SELECT 'a'"));
    assert_true(has_stmt(db, "SELECT 'b'"));
    (void)prepare_ok(conn, "SELECT 'c'"); /* three in use now: 'a' is the least recent */
    assert_true(has_stmt(db, "SELECT 'a'"));
    sqlpool_release(conn);

    conn = acquire_ok(fx.pool);
    db = sqlpool_conn_sqlite(conn);
    assert_false(has_stmt(db, "SELECT 'a'")); /* finalized */
    assert_true(has_stmt(db, "SELECT 'b'"));
    assert_true(has_stmt(db, "SELECT 'c'"));
    sqlpool_release(conn);

    /* Using 'b' makes 'c' the least recent. */
    conn = acquire_ok(fx.pool);
    (void)prepare_ok(conn, "SELECT 'b'");
    (void)prepare_ok(conn, "SELECT 'd'");
    sqlpool_release(conn);
    conn = acquire_ok(fx.pool);
    db = sqlpool_conn_sqlite(conn);
    assert_false(has_stmt(db, "SELECT 'c'"));
    assert_true(has_stmt(db, "SELECT 'b'"));
    assert_true(has_stmt(db, "SELECT 'd'"));
    sqlpool_release(conn);
    fixture_fini(&fx);
}

static void test_stmt_in_use_never_finalized(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *s[5];
    sqlpool_health h;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.stmt_cache_size = 2;
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    for (int i = 0; i < 5; i++) {
        char *sql = testutil_format("SELECT %d", 100 + i);
        s[i] = prepare_ok(conn, sql);
        free(sql);
    }
    /* The backend's own statements run meanwhile, and trim the cache they share. */
    assert_int_equal(sqlpool_conn_health(conn, &h), SQLPOOL_OK);
    assert_int_equal(h.healthy, 1);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sqlite3_step(s[i]), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s[i], 0), 100 + i);
    }
    assert_int_equal(sqlpool_conn_health(conn, &h), SQLPOOL_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sqlite3_reset(s[i]), SQLITE_OK);
        assert_int_equal(sqlite3_step(s[i]), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s[i], 0), 100 + i);
    }
    sqlpool_release(conn);

    /* Back within capacity once released: the two most recent stay. */
    conn = acquire_ok(fx.pool);
    assert_false(has_stmt(sqlpool_conn_sqlite(conn), "SELECT 100"));
    assert_true(has_stmt(sqlpool_conn_sqlite(conn), "SELECT 103"));
    assert_true(has_stmt(sqlpool_conn_sqlite(conn), "SELECT 104"));
    sqlpool_release(conn);
    fixture_fini(&fx);
}

/* A working set that fits the cache is never re-prepared, not even after the pool checked the
 * connection (a validation ping runs statements of its own on it). */
static void test_stmt_working_set_survives_validation(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *a, *b;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.stmt_cache_size = 2;
    fx.cfg.validation_bypass = 0.5;
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    a = prepare_ok(conn, "SELECT 'a'");
    b = prepare_ok(conn, "SELECT 'b'");
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    sqlpool_release(conn);

    fx.clock.now += 1.0; /* the next borrow pings first */
    conn = acquire_ok(fx.pool);
    a = prepare_ok(conn, "SELECT 'a'");
    b = prepare_ok(conn, "SELECT 'b'");
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    /* Each ran twice: neither was finalized and prepared again. */
    assert_int_equal(runs_of(a), 2);
    assert_int_equal(runs_of(b), 2);
    sqlpool_release(conn);
    assert_int_equal(stats_of(fx.pool).created, 1);
    fixture_fini(&fx);
}

static void test_stmt_cache_disabled(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlite3_stmt *stmt;
    int before;
    (void)state;

    fixture_init(&fx, 0);
    fx.cfg.stmt_cache_size = 0;
    fixture_open(&fx);
    conn = acquire_ok(fx.pool);
    before = count_stmts(sqlpool_conn_sqlite(conn));
    stmt = prepare_ok(conn, "SELECT 'uncached'");
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW); /* usable for the whole borrow */
    assert_true(has_stmt(sqlpool_conn_sqlite(conn), "SELECT 'uncached'"));
    sqlpool_release(conn);
    conn = acquire_ok(fx.pool);
    assert_false(has_stmt(sqlpool_conn_sqlite(conn), "SELECT 'uncached'"));
    assert_true(count_stmts(sqlpool_conn_sqlite(conn)) <= before);
    sqlpool_release(conn);
    fixture_fini(&fx);
}

/* ---- a deleted database ---- */

static int is_marked(sqlpool_conn *conn) {
    sqlite3_stmt *stmt = NULL;
    int rc =
        sqlite3_prepare_v2(sqlpool_conn_sqlite(conn), "SELECT x FROM temp.mark", -1, &stmt, NULL);
    (void)sqlite3_finalize(stmt);
    return rc == SQLITE_OK;
}

static void test_stmt_deleted_database_noticed(void **state) {
    fixture fx;
    sqlpool_conn *conn;
    sqlpool_stats st;
    char *wal, *shm;
    (void)state;

    fixture_init(&fx, 1);
    fx.cfg.validation_bypass = 0; /* check on every borrow */
    fixture_open(&fx);
    wal = testutil_format("%s-wal", fx.path);
    shm = testutil_format("%s-shm", fx.path);
    conn = acquire_ok(fx.pool);
    exec_ok(conn, "CREATE TEMP TABLE mark(x); CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    sqlpool_release(conn);

    assert_int_equal(unlink(fx.path), 0);
    (void)unlink(wal);
    (void)unlink(shm);
    /* No time passes on the test clock: validation_bypass 0 checks even so. */
    conn = acquire_ok(fx.pool);
    assert_false(is_marked(conn)); /* a new connection... */
    exec_ok(conn, "CREATE TABLE t(x); INSERT INTO t VALUES (2)");
    assert_int_equal(access(fx.path, F_OK), 0); /* ...on a new file */
    sqlpool_release(conn);
    st = stats_of(fx.pool);
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.open, 1);
    free(wal);
    free(shm);
    fixture_fini(&fx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_stmt_reused_not_reprepared),
    cmocka_unit_test(test_stmt_same_sql_in_one_borrow),
    cmocka_unit_test(test_stmt_bindings_cleared_on_release),
    cmocka_unit_test(test_stmt_mid_step_reset_on_release),
    cmocka_unit_test(test_stmt_syntax_error),
    cmocka_unit_test(test_stmt_released_handle_refused),
    cmocka_unit_test(test_stmt_lru_eviction_after_release),
    cmocka_unit_test(test_stmt_in_use_never_finalized),
    cmocka_unit_test(test_stmt_working_set_survives_validation),
    cmocka_unit_test(test_stmt_cache_disabled),
    cmocka_unit_test(test_stmt_deleted_database_noticed),
};

SQLPOOL_TEST_MAIN(tests)
