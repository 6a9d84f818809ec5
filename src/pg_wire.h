/*
 * pg_wire.h: libpq round trips under a deadline and the words of libpq's errors (pg_wire.c),
 * below the PostgreSQL backend (backend_pg.c).
 */
#ifndef SQLPOOL_PG_WIRE_H
#define SQLPOOL_PG_WIRE_H

#include <libpq-fe.h>
#include <stddef.h>

double sqlpool__pg_mono(void);
int sqlpool__pg_wait_socket(PGconn *pg, short events, double deadline);
void sqlpool__pg_message(PGconn *pg, const char *fallback, char *err, size_t errlen);
int sqlpool__pg_retriable_message(const char *msg);
int sqlpool__pg_fatal_result(const PGresult *r);
/* A result's message (PQresultErrorMessage), on one line and masked; fallback without one. */
void sqlpool__pg_result_message(const PGresult *r, const char *fallback, char *err, size_t errlen);
/* 1 when r's SQLSTATE is state. */
int sqlpool__pg_sqlstate_is(const PGresult *r, const char *state);
/* 1 when r (NULL: none came) means the connection or the server's role is gone: the rule of
 * sqlpool_conn_pg_check(). */
int sqlpool__pg_lost_result(PGconn *pg, const PGresult *r);
PGresult *sqlpool__pg_await_until(PGconn *pg, int sent, double deadline, int *nresults,
                                  int *timed_out, PGresult **partial, char *err, size_t errlen);
PGresult *sqlpool__pg_await_last(PGconn *pg, int sent, double timeout, int *nresults, char *err,
                                 size_t errlen);
PGresult *sqlpool__pg_exec_deadline(PGconn *pg, const char *sql, double timeout, char *err,
                                    size_t errlen);
PGresult *sqlpool__pg_prepare_deadline(PGconn *pg, const char *name, const char *sql, int nparams,
                                       double timeout, char *err, size_t errlen);
/* Cancel the query running on pg (a deadline passed) and read what is left of it, all within
 * bound seconds: 1 when the connection is idle again, 0 when it is not (close it). *completed
 * holds on entry a result read before the deadline, if any (sqlpool__pg_await_until's
 * *partial, or NULL; the call takes it). When the statement finished before the cancel took
 * (its last result, read before or after the cancel, a success: see
 * sqlpool__pg_drained_completed) and the connection is idle, that result is handed back in
 * *completed (the caller clears it); NULL otherwise. completed may be NULL. */
int sqlpool__pg_cancel_drain(PGconn *pg, double bound, PGresult **completed);
/* 1 when the last result drained after a cancel is the statement's success (COMMAND_OK or
 * TUPLES_OK), not the cancel's 57014: the statement completed and is not a timeout. */
int sqlpool__pg_drained_completed(const PGresult *last);

#endif
