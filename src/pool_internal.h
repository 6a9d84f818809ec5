/*
 * pool_internal.h: the pool's and the connection's layout, shared by the pool core (pool.c)
 * and its maintenance (maintain.c); the stats formatter (stats_format.c) reads only cfg. Every
 * field is either set once at open, under the pool lock (said next to it), or atomic.
 */
#ifndef SQLPOOL_POOL_INTERNAL_H
#define SQLPOOL_POOL_INTERNAL_H

#include "backend.h"
#include "histogram.h"
#include "internal.h"
#include "lock.h"

#include <pthread.h>
#include <stdatomic.h>

/* A connection's state, the low two bits of its state word. */
enum { CONN_IDLE = 0, CONN_BORROWED = 1, CONN_HELD = 2, CONN_CLOSED = 3 };

/* Why a connection was closed; indexes sqlpool.closed_by. SHRINK and CLOSE_IDLE: by the
 * caller's sqlpool_shrink() and sqlpool_close_idle(). */
enum {
    CLOSE_IDLE,
    CLOSE_LIFETIME,
    CLOSE_BROKEN,
    CLOSE_MAX_IDLE,
    CLOSE_POOL,
    CLOSE_SHRINK,
    CLOSE_CLOSE_IDLE,
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
    sqlpool *pool;             /* set once */
    void *handle;              /* the backend's connection; owned by whoever holds the connection */
    atomic_uint word;          /* generation << 2 | state; written under the lock, read anywhere */
    sqlpool_conn *prev, *next; /* idle list (or spare list); under lock */
    sqlpool_conn *all_prev, *all_next; /* every open connection; under lock */
    double created_at, expires_at;     /* pool clock; set before the connection is shared */
    double released_at, checked_at;    /* last release, last check; under lock */
    double acquired_at;                /* under lock */
    const char *acquired_file;         /* under lock */
    int acquired_line;                 /* under lock */
    int leak_warned;                   /* under lock */
    int native_used;                   /* the borrower took the native handle; the borrower's own */
};

/* A thread waiting in acquire. Lives on its stack; queued under the pool lock. */
typedef struct sqlpool__waiter {
    struct sqlpool__waiter *prev, *next; /* under pool lock */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned delivered; /* signals delivered; under mu */
    unsigned sent;      /* signals decided on, each delivered after the unlock; under pool lock */
    /* The outcome, written under the pool lock before signaling: */
    sqlpool_conn *conn; /* a connection handed over */
    int grant;          /* a turn to connect (open and connecting already counted) */
    int closed;         /* the pool is closing */
    double since;       /* when the wait began (precise clock) */
    double mono_since;  /* when it queued, on the system's clock: throughput mode's window */
    double waited;      /* how long, when it timed out */
    const char *file;
    int line;
} sqlpool__waiter;

/* Throughput mode's per-processor cache: one idle connection a thread released on that
 * processor, for the next thread there to take without the pool lock (see pool.c). */
typedef struct sqlpool__slot {
    _Alignas(SQLPOOL__LINE) _Atomic(sqlpool_conn *) conn;
    atomic_llong taken;  /* acquires served from this slot */
    atomic_int inflight; /* releases between their look at slots_off and their last touch */
} sqlpool__slot;

struct sqlpool {
    sqlpool__lock lock;
    const sqlpool__backend *backend; /* set once */
    void *backend_state;             /* set once */
    sqlpool_config cfg;              /* a copy, read-only after open */
    char *db_copy;                   /* cfg.db, then cfg.name, in one block */

    /* Everything below is under lock. */
    sqlpool_conn *idle_head, *idle_tail; /* head: most recently released */
    int idle;
    sqlpool_conn *all;   /* every open connection */
    sqlpool_conn *spare; /* structs of closed connections, for reuse */
    sqlpool__waiter *wait_head, *wait_tail;
    int waiting;
    /* Throughput mode (cfg.barge_window > 0) only: when wait_head's window ends (it queued,
     * plus barge_window, on the system's monotonic clock), and whether it will look
     * at the idle list by itself before long (it is awake, or sleeps with a timer): if not, the
     * unlock that leaves a connection idle while it waits nudges it. */
    double head_until; /* until when newcomers may overtake the first waiter */
    int head_awake;

