/*
 * test_output.c: what the CLI writes besides the database, and how that stays off it and in
 * step with it: the same-file guard by identity (every spelling of the database, every output
 * the CLI writes), closed standard descriptors at start, long output names, the summary on a
 * standard output that fails or blocks, a FIFO output nobody opens, and --plot checked before
 * the sweep. Every child is spawned with a deadline: a hang fails the test.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
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

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SENTINEL "a previous summary, not to be touched\n"
#define CLOSED (-1)
#define DEVNULL (-2)

/* ---- per-test state ---- */

typedef struct fixture {
    char *dir;
    char *owned[128];
    int n;
    pid_t child; /* a spawned CLI not yet reaped, killed at teardown */
} fixture;

static int setup_tmp(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) return -1;
    fx->dir = testutil_tmpdir();
    *state = fx;
    return 0;
}

static int teardown_tmp(void **state) {
    fixture *fx = *state;
    if (fx->child > 0) {
        (void)kill(fx->child, SIGKILL);
        (void)waitpid(fx->child, NULL, 0);
    }
    testutil_rmtree(fx->dir);
    free(fx->dir);
    for (int i = 0; i < fx->n; i++)
        free(fx->owned[i]);
    free(fx);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_tmp, teardown_tmp)

static const char *at(void **state, const char *name) {
    fixture *fx = *state;
    assert_true(fx->n < 128);
    return fx->owned[fx->n++] = testutil_format("%s/%s", fx->dir, name);
}

/* ---- running the CLI ---- */

/* Put what fds[i] says on descriptor i: CLOSED, DEVNULL, or a descriptor to duplicate. */
static void place_fds(const int fds[3]) {
    int null = open("/dev/null", O_RDWR), moved[3];
    if (null < 0) _exit(126);
    for (int i = 0; i < 3; i++) /* out of the way of 0..2 first */
        moved[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD, 10) : fds[i];
    null = fcntl(null, F_DUPFD, 10);
    for (int i = 0; i < 3; i++) {
        if (moved[i] == CLOSED)
            (void)close(i);
        else if (dup2(moved[i] == DEVNULL ? null : moved[i], i) < 0)
            _exit(126);
    }
}

/* Start the CLI in the test's folder with descriptors as fds says. */
static pid_t spawn(void **state, const char *const *args, const int fds[3]) {
    const char *argv[40];
    int n = 0;
    pid_t pid;
    argv[n++] = SQLPOOL_CLI_PATH;
    while (args[n - 1] != NULL && n < 39) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)signal(SIGPIPE, SIG_DFL);
        if (chdir(((fixture *)*state)->dir) != 0) _exit(125);
        place_fds(fds);
        execv(SQLPOOL_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    ((fixture *)*state)->child = pid;
    return pid;
}

/* Wait at most seconds for the child; its exit status, 128+signal, or -1 when it is still
 * running (then it is killed). */
static int wait_for(void **state, pid_t pid, double seconds) {
    struct timespec tick = {0, 5 * 1000 * 1000};
    int status;
    for (double waited = 0; waited < seconds; waited += 0.005) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) {
            ((fixture *)*state)->child = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        (void)nanosleep(&tick, NULL);
    }
    (void)kill(pid, SIGKILL);
    (void)waitpid(pid, &status, 0);
    ((fixture *)*state)->child = 0;
    return -1;
}

/* Run to the end (30 s at most) with stderr captured; returns the status. */
static int run_cli(void **state, const char *const *args, int out_fd, char **err_text) {
    const char *err_path = at(state, "stderr.txt");
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), status;
    int fds[3] = {DEVNULL, out_fd, err};
    assert_true(err >= 0);
    status = wait_for(state, spawn(state, args, fds), 30);
    close(err);
    if (err_text != NULL) *err_text = testutil_read_file(err_path, NULL);
    (void)unlink(err_path);
    return status;
}

