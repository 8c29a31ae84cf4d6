/* Straight functions: hooks without the count hook's per-instruction cost.
 *
 * While a count hook is set, Lua 5.4.4 sends every VM instruction through luaG_traceexec
 * (x1.7 machine instructions on a short hook; docs/benchmarks.md). A function whose bytecode
 * has no backward jump and no loop instruction runs each of its instructions at most once,
 * so on its own it cannot run longer than its size. Such a function (a typical filter or
 * score: a few field reads, arithmetic, comparisons) is run with only a *call* hook:
 *
 * - the budget is charged its instruction count up front (an upper bound, the same on every
 *   run, so verdicts and run totals stay deterministic);
 * - the first call event is the function's own entry. A call of another straight Lua
 *   function (a local helper) is charged that function's size and stays on the fast path,
 *   so recursion and tail calls are paid per entry and end with the budget verdict. Any
 *   other call (a looping Lua function, a C function, a metamethod, an iterator) switches
 *   the thread to the ordinary count hook at once, so everything beyond straight-line code
 *   is counted as usual;
 * - strings it creates are charged by the allocator as always; if they exhaust the budget,
 *   the call ends with the budget verdict when it returns.
 *
 * The bytecode is read from lua_dump (format of Lua 5.4: header, then the main function's
 * source, lines, parameters and code). The opcode numbers used are checked once per process
 * against functions compiled for the purpose; if they do not match (another Lua build), no
 * function is ever called straight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "klh.h"

static int klh_callee_checked(lua_State *L);

#define KLH_STRAIGHT_MAX_DUMP (256 * 1024)

/* An instruction that writes a table, a global or an upvalue. */
static int klh_op_writes(int op) {
    return op == KLH_OP_SETUPVAL || op == KLH_OP_SETTABUP || op == KLH_OP_SETTABLE || op == KLH_OP_SETI ||
           op == KLH_OP_SETFIELD || op == KLH_OP_SETLIST;
}

/* Instruction count if straight, -1 if not (or unreadable); *pure: no instruction writes a
 * table, a global or an upvalue. */
static int64_t klh_scan(const unsigned char *b, size_t n, int *pure) {
    *pure = 0;
    klh_dump_main m;
    size_t after;
    if (!klh_dump_read_main(b, n, (size_t)-1, &m, &after)) return -1;
    int writes = 0;
    for (int i = 0; i < m.ncode; i++) {
        uint32_t ins;
        memcpy(&ins, m.code + (size_t)i * 4, 4);
        int op = KLH_GET_OP(ins);
        if (op == KLH_OP_FORLOOP || op == KLH_OP_TFORLOOP) return -1;
        if (op == KLH_OP_JMP && KLH_GET_SJ(ins) < 0) return -1;
        writes |= klh_op_writes(op);
    }
    *pure = !writes;
    return (int64_t)m.ncode;
}

/* (Called once per function: the costs are cached. The buffer is the call's own, as
 * states of other threads read their functions at the same time.) */
static int64_t klh_cost_of(lua_State *L, int idx, int *pure) {
    *pure = 0;
    klh_dump d;
    int64_t cost = klh_dump_function(L, idx, KLH_STRAIGHT_MAX_DUMP, &d) ? klh_scan(d.buf, d.used, pure) : -1;
    free(d.buf);
    return cost;
}

/* 1 when the opcode numbers match this Lua build, 0 otherwise; checked once. */
static int klh_straight_checked(lua_State *L) {
    static _Atomic int verdict = -1; /* states of several threads may ask at once */
    if (verdict >= 0) return verdict;
    static const char *const looping[] = {
        "local a = ... while a do a = a - 1 end",
        "for i = 1, 2 do end",
        "for k in next, {} do end",
        "::top:: local a = ... if a then goto top end",
        "repeat local a = ... until a",
    };
    static const char *const straight[] = {
        "local a, b = ... if a > b then return a else return b end",
        "local p, n = ... return (p.x or 0) + n.y // 2, 'reason'",
        "local a = ... if not a then goto done end a = 1 ::done:: return a",
        "local t, k = ... return t[k], t[1], #t, {}, function() return k end",
    };
    /* straight, but each writes (the last returns a function that writes an upvalue) */
    static const char *const writing[] = {
        "local t = ... t.x = 1",
        "local t, k = ... t[k] = 1",
        "local t = ... t[1] = 1",
        "x = 1",
        "return {...}",
        "local u = ... return function() u = 1 end",
    };
    int ok = 1, pure = 0;
    int top = lua_gettop(L);
    for (size_t i = 0; ok && i < sizeof looping / sizeof *looping; i++) {
        ok = luaL_loadstring(L, looping[i]) == LUA_OK && klh_cost_of(L, -1, &pure) < 0;
        lua_settop(L, top);
    }
    for (size_t i = 0; ok && i < sizeof straight / sizeof *straight; i++) {
        ok = luaL_loadstring(L, straight[i]) == LUA_OK && klh_cost_of(L, -1, &pure) > 0 && pure;
        lua_settop(L, top);
    }
    for (size_t i = 0; ok && i < sizeof writing / sizeof *writing; i++) {
        ok = luaL_loadstring(L, writing[i]) == LUA_OK;
        if (ok && i + 1 == sizeof writing / sizeof *writing) ok = lua_pcall(L, 0, 1, 0) == LUA_OK;
        ok = ok && klh_cost_of(L, -1, &pure) > 0 && !pure;
        lua_settop(L, top);
    }
    verdict = ok;
    if (ok) (void)klh_callee_checked(L);
    return verdict;
}

