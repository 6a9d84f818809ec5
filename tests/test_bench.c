/* test_bench.c: `sqlpool bench` on SQLite: its flags, its counts, its modes, SIGINT. */
#include "benchutil.h"

#include <sqlite3.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

#define DB(state) (((bench_fixture *)*(state))->db)
#define DIR(state) (((bench_fixture *)*(state))->dir)

/* A usage error: exit 64, nothing on stdout, one "sqlpool: " line naming needle. */
static void expect_usage(const char *const *args, const char *needle) {
    bench_out r = bench_run_cli(NULL, args, 0);
    bench_expect_status(&r, 64);
    assert_string_equal(r.out, "");
    if (strncmp(r.err, "sqlpool: ", 9) != 0 || strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
        fail_msg("not one 'sqlpool: ' line: '%s'", r.err);
    if (strstr(r.err, needle) == NULL) fail_msg("'%s' does not name '%s'", r.err, needle);
    bench_out_free(&r);
}

static void test_bench_help(void **state) {
    bench_out r = bench_run_cli(NULL, ARGS("--help"), 0);
    (void)state;
    bench_expect_status(&r, 0);
    assert_non_null(strstr(r.out, "Usage: sqlpool bench"));
    assert_non_null(strstr(r.out, "--fail-connect"));
    bench_out_free(&r);
    /* --version, as for the other commands, without needing --db */
    r = bench_run_cli(NULL, ARGS("--version"), 0);
    bench_expect_status(&r, 0);
    assert_true(strncmp(r.out, "sqlpool ", 8) == 0);
    assert_non_null(strstr(r.out, "SQLite "));
    bench_out_free(&r);
}

/* Each numeric flag refuses 0 (where 0 is out of range), negatives, huge values, words and
 * trailing junk, naming itself. */
static void test_bench_rejects_bad_numbers(void **state) {
    static const struct {
        const char *flag, *bad[7];
    } cases[] = {
        {"--clients", {"0", "-1", "10001", "99999999999999999999", "four", "4x", ""}},
        {"--duration", {"0", "-1", "86401", "1e99", "five", "5s", "nan"}},
        {"--transactions", {"0", "-5", "1000000001", "1e3", "ten", "10 ", "0x10"}},
        {"--pool-size", {"0", "-1", "100001", "1e9", "x", "2,", " 2"}},
        {"--max-open", {"-1", "100001", "1e9", "none", "3x", "", "+3"}},
        {"--acquire-timeout", {"-1", "86401", "1e99", "inf", "3m", "", "0x1"}},
        {"--barge-window", {"-0.001", "61", "1e99", "nan", "1ms", "", "inf"}},
        {"--timeout", {"-0.5", "86401", "1e99", "nan", "5sec", "", "-inf"}},
        {"--retries", {"-1", "101", "1e2", "three", "3.5", "", "0x3"}},
        {"--think-time", {"-1", "3601", "1e99", "slow", "1s", "", "inf"}},
        {"--fail-connect", {"-0.1", "1.5", "2", "half", "0.3x", "", "nan"}},
        {"--kill-every", {"0", "-1", "86401", "1e99", "often", "1s", ""}},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int k = 0; k < 7; k++) {
            char *arg = testutil_format("%s=%s", cases[i].flag, cases[i].bad[k]);
            expect_usage(ARGS("--db", "x.db", arg), cases[i].flag);
            free(arg);
        }
    /* The same with the value as the next argument. */
    expect_usage(ARGS("--db", "x.db", "--clients", "-3"), "--clients");
    expect_usage(ARGS("--db", "x.db", "--duration", "0"), "--duration");
    expect_usage(ARGS("--db", "x.db", "--clients"), "--clients");
}

static void test_bench_rejects_bad_choices(void **state) {
    (void)state;
    expect_usage(ARGS("--db", "x.db", "--workload", "tpcb"), "--workload");
    expect_usage(ARGS("--db", "x.db", "--workload", ""), "--workload");
    expect_usage(ARGS("--db", "x.db", "--workload", "Mixed"), "--workload");
    expect_usage(ARGS("--db", "x.db", "--mode", "pool"), "--mode");
    expect_usage(ARGS("--db", "x.db", "--mode=Pooled"), "--mode");
    expect_usage(ARGS("--db", "x.db", "--log-level", "loud"), "--log-level");
}

static void test_bench_rejects_bad_sweep(void **state) {
    static const char *const bad[] = {"clients",      "clients=",    "clients=1,,2",
                                      "clients=2,1",  "clients=0,1", "clients=1,2,",
                                      "threads=1,2",  "clients=1;2", "pool-size=1,x",
                                      "pool-size=-1", "=1,2",        "clients=1,1"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *arg = testutil_format("--sweep=%s", bad[i]);
        expect_usage(ARGS("--db", "x.db", arg), "--sweep");
        free(arg);
    }
}

static void test_bench_rejects_conflicts(void **state) {
    (void)state;
    expect_usage(ARGS("--db", "x.db", "--duration", "1", "--transactions", "5"), "--duration");
    expect_usage(ARGS("--db", "x.db", "--plot", "a.svg"), "--plot");
    expect_usage(ARGS("--db", "x.db", "--sweep", "clients=1,2", "--clients", "2"), "--clients");
    expect_usage(ARGS("--db", "x.db", "--sweep", "pool-size=1,2", "--pool-size", "2"),
                 "--pool-size");
    expect_usage(ARGS("--db", "x.db", "--clients", "2", "--clients", "3"), "--clients");
    expect_usage(ARGS("--db", "x.db", "--json=yes"), "--json");
    expect_usage(ARGS("--db", "x.db", "--frobnicate"), "--frobnicate");
    expect_usage(ARGS("--db", "x.db", "extra"), "extra");
    expect_usage(ARGS("--clients", "2"), "--db");
    expect_usage(ARGS("--db", "x.db", "--input", "f"), "--input"); /* run's flag */
    expect_usage(ARGS("--db", "x.db", "--mode", "unpooled", "--kill-every", "1"), "--kill-every");
}

/* No way to break a SQLite connection from outside, and no unpooled :memory:. */
static void test_bench_refuses_what_sqlite_cannot_do(void **state) {
    expect_usage(ARGS("--db", DB(state), "--kill-every", "1"), "--kill-every");
    expect_usage(ARGS("--db", ":memory:", "--mode", "unpooled"), "--mode");
    expect_usage(ARGS("--db", ":memory:", "--mode", "both"), "--mode");
}

/* The PostgreSQL-only flags on a SQLite database: refused, naming the flag. */
static void test_bench_refuses_pg_only_flags(void **state) {
    expect_usage(ARGS("--db", DB(state), "--read-db", "host=x"), "--read-db is for PostgreSQL");
    expect_usage(ARGS("--db", DB(state), "--pg-unnamed-statements"),
                 "--pg-unnamed-statements is for PostgreSQL");
    expect_usage(ARGS("--db", ":memory:", "--pg-reset-query", "DISCARD ALL"),
                 "--pg-reset-query is for PostgreSQL");
    expect_usage(ARGS("--db", DB(state), "--statement-timeout", "0"),
                 "--statement-timeout is for PostgreSQL");
    expect_usage(ARGS("--db", DB(state), "--statement-timeout", "-1"), "--statement-timeout");
    expect_usage(ARGS("--db", DB(state), "--pg-unnamed-statements=1"), "takes no value");
}

/* --timeline: one run only; never over the database. */
static void test_bench_timeline_refusals(void **state) {
    expect_usage(ARGS("--db", DB(state), "--timeline", "t.svg", "--sweep", "clients=1,2"),
                 "--timeline charts one run");
    expect_usage(ARGS("--db", DB(state), "--timeline", "t.svg", "--mode", "both"),
                 "--timeline charts one run");
    expect_usage(ARGS("--db", DB(state), "--timeline", DB(state)), "--timeline");
    expect_usage(ARGS("--db", DB(state), "--timeline", "t.svg", "--compare", "single-writer"),
                 "--timeline charts one run");
}

/* A 1 s run on SQLite: about 10 samples of 100 ms in the JSON, one marker each in the SVG,
 * the samples adding up to the run's counts. */
static void test_bench_timeline_sqlite(void **state) {
    char *svg = testutil_format("%s/timeline.svg", DIR(state)), *text, *p;
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--clients", "2", "--duration", "1",
                                     "--workload", "insert", "--timeline", svg, "--json"),
                                1);
    json_t *run, *tl;
    long long tx = 0, errors = 0;
    size_t n, markers = 0;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    tl = json_object_get(run, "timeline");
    assert_true(json_is_array(tl));
    n = json_array_size(tl);
    if (n < 9 || n > 12) fail_msg("%zu samples for a 1 s run, expected about 10", n);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(tl, i);
        tx += bench_int(s, "transactions");
        errors += bench_int(s, "errors");
        assert_true(bench_real(s, "t") > 0.0);
        assert_true(bench_real(s, "p99_ms") >= 0.0);
    }
    assert_int_equal(tx, bench_int(run, "transactions"));
    assert_int_equal(errors, bench_int(run, "errors"));
    text = testutil_read_file(svg, NULL);
    assert_non_null(text);
    assert_true(strncmp(text, "<?xml", 5) == 0);
    assert_non_null(strstr(text, "</svg>\n"));
    for (p = text; (p = strstr(p, "class=\"point transactions throughput\"")) != NULL; p++)
        markers++;
    assert_int_equal(markers, n);
    free(text);
    free(svg);
    bench_out_free(&r);
}

