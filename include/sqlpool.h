/*
 * sqlpool.h: the public contract of libsqlpool, a thread-safe connection pool for SQLite and
 * PostgreSQL.
 *
 * Everything declared here is public and stable within a major version; nothing else is.
 *
 * Threading rule (stated once, relied on everywhere): a pool may be used from any number of
 * threads at once, but a connection belongs to exactly one thread between sqlpool_acquire()
 * and sqlpool_release(). That is what lets the pool open SQLite connections with
 * SQLITE_OPEN_NOMUTEX. Hand a borrowed connection to another thread only with your own
 * synchronisation (a happens-before edge), and never use it from two threads at once.
 *
 * fork(): in the child, a pool's first call abandons the parent's connections (no message to
 * a server, no SQLite call on them; handles borrowed before the fork are stale there) and
 * serves the child with connections of its own. A SQLite database file that had connections
 * open at the fork cannot be opened safely in the child and is refused (SQLPOOL_ECONNECT):
 * call sqlpool_close_idle() with nothing borrowed before forking, or open pools after it.
 * A fork from inside a pool's own code (one of its hooks, before_connect, or its maintenance
 * thread) closes that pool in the child instead (docs/threading.md says what remains).
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

/* The version of this header; sqlpool_version() gives the library's. A program runs with a
 * library of the same major version and at least its minor version; the shared library's
 * SONAME (libsqlpool.so.0) changes with the major version only. 0.2.0 added the _sized
 * calls, by which sqlpool_config and sqlpool_stats can grow (see "Growing structs"); 0.4.0 the
 * event-loop calls (sqlpool_acquire_async and the calls beside it); 0.5.0 config.group_commit
 * (and its two stats). */
#define SQLPOOL_VERSION_MAJOR 0 /* incompatible changes */
#define SQLPOOL_VERSION_MINOR 5 /* additions */
#define SQLPOOL_VERSION_PATCH 0 /* fixes */
#define SQLPOOL_VERSION "0.5.0" /* the three, as a string */

/* Result codes. SQLPOOL_OK is 0; every error is negative. */
#define SQLPOOL_OK 0
#define SQLPOOL_EINVAL (-1)    /* an argument or a configuration value is out of range */
#define SQLPOOL_ENOMEM (-2)    /* an allocation failed */
#define SQLPOOL_ECONNECT (-3)  /* the database cannot be opened, and retrying will not help */
#define SQLPOOL_EBUSY (-4)     /* the database stayed busy or locked through every retry */
#define SQLPOOL_EBROKEN (-5)   /* the connection failed its check and cannot be used */
#define SQLPOOL_ECLOSED (-6)   /* the pool is closing */
#define SQLPOOL_EMISUSE (-7)   /* the API was used against its contract */
#define SQLPOOL_ENOTSUP (-8)   /* the operation is not supported by this backend or build */
#define SQLPOOL_ETIMEDOUT (-9) /* no connection became available before the deadline */
#define SQLPOOL_EAGAIN (-10)   /* no idle connection right now (sqlpool_try_acquire) */
#define SQLPOOL_EDEADLK                                                                            \
    (-11) /* the calling thread holds a connection of this pool and would                          \
             wait for another (config.nested_acquire SQLPOOL_NESTED_FAIL) */

/* What an acquire does when its thread already holds a connection of the same pool and would
 * have to wait (config.nested_acquire). */
#define SQLPOOL_NESTED_WARN 0  /* log a warning naming the file:line of both acquires, and wait */
#define SQLPOOL_NESTED_FAIL 1  /* fail at once with SQLPOOL_EDEADLK */
#define SQLPOOL_NESTED_ALLOW 2 /* wait, silently */

/* Log levels passed to a sqlpool_log_fn; a message is emitted when level <= log_level. */
#define SQLPOOL_LOG_ERROR 0   /* a connect that failed for good, a misuse caught */
#define SQLPOOL_LOG_WARNING 1 /* a connect retried, a check or keepalive failed, a discard */
#define SQLPOOL_LOG_INFO 2    /* every acquire (a connection created or reused), a shrink */
#define SQLPOOL_LOG_DEBUG 3   /* connections closed with the pool */

typedef struct sqlpool sqlpool;           /* a pool for one database */
typedef struct sqlpool_conn sqlpool_conn; /* a connection borrowed from it */
typedef struct sqlite3 sqlite3;           /* SQLite's own handle, from <sqlite3.h> */
typedef struct sqlite3_stmt sqlite3_stmt; /* SQLite's prepared statement */
typedef struct pg_conn PGconn;            /* libpq's connection, from <libpq-fe.h> */
typedef struct pg_result PGresult;        /* libpq's result */

/*
 * A log sink. Called from whichever thread did the work, never with the pool lock held, so
 * it may call back into the pool. msg is a single line without a newline, valid only for
 * the duration of the call. ctx is the config's log_ctx.
 */
typedef void (*sqlpool_log_fn)(void *ctx, int level, const char *msg);

/* A function of a connection: what sqlpool_with() calls (its return value is
 * sqlpool_with()'s; SQLPOOL_EBROKEN also discards the connection), and the connection hooks
 * of sqlpool_config (on_connect, on_acquire, on_release: 0 accepts the connection). ctx is the
 * caller's. */
typedef int (*sqlpool_fn)(sqlpool_conn *conn, void *ctx);

/*
 * How to build a pool. Always start from sqlpool_config_init(): fields added in later
 * versions get their defaults that way. sqlpool_open() copies what it needs, so the struct
 * and its strings may be freed once sqlpool_open() returns. Fields are only ever appended
 * (see "Growing structs" below): a library newer than this header gives the fields it has
 * and this struct lacks their defaults.
 */
