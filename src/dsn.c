/* dsn.c: db string classification and password masking. */
#include "dsn.h"

#include <ctype.h>
#include <string.h>

/* libpq's connection keywords (PostgreSQL 15), for telling conninfo from a file name. */
static const char *const pg_keywords[] = {
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "requiressl",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "service",
    "target_session_attrs",
};

/* Later libpq keywords that hold no secret, and the URI's "ssl": their values are shown. (A
 * keyword in neither list may be a secret, a newer one or a misspelt "password": its value is
 * masked.) */
static const char *const pg_plain_keywords[] = {
    "ssl", "require_auth", "load_balance_hosts", "sslcertmode", "sslnegotiation", "gssdelegation",
};

static int is_uri(const char *db) {
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

static int known_keyword(const char *k, size_t n) {
    for (size_t i = 0; i < sizeof pg_keywords / sizeof pg_keywords[0]; i++)
        if (strlen(pg_keywords[i]) == n && strncmp(pg_keywords[i], k, n) == 0) return 1;
    return 0;
}

static int hex_digit(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static int secret_keyword(const char *k, size_t n);

/* A URI query keyword is percent-decoded by libpq before it is looked up: so here too. The
 * decoded length, or 0 when longer than any keyword. */
static size_t uri_keyword(const char *k, size_t n, char key[32]) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= 32) return 0; /* longer than any keyword */
        if (k[i] == '%' && i + 2 < n && hex_digit(k[i + 1]) >= 0 && hex_digit(k[i + 2]) >= 0) {
            key[o++] = (char)(hex_digit(k[i + 1]) * 16 + hex_digit(k[i + 2]));
            i += 2;
        } else {
            key[o++] = k[i];
        }
    }
    return o;
}

static int secret_uri_keyword(const char *k, size_t n) {
    char key[32];
    size_t o = uri_keyword(k, n, key);
    return o == 0 && n > 0 ? 0 : secret_keyword(key, o);
}

static int known_uri_keyword(const char *k, size_t n) {
    char key[32];
    size_t o = uri_keyword(k, n, key);
    return o > 0 && known_keyword(key, o);
}

/* password= and sslpassword=, and any keyword libpq may not know (its value could be a
 * password under a misspelt name): their values are masked. */
static int secret_keyword(const char *k, size_t n) {
    if ((n == 8 && strncmp(k, "password", 8) == 0) ||
        (n == 11 && strncmp(k, "sslpassword", 11) == 0))
        return 1;
    for (size_t i = 0; i < sizeof pg_plain_keywords / sizeof pg_plain_keywords[0]; i++)
        if (strlen(pg_plain_keywords[i]) == n && strncmp(pg_plain_keywords[i], k, n) == 0) return 0;
    return !known_keyword(k, n);
}

int sqlpool__dsn_is_pg(const char *db) {
    const char *p = db, *k;
    if (db == NULL) return 0;
    if (is_uri(db)) return 1;
    while (isspace((unsigned char)*p))
        p++;
    k = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (p == k || !known_keyword(k, (size_t)(p - k))) return 0;
    while (isspace((unsigned char)*p))
        p++;
    return *p == '=';
}

/* An output buffer that counts what it could not hold. */
typedef struct sink {
    char *out;
    size_t len, used;
} sink;

static void put(sink *s, const char *text, size_t n) {
    for (size_t i = 0; i < n; i++, s->used++)
        if (s->used + 1 < s->len) s->out[s->used] = text[i];
}

static void puts_(sink *s, const char *text) {
    put(s, text, strlen(text));
}

static size_t starts_with(const char *t, size_t n, const char *word) {
    size_t w = strlen(word);
    return n >= w && memcmp(t, word, w) == 0 ? w : 0;
}

