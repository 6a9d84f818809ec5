/* bench_options.c: strict parsing of `sqlpool bench`'s flags, as options.c does for run and
 * health: every flag at most once, values whole and in range, each refusal naming the flag. */
#include "bench.h"
#include "bench_metrics.h"

#include "exitcodes.h"
#include "logger.h"
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLIENTS 10000
#define MAX_POOL 100000
#define MAX_SECONDS 86400.0
#define MAX_GROUP_COMMIT 1000000L

const char bench_usage_text[] =
    "Usage: sqlpool bench --db DB [OPTION]...\n"
    "\n"
    "A connection workload simulator, after pgbench: client threads run short transactions\n"
    "through the pool (or with a connect per transaction) and the run is reported as\n"
    "throughput, latency and acquire-wait quantiles, connects, retries, timeouts, errors.\n"
    "\n"
    "Options:\n"
    "  --db DB              SQLite file (or :memory:, pooled only), or a PostgreSQL URI or\n"
    "                       conninfo string (required)\n"
    "  --clients N          client threads, 1 to 10000 (default: 4)\n"
    "  --duration S         run for S seconds, over 0 to 86400 (default: 5)\n"
    "  --transactions N     or run N transactions per client, 1 to 1000000000\n"
    "  --pool-size N        most idle connections kept, 1 to 100000 (default: clients)\n"
    "  --max-open N         most connections open, 0 (no cap) to 100000 (default: pool size)\n"
    "  --acquire-timeout S  seconds an acquire waits, 0 (no limit) to 86400 (default: 30)\n"
    "  --barge-window S     throughput mode: a client may take a released connection ahead\n"
    "                       of waiting ones for up to S seconds, 0 to 60 (default: 0,\n"
    "                       strictly first come, first served)\n"
    "  --timeout S          connect timeout (SQLite busy timeout), 0 to 86400 (default: 5)\n"
    "  --retries N          connect retries, 0 to 100 (default: 3)\n"
    "  --workload W         select1, insert, read-write or mixed (default: select1)\n"
    "  --write-ratio R      mixed: the share of writes, 0 to 1 (default: 0.2)\n"
    "  --single-writer      SQLite: a single-writer pool; --pool-size and --max-open\n"
    "                       are the readers', the writer is one more\n"
    "  --group-commit N     SQLite: up to N of mixed's pooled writes share one COMMIT\n"
    "                       (config.group_commit), 0 to 1000000 (default: 0; 1 is off too)\n"
    "  --compare single-writer  run each point with a plain, then a single-writer pool\n"
    "  --think-time S       sleep between transactions, 0 to 3600 (default: 0); it ends\n"
    "                       early at the end of the run or at SIGINT\n"
    "  --mode M             pooled, unpooled (a native connect per transaction) or both\n"
    "                       (default: pooled)\n"
    "  --fail-connect P     fail a fraction P (0 to 1) of connect attempts, transiently\n"
    "  --kill-every S       PostgreSQL: every S seconds terminate the backend of one idle\n"
    "                       pooled connection (a borrowed one when none is idle)\n"
    "  --sweep NAME=LIST    a series of runs: clients=1,2,4 or pool-size=1,2,4 (ascending)\n"
    "  --json               a JSON document on stdout instead of the table\n"
    "  --plot FILE.svg      with --sweep: a chart of throughput and p99 latency\n"
    "  --timeline FILE.svg  one run's throughput, errors and p99 latency per 100 ms, with\n"
    "                       kills, connect failures and role changes marked (with --json:\n"
    "                       a \"timeline\" array too); not with --sweep or --mode both\n"
    "  --metrics-listen A:P serve GET /metrics (Prometheus) and GET /health over HTTP on\n"
    "                       the IPv4 address A, port P (0: a free one, printed on stderr)\n"
    "                       while the pooled runs go on; e.g. 127.0.0.1:9187\n"
    "  --log-level LEVEL    debug, info, warning or error (default: error)\n"
    "  --init-sql SQL       statements run on every new pooled connection before its first\n"
    "                       use (config.init_sql); one that fails is exit 69\n";
