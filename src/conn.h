/*
 * conn.h: a connection's state word and the handles given out for it (see the generations
 * in pool_internal.h), and its age. Inline: the acquire/release path uses all of them.
 */
#ifndef SQLPOOL_CONN_H
#define SQLPOOL_CONN_H

#include "fork.h"
#include "pool_internal.h"

#include <stdint.h>

/* For the few helpers of the acquire/release path that must be inlined whatever the
 * compiler's size heuristics say: sqlpool__books_move() with constant states folds to a few
 * stores, where a call would test both states at run time. */
#if defined(__GNUC__)
#define SQLPOOL__HOT_INLINE inline __attribute__((always_inline))
#else
#define SQLPOOL__HOT_INLINE inline
#endif

static inline unsigned sqlpool__state_of(unsigned word) {
    return word & 3u;
}
static inline unsigned sqlpool__gen_of(unsigned word) {
    return word >> 2;
}
static inline unsigned sqlpool__conn_gen(const sqlpool_conn *c) {
    return sqlpool__gen_of(atomic_load_explicit(&c->word, memory_order_relaxed));
}
static inline unsigned sqlpool__conn_state(const sqlpool_conn *c) {
    return sqlpool__state_of(atomic_load_explicit(&c->word, memory_order_relaxed));
}
/* Only the books (books.h) and the slots' undo (release.c) write the word. */
static inline void sqlpool__set_word(sqlpool_conn *c, unsigned gen, unsigned state) {
    atomic_store_explicit(&c->word, gen << 2 | state, memory_order_relaxed);
}

/* The handle for the current borrow of c. */
static inline sqlpool_conn *sqlpool__handle_of(sqlpool_conn *c) {
    return (sqlpool_conn *)((uintptr_t)c | (sqlpool__conn_gen(c) & SQLPOOL__GEN_MASK));
}

/* The connection behind a handle, when the handle's borrow is the current one (and of this
 * process: see fork.h); else NULL. */
static inline sqlpool_conn *sqlpool__borrowed(sqlpool_conn *handle) {
    uintptr_t u = (uintptr_t)handle;
    sqlpool_conn *c = (sqlpool_conn *)(u & ~(uintptr_t)SQLPOOL__GEN_MASK);
    unsigned word;
    word = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (sqlpool__state_of(word) != CONN_BORROWED ||
        (sqlpool__gen_of(word) & SQLPOOL__GEN_MASK) != (u & SQLPOOL__GEN_MASK))
        return NULL;
    return c;
}

/* A handle used after its borrow ended: logged against its pool (structs outlive borrows)
 * and failed with SQLPOOL_EMISUSE. */
static inline int sqlpool__misuse(sqlpool_conn *handle, const char *what) {
    sqlpool *pool = ((sqlpool_conn *)((uintptr_t)handle & ~(uintptr_t)SQLPOOL__GEN_MASK))->pool;
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR,
                 "conn_misuse %s on a connection that was already released", what);
    return sqlpool__fail(SQLPOOL_EMISUSE, "%s on a connection that was already released", what);
}

/* Opened before the pool's last sqlpool_evict() (resize.c). A relaxed load: an evict racing
 * with this look is seen by the next one (at the latest the connection's next release). */
static inline int sqlpool__evicted(const sqlpool_conn *c) {
    return c->epoch != atomic_load_explicit(&c->pool->epoch, memory_order_relaxed);
}
/* Past its lifetime (expires_at: max_lifetime less a little jitter, see conn_life.c), or
 * evicted. */
static inline int sqlpool__expired(const sqlpool_conn *c, double now) {
    return now >= c->expires_at || sqlpool__evicted(c);
}
/* The close reason of an expired connection. */
static inline int sqlpool__expiry_reason(const sqlpool_conn *c) {
    return sqlpool__evicted(c) ? CLOSE_EVICTED : CLOSE_LIFETIME;
}

/* Whether an idle connection must be checked (or retired) before it is handed out: past its
 * lifetime, or idle longer than validation_bypass (0: always). */
static inline int sqlpool__needs_check(const sqlpool *pool, const sqlpool_conn *c, double now) {
    return sqlpool__expired(c, now) || pool->cfg.validation_bypass <= 0 ||
           now - c->released_at > pool->cfg.validation_bypass;
}

#endif
