/*
 * sqlite_lane.c: a single_writer pool's connection settings and the WAL bound (see
 * sqlite_lane.h).
 *
 * Why a TRUNCATE checkpoint bounds the WAL without holding readers back: SQLite can only
 * start the WAL over when no reader still reads an older part of it, and with readers that
 * never stop some reader always does, so passive checkpoints copy pages but the file keeps
 * growing. A TRUNCATE checkpoint waits (polling, up to the busy timeout) for readers to finish.
 * While it waits no new frame is written (in a single_writer pool the waiting connection is the
 * only writer; in a plain pool other writers wait behind its lock), so every reader that begins
 * meanwhile takes the newest snapshot, and once every frame is copied, SQLite lets new
 * readers read the database file alone; the readers from before end within one read
 * transaction's time and the WAL is emptied. Only a read transaction held open longer than
 * the busy timeout defeats it: counted in checkpoints_busy, and the next attempt waits
 * until the WAL has grown by another wal_limit, so such a reader costs the writer one wait
 * per wal_limit written, not one per commit.
 */
#include "sqlite_lane.h"
#include "backend.h"
#include "internal.h"

#include <string.h>
#include <time.h>

/* SQLite's default auto-checkpoint, which installing a WAL hook replaces. */
enum { AUTOCHECKPOINT_PAGES = 1000 };

void sqlpool__sqlite_wal_init(sqlpool__sqlite_wal *wal, long long limit) {
    wal->limit = limit;
    wal->lane = SQLPOOL__LANE_NONE;
    atomic_init(&wal->checkpoints, 0);
    atomic_init(&wal->checkpoints_busy, 0);
    atomic_init(&wal->peak, 0);
    atomic_init(&wal->retry_above, limit);
}

static const char *const file_pragmas[] = {"application_id", "auto_vacuum",    "incremental_vacuum",
                                           "journal_mode",   "locking_mode",   "max_page_count",
                                           "page_size",      "query_only",     "schema_version",
                                           "user_version",   "wal_checkpoint", "writable_schema"};

/* Readers: refuse at prepare time what would write, so the error comes at once, before any
 * step (query_only is the backstop for what the authorizer is not asked about). */
static int deny_writes(void *ctx, int action, const char *a, const char *b, const char *db,
                       const char *trigger) {
    (void)ctx, (void)db, (void)trigger;
    /* Pragmas that, given a value, change the file or how others may use it (query_only
     * off would make the reader a second writer: no authorizer call asks about BEGIN
     * IMMEDIATE, query_only refuses it; journal_mode would take the file out of WAL;
     * locking_mode=EXCLUSIVE would lock the writer out). Reading them is fine, and so are
     * the connection's own settings (cache_size, foreign_keys, ...). */
    if (action == SQLITE_PRAGMA && a != NULL && b != NULL)
        for (size_t i = 0; i < sizeof file_pragmas / sizeof file_pragmas[0]; i++)
            if (sqlite3_stricmp(a, file_pragmas[i]) == 0) return SQLITE_DENY;
    switch (action) {
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE:
    case SQLITE_ALTER_TABLE:
    case SQLITE_REINDEX:
    case SQLITE_ANALYZE: return SQLITE_DENY;
    default: return SQLITE_OK;
    }
}

static long long pragma_value(sqlite3 *db, const char *sql) {
    sqlite3_stmt *stmt = NULL;
    long long n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    (void)sqlite3_finalize(stmt);
    return n;
}

/* A TRUNCATE checkpoint, tried every millisecond for up to busy_ms, rather than under the
 * connection's busy handler: SQLite's sleeps grow to 100 ms, and under a steady read load a
 * checkpoint waiting that way took seconds where polling takes tens of milliseconds (each
 * failed try still copies what it can). */
static int truncate_checkpoint(sqlite3 *db, const char *name) {
    int rc, waited = 0, busy_ms = (int)pragma_value(db, "PRAGMA busy_timeout");
    /* The connection's busy timeout now (the pool's, or one init_sql set) can be put back
     * after; a handler of the program's own (sqlite3_busy_handler: the pragma reads 0)
     * cannot, so it is left in place and the checkpoint waits under it. */
    if (busy_ms <= 0)
        return sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    (void)sqlite3_busy_handler(db, NULL, NULL);
    while ((rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL)) ==
               SQLITE_BUSY &&
           waited < busy_ms) {
        struct timespec ts = {0, 1000000};
        (void)nanosleep(&ts, NULL);
        waited++;
    }
    (void)sqlite3_busy_timeout(db, busy_ms);
    return rc;
}

int sqlpool__sqlite_statement_running(sqlite3 *db) {
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st != NULL; st = sqlite3_next_stmt(db, st))
        if (sqlite3_stmt_busy(st)) return 1;
    return 0;
}

