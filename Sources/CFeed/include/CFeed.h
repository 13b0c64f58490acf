#ifndef CFEED_H
#define CFEED_H
#include <stddef.h>
#include <stdint.h>

/// Reads a whole gzip (or plain) file through zlib into a malloc'd buffer; the caller frees it
/// with tb_feed_free. Returns 0, or -1 with errno set (or Z error: -2) and *out untouched.
int tb_gunzip_file(const char *path, unsigned char **out, size_t *length);
void tb_feed_free(void *p);

/// The C baseline of `tickbus bench feed`: walks 2-byte big-endian length prefixes and switches on
/// the type byte, counting per type into counts[256]. Skips zero-length frames, stops at a truncated tail. Returns messages seen.
uint64_t tb_itch_walk(const unsigned char *p, size_t length, uint64_t *counts);

#endif
