/*
 * test_pgfailover.c: PostgreSQL beyond one server (issue 15), against a real primary and hot
 * standby that each test starts for itself (scripts/pg-replica.sh: pg_basebackup -R, a
 * synchronous standby, loopback, random ports) and stops in its teardown, whatever happened:
 * config.read_db and read_fallback (and its back-off from a silent standby), role drift (a read
 * pool and a promoted standby, a write pool and a server turned read-only, 25006's eviction), a
 * failover under writing threads, and the old primary back as a primary.
 *
 * cmocka's assertions longjmp, so they run on the main thread only: worker threads record what
 * they saw and the main thread checks it after joining them.
 */
#include "testutil.h"

#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- time ---- */

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

/* ---- the servers ---- */

typedef struct cluster {
    char *dir;
    char primary[256], standby[256]; /* conninfo of the test role */
    char primary_port[16], standby_port[16];
    char primary_ctl[512], standby_ctl[512]; /* "pg_ctl -D ..." to append a command to */
    char primary_admin[256], standby_admin[256];
} cluster;

static cluster the; /* the one of the running test (teardown stops it) */

/* One KEY='VALUE' line of the script's output into dst when it names key. */
static void take(const char *line, const char *key, char *dst, size_t len) {
    size_t k = strlen(key);
    const char *v, *end;
    if (strncmp(line, key, k) != 0 || line[k] != '=' || line[k + 1] != '\'') return;
    v = line + k + 2;
    end = strrchr(v, '\'');
    if (end == NULL || (size_t)(end - v) >= len) return;
    memcpy(dst, v, (size_t)(end - v));
    dst[end - v] = '\0';
}

static int cluster_setup(void **state) {
    char *cmd, line[1024];
    FILE *out;
    (void)state;
    memset(&the, 0, sizeof the);
    the.dir = testutil_tmpdir();
    (void)chmod(the.dir, 0755); /* as root, the servers run as postgres: they must reach it */
    cmd =
        testutil_format("sh '%s/scripts/pg-replica.sh' start '%s/c'", SQLPOOL_SOURCE_DIR, the.dir);
    out = popen(cmd, "r");
    free(cmd);
    if (out == NULL) return -1;
    while (fgets(line, sizeof line, out) != NULL) {
        take(line, "SQLPOOL_TEST_PG_PRIMARY", the.primary, sizeof the.primary);
        take(line, "SQLPOOL_TEST_PG_STANDBY", the.standby, sizeof the.standby);
        take(line, "SQLPOOL_TEST_PG_PRIMARY_PORT", the.primary_port, sizeof the.primary_port);
        take(line, "SQLPOOL_TEST_PG_STANDBY_PORT", the.standby_port, sizeof the.standby_port);
        take(line, "SQLPOOL_TEST_PG_PRIMARY_CTL", the.primary_ctl, sizeof the.primary_ctl);
        take(line, "SQLPOOL_TEST_PG_STANDBY_CTL", the.standby_ctl, sizeof the.standby_ctl);
        take(line, "SQLPOOL_TEST_PG_PRIMARY_ADMIN", the.primary_admin, sizeof the.primary_admin);
        take(line, "SQLPOOL_TEST_PG_STANDBY_ADMIN", the.standby_admin, sizeof the.standby_admin);
    }
    if (pclose(out) != 0 || the.primary[0] == '\0' || the.standby_ctl[0] == '\0') {
        fprintf(stderr, "pg-replica.sh could not start a primary and a standby\n");
        return -1;
    }
    return 0;
}

static int cluster_teardown(void **state) {
    char *cmd;
    (void)state;
    if (the.dir == NULL) return 0;
    cmd = testutil_format("sh '%s/scripts/pg-replica.sh' stop '%s/c'", SQLPOOL_SOURCE_DIR, the.dir);
    if (system(cmd) != 0) fprintf(stderr, "pg-replica.sh stop failed\n");
    free(cmd);
    testutil_rmtree(the.dir);
    free(the.dir);
    the.dir = NULL;
    return 0;
}

/* Run "<ctl> what" (stop -m immediate, start, promote); it must succeed. */
static void ctl(const char *pg_ctl, const char *what) {
    char *cmd = testutil_format("%s %s >/dev/null 2>&1", pg_ctl, what);
    int rc = system(cmd);
    free(cmd);
    assert_int_equal(rc, 0);
}