/* The password of a URI in free text at t (n bytes from its "://"'s end): the user info ends
 * at the last '@' before a '/', a space or a quote. A raw '/' typed in the password (where %2F
 * belongs) makes a ':' with no '@' before the '/': then it ends at the last '@' before a space
 * or a quote and any '=' (more than libpq reads as the password, never less: a "h:5432/db@x"
 * is masked too). Returns the bytes read. */
static size_t mask_text_uri(sink *s, const char *t, size_t n) {
    size_t alen = 0, wlen = 0, at = n, colon = n;
    while (alen < n && strchr("/ \"'\n", t[alen]) == NULL)
        alen++;
    for (size_t i = 0; i < alen; i++)
        if (t[i] == '@') at = i;
    if (at == n && memchr(t, ':', alen) != NULL) {
        while (wlen < n && strchr(" \t\"'\n=", t[wlen]) == NULL)
            wlen++;
        for (size_t i = alen; i < wlen; i++)
            if (t[i] == '@') at = i;
        if (at != n) {
            alen = at;
            while (alen < n && strchr("/ \"'\n", t[alen]) == NULL)
                alen++;
        }
    }
    for (size_t i = 0; i < at && at < n; i++)
        if (t[i] == ':') {
            colon = i;
            break;
        }
    if (at == n || colon == n) {
        put(s, t, alen);
        return alen;
    }
    put(s, t, colon + 1);
    puts_(s, "***");
    put(s, t + at, alen - at);
    return alen;
}

/* The length of a password= / sslpassword= key at t, spaces around its '=' included (libpq
 * allows them: "password = x"), or 0. */
static size_t secret_key_at(const char *t, size_t n) {
    static const char *const keys[] = {"password", "sslpassword"};
    for (size_t k = 0; k < 2; k++) {
        size_t w = starts_with(t, n, keys[k]);
        if (w == 0) continue;
        while (w < n && (t[w] == ' ' || t[w] == '\t'))
            w++;
        if (w >= n || t[w] != '=') continue;
        for (w++; w < n && (t[w] == ' ' || t[w] == '\t');)
            w++;
        return w;
    }
    return 0;
}

/* Free text (a server message quoting a db string back, a db string nested in dbname=):
 * every postgres(ql):// URI's password and every password= / sslpassword= value masked. */
static void mask_text(sink *s, const char *t, size_t n) {
    static const char *const schemes[] = {"postgresql://", "postgres://"};
    size_t i = 0;
    while (i < n) {
        size_t w = 0;
        int boundary = i == 0 || !(isalnum((unsigned char)t[i - 1]) || t[i - 1] == '_');
        for (size_t k = 0; boundary && w == 0 && k < 2; k++)
            if ((w = starts_with(t + i, n - i, schemes[k])) > 0) {
                put(s, t + i, w);
                i += w;
                i += mask_text_uri(s, t + i, n - i);
            }
        if (boundary && w == 0 && (w = secret_key_at(t + i, n - i)) > 0) {
            size_t v = i + w;
            put(s, t + i, w);
            if (v < n && t[v] == '\'') {
                for (v++; v < n && t[v] != '\''; v++)
                    if (t[v] == '\\' && v + 1 < n) v++;
                if (v < n) v++;
            } else {
                while (v < n && strchr(" \"\n", t[v]) == NULL)
                    v++;
            }
            puts_(s, "***");
            i = v;
        }
        if (w == 0) put(s, t + i++, 1);
    }
}

size_t sqlpool__dsn_mask_text(const char *text, char *out, size_t len) {
    sink s = {out, len, 0};
    if (text == NULL) text = "";
    mask_text(&s, text, strlen(text));
    if (len > 0) out[s.used < len ? s.used : len - 1] = '\0';
    return s.used;
}

static int uri_key_is(const char *k, size_t n, const char *name);

