/*
 * bench_pools.c: a HikariCP-style micro-benchmark of connection pools for SQLite. Each pool
 * sits behind an adapter (adapters/adapter.h); every thread loops acquire, use, release for a
 * fixed time, counting its cycles and timing each acquire (from before the call to after it),
 * so the slowest acquire and the least served thread show whether anyone starves.
 *
 *   connection cycle: acquire + release, no statement (HikariCP's ConnectionBench)
 *   statement cycle:  acquire + SELECT 1 + release, each pool the way its users run it
 *                     (HikariCP's StatementBench)
 *
 * Cells run interleaved (each repetition goes through every thread count, cycle and pool,
 * starting the pool order one further each time) and the figures are medians over the
 * repetitions; ratios are medians of per-repetition ratios, each of two cells run back to
 * back. Figures only: nothing here passes or fails on time.
 *
 * The one-thread ratio against the mutex pair is also measured without any clock read per
 * cycle (a clock read costs about as much as the mutex pair), on the main thread: once
 * before the process has ever started a thread (glibc then drops the atomic instructions
 * from its mutex; sqlpool's default configuration would start its maintenance thread, so
 * that pool has idle_timeout and max_lifetime at 0), and once after.
 *
 * Usage: bench_pools [-d seconds per cell, default 1] [-r repetitions, default 3]
 *                    [-t thread counts, default 1,2,8,64] [-m max connections, default 4]
 *                    [-p pools to run, e.g. sqlpool,apr_reslist] [-c connection|statement]
 *                    [-u: no clock read per cycle, so no max wait]
 * (-p, -c and -u are for profiling one cell; the ratios need the full run.)
 */
#include "adapters/adapter.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#include <sys/single_threaded.h>
#define SINGLE_THREADED() (__libc_single_threaded != 0)
#else
#define SINGLE_THREADED() 0
#endif

#define MAX_REPS 15
#define MAX_TCOUNTS 8
#define MAX_THREADS 1024
#define START_SLACK_NS 50e6 /* time for every thread to be created before the clock starts */

enum { CONN_CYCLE, STMT_CYCLE, CYCLES };
static const char *const cycle_names[CYCLES] = {"connection", "statement"};

static const bench_adapter *const adapters[] = {
    &bench_sqlpool_adapter, &bench_sqlpool_barge_adapter,
#ifdef BENCH_HAVE_APR
    &bench_apr_adapter,
#endif
#ifdef BENCH_HAVE_ZDB
    &bench_zdb_adapter,
#endif
    &bench_mutex_adapter,   &bench_nopool_adapter,
};
#define NPOOLS ((int)(sizeof adapters / sizeof adapters[0]))

/* One cell's outcome: one pool, one cycle, one thread count, one repetition. */
typedef struct cell {
    int ran;
    double ops_s;       /* cycles per second, all threads together */
    double max_wait_ns; /* the slowest single acquire */
    long long min_ops;  /* the least and most cycles one thread completed */
    long long max_ops;
} cell;

/* Each on cache lines of its own (128 bytes: a line and the one the prefetcher pairs with
 * it), so that counting one thread's cycles does not slow the others down. */
typedef struct worker {
    _Alignas(128) const bench_adapter *a;
    void *pool;
    int cycle;
    int timed; /* 1: time every acquire; 0: read the clock only every 256 cycles */
    double start_ns, end_ns;
    long long ops;
    double max_wait_ns;
    pthread_t thread;
} worker;

typedef struct options {
    double seconds;
    int reps;
    int tcounts[MAX_TCOUNTS];
    int ntcounts;
    int max;
    const char *only_pools; /* -p: comma-separated pool names to run (default all) */
    int only_cycle;         /* -c: CONN_CYCLE or STMT_CYCLE, or -1 for both */
    int untimed;            /* -u: no clock read per cycle (no max wait), for profiling */
} options;

static double now_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void sleep_until_ns(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)(t / 1e9);
    ts.tv_nsec = (long)(t - (double)ts.tv_sec * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}

/* One acquire, use, release. */
static void cycle_once(const worker *w) {
    void *conn = w->a->acquire(w->pool);
    if (w->cycle == STMT_CYCLE && !w->a->select1(w->pool, conn))
        bench_die(w->a->name, "SELECT 1 failed");
    w->a->release(w->pool, conn);
}

