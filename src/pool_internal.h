/*
 * pool_internal.h: the pool's and the connection's layout, shared by the pool core's files
 * (each names the one concept it holds: books.c, slots.c, waiter.c, conn_life.c, release.c,
 * acquire.c, maintain.c, lifecycle.c, ...); the stats formatter (stats_format.c) reads only
 * cfg. Fields are grouped by who guards them, said at each group.
 *
 * The files are layered; each calls only the ones below it (nm -u on the objects shows it):
 *   request.c           sqlpool_acquire_async and the event loop's calls: requests
 *   txn.c               sqlpool_write, sqlpool_read: scoped transactions
 *   group_commit.c      group_commit: writes that share one COMMIT; a transaction's end
 *   lanes.c             single_writer: the writer and the read lane, reads routed
 *   lifecycle.c         open and close (a read lane closed with its writer)
 *   maint_thread.c      the maintenance thread
 *   maintain.c          a maintenance pass, shrink, close_idle
 *   stats.c             sqlpool_stats_get
 *   resize.c            resize, evict, set_db: runtime changes
 *   acquire.c           acquire, try_acquire, with
 *   release.c           release, discard; a connection out of a per-processor slot
 *   conn_api.c          the sqlpool_conn_* calls, through the backend table's capabilities
 *   conn_life.c         connect with retry, open, close, retire
 *   settle.c            the end of a closing pool: who frees it
 *   waiter.c            the queue of waiting threads, hand-off, sleeping and waking
 *   slots.c             the per-processor caches, under the lock
 *   jobs.c              the job threads: work a request or try_acquire leaves for them
 *   fork.c, fork.h      after fork(): the registry of pools, the atfork handlers, the child's
 *                       new start (the maintenance thread through maint_restart, a pointer)
 *   books.c, books.h    every change of a connection's state, and the invariant check
 *   conn.h              the state word, handles and generations, a connection's age
 *   clock.c             the pool's clocks and timed waits
 *   lock.c, lock.h      the pool lock
 * below them the helpers: backend*.c (pg_wire.c below backend_pg.c; sqlite_lane.c and
 * sqlite_txn.c below backend_sqlite.c), stmt_cache.c, dsn.c,
 * backoff.c, histogram.c, error.c, log.c, alloc.c, cpu.c.
 */
#ifndef SQLPOOL_POOL_INTERNAL_H
#define SQLPOOL_POOL_INTERNAL_H

#include "backend.h"
#include "histogram.h"
#include "internal.h"
#include "lock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* A connection's state, the low two bits of its state word. A connection in a per-processor
 * slot is CONN_IDLE (the books call it slotted, see books.h). */
enum { CONN_IDLE = 0, CONN_BORROWED = 1, CONN_HELD = 2, CONN_CLOSED = 3 };

/* Why a connection was closed; indexes sqlpool.closed_by. SHRINK and CLOSE_IDLE: by the
 * caller's sqlpool_shrink() and sqlpool_close_idle(); HOOK: on_acquire or on_release refused
 * it; EVICTED: retired by sqlpool_evict(). */
enum {
    CLOSE_IDLE,
    CLOSE_LIFETIME,
    CLOSE_BROKEN,
    CLOSE_MAX_IDLE,
    CLOSE_POOL,
    CLOSE_SHRINK,
    CLOSE_CLOSE_IDLE,
    CLOSE_HOOK,
    CLOSE_EVICTED,
    CLOSE_ROLE, /* the server's role no longer the pool's (backend.h: role_lost) */
    CLOSE_REASONS
};

/*
 * Handles given to callers are the connection's address with the borrow's generation in the
 * low bits (the struct is aligned to make room): a handle from an earlier borrow, or one
 * used after release, no longer matches the state word and is refused instead of touching a
 * connection someone else now holds. Structs are recycled, never freed, while the pool lives.
 * 1024-byte alignment leaves 10 bits: a stale handle could pass only when the connection has
 * been borrowed again exactly a multiple of 1024 times since (a struct is ~130 bytes, the
 * backend's connection far more, so the padding is cheap).
 */
#define SQLPOOL__CONN_ALIGN 1024u
#define SQLPOOL__GEN_MASK (SQLPOOL__CONN_ALIGN - 1u)
/* A cache line and the one the prefetcher pairs with it: per-processor data apart. */
#define SQLPOOL__LINE 128u

struct sqlpool_conn {
    /* Set once, when the struct is made. */
    sqlpool *pool;

    /* Atomic: generation << 2 | state. Written under the pool lock, except by the
     * per-processor slots' lock-free take and put (slots.h); read anywhere. */
    atomic_uint word;

