/*
 * test_pgasync.c: requests from an event loop (sqlpool_acquire_async() and its read variant,
 * sqlpool_dispatch(), sqlpool_release_async()) on PostgreSQL: queries sent with libpq's
 * asynchronous calls on the borrowed connection, reads served from config.read_db, and a
 * server that stops answering (its backends stopped with SIGSTOP), which must never block
 * the loop's thread inside a pool call.
 *
 * The server comes from scripts/with-pg.sh (make test): SQLPOOL_TEST_PG is its URL. Without
 * it each test fails.
 */
#include "testutil.h"

#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static const char *pg_url(void) {
    const char *v = getenv("SQLPOOL_TEST_PG");
    if (v == NULL || v[0] == '\0')
        fail_msg("SQLPOOL_TEST_PG is not set: run the tests through make test, which starts a "
                 "server");
    return v;
}

/* The test URL with a query parameter added (caller frees). */
static char *url_with(const char *param) {
    const char *url = pg_url();
    return testutil_format("%s%s%s", url, strchr(url, '?') ? "&" : "?", param);
}

static sqlpool *open_pool(const sqlpool_config *cfg) {
    sqlpool *pool = NULL;
    int rc = sqlpool_open(cfg, &pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
    return pool;
}

static void wait_in_use(sqlpool *pool, int in_use) {
    double until = now_s() + 10;
    while (testutil_stats(pool).in_use != in_use && now_s() < until)
        sleep_s(0.001);
    assert_int_equal(testutil_stats(pool).in_use, in_use);
}

/* ---- one request and its query, driven by the loop below ---- */

typedef struct job {
    int calls, rc;
    sqlpool_conn *conn; /* while the query is in flight */
    const char *sql;    /* one parameter: param */
    char param[32];
    char answer[128]; /* the first column of the one row, or "error: ..." */
    int done;         /* the query ended (or the request failed) */
    double deadline;  /* the request's, on sqlpool_clock() */
    double due;       /* the same on now_s() */
    double called_at; /* now_s() */
} job;

static void job_end(job *j, int broken) {
    PGconn *pg = sqlpool_conn_pg(j->conn);
    (void)PQsetnonblocking(pg, 0); /* the pool expects blocking mode */
    if (broken)
        sqlpool_discard_async(j->conn);
    else
        sqlpool_release_async(j->conn);
    j->conn = NULL;
    j->done = 1;
}

/* The request's callback: send the query without waiting for it. */
static void job_ready(int rc, sqlpool_conn *conn, void *ctx) {
    job *j = ctx;
    const char *values[1] = {j->param};
    j->calls++;
    j->rc = rc;
    j->called_at = now_s();
    if (rc != SQLPOOL_OK) {
        snprintf(j->answer, sizeof j->answer, "error: %s", sqlpool_strerror(rc));
        j->done = 1;
        return;
    }
    j->conn = conn;
    PGconn *pg = sqlpool_conn_pg(conn);
    if (PQsetnonblocking(pg, 1) != 0 ||
        !PQsendQueryParams(pg, j->sql, 1, NULL, values, NULL, NULL, 0) || PQflush(pg) != 0) {
        snprintf(j->answer, sizeof j->answer, "error: send: %s", PQerrorMessage(pg));
        job_end(j, 1);
    }
}

/* The connection's socket is readable: read what came, take the results while libpq has
 * them whole. */
static void job_input(job *j) {
    PGconn *pg = sqlpool_conn_pg(j->conn);
    if (!PQconsumeInput(pg)) {
        snprintf(j->answer, sizeof j->answer, "error: input: %s", PQerrorMessage(pg));
        job_end(j, 1);
        return;
    }
    while (!PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        if (res == NULL) {
            job_end(j, 0);
            return;
        }
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            snprintf(j->answer, sizeof j->answer, "%s", PQgetvalue(res, 0, 0));
        else
            snprintf(j->answer, sizeof j->answer, "error: %s", PQresultErrorMessage(res));
        PQclear(res);
    }
}

/* The longest single pool call the loop made (seconds), and which. */
static double longest;
static const char *longest_what;

static void note_call(const char *what, double t0) {
    double took = now_s() - t0;
    if (took > longest) {
        longest = took;
        longest_what = what;
    }
}

enum { MAX_JOBS = 64 };

/* The loop: poll the pool's event fd and the sockets of the queries in flight until every
 * job is done or seconds pass; each pool call timed. */
static void run_loop(sqlpool *pool, job *jobs, int n, double seconds) {
    double until = now_s() + seconds, t0 = now_s();
    int efd = sqlpool_event_fd(pool);
    note_call("sqlpool_event_fd", t0);
    assert_true(efd >= 0);
    for (;;) {
        struct pollfd fds[MAX_JOBS + 1];
        job *of[MAX_JOBS + 1];
        int nfds = 1, left = 0;
        fds[0] = (struct pollfd){.fd = efd, .events = POLLIN};
        for (int i = 0; i < n; i++) {
            if (!jobs[i].done) left++;
            if (jobs[i].conn != NULL) {
                of[nfds] = &jobs[i];
                fds[nfds++] = (struct pollfd){.fd = PQsocket(sqlpool_conn_pg(jobs[i].conn)),
                                              .events = POLLIN};
            }
        }
        if (left == 0 || now_s() >= until) return;
        if (poll(fds, (nfds_t)nfds, 20) <= 0) continue;
        for (int k = 1; k < nfds; k++)
            if (fds[k].revents != 0) job_input(of[k]);
        if (fds[0].revents & POLLIN) {
            t0 = now_s();
            (void)sqlpool_dispatch(pool); /* the callbacks only send: they take no time */
            note_call("sqlpool_dispatch", t0);
        }
    }
}

static void job_init(job *j, const char *sql, long param) {
    memset(j, 0, sizeof *j);
    j->sql = sql;
    snprintf(j->param, sizeof j->param, "%ld", param);
}

/* ---- tests ---- */

/* Many requests on two connections, each query sent with PQsendQueryParams() and read when
 * its socket is readable, each connection given back with sqlpool_release_async(). */
static void test_pgasync_queries_end_to_end(void **state) {
    enum { N = 40 };
    static job jobs[N];
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_stats st;
    (void)state;
    sqlpool_config_init(&cfg);
    cfg.db = pg_url();
    cfg.max_open = 2;
    cfg.max_idle = 2;
    pool = open_pool(&cfg);
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], "SELECT $1::int * 2", 1000 + i);
        assert_int_equal(
            sqlpool_acquire_async(pool, SQLPOOL_DEADLINE_DEFAULT, job_ready, &jobs[i], NULL),
            SQLPOOL_OK);
    }
    run_loop(pool, jobs, N, 30);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "%d", 2 * (1000 + i));
        assert_int_equal(jobs[i].calls, 1);
        assert_int_equal(jobs[i].rc, SQLPOOL_OK);
        assert_string_equal(jobs[i].answer, want);
    }
    wait_in_use(pool, 0);
    st = testutil_stats(pool);
    assert_true(st.created <= 2);
    assert_int_equal(st.closed, 0);
    assert_int_equal(st.waiting, 0);
    assert_true(st.acquires >= N);
    sqlpool_close(pool);
}

