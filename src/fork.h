/*
 * fork.h: pools in the child of a fork() (fork.c). Only the forking thread survives a fork;
 * the connections the child inherits are the parent's (a PostgreSQL socket is shared with
 * it, a sqlite3 * must not be used in two processes), and so are the locks and the waiters.
 * pthread_atfork handlers take every open pool's locks around the fork, so the child's copy
 * is consistent. The child handler (alone in the process, every lock still held) does the
 * memory-only part of each pool's new start at once: every inherited connection is marked
 * closed (so a handle from before the fork is refused by sqlpool__borrowed(), with no check
 * of its own), the books and the waiters start over, and fork_pending is set. What the
 * handler must not do (the backend's abandon, which may take locks; starting a thread) is
 * left to the child's first call on the pool, which looks at fork_pending on entry
 * (sqlpool__fork_check(): one relaxed load; release needs none at all).
 */
#ifndef SQLPOOL_FORK_H
#define SQLPOOL_FORK_H

#include "pool_internal.h"

/* pool->fork_pending: */
enum {
    SQLPOOL__FORK_NONE = 0,
    /* The books started over in the child handler; the inherited connections wait on
     * fork_orphans to be abandoned, and the maintenance thread to be started again. */
    SQLPOOL__FORK_RESTART = 1,
    /* The fork came from inside the pool's own code (one of its hooks or before_connect, or
     * its maintenance thread): the forking thread is in the middle of an operation on it, so
     * the child closes the pool instead (fork.c says what is left of it). Never cleared. */
    SQLPOOL__FORK_INSIDE = 2
};

/* The lazy part of the child's new start (under the lock, once). Returns the pool's
 * fork_pending as it found it. */
int sqlpool__fork_catch_up(sqlpool *pool);
/* sqlpool_open(): put the pool on the registry the atfork handlers walk (installing them the
 * first time); sqlpool_close(): take it off, before anything else. */
void sqlpool__fork_register(sqlpool *pool);
void sqlpool__fork_unregister(sqlpool *pool);

/* Where this thread is inside pools' own code that calls out to the caller: a hook (conn,
 * the connection it runs on), a connect (before_connect, on_connect; conn NULL), the pool's
 * maintenance thread (conn NULL). A fork from there leaves the child's copy of each pool on
 * the chain SQLPOOL__FORK_INSIDE. The frames live on the stack of the code they mark; a hook
 * of one pool may use another pool, so the chain can name several. */
typedef struct sqlpool__inside {
    sqlpool *pool;
    sqlpool_conn *conn;
    struct sqlpool__inside *outer;
} sqlpool__inside;
extern _Thread_local sqlpool__inside *sqlpool__fork_inside;

static inline void sqlpool__inside_enter(sqlpool__inside *f, sqlpool *pool, sqlpool_conn *c) {
    f->pool = pool;
    f->conn = c;
    f->outer = sqlpool__fork_inside;
    sqlpool__fork_inside = f;
}
static inline void sqlpool__inside_leave(const sqlpool__inside *f) {
    sqlpool__fork_inside = f->outer;
}

/* On entry to each public call but release: catch up with a fork since the last one. */
static inline void sqlpool__fork_check(sqlpool *pool) {
    if (atomic_load_explicit(&pool->fork_pending, memory_order_relaxed) != SQLPOOL__FORK_NONE)
        (void)sqlpool__fork_catch_up(pool);
}

#endif
