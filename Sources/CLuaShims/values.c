/* Host-side value helpers: registry refs, raw table writes, the Swift callback trampoline,
 * and read-only view proxies.
 *
 * A view is an empty proxy table whose metatable is as small as the floor's: __index = the
 * content table, __newindex raising "<name> view is read-only (field '<key>')", __pairs
 * walking the fields in the host's sorted order, __metatable = false, and for arrays __len.
 * The name and the sorted key list are upvalues of the __newindex and __pairs closures,
 * which views of the same name and the same keys share, so a map view's metatable has four
 * entries and thousands of node views carry no copies of names, key lists or closures.
 * A table is a view when its metatable's __newindex is klh_view_newindex, which Lua code
 * cannot produce. */
#include <string.h>
#include "klh.h"

static const char klh_view_newindex_cache_key = 'n';
static const char klh_view_pairs_cache_key = 'p';
static const char klh_view_lazy_cache_key = 'l';
static const char klh_view_array_key = 'a';
static const char klh_view_intern_key = 'i';

void klh_push_ref(lua_State *L, int ref) { lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
int klh_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
void klh_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
void klh_push_globals(lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }
void klh_pop(lua_State *L, int n) { lua_settop(L, -(n)-1); }
void klh_new_table(lua_State *L, int narr, int nrec) { lua_createtable(L, narr, nrec); }
void klh_xmove(lua_State *from, lua_State *to, int n) { lua_xmove(from, to, n); }

void klh_rawset_string(lua_State *L, int tidx, const char *key, size_t len) {
    tidx = lua_absindex(L, tidx);
    lua_pushlstring(L, key, len);
    lua_insert(L, -2);
    lua_rawset(L, tidx);
}

lua_State *klh_new_thread(lua_State *L, int *ref) {
    lua_State *co = lua_newthread(L);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return co;
}

/* ---- Swift callbacks ---- */

/* The Swift function runs with the memory cap lifted (it pushes results in host mode) and
 * returns a status; any Lua error is raised here, after the Swift frame has returned. */
static int klh_trampoline(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    int64_t id = (int64_t)lua_tointegerx(L, lua_upvalueindex(1), NULL);
    int saved = c->enforce;
    c->enforce = 0;
    int r = c->dispatch != NULL ? c->dispatch(L, c->owner, id) : -2;
    if (r == -2) {
        lua_pushliteral(L, "host function is no longer available");
        r = -1;
    }
    if (r < 0) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        c->enforce = saved;
        return lua_error(L);
    }
    c->enforce = saved;
    return r;
}

void klh_push_callback(lua_State *L, int64_t id) {
    lua_pushinteger(L, (lua_Integer)id);
    lua_pushcclosure(L, klh_trampoline, 1);
}

/* ---- views ---- */

static int klh_view_newindex(lua_State *L);

/* Pushes the metatable field `field` of the view at idx when it is a view (returns 1);
 * pushes nothing and returns 0 otherwise. */
static int klh_view_meta(lua_State *L, int idx, const char *field) {
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
    lua_pushliteral(L, "__newindex");
    if (lua_rawget(L, -2) != LUA_TFUNCTION || lua_tocfunction(L, -1) != klh_view_newindex) {
        lua_pop(L, 2);
        return 0;
    }
    lua_pop(L, 1);
    lua_pushstring(L, field);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    return 1;
}

int klh_is_view(lua_State *L, int idx) {
    if (!klh_view_meta(L, idx, "__index")) return 0;
    int is = lua_type(L, -1) == LUA_TTABLE;
    lua_pop(L, 1);
    return is;
}