/* sqlpool_acquire_read_async() with config.read_db: served from read_db (here the same
 * server under another application_name), writes from db. */
static void test_pgasync_read_db_serves_reads(void **state) {
    static job jobs[4];
    sqlpool_config cfg;
    sqlpool *pool;
    char *db = url_with("application_name=pgasync_writer");
    char *read_db = url_with("application_name=pgasync_reader");
    const char *sql = "SELECT current_setting('application_name') || ':' || $1::text";
    (void)state;
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.read_db = read_db;
    cfg.max_open = 2;
    pool = open_pool(&cfg);
    for (int i = 0; i < 4; i++) {
        job_init(&jobs[i], sql, i);
        int rc = i % 2 ? sqlpool_acquire_read_async(pool, SQLPOOL_DEADLINE_DEFAULT, job_ready,
                                                    &jobs[i], NULL)
                       : sqlpool_acquire_async(pool, SQLPOOL_DEADLINE_DEFAULT, job_ready, &jobs[i],
                                               NULL);
        assert_int_equal(rc, SQLPOOL_OK);
    }
    run_loop(pool, jobs, 4, 30);
    for (int i = 0; i < 4; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s:%d", i % 2 ? "pgasync_reader" : "pgasync_writer", i);
        assert_int_equal(jobs[i].calls, 1);
        assert_int_equal(jobs[i].rc, SQLPOOL_OK);
        assert_string_equal(jobs[i].answer, want);
    }
    wait_in_use(pool, 0);
    assert_int_equal(testutil_stats(pool).read_fallbacks, 0);
    sqlpool_close(pool);
    free(db);
    free(read_db);
}

