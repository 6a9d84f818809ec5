/*
 * sqlpool.h: the public contract of libsqlpool, a thread-safe connection pool for SQLite.
 *
 * Everything declared here is public and stable within a major version; nothing else is.
 *
 * Threading rule (stated once, relied on everywhere): a pool may be used from any number of
 * threads at once, but a connection belongs to exactly one thread between sqlpool_acquire()
 * and sqlpool_release(). That is what lets the pool open SQLite connections with
 * SQLITE_OPEN_NOMUTEX. Hand a borrowed connection to another thread only with your own
 * synchronisation (a happens-before edge), and never use it from two threads at once.
 *
 * Errors: calls return int; SQLPOOL_OK is 0 and failures are negative SQLPOOL_E* codes.
 * The detail of the last failure on the calling thread (the SQLite message, the attempts
 * made) is in sqlpool_errmsg(), which is thread-local and so safe to read from any thread.
 */
#ifndef SQLPOOL_H
#define SQLPOOL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SQLPOOL_BUILDING) && defined(__GNUC__)
#define SQLPOOL_API __attribute__((visibility("default")))
#else
#define SQLPOOL_API
#endif

#define SQLPOOL_VERSION_MAJOR 0
#define SQLPOOL_VERSION_MINOR 1
#define SQLPOOL_VERSION_PATCH 0
#define SQLPOOL_VERSION "0.1.0"

/* Result codes. SQLPOOL_OK is 0; every error is negative. */
#define SQLPOOL_OK 0
#define SQLPOOL_EINVAL (-1)   /* an argument or a configuration value is out of range */
#define SQLPOOL_ENOMEM (-2)   /* an allocation failed */
#define SQLPOOL_ECONNECT (-3) /* the database cannot be opened, and retrying will not help */
#define SQLPOOL_EBUSY (-4)    /* the database stayed busy or locked through every retry */
#define SQLPOOL_EBROKEN (-5)  /* the connection failed its check and cannot be used */
#define SQLPOOL_ECLOSED (-6)  /* the pool is closing */
#define SQLPOOL_EMISUSE (-7)  /* the API was used against its contract */
#define SQLPOOL_ENOTSUP (-8)  /* the operation is not supported by this backend or build */

/* Log levels passed to a sqlpool_log_fn; a message is emitted when level <= log_level. */
#define SQLPOOL_LOG_ERROR 0
#define SQLPOOL_LOG_WARNING 1
#define SQLPOOL_LOG_INFO 2
#define SQLPOOL_LOG_DEBUG 3

typedef struct sqlpool sqlpool;           /* a pool for one database */
typedef struct sqlpool_conn sqlpool_conn; /* a connection borrowed from it */
typedef struct sqlite3 sqlite3;           /* SQLite's own handle, from <sqlite3.h> */

/*
 * A log sink. Called from whichever thread did the work, never with the pool lock held, so
 * it may call back into the pool. msg is a single line without a newline, valid only for
 * the duration of the call. ctx is the config's log_ctx.
 */
typedef void (*sqlpool_log_fn)(void *ctx, int level, const char *msg);

/*
 * How to build a pool. Always start from sqlpool_config_init(): fields added in later
 * versions get their defaults that way. sqlpool_open() copies what it needs, so the struct
 * and its strings may be freed once sqlpool_open() returns.
 */
typedef struct sqlpool_config {
    /* The database: a file path, or ":memory:" for one in-memory database per pool, shared
     * by all the pool's connections and kept alive until sqlpool_close(). Default ":memory:". */
    const char *db;
    /* Most idle connections kept for reuse; a release beyond it closes the connection.
     * Must be >= 1. Default 5 (the original's pool_size). */
    int max_idle;
    /* Retries of a connect that failed with an error that can pass (busy, locked), after the
     * first attempt. 0 disables retry. Default 3. */
    int max_retries;
    /* Seconds: the SQLite busy timeout of every connection. Default 5.0. */
    double connect_timeout;
    /* Seconds: the first wait between connect attempts; it doubles on each retry, with
     * +/-25% jitter, so waits strictly grow. Default 0.010. */
    double retry_backoff;
    /* Non-zero: run "SELECT 1" on every release and close a connection that fails it.
     * Costs one statement per release. Default 0: release only rolls back an open
     * transaction and resets active statements. */
    int ping_on_release;
    /* Non-zero: create a file database that does not exist. 0: fail with SQLPOOL_ECONNECT
     * instead, as a health check should. Default 1. */
    int create;
    /* Name of a registered SQLite VFS for file databases, or NULL for the default.
     * sqlpool_open() fails with SQLPOOL_EINVAL when no VFS of that name is registered. */
    const char *sqlite_vfs;
    /* Where log lines go (NULL: nowhere), its context, and the most verbose level wanted.
     * Defaults: NULL, NULL, SQLPOOL_LOG_INFO. */
    sqlpool_log_fn log;
    void *log_ctx;
    int log_level;
} sqlpool_config;

/* A snapshot of a pool's counters, taken atomically with respect to other pool calls. */
typedef struct sqlpool_stats {
    long long created;          /* connections opened (the original's "created") */
    long long reused;           /* acquires served by an idle connection ("reused") */
    int idle;                   /* connections idle in the pool now */
    int max_idle;               /* the configured cap on idle ones (the original's pool_size) */
    int in_use;                 /* connections borrowed now */
    int peak_in_use;            /* the most borrowed at once since the pool opened */
    int open;                   /* idle + in_use */
    long long closed;           /* connections closed, for any reason */
    long long discarded;        /* of those, closed because broken or discarded by the caller */
    long long connect_retries;  /* connect attempts repeated after an error that could pass */
    long long connect_failures; /* acquires that failed because no connection could be opened */
} sqlpool_stats;

