/*
 * group_commit.c: config.group_commit, sqlpool_write() transactions that share one COMMIT.
 *
 * Why: on SQLite one writer commits at a time, and each COMMIT waits for the disk (an fsync
 * of the WAL with synchronous=FULL, SQLite's default), so writers queued behind each other
 * each wait for every fsync before theirs. With group_commit, a sqlpool_write() that finds
 * another's transaction under way does not queue for the connection: it queues for a turn
 * inside that transaction, a batch.
 *   - The batch's leader (a caller that found none under way) borrows a connection, the
 *     writer of a single_writer pool, in the pool's waiting order within its deadline, and
 *     begins (BEGIN IMMEDIATE).
 *   - Each member in turn, on its own thread, runs its fn inside a SAVEPOINT: released when
 *     fn returned 0 (the member then waits for the COMMIT), rolled back to when fn failed
 *     (its own work undone, the others' kept; it returns at once).
 *   - A member done hands the turn to the next queued caller while the batch has fewer than
 *     group_commit transactions; the last one commits for all, gives the connection back,
 *     tells each its outcome, and makes the next queued caller the next batch's leader.
 * It never waits for callers to come: a caller alone commits alone, so at low load nothing
 * changes. Each caller gets what serial transactions give: 0 only once its work is
 * committed. What differs: a transaction ended inside fn (fn's own COMMIT or ROLLBACK, an
 * INSERT OR ROLLBACK, a disk full) ends the others' too, and a COMMIT that fails fails them
 * all: they return SQLPOOL_EBROKEN, with a message that says so.
 *
 * Under gc_mu (the pool's): the queue and the batch, one at a time. A caller counts in the
 * pool's waiters_live from entry to return, so a closing pool stays while it may touch it.
 */
#include "group_commit.h"
#include "acquire.h"
#include "conn.h"
#include "settle.h"
#include "waiter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { GC_QUEUED, GC_LEAD, GC_RUN, GC_DONE };

/* A caller of sqlpool_write(), on its stack. */
typedef struct sqlpool__gc_member {
    struct sqlpool__gc_member *next; /* the queue, or the batch's members awaiting the COMMIT */
    pthread_cond_t cv;               /* with gc_mu */
    int state;                       /* GC_*, under gc_mu */
    int rc;                          /* GC_DONE: the outcome, and its message */
    char msg[400];
    uintptr_t thread; /* sqlpool__thread_id(): the connection's borrower during its turn */
    pid_t pid;        /* where it came in: a fork() child (from fn) does not count it */
} gc_member;

/* The pool in whose batch this thread's fn runs: its sqlpool_write() is then a nested one,
 * served as without group_commit (txn.c). */
static _Thread_local sqlpool *running_in;

int sqlpool__group_running_in(const sqlpool *pool) {
    return running_in == pool;
}

static void gc_lock(sqlpool *pool) {
    if (pthread_mutex_lock(&pool->gc_mu) != 0) abort();
}
static void gc_unlock(sqlpool *pool) {
    if (pthread_mutex_unlock(&pool->gc_mu) != 0) abort();
}

/* Under gc_mu: m at the end of the queue. */
static void enqueue_locked(sqlpool *pool, gc_member *m) {
    m->next = NULL;
    if (pool->gc_tail != NULL)
        pool->gc_tail->next = m;
    else
        pool->gc_head = m;
    pool->gc_tail = m;
}

/* Under gc_mu: the next queued caller, taken off the queue (NULL: none). */
static gc_member *dequeue_locked(sqlpool *pool) {
    gc_member *m = pool->gc_head;
    if (m == NULL) return NULL;
    pool->gc_head = m->next;
    if (pool->gc_head == NULL) pool->gc_tail = NULL;
    m->next = NULL;
    return m;
}

static void wake_locked(gc_member *m, int state) {
    m->state = state;
    if (pthread_cond_signal(&m->cv) != 0) abort();
}

/* Under gc_mu: the batch is over; the next queued caller leads the next one. */
static void pass_lead_locked(sqlpool *pool) {
    gc_member *m = dequeue_locked(pool);
    pool->gc_conn = NULL;
    pool->gc_count = 0;
    if (m == NULL)
        pool->gc_active = 0;
    else
        wake_locked(m, GC_LEAD);
}

