/*
 * stats_format.c: sqlpool_stats_format(), the pool's stats as JSON or in the Prometheus text
 * exposition format, written into the caller's buffer as snprintf does (nothing allocated).
 * The Prometheus names follow OpenTelemetry's db.client.connection.* conventions.
 */
#include "pool_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The text being written: into buf while it fits, and always counted in used. */
typedef struct writer {
    char *buf;
    size_t len;       /* bytes of buf, the NUL included */
    size_t used;      /* length of the whole text so far; may pass len */
    int bad;          /* an encoding error */
    const char *lane; /* Prometheus: the lane label of the samples now written, or NULL */
} writer;

static void put(writer *w, const char *fmt, ...) SQLPOOL__PRINTF(2, 3);
static void put(writer *w, const char *fmt, ...) {
    char *dst = w->used < w->len ? w->buf + w->used : NULL;
    va_list ap;
    int n;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): analyzer FP, va_start is above */
    n = vsnprintf(dst, dst != NULL ? w->len - w->used : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        w->bad = 1;
    else
        w->used += (size_t)n;
}

/* s as the inside of a JSON string or a Prometheus label value. Pool names need no escaping
 * (sqlpool_open allows none of these characters); this keeps the output valid regardless. */
static void put_escaped(writer *w, const char *s, int json) {
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(w, "\\%c", c);
        else if (c == '\n')
            put(w, "\\n");
        else if (json && c < 0x20)
            put(w, "\\u%04x", c);
        else
            put(w, "%c", c);
    }
}

/* A double as text that reads back the same, with '.' whatever the locale; JSON has no
 * infinities, so they are null there. */
