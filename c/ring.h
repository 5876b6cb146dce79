/*
 * The shared shape of every hand-off benchmark: rings of contexts taking
 * turns. A primitive (condvar, futex, ...) supplies only how a side waits
 * for its turn and how it hands the turn on; the runner owns threads and
 * processes, pinning, the start barrier, the clock, the OS context-switch
 * counts and the order check, so every primitive is measured the same way.
 */
#ifndef SWITCHBENCH_RING_H
#define SWITCHBENCH_RING_H

#include <stddef.h>

#include "common.h"

struct sb_handoff_ops {
    const char *name;
    /* Bytes of state one ring of nsides needs (placed in shared memory). */
    size_t (*state_size)(int nsides);
    /* Set up the state; the turn belongs to side 0. Returns 0 or an errno. */
    int (*init)(void *state, int nsides, int processes);
    void (*destroy)(void *state, int nsides);
    /* Block until it is `side`'s turn. Returns 0 or an errno. */
    int (*wait_turn)(void *state, int side);
    /* Hand the turn to side `to`, waking it. Returns 0 or an errno. */
    int (*give_turn)(void *state, int to);
    /* Whether the sides may be separate processes. */
    int process_safe;
    /* Whether it spins rather than sleeps (then every side needs a CPU of its own
     * or a shared one; never more sides than CPUs unless all share one). */
    int spins;
};

extern const struct sb_handoff_ops sb_condvar_ops, sb_condvar_signal_unlocked_ops, sb_futex_ops,
    sb_sem_ops, sb_eventfd_ops, sb_pipe_ops, sb_yield_ops;

#endif