/* Two literals: one would pass the 4095 characters C99 promises to support. */
const char bench_usage_more[] =
    "  --read-db DB         PostgreSQL: a second database string for the reads (typically\n"
    "                       the standbys): select1 and mixed's reads use acquire_read\n"
    "  --pg-unnamed-statements  PostgreSQL: never prepare named statements\n"
    "  --pg-reset-query SQL PostgreSQL: run on every release (e.g. 'DISCARD ALL')\n"
    "  --statement-timeout S  PostgreSQL: cancel a statement after S seconds, 0 (no\n"
    "                       limit, the default) to 86400; it then counts as an error\n"
    "  --help               show this help and exit\n"
    "  --version            show the version and exit\n"
    "\n"
    "A transaction that fails counts as an error, not a transaction: with --transactions N,\n"
    "transactions + errors = clients x N. Rows inserted by committed transactions are\n"
    "counted in the table 'sqlpool_bench' after the run; a mismatch exits 70. SIGINT stops\n"
    "the run after the current transactions and prints what was measured (exit 0).\n"
    "\n"
    "Exit status: 0 success (or stopped by SIGINT); 64 bad usage; 69 database (checked\n"
    "with one connection before any client starts) or listening address unavailable;\n"
    "70 rows missing after the run, or internal error; 71 a client thread could not be\n"
    "started (the results of those that did are printed); 73/74 the --plot or --timeline\n"
    "file or the output cannot be written; 75 the database stayed busy while opening the\n"
    "pool.\n"
    "\n"
    "Examples:\n"
    "  sqlpool bench --db=/tmp/b.db --clients=8 --duration=10 --workload=read-write\n"
    "  sqlpool bench --db=postgresql://app@localhost/app --mode=both \\\n"
    "                --sweep=clients=1,2,4,8,16,32 --plot=sweep.svg\n"
    "  sqlpool bench --db=/tmp/b.db --fail-connect=0.3 --json\n"
    "\n"
    "Manual: man sqlpool.\n";

typedef enum {
    F_DB,
    F_CLIENTS,
    F_DURATION,
    F_TRANSACTIONS,
    F_POOL_SIZE,
    F_MAX_OPEN,
    F_ACQUIRE_TIMEOUT,
    F_BARGE_WINDOW,
    F_TIMEOUT,
    F_RETRIES,
    F_WORKLOAD,
    F_WRITE_RATIO,
    F_SINGLE_WRITER,
    F_GROUP_COMMIT,
    F_COMPARE,
    F_THINK_TIME,
    F_MODE,
    F_FAIL_CONNECT,
    F_KILL_EVERY,
    F_SWEEP,
    F_JSON,
    F_PLOT,
    F_METRICS_LISTEN,
    F_LOG_LEVEL,
    F_INIT_SQL,
    F_TIMELINE,
    F_READ_DB,
    F_PG_UNNAMED_STATEMENTS,
    F_PG_RESET_QUERY,
    F_STATEMENT_TIMEOUT,
    F_HELP,
    F_VERSION,
    NFLAGS
} flag_id;

static const char *const names[NFLAGS] = {"db",
                                          "clients",
                                          "duration",
                                          "transactions",
                                          "pool-size",
                                          "max-open",
                                          "acquire-timeout",
                                          "barge-window",
                                          "timeout",
                                          "retries",
                                          "workload",
                                          "write-ratio",
                                          "single-writer",
                                          "group-commit",
                                          "compare",
                                          "think-time",
                                          "mode",
                                          "fail-connect",
                                          "kill-every",
                                          "sweep",
                                          "json",
                                          "plot",
                                          "metrics-listen",
                                          "log-level",
                                          "init-sql",
                                          "timeline",
                                          "read-db",
                                          "pg-unnamed-statements",
                                          "pg-reset-query",
                                          "statement-timeout",
                                          "help",
                                          "version"};

static int parse_int(flag_id f, const char *value, long min, long max, long *out, char *err,
                     size_t errlen) {
    char v[128];
    if (options_parse_int(value, min, max, out) == 0) return 0;
    return options_usage_error(err, errlen, "--%s: '%s' is not a whole number from %ld to %ld",
                               names[f], options_shown(value, v, sizeof v), min, max);
}