static void run_timed(worker *w) {
    for (;;) {
        double t0 = now_ns(), t1, wait;
        void *conn = w->a->acquire(w->pool);
        t1 = now_ns();
        wait = t1 - t0;
        if (wait > w->max_wait_ns) w->max_wait_ns = wait;
        if (w->cycle == STMT_CYCLE && !w->a->select1(w->pool, conn))
            bench_die(w->a->name, "SELECT 1 failed");
        w->a->release(w->pool, conn);
        w->ops++;
        if (t1 >= w->end_ns) return;
    }
}

static void run_untimed(worker *w) {
    for (;;) {
        for (int i = 0; i < 256; i++)
            cycle_once(w);
        w->ops += 256;
        if (now_ns() >= w->end_ns) return;
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    sleep_until_ns(w->start_ns);
    if (w->timed)
        run_timed(w);
    else
        run_untimed(w);
    return NULL;
}

/* Run nthreads workers on one pool for `seconds`, all starting at the same instant. */
static cell run_cell(const bench_adapter *a, void *pool, int cycle, int nthreads, double seconds,
                     int timed) {
    static worker ws[MAX_THREADS];
    double start = now_ns() + START_SLACK_NS, elapsed_end = 0;
    cell c = {1, 0, 0, -1, 0};
    long long total = 0;

    for (int i = 0; i < nthreads; i++) {
        worker w = {a, pool, cycle, timed, start, start + seconds * 1e9, 0, 0, 0};
        ws[i] = w;
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
            bench_die("pthread_create", "failed");
    }
    for (int i = 0; i < nthreads; i++) {
        if (pthread_join(ws[i].thread, NULL) != 0) abort();
        total += ws[i].ops;
        if (ws[i].max_wait_ns > c.max_wait_ns) c.max_wait_ns = ws[i].max_wait_ns;
        if (c.min_ops < 0 || ws[i].ops < c.min_ops) c.min_ops = ws[i].ops;
        if (ws[i].ops > c.max_ops) c.max_ops = ws[i].ops;
    }
    elapsed_end = now_ns();
    /* Threads stop after the deadline, with their last cycle: count the time they took. */
    c.ops_s = (double)total / ((elapsed_end - start) / 1e9);
    return c;
}

/* ns per connection cycle on the calling thread, no clock read inside the loop's body. */
static double untimed_ns(const bench_adapter *a, void *pool, double seconds) {
    worker w = {a, pool, CONN_CYCLE, 0, 0, 0, 0, 0, 0};
    double t0 = now_ns();
    w.start_ns = t0;
    w.end_ns = t0 + seconds * 1e9;
    run_untimed(&w);
    return (now_ns() - t0) / (double)w.ops;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* ---- the one-thread ratio against the mutex pair, without per-cycle clock reads ---- */

typedef struct pair_ratio {
    double pool_ns, mutex_ns, ratio; /* medians */
    int single_threaded;             /* the process had never started a thread */
} pair_ratio;

static pair_ratio measure_pair(void *sqlpool_pool, void *mutex_pool, int rounds) {
    double p[MAX_REPS * 2], m[MAX_REPS * 2], r[MAX_REPS * 2];
    pair_ratio out = {NAN, NAN, NAN, SINGLE_THREADED()};
    if (rounds == 0) return out;                              /* -p: profiling one cell */
    (void)untimed_ns(&bench_mutex_adapter, mutex_pool, 0.05); /* warm up */
    (void)untimed_ns(&bench_sqlpool_adapter, sqlpool_pool, 0.05);
    for (int i = 0; i < rounds; i++) {
        if (i % 2 == 0) {
            m[i] = untimed_ns(&bench_mutex_adapter, mutex_pool, 0.2);
            p[i] = untimed_ns(&bench_sqlpool_adapter, sqlpool_pool, 0.2);
        } else {
            p[i] = untimed_ns(&bench_sqlpool_adapter, sqlpool_pool, 0.2);
            m[i] = untimed_ns(&bench_mutex_adapter, mutex_pool, 0.2);
        }
        r[i] = p[i] / m[i];
    }
    if (out.single_threaded && !SINGLE_THREADED()) out.single_threaded = 0; /* be sure */
    out.pool_ns = median(p, rounds);
    out.mutex_ns = median(m, rounds);
    out.ratio = median(r, rounds);
    return out;
}

/* ---- setup ---- */

static void usage(void) {
    (void)fprintf(stderr,
                  "usage: bench_pools [-d seconds] [-r repetitions 1..%d] "
                  "[-t n,n,...] [-m max connections] [-p pool,...] "
                  "[-c connection|statement] [-u]\n",
                  MAX_REPS);
    exit(2);
}

static void parse_tcounts(options *o, char *list) {
    o->ntcounts = 0;
    for (char *s = strtok(list, ","); s != NULL; s = strtok(NULL, ",")) {
        int n = atoi(s);
        if (n < 1 || n > MAX_THREADS || o->ntcounts == MAX_TCOUNTS) usage();
        o->tcounts[o->ntcounts++] = n;
    }
    if (o->ntcounts == 0) usage();
}

static options parse(int argc, char **argv) {
    options o = {1.0, 3, {1, 2, 8, 64}, 4, 4, NULL, -1, 0};
    int ch;
    while ((ch = getopt(argc, argv, "d:r:t:m:p:c:u")) != -1) {
        switch (ch) {
        case 'd': o.seconds = atof(optarg); break;
        case 'r': o.reps = atoi(optarg); break;
        case 't': parse_tcounts(&o, optarg); break;
        case 'm': o.max = atoi(optarg); break;
        case 'p': o.only_pools = optarg; break;
        case 'u': o.untimed = 1; break;
        case 'c': o.only_cycle = strcmp(optarg, "statement") == 0 ? STMT_CYCLE : CONN_CYCLE; break;
        default: usage();
        }
    }
    if (!(o.seconds > 0) || o.reps < 1 || o.reps > MAX_REPS || o.max < 1) usage();
    return o;
}

/* A fresh WAL database in TMPDIR that every adapter opens; the returned connection keeps it
 * open (and its WAL in place) until the end. */
static sqlite3 *make_db(char *path, size_t len) {
    const char *dir = getenv("TMPDIR");
    sqlite3 *db = NULL;
    (void)snprintf(path, len, "%s/bench_pools_%ld.db", dir && *dir ? dir : "/tmp", (long)getpid());
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(x)", NULL, NULL,
                     NULL) != SQLITE_OK)
        bench_die("creating the database", sqlite3_errmsg(db));
    return db;
}

