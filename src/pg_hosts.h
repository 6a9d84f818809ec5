/*
 * pg_hosts.h: a PostgreSQL db string's hosts, tried by the pool itself (pg_hosts.c).
 *
 * libpq tries a multi-host string's hosts itself, but under PQconnectPoll it ignores
 * connect_timeout, so a silent first host holds the whole connect. The pool splits the string
 * (host=a,b port=p,q; postgresql://u@a:p,b:q/db) into one single-host attempt per host, each
 * with every other option, its own connect_timeout and target_session_attrs=any, and checks
 * target_session_attrs itself (pg_role.h).
 */
#ifndef SQLPOOL_PG_HOSTS_H
#define SQLPOOL_PG_HOSTS_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct sqlpool__pg_host {
    const char *host, *hostaddr, *port; /* NULL: none given for this host */
    char name[128];                     /* "host:port", for messages */
} sqlpool__pg_host;

typedef struct sqlpool__pg_hosts {
    PQconninfoOption *opts; /* the parsed string: every option but the host list is passed on */
    sqlpool__pg_host *hosts;
    int n;
    char *lists;            /* the host, hostaddr and port lists, split in place */
    int target;             /* SQLPOOL__PG_TARGET_*, -1 when the value is unknown */
    double connect_timeout; /* the string's connect_timeout in seconds; 0: none given */
    int random;             /* load_balance_hosts=random: try in a random order */
    const char *first;      /* the caller's: a host's name to try before the others, or NULL */
} sqlpool__pg_hosts;

/* A copy of db without its load_balance_hosts option (which libpq before 16 refuses to parse),
 * and *random set when it said "random". NULL when out of memory. The caller frees it with
 * sqlpool__free(). */
char *sqlpool__pg_strip_load_balance(const char *db, int *random);

/* Parse db into *out: SQLPOOL_OK, or SQLPOOL_EINVAL (a string libpq cannot parse, or host,
 * hostaddr and port lists of different lengths, an unknown target_session_attrs) / SQLPOOL_ENOMEM
 * with err, never showing a password. Free with sqlpool__pg_hosts_free (harmless on a failed
 * parse). */
int sqlpool__pg_hosts_parse(const char *db, sqlpool__pg_hosts *out, char *err, size_t errlen);
void sqlpool__pg_hosts_free(sqlpool__pg_hosts *h);
/* db's target_session_attrs (SQLPOOL__PG_TARGET_*), -1 when db does not parse. */
int sqlpool__pg_db_target(const char *db);

/* Connect to the first host that answers and serves h->target, in order (random with
 * load_balance_hosts=random), h->first (when it names one of them) before the others;
 * prefer-standby looks at every host for a standby before it takes a primary. *used is the
 * index of the host that served. Each attempt has its own timeout (h->connect_timeout, else timeout
 * seconds), all end by deadline (on sqlpool__pg_mono(); INFINITY for none). The connection has
 * answered a query and is in blocking mode. SQLPOOL_OK with *out; else *out NULL, err naming each
 * host tried and why it failed, *retriable 1 when another attempt may succeed (a host refused,
 * timed out, was starting or had the wrong role), and SQLPOOL_ETIMEDOUT when the deadline
 * ended it, SQLPOOL_ECONNECT or SQLPOOL_ENOMEM otherwise. */
int sqlpool__pg_hosts_connect(const sqlpool__pg_hosts *h, double timeout, double deadline,
                              PGconn **out, int *used, int *retriable, char *err, size_t errlen);

#endif
