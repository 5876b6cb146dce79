/* What a parked thread costs in memory, and the stack a default thread gets. */
#include "common.h" /* first: it sets _GNU_SOURCE */

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int read_statm(int64_t *rss, int64_t *vm)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return errno;
    long long size = 0, resident = 0;
    int ok = fscanf(f, "%lld %lld", &size, &resident) == 2;
    fclose(f);
    if (!ok)
        return EIO;
    long page = sysconf(_SC_PAGESIZE);
    *vm = size * page;
    *rss = resident * page;
    return 0;
}

static void *report_stack(void *arg)
{
    struct sb_memory *m = arg;
    pthread_attr_t attr;
    size_t size = 0, guard = 0;
    if ((m->error = pthread_getattr_np(pthread_self(), &attr)) == 0) {
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_getguardsize(&attr, &guard);
        pthread_attr_destroy(&attr);
    }
    m->stack_bytes = size;
    m->guard_bytes = guard;
    return NULL;
}

int sb_thread_stack(struct sb_memory *out)
{
    *out = (struct sb_memory){0};
    pthread_t t;
    int err = pthread_create(&t, NULL, report_stack, out);
    if (err) {
        snprintf(out->message, sizeof out->message, "pthread_create failed (errno %d)", err);
        return out->error = err;
    }
    pthread_join(t, NULL);
    return out->error;
}

struct park {
    pthread_mutex_t mutex;
    pthread_cond_t released_cond;
    int released;
    _Atomic uint64_t parked;
};

static void *park_thread(void *arg)
{
    struct park *p = arg;
    atomic_fetch_add(&p->parked, 1);
    pthread_mutex_lock(&p->mutex);
    while (!p->released)
        pthread_cond_wait(&p->released_cond, &p->mutex);
    pthread_mutex_unlock(&p->mutex);
    return NULL;
}

int sb_park_threads(uint64_t n, struct sb_memory *out)
{
    *out = (struct sb_memory){.requested = n};
    struct park p = {.mutex = PTHREAD_MUTEX_INITIALIZER,
                     .released_cond = PTHREAD_COND_INITIALIZER};
    pthread_t *threads = calloc(n ? n : 1, sizeof *threads);
    if (!threads) {
        snprintf(out->message, sizeof out->message, "allocating %llu thread handles",
                 (unsigned long long)n);
        return out->error = ENOMEM;
    }
    int err = read_statm(&out->rss_before, &out->vm_before);
    uint64_t created = 0;
    uint64_t start = sb_now_ns();
    for (; !err && created < n; created++) {
        if ((err = pthread_create(&threads[created], NULL, park_thread, &p)) != 0) {
            /* The ceiling (EAGAIN: a limit on threads or memory) is a result. */
            snprintf(out->message, sizeof out->message,
                     "pthread_create failed after %llu threads (errno %d)",
                     (unsigned long long)created, err);
            out->error = err;
            err = 0;
            break;
        }
    }
    while (atomic_load(&p.parked) < created)
        usleep(100);
    out->create_ns = sb_now_ns() - start;
    if (!err)
        err = read_statm(&out->rss_after, &out->vm_after);
    out->created = created;
    pthread_mutex_lock(&p.mutex);
    p.released = 1;
    pthread_cond_broadcast(&p.released_cond);
    pthread_mutex_unlock(&p.mutex);
    for (uint64_t i = 0; i < created; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    if (err && !out->error) {
        snprintf(out->message, sizeof out->message, "reading /proc/self/statm (errno %d)", err);
        out->error = err;
    }
    return err;
}
