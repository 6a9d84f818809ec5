/*
 * test_pgstmt.c: sqlpool_conn_pg_exec against a real PostgreSQL server (issue 15): statement
 * names by text, lost and existing statements, a failed prepare's message, lost connections
 * reported as SQLPOOL_EBROKEN (and sqlpool_conn_pg_check), statement deadlines (a pg_sleep
 * cancelled, a stopped backend), passwords in a db string nested in dbname=, and the same
 * calls through a pgbouncer in transaction mode with the default configuration.
 *
 * The servers come from scripts/with-pg.sh: SQLPOOL_TEST_PG (PostgreSQL), SQLPOOL_TEST_PGBOUNCER
 * (pgbouncer in front of it). Without them each test fails: these run, not skip. RUN_SERIAL
 * (tests/CMakeLists.txt): one test kills a backend with SIGKILL, which restarts the server.
 *
 * cmocka's assertions longjmp, so they run on the main thread only: worker threads record what
 * they saw and the main thread checks it after joining them.
 */
#include "benchutil.h"

#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static const char *env_or_fail(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        fail_msg("%s is not set: run the tests through scripts/with-pg.sh (make test)", name);
    return v;
}

static const char *pg_url(void) {
    return env_or_fail("SQLPOOL_TEST_PG");
}

static const char *bouncer_url(void) {
    return env_or_fail("SQLPOOL_TEST_PGBOUNCER");
}

static sqlpool *open_pool(const char *db, double statement_timeout, int max_open) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    int rc;
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.statement_timeout = statement_timeout;
    if (max_open > 0) cfg.max_open = max_open;
    rc = sqlpool_open(&cfg, &pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
    return pool;
}

/* A connection outside any pool, to look at or act on the server. */
static PGconn *side_connect(void) {
    PGconn *pg = PQconnectdb(pg_url());
    if (PQstatus(pg) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
        PQfinish(pg);
        fail_msg("side connection: %s", msg);
    }
    return pg;
}

/* sql (one optional text parameter) through the pool: its first value, as text (caller
 * frees); fails the test on anything but a row. */
static char *exec_text(sqlpool_conn *conn, const char *sql, const char *param) {
    const char *values[1] = {param};
    PGresult *r = NULL;
    int rc = sqlpool_conn_pg_exec(conn, sql, param ? 1 : 0, values, &r);
    char *v;
    if (rc != SQLPOOL_OK) fail_msg("%s: %d %s", sql, rc, sqlpool_errmsg());
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        fail_msg("%s: %s", sql, msg);
    }
    v = testutil_format("%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static void exec_ok(sqlpool_conn *conn, const char *sql) {
    PGresult *r = NULL;
    int rc = sqlpool_conn_pg_exec(conn, sql, 0, NULL, &r);
    ExecStatusType s = PQresultStatus(r);
    if (rc != SQLPOOL_OK) fail_msg("%s: %d %s", sql, rc, sqlpool_errmsg());
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        fail_msg("%s: %s", sql, msg);
    }
    PQclear(r);
}

static void assert_works(sqlpool_conn *conn) {
    char *v = exec_text(conn, "SELECT $1::int + 1", "41");
    assert_string_equal(v, "42");
    free(v);
}

/* The name the server holds for sql on conn's backend, from pg_prepared_statements, on the
 * native handle (caller frees; NULL when it holds none). */