/* Without --timeline the JSON has no "timeline". */
static void test_bench_no_timeline_without_flag(void **state) {
    bench_out r = bench_run_cli(NULL, ARGS("--db", DB(state), "--transactions", "5", "--json"), 1);
    bench_expect_status(&r, 0);
    assert_null(json_object_get(json_array_get(bench_runs(&r), 0), "timeline"));
    bench_out_free(&r);
}

/* A --transactions run of workload on the test's file: its counts add up. */
static void expect_workload(void **state, const char *workload, long long seed) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", workload, "--clients", "3",
                                     "--transactions", "40", "--json"),
                                1);
    json_t *runs;
    bench_expect_status(&r, 0);
    runs = bench_runs(&r);
    assert_int_equal(json_array_size(runs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "mode")),
                        "pooled");
    bench_expect_counts(json_array_get(runs, 0), 3, 40, 1, seed);
    assert_int_equal(bench_int(json_array_get(runs, 0), "transactions"), 120);
    bench_out_free(&r);
}

static void test_bench_select1_counts(void **state) {
    expect_workload(state, "select1", 0);
}
static void test_bench_insert_counts(void **state) {
    expect_workload(state, "insert", 0);
}
static void test_bench_read_write_counts(void **state) {
    expect_workload(state, "read-write", 100);
}

