/* test_health.c: sqlpool_conn_health on good, failing and missing connections; and what
 * `sqlpool health` makes of files that are not databases, and leaves behind. */
#define _XOPEN_SOURCE 700 /* mkfifo, fcntl locks; NOLINT(bugprone-reserved-identifier) */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* ---- sqlpool health, the command ---- */

#define HEALTH_ARGS(...) ((const char *const[]){"health", __VA_ARGS__, NULL})

/* Run `sqlpool health` with args: its exit status must be want and its JSON status word. */
static void expect_health_cli(const char *const *args, int want, const char *word,
                              const char *needle) {
    char *out = NULL, *err = NULL;
    int status = testutil_run_cli(NULL, args, &out, &err);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    if (status != want)
        fail_msg("health --db %s: exit %d, expected %d\nstdout: %s\nstderr: %s", args[2], status,
                 want, out, err);
    if (doc == NULL) fail_msg("stdout is not JSON (%s): %s", e.text, out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), word);
    if (needle != NULL) {
        const char *msg = json_string_value(json_object_get(doc, "error"));
        if (msg == NULL || strstr(msg, needle) == NULL)
            fail_msg("the error does not say '%s': %s", needle, out);
    }
    json_decref(doc);
    free(out);
    free(err);
}

/* /dev/null reads as an empty database and /dev/zero as nothing SQLite checks: neither is a
 * database file, so neither is healthy. */
static void test_health_cli_device_is_not_healthy(void **state) {
    (void)state;
    expect_health_cli(HEALTH_ARGS("--db", "/dev/null"), 1, "unhealthy", "character device");
    expect_health_cli(HEALTH_ARGS("--db", "/dev/zero"), 1, "unhealthy", "character device");
    expect_health_cli(HEALTH_ARGS("--db", "file:/dev/null?mode=ro"), 1, "unhealthy",
                      "character device");
}

/* A FIFO would block the open until a writer comes (here after 10 s): the check answers
 * within its --timeout 1 instead. The --db is the FIFO's path between prefix and suffix. */
static void expect_fifo_within_timeout(const char *prefix, const char *suffix) {
    char *dir = testutil_tmpdir();
    char *fifo = testutil_format("%s/db.fifo", dir);
    char *db = testutil_format("%s%s%s", prefix, fifo, suffix);
    struct timespec t0, t1;
    pid_t writer;
    double took;

    assert_int_equal(mkfifo(fifo, 0600), 0);
    writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) { /* unblocks a reader that waits, so a failing test ends */
        struct timespec ten = {10, 0};
        (void)nanosleep(&ten, NULL);
        int fd = open(fifo, O_WRONLY | O_NONBLOCK);
        _exit(fd >= 0 ? 0 : 1);
    }
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_health_cli(HEALTH_ARGS("--db", db, "--timeout", "1"), 1, "unhealthy", "FIFO");
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    (void)kill(writer, SIGKILL);
    (void)waitpid(writer, NULL, 0);
    if (took > 2.0) fail_msg("health --db %s took %.1f s with --timeout 1", db, took);
    testutil_rmtree(dir);
    free(db);
    free(fifo);
    free(dir);
}

static void test_health_cli_fifo_within_timeout(void **state) {
    (void)state;
    expect_fifo_within_timeout("", "");
}

/* Through a file: URI whose query only looks like mode=memory (SQLite reads it as dbfile.c
 * does: split on '&' first, the last mode= winning), the FIFO is still the file opened. */
static void test_health_cli_fifo_uri_within_timeout(void **state) {
    (void)state;
    expect_fifo_within_timeout("file:", "?nomode=memory");
    expect_fifo_within_timeout("file:", "?x=1%26mode=memory");
    expect_fifo_within_timeout("file:", "?mode=memory&mode=ro");
}

static int file_exists(const char *db, const char *suffix) {
    char *p = testutil_format("%s%s", db, suffix);
    struct stat sb;
    int there = lstat(p, &sb) == 0;
    free(p);
    return there;
}

/* The rows of t with x = value, read through a fresh connection. */
static int rows_with(const char *db, int value) {
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int n;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM t WHERE x = ?1", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_bind_int(st, 1, value), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int(st, 0);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
    return n;
}

