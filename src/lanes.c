/*
 * lanes.c: config.single_writer. Such a pool is two pools of the core: the one the caller
 * holds is the writer lane (max_open 1, max_idle 1), which sqlpool_acquire() and its
 * variants serve as any pool, so the plain acquire path pays nothing for lanes; its
 * read_lane, opened from the same config with the caller's caps, serves
 * sqlpool_acquire_read() and its variants. Each lane has its own books, waiting queue and
 * deadlines, and each connection knows its lane's pool, so release needs no routing. The
 * backend makes each lane's connections what they must be (backend.h: set_lane): SQLite's
 * readers query_only with a write-refusing authorizer, its writer checked to be in WAL mode.
 *
 * The calls that act on the whole pool reach the read lane from the writer's: close,
 * stats (summed), resize (the readers' caps), evict, set_db, shrink, close_idle and
 * maintain; each does so in its own file, by calling itself on pool->read_lane.
 *
 * config.read_db (PostgreSQL) uses the same two pools differently: the pool the caller holds
 * is a plain pool of db, with all of max_open (a server takes many writers), and its
 * read_lane a plain pool of read_db capped by read_max_open. With read_fallback, a read whose
 * read lane could not connect (every read_db host refused, failed or was in the wrong role,
 * tried once: the read lane does not retry, the writer is there) is served by the writer
 * lane within the same deadline, counted in read_fallbacks; a read that timed out waiting
 * for one of the read lane's busy connections does not fall back (the standby is there, only
 * busy; the primary is not where reads were meant to go).
 *
 * A read lane without a server costs each read that tries it up to connect_timeout per host
 * (a silent standby: it accepts, never answers), so with read_fallback the lane's failure for
 * want of a server also starts a back-off: for 1 s, then 2, 4, ... up to 30 s after each
 * failure in a row, reads go straight to the writer lane (counted in read_fallbacks, the read
 * lane's idle connections included: a lane that could not connect is not trusted for the
 * period). When the period is over, the first read to come probes the read lane, alone: the
 * reads after it skip the lane while it tries (for the next, doubled period, as if it had
 * failed already, so that a probe that never reports back does not stop the next one). A
 * probe that fails falls back as any read does and starts that period again from its end;
 * the read lane's first success (a probe's, or a read's from before the back-off) ends the
 * back-off. The state is two atomics in the writer lane (read_skip_fails, read_skip_until);
 * the period runs on the system's monotonic clock, as connect_timeout does, whatever
 * config.clock says. The event-loop calls ask the same two questions
 * (sqlpool__read_skip_lane, sqlpool__read_falls_back).
 */
#include "dsn.h"
#include "pool_internal.h"
#include "waiter.h"

#include <math.h>
#include <string.h>

/* The writer lane: one connection, and no more than one of min_idle. */
static void writer_config(const sqlpool_config *cfg, sqlpool_config *w) {
    *w = *cfg;
    w->single_writer = SQLPOOL__LANE_WRITE;
    w->max_open = 1;
    w->max_idle = 1;
    w->min_idle = cfg->min_idle > 0 ? 1 : 0;
}

/* config.read_db's read lane: read_db with its own cap; with read_fallback it tries each
 * host once (no retry) and opens without min_idle connections, so that a standby down at
 * sqlpool_open() or later sends reads to the writer at once instead of failing them. */
static void reader_config(const sqlpool_config *cfg, sqlpool_config *r) {
    *r = *cfg;
    r->db = cfg->read_db;
    r->read_db = NULL;
    if (cfg->read_max_open > 0) r->max_open = cfg->read_max_open;
    if (r->max_open > 0 && r->max_idle > r->max_open) r->max_idle = r->max_open;
    if (cfg->read_fallback) {
        r->max_retries = 0;
        r->min_idle = 0;
    }
}

/* The writer lane from wcfg, joined to its readers (open already); the readers closed when
 * the writer cannot open. */
static int open_writer(const sqlpool_config *wcfg, sqlpool *readers, sqlpool **out) {
    sqlpool *writer = NULL;
    int rc = sqlpool__open(wcfg, &writer);
    if (rc != SQLPOOL_OK) {
        char why[512];
        (void)strncpy(why, sqlpool_errmsg(), sizeof why - 1);
        why[sizeof why - 1] = '\0';
        sqlpool_close(readers);
        return sqlpool__fail(rc, "%s", why);
    }
    writer->read_lane = readers; /* before anyone else can see writer */
    readers->lane_writer = writer;
    atomic_init(&writer->lanes_left, 2);
    *out = writer;
    return SQLPOOL_OK;
}

