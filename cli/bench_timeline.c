/* bench_timeline.c: the 100 ms intervals of one bench run (bench_timeline.h), and their chart
 * through bench_plot.c: transactions/s and errors/s above, p99 latency below, against time,
 * with the pool's events as vertical lines. */
#include "bench_timeline.h"

#include "bench_plot.h"
#include "exitcodes.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Latency bins: four per octave from 1 us, so a p99 is within 19% (2^(1/4)) of the truth;
 * the last bin takes everything from 2^27 us (134 s) up. */
#define NBINS 112
#define BIN_BASE 1e-6

struct bench_timeline {
    /* The current interval, counted by every client (atomics): */
    atomic_llong transactions, errors;
    atomic_llong bins[NBINS];
    /* Read by the sampling thread only: */
    bench_timeline_sample *samples;
    size_t n, cap;
    sqlpool_stats last; /* the pool's counters at the last sample */
    long long last_kills;
    int have_last;
};

bench_timeline *bench_timeline_new(void) {
    return calloc(1, sizeof(bench_timeline));
}

void bench_timeline_free(bench_timeline *tl) {
    if (tl == NULL) return;
    free(tl->samples);
    free(tl);
}

static int bin_of(double seconds) {
    double b = seconds > BIN_BASE ? 4.0 * log2(seconds / BIN_BASE) : 0.0;
    return b >= NBINS - 1 ? NBINS - 1 : (int)b;
}

/* The middle of bin i (geometrically), in seconds. */
static double bin_value(int i) {
    return BIN_BASE * exp2(((double)i + 0.5) / 4.0);
}

void bench_timeline_commit(bench_timeline *tl, double seconds) {
    if (tl == NULL) return;
    atomic_fetch_add(&tl->bins[bin_of(seconds)], 1);
    atomic_fetch_add(&tl->transactions, 1);
}

void bench_timeline_error(bench_timeline *tl) {
    if (tl != NULL) atomic_fetch_add(&tl->errors, 1);
}

/* The p99 of the interval's bins (taken and zeroed). */
static double take_p99(bench_timeline *tl) {
    long long counts[NBINS], total = 0, seen = 0;
    for (int i = 0; i < NBINS; i++)
        total += counts[i] = atomic_exchange(&tl->bins[i], 0);
    for (int i = 0; i < NBINS && total > 0; i++)
        if ((seen += counts[i]) * 100 >= total * 99) return bin_value(i);
    return 0.0;
}

int bench_timeline_close(bench_timeline *tl, double t, const sqlpool_stats *st, long long kills) {
    bench_timeline_sample s;
    memset(&s, 0, sizeof s);
    s.t = t;
    s.p99 = take_p99(tl);
    s.transactions = atomic_exchange(&tl->transactions, 0);
    s.errors = atomic_exchange(&tl->errors, 0);
    s.kills = kills - tl->last_kills;
    tl->last_kills = kills;
    if (st != NULL) {
        if (tl->have_last) {
            s.connect_failures = st->connect_failures - tl->last.connect_failures;
            s.closed_role = st->closed_role - tl->last.closed_role;
            s.read_fallbacks = st->read_fallbacks - tl->last.read_fallbacks;
        }
        tl->last = *st;
        tl->have_last = 1;
    }
    if (tl->n == tl->cap) {
        size_t cap = tl->cap ? 2 * tl->cap : 256;
        bench_timeline_sample *grown = realloc(tl->samples, cap * sizeof *grown);
        if (grown == NULL) return -1;
        tl->samples = grown;
        tl->cap = cap;
    }
    tl->samples[tl->n++] = s;
    return 0;
}

const bench_timeline_sample *bench_timeline_samples(const bench_timeline *tl, size_t *n) {
    *n = tl->n;
    return tl->samples;
}

/* Per second over the interval that ends at sample i. */
static double rate(const bench_timeline *tl, size_t i, long long count) {
    double len = tl->samples[i].t - (i > 0 ? tl->samples[i - 1].t : 0.0);
    return len > 0 ? (double)count / len : 0.0;
}

json_t *bench_timeline_json(const bench_timeline *tl) {
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < tl->n; i++) {
        const bench_timeline_sample *s = &tl->samples[i];
        if (json_array_append_new(a, json_pack("{s:f, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I}", "t",
                                               s->t, "transactions", (json_int_t)s->transactions,
                                               "errors", (json_int_t)s->errors, "tps",
                                               rate(tl, i, s->transactions), "p99_ms", s->p99 * 1e3,
                                               "kills", (json_int_t)s->kills, "connect_failures",
                                               (json_int_t)s->connect_failures, "closed_role",
                                               (json_int_t)s->closed_role, "read_fallbacks",
                                               (json_int_t)s->read_fallbacks)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* One event per kind and interval in which it happened, labelled with its count. */
static size_t add_event(bench_plot_event *ev, char (*labels)[96], size_t k, double t,
                        long long count, const char *kind, const char *what) {
    if (count <= 0) return k;
    (void)snprintf(labels[k], sizeof labels[k], "%lld %s", count, what);
    ev[k].x = t;
    ev[k].kind = kind;
    ev[k].label = labels[k];
    return k + 1;
}

int bench_timeline_svg(const bench_timeline *tl, const char *path, const char *title, char *err,
                       size_t errlen) {
    static const char *const names[2] = {"transactions", "errors"};
    size_t n = tl->n ? tl->n : 1, nev = 0;
    double *buf = calloc(4 * n, sizeof *buf);
    bench_plot_event *ev = calloc(4 * n, sizeof *ev);
    char(*labels)[96] = calloc(4 * n, sizeof *labels);
    bench_plot plot;
    int status;
    if (buf == NULL || ev == NULL || labels == NULL) {
        free(buf);
        free(ev);
        free(labels);
        (void)snprintf(err, errlen, "--timeline: out of memory");
        return EXIT_SOFTWARE;
    }
    for (size_t i = 0; i < tl->n; i++) {
        const bench_timeline_sample *s = &tl->samples[i];
        buf[i] = s->t;
        buf[n + i] = rate(tl, i, s->transactions);
        buf[2 * n + i] = rate(tl, i, s->errors);
        buf[3 * n + i] = s->transactions > 0 ? s->p99 : NAN; /* no latency without one */
        nev = add_event(ev, labels, nev, s->t, s->kills, "kill", "backend(s) killed");
        nev = add_event(ev, labels, nev, s->t, s->connect_failures, "connect-failure",
                        "connect(s) failed");
        nev = add_event(ev, labels, nev, s->t, s->closed_role, "role",
                        "connection(s) closed: the server changed role (failover)");
        nev = add_event(ev, labels, nev, s->t, s->read_fallbacks, "fallback",
                        "read(s) served by db: no read_db server");
    }
    memset(&plot, 0, sizeof plot);
    plot.title = title;
    plot.x_label = "seconds from the start (100 ms intervals)";
    plot.npoints = tl->n;
    plot.x = buf;
    plot.pooled.throughput = buf + n;
    plot.pooled.p99 = buf + 3 * n;
    plot.unpooled.throughput = buf + 2 * n;
    plot.x_linear = 1;
    plot.y_titles[0] = "per second";
    plot.events = ev;
    plot.nevents = nev;
    status = bench_plot_svg_named(path, &plot, names, err, errlen);
    free(buf);
    free(ev);
    free(labels);
    return status;
}