/* Name of the view at idx (a string held by its __newindex, kept alive by the proxy). */
const char *klh_view_name(lua_State *L, int idx) {
    const char *name = "value";
    if (klh_view_meta(L, idx, "__newindex")) {
        if (lua_getupvalue(L, -1, 1) != NULL) {
            if (lua_type(L, -1) == LUA_TSTRING) name = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return name;
}

/* upvalue 1: the view's name */
static int klh_view_newindex(lua_State *L) {
    int kt = lua_type(L, 2);
    const char *key = (kt == LUA_TSTRING || kt == LUA_TNUMBER) ? lua_tostring(L, 2)
                                                               : luaL_typename(L, 2);
    const char *name = lua_type(L, lua_upvalueindex(1)) == LUA_TSTRING ? lua_tostring(L, lua_upvalueindex(1)) : "value";
    return luaL_error(L, "%s view is read-only (field '%s')", name, key);
}

static int klh_view_len(lua_State *L) {
    if (!klh_view_meta(L, 1, "__index") || lua_type(L, -1) != LUA_TTABLE) {
        lua_pushinteger(L, 0);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* Iterator closure: upvalues content, keys (table or nil), position. Maps iterate in the
 * host's sorted key order, arrays 1..n. */
static int klh_view_next(lua_State *L) {
    lua_Integer i = lua_tointegerx(L, lua_upvalueindex(3), NULL) + 1;
    lua_pushinteger(L, i);
    lua_replace(L, lua_upvalueindex(3));
    if (lua_type(L, lua_upvalueindex(2)) == LUA_TTABLE) {
        if (lua_rawgeti(L, lua_upvalueindex(2), i) == LUA_TNIL) return 1;
        lua_pushvalue(L, -1);
        lua_gettable(L, lua_upvalueindex(1)); /* a lazy field is computed here */
        return 2;
    }
    lua_pushinteger(L, i);
    if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL) {
        lua_pushnil(L);
        return 1;
    }
    return 2;
}

/* upvalue 1: the sorted key list (nil for an array view) */
static int klh_view_pairs(lua_State *L) {
    if (!klh_view_meta(L, 1, "__index")) lua_pushnil(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, klh_view_next, 3);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

void klh_registry_table(lua_State *L, const void *key, const char *mode) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 8);
    if (mode != NULL) {
        lua_createtable(L, 0, 1);
        lua_pushstring(L, mode);
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* Pushes the registry table under `key`, made on first use (weak keys when `weak`). */
static void klh_view_cache(lua_State *L, const void *key, int weak) { klh_registry_table(L, key, weak ? "k" : NULL); }

/* Pushes the shared __newindex for the name on top of the stack (popped). */
static void klh_view_newindex_for(lua_State *L) {
    int name = lua_gettop(L);
    klh_view_cache(L, &klh_view_newindex_cache_key, 0);
    int cache = lua_gettop(L);
    lua_pushvalue(L, name);
    if (lua_rawget(L, cache) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        lua_pushvalue(L, name);
        lua_pushcclosure(L, klh_view_newindex, 1);
        lua_pushvalue(L, name);
        lua_pushvalue(L, -2);
        lua_rawset(L, cache);
    }
    lua_replace(L, name);
    lua_settop(L, name);
}

/* Pushes the shared __pairs for the key list at `keys` (0: an array view). */
static void klh_view_pairs_for(lua_State *L, int keys) {
    klh_view_cache(L, &klh_view_pairs_cache_key, 1);
    int cache = lua_gettop(L);
    if (keys != 0) lua_pushvalue(L, keys); else lua_pushlightuserdata(L, (void *)&klh_view_array_key);
    if (lua_rawget(L, cache) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        if (keys != 0) lua_pushvalue(L, keys); else lua_pushnil(L);
        lua_pushcclosure(L, klh_view_pairs, 1);
        if (keys != 0) lua_pushvalue(L, keys); else lua_pushlightuserdata(L, (void *)&klh_view_array_key);
        lua_pushvalue(L, -2);
        lua_rawset(L, cache);
    }
    lua_remove(L, cache);
}

static void klh_mt_set(lua_State *L, int mt, const char *field) {
    lua_pushstring(L, field);
    lua_insert(L, -2);
    lua_rawset(L, mt);
}

/* ---- twins ----
 * A view's twin is a plain table with the view's fields, its nested views replaced by their
 * twins: what a call on twins reads (each.c, straight.c). A view without nested views is its
 * own content's twin. The proxy's metatable holds the twin under klh_twin_key; Lua code
 * reaches neither (__metatable is false). A twin's metatable has __eq, so comparing it with
 * another table calls a C function, which stops a call on twins; a lazy view's twin reads
 * what it lacks from the view's content (klh_view_add_lazy). */
static const char klh_twin_key = 't';
static const char klh_twin_mt_key = 'e';

static int klh_twin_eq(lua_State *L) {
    lua_pushboolean(L, lua_rawequal(L, 1, 2));
    return 1;
}

static void klh_push_twin_mt(lua_State *L) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &klh_twin_mt_key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, klh_twin_eq);
    lua_setfield(L, -2, "__eq");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &klh_twin_mt_key);
}

int klh_twin_replace(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (!lua_getmetatable(L, idx)) return 0; /* (nil for anything but a table or userdata) */
    int found = lua_rawgetp(L, -1, &klh_twin_key) == LUA_TTABLE;
    if (found) lua_copy(L, -1, idx);
    lua_settop(L, -3);
    return found;
}

/* __index of a lazy view's twin (upvalue 1: the view's content): the content's field, as
 * its twin when it is a view. A field not computed yet is computed by a call on the views:
 * on twins, the call stops. */
int klh_twin_lazy_index(lua_State *L) {
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNIL) {
        klh_ctx *c = klh_ctx_of(L);
        if (c->twin_running) klh_twin_stop(L, c);
        lua_pop(L, 1);
        lua_pushvalue(L, 2);
        lua_gettable(L, lua_upvalueindex(1));
        return 1;
    }
    klh_twin_replace(L, -1);
    return 1;
}

