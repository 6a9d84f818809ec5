/* test_metrics.c: `sqlpool bench --metrics-listen`: /metrics and /health while a run goes on
 * (fetched with curl), promtool on /metrics, and the flag's refusals. */
#include "benchutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define FX(state) ((bench_fixture *)*(state))

static int have(const char *tool) {
    char *cmd = testutil_format("command -v %s >/dev/null 2>&1", tool);
    int ok = system(cmd) == 0;
    free(cmd);
    return ok;
}

static int built_with_mhd(void) {
    bench_out r = bench_run_cli(NULL, ARGS("--metrics-listen", "127.0.0.1:0", "--help"), 0);
    int with = strstr(r.err, "built without libmicrohttpd") == NULL;
    bench_out_free(&r);
    return with;
}

/* The port from "metrics: listening on 127.0.0.1:N" in dir/stderr, waiting up to 10 s. */
static int wait_port(const char *dir) {
    char *path = testutil_format("%s/stderr", dir);
    int port = 0;
    for (int i = 0; i < 200 && port == 0; i++) {
        char *err = testutil_read_file(path, NULL);
        const char *line = err ? strstr(err, "metrics: listening on 127.0.0.1:") : NULL;
        if (line != NULL && strchr(line, '\n') != NULL)
            port = atoi(line + strlen("metrics: listening on 127.0.0.1:"));
        free(err);
        if (port == 0) bench_sleep_ms(50);
    }
    free(path);
    if (port <= 0 || port > 65535) fail_msg("no 'metrics: listening on' line with a port");
    return port;
}

/* GET url with curl into dir/name; returns the HTTP status, *body the body (caller frees). */
static int http_get(const char *dir, const char *name, int port, const char *path, char **body) {
    char *file = testutil_format("%s/%s", dir, name);
    char *cmd = testutil_format("curl -s -m 10 -o '%s' -w '%%{http_code}' "
                                "'http://127.0.0.1:%d%s'",
                                file, port, path);
    char code[16] = "";
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (fgets(code, sizeof code, p) == NULL) code[0] = '\0';
    assert_int_equal(pclose(p), 0);
    *body = testutil_read_file(file, NULL);
    assert_non_null(*body);
    free(cmd);
    free(file);
    return atoi(code);
}

/* promtool check metrics accepts the text, but for the one lint about
 * db_client_connection_count (see test_format_promtool_accepts). */
static void expect_promtool_ok(const char *dir, const char *file, const char *text) {
    char *cmd = testutil_format("promtool check metrics < '%s/%s' > '%s/promtool.out' 2>&1", dir,
                                file, dir);
    int status = system(cmd);
    char *out, *save = NULL;
    free(cmd);
    cmd = testutil_format("%s/promtool.out", dir);
    out = testutil_read_file(cmd, NULL);
    assert_non_null(out);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0) {
        if (WEXITSTATUS(status) != 3)
            fail_msg("promtool exited %d:\n%s\non:\n%s", WEXITSTATUS(status), out, text);
        for (char *line = strtok_r(out, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save))
            if (strcmp(line, "db_client_connection_count non-histogram and non-summary metrics "
                             "should not have \"_count\" suffix") != 0)
                fail_msg("promtool: %s\non:\n%s", line, text);
    }
    free(out);
    free(cmd);
}

/* While a 3 s run goes on, /metrics and /health answer; other paths are 404. */
static void test_metrics_serves_while_running(void **state) {
    bench_fixture *fx = FX(state);
    pid_t pid;
    int port, code, status;
    char *body;
    json_t *doc;
    json_error_t e;

    if (!have("curl") || !built_with_mhd()) {
        print_message("curl or libmicrohttpd missing: skipping\n");
        return;
    }
    pid = bench_spawn(fx->dir, ARGS("--db", fx->db, "--duration", "3", "--clients", "2",
                                    "--metrics-listen", "127.0.0.1:0", "--json"));
    port = wait_port(fx->dir);

    code = http_get(fx->dir, "metrics.prom", port, "/metrics", &body);
    if (code != 200) fail_msg("/metrics: HTTP %d: %s", code, body);
    if (strstr(body, "db_client_connection_count") == NULL)
        fail_msg("/metrics has no db_client_connection_count:\n%s", body);
    /* Every close reason is exported, the manual ones (close_idle, shrink) apart from max_idle. */
    for (int i = 0; i < 9; i++) {
        static const char *const reasons[] = {"idle",   "lifetime",   "broken", "max_idle", "pool",
                                              "shrink", "close_idle", "hook",   "evicted"};
        char *want = testutil_format("sqlpool_connections_closed_total{pool_name=\"sqlpool\","
                                     "reason=\"%s\"}",
                                     reasons[i]);
        if (strstr(body, want) == NULL) fail_msg("/metrics has no %s:\n%s", want, body);
        free(want);
    }
    if (have("promtool"))
        expect_promtool_ok(fx->dir, "metrics.prom", body);
    else
        print_message("promtool not found (Debian package prometheus): skipping the check\n");
    free(body);

    code = http_get(fx->dir, "health.json", port, "/health", &body);
    if (code != 200) fail_msg("/health: HTTP %d: %s", code, body);
    doc = json_loads(body, 0, &e);
    if (doc == NULL) fail_msg("/health is not JSON (%s): %s", e.text, body);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "healthy");
    json_decref(doc);
    free(body);

    code = http_get(fx->dir, "other", port, "/nothing", &body);
    assert_int_equal(code, 404);
    free(body);

    status = bench_wait(pid);
    if (status != 0) {
        char *path = testutil_format("%s/stderr", fx->dir);
        char *err = testutil_read_file(path, NULL);
        fail_msg("exit status %d: %s", status, err ? err : "");
    }
}

