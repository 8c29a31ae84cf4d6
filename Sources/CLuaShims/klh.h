#ifndef KUBELAB_KLH_INTERNAL_H
#define KUBELAB_KLH_INTERNAL_H
/* Internal to CLuaShims: the per-state context shared by the allocator, the hook, the
 * message handler and the sandbox wrappers. Reached through lua_getallocf's user data, so
 * every thread of a state finds the same context without touching the registry. */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stddef.h>
#include <stdint.h>
#include "CLuaShims.h"

#define KLH_HOOK_COUNT 1000
#define KLH_MSG_MAX 1024
#define KLH_TB_MAX 2048
#define KLH_TB_LEVELS 12
#define KLH_LOCATE_LEVELS 64
/* refusals of the hard cap after which the hook gives the memory verdict (sticky) */
#define KLH_MAX_REFUSALS 4

/* Bytes a plugin allocates per instruction charged to its budget (state.c). */
#define KLH_BYTES_PER_INSTRUCTION 16

/* The state's own heap for blocks of up to KLH_SLAB_MAX bytes (slab.c). */
#define KLH_SLAB_CLASSES 13
#define KLH_SLAB_MAX 512
#define KLH_COST_SLOTS 64
#define KLH_PURE_CFUNCTIONS 96

typedef struct klh_slab {
    void *free_list[KLH_SLAB_CLASSES];
    char *bump; /* the unused rest of the newest chunk */
    char *end;
    void *chunks;
    int region;         /* klh_slab_region_begin: blocks from the bump only */
    char *region_start;
    void *region_chunk; /* the chunk the region started in */
} klh_slab;

typedef struct klh_ctx {
    /* memory */
    klh_slab slab;
    size_t mem_used;
    size_t mem_limit;
    int enforce;      /* > 0 while plugin code runs: refuse growth past mem_limit */
    int cap_refused;  /* allocations refused since the last begin */
    int mem_exceeded; /* sticky soft-limit verdict of the hook */
    /* instruction budget */
    int64_t budget;
    int64_t spent;    /* instructions accounted so far in this run (see budget.c) */
    int hook_count;
    int exhausted;    /* sticky */
    int yield_error;
    int straight_entry; /* klh_pcall_straight: the next call event is the function's own entry */
    /* the call hook's last functions and their straight costs, by address (straight.c); each
     * function is also kept alive from a registry table at its slot, so no other function
     * can take a cached address while it is cached */
    struct { const void *fn; int64_t cost; int pure; } cost_slots[KLH_COST_SLOTS];
    /* twins (values.c, straight.c, each.c): a straight call of a function that writes no
     * table runs on the views' plain twins while this state allows it */
    int twins_allowed;  /* klh_twins_allow found no computed-key write in the plugin's code */
    int twins_refused;  /* sticky: code loaded at run time, or rawset with a table key */
    int twin_running;   /* a call runs on twins: the call hook checks every callee */
    int64_t twin_calls, twin_reruns;
    /* the code epoch (reads.c): counts the runs of plugin code that may have changed what
     * the plugin's functions read (every call but a call that ran on twins) */
    int64_t epoch;
    const void *pure_cfunctions[KLH_PURE_CFUNCTIONS]; /* sorted */
    int pure_cfunction_count;
    /* byte offset of lua_State.hookcount found by klh_budget_calibrate, or -1 (counts are
     * then only known at hook granularity) */
    int hookcount_offset;
    /* wall-time backstop (monotonic clock, budget.c only) */
    int64_t wall_limit_ns; /* <= 0: off */
    int64_t wall_start_ns;
    int wall_exceeded;     /* sticky */
    /* patterns (patterns.c): non-plain patterns refuse longer subjects; 0 = no cap */
    size_t pattern_subject_limit;
    /* host */
    lua_State *main;
    void *owner;
    klh_dispatch_fn dispatch;
    klh_print_fn print;
    /* Last known plugin position, for memory errors (LUA_ERRMEM unwinds the stack without
     * calling the message handler). Written by the count hook (level 0, '@' chunks only,
     * so it is at most KLH_HOOK_COUNT instructions old) and, more precisely, by the
     * allocator when it refuses growth past the cap (first '@' frame of `running`). Cleared
     * by klh_budget_begin. Fixed buffers: recording never allocates nor runs Lua code. */
    char pos_chunk[256];
    int pos_line;     /* <= 0: none */
    /* the thread running plugin code right now (set around every pcall/resume by
     * klh_pcall, klh_resume and the sandbox's coroutine.resume/wrap); alive while set */
    lua_State *running;
    /* the frame of klh_pcall_each's loop while it runs (a CallInfo, compared only): the
     * message handler's traceback stops there */
    const void *each_floor;
    /* last error report */
    char err_msg[KLH_MSG_MAX + 64];
    char err_tb[KLH_TB_MAX];
    char err_chunk[256];
    int err_line;
} klh_ctx;

