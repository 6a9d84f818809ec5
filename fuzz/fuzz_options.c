/*
 * fuzz_options.c: the command-line parsers (cli/options.c for run and health,
 * cli/bench_options.c for bench) on argument vectors made by splitting the input at NUL bytes.
 * A refusal is EXIT_USAGE with a non-empty one-line message; an acceptance leaves every value
 * in its documented range and every string pointing at an argument or a default.
 */
#include "bench.h"
#include "exitcodes.h"
#include "options.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int line, const char *fmt, ...) {
    va_list ap;
    (void)fprintf(stderr, "fuzz_options.c:%d: invariant broken: ", line);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
    abort();
}
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) fail(__LINE__, __VA_ARGS__);                                                  \
    } while (0)

#define MAX_ARGS 32
#define ERRLEN 256

typedef struct args {
    int argc;
    char *argv[MAX_ARGS + 3]; /* program, "bench", the arguments, NULL */
} args;

/* 1 when s points into one of the arguments (a value may start after "--flag="). */
static int in_args(const args *a, const char *s) {
    uintptr_t p = (uintptr_t)s;
    for (int i = 0; i < a->argc; i++) {
        uintptr_t start = (uintptr_t)a->argv[i];
        if (p >= start && p <= start + strlen(a->argv[i])) return 1;
    }
    return 0;
}

static int is_bool(int v) {
    return v == 0 || v == 1;
}

static int between(double v, double lo, double hi) {
    return isfinite(v) && v >= lo && v <= hi;
}

static void check_error(int rc, const char *err) {
    CHECK(rc == EXIT_USAGE, "refused with %d", rc);
    CHECK(err[0] != '\0', "refused without a message");
    CHECK(strlen(err) < ERRLEN, "message not terminated");
    CHECK(strchr(err, '\n') == NULL, "message on more than one line: '%s'", err);
}

static void check_run(args *a) {
    cli_options o;
    char *err = malloc(ERRLEN);
    int rc;
    CHECK(err != NULL, "out of memory");
    err[0] = '\0';
    memset(&o, 0xa5, sizeof o);
    rc = options_parse(a->argc, a->argv, &o, err, ERRLEN);
    if (rc != 0) {
        check_error(rc, err);
        free(err);
        return;
    }
    CHECK(o.command == CMD_RUN || o.command == CMD_HEALTH, "command %d", (int)o.command);
    CHECK(o.db != NULL && o.input != NULL && o.output != NULL, "a NULL string");
    CHECK(strcmp(o.db, ":memory:") == 0 || in_args(a, o.db), "--db '%s'", o.db);
    CHECK(strcmp(o.input, "data/sample_input.txt") == 0 || in_args(a, o.input), "--input");
    CHECK(strcmp(o.output, "data/output_summary.json") == 0 || in_args(a, o.output), "--output");
    CHECK(o.input[0] != '\0' && o.output[0] != '\0' && o.db[0] != '\0', "an empty string");
    CHECK(o.pool_size >= 1 && o.pool_size <= 100000, "--pool-size %d", o.pool_size);
    CHECK(between(o.timeout, 0.0, 86400.0), "--timeout %g", o.timeout);
    CHECK(o.retries >= 0 && o.retries <= 100, "--retries %d", o.retries);
    CHECK(o.log_level >= 0 && o.log_level <= 3, "--log-level %d", o.log_level);
    CHECK(between(o.statement_timeout, 0.0, 86400.0), "--statement-timeout %g",
          o.statement_timeout);
    CHECK(is_bool(o.pg_unnamed_statements), "--pg-unnamed-statements %d", o.pg_unnamed_statements);
    /* PostgreSQL's flags are refused for a SQLite --db (":memory:" when none is given). */
    CHECK((o.read_db == NULL && o.pg_reset_query == NULL && !o.pg_unnamed_statements) || o.help ||
              o.version || strcmp(sqlpool_db_backend(o.db), "postgresql") == 0,
          "a PostgreSQL flag for a SQLite --db");
    CHECK(o.command == CMD_RUN || o.read_db == NULL, "--read-db for health");
    CHECK(is_bool(o.quiet) && is_bool(o.help) && is_bool(o.version), "flags %d %d %d", o.quiet,
          o.help, o.version);
    if (o.command == CMD_HEALTH) /* --input, --output, --pool-size, --quiet are run's */
        CHECK(o.quiet == 0 && o.pool_size == 5 && strcmp(o.input, "data/sample_input.txt") == 0 &&
                  strcmp(o.output, "data/output_summary.json") == 0,
              "a run-only flag accepted by health");
    free(err);
}

static void check_sweep(const bench_options *o) {
    int max = o->sweep == BENCH_SWEEP_CLIENTS ? 10000 : 100000;
    if (o->sweep == BENCH_SWEEP_NONE) {
        CHECK(o->nsweep == 0, "%d sweep values without --sweep", o->nsweep);
        return;
    }
    CHECK(o->sweep == BENCH_SWEEP_CLIENTS || o->sweep == BENCH_SWEEP_POOL_SIZE, "sweep %d",
          (int)o->sweep);
    CHECK(o->nsweep >= 1 && o->nsweep <= BENCH_MAX_SWEEP, "%d sweep values", o->nsweep);
    for (int i = 0; i < o->nsweep; i++) {
        CHECK(o->sweep_values[i] >= 1 && o->sweep_values[i] <= max, "sweep value %d",
              o->sweep_values[i]);
        CHECK(i == 0 || o->sweep_values[i] > o->sweep_values[i - 1], "sweep not ascending");
    }
}

