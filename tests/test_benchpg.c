/* test_benchpg.c: `sqlpool bench` on PostgreSQL ($SQLPOOL_TEST_PG, from scripts/with-pg.sh):
 * every workload's counts, connect faults, both modes, --kill-every, SIGINT. Without the
 * server's address each test fails: these run, not skip, in CI. */
#include "benchutil.h"

static const char *pg_url(void) {
    const char *url = getenv("SQLPOOL_TEST_PG");
    if (url == NULL || url[0] == '\0') fail_msg("SQLPOOL_TEST_PG is not set (scripts/with-pg.sh)");
    return url;
}

static void expect_workload(const char *workload, long long seed) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", pg_url(), "--workload", workload, "--clients", "3",
                                     "--transactions", "30", "--json"),
                                1);
    json_t *run;
    bench_expect_status(&r, 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "backend")), "postgresql");
    assert_null(strstr(r.out, "sqlpool-test-secret")); /* the password is masked */
    run = json_array_get(bench_runs(&r), 0);
    bench_expect_counts(run, 3, 30, 1, seed);
    assert_int_equal(bench_int(run, "transactions"), 90);
    bench_out_free(&r);
}

static void test_benchpg_select1_counts(void **state) {
    (void)state;
    expect_workload("select1", 0);
}
static void test_benchpg_insert_counts(void **state) {
    (void)state;
    expect_workload("insert", 0);
}
static void test_benchpg_read_write_counts(void **state) {
    (void)state;
    expect_workload("read-write", 100);
}

/* mixed: reads and writes apart, every write's row in the table, pooled and unpooled. */
static void test_benchpg_mixed_reads_and_writes_apart(void **state) {
    bench_out r =
        bench_run_cli(NULL,
                      ARGS("--db", pg_url(), "--workload", "mixed", "--write-ratio", "0.5",
                           "--mode", "both", "--clients", "3", "--transactions", "30", "--json"),
                      1);
    (void)state;
    bench_expect_status(&r, 0);
    assert_int_equal(json_array_size(bench_runs(&r)), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *run = json_array_get(bench_runs(&r), i);
        json_t *reads = json_object_get(run, "reads"), *writes = json_object_get(run, "writes");
        bench_expect_counts(run, 3, 30, 1, 100);
        assert_int_equal(bench_int(reads, "transactions") + bench_int(writes, "transactions"), 90);
        assert_int_equal(bench_int(writes, "transactions"), bench_int(run, "inserted"));
        assert_true(bench_int(reads, "transactions") > 0 && bench_int(writes, "transactions") > 0);
    }
    bench_out_free(&r);
}

/* A single-writer pool is SQLite's: on PostgreSQL the flag is refused before anything runs,
 * as a usage error on one line. */
static void test_benchpg_single_writer_refused(void **state) {
    static const char *const flags[2][2] = {{"--single-writer", NULL},
                                            {"--compare", "single-writer"}};
    (void)state;
    for (int i = 0; i < 2; i++) {
        bench_out r = bench_run_cli(
            NULL,
            flags[i][1] ? ARGS("--db", pg_url(), "--workload", "mixed", flags[i][0], flags[i][1])
                        : ARGS("--db", pg_url(), "--workload", "mixed", flags[i][0]),
            0);
        bench_expect_status(&r, 64);
        assert_string_equal(r.out, "");
        if (strncmp(r.err, "sqlpool: ", 9) != 0 || strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
            fail_msg("not one 'sqlpool: ' line: '%s'", r.err);
        if (strstr(r.err, flags[i][0]) == NULL || strstr(r.err, "PostgreSQL") == NULL)
            fail_msg("'%s' does not name %s and PostgreSQL", r.err, flags[i][0]);
        bench_out_free(&r);
    }
}

static void test_benchpg_mode_both_fail_connect(void **state) {
    bench_out r =
        bench_run_cli(NULL,
                      ARGS("--db", pg_url(), "--workload", "insert", "--mode", "both", "--clients",
                           "32", "--pool-size", "1", "--max-open", "0", "--transactions", "10",
                           "--fail-connect", "0.3", "--retries", "6", "--json"),
                      1);
    json_t *runs;
    (void)state;
    bench_expect_status(&r, 0);
    runs = bench_runs(&r);
    assert_int_equal(json_array_size(runs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "mode")),
                        "unpooled");
    for (size_t i = 0; i < 2; i++) {
        bench_expect_counts(json_array_get(runs, i), 32, 10, 0, 0);
        if (bench_int(json_array_get(runs, i), "retries") <= 0)
            fail_msg("run %zu: no connect retries with --fail-connect 0.3: %s", i, r.out);
    }
    bench_out_free(&r);
}

/* Idle pooled connections are terminated under the run; the run goes on and loses no row. */
static void test_benchpg_kill_every(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", pg_url(), "--workload", "insert", "--clients", "2",
                                     "--pool-size", "4", "--max-open", "4", "--think-time", "0.005",
                                     "--duration", "1.5", "--kill-every", "0.2", "--json"),
                                1);
    json_t *run;
    (void)state;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    if (bench_int(run, "kills") <= 0) fail_msg("nothing was killed: %s", r.out);
    assert_int_equal(bench_int(run, "rows"), bench_int(run, "inserted"));
    assert_true(bench_int(run, "transactions") > 0);
    bench_out_free(&r);
}

static void test_benchpg_sigint_prints_partial_results(void **state) {
    char *dir = testutil_tmpdir();
    (void)state;
    bench_expect_sigint_partial(
        dir, ARGS("--db", pg_url(), "--workload", "read-write", "--duration", "30", "--json"));
    testutil_rmtree(dir);
    free(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_benchpg_select1_counts),
    cmocka_unit_test(test_benchpg_insert_counts),
    cmocka_unit_test(test_benchpg_read_write_counts),
    cmocka_unit_test(test_benchpg_mixed_reads_and_writes_apart),
    cmocka_unit_test(test_benchpg_single_writer_refused),
    cmocka_unit_test(test_benchpg_mode_both_fail_connect),
    cmocka_unit_test(test_benchpg_kill_every),
    cmocka_unit_test(test_benchpg_sigint_prints_partial_results),
};

SQLPOOL_TEST_MAIN(tests)
