/* bench_report.c: the results of `sqlpool bench`: a table, or a JSON document, on stdout;
 * and the --plot chart through bench_plot_svg(). */
#include "bench.h"

#include "bench_plot.h"
#include "commands.h"
#include "exitcodes.h"
#include "jsonout.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const workload_names[] = {"select1", "insert", "read-write"};

static const char *mode_name(bench_mode m) {
    return m == BENCH_UNPOOLED ? "unpooled" : "pooled";
}

static void print_table(const bench_options *o, const bench_result *res, int n, int interrupted,
                        const char *db) {
    if (o->transactions > 0)
        printf("sqlpool bench: %s on %s (%s), %ld transactions per client\n",
               workload_names[o->workload], sqlpool_db_backend(o->db), db, o->transactions);
    else
        printf("sqlpool bench: %s on %s (%s), %g s per run\n", workload_names[o->workload],
               sqlpool_db_backend(o->db), db, o->duration);
    /* Latency and wait columns are in milliseconds, and say so. */
    printf("%-8s %7s %5s %12s %10s %8s %8s %8s %8s %11s %11s %8s %7s %8s %7s", "mode", "clients",
           "pool", "transactions", "tps", "p50 ms", "p95 ms", "p99 ms", "max ms", "wait p50 ms",
           "wait p99 ms", "connects", "retries", "timeouts", "errors");
    if (o->kill_every > 0)
        printf(" %6s\n", "kills");
    else
        printf("\n");
    for (int i = 0; i < n; i++) {
        const bench_result *r = &res[i];
        printf("%-8s %7d %5d %12lld %10.1f %8.3f %8.3f %8.3f %8.3f %11.3f %11.3f %8lld %7lld %8lld "
               "%7lld",
               mode_name(r->mode), r->clients, r->pool_size, r->transactions, r->tps,
               r->lat_p50 * 1e3, r->lat_p95 * 1e3, r->lat_p99 * 1e3, r->lat_max * 1e3,
               r->wait_p50 * 1e3, r->wait_p99 * 1e3, r->connects, r->retries, r->timeouts,
               r->errors);
        if (o->kill_every > 0)
            printf(" %6lld\n", r->kills);
        else
            printf("\n");
    }
    if (interrupted) printf("interrupted: the results above are those measured until SIGINT\n");
}

static json_t *run_json(const bench_result *r) {
    return json_pack(
        "{s:s, s:i, s:i, s:i, s:f, s:I, s:I, s:f, s:{s:f, s:f, s:f, s:f}, s:{s:f, s:f}, s:I, s:I, "
        "s:I, s:I, s:I, s:I, s:o}",
        "mode", mode_name(r->mode), "clients", r->clients, "pool_size", r->pool_size, "max_open",
        r->max_open, "elapsed", r->elapsed, "transactions", (json_int_t)r->transactions, "errors",
        (json_int_t)r->errors, "tps", r->tps, "latency_ms", "p50", r->lat_p50 * 1e3, "p95",
        r->lat_p95 * 1e3, "p99", r->lat_p99 * 1e3, "max", r->lat_max * 1e3, "acquire_wait_ms",
        "p50", r->wait_p50 * 1e3, "p99", r->wait_p99 * 1e3, "connects", (json_int_t)r->connects,
        "retries", (json_int_t)r->retries, "timeouts", (json_int_t)r->timeouts, "kills",
        (json_int_t)r->kills, "inserted", (json_int_t)r->inserted, "in_doubt",
        (json_int_t)r->in_doubt, "rows", r->rows >= 0 ? json_integer(r->rows) : json_null());
}

static json_t *document(const bench_options *o, const bench_result *res, int n, int interrupted,
                        const char *db) {
    json_t *runs = json_array(), *doc;
    for (int i = 0; runs != NULL && i < n; i++)
        if (json_array_append_new(runs, run_json(&res[i])) != 0) {
            json_decref(runs);
            return NULL;
        }
    if (runs == NULL) return NULL;
    doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:f, s:f, s:f, s:b, s:o}", "db", db, "backend",
                    sqlpool_db_backend(o->db), "workload", workload_names[o->workload], "duration",
                    o->transactions > 0 ? json_null() : json_real(o->duration),
                    "transactions_per_client",
                    o->transactions > 0 ? json_integer(o->transactions) : json_null(), "think_time",
                    o->think_time, "fail_connect", o->fail_connect, "barge_window", o->barge_window,
                    "interrupted", interrupted, "runs", runs);
    return doc;
}

int bench_report(const bench_options *o, const bench_result *res, int n, int interrupted) {
    char db[1024];
    (void)sqlpool_db_mask(o->db, db, sizeof db);
    if (!o->json) {
        print_table(o, res, n, interrupted, db);
    } else {
        json_t *doc = document(o, res, n, interrupted, db);
        char *buf = NULL;
        size_t cap = 0, len = 0;
        if (doc == NULL || jsonout_dump(doc, JSON_INDENT(2), &buf, &cap, &len) != 0) {
            json_decref(doc);
            free(buf);
            commands_error("out of memory writing the JSON results");
            return EXIT_SOFTWARE;
        }
        json_decref(doc);
        (void)fwrite(buf, 1, len, stdout);
        (void)fputc('\n', stdout);
        free(buf);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        commands_error("writing the results to standard output failed");
        return EXIT_IOERR;
    }
    return 0;
}

int bench_report_plot(const bench_options *o, const bench_result *res, int n) {
    int modes = o->mode == BENCH_BOTH ? 2 : 1, npoints = n / modes, status;
    size_t np = npoints > 0 ? (size_t)npoints : 1;
    double *buf = calloc(5 * np, sizeof *buf);
    double *x = buf, *tp[2], *p99[2];
    char title[128], err[512] = "";
    bench_plot plot;
    if (buf == NULL) return EXIT_SOFTWARE;
    tp[0] = buf + np;
    tp[1] = buf + 2 * np;
    p99[0] = buf + 3 * np;
    p99[1] = buf + 4 * np;
    for (int i = 0; i < npoints * modes; i++) {
        const bench_result *r = &res[i];
        int p = i / modes, m = r->mode == BENCH_UNPOOLED;
        x[p] = o->sweep == BENCH_SWEEP_CLIENTS ? r->clients : r->pool_size;
        tp[m][p] = r->tps;
        p99[m][p] = r->lat_p99;
    }
    (void)snprintf(title, sizeof title, "sqlpool bench: %s on %s", workload_names[o->workload],
                   sqlpool_db_backend(o->db));
    memset(&plot, 0, sizeof plot);
    plot.title = title;
    plot.x_label = o->sweep == BENCH_SWEEP_CLIENTS ? "clients" : "pool size";
    plot.npoints = (size_t)npoints;
    plot.x = x;
    if (o->mode & BENCH_POOLED) {
        plot.pooled.throughput = tp[0];
        plot.pooled.p99 = p99[0];
    }
    if (o->mode & BENCH_UNPOOLED) {
        plot.unpooled.throughput = tp[1];
        plot.unpooled.p99 = p99[1];
    }
    status = npoints > 0 ? bench_plot_svg(o->plot, &plot, err, sizeof err) : 0;
    if (status != 0) commands_error("%s", err);
    free(buf);
    return status;
}