/* A statement through libpq on conninfo; its first value as a number (0 when none). */
static long long admin_query(const char *conninfo, const char *sql) {
    PGconn *pg = PQconnectdb(conninfo);
    PGresult *r;
    long long v = 0;
    if (PQstatus(pg) != CONNECTION_OK) fail_msg("admin connect: %s", PQerrorMessage(pg));
    r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        v = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 1 : atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(pg);
    return v;
}

/* ---- the pool ---- */

static sqlpool_config base_config(const char *db) {
    sqlpool_config cfg;
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.max_open = 8;
    cfg.min_idle = 0;
    cfg.acquire_timeout = 3;
    cfg.connect_timeout = 2;
    return cfg;
}

static sqlpool *open_pool(const sqlpool_config *cfg) {
    sqlpool *pool = NULL;
    int rc = sqlpool_open(cfg, &pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %s (%s)", sqlpool_strerror(rc), sqlpool_errmsg());
    return pool;
}

/* pg_is_in_recovery() on a borrowed connection: 1 a standby, 0 a primary. */
static int in_recovery(sqlpool_conn *conn) {
    PGresult *r = NULL;
    int rc = sqlpool_conn_pg_exec(conn, "SELECT pg_is_in_recovery()", 0, NULL, &r), v;
    if (rc != SQLPOOL_OK)
        fail_msg("pg_is_in_recovery: %s (%s)", sqlpool_strerror(rc), sqlpool_errmsg());
    v = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return v;
}

static int exec_ok(sqlpool_conn *conn, const char *sql) {
    PGresult *r = NULL;
    int rc = sqlpool_conn_pg_exec(conn, sql, 0, NULL, &r);
    PQclear(r);
    return rc;
}

/* ---- read_db ---- */

/* Reads from the standby, writes to the primary; what was written is read there. */
static void test_pgfailover_read_db_reads_on_standby(void **state) {
    sqlpool_config cfg = base_config(the.primary);
    sqlpool *pool;
    sqlpool_conn *w, *r[3];
    sqlpool_stats st, lane;
    double until;
    long long seen = 0;
    (void)state;
    cfg.read_db = the.standby;
    cfg.read_max_open = 3;
    pool = open_pool(&cfg);
    w = testutil_acquire(pool);
    assert_int_equal(in_recovery(w), 0);
    assert_int_equal(exec_ok(w, "CREATE TABLE t (x int)"), SQLPOOL_OK);
    assert_int_equal(exec_ok(w, "INSERT INTO t VALUES (42)"), SQLPOOL_OK);
    sqlpool_release(w);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sqlpool_acquire_read(pool, &r[i]), SQLPOOL_OK);
        assert_int_equal(in_recovery(r[i]), 1);
    }
    /* The read lane's cap: a fourth read waits, then times out (no fallback: a wait at the
     * cap is not a missing server). */
    {
        sqlpool_conn *extra = NULL;
        assert_int_equal(sqlpool_acquire_read_until(pool, &extra, sqlpool_clock(pool) + 0.2),
                         SQLPOOL_ETIMEDOUT);
        assert_null(extra);
    }
    /* Synchronous replication acknowledges the flush, not the replay: poll briefly. */
    until = now_s() + 5;
    while (seen != 42 && now_s() < until) {
        PGresult *res = NULL;
        if (sqlpool_conn_pg_exec(r[0], "SELECT coalesce(max(x), 0) FROM t", 0, NULL, &res) ==
            SQLPOOL_OK)
            seen = atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (seen != 42) sleep_s(0.05);
    }
    assert_int_equal(seen, 42);
    for (int i = 0; i < 3; i++)
        sqlpool_release(r[i]);
    st = testutil_stats(pool);
    assert_int_equal(st.read_fallbacks, 0);
    assert_int_equal(sqlpool_stats_get_lane(pool, SQLPOOL_LANE_READ, &lane), SQLPOOL_OK);
    assert_int_equal(lane.max_open, 3);
    assert_int_equal(lane.created, 3);
    assert_int_equal(sqlpool_stats_get_lane(pool, SQLPOOL_LANE_WRITE, &lane), SQLPOOL_OK);
    assert_int_equal(lane.max_open, 8); /* the writer is a plain pool of db, not capped at 1 */
    sqlpool_close(pool);
}

