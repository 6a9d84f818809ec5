/*
 * bench_async.c: an event loop on one thread serving many concurrent requests through a pool
 * of 4 connections, three ways, in the same run (issue 16):
 *
 *   async    the loop asks with sqlpool_acquire_async(), watches sqlpool_event_fd() with
 *            epoll, runs the callbacks with sqlpool_dispatch(), and in each callback runs
 *            the query on the borrowed connection and gives it back with
 *            sqlpool_release_async(). SQLite: SELECT 1 (sqlpool_conn_prepare + sqlite3_step,
 *            on the loop's thread, as such a program would); PostgreSQL: SELECT 1 with
 *            PQsendQueryParams(), its PQsocket() watched by the same epoll, the result read
 *            when it is readable.
 *   helper   the baseline: the loop hands each request to a small pool of helper threads
 *            (one per connection), which call the blocking sqlpool_acquire(), run the same
 *            query (PostgreSQL: PQexecParams on sqlpool_conn_pg()), sqlpool_release(), and
 *            post the completion back to the loop through a queue and an eventfd.
 *   async-rel   async, but the callback gives the connection back with the blocking
 *            sqlpool_release() on the loop's thread: what the job threads' hop in
 *            sqlpool_release_async() costs. (Not what the header recommends: a release may
 *            roll back, or run config.pg_reset_query, on the calling thread; this query
 *            leaves no transaction and no reset query is set, so here it never does.)
 *
 * The loop keeps CONCURRENCY requests outstanding (each completion starts the next) until
 * TOTAL have completed, from a cold pool (min_idle 0: the connects are part of the run).
 * Reported for each: requests per second, and the loop thread's stalls: every call the loop
 * makes into the request machinery is timed on its own. For async that is each sqlpool_*
 * call (acquire_async, release_async, conn_prepare / conn_pg, and sqlpool_dispatch without
 * the callbacks it runs: the time from its entry to the first callback, between callbacks,
 * and from the last to its return, each a stall of its own); for helper, each hand-off (a
 * queue push and a condition signal) and each drain of the completions (the eventfd read and
 * the queue's pop). p99.9 and p100 (the longest single one) over all of them, and the
 * longest by kind. The query itself (sqlite3_step, libpq's calls) is not a pool call; its
 * longest single call is printed beside, for scale.
 *
 * Rounds rotate the models (which goes first, too), each run on a fresh pool. --why US
 * classifies each loop call of US microseconds or more by the context switches the loop's
 * thread had in it: preempted (involuntary: the scheduler ran another thread) or slept
 * (voluntary: it waited, on a lock or a condition variable, for another thread).
 *
 * Usage: bench_async [-n TOTAL] [-c CONCURRENCY] [-C CONNECTIONS] [-t HELPERS] [-r ROUNDS]
 *                    [-m MODEL,...] [--why US] [--db SQLITE_PATH] [--pg URL]
 *                    [--no-sqlite]
 *   MODEL: async, helper, async-rel (default all three)
 *   defaults: TOTAL 100000 (30000 on PostgreSQL), CONCURRENCY 1000, CONNECTIONS 4,
 *   HELPERS = CONNECTIONS, ROUNDS 3, a fresh SQLite file in $TMPDIR; PostgreSQL runs when
 *   --pg URL is given or SQLPOOL_TEST_PG is set (scripts/with-pg.sh).
 *
 * Figures only, with RESULT lines for scripts: nothing here passes or fails on time.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <sqlpool.h>

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef BENCH_HAVE_PG
#include <libpq-fe.h>
#endif

#define MAX_ROUNDS 20

static void die(const char *what, const char *why) {
    (void)fprintf(stderr, "bench_async: %s: %s\n", what, why);
    exit(1);
}

static void check(int rc, const char *what) {
    if (rc != SQLPOOL_OK) die(what, sqlpool_errmsg());
}

static int64_t now_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the loop's stalls: one sample per call, by kind ---- */

