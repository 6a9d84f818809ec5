/* bench_plot.c: the chart of a bench sweep, as plain SVG 1.1: throughput above, p99 latency
 * below, both against the swept value; pooled (or the plain pool) solid with filled markers,
 * unpooled (or the single-writer pool) dashed with hollow ones, in the Okabe-Ito blue and vermilion
 * (told apart without colour too). Written through the summary's output file (outfile.c), so the
 * chart appears whole or not at all. */
#include "bench_plot.h"

#include "exitcodes.h"
#include "labels.h"
#include "summary.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Geometry in SVG user units. Each panel: its plot area, then tick labels and the x title. */
enum {
    WIDTH = 760,
    PLOT_LEFT = 86,
    PLOT_RIGHT = WIDTH - 28,
    FIRST_TOP = 92,
    PLOT_HEIGHT = 220,
    PANEL_STEP = PLOT_HEIGHT + 92,
    HEIGHT = FIRST_TOP + 2 * PANEL_STEP - 30,
    INSET = 14, /* markers stay this far inside the plot area, off the y axis */
    MAX_TICKS = 24
};

typedef struct axis {
    double lo, hi; /* the domain */
    int log;       /* log10 scale */
    double p0, p1; /* the coordinates lo and hi map to */
    double step;   /* the linear tick step: the labels' precision */
    double ticks[MAX_TICKS];
    int nticks;
} axis;

/* A panel: which figure of each series it draws, in which unit. */
typedef struct panel {
    const char *name;    /* its class: throughput | p99 */
    const char *y_title; /* its y axis title */
    const char *unit;    /* for the markers' tooltips */
    double scale;        /* from the series' unit to the panel's */
    int which;           /* 0: throughput, 1: p99 */
    int top;             /* top of its plot area */
} panel;

/* How a mode's series looks. */
typedef struct look {
    const char *name;   /* its class: pooled | unpooled */
    const char *colour; /* Okabe-Ito, safe for colour-blind readers */
    const char *dash;   /* stroke-dasharray, or NULL for solid */
    const char *fill;   /* marker fill: filled, or hollow (white) */
    const bench_plot_series *series;
} look;

static const double *figures(const bench_plot_series *s, int which) {
    return which == 0 ? s->throughput : s->p99;
}

static int present(const look *l) {
    return l->series->throughput != NULL || l->series->p99 != NULL;
}

/* ---- Scales ---- */

/* The 1-2-5 step nearest above raw (> 0). */
static double nice_step(double raw) {
    double mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f <= 1.000001 ? 1.0 : f <= 2.000001 ? 2.0 : f <= 5.000001 ? 5.0 : 10.0) * mag;
}

/* Ticks at multiples of step from lo to hi. */
static void linear_ticks(axis *a, double step) {
    double first = ceil(a->lo / step - 1e-9);
    a->step = step;
    for (a->nticks = 0; a->nticks < MAX_TICKS; a->nticks++) {
        double v = (first + a->nticks) * step + 0.0; /* + 0.0: no "-0" */
        if (!(v <= a->hi + step * 1e-9)) break;
        a->ticks[a->nticks] = v;
    }
}

/* Ticks at 1, 2, 5 times the powers of ten within the domain; only the powers when the
 * domain spans so many decades that 1-2-5 would crowd. */
static void log_ticks(axis *a) {
    static const double mult[] = {1.0, 2.0, 5.0};
    int d0 = (int)floor(log10(a->lo)), d1 = (int)ceil(log10(a->hi)); /* lo > 0, both finite */
    for (int per_decade = 3; per_decade >= 1; per_decade -= 2) {
        a->nticks = 0;
        for (int d = d0; d <= d1; d++)
            for (int m = 0; m < per_decade; m++) {
                double v = mult[m] * pow(10.0, d);
                if (v >= a->lo * (1 - 1e-9) && v <= a->hi * (1 + 1e-9) && a->nticks < MAX_TICKS)
                    a->ticks[a->nticks++] = v;
            }
        if (a->nticks <= 8) break;
    }
}