static inline klh_ctx *klh_ctx_of(lua_State *L) {
    void *ud = NULL;
    (void)lua_getallocf(L, &ud);
    return (klh_ctx *)ud;
}

/* Records the position of the first '@' frame of L at or above `level` (up to
 * `levels` frames) into pos_chunk/pos_line; allocation-free. Returns 1 if found. */
int klh_record_position(klh_ctx *c, lua_State *L, int level, int levels);

/* budget.c */
void klh_hook(lua_State *L, lua_Debug *ar);
int klh_hook_count_now(klh_ctx *c);
/* Adds `cost` instructions of C work to the budget; raises the budget error when spent. */
void klh_charge(lua_State *L, int64_t cost);
/* Same, and a raised verdict reads "<where>: <name>: <verdict>" (name may be NULL). */
void klh_charge_named(lua_State *L, int64_t cost, const char *name);
void klh_format_memory_limit(char *buf, size_t cap, size_t limit);
/* Finds lua_State.hookcount (see budget.c); run once on a fresh main thread. */
void klh_budget_calibrate(lua_State *L);
/* Adds the instructions L ran since its count hook last fired to `spent` and re-arms its
 * countdown (exact mode only; a no-op otherwise). Safe on any thread of the state that is
 * not inside the VM right now (suspended, finished, or in a C function). */
void klh_budget_flush(lua_State *L);

/* call.c */
void klh_capture_stack(klh_ctx *c, lua_State *L1, int level);
/* Empties the last error report. */
void klh_clear_error(klh_ctx *c);
/* Chunk name of a frame: '@'/'=' stripped, else short_src. */
const char *klh_frame_chunk(const lua_Debug *ar);
/* Appends src to buf (used/cap) with control bytes escaped; returns 0 once full. */
int klh_append_escaped(char *buf, size_t *used, size_t cap, const char *src, size_t len);

/* sandbox.c */
int klh_setup(lua_State *L);
/* The sandbox's tostring: like luaL_tolstring (pushes the result) but reference values
 * without __tostring give their __name or type name, never an address. */
const char *klh_tostring(lua_State *L, int idx, size_t *len);

/* patterns.c: replaces find, match, gmatch and gsub in the string table at tidx. */
void klh_open_patterns(lua_State *L, int tidx);

/* values.c */
/* Pushes the registry table under `key`, made on first use; `mode` is its __mode ("k",
 * "v") or NULL for a plain table. */
void klh_registry_table(lua_State *L, const void *key, const char *mode);
int klh_is_view(lua_State *L, int idx);
/* Ends the call on twins running now (straight.c): it runs again on the views. */
void klh_twin_stop(lua_State *L, klh_ctx *c);
/* __index of a lazy view's twin (values.c). */
int klh_twin_lazy_index(lua_State *L);

/* Lua 5.4's opcodes (lopcodes.h, in its order) and an instruction's fields, for the readers
 * of bytecode (straight.c, reads.c); each checks them once per process on functions
 * compiled for the purpose. */
enum {
    KLH_OP_MOVE = 0, KLH_OP_LOADI, KLH_OP_LOADF, KLH_OP_LOADK, KLH_OP_LOADKX, KLH_OP_LOADFALSE, KLH_OP_LFALSESKIP, KLH_OP_LOADTRUE, KLH_OP_LOADNIL,
    KLH_OP_GETUPVAL, KLH_OP_SETUPVAL, KLH_OP_GETTABUP, KLH_OP_GETTABLE, KLH_OP_GETI, KLH_OP_GETFIELD, KLH_OP_SETTABUP, KLH_OP_SETTABLE, KLH_OP_SETI,
    KLH_OP_SETFIELD, KLH_OP_NEWTABLE, KLH_OP_SELF, KLH_OP_ADDI, KLH_OP_ADDK, KLH_OP_SUBK, KLH_OP_MULK, KLH_OP_MODK, KLH_OP_POWK, KLH_OP_DIVK, KLH_OP_IDIVK,
    KLH_OP_BANDK, KLH_OP_BORK, KLH_OP_BXORK, KLH_OP_SHRI, KLH_OP_SHLI, KLH_OP_ADD, KLH_OP_SUB, KLH_OP_MUL, KLH_OP_MOD, KLH_OP_POW, KLH_OP_DIV, KLH_OP_IDIV,
    KLH_OP_BAND, KLH_OP_BOR, KLH_OP_BXOR, KLH_OP_SHL, KLH_OP_SHR, KLH_OP_MMBIN, KLH_OP_MMBINI, KLH_OP_MMBINK, KLH_OP_UNM, KLH_OP_BNOT, KLH_OP_NOT, KLH_OP_LEN,
    KLH_OP_CONCAT, KLH_OP_CLOSE, KLH_OP_TBC, KLH_OP_JMP, KLH_OP_EQ, KLH_OP_LT, KLH_OP_LE, KLH_OP_EQK, KLH_OP_EQI, KLH_OP_LTI, KLH_OP_LEI, KLH_OP_GTI, KLH_OP_GEI,
    KLH_OP_TEST, KLH_OP_TESTSET, KLH_OP_CALL, KLH_OP_TAILCALL, KLH_OP_RETURN, KLH_OP_RETURN0, KLH_OP_RETURN1, KLH_OP_FORLOOP, KLH_OP_FORPREP,
    KLH_OP_TFORPREP, KLH_OP_TFORCALL, KLH_OP_TFORLOOP, KLH_OP_SETLIST, KLH_OP_CLOSURE, KLH_OP_VARARG, KLH_OP_VARARGPREP, KLH_OP_EXTRAARG
};

