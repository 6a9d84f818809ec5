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
 */
#include "pool_internal.h"

#include <string.h>

/* The writer lane: one connection, and no more than one of min_idle. */
static void writer_config(const sqlpool_config *cfg, sqlpool_config *w) {
    *w = *cfg;
    w->single_writer = SQLPOOL__LANE_WRITE;
    w->max_open = 1;
    w->max_idle = 1;
    w->min_idle = cfg->min_idle > 0 ? 1 : 0;
}

int sqlpool__lanes_open(const sqlpool_config *cfg, sqlpool **out) {
    sqlpool_config lane;
    sqlpool *writer = NULL, *readers = NULL;
    int rc;
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
    if ((rc = sqlpool__open(&lane, &writer)) != SQLPOOL_OK) {
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

sqlpool *sqlpool__lane_of(sqlpool *pool, int lane) {
    if (pool == NULL) return NULL;
    if (lane == SQLPOOL__LANE_READ) return pool->read_lane;
    return lane == SQLPOOL__LANE_WRITE ? pool : NULL;
}

/* ---- reads ---- */

int sqlpool_acquire_read_at(sqlpool *pool, sqlpool_conn **out, double deadline, const char *file,
                            int line) {
    return sqlpool_acquire_at(pool != NULL && pool->read_lane != NULL ? pool->read_lane : pool, out,
                              deadline, file, line);
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
