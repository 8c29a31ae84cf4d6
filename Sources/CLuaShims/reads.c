/* Which fields of an argument a function can read: the key that lets a scheduler plugin
 * reuse a call's result for the next pod of the same template.
 *
 * A call that ran on twins (each.c) wrote nothing and called nothing but straight Lua
 * functions that write nothing and the listed C functions of numbers and strings: its
 * results follow from what it read. It read its arguments, and values the plugin's code
 * cannot change without running code that is not such a call (the state's code epoch,
 * ctx->epoch, counts those runs). So while the epoch stands, the same function given a
 * node view as it was and a pod that agrees with the earlier pod on every field the
 * function can read returns what it returned then.
 *
 * klh_arg_fields reads the function's bytecode (lua_dump, Lua 5.4) and follows the
 * registers that may hold the argument, through forward jumps, moves and calls of Lua
 * functions it can name (an upvalue, a global, a field of a table either holds: their
 * values now, which the epoch keeps). The argument may only be indexed with constant
 * string keys, tested for truth, or passed to such a function; anything else (a computed
 * key, a comparison, arithmetic, a C function, a return, a closure, varargs, a loop)
 * means any field may be read. The answer is the keys read, or "any". */
#include <stdlib.h>
#include <string.h>
#include "klh.h"

#define KLH_R_MAX_CODE 4096
#define KLH_R_MAX_DEPTH 12
#define KLH_R_MAX_FIELDS 64
#define KLH_R_REGS 256
#define KLH_R_MAX_SEEN 64
#define KLH_R_MAX_STEPS 100000

/* A function's code and string constants, read from its dump. */
typedef struct {
    unsigned char *dump;
    klh_dump_main main;
    int nk;
    const char **kstr; /* NULL for a constant that is not a string */
    size_t *klen;
} klh_proto;

/* What the registers may hold at one point: bit r of `arg` when register r may hold the
 * argument; known[r] the stack index of register r's value when it is one value the
 * analysis knows (0 when not). */
typedef struct {
    uint64_t arg[KLH_R_REGS / 64];
    int known[KLH_R_REGS];
    int live;
} klh_regs;

/* The keys found, copied (the dumps they come from go when their function is read); the
 * functions already followed with each set of argument positions (following one again
 * adds no key, so a helper called many times, or itself, is read once); the instructions
 * read so far, against a cap, so that no plugin can make the analysis long. */
typedef struct {
    size_t at[KLH_R_MAX_FIELDS], len[KLH_R_MAX_FIELDS];
    char text[4096];
    size_t used;
    int count;
    int any;
    struct { const void *fn; uint64_t mask; } seen[KLH_R_MAX_SEEN];
    int seen_count;
    long steps;
} klh_fields;

static int klh_has(const klh_regs *s, int r) { return r >= 0 && r < KLH_R_REGS && (s->arg[r >> 6] >> (r & 63)) & 1; }
static void klh_put(klh_regs *s, int r, int on) {
    if (r < 0 || r >= KLH_R_REGS) return;
    if (on) s->arg[r >> 6] |= (uint64_t)1 << (r & 63);
    else s->arg[r >> 6] &= ~((uint64_t)1 << (r & 63));
}
/* Register r gets a value that is neither the argument nor known. */
static void klh_def(klh_regs *s, int r) {
    klh_put(s, r, 0);
    if (r >= 0 && r < KLH_R_REGS) s->known[r] = 0;
}

static void klh_add_field(klh_fields *f, const char *k, size_t len) {
    for (int i = 0; i < f->count; i++)
        if (f->len[i] == len && memcmp(f->text + f->at[i], k, len) == 0) return;
    if (f->count == KLH_R_MAX_FIELDS || len + 1 > sizeof f->text - f->used) {
        f->any = 1;
        return;
    }
    memcpy(f->text + f->used, k, len);
    f->text[f->used + len] = '\0';
    f->at[f->count] = f->used;
    f->len[f->count] = len;
    f->used += len + 1;
    f->count++;
}

static void klh_proto_free(klh_proto *p) {
    free(p->dump);
    free((void *)p->kstr);
    free(p->klen);
    memset(p, 0, sizeof *p);
}

/* Reads the main function of the dump of the Lua function at idx (ldump.c's layout, up to
 * its constants). Returns 1 when read. */
