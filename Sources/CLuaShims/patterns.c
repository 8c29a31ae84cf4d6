/* string.find, string.match, string.gmatch and string.gsub with a step-counted matcher.
 *
 * Why. The stock matcher backtracks inside one C call, where the count hook never fires:
 * string.rep("a", 50000):find(".-.-.-.-.-b") is a polynomial of degree six and runs for
 * hours; even one '.-' makes a failed find quadratic in the subject length. No up-front
 * bound on (subject length, pattern) separates these cases from normal use without also
 * refusing ordinary patterns on a few hundred bytes.
 *
 * Design. This file implements Lua 5.4's pattern language itself (the same items, anchors,
 * captures, %b, %f, back references, the same backtracking order and the same error
 * messages, so results are identical; a test compares it with the stock functions on a
 * generated corpus) and counts its work in steps:
 *   - 1 step per attempt of the matcher at a (subject, pattern) position and per subject
 *     byte a repetition or %b runs over;
 *   - 1 step per 8 bytes of a [set] scanned, per 32 bytes compared by memcmp/memchr, per
 *     64 bytes of a replacement string copied.
 * Steps are charged to the call's instruction budget (1 step = 1 instruction) every
 * KP_FLUSH steps and when the function returns, so a runaway pattern ends with the ordinary
 * budget verdict, "<where>: string.find: instruction budget exceeded (N instructions)",
 * at the same step on every machine (about 0.1-0.3 s for the default 50 million). The
 * verdict is sticky like any budget verdict. A find on a label costs a few dozen steps.
 *
 * Also, up front: a subject longer than LuaLimits.patternSubjectBytes (default 64 KiB) is
 * refused for a non-plain pattern ("string.find: subject too long for a pattern (N bytes,
 * limit L)"). Plain searches (find with plain = true, or a pattern without any of
 * ^$*+?.([%-) are never refused, only counted.
 *
 * Limits. Matcher recursion stops at 200 levels ("pattern too complex", as stock). Values
 * gsub gets from a replacement function or table run as Lua code under the count hook. */
#include <ctype.h>
#include <string.h>
#include "klh.h"

#define KP_MAXCAPTURES 32
#define KP_MAXDEPTH 200
#define KP_CAP_UNFINISHED (-1)
#define KP_CAP_POSITION (-2)
#define KP_FLUSH 4096
#define KP_ESC '%'
#define KP_SPECIALS "^$*+?.([%-"

typedef struct kp_state {
    const char *src_init; /* subject */
    const char *src_end;
    const char *p_end;    /* end of the pattern */
    lua_State *L;
    const char *fname;    /* "string.find", ... for budget messages */
    int depth;            /* recursion levels left */
    int level;            /* captures opened so far (finished or not) */
    int64_t steps;        /* not yet charged */
    struct {
        const char *init;
        ptrdiff_t len;    /* or KP_CAP_UNFINISHED / KP_CAP_POSITION */
    } capture[KP_MAXCAPTURES];
} kp_state;

#define uchar(c) ((unsigned char)(c))

static void kp_flush(kp_state *ms) {
    int64_t n = ms->steps;
    ms->steps = 0;
    klh_charge_named(ms->L, n, ms->fname);
}

/* A macro, not a function: debug builds compile this file without optimisation. */
#define kp_step(ms, n)                                   \
    do {                                                 \
        if (((ms)->steps += (n)) >= KP_FLUSH) kp_flush(ms); \
    } while (0)

static void kp_prepare(kp_state *ms, lua_State *L, const char *fname, const char *s, size_t ls,
                       const char *p, size_t lp) {
    ms->L = L;
    ms->fname = fname;
    ms->src_init = s;
    ms->src_end = s + ls;
    ms->p_end = p + lp;
    ms->steps = 0;
    ms->depth = KP_MAXDEPTH;
    ms->level = 0;
}

static void kp_restart(kp_state *ms) {
    ms->level = 0;
    ms->depth = KP_MAXDEPTH;
}

/* ---- single items ---- */

static int kp_class(int c, int cl) {
    int r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = (c == 0); break; /* deprecated, still in 5.4 */
    default: return cl == c;
    }
    if (isupper(cl)) r = !r;
    return r != 0;
}