typedef struct sqlpool_config {
    /* PostgreSQL (when built with libpq): a "postgresql://" or "postgres://" URI, or a libpq
     * "key=value" conninfo string; see sqlpool_has_postgresql(). Anything else is SQLite:
     * The database: a file path (or an SQLite "file:" URI, passed as it is), or exactly
     * ":memory:" for one in-memory database per pool, shared by all the pool's connections
     * and kept alive until sqlpool_close(). (Other in-memory spellings, such as
     * "file::memory:", are SQLite's: each connection gets its own database.) Must not be
     * empty. Default ":memory:". */
    const char *db;
    /* Most idle connections kept for reuse; a release beyond it closes the connection.
     * Must be >= 1. Default 5 (the original's pool_size). */
    int max_idle;
    /* Retries of a connect that failed with an error that can pass (busy, locked), after the
     * first attempt. 0 disables retry. Retries also stop when the next wait would pass the
     * acquire's deadline (SQLPOOL_ETIMEDOUT), and when the pool begins to close. Default 3. */
    int max_retries;
    /* Seconds: the SQLite busy timeout of every connection; for PostgreSQL, the deadline of
     * each connect and of each round trip the pool makes itself (pings, rollbacks). Default
     * 5.0. */
    double connect_timeout;
    /* Seconds: the first wait between connect attempts; it doubles on each retry, with
     * +/-25% jitter, so waits strictly grow. Default 0.010. */
    double retry_backoff;
    /* Non-zero: check the connection on every release (SQLite reads the schema cookie,
     * which touches the file) and close it if the check fails. Costs one statement per
     * release. Default 0: release only rolls back an open transaction and resets active
     * statements. */
    int ping_on_release;
    /* Non-zero: create a file database that does not exist. 0: fail with SQLPOOL_ECONNECT
     * instead, as a health check should. Default 1. */
    int create;
    /* Non-zero: open file databases read-only (SQLITE_OPEN_READONLY), never creating them or
     * changing their journal mode: for checks and readers. Default 0. */
    int readonly;
    /* Name of a registered SQLite VFS for file databases (":memory:" always uses SQLite's
     * memdb), or NULL for the default.
     * sqlpool_open() fails with SQLPOOL_EINVAL when no VFS of that name is registered. */
    const char *sqlite_vfs;
    /* Where log lines go (NULL: nowhere), its context, and the most verbose level wanted.
     * Defaults: NULL, NULL, SQLPOOL_LOG_INFO. */
    sqlpool_log_fn log;
    void *log_ctx; /* passed to log as its ctx */
    int log_level; /* the most verbose SQLPOOL_LOG_* level passed to log */

    /* Most connections open at once, idle and borrowed together; an acquire beyond it waits
     * for a release. 0: no cap (the original's behaviour). Default 0. */
    int max_open;
    /* Connections opened at start and kept ready by the maintenance thread (within
     * max_open and max_idle). Default 0. */
    int min_idle;
    /* Most connects in progress at once, so a burst of waiters cannot stampede the database;
     * the others wait for a connection or a turn. Must be >= 1. Default 2. */
    int max_connecting;
    /* Seconds sqlpool_acquire() waits for a connection before SQLPOOL_ETIMEDOUT; 0 waits
     * without limit. Default 30. */
    double acquire_timeout;
    /* Seconds an idle connection beyond min_idle is kept before the maintenance thread closes
     * it; 0 keeps it. Default 600. */
    double idle_timeout;
    /* Seconds after which a connection is retired (an idle one at once, a borrowed one on
     * release), less a random jitter of up to 2.5% so they do not all expire together;
     * 0: never. Default 1800. */
    double max_lifetime;
    /* Seconds between pings of each idle connection by the maintenance thread; 0: no pings.
     * Default 0. */
    double keepalive_interval;
    /* Seconds a connection may sit idle and still be handed out unchecked; one idle longer is
     * checked first (and replaced if broken). 0 checks on every borrow. Default 0.5. */
    double validation_bypass;
    /* Seconds a connection may stay borrowed before a warning names where it was acquired
     * (the file and line of the sqlpool_acquire() call); 0: off. Default 0. */
    double leak_threshold;
    /* Seconds sqlpool_close() waits for borrowed connections to come back. Default 5. */
    double close_timeout;
    /* Prepared statements cached per connection by sqlpool_conn_prepare(); 0 disables the
     * cache. Default 32. */
    int stmt_cache_size;
    /* PostgreSQL: a statement run on every release of a clean connection, such as
     * "DISCARD ALL" (which also drops the connection's cached statements); NULL for none.
     * Default NULL. */
    const char *pg_reset_query;
    /* PostgreSQL: non-zero to never prepare named statements (sqlpool_conn_pg_exec() sends
     * each with its parameters in one round trip), for servers behind pgbouncer in
     * transaction mode. Default 0. */
    int pg_unnamed_statements;
    /* Called before every connect attempt, on the connecting thread, never under the pool
     * lock; a non-zero return fails that attempt as an error that can pass (it is retried
     * like a busy database). For fault injection: `sqlpool bench --fail-connect`. NULL: none.
     * Default NULL. */
    int (*before_connect)(void *ctx);
    void *before_connect_ctx; /* passed to before_connect */
    /* The monotonic clock, in seconds, for every timeout and interval above; NULL for the
     * system's. For tests: drive time by hand and call sqlpool_maintain(). */
    double (*clock)(void *ctx);
    void *clock_ctx; /* passed to clock */
    /* The pool's name, for sqlpool_stats_format() (JSON "name", the Prometheus label
     * pool_name: OpenTelemetry's db.client.connection.pool.name). One or more of
     * [a-zA-Z0-9_.-], else sqlpool_open() fails with SQLPOOL_EINVAL; NULL reads as
     * "sqlpool". Copied at open. Default "sqlpool". */
    const char *name;
    /* Seconds a thread asking for a connection may overtake threads already waiting for one.
     * 0 (the default) serves waiters strictly first come, first served: each released
     * connection is handed to the oldest waiter, and a newcomer queues behind it. Above 0
     * (throughput mode, the policy of Go's sync.Mutex): a newcomer may take a connection
     * just released while others wait, which spares a wake-up and a context switch per
     * hand-off when threads far outnumber connections and processors; but once the oldest
     * waiter has waited this long, waiters are served in order before any newcomer (the
     * first takes an idle connection itself, or is handed the next one released), until the
     * oldest has waited less. Waiters are always served in queue order among themselves.
     * Measured on the system's monotonic clock, not config.clock. 0.001 suits most programs
     * that want it. Must be finite and >= 0.
     * In this mode a release may also leave the connection in a cache of the processor it
     * runs on, for the next acquire there, so neither takes the pool lock: unless
     * leak_threshold is set, validation_bypass is 0, the backend checks every borrow
     * (PostgreSQL), or info-level logging is on, which all need the lock's bookkeeping. */
    double barge_window;

    /* 0.2.0: setting up each connection, checkout and checkin hooks, nested acquires. */
    /* SQL run on every new connection, after the pool's own set-up and before the connection
     * is first handed out: one or more statements separated by ';', e.g. "PRAGMA
     * foreign_keys=ON; PRAGMA synchronous=NORMAL" or "SET application_name='billing'". A
     * statement that fails closes that connection, and the acquire (or sqlpool_open() with
     * min_idle) fails with SQLPOOL_ECONNECT, sqlpool_errmsg() naming the statement; a busy
     * SQLite database during set-up is retried like a busy connect. Set-up that leaves a
     * transaction open ("BEGIN" without its "COMMIT") fails the same way. Statement caching
     * starts after set-up, so set-up never invalidates a cached statement. On PostgreSQL a
     * pg_reset_query of "DISCARD ALL" undoes its SETs at the first release. Copied by
     * sqlpool_open(). Default NULL: none. */
    const char *init_sql;
    /* Called once per new connection, after init_sql, outside the pool lock, on whichever
     * thread connects (the maintenance thread's min_idle refills too): to register SQLite
     * functions, collations or extensions once per connection. Non-zero closes that
     * connection and fails the acquire with SQLPOOL_ECONNECT, the errmsg naming the hook.
     * The hook may use the connection and call sqlpool_stats_get(), but must not acquire from
     * or close the pool; giving back the connection it was handed (sqlpool_release() or
     * sqlpool_discard() inside any of these hooks) is refused as misuse (SQLPOOL_EMISUSE,
     * logged) and the pool carries on with it. Default NULL. */
    sqlpool_fn on_connect;
    void *on_connect_ctx; /* passed to on_connect */
    /* Called before any connection is handed out, a new one included, outside the pool lock,
     * on the acquiring thread. Non-zero discards the connection (stats.discarded_by_hook) and
     * the acquire takes or opens another, within its deadline. Default NULL. */
    sqlpool_fn on_acquire;
    void *on_acquire_ctx; /* passed to on_acquire */
    /* Called by sqlpool_release() before the pool's own reset, outside the pool lock, on the
     * releasing thread: to undo session state a borrower changed. Non-zero closes the
     * connection instead of pooling it (stats.discarded_by_hook). Not called by
     * sqlpool_discard(). Default NULL. */
    sqlpool_fn on_release;
    void *on_release_ctx; /* passed to on_release */
    /* An acquire by a thread that already holds a connection of this pool, when it would have
     * to wait (the pool is at max_open), is the classic self-deadlock once every connection
     * is held that way. Checked only when about to wait, so acquires that need not wait pay
     * nothing: SQLPOOL_NESTED_WARN (the default), SQLPOOL_NESTED_FAIL or
     * SQLPOOL_NESTED_ALLOW. */
    int nested_acquire;
    /* 0.3.0 (0.2.0's reserved0, which had to be 0): one writer, many readers, on a SQLite
     * file database. Default 0: every connection reads and writes, as before.
     * 1: the pool keeps at most one writer connection, served to sqlpool_acquire(),
     * sqlpool_acquire_until(), sqlpool_try_acquire() and sqlpool_write() callers in the
     * pool's waiting order with their deadlines, and reader connections for
     * sqlpool_acquire_read() and its variants and sqlpool_read(), every one in WAL mode, the
     * readers opened with "PRAGMA query_only=1" and an authorizer, so that a write prepared
     * on a reader fails at once (sqlpool_conn_prepare(): SQLPOOL_EINVAL, "... is a write: a
     * read connection cannot write; use sqlpool_acquire() or sqlpool_write()"; a native
     * sqlite3_prepare_v2(): SQLITE_AUTH, "not authorized"). max_open, max_idle and min_idle
     * are the readers' (max_open 0: no cap on them); the writer is one connection more, not
     * counted in them (stats.max_open adds it). Threads of this process then never meet
     * "database is locked": writes queue in the pool, and readers never block the writer in
     * WAL. On PostgreSQL, on ":memory:" or a mode=memory URI (no WAL: readers would block the
     * writer), and on a read-only pool (mode=ro, no writer to be had), sqlpool_open() fails with
     * SQLPOOL_EINVAL saying so. init_sql and the hooks run on readers too, after query_only:
     * there they must not write (a "CREATE TABLE IF NOT EXISTS" belongs on the writer), nor
     * install an authorizer of their own (sqlite3_set_authorizer replaces the pool's, and
     * query_only could then be turned off). VACUUM, BEGIN IMMEDIATE and incremental_vacuum
     * on a reader fail when run (query_only), not at prepare. Waits across lanes (a thread
     * holding the writer waiting for a reader, another the reverse) are not seen by
     * nested_acquire. */
    int single_writer;
    /* Bound on the SQLite WAL file, in bytes (file databases; both kinds of pool). SQLite's
     * own checkpoints (passive, every 1000 pages) cannot reset the WAL while readers keep
     * reading, so under a steady read load it grows without end; after a commit that leaves
     * the WAL above this size, the committing connection runs a TRUNCATE checkpoint, which
     * waits (up to the busy timeout, connect_timeout) for readers to move to the newest data,
     * then empties the WAL. Counted in stats.checkpoints (and checkpoints_busy when it could
     * not finish in time; the next commit over the limit tries again). A "PRAGMA
     * wal_autocheckpoint" in init_sql replaces this bound with SQLite's own behaviour.
     * Default 64 MiB (67108864); 0: no bound, SQLite's checkpoints only. Must be >= 0. */
    long long wal_limit;

    /* 0.3.0, PostgreSQL beyond one server: */
    /* PostgreSQL: seconds a statement of sqlpool_conn_pg_exec() may run; past it the query is
     * cancelled (PQcancel), the call returns SQLPOOL_ETIMEDOUT, and a connection whose cancel
     * did not take is closed on release. sqlpool_conn_pg_exec_until() takes a deadline
     * instead. 0: no limit. Default 0. Must be finite and >= 0. */
    double statement_timeout;
    /* PostgreSQL: a second database string for reads, typically the standbys
     * ("host=s1,s2 target_session_attrs=prefer-standby"): sqlpool_acquire_read() and its
     * variants and sqlpool_read() are served from it, by a lane of its own (as single_writer's
     * readers, SQLPOOL_LANE_READ in the stats), capped by read_max_open. NULL: reads use db,
     * as writes do. Copied by sqlpool_open(). Default NULL. */
    const char *read_db;
    /* Cap on read_db's connections; 0: max_open's value. Must be >= 0. Default 0. */
    int read_max_open;
    /* With read_db: 1 (the default) serves a read from db when no read_db server could be
     * connected to (every host refused, failed or was in the wrong role), counted in
     * stats.read_fallbacks, and after such a failure every read goes to db for a back-off
     * (1 s, doubling to 30 s while the standbys keep failing; then one read tries them);
     * 0 fails the read with the connect's error. */
    int read_fallback;
    /* 0.5.0: SQLite only (sqlpool_open() fails with SQLPOOL_EINVAL on PostgreSQL, whose
     * server commits many writers at once by itself). The most sqlpool_write() transactions
     * that share one COMMIT, each in a SAVEPOINT of its own; 0 or 1: each commits alone (the
     * default, 0). One writer commits at a time and each COMMIT waits for the disk (the WAL's
     * fsync, synchronous=FULL), so writers queued behind each other each wait for every
     * commit before theirs; sharing one cuts that wait by the group's size. A sqlpool_write()
     * that finds another's transaction under way queues for a turn inside it instead of for
     * the connection (first come, first served, within acquire_timeout: SQLPOOL_ETIMEDOUT,
     * counted in stats.timeouts); its fn runs on its own thread, in turn, and the last of the
     * group commits for all. Nothing waits for more writers to come: one alone commits alone.
     * Each caller's answer is the one a transaction of its own gives: 0 only once its work is
     * committed; fn's non-zero rolls back its own work only. What differs, so that this is
     * not the default: the group's members wait for each other's fn (keep fn short, and
     * never let it wait for something another sqlpool_write() caller does after its write
     * returns: that waits forever); a COMMIT that fails fails every member, and deferred
     * constraints (DEFERRABLE INITIALLY DEFERRED, PRAGMA defer_foreign_keys) are checked
     * at the group's COMMIT, over all its members' work; and a transaction ended inside fn
     * (fn's own COMMIT or ROLLBACK, a statement such as INSERT OR ROLLBACK or a trigger's
     * RAISE(ROLLBACK), a disk full) ends the members' before it too: they return
     * SQLPOOL_EBROKEN, sqlpool_errmsg() saying that a later transaction of the group ended
     * theirs and that the outcome is unknown (rolled back, unless that fn ran COMMIT).
     * sqlpool_write() from inside fn, or by a thread that holds a connection of the pool
     * (of a single_writer pool: the writer), is served as without group_commit
     * (nested_acquire applies). The group's connection
     * is the writer of a single_writer pool, or any of a plain pool's (the acquire of the
     * first member); the later members borrow none of their own, so they are not in
     * stats.acquires nor the wait figures (stats.group_commits and stats.grouped count
     * those committed), and on_acquire and on_release run once per group, on the threads
     * of its first and its last member. Must be >= 0. */
    int group_commit;
    int reserved1; /* must be 0 (pairs group_commit, so that the struct ends without padding) */
    /* New fields go here, at the end (see "Growing structs" below). */
#ifdef SQLPOOL_ABI_TEST_EXTRA
    /* Only in the ABI test's second library (tests/abi/): a field "a later version" appended,
     * which the test's consumer, built without it, never sees. Default 7. */
    long long abi_test_extra;
#endif
} sqlpool_config;