static char *prepared_name(sqlpool_conn *conn, const char *sql) {
    const char *values[1] = {sql};
    PGresult *r = PQexecParams(sqlpool_conn_pg(conn),
                               "SELECT name FROM pg_prepared_statements WHERE statement = $1", 1,
                               NULL, values, NULL, NULL, 0);
    char *name = NULL;
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    if (PQntuples(r) > 0) name = testutil_format("%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return name;
}

static long long backend_pid(sqlpool_conn *conn) {
    char *v = exec_text(conn, "SELECT pg_backend_pid()", NULL);
    long long pid = atoll(v);
    free(v);
    return pid;
}

/* ---- statement names ---- */

/* The same text has the same name on two connections; another text another name. */
static void test_pgstmt_names_by_text(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *a = testutil_acquire(pool), *b = testutil_acquire(pool);
    const char *q1 = "SELECT $1::int + 1", *q2 = "SELECT $1::int + 2";
    char *a1, *b1, *a2;
    (void)state;
    /* In another order on each: numbered names (sqlpool_1, ...) would differ. */
    assert_works(a);
    free(exec_text(a, q2, "1"));
    free(exec_text(b, q2, "1"));
    assert_works(b);
    a1 = prepared_name(a, q1);
    b1 = prepared_name(b, q1);
    a2 = prepared_name(a, q2);
    assert_non_null(a1);
    assert_non_null(b1);
    assert_non_null(a2);
    assert_string_equal(a1, b1);
    assert_string_not_equal(a1, a2);
    assert_int_equal(strncmp(a1, "sqlpool_", 8), 0);
    free(a1);
    free(b1);
    free(a2);
    sqlpool_release(a);
    sqlpool_release(b);
    sqlpool_close(pool);
}

/* Inside the library (src/backend_pg.h). */
void sqlpool__pg_statement_name(const char *sql, char *name, size_t len);

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A statement's name: "sqlpool_" and the first 128 bits of the text's SHA-256 (known
 * answers: FIPS 180-2's "abc" and two-block vector, the empty text), deterministic, within
 * PostgreSQL's 63 bytes, and different over many close texts (same length, one byte apart;
 * 64-bit FNV-1a and the length, the name before, collides at will for a chosen pair). */
static void test_pgstmt_statement_name_hash(void **state) {
    enum { N = 20000 };
    char name[48], again[48], **names = calloc(N, sizeof *names);
    char *big = malloc(100001);
    (void)state;
    assert_non_null(names);
    assert_non_null(big);
    sqlpool__pg_statement_name("abc", name, sizeof name);
    assert_string_equal(name, "sqlpool_ba7816bf8f01cfea414140de5dae2223");
    sqlpool__pg_statement_name("", name, sizeof name);
    assert_string_equal(name, "sqlpool_e3b0c44298fc1c149afbf4c8996fb924");
    sqlpool__pg_statement_name("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", name,
                               sizeof name);
    assert_string_equal(name, "sqlpool_248d6a61d20638b8e5c026930c3e6039");
    memset(big, 'a', 100000);
    big[100000] = '\0';
    sqlpool__pg_statement_name(big, name, sizeof name); /* many blocks */
    assert_int_equal(strlen(name), 40);
    sqlpool__pg_statement_name(big, again, sizeof again);
    assert_string_equal(name, again);
    for (int i = 0; i < N; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %05d FROM t WHERE v = $1", i);
        sqlpool__pg_statement_name(sql, name, sizeof name);
        assert_true(strlen(name) <= 63);
        assert_int_equal(strncmp(name, "sqlpool_", 8), 0);
        names[i] = testutil_format("%s", name);
    }
    qsort(names, N, sizeof *names, cmp_names);
    for (int i = 1; i < N; i++)
        if (strcmp(names[i - 1], names[i]) == 0) fail_msg("two texts named %s", names[i]);
    for (int i = 0; i < N; i++)
        free(names[i]);
    free(names);
    free(big);
}

/* A statement the server dropped (DEALLOCATE ALL on the native handle) is prepared again. */
static void test_pgstmt_lost_statement_prepared_again(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    PGresult *r;
    (void)state;
    assert_works(conn);
    r = PQexec(sqlpool_conn_pg(conn), "DEALLOCATE ALL");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    assert_works(conn);
    assert_works(conn);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 0);
    sqlpool_close(pool);
}

