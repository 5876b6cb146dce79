/* Benchmarks of one thread: user-level context switches, thread creation,
 * and the baselines (a null system call, a clock read). */
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
    const char *what;
    _Atomic uint64_t ran;
    uint64_t elapsed_ns;
    struct sb_ctx_count before, after;
    struct sb_result counted;
};

static void *spawner_main(void *arg)
{
    struct spawner *sp = arg;
    if ((sp->error = sb_pin_self(sp->cpu)) != 0) {
        sp->what = "pinning to a CPU (pthread_setaffinity_np)";
        return NULL;
    }
    struct sb_counters counters;
    sb_counters_open(&counters);
    sb_counters_start(&counters);
    sb_thread_ctx(&sp->before);
    uint64_t t0 = sb_now_ns();
    for (uint64_t i = 0; i < sp->threads; i++) {
        pthread_t t;
        /* New threads inherit the spawner's CPU affinity. */
        if ((sp->error = pthread_create(&t, NULL, count_me, (void *)&sp->ran)) != 0) {
            sp->what = "creating a thread (pthread_create)";
            break;
        }
        pthread_join(t, NULL);
    }
    sp->elapsed_ns = sb_now_ns() - t0;
    sb_thread_ctx(&sp->after);
    sb_counters_stop(&counters, &sp->counted);
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
        return sb_fail(out, sp.error, sp.what);
    out->elapsed_ns = sp.elapsed_ns;
    /* Only the spawner's switches: the short-lived threads are gone before
     * they can be counted, which the report says. */
    sb_add_ctx(out, &sp.before, &sp.after);
    sb_merge_counters(out, &sp.counted);
    out->handoffs = atomic_load(&sp.ran);
    out->expected_handoffs = threads;
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
