/* One crossing for many calls: function(a, item, c) for each item of a list.
 *
 * A scheduler's filter and score run once per node of a cycle. Calling them one at a time
 * from Swift pays the host's set-up for each call; here C loops over the items and each
 * call is still a call of its own: a fresh instruction budget and memory verdict (as
 * klh_budget_begin gives a top-level call), the straight path when the function has no
 * loop, its instruction count recorded. The loop stops at the first call that fails, with
 * the error object on the stack, so the host turns it into an error as for a single call
 * and goes on from the next item.
 *
 * The loop itself runs as a C function under one protected call, so the calls share one
 * error boundary instead of paying a lua_pcall each: a call that raises unwinds to it, its
 * index kept in the run, and the host starts a new run from the next item. The message
 * handler's traceback stops at the loop's frame (klh_ctx.each_floor), so an error reads as
 * it would from a call of its own. */
#include "klh.h"

static void klh_each_record(lua_State *L, int idx, int t, int extras, int slot, int *type, int64_t *i, double *d, int *b) {
    *type = t;
    switch (t) {
    case LUA_TNONE:
    case LUA_TNIL:
        break;
    case LUA_TBOOLEAN:
        *b = lua_toboolean(L, idx);
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            *i = lua_tointegerx(L, idx, NULL);
        } else {
            *type = KLH_EACH_FLOAT;
            *d = lua_tonumberx(L, idx, NULL);
        }
        break;
    default:
        /* strings, tables, ...: kept for the host to convert */
        lua_pushvalue(L, idx);
        lua_rawseti(L, extras, slot);
        break;
    }
}

/* The most bytes of an item's span brought into the cache ahead of its call. */
#define KLH_PREFETCH_MAX (8 * 1024)
/* How many items ahead of the running call a span is asked for: two, so that its lines
 * have a whole call's time to arrive (one ahead measured about 15% slower). */
#define KLH_PREFETCH_AHEAD 2

/* Asks for the span's cache lines without waiting for them (a prefetch never faults). */
static inline void klh_prefetch(const void *start, int32_t len) {
    const char *p = (const char *)start;
    if (p == NULL) return;
    if (len > KLH_PREFETCH_MAX) len = KLH_PREFETCH_MAX;
    for (int32_t o = 0; o < len; o += 64) __builtin_prefetch(p + o, 0, 3);
}

/* What the loop is given and where it is; in the C frame of klh_pcall_each. */
typedef struct {
    klh_ctx *ctx;
    int function, a, c;
    const int *items, *twin_items;
    const intptr_t *positions;
    const unsigned char *reuse; /* reuse[k]: the host has call k's results, while the epoch is reuse_epoch */
    int64_t reuse_epoch;
    const void *const *regions;
    const int32_t *lengths;
    int base_index, count;
    int64_t straight_cost, budget, wall_ns;
    int timed, extras; /* extras: the index in the caller's frame */
    klh_each_result *out;
    int k;           /* the call running (or the one that failed) */
    int verdict;     /* the call k returned but its strings spent the budget */
    int64_t started; /* clock at the start of call k, when timed */
    int twins;       /* the calls run on twins (straight.c) */
    int on_views;    /* the call that runs on the views after its run on twins stopped */
} klh_each_run;

/* A result a call on twins may hand back: a table or a function could be a twin or hold one
 * (the host then takes the call's results from its run on the views). */
static int klh_twin_result_ok(int t) {
    return t == LUA_TNONE || t == LUA_TNIL || t == LUA_TBOOLEAN || t == LUA_TNUMBER || t == LUA_TSTRING;
}

static inline int klh_each_item(const klh_each_run *run, int k) {
    return run->positions != NULL ? (int)run->positions[k] : k;
}

/* A view's twin is made last (values.c), so it and its fields lie at the end of the span
 * (a node's: its header and 16 fields, 448 bytes from the slab): a call on twins reads
 * that part only. */
#define KLH_TWIN_TAIL 512