/* Throughput mode with many clients on few connections: every transaction is counted, none
 * times out. */
static void test_bench_barge_window_counts(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", "insert", "--clients", "16",
                                     "--max-open", "2", "--barge-window", "0.001", "--transactions",
                                     "50", "--json"),
                                1);
    json_t *run;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    bench_expect_counts(run, 16, 50, 1, 0);
    assert_int_equal(bench_int(run, "transactions"), 800);
    assert_int_equal(bench_int(run, "timeouts"), 0);
    assert_true(bench_real(r.json, "barge_window") == 0.001);
    bench_out_free(&r);
}

static void test_bench_table_output(void **state) {
    bench_out r = bench_run_cli(NULL, ARGS("--db", DB(state), "--duration", "0.3"), 0);
    bench_expect_status(&r, 0);
    assert_non_null(strstr(r.out, "transactions"));
    assert_non_null(strstr(r.out, "\npooled "));
    /* Every time column gives its unit. */
    for (int i = 0; i < 6; i++) {
        static const char *const cols[] = {"p50 ms", "p95 ms",      "p99 ms",
                                           "max ms", "wait p50 ms", "wait p99 ms"};
        if (strstr(r.out, cols[i]) == NULL) fail_msg("no column '%s':\n%s", cols[i], r.out);
    }
    assert_string_equal(r.err, ""); /* no progress line: stderr is not a terminal */
    bench_out_free(&r);
}

static void test_bench_mode_both_gives_two_rows(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", "insert", "--mode", "both",
                                     "--clients", "2", "--transactions", "25", "--json"),
                                1);
    json_t *runs;
    bench_expect_status(&r, 0);
    runs = bench_runs(&r);
    assert_int_equal(json_array_size(runs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "mode")),
                        "pooled");
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "mode")),
                        "unpooled");
    bench_expect_counts(json_array_get(runs, 0), 2, 25, 1, 0);
    bench_expect_counts(json_array_get(runs, 1), 2, 25, 1, 0);
    /* Unpooled: a connect per transaction. */
    assert_int_equal(bench_int(json_array_get(runs, 1), "connects"), 50);
    bench_out_free(&r);
}

/* Injected connect failures are retried, and no committed row is lost. 32 clients starting
 * at once make some 31 pooled connects (and the unpooled run 320): at 0.3 a run without a
 * retry has odds of 0.7^31, about 1.6e-5. */
static void test_bench_fail_connect_retries_without_loss(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", "read-write", "--mode",
                                     "both", "--clients", "32", "--pool-size", "1", "--max-open",
                                     "0", "--transactions", "10", "--fail-connect", "0.3",
                                     "--retries", "6", "--json"),
                                1);
    json_t *runs;
    bench_expect_status(&r, 0);
    runs = bench_runs(&r);
    assert_int_equal(json_array_size(runs), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *run = json_array_get(runs, i);
        bench_expect_counts(run, 32, 10, 0, 100);
        if (bench_int(run, "retries") <= 0)
            fail_msg("run %zu: no connect retries with --fail-connect 0.3: %s", i, r.out);
    }
    bench_out_free(&r);
}

static void test_bench_sweep_and_plot(void **state) {
    char *svg = testutil_format("%s/chart.svg", DIR(state)), *text;
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--sweep", "clients=1,2,3", "--mode",
                                     "both", "--transactions", "10", "--json", "--plot", svg),
                                1);
    json_t *runs;
    bench_expect_status(&r, 0);
    runs = bench_runs(&r);
    assert_int_equal(json_array_size(runs), 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(bench_int(json_array_get(runs, i), "clients"), (long long)(i / 2 + 1));
        bench_expect_counts(json_array_get(runs, i), (long long)(i / 2 + 1), 10, 1, 0);
    }
    text = testutil_read_file(svg, NULL);
    if (text == NULL || strstr(text, "<svg") == NULL) fail_msg("no SVG in %s", svg);
    free(text);
    free(svg);
    bench_out_free(&r);
}

