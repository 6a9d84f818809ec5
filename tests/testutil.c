/* testutil.c: helpers shared by the test programs. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "testutil.h"

#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *testutil_format(const char *fmt, ...) {
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, fmt);
    (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *testutil_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char *path = testutil_format("%s/sqlpool-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    (void)chmod(path, 0700);
    return remove(path);
}

void testutil_rmtree(const char *path) {
    if (path != NULL) (void)nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void testutil_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

char *testutil_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (f == NULL) return NULL;
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

void testutil_log_sink(void *ctx, int level, const char *msg) {
    testutil_log *log = ctx;
    if (log->count >= 64) return;
    snprintf(log->lines[log->count], sizeof log->lines[0], "%s", msg);
    log->levels[log->count] = level;
    log->count++;
}

/* Read both pipes to the end without deadlocking on either. */
static void drain(int fds[2], char *bufs[2]) {
    size_t lens[2] = {0, 0}, caps[2] = {0, 0};
    int open_count = 2;
    for (int k = 0; k < 2; k++) {
        caps[k] = 4096;
        bufs[k] = malloc(caps[k] + 1);
        assert_non_null(bufs[k]);
    }
    while (open_count > 0) {
        struct pollfd p[2];
        int n = 0, map[2];
        for (int k = 0; k < 2; k++)
            if (fds[k] >= 0) {
                p[n].fd = fds[k];
                p[n].events = POLLIN;
                map[n++] = k;
            }
        if (poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            fail_msg("poll: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            int k = map[i];
            ssize_t got;
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (caps[k] - lens[k] < 4096) {
                caps[k] *= 2;
                bufs[k] = realloc(bufs[k], caps[k] + 1);
                assert_non_null(bufs[k]);
            }
            got = read(fds[k], bufs[k] + lens[k], caps[k] - lens[k]);
            if (got <= 0) {
                close(fds[k]);
                fds[k] = -1;
                open_count--;
            } else {
                lens[k] += (size_t)got;
            }
        }
    }
    for (int k = 0; k < 2; k++)
        bufs[k][lens[k]] = '\0';
}

int testutil_run_cli(const char *cwd, const char *const *args, char **out, char **err) {
    int outp[2], errp[2], status, fds[2];
    char *bufs[2];
    size_t argc = 0;
    const char **argv;
    pid_t pid;

    while (args[argc] != NULL)
        argc++;
    argv = calloc(argc + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = SQLPOOL_CLI_PATH;
    memcpy(argv + 1, args, argc * sizeof *argv);
    assert_int_equal(pipe(outp), 0);
    assert_int_equal(pipe(errp), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        close(outp[0]);
        close(errp[0]);
        if (cwd != NULL && chdir(cwd) != 0) _exit(127);
        execv(SQLPOOL_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    close(outp[1]);
    close(errp[1]);
    fds[0] = outp[0];
    fds[1] = errp[0];
    drain(fds, bufs);
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (out)
        *out = bufs[0];
    else
        free(bufs[0]);
    if (err)
        *err = bufs[1];
    else
        free(bufs[1]);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

sqlpool_stats testutil_stats(sqlpool *pool) {
    sqlpool_stats st;
    memset(&st, 0x5a, sizeof st);
    sqlpool_stats_get(pool, &st);
    return st;
}

sqlpool_conn *testutil_acquire(sqlpool *pool) {
    sqlpool_conn *conn = NULL;
    int rc = sqlpool_acquire(pool, &conn);
    if (rc != SQLPOOL_OK) fail_msg("acquire: %d %s", rc, sqlpool_errmsg());
    assert_non_null(conn);
    return conn;
}

void testutil_exec(sqlpool_conn *conn, const char *sql) {
    char *err = NULL;
    int rc = sqlite3_exec(sqlpool_conn_sqlite(conn), sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, err ? err : sqlite3_errstr(rc));
}

long long testutil_query_int(sqlpool_conn *conn, const char *sql) {
    sqlite3 *db = sqlpool_conn_sqlite(conn);
    sqlite3_stmt *stmt = NULL;
    long long v;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    v = sqlite3_column_int64(stmt, 0);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    return v;
}
