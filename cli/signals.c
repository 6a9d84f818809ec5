/* signals.c: clean-up on SIGINT, SIGTERM and SIGHUP. The handler uses only async-signal-safe
 * calls (unlink, rmdir, sigaction, raise) on paths copied into static storage. Once the run
 * defers signals (from its COMMIT on), the handler only records the signal and returns: the
 * call it interrupted fails with EINTR (no SA_RESTART), the run undoes its rows, and then
 * dies of the signal through signals_resume(). SIGPIPE is
 * ignored, so that a write to a pipe or FIFO whose reader left fails with EPIPE, which the run
 * reports and undoes like any other write error, instead of killing the process halfway. */
#include "signals.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#define MAX_DIRS 64

static const int caught[] = {SIGINT, SIGTERM, SIGHUP};
#define NCAUGHT (sizeof caught / sizeof caught[0])

static volatile sig_atomic_t armed;
static volatile sig_atomic_t deferring; /* record the signal, leave the clean-up to the run */
static volatile sig_atomic_t got_sig;   /* the first signal recorded while deferring, or 0 */
static char tmp[PATH_MAX];              /* the temporary file, or "" */
static char dirs[PATH_MAX];             /* the deepest folder made */
static size_t dir_ends[MAX_DIRS];
static int ndirs;

/* Die of sig: its default action, re-raised. */
static void die_of(int sig) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    (void)sigemptyset(&dfl.sa_mask);
    (void)sigaction(sig, &dfl, NULL);
    (void)raise(sig); /* delivered once unblocked (on the handler's return) */
}

static void on_signal(int sig) {
    if (deferring) {
        if (!got_sig) got_sig = sig;
        return;
    }
    if (armed) {
        armed = 0;
        if (tmp[0] != '\0') (void)unlink(tmp);
        /* Deepest first: each shallower folder is a prefix of the deepest one. */
        for (int i = ndirs - 1; i >= 0; i--) {
            dirs[dir_ends[i]] = '\0';
            (void)rmdir(dirs);
        }
    }
    die_of(sig);
}

int signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    (void)sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NCAUGHT; i++)
        (void)sigaddset(&sa.sa_mask, caught[i]);
    for (size_t i = 0; i < NCAUGHT; i++)
        if (sigaction(caught[i], &sa, NULL) != 0) return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    (void)sigemptyset(&sa.sa_mask);
    return sigaction(SIGPIPE, &sa, NULL) != 0 ? -1 : 0;
}

void signals_hold(int on) {
    sigset_t set;
    (void)sigemptyset(&set);
    for (size_t i = 0; i < NCAUGHT; i++)
        (void)sigaddset(&set, caught[i]);
    (void)pthread_sigmask(on ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* Copy the folders; 0 when they are nested prefixes that fit, else -1. */
static int copy_dirs(char *const *list, int n) {
    size_t len;
    if (n == 0) return 0;
    len = strlen(list[n - 1]);
    if (n > MAX_DIRS || len >= sizeof dirs) return -1;
    memcpy(dirs, list[n - 1], len + 1);
    for (int i = 0; i < n; i++) {
        dir_ends[i] = strlen(list[i]);
        if (strncmp(list[i], dirs, dir_ends[i]) != 0) return -1;
    }
    return 0;
}

void signals_track(const char *tmp_path, char *const *list, int n) {
    armed = 0;
    tmp[0] = '\0';
    ndirs = 0;
    if (tmp_path != NULL && strlen(tmp_path) < sizeof tmp)
        memcpy(tmp, tmp_path, strlen(tmp_path) + 1);
    if (copy_dirs(list, n) == 0) ndirs = n;
    armed = 1;
}

void signals_forget(void) {
    armed = 0;
}

void signals_defer(void) {
    deferring = 1;
}

int signals_caught(void) {
    return got_sig;
}

void signals_resume(void) {
    int sig = got_sig;
    deferring = 0;
    if (sig == 0) return;
    signals_hold(0);
    die_of(sig);
}
