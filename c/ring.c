#include "ring.h"
#include "account.h"
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
    /* sb_ring_accounted only: this side's own CPU time at the start and end
     * of its timed region (in the mapping, so a forked side's comes back) */
    int accounting;
    struct sb_times times_before, times_after;
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
    if (s->accounting)
        sb_thread_times(&s->times_before);
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
    if (s->accounting)
        sb_thread_times(&s->times_after);
    side_check_pinned(s, "the end of the timed region");
    free(buf);
    return NULL;
}

/* One run of rings: what was asked, and what the runner has set up for it
 * so far. The steps below fill it in turn and undo it in reverse. */
struct run {
    /* asked */
    const struct sb_handoff_ops *ops;
    uint64_t rings, ring_size, laps, working_set;
    int processes;
    const struct placement *where;
    struct sb_account *account; /* NULL: no accounting (every timed case) */
    /* the shared mapping (lay_out) */
    unsigned char *map;
    size_t bytes, nsides, ring_stride;
    struct shared *shared;
    struct side *sides;
    unsigned char *ring_mem;    /* per ring: its hand-off counter's line, then its state */
    /* the sides started (start_sides), to be joined */
    pthread_t *threads;
    pid_t *children;            /* > 0 where the side is a forked process */
    size_t started;
};

static _Atomic uint64_t *ring_seq(const struct run *r, size_t ring)
{
    return (_Atomic uint64_t *)(r->ring_mem + ring * r->ring_stride);
}

static void *ring_state(const struct run *r, size_t ring)
{
    return r->ring_mem + ring * r->ring_stride + LINE;
}

/* What is wrong with the request, or NULL: checked before anything is set
 * up, so a bad request costs nothing to refuse. */
static const char *request_problem(const struct run *r)
{
    if (!r->ops)
        return "unknown primitive";
    if (r->rings < 1 || r->ring_size < 2 || r->laps < 1 || r->rings * r->ring_size > 4096)
        return "need 1+ rings of 2+ sides (4096 sides at most) and 1+ laps";
    if (r->processes && !r->ops->process_safe)
        return "this primitive cannot hand off between processes";
    if (r->processes && r->rings != 1)
        return "processes run one ring only";
    return NULL;
}

/* Destroys the primitives of the first `count` rings: all of them after a
 * run, only those set up when setting up a later one failed. */
static void destroy_rings(const struct run *r, size_t count)
{
    for (size_t ring = 0; ring < count; ring++)
        r->ops->destroy(ring_state(r, ring), (int)r->ring_size);
}

/* Sets up each ring's primitive in the mapping, the turn with side 0.
 * On failure those already set up are destroyed again. */
static int init_rings(const struct run *r)
{
    for (size_t ring = 0; ring < r->rings; ring++) {
        int err = r->ops->init(ring_state(r, ring), (int)r->ring_size, r->processes);
        if (err) {
            destroy_rings(r, ring);
            return err;
        }
    }
    return 0;
}

/* Fills in what each side is given before it starts: its ring, its place
 * in it, its CPU and its work. The sides live in the mapping so that a
 * forked side's results come back to the runner. */
static void describe_sides(const struct run *r)
{
    for (size_t i = 0; i < r->nsides; i++) {
        size_t ring = i / r->ring_size;
        r->sides[i] = (struct side){
            .ops = r->ops,
            .state = ring_state(r, ring),
            .seq = ring_seq(r, ring),
            .shared = r->shared,
            .number = (int)i,
            .index = (int)(i % r->ring_size),
            .ring_size = (int)r->ring_size,
            .cpu = side_cpu(r->where, i, ring),
            .laps = r->laps,
            .working_set = r->working_set,
            .accounting = r->account != NULL,
        };
    }
}

/* Lays out the shared mapping, line by line: the gate, the sides, then per
 * ring one line for its hand-off counter followed by its primitive's state.
 * mmap returns a page, so every offset that is a multiple of LINE is
 * aligned (see LINE for why that matters). Then sets up each ring's
 * primitive and describes the sides. On failure nothing is left mapped. */
