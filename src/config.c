/*
 * config.c: the defaults of sqlpool_config and the checks sqlpool_open() makes, on the
 * library's full-size struct (abi.c maps the caller's struct onto one).
 */
#include "config.h"
#include "internal.h"

#include <math.h>
#include <string.h>

void sqlpool__config_defaults(sqlpool_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->db = ":memory:";
    cfg->max_idle = 5;
    cfg->max_retries = 3;
    cfg->connect_timeout = 5.0;
    cfg->retry_backoff = 0.010;
    cfg->create = 1;
    cfg->log_level = SQLPOOL_LOG_INFO;
    cfg->max_connecting = 2;
    cfg->acquire_timeout = 30.0;
    cfg->idle_timeout = 600.0;
    cfg->max_lifetime = 1800.0;
    cfg->validation_bypass = 0.5;
    cfg->close_timeout = 5.0;
    cfg->stmt_cache_size = 32;
    cfg->name = "sqlpool";
    cfg->wal_limit = 64LL << 20;
    cfg->read_fallback = 1;
#ifdef SQLPOOL_ABI_TEST_EXTRA
    cfg->abi_test_extra = 7;
#endif
}

static int valid_seconds(double s) {
    return isfinite(s) && s >= 0;
}

/* A pool name goes into metric labels and JSON as it is: [a-zA-Z0-9_.-]+ only. */
static int valid_name(const char *name) {
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
    return name[0] != '\0' && name[strspn(name, ok)] == '\0';
}

int sqlpool__config_check(const sqlpool_config *cfg) {
    if (cfg->db == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "db is NULL");
    if (cfg->name != NULL && !valid_name(cfg->name))
        return sqlpool__fail(SQLPOOL_EINVAL, "name must be one or more of [a-zA-Z0-9_.-]");
    if (cfg->max_idle < 1)
        return sqlpool__fail(SQLPOOL_EINVAL, "max_idle must be at least 1, got %d", cfg->max_idle);
    if (cfg->max_retries < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "max_retries must not be negative, got %d",
                             cfg->max_retries);
    if (cfg->max_open < 0 || cfg->min_idle < 0 || cfg->stmt_cache_size < 0)
        return sqlpool__fail(SQLPOOL_EINVAL,
                             "max_open, min_idle and stmt_cache_size must not be negative");
    if (cfg->log_level < SQLPOOL_LOG_ERROR || cfg->log_level > SQLPOOL_LOG_DEBUG)
        return sqlpool__fail(SQLPOOL_EINVAL, "log_level must be SQLPOOL_LOG_ERROR to _DEBUG");
    if (cfg->retry_backoff > SQLPOOL__MAX_WAIT)
        return sqlpool__fail(SQLPOOL_EINVAL, "retry_backoff must be at most %.0f seconds",
                             SQLPOOL__MAX_WAIT);
    if (cfg->nested_acquire < SQLPOOL_NESTED_WARN || cfg->nested_acquire > SQLPOOL_NESTED_ALLOW)
        return sqlpool__fail(SQLPOOL_EINVAL,
                             "nested_acquire must be SQLPOOL_NESTED_WARN, _FAIL or _ALLOW, got %d",
                             cfg->nested_acquire);
    if (cfg->single_writer != 0 && cfg->single_writer != 1)
        return sqlpool__fail(SQLPOOL_EINVAL, "single_writer must be 0 or 1, got %d",
                             cfg->single_writer);
    if (cfg->read_max_open < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "read_max_open must not be negative, got %d",
                             cfg->read_max_open);
    if (cfg->read_fallback != 0 && cfg->read_fallback != 1)
        return sqlpool__fail(SQLPOOL_EINVAL, "read_fallback must be 0 or 1, got %d",
                             cfg->read_fallback);
    if (cfg->group_commit < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "group_commit must not be negative, got %d",
                             cfg->group_commit);
    if (cfg->reserved1 != 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "reserved1 must be 0, got %d", cfg->reserved1);
    if (cfg->wal_limit < 0)
        return sqlpool__fail(SQLPOOL_EINVAL, "wal_limit must not be negative, got %lld",
                             cfg->wal_limit);
    if (cfg->max_connecting < 1)
        return sqlpool__fail(SQLPOOL_EINVAL, "max_connecting must be at least 1, got %d",
                             cfg->max_connecting);
    if (!valid_seconds(cfg->connect_timeout) || !valid_seconds(cfg->retry_backoff) ||
        !valid_seconds(cfg->acquire_timeout) || !valid_seconds(cfg->idle_timeout) ||
        !valid_seconds(cfg->max_lifetime) || !valid_seconds(cfg->keepalive_interval) ||
        !valid_seconds(cfg->validation_bypass) || !valid_seconds(cfg->leak_threshold) ||
        !valid_seconds(cfg->close_timeout) || !valid_seconds(cfg->barge_window) ||
        !valid_seconds(cfg->statement_timeout))
        return sqlpool__fail(SQLPOOL_EINVAL, "every timeout and interval must be a finite "
                                             "number of seconds >= 0");
    return SQLPOOL_OK;
}
