/* paths.c: same-file checks, so the output can never overwrite the database. */
#define _XOPEN_SOURCE 700 /* realpath; NOLINT(bugprone-reserved-identifier): feature-test macro */

#include "paths.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The real path of path's parent folder plus '/' and its base name (caller frees), or NULL
 * when the folder cannot be resolved. */
static char *canonical(const char *path) {
    char *dir_copy = strdup(path), *base_copy = strdup(path), *real = NULL, *out = NULL;
    if (dir_copy != NULL && base_copy != NULL &&
        (real = realpath(dirname(dir_copy), NULL)) != NULL) {
        const char *base = basename(base_copy);
        size_t n = strlen(real) + strlen(base) + 2;
        if ((out = malloc(n)) != NULL) {
            (void)snprintf(out, n, "%s/%s", real, base); /* n fits it exactly */
        }
    }
    free(real);
    free(dir_copy);
    free(base_copy);
    return out;
}

int paths_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    char *ca, *cb;
    int same;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    ca = canonical(a);
    cb = canonical(b);
    /* Neither folder exists yet: compare the paths as written. */
    same = ca && cb ? strcmp(ca, cb) == 0 : ca == NULL && cb == NULL && strcmp(a, b) == 0;
    free(ca);
    free(cb);
    return same;
}
