/* Protected entry points (load, pcall, resume), the C message handler and error reports.
 *
 * The message handler runs no metamethods and allocates nothing inside Lua: it walks the
 * stack with lua_getstack/lua_getinfo and writes the traceback and the location of the
 * first '@' frame into C buffers of the state context. */
#include <stdio.h>
#include <string.h>
#include "klh.h"

const char *klh_frame_chunk(const lua_Debug *ar) {
    if (ar->source != NULL && (ar->source[0] == '@' || ar->source[0] == '=')) return ar->source + 1;
    return ar->short_src;
}

int klh_append_escaped(char *buf, size_t *used, size_t cap, const char *src, size_t len) {
    size_t u = *used;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)src[i];
        char tmp[8];
        size_t n;
        if (ch == '\n') { tmp[0] = '\\'; tmp[1] = 'n'; n = 2; }
        else if (ch == '\r') { tmp[0] = '\\'; tmp[1] = 'r'; n = 2; }
        else if (ch == '\t') { tmp[0] = '\\'; tmp[1] = 't'; n = 2; }
        else if (ch < 32 || ch == 127) { snprintf(tmp, sizeof tmp, "\\x%02X", ch); n = 4; }
        else { tmp[0] = (char)ch; n = 1; }
        if (u + n + 1 > cap) {
            /* do not leave a cut UTF-8 sequence behind */
            while (u > 0 && ((unsigned char)buf[u - 1] & 0xC0) == 0x80) u--;
            if (u > 0 && ((unsigned char)buf[u - 1] & 0xC0) == 0xC0) u--;
            buf[u] = '\0';
            *used = u;
            return 0;
        }
        memcpy(buf + u, tmp, n);
        u += n;
    }
    buf[u] = '\0';
    *used = u;
    return 1;
}

static void klh_append_raw(char *buf, size_t *used, size_t cap, const char *s) {
    (void)klh_append_escaped(buf, used, cap, s, strlen(s));
}

static void klh_tb_newline(klh_ctx *c, size_t *used) {
    if (*used + 3 < sizeof c->err_tb) {
        c->err_tb[(*used)++] = '\n';
        c->err_tb[(*used)++] = '\t';
        c->err_tb[*used] = '\0';
    }
}

/* Fills err_tb, err_chunk, err_line from L1's stack, starting at `level`. */
void klh_capture_stack(klh_ctx *c, lua_State *L1, int level) {
    size_t used = 0;
    int shown = 0, more = 0;
    lua_Debug ar;
    c->err_line = -1;
    c->err_chunk[0] = '\0';
    c->err_tb[0] = '\0';
    int floor = 0; /* reached klh_pcall_each's loop: the frames below are the host's */
    for (int lv = level; lv < level + KLH_LOCATE_LEVELS && lua_getstack(L1, lv, &ar); lv++) {
        if (c->each_floor != NULL && ar.i_ci == c->each_floor) {
            floor = 1;
            break;
        }
        if (!lua_getinfo(L1, "Slnt", &ar)) break;
        const char *chunk = klh_frame_chunk(&ar);
        if (c->err_line < 0 && ar.source != NULL && ar.source[0] == '@' && ar.currentline > 0) {
            snprintf(c->err_chunk, sizeof c->err_chunk, "%s", ar.source + 1);
            c->err_line = ar.currentline;
        }
        if (shown >= KLH_TB_LEVELS) {
            more++;
            continue;
        }
        char line[400];
        char name[200];
        if (ar.namewhat != NULL && *ar.namewhat != '\0' && ar.name != NULL)
            snprintf(name, sizeof name, "function '%.120s'", ar.name);
        else if (ar.what != NULL && *ar.what == 'm')
            snprintf(name, sizeof name, "main chunk");
        else if (ar.what != NULL && *ar.what == 'C')
            snprintf(name, sizeof name, "?");
        else
            snprintf(name, sizeof name, "function <%.120s:%d>", chunk, ar.linedefined);
        if (ar.currentline > 0)
            snprintf(line, sizeof line, "%.180s:%d: in %s", chunk, ar.currentline, name);
        else
            snprintf(line, sizeof line, "%.180s: in %s", chunk, name);
        if (shown == 0) klh_append_raw(c->err_tb, &used, sizeof c->err_tb, "stack traceback:");
        klh_tb_newline(c, &used);
        klh_append_raw(c->err_tb, &used, sizeof c->err_tb, line);
        if (ar.istailcall) {
            klh_tb_newline(c, &used);
            klh_append_raw(c->err_tb, &used, sizeof c->err_tb, "(...tail calls...)");
        }
        shown++;
    }
    if (more > 0 || (!floor && lua_getstack(L1, level + KLH_LOCATE_LEVELS, &ar) &&
                     (c->each_floor == NULL || ar.i_ci != c->each_floor))) {
        klh_tb_newline(c, &used);
        klh_append_raw(c->err_tb, &used, sizeof c->err_tb, "...");
    }
}

