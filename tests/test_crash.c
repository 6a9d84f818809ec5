/*
 * test_crash.c: `sqlpool run` on a file database when things go wrong between processes:
 * killed with SIGKILL at random points, two runs at once, a writer that holds the lock past
 * --timeout, an output device that is full. The database must stay whole and each run's
 * labels must be there all or not at all.
 *
 * Children are tracked in `live` and killed and reaped at teardown, so a failed assertion
 * never leaves a process behind.
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
#define NLABELS 20000
#define CRASH_SEED 20261126u
#define CRASH_RUNS 40
#define CRASH_BUDGET 12.0 /* seconds for the kill loop; it stops early past this */

/* ---- children: spawned, waited for with a deadline, and never left behind ---- */

static pid_t live[8];
static int n_live;

static void forget(pid_t pid) {
    for (int i = 0; i < n_live; i++)
        if (live[i] == pid) live[i] = live[--n_live];
}

static int status_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void kill_all(void) {
    while (n_live > 0) {
        pid_t pid = live[--n_live];
        int status;
        (void)kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
}

static double now(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_for(double seconds) {
    struct timespec ts;
    if (seconds <= 0) return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Start the CLI with args; its stdout and stderr go to the files named (NULL: /dev/null). */
static pid_t spawn_cli(const char *const *args, const char *out_path, const char *err_path) {
    size_t argc = 0;
    const char **argv;
    pid_t pid;
    assert_true(n_live < (int)(sizeof live / sizeof live[0]));
    while (args[argc] != NULL)
        argc++;
    argv = calloc(argc + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = SQLPOOL_CLI_PATH;
    memcpy(argv + 1, args, argc * sizeof *argv);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int out = out_path ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : null;
        int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : null;
        if (null < 0 || out < 0 || err < 0) _exit(127);
        (void)dup2(null, 0);
        (void)dup2(out, 1);
        (void)dup2(err, 2);
        execv(SQLPOOL_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    live[n_live++] = pid;
    return pid;
}

/* The exit status (128+signal if killed) once pid ends, or -1 if it is still running after
 * `seconds` (then it keeps running). */
static int wait_until(pid_t pid, double seconds) {
    double end = now() + seconds;
    int status;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) {
            forget(pid);
            return status_of(status);
        }
        if (got < 0 && errno != EINTR) fail_msg("waitpid(%d): %s", (int)pid, strerror(errno));
        if (now() >= end) return -1;
        sleep_for(0.001);
    }
}

/* wait_until that must end in time; a child still running is killed and the test fails. */
static int wait_cli(pid_t pid, double seconds) {
    int status = wait_until(pid, seconds);
    if (status < 0) {
        kill_all();
        fail_msg("sqlpool (pid %d) still running after %.1f s", (int)pid, seconds);
    }
    return status;
}

/* SIGKILL (harmless if it has already exited: a zombie ignores it) and reap. */
static int kill_cli(pid_t pid) {
    int status;
    assert_int_equal(kill(pid, SIGKILL), 0);
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    forget(pid);
    return status_of(status);
}

/* ---- fixture: a temporary folder ---- */

typedef struct fixture {
    char *dir;
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
    kill_all();
    testutil_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_tmp, teardown_tmp)

/* <tmp>/<name> into buf. */
static const char *path_in(void **state, char *buf, size_t len, const char *name) {
    fixture *fx = *state;
    int n = snprintf(buf, len, "%s/%s", fx->dir, name);
    assert_true(n > 0 && (size_t)n < len);
    return buf;
}

/* n labels "<prefix>-<i>", one a line. */
static void write_labels(const char *path, const char *prefix, int n) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++)
        assert_true(fprintf(f, "%s-%d\n", prefix, i) > 0);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path) {
    char *s = testutil_read_file(path, NULL);
    return s ? s : testutil_format("(cannot read %s)", path);
}

/* Fail showing the child's status and stderr. */
static void expect_status(int got, int want, const char *err_path) {
    char *err;
    if (got == want) return;
    err = read_text(err_path);
    fail_msg("exit status %d, expected %d; stderr:\n%s", got, want, err);
}

static void expect_absent(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) == 0) fail_msg("'%s' exists but should not", path);
    assert_int_equal(errno, ENOENT);
}

/* How many temporary summaries (".<name>.XXXXXX") are in dir; removes them if asked. */
static int temp_files(const char *dir, const char *name, int remove_them) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char prefix[256];
    int n = 0;
    assert_non_null(d);
    (void)snprintf(prefix, sizeof prefix, ".%s.", name);
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        n++;
        (void)snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (remove_them) assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    return n;
}

