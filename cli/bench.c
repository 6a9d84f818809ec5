/*
 * bench.c: `sqlpool bench`: the runs of a sweep, each with its client threads, the progress
 * line, SIGINT, the clients' pauses, the pool's log, and the check that every committed row
 * is in the table.
 */
#include "backends.h"
#include "bench.h"
#include "bench_backend.h"
#include "bench_metrics.h"
#include "bench_timeline.h"

#include "commands.h"
#include "dbfile.h"
#include "exitcodes.h"
#include "logger.h"
#include "summary.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --read-db as every run's pool uses it (for PostgreSQL, with application_name), or NULL. */
static const char *read_db;

/* The --metrics-listen server, or NULL; it is shown each pooled run's pool. */
static bench_metrics *metrics;

/* Set by the SIGINT handler; the main thread copies it into each run's stop flag. */
static volatile sig_atomic_t interrupted;
/* Set until the first clients start: before then there is nothing to report, and the connect
 * check or the table's set-up may wait out a busy database (--timeout, each retry), so SIGINT
 * ends the program at once, by the signal, as it would without a handler. */
static volatile sig_atomic_t nothing_measured = 1;

static void on_sigint(int sig) {
    if (nothing_measured) {
        (void)signal(sig, SIG_DFL); /* both async-signal-safe */
        (void)raise(sig);
        return;
    }
    interrupted = 1;
}

/* The pool's log during a bench. A run whose every connect fails would log each attempt,
 * many thousands of lines a second, while the results count them as errors anyway: errors
 * and warnings get at most one line a second, and then how many were left out. */
static struct {
    pthread_mutex_t lock;
    double next;        /* when the next error or warning may be printed */
    long long left_out; /* since the last one printed */
    int worst;          /* the most severe level among them */
} log_limit = {PTHREAD_MUTEX_INITIALIZER, 0.0, 0, SQLPOOL_LOG_WARNING};

/* At the level of the worst line left out, so it shows wherever they would have. */
static void print_left_out(long long n, int level) {
    if (n > 0)
        logger_printf(level,
                      "log_suppressed lines=%lld (at most one error or warning a second; the "
                      "results count every error)",
                      n);
}

static void bench_log(void *ctx, int level, const char *msg) {
    double now = bench_now();
    long long left_out = -1;
    int worst = level;
    (void)ctx;
    if (level > logger_level()) return; /* not shown: it must not use up the second's line */
    if (level > SQLPOOL_LOG_WARNING) {
        logger_sink(NULL, level, msg);
        return;
    }
    bench_lock(&log_limit.lock);
    if (now >= log_limit.next) {
        left_out = log_limit.left_out;
        worst = log_limit.worst;
        log_limit.left_out = 0;
        log_limit.worst = SQLPOOL_LOG_WARNING;
        log_limit.next = now + 1.0;
    } else {
        log_limit.left_out++;
        if (level < log_limit.worst) log_limit.worst = level;
    }
    bench_unlock(&log_limit.lock);
    if (left_out < 0) return;
    print_left_out(left_out, worst);
    logger_sink(NULL, level, msg);
}

/* At the end of a run: the count of the lines left out since the last one printed. */
static void log_flush(void) {
    long long n;
    int worst;
    bench_lock(&log_limit.lock);
    n = log_limit.left_out;
    worst = log_limit.worst;
    log_limit.left_out = 0;
    log_limit.worst = SQLPOOL_LOG_WARNING;
    bench_unlock(&log_limit.lock);
    print_left_out(n, worst);
}

/* The pool's before_connect hook: a non-zero return fails the attempt as one that can pass. */
static int before_connect(void *ctx) {
    return bench_connect_fault(ctx);
}

typedef struct worker {
    pthread_t thread;
    bench_run *run;
    bench_tally tally;
} worker;

/* n clients are done: the last one marks the run over, for supervise() and the killer. */
static void clients_done(bench_run *r, int n) {
    if (n > 0 && atomic_fetch_sub(&r->running, n) == n) atomic_store(&r->over, 1);
}

