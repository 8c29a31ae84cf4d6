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
    int t = idx > 0 ? lua_type(L, idx) : LUA_TNONE;
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

int klh_pcall_each(lua_State *L, int function, int a, int c, const int *items, int from, int count,
                   int64_t straight_cost, int64_t budget, int64_t wall_ns, int timed, int extras,
                   klh_each_result *out, int *status) {
    extras = lua_absindex(L, extras);
    for (int k = from; k < count; k++) {
        klh_budget_begin(L, budget, wall_ns);
        int base = lua_gettop(L);
        int64_t started = timed ? klh_budget_clock_ns() : 0;
        lua_rawgeti(L, LUA_REGISTRYINDEX, function);
        lua_rawgeti(L, LUA_REGISTRYINDEX, a);
        lua_rawgeti(L, LUA_REGISTRYINDEX, items[k]);
        lua_rawgeti(L, LUA_REGISTRYINDEX, c);
        int st = straight_cost > 0 ? klh_pcall_straight(L, 3, straight_cost) : klh_pcall(L, 3);
        klh_each_result *r = &out[k];
        r->instructions = klh_ctx_of(L)->spent;
        r->nanoseconds = timed ? klh_budget_clock_ns() - started : 0;
        if (st != LUA_OK) {
            *status = st;
            return k; /* the error object is on top */
        }
        int top = lua_gettop(L);
        klh_each_record(L, top > base ? base + 1 : 0, extras, 2 * k + 1, &r->type1, &r->int1, &r->num1, &r->bool1);
        klh_each_record(L, top > base + 1 ? base + 2 : 0, extras, 2 * k + 2, &r->type2, &r->int2, &r->num2, &r->bool2);
        lua_settop(L, base);
    }
    *status = LUA_OK;
    return count;
}
