#!/usr/bin/env bash
# One-time set-up: system libraries, then a release build of sdedit (.build/release/sdedit).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for package in libopenblas-dev libpng-dev libjpeg-dev pkg-config; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

scripts/fetch_realesrgan.sh || echo "setup: Real-ESRGAN weights not fetched (offline?); 'sdedit upscale' needs them" >&2
swift build -c release --product sdedit
echo "built .build/release/sdedit"
