/*
 * The hand-off primitives: how a side waits for its turn and hands it on.
 * Each keeps its state in the block the ring runner gives it (shared
 * memory), sized for nsides.
 */
#include "ring.h" /* first: it sets _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <unistd.h>


/* ---- condvar: one mutex, one condition variable per side ---------------- */

struct condvar_state {
    pthread_mutex_t mutex;
    int turn, nsides;
    pthread_cond_t turn_changed[];
};

static size_t condvar_size(int nsides)
{
    return sizeof(struct condvar_state) + (size_t)nsides * sizeof(pthread_cond_t);
}

static int condvar_init(void *p, int nsides, int processes)
{
    (void)processes;
    struct condvar_state *st = p;
    st->turn = 0;
    st->nsides = nsides;
    int err = pthread_mutex_init(&st->mutex, NULL);
    for (int s = 0; !err && s < nsides; s++) {
        if ((err = pthread_cond_init(&st->turn_changed[s], NULL)) != 0) {
            while (--s >= 0)
                pthread_cond_destroy(&st->turn_changed[s]);
            pthread_mutex_destroy(&st->mutex);
        }
    }
    return err;
}

static void condvar_destroy(void *p, int nsides)
{
    struct condvar_state *st = p;
    for (int s = 0; s < nsides; s++)
        pthread_cond_destroy(&st->turn_changed[s]);
    pthread_mutex_destroy(&st->mutex);
}

static int condvar_wait_turn(void *p, int side)
{
    struct condvar_state *st = p;
    pthread_mutex_lock(&st->mutex);
    while (st->turn != side)
        pthread_cond_wait(&st->turn_changed[side], &st->mutex);
    pthread_mutex_unlock(&st->mutex);
    return 0;
}

static int condvar_give_turn(void *p, int to)
{
    struct condvar_state *st = p;
    pthread_mutex_lock(&st->mutex);
    st->turn = to;
    pthread_cond_signal(&st->turn_changed[to]);
    pthread_mutex_unlock(&st->mutex);
    return 0;
}

const struct sb_handoff_ops sb_condvar_ops = {
    .name = "condvar", .state_size = condvar_size, .init = condvar_init,
    .destroy = condvar_destroy, .wait_turn = condvar_wait_turn,
    .give_turn = condvar_give_turn,
};

/* ---- condvar-signal-unlocked: the same state, signalled after unlocking --
 *
 * "condvar" signals while holding the mutex, the textbook form and the
 * design card's case. On one CPU that costs a second switch: the woken
 * waiter may run at once, find the mutex still held by the signaller,
 * block on it, and run again only when the signaller unlocks. Signalling
 * after the unlock lets the waiter find the mutex free, so a hand-off is
 * about one OS context switch instead of about two. It stays correct
 * because the turn is set under the mutex: a waiter that has not yet
 * slept sees it before waiting, one that has is the one signalled. */

static int condvar_signal_unlocked_give_turn(void *p, int to)
{
    struct condvar_state *st = p;
    pthread_mutex_lock(&st->mutex);
    st->turn = to;
    pthread_mutex_unlock(&st->mutex);
    pthread_cond_signal(&st->turn_changed[to]);
    return 0;
}

const struct sb_handoff_ops sb_condvar_signal_unlocked_ops = {
    .name = "condvar-signal-unlocked", .state_size = condvar_size, .init = condvar_init,
    .destroy = condvar_destroy, .wait_turn = condvar_wait_turn,
    .give_turn = condvar_signal_unlocked_give_turn,
};

/* ---- futex: one word per side, 1 while that side holds the turn -------- */

struct futex_state {
    _Atomic int turn[1];  /* nsides words */
};

static size_t futex_size(int nsides) { return (size_t)nsides * sizeof(_Atomic int); }

static int futex_init(void *p, int nsides, int processes)
{
    (void)processes;
    struct futex_state *st = p;
    for (int s = 0; s < nsides; s++)
        atomic_store(&st->turn[s], s == 0);
    return 0;
}

static void noop_destroy(void *p, int nsides) { (void)p; (void)nsides; }

static int futex_wait_turn(void *p, int side)
{
    struct futex_state *st = p;
    while (atomic_load(&st->turn[side]) == 0) {
        int err = sb_futex_wait(&st->turn[side], 0, 1);
        if (err)
            return err;
    }
    atomic_store(&st->turn[side], 0);
    return 0;
}

static int futex_give_turn(void *p, int to)
{
    struct futex_state *st = p;
    atomic_store(&st->turn[to], 1);
    return sb_futex_wake(&st->turn[to], 1, 1);
}

const struct sb_handoff_ops sb_futex_ops = {
    .name = "futex", .state_size = futex_size, .init = futex_init,
    .destroy = noop_destroy, .wait_turn = futex_wait_turn, .give_turn = futex_give_turn,
};

/* ---- sem: one POSIX semaphore per side -------------------------------- */

static size_t sem_size(int nsides) { return (size_t)nsides * sizeof(sem_t); }

