/*
 * fork.c: pools after fork() (see fork.h). The registry is a list of open pools under one
 * mutex. Lock order: the registry's mutex, then a pool's lock, then its maint_mu (nothing
 * takes maint_mu and then the pool lock; sqlpool_open() and sqlpool_close() take the
 * registry's mutex holding neither). prepare takes them all, so no other thread is inside a
 * critical section when the process is copied; parent releases them; child re-initialises
 * them (their holders' threads do not exist there) and bumps the fork generation, and the
 * child's first call on each pool starts its books over (sqlpool__fork_notice()).
 *
 * What the child finds borrowed at the fork (by any thread, the forking one included) is
 * abandoned with the rest: a handle the forking thread still holds is stale from then on, and
 * releasing it is refused as misuse (logged, SQLPOOL_EMISUSE), touching nothing.
 */
#include "fork.h"
#include "books.h"

#include <stdlib.h>

atomic_uint sqlpool__fork_generation;

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlpool *registry;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void prepare(void) {
    if (pthread_mutex_lock(&registry_mu) != 0) abort();
    for (sqlpool *p = registry; p != NULL; p = p->fork_next) {
        sqlpool__lock_acquire(&p->lock);
        if (pthread_mutex_lock(&p->maint_mu) != 0) abort();
    }
    sqlpool__backends_atfork(SQLPOOL__FORK_PREPARE); /* innermost: no pool lock is taken inside */
}

static void parent(void) {
    sqlpool__backends_atfork(SQLPOOL__FORK_PARENT);
    for (sqlpool *p = registry; p != NULL; p = p->fork_next) {
        if (pthread_mutex_unlock(&p->maint_mu) != 0) abort();
        sqlpool__lock_release(&p->lock);
    }
    if (pthread_mutex_unlock(&registry_mu) != 0) abort();
}

/* Only this thread exists: the locks its vanished peers may have waited on are made anew. */
static void child(void) {
    sqlpool__backends_atfork(SQLPOOL__FORK_CHILD);
    for (sqlpool *p = registry; p != NULL; p = p->fork_next) {
        if (pthread_mutex_init(&p->maint_mu, NULL) != 0) abort();
        sqlpool__cond_init_monotonic(&p->maint_cv);
        /* The parent's thread is not here: nothing to stop or join in the child. */
        p->maint_inherited = p->maint_started && !p->maint_stop;
        p->maint_started = 0;
        atomic_store_explicit(&p->lock.owner, 0, memory_order_relaxed);
        atomic_store_explicit(&p->lock.held, 0, memory_order_relaxed);
    }
    if (pthread_mutex_init(&registry_mu, NULL) != 0) abort();
    atomic_fetch_add_explicit(&sqlpool__fork_generation, 1, memory_order_relaxed);
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

/* Under the lock: every connection off the books, each marked closed (so a handle from
 * before the fork is refused), chained by next for abandoning after the unlock. */
static sqlpool_conn *take_inherited_locked(sqlpool *pool) {
    sqlpool_conn *list = NULL;
    SQLPOOL__ASSERT_LOCKED(pool);
    for (sqlpool_conn *c = pool->all, *next; c != NULL; c = next) {
        next = c->all_next;
        sqlpool__set_word(c, sqlpool__conn_gen(c), CONN_CLOSED);
        c->all_prev = c->all_next = NULL;
        c->next = list;
        list = c;
    }
    return list;
}

void sqlpool__fork_notice(sqlpool *pool) {
    unsigned gen = atomic_load_explicit(&sqlpool__fork_generation, memory_order_relaxed);
    sqlpool_conn *list;
    int rc = SQLPOOL_OK;
    sqlpool__lock_acquire(&pool->lock);
    if (atomic_load_explicit(&pool->fork_gen, memory_order_relaxed) == gen) {
        sqlpool__lock_release(&pool->lock); /* another of the child's threads was first */
        return;
    }
    list = take_inherited_locked(pool);
    sqlpool__books_restart_locked(pool);
    /* Waiters and a closer were other threads of the parent's; none exist here. */
    pool->wait_head = pool->wait_tail = NULL;
    pool->waiting = 0;
    pool->waiters_live = 0;
    pool->head_awake = 0;
    pool->closer = NULL;
    pool->last_connect_error[0] = '\0';
    pool->last_connect_rc = SQLPOOL_OK;
    /* Under the lock, so that a sqlpool_close() of the child's cannot miss the new thread
     * (order: pool lock, then maint_mu, as in prepare()). */
    if (pool->maint_inherited && !pool->closing && pool->maint_restart != NULL) {
        pool->maint_inherited = 0;
        rc = pool->maint_restart(pool);
    }
    atomic_store_explicit(&pool->fork_gen, gen, memory_order_relaxed);
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
    SQLPOOL__LOG(&pool->cfg, SQLPOOL_LOG_INFO, "fork_child pool started over in the child");
}
