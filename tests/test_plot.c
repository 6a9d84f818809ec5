/* test_plot.c: the chart of a bench sweep (cli/bench_plot.c): well-formed SVG (checked by
 * xmllint, from libxml2-utils), the series it should have and no others, edge cases, escaping,
 * and the output file's failure modes. */
#include "testutil.h"

#include "bench_plot.h"
#include "exitcodes.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int setup_tmp(void **state) {
    *state = testutil_tmpdir();
    return 0;
}

static int teardown_tmp(void **state) {
    testutil_rmtree(*state);
    free(*state);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_tmp, teardown_tmp)

static const double X6[] = {1, 2, 4, 8, 16, 32};
static const double TPS_POOLED[] = {2100, 4050, 7900, 14800, 16200, 16900};
static const double P99_POOLED[] = {0.0006, 0.0007, 0.0009, 0.0014, 0.0031, 0.0068};
static const double TPS_UNPOOLED[] = {410, 790, 1500, 2400, 2600, 2650};
static const double P99_UNPOOLED[] = {0.0041, 0.0046, 0.0058, 0.0091, 0.0175, 0.0352};

static bench_plot sample(void) {
    bench_plot p;
    memset(&p, 0, sizeof p); /* the optional fields: zero */
    p.title = "sqlpool bench: select1 on sqlite";
    p.x_label = "clients";
    p.npoints = 6;
    p.x = X6;
    p.pooled.throughput = TPS_POOLED;
    p.pooled.p99 = P99_POOLED;
    p.unpooled.throughput = TPS_UNPOOLED;
    p.unpooled.p99 = P99_UNPOOLED;
    return p;
}

/* Fail unless xmllint accepts path as well-formed XML. */
static void expect_well_formed(const char *path) {
    char *cmd;
    int rc;
    if (system("command -v xmllint >/dev/null 2>&1") != 0)
        fail_msg("xmllint not found: install libxml2-utils");
    cmd = testutil_format("xmllint --noout '%s'", path);
    rc = system(cmd);
    free(cmd);
    if (rc != 0) fail_msg("xmllint refused %s (status %d)", path, rc);
}

/* Write the chart to <dir>/chart.svg, check it is well-formed; returns its text (caller
 * frees). */
static char *render(void **state, const bench_plot *p) {
    char *path = testutil_format("%s/chart.svg", (const char *)*state), *svg;
    char err[512] = "";
    int rc = bench_plot_svg(path, p, err, sizeof err);
    if (rc != 0) fail_msg("bench_plot_svg returned %d: %s", rc, err);
    expect_well_formed(path);
    svg = testutil_read_file(path, NULL);
    assert_non_null(svg);
    free(path);
    return svg;
}

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The data-x (or data-y) values of the points of class "point <cls>", in order. */
static int point_values(const char *svg, const char *cls, const char *attr, double *out, int max) {
    char *open = testutil_format("<circle class=\"point %s\"", cls);
    char *key = testutil_format(" %s=\"", attr);
    int n = 0;
    for (const char *p = svg; (p = strstr(p, open)) != NULL; p += strlen(open)) {
        const char *v = strstr(p, key), *end = strchr(p, '>');
        assert_non_null(v);
        assert_true(v < end);
        assert_true(n < max);
        out[n++] = strtod(v + strlen(key), NULL);
    }
    free(open);
    free(key);
    return n;
}

static void expect_points(const char *svg, const char *cls, const double *xs, int n) {
    double got[64];
    int have = point_values(svg, cls, "data-x", got, 64);
    if (have != n) fail_msg("%d points of class '%s', want %d", have, cls, n);
    for (int i = 0; i < n; i++)
        if (got[i] != xs[i])
            fail_msg("'%s' point %d: data-x %.17g, want %.17g", cls, i, got[i], xs[i]);
}

/* No NaN or infinity made it into the numbers. */
static void expect_no_bad_numbers(const char *svg) {
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "NaN"));
    assert_null(strstr(svg, "inf"));
}

