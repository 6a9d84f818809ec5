/* alloc.c: the library's allocator, the C library's unless sqlpool_set_allocator() says. */
#include "alloc.h"

#include "sqlpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t size) {
    return malloc(size);
}
static void *libc_realloc(void *ptr, size_t size) {
    return realloc(ptr, size);
}
static void libc_free(void *ptr) {
    free(ptr);
}

/* Set before any pool exists (see the header): read without synchronisation after that. */
static sqlpool_allocator current = {libc_malloc, libc_realloc, libc_free};

void sqlpool_set_allocator(const sqlpool_allocator *a) {
    if (a == NULL || a->malloc == NULL || a->realloc == NULL || a->free == NULL) {
        current.malloc = libc_malloc;
        current.realloc = libc_realloc;
        current.free = libc_free;
    } else {
        current = *a;
    }
}

void *sqlpool__malloc(size_t size) {
    return current.malloc(size > 0 ? size : 1);
}

void *sqlpool__calloc(size_t count, size_t size) {
    void *p;
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    p = sqlpool__malloc(count * size);
    if (p != NULL) memset(p, 0, count * size);
    return p;
}

void *sqlpool__realloc(void *ptr, size_t size) {
    return current.realloc(ptr, size > 0 ? size : 1);
}

void sqlpool__free(void *ptr) {
    if (ptr != NULL) current.free(ptr);
}

char *sqlpool__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = sqlpool__malloc(n);
    if (p != NULL) memcpy(p, s, n);
    return p;
}

/* The block starts where the allocator put it; the pointer to that start sits just before
 * the aligned address. */
void *sqlpool__aligned_alloc(size_t align, size_t size) {
    unsigned char *raw, *aligned;
    if (size > SIZE_MAX - align - sizeof(void *)) return NULL;
    raw = sqlpool__malloc(size + align + sizeof(void *));
    if (raw == NULL) return NULL;
    aligned = (unsigned char *)(((uintptr_t)(raw + sizeof(void *)) + align - 1) &
                                ~(uintptr_t)(align - 1));
    memcpy(aligned - sizeof(void *), &raw, sizeof raw);
    return aligned;
}

void sqlpool__aligned_free(void *ptr) {
    void *raw;
    if (ptr == NULL) return;
    memcpy(&raw, (unsigned char *)ptr - sizeof(void *), sizeof raw);
    sqlpool__free(raw);
}
