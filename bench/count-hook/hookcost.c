/* hookcost: what does Lua 5.4's count hook cost on a scheduler score loop?
 *
 * Build:  cc -O2 $(pkg-config --cflags lua5.4) hookcost.c $(pkg-config --libs lua5.4) -o hookcost
 * Run (from the repository root):
 *         bench/count-hook/hookcost [options]        (see usage() or README.md)
 *
 * Loads the shipped plugin (plugins/schedulers/binpack.lua) from its file, unchanged. That
 * plugin defines only `score`; since the brief asks for filter+score pairs, a small
 * resource-fit `filter` (BENCH_FILTER below, bench-only, not shipped) is added to the plugin
 * table when the plugin has none. `--score-only` calls only score, which is what the host
 * really does for binpack.
 *
 * Builds N node tables and P pod tables once (deterministic xorshift sizes), keeps one
 * registry reference per node and per pod, and calls filter then score for every pod on
 * every node under each mode:
 *   A  no hook
 *   B  count hook every 1000 instructions, set once before the loop (our hook count)
 *   C  as B, but lua_sethook(set) before and lua_sethook(NULL) after every call
 *   D  count hook every 1,000,000 instructions, set once
 *   E  count hook every instruction, set once (worst case; fewer pods, see --e-pods)
 *   F  no hook, one Lua call per pod that loops over all nodes (Lua-side loop)
 *   G  as F, with the count hook every 1000 set once
 *   H  runtime-like C boundary: per call what klh_budget_begin + klh_pcall + klh_budget_flush
 *      do in Sources/CLuaShims (reset budget, read the monotonic clock, lua_sethook; push the
 *      C message handler; lua_pcall; read hookcount, lua_sethook re-arm), count 1000
 * Every hooked mode uses bench_hook, a copy of klh_hook's work when it fires (record the
 * position with lua_getstack/lua_getinfo("Sl"), add lua_gethookcount to the spent counter,
 * check the memory soft limit, read the monotonic clock for the wall backstop, check the
 * budget, re-arm only if the count must change). The state uses a counting allocator as
 * klh_alloc does. Before each call the host resets the per-call spent counter (a store).
 *
 * Modes run interleaved (A B C ... A B C ...) for --reps rounds; the report gives the median,
 * min and max per mode. Under valgrind --tool=callgrind each mode's first round is dumped
 * separately (CALLGRIND_DUMP_STATS_AT "mode-X"), see run-callgrind.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#define RUNNING_ON_VALGRIND 0
#endif

/* ---------------------------------------------------------------- context, allocator */

typedef struct {
    size_t mem_used, mem_limit;
    int enforce;
    int cap_refused;
    int mem_exceeded;
    int64_t budget, spent;
    int hook_count;
    int exhausted;
    int wall_exceeded;
    int64_t wall_limit_ns, wall_start_ns;
    int hookcount_offset;
    char pos_chunk[256];
    int pos_line;
    long long fires; /* hook invocations (bench statistic) */
} ctx_t;

static ctx_t *ctx_of(lua_State *L) {
    void *ud = NULL;
    (void)lua_getallocf(L, &ud);
    return (ctx_t *)ud;
}

static void *bench_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    ctx_t *c = (ctx_t *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        c->mem_used -= old;
        return NULL;
    }
    if (nsize > old && c->enforce > 0 && c->mem_used - old + nsize > c->mem_limit) {
        c->cap_refused++;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) return nsize <= old ? ptr : NULL;
    c->mem_used = c->mem_used - old + nsize;
    return p;
}

static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

static int64_t clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- the hook */

static int has_verdict(const ctx_t *c) { return c->exhausted || c->mem_exceeded || c->wall_exceeded; }

static int hook_count_now(ctx_t *c) {
    if (has_verdict(c)) return 1;
    if (c->budget - c->spent < c->hook_count) return c->budget > c->spent ? (int)(c->budget - c->spent) : 1;
    return c->hook_count;
}