int64_t klh_straight_cost(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    klh_ctx *c = klh_ctx_of(L);
    int saved = c->enforce;
    c->enforce = 0; /* host work: the checks compile small chunks */
    int pure = 0;
    int64_t cost = klh_straight_checked(L) ? klh_cost_of(L, idx, &pure) : -1;
    c->enforce = saved;
    return cost;
}

/* Costs of the functions seen by the call hook, in a weak-keyed table of the registry (a
 * function's entry goes when the function is collected, so a new function at the same
 * address is never taken for it). */
static const char klh_straight_key = 's';

static int64_t klh_cached_cost(lua_State *L, klh_ctx *c, int fidx, int *pure) {
    int saved = c->enforce;
    c->enforce = 0;
    int64_t cost = -1;
    *pure = 0;
    klh_registry_table(L, &klh_straight_key, "k");
    lua_pushvalue(L, fidx);
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
        /* 2 * cost + pure, or -1 */
        int64_t v = lua_tointegerx(L, -1, NULL);
        cost = v < 0 ? -1 : v / 2;
        *pure = v >= 0 && (v & 1);
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        cost = klh_straight_checked(L) ? klh_cost_of(L, fidx, pure) : -1;
        lua_pushvalue(L, fidx);
        lua_pushinteger(L, cost < 0 ? -1 : 2 * cost + (*pure ? 1 : 0));
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    c->enforce = saved;
    return cost;
}

/* The cost of the function at fidx through the per-state slots: a slot holds a function's
 * address while a registry table holds the function at the same slot, so the address cannot
 * be reused by another function meanwhile. A miss asks klh_cached_cost and takes the slot. */
static const char klh_slots_key = 'c';
static size_t klh_slot_of(const void *fn) { return ((uintptr_t)fn >> 4) % KLH_COST_SLOTS; }

static int64_t klh_slot_cost(lua_State *L, klh_ctx *c, int fidx, int *pure) {
    const void *fn = lua_topointer(L, fidx);
    size_t k = klh_slot_of(fn);
    if (fn != NULL && c->cost_slots[k].fn == fn) {
        *pure = c->cost_slots[k].pure;
        return c->cost_slots[k].cost;
    }
    int64_t cost = klh_cached_cost(L, c, fidx, pure);
    int saved = c->enforce;
    c->enforce = 0;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &klh_slots_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, KLH_COST_SLOTS, 0);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &klh_slots_key);
    }
    lua_pushvalue(L, fidx);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
    lua_pop(L, 1);
    c->enforce = saved;
    c->cost_slots[k].fn = fn;
    c->cost_slots[k].cost = cost;
    c->cost_slots[k].pure = *pure;
    return cost;
}

int64_t klh_function_cost(lua_State *L, klh_ctx *c, int idx, int *pure) {
    *pure = 0;
    if (lua_type(L, idx) != LUA_TFUNCTION || lua_iscfunction(L, idx) || !lua_checkstack(L, 6)) return -1;
    return klh_slot_cost(L, c, lua_absindex(L, idx), pure);
}

/* The function a call event is entering, read straight from the event's CallInfo: the
 * frame's first field points at the called value on the stack, a TValue whose first word
 * is the object and whose tag follows it (Lua 5.4's lstate.h and lobject.h). Only a Lua
 * closure (tag LUA_VLCL | BIT_ISCOLLECTABLE) is read; anything else, or a Lua build where
 * klh_callee_checked found the layout different, gives NULL and the hook asks lua_getinfo.
 * A hit in the cost slots then costs a few loads instead of a lua_getinfo call. */
