#ifndef KUBELAB_CLUASHIMS_H
#define KUBELAB_CLUASHIMS_H
/*
 * C side of LuaHost: capped allocator, count hook (instruction budget), sandboxed library
 * set-up, protected call / resume entry points with a C message handler, Swift callback
 * trampolines and read-only view proxies.
 *
 * Rule of this file: every function declared here either cannot raise a Lua error at all,
 * or only raises on allocation failure while the host runs with the memory cap lifted
 * ("host mode", see klh_pcall). No Lua error ever longjmps over a Swift frame.
 */
#include <stddef.h>
#include <stdint.h>

struct lua_State;

/* Swift dispatcher for callbacks made with LuaState.function. Reads the arguments from
 * L (1..top), pushes results and returns their count, or pushes one message string and
 * returns -1 (the C trampoline then raises it, after the Swift frame has returned). */
typedef int (*klh_dispatch_fn)(struct lua_State *L, void *owner, int64_t id);
/* Swift sink for print(): receives one line (not NUL-terminated). Must not call Lua. */
typedef void (*klh_print_fn)(void *owner, const char *text, size_t len);

/* Error-kind flags reported by klh_flags. */
#define KLH_FLAG_BUDGET 1      /* the instruction budget is exhausted (sticky) */
#define KLH_FLAG_MEMORY 2      /* the soft memory limit fired in the hook (sticky) */
#define KLH_FLAG_CAP_REFUSED 4 /* the allocator refused a growth past the hard cap */
#define KLH_FLAG_YIELD 8       /* coroutine.yield was called where it cannot yield */
#define KLH_FLAG_WALL 16       /* the wall-time backstop fired (sticky; KLH_FLAG_BUDGET too) */

/* ---- state lifecycle (state.c) ---- */
struct lua_State *klh_state_open(size_t memory_limit, int64_t instruction_budget, int64_t seed,
                                 void *owner, klh_dispatch_fn dispatch, klh_print_fn print);
void klh_state_close(struct lua_State *L);
void klh_set_memory_limit(struct lua_State *L, size_t limit);
size_t klh_memory_limit(struct lua_State *L);
size_t klh_memory_used(struct lua_State *L);
void klh_full_gc(struct lua_State *L);

/* Process-wide LuaRef counter (atomic). */
long klh_live_refs_add(long delta);
/* Subjects longer than this refuse non-plain patterns (0: no cap). */
void klh_set_pattern_subject_limit(struct lua_State *L, size_t bytes);
/* Test support: sets the global `name` (raw) to a table with the stock string.find, match,
 * gmatch, gsub and format and the stock tostring, kept aside when the sandbox was built. */
void klh_expose_stock_strings(struct lua_State *L, const char *name, size_t len);

/* ---- budget (budget.c) ---- */
/* Resets the per-call budget and flags, starts the wall-time backstop (wall_ns <= 0: off)
 * and (re)arms the count hook on L. */
void klh_budget_begin(struct lua_State *L, int64_t instructions, int64_t wall_ns);
int klh_flags(struct lua_State *L);
/* Instructions accounted in the current run so far (C work charged included); first adds
 * what L ran since its hook last fired, when the count is exact. */
int64_t klh_budget_used(struct lua_State *L);
/* 1 when instruction counts are exact, 0 when they are only known every ~1000. */
int klh_budget_exact(struct lua_State *L);
/* Monotonic clock in nanoseconds: the only clock LuaHost reads (cost reports, backstop). */
int64_t klh_budget_clock_ns(void);

/* ---- calls (call.c) ---- */
/* Loads text (mode "t") under the memory cap; pushes the function or the error message. */
int klh_load(struct lua_State *L, const char *source, size_t len, const char *chunkname);
/* Calls the function below nargs arguments under the cap with the C message handler;
 * leaves all results (or the error object) on the stack. Returns the Lua status. */
int klh_pcall(struct lua_State *L, int nargs);
/* The instruction count of the Lua function at idx when it can run each of its instructions
 * at most once (no backward jump, no loop instruction), else -1. See straight.c. */
int64_t klh_straight_cost(struct lua_State *L, int idx);
/* 1 when the call hook reads the function a call enters from the call's own frame (the
 * layout of this Lua build was checked by klh_straight_cost's first run), 0 when it asks
 * lua_getinfo for it. */
int klh_straight_reads_callee(void);
/* Twins (straight.c, each.c): klh_pcall_each runs a straight function that writes no
 * table on the views' plain twins, when the state allows it. klh_twins_allow looks at the
 * plugin's chunk (at idx) and allows twins when no function of it writes a table with a
 * computed key (so no table of the plugin can be keyed by a view); returns 1 when allowed.
 * klh_twins_refuse stops them for good. klh_twin_counts: calls that ran on twins, and
 * calls started on twins that ran again on the views. */
int klh_twins_allow(struct lua_State *L, int idx);
/* reads.c: the fields of argument `arg` (0-based) that the Lua function at idx can read,
 * written to buf as NUL-terminated names one after the other; returns how many, or -1 when
 * it may read any field (or could not be read). The answer holds while the state's code
 * epoch (klh_code_epoch) stands: runs of plugin code other than calls on twins move it. */