static void expect_status(int got, int want, const char *err) {
    if (got != want)
        fail_msg("exit status %d, expected %d; stderr:\n%s", got, want, err ? err : "(none)");
}

/* ---- the database and files ---- */

static void exec_sql(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A database with one precious row. */
static const char *precious_db(void **state, const char *name) {
    const char *db = at(state, name);
    exec_sql(db, "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL);"
                 "INSERT INTO events (label) VALUES ('precious')");
    return db;
}

static long long count_rows(const char *db_path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL) != SQLITE_OK)
        fail_msg("'%s' is no longer a database with events: %s", db_path, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void expect_absent(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) == 0) fail_msg("'%s' exists but should not", path);
}

static void expect_content(const char *path, const char *want) {
    char *got = testutil_read_file(path, NULL);
    if (got == NULL) fail_msg("cannot read '%s'", path);
    if (strcmp(got, want) != 0) fail_msg("'%s' holds '%.200s', expected '%.200s'", path, got, want);
    free(got);
}

/* The file parses as a summary of `rows` rows; returns rows_inserted. */
static long long expect_summary(const char *path, long long rows) {
    char *text = testutil_read_file(path, NULL);
    json_error_t e;
    json_t *doc;
    long long inserted;
    if (text == NULL) fail_msg("no summary at '%s'", path);
    if ((doc = json_loads(text, 0, &e)) == NULL)
        fail_msg("'%s' is not JSON (%s): %.300s", path, e.text, text);
    assert_int_equal(json_array_size(json_object_get(doc, "rows")), (size_t)rows);
    inserted = (long long)json_integer_value(json_object_get(doc, "rows_inserted"));
    json_decref(doc);
    free(text);
    return inserted;
}

/* No dot-file (a temporary summary) in dir. */
static void expect_no_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fail_msg("temporary file '%s/%s' left behind", dir, e->d_name);
    closedir(d);
}

static void write_labels(const char *path, int n) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++)
        assert_true(fprintf(f, "label_%d\n", i) > 0);
    assert_int_equal(fclose(f), 0);
}

/* ---- 1. the output never replaces the database, whatever the spelling ---- */

/* A refusal: exit 64 naming the flag and the database, the database whole and its row
 * there, no folder made. */
static void expect_refused(void **state, const char *const *args, const char *flag,
                           const char *db) {
    char *err = NULL;
    int status = run_cli(state, args, DEVNULL, &err);
    expect_status(status, 64, err);
    if (strstr(err, flag) == NULL || strstr(err, "is the database") == NULL)
        fail_msg("the message does not say %s is the database: %s", flag, err);
    free(err);
    assert_int_equal(count_rows(db), 1);
    expect_absent(at(state, "sub"));
}

static void test_output_uri_spellings_refused(void **state) {
    const char *db = precious_db(state, "ev.db");
    fixture *fx = *state;
    const char *uri_abs = testutil_format("file://localhost%s/ev.db?cache=private", fx->dir);
    const char *uri_slash = testutil_format("file://%s/e%%76.db#frag", fx->dir);
    const char *const dbs[] = {"file:ev.db", "file:./ev.db?mode=rw", uri_abs, uri_slash};
    const char *const outs[] = {"ev.db", "ev.db-wal", "ev.db-journal", "sub/../ev.db-shm"};
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        expect_refused(
            state, ARGS("run", "--input", "in.txt", "--db", dbs[i], "--output", outs[i], "--quiet"),
            "--output", db);
    free((char *)uri_abs);
    free((char *)uri_slash);
}

/* Folders that do not exist yet: compared as they will be once made, and none is made. */
static void test_output_missing_folders_refused(void **state) {
    const char *db = precious_db(state, "ev.db");
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    expect_refused(state,
                   ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output", "./sub/../ev.db"),
                   "--output", db);
    expect_refused(
        state,
        ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output", "sub/deeper/../../ev.db-wal"),
        "--output", db);
    /* Neither exists yet: the same place once the folders are made. */
    expect_status(run_cli(state,
                          ARGS("run", "--input", "in.txt", "--db", "sub/new.db", "--output",
                               "sub/x/../new.db", "--quiet"),
                          DEVNULL, NULL),
                  64, "");
    expect_absent(at(state, "sub"));
}