/* After every commit, with the write lock released (SQLite allows reading, writing and
 * checkpointing here). frames: the WAL's length now. */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int frames) {
    sqlpool__sqlite_hook *h = ctx;
    sqlpool__sqlite_wal *wal = h->wal;
    long long bytes, peak;
    if (strcmp(name, "main") != 0) { /* an attached database: SQLite's own behaviour */
        if (frames >= AUTOCHECKPOINT_PAGES)
            (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (h->page_size == 0) {
        long long n = pragma_value(db, "PRAGMA page_size");
        h->page_size = n > 0 ? (int)n : 4096;
    }
    bytes = (long long)frames * h->page_size;
    peak = atomic_load_explicit(&wal->peak, memory_order_relaxed);
    while (bytes > peak &&
           !atomic_compare_exchange_weak_explicit(&wal->peak, &peak, bytes, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    if (wal->limit > 0 && bytes <= wal->limit) /* started over, by whatever means */
        atomic_store_explicit(&wal->retry_above, wal->limit, memory_order_relaxed);
    if (wal->limit > 0 && bytes > atomic_load_explicit(&wal->retry_above, memory_order_relaxed) &&
        /* a statement of its own still running holds a read no checkpoint of this
         * connection's gets past: at the next commit, once it has ended */
        !sqlpool__sqlite_statement_running(db)) {
        int rc = truncate_checkpoint(db, name);
        atomic_fetch_add_explicit(&wal->checkpoints, 1, memory_order_relaxed);
        if (rc == SQLITE_OK) {
            atomic_store_explicit(&wal->retry_above, wal->limit, memory_order_relaxed);
        } else {
            atomic_fetch_add_explicit(&wal->checkpoints_busy, 1, memory_order_relaxed);
            atomic_store_explicit(&wal->retry_above, bytes + wal->limit, memory_order_relaxed);
        }
    } else if (frames >= AUTOCHECKPOINT_PAGES) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

static int in_wal_mode(sqlite3 *db) {
    sqlite3_stmt *stmt = NULL;
    int wal = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(stmt, 0);
        wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
    }
    (void)sqlite3_finalize(stmt);
    return wal;
}

int sqlpool__sqlite_lane_setup(sqlite3 *db, sqlpool__sqlite_hook *h, sqlpool__sqlite_wal *wal,
                               const char **why) {
    int rc;
    *why = NULL;
    h->wal = wal;
    h->page_size = 0;
    if (wal->lane != SQLPOOL__LANE_NONE && !in_wal_mode(db)) {
        *why = "single_writer needs the database in WAL mode, and it could not be switched "
               "(a VFS without shared memory?)";
        return SQLITE_CANTOPEN;
    }
    if (wal->lane == SQLPOOL__LANE_READ) {
        if ((rc = sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL)) != SQLITE_OK)
            return rc;
        return sqlite3_set_authorizer(db, deny_writes, NULL);
    }
    (void)sqlite3_wal_hook(db, wal_hook, h); /* with wal_limit 0, for wal_peak only */
    return SQLITE_OK;
}

int sqlpool__sqlite_denied_write(sqlite3 *db, int rc, const sqlpool__sqlite_wal *wal) {
    (void)db;
    return wal != NULL && wal->lane == SQLPOOL__LANE_READ &&
           (rc == SQLITE_AUTH || (rc & 0xff) == SQLITE_READONLY);
}

void sqlpool__sqlite_wal_stats(const sqlpool__sqlite_wal *wal, sqlpool_stats *out) {
    out->checkpoints += atomic_load_explicit(&wal->checkpoints, memory_order_relaxed);
    out->checkpoints_busy += atomic_load_explicit(&wal->checkpoints_busy, memory_order_relaxed);
    long long peak = atomic_load_explicit(&wal->peak, memory_order_relaxed);
    if (peak > out->wal_peak) out->wal_peak = peak;
}

/* The mode= of a file: URI ("" when none; the last one counts, as in SQLite), into buf. */
static void uri_mode(const char *path, char *buf, size_t len) {
    const char *q = strncmp(path, "file:", 5) == 0 ? strchr(path, '?') : NULL;
    buf[0] = '\0';
    if (q == NULL) return;
    while (*q != '\0' && *q != '#') {
        size_t n;
        q++;
        n = strcspn(q, "&#");
        if (n > 5 && strncmp(q, "mode=", 5) == 0)
            sqlpool__format(buf, len, "%.*s", (int)(n - 5), q + 5);
        q += n;
        if (*q != '&') break;
    }
}

int sqlpool__sqlite_lane_check(const char *path, int memory, int readonly, char *err,
                               size_t errlen) {
    char mode[16];
    uri_mode(path, mode, sizeof mode);
    if (memory || strcmp(mode, "memory") == 0) {
        sqlpool__format(err, errlen,
                        "single_writer needs a database file: an in-memory database has no WAL, "
                        "so its readers would block its writer (use a file, or single_writer 0)");
        return SQLPOOL_EINVAL;
    }
    if (readonly || strcmp(mode, "ro") == 0) {
        sqlpool__format(err, errlen,
                        "single_writer needs a writable database: this pool opens "
                        "it read-only (readonly, or mode=ro)");
        return SQLPOOL_EINVAL;
    }
    return SQLPOOL_OK;
}
