/*
 * fuzz_dsn.c: db string classification and password masking (src/dsn.c and its public
 * wrappers). On any string: the backend agrees with sqlpool__dsn_is_pg, SQLite names come
 * back unchanged, and sqlpool_db_mask behaves as snprintf does for every buffer size. On URIs
 * and conninfo strings built from the input around a password P: the masked string is exactly
 * the expected one and never shows P.
 */
#include "dsn.h"
#include "sqlpool.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int line, const char *fmt, ...) {
    va_list ap;
    (void)fprintf(stderr, "fuzz_dsn.c:%d: invariant broken: ", line);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
    abort();
}
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) fail(__LINE__, __VA_ARGS__);                                                  \
    } while (0)

static void *xmalloc(size_t n) {
    void *p = malloc(n > 0 ? n : 1);
    CHECK(p != NULL, "out of memory");
    return p;
}

/* A growing string. */
typedef struct str {
    char *s;
    size_t len, cap;
} str;

static void add_n(str *b, const char *text, size_t n) {
    if (b->s == NULL || b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        CHECK(b->s != NULL, "out of memory");
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void add(str *b, const char *text) {
    add_n(b, text, strlen(text));
}

/* text percent-encoded: everything but RFC 3986's unreserved characters. */
static void add_pct(str *b, const char *text) {
    static const char hex[] = "0123456789ABCDEF";
    add(b, "");
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p) != NULL) {
            add_n(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            add_n(b, e, 3);
        }
    }
}

/* text as a conninfo value: bare when it can be, else quoted with \ and ' escaped. */
static void add_conninfo_value(str *b, const char *text, int always_quote) {
    int quote = always_quote || text[0] == '\0';
    for (const char *p = text; *p && !quote; p++)
        quote = isspace((unsigned char)*p) || *p == '\'' || *p == '\\';
    if (!quote) {
        add(b, text);
        return;
    }
    add(b, "'");
    for (const char *p = text; *p; p++) {
        if (*p == '\'' || *p == '\\') add(b, "\\");
        add_n(b, p, 1);
    }
    add(b, "'");
}

/* sqlpool_db_mask of db into a buffer of exactly len bytes (so ASan sees any overrun). */
static size_t mask_into(const char *db, size_t len, char **out) {
    size_t need;
    *out = xmalloc(len);
    if (len == 0) **out = 'X';
    need = sqlpool_db_mask(db, *out, len);
    if (len == 0) CHECK(**out == 'X', "mask wrote into a buffer of size 0");
    return need;
}

/* Classification and the snprintf contract; returns the fully masked string (caller frees). */
static char *check_any(const char *db) {
    static const size_t sizes[] = {0, 1, 7, 64, 4096};
    int is_pg = sqlpool__dsn_is_pg(db);
    const char *backend = sqlpool_db_backend(db);
    char *full, *part;
    size_t need;

    CHECK(is_pg == 0 || is_pg == 1, "sqlpool__dsn_is_pg returned %d", is_pg);
    CHECK(strcmp(backend, is_pg ? "postgresql" : "sqlite") == 0, "backend %s but is_pg %d", backend,
          is_pg);
    need = mask_into(db, 0, &full);
    free(full);
    CHECK(mask_into(db, need + 1, &full) == need, "mask's length changed with the buffer");
    CHECK(strlen(full) == need, "mask needs %zu but wrote %zu", need, strlen(full));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i], got;
        if (len == 0) continue;
        CHECK(mask_into(db, len, &part) == need, "mask into %zu returned another length", len);
        got = strnlen(part, len);
        CHECK(got < len, "mask into %zu left the buffer unterminated", len);
        CHECK(got == (need < len ? need : len - 1), "mask into %zu wrote %zu of %zu", len, got,
              need);
        CHECK(memcmp(part, full, got) == 0, "mask into %zu is not a prefix of the whole", len);
        free(part);
    }
    if (!is_pg) CHECK(strcmp(full, db) == 0, "a SQLite name was changed: '%s' -> '%s'", db, full);
    return full;
}

/* Mask db; it must give exactly `expected`, and never show the password in any of its forms
 * (raw, percent-encoded, quoted) when that is meaningful: 4 characters or more, no '*', and
 * not also part of the non-secret text. */
static void check_secret(const char *db, const char *expected, const char *password,
                         const char *const *forms, int nforms) {
    char *masked = check_any(db);
    CHECK(sqlpool__dsn_is_pg(db), "not PostgreSQL: '%s'", db);
    if (strlen(password) >= 4 && strchr(password, '*') == NULL) {
        for (int i = 0; i < nforms; i++)
            if (strstr(expected, forms[i]) == NULL)
                CHECK(strstr(masked, forms[i]) == NULL, "password '%s' shown: '%s' -> '%s'",
                      forms[i], db, masked);
    }
    CHECK(strcmp(masked, expected) == 0, "'%s' masked as '%s', expected '%s'", db, masked,
          expected);
    free(masked);
}

/* Build db and expected in parallel: pieces common to both, and the secret in each. */
typedef struct pair {
    str db, expected;
} pair;

static void both(pair *p, const char *text) {
    add(&p->db, text);
    add(&p->expected, text);
}

static void both_pct(pair *p, const char *text) {
    add_pct(&p->db, text);
    add_pct(&p->expected, text);
}

static void both_value(pair *p, const char *text) {
    add_conninfo_value(&p->db, text, 0);
    add_conninfo_value(&p->expected, text, 0);
}

static void secret(pair *p, const str *form) {
    add(&p->db, form->s);
    add(&p->expected, "***");
}

static void finish(pair *p, const char *password, const char *const *forms, int nforms) {
    check_secret(p->db.s, p->expected.s, password, forms, nforms);
    free(p->db.s);
    free(p->expected.s);
    memset(p, 0, sizeof *p);
}

