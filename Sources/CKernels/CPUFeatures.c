#include "CKernels.h"
#include <stdlib.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

// Which vector instructions sdedit's kernels may use, probed once: AVX-512 F/BW/VL with the
// OS saving zmm state (xgetbv), and AVX512_BF16. SDEDIT_DISABLE_AVX512=1 in the environment
// turns both off, so the OpenBLAS and scalar fallbacks can be run (and tested) on any machine.

static int probe(int want_bf16) {
#if defined(__x86_64__)
  const char *off = getenv("SDEDIT_DISABLE_AVX512");
  if (off && *off && *off != '0') return 0;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  // XCR0: SSE (1), AVX (2), opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) state enabled by the OS.
  if ((lo & 0xe6u) != 0xe6u) return 0;
  if (__get_cpuid_max(0, 0) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  if (!(((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1))) return 0;  // F, BW, VL
  if (!want_bf16) return 1;
  __cpuid_count(7, 1, a, b, c, d);
  return (a >> 5) & 1;
#else
  (void)want_bf16;
  return 0;
#endif
}

int ck_cpu_has_avx512(void) {
  static int cached = -1;
  if (cached < 0) cached = probe(0);
  return cached;
}

int ck_cpu_has_avx512_bf16(void) {
  static int cached = -1;
  if (cached < 0) cached = probe(1);
  return cached;
}
