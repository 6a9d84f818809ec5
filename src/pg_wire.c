/*
 * pg_wire.c: libpq round trips under a deadline, for the PostgreSQL backend (backend_pg.c):
 * waiting on the socket, sending a query and collecting its last result within a timeout,
 * and the words of libpq's errors (which can pass, which mean the connection is gone).
 */
#include "pg_wire.h"
#include "alloc.h"
#include "dsn.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
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

/* text on one line, without its trailing space, and with any password it echoes (a URI's
 * user info, a password= of a db string the server quotes back) masked. */
static void one_line_masked(const char *text, char *err, size_t errlen) {
    size_t n;
    (void)sqlpool__dsn_mask_text(text, err, errlen);
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

/* libpq's message, on one line and without its trailing newline. */
void sqlpool__pg_message(PGconn *pg, const char *fallback, char *err, size_t errlen) {
    const char *m = pg != NULL ? PQerrorMessage(pg) : NULL;
    one_line_masked(m != NULL && m[0] ? m : fallback, err, errlen);
}

void sqlpool__pg_result_message(const PGresult *r, const char *fallback, char *err, size_t errlen) {
    const char *m = r != NULL ? PQresultErrorMessage(r) : NULL;
    one_line_masked(m != NULL && m[0] ? m : fallback, err, errlen);
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
    /* 08P01 protocol_violation is what the server answers to a bind with the wrong number
     * of parameters, a caller's error on a sound connection. */
    return (strncmp(state, "08", 2) == 0 && strcmp(state, "08P01") != 0) ||
           strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
           strcmp(state, "57P03") == 0;
}

int sqlpool__pg_sqlstate_is(const PGresult *r, const char *state) {
    const char *got = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return got != NULL && strcmp(got, state) == 0;
}

/* The rule of sqlpool_conn_pg_check(): no result, a connection libpq found dead, a fatal
 * SQLSTATE, 25006 (a write on a server that is a standby now), or a fatal error without a
 * SQLSTATE, which only libpq itself makes ("server closed the connection unexpectedly"). */
int sqlpool__pg_lost_result(PGconn *pg, const PGresult *r) {
    if (r == NULL || (pg != NULL && PQstatus(pg) == CONNECTION_BAD)) return 1;
    if (sqlpool__pg_fatal_result(r) || sqlpool__pg_sqlstate_is(r, "25006")) return 1;
    return PQresultStatus(r) == PGRES_FATAL_ERROR &&
           PQresultErrorField(r, PG_DIAG_SQLSTATE) == NULL;
}

/* ---- round trips under a deadline ---- */

/* Wait, until deadline (on sqlpool__pg_mono()), for what was just sent: flush it, then read
 * every result. Returns the last result (caller clears it) or NULL with err set, and
 * *timed_out 1 when the deadline passed first (the query may still be running). A result
 * already read when the deadline passed (a statement's success, with the server's
 * ReadyForQuery still to come) goes to *partial when partial is not NULL (the caller's, for
 * sqlpool__pg_cancel_drain), else it is dropped. The connection is in non-blocking mode
 * meanwhile, so even the flush cannot outlive the deadline; blocking again after. */
PGresult *sqlpool__pg_await_until(PGconn *pg, int sent, double deadline, int *nresults,
                                  int *timed_out, PGresult **partial, char *err, size_t errlen) {
    PGresult *last = NULL, *r;
    int flushed;

    *timed_out = 0;
    if (partial != NULL) *partial = NULL;
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
    if (partial != NULL)
        *partial = last;
    else
        PQclear(last);
    last = NULL;
    *timed_out = 1;
    sqlpool__format(err, errlen, "no answer by the deadline");
done:
    (void)PQsetnonblocking(pg, 0); /* the borrower's own calls block, as libpq's do */
    return last;
}

PGresult *sqlpool__pg_await_last(PGconn *pg, int sent, double timeout, int *nresults, char *err,
                                 size_t errlen) {
    int timed_out;
    PGresult *r = sqlpool__pg_await_until(pg, sent, sqlpool__pg_mono() + timeout, nresults,
                                          &timed_out, NULL, err, errlen);
    if (timed_out) sqlpool__format(err, errlen, "no answer within %.3f s", timeout);
    return r;
}

/* ---- cancelling ---- */

/* PQcancel() blocks on its own connection to the server (libpq 15 has no non-blocking
 * cancel), so it runs on a thread of its own; a caller that stops waiting leaves the job to
 * the thread, which frees it. */
typedef struct cancel_job {
    PGcancel *cancel;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok, abandoned;
} cancel_job;

static void cancel_job_free(cancel_job *j) {
    PQfreeCancel(j->cancel);
    (void)pthread_cond_destroy(&j->cv);
    (void)pthread_mutex_destroy(&j->mu);
    sqlpool__free(j);
}

static void *cancel_main(void *arg) {
    cancel_job *j = arg;
    char buf[256];
    int ok = PQcancel(j->cancel, buf, sizeof buf), orphan;
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    j->done = 1;
    j->ok = ok;
    orphan = j->abandoned;
    (void)pthread_cond_signal(&j->cv);
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
    if (orphan) cancel_job_free(j);
    return NULL;
}

static int cancel_job_init(cancel_job *j, PGconn *pg) {
    pthread_condattr_t ca;
    int ok;
    if ((j->cancel = PQgetCancel(pg)) == NULL) return 0;
    if (pthread_mutex_init(&j->mu, NULL) != 0) abort();
    if (pthread_condattr_init(&ca) != 0) abort();
    ok =
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&j->cv, &ca) == 0;
    (void)pthread_condattr_destroy(&ca);
    if (!ok) abort();
    return 1;
}