/* Pushes the twin of the content at `content` (its key list at `keys`, 0 for an array). */
static void klh_twin_make(lua_State *L, int content, int keys) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, keys != 0 ? keys : content);
    int nested = 0;
    for (lua_Integer i = 1; i <= n && !nested; i++) {
        if (keys != 0) {
            lua_rawgeti(L, keys, i);
            lua_rawget(L, content);
        } else {
            lua_rawgeti(L, content, i);
        }
        nested = klh_twin_replace(L, -1);
        lua_pop(L, 1);
    }
    if (!nested) {
        /* its own twin */
        lua_pushvalue(L, content);
        if (!lua_getmetatable(L, content)) {
            klh_push_twin_mt(L);
            lua_setmetatable(L, content);
        } else {
            lua_pop(L, 1);
        }
        return;
    }
    lua_createtable(L, keys != 0 ? 0 : (int)n, keys != 0 ? (int)n : 0);
    int twin = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        if (keys != 0) {
            lua_rawgeti(L, keys, i);
            lua_pushvalue(L, -1);
            lua_rawget(L, content);
            klh_twin_replace(L, -1);
            lua_rawset(L, twin);
        } else {
            lua_rawgeti(L, content, i);
            klh_twin_replace(L, -1);
            lua_rawseti(L, twin, i);
        }
    }
    klh_push_twin_mt(L);
    lua_setmetatable(L, twin);
}

void klh_make_view(lua_State *L, const char *name, size_t namelen, int has_keys) {
    int content = lua_absindex(L, has_keys ? -2 : -1);
    int keys = has_keys ? lua_absindex(L, -1) : 0;
    lua_createtable(L, 0, 0); /* proxy */
    int proxy = lua_gettop(L);
    lua_createtable(L, 0, has_keys ? 5 : 6); /* metatable */
    int mt = lua_gettop(L);
    klh_twin_make(L, content, keys);
    lua_rawsetp(L, mt, &klh_twin_key);
    lua_pushvalue(L, content);
    klh_mt_set(L, mt, "__index");
    lua_pushlstring(L, name, namelen);
    klh_view_newindex_for(L);
    klh_mt_set(L, mt, "__newindex");
    klh_view_pairs_for(L, keys);
    klh_mt_set(L, mt, "__pairs");
    if (!has_keys) {
        lua_pushcfunction(L, klh_view_len);
        klh_mt_set(L, mt, "__len");
    }
    lua_pushboolean(L, 0);
    klh_mt_set(L, mt, "__metatable");
    lua_setmetatable(L, proxy);
    lua_replace(L, content);
    lua_settop(L, content);
}

/* Interned views: a view whose fields are all plain values is the same for every object
 * that has it (the `allocatable` of a node pool's nodes, their empty `labels`), and a view
 * can never change, so objects share one. The host names such a view by a key of its name
 * and contents; the table maps keys to views with weak values, so a view no object holds
 * any more is collected and its entry goes. */
static void klh_view_interned(lua_State *L) { klh_registry_table(L, &klh_view_intern_key, "v"); }

int klh_view_intern_get(lua_State *L, const char *key, size_t len) {
    klh_view_interned(L);
    lua_pushlstring(L, key, len);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_remove(L, -2);
        return 1;
    }
    lua_pop(L, 2);
    return 0;
}

