/*
 * lock.h: the pool lock.
 *
 * The pool's critical sections are a handful of pointer and counter updates, never I/O, so
 * the lock is a test-and-test-and-set spin lock that yields the processor when it has spun
 * for a while: unlocking is a plain release store, where a pthread mutex pays a second atomic
 * read-modify-write to look for sleepers. With two critical sections per acquire/release
 * cycle, that is what keeps the pool's cost near one bare mutex lock/unlock pair
 * (bench/bench_acquire). Threads that wait for a connection never wait on this lock: they
 * sleep on their own condition variable (see waiter.c).
 *
 * Like glibc's own lock, it drops the atomic instruction while the process has never had a
 * second thread (__libc_single_threaded); the flag turns false before a new thread starts.
 * (A program that makes threads with raw clone() breaks glibc's locks the same way.)
 *
 * A waiter spins briefly, then yields, then sleeps in short naps: the naps let a preempted
 * holder of lower real-time priority run, which sched_yield() alone would not.
 *
 * Checked builds (SQLPOOL__CHECKED, see internal.h) also record which thread holds the lock,
 * so that sqlpool__lock_held() answers "held by me", not "held by someone".
 */
#ifndef SQLPOOL_LOCK_H
#define SQLPOOL_LOCK_H

#include "internal.h"

#include <limits.h> /* brings in the C library's features header: __GLIBC__ */
#include <stdatomic.h>
#include <stdint.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#include <sys/single_threaded.h>
#define SQLPOOL__SINGLE_THREADED() (__libc_single_threaded != 0)
#else
#define SQLPOOL__SINGLE_THREADED() 0
#endif

typedef struct sqlpool__lock {
    atomic_int held;
    /* Checked builds: the holder's thread id (sqlpool__thread_id()), 0 when free; written
     * only by the holder. There in every build, so the layout does not depend on the flags. */
    atomic_uintptr_t owner;
} sqlpool__lock;

/* The slow path: spin on a plain load, then yield, then nap. */
void sqlpool__lock_contended(sqlpool__lock *l);
/* lock.c: a thread-local byte; its address is a number unique to the calling thread while
 * it lives (never 0). Inline: every borrow records its borrower (nested_acquire). */
extern _Thread_local char sqlpool__thread_tag;
static inline uintptr_t sqlpool__thread_id(void) {
    return (uintptr_t)&sqlpool__thread_tag;
}

static inline void sqlpool__lock_acquire(sqlpool__lock *l) {
    if (SQLPOOL__SINGLE_THREADED()) {
        /* Alone, a held lock can only mean re-entry: a deadlock with threads, caught here. */
        SQLPOOL__ASSERT(atomic_load_explicit(&l->held, memory_order_relaxed) == 0);
        atomic_store_explicit(&l->held, 1, memory_order_relaxed);
    } else if (atomic_exchange_explicit(&l->held, 1, memory_order_acquire) != 0) {
        sqlpool__lock_contended(l);
    }
#ifdef SQLPOOL__CHECKED
    atomic_store_explicit(&l->owner, sqlpool__thread_id(), memory_order_relaxed);
#endif
}

static inline void sqlpool__lock_release(sqlpool__lock *l) {
#ifdef SQLPOOL__CHECKED
    SQLPOOL__ASSERT(atomic_load_explicit(&l->owner, memory_order_relaxed) == sqlpool__thread_id());
    atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
#endif
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

/* For the assertions of *_locked helpers: does the calling thread hold the lock? Only checked
 * builds know the owner; elsewhere (where the assertions are compiled out) "held at all". */
static inline int sqlpool__lock_held(const sqlpool__lock *l) {
#ifdef SQLPOOL__CHECKED
    return atomic_load_explicit(&l->owner, memory_order_relaxed) == sqlpool__thread_id();
#else
    return atomic_load_explicit(&l->held, memory_order_relaxed) != 0;
#endif
}

#endif
