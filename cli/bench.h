/*
 * bench.h: `sqlpool bench`, a connection workload simulator modeled on pgbench: N client
 * threads run short transactions for a time or a count, through the pool or with a native
 * connect per transaction, and the run is reported as throughput, latency and acquire-wait
 * quantiles, connects, retries, timeouts and errors.
 *
 * Counting rule: a transaction is counted once, when it ends. One that committed (or, for
 * select1, returned its row) is a transaction; one that failed anywhere (no connection, an
 * acquire timeout, a statement error, a failed commit) is an error instead. So with
 * --transactions N each client makes N attempts and transactions + errors == clients x N.
 */
#ifndef SQLPOOL_CLI_BENCH_H
#define SQLPOOL_CLI_BENCH_H

#include "sqlpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define BENCH_MAX_SWEEP 32

typedef enum { BENCH_SELECT1, BENCH_INSERT, BENCH_READ_WRITE, BENCH_MIXED } bench_workload;
typedef enum { BENCH_POOLED = 1, BENCH_UNPOOLED = 2, BENCH_BOTH = 3 } bench_mode;
typedef enum { BENCH_SWEEP_NONE, BENCH_SWEEP_CLIENTS, BENCH_SWEEP_POOL_SIZE } bench_sweep;
/* What a transaction does: select1 reads; insert and read-write write; mixed does either. On a
 * single-writer pool a read borrows a reader, a write the writer. */
typedef enum { BENCH_READ = 0, BENCH_WRITE = 1 } bench_kind;

typedef struct bench_options {
    const char *db;          /* --db, required */
    int clients;             /* --clients, default 4 */
    double duration;         /* --duration seconds, default 5 (when transactions == 0) */
    long transactions;       /* --transactions per client; 0: run for duration */
    int pool_size;           /* --pool-size (max_idle); 0: the number of clients */
    int max_open;            /* --max-open; -1: the pool size; 0: no cap */
    double acquire_timeout;  /* --acquire-timeout, default 30 */
    double barge_window;     /* --barge-window, default 0 (strict FIFO) */
    double timeout;          /* --timeout (connect timeout), default 5 */
    int retries;             /* --retries, default 3 */
    bench_workload workload; /* --workload, default select1 */
    double write_ratio;      /* --write-ratio, mixed: the fraction of writes, default 0.2 */
    int single_writer;       /* --single-writer: the pooled runs use config.single_writer */
    int group_commit;        /* --group-commit N: the pooled runs' config.group_commit (0 or
                              * 1: off, the default 0) */
    int compare;             /* --compare single-writer: each point twice, plain pool and
                              * single-writer pool */
    double think_time;       /* --think-time seconds between transactions, default 0 */
    bench_mode mode;         /* --mode, default pooled */
    double fail_connect;     /* --fail-connect fraction of connect attempts that fail */
    double kill_every;       /* --kill-every seconds; 0: off */
    bench_sweep sweep;       /* --sweep NAME=... */
    int sweep_values[BENCH_MAX_SWEEP];
    int nsweep;
    int json;             /* --json */
    const char *plot;     /* --plot FILE.svg, or NULL */
    const char *init_sql; /* --init-sql SQL for pooled connections, or NULL */
    const char *timeline; /* --timeline FILE.svg, or NULL */
    /* PostgreSQL only (bench_sqlite.c refuses them): */
    const char *pg_reset_query;  /* --pg-reset-query SQL: config.pg_reset_query, or NULL */
    int pg_unnamed_statements;   /* --pg-unnamed-statements: config.pg_unnamed_statements */
    double statement_timeout;    /* --statement-timeout seconds: config.statement_timeout */
    const char *read_db;         /* --read-db DB: config.read_db; reads use acquire_read */
    const char *pg_only;         /* the first of these given (without "--"), or NULL */
    const char *metrics_listen;  /* --metrics-listen HOST:PORT, or NULL; parsed into: */
    unsigned char metrics_ip[4]; /*   the IPv4 address, network order */
    int metrics_port;            /*   0 to 65535 (0: any free port) */
    int log_level;               /* --log-level */
    int help;                    /* --help */
    int version;                 /* --version */
} bench_options;