/* Whether a client runs its transaction number i (from 0). */
static int more(bench_run *r, long i) {
    if (atomic_load(&r->stop)) return 0;
    return r->opts->transactions > 0 ? i < r->opts->transactions : bench_now() < r->deadline;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    bench_run *r = w->run;
    for (long i = 0; more(r, i); i++) {
        /* The think time ends early at the deadline or SIGINT: then no transaction follows. */
        if (i > 0 && r->opts->think_time > 0.0) {
            bench_pause(r, r->opts->think_time);
            if (!more(r, i)) break;
        }
        (void)r->backend->transaction(r, &w->tally, bench_next_kind(r->opts));
        atomic_fetch_add(&r->done, 1);
    }
    clients_done(r, 1);
    return NULL;
}

/* What the killer thread gets: the run, and where to count what it broke. */
typedef struct killer_arg {
    bench_run *run;
    long long kills;
} killer_arg;

/* A kill that found nothing to kill (or no side connection): said on stderr, at most once
 * every 5 s, with the count of the times since the last line. */
static void killed_none(int rc, double *next_said, long long *unsaid) {
    double now = bench_now();
    ++*unsaid;
    if (now < *next_said) return;
    commands_error("--kill-every: %s (%lld time%s since the last such line)",
                   rc < 0 ? "could not connect to the server to terminate a backend"
                          : "no backend of this bench to terminate",
                   *unsaid, *unsaid == 1 ? "" : "s");
    *unsaid = 0;
    *next_said = now + 5.0;
}

/* The --kill-every thread: every kill_every seconds, break one pooled connection, an idle one
 * when there is one. */
static void *killer_main(void *arg) {
    killer_arg *ka = arg;
    bench_run *r = ka->run;
    double next = bench_now() + r->opts->kill_every, next_said = 0.0;
    long long unsaid = 0;
    int rc;
    while (!atomic_load(&r->stop) && !atomic_load(&r->over)) {
        if (bench_now() < next) {
            bench_sleep(0.02);
            continue;
        }
        if ((rc = r->backend->kill_one(r)) > 0) {
            ka->kills++;
            atomic_fetch_add(&r->kills, 1);
        } else {
            killed_none(rc, &next_said, &unsaid);
        }
        next += r->opts->kill_every;
    }
    return NULL;
}

static void progress(bench_run *r, double start, int *shown_any) {
    double el = bench_now() - start;
    long long done = atomic_load(&r->done);
    (void)fprintf(stderr, "\rprogress: %.1f s, %lld transactions, %.1f tps   ", el, done,
                  el > 0 ? (double)done / el : 0.0);
    (void)fflush(stderr);
    *shown_any = 1;
}

/* --timeline: close the interval that ends now (with the pool's counters, when pooled). */
static void sample(bench_run *r, bench_timeline *tl, double start) {
    sqlpool_stats st;
    if (r->mode == BENCH_POOLED) sqlpool_stats_get(r->pool, &st);
    if (bench_timeline_close(tl, bench_now() - start, r->mode == BENCH_POOLED ? &st : NULL,
                             atomic_load(&r->kills)) != 0)
        commands_error("--timeline: out of memory: an interval is missing");
}

/* Wait for the workers, updating the progress line about once a second, closing --timeline's
 * intervals every 100 ms, and passing SIGINT on. */
static void supervise(bench_run *r, double start, bench_timeline *tl) {
    int tty = isatty(STDERR_FILENO), shown_any = 0;
    double next = start + 1.0, next_sample = start + BENCH_TIMELINE_STEP;
    for (;;) {
        double now, nap;
        if (interrupted && !atomic_load(&r->stop)) bench_stop(r);
        if (atomic_load(&r->over)) break; /* every client has finished */
        if (tty && bench_now() >= next) {
            progress(r, start, &shown_any);
            next += 1.0;
        }
        if (tl != NULL && (now = bench_now()) >= next_sample) {
            sample(r, tl, start);
            /* A late wake-up skips no interval's end: the next one is 100 ms after this one. */
            next_sample = fmax(next_sample + BENCH_TIMELINE_STEP, now + BENCH_TIMELINE_STEP / 2);
        }
        nap = tl != NULL ? fmin(0.05, next_sample - bench_now()) : 0.05;
        bench_sleep(nap > 0.001 ? nap : 0.001);
    }
    if (tl != NULL) sample(r, tl, start); /* the last, shorter interval */
    if (shown_any) (void)fputs("\n", stderr);
}