/* text without the bytes in drop: a password as a user may paste it into a URI, unencoded. */
static void add_without(str *b, const char *text, const char *drop) {
    add(b, "");
    for (const char *p = text; *p; p++)
        if (strchr(drop, *p) == NULL) add_n(b, p, 1);
}

/* Also the forms that once leaked (corpus/fuzz_dsn/crash-conninfo-leading-space and
 * crash-uri-query-hash): a conninfo string starting with white space or with a bare word
 * before password=, and a '#' in an unencoded URI query password. */
#define FUZZ_DSN_KNOWN_LEAKS 1

static void check_built(const char *user, const char *password, const char *host) {
    str pct = {0}, raw = {0}, rawq = {0}, bare = {0}, quoted = {0};
    const char *forms[4], *raw_forms[2];
    pair p = {{0}, {0}};

    add_pct(&pct, password);
    add_without(&raw, password, "/@");
    add_without(&rawq, password, "&");
    add_conninfo_value(&bare, password, 0);
    add_conninfo_value(&quoted, password, 1);
    forms[0] = password, forms[1] = pct.s, forms[2] = bare.s, forms[3] = quoted.s;
    raw_forms[0] = raw.s, raw_forms[1] = rawq.s;

    /* postgresql://U:P@H/db */
    both(&p, "postgresql://"), both_pct(&p, user), both(&p, ":"), secret(&p, &pct);
    both(&p, "@"), both_pct(&p, host), both(&p, "/db");
    finish(&p, password, forms, 4);
    /* postgres://U:P@H:5432/db?sslmode=require&password=P&application_name=x */
    both(&p, "postgres://"), both_pct(&p, user), both(&p, ":"), secret(&p, &pct);
    both(&p, "@"), both_pct(&p, host), both(&p, ":5432/db?sslmode=require&password=");
    secret(&p, &pct), both(&p, "&application_name=x");
    finish(&p, password, forms, 4);
    /* postgresql://U:P@H?password=P (no path) */
    both(&p, "postgresql://"), both_pct(&p, user), both(&p, ":"), secret(&p, &pct);
    both(&p, "@"), both_pct(&p, host), both(&p, "?password="), secret(&p, &pct);
    finish(&p, password, forms, 4);
    /* postgresql://H/db?user=U&sslpassword=P&application_name=x, key percent-encoded too */
    both(&p, "postgresql://"), both_pct(&p, host), both(&p, "/db?user="), both_pct(&p, user);
    both(&p, "&sslpassword="), secret(&p, &pct), both(&p, "&pass%77ord="), secret(&p, &pct);
    both(&p, "&application_name=x");
    finish(&p, password, forms, 4);
    /* postgresql://U:P@H/db with P pasted unencoded ('?', '#', ':' and '%' included) */
    if (raw.len > 0) {
        both(&p, "postgresql://"), both_pct(&p, user), both(&p, ":"), secret(&p, &raw);
        both(&p, "@"), both_pct(&p, host), both(&p, "/db");
        finish(&p, raw.s, raw_forms, 1);
    }
    /* postgresql://H/db?password=P with P unencoded: libpq ends a query value at '&' only */
    if (FUZZ_DSN_KNOWN_LEAKS && rawq.len > 0) {
        both(&p, "postgresql://"), both_pct(&p, host), both(&p, "/db?password=");
        secret(&p, &rawq);
        finish(&p, rawq.s, raw_forms + 1, 1);
    }
    /* host=H password=P dbname=d */
    both(&p, "host="), both_value(&p, host), both(&p, " password="), secret(&p, &bare);
    both(&p, " dbname=d");
    finish(&p, password, forms, 4);
    /* password = 'P'  host=H */
    both(&p, "password = "), secret(&p, &quoted), both(&p, "  host="), both_value(&p, host);
    finish(&p, password, forms, 4);
    /* ' password=P' (libpq skips leading white space) */
    if (FUZZ_DSN_KNOWN_LEAKS) {
        both(&p, " password="), secret(&p, &bare), both(&p, " host="), both_value(&p, host);
        finish(&p, password, forms, 4);
    }
    /* dbname=d user=U sslpassword='P' */
    both(&p, "\tdbname=d user="), both_value(&p, user), both(&p, " sslpassword="),
        secret(&p, &quoted);
    finish(&p, password, forms, 4);

    free(pct.s), free(raw.s), free(rawq.s), free(bare.s), free(quoted.s);
}

/* The next NUL-separated part of data (NULs inside the last part are dropped). */
static char *next_part(const uint8_t **data, size_t *size, int last) {
    const uint8_t *nul = last ? NULL : memchr(*data, '\0', *size);
    size_t n = nul != NULL ? (size_t)(nul - *data) : *size, o = 0;
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        if ((*data)[i] != '\0') s[o++] = (char)(*data)[i];
    s[o] = '\0';
    *data += nul != NULL ? n + 1 : n;
    *size -= nul != NULL ? n + 1 : n;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *db = xmalloc(size + 1), *user, *password, *host;
    memcpy(db, data, size);
    db[size] = '\0';
    free(check_any(db));
    free(db);

    /* "USER\0PASSWORD\0HOST", or the whole input as the password. */
    if (memchr(data, '\0', size) != NULL) {
        user = next_part(&data, &size, 0);
        password = next_part(&data, &size, 0);
        host = next_part(&data, &size, 1);
    } else {
        user = strdup("app");
        password = next_part(&data, &size, 1);
        host = strdup("db.example.com");
        CHECK(user != NULL && host != NULL, "out of memory");
    }
    check_built(user, password, host);
    free(user), free(password), free(host);
    return 0;
}
