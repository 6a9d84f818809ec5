/*
 * pg_hosts.c: a PostgreSQL db string's hosts, tried by the pool itself (see pg_hosts.h): the
 * split, one attempt per host under its own timeout (the handshake driven by PQconnectPoll
 * under our deadline, then a first query), and target_session_attrs checked after it.
 */
#include "pg_hosts.h"
#include "alloc.h"
#include "internal.h"
#include "pg_role.h"
#include "pg_wire.h"

#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define LB_KEY "load_balance_hosts"

/* ---- load_balance_hosts, which libpq before 16 does not know ---- */

/* In a key=value string: the value starting at p (quoted, or up to white space), decoded into
 * val; returns the end. */
static const char *kv_value(const char *p, char *val, size_t len) {
    size_t n = 0;
    int quoted = *p == '\'';
    if (quoted) p++;
    for (; *p != '\0'; p++) {
        if (quoted ? *p == '\'' : (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) break;
        if (*p == '\\' && p[1] != '\0') p++;
        if (n + 1 < len) val[n++] = *p;
    }
    val[n] = '\0';
    return quoted && *p == '\'' ? p + 1 : p;
}

static void strip_kv(const char *db, char *out, int *random) {
    const char *p = db;
    size_t o = 0;
    while (*p != '\0') {
        const char *start = p, *key, *end;
        size_t klen;
        char val[32];
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        key = p;
        while (*p != '\0' && *p != '=' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        klen = (size_t)(p - key);
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p != '=') { /* malformed: keep the rest as it is, for libpq to refuse */
            memcpy(out + o, start, strlen(start));
            o += strlen(start);
            break;
        }
        p++;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        end = kv_value(p, val, sizeof val);
        if (klen == strlen(LB_KEY) && strncmp(key, LB_KEY, klen) == 0) {
            *random = strcmp(val, "random") == 0;
        } else {
            memcpy(out + o, start, (size_t)(end - start));
            o += (size_t)(end - start);
        }
        p = end;
    }
    out[o] = '\0';
}

static void strip_uri(const char *db, char *out, int *random) {
    const char *q = strchr(db, '?'), *p;
    size_t o;
    int first = 1;
    if (q == NULL) {
        memcpy(out, db, strlen(db) + 1);
        return;
    }
    o = (size_t)(q - db);
    memcpy(out, db, o);
    for (p = q + 1; *p != '\0';) {
        size_t len = strcspn(p, "&");
        if (len > strlen(LB_KEY) && strncmp(p, LB_KEY "=", strlen(LB_KEY) + 1) == 0) {
            *random = len - strlen(LB_KEY) - 1 == 6 && strncmp(p + len - 6, "random", 6) == 0;
        } else if (len > 0) {
            out[o++] = first ? '?' : '&';
            memcpy(out + o, p, len);
            o += len;
            first = 0;
        }
        p += len;
        if (*p == '&') p++;
    }
    out[o] = '\0';
}

char *sqlpool__pg_strip_load_balance(const char *db, int *random) {
    char *out = sqlpool__malloc(strlen(db) + 2);
    int dummy;
    if (random == NULL) random = &dummy;
    *random = 0;
    if (out == NULL) return NULL;
    if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
        strip_uri(db, out, random);
    else
        strip_kv(db, out, random);
    return out;
}

/* ---- the split ---- */

static char *opt(const PQconninfoOption *opts, const char *key) {
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, key) == 0) return o->val;
    return NULL;
}

