/*
 * Where the time of a run goes: each benchmark thread's getrusage and
 * schedstat over its timed region, and the CPUs' /proc/stat over the
 * coordinator's region. Everything here runs outside the clock reads of the
 * timed loop, and only for sb_ring_accounted.
 */
#include "common.h" /* first: it defines _GNU_SOURCE (RUSAGE_THREAD) */
#include "account.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int64_t timeval_ns(struct timeval tv)
{
    return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

/* Reads a whole small /proc file into buf (NUL-terminated); returns the
 * bytes read or -errno. /proc files report a size of 0, so read until EOF. */
static long read_proc(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    while (got + 1 < size) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n < 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return got + 1 >= size ? -EFBIG : (long)got;
}

void sb_thread_times(struct sb_times *now)
{
    memset(now, 0, sizeof *now);
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage) != 0) {
        now->rusage_error = errno;
    } else {
        now->user_ns = timeval_ns(usage.ru_utime);
        now->kernel_ns = timeval_ns(usage.ru_stime);
    }
    /* Three numbers: time on a CPU (ns), time waiting on a run queue (ns),
     * timeslices run. The kernel keeps them in ns, not in ticks. */
    char text[128];
    long n = read_proc("/proc/thread-self/schedstat", text, sizeof text);
    if (n < 0) {
        now->schedstat_error = (int)-n;
        return;
    }
    if (sscanf(text, "%" SCNd64 " %" SCNd64 " %" SCNd64, &now->oncpu_ns, &now->runq_wait_ns,
               &now->timeslices) != 3)
        now->schedstat_error = EPROTO;
}

void sb_account_begin(struct sb_account *account)
{
    uint64_t ncpus = account->ncpus;
    int32_t cpus[256];
    memcpy(cpus, account->cpus, sizeof cpus);
    memset(account, 0, sizeof *account);
    account->ncpus = ncpus;
    memcpy(account->cpus, cpus, sizeof cpus);
    account->user_hz = sysconf(_SC_CLK_TCK);
}

void sb_account_add(struct sb_account *account, const struct sb_times *before,
                    const struct sb_times *after)
{
    account->threads++;
    /* The first error stays: one unreadable thread makes the sum unavailable. */
    if (!account->rusage_error)
        account->rusage_error = before->rusage_error ? before->rusage_error : after->rusage_error;
    if (!account->schedstat_error)
        account->schedstat_error =
            before->schedstat_error ? before->schedstat_error : after->schedstat_error;
    account->user_ns += after->user_ns - before->user_ns;
    account->kernel_ns += after->kernel_ns - before->kernel_ns;
    account->oncpu_ns += after->oncpu_ns - before->oncpu_ns;
    account->runq_wait_ns += after->runq_wait_ns - before->runq_wait_ns;
    account->timeslices += after->timeslices - before->timeslices;
}

static int wanted(const struct sb_account *account, long cpu)
{
    for (uint64_t i = 0; i < account->ncpus; i++)
        if (account->cpus[i] == cpu)
            return 1;
    return 0;
}

int sb_cpu_ticks(const struct sb_account *account, int64_t ticks[8])
{
    memset(ticks, 0, 8 * sizeof ticks[0]);
    if (account->ncpus < 1 || account->ncpus > 256)
        return EINVAL;
    /* About 100 bytes a CPU line, plus the interrupt lines after them. */
    size_t size = 1 << 20;
    char *text = malloc(size);
    if (!text)
        return ENOMEM;
    long n = read_proc("/proc/stat", text, size);
    if (n < 0) {
        free(text);
        return (int)-n;
    }
    uint64_t found = 0;
    char *line = text;
    int err = 0;
    while (*line && !err) {
        char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        char *end;
        long cpu = -1;
        if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9')
            cpu = strtol(line + 3, &end, 10);
        if (cpu >= 0 && wanted(account, cpu)) {
            int64_t v[8];
            if (sscanf(end, " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
                            " %" SCNd64 " %" SCNd64 " %" SCNd64,
                       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
                err = EPROTO;
            for (int i = 0; i < 8 && !err; i++)
                ticks[i] += v[i];
            found++;
        }
        line = next;
    }
    if (err) {
        free(text);
        return err;
    }
    free(text);
    /* A CPU with no line is offline or not there: its time is not covered. */
    return found == account->ncpus ? 0 : ENOENT;
}
