/* report.h: the summary's "health" and "pool_stats" objects, from the library's structs. */
#ifndef SQLPOOL_CLI_REPORT_H
#define SQLPOOL_CLI_REPORT_H

#include "sqlpool.h"

#include <jansson.h>

/* {"status": "healthy", "sqlite_version": ...} or {"status": "unhealthy", "error": ...}.
 * NULL when out of memory; the caller owns the result. */
/* "sqlite_version" or, for PostgreSQL, "server_version": the key of a healthy version. */
const char *report_version_key(const sqlpool_health *h);

json_t *report_health(const sqlpool_health *h);
/* The original's four counters first (created, reused, idle, pool_size), then the rest.
 * NULL when out of memory; the caller owns the result. */
json_t *report_stats(const sqlpool_stats *st);

#endif