static void test_plot_both_series_drawn(void **state) {
    bench_plot p = sample();
    char *svg = render(state, &p);
    double ys[64];
    static const char *const classes[] = {"pooled throughput", "pooled p99", "unpooled throughput",
                                          "unpooled p99"};
    for (int i = 0; i < 4; i++) {
        char *line = testutil_format("<polyline class=\"series %s\"", classes[i]);
        assert_int_equal(count(svg, line), 1);
        expect_points(svg, classes[i], X6, 6);
        free(line);
    }
    assert_int_equal(count(svg, "<polyline "), 4);
    assert_int_equal(count(svg, "<circle class=\"point "), 24);
    /* p99 is drawn in milliseconds, throughput as given. */
    assert_int_equal(point_values(svg, "pooled p99", "data-y", ys, 64), 6);
    for (int i = 0; i < 6; i++)
        assert_true(ys[i] == P99_POOLED[i] * 1e3);
    assert_int_equal(point_values(svg, "unpooled throughput", "data-y", ys, 64), 6);
    for (int i = 0; i < 6; i++)
        assert_true(ys[i] == TPS_UNPOOLED[i]);
    assert_non_null(strstr(svg, "<g class=\"legend-entry pooled\">"));
    assert_non_null(strstr(svg, "<g class=\"legend-entry unpooled\">"));
    assert_non_null(strstr(svg, ">clients</text>"));
    assert_non_null(strstr(svg, ">sqlpool bench: select1 on sqlite</text>"));
    expect_no_bad_numbers(svg);
    free(svg);
}

static void test_plot_log_x_only_beyond_tenfold(void **state) {
    static const double narrow[] = {2, 4, 8, 16, 20};
    bench_plot p = sample();
    char *svg = render(state, &p); /* 1..32 */
    assert_int_equal(count(svg, "class=\"x-axis log\""), 2);
    assert_int_equal(count(svg, "class=\"x-axis linear\""), 0);
    free(svg);
    p.x = narrow; /* 2..20: exactly 10x */
    p.npoints = 5;
    svg = render(state, &p);
    assert_int_equal(count(svg, "class=\"x-axis linear\""), 2);
    assert_int_equal(count(svg, "class=\"x-axis log\""), 0);
    expect_points(svg, "pooled throughput", narrow, 5);
    free(svg);
}

static void test_plot_missing_series_absent(void **state) {
    bench_plot p = sample();
    char *svg;
    p.unpooled.throughput = NULL;
    p.unpooled.p99 = NULL;
    svg = render(state, &p);
    assert_null(strstr(svg, "unpooled"));
    assert_int_equal(count(svg, "<polyline class=\"series pooled "), 2);
    assert_int_equal(count(svg, "<circle class=\"point pooled "), 12);
    assert_int_equal(count(svg, "legend-entry"), 1);
    free(svg);

    /* A mode with only one figure: drawn on that panel alone. */
    p.pooled.p99 = NULL;
    svg = render(state, &p);
    assert_int_equal(count(svg, "<polyline "), 1);
    assert_int_equal(count(svg, "<circle class=\"point pooled throughput\""), 6);
    assert_int_equal(count(svg, "class=\"point pooled p99\""), 0);
    free(svg);

    /* Neither: the axes, no series, no legend. */
    p.pooled.throughput = NULL;
    svg = render(state, &p);
    assert_int_equal(count(svg, "<polyline "), 0);
    assert_int_equal(count(svg, "<circle"), 0);
    assert_null(strstr(svg, "legend"));
    free(svg);
}

static void test_plot_one_point(void **state) {
    static const double x[] = {4};
    bench_plot p = sample();
    char *svg;
    p.x = x;
    p.npoints = 1;
    svg = render(state, &p);
    assert_int_equal(count(svg, "<polyline "), 4);
    assert_int_equal(count(svg, "<circle class=\"point "), 4);
    expect_points(svg, "unpooled p99", x, 1);
    assert_non_null(strstr(svg, ">4</text>")); /* the one tick */
    expect_no_bad_numbers(svg);
    free(svg);
}

static void test_plot_nan_skipped(void **state) {
    static const double tps[] = {2100, NAN, 7900, 14800, INFINITY, 16900};
    static const double x_kept[] = {1, 4, 8, 32};
    static const double x_nan[] = {1, 2, NAN, 8, 16, 32};
    static const double x_rest[] = {1, 2, 8, 16, 32};
    bench_plot p = sample();
    char *svg;
    p.pooled.throughput = tps;
    svg = render(state, &p);
    expect_points(svg, "pooled throughput", x_kept, 4);
    expect_points(svg, "pooled p99", X6, 6);
    assert_int_equal(count(svg, "<polyline class=\"series pooled throughput\""), 1);
    expect_no_bad_numbers(svg);
    free(svg);

    /* A NaN swept value drops that point from every series. */
    p.pooled.throughput = TPS_POOLED;
    p.x = x_nan;
    svg = render(state, &p);
    expect_points(svg, "unpooled throughput", x_rest, 5);
    expect_points(svg, "pooled p99", x_rest, 5);
    expect_no_bad_numbers(svg);
    free(svg);
}