    /* The holder's own (whoever has the connection: its borrower, the thread opening or
     * closing it, maintenance while it checks it): */
    void *handle;                  /* the backend's connection */
    int native_used;               /* the borrower took the native handle */
    double created_at, expires_at; /* pool clock; set before the connection is shared */
    unsigned epoch;                /* the pool's epoch when its connect began (evict) */

    /* Under the pool lock (released_at also by a release filling a slot, before the
     * connection is published there): */
    sqlpool_conn *prev, *next;         /* idle list (or spare list, or a private list) */
    sqlpool_conn *all_prev, *all_next; /* every open connection */
    double released_at, checked_at;    /* last release, last check */
    double acquired_at;                /* leak tracking: when and where borrowed */
    const char *acquired_file;
    int acquired_line;
    int leak_warned;
    /* Atomic (relaxed): the borrower's thread (sqlpool__thread_id()), written when lent, read
     * under the lock by an acquire about to wait (nested_acquire: does it hold one?). */
    atomic_uintptr_t borrower;
};

/* A thread waiting in acquire (or sqlpool_close() waiting for borrowers). Lives on its
 * stack. */
typedef struct sqlpool__waiter {
    /* Under the pool lock: */
    struct sqlpool__waiter *prev, *next; /* the queue (next also chains a list to wake) */
    unsigned sent;                       /* signals decided on, each delivered after the unlock */
    /* The outcome, written under the pool lock before signaling: */
    sqlpool_conn *conn; /* a connection handed over */
    int grant;          /* a turn to connect (connecting already counted) */
    int closed;         /* the pool is closing */
    double mono_since;  /* when it queued, on the system's clock: throughput mode's window */

    /* Under mu: */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned delivered; /* signals delivered */

    /* The waiting thread's own: */
    double since;  /* when the wait began (precise clock) */
    double waited; /* how long, when it timed out */
    const char *file;
    int line;
    uintptr_t thread; /* sqlpool__thread_id(): the borrower of what it is handed */

    /* Set once, before it queues: a request of sqlpool_acquire_async() (request.c) has no
     * thread to wake; its signal calls notify instead, after the unlock, and it never
     * counts in waiters_live (whoever decides its outcome keeps the pool alive until
     * notify returns). deadline: when the jobs' timer takes it out of the queue. */
    void (*notify)(struct sqlpool__waiter *w);
    double deadline;
} sqlpool__waiter;

/* Work for the pool's job threads (jobs.h), a node its owner embeds. */
typedef struct sqlpool__job {
    struct sqlpool__job *next;
    void (*run)(struct sqlpool__job *job);
} sqlpool__job;

/* The job threads of a pool (jobs.c). Every field under mu. */
typedef struct sqlpool__jobs {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlpool__job *head, *tail;
    pthread_t threads[10];
    pthread_cond_t timer_cv; /* the timer's thread sleeps on it */
    pthread_t timer;
    int timer_started;
    int nthreads, idle, max;
    int waking;                           /* signals sent to idle threads that have not yet woken */
    int stopped;                          /* sqlpool_close(): no more jobs, no more threads */
    double tick_at;                       /* when to run tick next (pool clock) */
    double (*tick)(struct sqlpool *pool); /* request.c's, set with tick_at */
} sqlpool__jobs;

/* Throughput mode's per-processor cache: one idle connection a thread released on that
 * processor, for the next thread there to take without the pool lock (see slots.h).
 * Every field atomic. */
typedef struct sqlpool__slot {
    _Alignas(SQLPOOL__LINE) _Atomic(sqlpool_conn *) conn;
    atomic_llong taken;  /* acquires served from this slot */
    atomic_int inflight; /* releases between their look at slots_off and their last touch */
} sqlpool__slot;

struct sqlpool {
    sqlpool__lock lock;