/* The '@' that ends a URI's user info, as the masking reads it, or NULL. libpq ends it at an
 * '@' before any '/' ('?' and '#' may be in the password); with a password, the last '@'
 * before the '/' is taken (more than libpq reads as the password, never less). A ':' with no
 * '@' before the '/' may be a password holding a raw '/' (where %2F belongs; libpq then fails
 * on it as a port and may quote it): the last '@' before any '=' (the query's) ends it then
 * (so "h:5432/db@x" is masked as "h:***@x", never a password shown). */
static const char *uri_userinfo_at(const char *auth) {
    size_t ulen = strcspn(auth, "@/");
    const char *at = NULL;
    if (auth[ulen] == '@') {
        at = auth + ulen;
        if (memchr(auth, ':', ulen) != NULL)
            for (const char *c = at; c < auth + strcspn(auth, "/"); c++)
                if (*c == '@') at = c;
    } else if (auth[ulen] == '/' && memchr(auth, ':', ulen) != NULL) {
        for (const char *c = auth + ulen; c < auth + strcspn(auth, "="); c++)
            if (*c == '@') at = c;
    }
    return at;
}

/* A URI: user:PASSWORD@ in the authority, and password=/sslpassword= in the query. */
static void mask_uri(sink *s, const char *db) {
    const char *auth = strstr(db, "://") + 3;
    const char *at = uri_userinfo_at(auth), *q, *p;
    size_t alen;
    int after_secret = 0;

    alen = (size_t)((at != NULL ? at : auth) - auth) + strcspn(at != NULL ? at : auth, "/?#");
    put(s, db, (size_t)(auth - db));
    if (at != NULL) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon != NULL) {
            put(s, auth, (size_t)(colon - auth) + 1);
            puts_(s, "***");
            put(s, at, (size_t)(auth + alen - at));
        } else {
            put(s, auth, alen);
        }
    } else {
        put(s, auth, alen);
    }
    p = auth + alen;
    q = strchr(p, '?');
    if (q == NULL) {
        puts_(s, p);
        return;
    }
    put(s, p, (size_t)(q - p) + 1);
    for (p = q + 1; *p;) {
        size_t plen = strcspn(p, "&"); /* libpq ends a value only at '&': '#' is data */
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq != NULL ? (size_t)(eq - p) : plen;
        int secret = secret_uri_keyword(p, klen);
        /* After a secret, a raw '&' may have been meant inside it (for %26): an unknown name
         * that follows may be its rest, so it is masked too. */
        if (after_secret && secret && !known_uri_keyword(p, klen))
            puts_(s, "***");
        else
            put(s, p, klen);
        if (eq != NULL) {
            /* libpq reads a dbname holding '=' or a URI as a db string of its own: its
             * password may be inside, percent-encoded too. */
            int nested = uri_key_is(p, klen, "dbname") && strcspn(eq + 1, ":%=@") < plen - klen - 1;
            put(s, "=", 1);
            if (secret || nested)
                puts_(s, "***");
            else
                put(s, eq + 1, plen - klen - 1);
        }
        after_secret |= secret;
        p += plen;
        if (*p == '\0') break;
        put(s, p, 1);
        p++;
    }
}

/* The end of a conninfo value starting at p: a quoted one ends at its closing quote. */
static const char *value_end(const char *p) {
    if (*p == '\'') {
        for (p++; *p && *p != '\''; p++)
            if (*p == '\\' && p[1]) p++;
        return *p ? p + 1 : p;
    }
    while (*p && !isspace((unsigned char)*p))
        p += (*p == '\\' && p[1]) ? 2 : 1; /* a backslash escapes the next character */
    return p;
}