/* The standby stopped: reads are served by the primary, counted; with read_fallback 0 they
 * fail. */
static void test_pgfailover_read_fallback_to_primary(void **state) {
    sqlpool_config cfg = base_config(the.primary);
    sqlpool *pool, *strict;
    sqlpool_conn *r = NULL;
    sqlpool_stats st;
    double t0;
    int rc;
    (void)state;
    cfg.read_db = the.standby;
    pool = open_pool(&cfg);
    assert_int_equal(sqlpool_acquire_read(pool, &r), SQLPOOL_OK);
    assert_int_equal(in_recovery(r), 1);
    sqlpool_release(r);
    ctl(the.standby_ctl, "stop -m immediate");
    for (int i = 0; i < 3; i++) {
        t0 = now_s();
        rc = sqlpool_acquire_read(pool, &r);
        if (rc != SQLPOOL_OK)
            fail_msg("read %d: %s (%s)", i, sqlpool_strerror(rc), sqlpool_errmsg());
        assert_true(now_s() - t0 < 2.0); /* a refused standby does not hold the read */
        assert_int_equal(in_recovery(r), 0);
        sqlpool_release(r);
    }
    st = testutil_stats(pool);
    assert_int_equal(st.read_fallbacks, 3);
    sqlpool_close(pool);

    cfg.read_fallback = 0;
    cfg.acquire_timeout = 0.5;
    strict = open_pool(&cfg);
    rc = sqlpool_acquire_read(strict, &r);
    assert_int_not_equal(rc, SQLPOOL_OK);
    assert_null(r);
    st = testutil_stats(strict);
    assert_int_equal(st.read_fallbacks, 0);
    sqlpool_close(strict);
}

/* ---- the read lane's back-off ---- */

/* A silent standby: its postmaster stopped (SIGSTOP), so that the kernel still accepts
 * connections on its port and nothing answers them; continued by the teardown whatever
 * happened (a stopped postmaster would not stop). */
static pid_t stopped_standby;

static void standby_silent(int silent) {
    if (silent) {
        char *path = testutil_format("%s/c/standby/postmaster.pid", the.dir);
        char *text = testutil_read_file(path, NULL);
        pid_t pid;
        free(path);
        assert_non_null(text);
        pid = (pid_t)atol(text);
        free(text);
        assert_true(pid > 1);
        assert_int_equal(kill(pid, SIGSTOP), 0);
        stopped_standby = pid;
    } else if (stopped_standby > 0) {
        assert_int_equal(kill(stopped_standby, SIGCONT), 0);
        stopped_standby = 0;
    }
}

static int backoff_teardown(void **state) {
    if (stopped_standby > 0) (void)kill(stopped_standby, SIGCONT);
    stopped_standby = 0;
    return cluster_teardown(state);
}

/* One read, timed, safe off the main thread: its rc, seconds, and where it ran (1 the standby,
 * 0 the primary, -1 unknown). */
typedef struct timed_read {
    sqlpool *pool;
    int rc, standby;
    double secs;
} timed_read;

static void *read_once(void *p) {
    timed_read *t = p;
    sqlpool_conn *c = NULL;
    double t0 = now_s();
    t->standby = -1;
    t->rc = sqlpool_acquire_read(t->pool, &c);
    t->secs = now_s() - t0;
    if (t->rc == SQLPOOL_OK) {
        PGresult *r = NULL;
        if (sqlpool_conn_pg_exec(c, "SELECT pg_is_in_recovery()", 0, NULL, &r) == SQLPOOL_OK)
            t->standby = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        sqlpool_release(c);
    }
    return NULL;
}

static timed_read read_timed(sqlpool *pool) {
    timed_read t = {pool, 0, 0, 0};
    (void)read_once(&t);
    if (t.rc != SQLPOOL_OK) fail_msg("read: %s (%s)", sqlpool_strerror(t.rc), sqlpool_errmsg());
    return t;
}

static long long read_connect_failures(sqlpool *pool) {
    sqlpool_stats lane;
    assert_int_equal(sqlpool_stats_get_lane(pool, SQLPOOL_LANE_READ, &lane), SQLPOOL_OK);
    return lane.connect_failures;
}

