#!/usr/bin/env python3
"""Synthetic captioned scenes for sdedit's built-in demo model (issue 11).

Every item is a 64x64 RGB picture of ONE coloured shape (circle, square or triangle) on a plain
background of another colour, with a templated English caption, e.g.

    "a red circle on a blue background"
    "a small red circle at the top left on a blue background"
    "a large yellow triangle in the center, green background"
    "blue square, white background"

Items are generated on the fly and are deterministic: `scene(index, seed)` depends only on
(seed, index) (numpy's PCG64 seeded with the pair), and so do `render(scene)` and
`caption(scene, rng)` for a given caption rng. Nothing is downloaded or cached.

Geometry (all in pixels of the 64x64 image; drawing happens at 4x = 256x256 with PIL and is
downscaled with a BOX filter, i.e. exact 4x4 area averaging, which antialiases the edges):
  - size classes set the shape's "radius" r (circle radius, half side of the square, circumradius of
    the upward equilateral triangle): small 0.11, medium 0.18, large 0.27 of the image side, each
    scaled by a random factor in [0.9, 1.1];
  - position classes put the shape's centroid at x, y in {0.2, 0.5, 0.8} of the side (top left =
    (0.2, 0.2), ..., bottom right = (0.8, 0.8)) plus a uniform jitter of +-0.04 of the side, then
    clamp it so the shape stays inside the picture (1 pixel margin). With these numbers the
    centroid always lies in the matching third of the image (see sample_check.judge's regions).

The colour palette (PALETTE) is shared with the judge in sample_check.py and the Swift test.

    /work/pyenv/bin/python scripts/demo/dataset.py --count 36 --grid /tmp/scenes.png
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64  # output side in pixels
SUPERSAMPLE = 4  # drawing happens at SIZE * SUPERSAMPLE, then BOX-downscaled

# Pure-ish, well separated RGB values; the judge classifies pixels by the nearest of these.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 215, 30),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
COLORS = list(PALETTE)
SHAPES = ["circle", "square", "triangle"]
SIZES = {"small": 0.11, "medium": 0.18, "large": 0.27}
# position class -> (column, row) in {0, 1, 2}
POSITIONS = {
    "top left": (0, 0), "top": (1, 0), "top right": (2, 0),
    "left": (0, 1), "center": (1, 1), "right": (2, 1),
    "bottom left": (0, 2), "bottom": (1, 2), "bottom right": (2, 2),
}
CENTRES = (0.2, 0.5, 0.8)
JITTER = 0.04

# Words for each position class in captions (several phrasings; all mean the same region).
POSITION_PHRASES = {
    "top left": ["at the top left", "in the top left corner", "in the upper left"],
    "top": ["at the top", "at the top center", "in the upper middle"],
    "top right": ["at the top right", "in the top right corner", "in the upper right"],
    "left": ["on the left", "at the left", "in the middle left"],
    "center": ["in the center", "in the middle", "at the center"],
    "right": ["on the right", "at the right", "in the middle right"],
    "bottom left": ["at the bottom left", "in the bottom left corner", "in the lower left"],
    "bottom": ["at the bottom", "at the bottom center", "in the lower middle"],
    "bottom right": ["at the bottom right", "in the bottom right corner", "in the lower right"],
}
SIZE_WORDS = {"small": ["small", "tiny"], "medium": ["medium", "medium-sized"], "large": ["large", "big"]}

# {a} article + optional size, {c} colour, {s} shape, {p} " <position phrase>" or "", {b} background.
TEMPLATES_WITH_BG = [
    "{a}{c} {s}{p} on a {b} background",
    "{a}{c} {s}{p}, {b} background",
    "{c} {s}{p}, {b} background",
    "{a}{c} {s}{p} against a {b} background",
    "a {b} background with {a}{c} {s}{p}",
    "a picture of {a}{c} {s}{p} on a {b} background",
]
TEMPLATES_NO_BG = [
    "{a}{c} {s}{p}",
    "{c} {s}{p}",
    "a picture of {a}{c} {s}{p}",
]


@dataclass(frozen=True)
class Scene:
    shape: str
    color: str
    background: str
    size: str
    position: str
    cx: float  # centroid, pixels of the SIZE x SIZE image
    cy: float
    radius: float  # pixels


def scene(index: int, seed: int = 0) -> Scene:
    """The scene of item `index` for data-set `seed` (uniform over shape, colours, size, position)."""
    rng = np.random.default_rng([seed, index])
    shape = SHAPES[rng.integers(len(SHAPES))]
    color = COLORS[rng.integers(len(COLORS))]
    others = [c for c in COLORS if c != color]
    background = others[rng.integers(len(others))]
    size = list(SIZES)[rng.integers(len(SIZES))]
    position = list(POSITIONS)[rng.integers(len(POSITIONS))]
    radius = SIZES[size] * SIZE * rng.uniform(0.9, 1.1)
    col, row = POSITIONS[position]
    cx = (CENTRES[col] + rng.uniform(-JITTER, JITTER)) * SIZE
    cy = (CENTRES[row] + rng.uniform(-JITTER, JITTER)) * SIZE
    # extent of the shape around its centroid: (left, right, up, down)
    if shape == "triangle":
        half_w, up, down = radius * np.sqrt(3) / 2, radius, radius / 2
    else:
        half_w, up, down = radius, radius, radius
    cx = float(np.clip(cx, half_w + 1, SIZE - 1 - half_w))
    cy = float(np.clip(cy, up + 1, SIZE - 1 - down))
    return Scene(shape, color, background, size, position, cx, cy, float(radius))


def render(s: Scene) -> Image.Image:
    """The 64x64 RGB picture of a scene (drawn at 4x, BOX-downscaled)."""
    k = SUPERSAMPLE
    img = Image.new("RGB", (SIZE * k, SIZE * k), PALETTE[s.background])
    draw = ImageDraw.Draw(img)
    cx, cy, r = s.cx * k, s.cy * k, s.radius * k
    fill = PALETTE[s.color]
    if s.shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif s.shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:  # upward equilateral triangle with centroid (cx, cy) and circumradius r
        h = r * np.sqrt(3) / 2
        draw.polygon([(cx, cy - r), (cx + h, cy + r / 2), (cx - h, cy + r / 2)], fill=fill)
    return img.resize((SIZE, SIZE), Image.Resampling.BOX)


def caption(s: Scene, rng: np.random.Generator, p_size: float = 0.5, p_position: float = 0.5,
            p_background: float = 0.85) -> str:
    """A random templated caption of `s`; the size, position and background words are each optional."""
    size_word = SIZE_WORDS[s.size][rng.integers(2)] + " " if rng.random() < p_size else ""
    phrases = POSITION_PHRASES[s.position]
    pos = " " + phrases[rng.integers(len(phrases))] if rng.random() < p_position else ""
    templates = TEMPLATES_WITH_BG if rng.random() < p_background else TEMPLATES_NO_BG
    template = templates[rng.integers(len(templates))]
    first = (size_word or s.color)[0]
    article = ("an " if first in "aeiou" else "a ") + size_word
    return template.format(a=article, c=s.color, s=s.shape, p=pos, b=s.background)


def item(index: int, seed: int = 0) -> tuple[Image.Image, str]:
    """(picture, caption) of item `index`; the caption rng is seeded from (seed, index, 1)."""
    s = scene(index, seed)
    return render(s), caption(s, np.random.default_rng([seed, index, 1]))


def render_array(indices, seed: int = 0) -> np.ndarray:
    """uint8 [N, 64, 64, 3] pictures of the given items (a worker function for multiprocessing)."""
    return np.stack([np.asarray(render(scene(int(i), seed))) for i in indices])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grid", default="/tmp/demo_scenes.png", help="PNG grid of the first --count items")
    args = ap.parse_args()
    cols = int(np.ceil(np.sqrt(args.count)))
    rows = (args.count + cols - 1) // cols
    grid = Image.new("RGB", (cols * (SIZE + 2), rows * (SIZE + 2)), (128, 128, 128))
    for i in range(args.count):
        img, text = item(i, args.seed)
        grid.paste(img, ((i % cols) * (SIZE + 2), (i // cols) * (SIZE + 2)))
        print(f"{i:4d}  {text}")
    grid.save(args.grid)
    print("grid:", args.grid)


if __name__ == "__main__":
    main()