/* A name that already exists on the server (another client's: the same text) is used. */
static void test_pgstmt_existing_statement_used(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *a = testutil_acquire(pool), *b = testutil_acquire(pool);
    char *name, *sql;
    PGresult *r;
    (void)state;
    assert_works(a);
    name = prepared_name(a, "SELECT $1::int + 1");
    assert_non_null(name);
    sql = testutil_format("PREPARE %s AS SELECT $1::int + 1", name);
    r = PQexec(sqlpool_conn_pg(b), sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    assert_works(b); /* its prepare gets 42P05: prepared already */
    assert_works(b);
    free(sql);
    free(name);
    sqlpool_release(a);
    sqlpool_release(b);
    assert_int_equal(testutil_stats(pool).closed, 0);
    sqlpool_close(pool);
}

/* A prepare the server refuses keeps its message and leaves nothing behind. */
static void test_pgstmt_failed_prepare_keeps_message(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    PGresult *r = NULL;
    char *name;
    (void)state;
    assert_int_equal(sqlpool_conn_pg_exec(conn, "SELEC 1", 0, NULL, &r), SQLPOOL_EINVAL);
    assert_null(r);
    if (strstr(sqlpool_errmsg(), "syntax error") == NULL) fail_msg("message: %s", sqlpool_errmsg());
    assert_int_equal(sqlpool_conn_pg_exec(conn, "SELECT 1 FROM no_such_table_x", 0, NULL, &r),
                     SQLPOOL_EINVAL);
    if (strstr(sqlpool_errmsg(), "no_such_table_x") == NULL)
        fail_msg("message: %s", sqlpool_errmsg());
    name = prepared_name(conn, "SELEC 1");
    assert_null(name);
    assert_works(conn);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 0);
    sqlpool_close(pool);
}

/* ---- lost connections ---- */

static void side_terminate(long long pid) {
    PGconn *pg = side_connect();
    char *sql = testutil_format("SELECT pg_terminate_backend(%lld)", pid);
    PGresult *r = PQexec(pg, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    free(sql);
    PQfinish(pg);
}

/* A terminated backend (57P01, or the closed socket) is SQLPOOL_EBROKEN, closed on release. */
static void test_pgstmt_terminated_is_broken(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    PGresult *r = NULL;
    int rc;
    (void)state;
    assert_works(conn);
    side_terminate(backend_pid(conn));
    sleep_s(0.2);
    rc = sqlpool_conn_pg_exec(conn, "SELECT $1::int + 1", 1, (const char *const[]){"1"}, &r);
    if (rc != SQLPOOL_EBROKEN) fail_msg("rc %d (%s), wanted SQLPOOL_EBROKEN", rc, sqlpool_errmsg());
    PQclear(r);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 1);
    conn = testutil_acquire(pool);
    assert_works(conn);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

typedef struct killer {
    long long pid;
    double after;
} killer;

static void *kill_later(void *arg) {
    killer *k = arg;
    sleep_s(k->after);
    (void)kill((pid_t)k->pid, SIGKILL);
    return NULL;
}

/* Wait for the server to be back after a crash restart (10 s at most). */
static void wait_server(void) {
    double end = now_s() + 10;
    for (;;) {
        PGconn *pg = PQconnectdb(pg_url());
        int ok = PQstatus(pg) == CONNECTION_OK;
        PQfinish(pg);
        if (ok) return;
        if (now_s() > end) fail_msg("the server did not come back");
        sleep_s(0.1);
    }
}

/* A backend killed mid-statement: a fatal error without SQLSTATE ("server closed the
 * connection unexpectedly"), or the crash's 57P02: SQLPOOL_EBROKEN, never SQLPOOL_OK. */
static void test_pgstmt_killed_mid_statement_is_broken(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    PGresult *r = NULL;
    pthread_t t;
    killer k;
    int rc;
    (void)state;
    k.pid = backend_pid(conn);
    k.after = 0.3;
    assert_int_equal(pthread_create(&t, NULL, kill_later, &k), 0);
    rc = sqlpool_conn_pg_exec(conn, "SELECT pg_sleep(5)", 0, NULL, &r);
    assert_int_equal(pthread_join(t, NULL), 0);
    if (rc != SQLPOOL_EBROKEN) fail_msg("rc %d (%s), wanted SQLPOOL_EBROKEN", rc, sqlpool_errmsg());
    PQclear(r);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 1);
    sqlpool_close(pool);
    wait_server();
}