/* The reads' or the writes' figures (mixed): kind k of the n clients' tallies. */
static void merge_kind(worker *w, int n, bench_kind k, double elapsed, bench_kind_result *res) {
    sqlpool_histogram *lat = sqlpool_histogram_new(), *wait = sqlpool_histogram_new();
    for (int i = 0; i < n; i++) {
        const bench_kind_tally *t = &w[i].tally.kinds[k];
        if (lat && wait && t->latency && t->wait) {
            sqlpool_histogram_merge(lat, t->latency);
            sqlpool_histogram_merge(wait, t->wait);
        }
        res->transactions += t->transactions;
        res->errors += t->errors;
        res->timeouts += t->timeouts;
    }
    if (lat && wait) {
        res->lat_p50 = sqlpool_histogram_quantile(lat, 0.50);
        res->lat_p95 = sqlpool_histogram_quantile(lat, 0.95);
        res->lat_p99 = sqlpool_histogram_quantile(lat, 0.99);
        res->lat_max = sqlpool_histogram_quantile(lat, 1.0);
        res->wait_p50 = sqlpool_histogram_quantile(wait, 0.50);
        res->wait_p99 = sqlpool_histogram_quantile(wait, 0.99);
    }
    res->tps = elapsed > 0 ? (double)res->transactions / elapsed : 0.0;
    sqlpool_histogram_free(lat);
    sqlpool_histogram_free(wait);
}

static void merge(worker *w, int n, bench_result *res) {
    sqlpool_histogram *lat = sqlpool_histogram_new(), *wait = sqlpool_histogram_new();
    for (int i = 0; i < n; i++) {
        bench_tally *t = &w[i].tally;
        if (lat && wait) {
            sqlpool_histogram_merge(lat, t->latency);
            sqlpool_histogram_merge(wait, t->wait);
        }
        res->transactions += t->transactions;
        res->errors += t->errors;
        res->timeouts += t->timeouts;
        res->connects += t->connects;
        res->retries += t->retries;
        res->inserted += t->inserted;
        res->in_doubt += t->in_doubt;
    }
    if (lat && wait) {
        res->lat_p50 = sqlpool_histogram_quantile(lat, 0.50);
        res->lat_p95 = sqlpool_histogram_quantile(lat, 0.95);
        res->lat_p99 = sqlpool_histogram_quantile(lat, 0.99);
        res->lat_max = sqlpool_histogram_quantile(lat, 1.0);
        res->wait_p50 = sqlpool_histogram_quantile(wait, 0.50);
        res->wait_p99 = sqlpool_histogram_quantile(wait, 0.99);
    }
    sqlpool_histogram_free(lat);
    sqlpool_histogram_free(wait);
}

/* Start the n clients; returns how many started. When the system refuses a thread (the
 * process's memory or thread limit), the ones started are stopped at once: the run is not
 * the one asked for, but what they measured is reported, and the exit status says why. */
static int start_clients(bench_run *r, worker *w, int n) {
    int started = 0, rc = 0;
    atomic_store(&r->running, n);
    while (started < n &&
           (rc = pthread_create(&w[started].thread, NULL, worker_main, &w[started])) == 0)
        started++;
    if (started < n) {
        commands_error("cannot start client thread %d of %d: %s; stopping the %d started, "
                       "their results follow",
                       started + 1, n, strerror(rc), started);
        bench_stop(r);
        clients_done(r, n - started);
    }
    return started;
}

