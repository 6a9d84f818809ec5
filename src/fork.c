/*
 * fork.c: pools after fork() (see fork.h). The registry is a list of open pools under one
 * mutex. Lock order: the registry's mutex, then a pool's lock, then its maint_mu (nothing
 * takes maint_mu and then the pool lock; sqlpool_open() and sqlpool_close() take the
 * registry's mutex holding neither). prepare takes them all, so no other thread is inside a
 * critical section when the process is copied; parent releases them; child, still holding
 * them, starts each pool's books over (restart_in_child(): memory writes only, no malloc, no
 * backend, no thread), then re-initialises the locks (their holders' threads do not exist
 * there). The child's first call on each pool does the rest (sqlpool__fork_catch_up()).
 *
 * What the child finds borrowed at the fork (by any thread, the forking one included) is
 * abandoned with the rest: a handle the forking thread still holds is stale from then on, and
 * releasing it is refused as misuse (logged, SQLPOOL_EMISUSE), touching nothing.
 *
 * A fork from inside a pool's own code: from one of its hooks (on_connect, on_acquire,
 * on_release) or before_connect, on any thread, or from its maintenance thread (a hook or
 * callback that thread runs); and every pool whose hook is running further up that thread's
 * stack (a hook that uses another pool). The forking thread is in the middle of an operation
 * on the pool in the child too, so the child cannot start the pool over under it; it closes the
 * pool instead (SQLPOOL__FORK_INSIDE): every inherited connection abandoned as above, the hook's
 * own connection abandoned as soon as the hook returns, whatever it returned (as a refusal:
 * an on_connect's connect fails, an on_acquire's acquire fails with SQLPOOL_ECLOSED, an
 * on_release's release closes nothing), no hook run again, every later acquire failing with
 * SQLPOOL_ECLOSED, and no maintenance thread started. When the forking thread is the pool's
 * maintenance thread, it leaves its loop once back from the hook and ends; being the child's
 * only thread, the child then exits with status 0, as a process does when its last thread
 * ends (a child forked from a hook should exec or _exit before the hook returns). The child
 * may still call sqlpool_stats_get() and sqlpool_close() on that pool (close waits for
 * nothing: a connect of the parent's other threads, still counted, never ends there; then the
 * pool's memory is left, as its connections are). Its other pools start
 * over as after any fork; the parent is not affected. (A fork from a log or clock callback is
 * not supported: they may run under the pool lock, which prepare would wait for forever.)
 *
 * A pool being closed by another thread at the fork is off the registry already
 * (sqlpool_close() takes it off first, under the registry's mutex, which prepare holds): the
 * child's handlers never touch it, so its lock or maint_mu, perhaps held by the closing
 * thread, are never waited for; the child's code has no use for it either (the pool is being
 * closed). What that thread may hold besides is process-wide and the handlers take it around
 * the fork like everything else: the registry's mutex, SQLite's backend's open-file table
 * (files_mu) and SQLite's static mutexes (backend_sqlite.c), the C library's allocator.
 * test_fork_while_pools_open_and_close forks in a loop while a thread opens and closes pools.
 */
#include "fork.h"
#include "books.h"
#include "jobs.h"

#include <unistd.h>
#include <stdlib.h>

_Thread_local sqlpool__inside *sqlpool__fork_inside;

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlpool *registry;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void prepare(void) {
    if (pthread_mutex_lock(&registry_mu) != 0) abort();
    for (sqlpool *p = registry; p != NULL; p = p->fork_next) {
        if (pthread_mutex_lock(&p->gc_mu) != 0) abort(); /* never held with the others */
        sqlpool__lock_acquire(&p->lock);
        if (pthread_mutex_lock(&p->maint_mu) != 0) abort();
        if (pthread_mutex_lock(&p->jobs.mu) != 0) abort();
        if (pthread_mutex_lock(&p->ev_mu) != 0) abort();
    }
    sqlpool__backends_atfork(SQLPOOL__FORK_PREPARE); /* innermost: no pool lock is taken inside */
}

