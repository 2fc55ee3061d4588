// Private to CKernels: the epilogue every AVX-512 micro-kernel shares — its accumulators
// written to (or added to) the C tile, masked at the matrix's right and bottom edges.
#ifndef CK_TILE_STORE_H
#define CK_TILE_STORE_H
#include "VectorMath.h"

/// C[rows × cols] (+)= acc[MR][NV] (16 fp32 lanes each; row i, columns 16v ..< 16v + 16), for a
/// tile at `c` with leading dimension `ldc`. A full tile takes unmasked loads and stores.
#define CK_TILE_STORE(MR, NV, acc, c, ldc, accumulate, rows, cols)                                  \
  do {                                                                                               \
    if ((rows) == (MR) && (cols) == 16 * (NV)) {                                                     \
      for (int i = 0; i < (MR); i++)                                                                 \
        for (int v = 0; v < (NV); v++) {                                                             \
          float *cp = (c) + (size_t)i * (ldc) + 16 * v;                                              \
          __m512 x = (accumulate) ? _mm512_add_ps(acc[i][v], _mm512_loadu_ps(cp)) : acc[i][v];       \
          _mm512_storeu_ps(cp, x);                                                                   \
        }                                                                                            \
      break;                                                                                         \
    }                                                                                                \
    for (int i = 0; i < (MR) && i < (rows); i++) {                                                   \
      for (int v = 0; v < (NV); v++) {                                                               \
        __mmask16 m = ck_lanes_below((cols) - 16 * v);                                               \
        float *cp = (c) + (size_t)i * (ldc) + 16 * v;                                                \
        __m512 x = (accumulate) ? _mm512_add_ps(acc[i][v], _mm512_maskz_loadu_ps(m, cp)) : acc[i][v]; \
        _mm512_mask_storeu_ps(cp, m, x);                                                             \
      }                                                                                              \
    }                                                                                                \
  } while (0)

#endif