/* A snapshot of a pool's counters, taken atomically with respect to other pool calls.
 * Invariant: created - closed == open. */
typedef struct sqlpool_stats {
    long long created;          /* connections opened (the original's "created") */
    long long reused;           /* acquires served by an existing connection ("reused") */
    int idle;                   /* connections idle in the pool now */
    int max_idle;               /* the configured cap on idle ones (the original's pool_size) */
    int in_use;                 /* connections borrowed now */
    int peak_in_use;            /* the most borrowed at once since the pool opened (lanes:
                                 * the sum of each lane's, an upper bound) */
    int open;                   /* connections open now: idle, borrowed or being checked */
    int connecting;             /* connects in progress now */
    int waiting;                /* threads waiting in sqlpool_acquire() now, and requests */
    int max_open;               /* the configured cap (0: none) */
    long long closed;           /* connections closed, for any reason; the sum of these and of
                                 * the reasons at the end (closed_shrink ... closed_evicted): */
    long long closed_idle;      /*   idle longer than idle_timeout */
    long long closed_lifetime;  /*   older than max_lifetime */
    long long closed_broken;    /*   failed a check, or discarded by the caller */
    long long closed_max_idle;  /*   released (or ping-checked) while max_idle were idle */
    long long closed_pool;      /*   closed with the pool */
    long long discarded;        /* the same as closed_broken (kept for the original's JSON) */
    long long connect_retries;  /* connect attempts repeated after an error that could pass */
    long long connect_failures; /* connects that failed after their retries */
    long long acquires;         /* successful acquires */
    long long wait_count;       /* acquires that had to wait */
    long long timeouts;         /* acquires that timed out */
    double wait_seconds;        /* total time acquires spent waiting */
    /* Acquire waits in seconds over all acquires (zero for those that did not wait), from a
     * log-bucket histogram: */
    double wait_p50; /* the median */
    double wait_p90; /* the 90th percentile */
    double wait_p99; /* the 99th percentile */
    double wait_max; /* the longest */
    /* Two more reasons of closed (appended here, so the fields above keep their offsets): */
    long long closed_shrink;     /*   closed by sqlpool_shrink() */
    long long closed_close_idle; /*   closed by sqlpool_close_idle() */
    /* 0.2.0, two more reasons of closed: */
    long long discarded_by_hook; /*   on_acquire or on_release returned non-zero */
    long long closed_evicted;    /*   retired by sqlpool_evict() */
    /* 0.3.0, the WAL bound (config.wal_limit; SQLite file databases, else 0): */
    long long checkpoints;      /* TRUNCATE checkpoints run because the WAL passed wal_limit */
    long long checkpoints_busy; /*   of which could not finish: readers held on past the busy
                                 *   timeout (the WAL stays, tried again at the next commit) */
    long long wal_peak;         /* the largest WAL seen after a commit, in bytes (with
                                 * wal_limit 0 too; not once init_sql sets wal_autocheckpoint) */
    /* 0.3.0, PostgreSQL beyond one server: */
    long long read_fallbacks; /* reads served by db because read_db had no server to give */
    long long closed_role;    /* closed because the server's role no longer matched the pool's
                               * target_session_attrs (a promoted standby, a demoted primary);
                               * one more reason of closed */
    /* 0.5.0, config.group_commit: */
    long long group_commits; /* COMMITs that carried two or more sqlpool_write() transactions */
    long long grouped;       /*   the transactions they carried */
    /* New fields go here, at the end (see "Growing structs" below). */
#ifdef SQLPOOL_ABI_TEST_EXTRA
    long long abi_test_extra; /* only in the ABI test's second library: config.abi_test_extra */
#endif
} sqlpool_stats;

