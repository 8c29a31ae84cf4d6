/* Instruction budget (count hook) and the soft memory limit checked in the same hook.
 *
 * Exhaustion is sticky: once spent, every thread whose hook fires re-arms with count 1 and
 * raises on every following instruction, so pcall/xpcall/coroutines cannot swallow it. */
#include <stdio.h>
#include "klh.h"

int klh_hook_count_now(klh_ctx *c) {
    if (c->exhausted || c->mem_exceeded) return 1;
    if (c->budget < c->hook_count) return c->budget > 0 ? (int)c->budget : 1;
    return c->hook_count;
}

void klh_format_memory_limit(char *buf, size_t cap, size_t limit) {
    if (limit >= (1u << 20) && limit % (1u << 20) == 0)
        snprintf(buf, cap, "memory limit exceeded (%zu MiB)", limit >> 20);
    else if (limit >= 1024 && limit % 1024 == 0)
        snprintf(buf, cap, "memory limit exceeded (%zu KiB)", limit >> 10);
    else
        snprintf(buf, cap, "memory limit exceeded (%zu bytes)", limit);
}

/* Raises `what`, located at the running Lua function (level 0: in a hook, level 1 would be
 * its caller). The message is pushed with the cap lifted so the raise cannot turn into a
 * memory error. */
static void klh_raise_at_level0(lua_State *L, klh_ctx *c, const char *what) {
    char msg[600];
    lua_Debug ar;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        snprintf(msg, sizeof msg, "%.300s:%d: %s", klh_frame_chunk(&ar), ar.currentline, what);
    else
        snprintf(msg, sizeof msg, "%s", what);
    int saved = c->enforce;
    c->enforce = 0;
    lua_pushstring(L, msg);
    c->enforce = saved;
    lua_error(L);
}

static void klh_raise_verdict(lua_State *L, klh_ctx *c) {
    char what[128];
    if (c->mem_exceeded)
        klh_format_memory_limit(what, sizeof what, c->mem_limit);
    else
        snprintf(what, sizeof what, "instruction budget exceeded (%lld instructions)",
                 (long long)c->budget);
    klh_raise_at_level0(L, c, what);
}

void klh_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    klh_ctx *c = klh_ctx_of(L);
    if (!c->exhausted && !c->mem_exceeded) {
        int count = lua_gethookcount(L);
        c->spent += count > 0 ? count : 1;
        if (c->cap_refused >= KLH_MAX_REFUSALS) {
            /* a loop keeps running into the hard cap (e.g. pcall around a memory bomb) */
            c->mem_exceeded = 1;
        } else if (c->enforce > 0) {
            size_t soft = c->mem_limit - c->mem_limit / 8;
            if (c->mem_used > soft) {
                c->enforce = 0;
                lua_gc(L, LUA_GCCOLLECT, 0);
                c->enforce = 1;
                if (c->mem_used > soft) c->mem_exceeded = 1;
            }
        }
        if (!c->mem_exceeded) {
            if (c->spent < c->budget) {
                int want = klh_hook_count_now(c);
                if (count != want) lua_sethook(L, klh_hook, LUA_MASKCOUNT, want);
                return;
            }
            c->exhausted = 1;
        }
    }
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, 1);
    klh_raise_verdict(L, c);
}

void klh_charge(lua_State *L, int64_t cost) {
    klh_ctx *c = klh_ctx_of(L);
    if (cost <= 0) return;
    if (!c->exhausted && !c->mem_exceeded) {
        if (cost < c->budget - c->spent) {
            c->spent += cost;
            return;
        }
        c->spent = c->budget;
        c->exhausted = 1;
    }
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, 1);
    /* Located at the calling Lua function (level 1 from inside a C function). */
    char what[128];
    if (c->mem_exceeded)
        klh_format_memory_limit(what, sizeof what, c->mem_limit);
    else
        snprintf(what, sizeof what, "instruction budget exceeded (%lld instructions)",
                 (long long)c->budget);
    int saved = c->enforce;
    c->enforce = 0;
    luaL_where(L, 1);
    lua_pushstring(L, what);
    lua_concat(L, 2);
    c->enforce = saved;
    lua_error(L);
}

void klh_budget_begin(lua_State *L, int64_t instructions) {
    klh_ctx *c = klh_ctx_of(L);
    c->budget = instructions > 0 ? instructions : 1;
    c->spent = 0;
    c->exhausted = 0;
    c->mem_exceeded = 0;
    c->cap_refused = 0;
    c->yield_error = 0;
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
    if (L != c->main) lua_sethook(c->main, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
}

int klh_flags(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    int f = 0;
    if (c->exhausted) f |= KLH_FLAG_BUDGET;
    if (c->mem_exceeded) f |= KLH_FLAG_MEMORY;
    if (c->cap_refused) f |= KLH_FLAG_CAP_REFUSED;
    if (c->yield_error) f |= KLH_FLAG_YIELD;
    return f;
}