enum {
    K_ACQUIRE,          /* sqlpool_acquire_async */
    K_DISPATCH,         /* sqlpool_dispatch, callbacks excluded (each stretch of its own) */
    K_RELEASE,          /* sqlpool_release_async (async-rel: sqlpool_release) */
    K_CONN,             /* sqlpool_conn_prepare / sqlpool_conn_pg */
    K_HANDOFF,          /* helper model: a request handed to the helpers */
    K_DRAIN,            /* helper model: the completions taken back */
    K_STALLS,           /* the kinds above are the loop's calls into the machinery */
    K_QUERY = K_STALLS, /* not a pool call: sqlite3_step / a libpq call, for scale */
    NKINDS
};
static const char *const kind_name[NKINDS] = {
    "sqlpool_acquire_async", "sqlpool_dispatch",    "sqlpool_release[_async]", "sqlpool_conn_*",
    "hand-off (push)",       "completions (drain)", "query (not a pool call)"};

static const char *const kind_key[NKINDS] = {"acquire", "dispatch", "release", "conn",
                                             "handoff", "drain",    "query"};

typedef struct samples {
    uint32_t *v; /* nanoseconds */
    size_t n, cap;
} samples;
static samples kinds[NKINDS];
static void why_note(int kind, int64_t ns);

static void add(int kind, int64_t ns) {
    samples *s = &kinds[kind];
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (s->v == NULL) die("samples", "out of memory");
    }
    s->v[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
    why_note(kind, ns);
}

/* --why: each call's voluntary and involuntary context switches (getrusage, two system
 * calls a call: figures from such a run are slower), to say of each long one whether the
 * loop slept in it (waited for another thread) or was preempted (the scheduler ran another
 * thread, often the job thread the call had just woken). */
static int64_t why_us;            /* 0: off; else calls this long or longer are classified */
static struct rusage why_ru;      /* at the start of the current call */
static long why_count[NKINDS][4]; /* none, preempted only, slept only, both */

static int64_t t_begin(void) {
    if (why_us > 0) (void)getrusage(RUSAGE_THREAD, &why_ru);
    return now_ns();
}

static void why_note(int kind, int64_t ns) {
    struct rusage ru;
    int preempted, slept;
    if (why_us <= 0 || ns < why_us * 1000) return;
    (void)getrusage(RUSAGE_THREAD, &ru);
    preempted = ru.ru_nivcsw > why_ru.ru_nivcsw;
    slept = ru.ru_nvcsw > why_ru.ru_nvcsw;
    why_count[kind][preempted + 2 * slept]++;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t max_of(const samples *s) {
    uint32_t m = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] > m) m = s->v[i];
    return m;
}

/* ---- one run's state (the loop's thread only, but for the helpers' queues) ---- */

typedef struct run {
    const char *db;
    int pg;
    long total, started, done;
    int concurrency, conns, helpers;
    int models;       /* bits: 1 << model */
    int sync_release; /* async-rel: sqlpool_release() on the loop */
    sqlpool *pool;
    int ep; /* the loop's epoll */
    /* helper model */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long *todo, todo_head, todo_tail; /* ring of concurrency slots */
    long *fin, fin_head, fin_tail;
    int efd, stop;
    pthread_t th[64];
} run;

static sqlpool *open_pool(const run *R) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_config_init(&cfg);
    cfg.db = R->db;
    cfg.max_open = R->conns;
    cfg.max_idle = R->conns;
    cfg.name = "bench_async";
    check(sqlpool_open(&cfg, &pool), "sqlpool_open");
    return pool;
}

/* SELECT 1 on a borrowed SQLite connection; the prepare (from the connection's cache) is a
 * pool call, timed when on the loop. */