/* The result of sqlpool_conn_health(). */
typedef struct sqlpool_health {
    int healthy;      /* 1 healthy, 0 unhealthy */
    char backend[16]; /* "sqlite" */
    char version[64]; /* the database engine's version, when healthy */
    char error[256];  /* what failed, when unhealthy; "" otherwise */
} sqlpool_health;

/* The library's version string, e.g. "0.5.0". Static; thread-safe. */
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

/*
 * Growing structs. sqlpool_config and sqlpool_stats are allocated by the caller, and later
 * versions add fields to them; so the library is told the size of the caller's struct (the
 * cbSize convention) and touches only that many bytes: sqlpool_config_init_sized() writes the
 * defaults of the caller's fields only, sqlpool_open_sized() gives every field the caller's
 * struct lacks its default, sqlpool_stats_get_sized() writes the caller's fields only. A
 * program built against this header thus keeps working, unrebuilt, with any later 0.x
 * library. The names without _sized (sqlpool_config_init(), sqlpool_open(),
 * sqlpool_stats_get()) are static inline functions here that pass sizeof of this header's
 * struct, so code (C or C++) calls them as before and may take their address. The rule for
 * maintainers: new fields are appended at the end of a struct only; fields are never
 * reordered, removed, resized or given a new meaning; and a struct ends with its last field,
 * without tail padding (8-byte fields, or smaller ones in pairs), so that each version's
 * size differs.
 *
 * The _sized calls return SQLPOOL_EINVAL (and touch nothing) when size is smaller than the
 * first version's struct, larger than this library's (a program built against a newer header
 * than the library it runs with), or ends inside a field.
 */

/* Fill the first size bytes of cfg with the defaults documented on sqlpool_config. Returns
 * SQLPOOL_OK, or SQLPOOL_EINVAL for a NULL cfg or a size as above. Thread-safe (it touches
 * only *cfg). */
SQLPOOL_API int sqlpool_config_init_sized(sqlpool_config *cfg, size_t size);

/*
 * Create a pool from the first size bytes of cfg (every later field of the library's
 * sqlpool_config takes its default). Returns SQLPOOL_OK and sets *out, or an error and sets
 * *out to NULL: SQLPOOL_EINVAL when cfg, cfg->db or out is NULL, size is not one the library
 * accepts (see above), db is empty, a count is out of range
 * (max_idle < 1, max_connecting < 1, a negative one), a time is negative or not finite,
 * retry_backoff is over 60 s, or sqlite_vfs names no registered VFS; SQLPOOL_ENOMEM (also
 * when the maintenance thread cannot start); SQLPOOL_ECONNECT, SQLPOOL_EBROKEN or
 * SQLPOOL_EBUSY when ":memory:" cannot be set up or the first of min_idle connections cannot
 * be opened; SQLPOOL_ENOTSUP for a PostgreSQL db in a build without libpq. Otherwise
 * databases are not opened until needed. Starts the maintenance thread when an interval or
 * min_idle calls for one and no config.clock is set. The caller owns the pool and frees it
 * with sqlpool_close(). Thread-safe.
 */
SQLPOOL_API int sqlpool_open_sized(const sqlpool_config *cfg, size_t size, sqlpool **out);

/*
 * Borrow a connection: the most recently released idle one (counted as reused; checked first
 * if it sat idle longer than validation_bypass), else a new one (counted as created), opened
 * with retry and proven with "SELECT 1". When max_open connections are open, wait, first come
 * first served, for one to be released, up to acquire_timeout. Returns SQLPOOL_OK and sets
 * *out, or sets *out to NULL and returns SQLPOOL_EINVAL (NULL argument), SQLPOOL_ENOMEM,
 * SQLPOOL_ECONNECT (cannot be opened, and retrying will not help: missing folder or file,
 * permission denied), SQLPOOL_EBROKEN (the file is there but is not a usable database: not
 * a database, corrupt),
 * SQLPOOL_EBUSY (still busy after max_retries), SQLPOOL_ETIMEDOUT (the wait, or the connect
 * retries, reached the deadline; the message carries the pool's state or the last connect
 * error) or SQLPOOL_ECLOSED. The connection belongs to the
 * calling thread until sqlpool_release() or sqlpool_discard(). Thread-safe.
 *
 * sqlpool_acquire() is a macro that records the caller's file and line for leak warnings;
 * (sqlpool_acquire)(pool, out) calls the function itself.
 */
SQLPOOL_API int sqlpool_acquire(sqlpool *pool, sqlpool_conn **out);

/* As sqlpool_acquire(), waiting no later than deadline, a time on sqlpool_clock(). INFINITY
 * waits without limit; a deadline already past (-INFINITY too) still takes an idle
 * connection, or opens one if allowed (with no retry), but returns SQLPOOL_ETIMEDOUT at once
 * rather than wait; NaN is SQLPOOL_EINVAL. */
SQLPOOL_API int sqlpool_acquire_until(sqlpool *pool, sqlpool_conn **out, double deadline);

/* Pass as the deadline of sqlpool_acquire_at() for "now + acquire_timeout". */
#define SQLPOOL_DEADLINE_DEFAULT (-1.0)

/* What the macros call: deadline as for sqlpool_acquire_until() (or
 * SQLPOOL_DEADLINE_DEFAULT); file and line name the caller for leak warnings (file must
 * outlive the borrow: a string literal such as __FILE__; may be NULL). */
SQLPOOL_API int sqlpool_acquire_at(sqlpool *pool, sqlpool_conn **out, double deadline,
                                   const char *file, int line);

/* sqlpool_acquire(), recording the caller's file and line for leak warnings. */
#define sqlpool_acquire(pool, out)                                                                 \
    sqlpool_acquire_at((pool), (out), SQLPOOL_DEADLINE_DEFAULT, __FILE__, __LINE__)
/* A deadline is a time: -1.0 passed to sqlpool_acquire_until() is long past, not "default". */
static inline double sqlpool__deadline(double deadline) {
    return deadline == SQLPOOL_DEADLINE_DEFAULT ? 0.0 : deadline;
}
/* sqlpool_acquire_until(), recording the caller's file and line for leak warnings. */
#define sqlpool_acquire_until(pool, out, deadline)                                                 \
    sqlpool_acquire_at((pool), (out), sqlpool__deadline(deadline), __FILE__, __LINE__)

/*
 * Borrow an idle connection without ever waiting, connecting or a round trip to the server:
 * only one that needs no check first (idle no longer than validation_bypass, within its
 * lifetime; PostgreSQL's look at the socket, which does not block, still applies). One due a
 * check is left for the next sqlpool_acquire() or maintenance. SQLPOOL_OK, or SQLPOOL_EAGAIN
 * when none such is idle (or threads are already waiting, who come first), SQLPOOL_ECLOSED,
 * SQLPOOL_EINVAL. With validation_bypass 0 every idle connection is due a check, so this
 * returns SQLPOOL_EAGAIN. When nothing at all is idle, nobody waits and max_open leaves room,
 * it also asks the pool's job threads to open one connection (one at a time, within
 * acquire_timeout; put on the idle list), so that a later try finds it without min_idle.
 * Thread-safe.
 */