/* ---- the database, read directly ---- */

static sqlite3 *open_db(const char *path) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) fail_msg("open '%s': %s", path, db ? sqlite3_errmsg(db) : "?");
    assert_int_equal(sqlite3_busy_timeout(db, 10000), SQLITE_OK);
    return db;
}

static void exec_sql(sqlite3 *db, const char *sql) {
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
}

static long long query_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    long long v;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    return v;
}

static void expect_integrity_ok(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    const unsigned char *v;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_text(st, 0);
    if (v == NULL || strcmp((const char *)v, "ok") != 0)
        fail_msg("integrity_check: %s", v ? (const char *)v : "(null)");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
}

/* Labels "<prefix>-%": their count, and whether each is there only once. */
static long long count_prefix(sqlite3 *db, const char *prefix, int *distinct) {
    char *sql = testutil_format("SELECT count(*), count(DISTINCT label) = count(*) FROM events "
                                "WHERE label LIKE '%s-%%'",
                                prefix);
    sqlite3_stmt *st = NULL;
    long long n;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    *distinct = sqlite3_column_int(st, 1);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    free(sql);
    return n;
}

/* ---- the summary file ---- */

/* path is a complete summary whose last n rows are "<prefix>-0" .. "<prefix>-<n-1>" and
 * which lists total rows in all. */
static void expect_summary(const char *path, const char *prefix, long long n, long long total) {
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e), *rows, *v;
    char want[64];
    size_t size;
    if (doc == NULL) fail_msg("'%s' is not a complete summary (%s, line %d)", path, e.text, e.line);
    v = json_object_get(doc, "rows_inserted");
    assert_true(json_is_integer(v));
    assert_int_equal(json_integer_value(v), n);
    rows = json_object_get(doc, "rows");
    assert_true(json_is_array(rows));
    size = json_array_size(rows);
    assert_int_equal(size, (size_t)total);
    assert_true(size >= (size_t)n);
    for (long long i = 0; i < n; i++) {
        json_t *label =
            json_object_get(json_array_get(rows, size - (size_t)n + (size_t)i), "label");
        (void)snprintf(want, sizeof want, "%s-%lld", prefix, i);
        assert_true(json_is_string(label));
        assert_string_equal(json_string_value(label), want);
    }
    assert_true(json_is_object(json_object_get(doc, "health")));
    assert_true(json_is_object(json_object_get(doc, "pool_stats")));
    json_decref(doc);
}

/* ---- 1. SIGKILL at random points ---- */

/* A small fixed-seed generator (xorshift32), so a failing sequence can be replayed. */
static unsigned rng_next(unsigned *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static double rng_unit(unsigned *s) {
    return (double)(rng_next(s) % 1000000u) / 1e6;
}

typedef struct crash_state {
    char dir[512], db[600], in[600], err[600];
    long long expected[CRASH_RUNS + 1]; /* per run: -1 all or none, else exactly this */
    int committed, killed, completed, summaries, temps;
} crash_state;

/* Labels per run ("r<k>-<i>", k <= last) in one pass; each label must be there once, and
 * there must be no other. */
static void count_runs(sqlite3 *db, long long *n, int last) {
    static const char sql[] =
        "SELECT substr(label, 1, instr(label, '-') - 1), count(*), count(DISTINCT label) "
        "FROM events GROUP BY 1";
    sqlite3_stmt *st = NULL;
    int rc;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *run = (const char *)sqlite3_column_text(st, 0);
        long long count = sqlite3_column_int64(st, 1);
        char *end = NULL;
        long k = run && run[0] == 'r' ? strtol(run + 1, &end, 10) : -1;
        if (k < 0 || k > last || end == NULL || *end != '\0')
            fail_msg("unexpected label prefix '%s' (%lld rows)", run ? run : "(null)", count);
        if (sqlite3_column_int64(st, 2) != count)
            fail_msg("run %ld: %lld labels, %lld distinct", k, count, sqlite3_column_int64(st, 2));
        n[k] = count;
    }
    assert_int_equal(rc, SQLITE_DONE);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
}

/* After run `run`: the database opens and is whole, every run so far has all its labels or
 * none (and keeps what it had), and the run's summary is absent or complete. */
