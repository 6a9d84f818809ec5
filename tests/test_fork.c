/*
 * test_fork.c: a pool used in the child of a fork() (SQLite; the PostgreSQL cases are in
 * test_pg.c): the child never touches a connection it inherited, gets its own, and closes
 * promptly; the parent goes on with its own; a fork while 8 threads hammer the pool leaves a
 * child that can use it. A database file that had connections open at the fork is refused
 * in the child (SQLite's per-file lock records are inherited without the locks: the child
 * would write without them, and the parent could delete the WAL under its writes); one with
 * none open then (sqlpool_close_idle() before the fork) serves the child, with every row it
 * writes kept.
 *
 * The child reports through its exit status (cmocka's assertions belong to the parent): 0 is
 * success, each failure its own code. The parent waits at most 10 s, then kills it.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ThreadSanitizer refuses by default to start a thread in the child of a multi-threaded
 * fork (die_after_fork), which is what a pool's new start there does (its maintenance
 * thread); with it allowed, these tests run clean under TSan. Read by TSan only. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) {
    return "die_after_fork=0";
}

static void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The child's exit status, or -1 when it ran past timeout seconds (then it is killed). */
static int wait_child(pid_t pid, double timeout) {
    double end = now_s() + timeout;
    int status = 0;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) break;
        if (got < 0) fail_msg("waitpid: %s", strerror(errno));
        if (now_s() > end) {
            (void)kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            return -1;
        }
        nap_ms(2);
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static sqlpool *open_file_pool_checked(const char *dir, int max_open, int min_idle, double barge,
                                       double bypass) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    char *path = dir != NULL ? testutil_format("%s/fork.db", dir) : NULL;
    sqlpool_config_init(&cfg);
    cfg.db = path != NULL ? path : ":memory:"; /* dir NULL: an in-memory database */
    cfg.max_open = max_open;
    cfg.max_idle = max_open;
    cfg.min_idle = min_idle;
    cfg.acquire_timeout = 5;
    cfg.barge_window = barge;
    cfg.validation_bypass = bypass;
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) fail_msg("open: %s", sqlpool_errmsg());
    free(path);
    return pool;
}

/* Before a fork: the maintenance thread's refill done (open >= n, no connect running), and a
 * moment for it to go back to sleep. GCC 12's AddressSanitizer does not hold its allocator's
 * locks across fork(), so a fork while another thread allocates (a connect) can leave the
 * child hung in its first malloc; the plain build does not need this, ASan does. */
static void wait_quiet(sqlpool *pool, int n) {
    sqlpool_stats st;
    for (int i = 0; i < 5000; i++) {
        sqlpool_stats_get(pool, &st);
        if (st.open >= n && st.connecting == 0) break;
        nap_ms(1);
    }
    nap_ms(20);
}

static sqlpool *open_file_pool(const char *dir, int max_open, int min_idle, double barge) {
    return open_file_pool_checked(dir, max_open, min_idle, barge, 0.5);
}

/* SELECT the process's own pid on a borrowed connection: 1 when it came back. */
static int selects_own_pid(sqlpool_conn *conn) {
    sqlite3_stmt *stmt = NULL;
    long long want = (long long)getpid();
    int ok;
    if (sqlpool_conn_prepare(conn, "SELECT ?1", &stmt) != SQLPOOL_OK) return 0;
    (void)sqlite3_bind_int64(stmt, 1, want);
    ok = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) == want;
    (void)sqlite3_reset(stmt);
    return ok;
}

enum { NPARENT = 3 };

/* In the child: 1,000 borrows, none of an inherited sqlite3 *, each query answering the
 * child's pid; a stale handle refused; a close within a second. Returns the exit code. */
