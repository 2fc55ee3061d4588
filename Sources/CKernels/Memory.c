#include "CKernels.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__GLIBC__)
#include <limits.h>
#include <malloc.h>
#endif

void ck_keep_freed_blocks(size_t max_block_bytes) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, max_block_bytes > INT_MAX ? INT_MAX : (int)max_block_bytes);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#else
  (void)max_block_bytes;
#endif
}

void ck_advise_huge_pages(void *pointer, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  (void)madvise(pointer, bytes, MADV_HUGEPAGE);  // a hint: ignored where THP is off
#else
  (void)pointer;
  (void)bytes;
#endif
}