/* 25006 (a write where the server is read-only: a standby after a failover) is EBROKEN. */
static void test_pgstmt_read_only_is_broken(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    PGresult *r = NULL;
    int rc;
    (void)state;
    exec_ok(conn, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
    rc = sqlpool_conn_pg_exec(conn, "CREATE TABLE pgstmt_ro (x int)", 0, NULL, &r);
    assert_int_equal(rc, SQLPOOL_EBROKEN);
    assert_non_null(r); /* the result that said so, for the caller */
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "25006");
    PQclear(r);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 1);
    sqlpool_close(pool);
}

/* sqlpool_conn_pg_check on results of the program's own libpq calls. */
static void test_pgstmt_check(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    PGconn *pg = sqlpool_conn_pg(conn);
    PGresult *r = PQexec(pg, "SELECT 1");
    sqlpool *lite;
    sqlpool_config cfg;
    (void)state;
    assert_int_equal(sqlpool_conn_pg_check(NULL, r), SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_conn_pg_check(conn, r), SQLPOOL_OK);
    PQclear(r);
    r = PQexec(pg, "SELECT 1/0"); /* an error of the statement's own: not lost */
    assert_int_equal(sqlpool_conn_pg_check(conn, r), SQLPOOL_OK);
    PQclear(r);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 0);

    conn = testutil_acquire(pool);
    r = PQmakeEmptyPGresult(sqlpool_conn_pg(conn), PGRES_FATAL_ERROR); /* no SQLSTATE */
    assert_int_equal(sqlpool_conn_pg_check(conn, r), SQLPOOL_EBROKEN);
    PQclear(r);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 1);

    conn = testutil_acquire(pool);
    assert_int_equal(sqlpool_conn_pg_check(conn, NULL), SQLPOOL_EBROKEN); /* none came */
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 2);
    assert_int_equal(sqlpool_conn_pg_check(conn, NULL), SQLPOOL_EMISUSE);
    sqlpool_close(pool);

    sqlpool_config_init(&cfg);
    cfg.db = ":memory:";
    assert_int_equal(sqlpool_open(&cfg, &lite), SQLPOOL_OK);
    conn = testutil_acquire(lite);
    assert_int_equal(sqlpool_conn_pg_check(conn, NULL), SQLPOOL_ENOTSUP);
    assert_int_equal(
        sqlpool_conn_pg_exec_until(conn, "SELECT 1", 0, NULL, INFINITY, &(PGresult *){NULL}),
        SQLPOOL_ENOTSUP);
    sqlpool_release(conn);
    sqlpool_close(lite);
}

/* ---- statement deadlines ---- */

static void expect_sleep_cancelled(sqlpool *pool, int by_default) {
    sqlpool_conn *conn = testutil_acquire(pool);
    PGresult *r = (PGresult *)1;
    double t0 = now_s(), took;
    int rc = by_default ? sqlpool_conn_pg_exec(conn, "SELECT pg_sleep(10)", 0, NULL, &r)
                        : sqlpool_conn_pg_exec_until(conn, "SELECT pg_sleep(10)", 0, NULL,
                                                     sqlpool_clock(pool) + 0.3, &r);
    took = now_s() - t0;
    if (rc != SQLPOOL_ETIMEDOUT)
        fail_msg("rc %d (%s), wanted SQLPOOL_ETIMEDOUT", rc, sqlpool_errmsg());
    assert_null(r);
    if (took < 0.25 || took > 3.0) fail_msg("the cancelled call took %.3f s", took);
    assert_works(conn); /* the cancel took: the connection is usable */
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 0);
}