SQLPOOL_API int sqlpool_try_acquire(sqlpool *pool, sqlpool_conn **out);

/* The pool's monotonic clock, in seconds (config.clock, or the system's), for deadlines;
 * 0 for NULL. Thread-safe. */
SQLPOOL_API double sqlpool_clock(sqlpool *pool);

/*
 * Scoped use: acquire, call fn(conn, ctx), release, and return what fn returned; a
 * connection is released even when fn fails, and discarded when fn returns SQLPOOL_EBROKEN.
 * Returns the acquire's error when there is no connection (fn is not called), or
 * SQLPOOL_EINVAL for a NULL fn. Thread-safe, as sqlpool_acquire(); fn runs on the calling
 * thread and must not release conn itself.
 */
SQLPOOL_API int sqlpool_with(sqlpool *pool, sqlpool_fn fn, void *ctx);

/* Release *conn when it is not NULL, and set it to NULL: for SQLPOOL_SCOPED. conn itself
 * may be NULL. As thread-safe as sqlpool_release(). */
SQLPOOL_API void sqlpool_release_ptr(sqlpool_conn **conn);

/* With GCC and Clang, a connection variable that is released when it goes out of scope:
 *     SQLPOOL_SCOPED sqlpool_conn *conn = NULL;
 *     if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) return -1;
 *     ... every return from here on releases conn ... */
#if defined(__GNUC__) || defined(__clang__)
#define SQLPOOL_SCOPED __attribute__((cleanup(sqlpool_release_ptr)))
#endif

/*
 * Hand a connection back. An open transaction is rolled back, statements from
 * sqlpool_conn_prepare() are reset and their bindings cleared, and any other statement still
 * holding a transaction is reset; a connection that fails that (or the ping, with ping_on_release)
 * is closed, as is one past max_lifetime or one that would take the pool past max_idle. When
 * threads are waiting, the oldest gets it directly. conn must not be used afterwards: a second
 * release, or any use of a released handle, is caught (it is logged and ignored; calls that return
 * int return SQLPOOL_EMISUSE), as long as the pool is open. NULL is a no-op. Thread-safe (for
 * distinct connections).
 */
SQLPOOL_API void sqlpool_release(sqlpool_conn *conn);

/* Like sqlpool_release(), but the caller knows the connection is broken: close it, never
 * pool it. Counted in stats.discarded (and closed_broken). A released handle is caught as
 * for sqlpool_release(). NULL is a no-op. Thread-safe (for distinct connections). */
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

/*
 * Change the caps of an open pool: max_open (0: no cap) and max_idle (>= 1), as in
 * sqlpool_config. Growing max_open serves waiting acquires at once; shrinking closes idle
 * connections beyond the new caps now (counted in stats.closed_max_idle) and borrowed ones when
 * they come back, never taking one from its borrower; stats.max_open and max_idle report the
 * new caps. min_idle stays within the new caps. Returns SQLPOOL_OK, SQLPOOL_EINVAL
 * (nothing changed) for a NULL pool or a value out of range, or SQLPOOL_ECLOSED when the pool
 * is closing. Thread-safe.
 */
SQLPOOL_API int sqlpool_resize(sqlpool *pool, int max_open, int max_idle);

/*
 * Retire every connection open now: idle ones are closed at once, borrowed ones when they are
 * released; acquires from now on get connections opened after this call (counted in
 * stats.closed_evicted). For credential rotation (after sqlpool_set_db()), a schema change, or
 * after a failover. NULL is a no-op. Thread-safe.
 */
SQLPOOL_API void sqlpool_evict(sqlpool *pool);

/*
 * New connections of the pool use db from now on: a database string of the same backend as
 * the pool's (a PostgreSQL password rotation, another host); connections already open keep
 * theirs (follow with sqlpool_evict() to replace them). db is copied; its password never
 * appears in messages. Returns SQLPOOL_OK, SQLPOOL_EINVAL (nothing changed) for a NULL pool or
 * db, an empty one or one of another backend (or an in-memory SQLite pool, whose database
 * lives with the pool), SQLPOOL_ECLOSED when the pool is closing, or SQLPOOL_ENOMEM.
 * Thread-safe.
 */
SQLPOOL_API int sqlpool_set_db(sqlpool *pool, const char *db);

/*
 * One writer, many readers (config.single_writer). Code written once works with either kind
 * of pool: without single_writer every connection is the same, and the read calls below act
 * as their plain counterparts.
 *
 * sqlpool_acquire_read(), sqlpool_acquire_read_until(), sqlpool_acquire_read_at() and
 * sqlpool_try_acquire_read(): as sqlpool_acquire() and its variants (same arguments, errors,
 * deadlines and thread-safety), for a connection the caller only reads with. With
 * single_writer a reader (which cannot write, see config.single_writer), waiting in the
 * readers' own queue; without it, exactly sqlpool_acquire() and its variants. Release it with
 * sqlpool_release() as any other.
 */
/* A connection to read with: sqlpool_acquire() for reads (see above). */
SQLPOOL_API int sqlpool_acquire_read(sqlpool *pool, sqlpool_conn **out);
/* As sqlpool_acquire_read(), waiting no later than deadline (as sqlpool_acquire_until()). */
SQLPOOL_API int sqlpool_acquire_read_until(sqlpool *pool, sqlpool_conn **out, double deadline);
/* What the read macros call: deadline and the caller's file and line as for
 * sqlpool_acquire_at(). */
SQLPOOL_API int sqlpool_acquire_read_at(sqlpool *pool, sqlpool_conn **out, double deadline,
                                        const char *file, int line);
/* As sqlpool_try_acquire(), for a connection to read with (see above). */
SQLPOOL_API int sqlpool_try_acquire_read(sqlpool *pool, sqlpool_conn **out);
/* sqlpool_acquire_read(), recording the caller's file and line (as sqlpool_acquire());
 * (sqlpool_acquire_read)(pool, out) calls the function itself. */
#define sqlpool_acquire_read(pool, out)                                                            \
    sqlpool_acquire_read_at((pool), (out), SQLPOOL_DEADLINE_DEFAULT, __FILE__, __LINE__)
/* sqlpool_acquire_read_until(), recording the caller's file and line. */
#define sqlpool_acquire_read_until(pool, out, deadline)                                            \
    sqlpool_acquire_read_at((pool), (out), sqlpool__deadline(deadline), __FILE__, __LINE__)

/*
 * A write transaction in scope: borrow the writer (without single_writer, any connection, as
 * sqlpool_acquire()), begin ("BEGIN IMMEDIATE" on SQLite, which takes the write lock at once,
 * so that a database busy with another process's write waits out the busy timeout there and
 * never fails in the middle of the transaction; "BEGIN" on PostgreSQL), call fn(conn, ctx),
 * then commit when fn returned 0, or roll back when fn returned non-zero or the commit failed,
 * and release (discard when fn returned SQLPOOL_EBROKEN or the connection failed).
 * Returns 0 when the transaction committed; what fn returned when non-zero (rolled back); or
 * the pool's error: the acquire's, SQLPOOL_EBUSY when BEGIN IMMEDIATE stayed busy through the
 * busy timeout (fn not called; or the COMMIT did, outside WAL mode: rolled back),
 * SQLPOOL_EBROKEN when BEGIN or COMMIT failed otherwise, or when the connection was lost
 * during COMMIT (sqlpool_errmsg() then says the outcome is unknown)
 * (sqlpool_errmsg() says which, with the database's message; rolled back). SQLPOOL_EINVAL for a
 * NULL pool or fn; SQLPOOL_EMISUSE when fn returned 0 but had ended the transaction itself
 * (its own COMMIT or ROLLBACK). fn must not release conn, nor end the transaction. The
 * calling thread's sqlpool_errmsg() is cleared before fn runs, so after a non-zero return it
 * holds what fn's own failing sqlpool call left, or "". Thread-safe.
 */