static void check_after(crash_state *cs, int run) {
    sqlite3 *db = open_db(cs->db);
    long long total = 0, n[CRASH_RUNS + 1] = {0};
    char prefix[32], out[700], name[64];
    expect_integrity_ok(db);
    count_runs(db, n, run);
    for (int k = 0; k <= run; k++) {
        if (n[k] != 0 && n[k] != NLABELS)
            fail_msg("run %d: %lld of its %d labels are in the database", k, n[k], NLABELS);
        if (cs->expected[k] >= 0 && n[k] != cs->expected[k])
            fail_msg("run %d: %lld labels, expected %lld", k, n[k], cs->expected[k]);
        cs->expected[k] = n[k]; /* from now on it must stay so */
        total += n[k];
    }
    assert_int_equal(query_int(db, "SELECT count(*) FROM events"), total);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    cs->committed += cs->expected[run] > 0;

    (void)snprintf(prefix, sizeof prefix, "r%d", run);
    (void)snprintf(name, sizeof name, "out-%d.json", run);
    (void)snprintf(out, sizeof out, "%s/%s", cs->dir, name);
    if (access(out, F_OK) == 0) {
        /* A summary exists only once the rows are committed, and lists them all. */
        if (cs->expected[run] != NLABELS) fail_msg("run %d: a summary but no rows", run);
        expect_summary(out, prefix, NLABELS, total);
        cs->summaries++;
        assert_int_equal(unlink(out), 0); /* keep the disk use flat */
    }
    cs->temps += temp_files(cs->dir, name, 1); /* SIGKILL cannot clean up: expected */
}

/* Run `run` to completion; its duration. */
static double full_run(crash_state *cs, int run) {
    char prefix[32], out[700];
    double t0;
    pid_t pid;
    (void)snprintf(prefix, sizeof prefix, "r%d", run);
    (void)snprintf(out, sizeof out, "%s/out-%d.json", cs->dir, run);
    write_labels(cs->in, prefix, NLABELS);
    t0 = now();
    pid = spawn_cli(ARGS("run", "--input", cs->in, "--output", out, "--db", cs->db, "--quiet",
                         "--timeout", "10"),
                    NULL, cs->err);
    expect_status(wait_cli(pid, 15), 0, cs->err);
    cs->expected[run] = NLABELS;
    cs->completed++;
    return now() - t0;
}

/* Run `run` and SIGKILL it after `delay` seconds (if it is still running by then). */
static void killed_run(crash_state *cs, int run, double delay) {
    char prefix[32], out[700];
    int status;
    pid_t pid;
    (void)snprintf(prefix, sizeof prefix, "r%d", run);
    (void)snprintf(out, sizeof out, "%s/out-%d.json", cs->dir, run);
    write_labels(cs->in, prefix, NLABELS);
    pid = spawn_cli(ARGS("run", "--input", cs->in, "--output", out, "--db", cs->db, "--quiet",
                         "--timeout", "10"),
                    NULL, cs->err);
    sleep_for(delay);
    status = kill_cli(pid);
    if (status == 0) {
        cs->expected[run] = NLABELS; /* it finished first */
        cs->completed++;
    } else {
        expect_status(status, 128 + SIGKILL, cs->err);
        cs->expected[run] = -1;
        cs->killed++;
    }
}

/* 40 runs of 20,000 labels into one file database, each killed with SIGKILL after a random
 * delay within the time a whole run takes (every tenth runs to the end, to re-measure that
 * time as the table grows). After each: the database is whole and atomic per run. */
static void test_crash_sigkill_random_points(void **state) {
    static crash_state crash; /* static: large, and not leaked when an assertion fails */
    crash_state *cs = &crash;
    unsigned seed = CRASH_SEED;
    double t_run, start = now();
    int run;
    memset(cs, 0, sizeof *cs);
    path_in(state, cs->dir, sizeof cs->dir, "");
    path_in(state, cs->db, sizeof cs->db, "crash.db");
    path_in(state, cs->in, sizeof cs->in, "labels.txt");
    path_in(state, cs->err, sizeof cs->err, "stderr.txt");
    printf("# seed %u\n", seed);

    t_run = full_run(cs, 0);
    check_after(cs, 0);
    for (run = 1; run <= CRASH_RUNS && now() - start < CRASH_BUDGET; run++) {
        if (run % 10 == 0) {
            t_run = full_run(cs, run);
        } else {
            double delay = rng_unit(&seed) * 1.15 * t_run; /* some finish first */
            killed_run(cs, run, delay);
        }
        check_after(cs, run);
    }
    printf("# %d runs in %.1f s (last full run %.0f ms): %d killed, %d ran to the end, "
           "%d committed, %d summaries, %d temporary files left by SIGKILL\n",
           run, now() - start, t_run * 1000, cs->killed, cs->completed, cs->committed,
           cs->summaries, cs->temps);
    assert_true(run > 10); /* enough iterations to mean something, even on a loaded machine */
    assert_true(cs->killed > 0);
}

