/* maintain.h: maintenance (maintain.c: a pass; maint_thread.c: the thread that runs them). */
#ifndef SQLPOOL_MAINTAIN_H
#define SQLPOOL_MAINTAIN_H

#include "conn_life.h"

/* maintain.c: one pass (see there). */
void sqlpool__maintain_pass(sqlpool *pool);

/* maint_thread.c: start the thread when the config needs one (see there); stop and join it. */
int sqlpool__maintenance_start(sqlpool *pool);
void sqlpool__maintenance_stop(sqlpool *pool);

#endif