static void check_bench(args *a) {
    bench_options o;
    char *err = malloc(ERRLEN);
    int rc;
    CHECK(err != NULL, "out of memory");
    err[0] = '\0';
    memset(&o, 0xa5, sizeof o);
    rc = bench_options_parse(a->argc, a->argv, &o, err, ERRLEN);
    if (rc != 0) {
        check_error(rc, err);
        free(err);
        return;
    }
    CHECK(is_bool(o.help) && is_bool(o.json), "flags %d %d", o.help, o.json);
    CHECK(o.clients >= 1 && o.clients <= 10000, "--clients %d", o.clients);
    CHECK(between(o.duration, 0.0, 86400.0) && o.duration > 0.0, "--duration %g", o.duration);
    CHECK(o.transactions >= 0 && o.transactions <= 1000000000L, "--transactions %ld",
          o.transactions);
    CHECK(o.pool_size >= 0 && o.pool_size <= 100000, "--pool-size %d", o.pool_size);
    CHECK(o.max_open >= -1 && o.max_open <= 100000, "--max-open %d", o.max_open);
    CHECK(between(o.acquire_timeout, 0.0, 86400.0), "--acquire-timeout %g", o.acquire_timeout);
    CHECK(between(o.barge_window, 0.0, 60.0), "--barge-window %g", o.barge_window);
    CHECK(between(o.timeout, 0.0, 86400.0), "--timeout %g", o.timeout);
    CHECK(o.retries >= 0 && o.retries <= 100, "--retries %d", o.retries);
    CHECK(o.workload >= BENCH_SELECT1 && o.workload <= BENCH_MIXED, "--workload %d",
          (int)o.workload);
    CHECK(between(o.write_ratio, 0.0, 1.0), "--write-ratio %g", o.write_ratio);
    CHECK(is_bool(o.single_writer) && is_bool(o.compare), "flags %d %d", o.single_writer,
          o.compare);
    CHECK(between(o.think_time, 0.0, 3600.0), "--think-time %g", o.think_time);
    CHECK(o.mode >= BENCH_POOLED && o.mode <= BENCH_BOTH, "--mode %d", (int)o.mode);
    CHECK(between(o.fail_connect, 0.0, 1.0), "--fail-connect %g", o.fail_connect);
    CHECK(between(o.kill_every, 0.0, 86400.0), "--kill-every %g", o.kill_every);
    CHECK(between(o.statement_timeout, 0.0, 86400.0), "--statement-timeout %g",
          o.statement_timeout);
    CHECK(o.log_level >= 0 && o.log_level <= 3, "--log-level %d", o.log_level);
    check_sweep(&o);
    CHECK(o.timeline == NULL || (o.timeline[0] != '\0' && in_args(a, o.timeline)), "--timeline");
    CHECK(o.db == NULL || (o.db[0] != '\0' && in_args(a, o.db)), "--db");
    CHECK(o.plot == NULL || (o.plot[0] != '\0' && in_args(a, o.plot)), "--plot");
    if (!o.help && !o.version) { /* the rules between flags hold without --help, --version */
        CHECK(o.db != NULL, "no --db accepted");
        CHECK(o.plot == NULL || o.sweep != BENCH_SWEEP_NONE, "--plot without --sweep");
        CHECK(o.kill_every == 0.0 || o.mode != BENCH_UNPOOLED, "--kill-every with unpooled");
        CHECK(o.timeline == NULL ||
                  (o.sweep == BENCH_SWEEP_NONE && o.mode != BENCH_BOTH && !o.compare),
              "--timeline with more than one run");
    }
    free(err);
}

/* Split data at NUL bytes into a->argv[first..], each argument its own allocation. */
static void split(args *a, const uint8_t *data, size_t size, int first) {
    a->argc = first;
    while (a->argc < first + MAX_ARGS) {
        const uint8_t *nul = memchr(data, '\0', size);
        size_t n = nul != NULL ? (size_t)(nul - data) : size;
        char *s = malloc(n + 1);
        CHECK(s != NULL, "out of memory");
        memcpy(s, data, n);
        s[n] = '\0';
        a->argv[a->argc++] = s;
        if (nul == NULL) break;
        data += n + 1;
        size -= n + 1;
    }
    a->argv[a->argc] = NULL;
}

static void release(args *a, int first) {
    for (int i = first; i < a->argc; i++)
        free(a->argv[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char program[] = "sqlpool", bench[] = "bench";
    args a;

    a.argv[0] = program;
    if (size > 0) {
        split(&a, data, size, 1); /* sqlpool [run|health] --flag ... */
        check_run(&a);
        release(&a, 1);
    } else {
        a.argc = 1;
        a.argv[1] = NULL;
        check_run(&a);
    }
    a.argv[1] = bench;
    a.argc = 2;
    a.argv[2] = NULL;
    if (size > 0) split(&a, data, size, 2); /* sqlpool bench --flag ... */
    check_bench(&a);
    release(&a, 2);
    return 0;
}