SQLPOOL_API int sqlpool_write(sqlpool *pool, sqlpool_fn fn, void *ctx);

/*
 * A read transaction in scope: borrow a reader (sqlpool_acquire_read()), begin a transaction
 * in which every statement sees one snapshot of the database ("BEGIN" on SQLite, the
 * snapshot taken by the first read; "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" on
 * PostgreSQL), call fn(conn, ctx), end the transaction and release. Returns what fn
 * returned, or the pool's error as for sqlpool_write() (fn not called). Thread-safe.
 */
SQLPOOL_API int sqlpool_read(sqlpool *pool, sqlpool_fn fn, void *ctx);

/*
 * Event loops: a connection without blocking the calling thread.
 *
 * A request waits for a connection as a blocking acquire would, in the same first-come
 * first-served queue as the threads in sqlpool_acquire() and within its deadline, but no
 * thread waits for it: when it is served, its callback becomes ready, and the pool's event
 * fd turns readable. The program's loop watches the fd and calls sqlpool_dispatch(), which
 * runs the ready callbacks on the loop's thread, so the program needs no locks of its own.
 * Whatever a request needs that may block (a connect, a ping of a connection idle longer
 * than validation_bypass, config.on_acquire) runs on the pool's job threads, never on the
 * caller's: no call below blocks on I/O, nor on another thread for longer than a pool lock
 * is held. Release from the loop with sqlpool_release_async() (not sqlpool_release(), whose
 * reset, rollback or reset query is a round trip on the calling thread).
 *
 *     static void ready(int rc, sqlpool_conn *conn, void *ctx) {
 *         if (rc != SQLPOOL_OK) { ... sqlpool_strerror(rc) ... ; return; }
 *         ... use conn (PostgreSQL: PQsendQueryParams() on PQsocket(), watched by the loop) ...
 *         sqlpool_release_async(conn);
 *     }
 *     ... sqlpool_acquire_async(pool, SQLPOOL_DEADLINE_DEFAULT, ready, client, &client->req);
 *     ... epoll: EPOLLIN on sqlpool_event_fd(pool) -> sqlpool_dispatch(pool)
 */
typedef struct sqlpool_request sqlpool_request;
/* A request's outcome: rc SQLPOOL_OK and conn, the caller's until released (as from
 * sqlpool_acquire()); or an error (conn NULL): SQLPOOL_ETIMEDOUT at the deadline, what a
 * failed connect returned (as sqlpool_acquire()), or SQLPOOL_ECLOSED when the pool closed
 * first. */
typedef void (*sqlpool_ready_fn)(int rc, sqlpool_conn *conn, void *ctx);

/*
 * Ask for a connection by deadline (a time on sqlpool_clock(); SQLPOOL_DEADLINE_DEFAULT for
 * now + acquire_timeout; INFINITY for none): fn(rc, conn, ctx) runs exactly once, inside a
 * later sqlpool_dispatch() (never inside this call, even when a connection is idle now),
 * unless sqlpool_cancel() withdraws the request first. Sets *req (may be NULL when the
 * caller will never cancel) to the request, valid until its callback returns or
 * sqlpool_cancel() on it returns. Returns SQLPOOL_OK, or (fn never runs, *req NULL)
 * SQLPOOL_EINVAL (NULL pool or fn, NaN deadline), SQLPOOL_ENOMEM, SQLPOOL_ECLOSED.
 * Thread-safe; a request made from any thread is called back on the dispatching thread.
 * sqlpool_acquire_read_async(): the same for a connection to read with, as
 * sqlpool_acquire_read() (single_writer: a reader; config.read_db: a standby, falling back
 * to the primary as read_fallback says).
 */
SQLPOOL_API int sqlpool_acquire_async(sqlpool *pool, double deadline, sqlpool_ready_fn fn,
                                      void *ctx, sqlpool_request **req);
/* sqlpool_acquire_async() for a connection to read with (see above). */
SQLPOOL_API int sqlpool_acquire_read_async(sqlpool *pool, double deadline, sqlpool_ready_fn fn,
                                           void *ctx, sqlpool_request **req);

/*
 * Withdraw a request whose callback has not run: it never runs, and a connection already
 * granted to it goes back to the pool (by the job threads: no round trip here). Call it on
 * the thread that calls sqlpool_dispatch() (a callback may cancel other requests). Returns
 * SQLPOOL_OK; SQLPOOL_EINVAL for NULL; SQLPOOL_EMISUSE from inside the request's own
 * callback (too late: it runs). A request whose callback has returned is gone: do not pass
 * it.
 */
SQLPOOL_API int sqlpool_cancel(sqlpool_request *req);

/*
 * The pool's event fd: readable while callbacks are ready to run, level-triggered (it stays
 * readable until sqlpool_dispatch() has run them all), for epoll, poll, select, libuv's
 * uv_poll_t or libevent. An eventfd, or a pipe's read end where there is none. The pool owns
 * it: never read, write or close it; sqlpool_close() closes it (stop watching it first). In
 * the child of a fork() the pool makes a new one: ask again. Returns the fd, or -1 with
 * SQLPOOL_EINVAL (NULL pool) or SQLPOOL_ENOMEM (no descriptor left) in sqlpool_errmsg().
 * Thread-safe.
 */
SQLPOOL_API int sqlpool_event_fd(sqlpool *pool);

/*
 * Run the callbacks ready now, in the order they became ready, on the calling thread (one
 * thread at a time: the loop's); those that become ready meanwhile wait for the next call.
 * Returns how many ran (0 when none), or -1 for a NULL pool. A callback may make new
 * requests, cancel others, release connections, and call sqlpool_dispatch() again (it runs
 * the callbacks ready then).
 *
 * sqlpool_close() with requests pending: their callbacks run inside sqlpool_close() with
 * SQLPOOL_ECLOSED (a connection granted but not yet delivered goes back), on its calling
 * thread: close the pool from the loop's thread, and nothing is left to dispatch after.
 */
SQLPOOL_API int sqlpool_dispatch(sqlpool *pool);

/*
 * Give a connection back without a round trip or disk I/O on the calling thread. When its
 * reset needs none (SQLite outside a transaction; PostgreSQL idle, without pg_reset_query)
 * and no on_release or ping_on_release is set, it is released here, as sqlpool_release()
 * would (to a waiter or the idle list); else its reset (rollback, reset query, on_release)
 * and whatever follows run on the pool's job threads, and so does a close (a connection
 * past its lifetime, beyond max_idle). The handle is given up at once either way.
 * sqlpool_discard_async(): the same for sqlpool_discard() (its close always on a job
 * thread). After sqlpool_close() the work is done on the calling thread.
 */
SQLPOOL_API void sqlpool_release_async(sqlpool_conn *conn);
/* sqlpool_release_async() for a connection the caller knows is broken (see above). */
SQLPOOL_API void sqlpool_discard_async(sqlpool_conn *conn);

/* Lanes of a single_writer pool, for sqlpool_stats_get_lane_sized(). */
#define SQLPOOL_LANE_WRITE 1 /* the writer and its waiters */
#define SQLPOOL_LANE_READ 2  /* the readers and theirs */

/* The counters of one lane of a single_writer pool, as sqlpool_stats_get_sized() gives the
 * pool's (whose counts are the sum of both lanes'): acquires, waits, wait quantiles,
 * timeouts, connections and caps of the writer or of the readers apart (the WAL fields are
 * the pool's in both). Without single_writer, SQLPOOL_LANE_WRITE gives the whole pool's and
 * SQLPOOL_LANE_READ fails. Returns SQLPOOL_OK, or SQLPOOL_EINVAL (nothing written) for a NULL
 * pool or out, an unknown lane, or a size as above. Thread-safe. */
SQLPOOL_API int sqlpool_stats_get_lane_sized(sqlpool *pool, int lane, sqlpool_stats *out,
                                             size_t size);
#ifndef SQLPOOL__V1_ENTRY_POINTS
/* sqlpool_stats_get_lane_sized() for this header's sqlpool_stats. */
static inline int sqlpool_stats_get_lane(sqlpool *pool, int lane, sqlpool_stats *out) {
    return sqlpool_stats_get_lane_sized(pool, lane, out, sizeof *out);
}
#endif