/* Parse `sqlpool bench ...` (argv[1] is "bench"). Returns 0, or EXIT_USAGE with a one-line
 * message naming the flag in err. */
int bench_options_parse(int argc, char **argv, bench_options *o, char *err, size_t errlen);
/* The help text of `sqlpool bench --help`: bench_usage_text, then bench_usage_more. */
extern const char bench_usage_text[];
extern const char bench_usage_more[];

/* sqlpool bench: returns the exit status. */
int command_bench(const bench_options *opts);

/* The reads or the writes of one client (mixed only: the histograms are NULL otherwise). */
typedef struct bench_kind_tally {
    sqlpool_histogram *latency, *wait;
    long long transactions, errors, timeouts;
} bench_kind_tally;

/* What one client thread measured; merged into a bench_result at the end of a run. */
typedef struct bench_tally {
    sqlpool_histogram *latency; /* whole transactions, connection included */
    sqlpool_histogram *wait;    /* getting a connection: acquire, or the native connect */
    long long transactions, errors, timeouts;
    bench_kind_tally kinds[2];   /* [BENCH_READ], [BENCH_WRITE] */
    long long connects, retries; /* native connects (unpooled mode) and their retries */
    long long inserted;          /* rows this client's committed transactions inserted */
    long long in_doubt;          /* inserts whose commit's outcome is unknown (connection lost) */
    struct bench_timeline *timeline; /* --timeline: the run's intervals (shared), or NULL */
} bench_tally;

/* The reads or the writes of a run (mixed), as the run's own figures below. */
typedef struct bench_kind_result {
    long long transactions, errors, timeouts;
    double tps;
    double lat_p50, lat_p95, lat_p99, lat_max; /* seconds */
    double wait_p50, wait_p99;                 /* seconds */
} bench_kind_result;

/* One lane of a single-writer pool over the run (sqlpool_stats_get_lane()): counts over the
 * clients' time, wait quantiles over the pool's life. */
typedef struct bench_lane_result {
    long long acquires, waits, timeouts;
    double wait_p50, wait_p99, wait_max; /* seconds */
    int max_open;
} bench_lane_result;

/* One run: one mode at one point of the sweep. */
typedef struct bench_result {
    bench_mode mode;   /* BENCH_POOLED or BENCH_UNPOOLED */
    int single_writer; /* pooled through a single-writer pool (pool_size readers + 1 writer) */
    int group_commit;  /* the pool's config.group_commit (0 unpooled) */
    int clients, pool_size, max_open;
    double elapsed, tps;
    double lat_p50, lat_p95, lat_p99, lat_max; /* seconds */
    double wait_p50, wait_p99;                 /* seconds */
    long long transactions, errors, timeouts, connects, retries, kills;
    long long inserted, in_doubt, rows; /* rows: -1 when not counted (select1) */
    bench_kind_result kinds[2];         /* mixed: [BENCH_READ], [BENCH_WRITE] */
    /* Pooled runs: the WAL bound's counters over the run (wal_peak: the pool's largest), and
     * for a single-writer pool its lanes [0] writer, [1] readers. */
    long long checkpoints, checkpoints_busy, wal_peak;
    long long group_commits, grouped; /* over the run: COMMITs shared by 2+ writes, and those */
    bench_lane_result lanes[2];
    struct bench_timeline *timeline; /* --timeline: the run's intervals (owned), or NULL */
} bench_result;

struct bench_backend;

