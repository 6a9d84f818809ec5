/* test_benchpg.c: `sqlpool bench` on PostgreSQL ($SQLPOOL_TEST_PG, from scripts/with-pg.sh):
 * every workload's counts, connect faults, both modes, --kill-every (idle, borrowed, through
 * pgbouncer), --timeline, the PostgreSQL-only flags, SIGINT. Without the
 * server's address each test fails: these run, not skip, in CI. */
#include "benchutil.h"

#include <libpq-fe.h>
#include <unistd.h>

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

/* --timeline's SVG: a whole document with one throughput marker per JSON sample. */
static size_t expect_timeline_svg(const char *path, json_t *timeline, const char *event) {
    char *svg = testutil_read_file(path, NULL), *p;
    size_t markers = 0, len;
    assert_non_null(svg);
    len = strlen(svg);
    assert_true(strncmp(svg, "<?xml", 5) == 0);
    assert_true(len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
    for (p = svg; (p = strstr(p, "class=\"point transactions throughput\"")) != NULL; p++)
        markers++;
    assert_int_equal(markers, json_array_size(timeline));
    if (event != NULL && strstr(svg, event) == NULL) fail_msg("no %s in the chart", event);
    free(svg);
    return markers;
}

/* The sum of one counter over the timeline's samples. */
static long long timeline_sum(json_t *timeline, const char *key) {
    long long sum = 0;
    for (size_t i = 0; i < json_array_size(timeline); i++)
        sum += bench_int(json_array_get(timeline, i), key);
    return sum;
}

/* A 1 s run with kills: about 10 samples of 100 ms, each kill in one of them, marked. */
static void test_benchpg_timeline_svg(void **state) {
    char *dir = testutil_tmpdir(), svg[4096];
    bench_out r;
    json_t *run, *tl;
    size_t n;
    (void)state;
    (void)snprintf(svg, sizeof svg, "%s/timeline.svg", dir);
    r = bench_run_cli(NULL,
                      ARGS("--db", pg_url(), "--clients", "2", "--duration", "1", "--kill-every",
                           "0.25", "--timeline", svg, "--json"),
                      1);
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    tl = json_object_get(run, "timeline");
    assert_true(json_is_array(tl));
    n = json_array_size(tl);
    if (n < 9 || n > 12) fail_msg("%zu samples for a 1 s run, expected about 10", n);
    assert_int_equal(timeline_sum(tl, "kills"), bench_int(run, "kills"));
    assert_int_equal(timeline_sum(tl, "transactions"), bench_int(run, "transactions"));
    assert_int_equal(timeline_sum(tl, "errors"), bench_int(run, "errors"));
    assert_true(bench_int(run, "kills") > 0);
    (void)expect_timeline_svg(svg, tl, "class=\"event kill\"");
    bench_out_free(&r);
    testutil_rmtree(dir);
    free(dir);
}

/* More clients than connections, served first come first served: a released connection goes
 * straight to a waiter, none is ever idle, and --kill-every kills borrowed ones. */
static void test_benchpg_kill_every_all_borrowed(void **state) {
    bench_out r =
        bench_run_cli(NULL,
                      ARGS("--db", pg_url(), "--clients", "6", "--pool-size", "2", "--max-open",
                           "2", "--duration", "1.5", "--kill-every", "0.3", "--json"),
                      1);
    json_t *run;
    (void)state;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    if (bench_int(run, "kills") <= 0) fail_msg("nothing was killed: %s\n%s", r.out, r.err);
    assert_true(bench_int(run, "transactions") > 0);
    bench_out_free(&r);
}

/* Behind pgbouncer the pid libpq reports is pgbouncer's: a server connection carrying the
 * bench's application_name is terminated instead. */
static void test_benchpg_kill_every_pgbouncer(void **state) {
    const char *bouncer = getenv("SQLPOOL_TEST_PGBOUNCER");
    bench_out r;
    json_t *run;
    (void)state;
    if (bouncer == NULL || bouncer[0] == '\0') fail_msg("SQLPOOL_TEST_PGBOUNCER is not set");
    r = bench_run_cli(NULL,
                      ARGS("--db", bouncer, "--clients", "2", "--duration", "1.5", "--kill-every",
                           "0.3", "--json"),
                      1);
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    if (bench_int(run, "kills") <= 0) fail_msg("nothing was killed: %s\n%s", r.out, r.err);
    bench_out_free(&r);
}

/* --pg-reset-query runs at every release: one that fails closes the connection, so each
 * transaction connects anew; --pg-unnamed-statements still counts every row. */
static void test_benchpg_reset_query_and_unnamed(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", pg_url(), "--clients", "1", "--transactions", "10",
                                     "--pg-reset-query", "SELECT 1/0", "--json"),
                                1);
    json_t *run;
    (void)state;
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    if (bench_int(run, "connects") < 9) fail_msg("the reset query did not run: %s", r.out);
    bench_out_free(&r);
    r = bench_run_cli(NULL,
                      ARGS("--db", pg_url(), "--workload", "read-write", "--clients", "2",
                           "--transactions", "20", "--pg-unnamed-statements", "--pg-reset-query",
                           "DISCARD ALL", "--statement-timeout", "10", "--json"),
                      1);
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    assert_int_equal(bench_int(run, "transactions"), 40);
    assert_true(bench_int(run, "connects") <= 2); /* DISCARD ALL succeeds: each kept */
    bench_out_free(&r);
}

