/* lock.c: the contended path of the pool lock. */
#include "lock.h"

#include <sched.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define CPU_RELAX() ((void)0)
#endif

void sqlpool__lock_contended(sqlpool__lock *l) {
    int spins = 0, yields = 0;
    for (;;) {
        /* Spin on a load, not an exchange, so waiting does not bounce the cache line. */
        while (atomic_load_explicit(&l->held, memory_order_relaxed) != 0) {
            if (++spins < 64) {
                CPU_RELAX();
            } else if (++yields < 16) {
                (void)sched_yield(); /* the holder may have been preempted: let it run */
                spins = 0;
            } else {
                const struct timespec nap = {0, 50000}; /* 50 us: lets any priority run */
                (void)nanosleep(&nap, NULL);
                spins = 0;
            }
        }
        if (atomic_exchange_explicit(&l->held, 1, memory_order_acquire) == 0) return;
    }
}

/* Its address: distinct for every live thread, and never 0 (lock.h). */
_Thread_local char sqlpool__thread_tag;