/* Opens the pair for read_db: readers first, as below, so a bad read_db fails before any
 * connection to db is made. */
static int open_read_db(const sqlpool_config *cfg, sqlpool **out) {
    sqlpool_config lane;
    sqlpool *readers = NULL;
    int rc;
    *out = NULL;
    if (cfg->single_writer)
        return sqlpool__fail(SQLPOOL_EINVAL, "read_db and single_writer do not go together: "
                                             "single_writer is SQLite's, read_db PostgreSQL's");
    if (!sqlpool__dsn_is_pg(cfg->db) || !sqlpool__dsn_is_pg(cfg->read_db))
        return sqlpool__fail(SQLPOOL_EINVAL,
                             "read_db is for PostgreSQL: db and read_db must both be "
                             "PostgreSQL connection strings");
    reader_config(cfg, &lane);
    if ((rc = sqlpool__open(&lane, &readers)) != SQLPOOL_OK) return rc;
    lane = *cfg;
    lane.read_db = NULL;
    return open_writer(&lane, readers, out);
}

int sqlpool__lanes_open(const sqlpool_config *cfg, sqlpool **out) {
    sqlpool_config lane;
    sqlpool *readers = NULL;
    int rc;
    if (cfg->group_commit > 1 && sqlpool__backend_for(cfg->db)->set_lane == NULL)
        return sqlpool__fail(SQLPOOL_EINVAL,
                             "group_commit is for SQLite: a %s server commits many writers at "
                             "once by itself",
                             sqlpool__backend_for(cfg->db)->name);
    if (cfg->read_db != NULL) return open_read_db(cfg, out);
    if (!cfg->single_writer) return sqlpool__open(cfg, out);
    *out = NULL;
    if (sqlpool__backend_for(cfg->db)->set_lane == NULL)
        return sqlpool__fail(SQLPOOL_EINVAL,
                             "single_writer is for SQLite: a %s server takes many writers (route "
                             "reads by server instead)",
                             sqlpool__backend_for(cfg->db)->name);
    /* Readers first: a database that cannot have lanes fails there, before a writer opens. */
    lane = *cfg;
    lane.single_writer = SQLPOOL__LANE_READ;
    if ((rc = sqlpool__open(&lane, &readers)) != SQLPOOL_OK) return rc;
    writer_config(cfg, &lane);
    return open_writer(&lane, readers, out);
}

sqlpool *sqlpool__lane_of(sqlpool *pool, int lane) {
    if (pool == NULL) return NULL;
    if (lane == SQLPOOL__LANE_READ) return pool->read_lane;
    return lane == SQLPOOL__LANE_WRITE ? pool : NULL;
}

/* ---- reads ---- */

/* Did the read lane's acquire fail for want of a server (rather than waiting at its cap,
 * being closed, or misuse)? ECONNECT and EBUSY come only from connects; ETIMEDOUT also from a
 * wait, so it counts only when the lane has no connection open and its last connect failed. */
static int no_read_server(sqlpool *readers, int rc) {
    int none;
    if (rc == SQLPOOL_ECONNECT || rc == SQLPOOL_EBUSY) return 1;
    if (rc != SQLPOOL_ETIMEDOUT) return 0;
    sqlpool__pool_lock(readers);
    none = readers->open == 0 && readers->last_connect_rc != SQLPOOL_OK;
    sqlpool__pool_unlock(readers);
    return none;
}

/* The back-off after the read lane's nth failure in a row (n >= 1): 1 s doubling, to 30 s. */
#define READ_SKIP_FIRST 1.0
#define READ_SKIP_CAP 30.0
static long long skip_period_us(int n) {
    double p = READ_SKIP_FIRST;
    while (--n > 0 && p < READ_SKIP_CAP)
        p *= 2;
    return (long long)((p < READ_SKIP_CAP ? p : READ_SKIP_CAP) * 1e6);
}

static long long mono_us(void) {
    return (long long)(sqlpool__mono() * 1e6);
}