/* as klh_record_position(c, L, 0, 1): level 0, '@' chunks only */
static void record_position(ctx_t *c, lua_State *L) {
    lua_Debug ar;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "Sl", &ar) && ar.source != NULL && ar.source[0] == '@' &&
        ar.currentline > 0) {
        size_t n = strlen(ar.source + 1);
        if (n >= sizeof c->pos_chunk) n = sizeof c->pos_chunk - 1;
        memcpy(c->pos_chunk, ar.source + 1, n);
        c->pos_chunk[n] = '\0';
        c->pos_line = ar.currentline;
    }
}

static void bench_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    ctx_t *c = ctx_of(L);
    c->fires++;
    record_position(c, L);
    if (!has_verdict(c)) {
        int count = lua_gethookcount(L);
        c->spent += count > 0 ? count : 1;
        if (c->cap_refused >= 4) {
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
        if (!c->mem_exceeded && c->wall_limit_ns > 0 && clock_ns() - c->wall_start_ns > c->wall_limit_ns)
            c->wall_exceeded = 1;
        if (!c->mem_exceeded && !c->wall_exceeded) {
            if (c->spent < c->budget) {
                int want = hook_count_now(c);
                if (count != want) lua_sethook(L, bench_hook, LUA_MASKCOUNT, want);
                return;
            }
            c->exhausted = 1;
        }
    }
    lua_sethook(L, bench_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "budget verdict (exhausted=%d mem=%d wall=%d)", c->exhausted, c->mem_exceeded, c->wall_exceeded);
}

/* Arms the hook with `count` (the hook then keeps that count: hook_count = count). */
static void arm(lua_State *L, int count) {
    ctx_t *c = ctx_of(L);
    c->hook_count = count;
    c->spent = 0;
    lua_sethook(L, bench_hook, LUA_MASKCOUNT, hook_count_now(c));
}

static void disarm(lua_State *L) { lua_sethook(L, NULL, 0, 0); }

/* ---- runtime-like boundary (mode H): klh_budget_calibrate / begin / flush / pcall ---- */

static int read_int(lua_State *L, int off) {
    int v;
    memcpy(&v, (const char *)L + off, sizeof v);
    return v;
}

static int find_hook_fields(lua_State *L, int a) {
    int found = -1;
    for (int off = 0; off + 3 * (int)sizeof(int) <= 512; off += (int)sizeof(int))
        if (read_int(L, off) == a && read_int(L, off + 4) == a && read_int(L, off + 8) == LUA_MASKCOUNT) {
            if (found >= 0) return -1;
            found = off;
        }
    return found;
}

static void calibrate(lua_State *L) {
    ctx_t *c = ctx_of(L);
    c->hookcount_offset = -1;
    lua_sethook(L, bench_hook, LUA_MASKCOUNT, 0x2345);
    int base = find_hook_fields(L, 0x2345);
    lua_sethook(L, bench_hook, LUA_MASKCOUNT, 0x1F3B7);
    if (base >= 0 && find_hook_fields(L, 0x1F3B7) == base) {
        static const char probe[] = "local a = 1 local b = a + 1 return b";
        int top = lua_gettop(L);
        if (luaL_loadbufferx(L, probe, sizeof probe - 1, "=(probe)", "t") == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK) {
            int left = read_int(L, base + 4);
            if (read_int(L, base) == 0x1F3B7 && left < 0x1F3B7 && left > 0x1F3B7 - 32) c->hookcount_offset = base + 4;
        }
        lua_settop(L, top);
    }
    disarm(L);
}

static void rt_begin(lua_State *L, int64_t budget, int64_t wall_ns) {
    ctx_t *c = ctx_of(L);
    c->budget = budget;
    c->spent = 0;
    c->exhausted = c->mem_exceeded = c->wall_exceeded = c->cap_refused = 0;
    c->pos_chunk[0] = '\0';
    c->pos_line = -1;
    c->wall_limit_ns = wall_ns;
    c->wall_start_ns = wall_ns > 0 ? clock_ns() : 0;
    lua_sethook(L, bench_hook, LUA_MASKCOUNT, hook_count_now(c));
}