/* The result of sqlpool_conn_health(). */
typedef struct sqlpool_health {
    int healthy;      /* 1 healthy, 0 unhealthy */
    char backend[16]; /* "sqlite" */
    char version[64]; /* the database engine's version, when healthy */
    char error[256];  /* what failed, when unhealthy; "" otherwise */
} sqlpool_health;

/* The library's version string, e.g. "0.1.0". Static; thread-safe. */
SQLPOOL_API const char *sqlpool_version(void);

/*
 * A static, human-readable description of a result code ("connection broken"). Never NULL:
 * an unknown code gives "unknown error". Thread-safe.
 */
SQLPOOL_API const char *sqlpool_strerror(int code);

/*
 * The message of the most recent failed sqlpool call made by the calling thread, e.g.
 * "failed after 3 retries: database is locked", or "" if none has failed. Thread-local:
 * valid until the calling thread's next sqlpool call. Never NULL.
 */
SQLPOOL_API const char *sqlpool_errmsg(void);

/* Fill cfg with the defaults documented on sqlpool_config. cfg must not be NULL. */
SQLPOOL_API void sqlpool_config_init(sqlpool_config *cfg);

/*
 * Create a pool. Returns SQLPOOL_OK and sets *out, or an error and sets *out to NULL:
 * SQLPOOL_EINVAL when cfg, cfg->db or out is NULL, max_idle < 1, max_retries < 0, or a
 * timeout is negative or not finite; SQLPOOL_ENOMEM; SQLPOOL_ECONNECT when ":memory:" cannot
 * be set up. File databases are not opened until the first acquire. The caller owns the pool
 * and frees it with sqlpool_close(). Thread-safe.
 */
SQLPOOL_API int sqlpool_open(const sqlpool_config *cfg, sqlpool **out);

/*
 * Borrow a connection: the most recently released idle one (counted as reused), else a new
 * one (counted as created), opened with retry and proven with "SELECT 1". Returns SQLPOOL_OK
 * and sets *out, or sets *out to NULL and returns SQLPOOL_EINVAL (NULL argument),
 * SQLPOOL_ENOMEM, SQLPOOL_ECONNECT (will not pass: missing folder, not a database,
 * permission denied), SQLPOOL_EBUSY (still busy after max_retries), or SQLPOOL_ECLOSED.
 * The connection belongs to the calling thread until sqlpool_release() or
 * sqlpool_discard(). Thread-safe.
 */
SQLPOOL_API int sqlpool_acquire(sqlpool *pool, sqlpool_conn **out);

/*
 * Hand a connection back. An open transaction is rolled back and active statements are
 * reset; a connection that fails that (or the ping, with ping_on_release) is closed, as is
 * one that would take the pool past max_idle. conn must not be used afterwards.
 * NULL is a no-op. Thread-safe (for distinct connections).
 */
SQLPOOL_API void sqlpool_release(sqlpool_conn *conn);

/* Like sqlpool_release(), but the caller knows the connection is broken: close it, never
 * pool it. Counted in stats.discarded. NULL is a no-op. */
SQLPOOL_API void sqlpool_discard(sqlpool_conn *conn);

/* Close every idle connection (the original's close_all()). Borrowed ones are untouched;
 * an in-memory database stays alive. NULL is a no-op. Thread-safe. */
SQLPOOL_API void sqlpool_close_idle(sqlpool *pool);

/*
 * Close idle connections, most recently used last, until at most target remain idle.
 * Returns how many were closed (>= 0), or SQLPOOL_EINVAL for a NULL pool or target < 0.
 * max_idle is unchanged. Thread-safe.
 */
SQLPOOL_API int sqlpool_shrink(sqlpool *pool, int target);

/* Copy the pool's counters into *out. Both must be non-NULL. Thread-safe. */
SQLPOOL_API void sqlpool_stats_get(sqlpool *pool, sqlpool_stats *out);

/*
 * Check a borrowed connection: SQLite reads the schema cookie (which touches the database file)
 * and runs "SELECT sqlite_version()". Returns SQLPOOL_OK and
 * fills *out with healthy=1 and the version, or returns SQLPOOL_EBROKEN with healthy=0 and
 * the error text (the connection should then be discarded), or SQLPOOL_EINVAL for NULL
 * arguments. Call from the thread that holds the connection.
 */
SQLPOOL_API int sqlpool_conn_health(sqlpool_conn *conn, sqlpool_health *out);

/*
 * The native SQLite handle of a borrowed connection, for the caller's own statements; NULL
 * for NULL. Owned by the pool: do not sqlite3_close() it, and do not keep it past release.
 * Statements the caller prepares on it must be finalized before release.
 */
SQLPOOL_API sqlite3 *sqlpool_conn_sqlite(sqlpool_conn *conn);

/*
 * Close the pool: every idle connection now, the in-memory database's keeper, and the pool
 * itself. Connections still borrowed keep working; the pool is freed when the last of them
 * is released. NULL is a no-op. Must not race with other calls on the same pool other than
 * releases of borrowed connections.
 */
SQLPOOL_API void sqlpool_close(sqlpool *pool);

#ifdef __cplusplus
}
#endif

#endif /* SQLPOOL_H */
