/*
 * backend_sqlite.c: the SQLite backend.
 *
 * File databases: opened read-write (created when missing) without SQLite's own mutex (one
 * thread holds a connection at a time), in WAL mode, with a busy timeout of connect_timeout.
 * ":memory:": one database per pool in SQLite's memdb VFS, named uniquely so all of the
 * pool's connections share it, and kept alive by a keeper connection until the pool closes.
 *
 * Each connection carries a prepared-statement cache (stmt_cache.h) that serves
 * sqlpool_conn_prepare() and the backend's own statements (the connect-time "SELECT 1", ping's
 * and health's queries), so a warm connection never re-prepares them.
 */
#include "backend.h"
#include "alloc.h"
#include "internal.h"
#include "sqlite_lane.h"
#include "sqlite_txn.h"
#include "stmt_cache.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sqlite_state {
    char *path; /* what sqlite3_open_v2 is given; under mu (sqlpool_set_db swaps it) */
    pthread_mutex_t mu;
    char *vfs;  /* NULL for the default */
    int memory; /* 1 for a pool-private in-memory database */
    int busy_ms;
    int flags;                /* sqlite3_open_v2 flags */
    int readonly;             /* opened read-only: no journal mode change */
    int stmt_cache_size;      /* statements each connection keeps prepared */
    sqlite3 *keeper;          /* holds the in-memory database open while the pool lives */
    sqlpool__sqlite_wal *wal; /* the lane and the WAL bound (sqlite_lane.h) */
} sqlite_state;

/* A connection: the backend's handle. */
typedef struct sqlite_conn {
    sqlite3 *db;
    sqlpool__stmt_cache cache;
    int file; /* an entry of the open files below (-1: none, an in-memory database) */
    sqlpool__sqlite_hook hook; /* the WAL hook's (file databases) */
} sqlite_conn;

/*
 * The database files this process has connections open to, for fork(): SQLite keeps one
 * record per open file for the whole process, with the locks its connections hold. A child
 * inherits that record but not the locks (POSIX locks are per process), and the inherited
 * connections are abandoned, never closed (SQLite forbids closing them there), so the record
 * stays: a connection the child opened to the same file would believe the locks taken and
 * take none, and the parent could checkpoint and delete the WAL under the child's writes. So
 * in a child, a file that had connections open at the fork is refused. Under files_mu (held
 * across a fork by sqlite_atfork).
 */
typedef struct open_file {
    dev_t dev;
    ino_t ino;
    int open;      /* connections open to it in this process */
    int inherited; /* this process is a fork's child, and it had connections open then */
} open_file;
static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static open_file *files;
static int nfiles, files_cap;

/* Count a new connection to db's main file; -1 for an in-memory one, or out of memory (then
 * it is simply not tracked). *inherited: the file was open when this child was forked. */
static int file_track(sqlite3 *db, int *inherited) {
    const char *name = sqlite3_db_filename(db, "main");
    struct stat sb;
    int i, at = -1;
    *inherited = 0;
    if (name == NULL || name[0] == '\0' || stat(name, &sb) != 0) return -1;
    if (pthread_mutex_lock(&files_mu) != 0) abort();
    for (i = 0; i < nfiles; i++) {
        if (files[i].dev == sb.st_dev && files[i].ino == sb.st_ino) at = i;
        if (at < 0 && files[i].open == 0 && !files[i].inherited) at = i; /* a free entry */
    }
    if (at >= 0 && (files[at].dev != sb.st_dev || files[at].ino != sb.st_ino)) {
        files[at].dev = sb.st_dev; /* reuse the free entry */
        files[at].ino = sb.st_ino;
        files[at].inherited = 0;
    }
    if (at < 0 && nfiles == files_cap) {
        int cap = files_cap ? files_cap * 2 : 8;
        /* libc, not the pool allocator: the table outlives every pool (and allocator) */
        open_file *grown = realloc(files, (size_t)cap * sizeof *grown);
        if (grown != NULL) {
            files = grown;
            files_cap = cap;
        }
    }
    if (at < 0 && nfiles < files_cap) {
        at = nfiles++;
        files[at].dev = sb.st_dev;
        files[at].ino = sb.st_ino;
        files[at].open = files[at].inherited = 0;
    }
    if (at >= 0) {
        files[at].open++;
        *inherited = files[at].inherited;
    }
    if (pthread_mutex_unlock(&files_mu) != 0) abort();
    return at;
}