    /* Set once, during sqlpool_open(); read-only after. */
    const sqlpool__backend *backend;
    void *backend_state;
    sqlpool_config cfg; /* a copy */
    char *db_copy;      /* cfg.db, then cfg.name, in one block */
    int any_hook;       /* cfg.on_connect, on_acquire or on_release set: releases look */
    /* config.single_writer (lanes.c): the pool the caller holds is the writer lane, and
     * this its readers (NULL in a plain pool, and in the read lane itself). */
    struct sqlpool *read_lane;
    /* The read lane's writer (NULL elsewhere); in the writer, how many of the two lanes are
     * not yet freed: the last to go frees both (settle.c). */
    struct sqlpool *lane_writer;
    atomic_int lanes_left;
    /* Atomic, the one field here that is not set once: SQLPOOL__FORK_* (fork.h), set in the
     * child of a fork(). Here, on the line acquire reads anyway (cfg's hooks). */
    atomic_int fork_pending;
    /* Atomic: bumped under the lock by sqlpool_evict(); a connection opened under an older
     * one is retired wherever it is next seen (sqlpool__expired(), conn.h). Read-mostly. */
    atomic_uint epoch;
    /* Atomic: set under the lock by a sqlpool_resize() that left more connections open than
     * max_open; releases then skip the slots and take the lock (which closes the excess),
     * until one finds the pool back within the cap and clears it (under the lock). */
    atomic_int over_cap;
    /* Atomic (relaxed): config.read_db's reads served by this, the writer lane (lanes.c). */
    atomic_llong read_fallbacks;
    /* Per-processor caches, throughput mode only (nslots 0 otherwise). A connection in a
     * slot is idle (state CONN_IDLE) but counted in in_use, so that a release and an acquire
     * through a slot need not take the lock. */
    sqlpool__slot *slots;
    int nslots;

    /* Atomic: slots_off is set (under the lock) once the first waiter has waited
     * barge_window, and when the pool closes: then every release and acquire takes the lock,
     * and the slots are emptied onto the idle list. Cleared under the lock. */
    atomic_int slots_off;

    /* Under the pool lock. The books (books.h keeps them; its check says how they agree): */
    sqlpool_conn *idle_head, *idle_tail; /* head: most recently released */
    int idle;                            /* the idle list's length */
    sqlpool_conn *all;                   /* every open connection */
    int open;                            /* its length: idle + in_use + held */
    int in_use;                          /* borrowed, or idle in a slot */
    int held;                            /* taken by maintenance for a check */
    int connecting;                      /* connects in progress (they count towards max_open) */
    /* The caps, from cfg and changed by sqlpool_resize() (resize.c): every reader holds the
     * lock (cfg.max_open/max_idle/min_idle are what the pool was opened with). min_idle is
     * cfg.min_idle within the caps. resize_peak: open + connecting when a resize last left
     * them above max_open (the books check allows that much until they come down). */
    int max_open, max_idle, min_idle;
    int resize_peak;
    int peak_in_use;
    long long created, reused, acquires, wait_count, timeouts;
    long long connect_retries, connect_failures;
    long long closed_by[CLOSE_REASONS];
    double wait_seconds;
    sqlpool__histogram waits;
    char last_connect_error[256];
    int last_connect_rc; /* the SQLPOOL_E* code of that error: what sqlpool_open() returns */
    sqlpool_conn *spare; /* structs of closed connections, for reuse */
    /* Under the pool lock. The waiters (waiter.c): */
    sqlpool__waiter *wait_head, *wait_tail;
    int waiting;      /* the queue's length */
    int waiters_live; /* threads inside a wait, queued or leaving: they may touch the pool */
    /* Throughput mode (cfg.barge_window > 0) only: when wait_head's window ends (it queued,
     * plus barge_window, on the system's monotonic clock), and whether it will look at the
     * idle list by itself before long (it is awake, or sleeps with a timer): if not, the
     * unlock that leaves a connection idle while it waits nudges it. */
    double head_until; /* until when newcomers may overtake the first waiter */
    int head_awake;
    /* Under the pool lock. Closing (settle.c): */
    int closing;             /* sqlpool_close() has begun */
    int orphaned;            /* sqlpool_close() has returned: the last release frees the pool */
    sqlpool__waiter *closer; /* sqlpool_close() waiting for borrowed connections */

    /* The job threads (jobs.c), with their own lock. try_acquire's request to open a
     * connection (acquire.c): open_job queued while open_asked. Throughput mode: a request
     * first in the queue has no thread to wake when a connection is left idle for it, so
     * the unlock that would nudge a thread queues serve_job (set by request.c before any
     * request queues) while serve_asked. The flags under the pool lock. */
    sqlpool__jobs jobs;
    sqlpool__job open_job;
    sqlpool__job serve_job;
    int open_asked;
    int serve_asked;

    /* Requests from event loops (request.c), in the pool the caller holds (both lanes'
     * requests are delivered through it). Under ev_mu: the callbacks ready to run, in the
     * order they became ready, and the event fd (-1 until first asked for; ev_wfd is the
     * pipe's write end, or ev_fd again for an eventfd) readable while that list is not
     * empty. ev_close: set once under ev_mu, when requests are first used; sqlpool_close()
     * calls it (lifecycle.c sits below request.c). */
    pthread_mutex_t ev_mu;
    pthread_cond_t ev_cv; /* requests_live reached 0 (sqlpool_close() waits for it) */
    int ev_fd, ev_wfd, ev_readable;
    int ready_count;
    int requests_live; /* made and not yet ready or ended: some thread still carries them */
    struct sqlpool_request *ready_head, *ready_tail;
    void (*ev_close)(struct sqlpool *pool);

