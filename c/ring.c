#include "ring.h"
#include "counters.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Everything the sides share lives in one MAP_SHARED mapping, so the
 * same code serves threads and forked processes. Each part of it starts on
 * its own cache line (LINE): a hand-off primitive placed at a misaligned
 * offset has its atomic words straddle two lines, and every locked
 * instruction on such a word is a split lock, which locks the whole memory
 * bus and costs far more than the switch it is part of: the suite's thread
 * figures then measured the layout, not the switch (the harness-overhead
 * section, which sets this runner against a plain pthread loop, showed it). */
#define LINE 64

static size_t line_up(size_t n)
{
    return (n + LINE - 1) & ~(size_t)(LINE - 1);
}

struct shared {
    atomic_int arrived;       /* sides set up and waiting at the gate */
    atomic_int gate;          /* 0 closed, 1 go, -1 abort */
    atomic_int setup_failed;
    int nsides;
    /* Sides past the gate and spinning at the start barrier. On a line of
     * its own: hundreds of sides read it while they wait. */
    _Alignas(LINE) atomic_int running;
};

/* Where each side runs. sb_ring alternates two CPUs along the sides;
 * sb_ring_spread keeps each ring on one CPU of a list. */
struct placement {
    int cpu_a, cpu_b;          /* even sides, odd sides; -1 unpinned */
    const int32_t *ring_cpus;  /* when set: ring r on ring_cpus[r % nring_cpus] */
    uint64_t nring_cpus;
};

static int side_cpu(const struct placement *where, size_t side, size_t ring)
{
    if (where->ring_cpus)
        return where->ring_cpus[ring % where->nring_cpus];
    return side % 2 == 0 ? where->cpu_a : where->cpu_b;
}

struct side {
    /* set up by the runner */
    const struct sb_handoff_ops *ops;
    void *state;                /* this side's ring */
    _Atomic uint64_t *seq;      /* this ring's hand-off counter */
    struct shared *shared;
    int number;                 /* place among all sides, to name it in messages */
    int index, ring_size, cpu;
    uint64_t laps, working_set;
    /* results of this side; the message is an array, not a pointer, so a
     * forked side's text reaches the runner through the shared mapping */
    int error;
    char message[sizeof ((struct sb_result *)0)->message];
    uint64_t handoffs, order_errors, touched;
    struct sb_ctx_count ctx_before, ctx_after;
    struct sb_result counted;   /* this side's perf counter deltas */
    uint64_t t_start, t_end;
};

