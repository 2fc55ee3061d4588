#!/usr/bin/env bash
# Runs the test suite under the sanitizers.
#
#   scripts/sanitize.sh address [swift test args…]   AddressSanitizer (+ LeakSanitizer), whole suite
#   scripts/sanitize.sh thread  [swift test args…]   ThreadSanitizer, the multi-threaded code
#   scripts/sanitize.sh all                          both
#
# Release builds (-O keeps the numeric tests fast enough; the sanitizers instrument optimized code
# as well) with -enable-testing, each in its own scratch folder (.build-asan, .build-tsan) so they
# never mix with normal builds. Extra arguments go to `swift test`, e.g. `--filter SafeTensors`.
# LeakSanitizer runs too, with the test harness's own leaks suppressed (scripts/lsan.supp);
# ThreadSanitizer reports every race of a run (exit code 66 if any), suppressions in scripts/tsan.supp.
# The default ThreadSanitizer filter is the code that shares memory between threads: the tensor
# kernels (Threading.parallelFor: GEMMs, convolution packing, attention), the Real-ESRGAN and diffusion tilers, the weight store's lock and
# the atomic file writer. OpenBLAS is not instrumented; its own threads are invisible to TSan.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
shift || true

tsan_filter='KernelTests|BF16GEMMTests|F32GEMMTests|ConvPackTests|UpsampleConvTests|NormalizedConvTests|HalfWeightF32Tests|SoftmaxTests|GELUTests|HalfWeightPackingTests|PrecisionTests|TorchRandomTests|RealESRGANKernelTests|RealESRGANTilingTests|UpscaleTilingTests|WeightScopeTests|AtomicFileTests|ImageFileTests'

run_address() {
  echo "== AddressSanitizer (.build-asan)" >&2
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0} \
    swift test -c release -Xswiftc -enable-testing --sanitize=address --scratch-path .build-asan "$@"
}

run_thread() {
  echo "== ThreadSanitizer (.build-tsan)" >&2
  local args=("$@")
  if [[ ! " ${args[*]-} " =~ " --filter " ]]; then args+=(--filter "$tsan_filter"); fi
  TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp} \
    swift test -c release -Xswiftc -enable-testing --sanitize=thread --scratch-path .build-tsan "${args[@]}"
}

case $mode in
  address) run_address "$@" ;;
  thread) run_thread "$@" ;;
  all) run_address "$@" && run_thread "$@" ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
