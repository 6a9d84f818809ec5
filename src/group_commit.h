/*
 * group_commit.h: the end of a scoped transaction, and config.group_commit's shared COMMIT
 * (group_commit.c), for txn.c above it.
 */
#ifndef SQLPOOL_GROUP_COMMIT_H
#define SQLPOOL_GROUP_COMMIT_H

#include "pool_internal.h"

/* What sqlpool_write() and sqlpool_read() say when fn returned 0 but no transaction is open. */
#define SQLPOOL__TXN_ENDED_BY_FN                                                                   \
    "fn ended the transaction itself (its own COMMIT or ROLLBACK): whether its work is kept is "   \
    "fn's to know"

/* Commit the transaction open on conn (a borrowed handle) and give conn back: released, or
 * discarded when discard is set or the connection failed. On failure the transaction is
 * rolled back; returns the backend's code (SQLPOOL_EBROKEN when the COMMIT got no answer,
 * its outcome unknown) and writes the message, prefixed by who, to msg. */
int sqlpool__txn_finish(sqlpool_conn *conn, const char *who, int discard, char *msg, size_t len);

/* sqlpool_write() on a pool with group_commit > 1: the transaction in a batch that shares
 * one COMMIT (see group_commit.c). As sqlpool_write() returns; but when the calling thread
 * holds one of the pool's connections, nothing is done and *nested is set: the caller then
 * serves it as without group_commit. */
int sqlpool__group_write(sqlpool *pool, sqlpool_fn fn, void *ctx, int *nested);

/* Does the calling thread's fn run in a batch of pool (a nested sqlpool_write())? */
int sqlpool__group_running_in(const sqlpool *pool);

#endif