/* Start the clients (and the killer), wait for them, and fill res. Returns 0 or EXIT_*. */
static int measure(bench_run *r, bench_result *res) {
    int n = res->clients, started = 0, status = 0;
    worker *w = calloc((size_t)n, sizeof *w);
    killer_arg ka;
    pthread_t killer;
    sigset_t block, old;
    double start;
    int have_killer = 0;

    if (w == NULL) return EXIT_SOFTWARE;
    if (r->opts->timeline != NULL && (res->timeline = bench_timeline_new()) == NULL)
        status = EXIT_SOFTWARE;
    for (int i = 0; i < n; i++) {
        w[i].run = r;
        w[i].tally.timeline = res->timeline;
        if (bench_tally_init(&w[i].tally, r->opts->workload == BENCH_MIXED) != 0)
            status = EXIT_SOFTWARE;
    }
    /* The threads leave SIGINT to the main thread, so their blocking calls are not cut. */
    (void)sigemptyset(&block);
    (void)sigaddset(&block, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &block, &old);
    atomic_store(&r->faults, 1);
    start = bench_now();
    r->deadline = r->opts->transactions > 0 ? 0.0 : start + r->opts->duration;
    if (status == 0 && (started = start_clients(r, w, n)) < n) status = EXIT_OSERR;
    ka.run = r;
    ka.kills = 0;
    if (started == n && r->mode == BENCH_POOLED && r->opts->kill_every > 0 &&
        r->backend->kill_one != NULL &&
        !(have_killer = pthread_create(&killer, NULL, killer_main, &ka) == 0)) {
        commands_error("cannot start the --kill-every thread; stopping the clients");
        bench_stop(r);
        status = EXIT_OSERR;
    }
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started > 0) supervise(r, start, res->timeline);
    for (int i = 0; i < started; i++)
        (void)pthread_join(w[i].thread, NULL);
    res->elapsed = bench_now() - start;
    if (have_killer) (void)pthread_join(killer, NULL);
    res->kills = ka.kills;
    res->clients = started; /* the clients that ran */
    merge(w, started, res);
    res->tps = res->elapsed > 0 ? (double)res->transactions / res->elapsed : 0.0;
    if (r->opts->workload == BENCH_MIXED)
        for (int k = BENCH_READ; k <= BENCH_WRITE; k++)
            merge_kind(w, started, (bench_kind)k, res->elapsed, &res->kinds[k]);
    for (int i = 0; i < n; i++)
        bench_tally_free(&w[i].tally);
    free(w);
    return status;
}

static int setup_table(bench_run *r, char *err, size_t errlen) {
    if (r->opts->workload == BENCH_SELECT1) return 0;
    return r->backend->setup(r, err, errlen);
}

/* Every row a committed transaction inserted is in the table: 0, or EXIT_SOFTWARE. */
static int verify_rows(bench_run *r, bench_result *res) {
    char err[512] = "";
    long long expected;
    res->rows = -1;
    if (r->opts->workload == BENCH_SELECT1) return 0;
    /* mixed: every committed write inserted one row, so this checks every one. */
    if (r->backend->count(r, &res->rows, err, sizeof err) != 0) {
        commands_error("counting the rows of sqlpool_bench failed: %s", err);
        return EXIT_SOFTWARE;
    }
    expected = res->inserted + (bench_seeded(r->opts->workload) ? BENCH_SEED_ROWS : 0);
    if (res->rows < expected || res->rows > expected + res->in_doubt) {
        commands_error("sqlpool_bench has %lld rows, expected %lld (committed inserts %lld, "
                       "in doubt %lld): committed rows are missing or extra",
                       res->rows, expected, res->inserted, res->in_doubt);
        return EXIT_SOFTWARE;
    }
    return 0;
}

static void pool_config(const bench_run *r, const bench_result *res, sqlpool_config *cfg) {
    sqlpool_config_init(cfg);
    cfg->db = r->db;
    /* A single-writer pool's caps are its readers'; the writer is one more. */
    cfg->single_writer = res->single_writer;
    cfg->group_commit = res->group_commit;
    cfg->max_idle = res->pool_size;
    cfg->max_open = res->max_open;
    cfg->max_retries = r->opts->retries;
    cfg->connect_timeout = r->opts->timeout;
    cfg->acquire_timeout = r->opts->acquire_timeout;
    cfg->barge_window = r->opts->barge_window;
    cfg->init_sql = r->opts->init_sql;
    cfg->pg_reset_query = r->opts->pg_reset_query;
    cfg->pg_unnamed_statements = r->opts->pg_unnamed_statements;
    cfg->statement_timeout = r->opts->statement_timeout;
    cfg->read_db = read_db;
    cfg->log = bench_log;
    cfg->log_level = r->opts->log_level;
    cfg->before_connect = r->opts->fail_connect > 0 ? before_connect : NULL;
    cfg->before_connect_ctx = (void *)r;
    /* Enough connects at once for every client to get its own without queueing on connects. */
    cfg->max_connecting = res->clients < 64 ? res->clients : 64;
}