/* Before opening path: 1 when it names a file refused in this fork's child (file_track() checks
 * again after the open, for "file:" URIs, which are not looked at here: such a refused open
 * costs SQLite one descriptor, which it keeps while the inherited record lives). */
static int file_inherited(const char *path) {
    struct stat sb;
    int hit = 0;
    if (strncmp(path, "file:", 5) == 0 || stat(path, &sb) != 0) return 0;
    if (pthread_mutex_lock(&files_mu) != 0) abort();
    for (int i = 0; i < nfiles && !hit; i++)
        hit = files[i].inherited && files[i].dev == sb.st_dev && files[i].ino == sb.st_ino;
    if (pthread_mutex_unlock(&files_mu) != 0) abort();
    return hit;
}

static void file_untrack(int at) {
    if (at < 0) return;
    if (pthread_mutex_lock(&files_mu) != 0) abort();
    files[at].open--;
    if (pthread_mutex_unlock(&files_mu) != 0) abort();
}

static const int open_flags =
    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
static const int nocreate_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
static const int readonly_flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;

static int retriable_code(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL: return 1;
    default: return 0;
    }
}

static void state_free(sqlite_state *st) {
    if (st == NULL) return;
    if (st->keeper != NULL) (void)sqlite3_close_v2(st->keeper);
    (void)pthread_mutex_destroy(&st->mu);
    sqlpool__free(st->path);
    sqlpool__free(st->vfs);
    sqlpool__free(st->wal);
    sqlpool__free(st);
}

static int memory_init(sqlite_state *st, char *err, size_t errlen) {
    static atomic_ullong counter;
    char name[96];
    int rc;
    sqlpool__format(name, sizeof name, "file:/sqlpool-mem-%ld-%llu?vfs=memdb", (long)getpid(),
                    (unsigned long long)atomic_fetch_add(&counter, 1));
    st->path = sqlpool__strdup(name);
    if (st->path == NULL) return SQLPOOL_ENOMEM;
    rc = sqlite3_open_v2(st->path, &st->keeper, open_flags, NULL);
    if (rc != SQLITE_OK) {
        sqlpool__format(err, errlen, "cannot create the in-memory database: %s",
                        st->keeper ? sqlite3_errmsg(st->keeper) : sqlite3_errstr(rc));
        return rc == SQLITE_NOMEM ? SQLPOOL_ENOMEM : SQLPOOL_ECONNECT;
    }
    return SQLPOOL_OK;
}

static int sqlite_pool_init(const sqlpool_config *cfg, void **state, char *err, size_t errlen) {
    sqlite_state *st = sqlpool__calloc(1, sizeof *st);
    int rc = SQLPOOL_OK;

    *state = NULL;
    if (st == NULL) return SQLPOOL_ENOMEM;
    if (pthread_mutex_init(&st->mu, NULL) != 0) abort();
    if ((st->wal = sqlpool__malloc(sizeof *st->wal)) == NULL) {
        state_free(st);
        return SQLPOOL_ENOMEM;
    }
    sqlpool__sqlite_wal_init(st->wal, cfg->wal_limit);
    st->readonly = cfg->readonly != 0;
    st->flags = st->readonly ? readonly_flags : cfg->create ? open_flags : nocreate_flags;
    st->stmt_cache_size = cfg->stmt_cache_size;
    if (st->stmt_cache_size < 0) {
        sqlpool__format(err, errlen, "stmt_cache_size must be >= 0");
        state_free(st);
        return SQLPOOL_EINVAL;
    }
    st->busy_ms = cfg->connect_timeout * 1000.0 > (double)INT_MAX
                      ? INT_MAX
                      : (int)(cfg->connect_timeout * 1000.0);
    if (cfg->sqlite_vfs != NULL) {
        if (sqlite3_vfs_find(cfg->sqlite_vfs) == NULL) {
            sqlpool__format(err, errlen, "no SQLite VFS named '%s' is registered", cfg->sqlite_vfs);
            state_free(st);
            return SQLPOOL_EINVAL;
        }
        st->vfs = sqlpool__strdup(cfg->sqlite_vfs);
        if (st->vfs == NULL) rc = SQLPOOL_ENOMEM;
    }
    if (rc == SQLPOOL_OK && strcmp(cfg->db, ":memory:") == 0) {
        st->memory = 1;
        rc = memory_init(st, err, errlen);
    } else if (rc == SQLPOOL_OK) {
        if (cfg->db[0] == '\0') {
            sqlpool__format(err, errlen, "the database path is empty");
            rc = SQLPOOL_EINVAL;
        } else if ((st->path = sqlpool__strdup(cfg->db)) == NULL) {
            rc = SQLPOOL_ENOMEM;
        }
    }
    if (rc != SQLPOOL_OK) {
        if (rc == SQLPOOL_ENOMEM && err[0] == '\0') sqlpool__format(err, errlen, "out of memory");
        state_free(st);
        return rc;
    }
    *state = st;
    return SQLPOOL_OK;
}