/* A database reached through a link: SQLite names its -wal after the link's target. */
static void test_output_linked_db_companions_refused(void **state) {
    const char *db = precious_db(state, "real.db");
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    assert_int_equal(symlink("real.db", at(state, "link.db")), 0);
    expect_refused(state,
                   ARGS("run", "--input", "in.txt", "--db", "link.db", "--output", "real.db-wal"),
                   "--output", db);
}

static void test_output_plot_is_the_database(void **state) {
    const char *db = precious_db(state, "ev.db");
    const char *const plots[] = {"ev.db", "sub/../ev.db", "ev.db-journal"};
    const char *const dbs[] = {"ev.db", "file:ev.db", "ev.db"};
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++)
        expect_refused(state,
                       ARGS("bench", "--db", dbs[i], "--sweep", "clients=1,2", "--transactions",
                            "1", "--plot", plots[i]),
                       "--plot", db);
}

/* A URI's query as SQLite reads it: split on '&' first, then each key and value decoded (a
 * %26 stays inside its value), the last mode= and vfs= winning. None of these is in memory:
 * each opens ev.db, so an output onto it is refused, for --output and --plot alike. */
static void test_output_uri_query_read_as_sqlite_does(void **state) {
    const char *db = precious_db(state, "ev.db");
    const char *const dbs[] = {"file:ev.db?mode=memory&mode=rwc", "file:ev.db?vfs=memdb&vfs=unix",
                               "file:ev.db?x=1%26mode=memory", "file:ev.db?mode%3Dmemory",
                               "file:ev.db?nomode=memory"};
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        expect_refused(
            state, ARGS("run", "--input", "in.txt", "--db", dbs[i], "--output", "ev.db", "--quiet"),
            "--output", db);
        expect_refused(state,
                       ARGS("bench", "--db", dbs[i], "--sweep", "clients=1,2", "--transactions",
                            "1", "--plot", "ev.db"),
                       "--plot", db);
    }
    /* The last mode= is memory: no file is opened, and the output is written. */
    expect_status(
        run_cli(state,
                ARGS("run", "--input", "in.txt", "--db", "file:ev.db?mode=rwc&mode=memory",
                     "--output", "out.json", "--quiet"),
                DEVNULL, NULL),
        0, "");
    assert_int_equal(count_rows(db), 1);
}

/* A --db that is a link to nothing yet: SQLite follows it and makes the target (through a
 * chain of links, each relative to its own folder), so the target is guarded too. */
static void test_output_dangling_db_link_refused(void **state) {
    char *err = NULL;
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    assert_int_equal(mkdir(at(state, "d"), 0700), 0);
    assert_int_equal(symlink("target.db", at(state, "dl")), 0);
    assert_int_equal(symlink("../dl", at(state, "d/chain")), 0);
    const char *const dbs[] = {"dl", "d/chain", "file:d/chain"};
    const char *const outs[] = {"target.db", "target.db-wal", "./d/../target.db-journal"};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        int status = run_cli(
            state, ARGS("run", "--input", "in.txt", "--db", dbs[i], "--output", outs[i], "--quiet"),
            DEVNULL, &err);
        expect_status(status, 64, err);
        if (strstr(err, "is the database") == NULL)
            fail_msg("the message does not say the output is the database: %s", err);
        free(err);
        expect_absent(at(state, "target.db"));
    }
}

/* Standard output opened on the database (1<>ev.db): the copy written there would destroy
 * it, so the run is refused (64) before anything is touched; with --quiet nothing is written
 * to standard output and the run goes ahead. */