/* Under gc_mu: give the next queued caller its turn in the open batch; 0 when the batch is
 * full or nobody waits (the caller then ends it). */
static int pass_turn_locked(sqlpool *pool) {
    gc_member *m;
    if (pool->gc_count >= pool->cfg.group_commit || (m = dequeue_locked(pool)) == NULL) return 0;
    /* The borrower is m's from here (nested_acquire), never the thread whose turn ended. */
    atomic_store_explicit(&sqlpool__borrowed(pool->gc_conn)->borrower, m->thread,
                          memory_order_relaxed);
    wake_locked(m, GC_RUN);
    return 1;
}

/* Under gc_mu: tell every member awaiting the COMMIT its outcome. */
static void tell_locked(sqlpool *pool, int rc, const char *msg) {
    gc_member *m = pool->gc_done, *next;
    long long n = 0;
    for (; m != NULL; m = next, n++) {
        next = m->next;
        m->rc = rc;
        sqlpool__format(m->msg, sizeof m->msg, "%s", msg);
        wake_locked(m, GC_DONE);
    }
    pool->gc_done = NULL;
    if (rc == SQLPOOL_OK && n > 1) {
        atomic_fetch_add_explicit(&pool->group_commits, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&pool->grouped, n, memory_order_relaxed);
    }
}

/* Come in, counted in waiters_live, unless the pool is closing (SQLPOOL_ECLOSED) or the
 * calling thread holds one of its connections (*held set, nothing counted: served as without
 * group_commit, where nested_acquire looks at it); and go. */
static int enter(sqlpool *pool, gc_member *m, int *held) {
    int closing;
    sqlpool__pool_lock(pool);
    closing = pool->closing;
    *held = !closing && sqlpool__held_here_locked(pool);
    if (!closing && !*held) pool->waiters_live++;
    sqlpool__pool_unlock(pool);
    if (closing) return sqlpool__fail(SQLPOOL_ECLOSED, "sqlpool_write: the pool is closing");
    m->pid = getpid();
    return 0;
}
static void leave(sqlpool *pool, const gc_member *m, int timed_out) {
    sqlpool__settlement st;
    sqlpool__pool_lock(pool);
    /* A fork() child (fn forked) started its count afresh, without this thread. */
    if (getpid() == m->pid) pool->waiters_live--;
    if (timed_out) pool->timeouts++; /* a write that timed out, as an acquire would */
    st = sqlpool__settle_locked(pool);
    sqlpool__pool_unlock(pool);
    sqlpool__settle(pool, st); /* the pool may be gone from here on */
}

/* Has sqlpool_close() begun? */
static int pool_closing(sqlpool *pool) {
    int closing;
    sqlpool__pool_lock(pool);
    closing = pool->closing;
    sqlpool__pool_unlock(pool);
    return closing;
}

/* Under gc_mu: wait for a turn (the lead of a batch, or one in the open batch) until the
 * deadline; still GC_QUEUED when it passed first (then off the queue). */
static void await_turn_locked(sqlpool *pool, gc_member *m, double deadline) {
    while (m->state == GC_QUEUED &&
           sqlpool__cond_wait_until(pool, &m->cv, &pool->gc_mu, deadline, INFINITY))
        continue;
    if (m->state == GC_QUEUED) { /* out of the queue: it is short, walk it */
        gc_member **p = &pool->gc_head, *prev = NULL;
        while (*p != m)
            prev = *p, p = &(*p)->next;
        *p = m->next;
        if (pool->gc_tail == m) pool->gc_tail = prev;
    }
}

/* The batch's leader: borrow a connection and begin. 0, or the error (the batch then never
 * was: the next queued caller leads). */
static int lead(sqlpool *pool, double deadline) {
    sqlpool_conn *conn = NULL;
    char err[256] = "";
    int rc = sqlpool_acquire_at(pool, &conn, deadline, "sqlpool_write", 0);
    if (rc == SQLPOOL_OK) {
        sqlpool_conn *c = sqlpool__borrowed(conn);
        c->native_used = 1; /* a transaction of the pool's own: release must look for it */
        rc = c->pool->backend->txn(c->handle, SQLPOOL__TXN_BEGIN_WRITE, err, sizeof err);
        if (rc != SQLPOOL_OK) {
            if (rc == SQLPOOL_EBROKEN)
                sqlpool_discard(conn);
            else
                sqlpool_release(conn);
            (void)sqlpool__fail(rc, "sqlpool_write: the transaction could not begin: %s", err);
        }
    }
    gc_lock(pool);
    if (rc == SQLPOOL_OK) {
        pool->gc_conn = conn;
        pool->gc_count = 0;
    } else {
        pass_lead_locked(pool);
    }
    gc_unlock(pool);
    return rc;
}

