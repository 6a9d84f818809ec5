/*
 * bench_client.c: what a bench client uses, whichever the backend: the clock, pauses that
 * end at the run's deadline or its stop, random numbers, the injected connect faults, its
 * tally, borrowing a pooled connection and a pooled write transaction. It calls nothing else
 * of the bench: the driver (bench.c) and the backends (bench_sqlite.c, bench_pg.c) call down
 * into it.
 */
#include "bench.h"
#include "bench_timeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

double bench_now(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep(double seconds) {
    struct timespec ts;
    if (seconds <= 0.0) return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void bench_lock(pthread_mutex_t *mu) {
    if (pthread_mutex_lock(mu) != 0) abort();
}

void bench_unlock(pthread_mutex_t *mu) {
    if (pthread_mutex_unlock(mu) != 0) abort();
}

void bench_pause_init(bench_run *r) {
    pthread_condattr_t attr;
    if (pthread_mutex_init(&r->pause_lock, NULL) != 0 || pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&r->pause_cond, &attr) != 0)
        abort();
    (void)pthread_condattr_destroy(&attr);
}

void bench_pause_destroy(bench_run *r) {
    (void)pthread_cond_destroy(&r->pause_cond);
    (void)pthread_mutex_destroy(&r->pause_lock);
}

void bench_stop(bench_run *r) {
    bench_lock(&r->pause_lock);
    atomic_store(&r->stop, 1);
    (void)pthread_cond_broadcast(&r->pause_cond);
    bench_unlock(&r->pause_lock);
}

void bench_pause(bench_run *r, double seconds) {
    double end = bench_now() + seconds;
    struct timespec ts;
    if (seconds <= 0.0) return;
    if (r->deadline > 0.0 && end > r->deadline) end = r->deadline;
    ts.tv_sec = (time_t)end;
    ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;
    bench_lock(&r->pause_lock);
    /* stop is set under pause_lock, so a wake-up cannot slip between the test and the wait. */
    while (!atomic_load(&r->stop) && bench_now() < end)
        if (pthread_cond_timedwait(&r->pause_cond, &r->pause_lock, &ts) == ETIMEDOUT) break;
    bench_unlock(&r->pause_lock);
}

/* splitmix64 over one shared atomic counter: thread-safe without a lock. */
static atomic_ullong rng_state;

void bench_random_seed(unsigned long long seed) {
    atomic_store(&rng_state, seed);
}

double bench_random(void) {
    uint64_t z = (uint64_t)atomic_fetch_add(&rng_state, 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

int bench_connect_fault(bench_run *r) {
    return atomic_load(&r->faults) && bench_random() < r->opts->fail_connect;
}

int bench_tally_init(bench_tally *t, int kinds) {
    int ok;
    t->latency = sqlpool_histogram_new();
    t->wait = sqlpool_histogram_new();
    ok = t->latency != NULL && t->wait != NULL;
    for (int k = 0; kinds && k < 2; k++) {
        t->kinds[k].latency = sqlpool_histogram_new();
        t->kinds[k].wait = sqlpool_histogram_new();
        ok = ok && t->kinds[k].latency != NULL && t->kinds[k].wait != NULL;
    }
    return ok ? 0 : -1;
}

void bench_tally_free(bench_tally *t) {
    sqlpool_histogram_free(t->latency);
    sqlpool_histogram_free(t->wait);
    for (int k = 0; k < 2; k++) {
        sqlpool_histogram_free(t->kinds[k].latency);
        sqlpool_histogram_free(t->kinds[k].wait);
    }
}

/* On a plain pool sqlpool_acquire_read() is sqlpool_acquire(); the plain runs call the
 * latter, as they did before there were readers. With --read-db the reads go to its lane. */
int bench_borrow(bench_run *r, bench_tally *t, bench_kind k, sqlpool_conn **conn) {
    int rc = (r->single_writer || r->opts->read_db != NULL) && k == BENCH_READ
                 ? sqlpool_acquire_read(r->pool, conn)
                 : sqlpool_acquire(r->pool, conn);
    if (rc == SQLPOOL_OK) return 0;
    bench_count_error(t, k, rc == SQLPOOL_ETIMEDOUT);
    return -1;
}

/* What bench_write() runs in sqlpool_write(): the client's fn, once the wait is counted. */
typedef struct scoped_write {
    bench_tally *t;
    bench_kind k;
    double t0;
    sqlpool_fn fn;
    void *ctx;
} scoped_write;

static int scoped_fn(sqlpool_conn *conn, void *arg) {
    scoped_write *w = arg;
    bench_count_wait(w->t, w->k, bench_now() - w->t0); /* (sqlpool_write() calls fn once) */
    return w->fn(conn, w->ctx);
}

int bench_write(bench_run *r, bench_tally *t, bench_kind k, double t0, sqlpool_fn fn, void *ctx) {
    scoped_write w = {t, k, t0, fn, ctx};
    int rc = sqlpool_write(r->pool, scoped_fn, &w);
    if (rc == SQLPOOL_OK) return 0;
    bench_count_error(t, k, rc == SQLPOOL_ETIMEDOUT);
    return -1;
}

bench_kind bench_next_kind(const bench_options *o) {
    switch (o->workload) {
    case BENCH_SELECT1: return BENCH_READ;
    case BENCH_MIXED: return bench_random() < o->write_ratio ? BENCH_WRITE : BENCH_READ;
    default: return BENCH_WRITE;
    }
}

int bench_seeded(bench_workload w) {
    return w == BENCH_READ_WRITE || w == BENCH_MIXED;
}

void bench_count_error(bench_tally *t, bench_kind k, int timeout) {
    bench_timeline_error(t->timeline);
    t->errors++;
    t->kinds[k].errors++;
    if (timeout) {
        t->timeouts++;
        t->kinds[k].timeouts++;
    }
}

void bench_count_wait(bench_tally *t, bench_kind k, double seconds) {
    sqlpool_histogram_record(t->wait, seconds);
    if (t->kinds[k].wait != NULL) sqlpool_histogram_record(t->kinds[k].wait, seconds);
}

void bench_count_commit(bench_tally *t, bench_kind k, double seconds) {
    bench_timeline_commit(t->timeline, seconds);
    t->transactions++;
    t->kinds[k].transactions++;
    sqlpool_histogram_record(t->latency, seconds);
    if (t->kinds[k].latency != NULL) sqlpool_histogram_record(t->kinds[k].latency, seconds);
}