static void test_bench_sweep_pool_size(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--sweep", "pool-size=1,2", "--clients",
                                     "3", "--transactions", "10", "--json"),
                                1);
    json_t *runs;
    bench_expect_status(&r, 0);
    runs = bench_runs(&r);
    assert_int_equal(json_array_size(runs), 2);
    assert_int_equal(bench_int(json_array_get(runs, 0), "pool_size"), 1);
    assert_int_equal(bench_int(json_array_get(runs, 0), "max_open"), 1);
    assert_int_equal(bench_int(json_array_get(runs, 1), "pool_size"), 2);
    bench_expect_counts(json_array_get(runs, 0), 3, 10, 1, 0);
    bench_out_free(&r);
}

/* A mixed run's reads and writes, apart and adding up to the run's: every write inserted a
 * row, and every one is in the table. */
static void expect_kinds(json_t *run, long long clients, long long per_client) {
    json_t *reads = json_object_get(run, "reads"), *writes = json_object_get(run, "writes");
    if (!json_is_object(reads) || !json_is_object(writes)) fail_msg("no reads or writes apart");
    bench_expect_counts(run, clients, per_client, 1, 100);
    assert_int_equal(bench_int(reads, "transactions") + bench_int(writes, "transactions"),
                     bench_int(run, "transactions"));
    assert_int_equal(bench_int(reads, "errors") + bench_int(writes, "errors"),
                     bench_int(run, "errors"));
    assert_int_equal(bench_int(writes, "transactions"), bench_int(run, "inserted"));
    if (bench_int(reads, "transactions") == 0 || bench_int(writes, "transactions") == 0)
        fail_msg("reads %lld, writes %lld at --write-ratio 0.5", bench_int(reads, "transactions"),
                 bench_int(writes, "transactions"));
    for (int k = 0; k < 2; k++) {
        json_t *kind = k ? writes : reads, *lat = json_object_get(kind, "latency_ms");
        assert_true(bench_real(kind, "tps") > 0);
        assert_true(bench_real(lat, "p50") <= bench_real(lat, "p99"));
        assert_true(bench_real(lat, "p99") <= bench_real(lat, "max"));
        assert_true(bench_real(lat, "max") <=
                    bench_real(json_object_get(run, "latency_ms"), "max"));
        (void)bench_real(json_object_get(kind, "acquire_wait_ms"), "p99");
    }
}

/* The WAL bound's counters are in every pooled run's pool stats. */
static void expect_wal_counters(json_t *run) {
    json_t *pool = json_object_get(run, "pool");
    if (!json_is_object(pool)) fail_msg("no pool stats in the run");
    assert_true(bench_int(pool, "checkpoints") >= 0);
    assert_true(bench_int(pool, "checkpoints_busy") <= bench_int(pool, "checkpoints"));
    assert_true(bench_int(pool, "wal_peak") > 0); /* the writes went through the WAL */
}

static void test_bench_mixed_reads_and_writes_apart(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", "mixed", "--write-ratio",
                                     "0.5", "--clients", "4", "--transactions", "50", "--json"),
                                1);
    json_t *run;
    bench_expect_status(&r, 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "workload")), "mixed");
    assert_true(bench_real(r.json, "write_ratio") == 0.5);
    run = json_array_get(bench_runs(&r), 0);
    expect_kinds(run, 4, 50);
    assert_true(json_is_false(json_object_get(run, "single_writer")));
    expect_wal_counters(run);
    assert_null(json_object_get(json_object_get(run, "pool"), "lanes"));
    bench_out_free(&r);
}

/* On a single-writer pool: no error, one writer, the reads on the readers' lane. */
static void test_bench_mixed_single_writer(void **state) {
    bench_out r =
        bench_run_cli(NULL,
                      ARGS("--db", DB(state), "--workload", "mixed", "--write-ratio", "0.5",
                           "--single-writer", "--clients", "8", "--pool-size", "2", "--max-open",
                           "2", "--timeout", "0.2", "--transactions", "40", "--json"),
                      1);
    json_t *run, *lanes;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    expect_kinds(run, 8, 40);
    assert_true(json_is_true(json_object_get(run, "single_writer")));
    assert_int_equal(bench_int(run, "pool_size"), 2); /* the readers' */
    expect_wal_counters(run);
    lanes = json_object_get(json_object_get(run, "pool"), "lanes");
    if (!json_is_object(lanes)) fail_msg("no lanes in a single-writer pool's stats: %s", r.out);
    assert_int_equal(bench_int(json_object_get(lanes, "write"), "max_open"), 1);
    assert_int_equal(bench_int(json_object_get(lanes, "read"), "max_open"), 2);
    /* Each transaction borrowed once, from its own lane. */
    assert_int_equal(bench_int(json_object_get(lanes, "write"), "acquires"),
                     bench_int(json_object_get(run, "writes"), "transactions"));
    assert_int_equal(bench_int(json_object_get(lanes, "read"), "acquires"),
                     bench_int(json_object_get(run, "reads"), "transactions"));
    bench_out_free(&r);
}

