/* Budgets checked in the count hook: the instruction budget, the soft memory limit and the
 * wall-time backstop; plus the exact instruction count behind LuaState.lastCallCost.
 *
 * The instruction budget is the verdict: it counts VM instructions and the C work that
 * wrappers charge (string.rep, table.move, pattern matching), so the same plugin with the
 * same input always ends at the same instruction with the same message. Wall time is only a
 * backstop for C work nothing charges (a loop of big s:upper() calls, a slow machine); it
 * is measured with the monotonic clock, the only clock LuaHost reads (this file), checked
 * when the hook fires (every <= 1000 instructions) and when big C work is charged, and its
 * verdict depends on the machine.
 *
 * Every verdict is sticky: once given, every thread whose hook fires re-arms with count 1
 * and raises on every following instruction, so pcall/xpcall/coroutines cannot swallow it.
 *
 * Exact counts. The hook fires every `count` instructions, so on its own it knows the count
 * only to within 1000, per thread. Lua keeps the countdown in lua_State.hookcount, which the
 * public API does not expose. klh_budget_calibrate finds that field once per state by
 * probing (lua_sethook writes known values; the VM counts them down) and gives up unless
 * every probe agrees; klh_budget_flush then adds `basehookcount - hookcount` whenever a
 * thread stops running (end of a call, resume or coroutine switch) and re-arms it. If the
 * probe fails (another Lua build), counts fall back to the hook granularity: each thread's
 * last partial chunk (< 1000 instructions) is not counted. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "klh.h"

int64_t klh_budget_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

static int klh_has_verdict(const klh_ctx *c) {
    return c->exhausted || c->mem_exceeded || c->wall_exceeded;
}

int klh_hook_count_now(klh_ctx *c) {
    if (klh_has_verdict(c)) return 1;
    if (c->budget - c->spent < c->hook_count) return c->budget > c->spent ? (int)(c->budget - c->spent) : 1;
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

/* "2s", "50ms", "250us" or "1500ns": the largest unit that divides the limit. */
static void klh_format_wall_limit(char *buf, size_t cap, int64_t ns) {
    long long v = (long long)ns;
    if (v % 1000000000 == 0) snprintf(buf, cap, "wall time budget exceeded (%llds)", v / 1000000000);
    else if (v % 1000000 == 0) snprintf(buf, cap, "wall time budget exceeded (%lldms)", v / 1000000);
    else if (v % 1000 == 0) snprintf(buf, cap, "wall time budget exceeded (%lldus)", v / 1000);
    else snprintf(buf, cap, "wall time budget exceeded (%lldns)", v);
}

static void klh_format_verdict(char *buf, size_t cap, const klh_ctx *c) {
    if (c->mem_exceeded)
        klh_format_memory_limit(buf, cap, c->mem_limit);
    else if (c->wall_exceeded)
        klh_format_wall_limit(buf, cap, c->wall_limit_ns);
    else
        snprintf(buf, cap, "instruction budget exceeded (%lld instructions)", (long long)c->budget);
}

/* The wall clock starts at the first check of a run (the first hook or big charge, within
 * 1000 instructions of the start), so a short call reads no clock at all. */
static int klh_wall_spent(klh_ctx *c) {
    if (c->wall_limit_ns <= 0) return 0;
    int64_t now = klh_budget_clock_ns();
    if (c->wall_start_ns == 0) {
        c->wall_start_ns = now;
        return 0;
    }
    return now - c->wall_start_ns > c->wall_limit_ns;
}

/* Raises the verdict, located at the running Lua function (level 0: in a hook, level 1
 * would be its caller). The message is pushed with the cap lifted so the raise cannot turn
 * into a memory error. */
