/* Helpers shared by the ping-pong families; not part of the Python API. */
#ifndef SWITCHBENCH_COMMON_H
#define SWITCHBENCH_COMMON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>

#include "switchbench.h"

/* Monotonic clock in nanoseconds. */
uint64_t sb_now_ns(void);

/* OS context switches of the calling thread so far. */
struct sb_ctx_count {
    int64_t voluntary;
    int64_t involuntary;
};
int sb_thread_ctx(struct sb_ctx_count *count);

/* Pin the calling thread to one CPU; cpu < 0 leaves it as it is. */
int sb_pin_self(int cpu);

/* Record an error in the result; returns err so callers can `return sb_fail(...)`. */
int sb_fail(struct sb_result *out, int err, const char *what);

#endif