static void sqlite_pool_fini(void *state) {
    state_free(state);
}

/* A database that is there but cannot be written, or whose folder cannot take the -wal and
 * -shm files SQLite needs beside it: say so (1), else 0. */
static int describe_read_only(const sqlite_state *st, const char *dir, const char *msg, char *err,
                              size_t errlen) {
    if (st->readonly || access(st->path, F_OK) != 0) return 0;
    if (access(st->path, W_OK) != 0) {
        sqlpool__format(err, errlen, "cannot open database '%s': the file is read-only (%s)",
                        st->path, msg);
        return 1;
    }
    if (access(dir, W_OK) != 0) {
        sqlpool__format(err, errlen,
                        "cannot open database '%s': its folder '%s' is read-only, and SQLite "
                        "needs to create '%s-wal' and '%s-shm' there (%s)",
                        st->path, dir, st->path, st->path, msg);
        return 1;
    }
    return 0;
}

/* Explain a failure to open a file database in words a user can act on. */
static void describe_open_failure(const sqlite_state *st, sqlite3 *db, int rc, char *err,
                                  size_t errlen) {
    struct stat sb;
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

    if (!st->memory && strncmp(st->path, "file:", 5) != 0) {
        char *dir = sqlpool__strdup(st->path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (stat(st->path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            sqlpool__format(err, errlen, "cannot open database '%s': it is a folder", st->path);
            sqlpool__free(dir);
            return;
        }
        if (!(st->flags & SQLITE_OPEN_CREATE) && stat(st->path, &sb) != 0 && errno == ENOENT) {
            sqlpool__format(err, errlen, "cannot open database '%s': it does not exist", st->path);
            sqlpool__free(dir);
            return;
        }
        if (slash != NULL) {
            if (slash == dir)
                slash[1] = '\0';
            else
                *slash = '\0';
            if (stat(dir, &sb) != 0 && errno == ENOENT) {
                sqlpool__format(err, errlen,
                                "cannot open database '%s': folder '%s' does not exist", st->path,
                                dir);
                sqlpool__free(dir);
                return;
            }
        }
        if (describe_read_only(st, slash != NULL ? dir : ".", msg, err, errlen)) {
            sqlpool__free(dir);
            return;
        }
        sqlpool__free(dir);
    }
    sqlpool__format(err, errlen, "cannot open database '%s': %s", st->path, msg);
}

static int exec_simple(sqlite3 *db, const char *sql) {
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Run one of the backend's own statements, returning at most one row, from the cache; it is
 * reset at once, so it holds no transaction afterwards. The backend's own statements (at
 * most three) stay prepared outside the cache's capacity, even with the cache off. The
 * error, if any, stays in sqlite3_errmsg(). */
static int query_one(sqlite_conn *c, const char *sql, char *text, size_t textlen) {
    sqlite3_stmt *stmt = NULL;
    int rc = sqlpool__stmt_cache_get(&c->cache, sql, 1, &stmt);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        if (text != NULL) {
            const unsigned char *v = sqlite3_column_text(stmt, 0);
            sqlpool__format(text, textlen, "%s", v ? (const char *)v : "");
        }
        rc = sqlite3_step(stmt);
    }
    (void)sqlite3_reset(stmt);
    if (c->cache.count - c->cache.internal > c->cache.capacity) sqlpool__stmt_cache_trim(&c->cache);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void conn_free(sqlite_conn *c) {
    sqlite3_stmt *stmt;
    file_untrack(c->file);
    sqlpool__stmt_cache_fini(&c->cache);
    /* Statements a caller left behind would keep the handle alive as a zombie: finalize them,
     * but only after sqlite3_close has disconnected the virtual tables (it does so even when it
     * then fails as busy): a module such as FTS5 owns statements of its own and finalizes them
     * in its disconnect, so finalizing them here first would free them twice. */
    if (c->db != NULL && sqlite3_close(c->db) == SQLITE_BUSY) {
        while ((stmt = sqlite3_next_stmt(c->db, NULL)) != NULL)
            (void)sqlite3_finalize(stmt);
        (void)sqlite3_close_v2(c->db);
    }
    sqlpool__free(c);
}

/* Open the database and apply the connection settings; SQLite's code (*why: a message of
 * the pool's own to give instead of SQLite's). */
static int conn_open(const sqlite_state *st, sqlite_conn *c, const char **why) {
    int rc = sqlite3_open_v2(st->path, &c->db, st->memory ? open_flags : st->flags,
                             st->memory ? NULL : st->vfs);
    if (rc != SQLITE_OK) return rc;
    (void)sqlite3_extended_result_codes(c->db, 1);
    (void)sqlite3_busy_timeout(c->db, st->busy_ms);
    if (sqlpool__stmt_cache_init(&c->cache, c->db, st->stmt_cache_size) != SQLITE_OK)
        return SQLITE_NOMEM;
    /* Both read the file header, so a file that is not a database fails here. A database
     * that cannot be written keeps its journal mode, which is fine; a read-only pool never
     * changes it. */
    if (!st->memory && !st->readonly) {
        rc = exec_simple(c->db, "PRAGMA journal_mode=WAL");
        if ((rc & 0xff) == SQLITE_READONLY) rc = SQLITE_OK;
        if (rc == SQLITE_OK) rc = sqlpool__sqlite_lane_setup(c->db, &c->hook, st->wal, why);
    } else if (!st->memory) {
        rc = query_one(c, "PRAGMA schema_version", NULL, 0);
    }
    return rc == SQLITE_OK ? query_one(c, "SELECT 1", NULL, 0) : rc;
}

/* Opening failed: out of memory; a file that answers but is not a usable database (not a
 * database, corrupt); or one that cannot be opened at all. */
static int code_for_open_failure(int rc) {
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return SQLPOOL_ENOMEM;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return SQLPOOL_EBROKEN;
    default: return SQLPOOL_ECONNECT;
    }
}

/* budget: unused, SQLite's busy timeout (connect_timeout) bounds the connect. */
static int sqlite_connect(void *state, double budget, void **handle, int *retriable, char *err,
                          size_t errlen) {
    sqlite_state *shared = state, snap, *st = &snap;
    sqlite_conn *c = sqlpool__calloc(1, sizeof *c);
    const char *why = NULL;
    int rc, inherited;

    (void)budget;
    *handle = NULL;
    *retriable = 0;
    /* This connect's own copy of the path: sqlpool_set_db() may swap it meanwhile. */
    if (pthread_mutex_lock(&shared->mu) != 0) abort();
    snap = *shared;
    snap.path = c != NULL ? sqlpool__strdup(shared->path) : NULL;
    if (pthread_mutex_unlock(&shared->mu) != 0) abort();
    if (c == NULL || snap.path == NULL) {
        sqlpool__free(c);
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    c->file = -1;
    inherited = file_inherited(st->path);
    rc = inherited ? SQLITE_OK : conn_open(st, c, &why);
    if (rc == SQLITE_OK) {
        if (!inherited) c->file = file_track(c->db, &inherited);
        if (inherited) {
            /* This new connection is the child's own: closing it is safe. */
            sqlpool__format(err, errlen,
                            "cannot open database '%s' in this process: it is a fork's child, "
                            "and connections to that file were open when it was forked (SQLite "
                            "would take no locks here); open the pool after fork(), or call "
                            "sqlpool_close_idle() before it with none borrowed",
                            st->path);
            conn_free(c);
            sqlpool__free(snap.path);
            return SQLPOOL_ECONNECT;
        }
    }
    if (rc != SQLITE_OK) {
        *retriable = retriable_code(rc);
        if ((rc & 0xff) == SQLITE_NOMEM)
            sqlpool__format(err, errlen, "out of memory");
        else if (why != NULL)
            sqlpool__format(err, errlen, "database '%s': %s", st->path, why);
        else if (*retriable)
            sqlpool__format(err, errlen, "cannot open database '%s': %s", st->path,
                            c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        else
            describe_open_failure(st, c->db, rc, err, errlen);
        conn_free(c);
        sqlpool__free(snap.path);
        return code_for_open_failure(rc);
    }
    sqlpool__free(snap.path);
    *handle = c;
    return SQLPOOL_OK;
}

static int sqlite_set_db(void *state, const char *db, char *err, size_t errlen) {
    sqlite_state *st = state;
    char *path, *old;
    if (st->wal->lane != SQLPOOL__LANE_NONE &&
        sqlpool__sqlite_lane_check(db, strcmp(db, ":memory:") == 0, st->readonly, err, errlen) !=
            SQLPOOL_OK)
        return SQLPOOL_EINVAL; /* a single_writer pool stays on a writable file */
    if (st->memory || strcmp(db, ":memory:") == 0) {
        sqlpool__format(err, errlen,
                        "an in-memory database cannot be changed or swapped in: it lives "
                        "with its pool");
        return SQLPOOL_EINVAL;
    }
    if ((path = sqlpool__strdup(db)) == NULL) {
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    if (pthread_mutex_lock(&st->mu) != 0) abort();
    old = st->path;
    st->path = path;
    if (pthread_mutex_unlock(&st->mu) != 0) abort();
    sqlpool__free(old);
    return SQLPOOL_OK;
}

/* config.init_sql, statement by statement (as sqlite3_exec runs them), so that a failure can
 * name which one: "init_sql statement 2 (PRAGMA x=1) failed: ...". A busy database is
 * retriable, as in a connect; the busy timeout has already waited. */
static int sqlite_setup(void *handle, const char *sql, int *retriable, char *err, size_t errlen) {
    sqlite_conn *c = handle;
    const char *next = sql;
    *retriable = 0;
    for (int n = 1; next != NULL && *next != '\0'; n++) {
        sqlite3_stmt *stmt = NULL;
        const char *tail = NULL, *start;
        size_t len;
        int rc;
        while (isspace((unsigned char)*next) || *next == ';')
            next++;
        start = next;
        rc = sqlite3_prepare_v2(c->db, next, -1, &stmt, &tail);
        if (rc == SQLITE_OK && stmt == NULL) break; /* only comments or blanks left */
        if (rc == SQLITE_OK) {
            while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            }
            if (rc == SQLITE_DONE) rc = SQLITE_OK;
        }
        if (rc != SQLITE_OK) {
            /* A statement that did not compile: up to the next ';' (where SQLite stopped
             * reading it is no guide). */
            len = stmt != NULL && tail > start ? (size_t)(tail - start) : strcspn(start, ";");
            while (len > 0 && (start[len - 1] == ';' || isspace((unsigned char)start[len - 1])))
                len--;
            *retriable = retriable_code(rc);
            sqlpool__format(err, errlen, "init_sql statement %d (%.*s) failed: %s", n,
                            (int)(len > 120 ? 120 : len), start, sqlite3_errmsg(c->db));
            (void)sqlite3_finalize(stmt);
            return (rc & 0xff) == SQLITE_NOMEM ? SQLPOOL_ENOMEM : SQLPOOL_ECONNECT;
        }
        (void)sqlite3_finalize(stmt);
        next = tail;
    }
    if (!sqlite3_get_autocommit(c->db)) { /* a BEGIN without its COMMIT */
        sqlpool__format(err, errlen, "init_sql left a transaction open");
        return SQLPOOL_ECONNECT;
    }
    return SQLPOOL_OK;
}

/* A transaction is open, or a statement still holds a read or write lock. */
static int holds_transaction(sqlite3 *db) {
    return !sqlite3_get_autocommit(db) || sqlite3_txn_state(db, NULL) != SQLITE_TXN_NONE;
}

/* Undo a borrow that used the cache or left a lock: reset its statements, roll back, trim. */
static int reset_slow(sqlite_conn *c) {
    sqlite3_stmt *stmt = NULL;
    sqlpool__stmt_cache_release(&c->cache);
    /* Then the statements the caller prepared on the native handle and left running. */
    while ((stmt = sqlite3_next_stmt(c->db, stmt)) != NULL)
        if (sqlite3_stmt_busy(stmt)) (void)sqlite3_reset(stmt);
    if (!sqlite3_get_autocommit(c->db) && exec_simple(c->db, "ROLLBACK") != SQLITE_OK)
        return SQLPOOL_EBROKEN;
    sqlpool__stmt_cache_trim(&c->cache);
    return SQLPOOL_OK;
}

/* The hot path: nothing handed out from the cache and no lock held means nothing to undo. A
 * caller's own statement left busy without a lock (say, "SELECT 1" on its first row) holds
 * nothing the next borrower could notice, so it may wait for a later reset or the close. */
static int sqlite_reset(void *handle, int native_used) {
    sqlite_conn *c = handle;
    /* Without the native handle, the borrower could only use cached statements, which the
     * cache tracks: nothing else can hold a transaction. */
    if (!sqlpool__stmt_cache_dirty(&c->cache) && (!native_used || !holds_transaction(c->db)))
        return SQLPOOL_OK;
    return reset_slow(c);
}

/* Only a rollback touches the file: resetting statements and their bindings is memory. */
static int sqlite_reset_is_local(void *handle, int native_used) {
    (void)native_used;
    return !holds_transaction(((const sqlite_conn *)handle)->db);
}

/* SQLite's unix VFS notices when the path no longer names the file it opened: the file was
 * deleted, renamed, or replaced. VFSes without the check (memdb) answer SQLITE_NOTFOUND. */
static int file_moved(sqlite3 *db, char *err, size_t errlen) {
    int moved = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || !moved)
        return 0;
    sqlpool__format(err, errlen, "database file '%s' was deleted or replaced",
                    sqlite3_db_filename(db, "main"));
    return 1;
}

/* Unlike "SELECT 1", reading the schema cookie starts a read transaction and so touches the
 * database file: a connection whose file became unreadable fails here. */
static int sqlite_ping(void *handle, char *err, size_t errlen) {
    sqlite_conn *c = handle;
    if (file_moved(c->db, err, errlen)) return SQLPOOL_EBROKEN;
    if (query_one(c, "PRAGMA schema_version", NULL, 0) == SQLITE_OK) return SQLPOOL_OK;
    sqlpool__format(err, errlen, "%s", sqlite3_errmsg(c->db));
    return SQLPOOL_EBROKEN;
}

static int sqlite_prepare(void *handle, const char *sql, void **stmt, char *err, size_t errlen) {
    sqlite_conn *c = handle;
    sqlite3_stmt *s = NULL;
    int rc = sqlpool__stmt_cache_get(&c->cache, sql, 0, &s);

    *stmt = s;
    if (rc == SQLITE_OK) return SQLPOOL_OK;
    if ((rc & 0xff) == SQLITE_NOMEM) {
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    if (rc == SQLITE_EMPTY) {
        sqlpool__format(err, errlen, "the SQL text holds no statement");
        return SQLPOOL_EINVAL;
    }
    if (sqlpool__sqlite_denied_write(c->db, rc, c->hook.wal)) {
        sqlpool__format(err, errlen,
                        "'%.60s' is a write: a read connection cannot write; use "
                        "sqlpool_acquire() or sqlpool_write()",
                        sql);
        return SQLPOOL_EINVAL;
    }
    sqlpool__format(err, errlen, "%s", sqlite3_errmsg(c->db));
    /* Bad SQL (a syntax error, a missing table) says nothing about the connection. */
    return (rc & 0xff) == SQLITE_ERROR ? SQLPOOL_EINVAL : SQLPOOL_EBROKEN;
}

static int sqlite_health(void *handle, sqlpool_health *out) {
    sqlite_conn *c = handle;
    sqlpool__format(out->backend, sizeof out->backend, "sqlite");
    out->version[0] = '\0';
    if (file_moved(c->db, out->error, sizeof out->error)) return SQLPOOL_EBROKEN;
    if (query_one(c, "PRAGMA schema_version", NULL, 0) == SQLITE_OK &&
        query_one(c, "SELECT sqlite_version()", out->version, sizeof out->version) == SQLITE_OK) {
        out->healthy = 1;
        return SQLPOOL_OK;
    }
    out->version[0] = '\0';
    sqlpool__format(out->error, sizeof out->error, "%s", sqlite3_errmsg(c->db));
    return SQLPOOL_EBROKEN;
}

static void *sqlite_native(void *handle) {
    return ((sqlite_conn *)handle)->db;
}

static void sqlite_close(void *handle) {
    conn_free(handle);
}

/* The child of a fork(): SQLite forbids using a connection across fork(), closing included
 * (its close would release the parent's locks as seen by this process, and may take
 * SQLite's own mutexes in a state the fork froze). Leaked: the sqlite3 *, its statements and
 * its file descriptors stay until the child exits (documented in docs/threading.md). */
static void sqlite_abandon(void *handle) {
    (void)handle;
}

/* SQLite's process-wide mutexes, outermost first (the order SQLite nests them in: the
 * open/main mutexes around the unix VFS's, the allocator's innermost). A thread inside SQLite
 * at the fork (say, in sqlite3_malloc with memory statistics on) would leave one locked
 * forever in the child; holding them all across the fork leaves the child's copy free. They
 * are SQLite's fast (non-recursive) mutexes, so the forking thread may release them in the
 * child. The PRNG's is left out: SQLite takes the main mutex inside it. */
static const int fork_mutexes[] = {SQLITE_MUTEX_STATIC_OPEN, SQLITE_MUTEX_STATIC_MAIN,
                                   SQLITE_MUTEX_STATIC_VFS1, SQLITE_MUTEX_STATIC_VFS2,
                                   SQLITE_MUTEX_STATIC_VFS3, SQLITE_MUTEX_STATIC_LRU,
                                   SQLITE_MUTEX_STATIC_PMEM, SQLITE_MUTEX_STATIC_MEM};

static void sqlite_atfork(int phase) {
    const size_t n = sizeof fork_mutexes / sizeof fork_mutexes[0];
    if (phase == SQLPOOL__FORK_PREPARE && pthread_mutex_lock(&files_mu) != 0) abort();
    for (size_t i = 0; i < n; i++) {
        int id = fork_mutexes[phase == SQLPOOL__FORK_PREPARE ? i : n - 1 - i];
        /* Static: the same one every time; NULL when SQLite was built without mutexes. */
        sqlite3_mutex *m = sqlite3_mutex_alloc(id);
        if (m == NULL) continue;
        if (phase == SQLPOOL__FORK_PREPARE)
            sqlite3_mutex_enter(m);
        else
            sqlite3_mutex_leave(m);
    }
    if (phase == SQLPOOL__FORK_PARENT && pthread_mutex_unlock(&files_mu) != 0) abort();
    if (phase == SQLPOOL__FORK_CHILD) {
        for (int i = 0; i < nfiles; i++)
            if (files[i].open > 0) files[i].inherited = 1; /* abandoned, never closed here */
        if (pthread_mutex_init(&files_mu, NULL) != 0) abort();
    }
}

static int sqlite_txn(void *handle, int what, char *err, size_t errlen) {
    sqlite_conn *c = handle;
    return sqlpool__sqlite_txn(c->db, &c->cache, what, err, errlen);
}

/* The lane is set before the pool's first connect (lanes.c), so connects read it unlocked. */
static int sqlite_set_lane(void *state, int lane, char *err, size_t errlen) {
    sqlite_state *st = state;
    int rc = sqlpool__sqlite_lane_check(st->path, st->memory, st->readonly, err, errlen);
    if (rc == SQLPOOL_OK) st->wal->lane = lane;
    return rc;
}

static void sqlite_stats(void *state, sqlpool_stats *out) {
    sqlpool__sqlite_wal_stats(((sqlite_state *)state)->wal, out);
}

const sqlpool__backend sqlpool__sqlite_backend = {
    .name = "sqlite",
    .pool_init = sqlite_pool_init,
    .pool_fini = sqlite_pool_fini,
    .connect = sqlite_connect,
    .set_db = sqlite_set_db,
    .reset = sqlite_reset,
    .reset_is_local = sqlite_reset_is_local,
    .ping = sqlite_ping,
    .prepare = sqlite_prepare,
    .health = sqlite_health,
    .sqlite_db = sqlite_native,
    .pg_conn = NULL,
    .close = sqlite_close,
    .abandon = sqlite_abandon,
    .atfork = sqlite_atfork,
    .setup = sqlite_setup,
    .check = NULL,
    .exec = NULL,
    .set_lane = sqlite_set_lane,
    .txn = sqlite_txn,
    .stats = sqlite_stats,
};
