/*
 * test_interrupt.c: SIGTERM at the steps after the COMMIT of `sqlpool run`, raised from inside
 * the CLI by a preloaded shim (signal_shim.c): in the fsync() of the temporary summary, and in
 * the rename() that puts it in place. Either both the rows and the new output land or neither
 * does. Plain builds only: a sanitizer runtime must come first in the process, before any
 * preloaded library.
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SENTINEL "a previous summary, not to be touched\n"

typedef struct fixture {
    char *dir;
    char *db, *in, *out, *err;
} fixture;

static void exec_sql(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A database with one row, an input of three labels, an old output. */
static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) return -1;
    fx->dir = testutil_tmpdir();
    fx->db = testutil_format("%s/ev.db", fx->dir);
    fx->in = testutil_format("%s/in.txt", fx->dir);
    fx->out = testutil_format("%s/out.json", fx->dir);
    fx->err = testutil_format("%s/stderr.txt", fx->dir);
    exec_sql(fx->db, "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL);"
                     "INSERT INTO events (label) VALUES ('precious')");
    testutil_write_file(fx->in, "a\nb\nc\n", 6);
    testutil_write_file(fx->out, SENTINEL, strlen(SENTINEL));
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    testutil_rmtree(fx->dir);
    free(fx->dir);
    free(fx->db);
    free(fx->in);
    free(fx->out);
    free(fx->err);
    free(fx);
    return 0;
}

static long long count_rows(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Run the CLI with the shim raising SIGTERM in call; its status (128+signal when killed),
 * or a failed test when it runs past 20 s. */
static int run_shimmed(fixture *fx, const char *call) {
    struct timespec tick = {0, 5 * 1000 * 1000};
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int err = open(fx->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (null < 0 || err < 0) _exit(126);
        (void)dup2(null, 0);
        (void)dup2(null, 1);
        (void)dup2(err, 2);
        (void)setenv("LD_PRELOAD", SQLPOOL_SIGSHIM_PATH, 1);
        (void)setenv("SQLPOOL_SHIM_CALL", call, 1);
        (void)setenv("SQLPOOL_SHIM_MATCH", "out.json", 1);
        execl(SQLPOOL_CLI_PATH, SQLPOOL_CLI_PATH, "run", "--input", fx->in, "--db", fx->db,
              "--output", fx->out, "--quiet", (char *)NULL);
        _exit(127);
    }
    for (int waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited++) {
        if (waited > 4000) {
            (void)kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            fail_msg("the CLI did not end within 20 s of the signal");
        }
        (void)nanosleep(&tick, NULL);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void expect_no_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fail_msg("temporary file '%s/%s' left behind", dir, e->d_name);
    closedir(d);
}

static void expect_status(fixture *fx, int got, int want) {
    char *log = testutil_read_file(fx->err, NULL);
    if (got != want) fail_msg("exit status %d, expected %d; stderr:\n%s", got, want, log);
    free(log);
}

/* SIGTERM in the fsync of the temporary file, after the COMMIT: the rows are deleted again,
 * the old output stays, and the run dies of the signal. */
static void test_interrupt_signal_in_fsync_lands_neither(void **state) {
    fixture *fx = *state;
    char *out;
    expect_status(fx, run_shimmed(fx, "fsync"), 128 + SIGTERM);
    assert_int_equal(count_rows(fx->db), 1);
    out = testutil_read_file(fx->out, NULL);
    assert_non_null(out);
    assert_string_equal(out, SENTINEL);
    free(out);
    expect_no_temp_files(fx->dir);
}

/* SIGTERM raised inside rename(): the rename is the point of no return and runs with the
 * signals held, so it completes; both land (three new rows, the new summary), and then the
 * run dies of the signal. */
static void test_interrupt_signal_in_rename_lands_both(void **state) {
    fixture *fx = *state;
    char *out;
    json_t *doc;
    expect_status(fx, run_shimmed(fx, "rename"), 128 + SIGTERM);
    assert_int_equal(count_rows(fx->db), 4);
    out = testutil_read_file(fx->out, NULL);
    assert_non_null(out);
    doc = json_loads(out, 0, NULL);
    if (doc == NULL) fail_msg("the output is not the new summary: %s", out);
    assert_int_equal(json_integer_value(json_object_get(doc, "rows_inserted")), 3);
    json_decref(doc);
    free(out);
    expect_no_temp_files(fx->dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_interrupt_signal_in_fsync_lands_neither, setup, teardown),
    cmocka_unit_test_setup_teardown(test_interrupt_signal_in_rename_lands_both, setup, teardown),
};

SQLPOOL_TEST_MAIN(tests)