#define KLH_GET_OP(i) ((int)((i) & 0x7F))
#define KLH_GET_A(i) ((int)(((i) >> 7) & 0xFF))
#define KLH_GET_K(i) ((int)(((i) >> 15) & 1))
#define KLH_GET_B(i) ((int)(((i) >> 16) & 0xFF))
#define KLH_GET_C(i) ((int)(((i) >> 24) & 0xFF))
#define KLH_GET_SJ(i) ((int)((i) >> 7) - ((1 << 24) - 1))

/* dump.c: the stripped dump of the Lua function at idx, in d->buf (up to `limit` bytes; the
 * caller frees d->buf whatever the outcome); 1 when dumped. klh_dump_size reads one of the
 * dump's sizes at *pos (ldump.c's dumpSize): 1 when read. */
typedef struct {
    unsigned char *buf;
    size_t used, cap, limit;
    int failed;
} klh_dump;
int klh_dump_function(lua_State *L, int idx, size_t limit, klh_dump *d);
int klh_dump_size(const unsigned char *b, size_t n, size_t *pos, size_t *out);
/* The main function of a dump (ldump.c's layout, Lua 5.4): its parameters, stack size and
 * code (at most max_code instructions); *after is where its constants start. 1 when read. */
typedef struct {
    int numparams, is_vararg, maxstack, ncode;
    const unsigned char *code;
} klh_dump_main;
int klh_dump_read_main(const unsigned char *b, size_t n, size_t max_code, klh_dump_main *m, size_t *after);
/* Bytes before the main function: the header and the main closure's upvalue count. */
#define KLH_DUMP_HEADER (4 + 1 + 1 + 6 + 3 + 8 + 8 + 1)

/* straight.c: straight cost of the function at idx, and in *pure whether its own code
 * writes no table, no global and no upvalue (cached per function). */
int64_t klh_function_cost(lua_State *L, klh_ctx *c, int idx, int *pure);
/* sandbox.c's list of C functions a call on twins may make: functions of numbers and
 * strings, that neither write a table nor tell a twin from its view. */
void klh_pure_cfunctions_collect(lua_State *L, klh_ctx *c);
int klh_pure_cfunction(const klh_ctx *c, const void *fn);
const char *klh_view_name(lua_State *L, int idx);


/* lua_Alloc's work on the state's heap (no cap, no accounting), and freeing its chunks
 * once the state is closed. */
void *klh_slab_realloc(klh_slab *s, void *ptr, size_t osize, size_t nsize);
void klh_slab_release(klh_slab *s);
/* A region: the blocks taken until klh_slab_region_end lie side by side (no free-list
 * reuse), from a chunk with at least `expected` bytes left when possible. End gives the
 * span [start, start + *len), or NULL when the blocks did not fit in one chunk. */
void klh_slab_region_begin(klh_slab *s, size_t expected);
const void *klh_slab_region_end(klh_slab *s, size_t *len);

/* Internals shared by the call paths (call.c, budget.c, straight.c, each.c). */
int klh_pcall_with(lua_State *L, int nargs, int nresults, int msgh);
void klh_push_msgh(lua_State *L);
void klh_budget_reset(klh_ctx *c, int64_t instructions, int64_t wall_ns);
/* Arms the straight path for the call about to be made (1), or leaves the count hook (0);
 * the call hook stays armed when the call before was straight too. */
int klh_straight_arm(lua_State *L, klh_ctx *c, int64_t cost);
/* After an armed call: back to the count hook, and the budget verdict if strings the
 * function built spent the budget (the error replaces the results above fidx). */
int klh_straight_finish(lua_State *L, int status, int fidx);
/* The two halves of klh_straight_finish: the verdict, leaving the call hook armed for the
 * next straight call (klh_pcall_each), and the way back to the count hook. */
int klh_straight_verdict(lua_State *L, klh_ctx *c, int status, int fidx);
void klh_straight_disarm(lua_State *L);
/* klh_budget_flush with the state's context at hand (a loop of calls). */
void klh_budget_flush_in(lua_State *L, klh_ctx *c);
void klh_straight_disarm(lua_State *L);

#endif
