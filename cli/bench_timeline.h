/*
 * bench_timeline.h: `sqlpool bench --timeline FILE.svg`: one run cut into 100 ms intervals,
 * each with its committed transactions, its errors, the p99 latency of its transactions, and
 * what happened to the pool in it (backends killed by --kill-every, connects that failed,
 * connections closed because their server changed role, reads that fell back to db), drawn
 * with bench_plot.c's chart and added to --json as a "timeline" array.
 *
 * The clients count into the current interval with atomics (bench_timeline_commit/_error,
 * thread-safe); one thread (the driver's supervise loop) closes each interval with
 * bench_timeline_close, which takes the counts and zeroes them in one exchange each, so a
 * transaction that ends while an interval closes is counted in this one or the next, never
 * twice or not at all.
 */
#ifndef SQLPOOL_CLI_BENCH_TIMELINE_H
#define SQLPOOL_CLI_BENCH_TIMELINE_H

#include "sqlpool.h"

#include <jansson.h>
#include <stddef.h>

#define BENCH_TIMELINE_STEP 0.1 /* seconds per interval */

typedef struct bench_timeline_sample {
    double t; /* seconds from the start to the end of the interval */
    long long transactions, errors;
    double p99; /* seconds; 0 when no transaction committed in the interval */
    /* In this interval (differences of the pool's counters; 0 for an unpooled run): */
    long long kills, connect_failures, closed_role, read_fallbacks;
} bench_timeline_sample;

typedef struct bench_timeline bench_timeline;

/* A new, empty timeline, or NULL when out of memory. */
bench_timeline *bench_timeline_new(void);
/* Free it (NULL: nothing). */
void bench_timeline_free(bench_timeline *tl);
/* A transaction committed after seconds, or one failed: thread-safe, lock-free; tl NULL:
 * nothing. */
void bench_timeline_commit(bench_timeline *tl, double seconds);
void bench_timeline_error(bench_timeline *tl);
/* Close the interval ending at t seconds from the start: st the pool's counters now (NULL for
 * an unpooled run), kills the run's kills so far. One thread only. 0, or -1 when out of
 * memory (the sample is lost, the run goes on). */
int bench_timeline_close(bench_timeline *tl, double t, const sqlpool_stats *st, long long kills);
/* The samples so far, and their count. */
const bench_timeline_sample *bench_timeline_samples(const bench_timeline *tl, size_t *n);
/* The samples as a JSON array of {"t", "transactions", "errors", "tps", "p99_ms", "kills",
 * "connect_failures", "closed_role", "read_fallbacks"}; NULL when out of memory. */
json_t *bench_timeline_json(const bench_timeline *tl);
/* Write the chart to path (whole or not at all, as --plot): 0, or an exit status with a
 * one-line message in err. */
int bench_timeline_svg(const bench_timeline *tl, const char *path, const char *title, char *err,
                       size_t errlen);

#endif