static double to_px(const axis *a, double v) {
    double t = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo))
                      : (v - a->lo) / (a->hi - a->lo);
    return a->p0 + t * (a->p1 - a->p0);
}

/* The x axis: log when the swept values span more than 10x, else linear; the data spans it,
 * never an empty domain. Whole-number sweeps (clients, pool size) get whole-number ticks. */
static void x_axis(axis *a, const bench_plot *p) {
    double lo = INFINITY, hi = -INFINITY;
    int whole = 1;
    for (size_t i = 0; i < p->npoints; i++) {
        if (!isfinite(p->x[i])) continue;
        lo = fmin(lo, p->x[i]);
        hi = fmax(hi, p->x[i]);
        whole &= p->x[i] == floor(p->x[i]);
    }
    if (lo > hi) lo = 0, hi = 1;
    a->p0 = PLOT_LEFT + INSET;
    a->p1 = PLOT_RIGHT - INSET;
    a->log = !p->x_linear && lo > 0 && hi / lo > 10;
    a->lo = lo;
    a->hi = hi;
    if (a->log) {
        log_ticks(a);
    } else if (lo == hi) { /* one value: centred, one tick */
        a->lo = lo - 1;
        a->hi = hi + 1;
        a->step = 1;
        a->nticks = 1;
        a->ticks[0] = lo;
    } else {
        double step = nice_step((hi - lo) / 7);
        linear_ticks(a, whole && step < 1 ? 1 : step);
    }
}

/* A y axis from zero (or the least value, if negative) to a round number above the most. */
static void y_axis(axis *a, const bench_plot *p, const look *looks, const panel *pn) {
    double lo = 0, hi = 0, step;
    for (int k = 0; k < 2; k++) {
        const double *v = figures(looks[k].series, pn->which);
        for (size_t i = 0; v != NULL && i < p->npoints; i++) {
            if (!isfinite(v[i]) || !isfinite(p->x[i])) continue;
            lo = fmin(lo, v[i] * pn->scale);
            hi = fmax(hi, v[i] * pn->scale);
        }
    }
    if (hi - lo <= 0 || !isfinite(hi - lo)) hi = lo + 1; /* all zero: still a scale */
    step = nice_step((hi - lo) / 5);
    a->log = 0;
    a->lo = floor(lo / step) * step;
    a->hi = ceil(hi / step) * step;
    a->p0 = pn->top + PLOT_HEIGHT;
    a->p1 = pn->top;
    linear_ticks(a, step);
}

/* ---- Output ---- */

/* Writes are not checked one by one: a failure sets the stream's error flag, which
 * summary_commit reports (EXIT_IOERR) before anything is renamed into place. */
static void put(FILE *f, const char *text) {
    (void)fputs(text, f);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
putf(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    (void)vfprintf(f, fmt, ap);
    va_end(ap);
}

/* ---- Text ---- */

/* Write text as XML character data: &, <, >, " escaped; what XML cannot hold (invalid UTF-8,
 * control characters, U+FFFE/U+FFFF) replaced by U+FFFD. */
static void put_escaped(FILE *f, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), good;
    while (len > 0) {
        if (utf8_valid(s, len, &good)) good = len;
        for (size_t i = 0; i < good; i++) {
            switch (s[i]) {
            case '&': put(f, "&amp;"); break;
            case '<': put(f, "&lt;"); break;
            case '>': put(f, "&gt;"); break;
            case '"': put(f, "&quot;"); break;
            default:
                if (s[i] < 0x20 && s[i] != '\t') {
                    put(f, "&#xFFFD;");
                } else if (s[i] == 0xef && i + 2 < good && s[i + 1] == 0xbf &&
                           (s[i + 2] & 0xfe) == 0xbe) { /* U+FFFE, U+FFFF */
                    put(f, "&#xFFFD;");
                    i += 2;
                } else {
                    (void)fputc(s[i], f);
                }
            }
        }
        if (good < len) { /* the bad byte */
            put(f, "&#xFFFD;");
            good++;
        }
        s += good;
        len -= good;
    }
}