/* Shared by the workers of one run. */
typedef struct bench_run {
    const bench_options *opts;
    const struct bench_backend *backend; /* the workload's SQL for opts->db (bench_backend.h) */
    const char *db;     /* opts->db, or for PostgreSQL the conninfo with application_name */
    bench_mode mode;    /* this run's mode */
    int single_writer;  /* this run's pool is a single-writer one: reads borrow readers */
    sqlpool *pool;      /* pooled mode (and set-up/verification in both) */
    double deadline;    /* monotonic seconds; 0 when counting transactions */
    atomic_int stop;    /* set on SIGINT (bench_stop): finish the current transaction and leave */
    atomic_int faults;  /* non-zero while --fail-connect applies */
    atomic_llong done;  /* transactions so far, for the progress line */
    atomic_llong kills; /* backends --kill-every terminated so far */
    atomic_int running; /* clients not yet finished */
    atomic_int over;    /* every client has finished */
    pthread_mutex_t pause_lock; /* with pause_cond: bench_pause() waits, bench_stop() wakes */
    pthread_cond_t pause_cond;  /* on CLOCK_MONOTONIC */
} bench_run;

/* bench_client.c: what the clients use, below both the driver and the backends. */
/* Monotonic seconds. */
double bench_now(void);
/* Sleep for seconds (>= 0). */
void bench_sleep(double seconds);
/* Lock and unlock mu; abort() on failure, as libuv's uv_mutex_lock does. */
void bench_lock(pthread_mutex_t *mu);
void bench_unlock(pthread_mutex_t *mu);
/* Set up and tear down r's pause_lock and pause_cond (timed on bench_now()'s clock). */
void bench_pause_init(bench_run *r);
void bench_pause_destroy(bench_run *r);
/* A client's pause (think time, a retry's backoff): seconds, but no longer than the run's
 * deadline and not past bench_stop(). Thread-safe. */
void bench_pause(bench_run *r, double seconds);
/* Tell every client to finish its transaction and leave, waking those in bench_pause(). */
void bench_stop(bench_run *r);
/* Seed bench_random(), before any client starts. */
void bench_random_seed(unsigned long long seed);
/* A uniformly distributed number in [0, 1), thread-safe. */
double bench_random(void);
/* 1 when a connect attempt should fail now (fault injection); thread-safe. */
int bench_connect_fault(bench_run *r);
/* A client's histograms (with kinds, the reads' and the writes' too): 0, or -1. */
int bench_tally_init(bench_tally *t, int kinds);
void bench_tally_free(bench_tally *t);
/* Borrow a connection for one pooled transaction of kind k (a read on a single-writer pool
 * borrows a reader): 0, or -1 with the failure counted as an error (and a timeout). */
int bench_borrow(bench_run *r, bench_tally *t, bench_kind k, sqlpool_conn **conn);
/* One pooled write transaction of kind k that began at t0 (bench_now()): fn(conn, ctx) in
 * sqlpool_write(), which borrows the writer itself, begins, and commits (with --group-commit
 * maybe in a COMMIT shared with other clients' writes); fn must not begin or commit. The
 * time until fn starts is counted as the wait for its connection. 0 when it committed, or
 * -1 with the failure counted as an error (and a timeout). Nothing else is counted. */
int bench_write(bench_run *r, bench_tally *t, bench_kind k, double t0, sqlpool_fn fn, void *ctx);
/* The kind of a client's next transaction: mixed picks a write with --write-ratio's odds. */
bench_kind bench_next_kind(const bench_options *o);
/* Count in t (and in its kind k, for mixed): a failed transaction (a timeout when timeout is
 * non-zero); the wait for its connection; a committed one that took seconds. */
void bench_count_error(bench_tally *t, bench_kind k, int timeout);
void bench_count_wait(bench_tally *t, bench_kind k, double seconds);
void bench_count_commit(bench_tally *t, bench_kind k, double seconds);

/* Rows seeded into the bench table for read-write's and mixed's primary-key reads. */
#define BENCH_SEED_ROWS 100
/* Whether workload w reads the seeded rows (the table gets BENCH_SEED_ROWS at set-up). */
int bench_seeded(bench_workload w);

/* Print the table (or JSON) of results[0..n) on stdout. Returns 0 or EXIT_IOERR. */
int bench_report(const bench_options *o, const bench_result *results, int n, int interrupted);
/* Write --plot: 0 or an exit status (message printed). */
int bench_report_plot(const bench_options *o, const bench_result *results, int n);

#endif
