/*
 * faultvfs_preload.c: the test VFS as a preloadable library, to inject I/O faults into a
 * whole `sqlpool run` process:
 *     SQLPOOL_FAULT=write:7 LD_PRELOAD=libsqlpool_faultvfs.so sqlpool run --db x.db ...
 * makes the shim SQLite's default VFS and fails the 7th write (read:N, sync:N likewise).
 */
#include "testvfs.h"

#include <stdlib.h>
#include <string.h>

__attribute__((constructor)) static void faultvfs_load(void) {
    static const char *const kinds[] = {"read:", "write:", "sync:"};
    const char *spec = getenv("SQLPOOL_FAULT");
    if (spec == NULL) return;
    testvfs_register_default();
    for (int k = 0; k < 3; k++)
        if (strncmp(spec, kinds[k], strlen(kinds[k])) == 0)
            testvfs_fail_nth(k, strtol(spec + strlen(kinds[k]), NULL, 10));
}