static void klh_each_prefetch(const klh_each_run *run, int k) {
    int i = klh_each_item(run, k);
    const char *start = (const char *)run->regions[i];
    int32_t len = run->lengths[i];
    if (run->twins && len > KLH_TWIN_TAIL && start != NULL) {
        start += len - KLH_TWIN_TAIL;
        len = KLH_TWIN_TAIL;
    }
    klh_prefetch(start, len);
}

/* The loop: stack 1 is the run, 2-4 the function, a and c, 5 the extras table, 6 a's twin
 * (or a). Returns nothing when every call is done; a call's error unwinds to
 * klh_pcall_each; a verdict after a straight call returns its message. A call on twins that
 * the call hook stops, or that fails, gives a verdict or hands back a table, runs again on
 * the views, which gives its results. */
static int klh_each_loop(lua_State *L) {
    klh_each_run *run = (klh_each_run *)lua_touserdata(L, 1);
    klh_ctx *ctx = run->ctx;
    lua_Debug ar;
    ctx->each_floor = lua_getstack(L, 0, &ar) ? ar.i_ci : NULL;
    int spans = run->regions != NULL && run->lengths != NULL;
    if (spans) {
        for (int k = run->k; k < run->count && k < run->k + KLH_PREFETCH_AHEAD; k++) klh_each_prefetch(run, k);
    }
    for (; run->k < run->count; run->k++) {
        int k = run->k;
        /* a later item's view is read into the cache while this call runs */
        if (spans && k + KLH_PREFETCH_AHEAD < run->count && (run->reuse == NULL || !run->reuse[k + KLH_PREFETCH_AHEAD]))
            klh_each_prefetch(run, k + KLH_PREFETCH_AHEAD);
        if (run->reuse != NULL && run->reuse[k] && ctx->epoch == run->reuse_epoch) {
            /* the host gives the results it kept (the rest of the record is not read) */
            run->out[k - run->base_index].reused = 1;
            continue;
        }
        int twins = run->twins && k != run->on_views && run->straight_cost < run->budget;
    again:
        klh_budget_reset(ctx, run->budget, run->wall_ns);
        klh_clear_error(ctx);
        run->started = run->timed ? klh_budget_clock_ns() : 0;
        lua_pushvalue(L, 2);
        lua_pushvalue(L, twins ? 6 : 3);
        int item = klh_each_item(run, k);
        if (twins && run->twin_items != NULL && run->twin_items[item] != 0) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, run->twin_items[item]);
        } else {
            lua_rawgeti(L, LUA_REGISTRYINDEX, run->items[item]);
            if (twins) klh_twin_replace(L, -1);
        }
        lua_pushvalue(L, 4);
        int straight = klh_straight_arm(L, ctx, run->straight_cost);
        if (twins && !straight) {
            /* twins need the call hook */
            lua_settop(L, 6);
            twins = 0;
            goto again;
        }
        if (!straight) lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(ctx));
        if (!twins) ctx->epoch++; /* code that may change what later calls read */
        ctx->twin_running = twins;
        ctx->enforce = 1;
        lua_callk(L, 3, 2, 0, NULL);
        ctx->enforce = 0;
        ctx->twin_running = 0;
        int t1 = lua_type(L, 7), t2 = lua_type(L, 8);
        if (twins) {
            if (ctx->spent >= ctx->budget || ctx->exhausted || !klh_twin_result_ok(t1) || !klh_twin_result_ok(t2)) {
                ctx->straight_entry = 0;
                ctx->twin_reruns++;
                lua_settop(L, 6);
                twins = 0;
                goto again;
            }
            ctx->twin_calls++;
        }
        klh_budget_flush_in(L, ctx);
        klh_each_result *r = &run->out[k - run->base_index];
        r->instructions = ctx->spent;
        r->nanoseconds = run->timed ? klh_budget_clock_ns() - run->started : 0;
        r->reused = 0;
        r->on_twins = twins;
        r->epoch = ctx->epoch;
        if (straight && klh_straight_verdict(L, ctx, LUA_OK, 2) != LUA_OK) {
            run->verdict = 1;
            return 1; /* the message */
        }
        klh_each_record(L, 7, t1, 5, 2 * (k - run->base_index) + 1, &r->type1, &r->int1, &r->num1, &r->bool1);
        klh_each_record(L, 8, t2, 5, 2 * (k - run->base_index) + 2, &r->type2, &r->int2, &r->num2, &r->bool2);
        lua_settop(L, 6);
    }
    return 0;
}