static int child_uses_pool(sqlpool *pool, sqlite3 *const *inherited, sqlpool_conn *stale) {
    sqlpool_stats st;
    double t0;
    sqlpool_release(stale); /* the forking thread's own borrow: refused, touching nothing */
    if (strstr(sqlpool_errmsg(), "already released") == NULL) return 10;
    for (int i = 0; i < 1000; i++) {
        sqlpool_conn *conn = NULL;
        sqlite3 *db;
        if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) return 11;
        db = sqlpool_conn_sqlite(conn);
        for (int k = 0; k < NPARENT; k++)
            if (db == inherited[k]) return 12; /* the parent's connection */
        if (!selects_own_pid(conn)) return 13;
        sqlpool_release(conn);
    }
    sqlpool_stats_get(pool, &st);
    if (st.in_use != 0 || st.open < 1 || st.open > 4) return 14;
    t0 = now_s();
    sqlpool_close(pool);
    if (now_s() - t0 > 1.0) return 15;
    return 0;
}

static void test_fork_child_gets_its_own_connections(void **state) {
    char *dir = testutil_tmpdir();
    /* In memory: no file whose locks the child could miss. min_idle: a maintenance thread. */
    sqlpool *pool = open_file_pool(NULL, 4, 2, 0);
    sqlpool_conn *held[NPARENT], *stale;
    sqlite3 *dbs[NPARENT];
    pid_t pid;
    int code;
    (void)state;
    for (int k = 0; k < NPARENT; k++) {
        held[k] = testutil_acquire(pool);
        dbs[k] = sqlpool_conn_sqlite(held[k]);
    }
    for (int k = 1; k < NPARENT; k++)
        sqlpool_release(held[k]);
    stale = held[0]; /* borrowed across the fork */
    wait_quiet(pool, NPARENT);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_uses_pool(pool, dbs, stale));
    /* Meanwhile the parent goes on with its own connections. */
    for (int i = 0; i < 1000; i++) {
        sqlpool_conn *conn = testutil_acquire(pool);
        assert_true(selects_own_pid(conn));
        sqlpool_release(conn);
    }
    code = wait_child(pid, 10);
    assert_int_equal(code, 0);
    assert_true(selects_own_pid(stale)); /* the parent's borrow still works */
    sqlpool_release(stale);
    {
        sqlpool_stats st = testutil_stats(pool);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.connect_failures, 0);
    }
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(dir);
}

/* ---- a fork while threads hammer the pool ---- */

typedef struct hammer {
    sqlpool *pool;
    atomic_int stop;
    atomic_long cycles, errors;
} hammer;

static void *hammer_main(void *arg) {
    hammer *h = arg;
    while (!atomic_load(&h->stop)) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(h->pool, &conn) != SQLPOOL_OK) {
            atomic_fetch_add(&h->errors, 1);
            continue;
        }
        /* The pool's own locks and books, not SQLite's: a fork while another thread runs a
         * statement on the file can leave SQLite's per-file state (its mutex) held in the
         * child (docs/threading.md, limits), which no pool can repair. */
        if (conn == NULL) atomic_fetch_add(&h->errors, 1);
        sqlpool_release(conn);
        atomic_fetch_add(&h->cycles, 1);
    }
    return NULL;
}

static int child_after_hammer(sqlpool *pool) {
    double t0;
    for (int i = 0; i < 200; i++) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) return 20;
        if (!selects_own_pid(conn)) return 21;
        sqlpool_release(conn);
    }
    t0 = now_s();
    sqlpool_close(pool);
    return now_s() - t0 > 1.0 ? 22 : 0;
}

