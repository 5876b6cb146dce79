/* Accounting of where a run's time goes (struct sb_account): the reads a
 * benchmark thread makes of itself and the coordinator makes of the CPUs.
 * Not part of the Python API. */
#ifndef SWITCHBENCH_ACCOUNT_H
#define SWITCHBENCH_ACCOUNT_H

#include <stdint.h>

#include "switchbench.h"

/* The calling thread's own CPU time so far: getrusage(RUSAGE_THREAD) and
 * /proc/thread-self/schedstat. A source that could not be read has its
 * errno in *_error and its fields left 0 (and is then reported unavailable). */
struct sb_times {
    int64_t user_ns, kernel_ns;
    int64_t oncpu_ns, runq_wait_ns, timeslices;
    int rusage_error, schedstat_error;
};
void sb_thread_times(struct sb_times *now);

/* Zero account's outputs, keeping its CPU list. */
void sb_account_begin(struct sb_account *account);

/* Add one thread's after - before into account. */
void sb_account_add(struct sb_account *account, const struct sb_times *before,
                    const struct sb_times *after);

/* The /proc/stat ticks of account's CPUs, summed per field (see cpu_ticks),
 * into ticks[8]. Returns 0 or an errno (ENOENT: a CPU named has no line). */
int sb_cpu_ticks(const struct sb_account *account, int64_t ticks[8]);

/* Every task's time on a CPU (schedstat's first field), by thread id, at one
 * moment. */
struct sb_tasks {
    size_t n, cap;
    int32_t *tid;
    int64_t *oncpu_ns;
};
/* Reads every task of the machine into tasks (which it allocates); returns 0
 * or an errno. A task that ends while it is read is skipped. */
int sb_tasks_read(struct sb_tasks *tasks);
/* The time on a CPU that the tasks of after gained since before (a task not in
 * before counts from 0; one only in before is left out: the benchmark sides,
 * joined before after is read, are so left out); *counted is how many tasks
 * it summed. */
int64_t sb_tasks_gain(const struct sb_tasks *before, const struct sb_tasks *after,
                      int64_t *counted);
void sb_tasks_free(struct sb_tasks *tasks);

#endif
