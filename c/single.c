/* Benchmarks of one thread: swapcontext switches, thread creation, the
 * touch-only loop, and the baselines (a null system call, a clock read).
 * Boost.Context's switches are in fcontext.c. */
#include "common.h" /* first: it sets _GNU_SOURCE */
#include "counters.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>


/* ---- swapcontext ping-pong -------------------------------------------- */

/* Not the user-space floor: glibc's swapcontext saves and restores the
 * signal mask, one rt_sigprocmask system call per switch, so each switch
 * here is a context swap plus a system call (fcontext.c has the floor). */

static ucontext_t main_ctx, partner_ctx;
static uint64_t partner_handoffs, partner_order_errors, ucontext_seq;

static void partner(void)
{
    for (;;) {
        /* The partner sees odd sequence numbers, the main side even ones. */
        if (ucontext_seq % 2 != 1)
            partner_order_errors++;
        ucontext_seq++;
        partner_handoffs++;
        swapcontext(&partner_ctx, &main_ctx);
    }
}

int sb_ucontext_pingpong(uint64_t round_trips, struct sb_result *out)
{
    sb_begin(out, round_trips);
    if (round_trips < 1)
        return sb_fail(out, EINVAL, "round_trips must be at least 1");
    const size_t stack_size = 64 * 1024;
    void *stack = malloc(stack_size);
    if (!stack)
        return sb_fail(out, ENOMEM, "allocating the partner's stack");
    if (getcontext(&partner_ctx) != 0) {
        free(stack);
        return sb_fail(out, errno, "getcontext");
    }
    partner_ctx.uc_stack.ss_sp = stack;
    partner_ctx.uc_stack.ss_size = stack_size;
    partner_ctx.uc_link = NULL;
    makecontext(&partner_ctx, partner, 0);
    partner_handoffs = partner_order_errors = ucontext_seq = 0;

    uint64_t main_handoffs = 0, main_order_errors = 0;
    struct sb_ctx_count before, after;
    struct sb_counters counters;
    sb_counters_open(&counters);
    sb_counters_start(&counters);
    sb_thread_ctx(&before);
    uint64_t t0 = sb_now_ns();
    for (uint64_t i = 0; i < round_trips; i++) {
        if (ucontext_seq != 2 * i)
            main_order_errors++;
        ucontext_seq++;
        main_handoffs++;
        swapcontext(&main_ctx, &partner_ctx);
    }
    out->elapsed_ns = sb_now_ns() - t0;
    sb_thread_ctx(&after);
    sb_counters_stop(&counters, out);
    sb_add_ctx(out, &before, &after);
    free(stack);
    out->handoffs = main_handoffs + partner_handoffs;
    out->expected_handoffs = 2 * round_trips;
    out->order_errors = main_order_errors + partner_order_errors;
    return 0;
}

/* ---- thread creation + join ------------------------------------------ */

static void *count_me(void *arg)
{
    atomic_fetch_add((_Atomic uint64_t *)arg, 1);
    return NULL;
}

struct spawner {
    uint64_t threads;
    int cpu;
    int error;
    char message[sizeof ((struct sb_result *)0)->message];
    _Atomic uint64_t ran;
    uint64_t elapsed_ns;
    struct sb_ctx_count before, after;
    struct sb_result counted;
};