static int klh_proto_read(lua_State *L, int idx, klh_proto *p) {
    memset(p, 0, sizeof *p);
    klh_dump d;
    int dumped = klh_dump_function(L, idx, 4 * 1024 * 1024, &d);
    p->dump = d.buf;
    if (!dumped) return 0;
    const unsigned char *b = d.buf;
    size_t n = d.used, pos, len, count;
    if (!klh_dump_read_main(b, n, KLH_R_MAX_CODE, &p->main, &pos)) return 0;
    if (!klh_dump_size(b, n, &pos, &count) || count > n - pos) return 0;
    p->nk = (int)count;
    p->kstr = calloc(count + 1, sizeof *p->kstr);
    p->klen = calloc(count + 1, sizeof *p->klen);
    if (p->kstr == NULL || p->klen == NULL) return 0;
    for (size_t i = 0; i < count; i++) {
        if (pos >= n) return 0;
        int tag = b[pos++];
        if (tag == 3 || tag == (3 | (1 << 4))) { /* integer, float */
            if (n - pos < 8) return 0;
            pos += 8;
        } else if (tag == 4 || tag == (4 | (1 << 4))) { /* short, long string */
            if (!klh_dump_size(b, n, &pos, &len)) return 0;
            if (len > 0) {
                if (len - 1 > n - pos) return 0;
                p->kstr[i] = (const char *)b + pos;
                p->klen[i] = len - 1;
                pos += len - 1;
            }
        } else if (tag != 0 && tag != 1 && tag != (1 | (1 << 4))) { /* nil, false, true */
            return 0;
        }
    }
    return 1;
}

static uint32_t klh_ins(const klh_proto *p, int pc) {
    uint32_t i;
    memcpy(&i, p->main.code + (size_t)pc * 4, 4);
    return i;
}

/* The conditional instructions: the next one (a jump) may be skipped. */
static int klh_is_test(int op) { return (op >= KLH_OP_EQ && op <= KLH_OP_GEI) || op == KLH_OP_TEST || op == KLH_OP_TESTSET; }

static void klh_merge(lua_State *L, klh_regs *into, const klh_regs *from) {
    if (!from->live) return;
    if (!into->live) {
        *into = *from;
        return;
    }
    for (int w = 0; w < KLH_R_REGS / 64; w++) into->arg[w] |= from->arg[w];
    for (int r = 0; r < KLH_R_REGS; r++) {
        int a = into->known[r], b = from->known[r];
        if (a != b && (a == 0 || b == 0 || !lua_rawequal(L, a, b))) into->known[r] = 0;
    }
}

/* A value the analysis knows, pushed: its stack index (0 when the stack is full). */
static int klh_keep(lua_State *L) {
    if (!lua_checkstack(L, 4)) {
        lua_pop(L, 1);
        return 0;
    }
    return lua_gettop(L);
}

