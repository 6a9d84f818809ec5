/*
 * test_group_commit.c: config.group_commit, sqlpool_write() transactions that share one
 * COMMIT. A group forms behind a transaction under way and commits once, every row there;
 * a member whose fn fails loses only its own work; one whose fn ends the transaction (its
 * own ROLLBACK or COMMIT) fails the members before it, with a message that says so, and the
 * next caller starts a new group; a COMMIT that fails (a deferred foreign key) fails every
 * member; a caller queued for a turn keeps its deadline; close during a group; a nested
 * sqlpool_write() is served as without group_commit; a fork() child starts afresh; 64
 * threads with 20% writes lose no row and meet no busy error; what is refused.
 *
 * cmocka's assertions longjmp, so they run on the main thread only: worker threads record
 * what they saw and the main thread checks it afterwards.
 *
 * A group is made to form by a first writer whose fn holds its turn (it waits for the main
 * thread) until the others have called sqlpool_write() and had time to queue (they mark
 * "entered" just before the call; the main thread then waits QUEUE_SETTLE more).
 */
#define _DEFAULT_SOURCE /* usleep */
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ThreadSanitizer refuses by default to start a thread in the child of a multi-threaded
 * fork (die_after_fork), which a pool's new start there does (its maintenance thread).
 * Read by TSan only. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) {
    return "die_after_fork=0";
}

#define QUEUE_SETTLE_US 300000 /* after "entered": the call is microseconds from its queue */

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What a writer's fn does: all insert row `id` first, then: */
typedef enum {
    DO_OK,       /* return 0 */
    DO_HOLD,     /* mark held, wait for release, return 0 */
    DO_FAIL,     /* return -1 */
    DO_BAD_SQL,  /* run a statement that fails, return its error */
    DO_ROLLBACK, /* run ROLLBACK itself, return -1 */
    DO_COMMIT,   /* run COMMIT itself, return 0 */
    DO_NESTED,   /* a nested sqlpool_write(): its rc in nested_rc; return 0 */
    DO_FK,       /* insert a child row whose parent does not exist (deferred FK), return 0 */
    DO_ONE       /* return 1 (SQLITE_ERROR, as `return sqlite3_exec(...)` gives) */
} what_t;

typedef struct writer {
    sqlpool *pool;
    what_t what;
    int id;
    atomic_int entered, held, release, ran;
    int rc, nested_rc;
    char msg[400];
    pthread_t th;
} writer;

static int exec(sqlpool_conn *conn, const char *sql) {
    return sqlite3_exec(sqlpool_conn_sqlite(conn), sql, NULL, NULL, NULL);
}

static int insert_id(sqlpool_conn *conn, int id) {
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO t(id) VALUES(%d)", id);
    return exec(conn, sql) == SQLITE_OK ? 0 : -1;
}

static int nested_fn(sqlpool_conn *conn, void *ctx) {
    (void)ctx;
    return insert_id(conn, 9999);
}

static int writer_fn(sqlpool_conn *conn, void *ctx) {
    writer *w = ctx;
    atomic_fetch_add(&w->ran, 1);
    if (w->what == DO_FK)
        return exec(conn, "INSERT INTO child(parent) VALUES(424242)") == SQLITE_OK ? 0 : -1;
    if (insert_id(conn, w->id) != 0) return -2;
    switch (w->what) {
    case DO_HOLD:
        atomic_store(&w->held, 1);
        while (!atomic_load(&w->release))
            usleep(1000);
        return 0;
    case DO_FAIL: return -1;
    case DO_BAD_SQL: return exec(conn, "INSERT INTO no_such_table VALUES(1)") == 0 ? 0 : -3;
    case DO_ROLLBACK: (void)exec(conn, "ROLLBACK"); return -1;
    case DO_COMMIT: (void)exec(conn, "COMMIT"); return 0;
    case DO_NESTED: w->nested_rc = sqlpool_write(w->pool, nested_fn, NULL); return 0;
    case DO_ONE: return 1;
    default: return 0;
    }
}

