/* The sandboxed library set: base (trimmed and wrapped), string, table, math, utf8,
 * coroutine, each opened by luaL_requiref from an allow-list. Never luaL_openlibs. */
#include <stdlib.h>
#include <string.h>
#include "klh.h"

#define KLH_SEED2 ((lua_Integer)0x6b7562656c6162LL) /* "kubelab" */
#define KLH_PRINT_MAX 4096

/* load(chunk [, chunkname [, mode [, env]]]): strings only, text only, chunk name forced to
 * "=(load)" (no forged '@' names), default env = the sandbox globals. */
static int sb_load(lua_State *L) {
    size_t len = 0;
    if (lua_type(L, 1) != LUA_TSTRING) return luaL_typeerror(L, 1, "string");
    const char *s = lua_tolstring(L, 1, &len);
    int env = !lua_isnone(L, 4) ? 4 : 0;
    int status = luaL_loadbufferx(L, s, len, "=(load)", "t");
    /* code made at run time is not looked at: no more calls on twins (straight.c) */
    klh_twins_refuse(L);
    if (status == LUA_OK) {
        if (env != 0) {
            lua_pushvalue(L, env);
            if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
        }
        return 1;
    }
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* Runs the stock C function kept as upvalue 1 (a plain lua_CFunction without upvalues) in
 * the wrapper's own frame, on the wrapper's arguments: its errors then name the function as
 * the caller wrote it and carry the caller's position, exactly as without the wrapper. */
static int sb_stock(lua_State *L) {
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* Registry key of the table of stock functions replaced below (for the parity tests). */
static const char klh_stock_key = 's';

/* Determinism: Lua prints reference values as "table: 0x55d0c3a4b2c0", an address that
 * changes from run to run. Here they are "table", "function", "thread", "userdata" (or the
 * string __name of their metatable); __tostring is still used. */
const char *klh_tostring(lua_State *L, int idx, size_t *len) {
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t == LUA_TNIL || t == LUA_TBOOLEAN || t == LUA_TNUMBER || t == LUA_TSTRING)
        return luaL_tolstring(L, idx, len);
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        return luaL_tolstring(L, idx, len);
    }
    int name = luaL_getmetafield(L, idx, "__name");
    if (name == LUA_TSTRING) return lua_tolstring(L, -1, len);
    if (name != LUA_TNIL) lua_pop(L, 1);
    const char *s = lua_pushstring(L, luaL_typename(L, idx));
    if (len != NULL) *len = strlen(s);
    return s;
}

/* tostring(v): klh_tostring. */
static int sb_tostring(lua_State *L) {
    luaL_checkany(L, 1);
    klh_tostring(L, 1, NULL);
    return 1;
}

/* string.format: '%p' (an address) is refused; a '%s' argument that is a reference value
 * without __tostring is replaced by klh_tostring's text first. Everything else, including
 * the errors for malformed specifications, is the stock function's. */
static int sb_format(lua_State *L) {
    size_t flen = 0;
    const char *f = luaL_checklstring(L, 1, &flen);
    const char *end = f + flen;
    int arg = 1;
    while (f < end) {
        if (*f++ != '%') continue;
        if (f < end && *f == '%') {
            f++;
            continue;
        }
        arg++;
        while (f < end && *f != '\0' && strchr("-+ #0123456789.", *f) != NULL) f++;
        if (f >= end) break;
        char conv = *f++;
        if (conv == 'p') return luaL_error(L, "string.format: '%%p' is not allowed");
        if (conv == 's' && arg <= lua_gettop(L)) {
            int t = lua_type(L, arg);
            if (t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TTHREAD || t == LUA_TUSERDATA ||
                t == LUA_TLIGHTUSERDATA) {
                if (luaL_getmetafield(L, arg, "__tostring") != LUA_TNIL) {
                    lua_pop(L, 1);
                } else {
                    klh_tostring(L, arg, NULL);
                    lua_replace(L, arg);
                }
            }
        }
    }
    return sb_stock(L);
}

