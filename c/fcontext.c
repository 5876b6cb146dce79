/*
 * The user-space floor: two contexts of one thread switching with
 * Boost.Context's jump_fcontext, which saves and restores only the
 * callee-saved registers and the stack pointer, with no system call.
 *
 * Boost.Context is not a build dependency: libboost_context.so is opened
 * at run time, so the library builds, and every other benchmark runs, on
 * a machine without it; this one then reports what to install.
 */
#include "common.h" /* first: it sets _GNU_SOURCE */
#include "counters.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Boost.Context's C interface (boost/context/detail/fcontext.hpp), as its
 * shared library exports it. A transfer_t carries the context that jumped
 * here (to jump back to) and the pointer it passed. */
typedef void *fcontext_t;
typedef struct {
    fcontext_t fctx;
    void *data;
} transfer_t;
typedef transfer_t (*jump_fcontext_fn)(fcontext_t to, void *data);
/* stack_top is the highest address of the stack: it grows down. */
typedef fcontext_t (*make_fcontext_fn)(void *stack_top, size_t size, void (*fn)(transfer_t));

/* The library's name as Debian's libboost-context-dev installs it; the
 * environment variable names another (a Boost installed elsewhere, or, in the
 * suite's tests, one that is missing, to see the case skipped with its hint). */
#define BOOST_CONTEXT_LIBRARY "libboost_context.so"
#define BOOST_CONTEXT_VARIABLE "SWITCHBENCH_BOOST_CONTEXT"

static struct {
    jump_fcontext_fn jump;
    make_fcontext_fn make;
    char why[sizeof ((struct sb_result *)0)->message]; /* set when it could not load */
} boost_context;
static pthread_once_t boost_context_once = PTHREAD_ONCE_INIT;

/* ISO C has no conversion from an object pointer to a function pointer;
 * POSIX guarantees dlsym's result has the function's representation, so
 * the bytes are copied. */
static int find_symbol(void *library, const char *name, void *fn, size_t fn_size)
{
    void *symbol = dlsym(library, name);
    if (!symbol)
        return -1;
    memcpy(fn, &symbol, fn_size);
    return 0;
}

static void load_boost_context(void)
{
    const char *name = getenv(BOOST_CONTEXT_VARIABLE);
    if (!name || !*name)
        name = BOOST_CONTEXT_LIBRARY;
    /* Opened once and never closed: the handle lives as long as the process. */
    void *library = dlopen(name, RTLD_NOW);
    int found = library != NULL;
    found = found && find_symbol(library, "jump_fcontext", &boost_context.jump,
                                 sizeof boost_context.jump) == 0;
    found = found && find_symbol(library, "make_fcontext", &boost_context.make,
                                 sizeof boost_context.make) == 0;
    if (found)
        return;
    const char *said = dlerror();
    if (!said)
        said = "no reason given";
    /* dlopen's text starts with the name, which the message names already. */
    const size_t named = strlen(name);
    if (strncmp(said, name, named) == 0 && strncmp(said + named, ": ", 2) == 0)
        said += named + 2;
    boost_context.jump = NULL;
    boost_context.make = NULL;
    snprintf(boost_context.why, sizeof boost_context.why,
             "Boost.Context is not installed (%s: %s); install libboost-context-dev "
             "(apt-get install libboost-context-dev)",
             name, said);
}

/* 0 once Boost.Context is loaded, else ENOENT (the reason in boost_context.why). */
static int boost_context_loaded(void)
{
    pthread_once(&boost_context_once, load_boost_context);
    return boost_context.jump ? 0 : ENOENT;
}

int sb_fcontext_probe(char *why, uint64_t size)
{
    int err = boost_context_loaded();
    if (err && why && size > 0)
        snprintf(why, (size_t)size, "%s", boost_context.why);
    return err;
}

/* What the two contexts share: one sequence number both advance, so a
 * switch that went to the wrong context, or twice, shows as out of turn. */
struct pingpong {
    uint64_t seq;
    uint64_t partner_handoffs, partner_order_errors;
};

/* The partner context: started by the first jump into it, it receives the
 * main context in from.fctx and the shared state in from.data. It jumps
 * back every time and never returns (returning from a context function
 * ends the thread). */
static void partner_main(transfer_t from)
{
    struct pingpong *pp = from.data;
    for (;;) {
        /* The partner sees odd sequence numbers, the main side even ones. */
        if (pp->seq % 2 != 1)
            pp->partner_order_errors++;
        pp->seq++;
        pp->partner_handoffs++;
        from = boost_context.jump(from.fctx, pp);
    }
}

int sb_fcontext_pingpong(uint64_t round_trips, struct sb_result *out)
{
    sb_begin(out, round_trips);
    if (round_trips < 1)
        return sb_fail(out, EINVAL, "round_trips must be at least 1");
    int err = boost_context_loaded();
    if (err)
        return sb_fail_text(out, err, boost_context.why);
    const size_t stack_size = 64 * 1024;
    unsigned char *stack = malloc(stack_size);
    if (!stack)
        return sb_fail(out, ENOMEM, "allocating the partner's stack");
    struct pingpong pp = {0};
    fcontext_t partner = boost_context.make(stack + stack_size, stack_size, partner_main);

    uint64_t main_handoffs = 0, main_order_errors = 0;
    struct sb_ctx_count before, after;
    struct sb_counters counters;
    sb_counters_open(&counters);
    sb_counters_start(&counters);
    sb_thread_ctx(&before);
    uint64_t t0 = sb_now_ns();
    for (uint64_t i = 0; i < round_trips; i++) {
        if (pp.seq != 2 * i)
            main_order_errors++;
        pp.seq++;
        main_handoffs++;
        /* The partner comes back as a new context each time: jump to that one next. */
        partner = boost_context.jump(partner, &pp).fctx;
    }
    out->elapsed_ns = sb_now_ns() - t0;
    sb_thread_ctx(&after);
    sb_counters_stop(&counters, out);
    sb_add_ctx(out, &before, &after);
    /* The partner is left suspended inside its loop; nothing on its stack
     * needs cleaning up, so freeing the stack discards it. */
    free(stack);
    out->handoffs = main_handoffs + pp.partner_handoffs;
    out->expected_handoffs = 2 * round_trips;
    out->order_errors = main_order_errors + pp.partner_order_errors;
    return 0;
}