/* Roughly how wide text is at size px in a sans-serif face: code points x 0.56 em (0.62 em
 * bold), on the wide side. */
static double text_width(const char *text, double size, int bold) {
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++)
        n += (*s & 0xc0) != 0x80;
    return (double)n * size * (bold ? 0.62 : 0.56);
}

/* A <text> element of free text. Text too long for max_width gets a smaller font and, for
 * renderers that honour it, a textLength that fits it exactly. */
static void put_text(FILE *f, double x, double y, const char *attrs, double size, int bold,
                     double max_width, const char *text) {
    double width = text_width(text, size, bold);
    if (width > max_width) size *= max_width / width;
    putf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\"%s %s", x, y, size,
         bold ? " font-weight=\"bold\"" : "", attrs);
    if (width > max_width)
        putf(f, " textLength=\"%.0f\" lengthAdjust=\"spacingAndGlyphs\"", max_width);
    put(f, ">");
    put_escaped(f, text);
    put(f, "</text>\n");
}

/* A tick label: v at the precision of step, in thousands (k) or millions (M) as div says. */
static void tick_label(char *buf, size_t n, double v, double step, double div) {
    const char *suffix = div >= 1e6 ? "M" : div >= 1e3 ? "k" : "";
    double s = step / div;
    int decimals = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
    if (decimals > 9) decimals = 9;
    if (fabs(v) < step * 1e-6) v = 0, suffix = "";
    (void)snprintf(buf, n, "%.*f%s", decimals, v / div, suffix);
}

static double label_div(double magnitude) {
    return magnitude >= 1e6 ? 1e6 : magnitude >= 1e4 ? 1e3 : 1;
}

/* v in the fewest digits that read back as v. */
static void exact(char *buf, size_t n, double v) {
    (void)snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v) (void)snprintf(buf, n, "%.17g", v);
}

/* ---- Drawing ---- */

static void put_header(FILE *f, const bench_plot *p) {
    const char *title = p->title ? p->title : "sqlpool bench";
    putf(f,
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
         "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<title>",
         WIDTH, HEIGHT, WIDTH, HEIGHT);
    put_escaped(f, title);
    put(f, "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    put_text(f, WIDTH / 2.0, 32, "id=\"title\" text-anchor=\"middle\"", 18, 1, WIDTH - 40, title);
}

/* The legend, centred under the title: only the modes that were run. */
static void put_legend(FILE *f, const look *looks) {
    double width = 0, x;
    for (int k = 0; k < 2; k++)
        if (present(&looks[k])) width += 40 + text_width(looks[k].name, 13, 0) + 28;
    if (width == 0) return;
    x = (WIDTH - width + 28) / 2;
    put(f, "<g id=\"legend\">\n");
    for (int k = 0; k < 2; k++) {
        const look *l = &looks[k];
        if (!present(l)) continue;
        putf(f,
             "<g class=\"legend-entry %s\"><line x1=\"%.1f\" y1=\"58\" x2=\"%.1f\" y2=\"58\" "
             "stroke=\"%s\" stroke-width=\"2.5\"%s%s%s/>"
             "<circle cx=\"%.1f\" cy=\"58\" r=\"4.5\" fill=\"%s\" stroke=\"%s\" "
             "stroke-width=\"2\"/>",
             l->name, x, x + 32, l->colour, l->dash ? " stroke-dasharray=\"" : "",
             l->dash ? l->dash : "", l->dash ? "\"" : "", x + 16, l->fill ? l->fill : l->colour,
             l->colour);
        putf(f, "<text x=\"%.1f\" y=\"62.5\" font-size=\"13\">%s</text></g>\n", x + 40, l->name);
        x += 40 + text_width(l->name, 13, 0) + 28;
    }
    put(f, "</g>\n");
}