    /* Per-processor caches, throughput mode only (nslots 0 otherwise; set once). A connection
     * in a slot is idle (state CONN_IDLE) but still counted in in_use, so that a release and
     * an acquire through a slot need not take the lock. slots_off is set (under the lock)
     * once the first waiter has waited barge_window, and when the pool closes: then every
     * release and acquire takes the lock, and the slots are emptied onto the idle list. */
    sqlpool__slot *slots;
    int nslots;
    atomic_int slots_off;
    int open;         /* idle + borrowed + held */
    int connecting;   /* connects in progress (they count towards max_open too) */
    int held;         /* taken by maintenance for a check */
    int waiters_live; /* threads inside a wait, queued or leaving: they may touch the pool */
    int in_use, peak_in_use;
    int closing;             /* sqlpool_close() has begun */
    int orphaned;            /* sqlpool_close() has returned: the last release frees the pool */
    sqlpool__waiter *closer; /* sqlpool_close() waiting for borrowed connections */
    long long created, reused, acquires, wait_count, timeouts;
    long long connect_retries, connect_failures;
    long long closed_by[CLOSE_REASONS];
    double wait_seconds;
    sqlpool__histogram waits;
    char last_connect_error[256];
    int last_connect_rc; /* the SQLPOOL_E* code of that error: what sqlpool_open() returns */

    /* The maintenance thread. */
    pthread_t maint_thread;
    int maint_started; /* set before the thread starts, read after it stops */
    pthread_mutex_t maint_mu;
    pthread_cond_t maint_cv;
    int maint_stop;   /* under maint_mu */
    int maint_kicked; /* under maint_mu */
};

/* pool.c: the clocks (config.clock when set). Coarse is for the hot path (idle ages). */
double sqlpool__now(sqlpool *pool);
double sqlpool__now_coarse(sqlpool *pool);

/* pool.c: open one connection, with retry (while the deadline, on the pool clock, leaves
 * room and the pool is not closing), into a struct of the pool's. */
int sqlpool__open_conn(sqlpool *pool, sqlpool_conn **out, double now, double deadline);
/* pool.c: close a connection's handle and recycle its struct. Outside the lock. */
void sqlpool__close_conn(sqlpool *pool, sqlpool_conn *conn);
/* pool.c: take an open connection out of the pool's books (open--, all list, counters). */
void sqlpool__retire_locked(sqlpool *pool, sqlpool_conn *conn, int reason);
/* pool.c: give a connection nobody holds to the oldest waiter, or to the idle list.
 * Returns the waiter to wake, or NULL; sets *pooled to 0 when neither would take it (then the
 * caller retires it). */
sqlpool__waiter *sqlpool__offer_locked(sqlpool *pool, sqlpool_conn *conn, double now, int old,
                                       int *pooled);
/* pool.c: the lists. "old": back to the idle list's stale end, keeping its released_at. */
void sqlpool__idle_remove_locked(sqlpool *pool, sqlpool_conn *conn);
void sqlpool__all_add_locked(sqlpool *pool, sqlpool_conn *conn);
void sqlpool__cond_init_monotonic(pthread_cond_t *cv);
/* pool.c: release the pool lock; in throughput mode, first nudge a sleeping first waiter
 * when a connection sits idle (see head_awake). */
void sqlpool__unlock(sqlpool *pool);
/* pool.c: hand free capacity to waiters as turns to connect; returns a list (via next) of
 * waiters to wake. */
sqlpool__waiter *sqlpool__grant_locked(sqlpool *pool);
/* pool.c: wake the waiters of a list built by the functions above. After unlocking. */
void sqlpool__wake_all(sqlpool__waiter *list);

/* pool.c: empty the per-processor caches onto the idle list (for maintenance). */
void sqlpool__drain_slots(sqlpool *pool);

/* maintain.c */
int sqlpool__maintenance_start(sqlpool *pool);
void sqlpool__maintenance_stop(sqlpool *pool);
void sqlpool__maintenance_kick(sqlpool *pool);
void sqlpool__maintain_pass(sqlpool *pool);

#endif