static void test_output_stdout_is_the_database(void **state) {
    const char *db = precious_db(state, "ev.db");
    const char *const suffixes[] = {"", "-wal"};
    char *err = NULL;
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    exec_sql(db, "PRAGMA journal_mode=WAL");
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *name = testutil_format("ev.db%s", suffixes[i]);
        int fd = open(at(state, name), O_RDWR | O_CREAT, 0600), status;
        struct stat before, after;
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &before), 0);
        status =
            run_cli(state, ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output", "o.json"),
                    fd, &err);
        assert_int_equal(fstat(fd, &after), 0);
        close(fd);
        expect_status(status, 64, err);
        if (strstr(err, "standard output") == NULL || strstr(err, "is the database") == NULL)
            fail_msg("the message does not say standard output is the database: %s", err);
        free(err);
        assert_int_equal((long long)after.st_size, (long long)before.st_size);
        expect_absent(at(state, "o.json"));
        free(name);
    }
    assert_int_equal(count_rows(db), 1);
    {
        int fd = open(db, O_RDWR);
        assert_true(fd >= 0);
        expect_status(run_cli(state,
                              ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output",
                                   "o.json", "--quiet"),
                              fd, NULL),
                      0, "");
        close(fd);
    }
    assert_int_equal(count_rows(db), 2);
}

/* ---- item 12: --plot checked before the sweep; long output names ---- */

/* A --plot path that cannot be written fails before the first run: nothing is measured,
 * nothing printed. */
static void test_output_plot_path_checked_first(void **state) {
    char *err = NULL;
    const char *out = at(state, "stdout.txt");
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), status;
    assert_true(fd >= 0);
    testutil_write_file(at(state, "blocker"), "keep\n", 5);
    status = run_cli(state,
                     ARGS("bench", "--db", ":memory:", "--sweep", "clients=1,2", "--duration",
                          "0.3", "--plot", "blocker/chart.svg"),
                     fd, &err);
    close(fd);
    expect_status(status, 73, err);
    if (strstr(err, "blocker") == NULL) fail_msg("the message does not name the path: %s", err);
    free(err);
    expect_content(out, "");
    expect_content(at(state, "blocker"), "keep\n");
}

/* Names up to NAME_MAX (255) bytes are outputs like any other: the temporary name beside
 * them is shortened to fit. */
static void test_output_long_names_written(void **state) {
    testutil_write_file(at(state, "in.txt"), "a\nb\n", 4);
    for (size_t len = 247; len <= 255; len += 4) {
        char name[256];
        memset(name, 'n', len);
        name[len] = '\0';
        expect_status(run_cli(state, ARGS("run", "--input", "in.txt", "--output", name, "--quiet"),
                              DEVNULL, NULL),
                      0, name);
        assert_int_equal(expect_summary(at(state, name), 2), 2);
        expect_no_temp_files(((fixture *)*state)->dir);
    }
}

/* ---- 2. standard descriptors closed at start ---- */

/* With 0 and 2 closed (and then 0, 1, 2), no file the run opens takes their place: the log
 * goes nowhere, the summary file is JSON alone. */
static void test_output_closed_std_fds(void **state) {
    const int closed[2][3] = {{CLOSED, DEVNULL, CLOSED}, {CLOSED, CLOSED, CLOSED}};
    const char *db = precious_db(state, "ev.db");
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    for (int k = 0; k < 2; k++) {
        pid_t pid =
            spawn(state, ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output", "out.json"),
                  closed[k]);
        expect_status(wait_for(state, pid, 30), 0, "(closed)");
        assert_int_equal(expect_summary(at(state, "out.json"), 2 + k), 1);
        assert_int_equal(count_rows(db), 2 + k);
    }
}

/* ---- 3. the database and the output agree ---- */

/* Standard output that fails (the copy of the summary, without --quiet) fails the run
 * before the output is replaced: exit 74, no row committed, the old output kept. */
