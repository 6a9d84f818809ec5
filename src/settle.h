/*
 * settle.h: the end of a closing pool (settle.c). While the pool is closing, whoever takes
 * the last borrowed connection or connect in flight off the books either wakes
 * sqlpool_close() or, once that has given up waiting, frees the pool.
 * sqlpool__settle_locked() decides under the lock, in the same critical section as the
 * decrement; sqlpool__settle() acts after the unlock and is the caller's last use of the pool.
 */
#ifndef SQLPOOL_SETTLE_H
#define SQLPOOL_SETTLE_H

#include "waiter.h"

typedef struct sqlpool__settlement {
    sqlpool__waiter *closer;
    int free_pool;
} sqlpool__settlement;

/* Nobody can touch the pool any more: nothing borrowed, connecting, held for a check, and no
 * thread still inside acquire's wait. */
int sqlpool__drained_locked(const sqlpool *pool);
sqlpool__settlement sqlpool__settle_locked(sqlpool *pool);
void sqlpool__settle(sqlpool *pool, sqlpool__settlement st);
/* Free the pool's memory and the backend's state; every connection already closed. */
void sqlpool__free_pool(sqlpool *pool);

#endif
