/* State lifecycle: capped allocator, panic handler, open/close. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "klh.h"

static _Atomic long klh_live_refs = 0;

long klh_live_refs_add(long delta) {
    return atomic_fetch_add(&klh_live_refs, delta) + delta;
}

/* lua_Alloc with a hard cap, on the state's own heap (slab.c). When ptr == NULL, osize is a type tag, not a size. Shrinking
 * never fails (Lua assumes it); growth past the cap fails only while plugin code runs. */
static void *klh_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    klh_ctx *c = (klh_ctx *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        klh_slab_realloc(&c->slab, ptr, osize, 0);
        c->mem_used -= old;
        return NULL;
    }
    if (nsize > old && c->enforce > 0 && c->mem_used - old + nsize > c->mem_limit) {
        c->cap_refused++;
        /* note where: the error unwinds the stack without calling the message handler.
         * lua_getstack/lua_getinfo("Sl") only read the call chain, which is consistent at
         * any allocation (nothing has been moved yet), and allocate nothing. */
        if (c->running != NULL) (void)klh_record_position(c, c->running, 0, KLH_LOCATE_LEVELS);
        return NULL;
    }
    void *p = klh_slab_realloc(&c->slab, ptr, old, nsize);
    if (p == NULL) {
        if (nsize <= old) return ptr; /* keep the old block: shrinking must not fail */
        return NULL;
    }
    c->mem_used = c->mem_used - old + nsize;
    /* Strings a plugin creates are charged to its instruction budget, one instruction per
     * KLH_BYTES_PER_INSTRUCTION bytes: building one copies it (`s = s .. x` in a loop,
     * s:upper(), string.format), work no count hook sees. A new string's size depends only
     * on its contents, so the charge is the same on every run and machine (stack and table
     * growth are left out: they depend on history, and table work is counted already).
     * When ptr is NULL, osize is the new object's type tag. The verdict comes from the
     * count hook, within KLH_HOOK_COUNT instructions. */
    if (c->enforce > 0 && ptr == NULL && osize == LUA_TSTRING)
        c->spent += (int64_t)(nsize / KLH_BYTES_PER_INSTRUCTION);
    return p;
}

static int klh_panic(lua_State *L) {
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    fprintf(stderr, "kubelab: unprotected Lua error (panic): %s\n",
            msg ? msg : "(error object is not a string)");
    fflush(stderr);
    return 0; /* Lua aborts */
}

lua_State *klh_state_open(size_t memory_limit, int64_t instruction_budget, int64_t seed,
                          void *owner, klh_dispatch_fn dispatch, klh_print_fn print) {
    klh_ctx *c = (klh_ctx *)calloc(1, sizeof(klh_ctx));
    if (c == NULL) return NULL;
    c->mem_limit = memory_limit;
    c->budget = instruction_budget > 0 ? instruction_budget : 1;
    c->hook_count = KLH_HOOK_COUNT;
    c->owner = owner;
    c->dispatch = dispatch;
    c->print = print;
    c->err_line = -1;
    c->hookcount_offset = -1;
    c->pattern_subject_limit = 64 << 10;
    lua_State *L = lua_newstate(klh_alloc, c);
    if (L == NULL) {
        klh_slab_release(&c->slab);
        free(c);
        return NULL;
    }
    c->main = L;
    lua_atpanic(L, klh_panic);
    /* The hook is armed before any code runs and never removed; threads inherit it.
     * Calibrating arms it too (and runs a three-line probe chunk, see budget.c). */
    klh_budget_calibrate(L);
    lua_sethook(L, klh_hook, LUA_MASKCOUNT, klh_hook_count_now(c));
    lua_pushcfunction(L, klh_setup);
    lua_pushinteger(L, (lua_Integer)seed);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lua_close(L);
        klh_slab_release(&c->slab);
        free(c);
        return NULL;
    }
    lua_settop(L, 0);
    return L;
}

void klh_state_close(lua_State *L) {
    if (L == NULL) return;
    klh_ctx *c = klh_ctx_of(L);
    c->enforce = 0;
    lua_gc(L, LUA_GCCOLLECT, 0);
    lua_close(L);
    klh_slab_release(&c->slab);
    free(c);
}

void klh_set_memory_limit(lua_State *L, size_t limit) { klh_ctx_of(L)->mem_limit = limit; }
size_t klh_memory_limit(lua_State *L) { return klh_ctx_of(L)->mem_limit; }
size_t klh_memory_used(lua_State *L) { return klh_ctx_of(L)->mem_used; }
void klh_set_pattern_subject_limit(lua_State *L, size_t bytes) {
    klh_ctx_of(L)->pattern_subject_limit = bytes;
}

void klh_full_gc(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    int saved = c->enforce;
    c->enforce = 0;
    lua_gc(L, LUA_GCCOLLECT, 0);
    c->enforce = saved;
}

/* A view's objects side by side (slab.c): a chunk with 16 KiB left covers a node view
 * with its own nested views (under 4 KiB; shared nested views are made once). */
#define KLH_REGION_EXPECTED (16 * 1024)

void klh_region_begin(lua_State *L) { klh_slab_region_begin(&klh_ctx_of(L)->slab, KLH_REGION_EXPECTED); }

const void *klh_region_end(lua_State *L, int32_t *len) {
    size_t n = 0;
    const void *p = klh_slab_region_end(&klh_ctx_of(L)->slab, &n);
    *len = p != NULL && n <= INT32_MAX ? (int32_t)n : 0;
    return *len > 0 ? p : NULL;
}