static void parent(void) {
    sqlpool__backends_atfork(SQLPOOL__FORK_PARENT);
    for (sqlpool *p = registry; p != NULL; p = p->fork_next) {
        if (pthread_mutex_unlock(&p->ev_mu) != 0) abort();
        if (pthread_mutex_unlock(&p->jobs.mu) != 0) abort();
        if (pthread_mutex_unlock(&p->maint_mu) != 0) abort();
        sqlpool__lock_release(&p->lock);
        if (pthread_mutex_unlock(&p->gc_mu) != 0) abort();
    }
    if (pthread_mutex_unlock(&registry_mu) != 0) abort();
}

/* This thread's chain (fork.h): 1 when it is inside p's own code (c NULL), or when c is the
 * connection of one of p's hooks running on it. */
static int inside_of(const sqlpool *p, const sqlpool_conn *c) {
    for (const sqlpool__inside *f = sqlpool__fork_inside; f != NULL; f = f->outer)
        if (f->pool == p && (c == NULL || f->conn == c)) return 1;
    return 0;
}

/* The child's copy of p (alone in the process, p's lock held by prepare() on this thread):
 * every inherited connection off the books and marked closed, on fork_orphans for the
 * child's first call to abandon; the books, waiters and closer start over. Plain memory
 * writes only. inside: the forking thread is in the middle of an operation on p (see
 * SQLPOOL__FORK_INSIDE), whose own share of the books is kept, so that it can finish
 * consistently: the connections its hooks run on (borrowed, on the books) and the connects
 * it has reserved (p's connecting count, kept whole: this thread's connects end here, the
 * parent's other threads' never do, which a closed pool can bear; see sqlpool_close()). */