/* Seconds in [min, max]; positive > 0 also refuses 0. */
static int parse_secs(flag_id f, const char *value, double min, double max, int positive,
                      double *out, char *err, size_t errlen) {
    char v[128];
    if (options_parse_seconds(value, min, max, out) == 0 && (!positive || *out > 0.0)) return 0;
    return options_usage_error(err, errlen, "--%s: '%s' is not a number %s %g to %g", names[f],
                               options_shown(value, v, sizeof v), positive ? "over" : "from", min,
                               max);
}

/* "clients=1,2,4" or "pool-size=1,2": ascending whole numbers. */
static int parse_sweep(const char *value, bench_options *o, char *err, size_t errlen) {
    char v[128], item[32];
    const char *eq = strchr(value, '='), *p;
    long max;
    (void)options_shown(value, v, sizeof v);
    if (eq == NULL) goto bad;
    if ((size_t)(eq - value) == 7 && strncmp(value, "clients", 7) == 0) {
        o->sweep = BENCH_SWEEP_CLIENTS;
        max = MAX_CLIENTS;
    } else if ((size_t)(eq - value) == 9 && strncmp(value, "pool-size", 9) == 0) {
        o->sweep = BENCH_SWEEP_POOL_SIZE;
        max = MAX_POOL;
    } else {
        goto bad;
    }
    for (p = eq + 1;;) {
        size_t len = strcspn(p, ",");
        long n;
        if (len == 0 || len >= sizeof item || o->nsweep == BENCH_MAX_SWEEP) goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        if (options_parse_int(item, 1, max, &n) != 0) goto bad;
        if (o->nsweep > 0 && n <= o->sweep_values[o->nsweep - 1]) goto bad;
        o->sweep_values[o->nsweep++] = (int)n;
        if (p[len] == '\0') return 0;
        p += len + 1;
    }
bad:
    return options_usage_error(
        err, errlen,
        "--sweep: '%s' is not clients=N,N,... or pool-size=N,N,... (ascending "
        "whole numbers, at most %d)",
        v, BENCH_MAX_SWEEP);
}

static int pick(flag_id f, const char *value, const char *const *choices, int n, int *out,
                char *err, size_t errlen) {
    char v[128], list[128] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(value, choices[i]) == 0) {
            *out = i;
            return 0;
        }
    for (int i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", choices[i]);
    return options_usage_error(err, errlen, "--%s: '%s' is not %s%s", names[f],
                               options_shown(value, v, sizeof v), n > 1 ? "one of " : "", list);
}