/* The end of the batch, by its last member: commit what the members awaiting it did (or
 * roll back, with nothing to commit), give the connection back (discard: closed, as fn's
 * SQLPOOL_EBROKEN asks), tell them, pass the lead on. why (not NULL): the transaction cannot
 * be committed, and why says what the members are told (SQLPOOL_EBROKEN). */
static void end_batch(sqlpool *pool, sqlpool_conn *conn, int discard, const char *why) {
    char msg[400] = "";
    int rc = SQLPOOL_OK, members;
    gc_lock(pool);
    members = pool->gc_done != NULL;
    gc_unlock(pool);
    if (why != NULL) {
        rc = SQLPOOL_EBROKEN;
        sqlpool__format(msg, sizeof msg, "%s", why);
    }
    if (why != NULL || !members) { /* release rolls back what is left */
        if (discard)
            sqlpool_discard(conn);
        else
            sqlpool_release(conn);
    } else {
        rc = sqlpool__txn_finish(conn, "sqlpool_write", discard, msg, sizeof msg);
    }
    gc_lock(pool);
    tell_locked(pool, rc, msg);
    pass_lead_locked(pool);
    gc_unlock(pool);
}

/* What the members awaiting the COMMIT are told when the transaction ended under a later
 * one: rolled back when SQLite ended it (a statement that rolls back, a full disk) or fn ran
 * ROLLBACK, committed when fn ran COMMIT; the pool cannot tell which. detail: the later
 * one's errmsg or the backend's. */
static void ended_by_later(char *why, size_t len, const char *detail) {
    sqlpool__format(why, len,
                    "sqlpool_write: outcome unknown (rolled back, unless that fn ran COMMIT): a "
                    "later transaction in the same group commit (config.group_commit) ended the "
                    "transaction in its fn%s%s",
                    detail[0] != '\0' ? ": " : "", detail);
}

/* Wait for the COMMIT of the batch m is in; its outcome. */
static int await_commit(sqlpool *pool, gc_member *m) {
    gc_lock(pool);
    while (m->state != GC_DONE)
        if (pthread_cond_wait(&m->cv, &pool->gc_mu) != 0) abort();
    gc_unlock(pool);
    return m->rc == SQLPOOL_OK ? SQLPOOL_OK : sqlpool__fail(m->rc, "%s", m->msg);
}

/* The caller's turn in the open batch: its fn in a savepoint. Returns its outcome. */
static int run_turn(sqlpool *pool, gc_member *m, sqlpool_fn fn, void *ctx) {
    sqlpool_conn *conn = pool->gc_conn; /* written under gc_mu before our turn; ours till the end */
    sqlpool_conn *c = sqlpool__borrowed(conn);
    const sqlpool__backend *be = c->pool->backend;
    sqlpool *outer = running_in;
    char err[256] = "", why[400];
    int rc, frc, next, closing;
    if ((rc = be->txn(c->handle, SQLPOOL__TXN_SAVEPOINT, err, sizeof err)) != SQLPOOL_OK) {
        frc = sqlpool__fail(rc, "sqlpool_write: the transaction could not begin: %s", err);
    } else {
        sqlpool__clear_error(); /* what fn's failure leaves, not an older call's message */
        running_in = pool;
        frc = fn(conn, ctx);
        running_in = outer;
        if (sqlpool__borrowed(conn) != c) { /* fn gave it back: the transaction went with it */
            gc_lock(pool);
            tell_locked(pool, SQLPOOL_EBROKEN,
                        "sqlpool_write: outcome unknown: fn of a later transaction in the same "
                        "group commit (config.group_commit) released the connection");
            pass_lead_locked(pool);
            gc_unlock(pool);
            return sqlpool__misuse(conn, "sqlpool_write");
        }
        if (be->txn(c->handle, SQLPOOL__TXN_OPEN, err, sizeof err) != SQLPOOL_OK) {
            /* Ended inside fn: by fn itself, or by a statement that rolls the transaction back */
            ended_by_later(why, sizeof why, sqlpool_errmsg());
            end_batch(pool, conn, frc == SQLPOOL_EBROKEN, why);
            if (frc != 0) return frc;
            return sqlpool__fail(SQLPOOL_EMISUSE, "sqlpool_write: " SQLPOOL__TXN_ENDED_BY_FN);
        }
        if (frc == 0 && (rc = be->txn(c->handle, SQLPOOL__TXN_RELEASE, err, sizeof err)) != 0)
            frc = sqlpool__fail(rc, "sqlpool_write: %s", err);
        if (frc != 0 && be->txn(c->handle, SQLPOOL__TXN_UNDO, err, sizeof err) != SQLPOOL_OK) {
            ended_by_later(why, sizeof why, err);
            end_batch(pool, conn, 1, why);
            return frc;
        }
    }
    closing = pool_closing(pool); /* no more turns: the callers queued get SQLPOOL_ECLOSED */
    gc_lock(pool);
    if (frc == 0) {
        m->next = pool->gc_done;
        pool->gc_done = m;
    }
    pool->gc_count++;
    /* fn's SQLPOOL_EBROKEN: the connection is closed, the others' work committed first. */
    next = frc != SQLPOOL_EBROKEN && !closing && pass_turn_locked(pool);
    gc_unlock(pool);
    if (!next) end_batch(pool, conn, frc == SQLPOOL_EBROKEN, NULL);
    return frc != 0 ? frc : await_commit(pool, m);
}

