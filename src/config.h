/* config.h: the pool's configuration: defaults and validation (config.c). */
#ifndef SQLPOOL_CONFIG_H
#define SQLPOOL_CONFIG_H

#include "sqlpool.h"

/* Every field of the library's (full-size) sqlpool_config set to its documented default. */
void sqlpool__config_defaults(sqlpool_config *cfg);

/* SQLPOOL_OK when every value of a full-size config is in range, else SQLPOOL_EINVAL with the
 * calling thread's message saying which. */
int sqlpool__config_check(const sqlpool_config *cfg);

#endif
