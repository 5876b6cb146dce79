/* Helpers shared by the benchmark families; not part of the Python API. */
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

/* Add after - before to the result's counts. */
void sb_add_ctx(struct sb_result *out, const struct sb_ctx_count *before,
                const struct sb_ctx_count *after);

/* futex(2) wait while *word == expected, and wake up to n waiters.
 * private: the word is not shared with other processes. */
int sb_futex_wait(_Atomic int *word, int expected, int private);
int sb_futex_wake(_Atomic int *word, int n, int private);

/* Add one thread's counter deltas into a total; unavailable stays unavailable. */
void sb_merge_counters(struct sb_result *total, const struct sb_result *part);

/* Pin the calling thread to one CPU; cpu < 0 leaves it as it is. */
int sb_pin_self(int cpu);

/* Start a result: zero it and note the ops asked for. */
void sb_begin(struct sb_result *out, uint64_t ops);

/* Record an error in the result; returns err so callers can `return sb_fail(...)`. */
int sb_fail(struct sb_result *out, int err, const char *what);

#endif