int sqlpool__txn_finish(sqlpool_conn *conn, const char *who, int discard, char *msg, size_t len) {
    sqlpool_conn *c = sqlpool__borrowed(conn);
    const sqlpool__backend *be = c->pool->backend;
    char err[256] = "";
    int rc = be->txn(c->handle, SQLPOOL__TXN_COMMIT, err, sizeof err);
    if (rc == SQLPOOL_ETIMEDOUT) {
        sqlpool_discard(conn);
        sqlpool__format(msg, len,
                        "%s: the COMMIT got no answer (%s): whether it committed is unknown", who,
                        err);
        return SQLPOOL_EBROKEN;
    }
    if (rc != SQLPOOL_OK) {
        sqlpool__format(msg, len, "%s: the transaction could not commit (rolled back): %s", who,
                        err);
        if (be->txn(c->handle, SQLPOOL__TXN_ROLLBACK, err, sizeof err) != SQLPOOL_OK &&
            rc == SQLPOOL_EBROKEN)
            discard = 1;
    }
    if (discard)
        sqlpool_discard(conn);
    else
        sqlpool_release(conn);
    return rc;
}

int sqlpool__group_write(sqlpool *pool, sqlpool_fn fn, void *ctx, int *nested) {
    gc_member m;
    double deadline;
    int rc;
    memset(&m, 0, sizeof m);
    if ((rc = enter(pool, &m, nested)) != 0 || *nested) return rc;
    deadline =
        pool->cfg.acquire_timeout > 0 ? sqlpool__now(pool) + pool->cfg.acquire_timeout : INFINITY;
    m.thread = sqlpool__thread_id();
    sqlpool__cond_init_monotonic(&m.cv);
    gc_lock(pool);
    if (!pool->gc_active) {
        pool->gc_active = 1;
        m.state = GC_LEAD;
    } else {
        enqueue_locked(pool, &m);
        await_turn_locked(pool, &m, deadline);
    }
    gc_unlock(pool);
    /* The state is ours to read now: nobody changes it until we are queued again. */
    if (m.state == GC_QUEUED) {
        rc = sqlpool__fail(SQLPOOL_ETIMEDOUT,
                           "sqlpool_write: no turn in the group commit within the deadline "
                           "(acquire_timeout %g s)",
                           pool->cfg.acquire_timeout);
    } else if (m.state == GC_LEAD && (rc = lead(pool, deadline)) != SQLPOOL_OK) {
        /* lead() passed the lead on; rc and its message are the acquire's or BEGIN's */
    } else {
        m.state = GC_RUN;
        rc = run_turn(pool, &m, fn, ctx);
    }
    (void)pthread_cond_destroy(&m.cv);
    leave(pool, &m, rc == SQLPOOL_ETIMEDOUT && m.state == GC_QUEUED);
    return rc;
}
