/* One crossing for many calls: function(a, item, c) for each item of a list.
 *
 * A scheduler's filter and score run once per node of a cycle. Calling them one at a time
 * from Swift pays the host's set-up for each call; here C loops over the items and each
 * call is still a call of its own: a fresh instruction budget and memory verdict (as
 * klh_budget_begin gives a top-level call), the straight path when the function has no
 * loop, its instruction count recorded. The loop stops at the first call that fails, with
 * the error object on the stack, so the host turns it into an error as for a single call
 * and goes on from the next item. */
#include "klh.h"

static void klh_each_record(lua_State *L, int idx, int extras, int slot, int *type, int64_t *i, double *d, int *b) {
    int t = lua_type(L, idx);
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

int klh_pcall_each(lua_State *L, int function, int a, int c, const int *items, int base_index, int from, int count,
                   int64_t straight_cost, int64_t budget, int64_t wall_ns, int timed, int extras,
                   const void *const *regions, const int32_t *lengths, klh_each_result *out, int *status) {
    klh_ctx *ctx = klh_ctx_of(L);
    extras = lua_absindex(L, extras);
    klh_push_msgh(L);
    int msgh = lua_gettop(L);
    /* the function (also where a verdict is located), a and c, once for every call */
    lua_rawgeti(L, LUA_REGISTRYINDEX, function);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c);
    int fixed = lua_gettop(L);
    int spans = regions != NULL && lengths != NULL;
    if (spans) {
        for (int k = from; k < count && k < from + KLH_PREFETCH_AHEAD; k++) klh_prefetch(regions[k], lengths[k]);
    }
    for (int k = from; k < count; k++) {
        /* a later item's view is read into the cache while this call runs */
        if (spans && k + KLH_PREFETCH_AHEAD < count) klh_prefetch(regions[k + KLH_PREFETCH_AHEAD], lengths[k + KLH_PREFETCH_AHEAD]);
        klh_budget_reset(ctx, budget, wall_ns);
        int64_t started = timed ? klh_budget_clock_ns() : 0;
        lua_pushvalue(L, msgh + 1);
        lua_pushvalue(L, msgh + 2);
        lua_rawgeti(L, LUA_REGISTRYINDEX, items[k]);
        lua_pushvalue(L, msgh + 3);
        int straight = klh_straight_arm(L, straight_cost);
        if (!straight) lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(ctx));
        int st = klh_pcall_with(L, 3, 2, msgh);
        if (straight) st = klh_straight_finish(L, st, msgh + 1);
        klh_each_result *r = &out[k - base_index];
        r->instructions = ctx->spent;
        r->nanoseconds = timed ? klh_budget_clock_ns() - started : 0;
        if (st != LUA_OK) {
            *status = st;
            return k; /* the error object is on top */
        }
        klh_each_record(L, fixed + 1, extras, 2 * (k - base_index) + 1, &r->type1, &r->int1, &r->num1, &r->bool1);
        klh_each_record(L, fixed + 2, extras, 2 * (k - base_index) + 2, &r->type2, &r->int2, &r->num2, &r->bool2);
        lua_settop(L, fixed);
    }
    lua_settop(L, msgh - 1);
    *status = LUA_OK;
    return count;
}