/* A usage error: exit 64, one "sqlpool: " line naming --metrics-listen. */
static void expect_usage(const char *const *args) {
    bench_out r = bench_run_cli(NULL, args, 0);
    bench_expect_status(&r, 64);
    if (strstr(r.err, "--metrics-listen") == NULL)
        fail_msg("'%s' does not name --metrics-listen", r.err);
    bench_out_free(&r);
}

static void test_metrics_rejects_bad_listen(void **state) {
    static const char *const bad[] = {"",
                                      "127.0.0.1",
                                      "127.0.0.1:",
                                      ":9187",
                                      "localhost:80",
                                      "127.0.0.1:65536",
                                      "127.0.0.1:-1",
                                      "127.0.0.1:80x",
                                      "127.0.0.1:080",
                                      "127.1:80",
                                      "127.0.0.256:80",
                                      "127.0.0.01:80",
                                      "0.0.0.0:80",
                                      "[::1]:80",
                                      "1.2.3.4.5:80",
                                      "1.2.3.4:5:6",
                                      " 127.0.0.1:80",
                                      "127.0.0.1:99999999"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_usage(ARGS("--db", "x.db", "--metrics-listen", bad[i]));
    expect_usage(ARGS("--db", "x.db", "--metrics-listen"));
    expect_usage(
        ARGS("--db", "x.db", "--metrics-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"));
    expect_usage(ARGS("--db", "x.db", "--mode", "unpooled", "--metrics-listen", "127.0.0.1:0"));
}

/* GET /metrics with curl, giving up after 2 s: the HTTP status, 0 when there was none. */
static int try_metrics(const char *dir, int port) {
    char *cmd = testutil_format("curl -s -m 2 -o '%s/try.prom' -w '%%{http_code}' "
                                "'http://127.0.0.1:%d/metrics'",
                                dir, port);
    char code[16] = "";
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (fgets(code, sizeof code, p) == NULL) code[0] = '\0';
    (void)pclose(p); /* curl fails when the server refuses the connection */
    free(cmd);
    return atoi(code);
}

/* A child that opens n connections to port and sends each a request one byte a second
 * (never finishing it): a slow client, or a slowloris. Returns its pid once all are
 * connected. */
static pid_t slow_clients(int port, int n) {
    int ready[2];
    char byte = 0;
    pid_t pid;
    assert_int_equal(pipe(ready), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        struct sockaddr_in sa;
        int fds[100];
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)signal(SIGPIPE, SIG_IGN);
        for (int i = 0; i < n && i < 100; i++) {
            fds[i] = socket(AF_INET, SOCK_STREAM, 0);
            if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof sa) != 0) _exit(1);
            (void)send(fds[i], req, 1, MSG_NOSIGNAL);
        }
        if (write(ready[1], "r", 1) != 1) _exit(1);
        for (size_t k = 1;; k++) { /* a byte a second on each, the header never ending */
            for (int i = 0; i < n && i < 100; i++)
                (void)send(fds[i], k < sizeof req - 1 ? &req[k] : "x", 1, MSG_NOSIGNAL);
            bench_sleep_ms(1000);
        }
    }
    (void)close(ready[1]);
    if (read(ready[0], &byte, 1) != 1) fail_msg("the slow clients could not all connect");
    (void)close(ready[0]);
    return pid;
}

/* 80 slow clients, more than the server takes at once, hold every connection they can: each is cut
 * after the per-connection deadline, so /metrics answers again within seconds (not never, as with
 * an idle timeout that every trickled byte resets). */
static void test_metrics_slow_clients_do_not_shut_it_out(void **state) {
    bench_fixture *fx = FX(state);
    pid_t pid, slow;
    int port, code = 0, status;
    struct timespec t0, t1;
    double waited = 0;

    if (!have("curl") || !built_with_mhd()) {
        print_message("curl or libmicrohttpd missing: skipping\n");
        return;
    }
    pid = bench_spawn(fx->dir, ARGS("--db", fx->db, "--duration", "30", "--clients", "1",
                                    "--metrics-listen", "127.0.0.1:0", "--json"));
    port = wait_port(fx->dir);
    slow = slow_clients(port, 80);
    bench_sleep_ms(500); /* the server has accepted those it takes */
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    while (code != 200 && waited < 15.0) {
        code = try_metrics(fx->dir, port);
        (void)clock_gettime(CLOCK_MONOTONIC, &t1);
        waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (code != 200) bench_sleep_ms(250);
    }
    (void)kill(slow, SIGKILL);
    (void)waitpid(slow, NULL, 0);
    (void)kill(pid, SIGINT);
    status = bench_wait(pid);
    if (code != 200) fail_msg("/metrics shut out by 80 slow clients for %.1f s", waited);
    if (waited > 8.0) fail_msg("/metrics answered only after %.1f s", waited);
    assert_int_equal(status, 0);
}

static const struct CMUnitTest tests[] = {
    T(test_metrics_serves_while_running),
    T(test_metrics_rejects_bad_listen),
    T(test_metrics_slow_clients_do_not_shut_it_out),
};

SQLPOOL_TEST_MAIN(tests)