static void *writer_main(void *arg) {
    writer *w = arg;
    atomic_store(&w->entered, 1);
    w->rc = sqlpool_write(w->pool, writer_fn, w);
    snprintf(w->msg, sizeof w->msg, "%s", sqlpool_errmsg());
    return NULL;
}

static void start(writer *w, sqlpool *pool, what_t what, int id) {
    memset(w, 0, sizeof *w);
    w->pool = pool;
    w->what = what;
    w->id = id;
    assert_int_equal(pthread_create(&w->th, NULL, writer_main, w), 0);
}

static void wait_flag(atomic_int *flag) {
    double until = now_s() + 20;
    while (!atomic_load(flag)) {
        if (now_s() > until) fail_msg("a writer thread did not get there in 20 s");
        usleep(1000);
    }
}

/* Start a holder (id 1), then the others in order (each entered before the next starts),
 * let them queue, and let the holder go on. */
static void run_group(sqlpool *pool, writer *ws, const what_t *whats, int n) {
    start(&ws[0], pool, DO_HOLD, 1);
    wait_flag(&ws[0].held);
    for (int i = 1; i < n; i++) {
        start(&ws[i], pool, whats[i], i + 1);
        wait_flag(&ws[i].entered);
        usleep(20000); /* queued in this order */
    }
    usleep(QUEUE_SETTLE_US);
    atomic_store(&ws[0].release, 1);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(ws[i].th, NULL), 0);
}

typedef struct fixture {
    char *dir, *path;
    sqlpool_config cfg;
    sqlpool *pool;
} fixture;

static void fixture_init(fixture *fx, int single_writer, int group) {
    memset(fx, 0, sizeof *fx);
    fx->dir = testutil_tmpdir();
    fx->path = testutil_format("%s/g.db", fx->dir);
    sqlpool_config_init(&fx->cfg);
    fx->cfg.db = fx->path;
    fx->cfg.single_writer = single_writer;
    fx->cfg.group_commit = group;
    fx->cfg.max_open = 4;
    fx->cfg.max_idle = 4;
    fx->cfg.acquire_timeout = 20;
    fx->cfg.init_sql = "PRAGMA foreign_keys=ON";
}

static void fixture_open(fixture *fx) {
    sqlpool_conn *c;
    int rc = sqlpool_open(&fx->cfg, &fx->pool);
    if (rc != SQLPOOL_OK) fail_msg("sqlpool_open: %d %s", rc, sqlpool_errmsg());
    c = testutil_acquire(fx->pool);
    testutil_exec(c, "PRAGMA journal_mode=WAL");
    testutil_exec(c, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY)");
    testutil_exec(c, "CREATE TABLE IF NOT EXISTS parent(id INTEGER PRIMARY KEY)");
    testutil_exec(c, "CREATE TABLE IF NOT EXISTS child(parent INTEGER REFERENCES parent(id) "
                     "DEFERRABLE INITIALLY DEFERRED)");
    sqlpool_release(c);
}

static void fixture_fini(fixture *fx) {
    if (fx->pool != NULL) sqlpool_close(fx->pool);
    testutil_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

static long long rows(sqlpool *pool, const char *where) {
    sqlpool_conn *c = NULL;
    char sql[160];
    long long n;
    assert_int_equal(sqlpool_acquire_read(pool, &c), SQLPOOL_OK);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE %s", where);
    n = testutil_query_int(c, sql);
    sqlpool_release(c);
    return n;
}

static int has_row(sqlpool *pool, int id) {
    char where[32];
    snprintf(where, sizeof where, "id = %d", id);
    return (int)rows(pool, where);
}

static void test_group_commit_one_commit_for_the_group(void **state) {
    fixture fx;
    writer ws[6];
    const what_t whats[6] = {DO_HOLD, DO_OK, DO_OK, DO_OK, DO_OK, DO_OK};
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx, 1, 16);
    fixture_open(&fx);
    run_group(fx.pool, ws, whats, 6);
    for (int i = 0; i < 6; i++) {
        if (ws[i].rc != 0) fail_msg("writer %d: %d %s", i, ws[i].rc, ws[i].msg);
        assert_int_equal(has_row(fx.pool, i + 1), 1);
    }
    st = testutil_stats(fx.pool);
    assert_int_equal(st.group_commits, 1);
    assert_int_equal(st.grouped, 6);
    /* Alone, a write commits alone: no group counted. */
    start(&ws[0], fx.pool, DO_OK, 100);
    assert_int_equal(pthread_join(ws[0].th, NULL), 0);
    assert_int_equal(ws[0].rc, 0);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.group_commits, 1);
    assert_int_equal(st.grouped, 6);
    assert_int_equal(rows(fx.pool, "1"), 7);
    fixture_fini(&fx);
}