/* t[key] without metamethods, for a known plain table t (no metatable); 0 when unknown. */
static int klh_known_field(lua_State *L, int t, const char *key, size_t len) {
    if (t == 0 || key == NULL || lua_type(L, t) != LUA_TTABLE) return 0;
    if (lua_getmetatable(L, t)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushlstring(L, key, len);
    lua_rawget(L, t);
    return klh_keep(L);
}

static void klh_walk(lua_State *L, int fidx, uint64_t mask, int depth, klh_fields *out);

/* A call of R[a] with the registers args[0..n) as its arguments: a Lua function the
 * analysis knows is read with the argument's positions; anything else given the argument
 * may read any field. */
static void klh_call(lua_State *L, const klh_regs *s, int a, int first, int n, int depth, klh_fields *out) {
    if (klh_has(s, a)) {
        out->any = 1;
        return;
    }
    uint64_t mask = 0;
    for (int j = 0; j < n; j++) {
        if (!klh_has(s, first + j)) continue;
        if (j >= 64) {
            out->any = 1;
            return;
        }
        mask |= (uint64_t)1 << j;
    }
    if (mask == 0) return;
    int callee = a < KLH_R_REGS ? s->known[a] : 0;
    if (callee == 0 || lua_type(L, callee) != LUA_TFUNCTION || lua_iscfunction(L, callee)) {
        out->any = 1;
        return;
    }
    klh_walk(L, callee, mask, depth + 1, out);
}

/* Follows the argument(s) in `mask` (bit j: parameter j) through the Lua function at fidx. */
static void klh_walk(lua_State *L, int fidx, uint64_t mask, int depth, klh_fields *out) {
    if (out->any) return;
    const void *fn = lua_topointer(L, fidx);
    for (int k = 0; k < out->seen_count; k++)
        if (out->seen[k].fn == fn && out->seen[k].mask == mask) return;
    if (out->seen_count == KLH_R_MAX_SEEN) {
        out->any = 1;
        return;
    }
    out->seen[out->seen_count].fn = fn;
    out->seen[out->seen_count].mask = mask;
    out->seen_count++;
    klh_proto p;
    memset(&p, 0, sizeof p);
    klh_regs *pending = NULL;
    int *slot = NULL;
    if (depth > KLH_R_MAX_DEPTH || !klh_proto_read(L, fidx, &p)) {
        out->any = 1;
        goto done;
    }
    if (p.main.is_vararg) {
        /* parameters past numparams go to the varargs */
        out->any = 1;
        goto done;
    }
    mask &= p.main.numparams >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << p.main.numparams) - 1);
    if (mask == 0) goto done;
    /* the points jumped to, each with the merged registers of the jumps there */
    slot = malloc(sizeof *slot * (size_t)(p.main.ncode + 2));
    if (slot == NULL) {
        out->any = 1;
        goto done;
    }
    int targets = 0;
    for (int pc = 0; pc < p.main.ncode + 2; pc++) slot[pc] = -1;
    for (int pc = 0; pc < p.main.ncode; pc++) {
        uint32_t i = klh_ins(&p, pc);
        int op = KLH_GET_OP(i), to = -1;
        if (op == KLH_OP_JMP) to = pc + 1 + KLH_GET_SJ(i);
        else if (klh_is_test(op) || op == KLH_OP_LFALSESKIP) to = pc + 2;
        if (op == KLH_OP_FORLOOP || op == KLH_OP_FORPREP || op == KLH_OP_TFORPREP || op == KLH_OP_TFORCALL || op == KLH_OP_TFORLOOP ||
            (to >= 0 && to <= pc) || to > p.main.ncode + 1) {
            out->any = 1; /* a loop: not straight */
            goto done;
        }
        if (to >= 0 && slot[to] < 0) slot[to] = targets++;
    }
    pending = calloc((size_t)targets + 1, sizeof *pending);
    if (pending == NULL) {
        out->any = 1;
        goto done;
    }
    klh_regs s;
    memset(&s, 0, sizeof s);
    s.live = 1;
    s.arg[0] = mask;
    int open = -1; /* the register where the open results of the last call start */
    for (int pc = 0; pc < p.main.ncode && !out->any; pc++) {
        if (++out->steps > KLH_R_MAX_STEPS) {
            out->any = 1;
            break;
        }
        if (slot[pc] >= 0) klh_merge(L, &s, &pending[slot[pc]]);
        if (!s.live) continue;
        uint32_t i = klh_ins(&p, pc);
        int op = KLH_GET_OP(i), a = KLH_GET_A(i), b = KLH_GET_B(i), c = KLH_GET_C(i);
        if (a >= p.main.maxstack && op != KLH_OP_JMP && op != KLH_OP_EXTRAARG && op != KLH_OP_RETURN0) {
            out->any = 1;
            break;
        }
#define USE(r) do { if (klh_has(&s, (r))) { out->any = 1; } } while (0)
        switch (op) {
        case KLH_OP_MOVE:
            klh_put(&s, a, klh_has(&s, b));
            s.known[a] = s.known[b];
            break;
        case KLH_OP_LOADI: case KLH_OP_LOADF: case KLH_OP_LOADK: case KLH_OP_LOADKX: case KLH_OP_LOADFALSE: case KLH_OP_LOADTRUE:
        case KLH_OP_NEWTABLE:
            klh_def(&s, a);
            break;
        case KLH_OP_LFALSESKIP:
            klh_def(&s, a);
            klh_merge(L, &pending[slot[pc + 2]], &s);
            s.live = 0;
            break;
        case KLH_OP_LOADNIL:
            for (int r = a; r <= a + b; r++) klh_def(&s, r);
            break;
        case KLH_OP_GETUPVAL: {
            klh_def(&s, a);
            if (lua_getupvalue(L, fidx, b + 1) != NULL) s.known[a] = klh_keep(L);
            break;
        }
        case KLH_OP_GETTABUP: {
            klh_def(&s, a);
            if (lua_getupvalue(L, fidx, b + 1) != NULL) {
                int t = klh_keep(L);
                if (c < p.nk) s.known[a] = klh_known_field(L, t, p.kstr[c], p.klen[c]);
            }
            break;
        }
        case KLH_OP_GETFIELD: {
            if (klh_has(&s, b)) {
                if (c >= p.nk || p.kstr[c] == NULL) out->any = 1;
                else klh_add_field(out, p.kstr[c], p.klen[c]);
            }
            int known = c < p.nk ? klh_known_field(L, s.known[b], p.kstr[c], p.klen[c]) : 0;
            klh_def(&s, a);
            s.known[a] = known;
            break;
        }
        case KLH_OP_SELF:
            USE(b);
            if (!KLH_GET_K(i)) USE(c);
            klh_def(&s, a);
            klh_def(&s, a + 1);
            break;
        case KLH_OP_ADDI: case KLH_OP_ADDK: case KLH_OP_SUBK: case KLH_OP_MULK: case KLH_OP_MODK: case KLH_OP_POWK: case KLH_OP_DIVK:
        case KLH_OP_IDIVK: case KLH_OP_BANDK: case KLH_OP_BORK: case KLH_OP_BXORK: case KLH_OP_SHRI: case KLH_OP_SHLI:
        case KLH_OP_UNM: case KLH_OP_BNOT: case KLH_OP_NOT: case KLH_OP_LEN:
        case KLH_OP_GETI: /* the argument indexed with an integer */
            USE(b);
            klh_def(&s, a);
            break;
        case KLH_OP_ADD: case KLH_OP_SUB: case KLH_OP_MUL: case KLH_OP_MOD: case KLH_OP_POW: case KLH_OP_DIV: case KLH_OP_IDIV:
        case KLH_OP_BAND: case KLH_OP_BOR: case KLH_OP_BXOR: case KLH_OP_SHL: case KLH_OP_SHR:
        case KLH_OP_GETTABLE: /* the argument indexed with a computed key, or used as a key */
            USE(b);
            USE(c);
            klh_def(&s, a);
            break;
        case KLH_OP_MMBIN:
            USE(a);
            USE(b);
            break;
        case KLH_OP_MMBINI: case KLH_OP_MMBINK: case KLH_OP_TBC:
            USE(a);
            break;
        case KLH_OP_CONCAT:
            for (int r = a; r < a + b; r++) USE(r);
            klh_def(&s, a);
            break;
        case KLH_OP_CLOSE: case KLH_OP_EXTRAARG:
            break;
        case KLH_OP_JMP:
            klh_merge(L, &pending[slot[pc + 1 + KLH_GET_SJ(i)]], &s);
            s.live = 0;
            break;
        case KLH_OP_EQ: case KLH_OP_LT: case KLH_OP_LE:
            USE(a);
            USE(b);
            klh_merge(L, &pending[slot[pc + 2]], &s);
            break;
        case KLH_OP_EQK: case KLH_OP_EQI: case KLH_OP_LTI: case KLH_OP_LEI: case KLH_OP_GTI: case KLH_OP_GEI:
            USE(a);
            klh_merge(L, &pending[slot[pc + 2]], &s);
            break;
        case KLH_OP_TEST:
            /* a table is true whatever its fields */
            klh_merge(L, &pending[slot[pc + 2]], &s);
            break;
        case KLH_OP_TESTSET:
            /* R[a] := R[b] on one way, unchanged on the other: either */
            klh_merge(L, &pending[slot[pc + 2]], &s);
            if (klh_has(&s, b)) klh_put(&s, a, 1);
            if (s.known[a] != s.known[b]) s.known[a] = 0;
            break;
        case KLH_OP_CALL: case KLH_OP_TAILCALL: {
            int n = b > 0 ? b - 1 : (open > a ? open - a - 1 : -1);
            if (n < 0) {
                out->any = 1;
                break;
            }
            klh_call(L, &s, a, a + 1, n, depth, out);
            for (int r = a; r < KLH_R_REGS; r++) klh_def(&s, r);
            open = c == 0 ? a : -1;
            if (op == KLH_OP_TAILCALL) s.live = 0;
            break;
        }
        case KLH_OP_RETURN: {
            int end = b > 0 ? a + b - 1 : open;
            if (end < a) {
                out->any = 1;
                break;
            }
            for (int r = a; r < end; r++) USE(r);
            s.live = 0;
            break;
        }
        case KLH_OP_RETURN0:
            s.live = 0;
            break;
        case KLH_OP_RETURN1:
            USE(a);
            s.live = 0;
            break;
        default:
            /* writes (not in a call on twins), loops, closures, varargs */
            out->any = 1;
            break;
        }
#undef USE
    }
