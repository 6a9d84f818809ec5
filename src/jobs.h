/*
 * jobs.h: the pool's job threads (jobs.c): work that must not run on the caller's thread
 * (an event loop's: see sqlpool_acquire_async()): connects, pings, hooks and releases. Jobs
 * are queued first come first served and run by up to config.max_connecting + 2 threads (at
 * most 10: the connects, at most max_connecting at once, never take every thread; pings,
 * hooks and resets on a server that stopped answering still can), started when
 * first needed, stopped and joined by sqlpool_close(). A thread of its own keeps one timer
 * for the file above (request.c): the earliest deadline of a queued request (never a job
 * thread's: they may all wait on a server that stopped answering).
 *
 * A job is a node its owner embeds; the threads only call its run function, so this file
 * calls nothing above it.
 */
#ifndef SQLPOOL_JOBS_H
#define SQLPOOL_JOBS_H

#include "pool_internal.h"

/* Queue job to run on one of pool's job threads. Returns 0, or -1 when the pool's job
 * threads have stopped (sqlpool_close() has run) or none could be started: the caller then
 * runs it itself. Thread-safe; never blocks beyond the jobs' lock. */
int sqlpool__jobs_submit(sqlpool *pool, sqlpool__job *job);
/* Run tick(pool) on a job thread no later than at (on the pool clock); the tick returns when
 * it wants to run next (INFINITY: not until asked again). A pool has one tick function. */
void sqlpool__jobs_tick_at(sqlpool *pool, double at, double (*tick)(sqlpool *pool));
/* Stop the threads once the queue is empty, and join them (sqlpool_close()). */
void sqlpool__jobs_stop(sqlpool *pool);
/* Is the calling thread one of pool's job threads? */
int sqlpool__jobs_here(const sqlpool *pool);
/* sqlpool_open(), the pool's free, and the child of a fork() (alone in the process, with
 * the jobs' lock held by the fork's prepare handler: made anew, the parent's jobs dropped). */
void sqlpool__jobs_init(sqlpool *pool);
void sqlpool__jobs_fini(sqlpool *pool);
void sqlpool__jobs_after_fork(sqlpool *pool);

#endif