static void test_plot_zeros_and_equal_values(void **state) {
    static const double zero[] = {0, 0, 0, 0, 0, 0};
    static const double same[] = {7, 7, 7, 7, 7, 7};
    static const double nans[] = {NAN, NAN, NAN, NAN, NAN, NAN};
    bench_plot p = sample();
    char *svg;
    p.pooled.throughput = zero;
    p.pooled.p99 = zero;
    p.unpooled.throughput = same;
    p.unpooled.p99 = nans; /* present but nothing to draw */
    svg = render(state, &p);
    assert_int_equal(count(svg, "<circle class=\"point pooled throughput\""), 6);
    assert_int_equal(count(svg, "<circle class=\"point unpooled throughput\""), 6);
    assert_int_equal(count(svg, "class=\"point unpooled p99\""), 0);
    assert_int_equal(count(svg, "class=\"series unpooled p99\""), 0);
    assert_non_null(strstr(svg, "<g class=\"legend-entry unpooled\">"));
    expect_no_bad_numbers(svg);
    free(svg);

    /* Every swept value the same. */
    p.x = same;
    p.pooled.p99 = same;
    svg = render(state, &p);
    expect_points(svg, "pooled p99", same, 6);
    expect_no_bad_numbers(svg);
    free(svg);
}

static void test_plot_escapes_text(void **state) {
    bench_plot p = sample();
    char *svg;
    p.title = "a <&> \"b\" \xc3\xa9 \xff\x01 end";
    p.x_label = "pool <size>";
    svg = render(state, &p);
    assert_non_null(strstr(svg, "a &lt;&amp;&gt; &quot;b&quot; \xc3\xa9 &#xFFFD;&#xFFFD; end"));
    assert_non_null(strstr(svg, "pool &lt;size&gt;"));
    assert_null(strstr(svg, "<&>"));
    assert_null(strstr(svg, "<size>"));
    free(svg);

    /* A title too long for the width is squeezed into it, not cut. */
    p.title = "sqlpool bench: a very long title that goes on and on, naming the query, the "
              "database, the options and more besides";
    svg = render(state, &p);
    assert_non_null(strstr(svg, "lengthAdjust=\"spacingAndGlyphs\">sqlpool bench: a very long"));
    free(svg);
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_plot_unwritable_path_cantcreat(void **state) {
    const char *dir = *state;
    char *blocker = testutil_format("%s/file", dir);
    char *under_file = testutil_format("%s/file/chart.svg", dir);
    char *folder = testutil_format("%s/folder", dir);
    char err[512] = "";
    bench_plot p = sample();
    struct stat sb;

    testutil_write_file(blocker, "x", 1);
    assert_int_equal(bench_plot_svg(under_file, &p, err, sizeof err), EXIT_CANTCREAT);
    assert_non_null(
        strstr(err, blocker)); /* "cannot create output folder ...: a file is in the way" */
    assert_int_equal(stat(under_file, &sb), -1);

    assert_int_equal(mkdir(folder, 0700), 0);
    err[0] = '\0';
    assert_int_equal(bench_plot_svg(folder, &p, err, sizeof err), EXIT_CANTCREAT);
    assert_true(err[0] != '\0');
    assert_int_equal(stat(folder, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(entries(dir), 2); /* the blocker and the folder: no temporary file */
    free(blocker);
    free(under_file);
    free(folder);
}

static void test_plot_replaces_file_and_makes_folders(void **state) {
    const char *dir = *state;
    char *path = testutil_format("%s/out/sub/chart.svg", dir);
    char *sub = testutil_format("%s/out/sub", dir);
    char err[512] = "";
    bench_plot p = sample();
    char *svg;

    assert_int_equal(bench_plot_svg(path, &p, err, sizeof err), 0);
    p.title = "second";
    assert_int_equal(bench_plot_svg(path, &p, err, sizeof err), 0);
    expect_well_formed(path);
    svg = testutil_read_file(path, NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, ">second</text>"));
    assert_int_equal(entries(sub), 1); /* no temporary file left beside it */
    free(svg);
    free(path);
    free(sub);
}

static const struct CMUnitTest tests[] = {
    T(test_plot_both_series_drawn),
    T(test_plot_log_x_only_beyond_tenfold),
    T(test_plot_missing_series_absent),
    T(test_plot_one_point),
    T(test_plot_nan_skipped),
    T(test_plot_zeros_and_equal_values),
    T(test_plot_escapes_text),
    T(test_plot_unwritable_path_cantcreat),
    T(test_plot_replaces_file_and_makes_folders),
};

SQLPOOL_TEST_MAIN(tests)
