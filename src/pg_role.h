/*
 * pg_role.h: what role a connected PostgreSQL server has (primary or standby, read-only or
 * not) and whether that matches a pool's target_session_attrs (pg_role.c). The pool checks
 * this itself after every connect, and libpq is always given target_session_attrs=any, so the
 * rule is the same whatever libpq version the program runs with. Used by the connect
 * (pg_connect.c, pg_hosts.c) and by the re-check of idle connections.
 */
#ifndef SQLPOOL_PG_ROLE_H
#define SQLPOOL_PG_ROLE_H

#include <libpq-fe.h>
#include <stddef.h>

/* target_session_attrs, as libpq 14+ spells them. */
enum {
    SQLPOOL__PG_TARGET_ANY = 0,
    SQLPOOL__PG_TARGET_READ_WRITE,
    SQLPOOL__PG_TARGET_READ_ONLY,
    SQLPOOL__PG_TARGET_PRIMARY,
    SQLPOOL__PG_TARGET_STANDBY,
    SQLPOOL__PG_TARGET_PREFER_STANDBY
};

/* What a server is. */
typedef struct sqlpool__pg_role {
    int in_recovery; /* 1: a standby (pg_is_in_recovery(), or in_hot_standby on 14+) */
    int read_only;   /* 1: new transactions are read-only (a standby, or
                      * default_transaction_read_only on) */
} sqlpool__pg_role;

/* A target_session_attrs value: its SQLPOOL__PG_TARGET_*, or -1 when unknown. NULL and ""
 * are SQLPOOL__PG_TARGET_ANY. */
int sqlpool__pg_target_parse(const char *value);
/* Its spelling ("read-write", ...); "any" for an unknown value. Static. */
const char *sqlpool__pg_target_name(int target);

/* Ask the server what it is. On PostgreSQL 14+ without a round trip, from the parameters the
 * server reports (in_hot_standby, default_transaction_read_only: as fresh as the last round
 * trip, since the server reports a change before its next ReadyForQuery); before 14 with one
 * query under deadline (on sqlpool__pg_mono()). The connection must be idle. 0, or -1 with
 * err when no answer came (the connection is then in an unknown state: close it). */
int sqlpool__pg_role_get(PGconn *pg, double deadline, sqlpool__pg_role *out, char *err,
                         size_t errlen);

/* Does a server of this role serve target? PREFER_STANDBY accepts both (the preference is the
 * connect's order of trying, not a rule for a connection already made). 1 or 0. */
int sqlpool__pg_role_fits(const sqlpool__pg_role *role, int target);

/* "primary" or "standby". Static. */
const char *sqlpool__pg_role_name(const sqlpool__pg_role *role);

/* The server pg is connected to and whether it serves target: 1 it does; 0 it does not, with
 * err saying why and naming the server ("127.0.0.1:5432 is a standby, target_session_attrs=
 * read-write wants a primary"); -1 no answer within deadline (err; close the connection).
 * ANY answers 1 without asking. Not thread-safe on one pg (libpq's rule). */
int sqlpool__pg_role_matches(PGconn *pg, int target, double deadline, char *err, size_t errlen);

/* "host:port" of the server pg is connected to (PQhost, PQport), into buf. */
void sqlpool__pg_server_name(PGconn *pg, char *buf, size_t len);

#endif