    /* Under maint_mu. The maintenance thread (maint_thread.c): */
    pthread_mutex_t maint_mu;
    pthread_cond_t maint_cv;
    pthread_t maint_thread; /* written before maint_started is set, read after it stops */
    int maint_started;
    int maint_stop;
    int maint_kicked;
    int maint_inherited; /* the child of a fork(): the parent ran the thread (fork.c) */

    /* The child of a fork() (fork.c). The atfork child handler (alone in the process, every
     * pool lock held) sets fork_pending and leaves on fork_orphans the inherited connections
     * it took off the books; the child's first call abandons them (sqlpool__fork_catch_up()).
     * fork_pending is atomic (relaxed; set by the handler, cleared under the lock), read by
     * every acquire; fork_orphans is under the pool lock. */
    sqlpool_conn *fork_orphans;
    /* Set once, before the pool is registered: starts the maintenance thread in a child
     * (sqlpool__maintenance_start; a pointer, since fork.c sits below maint_thread.c). */
    int (*maint_restart)(sqlpool *pool);
    /* Under the registry's mutex (fork.c): the list of open pools. */
    sqlpool *fork_prev, *fork_next;
    int registered;

    /* Atomic (lanes.c): config.read_db's back-off, in the pool the caller holds. The read
     * lane's failures for want of a server since its last success (0: reads try it), and
     * until when (sqlpool__mono(), in microseconds) reads skip it for the writer. */
    atomic_int read_skip_fails;
    atomic_llong read_skip_until;

    /* config.group_commit (group_commit.c), in the pool sqlpool_write() borrows from. Under
     * gc_mu: the sqlpool_write() calls queued for a turn (gc_head, FIFO), and the batch,
     * one at a time: gc_active from its leader's start to its end, gc_conn its connection
     * (NULL until begun), gc_count its transactions so far, gc_done those awaiting its
     * COMMIT. Atomic (relaxed), for the stats: batches of more than one committed, and the
     * transactions in them. */
    pthread_mutex_t gc_mu;
    struct sqlpool__gc_member *gc_head, *gc_tail, *gc_done;
    sqlpool_conn *gc_conn;
    int gc_active, gc_count;
    atomic_llong group_commits, grouped;
};

/* The clocks (config.clock when set), inline for the acquire/release path. Coarse is a few
 * milliseconds coarse and several times cheaper: for idle ages and lifetimes. sqlpool__mono:
 * the system's monotonic clock, whatever config.clock says (throughput mode's window, timed
 * waits). */
static inline double sqlpool__system_clock(clockid_t id) {
    struct timespec ts;
    (void)clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static inline double sqlpool__now(sqlpool *pool) {
    if (pool->cfg.clock != NULL) return pool->cfg.clock(pool->cfg.clock_ctx);
    return sqlpool__system_clock(CLOCK_MONOTONIC);
}
static inline double sqlpool__now_coarse(sqlpool *pool) {
    if (pool->cfg.clock != NULL) return pool->cfg.clock(pool->cfg.clock_ctx);
#ifdef CLOCK_MONOTONIC_COARSE
    return sqlpool__system_clock(CLOCK_MONOTONIC_COARSE);
#else
    return sqlpool__system_clock(CLOCK_MONOTONIC);
#endif
}
static inline double sqlpool__mono(void) {
    return sqlpool__system_clock(CLOCK_MONOTONIC);
}

/* clock.c: */
/* Only +INFINITY means "no deadline"; -INFINITY is a deadline long past, like any other. */
int sqlpool__no_deadline(double t);
/* A condition variable on the monotonic clock, and an absolute time on it so many seconds
 * from now (capped, so a far deadline does not overflow time_t). */
void sqlpool__cond_init_monotonic(pthread_cond_t *cv);
void sqlpool__deadline_timespec(double seconds_from_now, struct timespec *ts);
/* One wait on cv (mu held): 0 at once when the deadline (pool clock) or the timer (system
 * clock, sqlpool__mono()) has passed; else 1 after a wake-up, which may be spurious or a nap
 * cut short (the caller looks at its condition again). INFINITY: none. */
int sqlpool__cond_wait_until(sqlpool *pool, pthread_cond_t *cv, pthread_mutex_t *mu,
                             double deadline, double timer);

/* In *_locked helpers: the calling thread holds the pool lock (checked builds). */
#define SQLPOOL__ASSERT_LOCKED(pool) SQLPOOL__ASSERT(sqlpool__lock_held(&(pool)->lock))

#endif
