/*
 * bench_acquire.c: what one sqlpool_acquire + sqlpool_release costs on one thread, set
 * against the floor any pool pays, a bare pthread_mutex_lock/unlock pair around a little
 * bookkeeping. Both are measured in the same process, interleaved, over several rounds
 * (alternating which goes first); the medians are reported. A second pool with
 * config.on_acquire and on_release set to empty functions, measured in the same rounds,
 * gives the hooks' extra cost per cycle. Figures only: nothing here passes or fails on time.
 *
 * Usage: bench_acquire [iterations per round, default 5000000] [rounds, default 7]
 */
#include <sqlpool.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUNDS 99

static pthread_mutex_t baseline_lock = PTHREAD_MUTEX_INITIALIZER;
/* volatile: the critical section's bookkeeping must happen, as a pool's does. */
static volatile long baseline_counter;

static double now_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void check(int rc, const char *what) {
    if (rc == SQLPOOL_OK) return;
    (void)fprintf(stderr, "bench_acquire: %s: %s (%s)\n", what, sqlpool_strerror(rc),
                  sqlpool_errmsg());
    exit(1);
}

static double time_mutex_pair(long n) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if (pthread_mutex_lock(&baseline_lock) != 0) abort();
        baseline_counter = baseline_counter + 1;
        if (pthread_mutex_unlock(&baseline_lock) != 0) abort();
    }
    return (now_ns() - t0) / (double)n;
}

static double time_acquire_release(sqlpool *pool, long n) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        sqlpool_conn *conn;
        check(sqlpool_acquire(pool, &conn), "acquire");
        sqlpool_release(conn);
    }
    return (now_ns() - t0) / (double)n;
}

/* No statement cache in the library yet: prepare, step and finalize on every use. */
static double time_acquire_select1(sqlpool *pool, long n) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        sqlpool_conn *conn;
        sqlite3_stmt *stmt = NULL;
        sqlite3 *db;
        check(sqlpool_acquire(pool, &conn), "acquire");
        db = sqlpool_conn_sqlite(conn);
        if (sqlite3_prepare_v2(db, "SELECT 1", -1, &stmt, NULL) != SQLITE_OK ||
            sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_int(stmt, 0) != 1) {
            (void)fprintf(stderr, "bench_acquire: SELECT 1: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        (void)sqlite3_finalize(stmt);
        sqlpool_release(conn);
    }
    return (now_ns() - t0) / (double)n;
}

/* The hooks at their cheapest: what a program pays for having them at all. */
static int empty_hook(sqlpool_conn *conn, void *ctx) {
    (void)conn;
    (void)ctx;
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct series {
    const char *name;
    double v[MAX_ROUNDS];
    double median, min, max;
} series;

static void summarise(series *s, int rounds) {
    double sorted[MAX_ROUNDS];
    for (int i = 0; i < rounds; i++)
        sorted[i] = s->v[i];
    qsort(sorted, (size_t)rounds, sizeof sorted[0], cmp_double);
    s->min = sorted[0];
    s->max = sorted[rounds - 1];
    s->median =
        rounds % 2 ? sorted[rounds / 2] : (sorted[rounds / 2 - 1] + sorted[rounds / 2]) / 2.0;
}

static void *idle_thread(void *arg) {
    return arg;
}

/* One full measurement: rounds of the four timings, interleaved; medians in the series. */
static void measure(sqlpool *pool, sqlpool *hooked_pool, long n, int rounds, series *mutex,
                    series *pooled, series *select1, series *hooked) {
    long n_select = n / 20 > 0 ? n / 20 : 1;
    /* Warm up: open the connection, fault in the code and the caches. */
    (void)time_mutex_pair(n / 10 + 1);
    (void)time_acquire_release(pool, n / 10 + 1);
    (void)time_acquire_release(hooked_pool, n / 10 + 1);
    (void)time_acquire_select1(pool, n_select / 10 + 1);
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            mutex->v[r] = time_mutex_pair(n);
            pooled->v[r] = time_acquire_release(pool, n);
            hooked->v[r] = time_acquire_release(hooked_pool, n);
        } else {
            hooked->v[r] = time_acquire_release(hooked_pool, n);
            pooled->v[r] = time_acquire_release(pool, n);
            mutex->v[r] = time_mutex_pair(n);
        }
        select1->v[r] = time_acquire_select1(pool, n_select);
    }
    summarise(mutex, rounds);
    summarise(pooled, rounds);
    summarise(select1, rounds);
    summarise(hooked, rounds);
}

