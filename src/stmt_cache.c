/* stmt_cache.c: the per-connection prepared-statement cache (see stmt_cache.h). */
#include "stmt_cache.h"
#include "alloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct sqlpool__stmt_entry {
    sqlite3_stmt *stmt;
    uint32_t hash;
    int internal;                   /* the backend's own statement: never in use */
    int in_use;                     /* handed out since the last release (on the used stack) */
    sqlpool__stmt_entry *prev;      /* LRU list: towards mru */
    sqlpool__stmt_entry *next;      /* LRU list: towards lru */
    sqlpool__stmt_entry *chain;     /* next in the same hash bucket */
    sqlpool__stmt_entry *used_next; /* next on the used stack */
    char sql[];                     /* the key, a copy of the SQL text */
};

enum { min_buckets = 8, max_buckets = 1024 };

/* FNV-1a; also measures the text. */
static uint32_t hash_sql(const char *sql, size_t *len) {
    uint32_t h = 2166136261u;
    const unsigned char *p = (const unsigned char *)sql;
    for (; *p != '\0'; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    *len = (size_t)(p - (const unsigned char *)sql);
    return h;
}

static sqlpool__stmt_entry **bucket_of(sqlpool__stmt_cache *cache, uint32_t hash) {
    return &cache->buckets[hash & (cache->nbuckets - 1)];
}

int sqlpool__stmt_cache_init(sqlpool__stmt_cache *cache, sqlite3 *db, int capacity) {
    uint32_t n = min_buckets;
    while (n < max_buckets && capacity > 0 && n < (uint32_t)capacity)
        n *= 2;
    memset(cache, 0, sizeof *cache);
    cache->db = db;
    cache->capacity = capacity < 0 ? 0 : capacity;
    cache->buckets = sqlpool__calloc(n, sizeof(sqlpool__stmt_entry *));
    if (cache->buckets == NULL) return SQLITE_NOMEM;
    cache->nbuckets = n;
    return SQLITE_OK;
}

static void lru_unlink(sqlpool__stmt_cache *cache, sqlpool__stmt_entry *e) {
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        cache->mru = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        cache->lru = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(sqlpool__stmt_cache *cache, sqlpool__stmt_entry *e) {
    e->next = cache->mru;
    if (cache->mru != NULL) cache->mru->prev = e;
    cache->mru = e;
    if (cache->lru == NULL) cache->lru = e;
}

static sqlpool__stmt_entry *find(sqlpool__stmt_cache *cache, const char *sql, uint32_t hash,
                                 int internal) {
    sqlpool__stmt_entry *e = *bucket_of(cache, hash);
    for (; e != NULL; e = e->chain)
        if (e->hash == hash && e->internal == internal && strcmp(e->sql, sql) == 0) return e;
    return NULL;
}

/* Prepare sql and add it, most recently used. */
static int insert(sqlpool__stmt_cache *cache, const char *sql, size_t len, uint32_t hash,
                  int internal, sqlpool__stmt_entry **out) {
    sqlpool__stmt_entry *e;
    sqlpool__stmt_entry **bucket;
    int rc;

    *out = NULL;
    if (len >= INT_MAX) return SQLITE_TOOBIG;
    e = sqlpool__malloc(sizeof *e + len + 1);
    if (e == NULL) return SQLITE_NOMEM;
    memset(e, 0, sizeof *e);
    /* The length includes the terminator, which spares SQLite a copy. */
    rc =
        sqlite3_prepare_v3(cache->db, sql, (int)len + 1, SQLITE_PREPARE_PERSISTENT, &e->stmt, NULL);
    if (rc != SQLITE_OK || e->stmt == NULL) {
        sqlpool__free(e);
        return rc != SQLITE_OK ? rc : SQLITE_EMPTY;
    }
    memcpy(e->sql, sql, len + 1);
    e->hash = hash;
    e->internal = internal;
    bucket = bucket_of(cache, hash);
    e->chain = *bucket;
    *bucket = e;
    lru_push_front(cache, e);
    cache->count++;
    if (internal) cache->internal++;
    *out = e;
    return SQLITE_OK;
}

/* A statement handed out a second time in one borrow starts afresh, as a new prepare would. */
static void mark_in_use(sqlpool__stmt_cache *cache, sqlpool__stmt_entry *e) {
    if (e->in_use) {
        (void)sqlite3_reset(e->stmt);
        (void)sqlite3_clear_bindings(e->stmt);
        return;
    }
    e->in_use = 1;
    e->used_next = cache->used;
    cache->used = e;
}

int sqlpool__stmt_cache_get(sqlpool__stmt_cache *cache, const char *sql, int internal,
                            sqlite3_stmt **out) {
    size_t len;
    uint32_t hash = hash_sql(sql, &len);
    sqlpool__stmt_entry *e = find(cache, sql, hash, internal != 0);
    int rc = SQLITE_OK;

    *out = NULL;
    if (e == NULL) {
        rc = insert(cache, sql, len, hash, internal != 0, &e);
        if (rc != SQLITE_OK) return rc;
    } else if (e != cache->mru) {
        lru_unlink(cache, e);
        lru_push_front(cache, e);
    }
    if (!internal) mark_in_use(cache, e);
    *out = e->stmt;
    return SQLITE_OK;
}

void sqlpool__stmt_cache_release(sqlpool__stmt_cache *cache) {
    sqlpool__stmt_entry *e = cache->used;
    cache->used = NULL;
    while (e != NULL) {
        sqlpool__stmt_entry *next = e->used_next;
        (void)sqlite3_reset(e->stmt);
        (void)sqlite3_clear_bindings(e->stmt);
        e->in_use = 0;
        e->used_next = NULL;
        e = next;
    }
}

static void evict(sqlpool__stmt_cache *cache, sqlpool__stmt_entry *e) {
    sqlpool__stmt_entry **p = bucket_of(cache, e->hash);
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    lru_unlink(cache, e);
    cache->count--;
    (void)sqlite3_finalize(e->stmt);
    sqlpool__free(e);
}

void sqlpool__stmt_cache_trim(sqlpool__stmt_cache *cache) {
    sqlpool__stmt_entry *e = cache->lru;
    while (cache->count - cache->internal > cache->capacity && e != NULL) {
        sqlpool__stmt_entry *prev = e->prev;
        if (!e->in_use && !e->internal) evict(cache, e);
        e = prev;
    }
}

void sqlpool__stmt_cache_fini(sqlpool__stmt_cache *cache) {
    sqlpool__stmt_entry *e = cache->mru;
    while (e != NULL) {
        sqlpool__stmt_entry *next = e->next;
        (void)sqlite3_finalize(e->stmt);
        sqlpool__free(e);
        e = next;
    }
    sqlpool__free(cache->buckets);
    memset(cache, 0, sizeof *cache);
}
