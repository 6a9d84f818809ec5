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

#endif
