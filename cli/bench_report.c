/* bench_report.c: the results of `sqlpool bench`: a table, or a JSON document, on stdout;
 * and the --plot chart through bench_plot_svg(). */
#include "bench.h"

#include "bench_plot.h"
#include "bench_timeline.h"
#include "commands.h"
#include "exitcodes.h"
#include "jsonout.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const workload_names[] = {"select1", "insert", "read-write", "mixed"};

static const char *mode_name(bench_mode m) {
    return m == BENCH_UNPOOLED ? "unpooled" : "pooled";
}

/* The workload as the table's first line and the chart's title name it. */
static const char *workload_label(const bench_options *o, char *buf, size_t len) {
    if (o->workload != BENCH_MIXED) return workload_names[o->workload];
    (void)snprintf(buf, len, "mixed (%g%% writes)", o->write_ratio * 100.0);
    return buf;
}

/* The pool column: its size, and for a single-writer pool "+1", the writer. */
static const char *pool_label(const bench_result *r, char *buf, size_t len) {
    (void)snprintf(buf, len, r->single_writer ? "%d+1" : "%d", r->pool_size);
    return buf;
}

/* Under a mixed run's row, its reads and writes apart, in the same columns (connects and
 * retries are the run's, not a kind's). */
static void print_kinds(const bench_options *o, const bench_result *r) {
    static const char *const names[2] = {"  reads", "  writes"};
    for (int k = BENCH_READ; k <= BENCH_WRITE; k++) {
        const bench_kind_result *x = &r->kinds[k];
        printf("%-8s %7s %5s %12lld %10.1f %8.3f %8.3f %8.3f %8.3f %11.3f %11.3f %8s %7s %8lld "
               "%7lld",
               names[k], "", "", x->transactions, x->tps, x->lat_p50 * 1e3, x->lat_p95 * 1e3,
               x->lat_p99 * 1e3, x->lat_max * 1e3, x->wait_p50 * 1e3, x->wait_p99 * 1e3, "-", "-",
               x->timeouts, x->errors);
        if (o->kill_every > 0)
            printf(" %6s\n", "-");
        else
            printf("\n");
    }
}

/* The table's line on --group-commit, when it was on: the pool's counts over the runs. */
static void print_group_commit(const bench_result *res, int n) {
    long long commits = 0, grouped = 0;
    int runs = 0, most = 0;
    for (int i = 0; i < n; i++) {
        if (res[i].group_commit <= 1) continue;
        runs++;
        most = res[i].group_commit; /* the same in every pooled run */
        commits += res[i].group_commits;
        grouped += res[i].grouped;
    }
    if (runs == 0) return;
    printf("group commit: up to %d transactions per COMMIT; %lld COMMIT%s carried two or more, "
           "%lld transactions in all%s\n",
           most, commits, commits == 1 ? "" : "s", grouped, runs > 1 ? " (the runs together)" : "");
}

static void print_table(const bench_options *o, const bench_result *res, int n, int interrupted,
                        const char *db) {
    char wl[64], pool[32];
    int any_single_writer = 0;
    if (o->transactions > 0)
        printf("sqlpool bench: %s on %s (%s), %ld transactions per client\n",
               workload_label(o, wl, sizeof wl), sqlpool_db_backend(o->db), db, o->transactions);
    else
        printf("sqlpool bench: %s on %s (%s), %g s per run\n", workload_label(o, wl, sizeof wl),
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
        printf("%-8s %7d %5s %12lld %10.1f %8.3f %8.3f %8.3f %8.3f %11.3f %11.3f %8lld %7lld %8lld "
               "%7lld",
               mode_name(r->mode), r->clients, pool_label(r, pool, sizeof pool), r->transactions,
               r->tps, r->lat_p50 * 1e3, r->lat_p95 * 1e3, r->lat_p99 * 1e3, r->lat_max * 1e3,
               r->wait_p50 * 1e3, r->wait_p99 * 1e3, r->connects, r->retries, r->timeouts,
               r->errors);
        if (o->kill_every > 0)
            printf(" %6lld\n", r->kills);
        else
            printf("\n");
        if (o->workload == BENCH_MIXED) print_kinds(o, r);
        any_single_writer |= r->single_writer;
    }
    if (any_single_writer)
        printf("pool N+1: a single-writer pool, N readers and the writer (SQLite)\n");
    print_group_commit(res, n);
    if (interrupted) printf("interrupted: the results above are those measured until SIGINT\n");
}

/* A mixed run's reads or writes. */
static json_t *kind_json(const bench_kind_result *x) {
    return json_pack("{s:I, s:I, s:I, s:f, s:{s:f, s:f, s:f, s:f}, s:{s:f, s:f}}", "transactions",
                     (json_int_t)x->transactions, "errors", (json_int_t)x->errors, "timeouts",
                     (json_int_t)x->timeouts, "tps", x->tps, "latency_ms", "p50", x->lat_p50 * 1e3,
                     "p95", x->lat_p95 * 1e3, "p99", x->lat_p99 * 1e3, "max", x->lat_max * 1e3,
                     "acquire_wait_ms", "p50", x->wait_p50 * 1e3, "p99", x->wait_p99 * 1e3);
}

static json_t *lane_json(const bench_lane_result *l) {
    return json_pack("{s:I, s:I, s:I, s:i, s:{s:f, s:f, s:f}}", "acquires", (json_int_t)l->acquires,
                     "waits", (json_int_t)l->waits, "timeouts", (json_int_t)l->timeouts, "max_open",
                     l->max_open, "wait_ms", "p50", l->wait_p50 * 1e3, "p99", l->wait_p99 * 1e3,
                     "max", l->wait_max * 1e3);
}