/* group_commit caps the group: 5 writers with a cap of 2 make groups of 2, 2 and 1. */
static void test_group_commit_cap_on_group_size(void **state) {
    fixture fx;
    writer ws[5];
    const what_t whats[5] = {DO_HOLD, DO_OK, DO_OK, DO_OK, DO_OK};
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx, 1, 2);
    fixture_open(&fx);
    run_group(fx.pool, ws, whats, 5);
    for (int i = 0; i < 5; i++)
        if (ws[i].rc != 0) fail_msg("writer %d: %d %s", i, ws[i].rc, ws[i].msg);
    st = testutil_stats(fx.pool);
    assert_int_equal(st.group_commits, 2);
    assert_int_equal(st.grouped, 4);
    assert_int_equal(rows(fx.pool, "1"), 5);
    fixture_fini(&fx);
}

/* A member whose fn returns non-zero, or whose statement fails, loses its own work only. */
static void test_group_commit_failing_member_alone_undone(void **state) {
    fixture fx;
    writer ws[5];
    const what_t whats[5] = {DO_HOLD, DO_FAIL, DO_OK, DO_BAD_SQL, DO_OK};
    (void)state;
    fixture_init(&fx, 1, 16);
    fixture_open(&fx);
    run_group(fx.pool, ws, whats, 5);
    assert_int_equal(ws[0].rc, 0);
    assert_int_equal(ws[1].rc, -1);
    assert_int_equal(ws[2].rc, 0);
    assert_int_equal(ws[3].rc, -3);
    assert_int_equal(ws[4].rc, 0);
    assert_int_equal(has_row(fx.pool, 1), 1);
    assert_int_equal(has_row(fx.pool, 2), 0);
    assert_int_equal(has_row(fx.pool, 3), 1);
    assert_int_equal(has_row(fx.pool, 4), 0);
    assert_int_equal(has_row(fx.pool, 5), 1);
    assert_int_equal(testutil_stats(fx.pool).grouped, 3);
    fixture_fini(&fx);
}

/* fn's own ROLLBACK ends the members' before it: they are told, and nothing of theirs is
 * kept; the caller after it starts a new group. */
static void test_group_commit_rollback_in_fn_fails_earlier(void **state) {
    fixture fx;
    writer ws[4];
    const what_t whats[4] = {DO_HOLD, DO_OK, DO_ROLLBACK, DO_OK};
    (void)state;
    fixture_init(&fx, 1, 16);
    fixture_open(&fx);
    run_group(fx.pool, ws, whats, 4);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ws[i].rc, SQLPOOL_EBROKEN);
        if (strstr(ws[i].msg, "rolled back") == NULL ||
            strstr(ws[i].msg, "later transaction in the same group commit") == NULL)
            fail_msg("writer %d's message: '%s'", i, ws[i].msg);
    }
    assert_int_equal(ws[2].rc, -1);
    assert_int_equal(ws[3].rc, 0);
    assert_int_equal(rows(fx.pool, "1"), 1);
    assert_int_equal(has_row(fx.pool, 4), 1);
    fixture_fini(&fx);
}

/* fn's own COMMIT: the one before it is told its outcome is unknown; fn's own call is a
 * misuse, as without group_commit. */