done:
    free(pending);
    free(slot);
    klh_proto_free(&p);
}

/* The analysis at the top: the fields of argument `arg` of the function at fidx. */
static int klh_fields_of(lua_State *L, int fidx, int arg, klh_fields *f) {
    memset(f, 0, sizeof *f);
    int top = lua_gettop(L);
    if (arg < 0 || arg >= 64 || lua_type(L, fidx) != LUA_TFUNCTION || lua_iscfunction(L, fidx)) f->any = 1;
    else klh_walk(L, lua_absindex(L, fidx), (uint64_t)1 << arg, 0, f);
    lua_settop(L, top);
    return !f->any;
}

/* 1 when the opcode numbers and the dump layout are those the analysis reads: the fields
 * it finds in functions compiled for the purpose are the expected ones. Checked once. */
static int klh_reads_checked(lua_State *L) {
    static _Atomic int verdict = -1; /* states of several threads may ask at once */
    if (verdict >= 0) return verdict;
    static const struct {
        const char *chunk;
        const char *fields; /* space-separated, in the order found; NULL: any */
    } cases[] = {
        {"return function(p, n) if p.a > n.x then return p.b end return 0 end", "a b"},
        {"return function(p) return p[p.k] end", NULL},
        {"local function h(q, r) return q.c + r end return function(p, n) return h(p, n.y) + p.d end", "c d"},
        {"return function(p) return type(p) end", NULL},
        {"return function(p, n) local t = p.x return t.y, n.z, p.w and 1 or 2 end", "x w"},
        {"local M = {} function M.h(q) return q.e end return function(p) local r = p return M.h(r) end", "e"},
        {"return function(p) return p end", NULL},
        {"return function(p, n) return n.a == p.b, p == n end", NULL},
        {"return function(p) for i = 1, 2 do end return p.a end", NULL},
    };
    int ok = lua_checkstack(L, 8);
    int top = lua_gettop(L);
    for (size_t i = 0; ok && i < sizeof cases / sizeof *cases; i++) {
        klh_fields f;
        ok = luaL_loadstring(L, cases[i].chunk) == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK;
        if (ok && klh_fields_of(L, -1, 0, &f)) {
            char got[256] = "";
            size_t used = 0;
            for (int k = 0; k < f.count && used + f.len[k] + 2 < sizeof got; k++) {
                if (k > 0) got[used++] = ' ';
                memcpy(got + used, f.text + f.at[k], f.len[k]);
                used += f.len[k];
                got[used] = '\0';
            }
            ok = cases[i].fields != NULL && strcmp(got, cases[i].fields) == 0;
        } else if (ok) {
            ok = cases[i].fields == NULL;
        }
        lua_settop(L, top);
    }
    verdict = ok;
    return verdict;
}

int klh_arg_fields(lua_State *L, int fidx, int arg, char *buf, size_t cap) {
    klh_ctx *c = klh_ctx_of(L);
    int saved = c->enforce;
    c->enforce = 0; /* host work */
    fidx = lua_absindex(L, fidx);
    klh_fields *f = malloc(sizeof *f);
    int count = -1;
    if (f != NULL && klh_reads_checked(L) && klh_fields_of(L, fidx, arg, f) && f->used <= cap) {
        memcpy(buf, f->text, f->used);
        count = f->count;
    }
    free(f);
    c->enforce = saved;
    return count;
}

int64_t klh_code_epoch(lua_State *L) { return klh_ctx_of(L)->epoch; }