static void mask_conninfo(sink *s, const char *db) {
    const char *p = db;
    while (*p) {
        const char *k = p, *kend, *v;
        while (*p && !isspace((unsigned char)*p) && *p != '=')
            p++;
        kend = p;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=') { /* not key=value: maybe a piece of an unquoted value, so masked */
            if (kend > k) puts_(s, "***");
            put(s, kend, (size_t)(p - kend));
            if (p == k && *p) put(s, p++, 1); /* always move on */
            continue;
        }
        p++;
        while (isspace((unsigned char)*p))
            p++;
        v = p;
        p = value_end(v);
        put(s, k, (size_t)(v - k));
        if (secret_keyword(k, (size_t)(kend - k)))
            puts_(s, "***");
        else if (kend - k == 6 && memcmp(k, "dbname", 6) == 0)
            mask_text(s, v, (size_t)(p - v)); /* a db string of its own for libpq */
        else
            put(s, v, (size_t)(p - v));
        while (isspace((unsigned char)*p))
            put(s, p++, 1);
    }
}

/* A keyword as libpq would print it: short, printable, no quote or space. */
static int plain_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 64) return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '\'') return 0;
    return 1;
}

/* 1 when the query key k[0..n), percent-decoded as libpq decodes it, is name. */
static int uri_key_is(const char *k, size_t n, const char *name) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++, o++) {
        char c = k[i];
        if (c == '%' && i + 2 < n && hex_digit(k[i + 1]) >= 0 && hex_digit(k[i + 2]) >= 0) {
            c = (char)(hex_digit(k[i + 1]) * 16 + hex_digit(k[i + 2]));
            i += 2;
        }
        if (name[o] != c) return 0;
    }
    return name[o] == '\0';
}

/* The '?' that starts a URI's query, past the user info as mask_uri reads it
 * (uri_userinfo_at), or NULL. */
static const char *uri_query(const char *db) {
    const char *auth = strstr(db, "://") + 3, *at = uri_userinfo_at(auth);
    return strchr(at != NULL ? at : auth, '?');
}

/* In a URI a '&' typed inside a password (where %26 belongs) ends it there, so the piece after
 * it may be the password's rest: once a password (or any secret keyword) has come in the
 * query, no later name is shown. */
static int uri_option_shown(const char *db, const char *name) {
    const char *p = uri_query(db);
    int after_secret = 0;
    if (p == NULL) return 0;
    for (p++; *p != '\0';) {
        size_t plen = strcspn(p, "&");
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq != NULL ? (size_t)(eq - p) : plen;
        if (uri_key_is(p, klen, name)) return !after_secret;
        if (secret_uri_keyword(p, klen)) after_secret = 1;
        p += plen;
        if (*p == '&') p++;
    }
    return 0; /* not a keyword of the query: not what libpq named */
}

int sqlpool__dsn_option_shown(const char *db, const char *name) {
    const char *p = db;
    int after_bare_secret = 0;
    if (db == NULL || name == NULL || !plain_name(name)) return 0;
    if (is_uri(db)) return uri_option_shown(db, name);
    while (*p) {
        const char *k, *kend, *v;
        while (isspace((unsigned char)*p))
            p++;
        k = p;
        while (*p && !isspace((unsigned char)*p) && *p != '=')
            p++;
        kend = p;
        while (isspace((unsigned char)*p))
            p++;
        if (kend == k || *p != '=') return 0; /* not key=value: not what libpq named */
        if ((size_t)(kend - k) == strlen(name) && strncmp(k, name, strlen(name)) == 0)
            return !after_bare_secret;
        p++;
        while (isspace((unsigned char)*p))
            p++;
        v = p;
        p = value_end(v);
        /* An unquoted secret ends at a space: what follows may be the rest of it. */
        after_bare_secret = secret_keyword(k, (size_t)(kend - k)) && *v != '\'';
    }
    return 0;
}

size_t sqlpool__dsn_mask(const char *db, char *out, size_t len) {
    sink s = {out, len, 0};
    if (db == NULL) db = "";
    if (is_uri(db))
        mask_uri(&s, db);
    else if (sqlpool__dsn_is_pg(db))
        mask_conninfo(&s, db);
    else
        puts_(&s, db);
    if (len > 0) out[s.used < len ? s.used : len - 1] = '\0';
    return s.used;
}
