/*
 * alloc.h: every allocation the library makes goes through these, so the allocator set with
 * sqlpool_set_allocator() (for out-of-memory tests, or an application's own heap) sees all
 * of them. SQLite's, libpq's and the C library's allocations are their own.
 */
#ifndef SQLPOOL_ALLOC_H
#define SQLPOOL_ALLOC_H

#include <stddef.h>

void *sqlpool__malloc(size_t size);
void *sqlpool__calloc(size_t count, size_t size); /* zeroed; NULL on overflow */
void *sqlpool__realloc(void *ptr, size_t size);
void sqlpool__free(void *ptr);
char *sqlpool__strdup(const char *s);
/* size bytes aligned to align (a power of two); free with sqlpool__aligned_free. */
void *sqlpool__aligned_alloc(size_t align, size_t size);
void sqlpool__aligned_free(void *ptr);

#endif