static void test_pgstmt_deadline_cancels_sleep(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn;
    PGresult *r = NULL;
    (void)state;
    expect_sleep_cancelled(pool, 0);
    /* A deadline already passed sends nothing; INFINITY none. */
    conn = testutil_acquire(pool);
    assert_int_equal(
        sqlpool_conn_pg_exec_until(conn, "SELECT 1", 0, NULL, sqlpool_clock(pool) - 1, &r),
        SQLPOOL_ETIMEDOUT);
    assert_int_equal(sqlpool_conn_pg_exec_until(conn, "SELECT 1", 0, NULL, -INFINITY, &r),
                     SQLPOOL_ETIMEDOUT);
    assert_int_equal(sqlpool_conn_pg_exec_until(conn, "SELECT 1", 0, NULL, NAN, &r),
                     SQLPOOL_EINVAL);
    assert_null(r);
    assert_int_equal(sqlpool_conn_pg_exec_until(conn, "SELECT 1", 0, NULL, INFINITY, &r),
                     SQLPOOL_OK);
    PQclear(r);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

static void test_pgstmt_statement_timeout_default(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0.3, 0);
    (void)state;
    expect_sleep_cancelled(pool, 1);
    sqlpool_close(pool);
}

/* An exec on a stopped backend (SIGSTOP) ends at its deadline; the cancel cannot take, so
 * the connection is closed on release. */
static void test_pgstmt_deadline_stopped_backend(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    const char *values[1] = {"1"};
    PGresult *r = NULL;
    long long pid;
    double t0, took;
    int rc;
    (void)state;
    assert_works(conn); /* cached: the exec below sends no prepare */
    pid = backend_pid(conn);
    assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
    t0 = now_s();
    rc = sqlpool_conn_pg_exec_until(conn, "SELECT $1::int + 1", 1, values,
                                    sqlpool_clock(pool) + 0.5, &r);
    took = now_s() - t0;
    (void)kill((pid_t)pid, SIGCONT);
    if (rc != SQLPOOL_ETIMEDOUT)
        fail_msg("rc %d (%s), wanted SQLPOOL_ETIMEDOUT", rc, sqlpool_errmsg());
    assert_null(r);
    if (took < 0.45 || took > 3.0) fail_msg("the call took %.3f s", took);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 1);
    conn = testutil_acquire(pool);
    assert_works(conn);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

/* Inside the library (src/pg_wire.h): the cancel and drain after a statement's deadline. */
int sqlpool__pg_cancel_drain(PGconn *pg, double bound, PGresult **completed);
int sqlpool__pg_drained_completed(const PGresult *last);

/* A COMMIT that committed as the deadline passed: its answer is on the socket, unread, when
 * the pool cancels (the idle backend ignores the cancel). The drain hands the COMMIT's success
 * back rather than dropping it (the pool would have said "timed out" for a commit that
 * happened); a pg_sleep the cancel did stop (57014) is no success; a success already read
 * when the deadline passed is handed back too. */
static void test_pgstmt_deadline_drain_keeps_completed(void **state) {
    PGconn *side = side_connect(), *look = side_connect();
    PGresult *r = PQexec(side, "DROP TABLE IF EXISTS pgstmt_drain; CREATE TABLE pgstmt_drain "
                               "(v int); BEGIN; INSERT INTO pgstmt_drain VALUES (7)");
    PGresult *done = NULL;
    (void)state;
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    assert_int_equal(PQsendQuery(side, "COMMIT"), 1);
    assert_int_equal(PQflush(side), 0);
    sleep_s(0.3); /* the server has committed and answered; nothing read yet */
    assert_int_equal(sqlpool__pg_cancel_drain(side, 1.0, &done), 1);
    if (done == NULL) fail_msg("the drain dropped the COMMIT's result");
    assert_int_equal(PQresultStatus(done), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(done), "COMMIT");
    assert_int_equal(sqlpool__pg_drained_completed(done), 1);
    PQclear(done);
    r = PQexec(look, "SELECT count(*) FROM pgstmt_drain");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "1"); /* it did commit */
    PQclear(r);

    assert_int_equal(PQsendQuery(side, "SELECT pg_sleep(10)"), 1);
    assert_int_equal(PQflush(side), 0);
    sleep_s(0.2);
    done = NULL;
    assert_int_equal(sqlpool__pg_cancel_drain(side, 1.0, &done), 1);
    assert_null(done);

    /* The statement's result read before the deadline, its ReadyForQuery not: handed to the
     * drain, which gives it back. */
    assert_int_equal(PQsendQuery(side, "SELECT 5"), 1);
    assert_int_equal(PQflush(side), 0);
    sleep_s(0.2);
    assert_int_equal(PQconsumeInput(side), 1);
    done = PQgetResult(side);
    assert_int_equal(PQresultStatus(done), PGRES_TUPLES_OK);
    assert_int_equal(sqlpool__pg_cancel_drain(side, 1.0, &done), 1);
    if (done == NULL) fail_msg("the drain dropped the result read before the deadline");
    assert_string_equal(PQgetvalue(done, 0, 0), "5");
    PQclear(done);
    assert_int_equal(sqlpool__pg_drained_completed(NULL), 0);
    r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_int_equal(sqlpool__pg_drained_completed(r), 1);
    PQclear(r);
    r = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    assert_int_equal(sqlpool__pg_drained_completed(r), 0);
    PQclear(r);
    PQclear(PQexec(look, "DROP TABLE pgstmt_drain"));
    PQfinish(look);
    PQfinish(side);
}

