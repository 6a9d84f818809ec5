/* internal.h: helpers shared by the library's files; nothing here is public. */
#ifndef SQLPOOL_INTERNAL_H
#define SQLPOOL_INTERNAL_H

#include "sqlpool.h"

#include <stdarg.h>

#if defined(__GNUC__)
#define SQLPOOL__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SQLPOOL__PRINTF(f, a)
#endif

/* Checked builds: the pool's books are verified after every change of a connection's state,
 * and every *_locked helper asserts that the calling thread holds the pool lock. On when the
 * build defines SQLPOOL_CHECK_BOOKS (CMake does for builds with tests) or lacks NDEBUG (Debug
 * builds); off in release builds and in the library the benchmarks link (SQLPOOL_NO_CHECKS),
 * where the hot path pays nothing for them. */
#if !defined(SQLPOOL_NO_CHECKS) && (defined(SQLPOOL_CHECK_BOOKS) || !defined(NDEBUG))
#define SQLPOOL__CHECKED 1
#define SQLPOOL__ASSERT(x) ((x) ? (void)0 : sqlpool__assert_fail(#x, __FILE__, __LINE__))
#else
#define SQLPOOL__ASSERT(x) ((void)0)
#endif
/* error.c: print the failed check and abort. */
_Noreturn void sqlpool__assert_fail(const char *what, const char *file, int line);

/* error.c: record the calling thread's last failure message (see sqlpool_errmsg) and return
 * code, so callers can write `return sqlpool__fail(SQLPOOL_EINVAL, "...")`. */
int sqlpool__fail(int code, const char *fmt, ...) SQLPOOL__PRINTF(2, 3);
void sqlpool__clear_error(void);

/* lifecycle.c, stats.c: sqlpool_open() and sqlpool_stats_get() on the library's full-size
 * structs (abi.c maps the caller's, of whatever version, onto these). cfg has passed
 * sqlpool__config_check. */
int sqlpool__open(const sqlpool_config *cfg, sqlpool **out);
/* lanes.c: sqlpool__open(), or with config.single_writer the writer and its read lane. */
int sqlpool__lanes_open(const sqlpool_config *cfg, sqlpool **out);
/* lanes.c: a pool's lane (SQLPOOL_LANE_WRITE: the pool itself; _READ: its read lane, NULL in
 * a plain pool), or NULL for another lane. */
sqlpool *sqlpool__lane_of(sqlpool *pool, int lane);
/* lanes.c, config.read_db with read_fallback (pool: the one the caller holds; 0 from both for
 * any other pool). sqlpool__read_skip_lane: 1 when the back-off after the read lane's failure
 * sends this read straight to pool (count it in read_fallbacks when served); 0 when the read
 * should try the read lane, which makes it the probe when the back-off is over.
 * sqlpool__read_falls_back: given the outcome rc of a read on readers (pool's read lane),
 * SQLPOOL_OK included (it ends the back-off), 1 when the read should be served by pool
 * instead (the read lane failed for want of a server; the failure starts or extends the
 * back-off), 0 when rc stands. Thread-safe, lock-free but for one look at readers' books
 * on SQLPOOL_ETIMEDOUT. */
int sqlpool__read_skip_lane(sqlpool *pool);
int sqlpool__read_falls_back(sqlpool *pool, sqlpool *readers, int rc);
void sqlpool__stats_fill(sqlpool *pool, sqlpool_stats *out);
/* stats.c: one lane's (the pool itself without its read lane). */
void sqlpool__stats_fill_lane(sqlpool *pool, sqlpool_stats *out);

/* log.c: format and emit one line when the config's log_level admits it. */
void sqlpool__log(const sqlpool_config *cfg, int level, const char *fmt, ...) SQLPOOL__PRINTF(3, 4);
static inline int sqlpool__log_enabled(const sqlpool_config *cfg, int level) {
    return cfg->log != NULL && level <= cfg->log_level;
}
/* Log without the cost of a call when the level is off: for the acquire/release path. */
#define SQLPOOL__LOG(cfg, level, ...)                                                              \
    do {                                                                                           \
        if (sqlpool__log_enabled((cfg), (level))) sqlpool__log((cfg), (level), __VA_ARGS__);       \
    } while (0)

/* backoff.c: the wait before retry number `attempt` (0-based): base * 2^attempt, scaled by
 * a random factor in [0.75, 1.25), so consecutive waits strictly grow (up to a cap of
 * SQLPOOL__MAX_WAIT seconds). */
#define SQLPOOL__MAX_WAIT 60.0
double sqlpool__backoff_delay(double base, int attempt);
/* A random number in [0, 1), from a per-thread generator: for jitter, not for secrets. */
double sqlpool__random_unit(void);
/* Sleep for a number of seconds on the monotonic clock, resuming after signals. */
void sqlpool__sleep(double seconds);

/* cpu.c: the processor the calling thread runs on (0 when unknown), and how many there are
 * (1 to 256). */
int sqlpool__cpu(void);
int sqlpool__cpus(void);

/* error.c: copy text to out with every control byte (below 0x20, and DEL) written as \xHH,
 * a C1 control in UTF-8 (U+0080..U+009F) as \u00HH and a backslash as \\, so a message or
 * log line built from a path or a server's words stays one line, cannot drive a terminal, and
 * reads back one way. Truncates on an escape's boundary; out is always terminated (len > 0).
 * out and text must not overlap. */
void sqlpool__escape_controls(const char *text, char *out, size_t len);
/* sqlpool_errmsg() before escaping: what the library's own messages and log lines quote (they
 * escape it once more as a whole). Thread-local, as sqlpool_errmsg() is. */
const char *sqlpool__errmsg_raw(void);

/* A snprintf that never fails to terminate and ignores truncation, for messages. */
void sqlpool__format(char *buf, size_t len, const char *fmt, ...) SQLPOOL__PRINTF(3, 4);

#endif