static void format_real(char *out, size_t len, double v, int json) {
    char *p, *q;
    size_t n;
    if (!isfinite(v)) {
        (void)snprintf(out, len, "%s", json ? "null" : isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
        return;
    }
    (void)snprintf(out, len, "%.17g", v);
    /* The locale's decimal point (maybe several bytes) becomes '.'. */
    for (p = q = out; *p != '\0'; p++) {
        if (strchr("0123456789+-eE", *p) != NULL)
            *q++ = *p;
        else if (q == out || q[-1] != '.')
            *q++ = '.';
    }
    *q = '\0';
    n = (size_t)(q - out);
    if (json && strpbrk(out, ".e") == NULL && n + 2 < len)
        memcpy(out + n, ".0", 3); /* a JSON real stays a real, as jansson writes it */
}

/* ---- JSON ---- */

static void json_int(writer *w, const char *key, long long v) {
    put(w, ",\"%s\":%lld", key, v);
}

static void json_real(writer *w, const char *key, double v) {
    char num[40];
    format_real(num, sizeof num, v, 1);
    put(w, ",\"%s\":%s", key, num);
}

/* The CLI's pool_stats object (cli/report.c), in its order, after the name. */
static void write_json(writer *w, const char *name, const sqlpool_stats *st) {
    put(w, "{\"name\":\"");
    put_escaped(w, name, 1);
    put(w, "\"");
    json_int(w, "created", st->created);
    json_int(w, "reused", st->reused);
    json_int(w, "idle", st->idle);
    json_int(w, "pool_size", st->max_idle);
    json_int(w, "peak_in_use", st->peak_in_use);
    json_int(w, "in_use", st->in_use);
    json_int(w, "open", st->open);
    json_int(w, "max_open", st->max_open);
    json_int(w, "connecting", st->connecting);
    json_int(w, "waiting", st->waiting);
    json_int(w, "closed", st->closed);
    json_int(w, "closed_idle", st->closed_idle);
    json_int(w, "closed_lifetime", st->closed_lifetime);
    json_int(w, "closed_broken", st->closed_broken);
    json_int(w, "closed_max_idle", st->closed_max_idle);
    json_int(w, "closed_pool", st->closed_pool);
    json_int(w, "closed_shrink", st->closed_shrink);
    json_int(w, "closed_close_idle", st->closed_close_idle);
    json_int(w, "discarded_by_hook", st->discarded_by_hook);
    json_int(w, "closed_evicted", st->closed_evicted);
    json_int(w, "closed_role", st->closed_role);
    json_int(w, "discarded", st->discarded);
    json_int(w, "connect_retries", st->connect_retries);
    json_int(w, "connect_failures", st->connect_failures);
    json_int(w, "acquires", st->acquires);
    json_int(w, "wait_count", st->wait_count);
    json_int(w, "timeouts", st->timeouts);
    json_real(w, "wait_seconds", st->wait_seconds);
    json_real(w, "wait_p50", st->wait_p50);
    json_real(w, "wait_p90", st->wait_p90);
    json_real(w, "wait_p99", st->wait_p99);
    json_real(w, "wait_max", st->wait_max);
    json_int(w, "checkpoints", st->checkpoints);
    json_int(w, "checkpoints_busy", st->checkpoints_busy);
    json_int(w, "wal_peak", st->wal_peak);
    json_int(w, "read_fallbacks", st->read_fallbacks);
    json_int(w, "group_commits", st->group_commits);
    json_int(w, "grouped", st->grouped);
#ifdef SQLPOOL_ABI_TEST_EXTRA /* the ABI test's second library shows its extra field */
    json_int(w, "abi_test_extra", st->abi_test_extra);
#endif
}

/* A lane's acquires and waits (single_writer), as "write":{...}. */
static void write_json_lane(writer *w, const char *lane, const sqlpool_stats *st) {
    put(w, "\"%s\":{\"open\":%d", lane, st->open);
    json_int(w, "idle", st->idle);
    json_int(w, "in_use", st->in_use);
    json_int(w, "max_open", st->max_open);
    json_int(w, "waiting", st->waiting);
    json_int(w, "acquires", st->acquires);
    json_int(w, "wait_count", st->wait_count);
    json_int(w, "timeouts", st->timeouts);
    json_real(w, "wait_seconds", st->wait_seconds);
    json_real(w, "wait_p50", st->wait_p50);
    json_real(w, "wait_p90", st->wait_p90);
    json_real(w, "wait_p99", st->wait_p99);
    json_real(w, "wait_max", st->wait_max);
    put(w, "}");
}

/* ---- Prometheus ---- */

/* A metric family's # HELP and # TYPE lines. */
static void family(writer *w, const char *metric, const char *type, const char *help) {
    put(w, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

/* One sample: metric{pool_name="...",key="value"} number; key NULL for none. */
static void sample(writer *w, const char *metric, const char *pool, const char *key,
                   const char *value, const char *number) {
    put(w, "%s{pool_name=\"", metric);
    put_escaped(w, pool, 0);
    if (w->lane != NULL) put(w, "\",lane=\"%s", w->lane);
    if (key != NULL && value != NULL) {
        put(w, "\",%s=\"", key);
        put_escaped(w, value, 0);
    }
    put(w, "\"} %s\n", number);
}

static void sample_int(writer *w, const char *metric, const char *pool, const char *key,
                       const char *value, long long v) {
    char num[24];
    (void)snprintf(num, sizeof num, "%lld", v);
    sample(w, metric, pool, key, value, num);
}

static void sample_real(writer *w, const char *metric, const char *pool, const char *key,
                        const char *value, double v) {
    char num[40];
    format_real(num, sizeof num, v, 0);
    sample(w, metric, pool, key, value, num);
}

/* A family of one unlabelled (but for pool_name) sample. */
static void single(writer *w, const char *pool, const char *metric, const char *type,
                   const char *help, long long v) {
    family(w, metric, type, help);
    sample_int(w, metric, pool, NULL, NULL, v);
}

/* OpenTelemetry's db.client.connection.* metrics (the semantic conventions' descriptions). */
static void write_otel(writer *w, const char *pool, const sqlpool_config *cfg,
                       const sqlpool_stats *st) {
    family(w, "db_client_connection_count", "gauge",
           "The number of connections that are currently in the state described by the state "
           "label.");
    sample_int(w, "db_client_connection_count", pool, "state", "idle", st->idle);
    sample_int(w, "db_client_connection_count", pool, "state", "used", st->open - st->idle);
    single(w, pool, "db_client_connection_idle_max", "gauge",
           "The maximum number of idle open connections allowed.", st->max_idle);
    single(w, pool, "db_client_connection_idle_min", "gauge",
           "The minimum number of idle open connections allowed.", cfg->min_idle);
    if (st->max_open > 0)
        single(w, pool, "db_client_connection_max", "gauge",
               "The maximum number of open connections allowed.", st->max_open);
}

/* The families a single_writer pool gives by lane (lanes[0] the writer's, lanes[1] the
 * readers'), a plain pool without the label (lanes[0] its own, nlanes 1). */
static void write_acquires(writer *w, const char *pool, const sqlpool_stats *lanes, int nlanes) {
    static const char waits[] = "db_client_connection_wait_time_seconds";
    static const char *const names[] = {"write", "read"};
    const sqlpool_stats *st;
#define EACH_LANE(stmt)                                                                            \
    for (int l = 0; l < nlanes; l++) {                                                             \
        st = &lanes[l];                                                                            \
        w->lane = nlanes > 1 ? names[l] : NULL;                                                    \
        stmt;                                                                                      \
    }                                                                                              \
    w->lane = NULL
    family(w, "db_client_connection_pending_requests", "gauge",
           "The number of current pending requests for an open connection.");
    EACH_LANE(
        sample_int(w, "db_client_connection_pending_requests", pool, NULL, NULL, st->waiting));
    family(w, "db_client_connection_timeouts_total", "counter",
           "The number of connection timeouts that have occurred trying to obtain a connection "
           "from the pool.");
    EACH_LANE(sample_int(w, "db_client_connection_timeouts_total", pool, NULL, NULL, st->timeouts));
    family(w, waits, "summary", "The time it took to obtain an open connection from the pool.");
    EACH_LANE({
        sample_real(w, waits, pool, "quantile", "0.5", st->wait_p50);
        sample_real(w, waits, pool, "quantile", "0.9", st->wait_p90);
        sample_real(w, waits, pool, "quantile", "0.99", st->wait_p99);
        sample_real(w, "db_client_connection_wait_time_seconds_sum", pool, NULL, NULL,
                    st->wait_seconds);
        sample_int(w, "db_client_connection_wait_time_seconds_count", pool, NULL, NULL,
                   st->acquires);
    });
    family(w, "sqlpool_acquire_waits_total", "counter", "Acquires that had to wait.");
    EACH_LANE(sample_int(w, "sqlpool_acquire_waits_total", pool, NULL, NULL, st->wait_count));
    family(w, "sqlpool_acquire_wait_max_seconds", "gauge", "The longest acquire wait.");
    EACH_LANE(sample_real(w, "sqlpool_acquire_wait_max_seconds", pool, NULL, NULL, st->wait_max));
#undef EACH_LANE
}

/* The pool's own counters, beyond the conventions. */
static void write_sqlpool(writer *w, const char *pool, const sqlpool_stats *st) {
    static const char closed[] = "sqlpool_connections_closed_total";
    single(w, pool, "sqlpool_connections_created_total", "counter", "Connections opened.",
           st->created);
    single(w, pool, "sqlpool_connections_reused_total", "counter",
           "Acquires served by an existing connection.", st->reused);
    family(w, closed, "counter", "Connections closed, by reason.");
    sample_int(w, closed, pool, "reason", "idle", st->closed_idle);
    sample_int(w, closed, pool, "reason", "lifetime", st->closed_lifetime);
    sample_int(w, closed, pool, "reason", "broken", st->closed_broken);
    sample_int(w, closed, pool, "reason", "max_idle", st->closed_max_idle);
    sample_int(w, closed, pool, "reason", "pool", st->closed_pool);
    sample_int(w, closed, pool, "reason", "shrink", st->closed_shrink);
    sample_int(w, closed, pool, "reason", "close_idle", st->closed_close_idle);
    sample_int(w, closed, pool, "reason", "hook", st->discarded_by_hook);
    sample_int(w, closed, pool, "reason", "evicted", st->closed_evicted);
    sample_int(w, closed, pool, "reason", "role", st->closed_role);
    single(w, pool, "sqlpool_connect_retries_total", "counter",
           "Connect attempts repeated after an error that could pass.", st->connect_retries);
    single(w, pool, "sqlpool_connect_failures_total", "counter",
           "Connects that failed after their retries.", st->connect_failures);
    single(w, pool, "sqlpool_connections_connecting", "gauge", "Connects in progress.",
           st->connecting);
    single(w, pool, "sqlpool_connections_used_peak", "gauge",
           "The most connections borrowed at once since the pool opened.", st->peak_in_use);
    single(w, pool, "sqlpool_read_fallbacks_total", "counter",
           "Reads served by db because read_db had no server to give.", st->read_fallbacks);
    single(w, pool, "sqlpool_group_commits_total", "counter",
           "COMMITs that carried two or more sqlpool_write() transactions (group_commit).",
           st->group_commits);
    single(w, pool, "sqlpool_grouped_transactions_total", "counter",
           "The sqlpool_write() transactions those COMMITs carried.", st->grouped);
}

/* SQLite's WAL bound (config.wal_limit). */
static void write_wal(writer *w, const char *pool, const sqlpool_stats *st) {
    single(w, pool, "sqlpool_wal_checkpoints_total", "counter",
           "TRUNCATE checkpoints run because the WAL passed wal_limit.", st->checkpoints);
    single(w, pool, "sqlpool_wal_checkpoints_busy_total", "counter",
           "Of those, the ones readers kept from finishing within the busy timeout.",
           st->checkpoints_busy);
    single(w, pool, "sqlpool_wal_peak_bytes", "gauge", "The largest WAL seen after a commit.",
           st->wal_peak);
}

int sqlpool_stats_format(sqlpool *pool, int format, char *buf, size_t len, size_t *needed) {
    writer w = {buf, len, 0, 0, NULL};
    sqlpool_stats st, lanes[2];
    int nlanes;

    sqlpool__clear_error();
    if (needed != NULL) *needed = 0;
    if (buf != NULL && len > 0) buf[0] = '\0';
    if (pool == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "pool is NULL");
    if (buf == NULL && len > 0) return sqlpool__fail(SQLPOOL_EINVAL, "buf is NULL");
    if (format != SQLPOOL_FORMAT_JSON && format != SQLPOOL_FORMAT_PROMETHEUS)
        return sqlpool__fail(SQLPOOL_EINVAL, "format must be SQLPOOL_FORMAT_JSON or _PROMETHEUS");
    sqlpool_stats_get(pool, &st);
    nlanes = pool->read_lane != NULL ? 2 : 1;
    lanes[0] = st;
    if (nlanes == 2 && (sqlpool_stats_get_lane(pool, SQLPOOL_LANE_WRITE, &lanes[0]) != SQLPOOL_OK ||
                        sqlpool_stats_get_lane(pool, SQLPOOL_LANE_READ, &lanes[1]) != SQLPOOL_OK))
        return SQLPOOL_EINVAL; /* (never: the lanes of a single_writer pool) */
    /* cfg is read-only after open: no lock. */
    if (format == SQLPOOL_FORMAT_JSON) {
        write_json(&w, pool->cfg.name, &st);
        if (nlanes == 2) {
            put(&w, ",\"lanes\":{");
            write_json_lane(&w, "write", &lanes[0]);
            put(&w, ",");
            write_json_lane(&w, "read", &lanes[1]);
            put(&w, "}");
        }
        put(&w, "}");
    } else {
        write_otel(&w, pool->cfg.name, &pool->cfg, &st);
        write_acquires(&w, pool->cfg.name, lanes, nlanes);
        write_sqlpool(&w, pool->cfg.name, &st);
        if (pool->backend->stats != NULL) write_wal(&w, pool->cfg.name, &st);
    }
    if (w.bad) {
        if (len > 0) buf[0] = '\0';
        return sqlpool__fail(SQLPOOL_EINVAL, "the stats could not be formatted");
    }
    if (needed != NULL) *needed = w.used;
    if (w.used >= len) {
        if (len > 0) buf[0] = '\0'; /* no truncated document */
        return sqlpool__fail(SQLPOOL_ENOMEM, "the stats need %zu bytes, the buffer has %zu",
                             w.used + 1, len);
    }
    return SQLPOOL_OK;
}