/* A read_db pool whose reads fall back (the only kind that backs off). */
static int falls_back(sqlpool *pool) {
    return pool != NULL && pool->read_lane != NULL &&
           pool->cfg.single_writer == SQLPOOL__LANE_NONE && pool->cfg.read_fallback;
}

/* The read lane failed for want of a server: back off. The first failure in a row sets the
 * period's end before the count, so that no read sees a count without its period (and takes
 * it for one over). A later one (a probe's: the count is already its own) moves the end to a
 * period after now, never earlier. */
static void skip_failed(sqlpool *pool) {
    long long now = mono_us(), until, want;
    int n = atomic_load_explicit(&pool->read_skip_fails, memory_order_acquire);
    if (n == 0) {
        atomic_store_explicit(&pool->read_skip_until, now + skip_period_us(1),
                              memory_order_release);
        (void)atomic_compare_exchange_strong(&pool->read_skip_fails, &n, 1);
        return;
    }
    want = now + skip_period_us(n);
    until = atomic_load_explicit(&pool->read_skip_until, memory_order_relaxed);
    while (until < want && !atomic_compare_exchange_weak(&pool->read_skip_until, &until, want)) {
    }
}

int sqlpool__read_skip_lane(sqlpool *pool) {
    long long now, until;
    int n;
    if (!falls_back(pool)) return 0;
    n = atomic_load_explicit(&pool->read_skip_fails, memory_order_acquire);
    if (n == 0) return 0; /* the plain read path: one load */
    until = atomic_load_explicit(&pool->read_skip_until, memory_order_acquire);
    now = mono_us();
    if (now < until) return 1;
    /* The period is over: this read probes, unless another took the turn first. The turn
     * counts as the next failure already (see the header comment). */
    if (!atomic_compare_exchange_strong(&pool->read_skip_until, &until,
                                        now + skip_period_us(n + 1)))
        return 1;
    (void)atomic_compare_exchange_strong(&pool->read_skip_fails, &n, n + 1);
    return 0;
}

int sqlpool__read_falls_back(sqlpool *pool, sqlpool *readers, int rc) {
    if (!falls_back(pool) || readers != pool->read_lane) return 0;
    if (rc == SQLPOOL_OK) {
        /* The lane has a server again. (A load first: the read path writes nothing.) */
        if (atomic_load_explicit(&pool->read_skip_fails, memory_order_relaxed) != 0)
            atomic_store_explicit(&pool->read_skip_fails, 0, memory_order_release);
        return 0;
    }
    if (!no_read_server(readers, rc)) return 0;
    skip_failed(pool);
    return 1;
}

int sqlpool_acquire_read_at(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                            int line) {
    sqlpool *readers = pool != NULL ? pool->read_lane : NULL;
    int rc;
    if (!falls_back(pool))
        return sqlpool_acquire_at(readers != NULL ? readers : pool, out, deadline, file, line);
    if (!sqlpool__read_skip_lane(pool)) {
        /* One deadline for both tries. */
        if (deadline == SQLPOOL_DEADLINE_DEFAULT)
            deadline = pool->cfg.acquire_timeout > 0
                           ? sqlpool__now(pool) + pool->cfg.acquire_timeout
                           : INFINITY;
        rc = sqlpool_acquire_at(readers, out, deadline, file, line);
        if (!sqlpool__read_falls_back(pool, readers, rc)) return rc;
    }
    rc = sqlpool_acquire_at(pool, out, deadline, file, line);
    if (rc == SQLPOOL_OK) atomic_fetch_add_explicit(&pool->read_fallbacks, 1, memory_order_relaxed);
    return rc;
}

int(sqlpool_acquire_read)(sqlpool *pool, sqlpool_conn **out) {
    return sqlpool_acquire_read_at(pool, out, SQLPOOL_DEADLINE_DEFAULT, NULL, 0);
}

int(sqlpool_acquire_read_until)(sqlpool *pool, sqlpool_conn **out, double deadline) {
    return sqlpool_acquire_read_at(pool, out, sqlpool__deadline(deadline), NULL, 0);
}

int sqlpool_try_acquire_read(sqlpool *pool, sqlpool_conn **out) {
    return sqlpool_try_acquire(pool != NULL && pool->read_lane != NULL ? pool->read_lane : pool,
                               out);
}
