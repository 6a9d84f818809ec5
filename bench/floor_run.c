/*
 * floor_run.c: the floor for `sqlpool run`. The same SQLite work (one connection opened
 * with the pool's flags, BEGIN IMMEDIATE, CREATE TABLE, one prepared INSERT bound per row,
 * COMMIT, the SELECT streamed, close) and a byte-identical summary written to a temporary
 * file, fsynced and renamed into place, but on SQLite alone: no pool, no jansson, no stdio
 * on the hot paths. What `sqlpool run --quiet` costs beyond this is overhead.
 *
 * Usage: floor_run --input FILE --output FILE [--db PATH|:memory:] [--pool-size N] [--memdb]
 * (--quiet and --log-level VALUE are accepted and ignored, so both take the same command
 * line). --memdb opens ":memory:" the way the pool does (a named database in the memdb VFS)
 * instead of SQLite's plain ":memory:", to tell the two costs apart.
 *
 * Input is assumed valid: the CLI's NUL and UTF-8 checks are not repeated here.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_CAP (1 << 20)
#define IN_CAP (1 << 16)

/* \u escapes in lower-case hex ("\u00e9"), as Python and the CLI write them. */
static const char hex[] = "0123456789abcdef";

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void
die(const char *fmt, ...) {
    va_list ap;
    (void)fputs("floor_run: ", stderr);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
    exit(1);
}

/* ---- output: one buffer, write(2) when full ---- */

typedef struct out {
    int fd;
    size_t len;
    char buf[OUT_CAP];
} out;

static void out_flush(out *o) {
    size_t done = 0;
    while (done < o->len) {
        ssize_t n = write(o->fd, o->buf + done, o->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("write failed: %s", strerror(errno));
        done += (size_t)n;
    }
    o->len = 0;
}

/* Make room for need bytes (need <= OUT_CAP). */
static inline char *out_room(out *o, size_t need) {
    if (o->len + need > OUT_CAP) out_flush(o);
    return o->buf + o->len;
}

static void out_bytes(out *o, const char *p, size_t n) {
    if (n > OUT_CAP / 2) {
        out_flush(o);
        while (n > 0) {
            size_t k = n < OUT_CAP ? n : OUT_CAP;
            memcpy(o->buf, p, k);
            o->len = k;
            out_flush(o);
            p += k;
            n -= k;
        }
        return;
    }
    memcpy(out_room(o, n), p, n);
    o->len += n;
}

#define OUT_LIT(o, s) out_bytes((o), (s), sizeof(s) - 1)

static void out_int(out *o, long long v) {
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) *--p = '-';
    out_bytes(o, p, (size_t)(e - p));
}

static void put_u(char *p, unsigned cp) {
    p[0] = '\\';
    p[1] = 'u';
    p[2] = hex[(cp >> 12) & 15];
    p[3] = hex[(cp >> 8) & 15];
    p[4] = hex[(cp >> 4) & 15];
    p[5] = hex[cp & 15];
}

/* A JSON string with ensure_ascii escaping, quotes included. s is valid UTF-8. */
static void out_json_string(out *o, const unsigned char *s, size_t n) {
    size_t i = 0, run = 0;
    *out_room(o, 1) = '"';
    o->len++;
    while (i < n) {
        unsigned c = s[i];
        char *p;
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            continue;
        }
        out_bytes(o, (const char *)s + run, i - run);
        p = out_room(o, 12);
        if (c < 0x80) {
            char e = c == '"'    ? '"'
                     : c == '\\' ? '\\'
                     : c == '\n' ? 'n'
                     : c == '\t' ? 't'
                     : c == '\r' ? 'r'
                     : c == '\b' ? 'b'
                     : c == '\f' ? 'f'
                                 : 0;
            if (e) {
                p[0] = '\\';
                p[1] = e;
                o->len += 2;
            } else {
                put_u(p, c);
                o->len += 6;
            }
            i++;
        } else {
            unsigned cp;
            size_t k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
            cp = c & (k == 3 ? 0x07u : k == 2 ? 0x0fu : 0x1fu);
            for (size_t j = 1; j <= k && i + j < n; j++)
                cp = (cp << 6) | (s[i + j] & 0x3fu);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                put_u(p, 0xd800 | (cp >> 10));
                put_u(p + 6, 0xdc00 | (cp & 0x3ff));
                o->len += 12;
            } else {
                put_u(p, cp);
                o->len += 6;
            }
            i += k + 1;
        }
        run = i;
    }
    out_bytes(o, (const char *)s + run, n - run);
    *out_room(o, 1) = '"';
    o->len++;
}

