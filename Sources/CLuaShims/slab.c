/* A heap of its own for each Lua state's small objects.
 *
 * A plugin's views (thousands of small tables: one proxy, metatable and content per node
 * and per nested field) are read over and over, node after node. Allocated with malloc
 * they sit between the host's own objects (built and freed while the views are converted
 * from Swift), and reading them misses the caches: a plain Lua scan runs 2.7x slower when
 * other allocations are interleaved with its views (docs/benchmarks.md). Here blocks of up
 * to KLH_SLAB_MAX bytes come from 64 KiB chunks that hold only this state's blocks, cut in
 * the order they are asked for (a table next to its fields, one view after the other) and
 * reused through a free list per size class. Larger blocks use malloc.
 *
 * Lua always passes a block's size when it frees or resizes it, so the class of a block
 * is known from its size and blocks carry no header.
 *
 * A region (klh_slab_region_begin/end) cuts every block from the chunk's unused rest, none
 * from the free lists, so the objects made meanwhile (a view: its tables, their fields and
 * nested views) lie side by side in one span of memory that a caller can have brought into
 * the cache ahead of use (each.c). */
#include <stdlib.h>
#include <string.h>
#include "klh.h"

#define KLH_SLAB_CHUNK (64 * 1024)

/* Size classes in bytes, and the class of each size rounded up to 16 bytes. */
static const size_t klh_class_size[KLH_SLAB_CLASSES] = {16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512};
static const unsigned char klh_class_of16[KLH_SLAB_MAX / 16 + 1] = {0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12};

static int klh_class(size_t size) { return klh_class_of16[(size + 15) / 16]; }


/* Starts a new chunk; what is left of the last one goes to the free lists. */
static int klh_slab_new_chunk(klh_slab *s) {
    while (s->bump != NULL && s->end - s->bump >= 16) {
        int f = KLH_SLAB_CLASSES - 1;
        while (klh_class_size[f] > (size_t)(s->end - s->bump)) f--;
        *(void **)s->bump = s->free_list[f];
        s->free_list[f] = s->bump;
        s->bump += klh_class_size[f];
    }
    char *chunk = (char *)malloc(KLH_SLAB_CHUNK);
    if (chunk == NULL) return 0;
    *(void **)chunk = s->chunks; /* the first bytes link the state's chunks */
    s->chunks = chunk;
    s->bump = chunk + 16;
    s->end = chunk + KLH_SLAB_CHUNK;
    return 1;
}

static void *klh_slab_take(klh_slab *s, int k) {
    void *p = s->region ? NULL : s->free_list[k];
    if (p != NULL) {
        s->free_list[k] = *(void **)p;
        return p;
    }
    size_t size = klh_class_size[k];
    if ((s->bump == NULL || s->bump + size > s->end) && !klh_slab_new_chunk(s)) return NULL;
    p = s->bump;
    s->bump += size;
    return p;
}

void klh_slab_region_begin(klh_slab *s, size_t expected) {
    if (s->bump == NULL || (size_t)(s->end - s->bump) < expected) (void)klh_slab_new_chunk(s);
    s->region = 1;
    s->region_start = s->bump;
    s->region_chunk = s->chunks;
}

const void *klh_slab_region_end(klh_slab *s, size_t *len) {
    s->region = 0;
    *len = 0;
    if (s->region_start == NULL || s->chunks != s->region_chunk || s->bump < s->region_start) return NULL;
    *len = (size_t)(s->bump - s->region_start);
    return *len > 0 ? s->region_start : NULL;
}

static void klh_slab_give(klh_slab *s, void *p, int k) {
    *(void **)p = s->free_list[k];
    s->free_list[k] = p;
}

void *klh_slab_realloc(klh_slab *s, void *ptr, size_t osize, size_t nsize) {
    if (ptr == NULL) {
        if (nsize > KLH_SLAB_MAX) return malloc(nsize);
        return klh_slab_take(s, klh_class(nsize));
    }
    int small_old = osize <= KLH_SLAB_MAX, small_new = nsize <= KLH_SLAB_MAX;
    if (nsize == 0) {
        if (small_old) klh_slab_give(s, ptr, klh_class(osize)); else free(ptr);
        return NULL;
    }
    if (!small_old && !small_new) return realloc(ptr, nsize);
    if (small_old && small_new && klh_class(osize) == klh_class(nsize)) return ptr;
    void *p = small_new ? klh_slab_take(s, klh_class(nsize)) : malloc(nsize);
    /* No new block: the caller keeps the old one when shrinking (which must not fail), and
     * a later free with the smaller size files it under a smaller class, where it still
     * fits. A malloc'd block filed that way is not returned to malloc: this happens only
     * when memory has run out. */
    if (p == NULL) return NULL;
    memcpy(p, ptr, osize < nsize ? osize : nsize);
    if (small_old) klh_slab_give(s, ptr, klh_class(osize)); else free(ptr);
    return p;
}

void klh_slab_release(klh_slab *s) {
    char *chunk = (char *)s->chunks;
    while (chunk != NULL) {
        char *next = *(char **)chunk;
        free(chunk);
        chunk = next;
    }
    memset(s, 0, sizeof *s);
}