/* ---- 2. two runs at once ---- */

/* Two runs on one file database at the same moment (the first round creates it): both wait
 * for the other's lock and succeed, and each label is there exactly once. */
static void test_crash_two_processes_contend(void **state) {
    char db[600], in[2][600], out[2][600], err[2][600], prefix[32];
    path_in(state, db, sizeof db, "shared.db");
    for (int round = 0; round < 3; round++) {
        pid_t pid[2];
        sqlite3 *h;
        for (int p = 0; p < 2; p++) {
            char name[64];
            (void)snprintf(name, sizeof name, "in-%d.txt", p);
            path_in(state, in[p], sizeof in[p], name);
            (void)snprintf(name, sizeof name, "out-%d.json", p);
            path_in(state, out[p], sizeof out[p], name);
            (void)snprintf(name, sizeof name, "err-%d.txt", p);
            path_in(state, err[p], sizeof err[p], name);
            (void)snprintf(prefix, sizeof prefix, "%c%d", "ab"[p], round);
            write_labels(in[p], prefix, NLABELS);
        }
        for (int p = 0; p < 2; p++)
            pid[p] = spawn_cli(ARGS("run", "--input", in[p], "--output", out[p], "--db", db,
                                    "--quiet", "--timeout", "10"),
                               NULL, err[p]);
        for (int p = 0; p < 2; p++)
            expect_status(wait_cli(pid[p], 20), 0, err[p]);

        h = open_db(db);
        expect_integrity_ok(h);
        for (int r = 0; r <= round; r++)
            for (int p = 0; p < 2; p++) {
                int distinct;
                (void)snprintf(prefix, sizeof prefix, "%c%d", "ab"[p], r);
                assert_int_equal(count_prefix(h, prefix, &distinct), NLABELS);
                assert_true(distinct);
            }
        assert_int_equal(query_int(h, "SELECT count(*) FROM events"), 2LL * NLABELS * (round + 1));
        assert_int_equal(sqlite3_close(h), SQLITE_OK);
        for (int p = 0; p < 2; p++) {
            json_t *doc = json_load_file(out[p], 0, NULL);
            if (doc == NULL) fail_msg("'%s' is not a complete summary", out[p]);
            assert_int_equal(json_integer_value(json_object_get(doc, "rows_inserted")), NLABELS);
            json_decref(doc);
        }
    }
}

/* ---- 3. a writer that holds the lock past --timeout ---- */

/* stderr holds exactly one "sqlpool: " line, and it contains needle. */
static void expect_one_error_line(const char *err_path, const char *needle) {
    char *err = read_text(err_path), *line = err, *found = NULL;
    int n = 0;
    while (line != NULL && *line != '\0') {
        char *nl = strchr(line, '\n');
        if (nl == NULL) fail_msg("stderr does not end with a newline: '%s'", err);
        *nl = '\0';
        if (strncmp(line, "sqlpool: ", 9) == 0) {
            n++;
            found = line;
        }
        line = nl + 1;
    }
    if (n != 1) fail_msg("%d error lines on stderr, expected 1", n);
    if (strstr(found, needle) == NULL) fail_msg("'%s' does not contain '%s'", found, needle);
    free(err);
}

