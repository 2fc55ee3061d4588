#!/usr/bin/env bash
# Re-derives the committed sample photos in samples/ from the scikit-image 0.26.0 wheel on PyPI
# (skimage/data/, byte-for-byte copies; see samples/README.md for each file's licence):
#   samples/astronaut.png  NASA, public domain
#   samples/coffee.png     Rachel Michetti, CC0
#   samples/chelsea.png    Stefan van der Walt, CC0
# The wheel is pinned by hash; the platform options make pip pick the same file on any machine.
# Usage: scripts/fetch_samples.sh [--check]   (--check only compares, writes nothing; exit 1 on a difference)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
WHEEL_PIN="scikit-image==0.26.0"
WHEEL_FILE="scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
WHEEL_SHA256="74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
SAMPLES="astronaut.png coffee.png chelsea.png"
check=0
[ "${1:-}" = "--check" ] && check=1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "$WHEEL_PIN --hash=sha256:$WHEEL_SHA256" >"$tmp/requirements.txt"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
  -r "$tmp/requirements.txt" -d "$tmp/wheel"
[ -f "$tmp/wheel/$WHEEL_FILE" ] || { echo "fetch_samples: expected $WHEEL_FILE" >&2; exit 1; }

"$PYTHON" - "$tmp/wheel/$WHEEL_FILE" "$check" $SAMPLES <<'EOF'
import pathlib, sys, zipfile
wheel, check, names = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
status = 0
with zipfile.ZipFile(wheel) as z:
    for name in names:
        data = z.read(f"skimage/data/{name}")
        dest = pathlib.Path("samples") / name
        if check:
            same = dest.exists() and dest.read_bytes() == data
            print(f"{dest}: {'ok' if same else 'DIFFERS'}")
            status |= 0 if same else 1
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            print(f"wrote {dest} ({len(data)} bytes)")
sys.exit(status)
EOF