/* The table: a mixed run's reads and writes under it, a single-writer pool shown as N+1. */
static void test_bench_mixed_table(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", "mixed", "--single-writer",
                                     "--pool-size", "3", "--clients", "2", "--transactions", "20"),
                                0);
    bench_expect_status(&r, 0);
    assert_non_null(strstr(r.out, "mixed (20% writes)"));
    if (strstr(r.out, "\npooled ") == NULL || strstr(r.out, "\n  reads ") == NULL ||
        strstr(r.out, "\n  writes ") == NULL || strstr(r.out, " 3+1 ") == NULL)
        fail_msg("no pooled, reads and writes rows, or no pool 3+1:\n%s", r.out);
    assert_string_equal(r.err, "");
    bench_out_free(&r);
}

/* --write-ratio: 0 to 1, and only with --workload mixed; 0 and 1 are all reads, all writes. */
static void test_bench_write_ratio_bounds(void **state) {
    static const char *const bad[] = {"-0.1", "1.5", "2", "half", "0.3x", "", "nan", "1e-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *arg = testutil_format("--write-ratio=%s", bad[i]);
        expect_usage(ARGS("--db", "x.db", "--workload", "mixed", arg), "--write-ratio");
        free(arg);
    }
    expect_usage(ARGS("--db", "x.db", "--write-ratio", "0.5"), "--workload mixed");
    expect_usage(ARGS("--db", "x.db", "--workload", "read-write", "--write-ratio", "0.5"),
                 "--workload mixed");
    for (int w = 0; w < 2; w++) {
        bench_out r =
            bench_run_cli(NULL,
                          ARGS("--db", DB(state), "--workload", "mixed", "--write-ratio",
                               w ? "1" : "0", "--clients", "2", "--transactions", "10", "--json"),
                          1);
        json_t *run;
        bench_expect_status(&r, 0);
        run = json_array_get(bench_runs(&r), 0);
        bench_expect_counts(run, 2, 10, 1, 100);
        assert_int_equal(bench_int(json_object_get(run, w ? "writes" : "reads"), "transactions"),
                         20);
        assert_int_equal(bench_int(json_object_get(run, w ? "reads" : "writes"), "transactions"),
                         0);
        bench_out_free(&r);
    }
}

/* --single-writer and --compare: what they cannot be combined with, and the databases the
 * library refuses a single-writer pool (one line, exit 64, naming the flag). */
static void test_bench_single_writer_refusals(void **state) {
    char *ro = testutil_format("file:%s?mode=ro", DB(state));
    sqlite3 *db = NULL;
    expect_usage(ARGS("--db", "x.db", "--single-writer", "--mode", "unpooled"), "--single-writer");
    expect_usage(ARGS("--db", "x.db", "--single-writer=yes"), "--single-writer");
    expect_usage(ARGS("--db", "x.db", "--compare", "single-writer", "--single-writer"),
                 "--single-writer");
    expect_usage(ARGS("--db", "x.db", "--compare", "unpooled"), "--compare");
    expect_usage(ARGS("--db", "x.db", "--compare", "single-writer", "--mode", "both"), "--compare");
    expect_usage(ARGS("--db", ":memory:", "--single-writer", "--transactions", "1"),
                 "--single-writer");
    expect_usage(ARGS("--db", ":memory:", "--compare", "single-writer", "--transactions", "1"),
                 "--compare");
    assert_int_equal(sqlite3_open(DB(state), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_usage(ARGS("--db", ro, "--single-writer", "--transactions", "1"), "--single-writer");
    free(ro);
}

/* A mixed run with --group-commit n: no error, every committed write's row in the table (and
 * no other), the pool's group commit counts in the run's JSON. */
static void expect_group_commit(const char *const *args, long long n) {
    bench_out r = bench_run_cli(NULL, args, 1);
    json_t *run, *writes;
    long long commits, grouped;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    writes = json_object_get(run, "writes");
    assert_int_equal(bench_int(run, "errors"), 0);
    assert_int_equal(bench_int(run, "group_commit"), n);
    commits = bench_int(run, "group_commits");
    grouped = bench_int(run, "grouped");
    /* Each shared COMMIT carried two or more writes, each one committed (no errors). */
    if (grouped < 0 || commits > grouped || 2 * commits > grouped ||
        grouped > bench_int(writes, "transactions"))
        fail_msg("group_commits %lld, grouped %lld, writes %lld", commits, grouped,
                 bench_int(writes, "transactions"));
    /* The row check (exit 0 says it passed): one row per committed write, and the seed. */
    assert_int_equal(bench_int(run, "inserted"), bench_int(writes, "transactions"));
    assert_int_equal(bench_int(run, "rows"), bench_int(run, "inserted") + 100);
    bench_out_free(&r);
}

static void test_bench_group_commit_single_writer(void **state) {
    expect_group_commit(ARGS("--db", DB(state), "--workload", "mixed", "--write-ratio", "0.5",
                             "--clients", "8", "--duration", "1", "--single-writer",
                             "--group-commit", "8", "--json"),
                        8);
}

static void test_bench_group_commit_plain_pool(void **state) {
    expect_group_commit(ARGS("--db", DB(state), "--workload", "mixed", "--write-ratio", "0.5",
                             "--clients", "8", "--duration", "1", "--group-commit", "4", "--json"),
                        4);
}

/* Group commit only where it is on: a run without --group-commit and --mode both's unpooled
 * run say 0 and share no COMMIT; the table's line is there only when N > 1. */
static void test_bench_group_commit_only_where_on(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", "mixed", "--clients", "2",
                                     "--transactions", "20", "--json"),
                                1);
    json_t *run;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    expect_kinds(run, 2, 20);
    assert_int_equal(bench_int(run, "group_commit"), 0);
    assert_int_equal(bench_int(run, "group_commits"), 0);
    assert_int_equal(bench_int(run, "grouped"), 0);
    bench_out_free(&r);
    r = bench_run_cli(NULL,
                      ARGS("--db", DB(state), "--workload", "mixed", "--clients", "2",
                           "--transactions", "20", "--mode", "both", "--group-commit", "4",
                           "--json"),
                      1);
    bench_expect_status(&r, 0);
    assert_int_equal(json_array_size(bench_runs(&r)), 2);
    for (size_t i = 0; i < 2; i++) {
        run = json_array_get(bench_runs(&r), i);
        expect_kinds(run, 2, 20);
        assert_int_equal(bench_int(run, "group_commit"), i == 0 ? 4 : 0);
        if (i == 1) assert_int_equal(bench_int(run, "grouped"), 0);
    }
    bench_out_free(&r);
    r = bench_run_cli(NULL,
                      ARGS("--db", DB(state), "--workload", "mixed", "--clients", "2",
                           "--transactions", "20", "--group-commit", "1"),
                      0);
    bench_expect_status(&r, 0);
    if (strstr(r.out, "group commit:") != NULL) fail_msg("a group commit line at 1:\n%s", r.out);
    bench_out_free(&r);
    r = bench_run_cli(NULL,
                      ARGS("--db", DB(state), "--workload", "mixed", "--clients", "2",
                           "--transactions", "20", "--group-commit", "3"),
                      0);
    bench_expect_status(&r, 0);
    if (strstr(r.out, "\ngroup commit: up to 3 transactions per COMMIT; ") == NULL)
        fail_msg("no group commit line:\n%s", r.out);
    assert_string_equal(r.err, "");
    bench_out_free(&r);
}

