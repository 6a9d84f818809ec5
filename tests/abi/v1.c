/*
 * A binary built against 0.1.0's sqlpool.h called sqlpool_config_init, sqlpool_open and
 * sqlpool_stats_get as functions of the library. This file does the same: with
 * SQLPOOL__V1_ENTRY_POINTS the header declares those exported functions rather than its inline
 * wrappers. 0.1.0's sqlpool_config is this header's; its sqlpool_stats ended at wait_max
 * (closed_shrink and closed_close_idle came in 0.2.0). Each must keep to 0.1.0's sizes,
 * whatever the library's structs have grown to.
 */
#define SQLPOOL__V1_ENTRY_POINTS
#include "sqlpool.h"
#include "v1.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CANARY 0xA5

static int failed(const char *what) {
    fprintf(stderr, "v1.c: check failed: %s\n", what);
    return 1;
}

static int intact(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != CANARY) return 0;
    return 1;
}

int abi_v1_failures(void) {
    struct {
        sqlpool_config cfg;
        unsigned char after[32];
    } cb;
    struct {
        sqlpool_stats st;
        unsigned char after[32];
    } sb;
    sqlpool *pool = NULL;
    sqlpool_conn *conn = NULL;
    int n = 0;
    memset(&cb, CANARY, sizeof cb);
    sqlpool_config_init(&cb.cfg);
    if (!intact(cb.after, sizeof cb.after)) n += failed("config_init wrote past 0.1.0's struct");
    if (cb.cfg.max_idle != 5) n += failed("config_init gave max_idle its default");
    cb.cfg.max_idle = 4;
    if (sqlpool_open(&cb.cfg, &pool) != SQLPOOL_OK || pool == NULL)
        return n + failed("open of a 0.1.0 config");
    if (sqlpool_acquire_at(pool, &conn, SQLPOOL_DEADLINE_DEFAULT, NULL, 0) != SQLPOOL_OK)
        n += failed("acquire");
    sqlpool_release(conn);
    memset(&sb, CANARY, sizeof sb);
    sqlpool_stats_get(pool, &sb.st);
    {
        size_t v1_end = offsetof(sqlpool_stats, wait_max) + sizeof sb.st.wait_max;
        if (!intact((const unsigned char *)&sb + v1_end, sizeof sb - v1_end))
            n += failed("stats_get wrote past 0.1.0's struct (which ended at wait_max)");
    }
    if (sb.st.created != 1 || sb.st.idle != 1 || sb.st.max_idle != 4 || sb.st.wait_max != 0.0)
        n += failed("stats_get gave the pool's counters");
    sqlpool_close(pool);
    return n;
}