static void rt_flush(lua_State *L) {
    ctx_t *c = ctx_of(L);
    if (c->hookcount_offset < 0 || lua_gethook(L) != bench_hook) return;
    int base = lua_gethookcount(L);
    int left = read_int(L, c->hookcount_offset);
    if (!has_verdict(c) && left > 0 && left <= base) c->spent += base - left;
    lua_sethook(L, bench_hook, LUA_MASKCOUNT, hook_count_now(c));
}

static int rt_msgh(lua_State *L) { /* only runs on errors, which the bench does not have */
    lua_settop(L, 1);
    return 1;
}

static int rt_pcall(lua_State *L, int nargs, int nres) {
    ctx_t *c = ctx_of(L);
    int fidx = lua_gettop(L) - nargs;
    lua_pushcfunction(L, rt_msgh);
    lua_insert(L, fidx);
    int saved = c->enforce;
    c->enforce = 1;
    int status = lua_pcall(L, nargs, nres, fidx);
    c->enforce = saved;
    rt_flush(L);
    lua_remove(L, fidx);
    return status;
}

/* ---------------------------------------------------------------- data */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static int64_t rnd_range(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static void set_int(lua_State *L, const char *k, lua_Integer v) {
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}
static void set_str(lua_State *L, const char *k, const char *v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

#define GiB (1024ll * 1024 * 1024)
#define MiB (1024ll * 1024)

/* Pushes one node table: name, labels, allocatable, requested, free, pod_count, unschedulable. */
static void push_node(lua_State *L, int i) {
    static const int64_t cpus[] = {4000, 8000, 16000, 32000, 64000};
    static const int64_t mems[] = {8 * GiB, 16 * GiB, 32 * GiB, 64 * GiB, 128 * GiB, 256 * GiB};
    static const char *types[] = {"m5.xlarge", "m5.2xlarge", "m5.4xlarge", "m5.8xlarge", "m5.16xlarge"};
    int ci = (int)(rnd() % 5), mi = (int)(rnd() % 6);
    int64_t acpu = cpus[ci], amem = mems[mi];
    int64_t rcpu = acpu * rnd_range(0, 98) / 100, rmem = amem * rnd_range(0, 98) / 100;
    char name[32], zone[16];
    snprintf(name, sizeof name, "node-%05d", i);
    snprintf(zone, sizeof zone, "zone-%c", 'a' + i % 3);
    lua_createtable(L, 0, 8);
    set_str(L, "name", name);
    lua_createtable(L, 0, 3);
    set_str(L, "kubernetes.io/hostname", name);
    set_str(L, "topology.kubernetes.io/zone", zone);
    set_str(L, "node.kubernetes.io/instance-type", types[ci]);
    lua_setfield(L, -2, "labels");
    lua_createtable(L, 0, 3);
    set_int(L, "cpu", acpu);
    set_int(L, "memory", amem);
    set_int(L, "pods", 110);
    lua_setfield(L, -2, "allocatable");
    lua_createtable(L, 0, 3);
    set_int(L, "cpu", rcpu);
    set_int(L, "memory", rmem);
    set_int(L, "pods", rnd_range(0, 60));
    lua_setfield(L, -2, "requested");
    lua_createtable(L, 0, 3);
    set_int(L, "cpu", acpu - rcpu);
    set_int(L, "memory", amem - rmem);
    lua_setfield(L, -2, "free");
    set_int(L, "pod_count", rnd_range(0, 60));
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "unschedulable");
}

static void push_pod(lua_State *L, int i) {
    char name[32];
    snprintf(name, sizeof name, "pod-%05d", i);
    lua_createtable(L, 0, 6);
    set_str(L, "name", name);
    set_str(L, "namespace", "default");
    lua_createtable(L, 0, 1);
    set_str(L, "app", "web");
    lua_setfield(L, -2, "labels");
    lua_createtable(L, 0, 2);
    set_int(L, "cpu", rnd_range(1, 40) * 100);         /* 100m .. 4 cpu */
    set_int(L, "memory", rnd_range(1, 64) * 128 * MiB); /* 128Mi .. 8Gi */
    lua_setfield(L, -2, "requests");
}

/* ---------------------------------------------------------------- plugin */

/* Bench-only filter, added when the plugin has none (binpack has none): a resource fit. */
static const char BENCH_FILTER[] =
    "return function(pod, node, state)\n"
    "  local free = node.free\n"
    "  if (pod.requests.cpu or 0) > (free.cpu or 0) then\n"
    "    return false, 'insufficient cpu'\n"
    "  end\n"
    "  if (pod.requests.memory or 0) > (free.memory or 0) then\n"
    "    return false, 'insufficient memory'\n"
    "  end\n"
    "  return true\n"
    "end\n";

/* The Lua-side loop of modes F and G: one call per pod runs filter+score on every node. */
static const char LUA_LOOP[] =
    "local filter, score, score_only = ...\n"
    "return function(pod, nodes, state)\n"
    "  local sum, fits = 0, 0\n"
    "  for i = 1, #nodes do\n"
    "    local node = nodes[i]\n"
    "    if not score_only and filter(pod, node, state) then fits = fits + 1 end\n"
    "    sum = sum + score(pod, node, state)\n"
    "  end\n"
    "  return sum, fits\n"
    "end\n";

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "hookcost: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) exit(2);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void check(lua_State *L, int status, const char *what) {
    if (status != LUA_OK) {
        fprintf(stderr, "hookcost: %s: %s\n", what, lua_tostring(L, -1));
        exit(1);
    }
}

