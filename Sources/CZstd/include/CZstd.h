#ifndef CZSTD_H
#define CZSTD_H
// libzstd (Debian's libzstd-dev) for the Parquet target's ZSTD pages. Only the simple one-shot API
// with reusable contexts: a Parquet page is one zstd frame.
#include <zstd.h>

/// The one error test Swift needs without ZSTD_isError's macro-free inline: nonzero when `code` is an error.
static inline int tb_zstd_is_error(size_t code) { return ZSTD_isError(code); }

/// ZSTD_getFrameContentSize's sentinels as plain values (the macros are not imported into Swift).
static inline unsigned long long tb_zstd_content_size_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }
static inline unsigned long long tb_zstd_content_size_error(void) { return ZSTD_CONTENTSIZE_ERROR; }

#endif