/* The item at p ends where? (p points at a '%x', a '[set]' or a single character.) */
static const char *kp_item_end(kp_state *ms, const char *p) {
    const char *start = p;
    switch (*p++) {
    case KP_ESC:
        if (p >= ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (p < ms->p_end && *p == '^') p++;
        do { /* the first character is never the closing ']' */
            if (p >= ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
            if (*(p++) == KP_ESC && p < ms->p_end) p++;
        } while (p >= ms->p_end || *p != ']');
        kp_step(ms, (p - start) >> 3);
        return p + 1;
    default:
        return p;
    }
}

/* c in the set [..] from p ('[') to last (its ']')? */
static int kp_in_set(kp_state *ms, int c, const char *p, const char *last) {
    int hit = 1;
    kp_step(ms, (last - p) >> 3);
    if (*(p + 1) == '^') {
        hit = 0;
        p++;
    }
    while (++p < last) {
        if (*p == KP_ESC) {
            p++;
            if (kp_class(c, uchar(*p))) return hit;
        } else if (*(p + 1) == '-' && p + 2 < last) {
            p += 2;
            if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return hit;
        } else if (uchar(*p) == c) {
            return hit;
        }
    }
    return !hit;
}

/* Does the subject byte at s match the item p..ep? */
static int kp_single_slow(kp_state *ms, const char *s, const char *p, const char *ep) {
    int c = uchar(*s);
    switch (*p) {
    case KP_ESC: return kp_class(c, uchar(*(p + 1)));
    case '[': return kp_in_set(ms, c, p, ep - 1);
    default: return uchar(*p) == c;
    }
}

#define kp_single(ms, s, p, ep)                                  \
    ((s) < (ms)->src_end &&                                      \
     (*(p) == '.' || (*(p) != KP_ESC && *(p) != '[' ? *(p) == *(s) \
                                                    : kp_single_slow(ms, s, p, ep))))

/* ---- the matcher ---- */

static const char *kp_match(kp_state *ms, const char *s, const char *p);

static const char *kp_balance(kp_state *ms, const char *s, const char *p) {
    if (p + 1 >= ms->p_end) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != *p) return NULL;
    const char *start = s;
    char open = *p, close = *(p + 1);
    int depth = 1;
    while (++s < ms->src_end) {
        if (*s == close) {
            if (--depth == 0) {
                kp_step(ms, s - start);
                return s + 1;
            }
        } else if (*s == open) {
            depth++;
        }
    }
    kp_step(ms, s - start);
    return NULL;
}

static const char *kp_greedy(kp_state *ms, const char *s, const char *p, const char *ep) {
    ptrdiff_t n = 0;
    while (kp_single(ms, s + n, p, ep)) n++;
    kp_step(ms, n);
    for (; n >= 0; n--) { /* longest first, then one shorter at a time */
        const char *r = kp_match(ms, s + n, ep + 1);
        if (r != NULL) return r;
    }
    return NULL;
}

static const char *kp_lazy(kp_state *ms, const char *s, const char *p, const char *ep) {
    for (;;) { /* shortest first, then one longer at a time */
        const char *r = kp_match(ms, s, ep + 1);
        if (r != NULL) return r;
        if (!kp_single(ms, s, p, ep)) return NULL;
        s++;
        kp_step(ms, 1);
    }
}

static const char *kp_open_capture(kp_state *ms, const char *s, const char *p, ptrdiff_t what) {
    int level = ms->level;
    if (level >= KP_MAXCAPTURES) luaL_error(ms->L, "too many captures");
    ms->capture[level].init = s;
    ms->capture[level].len = what;
    ms->level = level + 1;
    const char *r = kp_match(ms, s, p);
    if (r == NULL) ms->level--;
    return r;
}

static const char *kp_close_capture(kp_state *ms, const char *s, const char *p) {
    int l = ms->level - 1;
    while (l >= 0 && ms->capture[l].len != KP_CAP_UNFINISHED) l--;
    if (l < 0) luaL_error(ms->L, "invalid pattern capture");
    ms->capture[l].len = s - ms->capture[l].init;
    const char *r = kp_match(ms, s, p);
    if (r == NULL) ms->capture[l].len = KP_CAP_UNFINISHED;
    return r;
}

/* Index of the finished capture named by the digit character d ('1'..'9'). */
static int kp_capture_index(kp_state *ms, int d) {
    int l = d - '1';
    if (l < 0 || l >= ms->level || ms->capture[l].len == KP_CAP_UNFINISHED)
        return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
    return l;
}

static const char *kp_backref(kp_state *ms, const char *s, int d) {
    int l = kp_capture_index(ms, d);
    ptrdiff_t len = ms->capture[l].len;
    if (len < 0) return NULL; /* a position capture never matches */
    kp_step(ms, len >> 5);
    if (ms->src_end - s >= len && memcmp(ms->capture[l].init, s, (size_t)len) == 0) return s + len;
    return NULL;
}

static const char *kp_match(kp_state *ms, const char *s, const char *p) {
    if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
next:
    kp_step(ms, 1);
    if (p != ms->p_end) {
        switch (*p) {
        case '(':
            if (p + 1 < ms->p_end && *(p + 1) == ')')
                s = kp_open_capture(ms, s, p + 2, KP_CAP_POSITION);
            else
                s = kp_open_capture(ms, s, p + 1, KP_CAP_UNFINISHED);
            break;
        case ')':
            s = kp_close_capture(ms, s, p + 1);
            break;
        case '$':
            if (p + 1 != ms->p_end) goto item;
            s = (s == ms->src_end) ? s : NULL;
            break;
        case KP_ESC:
            if (p + 1 >= ms->p_end) goto item; /* kp_item_end reports it */
            switch (*(p + 1)) {
            case 'b':
                s = kp_balance(ms, s, p + 2);
                if (s != NULL) {
                    p += 4;
                    goto next;
                }
                break;
            case 'f': {
                p += 2;
                if (p >= ms->p_end || *p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
                const char *ep = kp_item_end(ms, p);
                int before = (s == ms->src_init) ? 0 : uchar(*(s - 1));
                int here = (s < ms->src_end) ? uchar(*s) : 0;
                if (!kp_in_set(ms, before, p, ep - 1) && kp_in_set(ms, here, p, ep - 1)) {
                    p = ep;
                    goto next;
                }
                s = NULL;
                break;
            }
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
                s = kp_backref(ms, s, uchar(*(p + 1)));
                if (s != NULL) {
                    p += 2;
                    goto next;
                }
                break;
            default:
                goto item;
            }
            break;
        default:
        item: {
            /* a plain character or '.' ends right after itself (the common case, kept
             * free of calls because debug builds do not inline) */
            const char *ep = (*p != KP_ESC && *p != '[') ? p + 1 : kp_item_end(ms, p);
            int suffix = ep < ms->p_end ? *ep : 0;
            if (!kp_single(ms, s, p, ep)) {
                if (suffix == '*' || suffix == '?' || suffix == '-') { /* may match empty */
                    p = ep + 1;
                    goto next;
                }
                s = NULL;
                break;
            }
            switch (suffix) {
            case '?': {
                const char *r = kp_match(ms, s + 1, ep + 1);
                if (r != NULL) {
                    s = r;
                } else {
                    p = ep + 1;
                    goto next;
                }
                break;
            }
            case '+':
                s = kp_greedy(ms, s + 1, p, ep);
                break;
            case '*':
                s = kp_greedy(ms, s, p, ep);
                break;
            case '-':
                s = kp_lazy(ms, s, p, ep);
                break;
            default:
                s++;
                p = ep;
                goto next;
            }
            break;
        }
        }
    }
    ms->depth++;
    return s;
}

/* ---- captures to values ---- */

/* Capture i as a string (returns its length and sets *cap), or pushes a position capture
 * and returns KP_CAP_POSITION. Without captures, "capture 1" is the whole match s..e. */
static ptrdiff_t kp_get_capture(kp_state *ms, int i, const char *s, const char *e, const char **cap) {
    if (i >= ms->level) {
        if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        *cap = s;
        return e - s;
    }
    ptrdiff_t len = ms->capture[i].len;
    *cap = ms->capture[i].init;
    if (len == KP_CAP_UNFINISHED) luaL_error(ms->L, "unfinished capture");
    if (len == KP_CAP_POSITION) lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
    return len;
}

static void kp_push_capture(kp_state *ms, int i, const char *s, const char *e) {
    const char *cap;
    ptrdiff_t len = kp_get_capture(ms, i, s, e, &cap);
    if (len != KP_CAP_POSITION) lua_pushlstring(ms->L, cap, (size_t)len);
}

/* Pushes all captures (or the whole match when there are none and s is not NULL). */
static int kp_push_captures(kp_state *ms, const char *s, const char *e) {
    int n = (ms->level == 0 && s != NULL) ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++) kp_push_capture(ms, i, s, e);
    return n;
}

/* ---- entry points ---- */

static size_t kp_start(lua_Integer pos, size_t len) { /* 1-based init -> byte offset + 1 */
    if (pos > 0) return (size_t)pos;
    if (pos == 0) return 1;
    if (pos < -(lua_Integer)len) return 1;
    return len + (size_t)pos + 1;
}

static int kp_plain_pattern(const char *p, size_t lp) {
    for (size_t i = 0; i < lp; i++)
        if (p[i] != '\0' && strchr(KP_SPECIALS, p[i]) != NULL) return 0;
    return 1;
}

static void kp_check_subject(lua_State *L, const char *fname, size_t ls) {
    size_t cap = klh_ctx_of(L)->pattern_subject_limit;
    if (cap > 0 && ls > cap)
        luaL_error(L, "%s: subject too long for a pattern (%I bytes, limit %I)", fname,
                   (lua_Integer)ls, (lua_Integer)cap);
}

/* memmem with counted steps (memchr for the first byte, memcmp for the rest). */
static const char *kp_find_plain(kp_state *ms, const char *s, size_t ls, const char *p, size_t lp) {
    if (lp == 0) return s;
    if (lp > ls) return NULL;
    const char *end = s + (ls - lp) + 1; /* last possible start + 1 */
    while (s < end) {
        const char *hit = memchr(s, *p, (size_t)(end - s));
        kp_step(ms, 1 + ((hit ? hit : end) - s) / 32 + (int64_t)(lp >> 5));
        if (hit == NULL) return NULL;
        if (memcmp(hit + 1, p + 1, lp - 1) == 0) return hit;
        s = hit + 1;
    }
    return NULL;
}

static int kp_find_aux(lua_State *L, int find) {
    const char *fname = find ? "string.find" : "string.match";
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = kp_start(luaL_optinteger(L, 3, 1), ls) - 1;
    kp_state ms;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    kp_prepare(&ms, L, fname, s, ls, p, lp);
    int plain = kp_plain_pattern(p, lp);
    kp_step(&ms, 1 + (int64_t)(lp >> 5));
    if (find && (lua_toboolean(L, 4) || plain)) {
        const char *hit = kp_find_plain(&ms, s + init, ls - init, p, lp);
        kp_flush(&ms);
        if (hit != NULL) {
            lua_pushinteger(L, (hit - s) + 1);
            lua_pushinteger(L, (lua_Integer)((hit - s) + lp));
            return 2;
        }
    } else {
        if (!plain) kp_check_subject(L, fname, ls);
        const char *s1 = s + init;
        int anchor = (lp > 0 && *p == '^');
        if (anchor) {
            p++;
            lp--;
            ms.p_end = p + lp;
        }
        do {
            kp_restart(&ms);
            const char *e = kp_match(&ms, s1, p);
            if (e != NULL) {
                kp_flush(&ms);
                if (find) {
                    lua_pushinteger(L, (s1 - s) + 1);
                    lua_pushinteger(L, e - s);
                    return kp_push_captures(&ms, NULL, NULL) + 2;
                }
                return kp_push_captures(&ms, s1, e);
            }
        } while (s1++ < ms.src_end && !anchor);
        kp_flush(&ms);
    }
    luaL_pushfail(L);
    return 1;
}

static int kp_find(lua_State *L) { return kp_find_aux(L, 1); }
static int kp_str_match(lua_State *L) { return kp_find_aux(L, 0); }

/* gmatch iterator state (offsets, not pointers: the strings are upvalues 1 and 2). */
typedef struct kp_gmatch {
    size_t pos;          /* next start */
    ptrdiff_t lastmatch; /* end of the last match, or -1 */
} kp_gmatch;

static int kp_gmatch_next(lua_State *L) {
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    kp_gmatch *gm = (kp_gmatch *)lua_touserdata(L, lua_upvalueindex(3));
    kp_state ms;
    kp_prepare(&ms, L, "string.gmatch", s, ls, p, lp);
    for (const char *src = s + gm->pos; src <= ms.src_end; src++) {
        kp_restart(&ms);
        const char *e = kp_match(&ms, src, p);
        if (e != NULL && (gm->lastmatch < 0 || e != s + gm->lastmatch)) {
            gm->pos = (size_t)(e - s);
            gm->lastmatch = e - s;
            kp_flush(&ms);
            return kp_push_captures(&ms, src, e);
        }
    }
    kp_flush(&ms);
    return 0;
}

static int kp_gmatch_new(lua_State *L) {
    size_t ls, lp;
    luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = kp_start(luaL_optinteger(L, 3, 1), ls) - 1;
    if (!kp_plain_pattern(p, lp)) kp_check_subject(L, "string.gmatch", ls);
    lua_settop(L, 2);
    kp_gmatch *gm = (kp_gmatch *)lua_newuserdatauv(L, sizeof(kp_gmatch), 0);
    gm->pos = init > ls ? ls + 1 : init;
    gm->lastmatch = -1;
    lua_pushcclosure(L, kp_gmatch_next, 3);
    return 1;
}

/* Appends the replacement string (argument 3) for the match s..e. */
static void kp_add_string(kp_state *ms, luaL_Buffer *b, const char *s, const char *e) {
    lua_State *L = ms->L;
    size_t l;
    const char *r = lua_tolstring(L, 3, &l);
    const char *pct;
    kp_step(ms, 1 + (int64_t)(l >> 6));
    while ((pct = memchr(r, KP_ESC, l)) != NULL) {
        luaL_addlstring(b, r, (size_t)(pct - r));
        pct++;
        if (*pct == KP_ESC) {
            luaL_addchar(b, *pct);
        } else if (*pct == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
            kp_step(ms, (e - s) >> 6);
        } else if (isdigit(uchar(*pct))) {
            const char *cap;
            ptrdiff_t len = kp_get_capture(ms, *pct - '1', s, e, &cap);
            if (len == KP_CAP_POSITION) {
                luaL_addvalue(b);
            } else {
                luaL_addlstring(b, cap, (size_t)len);
                kp_step(ms, len >> 6);
            }
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", KP_ESC);
        }
        l -= (size_t)(pct + 1 - r);
        r = pct + 1;
    }
    luaL_addlstring(b, r, l);
}

/* Appends the replacement for s..e; returns whether the text changed. */
static int kp_add_value(kp_state *ms, luaL_Buffer *b, const char *s, const char *e, int tr) {
    lua_State *L = ms->L;
    if (tr == LUA_TFUNCTION) {
        kp_flush(ms); /* the budget is up to date before Lua code runs */
        lua_pushvalue(L, 3);
        int n = kp_push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        kp_push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        kp_add_string(ms, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int kp_gsub(lua_State *L) {
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *lastmatch = NULL;
    int tr = lua_type(L, 3);
    lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    int anchor = (lp > 0 && *p == '^');
    lua_Integer n = 0;
    int changed = 0;
    kp_state ms;
    luaL_Buffer b;
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE,
                     3, "string/function/table");
    if (!kp_plain_pattern(p, lp)) kp_check_subject(L, "string.gsub", ls);
    luaL_buffinit(L, &b);
    if (anchor) {
        p++;
        lp--;
    }
    kp_prepare(&ms, L, "string.gsub", src, ls, p, lp);
    while (n < max_s) {
        kp_restart(&ms);
        const char *e = kp_match(&ms, src, p);
        if (e != NULL && e != lastmatch) {
            n++;
            changed = kp_add_value(&ms, &b, src, e, tr) | changed;
            src = lastmatch = e;
        } else if (src < ms.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
    }
    kp_step(&ms, (ms.src_end - src) >> 6);
    kp_flush(&ms);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void klh_open_patterns(lua_State *L, int tidx) {
    tidx = lua_absindex(L, tidx);
    lua_pushcfunction(L, kp_find);
    lua_setfield(L, tidx, "find");
    lua_pushcfunction(L, kp_str_match);
    lua_setfield(L, tidx, "match");
    lua_pushcfunction(L, kp_gmatch_new);
    lua_setfield(L, tidx, "gmatch");
    lua_pushcfunction(L, kp_gsub);
    lua_setfield(L, tidx, "gsub");
}
