/* health.c: `sqlpool health`, a pg_isready-style check: prints the health JSON and exits
 * 0 when healthy; 1 when unhealthy: the check failed, the file is there but is not a database
 * or is corrupt, a SQLite database stayed busy, a server is starting, full or shutting down
 * or answered with an error (bad password, unknown database);
 * 2 when it cannot be reached (missing file or folder, permission, no server answering). The
 * database is opened read-only: a check never creates it or switches its journal mode, refuses
 * a file that is not a regular file, and leaves no -wal or -shm it did not find. On
 * PostgreSQL the pool tries the db string's hosts in turn, as any pool does; a healthy answer
 * also names the server that answered ("server": "host:port") and its role ("role": primary
 * or standby, "in_recovery"). */
#include "commands.h"
#include "exitcodes.h"
#include "health_files.h"
#include "jsonout.h"
#include "logger.h"
#include "report.h"

#include <jansson.h>
#ifdef SQLPOOL_CLI_HAVE_PG
#include <libpq-fe.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HEALTH_OK = 0, HEALTH_BAD = 1, HEALTH_UNREACHABLE = 2 };

/* The PostgreSQL server that answered: its host:port, role and pg_is_in_recovery(). */
typedef struct health_server {
    char name[300];
    int in_recovery; /* -1: not known (SQLite, or the question failed) */
} health_server;

static int print_health_server(const char *status, const char *key, const char *value,
                               const health_server *srv) {
    json_t *j = json_pack("{s:s, s:s}", "status", status, key, value);
    char *text = NULL;
    size_t cap = 0, len = 0;
    int rc = -1;
    if (j != NULL && srv != NULL && srv->name[0] != '\0')
        (void)json_object_set_new(j, "server", json_string(srv->name));
    if (j != NULL && srv != NULL && srv->in_recovery >= 0) {
        (void)json_object_set_new(j, "role", json_string(srv->in_recovery ? "standby" : "primary"));
        (void)json_object_set_new(j, "in_recovery", json_boolean(srv->in_recovery));
    }
    if (j != NULL && jsonout_dump(j, JSON_INDENT(2) | JSON_ENSURE_ASCII, &text, &cap, &len) == 0)
        rc =
            fwrite(text, 1, len, stdout) == len && fputc('\n', stdout) != EOF && fflush(stdout) == 0
                ? 0
                : -1;
    free(text);
    json_decref(j);
    return rc;
}

static int print_health(const char *status, const char *key, const char *value) {
    return print_health_server(status, key, value, NULL);
}

/* Which server answered on conn, and is it a standby? Nothing on SQLite. */
static void server_of(sqlpool_conn *conn, health_server *srv) {
    srv->name[0] = '\0';
    srv->in_recovery = -1;
#ifdef SQLPOOL_CLI_HAVE_PG
    PGconn *pg = sqlpool_conn_pg(conn);
    PGresult *res = NULL;
    if (pg == NULL) return;
    (void)snprintf(srv->name, sizeof srv->name, "%s:%s", PQhost(pg) ? PQhost(pg) : "?",
                   PQport(pg) ? PQport(pg) : "?");
    if (sqlpool_conn_pg_exec(conn, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL, &res) ==
            SQLPOOL_OK &&
        PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        srv->in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
#else
    (void)conn;
#endif
}

/* There but unusable (not a database, corrupt, a SQLite file that stays busy, a server that
 * is starting, full or going down) is unhealthy; no answer at all is unreachable, as with
 * pg_isready. */
static int open_failure_status(const char *db, int rc) {
    const char *msg = sqlpool_errmsg();
    if (rc == SQLPOOL_EBROKEN) return HEALTH_BAD;
    /* Connected, but --init-sql failed on it: the database is there. */
    if (rc == SQLPOOL_ECONNECT && strncmp(msg, "init_sql ", 9) == 0) return HEALTH_BAD;
    if (strcmp(sqlpool_db_backend(db), "sqlite") == 0)
        return rc == SQLPOOL_EBUSY ? HEALTH_BAD : HEALTH_UNREACHABLE;
    /* A server that answered with an error (bad password, unknown database) is there; so is
     * one in the wrong role for target_session_attrs (a standby asked to take writes). */
    if (strstr(msg, "FATAL") != NULL) return HEALTH_BAD; /* one host of several, too */
    if (strstr(msg, ", target_session_attrs=") != NULL) return HEALTH_BAD;
    if (rc != SQLPOOL_EBUSY) return HEALTH_UNREACHABLE;
    return strstr(msg, "starting up") || strstr(msg, "too many clients") ||
                   strstr(msg, "shutting down") || strstr(msg, "recovery mode")
               ? HEALTH_BAD
               : HEALTH_UNREACHABLE;
}

/* The check itself, once the files are noted. */
static int check(const cli_options *opts, const health_files *files) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *conn = NULL;
    sqlpool_health h;
    health_server srv;
    int rc, status;

    commands_pool_config(opts, &cfg);
    cfg.create = 0;   /* a check must not create the database it checks */
    cfg.readonly = 1; /* nor switch it to WAL */
    rc = sqlpool_open(&cfg, &pool);
    if (rc == SQLPOOL_EINVAL) {
        commands_error("%s", logger_errmsg());
        return EXIT_USAGE;
    }
    if (rc == SQLPOOL_OK) rc = sqlpool_acquire(pool, &conn);
    if (rc != SQLPOOL_OK) {
        status = open_failure_status(opts->db, rc);
        (void)print_health(status == HEALTH_BAD ? "unhealthy" : "unreachable", "error",
                           sqlpool_errmsg());
        sqlpool_close(pool);
        health_files_after(files);
        return status;
    }
    status = sqlpool_conn_health(conn, &h) == SQLPOOL_OK ? HEALTH_OK : HEALTH_BAD;
    server_of(conn, &srv);
    if (status == HEALTH_OK)
        sqlpool_release(conn);
    else
        sqlpool_discard(conn);
    sqlpool_close(pool);
    health_files_after(files);
    if (print_health_server(status == HEALTH_OK ? "healthy" : "unhealthy",
                            status == HEALTH_OK ? report_version_key(&h) : "error",
                            status == HEALTH_OK ? h.version : h.error, &srv) != 0) {
        commands_error("cannot write to standard output");
        return EXIT_IOERR;
    }
    return status;
}

int command_health(const cli_options *opts) {
    health_files files;
    char err[4300];
    if (health_files_before(opts->db, &files, err, sizeof err) != 0) {
        if (print_health("unhealthy", "error", err) != 0) {
            commands_error("cannot write to standard output");
            return EXIT_IOERR;
        }
        return HEALTH_BAD;
    }
    return check(opts, &files);
}