static void test_group_commit_commit_in_fn_is_unknown(void **state) {
    fixture fx;
    writer ws[3];
    const what_t whats[3] = {DO_HOLD, DO_COMMIT, DO_OK};
    (void)state;
    fixture_init(&fx, 1, 16);
    fixture_open(&fx);
    run_group(fx.pool, ws, whats, 3);
    assert_int_equal(ws[0].rc, SQLPOOL_EBROKEN);
    if (strstr(ws[0].msg, "unknown") == NULL) fail_msg("the first's message: '%s'", ws[0].msg);
    assert_int_equal(ws[1].rc, SQLPOOL_EMISUSE);
    assert_int_equal(ws[2].rc, 0);
    assert_int_equal(has_row(fx.pool, 3), 1);
    fixture_fini(&fx);
}

/* A COMMIT that fails (a deferred foreign key broken by one member) fails them all. */
static void test_group_commit_failed_commit_fails_all(void **state) {
    fixture fx;
    writer ws[3];
    const what_t whats[3] = {DO_HOLD, DO_FK, DO_OK};
    (void)state;
    fixture_init(&fx, 1, 16);
    fixture_open(&fx);
    run_group(fx.pool, ws, whats, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ws[i].rc, SQLPOOL_EBROKEN);
        if (strstr(ws[i].msg, "could not commit") == NULL ||
            strstr(ws[i].msg, "FOREIGN KEY") == NULL)
            fail_msg("writer %d's message: '%s'", i, ws[i].msg);
    }
    assert_int_equal(rows(fx.pool, "1"), 0);
    /* The connection goes on: the next write commits. */
    start(&ws[0], fx.pool, DO_OK, 7);
    assert_int_equal(pthread_join(ws[0].th, NULL), 0);
    assert_int_equal(ws[0].rc, 0);
    assert_int_equal(has_row(fx.pool, 7), 1);
    fixture_fini(&fx);
}

/* A caller queued for a turn keeps acquire_timeout: it times out, its fn never runs. */
static void test_group_commit_deadline_in_queue(void **state) {
    fixture fx;
    writer hold, late;
    double t0, took;
    (void)state;
    fixture_init(&fx, 1, 16);
    fx.cfg.acquire_timeout = 0.2;
    fixture_open(&fx);
    start(&hold, fx.pool, DO_HOLD, 1);
    wait_flag(&hold.held);
    t0 = now_s();
    start(&late, fx.pool, DO_OK, 2);
    assert_int_equal(pthread_join(late.th, NULL), 0);
    took = now_s() - t0;
    atomic_store(&hold.release, 1);
    assert_int_equal(pthread_join(hold.th, NULL), 0);
    assert_int_equal(hold.rc, 0);
    assert_int_equal(late.rc, SQLPOOL_ETIMEDOUT);
    assert_int_equal(atomic_load(&late.ran), 0);
    if (took < 0.15 || took > 3.0) fail_msg("the queued write timed out after %.3f s", took);
    if (strstr(late.msg, "group commit") == NULL) fail_msg("its message: '%s'", late.msg);
    assert_true(testutil_stats(fx.pool).timeouts >= 1);
    assert_int_equal(has_row(fx.pool, 2), 0);
    fixture_fini(&fx);
}

static void *close_main(void *pool) {
    sqlpool_close(pool);
    return NULL;
}

/* sqlpool_close() while callers queue: the member at work commits, the queued get
 * SQLPOOL_ECLOSED and their fn never runs. */