static void hammer_and_fork(double barge) {
    char *dir = testutil_tmpdir();
    /* No refill connects and no pings in the parent while the threads run; in memory, since
     * a file with connections open at the fork is refused in the child (see the top). */
    sqlpool *pool = open_file_pool_checked(NULL, 4, 0, barge, 3600);
    hammer h = {.pool = pool};
    pthread_t threads[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, hammer_main, &h), 0);
    /* Every connect done (a connect is SQLite work on the file: see hammer_main). */
    for (sqlpool_stats st = testutil_stats(pool); st.open < 4 || st.connecting > 0;
         st = testutil_stats(pool))
        nap_ms(1);
    for (int round = 0; round < 5; round++) {
        long before = atomic_load(&h.cycles);
        pid_t pid;
        while (atomic_load(&h.cycles) < before + 200)
            nap_ms(1);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(child_after_hammer(pool));
        assert_int_equal(wait_child(pid, 10), 0);
    }
    atomic_store(&h.stop, 1);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(atomic_load(&h.errors), 0);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(dir);
}

/* GCC 12's AddressSanitizer does not keep its own state fork-safe while other threads run
 * (its allocator, its thread registry): a child forked under load hangs now and then inside
 * ASan (about one run in ten here), whatever the pool does. The plain and TSan builds run
 * these two; under ASan they are skipped. */
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_UNDER_ASAN() skip()
#else
#define SKIP_UNDER_ASAN() ((void)0)
#endif

static void test_fork_while_threads_hammer(void **state) {
    (void)state;
    SKIP_UNDER_ASAN();
    hammer_and_fork(0);
}

static void test_fork_while_threads_hammer_throughput_mode(void **state) {
    (void)state;
    SKIP_UNDER_ASAN();
    hammer_and_fork(0.001); /* the per-processor slots too */
}

/* A child that never calls the pool before closing it: close returns at once, and the
 * parent's pool (and its maintenance thread) is untouched. */
static void test_fork_child_close_is_prompt(void **state) {
    char *dir = testutil_tmpdir();
    sqlpool *pool = open_file_pool(dir, 2, 2, 0);
    sqlpool_conn *conn;
    pid_t pid;
    (void)state;
    wait_quiet(pool, 2); /* min_idle's refill */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        double t0 = now_s();
        sqlpool_close(pool);
        _exit(now_s() - t0 > 1.0 ? 30 : 0);
    }
    assert_int_equal(wait_child(pid, 10), 0);
    conn = testutil_acquire(pool);
    assert_true(selects_own_pid(conn));
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).created, 2);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(dir);
}

/* Descriptors of this process open on a path ending in name (SQLite's own, for the file). */
static int fds_on(const char *name) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL) {
        char link[300], target[4096];
        ssize_t len;
        (void)snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        len = readlink(link, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = '\0';
        if (len >= (ssize_t)strlen(name) && strcmp(target + len - strlen(name), name) == 0) n++;
    }
    (void)closedir(d);
    return n;
}

/* The child's first call is sqlpool_resize(), then sqlpool_evict(): neither touches the
 * parent's connections (a shrink would otherwise close an inherited idle one, and SQLite its
 * descriptor; an evict, all of them), and the child's pool works after them. */
static int child_resizes_first(sqlpool *pool) {
    sqlpool_stats st;
    sqlpool_conn *conn = NULL;
    int before = fds_on("/fork.db");
    if (before < 2) return 44; /* the parent's two connections' descriptors */
    if (sqlpool_resize(pool, 1, 1) != SQLPOOL_OK) return 40;
    sqlpool_evict(pool);
    if (fds_on("/fork.db") != before) return 45; /* an inherited connection was closed */
    sqlpool_stats_get(pool, &st);
    if (st.closed_max_idle != 0 || st.closed_evicted != 0 || st.open != 0) return 41;
    /* The file had connections open at the fork: refused here, at once. */
    if (sqlpool_acquire(pool, &conn) != SQLPOOL_ECONNECT || conn != NULL) return 42;
    if (strstr(sqlpool_errmsg(), "connections to that file were open when it was forked") == NULL)
        return 43;
    if (fds_on("/fork.db") != before) return 46; /* and the refusal closed only its own */
    sqlpool_close(pool);
    return 0;
}