static void sqlite_select1(sqlpool_conn *conn, int on_loop) {
    sqlite3_stmt *st = NULL;
    int64_t t0 = on_loop ? t_begin() : 0;
    check(sqlpool_conn_prepare(conn, "SELECT 1", &st), "sqlpool_conn_prepare");
    if (on_loop) add(K_CONN, now_ns() - t0);
    t0 = on_loop ? t_begin() : 0;
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1)
        die("SELECT 1", sqlite3_errmsg(sqlite3_db_handle(st)));
    (void)sqlite3_reset(st);
    if (on_loop) add(K_QUERY, now_ns() - t0);
}

/* ---- async: sqlpool_acquire_async + dispatch on the loop ---- */

/* Where sqlpool_dispatch's current stretch of pool code began (callbacks cut it). */
static int64_t stretch_t0;

static void issue(run *R);

static void finish_async(run *R, sqlpool_conn *conn) {
    int64_t t0 = t_begin();
    if (R->sync_release)
        sqlpool_release(conn);
    else
        sqlpool_release_async(conn);
    add(K_RELEASE, now_ns() - t0);
    R->done++;
    if (R->started < R->total) issue(R);
}

#ifdef BENCH_HAVE_PG
/* A query in flight on a borrowed PostgreSQL connection, watched by the loop's epoll. */
typedef struct pg_query {
    run *R;
    sqlpool_conn *conn;
    PGconn *pg;
    int fd, want_out;
} pg_query;

static void pg_watch(pg_query *q, int op) {
    struct epoll_event ev = {.events = EPOLLIN | (q->want_out ? EPOLLOUT : 0), .data.ptr = q};
    if (epoll_ctl(q->R->ep, op, q->fd, &ev) != 0) die("epoll_ctl", strerror(errno));
}

static void pg_start(run *R, sqlpool_conn *conn) {
    pg_query *q = malloc(sizeof *q);
    int64_t t0 = t_begin();
    int fl;
    if (q == NULL) die("pg_start", "out of memory");
    q->R = R;
    q->conn = conn;
    q->pg = sqlpool_conn_pg(conn);
    add(K_CONN, now_ns() - t0);
    if (q->pg == NULL) die("sqlpool_conn_pg", sqlpool_errmsg());
    t0 = t_begin();
    if (PQsetnonblocking(q->pg, 1) != 0 ||
        !PQsendQueryParams(q->pg, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0))
        die("PQsendQueryParams", PQerrorMessage(q->pg));
    fl = PQflush(q->pg);
    add(K_QUERY, now_ns() - t0);
    if (fl < 0) die("PQflush", PQerrorMessage(q->pg));
    q->fd = PQsocket(q->pg);
    q->want_out = fl == 1;
    pg_watch(q, EPOLL_CTL_ADD);
}

/* The socket is ready: send what is left, read what came; at the last result, give the
 * connection back (blocking mode again, as the pool expects it). */
static void pg_event(pg_query *q, uint32_t events) {
    run *R = q->R;
    int64_t t0 = t_begin();
    int done = 0;
    if (events & EPOLLOUT) {
        int fl = PQflush(q->pg);
        if (fl < 0) die("PQflush", PQerrorMessage(q->pg));
        if (fl == 0) {
            q->want_out = 0;
            pg_watch(q, EPOLL_CTL_MOD);
        }
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (!PQconsumeInput(q->pg)) die("PQconsumeInput", PQerrorMessage(q->pg));
        while (!PQisBusy(q->pg)) {
            PGresult *res = PQgetResult(q->pg);
            if (res == NULL) {
                done = 1;
                break;
            }
            if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
                die("SELECT 1", PQerrorMessage(q->pg));
            PQclear(res);
        }
    }
    add(K_QUERY, now_ns() - t0);
    if (!done) return;
    if (epoll_ctl(R->ep, EPOLL_CTL_DEL, q->fd, NULL) != 0) die("epoll_ctl", strerror(errno));
    (void)PQsetnonblocking(q->pg, 0);
    finish_async(R, q->conn);
    free(q);
}
#endif