/* Ask the server to cancel pg's query, waiting bound seconds at most for the request to be
 * delivered: 1 when it was. */
static int cancel_bounded(PGconn *pg, double bound) {
    cancel_job *j = sqlpool__calloc(1, sizeof *j);
    pthread_t t;
    pthread_attr_t a;
    struct timespec until;
    double end = sqlpool__pg_mono() + bound;
    int started, ok;
    if (j == NULL) return 0;
    if (!cancel_job_init(j, pg)) {
        sqlpool__free(j);
        return 0;
    }
    if (pthread_attr_init(&a) != 0) abort();
    (void)pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&t, &a, cancel_main, j) == 0;
    (void)pthread_attr_destroy(&a);
    if (!started) {
        cancel_job_free(j);
        return 0;
    }
    until.tv_sec = (time_t)end;
    until.tv_nsec = (long)((end - (double)until.tv_sec) * 1e9);
    if (pthread_mutex_lock(&j->mu) != 0) abort();
    while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT) {
    }
    if (!j->done) {
        j->abandoned = 1; /* the thread frees it */
        if (pthread_mutex_unlock(&j->mu) != 0) abort();
        return 0;
    }
    ok = j->ok;
    if (pthread_mutex_unlock(&j->mu) != 0) abort();
    cancel_job_free(j);
    return ok;
}

/* A statement the deadline cancelled may have finished anyway: the cancel request races the
 * server, so a COMMIT can commit just as the deadline passes and the cancel then finds an idle
 * backend (which ignores it). What decides is the last result drained after the cancel: a
 * PGRES_COMMAND_OK or PGRES_TUPLES_OK is the statement's own success (reported as such, never
 * as "timed out": it committed), anything else (57014 query_canceled, or no result) is the
 * timeout. 1 for a success. */
int sqlpool__pg_drained_completed(const PGresult *last) {
    ExecStatusType s = last != NULL ? PQresultStatus(last) : PGRES_FATAL_ERROR;
    return (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) &&
           !sqlpool__pg_sqlstate_is(last, "57014");
}

int sqlpool__pg_cancel_drain(PGconn *pg, double bound, PGresult **completed) {
    double end = sqlpool__pg_mono() + bound;
    int flushed, idle = 0;
    PGresult *r, *last = completed != NULL ? *completed : NULL; /* read before the deadline */
    if (completed != NULL) *completed = NULL;
    if (!cancel_bounded(pg, bound)) goto done;
    (void)PQsetnonblocking(pg, 1);
    while ((flushed = PQflush(pg)) == 1) /* a query sent in part must be sent whole first */
        if (sqlpool__pg_wait_socket(pg, POLLOUT, end) != 1) goto done;
    if (flushed < 0) goto done;
    for (;;) {
        while (PQisBusy(pg))
            if (sqlpool__pg_wait_socket(pg, POLLIN, end) != 1 || !PQconsumeInput(pg)) goto done;
        if ((r = PQgetResult(pg)) == NULL) break;
        PQclear(last);
        last = r; /* kept: it says whether the statement finished after all */
    }
    idle = PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_ACTIVE;
    if (completed != NULL && sqlpool__pg_drained_completed(last)) {
        *completed = last;
        last = NULL;
    }
done: /* not idle: what the statement did is not known, so no success is claimed */
    PQclear(last);
    (void)PQsetnonblocking(pg, 0);
    return idle;
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
