#include "common.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint64_t sb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sb_thread_ctx(struct sb_ctx_count *count)
{
    /* RUSAGE_THREAD counts this thread only, so the figure covers exactly
     * the benchmark's threads and not the Python interpreter around them. */
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage) != 0)
        return errno;
    count->voluntary = usage.ru_nvcsw;
    count->involuntary = usage.ru_nivcsw;
    return 0;
}

void sb_add_ctx(struct sb_result *out, const struct sb_ctx_count *before,
                const struct sb_ctx_count *after)
{
    out->voluntary_ctx += after->voluntary - before->voluntary;
    out->involuntary_ctx += after->involuntary - before->involuntary;
}

int sb_futex_wait(_Atomic int *word, int expected, int private)
{
    int op = private ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT;
    if (syscall(SYS_futex, word, op, expected, NULL, NULL, 0) != 0 && errno != EAGAIN &&
        errno != EINTR)
        return errno;
    return 0;
}

int sb_futex_wake(_Atomic int *word, int n, int private)
{
    int op = private ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE;
    if (syscall(SYS_futex, word, op, n, NULL, NULL, 0) < 0)
        return errno;
    return 0;
}

void sb_merge_counters(struct sb_result *total, const struct sb_result *part)
{
    for (int i = 0; i < SB_COUNTERS; i++) {
        if (total->counter_error[i])
            continue;
        if (part->counter_error[i]) {
            total->counter_error[i] = part->counter_error[i];
            total->counter[i] = -1;
        } else {
            total->counter[i] += part->counter[i];
        }
    }
}

int sb_pin_self(int cpu)
{
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void sb_begin(struct sb_result *out, uint64_t ops)
{
    memset(out, 0, sizeof *out);
    out->ops = ops;
}

int sb_error_text(char *message, size_t size, int err, const char *what)
{
    snprintf(message, size, "%s: %s", what, strerror(err));
    return err;
}

int sb_fail(struct sb_result *out, int err, const char *what)
{
    out->error = err;
    return sb_error_text(out->message, sizeof out->message, err, what);
}

int sb_fail_text(struct sb_result *out, int err, const char *text)
{
    out->error = err;
    snprintf(out->message, sizeof out->message, "%s", text);
    return err;
}

uint64_t sb_touch(unsigned char *buf, uint64_t size)
{
    uint64_t sum = 0;
    for (uint64_t i = 0; i < size; i += 64) {
        buf[i]++;
        sum += buf[i];
    }
    return sum;
}

int sb_check_pinned(int cpu, const char *who, const char *when, char *message, size_t size)
{
    if (cpu < 0)
        return 0;
    int ran_on = sched_getcpu();
    if (ran_on < 0) {
        /* Unverifiable is not verified: say so rather than pass. */
        int err = errno;
        snprintf(message, size, "%s could not read its CPU (sched_getcpu, checked at %s): %s",
                 who, when, strerror(err));
        return err;
    }
    if (ran_on == cpu)
        return 0;
    snprintf(message, size, "%s ran on CPU %d, pinned to CPU %d (checked at %s)", who, ran_on,
             cpu, when);
    return EXDEV;
}
