/* histogram.c: the log-linear duration histogram. */
#include "histogram.h"
#include "alloc.h"

#include "sqlpool.h"

#include <stdlib.h>

static int msb(uint64_t v) {
    return 63 - __builtin_clzll(v);
}

static int bucket_of(uint64_t ns) {
    int top;
    if (ns < SQLPOOL__HIST_SUB) return (int)ns;
    top = msb(ns); /* >= 4 */
    return SQLPOOL__HIST_SUB + (top - 4) * SQLPOOL__HIST_SUB +
           (int)((ns >> (top - 4)) & (SQLPOOL__HIST_SUB - 1));
}

/* The largest value that falls in bucket b. */
static uint64_t bucket_top(int b) {
    int group, sub;
    if (b < SQLPOOL__HIST_SUB) return (uint64_t)b;
    group = (b - SQLPOOL__HIST_SUB) / SQLPOOL__HIST_SUB + 4;
    sub = (b - SQLPOOL__HIST_SUB) % SQLPOOL__HIST_SUB;
    if (group >= 63) return UINT64_MAX;
    return ((uint64_t)(SQLPOOL__HIST_SUB + sub + 1) << (group - 4)) - 1;
}

void sqlpool__hist_record(sqlpool__histogram *h, uint64_t ns) {
    h->buckets[bucket_of(ns)]++;
    h->count++;
    if (ns > h->max_ns) h->max_ns = ns;
}

uint64_t sqlpool__hist_quantile(const sqlpool__histogram *h, double q) {
    uint64_t rank, seen = 0;
    if (h->count == 0) return 0;
    if (q <= 0) q = 0;
    if (q >= 1) return h->max_ns;
    rank = (uint64_t)(q * (double)h->count) + 1;
    if (rank > h->count) rank = h->count;
    for (int b = 0; b < SQLPOOL__HIST_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            uint64_t top = bucket_top(b);
            return top < h->max_ns ? top : h->max_ns;
        }
    }
    return h->max_ns;
}

/* ---- the public face: the same histogram, in seconds ---- */

struct sqlpool_histogram {
    sqlpool__histogram h;
};

sqlpool_histogram *sqlpool_histogram_new(void) {
    return sqlpool__calloc(1, sizeof(sqlpool_histogram));
}

void sqlpool_histogram_free(sqlpool_histogram *h) {
    sqlpool__free(h);
}

void sqlpool_histogram_record(sqlpool_histogram *h, double seconds) {
    sqlpool__hist_record(&h->h, seconds > 0 ? (uint64_t)(seconds * 1e9) : 0);
}

void sqlpool__hist_merge(sqlpool__histogram *into, const sqlpool__histogram *from) {
    for (int b = 0; b < SQLPOOL__HIST_BUCKETS; b++)
        into->buckets[b] += from->buckets[b];
    into->count += from->count;
    if (from->max_ns > into->max_ns) into->max_ns = from->max_ns;
}

void sqlpool_histogram_merge(sqlpool_histogram *into, const sqlpool_histogram *from) {
    sqlpool__hist_merge(&into->h, &from->h);
}

long long sqlpool_histogram_count(const sqlpool_histogram *h) {
    return (long long)h->h.count;
}

double sqlpool_histogram_quantile(const sqlpool_histogram *h, double q) {
    return (double)sqlpool__hist_quantile(&h->h, q) * 1e-9;
}
