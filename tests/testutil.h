/*
 * testutil.h: what the test programs share.
 *
 * Every test program ends with SQLPOOL_TEST_MAIN(tests): run with no argument it runs them
 * all; with a test's name it runs just that one (how CTest runs each test on its own); with
 * --list it prints the array's names, from which tests/testlist.cmake makes the CTest entries.
 */
#ifndef SQLPOOL_TESTUTIL_H
#define SQLPOOL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sqlpool.h"

int testutil_main(const struct CMUnitTest *tests, size_t count, int argc, char **argv);
#define SQLPOOL_TEST_MAIN(tests)                                                                   \
    int main(int argc, char **argv) {                                                              \
        return testutil_main(tests, sizeof(tests) / sizeof((tests)[0]), argc, argv);               \
    }

/* A fresh empty folder under $TMPDIR (or /tmp) for this test; removed by testutil_rmtree. */
char *testutil_tmpdir(void);
/* rm -rf path. */
void testutil_rmtree(const char *path);
/* Write text to path (created or truncated). */
void testutil_write_file(const char *path, const void *data, size_t len);
/* The whole content of path, NUL-terminated (caller frees), or NULL if unreadable. */
char *testutil_read_file(const char *path, size_t *len);
/* malloc'd printf. */
char *testutil_format(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The pool helpers every test file uses. They fail the test (printing the library's
 * message) instead of returning errors. */
/* A snapshot of the pool's stats (pre-filled with junk, so an unset field shows). */
sqlpool_stats testutil_stats(sqlpool *pool);
/* sqlpool_acquire that must succeed. */
sqlpool_conn *testutil_acquire(sqlpool *pool);
/* Run SQL on a borrowed SQLite connection; it must succeed. */
void testutil_exec(sqlpool_conn *conn, const char *sql);
/* The first column of the first row of a query on a borrowed SQLite connection. */
long long testutil_query_int(sqlpool_conn *conn, const char *sql);

/* Captured log lines of a pool (a sqlpool_log_fn target). */
typedef struct testutil_log {
    char lines[64][256];
    int levels[64];
    int count;
} testutil_log;
void testutil_log_sink(void *ctx, int level, const char *msg);

/* Run the sqlpool CLI with argv (NULL-terminated, argv[0] excluded) in directory cwd (NULL:
 * the current one), stdin from /dev/null. Returns the exit status (128+signal if killed);
 * *out and *err receive the captured stdout and stderr (caller frees; may be NULL). */
int testutil_run_cli(const char *cwd, const char *const *args, char **out, char **err);

#include "testvfs.h"

#endif
