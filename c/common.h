/* Helpers shared by the benchmark families; not part of the Python API. */
#ifndef SWITCHBENCH_COMMON_H
#define SWITCHBENCH_COMMON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
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

/* Record an error in the result as "what: strerror(err)"; returns err so
 * callers can `return sb_fail(...)`. */
int sb_fail(struct sb_result *out, int err, const char *what);

/* Record an error whose text is complete as it is (no strerror appended:
 * for EXDEV, say, strerror's "Invalid cross-device link" would mislead). */
int sb_fail_text(struct sb_result *out, int err, const char *text);

/* Write "what: strerror(err)" into message; returns err. */
int sb_error_text(char *message, size_t size, int err, const char *what);

/* Touch every cache line of a working set once (read and write): the
 * cache cost a context pays on each turn. Returns a checksum, so the
 * touches cannot be optimised away. One function for every caller, so
 * that sb_touch_only times exactly the loop a ring side runs per turn. */
uint64_t sb_touch(unsigned char *buf, uint64_t size);

/* Whether the calling thread runs on the CPU it was pinned to (cpu < 0:
 * not pinned, nothing to check). Pinning is a request the kernel may
 * stop honouring (a cpuset change, CPU hot-unplug), and a run that
 * silently moved measured another placement than it names. Returns 0, or
 * EXDEV with "WHO ran on CPU x, pinned to CPU y (checked at WHEN)" in
 * message. */
int sb_check_pinned(int cpu, const char *who, const char *when, char *message, size_t size);

#endif