static int set_value(flag_id f, const char *value, bench_options *o, char *err, size_t errlen) {
    static const char *const workloads[] = {"select1", "insert", "read-write", "mixed"};
    static const char *const comparisons[] = {"single-writer"};
    static const char *const modes[] = {"pooled", "unpooled", "both"};
    char v[128];
    long n = 0;
    int k = 0, rc = 0;
    if (value[0] == '\0')
        return options_usage_error(err, errlen, "--%s: the value is empty", names[f]);
    switch (f) {
    case F_DB: o->db = value; break;
    case F_PLOT: o->plot = value; break;
    case F_INIT_SQL: o->init_sql = value; break;
    case F_TIMELINE: o->timeline = value; break;
    case F_READ_DB: o->read_db = value; break;
    case F_PG_RESET_QUERY: o->pg_reset_query = value; break;
    case F_STATEMENT_TIMEOUT:
        return parse_secs(f, value, 0.0, MAX_SECONDS, 0, &o->statement_timeout, err, errlen);
    case F_CLIENTS:
        rc = parse_int(f, value, 1, MAX_CLIENTS, &n, err, errlen);
        o->clients = (int)n;
        break;
    case F_TRANSACTIONS:
        rc = parse_int(f, value, 1, 1000000000L, &n, err, errlen);
        o->transactions = n;
        break;
    case F_POOL_SIZE:
        rc = parse_int(f, value, 1, MAX_POOL, &n, err, errlen);
        o->pool_size = (int)n;
        break;
    case F_MAX_OPEN:
        rc = parse_int(f, value, 0, MAX_POOL, &n, err, errlen);
        o->max_open = (int)n;
        break;
    case F_RETRIES:
        rc = parse_int(f, value, 0, 100, &n, err, errlen);
        o->retries = (int)n;
        break;
    case F_GROUP_COMMIT:
        rc = parse_int(f, value, 0, MAX_GROUP_COMMIT, &n, err, errlen);
        o->group_commit = (int)n;
        break;
    case F_DURATION: return parse_secs(f, value, 0.0, MAX_SECONDS, 1, &o->duration, err, errlen);
    case F_ACQUIRE_TIMEOUT:
        return parse_secs(f, value, 0.0, MAX_SECONDS, 0, &o->acquire_timeout, err, errlen);
    case F_BARGE_WINDOW: return parse_secs(f, value, 0.0, 60.0, 0, &o->barge_window, err, errlen);
    case F_TIMEOUT: return parse_secs(f, value, 0.0, MAX_SECONDS, 0, &o->timeout, err, errlen);
    case F_THINK_TIME: return parse_secs(f, value, 0.0, 3600.0, 0, &o->think_time, err, errlen);
    case F_FAIL_CONNECT: return parse_secs(f, value, 0.0, 1.0, 0, &o->fail_connect, err, errlen);
    case F_KILL_EVERY:
        return parse_secs(f, value, 0.0, MAX_SECONDS, 1, &o->kill_every, err, errlen);
    case F_WORKLOAD:
        rc = pick(f, value, workloads, 4, &k, err, errlen);
        o->workload = (bench_workload)k;
        break;
    case F_WRITE_RATIO: return parse_secs(f, value, 0.0, 1.0, 0, &o->write_ratio, err, errlen);
    case F_COMPARE:
        rc = pick(f, value, comparisons, 1, &k, err, errlen);
        o->compare = rc == 0;
        break;
    case F_MODE:
        rc = pick(f, value, modes, 3, &k, err, errlen);
        o->mode = (bench_mode)(k + 1);
        break;
    case F_SWEEP: return parse_sweep(value, o, err, errlen);
    case F_METRICS_LISTEN:
        if (!bench_metrics_available())
            return options_usage_error(err, errlen, "--%s: built without libmicrohttpd", names[f]);
        o->metrics_listen = value;
        if (bench_metrics_parse_listen(value, o->metrics_ip, &o->metrics_port) != 0)
            return options_usage_error(err, errlen,
                                       "--%s: '%s' is not IPV4:PORT (an IPv4 address other "
                                       "than 0.0.0.0, a port from 0 to 65535)",
                                       names[f], options_shown(value, v, sizeof v));
        break;
    case F_LOG_LEVEL:
        if ((o->log_level = logger_parse_level(value)) < 0)
            return options_usage_error(err, errlen,
                                       "--%s: '%s' is not one of debug, info, warning, error",
                                       names[f], options_shown(value, v, sizeof v));
        break;
    default: break;
    }
    return rc;
}

/* The rules of --write-ratio, --single-writer, --group-commit and --compare. */
static int check_single_writer(const int *seen, const bench_options *o, char *err, size_t errlen) {
    if (seen[F_WRITE_RATIO] && o->workload != BENCH_MIXED)
        return options_usage_error(err, errlen,
                                   "--write-ratio is the share of writes of --workload mixed: "
                                   "it needs --workload mixed");
    if (o->single_writer && o->mode == BENCH_UNPOOLED)
        return options_usage_error(err, errlen,
                                   "--single-writer configures the pool: it needs --mode pooled "
                                   "or both");
    if (seen[F_GROUP_COMMIT] && o->mode == BENCH_UNPOOLED)
        return options_usage_error(err, errlen,
                                   "--group-commit configures the pool: it needs --mode pooled "
                                   "or both");
    if (o->group_commit > 1 && o->workload != BENCH_MIXED)
        return options_usage_error(err, errlen,
                                   "--group-commit shares one COMMIT among mixed's writes: it "
                                   "needs --workload mixed");
    if (o->compare && o->single_writer)
        return options_usage_error(err, errlen,
                                   "--single-writer and --compare single-writer are exclusive "
                                   "(--compare runs both pool kinds)");
    if (o->compare && o->mode != BENCH_POOLED)
        return options_usage_error(err, errlen,
                                   "--compare single-writer compares two pooled runs: it needs "
                                   "--mode pooled");
    return 0;
}

