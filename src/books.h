/*
 * books.h: the pool's books. Every change of a connection's state goes through
 * sqlpool__books_move(), which updates every counter and list that state touches (as
 * pgbouncer's change_server_state() does); in checked builds (internal.h) it then checks that
 * the books agree (books.c). The states:
 *
 *   NONE        no connection (yet, or any more): a turn to connect given back
 *   CONNECTING  a turn to connect taken: counted in `connecting` (and towards max_open)
 *   IDLE        on the idle list, at its recent end (IDLE_OLD: its stale end, for one back
 *               from a keepalive check); `idle`, state CONN_IDLE
 *   BORROWED    a caller's, under a new generation (older handles stop working); `in_use`
 *   SLOTTED     idle in a per-processor slot (slots.h); still counted in `in_use`, so that
 *               BORROWED <-> SLOTTED needs neither the lock nor a counter: the only moves
 *               made without the lock
 *   HELD        taken by maintenance for a keepalive check; `held`
 *   CLOSED      off the books: `open` down, `closed_by[reason]` up; its handle is closed
 *               outside the lock by whoever moved it there
 *
 * Leaving CONNECTING for any state but NONE is a connect that succeeded: `created` and
 * `open` go up and the connection joins the list of all. So, at every unlock:
 * created - closed == open == idle + in_use + held, and the lists are as long as their
 * counts. Inline, with constant states, the moves of the acquire/release path compile to
 * the few stores they need.
 */
#ifndef SQLPOOL_BOOKS_H
#define SQLPOOL_BOOKS_H

#include "conn.h"

enum {
    BOOK_NONE,
    BOOK_CONNECTING,
    BOOK_IDLE,
    BOOK_IDLE_OLD,
    BOOK_BORROWED,
    BOOK_SLOTTED,
    BOOK_HELD,
    BOOK_CLOSED
};

/* books.c: that the books agree (see above); aborts, naming the check, when not. Under the
 * lock, in checked builds. */
void sqlpool__books_check_locked(sqlpool *pool);
/* books.c: the books start over, empty, with every counter at zero (the child of a fork,
 * fork.c): the caller has taken every connection off them (the lists are dropped as they
 * are). Under the lock. */
void sqlpool__books_restart_locked(sqlpool *pool);
/* books.c: 1 when the library was built checked (for the tests that look inside). */
extern const int sqlpool__books_checked;

/* Connections idle in the per-processor slots: counted in in_use, though not borrowed. A
 * racy count when slots are in use without the lock (for stats and messages). */
static inline int sqlpool__slotted(const sqlpool *pool) {
    int n = 0;
    for (int i = 0; i < pool->nslots; i++)
        n += atomic_load_explicit(&pool->slots[i].conn, memory_order_relaxed) != NULL;
    return n;
}

/* ---- the lists; only sqlpool__books_move() calls these ---- */

static inline void sqlpool__idle_push_locked(sqlpool *pool, sqlpool_conn *c) {
    SQLPOOL__ASSERT_LOCKED(pool);
    c->prev = NULL;
    c->next = pool->idle_head;
    if (pool->idle_head)
        pool->idle_head->prev = c;
    else
        pool->idle_tail = c;
    pool->idle_head = c;
    pool->idle++;
}

static inline void sqlpool__idle_push_old_locked(sqlpool *pool, sqlpool_conn *c) {
    SQLPOOL__ASSERT_LOCKED(pool);
    c->next = NULL;
    c->prev = pool->idle_tail;
    if (pool->idle_tail)
        pool->idle_tail->next = c;
    else
        pool->idle_head = c;
    pool->idle_tail = c;
    pool->idle++;
}

static inline void sqlpool__idle_remove_locked(sqlpool *pool, sqlpool_conn *c) {
    SQLPOOL__ASSERT_LOCKED(pool);
    if (c->prev)
        c->prev->next = c->next;
    else
        pool->idle_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        pool->idle_tail = c->prev;
    c->prev = c->next = NULL;
    pool->idle--;
}

static inline void sqlpool__all_add_locked(sqlpool *pool, sqlpool_conn *c) {
    SQLPOOL__ASSERT_LOCKED(pool);
    c->all_prev = NULL;
    c->all_next = pool->all;
    if (pool->all) pool->all->all_prev = c;
    pool->all = c;
    pool->open++;
}

