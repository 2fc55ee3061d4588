#!/usr/bin/env bash
# Throughput of `sdedit batch` against one process per image, on the committed tiny model:
# N txt2img images made by N separate `sdedit txt2img` processes, then by one `sdedit batch`
# of N jobs (the same prompts, seeds and settings, so the same bytes: checked). Each way is
# timed REPEATS times, interleaved; the medians are printed with the CPU's name.
#
#   scripts/bench/batch_throughput.sh            N=20 REPEATS=5 SIZE=32 STEPS=2 THREADS=1
#
# Uses the release build (.build/release/sdedit). The tiny model's images take milliseconds, so
# this measures what batch saves: process start-up and model loading per image.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20}
REPEATS=${REPEATS:-5}
SIZE=${SIZE:-32}
STEPS=${STEPS:-2}
THREADS=${THREADS:-1}
SDEDIT=${SDEDIT:-$PWD/.build/release/sdedit}
MODEL=${MODEL:-$PWD/Tests/Fixtures/models/sd1-tiny}
[[ -x $SDEDIT ]] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
settings=(--model "$MODEL" --width "$SIZE" --height "$SIZE" --steps "$STEPS" --threads "$THREADS")
for ((i = 0; i < N; i++)); do printf '{"prompt": "a lighthouse, study %d", "output": "batch/%02d.png"}\n' "$i" "$i"; done >"$work/jobs.jsonl"

now() { date +%s.%N; }
separate=() batch=()
for ((r = 0; r < REPEATS; r++)); do
  rm -rf "$work/separate" "$work/batch"
  mkdir -p "$work/separate"
  t0=$(now)
  for ((i = 0; i < N; i++)); do
    "$SDEDIT" txt2img "${settings[@]}" --prompt "a lighthouse, study $i" --seed "$i" -o "$work/separate/$(printf %02d $i).png" 2>/dev/null
  done
  t1=$(now)
  (cd "$work" && "$SDEDIT" batch jobs.jsonl "${settings[@]}" --log log.jsonl 2>/dev/null)
  t2=$(now)
  separate+=("$(echo "$t1 - $t0" | bc)")
  batch+=("$(echo "$t2 - $t1" | bc)")
done
for f in "$work"/separate/*.png; do cmp -s "$f" "$work/batch/$(basename "$f")" || { echo "differs: $(basename "$f")" >&2; exit 1; }; done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms=$(median "${separate[@]}") mb=$(median "${batch[@]}")
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
echo "$N txt2img images, ${SIZE}×${SIZE}, $STEPS steps, --threads $THREADS, tiny model; medians of $REPEATS interleaved runs"
printf '%-28s %8.2f s  (%.3f s/image)  runs: %s\n' "$N separate processes" "$ms" "$(echo "$ms / $N" | bc -l)" "${separate[*]}"
printf '%-28s %8.2f s  (%.3f s/image)  runs: %s\n' "one sdedit batch" "$mb" "$(echo "$mb / $N" | bc -l)" "${batch[*]}"
printf 'batch is %.1f× faster; images identical\n' "$(echo "$ms / $mb" | bc -l)"