/* Review finding b: a standby that accepts and never answers costs one read its
 * connect_timeout, then the reads within the back-off (1 s, then 2 s) go straight to the
 * primary, counted, without a connect to the standby; once the period is over exactly one of
 * four concurrent reads probes it; and once it answers again, reads go back to it. (Timings
 * are checked only against generous bounds; the read lane's connect_failures says which
 * reads tried it.) */
static void test_pgfailover_read_backoff_silent_standby(void **state) {
    sqlpool_config cfg = base_config(the.primary);
    sqlpool *pool;
    timed_read t, four[4];
    pthread_t th[4];
    double first_end, until;
    long long falls;
    int slow = 0;
    (void)state;
    cfg.read_db = the.standby;
    cfg.connect_timeout = 1;
    cfg.acquire_timeout = 5;
    pool = open_pool(&cfg);
    t = read_timed(pool);
    assert_int_equal(t.standby, 1);
    sqlpool_evict(pool); /* the next read must connect */
    standby_silent(1);

    /* The first read waits out connect_timeout on the standby, then the primary serves it. */
    t = read_timed(pool);
    first_end = now_s();
    assert_int_equal(t.standby, 0);
    assert_true(t.secs < 4.0);
    assert_int_equal(read_connect_failures(pool), 1);
    assert_int_equal(testutil_stats(pool).read_fallbacks, 1);

    /* Within the back-off: straight to the primary, no connect tried. */
    for (int i = 0; i < 5; i++) {
        t = read_timed(pool);
        assert_int_equal(t.standby, 0);
        if (t.secs >= 0.5) fail_msg("read %d in the back-off took %.3f s", i, t.secs);
    }
    assert_int_equal(read_connect_failures(pool), 1);
    assert_int_equal(testutil_stats(pool).read_fallbacks, 6);

    /* The period (1 s) is over: of four reads at once, one probes (and fails, and falls
     * back), the others skip the read lane while it tries. */
    sleep_s(first_end + 1.2 - now_s());
    for (int i = 0; i < 4; i++) {
        four[i] = (timed_read){pool, 0, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, read_once, &four[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (four[i].rc != SQLPOOL_OK) fail_msg("reader %d: %s", i, sqlpool_strerror(four[i].rc));
        assert_int_equal(four[i].standby, 0);
        assert_true(four[i].secs < 4.0);
        slow += four[i].secs >= 0.5;
    }
    assert_true(slow <= 1);
    assert_int_equal(read_connect_failures(pool), 2);
    assert_int_equal(testutil_stats(pool).read_fallbacks, 10);

    /* The standby answers again: once the period (2 s now) is over, a probe reaches it and
     * the reads after it stay there. */
    standby_silent(0);
    until = now_s() + 15;
    do {
        t = read_timed(pool);
        if (t.standby != 1) sleep_s(0.1);
    } while (t.standby != 1 && now_s() < until);
    assert_int_equal(t.standby, 1);
    falls = testutil_stats(pool).read_fallbacks;
    for (int i = 0; i < 3; i++) {
        t = read_timed(pool);
        assert_int_equal(t.standby, 1);
    }
    assert_int_equal(testutil_stats(pool).read_fallbacks, falls);
    sqlpool_close(pool);
}

/* read_db is PostgreSQL's, and not single_writer's. */
static void test_pgfailover_read_db_refused_with_sqlite(void **state) {
    sqlpool_config cfg = base_config(":memory:");
    sqlpool *pool = NULL;
    (void)state;
    cfg.read_db = "host=127.0.0.1 port=1 dbname=none"; /* never reached: refused before */
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
    assert_null(pool);
    cfg.db = "host=127.0.0.1 port=1 dbname=none";
    cfg.single_writer = 1;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
    assert_null(pool);
}

/* ---- role drift ---- */

/* A read pool (target_session_attrs=standby) leaves its standby once it is promoted, within
 * validation_bypass, counted as closed_role. */
static void test_pgfailover_read_pool_leaves_promoted_standby(void **state) {
    char db[400];
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *r = NULL;
    sqlpool_stats st;
    double promoted;
    int rc;
    (void)state;
    snprintf(db, sizeof db, "%s target_session_attrs=standby", the.standby);
    cfg = base_config(db);
    cfg.validation_bypass = 0.3;
    cfg.acquire_timeout = 1;
    pool = open_pool(&cfg);
    assert_int_equal(sqlpool_acquire(pool, &r), SQLPOOL_OK);
    assert_int_equal(in_recovery(r), 1);
    sqlpool_release(r);
    ctl(the.standby_ctl, "promote");
    promoted = now_s();
    sleep_s(0.35);
    rc = sqlpool_acquire(pool, &r);
    /* No standby is left: the promoted server is no longer what this pool serves. */
    assert_int_not_equal(rc, SQLPOOL_OK);
    assert_true(now_s() - promoted < 0.35 + 1.5);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_role, 1);
    assert_int_equal(st.closed_broken, 0);
    assert_int_equal(st.open, 0);
    sqlpool_close(pool);
}

/* The same through read_db: the read lane leaves the promoted standby (closed_role in its
 * lane), and with no standby left the read is served by the writer lane, counted. */
static void test_pgfailover_read_lane_leaves_promoted_standby(void **state) {
    char rdb[400];
    sqlpool_config cfg = base_config(the.primary);
    sqlpool *pool;
    sqlpool_conn *r = NULL;
    sqlpool_stats lane, st;
    int rc;
    (void)state;
    snprintf(rdb, sizeof rdb, "%s target_session_attrs=standby", the.standby);
    cfg.read_db = rdb;
    cfg.validation_bypass = 0.3;
    pool = open_pool(&cfg);
    assert_int_equal(sqlpool_acquire_read(pool, &r), SQLPOOL_OK);
    assert_int_equal(in_recovery(r), 1);
    sqlpool_release(r);
    ctl(the.standby_ctl, "promote");
    sleep_s(0.35);
    rc = sqlpool_acquire_read(pool, &r);
    if (rc != SQLPOOL_OK) fail_msg("read: %s (%s)", sqlpool_strerror(rc), sqlpool_errmsg());
    /* Served by db's lane: the old primary, the one db names (both are primaries now). */
    assert_int_equal(in_recovery(r), 0);
    sqlpool_release(r);
    assert_int_equal(sqlpool_stats_get_lane(pool, SQLPOOL_LANE_READ, &lane), SQLPOOL_OK);
    assert_int_equal(lane.closed_role, 1);
    assert_int_equal(lane.open, 0);
    st = testutil_stats(pool);
    assert_int_equal(st.read_fallbacks, 1);
    assert_int_equal(st.closed_role, 1);
    sqlpool_close(pool);
}

/* A write pool (read-write) and a server that turns read-only under it
 * (default_transaction_read_only, as a demoted primary would be): the idle connections are
 * closed by validation, counted as closed_role; and a 25006 on one connection evicts the
 * others to that server at their next borrow. */
static void test_pgfailover_write_pool_leaves_read_only_server(void **state) {
    char db[400];
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *c[3];
    sqlpool_stats st;
    int rc;
    (void)state;
    snprintf(db, sizeof db, "%s target_session_attrs=read-write", the.primary);
    cfg = base_config(db);
    cfg.validation_bypass = 30; /* the 25006 half: no validation in the way */
    cfg.acquire_timeout = 1;
    pool = open_pool(&cfg);
    for (int i = 0; i < 3; i++)
        c[i] = testutil_acquire(pool);
    assert_int_equal(exec_ok(c[0], "CREATE TABLE w (x int)"), SQLPOOL_OK);
    for (int i = 0; i < 3; i++)
        sqlpool_release(c[i]);
    (void)admin_query(the.primary_admin, "ALTER SYSTEM SET default_transaction_read_only = on");
    (void)admin_query(the.primary_admin, "SELECT pg_reload_conf()");
    sleep_s(0.3); /* the sessions take the reload at their next command */
    c[0] = testutil_acquire(pool);
    rc = exec_ok(c[0], "INSERT INTO w VALUES (1)");
    assert_int_equal(rc, SQLPOOL_EBROKEN); /* 25006, classified as broken */
    sqlpool_release(c[0]);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_role, 1);
    assert_int_equal(st.open, 2);
    /* The two others are on the same server: closed at their borrow, and no new connection
     * is made (the server is read-only, the pool wants read-write). */
    rc = sqlpool_acquire(pool, &c[1]);
    assert_int_not_equal(rc, SQLPOOL_OK);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_role, 3);
    assert_int_equal(st.open, 0);
    sqlpool_close(pool);

    /* The same with the 25006's connection discarded, not released (as sqlpool_with and
     * sqlpool_write do with fn's SQLPOOL_EBROKEN): no reset runs, and still its server is
     * noted and the others go. */
    (void)admin_query(the.primary_admin, "ALTER SYSTEM SET default_transaction_read_only = off");
    (void)admin_query(the.primary_admin, "SELECT pg_reload_conf()");
    sleep_s(0.2);
    pool = open_pool(&cfg);
    for (int i = 0; i < 3; i++)
        c[i] = testutil_acquire(pool);
    for (int i = 0; i < 3; i++)
        sqlpool_release(c[i]);
    (void)admin_query(the.primary_admin, "ALTER SYSTEM SET default_transaction_read_only = on");
    (void)admin_query(the.primary_admin, "SELECT pg_reload_conf()");
    sleep_s(0.3);
    c[0] = testutil_acquire(pool);
    assert_int_equal(exec_ok(c[0], "INSERT INTO w VALUES (2)"), SQLPOOL_EBROKEN);
    sqlpool_discard(c[0]);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_role, 1);
    assert_int_equal(st.closed_broken, 0);
    rc = sqlpool_acquire(pool, &c[1]);
    assert_int_not_equal(rc, SQLPOOL_OK);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_role, 3);
    assert_int_equal(st.open, 0);
    sqlpool_close(pool);

    /* Validation alone: a connection idle past validation_bypass on a read-only server. */
    cfg.validation_bypass = 0.1;
    (void)admin_query(the.primary_admin, "ALTER SYSTEM SET default_transaction_read_only = off");
    (void)admin_query(the.primary_admin, "SELECT pg_reload_conf()");
    sleep_s(0.2);
    pool = open_pool(&cfg);
    c[0] = testutil_acquire(pool);
    sqlpool_release(c[0]);
    (void)admin_query(the.primary_admin, "ALTER SYSTEM SET default_transaction_read_only = on");
    (void)admin_query(the.primary_admin, "SELECT pg_reload_conf()");
    sleep_s(0.3);
    rc = sqlpool_acquire(pool, &c[0]);
    assert_int_not_equal(rc, SQLPOOL_OK);
    st = testutil_stats(pool);
    assert_int_equal(st.closed_role, 1);
    assert_int_equal(st.closed_broken, 0);
    sqlpool_close(pool);
}

