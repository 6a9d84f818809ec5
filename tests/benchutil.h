/*
 * benchutil.h: what test_bench.c and test_benchpg.c share: running `sqlpool bench`, reading its
 * JSON, and checking that its counts add up. Static inline, so each program takes what it uses.
 */
#ifndef SQLPOOL_TEST_BENCHUTIL_H
#define SQLPOOL_TEST_BENCHUTIL_H

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){"bench", __VA_ARGS__, NULL})

typedef struct bench_out {
    int status;
    char *out, *err;
    json_t *json; /* stdout parsed, when it was asked for */
} bench_out;

static inline void bench_out_free(bench_out *r) {
    free(r->out);
    free(r->err);
    json_decref(r->json);
}

/* Run sqlpool with args; parse stdout as JSON when json is non-zero and the run succeeded. */
static inline bench_out bench_run_cli(const char *cwd, const char *const *args, int json) {
    bench_out r = {0, NULL, NULL, NULL};
    r.status = testutil_run_cli(cwd, args, &r.out, &r.err);
    if (json && r.status == 0) {
        json_error_t e;
        r.json = json_loads(r.out, 0, &e);
        if (r.json == NULL) fail_msg("stdout is not JSON (%s): %s", e.text, r.out);
    }
    return r;
}

static inline void bench_expect_status(const bench_out *r, int status) {
    if (r->status != status)
        fail_msg("exit status %d, expected %d\nstdout: %s\nstderr: %s", r->status, status, r->out,
                 r->err);
}

static inline json_t *bench_runs(const bench_out *r) {
    json_t *runs = json_object_get(r->json, "runs");
    assert_true(json_is_array(runs));
    return runs;
}

static inline long long bench_int(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) fail_msg("'%s' is not an integer", key);
    return (long long)json_integer_value(v);
}

static inline double bench_real(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) fail_msg("'%s' is not a number", key);
    return json_number_value(v);
}

/* Run i of a --transactions run: every attempt counted once, every committed row there. */
static inline void bench_expect_counts(json_t *run, long long clients, long long per_client,
                                       int expect_no_errors, long long seed_rows) {
    long long tx = bench_int(run, "transactions"), errors = bench_int(run, "errors");
    json_t *rows = json_object_get(run, "rows");
    assert_int_equal(bench_int(run, "clients"), clients);
    if (tx + errors != clients * per_client)
        fail_msg("transactions %lld + errors %lld != %lld clients x %lld", tx, errors, clients,
                 per_client);
    if (expect_no_errors) assert_int_equal(errors, 0);
    if (json_is_integer(rows))
        assert_int_equal(json_integer_value(rows), bench_int(run, "inserted") + seed_rows);
    assert_true(bench_real(run, "tps") > 0);
    assert_true(bench_real(json_object_get(run, "latency_ms"), "p50") <=
                bench_real(json_object_get(run, "latency_ms"), "p99"));
    assert_true(bench_real(json_object_get(run, "latency_ms"), "p99") <=
                bench_real(json_object_get(run, "latency_ms"), "max"));
}

/* Start sqlpool with args, stdout and stderr to files in dir; returns the pid. */
static inline pid_t bench_spawn(const char *dir, const char *const *args) {
    size_t argc = 0;
    const char **argv;
    pid_t pid;
    char *out = testutil_format("%s/stdout", dir), *err = testutil_format("%s/stderr", dir);
    while (args[argc] != NULL)
        argc++;
    argv = calloc(argc + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = SQLPOOL_CLI_PATH;
    memcpy(argv + 1, args, argc * sizeof *argv);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0) _exit(127);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(SQLPOOL_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    free(out);
    free(err);
    return pid;
}

/* Wait for pid; its exit status (128 + signal when killed). */
static inline int bench_wait(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_true(errno == EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static inline void bench_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Start a long run, SIGINT it after about a second: it exits 0 with the partial results. */
static inline void bench_expect_sigint_partial(const char *dir, const char *const *args) {
    pid_t pid = bench_spawn(dir, args);
    char *path, *out, *err;
    json_t *doc, *run;
    json_error_t e;
    int status;
    time_t t0 = time(NULL);
    bench_sleep_ms(1200);
    assert_int_equal(kill(pid, SIGINT), 0);
    status = bench_wait(pid);
    path = testutil_format("%s/stdout", dir);
    out = testutil_read_file(path, NULL);
    free(path);
    path = testutil_format("%s/stderr", dir);
    err = testutil_read_file(path, NULL);
    free(path);
    if (status != 0)
        fail_msg("exit status %d after SIGINT\nstdout: %s\nstderr: %s", status, out, err);
    assert_true(time(NULL) - t0 < 10); /* it stopped, not ran its 30 s */
    doc = json_loads(out, 0, &e);
    if (doc == NULL) fail_msg("stdout is not JSON after SIGINT: %s", out);
    assert_true(json_is_true(json_object_get(doc, "interrupted")));
    run = json_array_get(json_object_get(doc, "runs"), 0);
    assert_non_null(run);
    assert_true(bench_int(run, "transactions") > 0);
    json_decref(doc);
    free(out);
    free(err);
}

/* A fresh folder per test, with a database path in it, for the SQLite bench tests. */
typedef struct bench_fixture {
    char *dir;
    char *db;
} bench_fixture;

static inline int bench_fixture_setup(void **state) {
    bench_fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) return -1;
    fx->dir = testutil_tmpdir();
    fx->db = testutil_format("%s/bench.db", fx->dir);
    *state = fx;
    return 0;
}

static inline int bench_fixture_teardown(void **state) {
    bench_fixture *fx = *state;
    testutil_rmtree(fx->dir);
    free(fx->dir);
    free(fx->db);
    free(fx);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, bench_fixture_setup, bench_fixture_teardown)

#endif