/* The same with a text not prepared yet: the prepare itself is under the deadline. */
static void test_pgstmt_deadline_stopped_backend_prepare(void **state) {
    sqlpool *pool = open_pool(pg_url(), 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    PGresult *r = NULL;
    long long pid;
    double t0, took;
    int rc;
    (void)state;
    pid = backend_pid(conn);
    assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
    t0 = now_s();
    rc = sqlpool_conn_pg_exec_until(conn, "SELECT 'never prepared here'", 0, NULL,
                                    sqlpool_clock(pool) + 0.5, &r);
    took = now_s() - t0;
    (void)kill((pid_t)pid, SIGCONT);
    if (rc != SQLPOOL_ETIMEDOUT)
        fail_msg("rc %d (%s), wanted SQLPOOL_ETIMEDOUT", rc, sqlpool_errmsg());
    assert_null(r);
    if (took < 0.45 || took > 3.0) fail_msg("the call took %.3f s", took);
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).closed, 1);
    sqlpool_close(pool);
}

/* ---- passwords ---- */

static void expect_masked(const char *db, const char *secret) {
    char out[512];
    (void)sqlpool_db_mask(db, out, sizeof out);
    if (strstr(out, secret) != NULL) fail_msg("'%s' masks as '%s'", db, out);
}

/* A db string nested in dbname= (libpq reads it as a db string of its own) is masked; and
 * the server's echo of it ('database "..." does not exist') too. */
static void test_pgstmt_mask_nested_dbname(void **state) {
    char *db;
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    int rc;
    (void)state;
    expect_masked("dbname=postgresql://u:secret1@h/db", "secret1");
    expect_masked("host=h dbname='postgresql://u:secret2@h/db' user=x", "secret2");
    expect_masked("host=h dbname='host=a password=secret3'", "secret3");
    expect_masked("postgresql://h/?dbname=postgresql%3A%2F%2Fu%3Asecret4%40h%2Fdb", "secret4");
    expect_masked("postgresql://h/?dbname=postgresql://u:secret5@h/db", "secret5");
    expect_masked("host=h dbname='host=a password = secret6'", "secret6");
    expect_masked("host=h dbname='host=a password\t=\tsecret7 port=1'", "secret7");
    expect_masked("host=h dbname='postgresql://u:sec/ret8@h/db'", "ret8");
    expect_masked("postgresql://u:sec/ret9@h/db", "ret9");
    {
        char out[128];
        (void)sqlpool_db_mask("host=h dbname=plain", out, sizeof out);
        assert_string_equal(out, "host=h dbname=plain");
        /* Free text, as libpq's messages quote a db string. */
        (void)sqlpool_text_mask("connection to server failed: database "
                                "\"postgresql://u:hidden1@h/db\" does not exist",
                                out, sizeof out);
        assert_null(strstr(out, "hidden1"));
        assert_non_null(strstr(out, "does not exist"));
        (void)sqlpool_text_mask("FATAL: bad option \"password = hidden2\"", out, sizeof out);
        assert_null(strstr(out, "hidden2"));
        (void)sqlpool_text_mask(NULL, out, sizeof out);
        assert_string_equal(out, "");
    }
    /* A real server told of that database. */
    {
        PQconninfoOption *o = PQconninfoParse(pg_url(), NULL);
        const char *host = "", *port = "", *user = "", *password = "";
        assert_non_null(o);
        for (PQconninfoOption *p = o; p->keyword != NULL; p++) {
            if (p->val == NULL) continue;
            if (strcmp(p->keyword, "host") == 0) host = p->val;
            if (strcmp(p->keyword, "port") == 0) port = p->val;
            if (strcmp(p->keyword, "user") == 0) user = p->val;
            if (strcmp(p->keyword, "password") == 0) password = p->val;
        }
        db = testutil_format("host=%s port=%s user=%s password=%s "
                             "dbname='postgresql://u:nested-secret@nowhere/db'",
                             host, port, user, password);
        PQconninfoFree(o);
    }
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.min_idle = 1;
    cfg.acquire_timeout = 2;
    rc = sqlpool_open(&cfg, &pool);
    if (rc == SQLPOOL_OK) {
        sqlpool_conn *conn = NULL;
        rc = sqlpool_acquire(pool, &conn);
        sqlpool_release(conn);
        sqlpool_close(pool);
    }
    assert_int_not_equal(rc, SQLPOOL_OK);
    if (strstr(sqlpool_errmsg(), "nested-secret") != NULL)
        fail_msg("the message has the password: %s", sqlpool_errmsg());
    free(db);
}

