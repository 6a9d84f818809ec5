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
PGresult *sqlpool__pg_await_last(PGconn *pg, int sent, double timeout, int *nresults, char *err,
                                 size_t errlen);
PGresult *sqlpool__pg_exec_deadline(PGconn *pg, const char *sql, double timeout, char *err,
                                    size_t errlen);
PGresult *sqlpool__pg_prepare_deadline(PGconn *pg, const char *name, const char *sql, int nparams,
                                       double timeout, char *err, size_t errlen);

#endif