static void test_output_stdout_full_lands_nothing(void **state) {
    const char *db = precious_db(state, "ev.db");
    int full = open("/dev/full", O_WRONLY);
    char *err = NULL;
    assert_true(full >= 0);
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    testutil_write_file(at(state, "out.json"), SENTINEL, strlen(SENTINEL));
    expect_status(run_cli(state,
                          ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output", "out.json"),
                          full, &err),
                  74, err);
    close(full);
    if (strstr(err, "standard output") == NULL) fail_msg("stderr: %s", err);
    free(err);
    assert_int_equal(count_rows(db), 1);
    expect_content(at(state, "out.json"), SENTINEL);
    expect_no_temp_files(((fixture *)*state)->dir);
}

/* SIGTERM while the copy on standard output blocks (a pipe nobody reads), after the COMMIT:
 * the run ends at once, its rows deleted again and the old output kept. */
static void test_output_signal_after_commit_undoes(void **state) {
    const char *db = precious_db(state, "ev.db");
    int pipefd[2], fds[3], status;
    char *log;
    pid_t pid;
    write_labels(at(state, "in.txt"), 20000); /* a summary larger than a pipe's buffer */
    testutil_write_file(at(state, "out.json"), SENTINEL, strlen(SENTINEL));
    assert_int_equal(pipe(pipefd), 0);
    fds[0] = DEVNULL;
    fds[1] = pipefd[1];
    fds[2] = open(at(state, "stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fds[2] >= 0);
    pid = spawn(state, ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output", "out.json"),
                fds);
    close(pipefd[1]);
    close(fds[2]);
    /* The copy on stdout starts once the rows are committed; wait for its first bytes. */
    {
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
    }
    {
        struct timespec settle = {0, 200 * 1000 * 1000};
        (void)nanosleep(&settle, NULL); /* let it fill the pipe and block */
    }
    assert_int_equal(kill(pid, SIGTERM), 0);
    status = wait_for(state, pid, 10);
    close(pipefd[0]);
    log = testutil_read_file(at(state, "stderr.txt"), NULL);
    expect_status(status, 128 + SIGTERM, log);
    free(log);
    assert_int_equal(count_rows(db), 1);
    expect_content(at(state, "out.json"), SENTINEL);
    expect_no_temp_files(((fixture *)*state)->dir);
}

/* ---- 5. signals end every phase ---- */

/* An output FIFO nobody opens: open() waits; SIGTERM, SIGINT and SIGHUP end the run at once,
 * the database untouched and no folder left. */
static void test_output_signal_while_fifo_open_waits(void **state) {
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    const char *db = precious_db(state, "ev.db");
    int fds[3] = {DEVNULL, DEVNULL, DEVNULL};
    testutil_write_file(at(state, "in.txt"), "new\n", 4);
    assert_int_equal(mkfifo(at(state, "f"), 0600), 0);
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        struct timespec wait = {0, 300 * 1000 * 1000};
        pid_t pid = spawn(
            state, ARGS("run", "--input", "in.txt", "--db", "ev.db", "--output", "f", "--quiet"),
            fds);
        (void)nanosleep(&wait, NULL);
        assert_int_equal(kill(pid, sigs[k]), 0);
        assert_int_equal(wait_for(state, pid, 5), 128 + sigs[k]);
        assert_int_equal(count_rows(db), 1);
    }
}

static const struct CMUnitTest tests[] = {
    T(test_output_uri_spellings_refused),
    T(test_output_missing_folders_refused),
    T(test_output_linked_db_companions_refused),
    T(test_output_plot_is_the_database),
    T(test_output_uri_query_read_as_sqlite_does),
    T(test_output_dangling_db_link_refused),
    T(test_output_stdout_is_the_database),
    T(test_output_plot_path_checked_first),
    T(test_output_long_names_written),
    T(test_output_closed_std_fds),
    T(test_output_stdout_full_lands_nothing),
    T(test_output_signal_after_commit_undoes),
    T(test_output_signal_while_fifo_open_waits),
};

SQLPOOL_TEST_MAIN(tests)
