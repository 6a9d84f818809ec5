/*
 * signal_shim.c: a library to LD_PRELOAD into the CLI (test_interrupt) that raises SIGTERM
 * inside one libc call, once: rename() or fsync(), of a path containing
 * $SQLPOOL_SHIM_MATCH, as $SQLPOOL_SHIM_CALL says. The signal is raised before the real call
 * runs, as if it had arrived just then; the real call follows when the process survives it.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exported, though the project builds with hidden visibility: they must interpose libc's. */
#define SHIM_EXPORT __attribute__((visibility("default")))
SHIM_EXPORT int rename(const char *from, const char *to);
SHIM_EXPORT int fsync(int fd);

static int fired;

/* Raise SIGTERM, once, when call is the one asked for and path holds the match. */
static void maybe_raise(const char *call, const char *path) {
    const char *want = getenv("SQLPOOL_SHIM_CALL"), *match = getenv("SQLPOOL_SHIM_MATCH");
    if (fired || want == NULL || strcmp(want, call) != 0) return;
    if (match != NULL && (path == NULL || strstr(path, match) == NULL)) return;
    fired = 1;
    (void)raise(SIGTERM);
}

int rename(const char *from, const char *to) {
    int (*real)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    maybe_raise("rename", to);
    return real(from, to);
}

int fsync(int fd) {
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    char link[64], path[PATH_MAX];
    ssize_t n;
    (void)snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    maybe_raise("fsync", path);
    return real(fd);
}