#define KLH_TAG_LUA_CLOSURE (6 | (0 << 4) | (1 << 6))
static _Atomic int klh_callee_layout = -1; /* -1 unchecked, 0 different, 1 as expected */

static const void *klh_callee_read(const lua_Debug *ar) {
    const char *func = *(const char *const *)(const void *)ar->i_ci;
    if (func == NULL || *(const unsigned char *)(func + sizeof(void *)) != KLH_TAG_LUA_CLOSURE) return NULL;
    return *(const void *const *)(const void *)func;
}

static const void *klh_callee_fast(const lua_Debug *ar) {
    return klh_callee_layout == 1 ? klh_callee_read(ar) : NULL;
}

/* The same read for a light C function (tag LUA_VLCF, the function pointer its value). */
#define KLH_TAG_LIGHT_C (6 | (1 << 4))
static const void *klh_callee_light_read(const lua_Debug *ar) {
    const char *func = *(const char *const *)(const void *)ar->i_ci;
    if (func == NULL || *(const unsigned char *)(func + sizeof(void *)) != KLH_TAG_LIGHT_C) return NULL;
    return *(const void *const *)(const void *)func;
}

/* Checks klh_callee_read against lua_getinfo on calls of a Lua function and of a C function
 * (which must read as NULL); run once per process. */
static _Thread_local const void *klh_probe_read, *klh_probe_info, *klh_probe_light;
static _Thread_local int klh_probe_calls;
static int klh_probe_cfunction(lua_State *L) {
    (void)L;
    return 0;
}
static void klh_probe_hook(lua_State *L, lua_Debug *ar) {
    if (klh_probe_calls++ > 0) return;
    klh_probe_read = klh_callee_read(ar);
    klh_probe_light = klh_callee_light_read(ar);
    klh_probe_info = NULL;
    if (lua_getinfo(L, "f", ar)) {
        klh_probe_info = lua_type(L, -1) == LUA_TFUNCTION && !lua_iscfunction(L, -1) ? lua_topointer(L, -1) : NULL;
        lua_pop(L, 1);
    }
}

static int klh_probe(lua_State *L, int fidx) {
    lua_Hook saved = lua_gethook(L);
    int mask = lua_gethookmask(L), count = lua_gethookcount(L);
    klh_probe_calls = 0;
    klh_probe_read = klh_probe_info = (const void *)&klh_probe_calls;
    lua_pushvalue(L, fidx);
    lua_sethook(L, klh_probe_hook, LUA_MASKCALL, 0);
    int ok = lua_pcall(L, 0, 0, 0) == LUA_OK;
    lua_sethook(L, saved, mask, count);
    return ok && klh_probe_calls > 0 && klh_probe_read == klh_probe_info;
}

static int klh_callee_checked(lua_State *L) {
    if (klh_callee_layout >= 0) return klh_callee_layout;
    int top = lua_gettop(L);
    int ok = lua_checkstack(L, 4) && luaL_loadstring(L, "local a = ... return a") == LUA_OK;
    int lua_fn = lua_gettop(L);
    if (ok) {
        /* the Lua function reads as itself */
        ok = klh_probe(L, lua_fn) && klh_probe_read == lua_topointer(L, lua_fn) && klh_probe_read != NULL;
    }
    if (ok) {
        /* a C function reads as NULL */
        lua_pushcfunction(L, klh_probe_cfunction);
        ok = klh_probe(L, lua_gettop(L)) && klh_probe_read == NULL &&
             klh_probe_light == (const void *)(uintptr_t)klh_probe_cfunction;
    }
    lua_settop(L, top);
    klh_callee_layout = ok;
    return ok;
}

int klh_straight_reads_callee(void) { return klh_callee_layout == 1; }

/* Ends a call on twins at a call it may not make (nothing has run that the call on the
 * views would not run again): an error whose object is this key, caught by the loop. */
static const char klh_twin_stop_key = 'x';

void klh_twin_stop(lua_State *L, klh_ctx *c) {
    lua_pushlightuserdata(L, (void *)&klh_twin_stop_key);
    lua_error(L);
}