/* One connection before any client starts: a database that cannot be opened (a missing
 * folder, a file that is not a database) is refused here, with the reason, rather than
 * counted as a run of failed transactions. The connection stays in the pool, idle. */
static int check_connect(bench_run *r) {
    sqlpool_conn *conn = NULL;
    int rc = sqlpool_acquire(r->pool, &conn);
    if (rc == SQLPOOL_OK) {
        sqlpool_release(conn);
        /* A single-writer pool: a reader too (its settings are the readers' own). */
        if (r->single_writer && (rc = sqlpool_acquire_read(r->pool, &conn)) == SQLPOOL_OK)
            sqlpool_release(conn);
    }
    if (rc != SQLPOOL_OK) {
        commands_error("%s", logger_errmsg());
        return commands_exit_for(rc);
    }
    return 0;
}

/* A lane of a single-writer pool (SQLPOOL_LANE_WRITE or _READ) into out; before: the same
 * lane's counters when the clients started. */
static void lane_result(sqlpool *pool, int lane, const sqlpool_stats *before,
                        bench_lane_result *out) {
    sqlpool_stats s;
    if (sqlpool_stats_get_lane(pool, lane, &s) != SQLPOOL_OK) return;
    out->acquires = s.acquires - before->acquires;
    out->waits = s.wait_count - before->wait_count;
    out->timeouts = s.timeouts - before->timeouts;
    out->wait_p50 = s.wait_p50;
    out->wait_p99 = s.wait_p99;
    out->wait_max = s.wait_max;
    out->max_open = s.max_open;
}

/* The clients, then the check of the rows they committed (also when not all could start). */
static int measure_and_verify(bench_run *r, bench_result *res) {
    static const int lanes[2] = {SQLPOOL_LANE_WRITE, SQLPOOL_LANE_READ};
    sqlpool_stats before, after, lane_before[2];
    int status, verified;
    memset(lane_before, 0, sizeof lane_before);
    for (int i = 0; r->single_writer && i < 2; i++)
        (void)sqlpool_stats_get_lane(r->pool, lanes[i], &lane_before[i]);
    sqlpool_stats_get(r->pool, &before);
    status = measure(r, res);
    sqlpool_stats_get(r->pool, &after);
    if (r->mode == BENCH_POOLED) {
        res->connects = after.created - before.created;
        res->retries = after.connect_retries - before.connect_retries;
        res->checkpoints = after.checkpoints - before.checkpoints;
        res->checkpoints_busy = after.checkpoints_busy - before.checkpoints_busy;
        res->wal_peak = after.wal_peak;
        res->group_commits = after.group_commits - before.group_commits;
        res->grouped = after.grouped - before.grouped;
        for (int i = 0; r->single_writer && i < 2; i++)
            lane_result(r->pool, lanes[i], &lane_before[i], &res->lanes[i]);
    }
    atomic_store(&r->faults, 0);
    if (status != 0 && status != EXIT_OSERR) return status;
    verified = verify_rows(r, res);
    return verified != 0 ? verified : status;
}

/* One run: open the pool, check it connects, set up the table, measure, verify. Returns 0 or
 * EXIT_*. */
