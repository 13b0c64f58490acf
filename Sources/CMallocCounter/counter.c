#define _GNU_SOURCE
#include "CMallocCounter.h"
#include <stddef.h>
#include <errno.h>

// glibc exports its allocator under these names; the replacements below delegate to them,
// so every block still comes from (and goes back to) glibc's heap.
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static __thread uint64_t tb_count __attribute__((tls_model("initial-exec")));

uint64_t tb_thread_malloc_count(void) { return tb_count; }
int tb_malloc_counter_active(void) { return 1; }

void *malloc(size_t n) { tb_count++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { tb_count++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { tb_count++; return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { tb_count++; return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { tb_count++; return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    if (al < sizeof(void *) || (al & (al - 1)) != 0) return EINVAL;
    tb_count++;
    void *p = __libc_memalign(al, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
