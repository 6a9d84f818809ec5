/* mutex.c: the baseline, not a pool: acquire locks a pthread mutex, release bumps a counter
 * and unlocks it. Every pool pays at least this much to hand out a connection safely. */
#include "adapter.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct mutex_pool {
    pthread_mutex_t mu;
    volatile long counter; /* volatile: the bookkeeping must happen, as a pool's does */
} mutex_pool;

static void *pool_open(const char *path, int max) {
    mutex_pool *p = calloc(1, sizeof *p);
    (void)path;
    (void)max;
    if (p == NULL || pthread_mutex_init(&p->mu, NULL) != 0) bench_die("mutex pool", "no memory");
    return p;
}

static void pool_close(void *pool) {
    mutex_pool *p = pool;
    (void)pthread_mutex_destroy(&p->mu);
    free(p);
}

static void *acquire(void *pool) {
    mutex_pool *p = pool;
    if (pthread_mutex_lock(&p->mu) != 0) abort();
    return p;
}

static void release(void *pool, void *conn) {
    mutex_pool *p = pool;
    (void)conn;
    p->counter = p->counter + 1;
    if (pthread_mutex_unlock(&p->mu) != 0) abort();
}

const bench_adapter bench_mutex_adapter = {
    "mutex pair", NULL, pool_open, pool_close, acquire, release, NULL,
};