/* Copy the pool's counters into the first size bytes of *out: one consistent snapshot.
 * Returns SQLPOOL_OK, or SQLPOOL_EINVAL (nothing written) for a NULL pool or out or a size as
 * above. Thread-safe. */
SQLPOOL_API int sqlpool_stats_get_sized(sqlpool *pool, sqlpool_stats *out, size_t size);

#ifndef SQLPOOL__V1_ENTRY_POINTS
/* Fill cfg with the defaults documented on sqlpool_config. cfg must not be NULL.
 * Thread-safe (it touches only *cfg). */
static inline void sqlpool_config_init(sqlpool_config *cfg) {
    (void)sqlpool_config_init_sized(cfg, sizeof *cfg);
}
/* sqlpool_open_sized() for this header's sqlpool_config. */
static inline int sqlpool_open(const sqlpool_config *cfg, sqlpool **out) {
    return sqlpool_open_sized(cfg, sizeof *cfg, out);
}
/* Copy the pool's counters into *out: one consistent snapshot. A NULL pool or out is a
 * no-op. Thread-safe. */
static inline void sqlpool_stats_get(sqlpool *pool, sqlpool_stats *out) {
    (void)sqlpool_stats_get_sized(pool, out, sizeof *out);
}
#else
/* The library's own exported functions of these names, for programs built against 0.1.0's
 * header (where they were functions): they take 0.1.0's struct sizes. */
SQLPOOL_API void sqlpool_config_init(sqlpool_config *cfg);
SQLPOOL_API int sqlpool_open(const sqlpool_config *cfg, sqlpool **out);
SQLPOOL_API void sqlpool_stats_get(sqlpool *pool, sqlpool_stats *out);
#endif

/* Formats for sqlpool_stats_format(): exactly one of them. */
#define SQLPOOL_FORMAT_JSON 1       /* one object: the CLI's pool_stats fields, plus "name" */
#define SQLPOOL_FORMAT_PROMETHEUS 2 /* the Prometheus text exposition format (0.0.4) */

/*
 * Write one snapshot of the pool's stats (sqlpool_stats_get()) into the caller's buf as text,
 * NUL-terminated; nothing is allocated.
 *
 * SQLPOOL_FORMAT_JSON: one object, without a trailing newline: "name", then every field of
 * sqlpool_stats, as the CLI reports them in pool_stats ("pool_size" is max_idle), as JSON
 * numbers.
 *
 * SQLPOOL_FORMAT_PROMETHEUS: every metric with # HELP and # TYPE, every sample labelled
 * pool_name="<config.name>", named after OpenTelemetry's db.client.connection.* conventions
 * (dots become underscores, units and _total become suffixes):
 *   db_client_connection_count{state="idle"|"used"}  gauge; used = open - idle (borrowed,
 *                                                     or being checked by the pool)
 *   db_client_connection_idle_max, _idle_min          gauges: config max_idle, min_idle
 *   db_client_connection_max                          gauge: config max_open; left out when
 *                                                     there is no cap (max_open 0)
 *   db_client_connection_pending_requests             gauge: threads waiting in acquire
 *   db_client_connection_timeouts_total               counter: acquires that timed out
 *   db_client_connection_wait_time_seconds            summary: quantiles 0.5, 0.9, 0.99;
 *                                                     _sum is wait_seconds (which includes
 *                                                     waits that timed out), _count acquires
 * and the pool's own:
 *   sqlpool_connections_created_total, sqlpool_connections_reused_total,
 *   sqlpool_connections_closed_total{reason="idle"|"lifetime"|"broken"|"max_idle"|"pool"|
 *                                    "shrink"|"close_idle"},
 *   sqlpool_connect_retries_total, sqlpool_connect_failures_total,
 *   sqlpool_acquire_waits_total (counters), sqlpool_connections_connecting,
 *   sqlpool_connections_used_peak, sqlpool_acquire_wait_max_seconds (gauges),
 *   sqlpool_read_fallbacks_total, sqlpool_group_commits_total and
 *   sqlpool_grouped_transactions_total (counters);
 *   on SQLite: sqlpool_wal_checkpoints_total, sqlpool_wal_checkpoints_busy_total (counters),
 *   sqlpool_wal_peak_bytes (gauge).
 * A single_writer pool gives pending_requests, timeouts_total, wait_time_seconds,
 * acquire_waits_total and acquire_wait_max_seconds by lane only, each sample labelled
 * lane="write" or lane="read" (sum them for the pool's); the JSON object then ends with
 * "lanes": {"write": {...}, "read": {...}}, each lane's connections, acquires and waits.
 * (No create_time or use_time: the pool does not measure them.)
 *
 * As snprintf: when needed is not NULL, *needed is set to the length of the whole text,
 * excluding the NUL. Returns SQLPOOL_OK when the text fit (needed < len); SQLPOOL_ENOMEM
 * when buf is too small: buf then holds the empty string (when len > 0), never a truncated
 * document; call again with at least *needed + 1 bytes (the counters may have grown
 * meanwhile: leave some room, or loop). buf may be NULL when len is 0, to ask the size.
 * SQLPOOL_EINVAL for a NULL pool, a NULL buf with len > 0, or a format that is not exactly
 * one of the above (buf then holds the empty string, when it can, and *needed is 0).
 * The caller owns buf. Thread-safe.
 */
SQLPOOL_API int sqlpool_stats_format(sqlpool *pool, int format, char *buf, size_t len,
                                     size_t *needed);

/*
 * Run one maintenance pass now, on the calling thread: close idle connections past
 * idle_timeout or max_lifetime, ping those due a keepalive, warn of leaks, and open
 * connections up to min_idle. The pool's maintenance thread does this on its own; call it
 * to drive a pool by a test clock. Returns SQLPOOL_OK, or SQLPOOL_EINVAL/SQLPOOL_ECLOSED.
 * Thread-safe.
 */
SQLPOOL_API int sqlpool_maintain(sqlpool *pool);

/*
 * Check a borrowed connection: SQLite reads the schema cookie (which touches the database file)
 * and runs "SELECT sqlite_version()". Returns SQLPOOL_OK and
 * fills *out with healthy=1 and the version, or returns SQLPOOL_EBROKEN with healthy=0 and
 * the error text (the connection should then be discarded), or SQLPOOL_EINVAL for NULL
 * arguments, or SQLPOOL_EMISUSE for a released handle. Not thread-safe: call it from the
 * thread that holds the connection, as every sqlpool_conn_* call.
 */
SQLPOOL_API int sqlpool_conn_health(sqlpool_conn *conn, sqlpool_health *out);

/*
 * The native SQLite handle of a borrowed connection, for the caller's own statements; NULL
 * for NULL, and NULL (logged, with sqlpool_errmsg() set) for a released handle. Owned by the
 * pool: do not sqlite3_close() it, and do not keep it past release. Statements the caller
 * prepares on it should be finalized before release (release resets any left holding a
 * transaction; the pool finalizes leftovers when it closes the connection). Call from the
 * thread that holds the connection.
 */
SQLPOOL_API sqlite3 *sqlpool_conn_sqlite(sqlpool_conn *conn);

/*
 * A prepared statement for sql on a borrowed connection, from the connection's cache (LRU,
 * prepared once with SQLITE_PREPARE_PERSISTENT), so a repeated statement is not re-prepared.
 * Returns SQLPOOL_OK and sets *out, or SQLPOOL_EINVAL (NULL arguments, or SQL that SQLite
 * refuses: the message says why), SQLPOOL_EMISUSE (released handle), SQLPOOL_ENOMEM, or
 * SQLPOOL_EBROKEN when the connection failed. A second call for the same sql in one borrow
 * returns the same statement, reset and with its bindings cleared. The statement is
 * owned by the connection: do not finalize it. It is reset and its bindings cleared on
 * release; do not use it after. Call from the thread that holds the connection.
 */
SQLPOOL_API int sqlpool_conn_prepare(sqlpool_conn *conn, const char *sql, sqlite3_stmt **out);