/* print(...): one line into the state's bounded log; never stdout. Values are written as
 * tostring writes them (no addresses). */
static int sb_print(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    int n = lua_gettop(L);
    luaL_checkstack(L, 2 * n + 2, "too many arguments to print");
    for (int i = 1; i <= n; i++) {
        if (i > 1) lua_pushliteral(L, "\t");
        size_t len = 0;
        const char *s = klh_tostring(L, i, &len);
        if (len > KLH_PRINT_MAX) {
            lua_pushlstring(L, s, KLH_PRINT_MAX);
            lua_remove(L, -2);
        }
    }
    lua_concat(L, lua_gettop(L) - n);
    size_t len = 0;
    const char *line = lua_tolstring(L, -1, &len);
    if (c->print != NULL) c->print(c->owner, line, len);
    return 0;
}

static int sb_collectgarbage(lua_State *L) {
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") == 0) {
        int k = lua_gc(L, LUA_GCCOUNT, 0);
        int b = lua_gc(L, LUA_GCCOUNTB, 0);
        lua_pushnumber(L, (lua_Number)k + ((lua_Number)b / 1024));
        return 1;
    }
    return luaL_error(L, "collectgarbage: option '%s' is not allowed (only \"count\")", opt);
}

/* setmetatable refusing finalizers (__gc runs with hooks disabled) and __close (5.4.4
 * close-chain stack overflow). */
static int sb_setmetatable(lua_State *L) {
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not allowed");
        lua_pop(L, 1);
        lua_pushliteral(L, "__close");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __close metamethods are not allowed");
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* rawset refusing the read-only view proxies (a raw write would shadow their content). */
static int sb_rawset(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (klh_is_view(L, 1)) {
        int kt = lua_type(L, 2);
        const char *key = (kt == LUA_TSTRING || kt == LUA_TNUMBER) ? lua_tostring(L, 2)
                                                                   : luaL_typename(L, 2);
        return luaL_error(L, "%s view is read-only (field '%s')", klh_view_name(L, 1), key);
    }
    /* a table keyed by a table may be keyed by a view: no more calls on twins (straight.c) */
    if (lua_type(L, 2) == LUA_TTABLE) klh_twins_refuse(L);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* string.rep with its C loop charged to the instruction budget and a size cap. */
static int sb_rep(lua_State *L) {
    size_t l = 0, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || (l == 0 && lsep == 0)) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t limit = klh_ctx_of(L)->mem_limit;
    size_t unit = l + lsep;
    if (unit < l || (size_t)n > limit / unit) return luaL_error(L, "resulting string too large");
    klh_charge(L, (int64_t)n);
    return sb_stock(L);
}

/* table.move with its C loop charged to the instruction budget. */
static int sb_move(lua_State *L) {
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    if (e >= f) {
        lua_Unsigned count = (lua_Unsigned)e - (lua_Unsigned)f;
        klh_charge(L, count > (lua_Unsigned)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)count + 1);
    }
    return sb_stock(L);
}

/* math.randomseed(): without arguments reseeds from the state's seed, never the clock. */
static int sb_randomseed(lua_State *L) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    if (n == 0) {
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_pushinteger(L, KLH_SEED2);
        lua_call(L, 2, LUA_MULTRET);
    } else {
        lua_insert(L, 1);
        lua_call(L, n, LUA_MULTRET);
    }
    return lua_gettop(L);
}

/* ---- coroutines: every thread the plugin creates gets the budget hook explicitly ---- */

static lua_State *sb_newco(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_sethook(co, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(klh_ctx_of(L)));
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return co;
}

static int sb_cocreate(lua_State *L) {
    (void)sb_newco(L);
    return 1;
}