static const struct sb_handoff_ops *lookup(const char *name)
{
    const struct sb_handoff_ops *all[] = {
        &sb_condvar_ops, &sb_condvar_signal_unlocked_ops, &sb_futex_ops, &sb_sem_ops,
        &sb_eventfd_ops, &sb_pipe_ops, &sb_yield_ops,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

/* The first error of a side is the one reported: later ones follow from it. */
static void side_error(struct side *s, int err, const char *what)
{
    if (!s->error) {
        s->error = err;
        sb_error_text(s->message, sizeof s->message, err, what);
    }
}

/* A failed pinning check (its message is complete as it stands). The side
 * goes on with its turns: stopping would leave the rest of its ring
 * waiting for a turn that never comes. */
static void side_check_pinned(struct side *s, const char *when)
{
    char who[32], message[sizeof s->message];
    snprintf(who, sizeof who, "side %d", s->number);
    int err = sb_check_pinned(s->cpu, who, when, message, sizeof message);
    if (err && !s->error) {
        s->error = err;
        snprintf(s->message, sizeof s->message, "%s", message);
    }
}

static void *side_main(void *arg)
{
    struct side *s = arg;
    unsigned char *buf = NULL;
    int err = sb_pin_self(s->cpu);
    if (err)
        side_error(s, err, "pinning to a CPU (pthread_setaffinity_np)");
    if (!err && s->working_set) {
        buf = calloc(1, s->working_set);
        if (!buf)
            side_error(s, ENOMEM, "allocating the working set");
        else
            sb_touch(buf, s->working_set); /* first touch: page faults stay out of the timing */
    }
    struct sb_counters counters;
    sb_counters_open(&counters);
    if (s->error)
        atomic_store(&s->shared->setup_failed, 1);
    /* Every side waits at the gate, which the runner opens once all have
     * arrived, or opens as "abort" if any side could not be set up. */
    atomic_fetch_add(&s->shared->arrived, 1);
    while (atomic_load(&s->shared->gate) == 0)
        sb_futex_wait(&s->shared->gate, 0, 0);
    if (atomic_load(&s->shared->gate) < 0) {
        sb_counters_close(&counters);
        free(buf);
        return NULL;
    }
    /* The start barrier. One futex wake releases the gate, but the kernel
     * wakes its waiters one by one: with hundreds of sides on a few CPUs
     * the first rings would be passing turns, and timing, while the last
     * sides are still being woken. So every side waits here until all
     * are past the gate, and only then starts its clock. It spins with
     * sched_yield rather than sleeping on a futex, so releasing it needs
     * no second serial wake: every waiter is already runnable. The gate
     * opens (1) only when every side has set up, so all of them come;
     * on abort (-1) nobody gets this far. */
    atomic_fetch_add(&s->shared->running, 1);
    while (atomic_load(&s->shared->running) < s->shared->nsides)
        sched_yield();

    /* The timed region starts here: nothing above is measured. */
    side_check_pinned(s, "the start of the timed region");
    sb_counters_start(&counters);
    sb_thread_ctx(&s->ctx_before);
    s->t_start = sb_now_ns();
    const int me = s->index, next = (s->index + 1) % s->ring_size;
    const uint64_t n = (uint64_t)s->ring_size;
    for (uint64_t lap = 0; lap < s->laps; lap++) {
        if ((err = s->ops->wait_turn(s->state, me)) != 0) {
            side_error(s, err, "waiting for the turn");
            break;
        }
        /* Side i sees hand-off number lap * n + i: anything else is a lost
         * or duplicated wake-up. */
        uint64_t seen = atomic_load_explicit(s->seq, memory_order_relaxed);
        if (seen != lap * n + (uint64_t)me)
            s->order_errors++;
        atomic_store_explicit(s->seq, seen + 1, memory_order_relaxed);
        if (buf)
            s->touched += sb_touch(buf, s->working_set);
        s->handoffs++;
        if ((err = s->ops->give_turn(s->state, next)) != 0) {
            side_error(s, err, "handing the turn on");
            break;
        }
    }
    /* The last hand-off of the last lap is the turn coming back to side 0. */
    if (me == 0 && !s->error && (err = s->ops->wait_turn(s->state, 0)) != 0)
        side_error(s, err, "waiting for the last turn");
    s->t_end = sb_now_ns();
    sb_thread_ctx(&s->ctx_after);
    sb_counters_stop(&counters, &s->counted);
    side_check_pinned(s, "the end of the timed region");
    free(buf);
    return NULL;
}

/* The one runner behind sb_ring and sb_ring_spread. */
static int run_rings(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
                     uint64_t working_set, int processes, const struct placement *where,
                     struct sb_result *out)
{
    sb_begin(out, laps);
    const struct sb_handoff_ops *ops = lookup(primitive);
    if (!ops)
        return sb_fail(out, EINVAL, "unknown primitive");
    if (rings < 1 || ring_size < 2 || laps < 1 || rings * ring_size > 4096)
        return sb_fail(out, EINVAL, "need 1+ rings of 2+ sides (4096 sides at most) and 1+ laps");
    if (processes && !ops->process_safe)
        return sb_fail(out, EINVAL, "this primitive cannot hand off between processes");
    if (processes && rings != 1)
        return sb_fail(out, EINVAL, "processes run one ring only");

    /* The mapping, line by line: the gate, the sides, then per ring one line
     * for its hand-off counter followed by its primitive's state. mmap returns
     * a page, so every offset below that is a multiple of LINE is aligned. */
    const size_t nsides = (size_t)(rings * ring_size);
    const size_t state_size = line_up(ops->state_size((int)ring_size));
    const size_t ring_stride = LINE + state_size;
    const size_t sides_at = line_up(sizeof(struct shared));
    const size_t rings_at = sides_at + line_up(nsides * sizeof(struct side));
    const size_t bytes = rings_at + rings * ring_stride;
    unsigned char *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                              -1, 0);
    if (map == MAP_FAILED)
        return sb_fail(out, errno, "mapping shared memory");
    struct shared *shared = (struct shared *)map;
    shared->nsides = (int)nsides;
    struct side *sides = (struct side *)(map + sides_at);
    unsigned char *ring_mem = map + rings_at;

    int err = 0;
    uint64_t ready = 0;
    for (; ready < rings; ready++) {
        void *state = ring_mem + ready * ring_stride + LINE;
        if ((err = ops->init(state, (int)ring_size, processes)) != 0)
            break;
    }
    if (err) {
        for (uint64_t r = 0; r < ready; r++)
            ops->destroy(ring_mem + r * ring_stride + LINE, (int)ring_size);
        munmap(map, bytes);
        return sb_fail(out, err, "initialising the hand-off primitive");
    }

    for (size_t i = 0; i < nsides; i++) {
        size_t ring = i / ring_size;
        sides[i] = (struct side){
            .ops = ops,
            .state = ring_mem + ring * ring_stride + LINE,
            .seq = (_Atomic uint64_t *)(ring_mem + ring * ring_stride),
            .shared = shared,
            .number = (int)i,
            .index = (int)(i % ring_size),
            .ring_size = (int)ring_size,
            .cpu = side_cpu(where, i, ring),
            .laps = laps,
            .working_set = working_set,
        };
    }

    pthread_t *threads = calloc(nsides, sizeof *threads);
    pid_t *children = calloc(nsides, sizeof *children);
    size_t started = 0;
    const char *what = NULL;
    if (!threads || !children) {
        err = ENOMEM;
        what = "allocating thread handles";
    }
    for (; !err && started < nsides; started++) {
        if (processes && sides[started].index != 0) {
            pid_t pid = fork();
            if (pid == 0) {
                /* The child only runs its side: nothing of the parent's
                 * state (the Python interpreter, say) is touched here. */
                side_main(&sides[started]);
                _exit(0);
            }
            if (pid < 0) {
                err = errno;
                what = "starting a benchmark process (fork)";
                break;
            }
            children[started] = pid;
        } else if ((err = pthread_create(&threads[started], NULL, side_main,
                                         &sides[started])) != 0) {
            what = "creating a benchmark thread (pthread_create)";
            break;
        }
    }
    /* Open the gate once every started side is waiting at it. */
    while (atomic_load(&shared->arrived) < (int)started)
        sched_yield();
    atomic_store(&shared->gate, err || atomic_load(&shared->setup_failed) ? -1 : 1);
    sb_futex_wake(&shared->gate, INT32_MAX, 0);
    for (size_t i = 0; i < started; i++) {
        if (children && children[i] > 0)
            waitpid(children[i], NULL, 0);
        else if (threads)
            pthread_join(threads[i], NULL);
    }
    for (uint64_t r = 0; r < rings; r++)
        ops->destroy(ring_mem + r * ring_stride + LINE, (int)ring_size);
    free(threads);
    free(children);

    const char *side_message = NULL; /* complete as it stands: no strerror added */
    if (!err) {
        for (size_t i = 0; i < nsides; i++) {
            if (sides[i].error) {
                err = sides[i].error;
                side_message = sides[i].message;
                break;
            }
        }
    }
    if (!err) {
        uint64_t first_start = UINT64_MAX, last_end = 0;
        for (size_t i = 0; i < nsides; i++) {
            struct side *s = &sides[i];
            out->handoffs += s->handoffs;
            out->order_errors += s->order_errors;
            out->touched += s->touched;
            sb_add_ctx(out, &s->ctx_before, &s->ctx_after);
            sb_merge_counters(out, &s->counted);
            if (s->index == 0) {
                first_start = s->t_start < first_start ? s->t_start : first_start;
                last_end = s->t_end > last_end ? s->t_end : last_end;
            }
        }
        out->elapsed_ns = last_end - first_start;
        out->expected_handoffs = laps * nsides;
    }
    if (side_message)
        sb_fail_text(out, err, side_message);
    else if (err)
        sb_fail(out, err, what);
    munmap(map, bytes);
    return err;
}

int sb_ring(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
            uint64_t working_set, int processes, int cpu_a, int cpu_b, struct sb_result *out)
{
    const struct placement where = {.cpu_a = cpu_a, .cpu_b = cpu_b};
    return run_rings(primitive, rings, ring_size, laps, working_set, processes, &where, out);
}

int sb_ring_spread(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
                   uint64_t working_set, const int32_t *cpus, uint64_t ncpus,
                   struct sb_result *out)
{
    if (!cpus || ncpus < 1) {
        sb_begin(out, laps);
        return sb_fail(out, EINVAL, "spreading rings needs at least one CPU");
    }
    for (uint64_t i = 0; i < ncpus; i++) {
        if (cpus[i] < 0) {
            sb_begin(out, laps);
            return sb_fail(out, EINVAL, "spreading rings needs CPU numbers, not -1");
        }
    }
    const struct placement where = {.cpu_a = -1, .cpu_b = -1, .ring_cpus = cpus,
                                    .nring_cpus = ncpus};
    return run_rings(primitive, rings, ring_size, laps, working_set, 0, &where, out);
}
