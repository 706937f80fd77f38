#include "CHostShim.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int fo_tune_malloc(void) {
#if defined(__GLIBC__)
    return mallopt(M_ARENA_MAX, 2) && mallopt(M_MMAP_THRESHOLD, 128 * 1024) && mallopt(M_TRIM_THRESHOLD, 256 * 1024);
#else
    return 0;
#endif
}
