"""Writes the example inpainting masks in masks/ (512×512, white = repaint, black = keep).

Run: /path/to/python scripts/make_masks.py   (needs numpy and Pillow)
"""
import pathlib

import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parents[1] / "masks"
OUT.mkdir(exist_ok=True)
size = 512
y, x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5

center = np.zeros((size, size), np.uint8)
center[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
Image.fromarray(center, "L").save(OUT / "center.png", optimize=True)

left = np.zeros((size, size), np.uint8)
left[:, : size // 2] = 255
Image.fromarray(left, "L").save(OUT / "left-half.png", optimize=True)

# A soft-edged circle: full repaint inside radius 140, fading to keep by radius 180.
r = np.hypot(x - size / 2, y - size / 2)
soft = np.clip((180 - r) / 40, 0, 1)
Image.fromarray(np.round(soft * 255).astype(np.uint8), "L").save(OUT / "soft-circle.png", optimize=True)
print("wrote", sorted(p.name for p in OUT.glob("*.png")))