/* Grid lines, tick labels and axis titles of one panel. */
static void put_axes(FILE *f, const bench_plot *p, const panel *pn, const axis *x, const axis *y) {
    int bottom = pn->top + PLOT_HEIGHT;
    double ydiv = label_div(fmax(fabs(y->lo), fabs(y->hi)));
    double xdiv = label_div(fmax(fabs(x->lo), fabs(x->hi)));
    char label[64];

    putf(f, "<g class=\"axes %s\" font-size=\"12\" fill=\"#333333\">\n", pn->name);
    for (int i = 0; i < y->nticks; i++) {
        double py = to_px(y, y->ticks[i]);
        tick_label(label, sizeof label, y->ticks[i], y->step, ydiv);
        putf(f,
             "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>"
             "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
             PLOT_LEFT, py, PLOT_RIGHT, py, PLOT_LEFT - 8, py + 4, label);
    }
    putf(f, "<g class=\"x-axis %s\" text-anchor=\"middle\">\n", x->log ? "log" : "linear");
    for (int i = 0; i < x->nticks; i++) {
        double px = to_px(x, x->ticks[i]);
        if (x->log)
            tick_label(label, sizeof label, x->ticks[i], x->ticks[i], label_div(x->ticks[i]));
        else
            tick_label(label, sizeof label, x->ticks[i], x->step, xdiv);
        putf(f,
             "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eeeeee\"/>"
             "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333333\"/>"
             "<text x=\"%.1f\" y=\"%d\">%s</text>\n",
             px, pn->top, px, bottom, px, bottom, px, bottom + 5, px, bottom + 19, label);
    }
    put(f, "</g>\n");
    putf(f,
         "<path d=\"M%d %dV%dH%d\" fill=\"none\" stroke=\"#333333\"/>\n"
         "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\" "
         "transform=\"rotate(-90 %d %d)\">%s</text>\n",
         PLOT_LEFT, pn->top, bottom, PLOT_RIGHT, 26, pn->top + PLOT_HEIGHT / 2, 26,
         pn->top + PLOT_HEIGHT / 2, pn->y_title);
    put_text(f, (PLOT_LEFT + PLOT_RIGHT) / 2.0, bottom + 42, "text-anchor=\"middle\"", 13, 0,
             PLOT_RIGHT - PLOT_LEFT, p->x_label ? p->x_label : "");
    put(f, "</g>\n");
}

static int plotted(const bench_plot *p, const double *v, size_t i) {
    return isfinite(p->x[i]) && isfinite(v[i]);
}

/* One series on one panel: its line, then its markers (each with a tooltip). */
static void put_series(FILE *f, const bench_plot *p, const panel *pn, const look *l, const axis *x,
                       const axis *y) {
    const double *v = figures(l->series, pn->which);
    const char *xl = p->x_label ? p->x_label : "x";
    size_t n = 0;
    char dx[32], dy[32];

    for (size_t i = 0; v != NULL && i < p->npoints; i++)
        n += (size_t)plotted(p, v, i);
    if (n == 0) return;
    putf(f,
         "<polyline class=\"series %s %s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" "
         "stroke-linejoin=\"round\"%s%s%s points=\"",
         l->name, pn->name, l->colour, l->dash ? " stroke-dasharray=\"" : "",
         l->dash ? l->dash : "", l->dash ? "\"" : "");
    for (size_t i = 0, k = 0; i < p->npoints; i++)
        if (plotted(p, v, i))
            putf(f, "%s%.1f,%.1f", k++ ? " " : "", to_px(x, p->x[i]), to_px(y, v[i] * pn->scale));
    put(f, "\"/>\n");
    for (size_t i = 0; i < p->npoints; i++) {
        if (!plotted(p, v, i)) continue;
        exact(dx, sizeof dx, p->x[i]);
        exact(dy, sizeof dy, v[i] * pn->scale);
        putf(f,
             "<circle class=\"point %s %s\" data-x=\"%s\" data-y=\"%s\" cx=\"%.1f\" "
             "cy=\"%.1f\" r=\"%s\" fill=\"%s\" stroke=\"%s\" stroke-width=\"2\"><title>%s, ",
             l->name, pn->name, dx, dy, to_px(x, p->x[i]), to_px(y, v[i] * pn->scale),
             p->npoints > 60 ? "1.5" : "4.5", l->fill ? l->fill : l->colour, l->colour, l->name);
        put_escaped(f, xl);
        putf(f, " %.6g: %.6g %s</title></circle>\n", p->x[i], v[i] * pn->scale, pn->unit);
    }
}

