/*
 * maint_thread.c: the maintenance thread. It runs a pass (maintain.c) every quarter of the
 * shortest interval configured (at most every 30 s), and at once when a closed connection
 * leaves fewer than min_idle (sqlpool__maintenance_kick(), waiter.c). With a caller's clock
 * (config.clock) there is no thread: the caller drives passes with sqlpool_maintain().
 */
#include "maintain.h"
#include "fork.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double period(const sqlpool_config *cfg) {
    const double intervals[] = {cfg->idle_timeout, cfg->max_lifetime, cfg->keepalive_interval,
                                cfg->leak_threshold};
    double p = 30.0;
    for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++)
        if (intervals[i] > 0 && intervals[i] / 4 < p) p = intervals[i] / 4;
    if (cfg->min_idle > 0 && p > 1.0) p = 1.0;
    return p < 0.005 ? 0.005 : p;
}

static int needs_thread(const sqlpool_config *cfg) {
    return cfg->clock == NULL &&
           (cfg->min_idle > 0 || cfg->idle_timeout > 0 || cfg->max_lifetime > 0 ||
            cfg->keepalive_interval > 0 || cfg->leak_threshold > 0);
}

/* In the child of a fork() this very thread made (from a hook it ran, fork.h): the pool is
 * closed there, and the thread, the child's only one, is not its to keep alive. */
static int forked_here(sqlpool *pool) {
    return atomic_load_explicit(&pool->fork_pending, memory_order_relaxed) == SQLPOOL__FORK_INSIDE;
}

static void *maintenance_main(void *arg) {
    sqlpool *pool = arg;
    double p = period(&pool->cfg);
    sqlpool__inside frame; /* all of this thread's work is the pool's own (fork.h) */
    sqlpool__inside_enter(&frame, pool, NULL);
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    while (!pool->maint_stop && !forked_here(pool)) {
        if (!pool->maint_kicked) {
            struct timespec ts;
            sqlpool__deadline_timespec(p, &ts);
            (void)pthread_cond_timedwait(&pool->maint_cv, &pool->maint_mu, &ts);
        }
        if (pool->maint_stop) break;
        pool->maint_kicked = 0;
        if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
        sqlpool__maintain_pass(pool);
        if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    }
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
    if (forked_here(pool)) (void)sqlpool__fork_catch_up(pool); /* the parent's, abandoned */
    sqlpool__inside_leave(&frame);
    return NULL;
}

int sqlpool__maintenance_start(sqlpool *pool) {
    sigset_t all, old;
    int rc;
    if (!needs_thread(&pool->cfg)) return SQLPOOL_OK;
    /* The thread takes no signals: they belong to the application's threads. */
    (void)sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0) abort();
    rc = pthread_create(&pool->maint_thread, NULL, maintenance_main, pool);
    if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0) abort();
    if (rc != 0)
        return sqlpool__fail(SQLPOOL_ENOMEM, "cannot start the maintenance thread: %s",
                             strerror(rc));
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    pool->maint_started = 1;
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
    return SQLPOOL_OK;
}

void sqlpool__maintenance_stop(sqlpool *pool) {
    int started;
    if (pthread_mutex_lock(&pool->maint_mu) != 0) abort();
    started = pool->maint_started;
    pool->maint_stop = 1;
    if (pthread_cond_signal(&pool->maint_cv) != 0) abort();
    if (pthread_mutex_unlock(&pool->maint_mu) != 0) abort();
    if (started && pthread_join(pool->maint_thread, NULL) != 0) abort();
}