/* ---------------------------------------------------------------- bench */

typedef struct {
    lua_State *L;
    int nnodes, npods;
    int *node_ref, *pod_ref;
    int nodes_ref, state_ref, filter_ref, score_ref, loop_ref;
    int score_only;
} bench_t;

typedef struct {
    long long sum, fits;
} result_t;

enum { COUNT_1K = 1000, COUNT_1M = 1000000 };

/* one host call: f(pod, node, state) -> 1 result */
static inline void push_call(bench_t *b, int fref, int p, int n) {
    lua_State *L = b->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, fref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->pod_ref[p]);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->node_ref[n]);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->state_ref);
}

/* Per-call host loop. per_call: 0 = hook as set by the caller, 1 = set/clear around each
 * call (mode C), 2 = runtime-like (mode H). */
static result_t run_per_call(bench_t *b, int npods, int per_call, int count) {
    lua_State *L = b->L;
    ctx_t *c = ctx_of(L);
    result_t r = {0, 0};
    for (int p = 0; p < npods; p++) {
        for (int n = 0; n < b->nnodes; n++) {
            for (int k = b->score_only ? 1 : 0; k < 2; k++) {
                int fref = k == 0 ? b->filter_ref : b->score_ref;
                int status;
                if (per_call == 2) {
                    rt_begin(L, 50000000, 2000000000);
                    push_call(b, fref, p, n);
                    status = rt_pcall(L, 3, 1);
                } else {
                    c->spent = 0; /* the host resets the per-call budget */
                    if (per_call == 1) lua_sethook(L, bench_hook, LUA_MASKCOUNT, count);
                    push_call(b, fref, p, n);
                    c->enforce = 1;
                    status = lua_pcall(L, 3, 1, 0);
                    c->enforce = 0;
                    if (per_call == 1) lua_sethook(L, NULL, 0, 0);
                }
                if (status != LUA_OK) check(L, status, k == 0 ? "filter" : "score");
                if (k == 0)
                    r.fits += lua_toboolean(L, -1);
                else
                    r.sum += lua_tointeger(L, -1);
                lua_settop(L, 0);
            }
        }
    }
    return r;
}

