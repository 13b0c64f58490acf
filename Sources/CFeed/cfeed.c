#include "CFeed.h"
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

int tb_gunzip_file(const char *path, unsigned char **out, size_t *length) {
    gzFile f = gzopen(path, "rb");
    if (!f) return -1;
    gzbuffer(f, 1 << 20);
    size_t cap = 1 << 22, len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) { gzclose(f); errno = ENOMEM; return -1; }
    for (;;) {
        if (cap - len < (1 << 20)) {
            unsigned char *n = realloc(buf, cap * 2);
            if (!n) { free(buf); gzclose(f); errno = ENOMEM; return -1; }
            buf = n; cap *= 2;
        }
        int r = gzread(f, buf + len, (unsigned)(cap - len > (1u << 30) ? (1u << 30) : cap - len));
        if (r < 0) { free(buf); gzclose(f); return -2; }
        if (r == 0) break;
        len += (size_t)r;
    }
    gzclose(f);
    *out = buf;
    *length = len;
    return 0;
}

void tb_feed_free(void *p) { free(p); }

uint64_t tb_itch_walk(const unsigned char *p, size_t length, uint64_t *counts) {
    size_t off = 0;
    uint64_t n = 0;
    while (off + 2 <= length) {
        size_t len = ((size_t)p[off] << 8) | p[off + 1];
        if (len > length - off - 2) break;     /* truncated tail: the framing ends here */
        if (len == 0) { off += 2; continue; }  /* zero-length frame: skipped, as the Swift parsers do */
        unsigned char t = p[off + 2];
        switch (t) {
        case 'A': counts['A']++; break;
        case 'F': counts['F']++; break;
        case 'E': counts['E']++; break;
        case 'C': counts['C']++; break;
        case 'X': counts['X']++; break;
        case 'D': counts['D']++; break;
        case 'U': counts['U']++; break;
        case 'P': counts['P']++; break;
        case 'Q': counts['Q']++; break;
        case 'S': counts['S']++; break;
        case 'R': counts['R']++; break;
        case 'H': counts['H']++; break;
        default: counts[t]++; break;
        }
        off += 2 + len;
        n++;
    }
    return n;
}
