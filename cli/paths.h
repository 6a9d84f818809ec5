/* paths.h: a file's identity, whether it exists yet or not, so that two spellings of one
 * file compare equal (links, "..", folders still to be made). */
#ifndef SQLPOOL_CLI_PATHS_H
#define SQLPOOL_CLI_PATHS_H

#include <sys/types.h>

typedef struct paths_id {
    dev_t dev; /* the file, or its nearest existing folder when it does not exist */
    ino_t ino;
    char *rest; /* "" for an existing file; else what is still to be made below that folder,
                   with "." and ".." taken out as mkdir -p would resolve them (owned) */
} paths_id;

/* Identify path without creating anything: stat() each prefix (links followed), and past the
 * first missing component, resolve the rest by name. 0, or -1 when out of memory. */
int paths_identify(const char *path, paths_id *id);
/* 1 when a and b are (or, once made, will be) the same file. */
int paths_same(const paths_id *a, const paths_id *b);
void paths_id_free(paths_id *id);

#endif