static result_t run_lua_loop(bench_t *b, int npods) {
    lua_State *L = b->L;
    ctx_t *c = ctx_of(L);
    result_t r = {0, 0};
    for (int p = 0; p < npods; p++) {
        c->spent = 0;
        lua_rawgeti(L, LUA_REGISTRYINDEX, b->loop_ref);
        lua_rawgeti(L, LUA_REGISTRYINDEX, b->pod_ref[p]);
        lua_rawgeti(L, LUA_REGISTRYINDEX, b->nodes_ref);
        lua_rawgeti(L, LUA_REGISTRYINDEX, b->state_ref);
        c->enforce = 1;
        int status = lua_pcall(L, 3, 2, 0);
        c->enforce = 0;
        check(L, status, "lua loop");
        r.sum += lua_tointeger(L, -2);
        r.fits += lua_tointeger(L, -1);
        lua_settop(L, 0);
    }
    return r;
}

/* Runs one mode over npods pods; returns wall seconds, and thread CPU seconds in *cpu_s. */
static double run_mode(bench_t *b, char mode, int npods, result_t *out, long long *fires, double *cpu_s) {
    lua_State *L = b->L;
    ctx_t *c = ctx_of(L);
    /* set-once modes: a wall limit that cannot trigger, so the clock is read but never wins */
    c->wall_limit_ns = 3600ll * 1000000000;
    c->wall_start_ns = clock_ns();
    c->budget = 50000000;
    c->fires = 0;
    result_t r;
    int64_t c0 = cpu_ns();
    int64_t t0 = clock_ns();
    switch (mode) {
    case 'A': disarm(L); r = run_per_call(b, npods, 0, 0); break;
    case 'B': arm(L, COUNT_1K); r = run_per_call(b, npods, 0, 0); disarm(L); break;
    case 'C': c->hook_count = COUNT_1K; disarm(L); r = run_per_call(b, npods, 1, COUNT_1K); break;
    case 'D': arm(L, COUNT_1M); r = run_per_call(b, npods, 0, 0); disarm(L); break;
    case 'E': arm(L, 1); r = run_per_call(b, npods, 0, 0); disarm(L); break;
    case 'F': disarm(L); r = run_lua_loop(b, npods); break;
    case 'G': arm(L, COUNT_1K); r = run_lua_loop(b, npods); disarm(L); break;
    case 'H': c->hook_count = COUNT_1K; r = run_per_call(b, npods, 2, 0); disarm(L); break;
    default: fprintf(stderr, "unknown mode %c\n", mode); exit(2);
    }
    int64_t t1 = clock_ns();
    int64_t c1 = cpu_ns();
    *cpu_s = (double)(c1 - c0) / 1e9;
    *out = r;
    *fires = c->fires;
    return (double)(t1 - t0) / 1e9;
}

/* VM instructions per call, with a plain counting hook (count 1). */
static long long vm_count;
static void count_hook(lua_State *L, lua_Debug *ar) {
    (void)L;
    (void)ar;
    vm_count++;
}

static long long count_one(bench_t *b, int fref, int p, int n) {
    lua_State *L = b->L;
    push_call(b, fref, p, n);
    vm_count = 0;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    check(L, lua_pcall(L, 3, 1, 0), "count");
    lua_sethook(L, NULL, 0, 0);
    lua_settop(L, 0);
    return vm_count;
}

/* Busy share (percent) of all CPUs over `ms` milliseconds, from /proc/stat; -1 if unknown.
 * Called while this process sleeps, so it measures the other processes. */
