/*
 * C-level checks, run by the test suite: every hand-off alternates in
 * order, loses no wake-up, and reports its own errors.
 * Usage: check_handoffs CPU_A CPU_B   (CPU_B = CPU_A on a one-CPU machine)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchbench.h"

static int passes, failures;

static void expect(int ok, const char *what, const char *detail)
{
    if (ok) {
        passes++;
    } else {
        fprintf(stderr, "FAIL: %s %s\n", what, detail);
        failures++;
    }
}

static void expect_correct(int err, const struct sb_result *r, const char *what)
{
    char detail[256];
    snprintf(detail, sizeof detail, "(err %d %s; handoffs %" PRIu64 " of %" PRIu64
             ", out of turn %" PRIu64 ", elapsed %" PRIu64 " ns)",
             err, r->message, r->handoffs, r->expected_handoffs, r->order_errors, r->elapsed_ns);
    expect(err == 0 && r->error == 0 && r->expected_handoffs > 0 &&
               r->handoffs == r->expected_handoffs && r->order_errors == 0 &&
               r->elapsed_ns > 0 && r->voluntary_ctx >= 0 && r->involuntary_ctx >= 0,
           what, detail);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CPU_A CPU_B\n", argv[0]);
        return 2;
    }
    int cpu_a = atoi(argv[1]), cpu_b = atoi(argv[2]);
    const char *primitives[] = {"condvar", "futex", "sem", "eventfd", "pipe", "yield"};
    const int placements[][2] = {{cpu_a, cpu_a}, {cpu_a, cpu_b}, {-1, -1}};
    struct sb_result r;
    char what[128];

    for (size_t p = 0; p < sizeof primitives / sizeof primitives[0]; p++) {
        for (size_t pl = 0; pl < 3; pl++) {
            /* yield spins: only meaningful when both sides share one CPU. */
            if (strcmp(primitives[p], "yield") == 0 && pl != 0)
                continue;
            int a = placements[pl][0], b = placements[pl][1];
            for (uint64_t laps = 1; laps <= 300; laps *= 300) {
                snprintf(what, sizeof what, "%s pair cpus %d,%d laps %" PRIu64, primitives[p], a,
                         b, laps);
                expect_correct(sb_ring(primitives[p], 1, 2, laps, 0, 0, a, b, &r), &r, what);
            }
            snprintf(what, sizeof what, "%s 3 pairs cpus %d,%d", primitives[p], a, b);
            if (strcmp(primitives[p], "yield") != 0)
                expect_correct(sb_ring(primitives[p], 3, 2, 100, 0, 0, a, b, &r), &r, what);
            snprintf(what, sizeof what, "%s ring of 5 with a working set", primitives[p]);
            expect_correct(sb_ring(primitives[p], 1, 5, 50, 4096, 0, a, a, &r), &r, what);
            expect(r.touched > 0, what, "(working set not touched)");
        }
    }
    expect_correct(sb_ring("pipe", 1, 2, 200, 0, 1, cpu_a, cpu_b, &r), &r, "pipe between processes");
    expect_correct(sb_ring("sem", 1, 2, 200, 0, 1, cpu_a, cpu_a, &r), &r, "sem between processes");
    expect_correct(sb_ucontext_pingpong(1000, &r), &r, "swapcontext ping-pong");
    expect(r.voluntary_ctx + r.involuntary_ctx < 50, "swapcontext stays in user space", "");
    expect_correct(sb_spawn_threads(50, cpu_a, &r), &r, "thread creation and join");
    expect_correct(sb_baseline("getppid", 1000, &r), &r, "getppid baseline");
    expect_correct(sb_baseline("clock_monotonic", 1000, &r), &r, "clock baseline");

    /* Errors are reported, never crashes or hangs. */
    expect(sb_ring("nope", 1, 2, 10, 0, 0, -1, -1, &r) == EINVAL && r.message[0], "unknown primitive", "");
    expect(sb_ring("condvar", 1, 2, 0, 0, 0, -1, -1, &r) == EINVAL, "zero laps refused", "");
    expect(sb_ring("condvar", 1, 1, 10, 0, 0, -1, -1, &r) == EINVAL, "a ring of one refused", "");
    expect(sb_ring("condvar", 1, 2, 10, 0, 1, -1, -1, &r) == EINVAL, "condvar across processes refused", "");
    expect(sb_ring("condvar", 1, 2, 10, 0, 0, 1 << 20, -1, &r) != 0 && strstr(r.message, "pinning"),
           "pinning to a missing CPU fails with a message", r.message);
    expect(sb_spawn_threads(5, 1 << 20, &r) != 0, "spawn pinned to a missing CPU fails", "");
    expect(sb_baseline("nope", 10, &r) == EINVAL, "unknown baseline refused", "");
    expect(sb_ucontext_pingpong(0, &r) == EINVAL, "zero round trips refused", "");

    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