/* ---- failover under writers ---- */

enum { WRITERS = 8, MAX_ACKED = 100000 };

typedef struct writer {
    sqlpool *pool;
    atomic_int *stop;
    int id;
    long long acked[MAX_ACKED]; /* the seq numbers whose COMMIT was acknowledged */
    int nacked;
    int broken;        /* exec calls that returned SQLPOOL_EBROKEN */
    int broken_before; /* of which begun before the kill's command */
    int broken_out;    /* of which begun before the kill, beyond the one in flight, or after it */
    int other_errors;  /* exec errors other than EBROKEN */
    int acquire_errors;
    double first_after; /* when the first write after `after` was acknowledged (0: none) */
    const atomic_llong *after_bits; /* a double's bits: the promotion's time, 0 before */
    const atomic_int *phase;        /* the kill: 0 before its command, 1 while it runs, 2 after */
} writer;

static void *write_loop(void *arg) {
    writer *w = arg;
    long long seq = 0;
    while (!atomic_load(w->stop) && w->nacked < MAX_ACKED) {
        sqlpool_conn *c = NULL;
        char sql[128];
        int phase = atomic_load(w->phase), rc = sqlpool_acquire(w->pool, &c);
        if (rc != SQLPOOL_OK) {
            w->acquire_errors++;
            sleep_s(0.01);
            continue;
        }
        seq++;
        snprintf(sql, sizeof sql, "INSERT INTO f (w, seq) VALUES (%d, %lld)", w->id, seq);
        rc = exec_ok(c, sql);
        if (rc == SQLPOOL_OK) {
            long long bits = atomic_load(w->after_bits);
            double after;
            memcpy(&after, &bits, sizeof after);
            w->acked[w->nacked++] = seq;
            if (after > 0 && w->first_after == 0) w->first_after = now_s();
            sqlpool_release(c);
        } else {
            if (rc == SQLPOOL_EBROKEN) {
                /* Begun before the kill: only the one in flight may break. While it runs
                 * (backends die one by one), a call may meet a server still dying. After
                 * it (every backend gone), the borrow check must catch every dead socket. */
                w->broken++;
                if (phase == 0) w->broken_before++;
                if ((phase == 0 && w->broken_before > 1) || phase == 2) w->broken_out++;
            } else
                w->other_errors++;
            sqlpool_discard(c);
        }
    }
    return NULL;
}