static void *spawner_main(void *arg)
{
    struct spawner *sp = arg;
    int err = sb_pin_self(sp->cpu);
    if (err) {
        sp->error = sb_error_text(sp->message, sizeof sp->message, err,
                                  "pinning to a CPU (pthread_setaffinity_np)");
        return NULL;
    }
    struct sb_counters counters;
    sb_counters_open(&counters);
    sp->error = sb_check_pinned(sp->cpu, "the spawning thread", "the start of the timed region",
                                sp->message, sizeof sp->message);
    sb_counters_start(&counters);
    sb_thread_ctx(&sp->before);
    uint64_t t0 = sb_now_ns();
    for (uint64_t i = 0; i < sp->threads; i++) {
        pthread_t t;
        /* New threads inherit the spawner's CPU affinity. */
        if ((err = pthread_create(&t, NULL, count_me, (void *)&sp->ran)) != 0) {
            if (!sp->error)
                sp->error = sb_error_text(sp->message, sizeof sp->message, err,
                                          "creating a thread (pthread_create)");
            break;
        }
        pthread_join(t, NULL);
    }
    sp->elapsed_ns = sb_now_ns() - t0;
    sb_thread_ctx(&sp->after);
    sb_counters_stop(&counters, &sp->counted);
    if (!sp->error)
        sp->error = sb_check_pinned(sp->cpu, "the spawning thread",
                                    "the end of the timed region", sp->message,
                                    sizeof sp->message);
    return NULL;
}

int sb_spawn_threads(uint64_t threads, int cpu, struct sb_result *out)
{
    sb_begin(out, threads);
    if (threads < 1)
        return sb_fail(out, EINVAL, "threads must be at least 1");
    /* A thread of its own, so pinning never touches the caller's thread. */
    struct spawner sp = {.threads = threads, .cpu = cpu};
    pthread_t t;
    int err = pthread_create(&t, NULL, spawner_main, &sp);
    if (err)
        return sb_fail(out, err, "creating the spawning thread");
    pthread_join(t, NULL);
    if (sp.error)
        return sb_fail_text(out, sp.error, sp.message);
    out->elapsed_ns = sp.elapsed_ns;
    /* Only the spawner's switches: the short-lived threads are gone before
     * they can be counted, which the report says. */
    sb_add_ctx(out, &sp.before, &sp.after);
    sb_merge_counters(out, &sp.counted);
    out->handoffs = atomic_load(&sp.ran);
    out->expected_handoffs = threads;
    return 0;
}

/* ---- touch only ------------------------------------------------------- */

struct toucher {
    uint64_t ring_size, laps, working_set;
    int cpu;
    int error;
    char message[sizeof ((struct sb_result *)0)->message];
    uint64_t turns, touched, elapsed_ns;
    struct sb_ctx_count before, after;
    struct sb_result counted;
};

static void *toucher_main(void *arg)
{
    struct toucher *tc = arg;
    int err = sb_pin_self(tc->cpu);
    if (err) {
        tc->error = sb_error_text(tc->message, sizeof tc->message, err,
                                  "pinning to a CPU (pthread_setaffinity_np)");
        return NULL;
    }
    /* One working set per ring side, as the ring gives each side its own;
     * all allocated and first-touched here, so no page fault is timed. */
    unsigned char **sets = calloc(tc->ring_size, sizeof *sets);
    if (!sets) {
        tc->error = sb_error_text(tc->message, sizeof tc->message, ENOMEM,
                                  "allocating the working sets");
        return NULL;
    }
    for (uint64_t b = 0; b < tc->ring_size && !tc->error; b++) {
        if (!(sets[b] = calloc(1, tc->working_set)))
            tc->error = sb_error_text(tc->message, sizeof tc->message, ENOMEM,
                                      "allocating the working sets");
        else
            sb_touch(sets[b], tc->working_set);
    }
    if (!tc->error) {
        struct sb_counters counters;
        sb_counters_open(&counters);
        tc->error = sb_check_pinned(tc->cpu, "the touching thread",
                                    "the start of the timed region", tc->message,
                                    sizeof tc->message);
        sb_counters_start(&counters);
        sb_thread_ctx(&tc->before);
        uint64_t t0 = sb_now_ns();
        /* A ring side's turn, less the wait and the hand-off: the same
         * sb_touch call and the same count. */
        for (uint64_t lap = 0; lap < tc->laps; lap++) {
            for (uint64_t b = 0; b < tc->ring_size; b++) {
                tc->touched += sb_touch(sets[b], tc->working_set);
                tc->turns++;
            }
        }
        tc->elapsed_ns = sb_now_ns() - t0;
        sb_thread_ctx(&tc->after);
        sb_counters_stop(&counters, &tc->counted);
        if (!tc->error)
            tc->error = sb_check_pinned(tc->cpu, "the touching thread",
                                        "the end of the timed region", tc->message,
                                        sizeof tc->message);
    }
    for (uint64_t b = 0; b < tc->ring_size; b++)
        free(sets[b]);
    free(sets);
    return NULL;
}

