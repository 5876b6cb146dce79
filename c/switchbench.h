/*
 * The C side of switchbench, as Python sees it through cffi (ABI mode).
 *
 * bench/native.py hands this file, minus its preprocessor lines, to
 * cffi's cdef(), so it must stay plain C declarations: fixed-width
 * integer types, no macros in the declarations themselves.
 */
#ifndef SWITCHBENCH_H
#define SWITCHBENCH_H

#include <stdint.h>

/* perf counters, in this order: context_switches, cpu_migrations,
 * task_clock_ns, page_faults, cycles, instructions, branch_misses,
 * cache_misses (bench/native.py names them). */
#define SB_COUNTERS 8

/* What one timed run returns. */
struct sb_result {
    uint64_t elapsed_ns;        /* wall time of the timed loop only */
    uint64_t ops;               /* ops the run was asked for (round trips, laps, calls...) */
    uint64_t handoffs;          /* hand-offs (or completed ops) counted by the sides */
    uint64_t expected_handoffs; /* what handoffs must be for a correct run */
    uint64_t order_errors;      /* hand-offs that arrived out of turn (must be 0) */
    int64_t voluntary_ctx;      /* OS context switches of every benchmark thread or  */
    int64_t involuntary_ctx;    /*   process over the timed loop (getrusage per thread) */
    int64_t counter[8];         /* perf counter deltas summed over the benchmark threads */
    int32_t counter_error[8];   /* 0, or the errno that made counter[i] unavailable */
    uint64_t touched;           /* a checksum of working-set touches, so they are not optimised away */
    int error;                  /* 0, or the errno of the call that failed */
    char message[256];          /* what failed, for the user, when error != 0 (room for
                                 * a dlerror text inside a hint, see sb_fcontext_probe) */
};

/*
 * Rings of contexts passing a turn: in each of `rings` independent rings,
 * `ring_size` threads (or, with processes != 0, processes) take turns in
 * order; each touches `working_set` bytes of its own memory on every turn.
 * One op is one lap of every ring, so ring_size hand-offs per ring; a
 * ping-pong is a ring of 2, one lap being one round trip.
 *
 * primitive: "condvar", "condvar-signal-unlocked", "futex", "sem",
 * "eventfd", "pipe" or "yield".
 * cpu_a / cpu_b: even sides run on cpu_a, odd sides on cpu_b; -1 leaves
 * them unpinned. A pinned side checks it is on its CPU where the timed
 * region starts and ends; a side found elsewhere fails the run (EXDEV).
 * Creating, pinning and joining happen outside the timed region, which
 * starts only once every side is awake and past a start barrier.
 * Returns 0 on success, else the error (also in out).
 */
int sb_ring(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
            uint64_t working_set, int processes, int cpu_a, int cpu_b, struct sb_result *out);

/* sb_ring with threads, each ring kept on one CPU and the rings dealt
 * round-robin over cpus[0..ncpus-1]: every side of ring r is pinned to
 * cpus[r % ncpus]. */
int sb_ring_spread(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
                   uint64_t working_set, const int32_t *cpus, uint64_t ncpus,
                   struct sb_result *out);

/* What a ring side does on each of its turns, without any switch: on a
 * thread of its own (pinned to cpu unless cpu < 0), `laps` laps each
 * touching ring_size working sets of working_set bytes in turn, with the
 * same touch loop the ring sides run (lmbench lat_ctx's overhead, to be
 * subtracted). ops = laps; handoffs = turns done = laps * ring_size.
 * working_set >= 64 and ring_size >= 1, else EINVAL. */
int sb_touch_only(uint64_t ring_size, uint64_t laps, uint64_t working_set, int cpu,
                  struct sb_result *out);

/* Two contexts of one thread swap with swapcontext(3): one op is a round
 * trip, two switches. Not the user-space floor: glibc's swapcontext saves
 * and restores the signal mask, one rt_sigprocmask system call per
 * switch, so this is a context swap plus a system call. */
