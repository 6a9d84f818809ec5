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

int sqlpool_acquire_read_at(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                            int line) {
    sqlpool *readers = pool != NULL ? pool->read_lane : NULL;
    int rc;
    if (readers == NULL || pool->cfg.single_writer != SQLPOOL__LANE_NONE ||
        !pool->cfg.read_fallback)
        return sqlpool_acquire_at(readers != NULL ? readers : pool, out, deadline, file, line);
    /* One deadline for both tries. */
    if (deadline == SQLPOOL_DEADLINE_DEFAULT)
        deadline = pool->cfg.acquire_timeout > 0 ? sqlpool__now(pool) + pool->cfg.acquire_timeout
                                                 : INFINITY;
    rc = sqlpool_acquire_at(readers, out, deadline, file, line);
    if (rc == SQLPOOL_OK || !no_read_server(readers, rc)) return rc;
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