static inline void sqlpool__all_remove_locked(sqlpool *pool, sqlpool_conn *c) {
    SQLPOOL__ASSERT_LOCKED(pool);
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        pool->all = c->all_next;
    if (c->all_next) c->all_next->all_prev = c->all_prev;
    c->all_prev = c->all_next = NULL;
    pool->open--;
}

/* ---- the transition ---- */

static inline int sqlpool__books_lent(int state) {
    return state == BOOK_BORROWED || state == BOOK_SLOTTED;
}

/* A connection closed as broken whose backend says its server's role changed (a failover)
 * counts as CLOSE_ROLE. Asked while the handle is still open (retire_lent asks first). */
static inline int sqlpool__close_reason(const sqlpool *pool, const sqlpool_conn *c, int reason) {
    if (reason == CLOSE_BROKEN && pool->backend->role_lost != NULL && c->handle != NULL &&
        pool->backend->role_lost(c->handle))
        return CLOSE_ROLE;
    return reason;
}

/* Move c (NULL for NONE <-> CONNECTING) from one state to another; reason: the CLOSE_* of a
 * move to CLOSED (else ignored). Under the lock, except BORROWED <-> SLOTTED. */
static SQLPOOL__HOT_INLINE void sqlpool__books_move(sqlpool *pool, sqlpool_conn *c, int from,
                                                    int to, int reason) {
    int lent_both = sqlpool__books_lent(from) && sqlpool__books_lent(to);
    /* No connection in NONE and CONNECTING (the states are constants: this folds away). */
    unsigned gen = to != BOOK_NONE && to != BOOK_CONNECTING ? sqlpool__conn_gen(c) : 0;
    if (!lent_both) SQLPOOL__ASSERT_LOCKED(pool);
    switch (from) {
    case BOOK_CONNECTING:
        pool->connecting--;
        if (to != BOOK_NONE) { /* connected */
            pool->created++;
            sqlpool__all_add_locked(pool, c);
        }
        break;
    case BOOK_IDLE:
    case BOOK_IDLE_OLD: sqlpool__idle_remove_locked(pool, c); break;
    case BOOK_BORROWED:
    case BOOK_SLOTTED:
        if (!lent_both) pool->in_use--;
        break;
    case BOOK_HELD: pool->held--; break;
    default: break;
    }
    switch (to) {
    case BOOK_CONNECTING: pool->connecting++; break;
    case BOOK_IDLE:
        sqlpool__set_word(c, gen, CONN_IDLE);
        sqlpool__idle_push_locked(pool, c);
        break;
    case BOOK_IDLE_OLD:
        sqlpool__set_word(c, gen, CONN_IDLE);
        sqlpool__idle_push_old_locked(pool, c);
        break;
    case BOOK_BORROWED:
        sqlpool__set_word(c, gen + 1, CONN_BORROWED);
        if (!lent_both && ++pool->in_use > pool->peak_in_use) {
            int borrowed_now = pool->in_use - sqlpool__slotted(pool);
            if (borrowed_now > pool->peak_in_use) pool->peak_in_use = borrowed_now;
        }
        break;
    case BOOK_SLOTTED:
        sqlpool__set_word(c, gen, CONN_IDLE);
        if (!lent_both) pool->in_use++;
        break;
    case BOOK_HELD:
        sqlpool__set_word(c, gen, CONN_HELD);
        pool->held++;
        break;
    case BOOK_CLOSED:
        sqlpool__all_remove_locked(pool, c);
        sqlpool__set_word(c, gen, CONN_CLOSED);
        pool->closed_by[sqlpool__close_reason(pool, c, reason)]++;
        break;
    default: break;
    }
#ifdef SQLPOOL__CHECKED
    if (!lent_both) sqlpool__books_check_locked(pool);
#endif
}

/* A move to BORROWED for a new borrower: also notes when and where, for leak warnings. */
static SQLPOOL__HOT_INLINE void sqlpool__books_lend(sqlpool *pool, sqlpool_conn *c, int from,
                                                    double now, const char *file, int line) {
    sqlpool__books_move(pool, c, from, BOOK_BORROWED, 0);
    atomic_store_explicit(&c->borrower, sqlpool__thread_id(), memory_order_relaxed);
    c->acquired_at = now;
    c->acquired_file = file;
    c->acquired_line = line;
    c->leak_warned = 0;
    c->native_used = 0;
}

#endif