static void klh_call_hook(lua_State *L, lua_Debug *ar) {
    klh_ctx *c = klh_ctx_of(L);
    if (c->straight_entry) {
        c->straight_entry = 0; /* the straight function itself starting */
        return;
    }
    /* the callee's size: from its slot when its frame names it and the slot holds it, else
     * through lua_getinfo (which fills the slot) */
    const void *fn = klh_callee_fast(ar);
    int64_t cost = -1;
    int pure = 0;
    if (fn != NULL && c->cost_slots[klh_slot_of(fn)].fn == fn) {
        cost = c->cost_slots[klh_slot_of(fn)].cost;
        pure = c->cost_slots[klh_slot_of(fn)].pure;
    } else if (c->twin_running && klh_callee_layout == 1 && (fn = klh_callee_light_read(ar)) != NULL) {
        /* a light C function, on twins: only one of the listed ones */
        if (klh_pure_cfunction(c, fn)) return;
        klh_twin_stop(L, c);
    } else if (lua_checkstack(L, 6) && lua_getinfo(L, "f", ar)) {
        if (c->twin_running && lua_iscfunction(L, -1)) {
            /* a closure is listed by its C function only for the few closures whose
             * upvalues are fixed (sandbox.c) */
            int listed = klh_pure_cfunction(c, (const void *)(uintptr_t)lua_tocfunction(L, -1));
            lua_pop(L, 1);
            if (listed) return;
            klh_twin_stop(L, c);
        }
        cost = klh_slot_cost(L, c, lua_gettop(L), &pure);
        lua_pop(L, 1);
    }
    if (cost > 0 && cost < c->budget - c->spent && (pure || !c->twin_running)) {
        c->spent += cost; /* another straight function: paid per entry */
        return;
    }
    /* on twins, nothing else may run: the call starts again on the views */
    if (c->twin_running) klh_twin_stop(L, c);
    /* anything else runs under the count hook, from this call on */
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
}

int klh_straight_arm(lua_State *L, klh_ctx *c, int64_t cost) {
    if (cost <= 0 || c->exhausted || cost >= c->budget - c->spent) return 0;
    c->spent += cost;
    c->straight_entry = 1;
    /* armed already when the call before was straight too (klh_pcall_each) */
    if (lua_gethook(L) != klh_call_hook || lua_gethookmask(L) != LUA_MASKCALL) lua_sethook(L, klh_call_hook, LUA_MASKCALL, 0);
    return 1;
}

void klh_straight_disarm(lua_State *L) {
    if (lua_gethook(L) == klh_call_hook) lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(klh_ctx_of(L)));
}

int klh_straight_finish(lua_State *L, int status, int fidx) {
    klh_straight_disarm(L);
    return klh_straight_verdict(L, klh_ctx_of(L), status, fidx);
}

int klh_straight_verdict(lua_State *L, klh_ctx *c, int status, int fidx) {
    c->straight_entry = 0;
    if (status != LUA_OK || c->spent < c->budget || c->exhausted) return status;
    /* strings it built spent the budget: the verdict the count hook would have given; the
     * message replaces whatever the call left above fidx */
    lua_Debug ar;
    char where[300] = "";
    lua_pushvalue(L, fidx);
    if (lua_getinfo(L, ">S", &ar) && ar.source != NULL && ar.source[0] == '@')
        snprintf(where, sizeof where, "%.256s:%d", ar.source + 1, ar.linedefined);
    c->exhausted = 1;
    lua_settop(L, fidx);
    int saved = c->enforce;
    c->enforce = 0;
    if (where[0] != '\0')
        lua_pushfstring(L, "%s: instruction budget exceeded (%I instructions)", where, (LUA_INTEGER)c->budget);
    else
        lua_pushfstring(L, "instruction budget exceeded (%I instructions)", (LUA_INTEGER)c->budget);
    c->enforce = saved;
    return LUA_ERRRUN;
}

int klh_pcall_straight(lua_State *L, int nargs, int64_t cost) {
    int base = lua_gettop(L) - nargs - 1;
    if (!klh_straight_arm(L, klh_ctx_of(L), cost)) return klh_pcall(L, nargs);
    lua_pushvalue(L, base + 1); /* keep the function, to locate a verdict */
    lua_insert(L, base + 1);
    int status = klh_pcall(L, nargs);
    status = klh_straight_finish(L, status, base + 1);
    lua_remove(L, base + 1);
    return status;
}

/* ---- twins: whether a plugin's tables can be keyed by views ----
 *
 * A call on twins (each.c) reads a view's plain twin where the view would be read. Reads
 * give the same values; what differs is the table's identity. Comparing a twin with another
 * table calls its __eq, which stops the call (it starts again on the views); a twin used
 * as a key finds what a table holds under that twin, and no table can hold a twin (a call
 * on twins writes nothing). So the one difference left is a table that holds something
 * under a *view*: reading it with the twin finds nothing. Such a table needs a write with a
 * computed key (SETTABLE, which table constructors with [k] = v use too) or rawset. A state
 * allows twins when none of its plugin's functions has such a write (klh_twins_allow, on
 * the chunk), and stops allowing them for good when code is loaded at run time or rawset
 * is given a table as key (sandbox.c). */

