/*
 * test_pghosts.c: a PostgreSQL db string's hosts tried by the pool itself (issue 15): one
 * connect_timeout per host, the acquire's deadline over all of them, target_session_attrs
 * checked by the pool, errors naming host:port, `sqlpool health` naming the server and its
 * role.
 *
 * The server comes from scripts/with-pg.sh (make test): SQLPOOL_TEST_PG is its URL. A silent
 * host is a listener of the test's own that never accepts: the kernel completes the TCP
 * handshake into its backlog, so libpq sends its start-up packet and waits for an answer that
 * never comes (the defect's "accepts TCP and never answers"). Timing assertions bound only the
 * overshoot past a deadline, generously; nothing asserts speed.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLI_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *pg_url(void) {
    const char *v = getenv("SQLPOOL_TEST_PG");
    if (v == NULL || v[0] == '\0')
        fail_msg("SQLPOOL_TEST_PG is not set: run the tests through make test, which starts a "
                 "server");
    return v;
}

typedef struct pg_parts {
    char host[128], port[16], user[64], password[128], dbname[64];
} pg_parts;

/* The parts of the test URL, from libpq's own parser. */
static pg_parts url_parts(void) {
    pg_parts p;
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(pg_url(), &why);
    memset(&p, 0, sizeof p);
    if (opts == NULL) fail_msg("SQLPOOL_TEST_PG does not parse: %s", why ? why : "?");
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        static const char *const keys[] = {"host", "port", "user", "password", "dbname"};
        char *dst[] = {p.host, p.port, p.user, p.password, p.dbname};
        size_t len[] = {sizeof p.host, sizeof p.port, sizeof p.user, sizeof p.password,
                        sizeof p.dbname};
        for (int k = 0; k < 5; k++)
            if (strcmp(o->keyword, keys[k]) == 0 && o->val != NULL)
                snprintf(dst[k], len[k], "%s", o->val);
    }
    PQconninfoFree(opts);
    if (!p.host[0] || !p.port[0] || !p.user[0] || !p.password[0] || !p.dbname[0])
        fail_msg("SQLPOOL_TEST_PG lacks host, port, user, password or dbname");
    return p;
}