/* Kill the primary, promote the standby, under 8 writing threads on
 * "host=primary,standby target_session_attrs=read-write": the call in flight at the kill may
 * fail (SQLPOOL_EBROKEN), and calls begun while the server's backends die one by one; none
 * begun after it is gone. Writes resume within 2 s of the promotion; no acknowledged commit
 * is lost. */
static void test_pgfailover_promote_under_writers(void **state) {
    static writer ws[WRITERS];
    char db[600];
    sqlpool_config cfg;
    sqlpool *pool;
    pthread_t th[WRITERS];
    atomic_int stop = 0, phase = 0;
    atomic_llong after_bits = 0;
    double promoted, first = INFINITY;
    long long bits;
    (void)state;
    snprintf(db, sizeof db,
             "host=127.0.0.1,127.0.0.1 port=%s,%s user=sqlpool password=sqlpool-test-secret "
             "dbname=sqlpool_test target_session_attrs=read-write connect_timeout=1",
             the.primary_port, the.standby_port);
    cfg = base_config(db);
    cfg.acquire_timeout = 5;
    cfg.validation_bypass = 0.2;
    cfg.retry_backoff = 0.05;
    cfg.max_retries = 100;
    pool = open_pool(&cfg);
    {
        sqlpool_conn *c = testutil_acquire(pool);
        assert_int_equal(exec_ok(c, "CREATE TABLE f (w int, seq bigint, PRIMARY KEY (w, seq))"),
                         SQLPOOL_OK);
        sqlpool_release(c);
    }
    for (int i = 0; i < WRITERS; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        ws[i].pool = pool;
        ws[i].stop = &stop;
        ws[i].id = i;
        ws[i].after_bits = &after_bits;
        ws[i].phase = &phase;
        assert_int_equal(pthread_create(&th[i], NULL, write_loop, &ws[i]), 0);
    }
    sleep_s(1.0);
    atomic_store(&phase, 1);
    ctl(the.primary_ctl, "stop -m immediate"); /* pg_ctl -w: returns once the server is gone */
    atomic_store(&phase, 2);
    sleep_s(1.0);
    /* Timed from the promote command (pg_ctl -w returns once the standby is a primary, up to
     * its 0.1 s poll later): stricter than from the promotion itself. */
    promoted = now_s();
    memcpy(&bits, &promoted, sizeof bits);
    atomic_store(&after_bits, bits);
    ctl(the.standby_ctl, "promote");
    sleep_s(3.0);
    atomic_store(&stop, 1);
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < WRITERS; i++) {
        if (ws[i].first_after > 0 && ws[i].first_after < first) first = ws[i].first_after;
        /* The one call in flight at the kill may fail, and a call begun while the server
         * dies; nothing else breaks on exec. */
        if (ws[i].broken_out > 0 || ws[i].other_errors > 0)
            fail_msg("writer %d: %d broken (%d outside the kill), %d other errors", i, ws[i].broken,
                     ws[i].broken_out, ws[i].other_errors);
    }
    fprintf(stderr,
            "failover: writes resumed %.3f s after the promotion; per writer (broken, "
            "acquire errors, acknowledged):",
            first - promoted);
    for (int i = 0; i < WRITERS; i++)
        fprintf(stderr, " (%d, %d, %d)", ws[i].broken, ws[i].acquire_errors, ws[i].nacked);
    fprintf(stderr, "\n");
    if (!(first - promoted < 2.0))
        fail_msg("writes resumed %.3f s after the promotion", first - promoted);
    /* Every acknowledged commit is on the new primary (each writer's seqs, in order). */
    for (int i = 0; i < WRITERS; i++) {
        char sql[128];
        PGconn *pg = PQconnectdb(the.standby_admin);
        PGresult *r;
        int k = 0, missing = 0;
        snprintf(sql, sizeof sql, "SELECT seq FROM f WHERE w = %d ORDER BY seq", i);
        r = PQexec(pg, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(pg));
        for (int row = 0; row < PQntuples(r) && k < ws[i].nacked; row++)
            if (atoll(PQgetvalue(r, row, 0)) == ws[i].acked[k]) k++;
        missing = ws[i].nacked - k;
        PQclear(r);
        PQfinish(pg);
        if (missing != 0)
            fail_msg("writer %d: %d of %d acknowledged commits missing on the new primary", i,
                     missing, ws[i].nacked);
        assert_true(ws[i].nacked > 0);
    }

    sqlpool_close(pool);
}