int sb_ucontext_pingpong(uint64_t round_trips, struct sb_result *out);

/* Two contexts of one thread swap with Boost.Context's jump_fcontext: no
 * system call per switch, the user-space floor. One op is a round trip,
 * two switches. libboost_context.so is loaded at run time; where it cannot
 * be, this fails with ENOENT and says what to install. */
int sb_fcontext_pingpong(uint64_t round_trips, struct sb_result *out);

/* 0 if Boost.Context loads here; else nonzero, with why it does not (and
 * what to install) in why[0..size-1]. */
int sb_fcontext_probe(char *why, uint64_t size);

/* Create one thread and join it, `threads` times: one op per thread. */
int sb_spawn_threads(uint64_t threads, int cpu, struct sb_result *out);

/* A loop of `calls` calls of a baseline: "getppid" (a real system call)
 * or "clock_monotonic" (clock_gettime, usually without entering the kernel). */
int sb_baseline(const char *call, uint64_t calls, struct sb_result *out);

/* The clock rate this thread runs at, measured: `iterations` rounds of a
 * chain of 8 dependent integer additions (one cycle each on every common
 * core), timed; returns the elapsed ns. GHz = 8 * iterations / ns. */
uint64_t sb_add_chain_ns(uint64_t iterations);

/* Memory of parked threads: /proc/self/statm before and after. */
struct sb_memory {
    uint64_t requested, created;     /* threads asked for, and made before any failure */
    int64_t rss_before, rss_after;   /* resident bytes */
    int64_t vm_before, vm_after;     /* virtual bytes */
    uint64_t stack_bytes, guard_bytes; /* sb_thread_stack: a default thread's stack */
    uint64_t create_ns;              /* from the first pthread_create until all are parked */
    int error;                       /* errno of the failure that stopped creation, if any */
    char message[160];
};

/* Create n threads that park on a condition variable, read the process's
 * memory with all of them parked, then release and join them. A creation
 * failure ends the count there and is reported, not fatal. */
int sb_park_threads(uint64_t n, struct sb_memory *out);

/* The stack size and guard of a thread made with default attributes
 * (pthread_getattr_np inside it): what ulimit -s gives a thread here. */
int sb_thread_stack(struct sb_memory *out);

/* Whether benchmark threads open perf counters (default: on). An active
 * per-thread perf counter makes every context switch of that thread
 * dearer, so the suite times with counting off and counts in a run of
 * its own. When off, counters report error ECANCELED ("not counted"). */
void sb_set_perf_counting(int on);

/* Which counters this thread may open: error[i] is 0 if counter i opens,
 * else the errno perf_event_open gave. */
void sb_counters_probe(int32_t *error);

/* The latency of single hand-offs (c/latency.c): what one run of
 * sb_latency_pingpong returns beside its latencies. */
struct sb_latency {
    uint64_t handoffs;          /* hand-offs timed (all asked, or 0 on failure) */
    uint64_t elapsed_ns;        /* wall time of the whole ping-pong, set-up included */
    uint64_t order_errors;      /* hand-offs that arrived out of turn (must be 0) */
    int error;                  /* 0, or the errno of the call that failed */
    char message[256];          /* what failed, for the user, when error != 0 */
};

/* A ping-pong of `handoffs` hand-offs between two threads (or, with
 * processes != 0, a thread and a forked process) over a ring primitive
 * ("condvar", "futex", "pipe", ...), side 0 pinned to cpu_a and side 1 to
 * cpu_b (-1: unpinned). Every hand-off is timed on CLOCK_MONOTONIC: the
 * giver reads the clock just before it hands off, the woken side as soon
 * as its wait returns; latency_ns[k] (room for `handoffs`) gets hand-off
 * k's difference. Returns 0 or the error (also in out). */
int sb_latency_pingpong(const char *primitive, uint64_t handoffs, int processes, int cpu_a,
                        int cpu_b, int64_t *latency_ns, struct sb_latency *out);