/* A pooled run's pool counters: the WAL bound's, and a single-writer pool's lanes. */
static json_t *pool_json(const bench_result *r) {
    json_t *pool =
        json_pack("{s:I, s:I, s:I}", "checkpoints", (json_int_t)r->checkpoints, "checkpoints_busy",
                  (json_int_t)r->checkpoints_busy, "wal_peak", (json_int_t)r->wal_peak);
    if (pool != NULL && r->single_writer &&
        json_object_set_new(pool, "lanes",
                            json_pack("{s:o, s:o}", "write", lane_json(&r->lanes[0]), "read",
                                      lane_json(&r->lanes[1]))) != 0) {
        json_decref(pool);
        return NULL;
    }
    return pool;
}

/* What only some runs have, added to run: 0, or -1 (out of memory). */
static int run_extra(const bench_options *o, const bench_result *r, json_t *run) {
    if (r->timeline != NULL &&
        json_object_set_new(run, "timeline", bench_timeline_json(r->timeline)) != 0)
        return -1;
    if (json_object_set_new(run, "single_writer", json_boolean(r->single_writer)) != 0 ||
        json_object_set_new(run, "group_commit", json_integer(r->group_commit)) != 0 ||
        json_object_set_new(run, "group_commits", json_integer(r->group_commits)) != 0 ||
        json_object_set_new(run, "grouped", json_integer(r->grouped)) != 0 ||
        json_object_set_new(run, "pool", r->mode == BENCH_POOLED ? pool_json(r) : json_null()) != 0)
        return -1;
    if (o->workload != BENCH_MIXED) return 0;
    if (json_object_set_new(run, "reads", kind_json(&r->kinds[BENCH_READ])) != 0 ||
        json_object_set_new(run, "writes", kind_json(&r->kinds[BENCH_WRITE])) != 0)
        return -1;
    return 0;
}

static json_t *run_json(const bench_options *o, const bench_result *r) {
    json_t *run = json_pack(
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
    if (run != NULL && run_extra(o, r, run) != 0) {
        json_decref(run);
        return NULL;
    }
    return run;
}

static json_t *document(const bench_options *o, const bench_result *res, int n, int interrupted,
                        const char *db) {
    json_t *runs = json_array(), *doc;
    for (int i = 0; runs != NULL && i < n; i++)
        if (json_array_append_new(runs, run_json(o, &res[i])) != 0) {
            json_decref(runs);
            return NULL;
        }
    if (runs == NULL) return NULL;
    doc = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:f, s:f, s:f, s:b, s:o}", "db", db, "backend",
        sqlpool_db_backend(o->db), "workload", workload_names[o->workload], "write_ratio",
        o->workload == BENCH_MIXED ? json_real(o->write_ratio) : json_null(), "compare",
        o->compare ? json_string("single-writer") : json_null(), "duration",
        o->transactions > 0 ? json_null() : json_real(o->duration), "transactions_per_client",
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

/* The chart's two series are pooled and unpooled, or with --compare the plain pool and the
 * single-writer pool. */
int bench_report_plot(const bench_options *o, const bench_result *res, int n) {
    static const char *const compared[2] = {"plain", "single-writer"};
    int modes = o->mode == BENCH_BOTH || o->compare ? 2 : 1, npoints = n / modes, status;
    size_t np = npoints > 0 ? (size_t)npoints : 1;
    double *buf = calloc(5 * np, sizeof *buf);
    double *x = buf, *tp[2], *p99[2];
    char title[160], wl[64], err[512] = "";
    bench_plot plot;
    if (buf == NULL) return EXIT_SOFTWARE;
    tp[0] = buf + np;
    tp[1] = buf + 2 * np;
    p99[0] = buf + 3 * np;
    p99[1] = buf + 4 * np;
    for (int i = 0; i < npoints * modes; i++) {
        const bench_result *r = &res[i];
        int p = i / modes, m = o->compare ? r->single_writer : r->mode == BENCH_UNPOOLED;
        x[p] = o->sweep == BENCH_SWEEP_CLIENTS ? r->clients : r->pool_size;
        tp[m][p] = r->tps;
        p99[m][p] = r->lat_p99;
    }
    (void)snprintf(title, sizeof title, "sqlpool bench: %s on %s%s",
                   workload_label(o, wl, sizeof wl), sqlpool_db_backend(o->db),
                   o->compare ? ", plain pool against single-writer pool" : "");
    memset(&plot, 0, sizeof plot);
    plot.title = title;
    plot.x_label = o->sweep == BENCH_SWEEP_CLIENTS ? "clients" : "pool size";
    plot.npoints = (size_t)npoints;
    plot.x = x;
    if (o->mode & BENCH_POOLED) {
        plot.pooled.throughput = tp[0];
        plot.pooled.p99 = p99[0];
    }
    if (o->compare || (o->mode & BENCH_UNPOOLED)) {
        plot.unpooled.throughput = tp[1];
        plot.unpooled.p99 = p99[1];
    }
    if (npoints == 0)
        status = 0;
    else if (o->compare)
        status = bench_plot_svg_named(o->plot, &plot, compared, err, sizeof err);
    else
        status = bench_plot_svg(o->plot, &plot, err, sizeof err);
    if (status != 0) commands_error("%s", err);
    free(buf);
    return status;
}