static void test_group_commit_close_while_queued(void **state) {
    fixture fx;
    writer ws[3];
    sqlite3 *db;
    (void)state;
    fixture_init(&fx, 1, 16);
    fixture_open(&fx);
    start(&ws[0], fx.pool, DO_HOLD, 1);
    wait_flag(&ws[0].held);
    for (int i = 1; i < 3; i++) {
        start(&ws[i], fx.pool, DO_OK, i + 1);
        wait_flag(&ws[i].entered);
    }
    usleep(QUEUE_SETTLE_US);
    /* close() waits for the borrowed writer; let the holder go once close has begun. */
    {
        pthread_t closer;
        assert_int_equal(pthread_create(&closer, NULL, close_main, fx.pool), 0);
        usleep(100000);
        atomic_store(&ws[0].release, 1);
        assert_int_equal(pthread_join(closer, NULL), 0);
    }
    fx.pool = NULL;
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(ws[i].th, NULL), 0);
    assert_int_equal(ws[0].rc, 0);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(ws[i].rc, SQLPOOL_ECLOSED);
        assert_int_equal(atomic_load(&ws[i].ran), 0);
    }
    assert_int_equal(sqlite3_open(fx.path, &db), SQLITE_OK);
    {
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL), 0);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 1);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    fixture_fini(&fx);
}

/* sqlpool_write() from inside fn, the leader's or a later member's: as without
 * group_commit, it would wait for the writer its own group holds (nested_acquire FAIL:
 * SQLPOOL_EDEADLK at once); the outer transactions commit. */
static void test_group_commit_nested_write(void **state) {
    fixture fx;
    writer ws[3];
    const what_t whats[3] = {DO_HOLD, DO_NESTED, DO_OK};
    writer alone;
    (void)state;
    fixture_init(&fx, 1, 16);
    fx.cfg.nested_acquire = SQLPOOL_NESTED_FAIL;
    fixture_open(&fx);
    start(&alone, fx.pool, DO_NESTED, 50);
    assert_int_equal(pthread_join(alone.th, NULL), 0);
    assert_int_equal(alone.rc, 0);
    assert_int_equal(alone.nested_rc, SQLPOOL_EDEADLK);
    run_group(fx.pool, ws, whats, 3);
    for (int i = 0; i < 3; i++)
        if (ws[i].rc != 0) fail_msg("writer %d: %d %s", i, ws[i].rc, ws[i].msg);
    assert_int_equal(ws[1].nested_rc, SQLPOOL_EDEADLK);
    assert_int_equal(has_row(fx.pool, 9999), 0);
    assert_int_equal(rows(fx.pool, "1"), 4);
    fixture_fini(&fx);
}

/* A plain pool (no single_writer): the group's connection is any one of the pool's. */
static void test_group_commit_plain_pool(void **state) {
    fixture fx;
    writer ws[4];
    const what_t whats[4] = {DO_HOLD, DO_OK, DO_OK, DO_OK};
    (void)state;
    fixture_init(&fx, 0, 8);
    fixture_open(&fx);
    run_group(fx.pool, ws, whats, 4);
    for (int i = 0; i < 4; i++)
        if (ws[i].rc != 0) fail_msg("writer %d: %d %s", i, ws[i].rc, ws[i].msg);
    assert_int_equal(testutil_stats(fx.pool).grouped, 4);
    assert_int_equal(rows(fx.pool, "1"), 4);
    fixture_fini(&fx);
}

/* fork() while a group is under way in another thread: the child's write does not queue
 * behind the parent's group (which would time out): it starts afresh, and is refused at
 * once as any first connect to a file the parent has open (the pool's fork rule). */
