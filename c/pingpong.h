/*
 * The shared shape of every two-thread ping-pong: two threads, pinned as
 * asked, take turns. A primitive (condvar, futex, ...) supplies only how
 * a side waits for its turn and how it gives the turn away; the runner
 * owns threads, pinning, the start barrier, the clock, the OS
 * context-switch counts and the order check, so every primitive is
 * measured the same way.
 */
#ifndef SWITCHBENCH_PINGPONG_H
#define SWITCHBENCH_PINGPONG_H

#include "common.h"

struct sb_handoff_ops {
    const char *name;
    /* Set up the primitive in `state` (turn belongs to side 0 at start). */
    int (*init)(void *state);
    void (*destroy)(void *state);
    /* Block until it is `side`'s turn. */
    void (*wait_turn)(void *state, int side);
    /* Give the turn to side `to`, waking it. */
    void (*give_turn)(void *state, int to);
};

int sb_run_pingpong(const struct sb_handoff_ops *ops, void *state,
                    uint64_t round_trips, int cpu_a, int cpu_b,
                    struct sb_result *out);

#endif
