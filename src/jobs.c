/* jobs.c: the pool's job threads (see jobs.h). */
#include "jobs.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

enum { JOBS_MIN = 3, JOBS_MAX = 10 };

static _Thread_local const sqlpool *jobs_self; /* the pool whose job thread this is */

void sqlpool__jobs_init(sqlpool *pool) {
    sqlpool__jobs *j = &pool->jobs;
    int max = pool->cfg.max_connecting + 2; /* connects alone never take every thread */
    if (pthread_mutex_init(&j->mu, NULL) != 0) abort();
    sqlpool__cond_init_monotonic(&j->cv);
    sqlpool__cond_init_monotonic(&j->timer_cv);
    j->head = j->tail = NULL;
    j->nthreads = j->idle = j->waking = j->stopped = j->timer_started = 0;
    j->max = max < JOBS_MIN ? JOBS_MIN : max > JOBS_MAX ? JOBS_MAX : max;
    j->tick_at = INFINITY;
}

void sqlpool__jobs_fini(sqlpool *pool) {
    (void)pthread_cond_destroy(&pool->jobs.cv);
    (void)pthread_cond_destroy(&pool->jobs.timer_cv);
    (void)pthread_mutex_destroy(&pool->jobs.mu);
}

void sqlpool__jobs_after_fork(sqlpool *pool) {
    /* The parent's threads are not here, and the jobs they would have run were the parent's
     * (their owners are the parent's too): dropped. */
    int stopped = pool->jobs.stopped;
    sqlpool__jobs_init(pool);
    pool->jobs.stopped = stopped;
}

int sqlpool__jobs_here(const sqlpool *pool) {
    return jobs_self == pool;
}

/* The time to sleep until the tick, in seconds on the system's clock (a caller's clock may
 * not follow it: looked at again every 10 ms). */
static double until_tick(sqlpool *pool) {
    double left;
    if (sqlpool__no_deadline(pool->jobs.tick_at) || pool->jobs.tick == NULL) return INFINITY;
    left = pool->jobs.tick_at - sqlpool__now(pool);
    if (pool->cfg.clock != NULL && left > 0.01) left = 0.01;
    return left;
}

static void *jobs_main(void *arg) {
    sqlpool *pool = arg;
    sqlpool__jobs *j = &pool->jobs;
    jobs_self = pool;
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    for (;;) {
        sqlpool__job *job = j->head;
        if (job != NULL) {
            j->head = job->next;
            if (j->head == NULL) j->tail = NULL;
            job->next = NULL;
            if (pthread_mutex_unlock(&j->mu) != 0) abort();
            job->run(job); /* may free the node: not touched after */
            if (pthread_mutex_lock(&j->mu) != 0) abort();
            continue;
        }
        if (j->stopped) break;
        j->idle++;
        if (pthread_cond_wait(&j->cv, &j->mu) != 0) abort();
        j->idle--;
        if (j->waking > 0) j->waking--; /* this one, or another's: either looks now */
    }
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
    return NULL;
}

/* The timer's own thread: never a job's, so that deadlines hold while every job thread
 * waits on a server that stopped answering. */
static void *timer_main(void *arg) {
    sqlpool *pool = arg;
    sqlpool__jobs *j = &pool->jobs;
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    while (!j->stopped) {
        double left = until_tick(pool);
        if (left <= 0) { /* run the tick outside the lock */
            double (*tick)(sqlpool *) = j->tick;
            double next;
            j->tick_at = INFINITY;
            if (pthread_mutex_unlock(&j->mu) != 0) abort();
            next = tick(pool);
            if (pthread_mutex_lock(&j->mu) != 0) abort();
            if (next < j->tick_at) j->tick_at = next;
            continue;
        }
        if (left == INFINITY) {
            if (pthread_cond_wait(&j->timer_cv, &j->mu) != 0) abort();
        } else {
            struct timespec ts;
            sqlpool__deadline_timespec(left, &ts);
            (void)pthread_cond_timedwait(&j->timer_cv, &j->mu, &ts);
        }
    }
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
    return NULL;
}

/* A thread without signals: they belong to the application's threads. */
static int spawn(pthread_t *t, void *(*main_fn)(void *), sqlpool *pool) {
    sigset_t all, old;
    int rc;
    (void)sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0) abort();
    rc = pthread_create(t, NULL, main_fn, pool);
    if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0) abort();
    return rc;
}

/* Under the jobs' lock: a thread more when none is idle (or about to wake) and the cap
 * allows. Returns 0 when at least one thread runs. */
static int start_thread_locked(sqlpool *pool) {
    sqlpool__jobs *j = &pool->jobs;
    if (j->idle > j->waking || j->nthreads >= j->max) return j->nthreads > 0 ? 0 : -1;
    if (spawn(&j->threads[j->nthreads], jobs_main, pool) == 0) j->nthreads++;
    return j->nthreads > 0 ? 0 : -1;
}

int sqlpool__jobs_submit(sqlpool *pool, sqlpool__job *job) {
    sqlpool__jobs *j = &pool->jobs;
    int rc = -1;
    job->next = NULL;
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    if (!j->stopped && start_thread_locked(pool) == 0) {
        if (j->tail != NULL)
            j->tail->next = job;
        else
            j->head = job;
        j->tail = job;
        /* One wake-up per sleeping thread at most: a busy thread takes the job when it
         * looks again, and a signal to a thread already woken only costs the caller. */
        if (j->idle > j->waking) {
            j->waking++;
            if (pthread_cond_signal(&j->cv) != 0) abort();
        }
        rc = 0;
    }
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
    return rc;
}

void sqlpool__jobs_tick_at(sqlpool *pool, double at, double (*tick)(sqlpool *pool)) {
    sqlpool__jobs *j = &pool->jobs;
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    j->tick = tick;
    if (at < j->tick_at && !j->stopped) {
        j->tick_at = at;
        if (!j->timer_started) /* started when first needed; a failure leaves tick_at for
                                * the next try */
            j->timer_started = spawn(&j->timer, timer_main, pool) == 0;
        if (pthread_cond_signal(&j->timer_cv) != 0) abort(); /* it looks at the new time */
    }
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
}

void sqlpool__jobs_stop(sqlpool *pool) {
    sqlpool__jobs *j = &pool->jobs;
    int n, timer;
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    j->stopped = 1;
    j->tick_at = INFINITY;
    n = j->nthreads;
    timer = j->timer_started;
    if (pthread_cond_broadcast(&j->cv) != 0) abort();
    if (pthread_cond_signal(&j->timer_cv) != 0) abort();
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
    if (timer && !pthread_equal(j->timer, pthread_self()) && pthread_join(j->timer, NULL) != 0)
        abort();
    /* Stopped: nothing starts a thread any more, so threads[0..n) is all there is. A job
     * thread closing the pool (from a hook) cannot join itself: it leaves when its job ends. */
    for (int i = 0; i < n; i++) {
        if (pthread_equal(j->threads[i], pthread_self())) {
            (void)pthread_detach(j->threads[i]);
            continue;
        }
        if (pthread_join(j->threads[i], NULL) != 0) abort();
    }
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    j->nthreads = j->timer_started = 0;
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
}