typedef struct {
    const unsigned char *b;
    size_t n, pos;
} klh_reader;

static int klh_rd_size(klh_reader *r, size_t *out) { return klh_dump_size(r->b, r->n, &r->pos, out); }

static int klh_rd_skip(klh_reader *r, size_t len) {
    if (len > r->n - r->pos) return 0;
    r->pos += len;
    return 1;
}

static int klh_rd_string(klh_reader *r) {
    size_t len;
    return klh_rd_size(r, &len) && (len == 0 || klh_rd_skip(r, len - 1));
}

/* One function of a dump (ldump.c's dumpFunction, Lua 5.4): 1 when neither it nor any
 * function nested in it writes a table with a computed key, 0 when one does, -1 when the
 * dump cannot be read. */
static int klh_rd_function(klh_reader *r, int depth) {
    size_t x, count;
    if (depth > 200) return -1;
    if (!klh_rd_string(r) || !klh_rd_size(r, &x) || !klh_rd_size(r, &x) || !klh_rd_skip(r, 3)) return -1;
    if (!klh_rd_size(r, &count) || count > (r->n - r->pos) / 4) return -1;
    int keyed = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t ins;
        memcpy(&ins, r->b + r->pos + i * 4, 4);
        if (KLH_GET_OP(ins) == KLH_OP_SETTABLE) keyed = 1;
    }
    r->pos += count * 4;
    if (!klh_rd_size(r, &count)) return -1; /* constants */
    for (size_t i = 0; i < count; i++) {
        if (r->pos >= r->n) return -1;
        int tag = r->b[r->pos++];
        if (tag == 3 || tag == (3 | (1 << 4))) { /* integer, float */
            if (!klh_rd_skip(r, 8)) return -1;
        } else if (tag == 4 || tag == (4 | (1 << 4))) { /* short, long string */
            if (!klh_rd_string(r)) return -1;
        } else if (tag != 0 && tag != 1 && tag != (1 | (1 << 4))) { /* nil, false, true */
            return -1;
        }
    }
    if (!klh_rd_size(r, &count) || count > (r->n - r->pos) / 3) return -1; /* upvalues */
    r->pos += count * 3;
    if (!klh_rd_size(r, &count)) return -1; /* nested functions */
    for (size_t i = 0; i < count; i++) {
        int v = klh_rd_function(r, depth + 1);
        if (v < 0) return -1;
        if (v == 0) keyed = 1;
    }
    /* debug information (empty in a stripped dump, read anyway) */
    if (!klh_rd_size(r, &count) || !klh_rd_skip(r, count)) return -1;
    if (!klh_rd_size(r, &count)) return -1;
    for (size_t i = 0; i < count; i++)
        if (!klh_rd_size(r, &x) || !klh_rd_size(r, &x)) return -1;
    if (!klh_rd_size(r, &count)) return -1;
    for (size_t i = 0; i < count; i++)
        if (!klh_rd_string(r) || !klh_rd_size(r, &x) || !klh_rd_size(r, &x)) return -1;
    if (!klh_rd_size(r, &count)) return -1;
    for (size_t i = 0; i < count; i++)
        if (!klh_rd_string(r)) return -1;
    return !keyed;
}

int klh_twins_allow(lua_State *L, int idx) {
    klh_ctx *c = klh_ctx_of(L);
    idx = lua_absindex(L, idx);
    int allow = 0;
    int saved = c->enforce;
    c->enforce = 0;
    if (klh_straight_checked(L) && klh_callee_checked(L) == 1 && lua_type(L, idx) == LUA_TFUNCTION &&
        !lua_iscfunction(L, idx)) {
        klh_dump d;
        if (klh_dump_function(L, idx, 64 * 1024 * 1024, &d) && d.used > 32) {
            klh_reader rd = {d.buf, d.used, KLH_DUMP_HEADER};
            allow = klh_rd_function(&rd, 0) == 1 && rd.pos == rd.n;
        }
        free(d.buf);
    }
    c->enforce = saved;
    c->twins_allowed = allow;
    return allow && !c->twins_refused;
}

void klh_twins_refuse(lua_State *L) { klh_ctx_of(L)->twins_refused = 1; }

void klh_twin_counts(lua_State *L, int64_t *calls, int64_t *reruns) {
    klh_ctx *c = klh_ctx_of(L);
    *calls = c->twin_calls;
    *reruns = c->twin_reruns;
}