/* --group-commit: a whole number from 0 to 1000000, for the pool only (one line, exit 64,
 * naming the flag). */
static void test_bench_group_commit_refusals(void **state) {
    static const char *const bad[] = {"-1",  "1000001", "99999999999999999999", "abc", "5x", "",
                                      "1e3", "2.5"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *arg = testutil_format("--group-commit=%s", bad[i]);
        expect_usage(ARGS("--db", "x.db", arg), "--group-commit");
        free(arg);
    }
    expect_usage(ARGS("--db", "x.db", "--group-commit"), "--group-commit");
    expect_usage(ARGS("--db", "x.db", "--group-commit", "2", "--mode", "unpooled"),
                 "--group-commit configures the pool");
    expect_usage(ARGS("--db", "x.db", "--group-commit", "0", "--mode", "unpooled"),
                 "--group-commit configures the pool");
}

/* --compare single-writer over a sweep: each point plain, then single-writer, and the chart
 * draws both pool kinds as its two series. */
static void test_bench_compare_sweep_plots_two_series(void **state) {
    static const char *const series[] = {
        "class=\"series plain throughput\"", "class=\"series single-writer throughput\"",
        "class=\"series plain p99\"",        "class=\"series single-writer p99\"",
        "class=\"legend-entry plain\"",      "class=\"legend-entry single-writer\""};
    char *svg = testutil_format("%s/sw.svg", DIR(state)), *text;
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--workload", "mixed", "--sweep",
                                     "clients=1,2,4", "--compare", "single-writer",
                                     "--transactions", "10", "--json", "--plot", svg),
                                1);
    json_t *runs;
    bench_expect_status(&r, 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "compare")), "single-writer");
    runs = bench_runs(&r);
    assert_int_equal(json_array_size(runs), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *run = json_array_get(runs, i);
        assert_int_equal(bench_int(run, "clients"), 1LL << (i / 2));
        assert_string_equal(json_string_value(json_object_get(run, "mode")), "pooled");
        if (json_is_true(json_object_get(run, "single_writer")) != (i % 2 == 1))
            fail_msg("run %zu: single_writer should be %s", i, i % 2 ? "true" : "false");
        bench_expect_counts(run, 1LL << (i / 2), 10, 1, 100);
    }
    text = testutil_read_file(svg, NULL);
    if (text == NULL || strstr(text, "<svg") == NULL) fail_msg("no SVG in %s", svg);
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++)
        if (strstr(text, series[i]) == NULL) fail_msg("the chart has no %s", series[i]);
    if (strstr(text, "unpooled") != NULL) fail_msg("an unpooled series in a --compare chart");
    free(text);
    free(svg);
    bench_out_free(&r);
}

static void test_bench_sigint_prints_partial_results(void **state) {
    bench_expect_sigint_partial(
        DIR(state), ARGS("--db", DB(state), "--workload", "insert", "--duration", "30", "--json"));
}