static void remove_db(const char *path) {
    char p[4200];
    (void)remove(path);
    (void)snprintf(p, sizeof p, "%s-wal", path);
    (void)remove(p);
    (void)snprintf(p, sizeof p, "%s-shm", path);
    (void)remove(p);
}

static int pool_index(const char *name) {
    for (int i = 0; i < NPOOLS; i++)
        if (strcmp(adapters[i]->name, name) == 0) return i;
    return -1;
}

/* ---- reporting ---- */

static cell results[MAX_REPS][CYCLES][MAX_TCOUNTS][8];

/* The median over repetitions of one cell, the slowest acquire over all of them, and the
 * least fair split (lowest min/max) of any of them. */
static cell summary(const options *o, int cy, int ti, int pi) {
    double v[MAX_REPS];
    cell s = {0, 0, 0, 0, 0};
    double fair = 2;
    for (int r = 0; r < o->reps; r++) {
        const cell *c = &results[r][cy][ti][pi];
        double f = c->max_ops > 0 ? (double)c->min_ops / (double)c->max_ops : 0;
        if (!c->ran) return s;
        v[r] = c->ops_s;
        if (c->max_wait_ns > s.max_wait_ns) s.max_wait_ns = c->max_wait_ns;
        if (f < fair) {
            fair = f;
            s.min_ops = c->min_ops;
            s.max_ops = c->max_ops;
        }
    }
    s.ran = 1;
    s.ops_s = median(v, o->reps);
    return s;
}

/* The median over repetitions of ops_s(a) / ops_s(b): how many times faster a is. */
static double ratio(const options *o, int cy, int ti, int a, int b) {
    double v[MAX_REPS];
    if (a < 0 || b < 0 || ti < 0) return NAN;
    for (int r = 0; r < o->reps; r++) {
        const cell *x = &results[r][cy][ti][a], *y = &results[r][cy][ti][b];
        if (!x->ran || !y->ran || y->ops_s <= 0) return NAN;
        v[r] = x->ops_s / y->ops_s;
    }
    return median(v, o->reps);
}

