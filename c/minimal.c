/*
 * The suite's c.condvar.same-core case with no harness: two threads pinned
 * to one CPU hand a turn back and forth with a pthread mutex and a
 * condition variable per side, and the loop is timed with
 * clock_gettime(CLOCK_MONOTONIC), nothing else. The hand-off is written as
 * the suite's condvar primitive does it (wait: lock, wait until it is my
 * turn, unlock; give: lock, set the turn, signal, unlock), so the two
 * figures differ only by the harness. A standalone program, not part of
 * libswitchbench; bench/overhead.py runs it.
 *
 *   minimal ROUND_TRIPS REPEATS CPU   one JSON line per timed loop; CPU -1: unpinned
 *   minimal --timer [BATCHES CALLS READS]
 *                                     one JSON line on clock_gettime(CLOCK_MONOTONIC):
 *                                     clock_getres, the cost of one call per batch of
 *                                     calls, the smallest non-zero step between reads
 *
 * Exit status: 0 done, 1 a pthread call failed, 2 bad arguments, 3 pinning refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARMUP_ROUND_TRIPS 1000

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static int turn; /* whose turn it is: side 0 (main) or side 1 */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wait_turn(int me)
{
    pthread_mutex_lock(&mutex);
    while (turn != me)
        pthread_cond_wait(&turn_changed[me], &mutex);
    pthread_mutex_unlock(&mutex);
}

static void give_turn(int to)
{
    pthread_mutex_lock(&mutex);
    turn = to;
    pthread_cond_signal(&turn_changed[to]);
    pthread_mutex_unlock(&mutex);
}

static int pin(int cpu)
{
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

struct partner {
    uint64_t round_trips;
    int cpu, error;
};

static void *partner_main(void *arg)
{
    struct partner *p = arg;
    p->error = pin(p->cpu);
    for (uint64_t i = 0; i < p->round_trips; i++) {
        wait_turn(1);
        give_turn(0);
    }
    return NULL;
}

static int parse(const char *s, long long min, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min)
        return -1;
    *out = v;
    return 0;
}

static int ping_pong(uint64_t n, uint64_t repeats, int cpu)
{
    int err = pin(cpu);
    if (err) {
        fprintf(stderr, "minimal: pinning to CPU %d: %s\n", cpu, strerror(err));
        return 3;
    }
    struct partner p = {.round_trips = WARMUP_ROUND_TRIPS + n * repeats, .cpu = cpu};
    pthread_t thread;
    if ((err = pthread_create(&thread, NULL, partner_main, &p)) != 0) {
        fprintf(stderr, "minimal: pthread_create: %s\n", strerror(err));
        return 1;
    }
    for (uint64_t i = 0; i < WARMUP_ROUND_TRIPS; i++) {
        give_turn(1);
        wait_turn(0);
    }
    for (uint64_t r = 0; r < repeats; r++) {
        uint64_t start = now_ns();
        for (uint64_t i = 0; i < n; i++) {
            give_turn(1);
            wait_turn(0);
        }
        uint64_t elapsed = now_ns() - start;
        printf("{\"round_trips\": %llu, \"elapsed_ns\": %llu, \"ns_per_switch\": %.3f, "
               "\"cpu\": %d}\n",
               (unsigned long long)n, (unsigned long long)elapsed,
               (double)elapsed / (double)(2 * n), cpu);
    }
    pthread_join(thread, NULL);
    if (p.error) {
        fprintf(stderr, "minimal: pinning the partner to CPU %d: %s\n", cpu, strerror(p.error));
        return 3;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int timer(long long batches, long long calls, long long reads)
{
    struct timespec res, ts;
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0) {
        perror("minimal: clock_getres");
        return 1;
    }
    printf("{\"clock\": \"CLOCK_MONOTONIC\", \"getres_ns\": %lld, \"batch_calls\": %lld, "
           "\"call_ns\": [",
           (long long)res.tv_sec * 1000000000LL + res.tv_nsec, calls);
    for (long long b = 0; b < batches; b++) {
        uint64_t start = now_ns();
        for (long long i = 0; i < calls; i++)
            clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t elapsed = now_ns() - start;
        printf("%s%.3f", b ? ", " : "", (double)elapsed / (double)calls);
    }
    uint64_t prev = now_ns(), min_step = 0;
    for (long long i = 0; i < reads; i++) {
        uint64_t t = now_ns();
        if (t > prev && (min_step == 0 || t - prev < min_step))
            min_step = t - prev;
        prev = t;
    }
    printf("], \"reads\": %lld, \"min_step_ns\": %llu}\n", reads, (unsigned long long)min_step);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    long long a, b, c;
    if (argc >= 2 && strcmp(argv[1], "--timer") == 0) {
        if (argc == 2)
            return timer(101, 1000, 100000);
        if (argc == 5 && !parse(argv[2], 1, &a) && !parse(argv[3], 1, &b) &&
            !parse(argv[4], 1, &c))
            return timer(a, b, c);
    } else if (argc == 4 && !parse(argv[1], 1, &a) && !parse(argv[2], 1, &b) &&
               !parse(argv[3], -1, &c) && c < CPU_SETSIZE) {
        return ping_pong((uint64_t)a, (uint64_t)b, (int)c);
    }
    fprintf(stderr, "usage: %s ROUND_TRIPS REPEATS CPU (CPU -1: unpinned)\n"
                    "       %s --timer [BATCHES CALLS READS]\n",
            argv[0], argv[0]);
    return 2;
}