/* ---- a server that stops answering ---- */

enum { STOPPED_N = 6 };

/* What the loop saw while the backends were stopped. */
typedef struct stopped {
    job jobs[STOPPED_N]; /* asked with deadlines 0.3 s to 0.55 s away */
    int try_rc, cancel_rc, never_calls;
    double longest; /* the longest single pool call on the loop's thread, seconds */
    const char *longest_what;
    double connect_timeout;
} stopped;

/*
 * The server stops answering: both backends of the pool's two connections stopped
 * (SIGSTOP), one connection borrowed in a transaction, so that its release needs a rollback,
 * the other idle past validation_bypass, so that lending it needs a ping; each waits up to
 * connect_timeout on a job thread. The loop releases the first with sqlpool_release_async(),
 * asks for connections (the first request takes the idle one, the rest queue), asks once
 * more and cancels that one, tries sqlpool_try_acquire(), and dispatches for 3 s, timing
 * each pool call. Then the backends run again, and a request must be served and its query
 * answered. Nothing is asserted while the backends are stopped (a failure would leave them
 * so); the caller checks *out.
 */
static void stopped_server_run(stopped *out) {
    static job after, never;
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *a, *b, *other = NULL;
    sqlpool_request *cancelled = NULL;
    pid_t pid_a, pid_b;
    PGresult *res;
    double t0;
    memset(out, 0, sizeof *out);
    sqlpool_config_init(&cfg);
    cfg.db = pg_url();
    cfg.max_open = 2;
    cfg.max_idle = 2;
    cfg.validation_bypass = 0.05; /* an idle connection is soon due a ping */
    cfg.connect_timeout = 2.0;    /* how long that ping waits: past every deadline below */
    out->connect_timeout = cfg.connect_timeout;
    pool = open_pool(&cfg);
    a = testutil_acquire(pool);
    b = testutil_acquire(pool);
    pid_a = (pid_t)PQbackendPID(sqlpool_conn_pg(a));
    pid_b = (pid_t)PQbackendPID(sqlpool_conn_pg(b));
    res = PQexec(sqlpool_conn_pg(a), "BEGIN");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    sqlpool_release(b);
    sleep_s(0.1); /* b idle longer than validation_bypass */

    longest = 0;
    longest_what = "none";
    job_init(&never, "SELECT $1::int", 0);
    if (kill(pid_a, SIGSTOP) != 0 || kill(pid_b, SIGSTOP) != 0) {
        (void)kill(pid_a, SIGCONT);
        fail_msg("cannot stop backends %d, %d", (int)pid_a, (int)pid_b);
    }
    t0 = now_s();
    sqlpool_release_async(a); /* in a transaction: the rollback is a job thread's */
    note_call("sqlpool_release_async", t0);
    for (int i = 0; i < STOPPED_N; i++) {
        job *j = &out->jobs[i];
        job_init(j, "SELECT $1::int", i);
        j->deadline = sqlpool_clock(pool) + 0.3 + 0.05 * i;
        j->due = now_s() + (j->deadline - sqlpool_clock(pool));
        t0 = now_s();
        if (i % 2)
            j->rc = sqlpool_acquire_read_async(pool, j->deadline, job_ready, j, NULL);
        else
            j->rc = sqlpool_acquire_async(pool, j->deadline, job_ready, j, NULL);
        note_call("sqlpool_acquire_async", t0);
    }
    t0 = now_s();
    (void)sqlpool_acquire_async(pool, INFINITY, job_ready, &never, &cancelled);
    note_call("sqlpool_acquire_async", t0);
    t0 = now_s();
    out->try_rc = sqlpool_try_acquire(pool, &other);
    note_call("sqlpool_try_acquire", t0);
    if (out->try_rc == SQLPOOL_OK) sqlpool_release_async(other);
    run_loop(pool, out->jobs, STOPPED_N, 0.2);
    t0 = now_s();
    out->cancel_rc = cancelled != NULL ? sqlpool_cancel(cancelled) : SQLPOOL_EINVAL;
    note_call("sqlpool_cancel", t0);
    run_loop(pool, out->jobs, STOPPED_N, 3);
    (void)kill(pid_a, SIGCONT);
    (void)kill(pid_b, SIGCONT);
    out->never_calls = never.calls;
    out->longest = longest;
    out->longest_what = longest_what;
    print_message("longest pool call on the loop with the server stopped: %.6f s (%s)\n",
                  out->longest, out->longest_what);
    for (int i = 0; i < STOPPED_N; i++)
        print_message("request %d: rc %d, called back %+.3f s from its deadline\n", i,
                      out->jobs[i].rc, out->jobs[i].called_at - out->jobs[i].due);

    /* The backends answer again: a request is served, its query answered. */
    job_init(&after, "SELECT $1::int * 2", 21);
    assert_int_equal(sqlpool_acquire_async(pool, sqlpool_clock(pool) + 20, job_ready, &after, NULL),
                     SQLPOOL_OK);
    run_loop(pool, &after, 1, 25);
    assert_int_equal(after.calls, 1);
    assert_int_equal(after.rc, SQLPOOL_OK);
    assert_string_equal(after.answer, "42");
    wait_in_use(pool, 0);
    sqlpool_close(pool);
}