/* same as lcorolib.c (5.4.4) auxresume, plus the exact-count flushes */
static int sb_auxresume(lua_State *L, lua_State *co, int narg) {
    int status, nres;
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    /* exact counts: settle the resumer's count, re-arm co with what is left, settle co */
    klh_budget_flush(L);
    klh_budget_flush(co);
    klh_ctx *c = klh_ctx_of(L);
    lua_State *prev = c->running;
    c->running = co;
    status = lua_resume(co, L, narg, &nres);
    c->running = prev;
    klh_budget_flush(co);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

/* same as lcorolib.c (5.4.4) auxwrap */
static int sb_auxwrap(lua_State *L) {
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = sb_auxresume(L, co, lua_gettop(L));
    if (r < 0) {
        int stat = lua_status(co);
        if (stat != LUA_OK && stat != LUA_YIELD) {
            stat = lua_resetthread(co);
            lua_xmove(co, L, 1);
        }
        if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return r;
}

static int sb_cowrap(lua_State *L) {
    (void)sb_newco(L);
    lua_pushcclosure(L, sb_auxwrap, 1);
    return 1;
}

static int sb_coyield(lua_State *L) {
    if (!lua_isyieldable(L)) {
        klh_ctx *c = klh_ctx_of(L);
        c->yield_error = 1;
        if (L == c->main) return luaL_error(L, "attempt to yield from outside a coroutine");
        return luaL_error(L, "attempt to yield across a C-call boundary");
    }
    return lua_yield(L, lua_gettop(L));
}

static void sb_wrap_field(lua_State *L, int tidx, const char *name, lua_CFunction f) {
    lua_getfield(L, tidx, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, tidx, name);
}

static void sb_set(lua_State *L, int tidx, const char *name, lua_CFunction f) {
    lua_pushcfunction(L, f);
    lua_setfield(L, tidx, name);
}

/* Runs once, protected, right after lua_newstate. Argument 1: the seed. */
int klh_setup(lua_State *L) {
    lua_Integer seed = lua_tointeger(L, 1);
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_settop(L, 1);

    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, g, "dofile");
    lua_pushnil(L);
    lua_setfield(L, g, "loadfile");
    sb_set(L, g, "load", sb_load);
    sb_set(L, g, "print", sb_print);
    sb_set(L, g, "collectgarbage", sb_collectgarbage);
    sb_set(L, g, "setmetatable", sb_setmetatable);
    sb_set(L, g, "rawset", sb_rawset);

    /* the stock functions replaced below, kept for the parity tests */
    lua_createtable(L, 0, 6);
    int stock = lua_gettop(L);
    lua_getfield(L, g, "tostring");
    lua_setfield(L, stock, "tostring");
    lua_getfield(L, g, "string");
    static const char *const replaced[] = {"find", "match", "gmatch", "gsub", "format"};
    for (size_t i = 0; i < sizeof replaced / sizeof replaced[0]; i++) {
        lua_getfield(L, -1, replaced[i]);
        lua_setfield(L, stock, replaced[i]);
    }
    lua_pop(L, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &klh_stock_key);
    sb_set(L, g, "tostring", sb_tostring);

    /* string: edit the real table (method syntax reaches it) and hide the metatable */
    lua_getfield(L, g, "string");
    int s = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, s, "dump");
    sb_wrap_field(L, s, "rep", sb_rep);
    sb_wrap_field(L, s, "format", sb_format);
    klh_open_patterns(L, s);
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_settop(L, g);

    lua_getfield(L, g, "table");
    sb_wrap_field(L, lua_gettop(L), "move", sb_move);
    lua_settop(L, g);

    /* math: seed from the run seed, randomseed() without arguments stays deterministic */
    lua_getfield(L, g, "math");
    int m = lua_gettop(L);
    lua_getfield(L, m, "randomseed");
    lua_pushvalue(L, -1);
    lua_pushinteger(L, seed);
    lua_pushinteger(L, KLH_SEED2);
    lua_call(L, 2, 0);
    lua_pushinteger(L, seed);
    lua_pushcclosure(L, sb_randomseed, 2);
    lua_setfield(L, m, "randomseed");
    lua_settop(L, g);

    lua_getfield(L, g, "coroutine");
    int co = lua_gettop(L);
    sb_set(L, co, "create", sb_cocreate);
    sb_set(L, co, "wrap", sb_cowrap);
    sb_set(L, co, "yield", sb_coyield);
    lua_settop(L, g);
    klh_pure_cfunctions_collect(L, klh_ctx_of(L));
    lua_settop(L, 0);
    return 0;
}