int klh_record_position(klh_ctx *c, lua_State *L, int level, int levels) {
    lua_Debug ar;
    for (int lv = level; lv < level + levels && lua_getstack(L, lv, &ar); lv++) {
        /* "Sl" reads the prototype only: no allocation, no stack change */
        if (!lua_getinfo(L, "Sl", &ar)) return 0;
        if (ar.source != NULL && ar.source[0] == '@' && ar.currentline > 0) {
            size_t n = strlen(ar.source + 1);
            if (n >= sizeof c->pos_chunk) n = sizeof c->pos_chunk - 1;
            memcpy(c->pos_chunk, ar.source + 1, n);
            c->pos_chunk[n] = '\0';
            c->pos_line = ar.currentline;
            return 1;
        }
    }
    return 0;
}

const char *klh_memory_position(lua_State *L, int *line) {
    klh_ctx *c = klh_ctx_of(L);
    if (c->pos_line <= 0 || c->pos_chunk[0] == '\0') {
        *line = -1;
        return NULL;
    }
    *line = c->pos_line;
    return c->pos_chunk;
}

static int klh_msgh(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    /* a call on twins that fails runs again on the views, which report the error */
    if (c->twin_running) return 1;
    klh_capture_stack(c, L, 1);
    lua_settop(L, 1);
    return 1;
}

void klh_clear_error(klh_ctx *c) {
    c->err_msg[0] = '\0';
    c->err_tb[0] = '\0';
    c->err_chunk[0] = '\0';
    c->err_line = -1;
}

int klh_load(lua_State *L, const char *source, size_t len, const char *chunkname) {
    klh_ctx *c = klh_ctx_of(L);
    klh_clear_error(c);
    int saved = c->enforce;
    c->enforce = 1;
    int status = luaL_loadbufferx(L, source, len, chunkname, "t");
    c->enforce = saved;
    return status;
}

int klh_pcall_with(lua_State *L, int nargs, int nresults, int msgh) {
    klh_ctx *c = klh_ctx_of(L);
    klh_clear_error(c);
    int saved = c->enforce;
    lua_State *prev = c->running;
    c->running = L;
    c->enforce = 1;
    c->epoch++;
    int status = lua_pcall(L, nargs, nresults, msgh);
    c->enforce = saved;
    c->running = prev;
    klh_budget_flush(L);
    /* LUA_ERRMEM skips the message handler: whatever err_* holds is stale (a nested call) */
    if (status == LUA_ERRMEM) klh_clear_error(c);
    return status;
}

void klh_push_msgh(lua_State *L) { lua_pushcfunction(L, klh_msgh); }

int klh_pcall(lua_State *L, int nargs) {
    int fidx = lua_gettop(L) - nargs;
    lua_pushcfunction(L, klh_msgh);
    lua_insert(L, fidx);
    int status = klh_pcall_with(L, nargs, LUA_MULTRET, fidx);
    lua_remove(L, fidx);
    return status;
}

int klh_resume(lua_State *co, lua_State *from, int nargs, int *nres) {
    klh_ctx *c = klh_ctx_of(co);
    klh_clear_error(c);
    int saved = c->enforce;
    c->enforce = 1;
    klh_budget_flush(co); /* re-arms co's countdown with what is left of the budget */
    lua_State *prev = c->running;
    c->running = co;
    c->epoch++;
    int status = lua_resume(co, from, nargs, nres);
    c->running = prev;
    c->enforce = saved;
    klh_budget_flush(co);
    if (status != LUA_OK && status != LUA_YIELD) klh_capture_stack(c, co, 0);
    return status;
}

const char *klh_error_message(lua_State *L, int idx, int status) {
    klh_ctx *c = klh_ctx_of(L);
    size_t used = 0;
    char tmp[128];
    c->err_msg[0] = '\0';
    if (status == LUA_ERRMEM && c->cap_refused) {
        klh_format_memory_limit(c->err_msg, sizeof c->err_msg, c->mem_limit);
        return c->err_msg;
    }
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len = 0;
        const char *s = lua_tolstring(L, idx, &len); /* a real string: no conversion */
        if (!klh_append_escaped(c->err_msg, &used, KLH_MSG_MAX + 1, s, len))
            klh_append_raw(c->err_msg, &used, sizeof c->err_msg, " ...(truncated)");
        break;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointegerx(L, idx, NULL));
        } else {
            lua_Number n = lua_tonumberx(L, idx, NULL);
            snprintf(tmp, sizeof tmp, "%.14g", (double)n);
            if (strspn(tmp, "-0123456789") == strlen(tmp)) strcat(tmp, ".0");
        }
        klh_append_raw(c->err_msg, &used, sizeof c->err_msg, tmp);
        break;
    default:
        snprintf(tmp, sizeof tmp, "(error object is a %s value)", lua_typename(L, lua_type(L, idx)));
        klh_append_raw(c->err_msg, &used, sizeof c->err_msg, tmp);
        break;
    }
    return c->err_msg;
}

const char *klh_error_traceback(lua_State *L) { return klh_ctx_of(L)->err_tb; }

const char *klh_error_chunk(lua_State *L) {
    klh_ctx *c = klh_ctx_of(L);
    return c->err_chunk[0] ? c->err_chunk : NULL;
}

int klh_error_line(lua_State *L) { return klh_ctx_of(L)->err_line; }