static int count_list(const char *s) {
    int n = 1;
    if (s == NULL || s[0] == '\0') return 0;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

/* Entry i of a comma-separated list split in place (entries are NUL-terminated one after
 * another): NULL when empty or absent. */
static const char *entry(const char *split, int n, int i) {
    const char *p = split;
    if (split == NULL || n == 0) return NULL;
    if (n == 1) i = 0; /* one port for every host */
    for (int k = 0; k < i; k++)
        p += strlen(p) + 1;
    return p[0] != '\0' ? p : NULL;
}

static char *split_copy(char **cursor, const char *s) {
    char *start = *cursor;
    if (s == NULL) return NULL;
    memcpy(start, s, strlen(s) + 1);
    for (char *p = start; *p; p++)
        if (*p == ',') *p = '\0';
    *cursor += strlen(s) + 1;
    return start;
}

static void name_host(sqlpool__pg_host *h) {
    const char *host = h->host ? h->host : h->hostaddr, *port = h->port;
    if (host == NULL) host = getenv("PGHOST");
    if (port == NULL) port = getenv("PGPORT");
    sqlpool__format(h->name, sizeof h->name, "%s:%s", host && host[0] ? host : "localhost",
                    port && port[0] ? port : "5432");
}

/* Every entry of a port list a number, as libpq requires (spaces around it allowed)? A URI's
 * port that is not is refused here, unquoted: it is most likely a password holding a raw
 * '/' ("postgresql://u:pa/ss@h/db" reads as host "u", port "pa"), which libpq's message
 * ('invalid integer value "pa" for connection option "port"') and the host's name "u:pa"
 * would show. */
static int ports_numeric(const char *ports) {
    const char *p = ports;
    if (ports == NULL) return 1;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        while (*p >= '0' && *p <= '9')
            p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ',' && *p != '\0') return 0;
        if (*p == ',') p++;
    }
    return 1;
}

int sqlpool__pg_hosts_parse(const char *db, sqlpool__pg_hosts *out, char *err, size_t errlen) {
    char *why = NULL, *stripped, *cursor, *hs, *as, *ps;
    const char *host, *addr, *port, *ct;
    int nh, na, np;
    size_t need;

    memset(out, 0, sizeof *out);
    if ((stripped = sqlpool__pg_strip_load_balance(db, &out->random)) == NULL) goto nomem;
    out->opts = PQconninfoParse(stripped, &why);
    sqlpool__free(stripped);
    if (out->opts == NULL) {
        int rc = why != NULL ? SQLPOOL_EINVAL : SQLPOOL_ENOMEM;
        PQfreemem(why);
        sqlpool__format(err, errlen, "the PostgreSQL connection string does not parse");
        return rc;
    }
    host = opt(out->opts, "host");
    addr = opt(out->opts, "hostaddr");
    port = opt(out->opts, "port");
    if ((strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0) &&
        !ports_numeric(port)) { /* a conninfo's port=x is what was typed: libpq names it */
        sqlpool__format(err, errlen,
                        "the connection string's port is not a number (not shown: it may be a "
                        "password's piece; in a URI a '/' in the password is written %%2F)");
        return SQLPOOL_EINVAL;
    }
    nh = count_list(host);
    na = count_list(addr);
    np = count_list(port);
    out->n = nh > 0 ? nh : na > 0 ? na : 1;
    if ((na > 0 && na != out->n) || (np > 1 && np != out->n)) {
        sqlpool__format(err, errlen,
                        "the connection string's %d hosts, %d host addresses and %d ports do not "
                        "match",
                        nh, na, np);
        return SQLPOOL_EINVAL;
    }
    out->target = sqlpool__pg_target_parse(opt(out->opts, "target_session_attrs"));
    if (out->target < 0) {
        sqlpool__format(err, errlen,
                        "target_session_attrs '%.40s' is not any, read-write, read-only, primary, "
                        "standby or prefer-standby",
                        opt(out->opts, "target_session_attrs"));
        return SQLPOOL_EINVAL;
    }
    ct = opt(out->opts, "connect_timeout");
    out->connect_timeout = ct != NULL ? strtod(ct, NULL) : 0;
    if (!(out->connect_timeout > 0) || !isfinite(out->connect_timeout)) out->connect_timeout = 0;
    need = (host ? strlen(host) + 1 : 0) + (addr ? strlen(addr) + 1 : 0) +
           (port ? strlen(port) + 1 : 0) + 1;
    out->lists = sqlpool__malloc(need);
    out->hosts = sqlpool__calloc((size_t)out->n, sizeof *out->hosts);
    if (out->lists == NULL || out->hosts == NULL) goto nomem;
    cursor = out->lists;
    hs = split_copy(&cursor, host);
    as = split_copy(&cursor, addr);
    ps = split_copy(&cursor, port);
    for (int i = 0; i < out->n; i++) {
        out->hosts[i].host = entry(hs, nh, i);
        out->hosts[i].hostaddr = entry(as, na, i);
        out->hosts[i].port = entry(ps, np, i);
        name_host(&out->hosts[i]);
    }
    return SQLPOOL_OK;
nomem:
    sqlpool__format(err, errlen, "out of memory");
    return SQLPOOL_ENOMEM;
}

