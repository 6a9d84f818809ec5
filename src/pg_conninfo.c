/*
 * pg_conninfo.c: a PostgreSQL db string checked before it is used (sqlpool_open(),
 * sqlpool_set_db()): libpq's parse, its error masked (no password, no value shown), and the
 * host lists' shape (pg_hosts.c). Below backend_pg.c and pg_connect.c.
 */
#include "backend_pg.h"
#include "alloc.h"
#include "dsn.h"
#include "internal.h"
#include "pg_hosts.h"

#include <string.h>

/* libpq's parse error, with every double-quoted part (where it quotes the string, a token
 * of the password, or a value) replaced by "***", on one line. */
static void quoted_masked(const char *why, char *out, size_t len) {
    size_t o = 0;
    int in_quote = 0;
    for (const char *p = why; *p && o + 6 < len; p++) {
        if (*p == '"') {
            in_quote = !in_quote;
            if (in_quote) {
                memcpy(out + o, "\"***", 4);
                o += 4;
            } else {
                out[o++] = '"';
            }
        } else if (!in_quote) {
            char ch = *p;
            if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
            out[o++] = ch;
        }
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* libpq's parse error, masked. The keyword it does not know is named (its value never is:
 * libpq does not quote it), unless that word might be part of a password. */
static void parse_error_masked(const char *db, const char *why, char *out, size_t len) {
    static const char *const unknown[] = {"invalid connection option \"",
                                          "invalid URI query parameter: \""};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *start = why + strlen(unknown[i]), *end;
        char name[80];
        size_t nlen;
        if (strncmp(why, unknown[i], strlen(unknown[i])) != 0) continue;
        end = strchr(start, '"');
        /* The whole message is prefix, name, quote (and libpq's newline). */
        if (end == NULL || strcmp(end + 1 + strspn(end + 1, "\n"), "") != 0) break;
        nlen = (size_t)(end - start);
        if (nlen >= sizeof name) break;
        memcpy(name, start, nlen);
        name[nlen] = '\0';
        if (!sqlpool__dsn_option_shown(db, name)) break;
        sqlpool__format(out, len, "%s%s\"", unknown[i], name);
        return;
    }
    quoted_masked(why, out, len);
}

/* Refuse a malformed db string, with libpq's own words (masked). */
int sqlpool__pg_db_parses(const char *db, char *err, size_t errlen) {
    char *why = NULL, *plain = sqlpool__pg_strip_load_balance(db, NULL); /* libpq < 16 */
    PQconninfoOption *opts = plain != NULL ? PQconninfoParse(plain, &why) : NULL;
    sqlpool__pg_hosts hosts;
    sqlpool__free(plain);
    if (opts == NULL) {
        char masked[512], reason[256];
        (void)sqlpool__dsn_mask(db, masked, sizeof masked);
        parse_error_masked(db, why ? why : "out of memory", reason, sizeof reason);
        int rc = why != NULL ? SQLPOOL_EINVAL : SQLPOOL_ENOMEM;
        sqlpool__format(err, errlen, "invalid PostgreSQL connection string '%s': %s", masked,
                        reason);
        PQfreemem(why);
        return rc;
    }
    PQconninfoFree(opts);
    /* The host lists' lengths and target_session_attrs, which libpq checks only at connect. */
    int hosts_rc = sqlpool__pg_hosts_parse(db, &hosts, err, errlen);
    sqlpool__pg_hosts_free(&hosts);
    return hosts_rc;
}
