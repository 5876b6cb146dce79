/* The mood canary: a fixed memory-latency pointer chase, timed beside each
 * benchmark value so that the analysis can take the machine's momentary
 * state (contention in the memory hierarchy it shares with neighbours) out
 * of the values. The buffer is one random cycle through its cache lines
 * (Sattolo's algorithm), so every load depends on the one before and no
 * prefetcher can guess the next line. */
#include "common.h" /* first: it sets _GNU_SOURCE */

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define SB_CANARY_LINE 64
#define SB_CANARY_MAX_LAPS 64

struct sb_canary {
    unsigned char *buf;
    uint64_t lines;
    void *at; /* where the last chase stopped: the next goes on from there, so a
               * buffer larger than one chase's loads is not walked over the
               * same (by then cached) lines each time */
};

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: enough to shuffle, and the same cycle for the same seed. */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

void *sb_canary_new(uint64_t bytes, uint64_t seed)
{
    uint64_t lines = bytes / SB_CANARY_LINE;
    if (lines < 2)
        return NULL;
    struct sb_canary *c = calloc(1, sizeof *c);
    uint64_t *order = malloc(lines * sizeof *order);
    if (!c || !order || posix_memalign((void **)&c->buf, 4096, lines * SB_CANARY_LINE) != 0) {
        free(order);
        free(c);
        return NULL;
    }
    memset(c->buf, 0, lines * SB_CANARY_LINE); /* first touch here, not in a timed chase */
    for (uint64_t i = 0; i < lines; i++)
        order[i] = i;
    /* Sattolo: a uniformly random permutation that is one single cycle. */
    uint64_t state = seed | 1;
    for (uint64_t i = lines - 1; i > 0; i--) {
        uint64_t j = next_random(&state) % i;
        uint64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint64_t i = 0; i < lines; i++) {
        void **slot = (void **)(c->buf + order[i] * SB_CANARY_LINE);
        *slot = c->buf + order[(i + 1) % lines] * SB_CANARY_LINE;
    }
    c->lines = lines;
    c->at = c->buf + order[0] * SB_CANARY_LINE;
    free(order);
    return c;
}

void sb_canary_free(void *canary)
{
    struct sb_canary *c = canary;
    if (!c)
        return;
    free(c->buf);
    free(c);
}

static double median_of(double *v, uint64_t n)
{
    /* Insertion sort: n is at most SB_CANARY_MAX_LAPS. */
    for (uint64_t i = 1; i < n; i++) {
        double x = v[i];
        uint64_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double sb_canary_ns(void *canary, uint64_t warm, uint64_t loads, uint64_t laps, int cpu)
{
    struct sb_canary *c = canary;
    if (!c || laps < 1 || laps > SB_CANARY_MAX_LAPS || loads < laps)
        return -EINVAL;
    pthread_t self = pthread_self();
    cpu_set_t before;
    int restore = 0;
    if (cpu >= 0) {
        /* On the case's CPU, so the canary sees that CPU's caches and
         * neighbours; the caller's affinity is put back afterwards. */
        if (pthread_getaffinity_np(self, sizeof before, &before) != 0)
            return -errno;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        int err = pthread_setaffinity_np(self, sizeof one, &one);
        if (err != 0)
            return -err;
        restore = 1;
    }
    void *volatile *p = c->at;
    for (uint64_t i = 0; i < warm; i++)
        p = (void *volatile *)*p;
    /* The timed loads in `laps` consecutive stretches, each timed on its own:
     * an interrupt or a preemption lands in one stretch and the median drops
     * it, while a mood of the machine (lasting milliseconds) slows them all. */
    double per_load[SB_CANARY_MAX_LAPS];
    uint64_t per_lap = loads / laps;
    int stalled = 0;
    for (uint64_t lap = 0; lap < laps; lap++) {
        uint64_t start = sb_now_ns();
        for (uint64_t i = 0; i < per_lap; i++)
            p = (void *volatile *)*p;
        uint64_t elapsed = sb_now_ns() - start;
        stalled |= elapsed == 0;
        per_load[lap] = (double)elapsed / (double)per_lap;
    }
    c->at = (void *)p;
    if (restore) {
        int err = pthread_setaffinity_np(self, sizeof before, &before);
        if (err != 0)
            return -err;
    }
    if (stalled)
        return -ERANGE;
    return median_of(per_load, laps);
}