/* A database holding 100 labels "base-<i>", in journal_mode (WAL or DELETE). */
static void make_db(void **state, const char *db, const char *journal_mode) {
    char in[600], out[600], err[600], *sql;
    sqlite3 *h;
    path_in(state, in, sizeof in, "base.txt");
    path_in(state, out, sizeof out, "base.json");
    path_in(state, err, sizeof err, "base-err.txt");
    write_labels(in, "base", 100);
    expect_status(
        wait_cli(spawn_cli(ARGS("run", "--input", in, "--output", out, "--db", db, "--quiet"), NULL,
                           err),
                 15),
        0, err);
    h = open_db(db);
    sql = testutil_format("PRAGMA journal_mode=%s", journal_mode);
    exec_sql(h, sql);
    free(sql);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* Hold BEGIN EXCLUSIVE for 3 s; a run with --timeout 0.3 must give up while it is held:
 * exit 75, one line saying the database is locked, no output, none of its labels. */
static void locked_past_timeout(void **state, const char *journal_mode) {
    char db[600], in[600], out[600], err[600], dir[600];
    sqlite3 *h;
    double t0, waited;
    int status, distinct;
    pid_t pid;
    path_in(state, dir, sizeof dir, "");
    path_in(state, db, sizeof db, "locked.db");
    path_in(state, in, sizeof in, "x.txt");
    path_in(state, out, sizeof out, "summary.json");
    path_in(state, err, sizeof err, "err.txt");
    make_db(state, db, journal_mode);
    write_labels(in, "x", NLABELS);

    h = open_db(db);
    exec_sql(h, "BEGIN EXCLUSIVE");
    exec_sql(h, "INSERT INTO events (label) VALUES ('holder')");
    t0 = now();
    pid = spawn_cli(ARGS("run", "--input", in, "--output", out, "--db", db, "--timeout", "0.3"),
                    NULL, err);
    status = wait_until(pid, 3.0);
    waited = now() - t0;
    exec_sql(h, "ROLLBACK");
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
    if (status < 0) {
        status = wait_cli(pid, 15);
        fail_msg("sqlpool was still waiting after the lock was held 3 s (--timeout 0.3); it "
                 "then exited %d; stderr:\n%s",
                 status, read_text(err));
    }
    printf("# gave up after %.2f s\n", waited);
    expect_status(status, 75, err);
    expect_one_error_line(err, "database is locked");
    expect_absent(out);
    assert_int_equal(temp_files(dir, "summary.json", 0), 0);

    h = open_db(db);
    expect_integrity_ok(h);
    assert_int_equal(count_prefix(h, "x", &distinct), 0);
    assert_int_equal(count_prefix(h, "base", &distinct), 100);
    assert_int_equal(query_int(h, "SELECT count(*) FROM events"), 100);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* WAL: the run connects, then BEGIN IMMEDIATE waits out its busy timeout. */
static void test_crash_lock_held_past_timeout_wal(void **state) {
    locked_past_timeout(state, "WAL");
}

/* Rollback journal: the exclusive lock keeps even readers out, so the connect itself waits. */
static void test_crash_lock_held_past_timeout_rollback(void **state) {
    locked_past_timeout(state, "DELETE");
}

/* ---- 4. the output device is full ---- */

/* --output /dev/full with 20,000 labels: exit 74 with one line naming the device and the
 * error, nothing on stdout, and the database as it was. --quiet: without it, what was written
 * to the device is copied to stdout as it goes, so a failed run leaves part of a summary
 * there (documented for devices). */
static void test_crash_output_dev_full(void **state) {
    char db[600], in[600], err[600], outp[600];
    char *stdout_text;
    sqlite3 *h;
    int distinct;
    path_in(state, db, sizeof db, "full.db");
    path_in(state, in, sizeof in, "y.txt");
    path_in(state, err, sizeof err, "err.txt");
    path_in(state, outp, sizeof outp, "stdout.txt");
    make_db(state, db, "WAL");
    write_labels(in, "y", NLABELS);
    expect_status(wait_cli(spawn_cli(ARGS("run", "--input", in, "--output", "/dev/full", "--db", db,
                                          "--quiet"),
                                     outp, err),
                           15),
                  74, err);
    expect_one_error_line(err, "No space left");
    expect_one_error_line(err, "/dev/full");
    stdout_text = read_text(outp);
    assert_string_equal(stdout_text, "");
    free(stdout_text);

    h = open_db(db);
    expect_integrity_ok(h);
    assert_int_equal(count_prefix(h, "y", &distinct), 0);
    assert_int_equal(query_int(h, "SELECT count(*) FROM events"), 100);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* The same on a database the run creates: it stays, intact and empty. */
static void test_crash_output_dev_full_new_db(void **state) {
    char db[600], in[600], err[600];
    path_in(state, db, sizeof db, "new.db");
    path_in(state, in, sizeof in, "y.txt");
    path_in(state, err, sizeof err, "err.txt");
    write_labels(in, "y", NLABELS);
    expect_status(wait_cli(spawn_cli(ARGS("run", "--input", in, "--output", "/dev/full", "--db", db,
                                          "--quiet"),
                                     NULL, err),
                           15),
                  74, err);
    expect_one_error_line(err, "No space left");
    /* The new database stays, intact, without the events table the rolled-back run made. */
    {
        sqlite3 *h = open_db(db);
        expect_integrity_ok(h);
        assert_int_equal(query_int(h, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"),
                         0);
        assert_int_equal(sqlite3_close(h), SQLITE_OK);
    }
}

static const struct CMUnitTest tests[] = {
    T(test_crash_sigkill_random_points),
    T(test_crash_two_processes_contend),
    T(test_crash_lock_held_past_timeout_wal),
    T(test_crash_lock_held_past_timeout_rollback),
    T(test_crash_output_dev_full),
    T(test_crash_output_dev_full_new_db),
};

SQLPOOL_TEST_MAIN(tests)