void klh_view_intern_put(lua_State *L, const char *key, size_t len) {
    int view = lua_gettop(L);
    klh_view_interned(L);
    lua_pushlstring(L, key, len);
    lua_pushvalue(L, view);
    lua_rawset(L, -3);
    lua_settop(L, view);
}

int klh_view_content(lua_State *L, int idx) {
    if (!klh_view_meta(L, idx, "__index")) return 0;
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

/* Lists `key` among the fields of the view at idx (in the sorted keys its __pairs walks)
 * and sets the table on top of the stack (popped) as the metatable of the view's content,
 * so that a field the content lacks is computed on first use by its __index (a node's
 * pods). The view stays read-only: writes still go through the proxy. Views whose key list
 * gains the same key share the longer list and its __pairs. */
void klh_view_add_lazy(lua_State *L, int idx, const char *key, size_t len) {
    idx = lua_absindex(L, idx);
    int mt = lua_gettop(L);
    /* a content that is its own twin keeps the twin's __eq */
    lua_pushcfunction(L, klh_twin_eq);
    lua_setfield(L, mt, "__eq");
    if (klh_view_content(L, idx)) {
        int content = lua_gettop(L);
        lua_pushvalue(L, mt);
        lua_setmetatable(L, content);
        /* a twin of its own reads the lazy field from the content (the first read computes
         * it by a call, which stops a call on twins; the view's reading runs it) */
        lua_pushvalue(L, idx);
        if (klh_twin_replace(L, -1) && !lua_rawequal(L, -1, content)) {
            lua_createtable(L, 0, 2);
            lua_pushvalue(L, content);
            lua_pushcclosure(L, klh_twin_lazy_index, 1);
            lua_setfield(L, -2, "__index");
            lua_pushcfunction(L, klh_twin_eq);
            lua_setfield(L, -2, "__eq");
            lua_setmetatable(L, -2);
        }
        lua_settop(L, content - 1);
    }
    if (klh_view_meta(L, idx, "__pairs") && lua_getupvalue(L, -1, 1) != NULL && lua_type(L, -1) == LUA_TTABLE) {
        int keys = lua_gettop(L);
        lua_Integer n = (lua_Integer)lua_rawlen(L, keys);
        lua_Integer pos = n + 1;
        for (lua_Integer i = 1; i <= n; i++) {
            size_t kl = 0;
            lua_rawgeti(L, keys, i);
            const char *k = lua_tolstring(L, -1, &kl);
            int c = memcmp(k, key, kl < len ? kl : len);
            lua_pop(L, 1);
            if (c == 0 && kl == len) { pos = 0; break; } /* listed already */
            if (c > 0 || (c == 0 && kl > len)) { pos = i; break; }
        }
        if (pos > 0) {
            /* The longer list and its __pairs, shared by every view whose list gains `key`:
             * lazy[keys][key] */
            klh_view_cache(L, &klh_view_lazy_cache_key, 1);
            int lazy = lua_gettop(L);
            lua_pushvalue(L, keys);
            if (lua_rawget(L, lazy) != LUA_TTABLE) {
                lua_pop(L, 1);
                lua_createtable(L, 0, 1);
                lua_pushvalue(L, keys);
                lua_pushvalue(L, -2);
                lua_rawset(L, lazy);
            }
            int bykey = lua_gettop(L);
            lua_pushlstring(L, key, len);
            if (lua_rawget(L, bykey) != LUA_TFUNCTION) {
                lua_pop(L, 1);
                lua_createtable(L, (int)(n + 1), 0);
                int fresh = lua_gettop(L);
                for (lua_Integer i = 1; i <= n; i++) {
                    lua_rawgeti(L, keys, i);
                    lua_rawseti(L, fresh, i < pos ? i : i + 1);
                }
                lua_pushlstring(L, key, len);
                lua_rawseti(L, fresh, pos);
                klh_view_pairs_for(L, fresh);
                lua_pushlstring(L, key, len);
                lua_pushvalue(L, -2);
                lua_rawset(L, bykey);
            }
            if (lua_getmetatable(L, idx)) {
                lua_pushvalue(L, -2);
                klh_mt_set(L, lua_gettop(L) - 1, "__pairs");
            }
        }
    }
    lua_settop(L, mt - 1);
}