static int run_once(const bench_options *o, const bench_backend *b, const char *db, bench_mode mode,
                    bench_result *res) {
    bench_run r;
    sqlpool_config cfg;
    char err[512] = "";
    int rc, status;

    memset(&r, 0, sizeof r);
    r.opts = o;
    r.backend = b;
    r.db = db;
    r.mode = mode;
    r.single_writer = res->single_writer;
    res->mode = mode;
    res->group_commit = mode == BENCH_POOLED ? o->group_commit : 0;
    pool_config(&r, res, &cfg);
    if ((rc = sqlpool_open(&cfg, &r.pool)) != SQLPOOL_OK) {
        /* A single-writer pool or group commit the library refuses for this database (group
         * commit: PostgreSQL) is a usage error. */
        commands_error("%scannot open a pool: %s",
                       rc != SQLPOOL_EINVAL   ? ""
                       : cfg.single_writer    ? "--single-writer: "
                       : cfg.group_commit > 1 ? "--group-commit: "
                                              : "",
                       logger_errmsg());
        return commands_exit_for(rc);
    }
    if ((status = check_connect(&r)) != 0) {
        sqlpool_close(r.pool);
        return status;
    }
    if (setup_table(&r, err, sizeof err) != 0) {
        commands_error("setting up the bench table failed: %s", err);
        sqlpool_close(r.pool);
        return EXIT_UNAVAILABLE;
    }
    bench_pause_init(&r);
    nothing_measured = 0;
    if (mode == BENCH_POOLED) bench_metrics_set_pool(metrics, r.pool);
    status = measure_and_verify(&r, res);
    bench_metrics_set_pool(metrics, NULL); /* before the close: no request uses it after */
    sqlpool_close(r.pool);
    bench_pause_destroy(&r);
    log_flush();
    return status;
}

/* Refusals that need the database's kind, before anything runs; *b gets its table. */
static int check_db(const bench_options *o, const bench_backend **b) {
    if ((*b = backends_bench(o->db)) == NULL) {
        commands_error("--db: this build has no PostgreSQL support");
        return EXIT_USAGE;
    }
    return (*b)->check != NULL ? (*b)->check(o) : 0;
}

/* --plot and --timeline: not the database (nor --read-db's), not each other, and writable,
 * before the first run rather than after it. */
static int check_output(const bench_options *o, const char *flag, const char *path) {
    char err[512];
    int status;
    if (path == NULL) return 0;
    if ((status = dbfile_check_output(o->db, flag, path, err, sizeof err)) == 0 &&
        o->read_db != NULL)
        status = dbfile_check_output(o->read_db, flag, path, err, sizeof err);
    if (status == 0) status = summary_check_path(path, err, sizeof err);
    if (status != 0) commands_error("%s", err);
    return status;
}

static int check_plot(const bench_options *o) {
    int status = check_output(o, "--plot", o->plot);
    return status != 0 ? status : check_output(o, "--timeline", o->timeline);
}

/* --timeline's chart of the (one) run: 0 or an exit status (message printed). */
static int write_timeline(const bench_options *o, const bench_result *res, int n) {
    static const char *const workloads[] = {"select1", "insert", "read-write", "mixed"};
    char title[160], err[512] = "";
    int status;
    if (o->timeline == NULL || n < 1 || res[0].timeline == NULL) return 0;
    (void)snprintf(title, sizeof title, "sqlpool bench --timeline: %s on %s, %d clients, %s",
                   workloads[o->workload], sqlpool_db_backend(o->db), res[0].clients,
                   res[0].mode == BENCH_POOLED ? "pooled" : "unpooled");
    if ((status = bench_timeline_svg(res[0].timeline, o->timeline, title, err, sizeof err)) != 0)
        commands_error("%s", err);
    return status;
}

/* The runs of one point, in order: pooled, then unpooled (--mode both); or with --compare
 * the plain pool, then the single-writer one. Each is a mode and a pool kind. */
static int point_runs(const bench_options *o, bench_mode modes[2], int single_writer[2]) {
    int n = 0;
    if (o->compare) {
        modes[0] = modes[1] = BENCH_POOLED;
        single_writer[0] = 0;
        single_writer[1] = 1;
        return 2;
    }
    for (int m = BENCH_POOLED; m <= BENCH_UNPOOLED; m++)
        if ((int)o->mode & m) {
            modes[n] = (bench_mode)m;
            single_writer[n++] = o->single_writer && m == BENCH_POOLED;
        }
    return n;
}

