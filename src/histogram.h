/*
 * histogram.h: a log-linear histogram of durations, HdrHistogram-style: exact below 16 ns,
 * then 16 sub-buckets per power of two, so any percentile is within 1/16 (6.25%) of the
 * truth, in constant memory and constant time per sample. Not synchronised: the pool keeps
 * its one under the pool lock.
 */
#ifndef SQLPOOL_HISTOGRAM_H
#define SQLPOOL_HISTOGRAM_H

#include <stdint.h>

#define SQLPOOL__HIST_SUB 16
#define SQLPOOL__HIST_BUCKETS (SQLPOOL__HIST_SUB + 60 * SQLPOOL__HIST_SUB)

typedef struct sqlpool__histogram {
    uint64_t count;
    uint64_t max_ns;
    uint64_t buckets[SQLPOOL__HIST_BUCKETS];
} sqlpool__histogram;

/* Add one sample of ns nanoseconds. */
void sqlpool__hist_record(sqlpool__histogram *h, uint64_t ns);

/* Add a sample of zero: what most acquires wait. Inline for the acquire path. */
static inline void sqlpool__hist_record_zero(sqlpool__histogram *h) {
    h->buckets[0]++;
    h->count++;
}

/* Add every sample of from to into. */
void sqlpool__hist_merge(sqlpool__histogram *into, const sqlpool__histogram *from);

/* The value (ns) at quantile q in [0, 1]: the upper edge of the bucket holding it, capped at
 * the largest sample; 0 when empty. */
uint64_t sqlpool__hist_quantile(const sqlpool__histogram *h, double q);

#endif