static void restart_in_child(sqlpool *p, int inside) {
    sqlpool_conn *orphans = p->fork_orphans, *kept = NULL;
    int connecting = p->connecting, nkept = 0;
    for (sqlpool_conn *c = p->all, *next; c != NULL; c = next) {
        next = c->all_next;
        if (inside && sqlpool__conn_state(c) == CONN_BORROWED && inside_of(p, c)) {
            c->all_prev = NULL;
            c->all_next = kept;
            if (kept != NULL) kept->all_prev = c;
            kept = c;
            nkept++;
            continue;
        }
        sqlpool__set_word(c, sqlpool__conn_gen(c), CONN_CLOSED); /* a stale handle: refused */
        c->all_prev = c->all_next = NULL;
        c->next = orphans;
        orphans = c;
    }
    sqlpool__books_restart_locked(p);
    if (nkept > 0) {
        p->all = kept;
        p->open = p->in_use = nkept;
        p->created = nkept; /* the books' sum: created less closed is open */
    }
    /* Waiters and a closer were other threads of the parent's; none exist here. */
    p->wait_head = p->wait_tail = NULL;
    p->waiting = p->waiters_live = p->head_awake = 0;
    p->closer = NULL;
    p->last_connect_error[0] = '\0';
    p->last_connect_rc = SQLPOOL_OK;
    p->fork_orphans = orphans;
    /* The parent's thread is not here: nothing to stop or join in the child. When this thread
     * is it (inside), it leaves the pool by itself (maint_thread.c). */
    p->maint_inherited = !inside && p->maint_started && !p->maint_stop;
    p->maint_started = 0;
    if (inside) {
        p->connecting = connecting;
        p->closing = 1; /* every later acquire fails at once, a release closes its own */
        atomic_store_explicit(&p->slots_off, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&p->fork_pending, inside ? SQLPOOL__FORK_INSIDE : SQLPOOL__FORK_RESTART,
                          memory_order_relaxed);
}

/* The child's group commit (group_commit.c): the queued callers and the batch's members were
 * the parent's other threads, and its connection is off the child's books (a fn that forked
 * finds it released, as without group_commit). */
static void restart_group(sqlpool *p) {
    if (pthread_mutex_init(&p->gc_mu, NULL) != 0) abort();
    p->gc_head = p->gc_tail = p->gc_done = NULL;
    p->gc_conn = NULL;
    p->gc_active = p->gc_count = 0;
}

/* The child's requests (request.c): the parent's callbacks are not the child's to run, and
 * the parent's event fd not its to drain (it is the same one): both dropped, a new fd made
 * when the child first asks. Plain memory writes, and a close of the child's copy of a
 * descriptor. */
static void restart_requests(sqlpool *p) {
    if (pthread_mutex_init(&p->ev_mu, NULL) != 0) abort();
    sqlpool__cond_init_monotonic(&p->ev_cv);
    if (p->ev_fd >= 0) (void)close(p->ev_fd);
    if (p->ev_wfd >= 0 && p->ev_wfd != p->ev_fd) (void)close(p->ev_wfd);
    p->ev_fd = p->ev_wfd = -1;
    p->ev_readable = p->ready_count = p->requests_live = 0;
    p->serve_asked = 0; /* its job was the parent's */
    p->open_asked = 0;  /* its job was the parent's */
    p->ready_head = p->ready_tail = NULL;
}

/* Only this thread exists: the locks its vanished peers may have waited on are made anew. */
static void child(void) {
    sqlpool__backends_atfork(SQLPOOL__FORK_CHILD);
    for (sqlpool *p = registry; p != NULL; p = p->fork_next) {
        restart_in_child(p, inside_of(p, NULL));
        if (pthread_mutex_init(&p->maint_mu, NULL) != 0) abort();
        sqlpool__cond_init_monotonic(&p->maint_cv);
        sqlpool__jobs_after_fork(p);
        restart_requests(p);
        restart_group(p);
        atomic_store_explicit(&p->lock.owner, 0, memory_order_relaxed);
        atomic_store_explicit(&p->lock.held, 0, memory_order_relaxed);
    }
    if (pthread_mutex_init(&registry_mu, NULL) != 0) abort();
}

static void install_handlers(void) {
    if (pthread_atfork(prepare, parent, child) != 0) abort();
}

void sqlpool__fork_register(sqlpool *pool) {
    if (pthread_once(&handlers_once, install_handlers) != 0) abort();
    if (pthread_mutex_lock(&registry_mu) != 0) abort();
    pool->fork_prev = NULL;
    pool->fork_next = registry;
    if (registry != NULL) registry->fork_prev = pool;
    registry = pool;
    pool->registered = 1;
    if (pthread_mutex_unlock(&registry_mu) != 0) abort();
}

void sqlpool__fork_unregister(sqlpool *pool) {
    if (pthread_mutex_lock(&registry_mu) != 0) abort();
    if (pool->registered) {
        if (pool->fork_prev != NULL)
            pool->fork_prev->fork_next = pool->fork_next;
        else
            registry = pool->fork_next;
        if (pool->fork_next != NULL) pool->fork_next->fork_prev = pool->fork_prev;
        pool->fork_prev = pool->fork_next = NULL;
        pool->registered = 0;
    }
    if (pthread_mutex_unlock(&registry_mu) != 0) abort();
}

int sqlpool__fork_catch_up(sqlpool *pool) {
    sqlpool_conn *list;
    int state, rc = SQLPOOL_OK;
    sqlpool__lock_acquire(&pool->lock);
    state = atomic_load_explicit(&pool->fork_pending, memory_order_relaxed);
    list = pool->fork_orphans;
    pool->fork_orphans = NULL;
    /* Under the lock, so that a sqlpool_close() of the child's cannot miss the new thread
     * (order: pool lock, then maint_mu, as in prepare()). */
    if (state == SQLPOOL__FORK_RESTART) {
        if (pool->maint_inherited && !pool->closing && pool->maint_restart != NULL) {
            pool->maint_inherited = 0;
            rc = pool->maint_restart(pool);
        }
        atomic_store_explicit(&pool->fork_pending, SQLPOOL__FORK_NONE, memory_order_relaxed);
    }
    sqlpool__lock_release(&pool->lock);
    if (rc != SQLPOOL_OK)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_ERROR, "fork_child no maintenance thread: %s",
                     sqlpool__errmsg_raw());

    /* No message and no library call on the parent's connections (backend.h: abandon); the
     * structs go to the spare list (freed with the pool; a stale handle keeps failing). */
    for (sqlpool_conn *c = list, *next; c != NULL; c = next) {
        next = c->next;
        if (c->handle != NULL) pool->backend->abandon(c->handle);
        c->handle = NULL;
        sqlpool__lock_acquire(&pool->lock);
        c->next = pool->spare;
        pool->spare = c;
        sqlpool__lock_release(&pool->lock);
    }
    if (list != NULL || state == SQLPOOL__FORK_RESTART)
        SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "fork_child pool started over in the child");
    return state;
}