int klh_arg_fields(struct lua_State *L, int idx, int arg, char *buf, size_t cap);
int64_t klh_code_epoch(struct lua_State *L);
/* Replaces the value at idx by its view's twin when it has one (1), else leaves it (0). */
int klh_twin_replace(struct lua_State *L, int idx);
void klh_twins_refuse(struct lua_State *L);
void klh_twin_counts(struct lua_State *L, int64_t *calls, int64_t *reruns);
/* klh_pcall for a function klh_straight_cost accepted: runs it without the count hook while
 * it calls nothing, charging `cost` instructions up front. See straight.c. */
int klh_pcall_straight(struct lua_State *L, int nargs, int64_t cost);
/* The results of one call of klh_pcall_each: the Lua types of the first two results
 * (LUA_TNIL when missing, KLH_EACH_FLOAT for a float), their value when nil, a boolean or
 * a number (other values are left in the extras table), and the
 * instructions the call spent. */
#define KLH_EACH_FLOAT 100
typedef struct klh_each_result {
    int type1, type2;
    int bool1, bool2;
    int64_t int1, int2;
    double num1, num2;
    int64_t instructions;
    int64_t nanoseconds; /* when timed */
    int reused;          /* not called: the host has its results (reuse); nothing else is set */
    int on_twins;        /* ran on twins: it changed nothing (reads.c) */
    int64_t epoch;       /* the state's code epoch when it returned */
} klh_each_result;
/* Calls the registry function `function`(a, items[i], c) for k = from..count-1, where i is
 * positions[k] (k when positions is NULL; twin_items[i], when not 0, is the slot of the
 * item's twin, read by calls on twins), each under its own budget of `budget`
 * instructions and `wall_ns` (klh_budget_begin), straight when `straight_cost` > 0, its
 * wall time measured when `timed`. The results of call k go to out[k - base_index] (and
 * the extras table at 2(k - base_index)+1 and +2). A call k with reuse[k] set (reuse may
 * be NULL) is not made while the state's code epoch is still reuse_epoch: its result reads
 * `reused`, and the host gives the results it kept. Returns the index it stopped at:
 * `count`, or the call that failed, whose error object is then on top of the stack and
 * whose status is in *status. */
int klh_pcall_each(struct lua_State *L, int function, int a, int c, const int *items, const int *twin_items,
                   const intptr_t *positions, const unsigned char *reuse, int64_t reuse_epoch, int base_index,
                   int from, int count,
                   int64_t straight_cost, int64_t budget, int64_t wall_ns, int timed, int extras,
                   const void *const *regions, const int32_t *lengths, klh_each_result *out, int *status);
/* The objects the state allocates between begin and end (a view being built) lie side by
 * side: end gives the span's start and its length in *len (NULL and 0 when they did not
 * fit in one span). klh_pcall_each, given the spans of its items (`regions`, `lengths`,
 * indexed as `items`; either NULL for none), has the span of the item two calls ahead
 * brought into the cache while the current call runs. */
void klh_region_begin(struct lua_State *L);
const void *klh_region_end(struct lua_State *L, int32_t *len);
/* Resumes co (function/args already pushed on co) under the cap. */
int klh_resume(struct lua_State *co, struct lua_State *from, int nargs, int *nres);
/* Formats the error object at idx (no metamethods, escaped, truncated) into the error
 * buffer of the state and returns it (NUL-terminated, valid until the next error). */
const char *klh_error_message(struct lua_State *L, int idx, int status);
const char *klh_error_traceback(struct lua_State *L);
/* Chunk name ("plugins/x.lua") of the first '@' frame of the last error, or NULL. */
const char *klh_error_chunk(struct lua_State *L);
int klh_error_line(struct lua_State *L);
/* Last known plugin position of the current run ('@' chunk name and line, *line > 0), or
 * NULL: where the allocator last refused growth past the cap, or else where the count hook
 * last fired (so up to 1000 instructions before the failure). Reset by klh_budget_begin. */
const char *klh_memory_position(struct lua_State *L, int *line);

/* ---- values (values.c) ---- */
void klh_push_ref(struct lua_State *L, int ref);
int klh_ref(struct lua_State *L);           /* pops the top value into the registry */
void klh_unref(struct lua_State *L, int ref);
void klh_push_globals(struct lua_State *L);
void klh_pop(struct lua_State *L, int n);
void klh_new_table(struct lua_State *L, int narr, int nrec);
/* t[key] = top (raw), pops the value; tidx must not be a pseudo index. */
void klh_rawset_string(struct lua_State *L, int tidx, const char *key, size_t len);
/* Pushes a C closure calling the Swift dispatcher with this id. */
void klh_push_callback(struct lua_State *L, int64_t id);
/* Replaces the content table on top (and, if has_keys, the sorted key array above it)
 * by a read-only proxy named `name`. */
void klh_make_view(struct lua_State *L, const char *name, size_t namelen, int has_keys);
/* If the value at idx is a view proxy, pushes its content table and returns 1; else 0. */
int klh_view_content(struct lua_State *L, int idx);
/* The interned view under `key` pushed (1), or nothing (0); put interns the view on top. */
int klh_view_intern_get(struct lua_State *L, const char *key, size_t len);
void klh_view_intern_put(struct lua_State *L, const char *key, size_t len);
void klh_view_add_lazy(struct lua_State *L, int idx, const char *key, size_t len);
/* Moves n values from one thread to another of the same state. */
void klh_xmove(struct lua_State *from, struct lua_State *to, int n);
/* Creates a thread on L, anchors it in the registry and returns it; *ref gets the slot. */
struct lua_State *klh_new_thread(struct lua_State *L, int *ref);

#endif