/* The events as vertical lines across a panel's plot area, each with its tooltip. */
static void put_events(FILE *f, const bench_plot *p, const panel *pn, const axis *x) {
    for (size_t i = 0; i < p->nevents; i++) {
        const bench_plot_event *e = &p->events[i];
        double px;
        if (!isfinite(e->x) || e->x < x->lo || e->x > x->hi) continue;
        px = to_px(x, e->x);
        putf(f,
             "<line class=\"event %s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
             "stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"><title>",
             e->kind, px, pn->top, px, pn->top + PLOT_HEIGHT,
             strcmp(e->kind, "kill") == 0 ? "#CC79A7" : "#009E73");
        putf(f, "%.1f s: ", e->x);
        put_escaped(f, e->label ? e->label : e->kind);
        put(f, "</title></line>\n");
    }
}

static void put_panel(FILE *f, const bench_plot *p, const panel *pn, const look *looks,
                      const axis *x) {
    axis y;
    y_axis(&y, p, looks, pn);
    putf(f, "<g id=\"panel-%s\">\n", pn->name);
    put_axes(f, p, pn, x, &y);
    put_events(f, p, pn, x);
    /* Unpooled first, so pooled is drawn on top where they cross. */
    put_series(f, p, pn, &looks[1], x, &y);
    put_series(f, p, pn, &looks[0], x, &y);
    put(f, "</g>\n");
}

static void put_chart(FILE *f, const bench_plot *p, const char *const names[2]) {
    const look looks[2] = {{names[0], "#0072B2", NULL, NULL, &p->pooled},
                           {names[1], "#D55E00", "7 5", "#ffffff", &p->unpooled}};
    const panel panels[2] = {{"throughput",
                              p->y_titles[0] ? p->y_titles[0] : "throughput (transactions/s)",
                              "transactions/s", 1.0, 0, FIRST_TOP},
                             {"p99", p->y_titles[1] ? p->y_titles[1] : "p99 latency (ms)", "ms",
                              1e3, 1, FIRST_TOP + PANEL_STEP}};
    axis x;

    x_axis(&x, p);
    put_header(f, p);
    put_legend(f, looks);
    for (int i = 0; i < 2; i++)
        put_panel(f, p, &panels[i], looks, &x);
    put(f, "</svg>\n");
}

int bench_plot_svg(const char *path, const bench_plot *plot, char *err, size_t errlen) {
    static const char *const names[2] = {"pooled", "unpooled"};
    return bench_plot_svg_named(path, plot, names, err, errlen);
}

int bench_plot_svg_named(const char *path, const bench_plot *plot, const char *const names[2],
                         char *err, size_t errlen) {
    static const double none = 0;
    bench_plot empty;
    summary out;
    int rc;

    if (plot->x == NULL || plot->npoints == 0) { /* nothing swept: axes only */
        empty = *plot;
        empty.x = &none;
        empty.npoints = 0;
        plot = &empty;
    }
    if ((rc = summary_begin(&out, path, 1, err, errlen)) != 0) return rc;
    put_chart(out.file, plot, names);
    rc = summary_commit(&out, err, errlen);
    summary_abort(&out); /* frees; after a commit it leaves the file in place */
    return rc;
}
