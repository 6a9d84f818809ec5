/*
 * abi.c: the entry points that take a caller-allocated struct with its size, so a program
 * built against an older sqlpool.h (a smaller sqlpool_config or sqlpool_stats) works with
 * this library: each maps the caller's bytes onto a full-size struct and back, touching no
 * byte past the caller's size. Also the functions 0.1.0's header declared under the names
 * that are static inline wrappers now, for programs built against that header.
 */
#define SQLPOOL__V1_ENTRY_POINTS /* declare the exported v1 functions, not the inline ones */
#include "config.h"
#include "internal.h"
#include "pool_internal.h"

#include <stddef.h>
#include <string.h>

/* One field appended since 0.1.0: where it lies. A caller's size must not end inside one. */
typedef struct later_field {
    size_t offset, size;
} later_field;
#define FIELD(type, member)                                                                        \
    { offsetof(type, member), sizeof(((type *)0)->member) }
#define END(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* 0.1.0's structs ended with these fields; smaller sizes are no version's. */
#define CONFIG_V1 END(sqlpool_config, barge_window)
#define STATS_V1 END(sqlpool_stats, wait_max)
/* 0.2.0's fields. */
#define CONFIG_0_2                                                                                 \
    FIELD(sqlpool_config, init_sql), FIELD(sqlpool_config, on_connect),                            \
        FIELD(sqlpool_config, on_connect_ctx), FIELD(sqlpool_config, on_acquire),                  \
        FIELD(sqlpool_config, on_acquire_ctx), FIELD(sqlpool_config, on_release),                  \
        FIELD(sqlpool_config, on_release_ctx), FIELD(sqlpool_config, nested_acquire),              \
        FIELD(sqlpool_config, single_writer),
#define STATS_0_2                                                                                  \
    FIELD(sqlpool_stats, closed_shrink), FIELD(sqlpool_stats, closed_close_idle),                  \
        FIELD(sqlpool_stats, discarded_by_hook), FIELD(sqlpool_stats, closed_evicted),
/* 0.3.0's (config.single_writer took 0.2.0's reserved0, which had to be 0). */
#define CONFIG_0_3                                                                                 \
    FIELD(sqlpool_config, wal_limit), FIELD(sqlpool_config, statement_timeout),                    \
        FIELD(sqlpool_config, read_db), FIELD(sqlpool_config, read_max_open),                      \
        FIELD(sqlpool_config, read_fallback),
#define STATS_0_3                                                                                  \
    FIELD(sqlpool_stats, checkpoints), FIELD(sqlpool_stats, checkpoints_busy),                     \
        FIELD(sqlpool_stats, wal_peak), FIELD(sqlpool_stats, read_fallbacks),                      \
        FIELD(sqlpool_stats, closed_role),
/* 0.5.0's. */
#define CONFIG_0_5 FIELD(sqlpool_config, group_commit), FIELD(sqlpool_config, reserved1),
#define STATS_0_5 FIELD(sqlpool_stats, group_commits), FIELD(sqlpool_stats, grouped),

/* Append a new field of sqlpool_config or sqlpool_stats to its list here (before the {0, 0}
 * that ends it) and name it in CONFIG_END or STATS_END. */
#ifdef SQLPOOL_ABI_TEST_EXTRA /* the ABI test's second library: one field more in each */
#define CONFIG_LATER CONFIG_0_2 CONFIG_0_3 CONFIG_0_5 FIELD(sqlpool_config, abi_test_extra),
#define CONFIG_END END(sqlpool_config, abi_test_extra)
#define STATS_LATER STATS_0_2 STATS_0_3 STATS_0_5 FIELD(sqlpool_stats, abi_test_extra),
#define STATS_END END(sqlpool_stats, abi_test_extra)
#else
#define CONFIG_LATER CONFIG_0_2 CONFIG_0_3 CONFIG_0_5
#define CONFIG_END END(sqlpool_config, reserved1)
#define STATS_LATER STATS_0_2 STATS_0_3 STATS_0_5
#define STATS_END END(sqlpool_stats, grouped)
#endif

static const later_field config_later[] = {CONFIG_LATER{0, 0}};
static const later_field stats_later[] = {STATS_LATER{0, 0}};

/* Each version's struct must have a size of its own, which tells the library which fields the
 * caller has: so a struct ends with its last field, no tail padding (use 8-byte fields, or
 * pair smaller ones), and every field appended is listed above. */
_Static_assert(sizeof(sqlpool_config) == CONFIG_END,
               "sqlpool_config: list a new field in config_later and CONFIG_END; no tail padding");