static int lay_out(struct run *r, const char **what)
{
    r->nsides = (size_t)(r->rings * r->ring_size);
    r->ring_stride = LINE + line_up(r->ops->state_size((int)r->ring_size));
    const size_t sides_at = line_up(sizeof(struct shared));
    const size_t rings_at = sides_at + line_up(r->nsides * sizeof(struct side));
    r->bytes = rings_at + r->rings * r->ring_stride;
    r->map = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r->map == MAP_FAILED) {
        *what = "mapping shared memory";
        return errno;
    }
    r->shared = (struct shared *)r->map;
    r->shared->nsides = (int)r->nsides;
    r->sides = (struct side *)(r->map + sides_at);
    r->ring_mem = r->map + rings_at;
    int err = init_rings(r);
    if (err) {
        munmap(r->map, r->bytes);
        *what = "initialising the hand-off primitive";
        return err;
    }
    describe_sides(r);
    return 0;
}

/* Starts side i: a forked process when the run asks for processes, except
 * each ring's side 0, which stays a thread of the caller; else a thread. */
static int start_side(struct run *r, size_t i, const char **what)
{
    if (r->processes && r->sides[i].index != 0) {
        pid_t pid = fork();
        if (pid == 0) {
            /* The child only runs its side: nothing of the parent's
             * state (the Python interpreter, say) is touched here. */
            side_main(&r->sides[i]);
            _exit(0);
        }
        if (pid < 0) {
            int err = errno;
            *what = "starting a benchmark process (fork)";
            return err;
        }
        r->children[i] = pid;
        return 0;
    }
    int err = pthread_create(&r->threads[i], NULL, side_main, &r->sides[i]);
    if (err)
        *what = "creating a benchmark thread (pthread_create)";
    return err;
}

/* Starts the sides in order, stopping at the first that cannot start. Those
 * started (r->started) go to wait at the gate, and must be let through it
 * and joined (open_gate_and_join) whether or not the rest started. */
static int start_sides(struct run *r, const char **what)
{
    r->threads = calloc(r->nsides, sizeof *r->threads);
    r->children = calloc(r->nsides, sizeof *r->children);
    if (!r->threads || !r->children) {
        *what = "allocating thread handles";
        return ENOMEM;
    }
    for (; r->started < r->nsides; r->started++) {
        int err = start_side(r, r->started, what);
        if (err)
            return err;
    }
    return 0;
}

/* Opens the gate once every started side is waiting at it: as "go" when
 * all sides started and set up, else as "abort", so that those waiting
 * leave without running. Then waits for every started side to finish, and
 * frees their handles. */
static void open_gate_and_join(struct run *r, int start_err)
{
    while (atomic_load(&r->shared->arrived) < (int)r->started)
        sched_yield();
    /* The CPUs' view is read just before the gate opens and just after the
     * last side is joined: it holds the sides' whole region. */
    int64_t ticks_before[8];
    uint64_t t0 = 0;
    struct sb_tasks tasks_before = {0};
    if (r->account) {
        r->account->others_error = sb_tasks_read(&tasks_before);
        r->account->stat_error = sb_cpu_ticks(r->account, ticks_before);
        t0 = sb_now_ns();
    }
    atomic_store(&r->shared->gate, start_err || atomic_load(&r->shared->setup_failed) ? -1 : 1);
    sb_futex_wake(&r->shared->gate, INT32_MAX, 0);
    for (size_t i = 0; i < r->started; i++) {
        if (r->children && r->children[i] > 0)
            waitpid(r->children[i], NULL, 0);
        else if (r->threads)
            pthread_join(r->threads[i], NULL);
    }
    if (r->account) {
        uint64_t t1 = sb_now_ns();
        int64_t ticks_after[8];
        int err = sb_cpu_ticks(r->account, ticks_after);
        if (!r->account->stat_error)
            r->account->stat_error = err;
        r->account->region_ns = (int64_t)(t1 - t0);
        for (int i = 0; i < 8; i++)
            r->account->cpu_ticks[i] = ticks_after[i] - ticks_before[i];
        /* Read after the join: the sides have ended, so the sum is the other
         * tasks' alone (the runner's own thread among them). */
        struct sb_tasks tasks_after = {0};
        if (!r->account->others_error)
            r->account->others_error = sb_tasks_read(&tasks_after);
        if (!r->account->others_error)
            r->account->others_oncpu_ns =
                sb_tasks_gain(&tasks_before, &tasks_after, &r->account->others_tasks);
        sb_tasks_free(&tasks_after);
    }
    sb_tasks_free(&tasks_before);
    free(r->threads);
    free(r->children);
    r->threads = NULL;
    r->children = NULL;
}