static void print_table(const char *title, const series *mutex, const series *pooled,
                        const series *select1, const series *hooked) {
    printf("%s\n", title);
    printf("  %-54s %9s %9s %9s %7s\n", "operation", "median ns", "min ns", "max ns", "x mutex");
    for (int i = 0; i < 4; i++) {
        const series *s = i == 0 ? mutex : i == 1 ? pooled : i == 2 ? hooked : select1;
        printf("  %-54s %9.1f %9.1f %9.1f %7.2f\n", s->name, s->median, s->min, s->max,
               s->median / mutex->median);
    }
    printf("  the two empty hooks add %.1f ns per acquire+release cycle\n",
           hooked->median - pooled->median);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 5000000L;
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    series st[4] = {{"pthread_mutex_lock+unlock (baseline)", {0}, 0, 0, 0},
                    {"sqlpool_acquire+release", {0}, 0, 0, 0},
                    {"acquire + SELECT 1 (prepare/step/finalize) + release", {0}, 0, 0, 0},
                    {"acquire+release, empty on_acquire/on_release", {0}, 0, 0, 0}};
    series mt[4];
    sqlpool_config cfg;
    sqlpool *pool, *hooked;
    pthread_t t;

    if (n < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        (void)fprintf(stderr, "usage: bench_acquire [iterations >= 1] [rounds 1..%d]\n",
                      MAX_ROUNDS);
        return 2;
    }
    memcpy(mt, st, sizeof mt);
    sqlpool_config_init(&cfg); /* ":memory:", ping_on_release 0, no log */
    check(sqlpool_open(&cfg, &pool), "open");
    cfg.on_acquire = empty_hook;
    cfg.on_release = empty_hook;
    check(sqlpool_open(&cfg, &hooked), "open (hooks)");

    printf("bench_acquire: one thread, %d rounds, %ld iterations per round (%ld for SELECT 1)\n",
           rounds, n, n / 20 > 0 ? n / 20 : 1);
    measure(pool, hooked, n, rounds, &st[0], &st[1], &st[2], &st[3]);
    print_table("single-threaded process (glibc may skip the lock prefix on its atomics):", &st[0],
                &st[1], &st[2], &st[3]);
    /* Once a second thread has existed, glibc's locks use real (lock-prefixed) atomics, as
     * they do in any program that shares a pool between threads. Still measured on one. */
    if (pthread_create(&t, NULL, idle_thread, NULL) != 0 || pthread_join(t, NULL) != 0) abort();
    measure(pool, hooked, n, rounds, &mt[0], &mt[1], &mt[2], &mt[3]);
    print_table("after a second thread has existed (multi-threaded process):", &mt[0], &mt[1],
                &mt[2], &mt[3]);
    printf("RESULT acquire_release_ns=%.1f mutex_pair_ns=%.1f ratio=%.2f "
           "acquire_select1_release_ns=%.1f mt_acquire_release_ns=%.1f mt_mutex_pair_ns=%.1f "
           "mt_ratio=%.2f hooks_extra_ns=%.1f mt_hooks_extra_ns=%.1f\n",
           st[1].median, st[0].median, st[1].median / st[0].median, st[2].median, mt[1].median,
           mt[0].median, mt[1].median / mt[0].median, st[3].median - st[1].median,
           mt[3].median - mt[1].median);
    sqlpool_close(hooked);
    sqlpool_close(pool);
    return 0;
}
