/* release.h: what release.c offers the files above it (acquire.c). */
#ifndef SQLPOOL_RELEASE_H
#define SQLPOOL_RELEASE_H

#include "conn_life.h"

/* A connection out of a slot (SLOTTED, the caller's) back to the books: closed if past its
 * lifetime (unless may_close is 0: then, while the pool is open, to the idle list, for
 * maintenance or the next acquire to close); else handed to the first waiter, unless it is due a
 * check (then the idle list, where whoever takes it checks it); else the idle list, or closed
 * beyond max_idle. */
void sqlpool__unslot(sqlpool *pool, sqlpool_conn *c, int may_close);

/* sqlpool_release() without anything that may block on the calling thread (an event loop's):
 * SQLPOOL__RELEASED when done (to a waiter, the idle list or a slot; or refused as misuse);
 * SQLPOOL__RELEASE_LATER, before anything was done, when the release needs a reset with
 * I/O (backend.h: reset_is_local), on_release or ping_on_release: the caller has
 * sqlpool_release() run elsewhere; SQLPOOL__RELEASE_CLOSE when the connection is to be
 * closed (expired, beyond max_idle, the pool closing): it is still borrowed on the books,
 * and the caller has it retired elsewhere with *close_reason (sqlpool__retire_lent()). */
enum { SQLPOOL__RELEASED = 0, SQLPOOL__RELEASE_LATER = 1, SQLPOOL__RELEASE_CLOSE = 2 };
int sqlpool__release_nowait(sqlpool_conn *handle, int *close_reason);

#endif
