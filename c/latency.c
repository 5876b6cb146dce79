/*
 * The latency of single hand-offs: a ping-pong of two sides over one of the
 * ring's primitives (the same struct sb_handoff_ops, so the same wait and
 * wake as the throughput cases), where every hand-off is timestamped on
 * CLOCK_MONOTONIC (sb_now_ns). The giver reads the clock just before it
 * hands the turn on and leaves the reading in shared memory; the woken side
 * reads the clock as soon as its wait returns, and the difference is that
 * hand-off's latency. A separate code path from ring.c: the throughput
 * cases' loop carries no timestamps.
 *
 * Everything the loop writes lives in one shared mapping made and touched
 * before the timed region (the latencies of each side in an array of its
 * own, so the two sides do not write to one cache line on every turn), so
 * nothing is allocated or faulted in while hand-offs are timed. Side 0 is a
 * thread of the caller; side 1 is a thread too, or a forked process when
 * processes != 0, as in ring.c.
 */
#include "common.h"
#include "ring.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE 64

/* The header of the shared mapping. stamp and seq sit on a line of their
 * own: they move with every hand-off. */
struct lat_shared {
    _Alignas(LINE) _Atomic int64_t stamp; /* the giver's clock read, just before it hands off */
    _Atomic uint64_t seq;                  /* hand-offs received so far, for the order check */
    _Alignas(LINE) _Atomic int ready;      /* sides past their set-up */
    _Atomic int failed;                    /* a side could not set up or hand off */
    struct {
        int error;
        uint64_t order_errors;
        char message[sizeof ((struct sb_latency *)0)->message];
    } side[2];
};

struct lat_run {
    const struct sb_handoff_ops *ops;
    uint64_t handoffs;
    int cpu[2];
    struct lat_shared *shared;
    void *state;
    int64_t *received[2]; /* received[s][j]: latency of the j-th hand-off side s received */
};