/* stderr: how many lines, and how many of them start with "sqlpool: ". */
static void count_lines(const char *err, int *lines, int *errors) {
    *lines = *errors = 0;
    for (const char *p = err; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        (*lines)++;
        *errors += strncmp(p, "sqlpool: ", 9) == 0;
        if (nl == NULL) break;
        p = nl + 1;
    }
}

/* A database that cannot be opened is exit 69 before any client starts, with one
 * "sqlpool: " line naming why (and the pool's log line for the failed connect), in every
 * mode: not thousands of error lines and a run that "succeeds". */
static void expect_unopenable(const char *db, const char *mode, const char *needle) {
    bench_out r = bench_run_cli(
        NULL, ARGS("--db", db, "--mode", mode, "--duration", "0.5", "--clients", "4"), 0);
    int lines, errors;
    bench_expect_status(&r, 69);
    assert_string_equal(r.out, "");
    count_lines(r.err, &lines, &errors);
    if (errors != 1 || lines > 5)
        fail_msg("--db %s --mode %s: %d lines, %d 'sqlpool: ' lines on stderr:\n%s", db, mode,
                 lines, errors, r.err);
    if (strstr(r.err, needle) == NULL) fail_msg("stderr does not say '%s':\n%s", needle, r.err);
    bench_out_free(&r);
}

static void test_bench_unopenable_db_is_exit_69(void **state) {
    char *text = testutil_format("%s/notes.txt", DIR(state));
    static const char words[] =
        "just some text, long enough to cover an SQLite header: 0123456789\n";
    testutil_write_file(text, words, sizeof words - 1);
    for (int m = 0; m < 3; m++) {
        static const char *const modes[] = {"pooled", "unpooled", "both"};
        expect_unopenable("/nonexistent/x.db", modes[m], "'/nonexistent' does not exist");
        expect_unopenable(text, modes[m], "file is not a database");
    }
    free(text);
}

/* Every connect failing during the run (--fail-connect 1): the errors are counted in the
 * results; the log gets at most about a line a second, and a count of the lines left out. */
static void test_bench_run_errors_are_counted_not_printed(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", DB(state), "--fail-connect", "1", "--retries", "0",
                                     "--duration", "1", "--clients", "4", "--json"),
                                1);
    json_t *run;
    int lines, errors;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    if (bench_int(run, "errors") < 100) fail_msg("only %lld errors", bench_int(run, "errors"));
    count_lines(r.err, &lines, &errors);
    if (lines > 6) fail_msg("%d lines on stderr for the run's errors:\n%.2000s", lines, r.err);
    if (strstr(r.err, "log_suppressed lines=") == NULL)
        fail_msg("no count of the log lines left out:\n%s", r.err);
    bench_out_free(&r);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* --think-time 8 in a 1 s run: the pause ends at the run's deadline, not 8 s later. */
static void test_bench_think_time_ends_at_deadline(void **state) {
    struct timespec t0;
    bench_out r;
    double took;
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    r = bench_run_cli(
        NULL,
        ARGS("--db", DB(state), "--duration", "1", "--think-time", "8", "--clients", "2", "--json"),
        1);
    took = seconds_since(&t0);
    bench_expect_status(&r, 0);
    if (took > 3.0) fail_msg("a 1 s run with --think-time 8 took %.1f s", took);
    assert_int_equal(bench_int(json_array_get(bench_runs(&r), 0), "transactions"), 2);
    bench_out_free(&r);
}

/* --transactions 2 --think-time 2: one pause, between the two, and none after the last. */
static void test_bench_think_time_only_between_transactions(void **state) {
    struct timespec t0;
    bench_out r;
    double took;
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    r = bench_run_cli(NULL,
                      ARGS("--db", DB(state), "--transactions", "2", "--think-time", "2",
                           "--clients", "1", "--json"),
                      1);
    took = seconds_since(&t0);
    bench_expect_status(&r, 0);
    if (took < 2.0 || took > 3.5)
        fail_msg("2 transactions with a 2 s think time took %.1f s", took);
    assert_int_equal(bench_int(json_array_get(bench_runs(&r), 0), "transactions"), 2);
    bench_out_free(&r);
}

/* SIGINT during a 20 s think time ends the run at once, with the partial results. */
static void test_bench_sigint_cuts_think_time(void **state) {
    pid_t pid = bench_spawn(DIR(state), ARGS("--db", DB(state), "--duration", "60", "--think-time",
                                             "20", "--clients", "2", "--json"));
    struct timespec t0;
    double took;
    int status;
    bench_sleep_ms(1000);
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(kill(pid, SIGINT), 0);
    status = bench_wait(pid);
    took = seconds_since(&t0);
    assert_int_equal(status, 0);
    if (took > 2.0) fail_msg("SIGINT took %.1f s to end a run in a 20 s think time", took);
}

/* SIGINT while the connect check waits out a locked database (before anything is measured)
 * ends the program at once, by the signal, not after --timeout. */