static void test_fork_child_runtime_changes_touch_nothing_inherited(void **state) {
    char *dir = testutil_tmpdir();
    sqlpool *pool = open_file_pool(dir, 3, 0, 0);
    sqlpool_conn *a, *b;
    pid_t pid;
    (void)state;
    a = testutil_acquire(pool);
    b = testutil_acquire(pool);
    sqlpool_release(a);
    sqlpool_release(b); /* two idle: a shrink to max_idle 1 would close one */
    wait_quiet(pool, 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_resizes_first(pool));
    assert_int_equal(wait_child(pid, 10), 0);
    assert_int_equal(testutil_stats(pool).idle, 2); /* the parent's, untouched */
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(dir);
}

/* The pre-fork server's pattern: the parent empties its pool (sqlpool_close_idle(), nothing
 * borrowed) and forks; the child writes through the pool while the parent closes its own and
 * exits; every row the child wrote is in the file afterwards (with SQLite's inherited lock
 * records the parent's close would checkpoint and delete the WAL under the child). */
static int child_writes(sqlpool *pool, int ready_fd) {
    char c = 0;
    for (int i = 0; i < 200; i++) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) return 50;
        if (sqlite3_exec(sqlpool_conn_sqlite(conn), "INSERT INTO t VALUES (2)", NULL, NULL, NULL) !=
            SQLITE_OK)
            return 51;
        sqlpool_release(conn);
        if (i == 99) {
            if (write(ready_fd, &c, 1) != 1) return 52; /* the parent closes its pool now */
            nap_ms(200);
        }
    }
    sqlpool_close(pool);
    return 0;
}

