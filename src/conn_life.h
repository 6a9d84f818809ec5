/*
 * conn_life.h: a connection's life (conn_life.c): opened with retry into a struct of the
 * pool's, closed, and its struct recycled. Database I/O, so always outside the pool lock.
 */
#ifndef SQLPOOL_CONN_LIFE_H
#define SQLPOOL_CONN_LIFE_H

#include "settle.h"

/* Open one connection, with retry (while the deadline, on the pool clock, leaves room and
 * the pool is not closing), into a struct of the pool's; not yet on the books. */
int sqlpool__open_conn(sqlpool *pool, sqlpool_conn **out, double now, double deadline);
/* Close a connection's handle and recycle its struct (already CLOSED on the books). */
void sqlpool__close_conn(sqlpool *pool, sqlpool_conn *c);
/* sqlpool__close_conn() for each of a list chained by next. */
void sqlpool__close_list(sqlpool *pool, sqlpool_conn *list);
/* Keep a struct for reuse. Under the lock. */
void sqlpool__spare_push_locked(sqlpool *pool, sqlpool_conn *c);
/* Under the lock: a connect failed (not because the pool closes); remember why. */
void sqlpool__note_connect_failure_locked(sqlpool *pool, int rc);

/* Open one connection with a turn reserved (CONNECTING) for nobody in particular (min_idle,
 * try_acquire's request) and offer it to the first waiter or the idle list; the turn then
 * passes on. Returns 0 when the connect failed (logged as what). */
int sqlpool__open_offer(sqlpool *pool, double deadline, const char *what);

/* A turn to connect (CONNECTING) given back unused: it passes to the next waiter, and a
 * closing pool may settle. The caller's last touch of the pool. */
void sqlpool__turn_unused(sqlpool *pool);

/* Call a connection hook of the config (on_connect, on_acquire, on_release) on c: while it
 * runs, sqlpool__in_hook(c) is true on this thread, so that a release or discard of c by the
 * hook itself is refused as misuse instead of closing the connection under its caller. */
int sqlpool__call_hook(sqlpool_fn fn, sqlpool_conn *c, void *ctx);
int sqlpool__in_hook(const sqlpool_conn *c);

/* Close a connection the caller holds (from BORROWED, or SLOTTED out of a slot): the handle
 * first, while the caller still counts in in_use so that a closing pool cannot be freed under
 * it; then, under the lock, off the books (its struct kept for reuse), the room it leaves
 * granted to waiters, and the pool settled. Returns 1 when the pool may have been freed: the
 * caller must not touch it again. */
int sqlpool__retire_lent(sqlpool *pool, sqlpool_conn *c, int from, int reason);
/* The two halves, for a caller that keeps the room it leaves (a first waiter). */
void sqlpool__close_lent_handle(sqlpool *pool, sqlpool_conn *c);
void sqlpool__retire_lent_locked(sqlpool *pool, sqlpool_conn *c, int from, int reason);

/* A connection the caller has a turn to open (CONNECTING): open it and make it the caller's
 * (borrowed, *out its handle); the turn passes on either way. */
int sqlpool__connect_for(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                         int line);

#endif