static int sem_ops_init(void *p, int nsides, int processes)
{
    sem_t *sems = p;
    for (int s = 0; s < nsides; s++) {
        if (sem_init(&sems[s], processes, s == 0) != 0) {
            int err = errno;
            while (--s >= 0)
                sem_destroy(&sems[s]);
            return err;
        }
    }
    return 0;
}

static void sem_ops_destroy(void *p, int nsides)
{
    sem_t *sems = p;
    for (int s = 0; s < nsides; s++)
        sem_destroy(&sems[s]);
}

static int sem_wait_turn(void *p, int side)
{
    sem_t *sems = p;
    while (sem_wait(&sems[side]) != 0)
        if (errno != EINTR)
            return errno;
    return 0;
}

static int sem_give_turn(void *p, int to)
{
    sem_t *sems = p;
    return sem_post(&sems[to]) == 0 ? 0 : errno;
}

const struct sb_handoff_ops sb_sem_ops = {
    .name = "sem", .state_size = sem_size, .init = sem_ops_init,
    .destroy = sem_ops_destroy, .wait_turn = sem_wait_turn, .give_turn = sem_give_turn,
    .process_safe = 1,
};

/* ---- eventfd and pipe: one file descriptor (pair) per side ------------- */

/* fd[2 * side] is read by `side`; fd[2 * side + 1] is written to wake it. */
static size_t fd_size(int nsides) { return (size_t)nsides * 2 * sizeof(int); }

static void fd_destroy(void *p, int nsides)
{
    int *fd = p;
    for (int i = 0; i < 2 * nsides; i++)
        if (fd[i] >= 0 && (i % 2 == 0 || fd[i] != fd[i - 1]))
            close(fd[i]);
}

static int eventfd_init(void *p, int nsides, int processes)
{
    (void)processes;
    int *fd = p;
    for (int s = 0; s < nsides; s++) {
        fd[2 * s] = fd[2 * s + 1] = eventfd(s == 0, EFD_CLOEXEC);
        if (fd[2 * s] < 0) {
            int err = errno;
            fd_destroy(p, s);
            return err;
        }
    }
    return 0;
}

static int eventfd_wait_turn(void *p, int side)
{
    int *fd = p;
    uint64_t value;
    while (read(fd[2 * side], &value, sizeof value) != sizeof value)
        if (errno != EINTR)
            return errno;
    return 0;
}

static int eventfd_give_turn(void *p, int to)
{
    int *fd = p;
    uint64_t one = 1;
    while (write(fd[2 * to + 1], &one, sizeof one) != sizeof one)
        if (errno != EINTR)
            return errno;
    return 0;
}

const struct sb_handoff_ops sb_eventfd_ops = {
    .name = "eventfd", .state_size = fd_size, .init = eventfd_init,
    .destroy = fd_destroy, .wait_turn = eventfd_wait_turn, .give_turn = eventfd_give_turn,
    .process_safe = 1,
};

static int pipe_init(void *p, int nsides, int processes)
{
    (void)processes;
    int *fd = p;
    for (int s = 0; s < nsides; s++) {
        if (pipe2(&fd[2 * s], O_CLOEXEC) != 0) {
            int err = errno;
            fd_destroy(p, s);
            return err;
        }
    }
    char token = 't';
    return write(fd[1], &token, 1) == 1 ? 0 : errno;
}

static int pipe_wait_turn(void *p, int side)
{
    int *fd = p;
    char token;
    while (read(fd[2 * side], &token, 1) != 1)
        if (errno != EINTR)
            return errno ? errno : EPIPE;
    return 0;
}

static int pipe_give_turn(void *p, int to)
{
    int *fd = p;
    char token = 't';
    while (write(fd[2 * to + 1], &token, 1) != 1)
        if (errno != EINTR)
            return errno;
    return 0;
}

const struct sb_handoff_ops sb_pipe_ops = {
    .name = "pipe", .state_size = fd_size, .init = pipe_init,
    .destroy = fd_destroy, .wait_turn = pipe_wait_turn, .give_turn = pipe_give_turn,
    .process_safe = 1,
};

/* ---- yield: spin on a shared turn word, calling sched_yield ------------ */

static size_t yield_size(int nsides) { (void)nsides; return sizeof(_Atomic int); }

static int yield_init(void *p, int nsides, int processes)
{
    (void)nsides;
    (void)processes;
    atomic_store((_Atomic int *)p, 0);
    return 0;
}

static int yield_wait_turn(void *p, int side)
{
    while (atomic_load((_Atomic int *)p) != side)
        sched_yield();
    return 0;
}

static int yield_give_turn(void *p, int to)
{
    atomic_store((_Atomic int *)p, to);
    return 0;
}

const struct sb_handoff_ops sb_yield_ops = {
    .name = "yield", .state_size = yield_size, .init = yield_init,
    .destroy = noop_destroy, .wait_turn = yield_wait_turn, .give_turn = yield_give_turn,
    .process_safe = 1, .spins = 1,
};