/* A listener on 127.0.0.1 that never accepts; *port is its port. Close the fd to end it. */
static int silent_listener(int *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port nothing listens on (bound once, then closed). */
static int closed_port(void) {
    int port, fd = silent_listener(&port);
    close(fd);
    return port;
}

/* host=127.0.0.1,<test host> port=<first>,<test port> and the test's credentials, then extra. */
static char *two_hosts(int first_port, const char *extra) {
    pg_parts p = url_parts();
    return testutil_format("host=127.0.0.1,%s port=%d,%s user=%s password=%s dbname=%s %s", p.host,
                           first_port, p.port, p.user, p.password, p.dbname, extra);
}

static sqlpool *open_pool(const char *db, double connect_timeout, double acquire_timeout,
                          int max_retries) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.connect_timeout = connect_timeout;
    cfg.acquire_timeout = acquire_timeout;
    cfg.max_retries = max_retries;
    cfg.min_idle = 0;
    int rc = sqlpool_open(&cfg, &pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
    return pool;
}

static void assert_no_password(const char *what, const char *text) {
    pg_parts p = url_parts();
    if (text != NULL && strstr(text, p.password) != NULL)
        fail_msg("%s shows the password: %s", what, text);
}

/* The port of the server a connection reached. */
static int conn_port(sqlpool_conn *conn) {
    PGconn *pg = sqlpool_conn_pg(conn);
    assert_non_null(pg);
    return atoi(PQport(pg));
}

/* ---- tests ---- */

/* Defect 1: a silent first host does not stop the second from being reached, within 2x
 * connect_timeout (conninfo form and URI form). */
static void test_pghosts_silent_first_host_skipped(void **state) {
    pg_parts p = url_parts();
    int silent, fd = silent_listener(&silent);
    char *dbs[2];
    (void)state;
    dbs[0] = two_hosts(silent, "");
    dbs[1] = testutil_format("postgresql://%s:%s@127.0.0.1:%d,%s:%s/%s", p.user, p.password, silent,
                             p.host, p.port, p.dbname);
    for (int i = 0; i < 2; i++) {
        sqlpool *pool = open_pool(dbs[i], 1.0, 10.0, 3);
        sqlpool_conn *conn = NULL;
        double t0 = now_s(), took;
        int rc = sqlpool_acquire(pool, &conn);
        took = now_s() - t0;
        if (rc != SQLPOOL_OK) fail_msg("acquire %d: %d %s", i, rc, sqlpool_errmsg());
        if (took > 2.0) fail_msg("reached the second host after %.2f s (> 2x 1 s)", took);
        assert_int_equal(conn_port(conn), atoi(p.port));
        sqlpool_release(conn);
        sqlpool_close(pool);
        free(dbs[i]);
    }
    close(fd);
}

/* The db string's own connect_timeout is each host's (here 1 s against the config's 20 s). */
static void test_pghosts_db_connect_timeout_per_host(void **state) {
    int silent, fd = silent_listener(&silent);
    char *db = two_hosts(silent, "connect_timeout=1");
    sqlpool *pool = open_pool(db, 20.0, 15.0, 3);
    sqlpool_conn *conn = NULL;
    double t0 = now_s(), took;
    int rc;
    (void)state;
    rc = sqlpool_acquire(pool, &conn);
    took = now_s() - t0;
    if (rc != SQLPOOL_OK) fail_msg("acquire: %d %s", rc, sqlpool_errmsg());
    if (took > 2.0) fail_msg("reached the second host after %.2f s (> 2x 1 s)", took);
    sqlpool_release(conn);
    sqlpool_close(pool);
    free(db);
    close(fd);
}

/* Defect 2: acquire_timeout 1 s against a silent server ends within 100 ms of the deadline,
 * with SQLPOOL_ETIMEDOUT naming the host. */
static void test_pghosts_acquire_deadline_silent(void **state) {
    pg_parts p = url_parts();
    int silent, fd = silent_listener(&silent);
    char *db = testutil_format("host=127.0.0.1 port=%d user=%s password=%s dbname=%s", silent,
                               p.user, p.password, p.dbname);
    char want[64];
    sqlpool *pool = open_pool(db, 5.0, 1.0, 3);
    sqlpool_conn *conn = NULL;
    double t0 = now_s(), took;
    int rc;
    (void)state;
    rc = sqlpool_acquire(pool, &conn);
    took = now_s() - t0;
    assert_int_equal(rc, SQLPOOL_ETIMEDOUT);
    assert_null(conn);
    if (took > 1.1) fail_msg("ETIMEDOUT after %.3f s, deadline 1 s", took);
    snprintf(want, sizeof want, "127.0.0.1:%d", silent);
    if (strstr(sqlpool_errmsg(), want) == NULL)
        fail_msg("the error does not name %s: %s", want, sqlpool_errmsg());
    assert_no_password("errmsg", sqlpool_errmsg());
    sqlpool_close(pool);
    free(db);
    close(fd);
}

/* Defect 6: a server in the wrong role is refused, retried until the deadline, with a message
 * naming it and its role; prefer-standby takes the primary. */
static void test_pghosts_wrong_role_refused(void **state) {
    static const char *const targets[] = {"read-only", "standby"};
    pg_parts p = url_parts();
    (void)state;
    for (int i = 0; i < 2; i++) {
        char *db = testutil_format("%s%starget_session_attrs=%s", pg_url(),
                                   strchr(pg_url(), '?') ? "&" : "?", targets[i]);
        char want[200];
        sqlpool *pool = open_pool(db, 2.0, 1.0, 100);
        sqlpool_conn *conn = NULL;
        double t0 = now_s(), took;
        int rc = sqlpool_acquire(pool, &conn), retries;
        took = now_s() - t0;
        if (rc != SQLPOOL_ETIMEDOUT && rc != SQLPOOL_ECONNECT)
            fail_msg("%s: rc %d %s", targets[i], rc, sqlpool_errmsg());
        snprintf(want, sizeof want, "%s:%s is a primary, target_session_attrs=%s", p.host, p.port,
                 targets[i]);
        if (strstr(sqlpool_errmsg(), want) == NULL)
            fail_msg("%s: no '%s' in: %s", targets[i], want, sqlpool_errmsg());
        if (took > 1.1) fail_msg("%s: failed after %.3f s, deadline 1 s", targets[i], took);
        assert_no_password("errmsg", sqlpool_errmsg());
        retries = (int)testutil_stats(pool).connect_retries;
        if (retries < 1) fail_msg("%s: a wrong role was not retried", targets[i]);
        sqlpool_close(pool);
        free(db);
    }
}

static void test_pghosts_prefer_standby_takes_primary(void **state) {
    pg_parts p = url_parts();
    int silent, fd = silent_listener(&silent);
    const char *targets[] = {"prefer-standby", "primary", "read-write", "any"};
    (void)state;
    for (int i = 0; i < 4; i++) {
        char *extra = testutil_format("target_session_attrs=%s", targets[i]);
        char *db = two_hosts(silent, extra);
        sqlpool *pool = open_pool(db, 1.0, 10.0, 3);
        sqlpool_conn *conn = NULL;
        int rc = sqlpool_acquire(pool, &conn);
        if (rc != SQLPOOL_OK) fail_msg("%s: %d %s", targets[i], rc, sqlpool_errmsg());
        assert_int_equal(conn_port(conn), atoi(p.port));
        sqlpool_release(conn);
        sqlpool_close(pool);
        free(db);
        free(extra);
    }
    close(fd);
}

/* A multi-host failure lists each host's reason, by host:port, and no password. */
static void test_pghosts_errors_name_each_host(void **state) {
    pg_parts p = url_parts();
    int silent, fd = silent_listener(&silent), refused = closed_port();
    char *db = testutil_format("host=127.0.0.1,127.0.0.1 port=%d,%d user=%s password=%s "
                               "dbname=%s",
                               refused, silent, p.user, p.password, p.dbname);
    char a[64], b[64];
    sqlpool *pool = open_pool(db, 1.0, 10.0, 0);
    sqlpool_conn *conn = NULL;
    int rc;
    (void)state;
    rc = sqlpool_acquire(pool, &conn);
    assert_int_not_equal(rc, SQLPOOL_OK);
    snprintf(a, sizeof a, "127.0.0.1:%d", refused);
    snprintf(b, sizeof b, "connect to 127.0.0.1:%d timed out after", silent);
    if (strstr(sqlpool_errmsg(), a) == NULL || strstr(sqlpool_errmsg(), b) == NULL)
        fail_msg("want '%s' and '%s' in: %s", a, b, sqlpool_errmsg());
    assert_no_password("errmsg", sqlpool_errmsg());
    sqlpool_close(pool);
    free(db);
    close(fd);
}

/* load_balance_hosts=random (which libpq before 16 does not parse) is accepted, in both
 * forms, and every order reaches the server. */
static void test_pghosts_load_balance_random(void **state) {
    pg_parts p = url_parts();
    int refused = closed_port();
    char *dbs[2];
    (void)state;
    dbs[0] = two_hosts(refused, "load_balance_hosts=random");
    dbs[1] = testutil_format("postgresql://%s:%s@127.0.0.1:%d,%s:%s/%s?load_balance_hosts=random"
                             "&connect_timeout=2",
                             p.user, p.password, refused, p.host, p.port, p.dbname);
    for (int k = 0; k < 2; k++) {
        sqlpool *pool = open_pool(dbs[k], 2.0, 10.0, 3);
        for (int i = 0; i < 8; i++) {
            sqlpool_conn *conn = NULL;
            int rc = sqlpool_acquire(pool, &conn);
            if (rc != SQLPOOL_OK) fail_msg("%d, acquire %d: %d %s", k, i, rc, sqlpool_errmsg());
            sqlpool_discard(conn); /* the next acquire connects again */
        }
        sqlpool_close(pool);
        free(dbs[k]);
    }
}

/* Through pgbouncer (SQLPOOL_TEST_PGBOUNCER, from with-pg.sh), which passes on only some of the
 * parameters a server reports: the role is still found (by a query when in_hot_standby is not
 * reported), a standby wanted refuses the primary behind it and read-write takes it. */
static void test_pghosts_role_through_pgbouncer(void **state) {
    const char *bouncer = getenv("SQLPOOL_TEST_PGBOUNCER");
    const char *sep;
    char *db;
    sqlpool *pool;
    sqlpool_conn *conn = NULL;
    int rc;
    (void)state;
    if (bouncer == NULL || bouncer[0] == '\0')
        fail_msg("SQLPOOL_TEST_PGBOUNCER is not set: run the tests through make test");
    sep = strchr(bouncer, '?') ? "&" : "?";
    db = testutil_format("%s%starget_session_attrs=standby", bouncer, sep);
    pool = open_pool(db, 2.0, 1.0, 100);
    rc = sqlpool_acquire(pool, &conn);
    if (rc != SQLPOOL_ETIMEDOUT && rc != SQLPOOL_ECONNECT)
        fail_msg("standby through pgbouncer: rc %d %s", rc, sqlpool_errmsg());
    if (strstr(sqlpool_errmsg(), "is a primary, target_session_attrs=standby") == NULL)
        fail_msg("no role in: %s", sqlpool_errmsg());
    assert_no_password("errmsg", sqlpool_errmsg());
    sqlpool_close(pool);
    free(db);
    db = testutil_format("%s%starget_session_attrs=read-write", bouncer, sep);
    pool = open_pool(db, 2.0, 10.0, 3);
    rc = sqlpool_acquire(pool, &conn);
    if (rc != SQLPOOL_OK) fail_msg("read-write through pgbouncer: %d %s", rc, sqlpool_errmsg());
    sqlpool_release(conn);
    sqlpool_close(pool);
    free(db);
}

/* Host lists that do not match, and an unknown target_session_attrs, are refused at open. */
static void test_pghosts_bad_lists_refused(void **state) {
    pg_parts p = url_parts();
    char *bad[2];
    (void)state;
    bad[0] = testutil_format("host=127.0.0.1,127.0.0.1 port=1,2,3 user=%s password=%s", p.user,
                             p.password);
    bad[1] = testutil_format("host=127.0.0.1 target_session_attrs=writable user=%s password=%s",
                             p.user, p.password);
    for (int i = 0; i < 2; i++) {
        char *db = bad[i];
        sqlpool_config cfg;
        sqlpool *pool = NULL;
        sqlpool_config_init(&cfg);
        cfg.db = db;
        assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
        assert_null(pool);
        assert_no_password("errmsg", sqlpool_errmsg());
        free(db);
    }
}

/* sqlpool health tries each host like the pool and names the server and its role; a server
 * in the wrong role is there but unhealthy (1), not unreachable. */
static void test_pghosts_health_names_server(void **state) {
    pg_parts p = url_parts();
    int silent, fd = silent_listener(&silent);
    char *db = two_hosts(silent, ""), *so = NULL, *se = NULL, want[200];
    char *standby = two_hosts(silent, "target_session_attrs=standby");
    json_t *doc;
    int rc;
    (void)state;
    rc = testutil_run_cli(NULL, CLI_ARGS("health", "--db", db, "--timeout", "1"), &so, &se);
    if (rc != 0) fail_msg("health: %d\n%s\n%s", rc, so, se);
    doc = json_loads(so, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "healthy");
    snprintf(want, sizeof want, "%s:%s", p.host, p.port);
    assert_string_equal(json_string_value(json_object_get(doc, "server")), want);
    assert_string_equal(json_string_value(json_object_get(doc, "role")), "primary");
    assert_true(json_is_false(json_object_get(doc, "in_recovery")));
    assert_no_password("stdout", so);
    assert_no_password("stderr", se);
    json_decref(doc);
    free(so);
    free(se);

    rc = testutil_run_cli(
        NULL, CLI_ARGS("health", "--db", standby, "--timeout", "1", "--retries", "0"), &so, &se);
    if (rc != 1) fail_msg("health, standby wanted: %d\n%s\n%s", rc, so, se);
    snprintf(want, sizeof want, "%s:%s is a primary, target_session_attrs=standby", p.host, p.port);
    if (strstr(so, want) == NULL) fail_msg("no '%s' in: %s", want, so);
    assert_no_password("stdout", so);
    assert_no_password("stderr", se);
    free(so);
    free(se);
    free(db);
    free(standby);
    close(fd);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pghosts_silent_first_host_skipped),
    cmocka_unit_test(test_pghosts_db_connect_timeout_per_host),
    cmocka_unit_test(test_pghosts_acquire_deadline_silent),
    cmocka_unit_test(test_pghosts_wrong_role_refused),
    cmocka_unit_test(test_pghosts_prefer_standby_takes_primary),
    cmocka_unit_test(test_pghosts_errors_name_each_host),
    cmocka_unit_test(test_pghosts_load_balance_random),
    cmocka_unit_test(test_pghosts_role_through_pgbouncer),
    cmocka_unit_test(test_pghosts_bad_lists_refused),
    cmocka_unit_test(test_pghosts_health_names_server),
};

SQLPOOL_TEST_MAIN(tests)
