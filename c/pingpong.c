#include "pingpong.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

struct side_args {
    const struct sb_handoff_ops *ops;
    void *state;
    int side;
    int cpu;
    uint64_t round_trips;
    pthread_barrier_t *start;
    atomic_int *setup_failed;
    _Atomic uint64_t *seq;
    /* results of this side */
    int error;
    const char *what;
    uint64_t handoffs;
    uint64_t order_errors;
    struct sb_ctx_count ctx_before, ctx_after;
    uint64_t t_start, t_end;
};

static void *side_main(void *arg)
{
    struct side_args *a = arg;
    int err = sb_pin_self(a->cpu);
    if (err) {
        a->error = err;
        a->what = "pinning a thread to its CPU (pthread_setaffinity_np)";
        atomic_store(a->setup_failed, 1);
    }
    /* Both sides reach the barrier even on failure, so neither hangs. */
    pthread_barrier_wait(a->start);
    if (atomic_load(a->setup_failed))
        return NULL;

    /* The timed region starts here: nothing above is measured. */
    sb_thread_ctx(&a->ctx_before);
    if (a->side == 0)
        a->t_start = sb_now_ns();

    const int me = a->side, other = 1 - a->side;
    for (uint64_t i = 0; i < a->round_trips; i++) {
        a->ops->wait_turn(a->state, me);
        /* Side 0 sees even sequence numbers, side 1 odd ones: anything
         * else is a lost or duplicated wake-up. */
        uint64_t seen = atomic_load_explicit(a->seq, memory_order_relaxed);
        if (seen != 2 * i + (uint64_t)me)
            a->order_errors++;
        atomic_store_explicit(a->seq, seen + 1, memory_order_relaxed);
        a->handoffs++;
        a->ops->give_turn(a->state, other);
    }
    if (me == 0) {
        /* The last switch of the last round trip is the turn coming back. */
        a->ops->wait_turn(a->state, 0);
        a->t_end = sb_now_ns();
    }
    sb_thread_ctx(&a->ctx_after);
    return NULL;
}

int sb_run_pingpong(const struct sb_handoff_ops *ops, void *state,
                    uint64_t round_trips, int cpu_a, int cpu_b,
                    struct sb_result *out)
{
    memset(out, 0, sizeof *out);
    out->cpu_a = cpu_a;
    out->cpu_b = cpu_b;
    if (round_trips == 0)
        return sb_fail(out, EINVAL, "round_trips must be at least 1");

    int err = ops->init(state);
    if (err)
        return sb_fail(out, err, "initialising the hand-off primitive");

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    atomic_int setup_failed = 0;
    _Atomic uint64_t seq = 0;
    struct side_args sides[2];
    for (int s = 0; s < 2; s++) {
        sides[s] = (struct side_args){
            .ops = ops, .state = state, .side = s,
            .cpu = s == 0 ? cpu_a : cpu_b, .round_trips = round_trips,
            .start = &start, .setup_failed = &setup_failed, .seq = &seq,
        };
    }

    pthread_t threads[2];
    int started = 0;
    for (; started < 2; started++) {
        err = pthread_create(&threads[started], NULL, side_main, &sides[started]);
        if (err)
            break;
    }
    if (err) {
        /* One side is waiting at the barrier alone: fail it and let it go. */
        if (started == 1) {
            atomic_store(&setup_failed, 1);
            pthread_barrier_wait(&start);
            pthread_join(threads[0], NULL);
        }
        pthread_barrier_destroy(&start);
        ops->destroy(state);
        return sb_fail(out, err, "creating a benchmark thread (pthread_create)");
    }
    for (int s = 0; s < 2; s++)
        pthread_join(threads[s], NULL);
    pthread_barrier_destroy(&start);
    ops->destroy(state);

    for (int s = 0; s < 2; s++)
        if (sides[s].error)
            return sb_fail(out, sides[s].error, sides[s].what);

    out->elapsed_ns = sides[0].t_end - sides[0].t_start;
    out->handoffs_a = sides[0].handoffs;
    out->handoffs_b = sides[1].handoffs;
    out->order_errors = sides[0].order_errors + sides[1].order_errors;
    for (int s = 0; s < 2; s++) {
        out->voluntary_ctx += sides[s].ctx_after.voluntary - sides[s].ctx_before.voluntary;
        out->involuntary_ctx += sides[s].ctx_after.involuntary - sides[s].ctx_before.involuntary;
    }
    return 0;
}
