/*
 * C-level checks, run by the test suite: every ping-pong alternates
 * strictly, loses no wake-up, and reports its own errors.
 * Usage: check_pingpong ROUND_TRIPS CPU_A CPU_B
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "switchbench.h"

static int passes, failures;

static void expect(int ok, const char *what)
{
    if (ok) {
        passes++;
    } else {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s ROUND_TRIPS CPU_A CPU_B\n", argv[0]);
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 10);
    int cpu_a = atoi(argv[2]), cpu_b = atoi(argv[3]);

    struct sb_result r;
    int err = sb_condvar_pingpong(n, cpu_a, cpu_b, &r);
    expect(err == 0, "condvar ping-pong runs");
    if (err)
        fprintf(stderr, "  %s\n", r.message);
    expect(r.handoffs_a == n && r.handoffs_b == n, "both sides hand off exactly n times");
    expect(r.order_errors == 0, "hand-offs strictly alternate");
    expect(r.elapsed_ns > 0, "the loop takes measurable time");
    expect(r.voluntary_ctx >= 0 && r.involuntary_ctx >= 0, "context-switch counts are not negative");
    printf("condvar round_trips=%" PRIu64 " handoffs=%" PRIu64 "/%" PRIu64 " elapsed_ns=%" PRIu64
           " voluntary=%" PRId64 " involuntary=%" PRId64 "\n",
           n, r.handoffs_a, r.handoffs_b, r.elapsed_ns, r.voluntary_ctx, r.involuntary_ctx);

    err = sb_condvar_pingpong(0, cpu_a, cpu_b, &r);
    expect(err == EINVAL && r.error == EINVAL, "zero round trips is refused");

    err = sb_condvar_pingpong(n, 1 << 20, cpu_b, &r);
    expect(err != 0 && r.message[0] != '\0', "pinning to a CPU that does not exist fails with a message");

    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
