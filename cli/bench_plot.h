/*
 * bench_plot.h: the chart of `sqlpool bench --sweep ... --plot FILE.svg`: throughput and p99
 * latency against the swept value, pooled against unpooled (or the plain pool against the
 * single-writer pool), as a self-contained SVG file.
 */
#ifndef SQLPOOL_CLI_BENCH_PLOT_H
#define SQLPOOL_CLI_BENCH_PLOT_H

#include <stddef.h>

/* One mode's figures at each swept value; a NULL array means the mode was not run. */
typedef struct bench_plot_series {
    const double *throughput; /* transactions per second */
    const double *p99;        /* seconds */
} bench_plot_series;

/* A moment marked on both panels by a vertical line (the timeline's kills, failovers). */
typedef struct bench_plot_event {
    double x;          /* where, in x's unit */
    const char *kind;  /* its class, one word: kill | connect-failure | role | fallback */
    const char *label; /* its tooltip, e.g. "1 backend killed" */
} bench_plot_event;

typedef struct bench_plot {
    const char *title;   /* e.g. "sqlpool bench: select1 on sqlite" */
    const char *x_label; /* "clients" or "pool size" */
    size_t npoints;      /* >= 1 */
    const double *x;     /* the swept values, ascending */
    bench_plot_series pooled, unpooled;
    /* Optional (zero: a sweep's chart): */
    int x_linear;                   /* never a log x axis (time) */
    const char *y_titles[2];        /* the panels' y titles; NULL: throughput, p99 latency */
    const bench_plot_event *events; /* nevents moments marked */
    size_t nevents;
} bench_plot;

/* Write the chart to path (atomically: a temporary file, then a rename). Returns 0, or
 * EXIT_CANTCREAT / EXIT_IOERR with a one-line message in err. */
int bench_plot_svg(const char *path, const bench_plot *plot, char *err, size_t errlen);
/* The same, the two series named names[0] and names[1] (the legend, the tooltips, and their
 * classes: one word each) instead of "pooled" and "unpooled"; --compare single-writer draws
 * "plain" and "single-writer". */
int bench_plot_svg_named(const char *path, const bench_plot *plot, const char *const names[2],
                         char *err, size_t errlen);

#endif
