/*
 * Per-thread perf counters over a timed region, on perf_event_open(2).
 * Each benchmark thread opens its own counters (pid 0 = itself), reads
 * them where the timed region starts and ends, and adds the deltas into
 * the result. A counter the kernel refuses is marked unavailable with
 * the errno that refused it; it is never reported as 0.
 */
#ifndef SWITCHBENCH_COUNTERS_H
#define SWITCHBENCH_COUNTERS_H

#include "common.h"

struct sb_counters {
    int fd[SB_COUNTERS];
    int error[SB_COUNTERS];
    uint64_t start[SB_COUNTERS];
};

/* Open every counter for the calling thread (unless SWITCHBENCH_NO_PERF is set). */
void sb_counters_open(struct sb_counters *c);
/* Read the start values. */
void sb_counters_start(struct sb_counters *c);
/* Read the end values, add end - start into out, close the counters. */
void sb_counters_stop(struct sb_counters *c, struct sb_result *out);
/* Close without reading (a side that failed before its timed region). */
void sb_counters_close(struct sb_counters *c);

#endif