/* No pool call on the loop's thread waits for a stopped server (the bound is generous, for
 * a loaded machine; such a call takes microseconds), and every request is called back once,
 * timed out, within the job threads' own bound on the server (connect_timeout). */
static void test_pgasync_stopped_server_never_blocks_loop(void **state) {
    static stopped st;
    (void)state;
    stopped_server_run(&st);
    if (st.longest > 0.25)
        fail_msg("%s took %.3f s with the server stopped", st.longest_what, st.longest);
    assert_int_equal(st.try_rc, SQLPOOL_EAGAIN);
    assert_int_equal(st.cancel_rc, SQLPOOL_OK);
    assert_int_equal(st.never_calls, 0);
    for (int i = 0; i < STOPPED_N; i++) {
        double late = st.jobs[i].called_at - st.jobs[i].due;
        assert_int_equal(st.jobs[i].calls, 1);
        assert_int_equal(st.jobs[i].rc, SQLPOOL_ETIMEDOUT);
        if (late < -0.01 || late > st.connect_timeout + 1.0)
            fail_msg("request %d called back %.3f s after its deadline", i, late);
    }
}

/* The same, and the requests that waited in the queue end at their deadlines (SQLPOOL_ETIMEDOUT
 * "at the deadline"), though every job thread is in a round trip with the stopped server. The
 * first request is left out: it took the idle connection and waits for its ping, as a
 * blocking acquire would, which connect_timeout bounds. */
static void test_pgasync_stopped_server_deadlines_kept(void **state) {
    static stopped st;
    (void)state;
    stopped_server_run(&st);
    for (int i = 1; i < STOPPED_N; i++) {
        double late = st.jobs[i].called_at - st.jobs[i].due;
        assert_int_equal(st.jobs[i].calls, 1);
        assert_int_equal(st.jobs[i].rc, SQLPOOL_ETIMEDOUT);
        if (late < -0.01 || late > 0.5)
            fail_msg("queued request %d called back %.3f s after its deadline", i, late);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pgasync_queries_end_to_end),
    cmocka_unit_test(test_pgasync_read_db_serves_reads),
    cmocka_unit_test(test_pgasync_stopped_server_never_blocks_loop),
    cmocka_unit_test(test_pgasync_stopped_server_deadlines_kept),
};

SQLPOOL_TEST_MAIN(tests)