/* ---- through pgbouncer (transaction mode), the default configuration ---- */

#define BOUNCER_THREADS 5
#define BOUNCER_TEXTS 20

typedef struct bouncer_run {
    sqlpool *pool;
    int id;
    atomic_int *wrong, *failed;
} bouncer_run;

/* Each of BOUNCER_TEXTS texts (the same set on every thread, in another order), with the
 * thread's own parameter: every answer must be this call's. Then a transaction of ours. */
static void *bouncer_main(void *arg) {
    bouncer_run *b = arg;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < BOUNCER_TEXTS; i++) {
            int n = (i * 7 + b->id * 3 + round) % BOUNCER_TEXTS;
            char sql[96], param[16], want[32];
            const char *values[1] = {param};
            sqlpool_conn *conn = NULL;
            PGresult *r = NULL;
            snprintf(sql, sizeof sql, "SELECT %d * 1000 + $1::int AS v /* text %d */", n, n);
            snprintf(param, sizeof param, "%d", b->id * 10 + round);
            snprintf(want, sizeof want, "%d", n * 1000 + b->id * 10 + round);
            if (sqlpool_acquire(b->pool, &conn) != SQLPOOL_OK) {
                atomic_fetch_add(b->failed, 1);
                continue;
            }
            if (sqlpool_conn_pg_exec(conn, sql, 1, values, &r) != SQLPOOL_OK ||
                PQresultStatus(r) != PGRES_TUPLES_OK)
                atomic_fetch_add(b->failed, 1);
            else if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), want) != 0)
                atomic_fetch_add(b->wrong, 1);
            PQclear(r);
            /* A transaction: BEGIN, an INSERT of ours, a read of it back, COMMIT. */
            if (i % 5 == 0) {
                const char *ins[2] = {param, sql};
                int ok = 0;
                if (sqlpool_conn_pg_exec(conn, "BEGIN", 0, NULL, &r) == SQLPOOL_OK &&
                    PQresultStatus(r) == PGRES_COMMAND_OK) {
                    PQclear(r);
                    r = NULL;
                    if (sqlpool_conn_pg_exec(conn,
                                             "INSERT INTO pgstmt_bouncer (who, what) "
                                             "VALUES ($1::int, $2) RETURNING who",
                                             2, ins, &r) == SQLPOOL_OK &&
                        PQresultStatus(r) == PGRES_TUPLES_OK) {
                        PQclear(r);
                        r = NULL;
                        ok = sqlpool_conn_pg_exec(conn, "COMMIT", 0, NULL, &r) == SQLPOOL_OK &&
                             PQresultStatus(r) == PGRES_COMMAND_OK &&
                             strcmp(PQcmdStatus(r), "COMMIT") == 0;
                    }
                }
                PQclear(r);
                if (!ok) atomic_fetch_add(b->failed, 1);
            }
            sqlpool_release(conn);
        }
    }
    return NULL;
}

