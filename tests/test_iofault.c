/*
 * test_iofault.c: I/O faults inside `sqlpool run`. The test VFS, preloaded into the CLI
 * (faultvfs_preload.c), fails the 1st, 2nd, ... read, write or fsync SQLite makes, in turn,
 * until a run gets through. Every failed run must end with a one-line error and an I/O or
 * database exit code, leave no output file (and an earlier one untouched), and leave a
 * database that passes integrity_check and holds all of the run's labels or none.
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LABELS 2000
#define EARLIER "an earlier summary\n"

typedef struct fixture {
    char *dir, *input, *db, *output;
} fixture;

static void fixture_init(fixture *fx) {
    FILE *f;
    fx->dir = testutil_tmpdir();
    fx->input = testutil_format("%s/labels.txt", fx->dir);
    fx->db = testutil_format("%s/events.db", fx->dir);
    fx->output = testutil_format("%s/summary.json", fx->dir);
    f = fopen(fx->input, "w");
    assert_non_null(f);
    for (int i = 0; i < LABELS; i++)
        fprintf(f, "fault-label-%04d\n", i);
    assert_int_equal(fclose(f), 0);
}

static void fixture_fini(fixture *fx) {
    testutil_rmtree(fx->dir);
    free(fx->dir);
    free(fx->input);
    free(fx->db);
    free(fx->output);
}

/* The run's labels in the database: 0 or LABELS (or -1 when there is no database). The
 * database must pass integrity_check. */
static long long labels_in_db(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = 0;
    if (access(path, F_OK) != 0) return -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE label LIKE 'fault-label-%'", -1,
                           &st, NULL) == SQLITE_OK) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* One run with the nth call of kind failing; returns the exit status. */
static int run_with_fault(fixture *fx, const char *kind, long n, char **err) {
    char spec[64];
    int rc;
    snprintf(spec, sizeof spec, "%s:%ld", kind, n);
    assert_int_equal(setenv("SQLPOOL_FAULT", spec, 1), 0);
    assert_int_equal(setenv("LD_PRELOAD", SQLPOOL_FAULTVFS_PATH, 1), 0);
    rc = testutil_run_cli(NULL,
                          (const char *const[]){"run", "--db", fx->db, "--input", fx->input,
                                                "--output", fx->output, "--quiet", "--log-level",
                                                "error", NULL},
                          NULL, err);
    unsetenv("LD_PRELOAD");
    unsetenv("SQLPOOL_FAULT");
    return rc;
}

/* Lines of text that start with prefix. */
static int lines_starting(const char *text, const char *prefix) {
    int n = 0;
    for (const char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
        if (strncmp(p, prefix, strlen(prefix)) == 0) n++;
    return n;
}

static void expect_clean_failure(fixture *fx, const char *kind, long n, int rc, const char *err) {
    char *out;
    if (rc != 69 && rc != 74 && rc != 75)
        fail_msg("%s:%ld: exit %d, want 69, 74 or 75; stderr: %s", kind, n, rc, err);
    /* One error line; the rest are log lines (ERROR level: the pool's own account). */
    if (lines_starting(err, "sqlpool: ") != 1)
        fail_msg("%s:%ld: not one error line: %s", kind, n, err);
    out = testutil_read_file(fx->output, NULL);
    assert_non_null(out);
    assert_string_equal(out, EARLIER); /* the earlier output is untouched */
    free(out);
}

/* Fail each call of kind in turn (1, 2, ... then growing steps) until a run succeeds. */
static void fail_in_turn(const char *kind) {
    fixture fx;
    long n, failures = 0;
    fixture_init(&fx);
    for (n = 1; n < 100000; n = n < 40 ? n + 1 : n + n / 4) {
        char *err = NULL;
        long long rows;
        int rc;
        testutil_write_file(fx.output, EARLIER, strlen(EARLIER));
        unlink(fx.db);
        rc = run_with_fault(&fx, kind, n, &err);
        rows = labels_in_db(fx.db);
        if (rc == 0) {
            assert_int_equal(rows, LABELS);
            free(err);
            break;
        }
        expect_clean_failure(&fx, kind, n, rc, err);
        if (rows > 0) fail_msg("%s:%ld failed (exit %d) yet left %lld labels", kind, n, rc, rows);
        failures++;
        free(err);
    }
    print_message("%s: %ld failing runs, then a clean one at %s:%ld\n", kind, failures, kind, n);
    assert_true(failures > 0); /* the faults really hit the run */
    fixture_fini(&fx);
}

static void test_iofault_failing_writes(void **state) {
    (void)state;
    fail_in_turn("write");
}

static void test_iofault_failing_syncs(void **state) {
    (void)state;
    fail_in_turn("sync");
}

static void test_iofault_failing_reads(void **state) {
    (void)state;
    fail_in_turn("read");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_iofault_failing_writes),
    cmocka_unit_test(test_iofault_failing_syncs),
    cmocka_unit_test(test_iofault_failing_reads),
};

SQLPOOL_TEST_MAIN(tests)