static int tindex(const options *o, int n) {
    for (int i = 0; i < o->ntcounts; i++)
        if (o->tcounts[i] == n) return i;
    return -1;
}

static void print_tables(const options *o) {
    for (int cy = 0; cy < CYCLES; cy++) {
        printf("\n%s cycle (median of %d x %.2f s; max wait: the slowest acquire in any run; "
               "min/max ops: the least and most one thread did, least fair run)\n",
               cycle_names[cy], o->reps, o->seconds);
        printf("  %-12s %7s %14s %12s %14s %12s %12s %8s\n", "pool", "threads", "ops/s", "ns/op",
               "max wait us", "min ops", "max ops", "min/max");
        for (int ti = 0; ti < o->ntcounts; ti++)
            for (int pi = 0; pi < NPOOLS; pi++) {
                cell s = summary(o, cy, ti, pi);
                if (!s.ran) continue;
                printf("  %-12s %7d %14.0f %12.1f %14.1f %12lld %12lld %8.2f\n", adapters[pi]->name,
                       o->tcounts[ti], s.ops_s, 1e9 / s.ops_s, s.max_wait_ns / 1e3, s.min_ops,
                       s.max_ops, (double)s.min_ops / (double)s.max_ops);
            }
    }
}

static void print_results(const options *o) {
    for (int cy = 0; cy < CYCLES; cy++)
        for (int ti = 0; ti < o->ntcounts; ti++)
            for (int pi = 0; pi < NPOOLS; pi++) {
                cell s = summary(o, cy, ti, pi);
                char name[32];
                if (!s.ran) continue;
                (void)snprintf(name, sizeof name, "%s", adapters[pi]->name);
                for (char *c = name; *c; c++)
                    if (*c == ' ') *c = '_';
                printf("RESULT cycle=%s pool=%s threads=%d ops_s=%.0f ns_op=%.1f "
                       "max_wait_us=%.1f min_ops=%lld max_ops=%lld\n",
                       cycle_names[cy], name, o->tcounts[ti], s.ops_s, 1e9 / s.ops_s,
                       s.max_wait_ns / 1e3, s.min_ops, s.max_ops);
            }
}

typedef struct ratio_line {
    const char *name, *what, *target;
    double value, want; /* met when value >= want, or <= want when want is negative */
} ratio_line;

static const char *verdict(const ratio_line *r) {
    if (isnan(r->value)) return "n/a";
    if (isnan(r->want)) return "(for scale)";
    if (r->want < 0) return r->value <= -r->want ? "met" : "MISSED";
    return r->value >= r->want ? "met" : "MISSED";
}