static double cpu_busy_pct(int ms) {
    unsigned long long a[2][10] = {{0}};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen("/proc/stat", "r");
        if (!f) return -1;
        int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &a[k][0], &a[k][1], &a[k][2],
                       &a[k][3], &a[k][4], &a[k][5], &a[k][6], &a[k][7], &a[k][8], &a[k][9]);
        fclose(f);
        if (n < 5) return -1;
        if (k == 0) {
            struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    unsigned long long tot = 0, idle = 0;
    for (int i = 0; i < 8; i++) tot += a[1][i] - a[0][i]; /* guest time is already in user */
    idle = (a[1][3] - a[0][3]) + (a[1][4] - a[0][4]);
    return tot ? 100.0 * (double)(tot - idle) / (double)tot : -1;
}

/* --quiet PCT: before each timed run wait (up to about 10 minutes) until the machine's other
 * processes used less than PCT percent of the CPUs over the last --quiet-ms milliseconds. */
static double wait_quiet(double pct, int ms) {
    double busy = -1;
    for (int i = 0; i < 600000 / ms; i++) {
        busy = cpu_busy_pct(ms);
        if (busy < 0 || busy < pct) break;
    }
    return busy;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(void) {
    fprintf(stderr,
            "usage: hookcost [--plugin FILE] [--nodes N] [--pods P] [--e-pods P] [--reps R]\n"
            "                [--modes ABCDEFGH] [--score-only] [--raw]\n"
            "                [--quiet PCT [--quiet-ms MS]]\n"
            "defaults: plugins/schedulers/binpack.lua, 5000 nodes, 1000 pods, E on 100 pods,\n"
            "          5 reps, modes ABCDEFGH\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *plugin = "plugins/schedulers/binpack.lua";
    const char *modes = "ABCDEFGH";
    int nnodes = 5000, npods = 1000, epods = 100, reps = 5, score_only = 0, raw = 0;
    double quiet = 0;
    int quiet_ms = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--plugin") && v) plugin = argv[++i];
        else if (!strcmp(a, "--nodes") && v) nnodes = atoi(argv[++i]);
        else if (!strcmp(a, "--pods") && v) npods = atoi(argv[++i]);
        else if (!strcmp(a, "--e-pods") && v) epods = atoi(argv[++i]);
        else if (!strcmp(a, "--reps") && v) reps = atoi(argv[++i]);
        else if (!strcmp(a, "--modes") && v) modes = argv[++i];
        else if (!strcmp(a, "--score-only")) score_only = 1;
        else if (!strcmp(a, "--raw")) raw = 1;
        else if (!strcmp(a, "--quiet") && v) quiet = atof(argv[++i]);
        else if (!strcmp(a, "--quiet-ms") && v) quiet_ms = atoi(argv[++i]);
        else usage();
    }
    if (nnodes < 1 || npods < 1 || epods < 1 || reps < 1 || quiet_ms < 10) usage();
    if (epods > npods) epods = npods;

    ctx_t *c = calloc(1, sizeof *c);
    c->mem_limit = 64 << 20;
    c->hook_count = COUNT_1K;
    c->budget = 50000000;
    c->pos_line = -1;
    lua_State *L = lua_newstate(bench_alloc, c);
    luaL_openlibs(L);
    calibrate(L);

    bench_t b = {0};
    b.L = L;
    b.nnodes = nnodes;
    b.npods = npods;
    b.score_only = score_only;

    /* the plugin, as shipped */
    size_t len;
    char *src = read_file(plugin, &len);
    char chunk[1024];
    snprintf(chunk, sizeof chunk, "@%s", plugin);
    check(L, luaL_loadbufferx(L, src, len, chunk, "t"), "load plugin");
    check(L, lua_pcall(L, 0, 1, 0), "run plugin");
    free(src);
    if (!lua_istable(L, -1)) {
        fprintf(stderr, "hookcost: plugin did not return a table\n");
        return 1;
    }
    int plugin_has_filter = lua_getfield(L, -1, "filter") == LUA_TFUNCTION;
    lua_pop(L, 1);
    if (!plugin_has_filter) {
        check(L, luaL_loadbufferx(L, BENCH_FILTER, sizeof BENCH_FILTER - 1, "@bench/count-hook/filter.lua", "t"),
              "load filter");
        check(L, lua_pcall(L, 0, 1, 0), "run filter chunk");
        lua_setfield(L, -2, "filter");
    }
    if (lua_getfield(L, -1, "score") != LUA_TFUNCTION) {
        fprintf(stderr, "hookcost: plugin has no score function\n");
        return 1;
    }
    lua_pushvalue(L, -1);
    b.score_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -2, "filter");
    lua_pushvalue(L, -1);
    b.filter_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* stack: plugin, score, filter */
    check(L, luaL_loadbufferx(L, LUA_LOOP, sizeof LUA_LOOP - 1, "@bench/count-hook/loop.lua", "t"), "load loop");
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -4);
    lua_pushboolean(L, score_only);
    check(L, lua_pcall(L, 3, 1, 0), "run loop chunk");
    b.loop_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);

    /* data, built once */
    b.node_ref = malloc(sizeof(int) * (size_t)nnodes);
    b.pod_ref = malloc(sizeof(int) * (size_t)npods);
    lua_createtable(L, nnodes, 0);
    for (int i = 0; i < nnodes; i++) {
        push_node(L, i);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, i + 1);
        b.node_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    b.nodes_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int i = 0; i < npods; i++) {
        push_pod(L, i);
        b.pod_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_newtable(L);
    b.state_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_gc(L, LUA_GCCOLLECT, 0);

    printf("hookcost: %s (%s), %s %d nodes x %d pods = %lld pairs (mode E: %d pods), %d reps\n", LUA_RELEASE, plugin,
           score_only ? "score only," : "filter+score,", nnodes, npods, (long long)nnodes * npods, epods, reps);
    if (!plugin_has_filter && !score_only)
        printf("note: %s defines no filter; using the bench-only resource-fit filter\n", plugin);
    printf("lua memory after setup: %.1f MiB; hookcount offset: %d\n", (double)c->mem_used / MiB, c->hookcount_offset);

    /* VM instructions per call (count hook 1, plain counter) over the first pods x all nodes */
    {
        int cp = npods < 4 ? npods : 4;
        long long fmin = -1, fmax = 0, ftot = 0, smin = -1, smax = 0, stot = 0, n = 0;
        for (int p = 0; p < cp; p++)
            for (int i = 0; i < nnodes; i++) {
                long long f = score_only ? 0 : count_one(&b, b.filter_ref, p, i);
                long long s = count_one(&b, b.score_ref, p, i);
                ftot += f;
                stot += s;
                n++;
                if (fmin < 0 || f < fmin) fmin = f;
                if (f > fmax) fmax = f;
                if (smin < 0 || s < smin) smin = s;
                if (s > smax) smax = s;
            }
        /* the Lua-side loop, one pod */
        lua_rawgeti(L, LUA_REGISTRYINDEX, b.loop_ref);
        lua_rawgeti(L, LUA_REGISTRYINDEX, b.pod_ref[0]);
        lua_rawgeti(L, LUA_REGISTRYINDEX, b.nodes_ref);
        lua_rawgeti(L, LUA_REGISTRYINDEX, b.state_ref);
        vm_count = 0;
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
        check(L, lua_pcall(L, 3, 2, 0), "count loop");
        lua_sethook(L, NULL, 0, 0);
        lua_settop(L, 0);
        printf("VM instructions per call (%lld calls each): filter mean %.2f (min %lld, max %lld), "
               "score mean %.2f (min %lld, max %lld), pair mean %.2f\n",
               n, (double)ftot / n, fmin, fmax, (double)stot / n, smin, smax, (double)(ftot + stot) / n);
        printf("VM instructions per pair inside the Lua-side loop (F/G, pod 0): %.2f\n", (double)vm_count / nnodes);
    }

    int nm = (int)strlen(modes);
    double *t = calloc((size_t)nm * (size_t)reps, sizeof(double));  /* wall seconds */
    double *tc = calloc((size_t)nm * (size_t)reps, sizeof(double)); /* thread CPU seconds */
    result_t *res = calloc((size_t)nm, sizeof(result_t));
    long long *fires = calloc((size_t)nm, sizeof(long long));
    int *mpods = calloc((size_t)nm, sizeof(int));
    for (int m = 0; m < nm; m++) mpods[m] = modes[m] == 'E' ? epods : npods;

    /* warm-up: one pod per mode */
    for (int m = 0; m < nm; m++) {
        result_t r;
        long long f;
        double cs;
        (void)run_mode(&b, modes[m], 1, &r, &f, &cs);
    }
    for (int rep = 0; rep < reps; rep++) {
        for (int m = 0; m < nm; m++) {
            result_t r;
            long long f;
            char tag[16];
            snprintf(tag, sizeof tag, "mode-%c", modes[m]);
            double busy = quiet > 0 ? wait_quiet(quiet, quiet_ms) : -1;
            if (rep == 0) CALLGRIND_ZERO_STATS;
            t[m * reps + rep] = run_mode(&b, modes[m], mpods[m], &r, &f, &tc[m * reps + rep]);
            if (rep == 0) CALLGRIND_DUMP_STATS_AT(tag);
            if (rep == 0) {
                res[m] = r;
                fires[m] = f;
            } else if (r.sum != res[m].sum || r.fits != res[m].fits) {
                fprintf(stderr, "hookcost: mode %c gave different results across reps\n", modes[m]);
                return 1;
            }
            if (raw)
                printf("raw %c rep %d wall %.6f s cpu %.6f s pairs %lld busy-before %.0f%%\n", modes[m], rep,
                       t[m * reps + rep], tc[m * reps + rep], (long long)nnodes * mpods[m], busy);
            fflush(stdout);
        }
    }

    /* results must agree across modes (per pod count) */
    for (int m = 1; m < nm; m++)
        if (mpods[m] == mpods[0] && (res[m].sum != res[0].sum || res[m].fits != res[0].fits)) {
            fprintf(stderr, "hookcost: mode %c disagrees with mode %c (sum %lld/%lld fits %lld/%lld)\n", modes[m],
                    modes[0], res[m].sum, res[0].sum, res[m].fits, res[0].fits);
            return 1;
        }

    for (int which = 0; which < 2; which++) {
        double *tt = which == 0 ? t : tc;
        double med_ns[256] = {0};
        printf("\n%s time, %d reps (median; spread = max - min)\n", which == 0 ? "wall (monotonic)" : "thread CPU",
               reps);
        printf("%-4s %9s %9s %9s %11s %11s %11s %7s %11s\n", "mode", "pairs", "median s", "spread s", "ns/pair med",
               "ns/pair min", "ns/pair max", "vs A", "hook fires");
        for (int m = 0; m < nm; m++) {
            double *v = tt + m * reps;
            qsort(v, (size_t)reps, sizeof(double), cmp_double);
            double med = reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
            double pairs = (double)nnodes * mpods[m];
            med_ns[(unsigned char)modes[m]] = med / pairs * 1e9;
            printf("%-4c %9.0f %9.3f %9.3f %11.1f %11.1f %11.1f ", modes[m], pairs, med, v[reps - 1] - v[0],
                   med / pairs * 1e9, v[0] / pairs * 1e9, v[reps - 1] / pairs * 1e9);
            if (med_ns['A'] > 0)
                printf("%7.3f ", med_ns[(unsigned char)modes[m]] / med_ns['A']);
            else
                printf("%7s ", "-");
            printf("%11lld\n", fires[m]);
        }
        if (med_ns['F'] > 0 && med_ns['G'] > 0) printf("G/F = %.3f\n", med_ns['G'] / med_ns['F']);
    }
    printf("checksum: sum of scores %lld, filter passes %lld (per %d pods)\n", res[0].sum, res[0].fits, mpods[0]);

    lua_close(L);
    free(c);
    return 0;
}
