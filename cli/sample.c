/* sample.c: where `sqlpool run` finds its sample input (see sample.h). The installed program
 * looks next to itself first (<prefix>/bin/../share/sqlpool), so a tree installed with
 * `cmake --install --prefix DIR` finds its own copy whatever prefix the build was configured
 * with; then in the configured data folder. Next to itself only when it is an installed
 * program (its folder is <prefix>/SQLPOOL_BINDIR) and only from files no one else can have
 * put there: a build in /tmp/build must not read /tmp/share/sqlpool, which any local user
 * can make. */
#include "sample.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(SQLPOOL_DATADIR) || !defined(SQLPOOL_BIN_TO_DATADIR) || !defined(SQLPOOL_BINDIR)
#error "SQLPOOL_DATADIR, SQLPOOL_BIN_TO_DATADIR and SQLPOOL_BINDIR come from CMakeLists.txt"
#endif

#define SAMPLE_NAME "/sqlpool/sample_input.txt"

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* 1 when path is owned by root or by this user and no one else may write to it. */
static int trusted(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && (sb.st_uid == 0 || sb.st_uid == geteuid()) &&
           (sb.st_mode & S_IWOTH) == 0;
}

/* 1 when the folder dir (no trailing '/') ends in "/" SQLPOOL_BINDIR, the configured bin
 * folder of an install, relative to its prefix (as "bin"); *prefix_len then its prefix's
 * length. */
static int is_install_bindir(const char *dir, size_t *prefix_len) {
    const char *bindir = SQLPOOL_BINDIR;
    size_t n = strlen(dir), b = strlen(bindir);
    if (b == 0 || bindir[0] == '/' || n <= b || dir[n - b - 1] != '/') return 0;
    if (strcmp(dir + n - b, bindir) != 0) return 0;
    *prefix_len = n - b - 1;
    return 1;
}

/* The sample at path and every folder from it up to the prefix (the first prefix_len bytes
 * of path) are trusted. */
static int trusted_up_to(const char *path, size_t prefix_len) {
    char walk[4096];
    size_t n = strlen(path);
    if (n >= sizeof walk) return 0;
    memcpy(walk, path, n + 1);
    for (;;) {
        char *slash;
        if (!trusted(walk)) return 0;
        if (strlen(walk) <= prefix_len || (slash = strrchr(walk, '/')) == NULL) return 1;
        if (slash == walk && walk[1] == '\0') return 1; /* "/" checked */
        slash[slash == walk] = '\0';                    /* its folder ("/" for "/x") */
    }
}

/* <the program's folder>/SQLPOOL_BIN_TO_DATADIR/sqlpool/sample_input.txt into buf, each
 * leading "../" taken off the folder ("/p/bin" and "../share" give "/p/share"), or 0 when the
 * program's path is unknown (no /proc) or too long, or the program is not installed (its
 * folder is not <prefix>/SQLPOOL_BINDIR), or what is there could have been put there by
 * another user (a file or folder up to the prefix not owned by root or this user, or that
 * anyone may write to). */
static int next_to_program(char *buf, size_t len) {
    ssize_t n = readlink("/proc/self/exe", buf, len);
    const char *rel = SQLPOOL_BIN_TO_DATADIR;
    size_t prefix_len = 0;
    char *end;
    if (n <= 0 || (size_t)n >= len) return 0;
    buf[n] = '\0';
    if ((end = strrchr(buf, '/')) == NULL) return 0;
    *end = '\0'; /* the program's folder */
    if (!is_install_bindir(buf, &prefix_len)) return 0;
    for (; strncmp(rel, "../", 3) == 0 || strcmp(rel, "..") == 0; rel += rel[2] ? 3 : 2) {
        if ((end = strrchr(buf, '/')) == NULL) return 0;
        *end = '\0';
    }
    n = snprintf(end, len - (size_t)(end - buf), "%s%s%s", *rel ? "/" : "", rel, SAMPLE_NAME);
    if (n <= 0 || (size_t)n >= len - (size_t)(end - buf)) return 0;
    return trusted_up_to(buf, prefix_len);
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