static int collect_ratios(const options *o, const pair_ratio *st, const pair_ratio *mt,
                          ratio_line *out) {
    int sp = 0, apr = pool_index("apr_reslist"), zdb = pool_index("libzdb");
    int t1 = tindex(o, 1), t8 = tindex(o, 8), t64 = tindex(o, 64), n = 0;
    int mx = pool_index("mutex pair"), sb = pool_index("sqlpool-barge");
    ratio_line l[] = {
        {"sqlpool_vs_mutex_st",
         "sqlpool / mutex pair, 1 thread, connection cycle, "
         "no clock per cycle, single-threaded process",
         "<= 2x", st->ratio, -2},
        {"sqlpool_vs_mutex_mt",
         "sqlpool / mutex pair, 1 thread, connection cycle, "
         "no clock per cycle, multi-threaded process",
         "<= 2x", mt->ratio, -2},
        {"sqlpool_vs_mutex_timed",
         "sqlpool / mutex pair, 1 thread, connection cycle, "
         "table run (2 clock reads per cycle)",
         "<= 2x", 1 / ratio(o, CONN_CYCLE, t1, sp, mx), -2},
        {"sqlpool_vs_apr_8", "apr_reslist time / sqlpool time, 8 threads, connection cycle", "> 1x",
         ratio(o, CONN_CYCLE, t8, sp, apr), 1.0000001},
        {"sqlpool_vs_apr_64", "apr_reslist time / sqlpool time, 64 threads, connection cycle",
         "> 1x", ratio(o, CONN_CYCLE, t64, sp, apr), 1.0000001},
        {"sqlpool_vs_apr_stmt_8", "apr_reslist time / sqlpool time, 8 threads, statement cycle",
         "> 1x", ratio(o, STMT_CYCLE, t8, sp, apr), 1.0000001},
        {"sqlpool_vs_apr_stmt_64", "apr_reslist time / sqlpool time, 64 threads, statement cycle",
         "> 1x", ratio(o, STMT_CYCLE, t64, sp, apr), 1.0000001},
        {"sqlpool_vs_zdb_8", "libzdb time / sqlpool time, 8 threads, connection cycle", "> 20x",
         ratio(o, CONN_CYCLE, t8, sp, zdb), 20},
        {"sqlpool_vs_zdb_64", "libzdb time / sqlpool time, 64 threads, connection cycle", "> 20x",
         ratio(o, CONN_CYCLE, t64, sp, zdb), 20},
        {"barge_vs_mutex_timed",
         "sqlpool-barge / mutex pair, 1 thread, connection cycle, table run (2 clock reads per "
         "cycle)",
         "<= 2x", 1 / ratio(o, CONN_CYCLE, t1, sb, mx), -2},
        {"barge_vs_apr_8", "apr_reslist time / sqlpool-barge time, 8 threads, connection cycle",
         "> 1x", ratio(o, CONN_CYCLE, t8, sb, apr), 1.0000001},
        {"barge_vs_apr_64", "apr_reslist time / sqlpool-barge time, 64 threads, connection cycle",
         "> 1x", ratio(o, CONN_CYCLE, t64, sb, apr), 1.0000001},
        {"barge_vs_zdb_8", "libzdb time / sqlpool-barge time, 8 threads, connection cycle", "> 20x",
         ratio(o, CONN_CYCLE, t8, sb, zdb), 20},
        {"barge_vs_zdb_64", "libzdb time / sqlpool-barge time, 64 threads, connection cycle",
         "> 20x", ratio(o, CONN_CYCLE, t64, sb, zdb), 20},
        {"mutex_vs_zdb_64",
         "libzdb time / mutex pair time, 64 threads, connection cycle (for scale: one "
         "shared lock)",
         "(none)", ratio(o, CONN_CYCLE, t64, mx, zdb), NAN},
        {"sqlpool_vs_apr_stmt_1", "apr_reslist time / sqlpool time, 1 thread, statement cycle",
         ">= 5x", ratio(o, STMT_CYCLE, t1, sp, apr), 5},
    };
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++)
        out[n++] = l[i];
    return n;
}

static void print_ratios(const ratio_line *l, int n, const pair_ratio *st, const pair_ratio *mt) {
    printf("\none thread, connection cycle, no clock read per cycle (median of interleaved "
           "rounds on the main thread):\n");
    printf("  single-threaded process%s: mutex pair %.1f ns, sqlpool %.1f ns (threadless "
           "config)\n",
           st->single_threaded ? "" : " (NOT single-threaded: a thread had started)", st->mutex_ns,
           st->pool_ns);
    printf("  multi-threaded process:  mutex pair %.1f ns, sqlpool %.1f ns (default config)\n",
           mt->mutex_ns, mt->pool_ns);
    printf("\nratios (median of per-repetition ratios; > 1 means sqlpool is faster, except the "
           "mutex rows: sqlpool's time over the mutex pair's):\n");
    for (int i = 0; i < n; i++) {
        printf("  %-92s %7.2fx  target %-6s %s\n", l[i].what, l[i].value, l[i].target,
               verdict(&l[i]));
    }
    for (int i = 0; i < n; i++)
        printf("RESULT ratio=%s value=%.3f target=\"%s\" verdict=%s\n", l[i].name, l[i].value,
               l[i].target, verdict(&l[i]));
}