/* The runs of the sweep, in order: results gets at most 2 * npoints entries. */
static int run_all(const bench_options *o, const bench_backend *b, const char *db,
                   bench_result *results, int *n) {
    int npoints = o->sweep == BENCH_SWEEP_NONE ? 1 : o->nsweep, status = 0, sw[2];
    bench_mode modes[2];
    int nruns = point_runs(o, modes, sw);
    for (int p = 0; p < npoints && status == 0 && !interrupted; p++) {
        for (int k = 0; k < nruns && status == 0 && !interrupted; k++) {
            bench_result *res = &results[*n];
            memset(res, 0, sizeof *res);
            res->single_writer = sw[k];
            res->clients = o->sweep == BENCH_SWEEP_CLIENTS ? o->sweep_values[p] : o->clients;
            res->pool_size = o->sweep == BENCH_SWEEP_POOL_SIZE ? o->sweep_values[p]
                             : o->pool_size > 0                ? o->pool_size
                                                               : res->clients;
            res->max_open = o->max_open >= 0 ? o->max_open : res->pool_size;
            status = run_once(o, b, db, modes[k], res);
            /* Not every client could start: what those that did measured is reported. */
            if (status == 0 || (status == EXIT_OSERR && res->clients > 0))
                (*n)++;
            else
                bench_timeline_free(res->timeline);
        }
    }
    return status;
}

static void quiet_log(void *ctx, int level, const char *msg) {
    (void)ctx;
    (void)level;
    (void)msg;
}

/* --compare: the single-writer pool is the second run of a point; a database the library
 * refuses it for (":memory:", mode=ro) is told before the first run rather than after it. */
static int check_compare(const bench_options *o, const char *db) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    int rc;
    if (!o->compare) return 0;
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.single_writer = 1;
    cfg.connect_timeout = o->timeout;
    cfg.log = quiet_log; /* the refusal is said once, below */
    rc = sqlpool_open(&cfg, &pool);
    sqlpool_close(pool);
    if (rc != SQLPOOL_EINVAL) return 0; /* anything else: the runs say it */
    commands_error("--compare single-writer: cannot open a single-writer pool: %s",
                   logger_errmsg());
    return EXIT_USAGE;
}

/* Start the metrics server with SIGINT blocked, so its thread leaves SIGINT to this one. */
static int start_metrics(const unsigned char ip[4], int port) {
    sigset_t block, old;
    int status;
    (void)sigemptyset(&block);
    (void)sigaddset(&block, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &block, &old);
    status = bench_metrics_start(ip, port, &metrics);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    return status;
}

int command_bench(const bench_options *o) {
    bench_result results[2 * BENCH_MAX_SWEEP];
    struct sigaction sa, old;
    const bench_backend *b;
    char *tagged = NULL, *tagged_read = NULL;
    const char *db = o->db;
    int n = 0, status, out;

    if ((status = check_db(o, &b)) != 0 || (status = check_plot(o)) != 0) return status;
    bench_random_seed((unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32));
    read_db = o->read_db;
    if (b->tag_db != NULL) {
        if ((tagged = b->tag_db(o->db)) == NULL ||
            (o->read_db != NULL && (tagged_read = b->tag_db(o->read_db)) == NULL)) {
            free(tagged);
            return EXIT_SOFTWARE;
        }
        db = tagged;
        if (tagged_read != NULL) read_db = tagged_read;
    }
    if ((status = check_compare(o, db)) != 0 ||
        (o->metrics_listen != NULL &&
         (status = start_metrics(o->metrics_ip, o->metrics_port)) != 0)) {
        free(tagged);
        free(tagged_read);
        return status;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, &old);
    status = run_all(o, b, db, results, &n);
    (void)sigaction(SIGINT, &old, NULL);
    bench_metrics_stop(metrics);
    metrics = NULL;
    free(tagged);
    free(tagged_read);
    read_db = NULL;
    /* What was measured is printed even when a later run failed. */
    if (n > 0 && (out = bench_report(o, results, n, interrupted != 0)) != 0 && status == 0)
        status = out;
    if (status == 0 && o->plot != NULL && !interrupted) status = bench_report_plot(o, results, n);
    /* Also after SIGINT: the intervals measured are what the chart is for. */
    if (status == 0) status = write_timeline(o, results, n);
    for (int i = 0; i < n; i++)
        bench_timeline_free(results[i].timeline);
    return status;
}