_Static_assert(sizeof(sqlpool_stats) == STATS_END,
               "sqlpool_stats: list a new field in stats_later and STATS_END; no tail padding");

/* SQLPOOL_OK when size is from 0.1.0's struct up to this library's, on a field boundary. */
static int check_size(const char *what, size_t size, size_t v1, size_t full,
                      const later_field *later) {
    if (size < v1 || size > full)
        return sqlpool__fail(SQLPOOL_EINVAL,
                             "%s size %zu is not one this library knows (%zu to %zu): built "
                             "against another sqlpool.h?",
                             what, size, v1, full);
    for (; later->size != 0; later++)
        if (size > later->offset && size < later->offset + later->size)
            return sqlpool__fail(SQLPOOL_EINVAL, "%s size %zu ends inside a field", what, size);
    return SQLPOOL_OK;
}

int sqlpool_config_init_sized(sqlpool_config *cfg, size_t size) {
    sqlpool_config full;
    int rc;
    if (cfg == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "cfg is NULL");
    rc = check_size("sqlpool_config", size, CONFIG_V1, sizeof full, config_later);
    if (rc != SQLPOOL_OK) return rc;
    sqlpool__config_defaults(&full);
    memcpy(cfg, &full, size);
    return SQLPOOL_OK;
}

int sqlpool_open_sized(const sqlpool_config *cfg, size_t size, sqlpool **out) {
    sqlpool_config full;
    int rc;
    sqlpool__clear_error();
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (cfg == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "cfg is NULL");
    rc = check_size("sqlpool_config", size, CONFIG_V1, sizeof full, config_later);
    if (rc != SQLPOOL_OK) return rc;
    sqlpool__config_defaults(&full); /* the fields the caller's struct lacks */
    memcpy(&full, cfg, size);
    if ((rc = sqlpool__config_check(&full)) != SQLPOOL_OK) return rc;
    return sqlpool__lanes_open(&full, out);
}

int sqlpool_stats_get_sized(sqlpool *pool, sqlpool_stats *out, size_t size) {
    sqlpool_stats full;
    int rc;
    if (pool == NULL || out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool or out is NULL");
    rc = check_size("sqlpool_stats", size, STATS_V1, sizeof full, stats_later);
    if (rc != SQLPOOL_OK) return rc;
    sqlpool__stats_fill(pool, &full);
#ifdef SQLPOOL_ABI_TEST_EXTRA
    full.abi_test_extra = pool->cfg.abi_test_extra; /* cfg is read-only after open */
#endif
    memcpy(out, &full, size);
    return SQLPOOL_OK;
}

int sqlpool_stats_get_lane_sized(sqlpool *pool, int lane, sqlpool_stats *out, size_t size) {
    sqlpool_stats full, all;
    sqlpool *of;
    int rc;
    if (pool == NULL || out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool or out is NULL");
    if (lane != SQLPOOL_LANE_WRITE && lane != SQLPOOL_LANE_READ)
        return sqlpool__fail(SQLPOOL_EINVAL, "lane must be SQLPOOL_LANE_WRITE or _READ, got %d",
                             lane);
    rc = check_size("sqlpool_stats", size, STATS_V1, sizeof full, stats_later);
    if (rc != SQLPOOL_OK) return rc;
    if (pool->read_lane == NULL) { /* a plain pool: one lane, that writes */
        if (lane == SQLPOOL_LANE_READ)
            return sqlpool__fail(SQLPOOL_EINVAL, "no read lane: the pool is not single_writer");
        return sqlpool_stats_get_sized(pool, out, size);
    }
    of = sqlpool__lane_of(pool, lane);
    sqlpool__stats_fill_lane(of, &full);
    sqlpool__stats_fill(pool, &all); /* one WAL for both lanes: the pool's figures */
    full.checkpoints = all.checkpoints;
    full.checkpoints_busy = all.checkpoints_busy;
    full.wal_peak = all.wal_peak;
#ifdef SQLPOOL_ABI_TEST_EXTRA
    full.abi_test_extra = pool->cfg.abi_test_extra;
#endif
    memcpy(out, &full, size);
    return SQLPOOL_OK;
}

/* 0.1.0's functions, for programs built against its header: its struct sizes. */
void sqlpool_config_init(sqlpool_config *cfg) {
    (void)sqlpool_config_init_sized(cfg, CONFIG_V1);
}

int sqlpool_open(const sqlpool_config *cfg, sqlpool **out) {
    return sqlpool_open_sized(cfg, CONFIG_V1, out);
}

void sqlpool_stats_get(sqlpool *pool, sqlpool_stats *out) {
    (void)sqlpool_stats_get_sized(pool, out, STATS_V1);
}
