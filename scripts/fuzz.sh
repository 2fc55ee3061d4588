#!/usr/bin/env bash
# Builds and runs one libFuzzer target (Fuzz/<Target>/main.swift) against the committed seed
# corpus Fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh TARGET [SECONDS] [libFuzzer flags…]    run TARGET (default 600 s)
#   scripts/fuzz.sh TARGET 0 CRASH_FILE                      replay one input (a crash reproducer)
#   scripts/fuzz.sh list                                     list the targets
#   scripts/fuzz.sh all [SECONDS]                            run every target in turn, then print a
#                                                            table of executions/s and coverage
#
# Targets: safetensors png jpeg mask tokenizer config singlefile ncnn.
#
# The library modules are built once by SwiftPM into .build-fuzz with -sanitize=fuzzer,address
# (coverage instrumentation + AddressSanitizer), then the harness is compiled and linked against
# their object files with swiftc -sanitize=fuzzer,address (libFuzzer's main). New corpus entries go
# to .build-fuzz/corpus/<target>/ (the committed seeds are only read); crashes, leaks and timeouts
# are written to .build-fuzz/artifacts/<target>/ and the script exits non-zero.
#
# Needs a Swift toolchain whose clang runtime has libFuzzer (swift.org Linux toolchains do).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A FOLDER=(
  [safetensors]=SafeTensors [png]=PNG [jpeg]=JPEG [mask]=Mask [tokenizer]=Tokenizer
  [config]=Config [singlefile]=SingleFile [ncnn]=NCNN
)

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 1 ]] || usage
target=$1
if [[ $target == list ]]; then printf '%s\n' "${!FOLDER[@]}" | sort; exit 0; fi
if [[ $target == all ]]; then
  seconds=${2:-600}
  logs=${FUZZ_SCRATCH:-.build-fuzz}/logs
  mkdir -p "$logs"
  status=0
  for t in $(printf '%s\n' "${!FOLDER[@]}" | sort); do
    echo "== $t ($seconds s)" >&2
    "$0" "$t" "$seconds" >"$logs/$t.log" 2>&1 || { status=1; echo "fuzz.sh: $t failed, see $logs/$t.log" >&2; }
  done
  # libFuzzer's last status line holds cov (edges) and ft (features); -print_final_stats the rest.
  printf '%-12s %10s %8s %8s %8s %8s\n' target execs exec/s cov ft corpus
  for t in $(printf '%s\n' "${!FOLDER[@]}" | sort); do
    log="$logs/$t.log"
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    printf '%-12s %10s %8s %8s %8s %8s\n' "$t" \
      "$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")" \
      "$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")" \
      "$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")" \
      "$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")" \
      "$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
  done
  exit $status
fi
folder=${FOLDER[$target]:-}
[[ -n $folder ]] || { echo "fuzz.sh: unknown target '$target' (try: scripts/fuzz.sh list)" >&2; exit 2; }
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))

scratch=${FUZZ_SCRATCH:-.build-fuzz}
# (Not SwiftPM's --sanitize=fuzzer --sanitize=address: swiftc keeps only the last of two separate
# -sanitize= flags, so each module would get coverage or ASan, not both.)
sanitize=(-Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)

# 1. The instrumented library modules (SDModels and SDImage with what they depend on).
for module in SDModels SDImage; do
  swift build -c release --scratch-path "$scratch" "${sanitize[@]}" --target "$module" >&2
done
bin=$(swift build -c release --scratch-path "$scratch" "${sanitize[@]}" --show-bin-path)

# 2. The harness, linked with the modules' objects and libFuzzer.
objects=()
for module in SDTensor SDModels SDImage CKernels CImageCodecs; do
  objects+=("$bin/$module.build"/*.o)
done
modulemaps=()
for map in Sources/CBLAS/module.modulemap Sources/CPNG/module.modulemap Sources/CJPEG/module.modulemap \
  "$bin"/CKernels.build/module.modulemap "$bin"/CImageCodecs.build/module.modulemap; do
  [[ -f $map ]] && modulemaps+=(-Xcc "-fmodule-map-file=$map")
done
libs=$(pkg-config --libs openblas libpng libjpeg)
exe="$bin/fuzz-$target"
if [[ ! -x $exe || -n $(find "Fuzz/$folder/main.swift" "${objects[@]}" -newer "$exe" 2>/dev/null | head -1) ]]; then
  echo "fuzz.sh: linking $exe" >&2
  # shellcheck disable=SC2086
  swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name "Fuzz$folder" \
    -I "$bin/Modules" -I Sources/CKernels/include -I Sources/CImageCodecs/include "${modulemaps[@]}" \
    "Fuzz/$folder/main.swift" "${objects[@]}" $libs -o "$exe"
fi

# 3. Run (or replay).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# Swift's own crash backtracer reads memory ASan considers poisoned and can hang; libFuzzer and
# ASan print the stack of a Swift runtime trap (SIGILL) themselves.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
if [[ $seconds == 0 ]]; then
  exec "$exe" -rss_limit_mb=4096 "$@"
fi
corpus="$scratch/corpus/$target"
artifacts="$scratch/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
# -malloc_limit_mb: the largest image the decoders accept (2^26 pixels) is 805 MB as a 3-channel
# float tensor, a legitimate allocation; anything above 1 GB is a bug.
exec "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=1024 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" "$corpus" "Fuzz/corpus/$target"