static const struct sb_handoff_ops *lookup(const char *name)
{
    const struct sb_handoff_ops *all[] = {&sb_condvar_ops, &sb_futex_ops, &sb_pipe_ops,
                                          &sb_eventfd_ops, &sb_sem_ops};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

static void side_fail(struct lat_run *r, int me, int err, const char *what)
{
    if (!r->shared->side[me].error) {
        r->shared->side[me].error = err;
        sb_error_text(r->shared->side[me].message, sizeof r->shared->side[me].message, err,
                      what);
    }
    atomic_store(&r->shared->failed, 1);
}

/* The woken side: read the clock first, then everything else. */
static void receive(struct lat_run *r, int me, uint64_t k)
{
    int64_t now = (int64_t)sb_now_ns();
    int64_t then = atomic_load_explicit(&r->shared->stamp, memory_order_acquire);
    r->received[me][k / 2] = now - then;
    uint64_t seen = atomic_load_explicit(&r->shared->seq, memory_order_relaxed);
    if (seen != k)
        r->shared->side[me].order_errors++;
    atomic_store_explicit(&r->shared->seq, seen + 1, memory_order_relaxed);
}

/* The giver: the clock read is the last thing before the hand-off. */
static int give(struct lat_run *r, int to)
{
    atomic_store_explicit(&r->shared->stamp, (int64_t)sb_now_ns(), memory_order_release);
    return r->ops->give_turn(r->state, to);
}

/* Hand-off k goes from side k % 2 to the other. Side 0 holds the turn at
 * the start, so it gives the even hand-offs and receives the odd ones. */
static void side_loop(struct lat_run *r, int me)
{
    const uint64_t n = r->handoffs;
    int err = 0;
    for (uint64_t k = 0; k < n && !err; k += 2) {
        if (me == 0) {
            if ((err = give(r, 1)) != 0)
                side_fail(r, me, err, "handing the turn on");
            else if (k + 1 < n && (err = r->ops->wait_turn(r->state, 0)) != 0)
                side_fail(r, me, err, "waiting for the turn");
            else if (k + 1 < n)
                receive(r, 0, k + 1);
        } else {
            if ((err = r->ops->wait_turn(r->state, 1)) != 0) {
                side_fail(r, me, err, "waiting for the turn");
                break;
            }
            receive(r, 1, k);
            if (k + 1 < n && (err = give(r, 0)) != 0)
                side_fail(r, me, err, "handing the turn on");
        }
    }
}

static void side_main(struct lat_run *r, int me)
{
    char who[32];
    snprintf(who, sizeof who, "latency side %d", me);
    char *message = r->shared->side[me].message;
    size_t size = sizeof r->shared->side[me].message;
    int err = sb_pin_self(r->cpu[me]);
    if (err)
        side_fail(r, me, err, "pinning to its CPU (pthread_setaffinity_np)");
    else if ((err = sb_check_pinned(r->cpu[me], who, "the start", message, size)) != 0) {
        r->shared->side[me].error = err;
        atomic_store(&r->shared->failed, 1);
    }
    /* Both sides set up before either starts: the first hand-off must not
     * find its receiver still being created. A side that failed set-up
     * releases the other here, before anyone waits for a turn. */
    atomic_fetch_add(&r->shared->ready, 1);
    while (atomic_load(&r->shared->ready) < 2 && !atomic_load(&r->shared->failed))
        sched_yield();
    if (atomic_load(&r->shared->failed))
        return;
    /* The primitives start with the turn at side 0 (a token already in its
     * pipe, its futex word set): side 0 takes it, untimed, before the first
     * timed hand-off. */
    if (me == 0 && (err = r->ops->wait_turn(r->state, 0)) != 0) {
        side_fail(r, me, err, "taking the first turn");
        return;
    }
    side_loop(r, me);
    if (!r->shared->side[me].error &&
        (err = sb_check_pinned(r->cpu[me], who, "the end", message, size)) != 0)
        r->shared->side[me].error = err;
}

static void *side0_thread(void *p)
{
    side_main(p, 0);
    return NULL;
}

static void *side1_thread(void *p)
{
    side_main(p, 1);
    return NULL;
}

static size_t round_up(size_t n) { return (n + LINE - 1) / LINE * LINE; }

/* Runs the two sides to the end, side 1 as a thread or a forked process. */
static int run_sides(struct lat_run *r, int processes, struct sb_latency *out)
{
    pthread_t t0, t1;
    pid_t child = -1;
    if (processes) {
        child = fork();
        if (child == 0) {
            /* The child only runs its side: nothing of the caller (the
             * Python interpreter, say) is touched here. */
            side_main(r, 1);
            _exit(0);
        }
        if (child < 0)
            return sb_error_text(out->message, sizeof out->message, errno,
                                 "starting the second process (fork)");
    } else {
        int err = pthread_create(&t1, NULL, side1_thread, r);
        if (err)
            return sb_error_text(out->message, sizeof out->message, err,
                                 "creating a thread (pthread_create)");
    }
    int err = pthread_create(&t0, NULL, side0_thread, r);
    if (err) {
        side_fail(r, 0, err, "creating a thread (pthread_create)");
    } else {
        uint64_t start = sb_now_ns();
        pthread_join(t0, NULL);
        out->elapsed_ns = sb_now_ns() - start;
    }
    if (processes)
        waitpid(child, NULL, 0);
    else
        pthread_join(t1, NULL);
    return 0;
}

int sb_latency_pingpong(const char *primitive, uint64_t handoffs, int processes, int cpu_a,
                        int cpu_b, int64_t *latency_ns, struct sb_latency *out)
{
    memset(out, 0, sizeof *out);
    struct lat_run r = {.ops = lookup(primitive), .handoffs = handoffs, .cpu = {cpu_a, cpu_b}};
    if (!r.ops || handoffs < 2 || (processes && !r.ops->process_safe)) {
        snprintf(out->message, sizeof out->message,
                 "sb_latency_pingpong: primitive %s unknown, not process-safe, or fewer than 2 "
                 "hand-offs asked",
                 primitive);
        return out->error = EINVAL;
    }
    size_t per_side = handoffs / 2 + 1;
    size_t head = round_up(sizeof(struct lat_shared));
    size_t state = round_up(r.ops->state_size(2));
    size_t bytes = head + state + 2 * per_side * sizeof(int64_t);
    unsigned char *map =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return out->error = sb_error_text(out->message, sizeof out->message, errno,
                                          "mapping the latency buffers (mmap)");
    /* Every page touched now, so that no page fault falls in a timed hand-off. */
    memset(map, 0, bytes);
    r.shared = (struct lat_shared *)map;
    r.state = map + head;
    r.received[0] = (int64_t *)(map + head + state);
    r.received[1] = r.received[0] + per_side;
    int err = r.ops->init(r.state, 2, processes);
    if (err) {
        munmap(map, bytes);
        return out->error = sb_error_text(out->message, sizeof out->message, err,
                                          "setting up the primitive");
    }
    err = run_sides(&r, processes, out);
    r.ops->destroy(r.state, 2);
    for (int s = 0; s < 2 && !err; s++) {
        if (r.shared->side[s].error) {
            err = r.shared->side[s].error;
            memcpy(out->message, r.shared->side[s].message, sizeof out->message);
        }
        out->order_errors += r.shared->side[s].order_errors;
    }
    if (!err) {
        /* Back into hand-off order: side 1 received the even ones, side 0 the odd. */
        for (uint64_t k = 0; k < handoffs; k++)
            latency_ns[k] = r.received[k % 2 == 0 ? 1 : 0][k / 2];
        out->handoffs = handoffs;
    }
    munmap(map, bytes);
    return out->error = err;
}

void sb_clock_gaps(uint64_t n, int64_t *gap_ns)
{
    for (uint64_t i = 0; i < n; i++) {
        int64_t a = (int64_t)sb_now_ns();
        int64_t b = (int64_t)sb_now_ns();
        gap_ns[i] = b - a;
    }
}