static void test_group_commit_fork_child_starts_afresh(void **state) {
    fixture fx;
    writer hold;
    pid_t pid;
    int status = 0;
    (void)state;
    fixture_init(&fx, 1, 16);
    fx.cfg.acquire_timeout = 5;
    fixture_open(&fx);
    start(&hold, fx.pool, DO_HOLD, 1);
    wait_flag(&hold.held);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        writer w;
        double t0 = now_s();
        memset(&w, 0, sizeof w);
        w.pool = fx.pool;
        w.what = DO_OK;
        w.id = 2;
        (void)writer_main(&w);
        if (w.rc != SQLPOOL_ECONNECT || strstr(w.msg, "fork") == NULL || now_s() - t0 > 2) {
            fprintf(stderr, "child: sqlpool_write: %d after %.3f s: %s\n", w.rc, now_s() - t0,
                    w.msg);
            _exit(1);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    atomic_store(&hold.release, 1);
    assert_int_equal(pthread_join(hold.th, NULL), 0);
    assert_int_equal(hold.rc, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(has_row(fx.pool, 1), 1);
    assert_int_equal(has_row(fx.pool, 2), 0);
    fixture_fini(&fx);
}

/* 64 threads, 20% writes (sqlpool_write, group_commit 16) and reads (sqlpool_read), busy
 * timeout 0.2 s: no error, every committed row there and no other. */
#define MIX_THREADS 64
#define MIX_OPS 150

typedef struct mix_arg {
    sqlpool *pool;
    int thread;
    int committed, errors, last_rc;
    char msg[400];
    unsigned seed;
} mix_arg;

typedef struct mix_row {
    int thread, seq;
} mix_row;

static int mix_write_fn(sqlpool_conn *conn, void *ctx) {
    const mix_row *r = ctx;
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO t(id) VALUES(%d)", r->thread * 100000 + r->seq);
    return exec(conn, sql) == SQLITE_OK &&
                   exec(conn, "UPDATE parent SET id = id WHERE id = 1") == SQLITE_OK
               ? 0
               : -1;
}

static int mix_read_fn(sqlpool_conn *conn, void *ctx) {
    (void)ctx;
    return exec(conn, "SELECT count(*) FROM t") == SQLITE_OK ? 0 : -1;
}

static void *mix_main(void *p) {
    mix_arg *a = p;
    for (int i = 0; i < MIX_OPS; i++) {
        int rc;
        if (rand_r(&a->seed) % 5 == 0) {
            mix_row r = {a->thread, i};
            rc = sqlpool_write(a->pool, mix_write_fn, &r);
            if (rc == 0) a->committed++;
        } else {
            rc = sqlpool_read(a->pool, mix_read_fn, NULL);
        }
        if (rc != 0) {
            a->errors++;
            a->last_rc = rc;
            snprintf(a->msg, sizeof a->msg, "%s", sqlpool_errmsg());
        }
    }
    return NULL;
}

static void test_group_commit_mixed_64_threads(void **state) {
    fixture fx;
    pthread_t th[MIX_THREADS];
    mix_arg args[MIX_THREADS];
    long long committed = 0;
    sqlpool_stats st;
    (void)state;
    fixture_init(&fx, 1, 16);
    fx.cfg.connect_timeout = 0.2;
    fx.cfg.max_open = 16;
    fx.cfg.max_idle = 16;
    fixture_open(&fx);
    for (int i = 0; i < MIX_THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].pool = fx.pool;
        args[i].thread = i;
        args[i].seed = (unsigned)i * 7919u + 1u;
        assert_int_equal(pthread_create(&th[i], NULL, mix_main, &args[i]), 0);
    }
    for (int i = 0; i < MIX_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < MIX_THREADS; i++) {
        if (args[i].errors != 0)
            fail_msg("thread %d: %d errors, the last %d %s", i, args[i].errors, args[i].last_rc,
                     args[i].msg);
        committed += args[i].committed;
    }
    assert_int_equal(rows(fx.pool, "1"), committed);
    st = testutil_stats(fx.pool);
    assert_true(st.grouped >= 2 * st.group_commits);
    assert_true(st.grouped <= committed);
    fixture_fini(&fx);
}

static int fail_at_once_fn(sqlpool_conn *conn, void *ctx) {
    (void)conn;
    (void)ctx;
    return -1;
}

/* A write whose fn fails without touching the connection leaves no transaction open: the
 * next borrower's own autocommit INSERT is kept. */
static void test_group_commit_failed_alone_leaves_no_transaction(void **state) {
    fixture fx;
    sqlpool_conn *c;
    (void)state;
    fixture_init(&fx, 1, 16);
    fixture_open(&fx);
    assert_int_equal(sqlpool_write(fx.pool, fail_at_once_fn, NULL), -1);
    c = testutil_acquire(fx.pool);
    assert_int_equal(sqlite3_get_autocommit(sqlpool_conn_sqlite(c)), 1);
    testutil_exec(c, "INSERT INTO t(id) VALUES(77)");
    sqlpool_release(c);
    assert_int_equal(has_row(fx.pool, 77), 1);
    fixture_fini(&fx);
}

typedef struct nest_arg {
    sqlpool *pool;
    atomic_int entered;
    int rc;
} nest_arg;

static void *lead_main(void *p) {
    nest_arg *a = p;
    writer w;
    memset(&w, 0, sizeof w);
    w.pool = a->pool;
    w.what = DO_OK;
    w.id = 5;
    atomic_store(&a->entered, 1);
    a->rc = sqlpool_write(a->pool, writer_fn, &w);
    return NULL;
}

/* A thread that holds the writer (its own sqlpool_acquire()) and calls sqlpool_write() while
 * another's write leads a group and waits for that writer: nested_acquire sees it, as
 * without group_commit (SQLPOOL_EDEADLK at once), and the other's write then goes on. */
static void test_group_commit_nested_while_queued(void **state) {
    fixture fx;
    sqlpool_conn *held;
    pthread_t th;
    nest_arg a;
    writer w;
    double t0;
    (void)state;
    fixture_init(&fx, 1, 16);
    fx.cfg.nested_acquire = SQLPOOL_NESTED_FAIL;
    fx.cfg.acquire_timeout = 5;
    fixture_open(&fx);
    held = testutil_acquire(fx.pool);
    memset(&a, 0, sizeof a);
    a.pool = fx.pool;
    assert_int_equal(pthread_create(&th, NULL, lead_main, &a), 0);
    wait_flag(&a.entered);
    usleep(QUEUE_SETTLE_US); /* it leads, and waits for the writer we hold */
    memset(&w, 0, sizeof w);
    w.pool = fx.pool;
    w.what = DO_OK;
    w.id = 6;
    t0 = now_s();
    assert_int_equal(sqlpool_write(fx.pool, writer_fn, &w), SQLPOOL_EDEADLK);
    if (now_s() - t0 > 1.0) fail_msg("the nested write took %.3f s", now_s() - t0);
    sqlpool_release(held);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(a.rc, 0);
    assert_int_equal(has_row(fx.pool, 5), 1);
    assert_int_equal(has_row(fx.pool, 6), 0);
    fixture_fini(&fx);
}

static int fork_fn(sqlpool_conn *conn, void *ctx) {
    pid_t *pid = ctx;
    (void)conn;
    *pid = fork();
    return 0;
}

/* fn forks: in the child, sqlpool_write() returns (its connection is the parent's: a
 * misuse, as without group_commit), and the child's pool then closes at once. */
static void test_group_commit_fork_in_fn_child_closes(void **state) {
    fixture fx;
    pid_t pid = -1;
    int rc, status = 0;
    (void)state;
    fixture_init(&fx, 1, 16);
    fx.cfg.close_timeout = 5;
    fixture_open(&fx);
    rc = sqlpool_write(fx.pool, fork_fn, &pid);
    assert_true(pid >= 0);
    if (pid == 0) {
        double t0 = now_s();
        sqlpool_close(fx.pool);
        if (now_s() - t0 > 2.0) {
            fprintf(stderr, "child: sqlpool_close took %.3f s (rc %d)\n", now_s() - t0, rc);
            _exit(1);
        }
        _exit(0);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fixture_fini(&fx);
}

/* fn's positive return is its own: sqlpool_write() returns it, fn ran once, its row is
 * undone; alone, in a group, and from a thread that holds a connection of the pool (a plain
 * pool: it writes with another). */
static void test_group_commit_positive_return_runs_once(void **state) {
    fixture fx;
    writer ws[3];
    const what_t whats[3] = {DO_HOLD, DO_ONE, DO_OK};
    sqlpool_conn *held;
    (void)state;
    fixture_init(&fx, 0, 16);
    fixture_open(&fx);
    start(&ws[0], fx.pool, DO_ONE, 41);
    assert_int_equal(pthread_join(ws[0].th, NULL), 0);
    assert_int_equal(ws[0].rc, 1);
    assert_int_equal(atomic_load(&ws[0].ran), 1);
    run_group(fx.pool, ws, whats, 3);
    assert_int_equal(ws[0].rc, 0);
    assert_int_equal(ws[1].rc, 1);
    assert_int_equal(atomic_load(&ws[1].ran), 1);
    assert_int_equal(ws[2].rc, 0);
    held = testutil_acquire(fx.pool);
    memset(&ws[0], 0, sizeof ws[0]);
    ws[0].pool = fx.pool;
    ws[0].what = DO_ONE;
    ws[0].id = 43;
    (void)writer_main(&ws[0]);
    sqlpool_release(held);
    assert_int_equal(ws[0].rc, 1);
    assert_int_equal(atomic_load(&ws[0].ran), 1);
    assert_int_equal(has_row(fx.pool, 41), 0);
    assert_int_equal(has_row(fx.pool, 1), 1);
    assert_int_equal(has_row(fx.pool, 2), 0);
    assert_int_equal(has_row(fx.pool, 3), 1);
    assert_int_equal(has_row(fx.pool, 43), 0);
    fixture_fini(&fx);
}

static void test_group_commit_refusals(void **state) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    (void)state;
    sqlpool_config_init(&cfg);
    assert_int_equal(cfg.group_commit, 0);
    cfg.group_commit = -1;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "group_commit"));
    assert_null(pool);
    cfg.group_commit = 2;
    cfg.reserved1 = 1;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
    assert_non_null(strstr(sqlpool_errmsg(), "reserved1"));
    cfg.reserved1 = 0;
    if (sqlpool_has_postgresql()) {
        cfg.db = "postgresql://127.0.0.1:1/nothing";
        assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_EINVAL);
        assert_non_null(strstr(sqlpool_errmsg(), "group_commit is for SQLite"));
        assert_null(pool);
        cfg.group_commit = 1; /* each commits alone: nothing to refuse */
        cfg.connect_timeout = 0.2;
        cfg.min_idle = 0;
        if (sqlpool_open(&cfg, &pool) == SQLPOOL_OK) sqlpool_close(pool);
        pool = NULL;
    }
    /* ":memory:" takes it (one connection: nothing to share, but nothing wrong). */
    sqlpool_config_init(&cfg);
    cfg.group_commit = 4;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    {
        writer w;
        start(&w, pool, DO_FK, 0); /* no table: fn fails, rolled back alone */
        assert_int_equal(pthread_join(w.th, NULL), 0);
        assert_int_equal(w.rc, -1);
    }
    sqlpool_close(pool);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_group_commit_one_commit_for_the_group),
    cmocka_unit_test(test_group_commit_cap_on_group_size),
    cmocka_unit_test(test_group_commit_failing_member_alone_undone),
    cmocka_unit_test(test_group_commit_rollback_in_fn_fails_earlier),
    cmocka_unit_test(test_group_commit_commit_in_fn_is_unknown),
    cmocka_unit_test(test_group_commit_failed_commit_fails_all),
    cmocka_unit_test(test_group_commit_deadline_in_queue),
    cmocka_unit_test(test_group_commit_close_while_queued),
    cmocka_unit_test(test_group_commit_nested_write),
    cmocka_unit_test(test_group_commit_plain_pool),
    cmocka_unit_test(test_group_commit_fork_child_starts_afresh),
    cmocka_unit_test(test_group_commit_mixed_64_threads),
    cmocka_unit_test(test_group_commit_failed_alone_leaves_no_transaction),
    cmocka_unit_test(test_group_commit_nested_while_queued),
    cmocka_unit_test(test_group_commit_fork_in_fn_child_closes),
    cmocka_unit_test(test_group_commit_positive_return_runs_once),
    cmocka_unit_test(test_group_commit_refusals),
};

SQLPOOL_TEST_MAIN(tests)