int sb_touch_only(uint64_t ring_size, uint64_t laps, uint64_t working_set, int cpu,
                  struct sb_result *out)
{
    sb_begin(out, laps);
    if (ring_size < 1 || ring_size > 4096 || laps < 1 || working_set < 64)
        return sb_fail(out, EINVAL,
                       "touching needs 1 to 4096 working sets of 64+ bytes and 1+ laps");
    /* A thread of its own, so pinning never touches the caller's thread. */
    struct toucher tc = {
        .ring_size = ring_size, .laps = laps, .working_set = working_set, .cpu = cpu,
    };
    pthread_t t;
    int err = pthread_create(&t, NULL, toucher_main, &tc);
    if (err)
        return sb_fail(out, err, "creating the touching thread");
    pthread_join(t, NULL);
    if (tc.error)
        return sb_fail_text(out, tc.error, tc.message);
    out->elapsed_ns = tc.elapsed_ns;
    sb_add_ctx(out, &tc.before, &tc.after);
    sb_merge_counters(out, &tc.counted);
    out->handoffs = tc.turns;
    out->expected_handoffs = laps * ring_size;
    out->touched = tc.touched;
    return 0;
}

/* ---- baselines --------------------------------------------------------- */

int sb_baseline(const char *call, uint64_t calls, struct sb_result *out)
{
    sb_begin(out, calls);
    if (calls < 1)
        return sb_fail(out, EINVAL, "calls must be at least 1");
    const int getppid_call = strcmp(call, "getppid") == 0;
    if (!getppid_call && strcmp(call, "clock_monotonic") != 0)
        return sb_fail(out, EINVAL, "unknown baseline (getppid, clock_monotonic)");

    const long parent = syscall(SYS_getppid);
    uint64_t good = 0;
    struct timespec ts, last = {0, 0};
    struct sb_ctx_count before, after;
    struct sb_counters counters;
    sb_counters_open(&counters);
    sb_counters_start(&counters);
    sb_thread_ctx(&before);
    uint64_t t0 = sb_now_ns();
    if (getppid_call) {
        /* syscall(2) directly: no library may cache the answer. */
        for (uint64_t i = 0; i < calls; i++)
            good += syscall(SYS_getppid) == parent;
    } else {
        for (uint64_t i = 0; i < calls; i++) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            good += ts.tv_sec > last.tv_sec ||
                    (ts.tv_sec == last.tv_sec && ts.tv_nsec >= last.tv_nsec);
            last = ts;
        }
    }
    out->elapsed_ns = sb_now_ns() - t0;
    sb_thread_ctx(&after);
    sb_counters_stop(&counters, out);
    sb_add_ctx(out, &before, &after);
    out->handoffs = good;
    out->expected_handoffs = calls;
    return 0;
}

/* ---- clock rate -------------------------------------------------------- */

uint64_t sb_add_chain_ns(uint64_t iterations)
{
    uint64_t x = 0;
    uint64_t t0 = sb_now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        /* The empty asm makes each addition depend on the one before and
         * keeps the compiler from folding them: 8 additions, 8 cycles. */
#define SB_ADD1 x += 1; __asm__ volatile("" : "+r"(x))
        SB_ADD1; SB_ADD1; SB_ADD1; SB_ADD1; SB_ADD1; SB_ADD1; SB_ADD1; SB_ADD1;
#undef SB_ADD1
    }
    uint64_t elapsed = sb_now_ns() - t0;
    __asm__ volatile("" : : "r"(x));
    return elapsed;
}