/* --read-db: select1's reads go to the read lane; with no server there they fall back to
 * --db (read_fallbacks in the timeline), and none fails. */
static void test_benchpg_read_db_fallback(void **state) {
    char *dir = testutil_tmpdir(), svg[4096];
    bench_out r;
    json_t *run, *tl;
    (void)state;
    (void)snprintf(svg, sizeof svg, "%s/fallback.svg", dir);
    r = bench_run_cli(NULL,
                      ARGS("--db", pg_url(), "--read-db",
                           "host=127.0.0.1 port=1 dbname=none connect_timeout=1", "--clients", "2",
                           "--duration", "0.5", "--timeline", svg, "--json"),
                      1);
    bench_expect_status(&r, 0);
    run = json_array_get(bench_runs(&r), 0);
    tl = json_object_get(run, "timeline");
    assert_int_equal(bench_int(run, "errors"), 0);
    if (timeline_sum(tl, "read_fallbacks") <= 0) fail_msg("no read fell back: %s", r.out);
    (void)expect_timeline_svg(svg, tl, "class=\"event fallback\"");
    bench_out_free(&r);
    testutil_rmtree(dir);
    free(dir);
}

/* A statement of one held connection; the test fails when it does. */
static void pg_exec_ok(sqlpool_conn *conn, const char *sql) {
    PGresult *res = NULL;
    int rc = sqlpool_conn_pg_exec(conn, sql, 0, NULL, &res);
    if (rc != SQLPOOL_OK || PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, sqlpool_errmsg());
    PQclear(res);
}

/* run's --statement-timeout (SET LOCAL statement_timeout): with events locked by another
 * session, the run's statement is cancelled at 0.5 s and the run fails (75) at once,
 * nothing committed, instead of waiting for the lock. */
static void test_benchpg_run_statement_timeout(void **state) {
    char *dir = testutil_tmpdir(), *out = testutil_format("%s/summary.json", dir), *o = NULL,
         *e = NULL;
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *conn = NULL;
    struct timespec t0, t1;
    int status;
    (void)state;
    sqlpool_config_init(&cfg);
    cfg.db = pg_url();
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    assert_int_equal(sqlpool_acquire(pool, &conn), SQLPOOL_OK);
    pg_exec_ok(conn, "CREATE TABLE IF NOT EXISTS events (id BIGSERIAL PRIMARY KEY, label TEXT "
                     "NOT NULL)");
    pg_exec_ok(conn, "BEGIN");
    pg_exec_ok(conn, "LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    status =
        testutil_run_cli(NULL,
                         (const char *const[]){"run", "--db", pg_url(), "--quiet", "--log-level",
                                               "error", "--output", out, "--input",
                                               SQLPOOL_SOURCE_DIR "/data/sample_input.txt",
                                               "--statement-timeout", "0.5", NULL},
                         &o, &e);
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    pg_exec_ok(conn, "ROLLBACK");
    sqlpool_release(conn);
    sqlpool_close(pool);
    if (status != 75 || strstr(e, "statement timeout") == NULL)
        fail_msg("exit %d, expected 75 with the statement timeout: %s", status, e);
    if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > 5.0)
        fail_msg("the run waited for the lock");
    assert_int_not_equal(access(out, F_OK), 0); /* nothing written */
    free(o);
    free(e);
    free(out);
    testutil_rmtree(dir);
    free(dir);
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
    cmocka_unit_test(test_benchpg_timeline_svg),
    cmocka_unit_test(test_benchpg_kill_every_all_borrowed),
    cmocka_unit_test(test_benchpg_kill_every_pgbouncer),
    cmocka_unit_test(test_benchpg_reset_query_and_unnamed),
    cmocka_unit_test(test_benchpg_read_db_fallback),
    cmocka_unit_test(test_benchpg_run_statement_timeout),
    cmocka_unit_test(test_benchpg_sigint_prints_partial_results),
};

SQLPOOL_TEST_MAIN(tests)
