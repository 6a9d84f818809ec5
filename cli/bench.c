/*
 * bench.c: `sqlpool bench`: the runs of a sweep, each with its client threads, the progress
 * line, SIGINT, and the check that every committed row is in the table.
 */
#include "bench.h"
#include "bench_metrics.h"

#include "commands.h"
#include "dbfile.h"
#include "exitcodes.h"
#include "logger.h"
#include "summary.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The --metrics-listen server, or NULL; it is shown each pooled run's pool. */
static bench_metrics *metrics;

/* Set by the SIGINT handler; the main thread copies it into each run's stop flag. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

double bench_now(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep(double seconds) {
    struct timespec ts;
    if (seconds <= 0.0) return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* splitmix64 over one shared atomic counter: thread-safe without a lock. */
static atomic_ullong rng_state;

double bench_random(void) {
    uint64_t z = (uint64_t)atomic_fetch_add(&rng_state, 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

int bench_connect_fault(bench_run *r) {
    return atomic_load(&r->faults) && bench_random() < r->opts->fail_connect;
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

static int one_transaction(bench_run *r, bench_tally *t) {
    if (r->is_pg) {
#ifdef SQLPOOL_CLI_HAVE_PG
        return bench_pg_transaction(r, t);
#else
        return -1;
#endif
    }
    return bench_sqlite_transaction(r, t);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    bench_run *r = w->run;
    for (long i = 0;; i++) {
        if (atomic_load(&r->stop)) break;
        if (r->opts->transactions > 0 ? i >= r->opts->transactions : bench_now() >= r->deadline)
            break;
        if (i > 0 && r->opts->think_time > 0.0) bench_sleep(r->opts->think_time);
        (void)one_transaction(r, &w->tally);
        atomic_fetch_add(&r->done, 1);
    }
    return NULL;
}

/* What the killer thread gets: the run, and where to count what it broke. */
typedef struct killer_arg {
    bench_run *run;
    long long kills;
} killer_arg;

/* The --kill-every thread: every kill_every seconds, break one idle pooled connection. */
static void *killer_main(void *arg) {
    killer_arg *ka = arg;
    bench_run *r = ka->run;
    double next = bench_now() + r->opts->kill_every;
    while (!atomic_load(&r->stop) && !atomic_load(&r->over)) {
        if (bench_now() < next) {
            bench_sleep(0.02);
            continue;
        }
#ifdef SQLPOOL_CLI_HAVE_PG
        if (bench_pg_kill_one(r) > 0) ka->kills++;
#endif
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

/* Wait for the workers, updating the progress line about once a second and passing SIGINT on. */
static void supervise(bench_run *r, double start) {
    int tty = isatty(STDERR_FILENO), shown_any = 0;
    double next = start + 1.0;
    for (;;) {
        if (interrupted) atomic_store(&r->stop, 1);
        if (atomic_load(&r->over)) break; /* all workers joined */
        if (tty && bench_now() >= next) {
            progress(r, start, &shown_any);
            next += 1.0;
        }
        bench_sleep(0.05);
    }
    if (shown_any) (void)fputs("\n", stderr);
}

typedef struct joiner {
    worker *workers;
    int n;
    bench_run *run;
} joiner;

/* Joins the workers, then marks the run over for supervise() and the killer. */
static void *joiner_main(void *arg) {
    joiner *j = arg;
    for (int i = 0; i < j->n; i++)
        (void)pthread_join(j->workers[i].thread, NULL);
    atomic_store(&j->run->over, 1);
    return NULL;
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

/* Start the clients (and the killer), wait for them, and fill res. Returns 0 or EXIT_*. */
static int measure(bench_run *r, bench_result *res) {
    int n = res->clients, started = 0, status = 0;
    worker *w = calloc((size_t)n, sizeof *w);
    killer_arg ka;
    pthread_t killer, join_thread;
    joiner j;
    sigset_t block, old;
    double start;
    int have_killer = 0;

    if (w == NULL) return EXIT_SOFTWARE;
    for (int i = 0; i < n; i++) {
        w[i].run = r;
        w[i].tally.latency = sqlpool_histogram_new();
        w[i].tally.wait = sqlpool_histogram_new();
        if (!w[i].tally.latency || !w[i].tally.wait) status = EXIT_SOFTWARE;
    }
    /* The threads leave SIGINT to the main thread, so their blocking calls are not cut. */
    (void)sigemptyset(&block);
    (void)sigaddset(&block, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &block, &old);
    atomic_store(&r->faults, 1);
    start = bench_now();
    r->deadline = r->opts->transactions > 0 ? 0.0 : start + r->opts->duration;
    for (; status == 0 && started < n; started++)
        if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0) break;
    if (started < n) {
        atomic_store(&r->stop, 1);
        status = EXIT_SOFTWARE;
    }
    j.workers = w;
    j.n = started;
    j.run = r;
    if (pthread_create(&join_thread, NULL, joiner_main, &j) != 0) abort();
    ka.run = r;
    ka.kills = 0;
    if (r->mode == BENCH_POOLED && r->opts->kill_every > 0 && r->is_pg)
        have_killer = pthread_create(&killer, NULL, killer_main, &ka) == 0;
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    supervise(r, start);
    (void)pthread_join(join_thread, NULL);
    res->elapsed = bench_now() - start;
    if (have_killer) (void)pthread_join(killer, NULL);
    res->kills = ka.kills;
    merge(w, started, res);
    res->tps = res->elapsed > 0 ? (double)res->transactions / res->elapsed : 0.0;
    for (int i = 0; i < n; i++) {
        sqlpool_histogram_free(w[i].tally.latency);
        sqlpool_histogram_free(w[i].tally.wait);
    }
    free(w);
    return status;
}

static int setup_table(bench_run *r, char *err, size_t errlen) {
    if (r->opts->workload == BENCH_SELECT1) return 0;
#ifdef SQLPOOL_CLI_HAVE_PG
    if (r->is_pg) return bench_pg_setup(r, err, errlen);
#endif
    return bench_sqlite_setup(r, err, errlen);
}

/* Every row a committed transaction inserted is in the table: 0, or EXIT_SOFTWARE. */
static int verify_rows(bench_run *r, bench_result *res) {
    char err[512] = "";
    long long expected;
    int rc;
    res->rows = -1;
    if (r->opts->workload == BENCH_SELECT1) return 0;
#ifdef SQLPOOL_CLI_HAVE_PG
    if (r->is_pg)
        rc = bench_pg_count(r, &res->rows, err, sizeof err);
    else
#endif
        rc = bench_sqlite_count(r, &res->rows, err, sizeof err);
    if (rc != 0) {
        commands_error("counting the rows of sqlpool_bench failed: %s", err);
        return EXIT_SOFTWARE;
    }
    expected = res->inserted + (r->opts->workload == BENCH_READ_WRITE ? BENCH_SEED_ROWS : 0);
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
    cfg->max_idle = res->pool_size;
    cfg->max_open = res->max_open;
    cfg->max_retries = r->opts->retries;
    cfg->connect_timeout = r->opts->timeout;
    cfg->acquire_timeout = r->opts->acquire_timeout;
    cfg->barge_window = r->opts->barge_window;
    cfg->log = logger_sink;
    cfg->log_level = r->opts->log_level;
    cfg->before_connect = r->opts->fail_connect > 0 ? before_connect : NULL;
    cfg->before_connect_ctx = (void *)r;
    /* Enough connects at once for every client to get its own without queueing on connects. */
    cfg->max_connecting = res->clients < 64 ? res->clients : 64;
}

/* One run: open the pool, set up the table, measure, verify. Returns 0 or EXIT_*. */
static int run_once(const bench_options *o, const char *db, bench_mode mode, bench_result *res) {
    bench_run r;
    sqlpool_config cfg;
    sqlpool_stats before, after;
    char err[512] = "";
    int rc, status;

    memset(&r, 0, sizeof r);
    r.opts = o;
    r.db = db;
    r.is_pg = strcmp(sqlpool_db_backend(o->db), "postgresql") == 0;
    r.mode = mode;
    res->mode = mode;
    pool_config(&r, res, &cfg);
    if ((rc = sqlpool_open(&cfg, &r.pool)) != SQLPOOL_OK) {
        commands_error("cannot open a pool: %s", sqlpool_errmsg());
        return commands_exit_for(rc);
    }
    if (setup_table(&r, err, sizeof err) != 0) {
        commands_error("setting up the bench table failed: %s", err);
        sqlpool_close(r.pool);
        return EXIT_UNAVAILABLE;
    }
    if (mode == BENCH_POOLED) bench_metrics_set_pool(metrics, r.pool);
    sqlpool_stats_get(r.pool, &before);
    status = measure(&r, res);
    sqlpool_stats_get(r.pool, &after);
    if (mode == BENCH_POOLED) {
        res->connects = after.created - before.created;
        res->retries = after.connect_retries - before.connect_retries;
    }
    atomic_store(&r.faults, 0);
    if (status == 0) status = verify_rows(&r, res);
    bench_metrics_set_pool(metrics, NULL); /* before the close: no request uses it after */
    sqlpool_close(r.pool);
    return status;
}

/* Refusals that need the database's kind, before anything runs. */
static int check_db(const bench_options *o) {
    int pg = strcmp(sqlpool_db_backend(o->db), "postgresql") == 0;
    if (pg && !sqlpool_has_postgresql()) {
        commands_error("--db: this build has no PostgreSQL support");
        return EXIT_USAGE;
    }
    if (!pg && o->kill_every > 0) {
        commands_error("--kill-every: a SQLite connection cannot be broken from outside the "
                       "process (there is no server to drop it); use it with PostgreSQL");
        return EXIT_USAGE;
    }
    if (!pg && (o->mode & BENCH_UNPOOLED) &&
        (strcmp(o->db, ":memory:") == 0 || strncmp(o->db, "file::memory:", 13) == 0 ||
         strstr(o->db, "mode=memory") != NULL)) {
        commands_error("--mode: an unpooled run opens a new connection per transaction, and "
                       "each connection to an in-memory database gets an empty one of its own: "
                       "use a database file");
        return EXIT_USAGE;
    }
    return 0;
}

/* --plot: not the database, and writable, before the first run rather than after the sweep. */
static int check_plot(const bench_options *o) {
    char err[512];
    int status;
    if (o->plot == NULL) return 0;
    if ((status = dbfile_check_output(o->db, "--plot", o->plot, err, sizeof err)) == 0)
        status = summary_check_path(o->plot, err, sizeof err);
    if (status != 0) commands_error("%s", err);
    return status;
}

/* The runs of the sweep, in order: results gets at most 2 * npoints entries. */
static int run_all(const bench_options *o, const char *db, bench_result *results, int *n) {
    int npoints = o->sweep == BENCH_SWEEP_NONE ? 1 : o->nsweep, status = 0;
    for (int p = 0; p < npoints && status == 0 && !interrupted; p++) {
        for (int m = BENCH_POOLED; m <= BENCH_UNPOOLED && status == 0 && !interrupted; m++) {
            bench_result *res = &results[*n];
            if (!((int)o->mode & m)) continue;
            memset(res, 0, sizeof *res);
            res->clients = o->sweep == BENCH_SWEEP_CLIENTS ? o->sweep_values[p] : o->clients;
            res->pool_size = o->sweep == BENCH_SWEEP_POOL_SIZE ? o->sweep_values[p]
                             : o->pool_size > 0                ? o->pool_size
                                                               : res->clients;
            res->max_open = o->max_open >= 0 ? o->max_open : res->pool_size;
            status = run_once(o, db, (bench_mode)m, res);
            if (status == 0) (*n)++;
        }
    }
    return status;
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
    char *tagged = NULL;
    const char *db = o->db;
    int n = 0, status, out;

    if ((status = check_db(o)) != 0 || (status = check_plot(o)) != 0) return status;
    atomic_store(&rng_state, (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32));
    if (strcmp(sqlpool_db_backend(o->db), "postgresql") == 0) {
#ifdef SQLPOOL_CLI_HAVE_PG
        if ((tagged = bench_pg_tagged(o->db)) == NULL) return EXIT_SOFTWARE;
        db = tagged;
#endif
    }
    if (o->metrics_listen != NULL &&
        (status = start_metrics(o->metrics_ip, o->metrics_port)) != 0) {
        free(tagged);
        return status;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, &old);
    status = run_all(o, db, results, &n);
    (void)sigaction(SIGINT, &old, NULL);
    bench_metrics_stop(metrics);
    metrics = NULL;
    free(tagged);
    /* What was measured is printed even when a later run failed. */
    if (n > 0 && (out = bench_report(o, results, n, interrupted != 0)) != 0 && status == 0)
        status = out;
    if (status == 0 && o->plot != NULL && !interrupted) status = bench_report_plot(o, results, n);
    return status;
}

int bench_borrow(bench_run *r, bench_tally *t, sqlpool_conn **conn) {
    int rc = sqlpool_acquire(r->pool, conn);
    if (rc == SQLPOOL_OK) return 0;
    t->errors++;
    if (rc == SQLPOOL_ETIMEDOUT) t->timeouts++;
    return -1;
}
