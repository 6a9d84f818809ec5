/* clock.c: the public clock, and timed waits on the system's monotonic clock (the clocks
 * themselves are inline, in pool_internal.h). */
#include "pool_internal.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

double sqlpool_clock(sqlpool *pool) {
    return pool != NULL ? sqlpool__now(pool) : 0.0;
}

int sqlpool__no_deadline(double t) {
    return t == INFINITY;
}

void sqlpool__deadline_timespec(double seconds_from_now, struct timespec *ts) {
    double t;
    /* A far deadline (DBL_MAX) must not overflow time_t; the caller's loop waits again. */
    if (seconds_from_now > 1e6) seconds_from_now = 1e6;
    t = sqlpool__mono() + seconds_from_now;
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void sqlpool__cond_init_monotonic(pthread_cond_t *cv) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) abort();
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0) abort();
    if (pthread_cond_init(cv, &attr) != 0) abort();
    (void)pthread_condattr_destroy(&attr);
}

int sqlpool__cond_wait_until(sqlpool *pool, pthread_cond_t *cv, pthread_mutex_t *mu,
                             double deadline, double timer) {
    struct timespec ts;
    double left = INFINITY, left_timer = INFINITY;
    if (sqlpool__no_deadline(deadline) && sqlpool__no_deadline(timer)) {
        if (pthread_cond_wait(cv, mu) != 0) abort();
        return 1;
    }
    if (!sqlpool__no_deadline(deadline)) left = deadline - sqlpool__now(pool);
    if (!sqlpool__no_deadline(timer)) left_timer = timer - sqlpool__mono();
    if (left <= 0 || left_timer <= 0) return 0;
    /* A caller's clock may not follow the system's: look at it again now and then. */
    if (pool->cfg.clock != NULL && left > 0.01) left = 0.01;
    sqlpool__deadline_timespec(left < left_timer ? left : left_timer, &ts);
    (void)pthread_cond_timedwait(cv, mu, &ts);
    return 1;
}
