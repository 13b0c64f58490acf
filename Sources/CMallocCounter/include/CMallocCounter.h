// Counts allocations made by the calling thread. The executable links counter.c, which
// replaces glibc's malloc family with thin wrappers over glibc's own __libc_* entry points.
#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H
#include <stdint.h>
/// Allocations (malloc, calloc, realloc, memalign family) made by this thread so far.
uint64_t tb_thread_malloc_count(void);
/// 1 when the interposer is linked in (so a zero count means zero, not "not counted").
int tb_malloc_counter_active(void);
#endif
