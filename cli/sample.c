/* sample.c: where `sqlpool run` finds its sample input (see sample.h). The installed program
 * looks next to itself first (<prefix>/bin/../share/sqlpool), so a tree installed with
 * `cmake --install --prefix DIR` finds its own copy whatever prefix the build was configured
 * with; then in the configured data folder. */
#include "sample.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(SQLPOOL_DATADIR) || !defined(SQLPOOL_BIN_TO_DATADIR)
#error "SQLPOOL_DATADIR and SQLPOOL_BIN_TO_DATADIR come from CMakeLists.txt"
#endif

#define SAMPLE_NAME "/sqlpool/sample_input.txt"

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* <the program's folder>/SQLPOOL_BIN_TO_DATADIR/sqlpool/sample_input.txt into buf, each
 * leading "../" taken off the folder ("/p/bin" and "../share" give "/p/share"), or 0 when the
 * program's path is unknown (no /proc) or too long. */
static int next_to_program(char *buf, size_t len) {
    ssize_t n = readlink("/proc/self/exe", buf, len);
    const char *rel = SQLPOOL_BIN_TO_DATADIR;
    char *end;
    if (n <= 0 || (size_t)n >= len) return 0;
    buf[n] = '\0';
    if ((end = strrchr(buf, '/')) == NULL) return 0;
    *end = '\0'; /* the program's folder */
    for (; strncmp(rel, "../", 3) == 0 || strcmp(rel, "..") == 0; rel += rel[2] ? 3 : 2) {
        if ((end = strrchr(buf, '/')) == NULL) return 0;
        *end = '\0';
    }
    n = snprintf(end, len - (size_t)(end - buf), "%s%s%s", *rel ? "/" : "", rel, SAMPLE_NAME);
    return n > 0 && (size_t)n < len - (size_t)(end - buf);
}

const char *sample_input(const char *local) {
    static char beside[4096];
    struct stat sb;
    /* Anything at the local path, even unreadable, is what the user meant: keep its error. */
    if (stat(local, &sb) == 0 || (errno != ENOENT && errno != ENOTDIR)) return local;
    if (next_to_program(beside, sizeof beside) && exists(beside)) return beside;
    if (exists(SQLPOOL_DATADIR SAMPLE_NAME)) return SQLPOOL_DATADIR SAMPLE_NAME;
    return local;
}