/* The first error any side had, with its message (complete as it stands:
 * no strerror is added to it). A side's error fails the whole run. */
static int first_side_error(const struct run *r, const char **message)
{
    for (size_t i = 0; i < r->nsides; i++) {
        if (r->sides[i].error) {
            *message = r->sides[i].message;
            return r->sides[i].error;
        }
    }
    return 0;
}

/* Sums every side's counts into out. The time is taken from each ring's
 * side 0, which makes the first hand-off of its ring and takes the last
 * one back: from the first ring's start to the last ring's end. */
static void merge_results(const struct run *r, struct sb_result *out)
{
    uint64_t first_start = UINT64_MAX, last_end = 0;
    for (size_t i = 0; i < r->nsides; i++) {
        const struct side *s = &r->sides[i];
        out->handoffs += s->handoffs;
        out->order_errors += s->order_errors;
        out->touched += s->touched;
        sb_add_ctx(out, &s->ctx_before, &s->ctx_after);
        sb_merge_counters(out, &s->counted);
        if (r->account)
            sb_account_add(r->account, &s->times_before, &s->times_after);
        if (s->index == 0) {
            first_start = s->t_start < first_start ? s->t_start : first_start;
            last_end = s->t_end > last_end ? s->t_end : last_end;
        }
    }
    out->elapsed_ns = last_end - first_start;
    out->expected_handoffs = r->laps * r->nsides;
}

/* The one runner behind sb_ring and sb_ring_spread. */
static int run_rings(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
                     uint64_t working_set, int processes, const struct placement *where,
                     struct sb_result *out, struct sb_account *account)
{
    sb_begin(out, laps);
    if (account)
        sb_account_begin(account);
    struct run r = {.ops = lookup(primitive), .rings = rings, .ring_size = ring_size,
                    .laps = laps, .working_set = working_set, .processes = processes,
                    .where = where, .account = account};
    const char *problem = request_problem(&r);
    if (problem)
        return sb_fail(out, EINVAL, problem);
    const char *what = NULL;
    int err = lay_out(&r, &what);
    if (err)
        return sb_fail(out, err, what);

    err = start_sides(&r, &what);
    open_gate_and_join(&r, err);
    destroy_rings(&r, r.rings);

    const char *side_message = NULL;
    if (!err)
        err = first_side_error(&r, &side_message);
    if (!err)
        merge_results(&r, out);
    if (side_message)
        sb_fail_text(out, err, side_message);
    else if (err)
        sb_fail(out, err, what);
    munmap(r.map, r.bytes); /* last: side_message lies in it */
    return err;
}

int sb_ring(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
            uint64_t working_set, int processes, int cpu_a, int cpu_b, struct sb_result *out)
{
    const struct placement where = {.cpu_a = cpu_a, .cpu_b = cpu_b};
    return run_rings(primitive, rings, ring_size, laps, working_set, processes, &where, out,
                     NULL);
}

int sb_ring_accounted(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
                      uint64_t working_set, int processes, int cpu_a, int cpu_b,
                      struct sb_result *out, struct sb_account *account)
{
    if (!account) {
        sb_begin(out, laps);
        return sb_fail(out, EINVAL, "sb_ring_accounted needs somewhere to put the accounts");
    }
    const struct placement where = {.cpu_a = cpu_a, .cpu_b = cpu_b};
    return run_rings(primitive, rings, ring_size, laps, working_set, processes, &where, out,
                     account);
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
    return run_rings(primitive, rings, ring_size, laps, working_set, 0, &where, out, NULL);
}
