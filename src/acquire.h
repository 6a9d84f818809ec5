/* acquire.h: what acquire.c offers the files above it: serving requests without a waiting
 * thread (request.c), and config.group_commit's look for a nested write (group_commit.c). */
#ifndef SQLPOOL_ACQUIRE_H
#define SQLPOOL_ACQUIRE_H

#include "release.h"

/* sqlpool__acquire_now()'s outcomes besides SQLPOOL_ECLOSED: */
enum {
    SQLPOOL__NOW_CONN = 1,    /* *c taken for the caller; *check says what it needs first */
    SQLPOOL__NOW_CONNECT = 2, /* a turn to connect (CONNECTING counted) */
    SQLPOOL__NOW_QUEUED = 3   /* w queued behind earlier waiters; the lock is still held */
};

/* One look at the pool that never waits or does I/O, as an acquire's first steps: an idle
 * connection (this processor's slot, the idle list unless that overtakes a waiter, another
 * processor's slot), else a turn to connect if there is room and nobody waits, else a place
 * in the queue for w (whose fields the caller set). *check: 0 nothing, 1 the backend's
 * non-blocking check, 2 a ping too (sqlpool__check_taken()). Counted as an acquire that did
 * not wait once it passes its check. file and line: as for sqlpool_acquire_at(). */
int sqlpool__acquire_now(sqlpool *pool, sqlpool__waiter *w, sqlpool_conn **c, int *check,
                         const char *file, int line);
/* The check sqlpool__acquire_now() asked for, of c taken at now: 1 passed (and counted); 0
 * it failed, and c is closed; -1 the same, and the pool is closing. */
int sqlpool__check_taken(sqlpool *pool, sqlpool_conn *c, double now, int check);

/* Does the calling thread hold one of the pool's connections (config.nested_acquire's
 * question)? Under the lock; O(open). */
int sqlpool__held_here_locked(sqlpool *pool);

#endif