int klh_pcall_each(lua_State *L, int function, int a, int c, const int *items, const int *twin_items, const intptr_t *positions,
                   const unsigned char *reuse, int64_t reuse_epoch, int base_index, int from,
                   int count, int64_t straight_cost, int64_t budget, int64_t wall_ns, int timed, int extras,
                   const void *const *regions, const int32_t *lengths, klh_each_result *out, int *status) {
    klh_ctx *ctx = klh_ctx_of(L);
    klh_each_run run = {ctx, function, a, c, items, twin_items, positions, reuse, reuse_epoch, regions, lengths, base_index, count,
                        straight_cost, budget, wall_ns, timed, lua_absindex(L, extras), out, from, 0, 0, 0, -1};
    int top = lua_gettop(L);
    klh_push_msgh(L);
    int msgh = lua_gettop(L);
    /* twins: a straight function that writes no table, in a state that allows them */
    if (straight_cost > 0 && ctx->twins_allowed && !ctx->twins_refused) {
        int saved = ctx->enforce;
        ctx->enforce = 0;
        lua_rawgeti(L, LUA_REGISTRYINDEX, function);
        int pure = 0;
        run.twins = klh_function_cost(L, ctx, -1, &pure) == straight_cost && pure;
        lua_pop(L, 1);
        ctx->enforce = saved;
    }
    int st;
    for (;;) {
        lua_pushcfunction(L, klh_each_loop);
        lua_pushlightuserdata(L, &run);
        lua_rawgeti(L, LUA_REGISTRYINDEX, function);
        lua_rawgeti(L, LUA_REGISTRYINDEX, a);
        lua_rawgeti(L, LUA_REGISTRYINDEX, c);
        lua_pushvalue(L, run.extras);
        lua_rawgeti(L, LUA_REGISTRYINDEX, a);
        if (run.twins) klh_twin_replace(L, -1);
        klh_clear_error(ctx);
        int saved = ctx->enforce;
        lua_State *prev = ctx->running;
        ctx->running = L;
        ctx->enforce = 0; /* the loop's own work is the host's; each call runs under the cap */
        st = lua_pcall(L, 6, 1, msgh);
        ctx->enforce = saved;
        ctx->running = prev;
        ctx->each_floor = NULL;
        if (st == LUA_OK || !ctx->twin_running) break;
        /* the call at run.k ran on twins and was stopped or failed: again, on the views */
        ctx->twin_running = 0;
        ctx->straight_entry = 0;
        ctx->twin_reruns++;
        run.on_views = run.k;
        lua_settop(L, msgh);
    }
    /* the thread leaves with the count hook, as after any call */
    ctx->straight_entry = 0;
    klh_straight_disarm(L);
    if (st == LUA_OK && !run.verdict) {
        lua_settop(L, top);
        *status = LUA_OK;
        return count;
    }
    /* the call at run.k failed: what it spent, and the error object alone on top */
    if (st != LUA_OK) {
        klh_budget_flush(L);
        /* LUA_ERRMEM skips the message handler: whatever err_* holds is stale */
        if (st == LUA_ERRMEM) klh_clear_error(ctx);
        klh_each_result *r = &out[run.k - base_index];
        r->reused = r->on_twins = 0;
        r->epoch = ctx->epoch;
        r->instructions = ctx->spent;
        r->nanoseconds = timed ? klh_budget_clock_ns() - run.started : 0;
    } else {
        st = LUA_ERRRUN;
    }
    lua_replace(L, msgh);
    lua_settop(L, msgh);
    *status = st;
    return run.k;
}