static void klh_raise_verdict(lua_State *L, klh_ctx *c) {
    char what[128];
    char msg[600];
    lua_Debug ar;
    klh_format_verdict(what, sizeof what, c);
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

void klh_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    klh_ctx *c = klh_ctx_of(L);
    /* last known position for memory errors: level 0 only, '@' chunks only (cheap) */
    (void)klh_record_position(c, L, 0, 1);
    if (!klh_has_verdict(c)) {
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
        if (!c->mem_exceeded && klh_wall_spent(c)) c->wall_exceeded = 1;
        if (!c->mem_exceeded && !c->wall_exceeded) {
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

/* Charges of at least this many instructions also look at the wall clock. */
#define KLH_WALL_CHECK_COST 1024

void klh_charge_named(lua_State *L, int64_t cost, const char *name) {
    klh_ctx *c = klh_ctx_of(L);
    if (cost <= 0) return;
    if (!klh_has_verdict(c)) {
        if (cost < c->budget - c->spent) {
            c->spent += cost;
            if (cost < KLH_WALL_CHECK_COST || !klh_wall_spent(c)) return;
            c->wall_exceeded = 1;
        } else {
            c->spent = c->budget;
            c->exhausted = 1;
        }
    }
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, 1);
    /* Located at the calling Lua function (level 1 from inside a C function). */
    char what[160];
    char verdict[128];
    klh_format_verdict(verdict, sizeof verdict, c);
    if (name != NULL)
        snprintf(what, sizeof what, "%s: %s", name, verdict);
    else
        snprintf(what, sizeof what, "%s", verdict);
    int saved = c->enforce;
    c->enforce = 0;
    luaL_where(L, 1);
    lua_pushstring(L, what);
    lua_concat(L, 2);
    c->enforce = saved;
    lua_error(L);
}

void klh_charge(lua_State *L, int64_t cost) { klh_charge_named(L, cost, NULL); }

/* ---- exact counts ---- */

#define KLH_PROBE_A 0x2345
#define KLH_PROBE_B 0x1F3B7
/* bytes of the main lua_State searched; the main thread sits in front of the much larger
 * global_State in one block, so the whole range is readable */
#define KLH_PROBE_SPAN 512

static int klh_read_int(lua_State *L, int offset) {
    int v;
    memcpy(&v, (const char *)L + offset, sizeof v);
    return v;
}

/* Offset of the triple (basehookcount, hookcount, hookmask) == (a, a, LUA_MASKCOUNT) if it
 * occurs exactly once in the probed span, else -1. */
static int klh_find_hook_fields(lua_State *L, int a) {
    int found = -1;
    for (int off = 0; off + 3 * (int)sizeof(int) <= KLH_PROBE_SPAN; off += (int)sizeof(int)) {
        if (klh_read_int(L, off) == a && klh_read_int(L, off + (int)sizeof(int)) == a &&
            klh_read_int(L, off + 2 * (int)sizeof(int)) == LUA_MASKCOUNT) {
            if (found >= 0) return -1;
            found = off;
        }
    }
    return found;
}

void klh_budget_calibrate(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    c->hookcount_offset = -1;
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, KLH_PROBE_A);
    int base = klh_find_hook_fields(L, KLH_PROBE_A);
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, KLH_PROBE_B);
    if (base >= 0 && klh_find_hook_fields(L, KLH_PROBE_B) == base) {
        /* run a few instructions: only the countdown may move, by a few */
        static const char probe[] = "local a = 1 local b = a + 1 return b";
        int top = lua_gettop(L);
        if (luaL_loadbufferx(L, probe, sizeof probe - 1, "=(probe)", "t") == LUA_OK &&
            lua_pcall(L, 0, 0, 0) == LUA_OK) {
            int left = klh_read_int(L, base + (int)sizeof(int));
            if (klh_read_int(L, base) == KLH_PROBE_B && left < KLH_PROBE_B && left > KLH_PROBE_B - 32)
                c->hookcount_offset = base + (int)sizeof(int);
        }
        lua_settop(L, top);
    }
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
}

void klh_budget_flush(lua_State *L) { klh_budget_flush_in(L, klh_ctx_of(L)); }

void klh_budget_flush_in(lua_State *L, klh_ctx *c) {
    if (c->hookcount_offset < 0 || lua_gethook(L) != klh_hook) return;
    int base = lua_gethookcount(L);
    int left = klh_read_int(L, c->hookcount_offset);
    if (!klh_has_verdict(c) && left > 0 && left <= base) c->spent += base - left;
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
}

int64_t klh_budget_used(lua_State *L) {
    klh_budget_flush(L);
    return klh_ctx_of(L)->spent;
}

int klh_budget_exact(lua_State *L) { return klh_ctx_of(L)->hookcount_offset >= 0; }

void klh_budget_reset(klh_ctx *c, int64_t instructions, int64_t wall_ns) {
    c->budget = instructions > 0 ? instructions : 1;
    c->spent = 0;
    c->exhausted = 0;
    c->mem_exceeded = 0;
    c->wall_exceeded = 0;
    c->cap_refused = 0;
    c->yield_error = 0;
    c->pos_chunk[0] = '\0';
    c->pos_line = -1;
    c->wall_limit_ns = wall_ns > 0 ? wall_ns : 0;
    c->wall_start_ns = 0; /* read at the first check: see klh_wall_spent */
}

void klh_budget_begin(lua_State *L, int64_t instructions, int64_t wall_ns) {
    klh_ctx *c = klh_ctx_of(L);
    klh_budget_reset(c, instructions, wall_ns);
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
    if (L != c->main) lua_sethook(c->main, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
}

int klh_flags(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    int f = 0;
    if (c->exhausted || c->wall_exceeded) f |= KLH_FLAG_BUDGET;
    if (c->wall_exceeded) f |= KLH_FLAG_WALL;
    if (c->mem_exceeded) f |= KLH_FLAG_MEMORY;
    if (c->cap_refused) f |= KLH_FLAG_CAP_REFUSED;
    if (c->yield_error) f |= KLH_FLAG_YIELD;
    return f;
}