/* ---- input: chunked reads, lines stripped like Python's str.strip() on ASCII ---- */

typedef struct in {
    int fd;
    int eof;
    long lineno;
    size_t start, end, cap;
    char *buf;
} in;

static int is_space(unsigned char c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
}

/* The next non-blank stripped line, or NULL at the end. */
static const char *next_label(in *r, size_t *len) {
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        size_t a = r->start, b;
        if (nl == NULL && !r->eof) {
            ssize_t n;
            if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->start = 0;
            }
            if (r->end == r->cap) {
                r->cap *= 2;
                if ((r->buf = realloc(r->buf, r->cap)) == NULL) die("out of memory");
            }
            n = read(r->fd, r->buf + r->end, r->cap - r->end);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) die("cannot read input: %s", strerror(errno));
            if (n == 0) r->eof = 1;
            r->end += (size_t)n;
            continue;
        }
        if (nl == NULL && r->start == r->end) return NULL;
        b = nl ? (size_t)(nl - r->buf) + 1 : r->end;
        r->start = b;
        if (++r->lineno == 1 && b - a >= 3 && memcmp(r->buf + a, "\xef\xbb\xbf", 3) == 0) a += 3;
        while (a < b && is_space((unsigned char)r->buf[a]))
            a++;
        while (b > a && is_space((unsigned char)r->buf[b - 1]))
            b--;
        if (a == b) continue;
        *len = b - a;
        return r->buf + a;
    }
}

/* ---- SQLite ---- */

static void sql_check(sqlite3 *db, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE) die("%s: %s", what, sqlite3_errmsg(db));
}

static sqlite3 *open_db(const char *path, int memdb) {
    static const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    int memory = strcmp(path, ":memory:") == 0;
    char name[96];
    sqlite3 *db = NULL;
    if (memory && memdb) {
        (void)snprintf(name, sizeof name, "file:/floor-mem-%ld?vfs=memdb", (long)getpid());
        path = name;
    }
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
        die("cannot open database '%s': %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    (void)sqlite3_extended_result_codes(db, 1);
    (void)sqlite3_busy_timeout(db, 5000);
    if (!memory)
        sql_check(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL),
                  "journal_mode");
    return db;
}

static long long load(sqlite3 *db, in *r) {
    sqlite3_stmt *ins;
    const char *label;
    size_t len;
    long long count = 0;
    sql_check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
    sql_check(db,
              sqlite3_exec(db,
                           "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, "
                           "label TEXT NOT NULL)",
                           NULL, NULL, NULL),
              "create");
    sql_check(db, sqlite3_prepare_v2(db, "INSERT INTO events (label) VALUES (?1)", -1, &ins, NULL),
              "prepare insert");
    while ((label = next_label(r, &len)) != NULL) {
        (void)sqlite3_bind_text(ins, 1, label, (int)len, SQLITE_STATIC);
        sql_check(db, sqlite3_step(ins), "insert");
        (void)sqlite3_reset(ins);
        count++;
    }
    (void)sqlite3_finalize(ins);
    sql_check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    return count;
}

static void dump_rows(sqlite3 *db, out *o) {
    sqlite3_stmt *sel;
    long long rows = 0;
    int rc;
    sql_check(db,
              sqlite3_prepare_v2(db, "SELECT id, label FROM events ORDER BY id", -1, &sel, NULL),
              "prepare select");
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const unsigned char *label = sqlite3_column_text(sel, 1);
        size_t len = (size_t)sqlite3_column_bytes(sel, 1);
        if (rows++) OUT_LIT(o, ",");
        OUT_LIT(o, "\n    {\n      \"id\": ");
        out_int(o, sqlite3_column_int64(sel, 0));
        OUT_LIT(o, ",\n      \"label\": ");
        out_json_string(o, label ? label : (const unsigned char *)"", len);
        OUT_LIT(o, "\n    }");
    }
    sql_check(db, rc, "select");
    (void)sqlite3_finalize(sel);
    if (rows)
        OUT_LIT(o, "\n  ],\n");
    else
        OUT_LIT(o, "],\n");
}

static void stat_line(out *o, const char *key, long long v) {
    OUT_LIT(o, "    \"");
    out_bytes(o, key, strlen(key));
    OUT_LIT(o, "\": ");
    out_int(o, v);
    OUT_LIT(o, ",\n");
}

