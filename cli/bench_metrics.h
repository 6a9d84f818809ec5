/*
 * bench_metrics.h: `sqlpool bench --metrics-listen HOST:PORT`, a small HTTP server (libmicrohttpd)
 * that, while the benchmark runs, serves the pool of the run in progress:
 *   GET /metrics  200, sqlpool_stats_format() as Prometheus text (version 0.0.4); 503 with a
 *                 one-line text/plain reason when no pooled run is in progress (an unpooled run
 *                 of --mode both has no pool to show, and there is none between runs)
 *   GET /health   200 {"status":"healthy","backend":...,"version":...} when a connection can be
 *                 borrowed within BENCH_METRICS_HEALTH_WAIT seconds and passes
 *                 sqlpool_conn_health(); else 503 {"status":"unhealthy","error":"..."}
 * 404 for any other path, 405 for a method other than GET or HEAD.
 */
#ifndef SQLPOOL_CLI_BENCH_METRICS_H
#define SQLPOOL_CLI_BENCH_METRICS_H

#include "sqlpool.h"

/* Longest a /health request waits for a connection of a busy pool (seconds). */
#define BENCH_METRICS_HEALTH_WAIT 0.5

typedef struct bench_metrics bench_metrics;

/* 1 when this build has the server (libmicrohttpd), else 0. */
int bench_metrics_available(void);

/* Parse HOST:PORT strictly: HOST a dotted-quad IPv4 literal other than 0.0.0.0 (the server
 * listens on one explicit address, never on all of them), PORT a whole number 0 to 65535
 * (0: the system picks a free one). Returns 0 and fills ip (network order) and port, or -1. */
int bench_metrics_parse_listen(const char *value, unsigned char ip[4], int *port);

/* Listen and start serving (no pool yet), printing "metrics: listening on ADDR:PORT" on
 * stderr. Returns 0 with *out set, or an EXIT_* status (message printed) with *out NULL. */
int bench_metrics_start(const unsigned char ip[4], int port, bench_metrics **out);

/* Serve pool from now on (NULL: none). Once it returns, no request uses the previous pool any
 * more, so the caller may close it. m NULL: a no-op. Thread-safe. */
void bench_metrics_set_pool(bench_metrics *m, sqlpool *pool);

/* Stop serving (waiting for a request in progress) and free m. NULL: a no-op. */
void bench_metrics_stop(bench_metrics *m);

#endif
