/*
 * fork.h: pools in the child of a fork() (fork.c). Only the forking thread survives a fork;
 * the connections the child inherits are the parent's (a PostgreSQL socket is shared with
 * it, a sqlite3 * must not be used in two processes), and so are the locks and the waiters.
 * pthread_atfork handlers take every open pool's locks around the fork, so the child's copy
 * is consistent, and bump the fork generation in the child. Every public call compares the
 * pool's generation with it on entry (a relaxed load and a compare, no system call); the
 * first call in the child that finds them apart gives the pool a new start
 * (sqlpool__fork_notice()): every inherited connection abandoned without a message or a
 * SQLite call, the books empty, the maintenance thread started again when the parent had
 * one.
 */
#ifndef SQLPOOL_FORK_H
#define SQLPOOL_FORK_H

#include "pool_internal.h"

/* fork.c: bumped in the child of every fork(); written only there (single-threaded). */
extern atomic_uint sqlpool__fork_generation;

/* The slow path: the pool's books are a parent's; start them over (under the lock, once). */
void sqlpool__fork_notice(sqlpool *pool);
/* sqlpool_open(): put the pool on the registry the atfork handlers walk (installing them the
 * first time); sqlpool_close(): take it off, before anything else. */
void sqlpool__fork_register(sqlpool *pool);
void sqlpool__fork_unregister(sqlpool *pool);

/* On entry to each public call: catch up with a fork that happened since the last one. */
static inline void sqlpool__fork_check(sqlpool *pool) {
    if (atomic_load_explicit(&pool->fork_gen, memory_order_relaxed) !=
        atomic_load_explicit(&sqlpool__fork_generation, memory_order_relaxed))
        sqlpool__fork_notice(pool);
}

#endif
