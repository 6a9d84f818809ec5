/*
 * bench_pg.c: what a pool is worth on PostgreSQL, against a live server.
 *
 *   bench_pg select1 URL [SECONDS]   SELECT 1 three ways, interleaved rounds:
 *       pooled      sqlpool_acquire + sqlpool_conn_pg_exec("SELECT 1") + release
 *       persistent  one PGconn kept open, the same prepared statement (the floor)
 *       per-use     PQconnectdb + SELECT 1 + PQfinish (a program without a pool)
 *   bench_pg rowwise URL FILE        insert FILE's labels into events with one prepared
 *       INSERT round trip per row, in one transaction: the baseline `sqlpool run`'s COPY
 *       is measured against (bench/run_pg.sh)
 *
 * Figures go to stdout, with RESULT lines for scripts. Nothing passes or fails on time.
 */
#include <sqlpool.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_pg: %s: %s\n", what, why);
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- SELECT 1 ---- */

static void expect_tuples(PGresult *r, PGconn *pg) {
    if (PQresultStatus(r) != PGRES_TUPLES_OK) die("SELECT 1", PQerrorMessage(pg));
    PQclear(r);
}

/* Microseconds per SELECT 1 through the pool, over about `seconds`. */
static double pooled(sqlpool *pool, double seconds) {
    long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 200; i++, n++) {
            sqlpool_conn *c;
            PGresult *r;
            if (sqlpool_acquire(pool, &c) != SQLPOOL_OK) die("acquire", sqlpool_errmsg());
            if (sqlpool_conn_pg_exec(c, "SELECT 1", 0, NULL, &r) != SQLPOOL_OK)
                die("exec", sqlpool_errmsg());
            expect_tuples(r, sqlpool_conn_pg(c));
            sqlpool_release(c);
        }
        t = now() - t0;
    } while (t < seconds);
    return t / (double)n * 1e6;
}

static double persistent(PGconn *pg, double seconds) {
    long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 200; i++, n++)
            expect_tuples(PQexecPrepared(pg, "s1", 0, NULL, NULL, NULL, 0), pg);
        t = now() - t0;
    } while (t < seconds);
    return t / (double)n * 1e6;
}

static double per_use(const char *url, double seconds) {
    long n = 0;
    double t0 = now(), t;
    do {
        PGconn *pg = PQconnectdb(url);
        if (PQstatus(pg) != CONNECTION_OK) die("connect", PQerrorMessage(pg));
        expect_tuples(PQexec(pg, "SELECT 1"), pg);
        PQfinish(pg);
        n++;
        t = now() - t0;
    } while (t < seconds);
    return t / (double)n * 1e6;
}

static int bench_select1(const char *url, double seconds) {
    enum { ROUNDS = 5 };
    double pool_us[ROUNDS], pers_us[ROUNDS], use_us[ROUNDS];
    sqlpool_config cfg;
    sqlpool *pool;
    PGconn *pg = PQconnectdb(url);
    PGresult *r;

    if (PQstatus(pg) != CONNECTION_OK) die("connect", PQerrorMessage(pg));
    r = PQprepare(pg, "s1", "SELECT 1", 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die("prepare", PQerrorMessage(pg));
    PQclear(r);
    sqlpool_config_init(&cfg);
    cfg.db = url;
    cfg.max_idle = 1;
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) die("sqlpool_open", sqlpool_errmsg());
    (void)pooled(pool, 0.2); /* warm: connect and prepare once */
    for (int k = 0; k < ROUNDS; k++) {
        pool_us[k] = pooled(pool, seconds);
        pers_us[k] = persistent(pg, seconds);
        use_us[k] = per_use(url, seconds / 2);
    }
    sqlpool_close(pool);
    PQfinish(pg);
    qsort(pool_us, ROUNDS, sizeof pool_us[0], cmp_double);
    qsort(pers_us, ROUNDS, sizeof pers_us[0], cmp_double);
    qsort(use_us, ROUNDS, sizeof use_us[0], cmp_double);
    printf("SELECT 1 on PostgreSQL over loopback, median of %d interleaved rounds\n", ROUNDS);
    printf("  %-44s %10.1f us\n", "one persistent connection (the floor)", pers_us[ROUNDS / 2]);
    printf("  %-44s %10.1f us  %.2fx the floor\n", "sqlpool: acquire + exec + release",
           pool_us[ROUNDS / 2], pool_us[ROUNDS / 2] / pers_us[ROUNDS / 2]);
    printf("  %-44s %10.1f us  %.0fx sqlpool\n", "connect + SELECT 1 + close per use",
           use_us[ROUNDS / 2], use_us[ROUNDS / 2] / pool_us[ROUNDS / 2]);
    printf("RESULT pooled_us=%.2f persistent_us=%.2f per_use_us=%.1f pooled_vs_persistent=%.3f "
           "per_use_vs_pooled=%.1f\n",
           pool_us[ROUNDS / 2], pers_us[ROUNDS / 2], use_us[ROUNDS / 2],
           pool_us[ROUNDS / 2] / pers_us[ROUNDS / 2], use_us[ROUNDS / 2] / pool_us[ROUNDS / 2]);
    return 0;
}

/* ---- one round trip per row ---- */

static void exec_ok(PGconn *pg, const char *sql) {
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die(sql, PQerrorMessage(pg));
    PQclear(r);
}

static int bench_rowwise(const char *url, const char *path) {
    PGconn *pg = PQconnectdb(url);
    FILE *in = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long rows = 0;
    double t0 = now();
    PGresult *r;

    if (PQstatus(pg) != CONNECTION_OK) die("connect", PQerrorMessage(pg));
    if (in == NULL) die(path, "cannot open");
    exec_ok(pg, "BEGIN");
    exec_ok(pg, "CREATE TABLE IF NOT EXISTS events (id BIGSERIAL PRIMARY KEY, label TEXT NOT "
                "NULL)");
    r = PQprepare(pg, "ins", "INSERT INTO events (label) VALUES ($1)", 1, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die("prepare", PQerrorMessage(pg));
    PQclear(r);
    while ((got = getline(&line, &cap, in)) > 0) {
        const char *v[1];
        if (line[got - 1] == '\n') line[--got] = '\0';
        if (got == 0) continue;
        v[0] = line;
        r = PQexecPrepared(pg, "ins", 1, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) die("insert", PQerrorMessage(pg));
        PQclear(r);
        rows++;
    }
    exec_ok(pg, "COMMIT");
    printf("RESULT rowwise_rows=%ld rowwise_s=%.3f\n", rows, now() - t0);
    free(line);
    fclose(in);
    PQfinish(pg);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "select1") == 0)
        return bench_select1(argv[2], argc > 3 ? atof(argv[3]) : 1.0);
    if (argc == 4 && strcmp(argv[1], "rowwise") == 0) return bench_rowwise(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_pg select1 URL [SECONDS] | bench_pg rowwise URL FILE\n");
    return 64;
}