static void print_markdown(const options *o, const ratio_line *l, int n) {
    printf("\n<!-- bench_pools markdown -->\n");
    printf("**Connection pools compared** (`bench/bench_pools`, HikariCP-style: %d threads "
           "share at most %d connections to one SQLite file; median of %d runs of %.1f s; ops/s "
           "over all threads; max wait: the slowest single acquire):\n\n",
           o->tcounts[o->ntcounts - 1], o->max, o->reps, o->seconds);
    for (int cy = 0; cy < CYCLES; cy++) {
        printf("| %s cycle | threads |", cycle_names[cy]);
        for (int pi = 0; pi < NPOOLS; pi++)
            if (cy == CONN_CYCLE || adapters[pi]->statement) printf(" %s |", adapters[pi]->name);
        printf("\n|---|---:|");
        for (int pi = 0; pi < NPOOLS; pi++)
            if (cy == CONN_CYCLE || adapters[pi]->statement) printf("---:|");
        printf("\n");
        for (int ti = 0; ti < o->ntcounts; ti++) {
            printf("| ops/s (max wait) | %d |", o->tcounts[ti]);
            for (int pi = 0; pi < NPOOLS; pi++) {
                cell s = summary(o, cy, ti, pi);
                if (!(cy == CONN_CYCLE || adapters[pi]->statement)) continue;
                if (!s.ran)
                    printf(" |");
                else
                    printf(" %.3gM (%.0f us) |", s.ops_s / 1e6, s.max_wait_ns / 1e3);
            }
            printf("\n");
        }
        printf("\n");
    }
    printf("| ratio | value | target | |\n|---|---:|---:|---|\n");
    for (int i = 0; i < n; i++)
        printf("| %s | %.2fx | %s | %s |\n", l[i].what, l[i].value, l[i].target, verdict(&l[i]));
}

/* ---- main ---- */

/* Whether -p names this pool (a name with a space is given with '_', as in RESULT lines). */
static int selected(const options *o, const char *name) {
    char want[256], *save = NULL;
    if (o->only_pools == NULL) return 1;
    (void)snprintf(want, sizeof want, "%s", o->only_pools);
    for (char *s = strtok_r(want, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (s[i] && name[i] && (s[i] == name[i] || (s[i] == '_' && name[i] == ' ')))
            i++;
        if (s[i] == '\0' && name[i] == '\0') return 1;
    }
    return 0;
}

static void run_all(const options *o, void *const *pools) {
    for (int r = 0; r < o->reps; r++) {
        for (int ti = 0; ti < o->ntcounts; ti++)
            for (int cy = 0; cy < CYCLES; cy++)
                for (int k = 0; k < NPOOLS; k++) {
                    int pi = (k + r + ti) % NPOOLS; /* a different pool first each time */
                    const bench_adapter *a = adapters[pi];
                    if (cy == STMT_CYCLE && a->statement == NULL) continue;
                    if (o->only_cycle >= 0 && cy != o->only_cycle) continue;
                    if (!selected(o, a->name)) continue;
                    results[r][cy][ti][pi] =
                        run_cell(a, pools[pi], cy, o->tcounts[ti], o->seconds, !o->untimed);
                }
        (void)fprintf(stderr, "bench_pools: repetition %d/%d done\n", r + 1, o->reps);
    }
}

int main(int argc, char **argv) {
    options o = parse(argc, argv);
    char path[4096];
    sqlite3 *keeper = make_db(path, sizeof path);
    void *pools[8], *solo, *mutex;
    pair_ratio st, mt;
    ratio_line lines[24];
    int n;

    /* First, while no thread has ever run: sqlpool without its maintenance thread. */
    solo = bench_sqlpool_open_threadless(path, o.max);
    mutex = bench_mutex_adapter.open(path, o.max);
    st = measure_pair(solo, mutex, o.only_pools ? 0 : 7);
    bench_sqlpool_adapter.close(solo);

    for (int i = 0; i < NPOOLS; i++)
        pools[i] = adapters[i]->open(path, o.max);
    mt = measure_pair(pools[0], mutex, o.only_pools ? 0 : 7); /* now with its thread */
    bench_mutex_adapter.close(mutex);

    printf("bench_pools: SQLite %s, %ld CPUs, max %d connections, %.2f s per cell, %d "
           "repetitions, database %s\n",
           sqlite3_libversion(), sysconf(_SC_NPROCESSORS_ONLN), o.max, o.seconds, o.reps, path);
    for (int i = 0; i < NPOOLS; i++)
        printf("  %-12s statement cycle: %s\n", adapters[i]->name,
               adapters[i]->statement ? adapters[i]->statement : "(none: not a pool)");
    (void)fflush(stdout);
    run_all(&o, pools);

    print_tables(&o);
    n = collect_ratios(&o, &st, &mt, lines);
    print_ratios(lines, n, &st, &mt);
    print_results(&o);
    print_markdown(&o, lines, n);

    for (int i = 0; i < NPOOLS; i++)
        adapters[i]->close(pools[i]);
    (void)sqlite3_close(keeper);
    remove_db(path);
    return 0;
}