/* The tail the CLI writes for a plain run: one connection created, reused once, closed. */
static void write_tail(out *o, long long pool_size) {
    const char *v = sqlite3_libversion();
    OUT_LIT(o, "  \"health\": {\n    \"status\": \"healthy\",\n    \"sqlite_version\": ");
    out_json_string(o, (const unsigned char *)v, strlen(v));
    OUT_LIT(o, "\n  },\n  \"pool_stats\": {\n");
    static const struct {
        const char *key;
        long long value; /* -1: pool_size */
    } ints[] = {{"created", 1},
                {"reused", 1},
                {"idle", 0},
                {"pool_size", -1},
                {"peak_in_use", 1},
                {"in_use", 0},
                {"open", 0},
                {"max_open", 0},
                {"connecting", 0},
                {"waiting", 0},
                {"closed", 1},
                {"closed_idle", 0},
                {"closed_lifetime", 0},
                {"closed_broken", 0},
                {"closed_max_idle", 0},
                {"closed_pool", 0},
                {"closed_shrink", 0},
                {"closed_close_idle", 1},
                {"discarded_by_hook", 0},
                {"closed_evicted", 0},
                {"discarded", 0},
                {"connect_retries", 0},
                {"connect_failures", 0},
                {"acquires", 2},
                {"wait_count", 0},
                {"timeouts", 0}};
    static const char *const reals[] = {"wait_seconds", "wait_p50", "wait_p90", "wait_p99",
                                        "wait_max"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        stat_line(o, ints[i].key, ints[i].value < 0 ? pool_size : ints[i].value);
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        OUT_LIT(o, "    \"");
        out_bytes(o, reals[i], strlen(reals[i]));
        OUT_LIT(o, "\": 0.0");
        if (i + 1 < sizeof reals / sizeof reals[0]) OUT_LIT(o, ",\n");
    }
    OUT_LIT(o, "\n  }\n}\n");
}

/* ---- the temporary file and the rename, as the CLI does them ---- */

static char *temp_path(const char *path) {
    size_t n = strlen(path) + 16;
    char *d = strdup(path), *b = strdup(path), *t = malloc(n);
    if (d == NULL || b == NULL || t == NULL) die("out of memory");
    (void)snprintf(t, n, "%s/.%s.XXXXXX", dirname(d), basename(b));
    free(d);
    free(b);
    return t;
}

static void commit(out *o, const char *tmp, const char *path) {
    char *d = strdup(path);
    int dfd;
    out_flush(o);
    if (fsync(o->fd) != 0 || close(o->fd) != 0 || rename(tmp, path) != 0)
        die("cannot write output '%s': %s", path, strerror(errno));
    if (d != NULL && (dfd = open(dirname(d), O_RDONLY | O_DIRECTORY)) >= 0) {
        (void)fsync(dfd);
        (void)close(dfd);
    }
    free(d);
}

int main(int argc, char **argv) {
    const char *input = NULL, *output = NULL, *dbpath = ":memory:";
    long long pool_size = 5, rows;
    int memdb = 0;
    static out o;
    in r = {0};
    char *tmp;
    mode_t mask;
    sqlite3 *db;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "run") == 0 || strcmp(a, "--quiet") == 0) continue;
        if (strcmp(a, "--memdb") == 0) {
            memdb = 1;
            continue;
        }
        if (v == NULL) die("%s needs a value", a);
        if (strcmp(a, "--input") == 0)
            input = v;
        else if (strcmp(a, "--output") == 0)
            output = v;
        else if (strcmp(a, "--db") == 0)
            dbpath = v;
        else if (strcmp(a, "--pool-size") == 0)
            pool_size = atoll(v);
        else if (strcmp(a, "--log-level") != 0)
            die("unknown argument '%s'", a);
        i++;
    }
    if (input == NULL || output == NULL)
        die("usage: floor_run --input FILE --output FILE "
            "[--db PATH] [--memdb]");

    r.cap = IN_CAP;
    if ((r.buf = malloc(r.cap)) == NULL) die("out of memory");
    if ((r.fd = open(input, O_RDONLY)) < 0)
        die("cannot read input '%s': %s", input, strerror(errno));
    tmp = temp_path(output);
    if ((o.fd = mkstemp(tmp)) < 0) die("cannot create output '%s': %s", output, strerror(errno));
    mask = umask(0);
    (void)umask(mask);
    (void)fchmod(o.fd, 0666 & ~mask);

    db = open_db(dbpath, memdb);
    rows = load(db, &r);
    (void)close(r.fd);
    free(r.buf);
    OUT_LIT(&o, "{\n  \"rows_inserted\": ");
    out_int(&o, rows);
    OUT_LIT(&o, ",\n  \"rows\": [");
    dump_rows(db, &o);
    (void)sqlite3_close(db);
    write_tail(&o, pool_size);
    commit(&o, tmp, output);
    free(tmp);
    return 0;
}
