// The packed GEMMs' kernel table: one row per micro-kernel, fastest first, each with the probe
// that says whether this CPU runs it. A new instruction set (AMX's tdpbf16ps for bf16 panels)
// is one more row here and one more kernel file; the driver (GEMMDriver.h) does not change.
// A row's `available` probe also reads its switch (SDEDIT_DISABLE_AVX512 for both rows below;
// an AMX row would read SDEDIT_DISABLE_AMX), so turning a row off picks the next one down:
// AMX → AVX-512 BF16 for bf16 panels, and with no bf16 row left sdedit multiplies bf16
// weights in fp32 (AVX-512 FP32, else OpenBLAS).
#include "BF16Internal.h"
#include "F32Internal.h"

static const ck_gemm_kernel *const kernels[] = {
  &ck_avx512_bf16_kernel,  // vdpbf16ps, 8 × 48 (BF16Kernel.c)
  &ck_avx512_f32_kernel,   // vfmadd231ps, 8 × 48 (F32Kernel.c)
};

const ck_gemm_kernel *ck_gemm_kernel_for(int element) {
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
    if (kernels[i]->element == element && kernels[i]->available()) return kernels[i];
  }
  return NULL;
}
