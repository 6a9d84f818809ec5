/*
 * pg_role.c: a PostgreSQL server's role and target_session_attrs (see pg_role.h). The same
 * tests libpq 14 makes, done by the pool so that every libpq version applies one rule.
 */
#include "pg_role.h"
#include "internal.h"
#include "pg_wire.h"

#include <string.h>

static const char *const target_names[] = {"any",     "read-write", "read-only",
                                           "primary", "standby",    "prefer-standby"};

int sqlpool__pg_target_parse(const char *value) {
    if (value == NULL || value[0] == '\0') return SQLPOOL__PG_TARGET_ANY;
    for (int i = 0; i < (int)(sizeof target_names / sizeof target_names[0]); i++)
        if (strcmp(value, target_names[i]) == 0) return i;
    return -1;
}

const char *sqlpool__pg_target_name(int target) {
    if (target < 0 || target >= (int)(sizeof target_names / sizeof target_names[0])) return "any";
    return target_names[target];
}

static int is_on(const char *v) {
    return v != NULL && (strcmp(v, "on") == 0 || strcmp(v, "true") == 0);
}

int sqlpool__pg_role_get(PGconn *pg, double deadline, sqlpool__pg_role *out, char *err,
                         size_t errlen) {
    const char *hot = PQparameterStatus(pg, "in_hot_standby");
    PGresult *r;
    double left = deadline - sqlpool__pg_mono();
    int ok;
    if (hot != NULL) { /* 14+: reported at start-up and on every change */
        out->in_recovery = is_on(hot);
        out->read_only =
            out->in_recovery || is_on(PQparameterStatus(pg, "default_transaction_read_only"));
        return 0;
    }
    if (left <= 0) {
        sqlpool__format(err, errlen, "no time left to ask the server's role");
        return -1;
    }
    r = sqlpool__pg_exec_deadline(pg,
                                  "SELECT pg_catalog.pg_is_in_recovery(), "
                                  "pg_catalog.current_setting('transaction_read_only')",
                                  left, err, errlen);
    ok =
        r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 2;
    if (ok) {
        out->in_recovery = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        out->read_only = out->in_recovery || is_on(PQgetvalue(r, 0, 1));
    } else if (r != NULL) {
        sqlpool__pg_message(pg, "cannot ask the server's role", err, errlen);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int sqlpool__pg_role_fits(const sqlpool__pg_role *role, int target) {
    switch (target) {
    case SQLPOOL__PG_TARGET_READ_WRITE: return !role->read_only;
    case SQLPOOL__PG_TARGET_READ_ONLY: return role->read_only;
    case SQLPOOL__PG_TARGET_PRIMARY: return !role->in_recovery;
    case SQLPOOL__PG_TARGET_STANDBY: return role->in_recovery;
    default: return 1; /* any, prefer-standby */
    }
}

const char *sqlpool__pg_role_name(const sqlpool__pg_role *role) {
    return role->in_recovery ? "standby" : "primary";
}

void sqlpool__pg_server_name(PGconn *pg, char *buf, size_t len) {
    const char *h = PQhost(pg), *p = PQport(pg);
    sqlpool__format(buf, len, "%s:%s", h != NULL && h[0] ? h : "localhost",
                    p != NULL && p[0] ? p : "5432");
}

/* What target wants, in words, for the error. */
static const char *wanted(int target) {
    switch (target) {
    case SQLPOOL__PG_TARGET_READ_WRITE: return "a server that accepts writes";
    case SQLPOOL__PG_TARGET_READ_ONLY: return "a read-only server";
    case SQLPOOL__PG_TARGET_PRIMARY: return "a primary";
    default: return "a standby";
    }
}

int sqlpool__pg_role_matches(PGconn *pg, int target, double deadline, char *err, size_t errlen) {
    sqlpool__pg_role role;
    char name[200], why[200];
    if (target == SQLPOOL__PG_TARGET_ANY || target == SQLPOOL__PG_TARGET_PREFER_STANDBY) return 1;
    sqlpool__pg_server_name(pg, name, sizeof name);
    if (sqlpool__pg_role_get(pg, deadline, &role, why, sizeof why) != 0) {
        sqlpool__format(err, errlen, "%s: %s", name, why);
        return -1;
    }
    if (sqlpool__pg_role_fits(&role, target)) return 1;
    /* A primary that is read-only by default_transaction_read_only is not "a standby". */
    sqlpool__format(err, errlen, "%s is a %s%s, target_session_attrs=%s wants %s", name,
                    role.read_only && !role.in_recovery ? "read-only " : "",
                    sqlpool__pg_role_name(&role), sqlpool__pg_target_name(target),
                    target == SQLPOOL__PG_TARGET_READ_WRITE && role.in_recovery ? "a primary"
                                                                                : wanted(target));
    return 0;
}
