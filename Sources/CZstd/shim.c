// The CZstd target has only inline functions in its header; this file gives SwiftPM a C source to build.
#include "CZstd.h"