/*
 * The native libpq connection of a borrowed PostgreSQL connection; NULL for NULL, for a
 * SQLite connection, or for a released handle. Owned by the pool: do not PQfinish() it. Leave
 * it idle (no query in progress, results consumed) by release; a transaction left open is
 * rolled back, anything else closes the connection. Call from the thread that holds it.
 */
SQLPOOL_API PGconn *sqlpool_conn_pg(sqlpool_conn *conn);

/*
 * Run sql on a borrowed PostgreSQL connection with nparams text parameters ($1, $2, ...;
 * values[i] may be NULL for SQL NULL), as a named statement prepared once per connection and
 * kept in its cache (or, with pg_unnamed_statements, sent unnamed). A statement's name is a
 * hash of its text, the same on every connection, so that behind a transaction pooler
 * (pgbouncer) a name always means one text; one the server lost (SQLSTATE 26000) is
 * prepared again and retried once outside a transaction, and one that exists already
 * (42P05) is used. Behind a transaction pooler (detected once per connection) statements
 * inside a transaction are sent unnamed. config.statement_timeout, when set, bounds the call
 * as sqlpool_conn_pg_exec_until() does.
 * Returns SQLPOOL_OK and sets *out to the result, which the caller PQclear()s and whose
 * status the caller checks; or SQLPOOL_EINVAL (NULL arguments, SQL the server will not
 * prepare: the server's message in sqlpool_errmsg()), SQLPOOL_ENOTSUP (a SQLite
 * connection), SQLPOOL_EMISUSE (released handle), SQLPOOL_ETIMEDOUT (config.
 * statement_timeout passed: the query was cancelled; *out NULL), or SQLPOOL_EBROKEN: the
 * connection or the server's role is gone (the rule of sqlpool_conn_pg_check(): SQLSTATE
 * class 08, 57P01-57P03, 25006, or a fatal error without a SQLSTATE); the connection is
 * then closed on release, and *out is the result that said so (the caller PQclear()s it),
 * or NULL when none came; sqlpool_errmsg() has its message. With every other code *out is
 * NULL. Call from the thread that holds the connection.
 */
SQLPOOL_API int sqlpool_conn_pg_exec(sqlpool_conn *conn, const char *sql, int nparams,
                                     const char *const *values, PGresult **out);

/* As sqlpool_conn_pg_exec(), but the statement must end by deadline (a time on
 * sqlpool_clock(); INFINITY: no limit, whatever config.statement_timeout says): past it the
 * query is cancelled and SQLPOOL_ETIMEDOUT returned (*out NULL), and a connection whose
 * cancel did not take within a second is closed on release. The deadline bounds the prepare
 * too. A deadline already passed sends nothing (SQLPOOL_ETIMEDOUT); NaN is SQLPOOL_EINVAL. */
SQLPOOL_API int sqlpool_conn_pg_exec_until(sqlpool_conn *conn, const char *sql, int nparams,
                                           const char *const *values, double deadline,
                                           PGresult **out);

/* For results a program got from libpq itself on a borrowed connection (PQexec on
 * sqlpool_conn_pg()): SQLPOOL_EBROKEN, and the connection marked to be closed on release,
 * when res (NULL: none came) means the connection or the server's role is gone: SQLSTATE
 * class 08, 57P01-57P03, 25006 read_only_sql_transaction (the server is a standby now), or a
 * fatal error without a SQLSTATE ("server closed the connection unexpectedly"); else
 * SQLPOOL_OK. sqlpool_conn_pg_exec() applies the same rule to its own results. SQLPOOL_EINVAL
 * for a NULL conn, SQLPOOL_ENOTSUP for a SQLite one. */
SQLPOOL_API int sqlpool_conn_pg_check(sqlpool_conn *conn, const PGresult *res);

/* 1 when this build can serve PostgreSQL (it was built with libpq), else 0. Thread-safe. */
SQLPOOL_API int sqlpool_has_postgresql(void);

/* "postgresql" when db is a PostgreSQL URI or conninfo string, else "sqlite": which backend
 * a pool on db uses (whether or not this build has it). A NULL db reads as "". Thread-safe. */
SQLPOOL_API const char *sqlpool_db_backend(const char *db);

/* "sqlite" or "postgresql": the backend serving a pool; "" for NULL. Thread-safe. */
SQLPOOL_API const char *sqlpool_backend(sqlpool *pool);

/*
 * Copy a db string to out with every password replaced by "***" (the user info of a URI,
 * password= and sslpassword= in a URI query or a conninfo string), and so the value of any
 * keyword libpq may not know (a misspelt "passwrd=") and any stray word of a conninfo string
 * (the tail of an unquoted password), for logs and messages.
 * Always terminates out when len > 0, truncating if needed; returns the length the whole
 * masked string needs, as snprintf does. A NULL db reads as "". Thread-safe.
 */
SQLPOOL_API size_t sqlpool_db_mask(const char *db, char *out, size_t len);

/*
 * Copy free text that may quote a db string (libpq's PQerrorMessage(), a server's
 * 'database "..." does not exist') to out with the password of every postgres(ql):// URI in
 * it and every password= and sslpassword= value (spaces around the '=' too) replaced by
 * "***": for a program that prints libpq's own messages. As sqlpool_db_mask() for out, len,
 * the return and NULL. Thread-safe.
 */
SQLPOOL_API size_t sqlpool_text_mask(const char *text, char *out, size_t len);

/* The allocation functions given to sqlpool_set_allocator(). */
typedef struct sqlpool_allocator {
    void *(*malloc)(size_t size);             /* as malloc(3) */
    void *(*realloc)(void *ptr, size_t size); /* as realloc(3) */
    void (*free)(void *ptr);                  /* as free(3) */
} sqlpool_allocator;

/*
 * Where the library allocates its memory. Every allocation libsqlpool itself makes goes
 * through these (SQLite's, libpq's and the C library's own do not). A NULL a, or one with a
 * NULL member, restores the C library's malloc/realloc/free. Not thread-safe: call it before
 * any other sqlpool call, while no pool exists. malloc and realloc may return NULL: every
 * call then fails cleanly with SQLPOOL_ENOMEM.
 */
SQLPOOL_API void sqlpool_set_allocator(const sqlpool_allocator *a);

/*
 * A histogram of durations, the one the pool keeps for its acquire waits: log-linear buckets
 * (HdrHistogram-style), so any quantile is within 1/16 of the truth in constant memory and
 * constant time per sample. For callers' own latencies. Not synchronised: one per thread,
 * merged at the end.
 */
typedef struct sqlpool_histogram sqlpool_histogram;

/* A new empty histogram, or NULL when out of memory. Free it with sqlpool_histogram_free. */
SQLPOOL_API sqlpool_histogram *sqlpool_histogram_new(void);
/* Free h; NULL is a no-op. */
SQLPOOL_API void sqlpool_histogram_free(sqlpool_histogram *h);
/* Add one sample of the given seconds (negative counts as 0). */
SQLPOOL_API void sqlpool_histogram_record(sqlpool_histogram *h, double seconds);
/* Add every sample of from into into. */
SQLPOOL_API void sqlpool_histogram_merge(sqlpool_histogram *into, const sqlpool_histogram *from);
/* How many samples h holds. */
SQLPOOL_API long long sqlpool_histogram_count(const sqlpool_histogram *h);
/* The value in seconds at quantile q in [0, 1] (0 when empty; 1 gives the largest sample
 * exactly). */
SQLPOOL_API double sqlpool_histogram_quantile(const sqlpool_histogram *h, double q);

/*
 * Close the pool: threads waiting in sqlpool_acquire() return SQLPOOL_ECLOSED at once, idle
 * connections and the maintenance thread stop, then it waits up to close_timeout for borrowed
 * connections to come back, and frees everything. A connection still borrowed after that
 * keeps working until released, and the pool is freed with the last of them. NULL is a
 * no-op. No other call on the pool may start once this has been called, other than releases
 * of borrowed connections. Not from a hook (on_connect, on_acquire, on_release) that runs
 * on one of the pool's job threads for a request or sqlpool_release_async(): the close would
 * wait for the very work the hook is part of; it is refused there (logged, nothing done).
 */
SQLPOOL_API void sqlpool_close(sqlpool *pool);

#ifdef __cplusplus
}
#endif

#endif /* SQLPOOL_H */