/* Split brain: the old primary back as a primary after a failover. The pool that failed over
 * keeps writing to the new one, through connections replaced meanwhile too: a pool that
 * writes tries first the host that served it as a primary last (pg_hosts.c). */
static void test_pgfailover_old_primary_gets_no_writes(void **state) {
    char db[600];
    sqlpool_config cfg;
    sqlpool *pool;
    long long on_old;
    (void)state;
    snprintf(db, sizeof db,
             "host=127.0.0.1,127.0.0.1 port=%s,%s user=sqlpool password=sqlpool-test-secret "
             "dbname=sqlpool_test target_session_attrs=read-write connect_timeout=1",
             the.primary_port, the.standby_port);
    cfg = base_config(db);
    cfg.acquire_timeout = 5;
    cfg.max_retries = 100;
    cfg.retry_backoff = 0.05;
    pool = open_pool(&cfg);
    {
        sqlpool_conn *c = testutil_acquire(pool);
        assert_int_equal(exec_ok(c, "CREATE TABLE f (w int, seq bigint, PRIMARY KEY (w, seq))"),
                         SQLPOOL_OK);
        sqlpool_release(c);
    }
    ctl(the.primary_ctl, "stop -m immediate");
    ctl(the.standby_ctl, "promote");
    {
        sqlpool_conn *c = testutil_acquire(pool); /* on the new primary */
        assert_int_equal(in_recovery(c), 0);
        sqlpool_release(c);
    }
    {
        /* Without its synchronous standby the old primary's commits would wait for ever. */
        char *cmd = testutil_format(
            "sed -i '/synchronous_standby_names/d' '%s/c/primary/postgresql.auto.conf'", the.dir);
        assert_int_equal(system(cmd), 0);
        free(cmd);
    }
    ctl(the.primary_ctl, "start");
    on_old = admin_query(the.primary_admin, "SELECT count(*) FROM f");
    sqlpool_evict(pool); /* every connection replaced from here */
    for (int i = 0; i < 50; i++) {
        sqlpool_conn *c = NULL;
        if (sqlpool_acquire(pool, &c) != SQLPOOL_OK) continue;
        (void)exec_ok(c, "INSERT INTO f (w, seq) VALUES (99, 1) ON CONFLICT DO NOTHING");
        sqlpool_release(c);
    }
    /* The writes went somewhere: to the new primary. */
    assert_int_equal(admin_query(the.standby_admin, "SELECT count(*) FROM f WHERE w = 99"), 1);
    if (admin_query(the.primary_admin, "SELECT count(*) FROM f") != on_old)
        fail_msg("the old primary, back as a primary, got writes from a pool that had failed "
                 "over");
    sqlpool_close(pool);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_pgfailover_read_db_reads_on_standby, cluster_setup,
                                    cluster_teardown),
    cmocka_unit_test_setup_teardown(test_pgfailover_read_fallback_to_primary, cluster_setup,
                                    cluster_teardown),
    cmocka_unit_test_setup_teardown(test_pgfailover_read_backoff_silent_standby, cluster_setup,
                                    backoff_teardown),
    cmocka_unit_test(test_pgfailover_read_db_refused_with_sqlite),
    cmocka_unit_test_setup_teardown(test_pgfailover_read_pool_leaves_promoted_standby,
                                    cluster_setup, cluster_teardown),
    cmocka_unit_test_setup_teardown(test_pgfailover_read_lane_leaves_promoted_standby,
                                    cluster_setup, cluster_teardown),
    cmocka_unit_test_setup_teardown(test_pgfailover_write_pool_leaves_read_only_server,
                                    cluster_setup, cluster_teardown),
    cmocka_unit_test_setup_teardown(test_pgfailover_promote_under_writers, cluster_setup,
                                    cluster_teardown),
    cmocka_unit_test_setup_teardown(test_pgfailover_old_primary_gets_no_writes, cluster_setup,
                                    cluster_teardown),
};

SQLPOOL_TEST_MAIN(tests)
