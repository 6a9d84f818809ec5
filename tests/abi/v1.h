/* v1.c: the checks of the functions 0.1.0's header declared (see v1.c). */
#ifndef SQLPOOL_ABI_V1_H
#define SQLPOOL_ABI_V1_H

/* Calls sqlpool_config_init, sqlpool_open and sqlpool_stats_get as a binary built against
 * 0.1.0's header does (the library's exported functions of those names); returns how many
 * checks failed, printing each. */
int abi_v1_failures(void);

#endif