/* The rules between flags, once each has parsed. */
static int check_combination(const int *seen, bench_options *o, char *err, size_t errlen) {
    if (seen[F_DURATION] && seen[F_TRANSACTIONS])
        return options_usage_error(err, errlen,
                                   "--duration and --transactions are mutually exclusive");
    if (seen[F_PLOT] && !seen[F_SWEEP])
        return options_usage_error(err, errlen, "--plot needs --sweep");
    if (seen[F_TIMELINE] && (seen[F_SWEEP] || o->mode == BENCH_BOTH || o->compare))
        return options_usage_error(err, errlen,
                                   "--timeline charts one run: it cannot be combined with "
                                   "--sweep, --mode both or --compare");
    if (o->sweep == BENCH_SWEEP_CLIENTS && seen[F_CLIENTS])
        return options_usage_error(err, errlen, "--sweep clients=... and --clients are exclusive");
    if (o->sweep == BENCH_SWEEP_POOL_SIZE && seen[F_POOL_SIZE])
        return options_usage_error(err, errlen,
                                   "--sweep pool-size=... and --pool-size are exclusive");
    if (o->db == NULL) return options_usage_error(err, errlen, "--db is required");
    if (seen[F_KILL_EVERY] && o->mode == BENCH_UNPOOLED)
        return options_usage_error(
            err, errlen,
            "--kill-every breaks idle pooled connections: it needs --mode pooled "
            "or both");
    if (seen[F_METRICS_LISTEN] && o->mode == BENCH_UNPOOLED)
        return options_usage_error(err, errlen,
                                   "--metrics-listen serves the pool's metrics: it needs "
                                   "--mode pooled or both");
    return check_single_writer(seen, o, err, errlen);
}

static void defaults(bench_options *o) {
    memset(o, 0, sizeof *o);
    o->clients = 4;
    o->duration = 5.0;
    o->max_open = -1;
    o->acquire_timeout = 30.0;
    o->timeout = 5.0;
    o->retries = 3;
    o->write_ratio = 0.2;
    o->mode = BENCH_POOLED;
    o->log_level = SQLPOOL_LOG_ERROR;
}

static int find_flag(const char *name, size_t len) {
    for (int i = 0; i < NFLAGS; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0) return i;
    return -1;
}

int bench_options_parse(int argc, char **argv, bench_options *o, char *err, size_t errlen) {
    int seen[NFLAGS] = {0};
    char v[128];
    defaults(o);
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *eq, *value;
        int f;
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return options_usage_error(err, errlen, "unexpected argument '%s'",
                                       options_shown(arg, v, sizeof v));
        eq = strchr(arg + 2, '=');
        f = find_flag(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
        if (f < 0)
            return options_usage_error(err, errlen, "unknown option '%s'",
                                       options_shown(arg, v, sizeof v));
        if (seen[f]++)
            return options_usage_error(err, errlen, "option '--%s' given more than once", names[f]);
        if (f >= F_READ_DB && f <= F_STATEMENT_TIMEOUT && o->pg_only == NULL) o->pg_only = names[f];
        if (f == F_JSON || f == F_SINGLE_WRITER || f == F_HELP || f == F_VERSION ||
            f == F_PG_UNNAMED_STATEMENTS) {
            if (eq != NULL)
                return options_usage_error(err, errlen, "option '--%s' takes no value", names[f]);
            *(f == F_JSON                    ? &o->json
              : f == F_SINGLE_WRITER         ? &o->single_writer
              : f == F_PG_UNNAMED_STATEMENTS ? &o->pg_unnamed_statements
              : f == F_HELP                  ? &o->help
                                             : &o->version) = 1;
            continue;
        }
        if (eq != NULL)
            value = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            value = argv[++i];
        else
            return options_usage_error(err, errlen, "option '--%s' needs a value", names[f]);
        if (set_value((flag_id)f, value, o, err, errlen) != 0) return EXIT_USAGE;
    }
    if (o->help || o->version) return 0;
    return check_combination(seen, o, err, errlen);
}