/* A WAL database with one row, closed (so SQLite removed its -wal and -shm). */
static void make_wal_db(const char *db) {
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                                  "INSERT INTO t VALUES (42)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
    assert_false(file_exists(db, "-wal"));
    assert_false(file_exists(db, "-shm"));
}

/* The read-only check of a WAL database makes a -wal and a -shm (it cannot checkpoint, so
 * SQLite does not remove them); the command removes the ones it made, through a symbolic
 * link too, and the data is all there. */
static void test_health_cli_wal_leaves_no_files(void **state) {
    char *dir = testutil_tmpdir();
    char *db = testutil_format("%s/wal.db", dir), *link = testutil_format("%s/link.db", dir);
    char *uri = testutil_format("file:%s?mode=ro", db);
    (void)state;

    make_wal_db(db);
    expect_health_cli(HEALTH_ARGS("--db", db), 0, "healthy", NULL);
    assert_false(file_exists(db, "-wal"));
    assert_false(file_exists(db, "-shm"));
    expect_health_cli(HEALTH_ARGS("--db", uri), 0, "healthy", NULL);
    assert_false(file_exists(db, "-wal"));
    assert_false(file_exists(db, "-shm"));
    assert_int_equal(symlink(db, link), 0);
    expect_health_cli(HEALTH_ARGS("--db", link), 0, "healthy", NULL);
    assert_false(file_exists(db, "-wal"));
    assert_false(file_exists(db, "-shm"));
    assert_int_equal(rows_with(db, 42), 1);
    testutil_rmtree(dir);
    free(uri);
    free(link);
    free(db);
    free(dir);
}

/* While another process may have the database open (it holds a SHARED lock, here taken by
 * hand), the -wal and -shm are left to that connection: they may hold its commits. And a -wal
 * that was there before the check (with frames in it) stays, with its rows. */
static void test_health_cli_wal_kept_while_in_use(void **state) {
    char *dir = testutil_tmpdir();
    char *db = testutil_format("%s/wal.db", dir);
    struct flock lk;
    sqlite3 *h = NULL;
    int fd;
    (void)state;

    make_wal_db(db);
    fd = open(db, O_RDONLY);
    assert_true(fd >= 0);
    memset(&lk, 0, sizeof lk);
    lk.l_type = F_RDLCK;
    lk.l_whence = SEEK_SET;
    lk.l_start = 0x40000000L + 2 + 100; /* one of SQLite's SHARED bytes */
    lk.l_len = 1;
    assert_int_equal(fcntl(fd, F_SETLK, &lk), 0);
    expect_health_cli(HEALTH_ARGS("--db", db), 0, "healthy", NULL);
    assert_true(file_exists(db, "-wal"));
    assert_true(file_exists(db, "-shm"));
    assert_int_equal(close(fd), 0); /* the lock goes with it */
    /* Now they were there before the check: they are not its to remove. */
    expect_health_cli(HEALTH_ARGS("--db", db), 0, "healthy", NULL);
    assert_true(file_exists(db, "-wal"));
    assert_true(file_exists(db, "-shm"));

    /* An open writer's -wal with a commit not yet checkpointed. */
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h, "PRAGMA wal_autocheckpoint=0; INSERT INTO t VALUES (7)", NULL, NULL, NULL),
        SQLITE_OK);
    expect_health_cli(HEALTH_ARGS("--db", db), 0, "healthy", NULL);
    assert_true(file_exists(db, "-wal"));
    assert_int_equal(rows_with(db, 7), 1);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
    assert_int_equal(rows_with(db, 7), 1);
    testutil_rmtree(dir);
    free(db);
    free(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_health_good_memory_connection),
    cmocka_unit_test(test_health_good_file_connection),
    cmocka_unit_test(test_health_unhealthy_reports_error),
    cmocka_unit_test(test_health_null_arguments),
    cmocka_unit_test(test_health_cli_device_is_not_healthy),
    cmocka_unit_test(test_health_cli_fifo_within_timeout),
    cmocka_unit_test(test_health_cli_fifo_uri_within_timeout),
    cmocka_unit_test(test_health_cli_wal_leaves_no_files),
    cmocka_unit_test(test_health_cli_wal_kept_while_in_use),
};

SQLPOOL_TEST_MAIN(tests)
