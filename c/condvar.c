/* Ping-pong with one mutex and one condition variable per side. */
#include "pingpong.h"

struct condvar_state {
    pthread_mutex_t mutex;
    pthread_cond_t turn_changed[2];
    int turn;
};

static int condvar_init(void *p)
{
    struct condvar_state *st = p;
    st->turn = 0;
    int err = pthread_mutex_init(&st->mutex, NULL);
    if (err)
        return err;
    for (int s = 0; s < 2; s++) {
        err = pthread_cond_init(&st->turn_changed[s], NULL);
        if (err) {
            while (--s >= 0)
                pthread_cond_destroy(&st->turn_changed[s]);
            pthread_mutex_destroy(&st->mutex);
            return err;
        }
    }
    return 0;
}

static void condvar_destroy(void *p)
{
    struct condvar_state *st = p;
    for (int s = 0; s < 2; s++)
        pthread_cond_destroy(&st->turn_changed[s]);
    pthread_mutex_destroy(&st->mutex);
}

static void condvar_wait_turn(void *p, int side)
{
    struct condvar_state *st = p;
    pthread_mutex_lock(&st->mutex);
    while (st->turn != side)
        pthread_cond_wait(&st->turn_changed[side], &st->mutex);
    pthread_mutex_unlock(&st->mutex);
}

static void condvar_give_turn(void *p, int to)
{
    struct condvar_state *st = p;
    pthread_mutex_lock(&st->mutex);
    st->turn = to;
    pthread_cond_signal(&st->turn_changed[to]);
    pthread_mutex_unlock(&st->mutex);
}

static const struct sb_handoff_ops condvar_ops = {
    .name = "condvar",
    .init = condvar_init,
    .destroy = condvar_destroy,
    .wait_turn = condvar_wait_turn,
    .give_turn = condvar_give_turn,
};

int sb_condvar_pingpong(uint64_t round_trips, int cpu_a, int cpu_b,
                        struct sb_result *out)
{
    struct condvar_state st;
    return sb_run_pingpong(&condvar_ops, &st, round_trips, cpu_a, cpu_b, out);
}
