/*
 * cpu.c: which processor the calling thread runs on, for the pool's per-processor caches.
 * glibc answers from the restartable-sequences area (or the vDSO) without a system call.
 */
/* sched_getcpu() is a GNU extension: ask for it by the name the C library knows. */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier) */
#include "internal.h"

#include <sched.h>
#include <unistd.h>

int sqlpool__cpu(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? 0 : cpu;
}

int sqlpool__cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}