int sqlpool__pg_db_target(const char *db) {
    sqlpool__pg_hosts h;
    char err[8];
    int target = sqlpool__pg_hosts_parse(db, &h, err, sizeof err) == SQLPOOL_OK ? h.target : -1;
    sqlpool__pg_hosts_free(&h);
    return target;
}

void sqlpool__pg_hosts_free(sqlpool__pg_hosts *h) {
    if (h == NULL) return;
    if (h->opts != NULL) PQconninfoFree(h->opts);
    sqlpool__free(h->hosts);
    sqlpool__free(h->lists);
    memset(h, 0, sizeof *h);
}

/* ---- one host ---- */

/* Start connecting to host i: our keepalive defaults first, so the string overrides them;
 * every option but the host list; the host's own; target_session_attrs=any (we check it). */
static PGconn *start(const sqlpool__pg_hosts *h, int i) {
    static const char *const skip[] = {"host", "hostaddr", "port", "target_session_attrs"};
    const sqlpool__pg_host *host = &h->hosts[i];
    const char **kw, **val;
    size_t n = 0, nopts = 0;
    PGconn *pg;
    for (const PQconninfoOption *o = h->opts; o->keyword != NULL; o++)
        nopts++;
    kw = sqlpool__calloc(nopts + 10, sizeof *kw);
    val = sqlpool__calloc(nopts + 10, sizeof *val);
    if (kw == NULL || val == NULL) {
        sqlpool__free(kw);
        sqlpool__free(val);
        return NULL;
    }
#define ADD(k, v) (kw[n] = (k), val[n] = (v), n++)
    ADD("keepalives", "1");
    ADD("keepalives_idle", "30");
    ADD("keepalives_interval", "10");
    ADD("keepalives_count", "3");
    for (const PQconninfoOption *o = h->opts; o->keyword != NULL; o++) {
        int skipped = o->val == NULL;
        for (size_t k = 0; !skipped && k < sizeof skip / sizeof skip[0]; k++)
            skipped = strcmp(o->keyword, skip[k]) == 0;
        if (!skipped) ADD(o->keyword, o->val);
    }
    if (host->host != NULL) ADD("host", host->host);
    if (host->hostaddr != NULL) ADD("hostaddr", host->hostaddr);
    if (host->port != NULL) ADD("port", host->port);
    ADD("target_session_attrs", "any");
#undef ADD
    kw[n] = val[n] = NULL;
    pg = PQconnectStartParams(kw, val, 0);
    sqlpool__free(kw);
    sqlpool__free(val);
    return pg;
}

/* Drive the handshake to its end under the deadline: 0 connected, -1 failed (err), 1 timed
 * out. */
