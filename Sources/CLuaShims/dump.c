/* A Lua function's bytecode as lua_dump writes it (stripped), in a buffer of the caller's
 * own, and the dump's variable-length sizes: read by straight.c (loops and writes) and
 * reads.c (the fields a function reads). */
#include <stdlib.h>
#include <string.h>
#include "klh.h"

static int klh_dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
    (void)L;
    klh_dump *d = (klh_dump *)ud;
    if (d->failed) return 0;
    if (d->used + sz > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->used + sz) cap *= 2;
        unsigned char *nb = cap <= d->limit ? realloc(d->buf, cap) : NULL;
        if (nb == NULL) {
            d->failed = 1;
            return 0;
        }
        d->buf = nb;
        d->cap = cap;
    }
    memcpy(d->buf + d->used, p, sz);
    d->used += sz;
    return 0;
}

int klh_dump_function(lua_State *L, int idx, size_t limit, klh_dump *d) {
    memset(d, 0, sizeof *d);
    d->limit = limit;
    if (lua_type(L, idx) != LUA_TFUNCTION || lua_iscfunction(L, idx)) return 0;
    lua_pushvalue(L, idx);
    int r = lua_dump(L, klh_dump_writer, d, 1);
    lua_pop(L, 1);
    return r == 0 && !d->failed;
}

int klh_dump_size(const unsigned char *b, size_t n, size_t *pos, size_t *out) {
    size_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos >= n) return 0;
        unsigned char c = b[(*pos)++];
        x = (x << 7) | (c & 0x7F);
        if (c & 0x80) {
            *out = x;
            return 1;
        }
    }
    return 0;
}

int klh_dump_read_main(const unsigned char *b, size_t n, size_t max_code, klh_dump_main *m, size_t *after) {
    /* header: signature 4, version, format, LUAC_DATA 6, three sizes, LUAC_INT, LUAC_NUM,
     * then the main closure's upvalue count */
    size_t pos = KLH_DUMP_HEADER, len, x, count;
    if (n < pos || memcmp(b, "\x1bLua\x54", 5) != 0 || b[12] != 4) return 0;
    if (!klh_dump_size(b, n, &pos, &len)) return 0; /* source (0 when stripped) */
    if (len > 0) {
        if (len - 1 > n - pos) return 0;
        pos += len - 1;
    }
    if (!klh_dump_size(b, n, &pos, &x) || !klh_dump_size(b, n, &pos, &x) || n - pos < 3) return 0; /* lines */
    m->numparams = b[pos];
    m->is_vararg = b[pos + 1];
    m->maxstack = b[pos + 2];
    pos += 3;
    if (!klh_dump_size(b, n, &pos, &count) || count == 0 || count > max_code || count > (n - pos) / 4) return 0;
    m->code = b + pos;
    m->ncode = (int)count;
    *after = pos + count * 4;
    return 1;
}
