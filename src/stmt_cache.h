/*
 * stmt_cache.h: a per-connection cache of prepared SQLite statements, keyed by SQL text.
 *
 * Entries are kept in LRU order and found through a small hash table. A statement handed out
 * to the borrower is marked in use until sqlpool__stmt_cache_release(); an entry in use is
 * never finalized, so the cache may grow past its capacity during a borrow and is trimmed
 * back (least recently used first) once the borrow ends. The backend's own statements live in
 * a separate key space ("internal"): they are never marked in use, and whoever steps one
 * resets it at once, so they never collide with a borrower's statement of the same text.
 *
 * Not thread-safe: a cache belongs to its connection, which one thread holds at a time.
 */
#ifndef SQLPOOL_STMT_CACHE_H
#define SQLPOOL_STMT_CACHE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sqlpool__stmt_entry sqlpool__stmt_entry;

typedef struct sqlpool__stmt_cache {
    sqlite3 *db;
    sqlpool__stmt_entry **buckets; /* hash chains; nbuckets is a power of two */
    uint32_t nbuckets;
    sqlpool__stmt_entry *mru; /* LRU list, most recently used first */
    sqlpool__stmt_entry *lru;
    sqlpool__stmt_entry *used; /* handed out since the last release: a stack */
    int count;                 /* entries, internal ones included */
    int internal;              /* internal entries: outside capacity, never evicted */
    int capacity;              /* entries kept once no borrow holds one; 0: none */
} sqlpool__stmt_cache;

/* Set up an empty cache for db keeping up to capacity (>= 0) statements. Returns SQLITE_OK,
 * or SQLITE_NOMEM (the cache is then empty and safe to fini). */
int sqlpool__stmt_cache_init(sqlpool__stmt_cache *cache, sqlite3 *db, int capacity);

/*
 * The statement for sql, prepared with SQLITE_PREPARE_PERSISTENT on a miss. internal = 0: for
 * the borrower; the statement is marked in use until the next release, and one handed out
 * earlier in the same borrow is reset and its bindings cleared first, so it always comes back
 * as if freshly prepared. internal = 1: for the backend itself, which must sqlite3_reset() it
 * after use. Returns SQLITE_OK and sets *out; else sets *out to NULL and returns SQLite's code
 * (message in sqlite3_errmsg), SQLITE_NOMEM, or SQLITE_EMPTY when sql holds no statement.
 * The cache owns the statement: never finalize it.
 */
int sqlpool__stmt_cache_get(sqlpool__stmt_cache *cache, const char *sql, int internal,
                            sqlite3_stmt **out);

/* Non-zero when release or trim has work to do: a statement was handed out since the last
 * release, or the cache is over capacity. The hot-path test of the backend's reset. */
static inline int sqlpool__stmt_cache_dirty(const sqlpool__stmt_cache *cache) {
    return cache->used != NULL || cache->count - cache->internal > cache->capacity;
}

/* End of a borrow: reset every statement handed out since the last release, clear its
 * bindings, and mark it no longer in use. */
void sqlpool__stmt_cache_release(sqlpool__stmt_cache *cache);

/* Finalize least recently used entries not in use until the cache is within capacity. */
void sqlpool__stmt_cache_trim(sqlpool__stmt_cache *cache);

/* Finalize every statement and free the cache; the db is left open. Safe on a cache whose
 * init failed. */
void sqlpool__stmt_cache_fini(sqlpool__stmt_cache *cache);

#endif