static void test_fork_after_close_idle_child_keeps_its_rows(void **state) {
    char *dir = testutil_tmpdir(), *path = testutil_format("%s/fork.db", dir);
    sqlpool *pool = open_file_pool(dir, 2, 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int fds[2];
    char c;
    pid_t pid;
    (void)state;
    assert_int_equal(sqlite3_exec(sqlpool_conn_sqlite(conn),
                                  "CREATE TABLE t(x); INSERT INTO t "
                                  "VALUES (1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlpool_release(conn);
    sqlpool_close_idle(pool); /* no connection open at the fork */
    assert_int_equal(pipe(fds), 0);
    wait_quiet(pool, 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_writes(pool, fds[1]));
    assert_int_equal(read(fds[0], &c, 1), 1);
    sqlpool_close(pool); /* the parent leaves while the child goes on writing */
    assert_int_equal(wait_child(pid, 10), 0);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(x = 2) FROM t", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 201);
    assert_int_equal(sqlite3_column_int(st, 1), 200);
    sqlite3_finalize(st);
    sqlite3_close(db);
    close(fds[0]);
    close(fds[1]);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

/* A file the parent's pool had connections open to is refused in the child, with a message
 * that says what to do; the parent is unaffected. */
static void test_fork_child_refuses_file_open_at_fork(void **state) {
    char *dir = testutil_tmpdir();
    sqlpool *pool = open_file_pool(dir, 2, 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    pid_t pid;
    (void)state;
    sqlpool_release(conn); /* one idle connection across the fork */
    wait_quiet(pool, 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlpool_conn *mine = NULL;
        sqlpool *other = NULL;
        double t0 = now_s();
        int rc = sqlpool_acquire(pool, &mine);
        if (rc != SQLPOOL_ECONNECT || mine != NULL) _exit(60);
        if (strstr(sqlpool_errmsg(), "sqlpool_close_idle() before it") == NULL) _exit(61);
        if (now_s() - t0 > 1.0) _exit(62);
        other = open_file_pool(dir, 1, 0, 0); /* a new pool on the same file: the same */
        if (sqlpool_acquire(other, &mine) != SQLPOOL_ECONNECT) _exit(63);
        sqlpool_close(other);
        sqlpool_close(pool);
        _exit(0);
    }
    assert_int_equal(wait_child(pid, 10), 0);
    conn = testutil_acquire(pool);
    assert_true(selects_own_pid(conn));
    sqlpool_release(conn);
    assert_int_equal(testutil_stats(pool).connect_failures, 0);
    sqlpool_close(pool);
    testutil_rmtree(dir);
    free(dir);
}

/* ---- a fork from inside the pool's own code (fork.c: SQLPOOL__FORK_INSIDE) ---- */

/* Threads of this process (the child of a fork has one until it starts more). */
static int threads_here(void) {
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    (void)closedir(d);
    return n;
}

/* The hooks below fork once when armed: the parent records the child's pid, the child sets
 * in_child and lets the hook return 0 (accept), as a careless hook would. */
static atomic_int fork_armed;
static atomic_int forked_pid;
static int in_child;
static atomic_int hooks_in_child; /* hooks run in the child after the fork */

/* A child whose last thread ends exits as by exit(0): under ASan, skip LeakSanitizer's look
 * at what that child leaks by design (the parent's connections, abandoned). Not under TSan,
 * whose atexit interceptor cannot run on a thread that is ending. */
#if defined(__SANITIZE_ADDRESS__)
static void exit_zero_at_exit(void) {
    _exit(0);
}
#define SKIP_LEAK_CHECK_AT_EXIT() (void)atexit(exit_zero_at_exit)
#else
#define SKIP_LEAK_CHECK_AT_EXIT() ((void)0)
#endif

static int fork_once(void) {
    pid_t pid;
    if (in_child) atomic_fetch_add(&hooks_in_child, 1);
    if (!atomic_exchange(&fork_armed, 0)) return 0;
    (void)fflush(NULL); /* the child's exit() must not write the parent's buffers again */
    pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        in_child = 1;
        SKIP_LEAK_CHECK_AT_EXIT();
    } else {
        atomic_store(&forked_pid, (int)pid);
    }
    return 0;
}

static int hook_fork(sqlpool_conn *conn, void *ctx) {
    (void)conn;
    (void)ctx;
    return fork_once();
}

static sqlpool *open_hooked(int min_idle, sqlpool_fn on_connect, sqlpool_fn on_acquire,
                            sqlpool_fn on_release) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    cfg.db = ":memory:";
    cfg.max_open = 4;
    cfg.max_idle = 4;
    cfg.min_idle = min_idle;
    cfg.idle_timeout = 3600; /* a maintenance thread, whatever min_idle */
    cfg.acquire_timeout = 5;
    cfg.on_connect = on_connect;
    cfg.on_acquire = on_acquire;
    cfg.on_release = on_release;
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) fail_msg("open: %s", sqlpool_errmsg());
    return pool;
}

/* In the child of a fork from inside pool's hook, the acquire that ran it having returned
 * acquire_rc: the pool is closed (at once, with no thread of its own), another pool of the
 * parent's (other) starts over and works. */
static int child_after_inside_fork(sqlpool *pool, sqlpool *other, int acquire_rc,
                                   const sqlpool_conn *got, sqlpool_conn *stale) {
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    double t0 = now_s();
    if (got != NULL) return 70; /* the parent's connection, handed out in the child */
    if (acquire_rc == SQLPOOL_OK) return 71;
    if (threads_here() != 1) return 72;
    if (sqlpool_acquire(pool, &conn) != SQLPOOL_ECLOSED || conn != NULL) return 73;
    if (now_s() - t0 > 1.0) return 74;
    if (stale != NULL) {
        sqlpool_release(stale); /* borrowed before the fork: refused */
        if (strstr(sqlpool_errmsg(), "already released") == NULL) return 75;
    }
    sqlpool_stats_get(pool, &st);
    if (st.in_use != 0 || st.idle != 0) return 76;
    if (atomic_load(&hooks_in_child) != 0) return 77; /* no hook ran again in the child */
    conn = NULL;
    if (sqlpool_acquire(other, &conn) != SQLPOOL_OK || !selects_own_pid(conn)) return 78;
    sqlpool_release(conn);
    t0 = now_s();
    sqlpool_close(pool);
    sqlpool_close(other);
    if (now_s() - t0 > 1.0) return 79;
    return threads_here() == 1 ? 0 : 80;
}

static void fork_inside_hook(int on_connect) {
    /* Nothing idle once stale is borrowed: the next acquire connects (on_connect's turn).
     * The maintenance thread (idle_timeout) must not be started again in the child. */
    sqlpool *pool =
        on_connect ? open_hooked(0, hook_fork, NULL, NULL) : open_hooked(0, NULL, hook_fork, NULL);
    sqlpool *other = open_file_pool(NULL, 2, 0, 0);
    sqlpool_conn *stale = testutil_acquire(pool), *conn = NULL, *mine;
    int rc;
    mine = testutil_acquire(other);
    sqlpool_release(mine);
    wait_quiet(pool, 1);
    atomic_store(&fork_armed, 1);
    rc = sqlpool_acquire(pool, &conn);
    if (in_child) _exit(child_after_inside_fork(pool, other, rc, conn, stale));
    assert_int_equal(rc, SQLPOOL_OK); /* the parent: unaffected */
    assert_true(selects_own_pid(conn));
    assert_int_equal(wait_child((pid_t)atomic_load(&forked_pid), 10), 0);
    sqlpool_release(conn);
    sqlpool_release(stale);
    conn = testutil_acquire(pool);
    assert_true(selects_own_pid(conn));
    sqlpool_release(conn);
    sqlpool_close(pool);
    sqlpool_close(other);
}

static void test_fork_inside_on_acquire_closes_the_pool_in_the_child(void **state) {
    (void)state;
    fork_inside_hook(0);
}

static void test_fork_inside_on_connect_closes_the_pool_in_the_child(void **state) {
    (void)state;
    fork_inside_hook(1);
}

/* The fork comes from on_release: the release closes nothing of the parent's in the child,
 * and the pool there is closed. */
static void test_fork_inside_on_release_closes_the_pool_in_the_child(void **state) {
    sqlpool *pool = open_hooked(0, NULL, NULL, hook_fork);
    sqlpool *other = open_file_pool(NULL, 2, 0, 0);
    sqlpool_conn *conn = testutil_acquire(pool);
    (void)state;
    wait_quiet(pool, 1);
    atomic_store(&fork_armed, 1);
    sqlpool_release(conn);
    if (in_child) _exit(child_after_inside_fork(pool, other, SQLPOOL_ECLOSED, NULL, NULL));
    assert_int_equal(wait_child((pid_t)atomic_load(&forked_pid), 10), 0);
    assert_int_equal(testutil_stats(pool).idle, 1); /* the parent's release went through */
    conn = testutil_acquire(pool);
    assert_true(selects_own_pid(conn));
    sqlpool_release(conn);
    sqlpool_close(pool);
    sqlpool_close(other);
}

/* The fork comes from on_acquire while another thread of the parent's is in the middle of a
 * connect (held in before_connect): that connect, counted in the child's books, never ends
 * there, and the child's close does not wait for it. */
static atomic_int connect_held;
static atomic_int connects_held;

static int hold_connect(void *ctx) {
    (void)ctx;
    if (in_child || !atomic_load(&connect_held)) return 0;
    atomic_fetch_add(&connects_held, 1);
    while (atomic_load(&connect_held))
        nap_ms(1);
    return 0;
}

static void *acquire_once(void *arg) {
    sqlpool_conn *conn = NULL;
    if (sqlpool_acquire(arg, &conn) == SQLPOOL_OK) sqlpool_release(conn);
    return NULL;
}

static int child_closes_at_once(sqlpool *pool, int acquire_rc) {
    double t0 = now_s();
    if (acquire_rc != SQLPOOL_ECLOSED) return 110;
    sqlpool_close(pool);
    return now_s() - t0 > 1.0 ? 111 : 0;
}

static void test_fork_inside_a_hook_while_another_thread_connects(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *conn;
    pthread_t thread;
    int rc;
    (void)state;
    sqlpool_config_init(&cfg);
    cfg.db = ":memory:";
    cfg.max_open = 4;
    cfg.on_acquire = hook_fork;
    cfg.before_connect = hold_connect;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    conn = testutil_acquire(pool);
    atomic_store(&connect_held, 1);
    assert_int_equal(pthread_create(&thread, NULL, acquire_once, pool), 0);
    while (atomic_load(&connects_held) == 0)
        nap_ms(1);
    sqlpool_release(conn);
    atomic_store(&fork_armed, 1);
    conn = NULL;
    rc = sqlpool_acquire(pool, &conn); /* the idle one: on_acquire forks */
    if (in_child) _exit(child_closes_at_once(pool, rc));
    assert_int_equal(rc, SQLPOOL_OK);
    assert_int_equal(wait_child((pid_t)atomic_load(&forked_pid), 10), 0);
    atomic_store(&connect_held, 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    sqlpool_release(conn);
    sqlpool_close(pool);
}

/* Nested: pool's on_release hook acquires from other, whose on_connect forks. In the child
 * both are closed; pool's release, back from its hook, closes nothing of the parent's. */
static sqlpool *nested_other;

static int hook_acquire_other(sqlpool_conn *conn, void *ctx) {
    sqlpool_conn *o = NULL;
    (void)conn;
    (void)ctx;
    if (sqlpool_acquire(nested_other, &o) == SQLPOOL_OK) sqlpool_release(o);
    return 0;
}

static int child_after_nested_fork(sqlpool *pool, sqlpool *other) {
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    if (threads_here() != 1) return 100;
    if (sqlpool_acquire(pool, &conn) != SQLPOOL_ECLOSED || conn != NULL) return 101;
    if (sqlpool_acquire(other, &conn) != SQLPOOL_ECLOSED || conn != NULL) return 102;
    sqlpool_stats_get(pool, &st);
    if (st.in_use != 0 || st.idle != 0) return 103;
    sqlpool_close(pool);
    sqlpool_close(other);
    return threads_here() == 1 ? 0 : 104;
}

static void test_fork_inside_a_hook_of_another_pool(void **state) {
    sqlpool *pool = open_hooked(0, NULL, NULL, hook_acquire_other);
    sqlpool *other = open_hooked(0, hook_fork, NULL, NULL);
    sqlpool_conn *conn = testutil_acquire(pool);
    (void)state;
    nested_other = other;
    wait_quiet(pool, 1);
    atomic_store(&fork_armed, 1); /* other's first connect, in pool's on_release, forks */
    sqlpool_release(conn);
    if (in_child) _exit(child_after_nested_fork(pool, other));
    assert_int_equal(wait_child((pid_t)atomic_load(&forked_pid), 10), 0);
    assert_int_equal(testutil_stats(pool).idle, 1);
    assert_int_equal(testutil_stats(other).idle, 1);
    sqlpool_close(pool);
    sqlpool_close(other);
}

/* The fork comes from on_connect run by the maintenance thread's min_idle refill: in the
 * child that thread is the only one; it leaves the pool once back from the hook, no second
 * thread is started, no hook runs again, and the child ends (status 0) instead of living on
 * as a maintenance thread. The parent's refill goes on. */
static void test_fork_from_the_maintenance_thread(void **state) {
    sqlpool *pool = open_hooked(2, hook_fork, NULL, NULL);
    sqlpool_conn *a, *b;
    pid_t pid;
    (void)state;
    wait_quiet(pool, 2);
    a = testutil_acquire(pool);
    b = testutil_acquire(pool);
    atomic_store(&fork_armed, 1); /* the refill of min_idle now runs on_connect: it forks */
    for (int i = 0; i < 5000 && atomic_load(&forked_pid) == 0; i++)
        nap_ms(1);
    pid = (pid_t)atomic_load(&forked_pid);
    assert_true(pid > 0);
    assert_int_equal(wait_child(pid, 10), 0);
    wait_quiet(pool, 4);
    assert_true(testutil_stats(pool).idle >= 2); /* the parent's refill went on */
    sqlpool_release(a);
    sqlpool_release(b);
    a = testutil_acquire(pool);
    assert_true(selects_own_pid(a));
    sqlpool_release(a);
    sqlpool_close(pool);
}

/* ---- a fork while another thread opens and closes pools ---- */

/* sqlpool_close() takes its pool off the fork handlers' registry first, and then may hold the
 * pool's lock, its maint_mu, or SQLite's mutexes while it closes connections and joins the
 * maintenance thread when another thread forks: the child must never wait for any of them
 * (the handlers never touch a pool off the registry; the process-wide locks they take around
 * the fork, fork.c). Each child opens a pool of its own, uses and closes it. */
typedef struct churn {
    atomic_int stop;
    atomic_long rounds;
} churn;

static void *churn_main(void *arg) {
    churn *ch = arg;
    while (!atomic_load(&ch->stop)) {
        sqlpool *pool = open_file_pool(NULL, 2, 1, 0); /* a maintenance thread, a connection */
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(pool, &conn) == SQLPOOL_OK) sqlpool_release(conn);
        sqlpool_close(pool);
        atomic_fetch_add(&ch->rounds, 1);
    }
    return NULL;
}

static int child_opens_its_own(void) {
    sqlpool *pool = open_file_pool(NULL, 2, 1, 0);
    for (int i = 0; i < 20; i++) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) return 90;
        if (!selects_own_pid(conn)) return 91;
        sqlpool_release(conn);
    }
    sqlpool_close(pool);
    return 0;
}

