#include "counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* In the order of sb_counter_names in switchbench.h. */
static const struct {
    uint32_t type;
    uint64_t config;
} events[SB_COUNTERS] = {
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
};

static int open_event(int i)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = events[i].type;
    attr.config = events[i].config;
    /* Kernel work is part of a thread switch's cost: count it. Where
     * perf_event_paranoid forbids that, the counter is unavailable
     * rather than silently user-space only. */
    attr.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1, -1, 0);
}

static int counting = 1;

void sb_set_perf_counting(int on)
{
    counting = on;
}

void sb_counters_open(struct sb_counters *c)
{
    const char *off = getenv("SWITCHBENCH_NO_PERF");
    for (int i = 0; i < SB_COUNTERS; i++) {
        c->start[i] = 0;
        c->error[i] = 0;
        if (!counting || (off && *off)) {
            c->fd[i] = -1;
            /* EPERM: as a kernel that refuses perf_event_open would say. */
            c->error[i] = counting ? EPERM : ECANCELED;
            continue;
        }
        c->fd[i] = open_event(i);
        if (c->fd[i] < 0)
            c->error[i] = errno ? errno : ENODEV;
    }
}

static int read_counter(int fd, uint64_t *value)
{
    return read(fd, value, sizeof *value) == (ssize_t)sizeof *value ? 0 : (errno ? errno : EIO);
}

void sb_counters_start(struct sb_counters *c)
{
    for (int i = 0; i < SB_COUNTERS; i++)
        if (c->fd[i] >= 0 && (c->error[i] = read_counter(c->fd[i], &c->start[i])) != 0) {
            close(c->fd[i]);
            c->fd[i] = -1;
        }
}

void sb_counters_close(struct sb_counters *c)
{
    for (int i = 0; i < SB_COUNTERS; i++)
        if (c->fd[i] >= 0) {
            close(c->fd[i]);
            c->fd[i] = -1;
        }
}

void sb_counters_stop(struct sb_counters *c, struct sb_result *out)
{
    for (int i = 0; i < SB_COUNTERS; i++) {
        uint64_t end;
        int err = c->fd[i] >= 0 ? read_counter(c->fd[i], &end) : c->error[i];
        if (err) {
            /* One thread without the counter makes the sum unknowable. */
            out->counter_error[i] = err;
            out->counter[i] = -1;
        } else if (!out->counter_error[i]) {
            out->counter[i] += (int64_t)(end - c->start[i]);
        }
    }
    sb_counters_close(c);
}

void sb_counters_probe(int32_t *error)
{
    struct sb_counters c;
    int was = counting;
    counting = 1;
    sb_counters_open(&c);
    for (int i = 0; i < SB_COUNTERS; i++)
        error[i] = c.error[i];
    sb_counters_close(&c);
    counting = was;
}
