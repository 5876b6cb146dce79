/*
 * The C side of switchbench, as Python sees it through cffi (ABI mode).
 *
 * bench/native.py hands this file, minus its preprocessor lines, to
 * cffi's cdef(), so it must stay plain C declarations: fixed-width
 * integer types, no macros in the declarations themselves.
 */
#ifndef SWITCHBENCH_H
#define SWITCHBENCH_H

#include <stdint.h>

/* What one timed run of a ping-pong returns. */
struct sb_result {
    uint64_t elapsed_ns;        /* wall time of the switching loop only */
    uint64_t handoffs_a;        /* hand-offs side A performed */
    uint64_t handoffs_b;        /* hand-offs side B performed */
    uint64_t order_errors;      /* hand-offs that arrived out of turn (must be 0) */
    int64_t voluntary_ctx;      /* OS context switches of both threads over the loop, */
    int64_t involuntary_ctx;    /*   from getrusage(RUSAGE_THREAD) in each thread     */
    int cpu_a;                  /* CPU each side was pinned to, -1 if unpinned */
    int cpu_b;
    int error;                  /* 0, or the errno of the call that failed */
    char message[160];          /* what failed, for the user, when error != 0 */
};

/*
 * Two pthreads hand a turn back and forth with one mutex and two
 * condition variables. One round trip is two switches (A->B, B->A).
 * cpu_a / cpu_b: the CPU to pin each thread to, or -1 to leave it
 * unpinned. Thread creation, pinning and teardown happen outside the
 * timed region. Returns 0 on success, else the error (also in out).
 */
int sb_condvar_pingpong(uint64_t round_trips, int cpu_a, int cpu_b,
                        struct sb_result *out);

#endif