static void test_fork_while_pools_open_and_close(void **state) {
    churn ch = {0};
    pthread_t thread;
    (void)state;
    SKIP_UNDER_ASAN();
    assert_int_equal(pthread_create(&thread, NULL, churn_main, &ch), 0);
    for (int round = 0; round < 40; round++) {
        long before = atomic_load(&ch.rounds);
        pid_t pid;
        while (atomic_load(&ch.rounds) == before)
            nap_ms(1);
        nap_ms(round % 3); /* at different points of the next open and close */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(child_opens_its_own());
        assert_int_equal(wait_child(pid, 10), 0);
    }
    atomic_store(&ch.stop, 1);
    assert_int_equal(pthread_join(thread, NULL), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fork_after_close_idle_child_keeps_its_rows),
    cmocka_unit_test(test_fork_child_refuses_file_open_at_fork),
    cmocka_unit_test(test_fork_child_gets_its_own_connections),
    cmocka_unit_test(test_fork_while_threads_hammer),
    cmocka_unit_test(test_fork_while_threads_hammer_throughput_mode),
    cmocka_unit_test(test_fork_child_close_is_prompt),
    cmocka_unit_test(test_fork_child_runtime_changes_touch_nothing_inherited),
    cmocka_unit_test(test_fork_inside_on_acquire_closes_the_pool_in_the_child),
    cmocka_unit_test(test_fork_inside_on_connect_closes_the_pool_in_the_child),
    cmocka_unit_test(test_fork_inside_on_release_closes_the_pool_in_the_child),
    cmocka_unit_test(test_fork_inside_a_hook_of_another_pool),
    cmocka_unit_test(test_fork_inside_a_hook_while_another_thread_connects),
    cmocka_unit_test(test_fork_from_the_maintenance_thread),
    cmocka_unit_test(test_fork_while_pools_open_and_close),
};

SQLPOOL_TEST_MAIN(tests)
