/*
 * Where the time of a run goes: each benchmark thread's getrusage and
 * schedstat over its timed region, and the CPUs' /proc/stat over the
 * coordinator's region. Everything here runs outside the clock reads of the
 * timed loop, and only for sb_ring_accounted.
 */
#include "common.h" /* first: it defines _GNU_SOURCE (RUSAGE_THREAD) */
#include "account.h"

#include <dirent.h>
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
    account->online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
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

/* Every numeric entry of a /proc directory, one by one: the pids of /proc, the
 * tids of /proc/<pid>/task. */
static long next_number(DIR *dir)
{
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        char *end;
        long n = strtol(entry->d_name, &end, 10);
        if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9' && *end == '\0')
            return n;
    }
    return -1;
}

static int tasks_push(struct sb_tasks *tasks, int32_t tid, int64_t oncpu_ns)
{
    if (tasks->n == tasks->cap) {
        size_t cap = tasks->cap ? 2 * tasks->cap : 1024;
        int32_t *tid_grown = realloc(tasks->tid, cap * sizeof *tid_grown);
        if (!tid_grown)
            return ENOMEM;
        tasks->tid = tid_grown;
        int64_t *ns_grown = realloc(tasks->oncpu_ns, cap * sizeof *ns_grown);
        if (!ns_grown)
            return ENOMEM;
        tasks->oncpu_ns = ns_grown;
        tasks->cap = cap;
    }
    tasks->tid[tasks->n] = tid;
    tasks->oncpu_ns[tasks->n] = oncpu_ns;
    tasks->n++;
    return 0;
}

int sb_tasks_read(struct sb_tasks *tasks)
{
    memset(tasks, 0, sizeof *tasks);
    DIR *proc = opendir("/proc");
    if (!proc)
        return errno;
    int err = 0;
    long pid;
    while (!err && (pid = next_number(proc)) >= 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/task", pid);
        DIR *task = opendir(path);
        if (!task)
            continue; /* the process ended meanwhile */
        long tid;
        while (!err && (tid = next_number(task)) >= 0) {
            char file[96], text[128];
            int64_t oncpu;
            snprintf(file, sizeof file, "/proc/%ld/task/%ld/schedstat", pid, tid);
            if (read_proc(file, text, sizeof text) < 0 ||
                sscanf(text, "%" SCNd64, &oncpu) != 1)
                continue; /* ended meanwhile */
            err = tasks_push(tasks, (int32_t)tid, oncpu);
        }
        closedir(task);
    }
    closedir(proc);
    if (!err && tasks->n == 0)
        err = ENOENT; /* no schedstat at all: the kernel has no CONFIG_SCHED_INFO */
    return err;
}

int64_t sb_tasks_gain(const struct sb_tasks *before, const struct sb_tasks *after,
                      int64_t *counted)
{
    int64_t gain = 0;
    *counted = 0;
    /* A few hundred tasks: a scan of before per task of after is cheap enough,
     * and it runs outside every timed loop. */
    for (size_t i = 0; i < after->n; i++) {
        int64_t was = 0;
        for (size_t j = 0; j < before->n; j++)
            if (before->tid[j] == after->tid[i]) {
                was = before->oncpu_ns[j];
                break;
            }
        gain += after->oncpu_ns[i] - was;
        (*counted)++;
    }
    return gain;
}

void sb_tasks_free(struct sb_tasks *tasks)
{
    free(tasks->tid);
    free(tasks->oncpu_ns);
    memset(tasks, 0, sizeof *tasks);
}