static int handshake(PGconn *pg, double deadline, char *err, size_t errlen) {
    PostgresPollingStatusType s = PGRES_POLLING_WRITING;
    if (PQstatus(pg) == CONNECTION_BAD) {
        sqlpool__pg_message(pg, "connection failed", err, errlen);
        return -1;
    }
    for (;;) {
        int ready;
        if (s == PGRES_POLLING_OK) return 0;
        if (s == PGRES_POLLING_FAILED) {
            sqlpool__pg_message(pg, "connection failed", err, errlen);
            return -1;
        }
        ready =
            sqlpool__pg_wait_socket(pg, s == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (ready == 0) return 1;
        if (ready < 0) {
            sqlpool__pg_message(pg, "connection failed", err, errlen);
            return -1;
        }
        s = PQconnectPoll(pg);
    }
}

/* libpq's words without its 'connection to server at "h", port p failed: ' (we name the
 * host ourselves), on one line. */
static void short_message(PGconn *pg, char *err, size_t errlen) {
    char m[512];
    const char *f;
    sqlpool__pg_message(pg, "connection failed", m, sizeof m);
    f = strncmp(m, "connection to server ", 21) == 0 ? strstr(m, " failed: ") : NULL;
    sqlpool__format(err, errlen, "%s", f != NULL ? f + 9 : m);
}

/* Errors that can pass beyond pg_wire's: the server cannot take connections yet (57P03). */
static int retriable(const char *why) {
    return sqlpool__pg_retriable_message(why) || strstr(why, "not accepting connections") ||
           strstr(why, "cannot connect now") || strstr(why, "in recovery mode") ||
           strstr(why, "is starting up");
}

enum { TRY_OK, TRY_FAILED, TRY_TIMEOUT, TRY_NOMEM };

/* One attempt at host i until until. On TRY_OK *out is connected, has answered, and its role
 * is in *role. */
static int try_host(const sqlpool__pg_hosts *h, int i, double until, PGconn **out,
                    sqlpool__pg_role *role, int *retr, char *why, size_t whylen) {
    const char *name = h->hosts[i].name;
    double began = sqlpool__pg_mono();
    PGconn *pg = start(h, i);
    PGresult *r;
    char m[300] = "";
    int hs;
    *out = NULL;
    *retr = 0;
    if (pg == NULL) return TRY_NOMEM;
    hs = handshake(pg, until, m, sizeof m);
    if (hs == 0) {
        /* A first query, as before: the server really serves this database. */
        double left = until - sqlpool__pg_mono();
        r = left > 0 ? sqlpool__pg_exec_deadline(pg, "SELECT 1", left, m, sizeof m) : NULL;
        if (r == NULL)
            hs = sqlpool__pg_mono() >= until ? 1 : -1; /* -1: lost, m says how */
        else if (PQresultStatus(r) != PGRES_TUPLES_OK)
            hs = -1, short_message(pg, m, sizeof m);
        PQclear(r);
    }
    /* No answer in time is a timeout; an answer that is an error (a server before 14 that
     * refuses the query) is that server's failure. */
    role->in_recovery = role->read_only = 0; /* target any: not asked, not needed */
    if (hs == 0 && h->target != SQLPOOL__PG_TARGET_ANY &&
        sqlpool__pg_role_get(pg, until, role, m, sizeof m) != 0)
        hs = sqlpool__pg_mono() >= until ? 1 : -1;
    if (hs == 0) {
        *out = pg;
        return TRY_OK;
    }
    if (hs == 1) {
        sqlpool__format(why, whylen, "connect to %s timed out after %.1f s", name,
                        sqlpool__pg_mono() - began);
        *retr = 1;
    } else {
        if (m[0] == '\0' || strstr(m, "connection to server ") != NULL)
            short_message(pg, m, sizeof m);
        sqlpool__format(why, whylen, "%s: %s", name, m);
        *retr = retriable(m);
    }
    PQfinish(pg);
    return hs == 1 ? TRY_TIMEOUT : TRY_FAILED;
}

/* ---- every host ---- */

/* The order to try: as written, or shuffled (Fisher-Yates) for load_balance_hosts=random;
 * then h->first moved to the front. */
static void order_of(const sqlpool__pg_hosts *h, int *order) {
    for (int i = 0; i < h->n; i++)
        order[i] = i;
    for (int i = h->n - 1; h->random && i > 0; i--) {
        int j = (int)(sqlpool__random_unit() * (i + 1)), t;
        if (j > i) j = i;
        t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int k = 0; h->first != NULL && k < h->n; k++) {
        int t = order[k];
        if (strcmp(h->hosts[t].name, h->first) != 0) continue;
        memmove(order + 1, order, (size_t)k * sizeof *order);
        order[0] = t;
        break;
    }
}

/* Add one host's reason to err: in full for the first, and as much as fits after. */
static void add_reason(char *err, size_t errlen, const char *why) {
    size_t used = strlen(err);
    if (used == 0)
        sqlpool__format(err, errlen, "%s", why);
    else if (used + 3 < errlen)
        sqlpool__format(err + used, errlen - used, "; %s", why);
}

/* The last failure of a connect on this thread that the deadline did not cut, and that
 * connect's deadline: the core retries one acquire's connects on one thread under one
 * deadline, so when the deadline cuts the next attempt short ("timed out after 0.0 s"), the
 * error still says why the earlier ones failed (a wrong role, a refusal). */
static _Thread_local struct {
    double deadline;
    char why[200];
} previous;

static void remember(double deadline, int cut, char *err, size_t errlen) {
    char now[256];
    if (!cut) {
        previous.deadline = deadline;
        sqlpool__format(previous.why, sizeof previous.why, "%s", err);
        return;
    }
    if (!isfinite(deadline) || fabs(previous.deadline - deadline) > 0.005 ||
        previous.why[0] == '\0')
        return;
    sqlpool__format(now, sizeof now, "%s", err);
    sqlpool__format(err, errlen, "%s; then, at the deadline: %s", previous.why, now);
}

int sqlpool__pg_hosts_connect(const sqlpool__pg_hosts *h, double timeout, double deadline,
                              PGconn **out, int *used, int *retr, char *err, size_t errlen) {
    double each = h->connect_timeout > 0 ? h->connect_timeout : timeout;
    int *order = sqlpool__calloc((size_t)h->n, sizeof *order), k, timed_out = 0;
    PGconn *primary = NULL; /* prefer-standby: the first primary, taken if no standby answers */
    int primary_at = -1;

    *out = NULL;
    *used = -1;
    *retr = 0;
    err[0] = '\0';
    if (order == NULL) {
        sqlpool__format(err, errlen, "out of memory");
        return SQLPOOL_ENOMEM;
    }
    order_of(h, order);
    for (k = 0; k < h->n; k++) {
        int i = order[k], r, host_retr;
        double now = sqlpool__pg_mono(), until = now + each;
        sqlpool__pg_role role;
        PGconn *pg;
        char why[300];
        if (now >= deadline) {
            timed_out = 1;
            break;
        }
        if (until > deadline) until = deadline;
        r = try_host(h, i, until, &pg, &role, &host_retr, why, sizeof why);
        if (r == TRY_NOMEM) {
            sqlpool__format(err, errlen, "out of memory");
            *retr = 0;
            PQfinish(primary);
            sqlpool__free(order);
            return SQLPOOL_ENOMEM;
        }
        if (r == TRY_OK && h->target == SQLPOOL__PG_TARGET_PREFER_STANDBY && !role.in_recovery) {
            if (primary == NULL)
                primary = pg, primary_at = i;
            else
                PQfinish(pg);
            continue;
        }
        if (r == TRY_OK && !sqlpool__pg_role_fits(&role, h->target)) {
            (void)sqlpool__pg_role_matches(pg, h->target, until, why, sizeof why);
            PQfinish(pg);
            r = TRY_FAILED;
            host_retr = 1; /* a failover may change the server's role */
        }
        if (r == TRY_OK) {
            PQfinish(primary);
            sqlpool__free(order);
            *used = i;
            *out = pg;
            return SQLPOOL_OK;
        }
        if (r == TRY_TIMEOUT && until >= deadline) timed_out = 1;
        *retr |= host_retr;
        add_reason(err, errlen, why);
    }
    sqlpool__free(order);
    if (primary != NULL) {
        err[0] = '\0';
        *retr = 0;
        *used = primary_at;
        *out = primary;
        return SQLPOOL_OK;
    }
    if (k < h->n)
        add_reason(err, errlen,
                   err[0] ? "the deadline came before the other hosts"
                          : "connect timed out: no time left before the deadline");
    remember(deadline, timed_out, err, errlen);
    if (timed_out) {
        *retr = 0;
        return SQLPOOL_ETIMEDOUT;
    }
    return SQLPOOL_ECONNECT;
}
