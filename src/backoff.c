/* backoff.c: exponential backoff with jitter between connect attempts. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

/* A per-thread xorshift generator: jitter needs spread, not cryptographic quality, and a
 * thread-local state keeps it free of locks and data races. */
static _Thread_local uint64_t rng_state;

double sqlpool__random_unit(void) {
    uint64_t x = rng_state;
    if (x == 0) {
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&rng_state;
        if (x == 0) x = 0x9e3779b97f4a7c15u;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (double)(x >> 11) / 9007199254740992.0; /* [0, 1) with 53 bits */
}

double sqlpool__backoff_delay(double base, int attempt) {
    double wait = base * ldexp(1.0, attempt < 60 ? attempt : 60);
    wait *= 0.75 + 0.5 * sqlpool__random_unit();
    return wait < SQLPOOL__MAX_WAIT ? wait : SQLPOOL__MAX_WAIT;
}

void sqlpool__sleep(double seconds) {
    struct timespec ts;
    if (!(seconds > 0)) return;
    if (seconds > SQLPOOL__MAX_WAIT) seconds = SQLPOOL__MAX_WAIT;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
    }
}
