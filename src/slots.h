/*
 * slots.h: throughput mode's per-processor caches.
 *
 * A release on processor i may leave the connection in slot i instead of the idle list, and
 * the next acquire on processor i takes it from there: no pool lock, and on a busy machine no
 * cache line of the pool's travels between processors. A connection in a slot is SLOTTED
 * (books.h): idle, but still counted in in_use; whoever takes it out of the slot (an acquire,
 * or the lock holder emptying the slots) owns it. The slots are off (slots_off) once the
 * first waiter has waited barge_window (it must then see every idle connection), and while
 * the pool closes. Setting slots_off and then emptying the slots, against filling a slot and
 * then reading slots_off (all seq_cst), leaves no connection in a slot unseen: one side sees
 * the other. An acquire that finds nothing idle takes from any slot before it waits.
 *
 * The take and the put are inline (the hot path); what needs the lock is in slots.c.
 */
#ifndef SQLPOOL_SLOTS_H
#define SQLPOOL_SLOTS_H

#include "books.h"

/* Under the lock: empty every slot onto the idle list (keeping released_at). With retire,
 * what is beyond max_idle, or everything when closing, is closed on the books into *retire
 * instead (chained by next), for the caller to close after the unlock. */
void sqlpool__slots_drain_locked(sqlpool *pool, sqlpool_conn **retire);
/* Under the lock: the slots off (no more overtaking through them), and what idles there onto
 * the idle list, where the waiters find it (a release filling a slot meanwhile sees slots_off
 * and hands its connection over). max_idle may be exceeded by a connection per slot, until
 * releases or maintenance trim the list. */
void sqlpool__slots_stop_locked(sqlpool *pool);
/* Turn the slots off for good and wait until no release is between its look at slots_off
 * and its last touch of the pool; then the caller, under the lock, empties them. */
void sqlpool__slots_shut(sqlpool *pool);
/* Under the lock, when nothing is idle: take a connection from any slot (while they are on),
 * borrowed (at file:line). Those due a check go to the idle list, where acquire checks them.
 * NULL if none. */
sqlpool_conn *sqlpool__slots_steal_locked(sqlpool *pool, double now, const char *file, int line);

/* A connection just taken out of slot s, borrowed by the taker (at file:line). */
static inline sqlpool_conn *sqlpool__slot_lend(sqlpool *pool, sqlpool__slot *s, sqlpool_conn *c,
                                               const char *file, int line) {
    sqlpool__books_move(pool, c, BOOK_SLOTTED, BOOK_BORROWED, 0);
    atomic_store_explicit(&c->borrower, sqlpool__thread_id(), memory_order_relaxed);
    c->acquired_file = file; /* for a nested acquire's warning (its owner reads it) */
    c->acquired_line = line;
    c->native_used = 0;
    atomic_fetch_add_explicit(&s->taken, 1, memory_order_relaxed);
    return c;
}

/* An acquire's first try: take what idles in this processor's slot. Returns it, SLOTTED (now
 * the caller's), or NULL; *s is the slot. */
static inline sqlpool_conn *sqlpool__slot_take(sqlpool *pool, sqlpool__slot **s) {
    if (atomic_load_explicit(&pool->slots_off, memory_order_relaxed)) return NULL;
    *s = &pool->slots[sqlpool__cpu() % pool->nslots];
    if (atomic_load_explicit(&(*s)->conn, memory_order_relaxed) == NULL) return NULL;
    return atomic_exchange_explicit(&(*s)->conn, NULL, memory_order_acquire);
}

/* A release's first try: leave the borrowed c in this processor's slot. Returns 1 when done
 * with c; then *back may be a connection (SLOTTED, now the caller's) that had to come back
 * out because the slots went off meanwhile: the caller hands it to the books (unslot). */
static inline int sqlpool__slot_put(sqlpool *pool, sqlpool_conn *c, double now,
                                    sqlpool_conn **back) {
    sqlpool__slot *s;
    sqlpool_conn *empty = NULL;
    unsigned gen = sqlpool__conn_gen(c);
    int done = 0;
    *back = NULL;
    if (atomic_load_explicit(&pool->slots_off, memory_order_relaxed)) return 0;
    s = &pool->slots[sqlpool__cpu() % pool->nslots];
    if (atomic_load_explicit(&s->conn, memory_order_relaxed) != NULL) return 0;
    atomic_fetch_add_explicit(&s->inflight, 1, memory_order_seq_cst);
    if (!atomic_load_explicit(&pool->slots_off, memory_order_seq_cst)) {
        c->released_at = now;
        sqlpool__books_move(pool, c, BOOK_BORROWED, BOOK_SLOTTED, 0);
        if (atomic_compare_exchange_strong_explicit(&s->conn, &empty, c, memory_order_seq_cst,
                                                    memory_order_relaxed)) {
            done = 1;
            /* Threads began to wait (or the pool to close) and may have emptied the slots
             * before we filled ours: give it to them. */
            if (atomic_load_explicit(&pool->slots_off, memory_order_seq_cst))
                *back = atomic_exchange_explicit(&s->conn, NULL, memory_order_acquire);
        } else {
            /* Filled meanwhile: the put did not happen, and c is still its borrower's, under
             * the same handle (so not a move, which would start a new generation). */
            sqlpool__set_word(c, gen, CONN_BORROWED);
        }
    }
    atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_release);
    return done;
}

#endif