/* n back-to-back pairs of CLOCK_MONOTONIC reads (the same sb_now_ns the
 * latencies use): gap_ns[i] is the second read minus the first, the
 * clock's own share of every measured latency. */
void sb_clock_gaps(uint64_t n, int64_t *gap_ns);
/* Where the time of a run goes (c/account.c): asked for by sb_ring_accounted
 * only, so the timed cases pay nothing for it. In: the CPUs whose /proc/stat
 * lines are read (the pinned ones, or every CPU the process may run on). Out:
 * per benchmark thread (or process), over its timed region (start barrier to
 * end), getrusage(RUSAGE_THREAD) and /proc/thread-self/schedstat deltas,
 * summed; per CPU, /proc/stat deltas (USER_HZ ticks) read by the calling
 * thread just before the gate opens and just after every side has finished,
 * summed over the CPUs, and the wall time between those two reads. */
struct sb_account {
    uint64_t ncpus;             /* in: CPUs to read, at most 256 */
    int32_t cpus[256];          /* in: their numbers */
    uint64_t threads;           /* benchmark threads (or processes) accounted */
    int64_t user_ns, kernel_ns; /* ru_utime, ru_stime summed over them */
    int64_t oncpu_ns, runq_wait_ns, timeslices; /* schedstat's three fields, summed */
    int32_t rusage_error, schedstat_error, stat_error; /* 0, or the errno that made it unavailable */
    int64_t region_ns;          /* the caller's clock between its two /proc/stat reads */
    int64_t user_hz;            /* sysconf(_SC_CLK_TCK): the unit of cpu_ticks */
    /* /proc/stat deltas summed over the CPUs, in this order: user, nice,
     * system, idle, iowait, irq, softirq, steal */
    int64_t cpu_ticks[8];
    /* Every other task's time on a CPU over the same region, in ns: the sum of
     * /proc/<pid>/task/<tid>/schedstat over every task of the machine but the
     * benchmark threads (or processes), read with the /proc/stat lines; a task
     * born in the region counts from 0, one that ended in it is left out. It
     * covers every CPU, so it stands for the CPUs' other work only where the
     * case's CPUs are all of them (online_cpus). */
    int64_t others_oncpu_ns;
    int64_t others_tasks;       /* tasks in that sum */
    int32_t others_error;       /* 0, or the errno that made it unavailable */
    int64_t online_cpus;        /* sysconf(_SC_NPROCESSORS_ONLN) */
};

/* sb_ring, with the accounting above filled into account (which must not be
 * NULL). Only rings on the two-CPU placements (not sb_ring_spread). */
int sb_ring_accounted(const char *primitive, uint64_t rings, uint64_t ring_size, uint64_t laps,
                      uint64_t working_set, int processes, int cpu_a, int cpu_b,
                      struct sb_result *out, struct sb_account *account);
/* The mood canary (canary.c): a random cyclic pointer chase through a
 * buffer of `bytes` (one pointer per 64-byte line), made once per process.
 * sb_canary_new returns NULL if it cannot allocate (or bytes < 128). */
void *sb_canary_new(uint64_t bytes, uint64_t seed);
/* `warm` dependent loads of the chase, untimed, then `loads` more, timed
 * in `laps` equal stretches (1 to 64, loads / laps loads each), on `cpu`
 * (the calling thread's affinity is restored after; cpu < 0: where it
 * runs). Returns the median stretch's ns per load (> 0), or a negative errno
 * if it could not run. The warm loads bring the buffer back into cache
 * first, so that the timed ones see the machine's caches as they are now,
 * not how much of the buffer the case ran in between had evicted; the
 * median leaves out a stretch that an interrupt or preemption landed in. */
double sb_canary_ns(void *canary, uint64_t warm, uint64_t loads, uint64_t laps, int cpu);
void sb_canary_free(void *canary);

#endif
