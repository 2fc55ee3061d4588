#!/usr/bin/env bash
# Regenerates every committed test fixture under Tests/Fixtures/ (one command, a few minutes on 2 cores):
#
#   scripts/generate_fixtures.sh            # everything
#   PYTHON=/path/to/python scripts/generate_fixtures.sh
#
# Order matters: the tiny models come first (other references and schedulers.py read them), then
# component references, then whole pipelines, then the other helpers' fixture scripts (each only if
# present), then Tests/Fixtures/README.md. Needs the Python stack pinned in scripts/requirements.txt
# (checked below; SDEDIT_ALLOW_UNPINNED=1 skips the check) and the CLIP vocabulary in
# Sources/SDModels/Resources (scripts/fetch_clip_vocab.sh). No network, no Hugging Face hub.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /work/pyenv/bin/python ]]; then PYTHON=/work/pyenv/bin/python; else PYTHON=python3; fi
fi

# Deterministic, offline, single-threaded.
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 PYTHONDONTWRITEBYTECODE=1

if [[ "${SDEDIT_ALLOW_UNPINNED:-0}" != 1 ]]; then
  "$PYTHON" - scripts/requirements.txt <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if "==" not in line:
        continue
    name, want = line.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = "missing"
    if have != want:
        bad.append(f"{name}: have {have}, pinned {want}")
if bad:
    sys.exit("unpinned Python stack (set SDEDIT_ALLOW_UNPINNED=1 to go on anyway):\n  " + "\n  ".join(bad))
PY
fi

# -P: do not put scripts/fixtures on sys.path. Its kernels.py would otherwise shadow the `kernels`
# package that diffusers/transformers probe for, and be run by that probe.
run() { echo "== scripts/fixtures/$1"; "$PYTHON" -P "scripts/fixtures/$1" "${@:2}"; }
optional() {
  if [[ -f "scripts/fixtures/$1" ]]; then run "$@"; else echo "-- scripts/fixtures/$1 not present, skipped"; fi
}

run models.py          # Tests/Fixtures/models/** (diffusers folders + single-file checkpoints, verified)
run components.py      # Tests/Fixtures/reference/{text_encoder,unet,vae}/
run pipelines.py       # Tests/Fixtures/reference/{txt2img,img2img,inpaint,upscale,clip,safety}/

optional fewstep.py     # models/sd1-lcm-tiny, sd1-turbo-tiny, taesd-tiny, vae-alt-tiny + reference/fewstep (reads sd1-tiny)
optional clip_rank.py   # reads models/clip-tiny
optional rng.py
optional schedulers.py   # reads the models' scheduler configs
optional tokenizer.py
optional sdxl.py        # models/sdxl-{,turbo-,inpaint-,refiner-}tiny, sdxl-{,refiner-}tiny.safetensors + reference/sdxl
                        # (reads sd1-tiny, sd2-tiny and tokenizer/prompts.json)
optional kernels.py
optional make_test_images.py
optional make_safetensors_samples.py
optional prompt_weighting.py   # reads models/sd1-tiny, sd2-tiny, sdxl-tiny
optional lora.py               # reads models/sd1-tiny, sd2-tiny; needs peft
optional sdxl_adapters.py      # reads models/sdxl-tiny{,.safetensors}; needs peft
optional exif_orientation.py   # images/exif/ (EXIF orientation, Pillow's exif_transpose)
if [[ -f scripts/fixtures/realesrgan.py ]]; then
  if compgen -G "models/realesrgan/*.param" > /dev/null; then
    run realesrgan.py
  else
    echo "-- scripts/fixtures/realesrgan.py skipped: run scripts/fetch_realesrgan.sh first (weights in models/realesrgan/)"
  fi
fi

known=" common.py ldm_keys.py models.py components.py pipelines.py readme.py fewstep.py clip_rank.py rng.py schedulers.py
  tokenizer.py kernels.py make_test_images.py make_safetensors_samples.py realesrgan.py prompt_weighting.py lora.py sdxl.py
  sdxl_adapters.py exif_orientation.py "
for f in scripts/fixtures/*.py; do
  [[ "$known" == *" $(basename "$f") "* ]] || echo "!! $f is not run by this script: add it to scripts/generate_fixtures.sh"
done

run readme.py          # Tests/Fixtures/README.md
echo "fixtures regenerated under Tests/Fixtures/"
