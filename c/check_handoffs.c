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
    char detail[512];
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
    const char *primitives[] = {"condvar", "condvar-signal-unlocked", "futex", "sem",
                                "eventfd", "pipe", "yield"};
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

    /* Pinning is verified where the timed region starts and ends. A
     * migration cannot be forced from here, so this checks the normal
     * path only: a pinned run whose sides stayed put reports no error. */
    expect_correct(sb_ring("futex", 2, 2, 100, 0, 0, cpu_a, cpu_b, &r), &r,
                   "pinned sides pass their CPU checks");
    expect(r.error == 0 && r.message[0] == 0, "a pinned run that stayed put has no message",
           r.message);

    /* Many rings at once: every side passes the start barrier, then runs. */
    expect_correct(sb_ring("futex", 64, 2, 20, 0, 0, cpu_a, cpu_b, &r), &r,
                   "64 pairs through the start barrier");
    expect_correct(sb_ring("condvar", 32, 2, 20, 0, 0, -1, -1, &r), &r,
                   "32 unpinned pairs through the start barrier");

    /* Rings dealt over CPUs, each ring on one CPU. */
    const int32_t two_cpus[] = {cpu_a, cpu_b};
    expect_correct(sb_ring_spread("futex", 4, 2, 100, 0, two_cpus, 2, &r), &r,
                   "4 pairs spread over 2 CPUs");
    expect_correct(sb_ring_spread("condvar-signal-unlocked", 3, 3, 50, 4096, two_cpus, 2, &r),
                   &r, "3 rings of 3 spread, with a working set");
    expect(r.touched > 0, "spread rings touch their working sets", "");
    expect_correct(sb_ring_spread("yield", 2, 2, 100, 0, two_cpus, 1, &r), &r,
                   "spinning pairs, both rings on one CPU");

    /* The touch-only loop: a ring's turns without the switches. */
    expect_correct(sb_touch_only(4, 25, 4096, cpu_a, &r), &r, "touch only, pinned");
    expect(r.handoffs == 100 && r.touched > 0, "touch only counts its turns and touches", "");
    expect_correct(sb_touch_only(1, 10, 64, -1, &r), &r, "touch only, unpinned, one line");

    /* Boost.Context, where it is installed. */
    char why[256];
    if (sb_fcontext_probe(why, sizeof why) == 0) {
        expect_correct(sb_fcontext_pingpong(1000, &r), &r, "fcontext ping-pong");
        expect(r.voluntary_ctx + r.involuntary_ctx < 50, "fcontext stays in user space", "");
        expect(sb_fcontext_pingpong(0, &r) == EINVAL, "zero fcontext round trips refused", "");
    } else {
        expect(sb_fcontext_pingpong(10, &r) == ENOENT && strstr(r.message, "libboost-context-dev"),
               "fcontext without Boost.Context says what to install", r.message);
        printf("skipped the fcontext ping-pong: %s\n", why);
    }
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
    /* Half the sides fail to pin: nobody may be left waiting at the barrier. */
    expect(sb_ring("futex", 8, 2, 10, 0, 0, cpu_a, 1 << 20, &r) != 0 && strstr(r.message, "pinning"),
           "sides that failed setup do not hang the others", r.message);
    expect(sb_ring_spread("futex", 2, 2, 10, 0, two_cpus, 0, &r) == EINVAL,
           "spreading over no CPUs refused", "");
    const int32_t missing_cpu[] = {1 << 20};
    expect(sb_ring_spread("futex", 2, 2, 10, 0, missing_cpu, 1, &r) != 0 &&
               strstr(r.message, "pinning"),
           "spreading onto a missing CPU fails with a message", r.message);
    expect(sb_touch_only(2, 10, 63, -1, &r) == EINVAL && r.message[0],
           "touching less than a cache line refused", "");
    expect(sb_touch_only(0, 10, 4096, -1, &r) == EINVAL, "touching no working set refused", "");
    expect(sb_touch_only(2, 10, 4096, 1 << 20, &r) != 0 && strstr(r.message, "pinning"),
           "touch only pinned to a missing CPU fails", r.message);
    expect(sb_baseline("nope", 10, &r) == EINVAL, "unknown baseline refused", "");
    expect(sb_ucontext_pingpong(0, &r) == EINVAL, "zero round trips refused", "");

    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