static void test_bench_sigint_during_connect_check(void **state) {
    sqlite3 *lock = NULL;
    struct timespec t0;
    double took;
    pid_t pid;
    int status;
    assert_int_equal(sqlite3_open(DB(state), &lock), SQLITE_OK);
    assert_int_equal(sqlite3_exec(lock, "CREATE TABLE t(x); BEGIN EXCLUSIVE", NULL, NULL, NULL),
                     SQLITE_OK);
    pid = bench_spawn(DIR(state), ARGS("--db", DB(state), "--duration", "1", "--timeout", "20",
                                       "--retries", "0", "--json"));
    bench_sleep_ms(1000);
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(kill(pid, SIGINT), 0);
    status = bench_wait(pid);
    took = seconds_since(&t0);
    sqlite3_close(lock);
    assert_int_equal(status, 128 + SIGINT);
    if (took > 2.0) fail_msg("SIGINT took %.1f s to end the connect check", took);
}

/* Run the CLI with args, its address space capped at limit bytes; *out and *err get its
 * output (caller frees). Returns its exit status. */
static int run_capped(const char *dir, const char *const *args, rlim_t limit, char **out,
                      char **err) {
    const char *argv[32];
    char *po = testutil_format("%s/stdout", dir), *pe = testutil_format("%s/stderr", dir);
    size_t n = 0;
    pid_t pid;
    int status;
    argv[n++] = SQLPOOL_CLI_PATH;
    while (args[n - 1] != NULL && n < 31) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {limit, limit};
        int in = open("/dev/null", O_RDONLY), o = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600),
            e = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0 || setrlimit(RLIMIT_AS, &rl) != 0) _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(SQLPOOL_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    status = bench_wait(pid);
    *out = testutil_read_file(po, NULL);
    *err = testutil_read_file(pe, NULL);
    assert_non_null(*out);
    assert_non_null(*err);
    free(po);
    free(pe);
    return status;
}

/* 2000 clients in 512 MiB of address space: the threads cannot all be made (each has a stack
 * of megabytes). One line says so, the exit status is 71 (EX_OSERR), and what the clients
 * that started measured is reported. */
static void test_bench_thread_limit_is_exit_71(void **state) {
    char *out = NULL, *err = NULL;
    json_t *doc, *run;
    json_error_t e;
    int status, lines, errors;
    if (UNDER_SANITIZER) {
        print_message("a sanitizer reserves terabytes of address space: skipping\n");
        skip();
    }
    status = run_capped(DIR(state),
                        ARGS("--db", ":memory:", "--clients", "2000", "--duration", "1", "--json"),
                        (rlim_t)512 << 20, &out, &err);
    if (status != 71)
        fail_msg("exit status %d, expected 71\nstdout: %s\nstderr: %s", status, out, err);
    count_lines(err, &lines, &errors);
    if (errors != 1 || strstr(err, "thread") == NULL)
        fail_msg("not one 'sqlpool: ' line about the threads:\n%s", err);
    doc = json_loads(out, 0, &e);
    if (doc == NULL) fail_msg("stdout is not JSON (%s): %s", e.text, out);
    run = json_array_get(json_object_get(doc, "runs"), 0);
    assert_non_null(run);
    if (bench_int(run, "clients") <= 0 || bench_int(run, "clients") >= 2000)
        fail_msg("the report gives %lld clients, not those that ran", bench_int(run, "clients"));
    json_decref(doc);
    free(out);
    free(err);
}

static const struct CMUnitTest tests[] = {
    T(test_bench_help),
    T(test_bench_rejects_bad_numbers),
    T(test_bench_rejects_bad_choices),
    T(test_bench_rejects_bad_sweep),
    T(test_bench_rejects_conflicts),
    T(test_bench_refuses_what_sqlite_cannot_do),
    T(test_bench_select1_counts),
    T(test_bench_insert_counts),
    T(test_bench_read_write_counts),
    T(test_bench_barge_window_counts),
    T(test_bench_table_output),
    T(test_bench_mode_both_gives_two_rows),
    T(test_bench_fail_connect_retries_without_loss),
    T(test_bench_sweep_and_plot),
    T(test_bench_sweep_pool_size),
    T(test_bench_mixed_reads_and_writes_apart),
    T(test_bench_mixed_single_writer),
    T(test_bench_mixed_table),
    T(test_bench_write_ratio_bounds),
    T(test_bench_single_writer_refusals),
    T(test_bench_group_commit_single_writer),
    T(test_bench_group_commit_plain_pool),
    T(test_bench_group_commit_only_where_on),
    T(test_bench_group_commit_refusals),
    T(test_bench_compare_sweep_plots_two_series),
    T(test_bench_sigint_prints_partial_results),
    T(test_bench_unopenable_db_is_exit_69),
    T(test_bench_run_errors_are_counted_not_printed),
    T(test_bench_think_time_ends_at_deadline),
    T(test_bench_sigint_cuts_think_time),
    T(test_bench_sigint_during_connect_check),
    T(test_bench_think_time_only_between_transactions),
    T(test_bench_thread_limit_is_exit_71),
    T(test_bench_refuses_pg_only_flags),
    T(test_bench_timeline_refusals),
    T(test_bench_timeline_sqlite),
    T(test_bench_no_timeline_without_flag),
};

SQLPOOL_TEST_MAIN(tests)
