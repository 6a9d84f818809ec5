/*
 * pg_wire.c: libpq round trips under a deadline, for the PostgreSQL backend (backend_pg.c):
 * waiting on the socket, sending a query and collecting its last result within a timeout,
 * and the words of libpq's errors (which can pass, which mean the connection is gone).
 */
#include "pg_wire.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <time.h>

/* ---- time ---- */

double sqlpool__pg_mono(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wait until the socket is ready for events, or the deadline passes: 1 ready, 0 timeout,
 * -1 error. */
int sqlpool__pg_wait_socket(PGconn *pg, short events, double deadline) {
    struct pollfd p;
    p.fd = PQsocket(pg);
    p.events = events;
    if (p.fd < 0) return -1;
    for (;;) {
        double left = deadline - sqlpool__pg_mono();
        int ms, rc;
        if (left <= 0) return 0;
        ms = left > 3600 ? 3600000 : (int)ceil(left * 1000.0);
        p.revents = 0;
        rc = poll(&p, 1, ms);
        if (rc > 0) return 1;
        if (rc == 0 || errno == EINTR) continue; /* re-check the deadline */
        return -1;
    }
}

/* ---- errors ---- */

/* libpq's message, on one line and without its trailing newline. */
void sqlpool__pg_message(PGconn *pg, const char *fallback, char *err, size_t errlen) {
    const char *m = pg != NULL ? PQerrorMessage(pg) : NULL;
    size_t n;
    sqlpool__format(err, errlen, "%s", m != NULL && m[0] ? m : fallback);
    for (char *p = err, *q = err;; p++) {
        char ch = *p;
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
        if (ch == ' ' && q > err && q[-1] == ' ') continue; /* one space, not several */
        *q++ = ch;
        if (ch == '\0') break;
    }
    n = strlen(err);
    while (n > 0 && err[n - 1] == ' ')
        err[--n] = '\0';
}

/* Failures that can pass: the server is starting, full, going down, or not there yet. */
int sqlpool__pg_retriable_message(const char *msg) {
    static const char *const passing[] = {
        "Connection refused",
        "the database system is starting up",
        "the database system is shutting down",
        "the database system is in recovery mode",
        "the database system is not yet accepting connections",
        "too many clients already",
        "remaining connection slots are reserved",
        "server closed the connection unexpectedly",
        "timed out",
        "Connection reset by peer",
        "No route to host",
    };
    for (size_t i = 0; i < sizeof passing / sizeof passing[0]; i++)
        if (strstr(msg, passing[i]) != NULL) return 1;
    return 0;
}

/* A result says the connection itself is gone: SQLSTATE class 08, or the server's admin
 * shutdown / crash / cannot-connect-now (57P01-57P03). */
int sqlpool__pg_fatal_result(const PGresult *r) {
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL) return 0;
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
           strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

/* ---- round trips under a deadline ---- */

/* Wait, within timeout seconds, for what was just sent: flush it, then read every result.
 * Returns the last result (caller clears it) or NULL with err set. The connection is in
 * non-blocking mode meanwhile, so even the flush cannot outlive the deadline. */
PGresult *sqlpool__pg_await_last(PGconn *pg, int sent, double timeout, int *nresults, char *err,
                                 size_t errlen) {
    double deadline = sqlpool__pg_mono() + timeout;
    PGresult *last = NULL, *r;
    int flushed;

    if (!sent) {
        sqlpool__pg_message(pg, "cannot send the query", err, errlen);
        goto done;
    }
    while ((flushed = PQflush(pg)) == 1)
        if (sqlpool__pg_wait_socket(pg, POLLOUT, deadline) != 1) goto timeout;
    if (flushed < 0) {
        sqlpool__pg_message(pg, "cannot send the query", err, errlen);
        goto done;
    }
    for (;;) {
        while (PQisBusy(pg)) {
            if (sqlpool__pg_wait_socket(pg, POLLIN, deadline) != 1) goto timeout;
            if (!PQconsumeInput(pg)) {
                sqlpool__pg_message(pg, "connection lost", err, errlen);
                PQclear(last);
                last = NULL;
                goto done;
            }
        }
        if ((r = PQgetResult(pg)) == NULL) break;
        if (nresults != NULL) ++*nresults;
        PQclear(last);
        last = r;
    }
    if (last == NULL) sqlpool__format(err, errlen, "no result");
    goto done;
timeout:
    PQclear(last);
    last = NULL;
    sqlpool__format(err, errlen, "no answer within %.3f s", timeout);
done:
    (void)PQsetnonblocking(pg, 0); /* the borrower's own calls block, as libpq's do */
    return last;
}

PGresult *sqlpool__pg_exec_deadline(PGconn *pg, const char *sql, double timeout, char *err,
                                    size_t errlen) {
    (void)PQsetnonblocking(pg, 1);
    return sqlpool__pg_await_last(pg, PQsendQuery(pg, sql), timeout, NULL, err, errlen);
}

PGresult *sqlpool__pg_prepare_deadline(PGconn *pg, const char *name, const char *sql, int nparams,
                                       double timeout, char *err, size_t errlen) {
    (void)PQsetnonblocking(pg, 1);
    return sqlpool__pg_await_last(pg, PQsendPrepare(pg, name, sql, nparams, NULL), timeout, NULL,
                                  err, errlen);
}

/* Run a statement the pool needs to succeed; 0 when it did. */