static void test_pgstmt_pgbouncer_own_results(void **state) {
    sqlpool *pool = open_pool(bouncer_url(), 0, BOUNCER_THREADS);
    pthread_t t[BOUNCER_THREADS];
    bouncer_run runs[BOUNCER_THREADS];
    atomic_int wrong = 0, failed = 0;
    PGconn *side = side_connect();
    PGresult *r = PQexec(side, "DROP TABLE IF EXISTS pgstmt_bouncer; CREATE TABLE pgstmt_bouncer "
                               "(who int NOT NULL, what text NOT NULL)");
    long long rows;
    (void)state;
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    for (int i = 0; i < BOUNCER_THREADS; i++) {
        runs[i].pool = pool;
        runs[i].id = i;
        runs[i].wrong = &wrong;
        runs[i].failed = &failed;
        assert_int_equal(pthread_create(&t[i], NULL, bouncer_main, &runs[i]), 0);
    }
    for (int i = 0; i < BOUNCER_THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    r = PQexec(side, "SELECT count(*) FROM pgstmt_bouncer");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    rows = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQclear(PQexec(side, "DROP TABLE pgstmt_bouncer"));
    PQfinish(side);
    sqlpool_close(pool);
    if (atomic_load(&wrong) != 0 || atomic_load(&failed) != 0)
        fail_msg("%d answers were another call's, %d calls failed", atomic_load(&wrong),
                 atomic_load(&failed));
    assert_int_equal(rows, BOUNCER_THREADS * 3 * (BOUNCER_TEXTS / 5));
}

/* sqlpool bench --workload read-write through pgbouncer: exit 0, every count adds up, no row
 * lost or invented. */
static void test_pgstmt_pgbouncer_bench_read_write(void **state) {
    bench_out r = bench_run_cli(NULL,
                                ARGS("--db", bouncer_url(), "--workload", "read-write", "--clients",
                                     "4", "--transactions", "50", "--json"),
                                1);
    json_t *run;
    (void)state;
    if (r.status != 0) fail_msg("bench exited %d: %s", r.status, r.err ? r.err : "");
    run = json_array_get(bench_runs(&r), 0);
    bench_expect_counts(run, 4, 50, 1, 100);
    assert_int_equal(bench_int(run, "transactions"), 200);
    bench_out_free(&r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pgstmt_names_by_text),
    cmocka_unit_test(test_pgstmt_statement_name_hash),
    cmocka_unit_test(test_pgstmt_lost_statement_prepared_again),
    cmocka_unit_test(test_pgstmt_existing_statement_used),
    cmocka_unit_test(test_pgstmt_failed_prepare_keeps_message),
    cmocka_unit_test(test_pgstmt_terminated_is_broken),
    cmocka_unit_test(test_pgstmt_killed_mid_statement_is_broken),
    cmocka_unit_test(test_pgstmt_read_only_is_broken),
    cmocka_unit_test(test_pgstmt_check),
    cmocka_unit_test(test_pgstmt_deadline_cancels_sleep),
    cmocka_unit_test(test_pgstmt_statement_timeout_default),
    cmocka_unit_test(test_pgstmt_deadline_stopped_backend),
    cmocka_unit_test(test_pgstmt_deadline_stopped_backend_prepare),
    cmocka_unit_test(test_pgstmt_deadline_drain_keeps_completed),
    cmocka_unit_test(test_pgstmt_mask_nested_dbname),
    cmocka_unit_test(test_pgstmt_pgbouncer_own_results),
    cmocka_unit_test(test_pgstmt_pgbouncer_bench_read_write),
};

SQLPOOL_TEST_MAIN(tests)
