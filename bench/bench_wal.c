/*
 * bench_wal: how big SQLite's WAL grows when readers never stop. R reader threads run read
 * transactions back to back (sqlpool_read: a SELECT over the table) while one writer commits
 * small transactions (sqlpool_write: an INSERT of a 200-byte row) for S seconds, on a
 * single_writer pool; run once with the pool's WAL bound (config.wal_limit, default 64 MiB,
 * or the size given) and once without (wal_limit 0: SQLite's passive checkpoints only).
 * Prints, for each, the -wal file's size at the end and its largest size seen (sampled
 * every 10 ms), the writes committed and the checkpoints counted.
 *
 * Usage: bench_wal [SECONDS (default 60)] [READERS (default 32)] [LIMIT_BYTES] [DIR]
 */
#include <sqlpool.h>
#include <sqlite3.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static atomic_llong writes;

static int do_read(sqlpool_conn *conn, void *ctx) {
    sqlite3_stmt *st = NULL;
    (void)ctx;
    if (sqlpool_conn_prepare(conn, "SELECT count(*), max(id) FROM t", &st) != SQLPOOL_OK) return 1;
    (void)sqlite3_step(st);
    /* A reader holds its snapshot a moment, as a real one does between statements. */
    struct timespec ts = {0, 200000};
    (void)nanosleep(&ts, NULL);
    return 0;
}

static int do_write(sqlpool_conn *conn, void *ctx) {
    sqlite3_stmt *st = NULL;
    (void)ctx;
    if (sqlpool_conn_prepare(conn, "INSERT INTO t(pad) VALUES (randomblob(200))", &st) !=
        SQLPOOL_OK)
        return 1;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : 1;
}

static void *reader(void *arg) {
    sqlpool *pool = arg;
    while (!atomic_load(&stop))
        if (sqlpool_read(pool, do_read, NULL) != 0) {
            (void)fprintf(stderr, "bench_wal: read: %s\n", sqlpool_errmsg());
            exit(1);
        }
    return NULL;
}

static void *writer(void *arg) {
    sqlpool *pool = arg;
    while (!atomic_load(&stop)) {
        if (sqlpool_write(pool, do_write, NULL) != 0) {
            (void)fprintf(stderr, "bench_wal: write: %s\n", sqlpool_errmsg());
            exit(1);
        }
        atomic_fetch_add(&writes, 1);
    }
    return NULL;
}

static long long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static void run(const char *dir, double seconds, int readers, long long limit) {
    char db[512], wal[600];
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *conn = NULL;
    sqlpool_stats st;
    pthread_t th[257];
    long long peak = 0;
    (void)snprintf(db, sizeof db, "%s/bench_wal-%lld.db", dir, limit);
    (void)snprintf(wal, sizeof wal, "%s-wal", db);
    (void)unlink(db);
    (void)unlink(wal);
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.single_writer = 1;
    cfg.max_open = readers;
    cfg.max_idle = readers;
    cfg.wal_limit = limit;
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK || sqlpool_acquire(pool, &conn) != SQLPOOL_OK ||
        sqlite3_exec(sqlpool_conn_sqlite(conn), "CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)",
                     NULL, NULL, NULL) != 0) {
        (void)fprintf(stderr, "bench_wal: set-up: %s\n", sqlpool_errmsg());
        exit(1);
    }
    sqlpool_release(conn);
    atomic_store(&stop, 0);
    atomic_store(&writes, 0);
    for (int i = 0; i < readers; i++)
        (void)pthread_create(&th[i], NULL, reader, pool);
    (void)pthread_create(&th[readers], NULL, writer, pool);
    for (double t = 0; t < seconds; t += 0.01) {
        struct timespec ts = {0, 10000000};
        long long n = file_size(wal);
        if (n > peak) peak = n;
        (void)nanosleep(&ts, NULL);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i <= readers; i++)
        (void)pthread_join(th[i], NULL);
    sqlpool_stats_get(pool, &st);
    printf("RESULT bench_wal wal_limit=%lld seconds=%.0f readers=%d writes=%lld "
           "wal_end_bytes=%lld wal_max_bytes=%lld checkpoints=%lld checkpoints_busy=%lld\n",
           limit, seconds, readers, (long long)atomic_load(&writes), file_size(wal), peak,
           st.checkpoints, st.checkpoints_busy);
    (void)fflush(stdout);
    sqlpool_close(pool);
    (void)unlink(db);
    (void)unlink(wal);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 60;
    int readers = argc > 2 ? atoi(argv[2]) : 32;
    long long limit = argc > 3 ? atoll(argv[3]) : 64LL << 20;
    const char *dir = argc > 4 ? argv[4] : "/tmp";
    if (seconds <= 0 || readers < 1 || readers > 256 || limit < 1) {
        (void)fprintf(stderr, "usage: bench_wal [SECONDS] [READERS 1-256] [LIMIT_BYTES] [DIR]\n");
        return 64;
    }
    run(dir, seconds, readers, limit);
    run(dir, seconds, readers, 0);
    return 0;
}