static void ready(int rc, sqlpool_conn *conn, void *ctx) {
    run *R = ctx;
    add(K_DISPATCH, now_ns() - stretch_t0);
    if (rc != SQLPOOL_OK) die("sqlpool_acquire_async callback", sqlpool_strerror(rc));
#ifdef BENCH_HAVE_PG
    if (R->pg) {
        pg_start(R, conn);
        stretch_t0 = t_begin();
        return;
    }
#endif
    sqlite_select1(conn, 1);
    finish_async(R, conn);
    stretch_t0 = t_begin();
}

static void issue(run *R) {
    int64_t t0 = t_begin();
    int rc = sqlpool_acquire_async(R->pool, SQLPOOL_DEADLINE_DEFAULT, ready, R, NULL);
    add(K_ACQUIRE, now_ns() - t0);
    check(rc, "sqlpool_acquire_async");
    R->started++;
}

static void loop_async(run *R) {
    struct epoll_event evs[64];
    int64_t t0 = t_begin();
    int fd = sqlpool_event_fd(R->pool);
    add(K_ACQUIRE, now_ns() - t0); /* its first call makes the fd: counted with the asks */
    if (fd < 0) die("sqlpool_event_fd", sqlpool_errmsg());
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(R->ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl", strerror(errno));
    while (R->started < R->total && R->started < R->concurrency)
        issue(R);
    while (R->done < R->total) {
        int n = epoll_wait(R->ep, evs, 64, 5000);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("epoll_wait", n == 0 ? "nothing for 5 s" : strerror(errno));
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                stretch_t0 = t_begin();
                if (sqlpool_dispatch(R->pool) < 0) die("sqlpool_dispatch", sqlpool_errmsg());
                add(K_DISPATCH, now_ns() - stretch_t0);
            }
#ifdef BENCH_HAVE_PG
            else {
                pg_event(evs[i].data.ptr, evs[i].events);
            }
#endif
        }
    }
    (void)epoll_ctl(R->ep, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- helper: blocking sqlpool_acquire on helper threads ---- */

static void *helper_main(void *arg) {
    run *R = arg;
    for (;;) {
        sqlpool_conn *conn = NULL;
        long id;
        int was_empty;
        if (pthread_mutex_lock(&R->mu) != 0) abort();
        while (R->todo_head == R->todo_tail && !R->stop)
            if (pthread_cond_wait(&R->cv, &R->mu) != 0) abort();
        if (R->todo_head == R->todo_tail) { /* stopped, nothing left */
            if (pthread_mutex_unlock(&R->mu) != 0) abort();
            return NULL;
        }
        id = R->todo[R->todo_head++ % R->concurrency];
        if (pthread_mutex_unlock(&R->mu) != 0) abort();

        check(sqlpool_acquire(R->pool, &conn), "sqlpool_acquire");
#ifdef BENCH_HAVE_PG
        if (R->pg) {
            PGconn *pg = sqlpool_conn_pg(conn);
            PGresult *res = PQexecParams(pg, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
                die("SELECT 1", PQerrorMessage(pg));
            PQclear(res);
        } else
#endif
            sqlite_select1(conn, 0);
        sqlpool_release(conn);

        if (pthread_mutex_lock(&R->mu) != 0) abort();
        was_empty = R->fin_head == R->fin_tail;
        R->fin[R->fin_tail++ % R->concurrency] = id;
        if (pthread_mutex_unlock(&R->mu) != 0) abort();
        if (was_empty) { /* the loop drains all it finds: one wake-up per empty queue */
            uint64_t one = 1;
            if (write(R->efd, &one, sizeof one) != sizeof one) die("eventfd", strerror(errno));
        }
    }
}

static void hand_off(run *R) {
    int64_t t0 = t_begin();
    if (pthread_mutex_lock(&R->mu) != 0) abort();
    R->todo[R->todo_tail++ % R->concurrency] = R->started;
    if (pthread_cond_signal(&R->cv) != 0) abort();
    if (pthread_mutex_unlock(&R->mu) != 0) abort();
    add(K_HANDOFF, now_ns() - t0);
    R->started++;
}

static void loop_helper(run *R) {
    struct epoll_event evs[4];
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    R->todo = calloc((size_t)R->concurrency, sizeof *R->todo);
    R->fin = calloc((size_t)R->concurrency, sizeof *R->fin);
    if (R->todo == NULL || R->fin == NULL) die("helper", "out of memory");
    R->todo_head = R->todo_tail = R->fin_head = R->fin_tail = 0;
    R->stop = 0;
    if (pthread_mutex_init(&R->mu, NULL) != 0 || pthread_cond_init(&R->cv, NULL) != 0) abort();
    R->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (R->efd < 0) die("eventfd", strerror(errno));
    if (epoll_ctl(R->ep, EPOLL_CTL_ADD, R->efd, &ev) != 0) die("epoll_ctl", strerror(errno));
    for (int i = 0; i < R->helpers; i++)
        if (pthread_create(&R->th[i], NULL, helper_main, R) != 0) die("pthread_create", "");

    while (R->started < R->total && R->started < R->concurrency)
        hand_off(R);
    while (R->done < R->total) {
        int n = epoll_wait(R->ep, evs, 4, 5000);
        long got;
        uint64_t v;
        int64_t t0;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("epoll_wait", n == 0 ? "nothing for 5 s" : strerror(errno));
        t0 = t_begin();
        (void)!read(R->efd, &v, sizeof v);
        if (pthread_mutex_lock(&R->mu) != 0) abort();
        got = R->fin_tail - R->fin_head;
        R->fin_head = R->fin_tail; /* the ids themselves are not needed */
        if (pthread_mutex_unlock(&R->mu) != 0) abort();
        add(K_DRAIN, now_ns() - t0);
        for (long i = 0; i < got; i++) {
            R->done++;
            if (R->started < R->total) hand_off(R);
        }
    }

    if (pthread_mutex_lock(&R->mu) != 0) abort();
    R->stop = 1;
    if (pthread_cond_broadcast(&R->cv) != 0) abort();
    if (pthread_mutex_unlock(&R->mu) != 0) abort();
    for (int i = 0; i < R->helpers; i++)
        (void)pthread_join(R->th[i], NULL);
    (void)epoll_ctl(R->ep, EPOLL_CTL_DEL, R->efd, NULL);
    (void)close(R->efd);
    (void)pthread_cond_destroy(&R->cv);
    (void)pthread_mutex_destroy(&R->mu);
    free(R->todo);
    free(R->fin);
}

/* ---- rounds and the table ---- */

typedef struct result {
    double rps, p999_us, p100_us, query_max_us;
    long calls;
    int worst_kind;
    double kind_max_us[NKINDS];
    long why[NKINDS][4];
} result;

enum { M_ASYNC, M_HELPER, M_ASYNC_REL, NMODELS };
static const char *const model_name[NMODELS] = {"async", "helper", "async-rel"};

static result one(const run *base, int model) {
    run R = *base;
    result out;
    samples all = {0};
    sqlpool_stats st;
    int64_t t0, t1;
    for (int k = 0; k < NKINDS; k++)
        kinds[k].n = 0;
    memset(why_count, 0, sizeof why_count);
    R.started = R.done = 0;
    R.sync_release = model == M_ASYNC_REL;
    R.ep = epoll_create1(EPOLL_CLOEXEC);
    if (R.ep < 0) die("epoll_create1", strerror(errno));
    R.pool = open_pool(&R);
    t0 = now_ns();
    if (model == M_HELPER)
        loop_helper(&R);
    else
        loop_async(&R);
    t1 = now_ns();
    sqlpool_stats_get(R.pool, &st);
    if (st.timeouts != 0) die("run", "an acquire timed out");
    sqlpool_close(R.pool);
    (void)close(R.ep);

    memset(&out, 0, sizeof out);
    out.rps = (double)R.total / ((double)(t1 - t0) * 1e-9);
    for (int k = 0; k < NKINDS; k++)
        out.kind_max_us[k] = max_of(&kinds[k]) / 1e3;
    for (int k = 0; k < K_STALLS; k++)
        all.cap += kinds[k].n;
    all.v = malloc((all.cap ? all.cap : 1) * sizeof *all.v);
    if (all.v == NULL) die("samples", "out of memory");
    for (int k = 0; k < K_STALLS; k++) {
        memcpy(all.v + all.n, kinds[k].v, kinds[k].n * sizeof *all.v);
        all.n += kinds[k].n;
        if (out.kind_max_us[k] > out.kind_max_us[out.worst_kind]) out.worst_kind = k;
    }
    qsort(all.v, all.n, sizeof *all.v, cmp_u32);
    out.calls = (long)all.n;
    if (all.n > 0) {
        size_t i999 = (size_t)((double)all.n * 0.999);
        out.p999_us = all.v[i999 < all.n ? i999 : all.n - 1] / 1e3;
        out.p100_us = all.v[all.n - 1] / 1e3;
    }
    out.query_max_us = out.kind_max_us[K_QUERY];
    memcpy(out.why, why_count, sizeof out.why);
    free(all.v);
    return out;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_row(const char *backend, const char *model, int round, const result *r) {
    printf("%-10s %-9s %5d %12.0f %10ld %11.1f %11.1f  %-24s %11.1f\n", backend, model, round,
           r->rps, r->calls, r->p999_us, r->p100_us, kind_name[r->worst_kind], r->query_max_us);
}

static void bench(const run *R, const char *backend, int rounds) {
    result res[NMODELS][MAX_ROUNDS];
    const char *const *model = model_name;
    printf("\n== %s: %ld requests, %d outstanding, %d connections, one loop thread; helper "
           "model: %d helper threads ==\n",
           backend, R->total, R->concurrency, R->conns, R->helpers);
    printf("%-10s %-9s %5s %12s %10s %11s %11s  %-24s %11s\n", "backend", "model", "round", "req/s",
           "loop calls", "stall p99.9", "stall p100", "longest in", "query max");
    printf("%-10s %-9s %5s %12s %10s %11s %11s  %-24s %11s\n", "", "", "", "", "", "us", "us", "",
           "us");
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < NMODELS; i++) {
            int m = (i + r) % NMODELS; /* rotate which goes first */
            if (!(R->models & (1 << m))) continue;
            res[m][r] = one(R, m);
            print_row(backend, model[m], r + 1, &res[m][r]);
            (void)fflush(stdout);
        }
    for (int m = 0; m < NMODELS; m++) {
        if (!(R->models & (1 << m))) continue;
        double rps[MAX_ROUNDS], p999[MAX_ROUNDS], p100 = 0, kmax[NKINDS] = {0};
        for (int r = 0; r < rounds; r++) {
            rps[r] = res[m][r].rps;
            p999[r] = res[m][r].p999_us;
            if (res[m][r].p100_us > p100) p100 = res[m][r].p100_us;
            for (int k = 0; k < NKINDS; k++)
                if (res[m][r].kind_max_us[k] > kmax[k]) kmax[k] = res[m][r].kind_max_us[k];
        }
        printf("RESULT bench_async backend=%s model=%s rounds=%d req_per_s_median=%.0f "
               "stall_p999_us_median=%.1f stall_p100_us_max=%.1f",
               backend, model[m], rounds, median(rps, rounds), median(p999, rounds), p100);
        for (int k = 0; k < NKINDS; k++)
            if (kmax[k] > 0) printf(" max_us_%s=%.1f", kind_key[k], kmax[k]);
        printf("\n");
        if (why_us > 0) {
            long w[NKINDS][4] = {{0}};
            for (int r = 0; r < rounds; r++)
                for (int k = 0; k < NKINDS; k++)
                    for (int c = 0; c < 4; c++)
                        w[k][c] += res[m][r].why[k][c];
            printf("  %s: loop calls of %lld us or more, all rounds (--why):\n", model[m],
                   (long long)why_us);
            int none = 1;
            for (int k = 0; k < NKINDS; k++) {
                long n = w[k][0] + w[k][1] + w[k][2] + w[k][3];
                if (n == 0) continue;
                none = 0;
                printf("    %-24s %6ld: preempted %ld, slept (waited) %ld, both %ld, neither %ld\n",
                       kind_name[k], n, w[k][1], w[k][2], w[k][3], w[k][0]);
            }
            if (none) printf("    none\n");
        }
    }
}

/* "async,helper": a comma-separated list of models; 0 for a name that is none. */
static int parse_models(const char *v) {
    int bits = 0;
    while (*v != '\0') {
        size_t len = strcspn(v, ",");
        int m = 0;
        while (m < NMODELS &&
               !(strlen(model_name[m]) == len && strncmp(v, model_name[m], len) == 0))
            m++;
        if (m == NMODELS) return 0;
        bits |= 1 << m;
        v += len + (v[len] == ',');
    }
    return bits;
}

int main(int argc, char **argv) {
    run R;
    long total = 0;
    int rounds = 3, helpers = 0, sqlite = 1, models = (1 << NMODELS) - 1;
    const char *pg = getenv("SQLPOOL_TEST_PG"), *db = NULL;
    char path[512], dir[256];
    memset(&R, 0, sizeof R);
    R.concurrency = 1000;
    R.conns = 4;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-sqlite") == 0) {
            sqlite = 0;
            continue;
        }
        if (v == NULL) goto usage;
        if (strcmp(a, "-n") == 0)
            total = atol(v);
        else if (strcmp(a, "-c") == 0)
            R.concurrency = atoi(v);
        else if (strcmp(a, "-C") == 0)
            R.conns = atoi(v);
        else if (strcmp(a, "-t") == 0)
            helpers = atoi(v);
        else if (strcmp(a, "-r") == 0)
            rounds = atoi(v);
        else if (strcmp(a, "--db") == 0)
            db = v;
        else if (strcmp(a, "--pg") == 0)
            pg = v;
        else if (strcmp(a, "--why") == 0)
            why_us = atol(v);
        else if (strcmp(a, "-m") == 0)
            models = parse_models(v);
        else
            goto usage;
        i++;
    }
    R.helpers = helpers > 0 ? helpers : R.conns;
    R.models = models;
    if (models == 0 || R.concurrency < 1 || R.conns < 1 || R.helpers > 64 || rounds < 1 ||
        rounds > MAX_ROUNDS || total < 0)
        goto usage;

    printf("bench_async: sqlpool %s, SQLite %s\n", sqlpool_version(), sqlite3_libversion());
    if (sqlite) {
        if (db == NULL) {
            const char *tmp = getenv("TMPDIR");
            (void)snprintf(dir, sizeof dir, "%s/bench_async.XXXXXX", tmp ? tmp : "/tmp");
            if (mkdtemp(dir) == NULL) die("mkdtemp", strerror(errno));
            (void)snprintf(path, sizeof path, "%s/a.db", dir);
            db = path;
        }
        R.db = db;
        R.pg = 0;
        R.total = total ? total : 100000;
        bench(&R, "sqlite", rounds);
        if (db == path) {
            (void)unlink(path);
            (void)rmdir(dir);
        }
    }
    if (pg != NULL && *pg != '\0') {
#ifdef BENCH_HAVE_PG
        R.db = pg;
        R.pg = 1;
        R.total = total ? total : 30000;
        bench(&R, "postgresql", rounds);
#else
        (void)fprintf(stderr, "bench_async: built without libpq: PostgreSQL skipped\n");
#endif
    }
    return 0;
usage:
    (void)fprintf(stderr, "usage: bench_async [-n TOTAL] [-c CONCURRENCY] [-C CONNECTIONS] "
                          "[-t HELPERS] [-r ROUNDS] [-m MODEL,...] [--why US] [--db PATH] "
                          "[--pg URL] [--no-sqlite]\n");
    return 64;
}