/* ---- the C functions a call on twins may make (straight.c) ----
 * Functions of numbers and strings: they write no table, and they read a table argument
 * only as Lua code would (lua_geti, lua_getfield), so a twin and its view give the same
 * results. Left out: math.random and randomseed (a call that starts again would draw
 * twice), and everything that writes a table or tells a twin from its view (rawget, rawlen,
 * rawequal, next, pairs, ipairs, getmetatable, table.insert, ...). */
static int klh_pointer_order(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;
    return x < y ? -1 : x > y;
}

static void klh_pure_add_function(klh_ctx *c, lua_CFunction f);

static void klh_pure_add(lua_State *L, klh_ctx *c, int idx) {
    lua_CFunction f = lua_tocfunction(L, idx);
    if (f == NULL || c->pure_cfunction_count >= KLH_PURE_CFUNCTIONS) return;
    /* light functions; of the closures, only the wrappers above, whose upvalue is fixed */
    if ((const void *)(uintptr_t)f != lua_topointer(L, idx) && f != sb_rep && f != sb_format) return;
    klh_pure_add_function(c, f);
}

static void klh_pure_add_function(klh_ctx *c, lua_CFunction f) {
    if (c->pure_cfunction_count >= KLH_PURE_CFUNCTIONS) return;
    c->pure_cfunctions[c->pure_cfunction_count++] = (const void *)(uintptr_t)f;
}

void klh_pure_cfunctions_collect(lua_State *L, klh_ctx *c) {
    static const char *const base[] = {"type", "tonumber", "tostring", "select", "assert"};
    static const char *const libs[] = {"math", "string", "utf8"};
    static const char *const tables[] = {"concat", "unpack"};
    int top = lua_gettop(L);
    c->pure_cfunction_count = 0;
    klh_push_globals(L);
    int g = lua_gettop(L);
    for (size_t i = 0; i < sizeof base / sizeof *base; i++) {
        lua_getfield(L, g, base[i]);
        klh_pure_add(L, c, -1);
        lua_pop(L, 1);
    }
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++) {
        if (lua_getfield(L, g, libs[i]) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            if (strcmp(k, "random") != 0 && strcmp(k, "randomseed") != 0) klh_pure_add(L, c, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    if (lua_getfield(L, g, "table") == LUA_TTABLE) {
        for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
            lua_getfield(L, -1, tables[i]);
            klh_pure_add(L, c, -1);
            lua_pop(L, 1);
        }
    }
    /* a lazy view's twin reads a computed field through this closure (values.c) */
    klh_pure_add_function(c, klh_twin_lazy_index);
    qsort(c->pure_cfunctions, (size_t)c->pure_cfunction_count, sizeof c->pure_cfunctions[0], klh_pointer_order);
    lua_settop(L, top);
}

int klh_pure_cfunction(const klh_ctx *c, const void *fn) {
    int lo = 0, hi = c->pure_cfunction_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        uintptr_t m = (uintptr_t)c->pure_cfunctions[mid];
        if (m == (uintptr_t)fn) return 1;
        if (m < (uintptr_t)fn) lo = mid + 1; else hi = mid - 1;
    }
    return 0;
}

void klh_expose_stock_strings(lua_State *L, const char *name, size_t len) {
    klh_push_globals(L);
    lua_pushlstring(L, name, len);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &klh_stock_key);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}
