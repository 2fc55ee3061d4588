#!/usr/bin/env python3
"""Samples the demo model with diffusers and judges the pictures automatically (issue 11).

    /work/pyenv/bin/python scripts/demo/sample_check.py MODEL_DIR [--grid grid.png] [--steps 20]
        [--guidance 7.5] [--seeds 0 1] [--device cpu] [--clip MODEL_DIR-clip] [--self-test 500]

Loads MODEL_DIR with diffusers' StableDiffusionPipeline (float32, the saved PNDM scheduler), makes
every prompt of PROMPTS at 64x64 with --steps steps for each seed (generator = torch.Generator
(device).manual_seed(seed)), saves a grid (one row per prompt, one column per seed) and prints the
judge's verdict per picture. --self-test N first runs the judge on N pictures of the data set
itself (it must pass all of them). --clip also scores the CLIP model of `train.py --clip-steps`:
top-1 text->image retrieval among 64 data-set pictures, with the real CLIPProcessor.

THE JUDGE (`judge`; the Swift test reproduces this rule):
  Input: an RGB picture, uint8 values 0..255, H x W (64 x 64 here); the asked foreground colour,
  and optionally the asked region and background colour.
  1. Palette classification: every pixel gets the palette colour (dataset.PALETTE: red (220,30,30),
     green (30,170,40), blue (30,60,220), yellow (240,215,30), white (245,245,245), black (15,15,15))
     at the smallest Euclidean distance in RGB (0..255 units); ties go to the earlier palette entry.
  2. Background: the border ring is the pixels within B = max(1, H / 16) (= 4) pixels of an edge.
     The background colour is the most frequent palette class in the ring (ties: earlier entry).
     The background RGB is the per-channel mean of the ring pixels of that class.
  3. Foreground: pixels whose class differs from the background class AND whose Euclidean distance
     from the background RGB exceeds 60. The picture has a shape if the foreground holds at least
     0.5% of the pixels (20 of 4096); otherwise the verdict is "no shape" (fail).
  4. Foreground colour: the most frequent palette class among foreground pixels (ties: earlier entry).
  5. Centre of mass: the mean of (x + 0.5, y + 0.5) over foreground pixels (unweighted), x to the
     right, y down. Region: column 0 if cx < W/3, 1 if cx < 2W/3, else 2; row likewise from cy with
     H; (column, row) names a region as dataset.POSITIONS does: (0,0) "top left", (1,0) "top",
     (2,0) "top right", (0,1) "left", (1,1) "center", (2,1) "right", (0,2) "bottom left",
     (1,2) "bottom", (2,2) "bottom right".
  Pass: a shape is found, the foreground colour is the asked colour, and, where asked, the region
  equals the asked region and the background colour equals the asked background colour.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataset  # noqa: E402
import offline_requests  # noqa: E402

offline_requests.ensure_requests()

PALETTE_NAMES = list(dataset.PALETTE)
PALETTE_RGB = np.array([dataset.PALETTE[c] for c in PALETTE_NAMES], dtype=np.float64)
REGION_NAMES = {v: k for k, v in dataset.POSITIONS.items()}
FOREGROUND_DISTANCE = 60.0
MIN_FOREGROUND_FRACTION = 0.005

# (prompt, asked colour, asked region or None, asked background or None)
PROMPTS = [
    ("a red circle on a blue background", "red", None, "blue"),
    ("a small red circle at the top left on a blue background", "red", "top left", "blue"),
    ("a large yellow triangle in the center, green background", "yellow", "center", "green"),
    ("blue square, white background", "blue", None, "white"),
    ("a green square at the bottom right on a black background", "green", "bottom right", "black"),
    ("a white circle on the left, red background", "white", "left", "red"),
    ("a black triangle at the top on a yellow background", "black", "top", "yellow"),
    ("a yellow circle at the bottom left, blue background", "yellow", "bottom left", "blue"),
    ("a blue triangle on the right on a white background", "blue", "right", "white"),
    ("a red square at the top right, green background", "red", "top right", "green"),
    ("a green circle at the bottom on a white background", "green", "bottom", "white"),
    ("a large white square in the center on a black background", "white", "center", "black"),
]


def _mode(classes: np.ndarray) -> int:
    """Most frequent class; ties go to the smallest index (earlier palette entry)."""
    return int(np.argmax(np.bincount(classes.ravel(), minlength=len(PALETTE_NAMES))))


def judge(image, color: str, region: str | None = None, background: str | None = None) -> dict:
    """The rule of the module docstring. `image`: PIL image or uint8 array [H, W, 3]."""
    px = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image).astype(np.float64)
    h, w, _ = px.shape
    dist = np.linalg.norm(px[:, :, None, :] - PALETTE_RGB[None, None], axis=-1)  # [H, W, 6]
    cls = np.argmin(dist, axis=-1)  # first minimum on ties
    b = max(1, h // 16)
    ring = np.zeros((h, w), bool)
    ring[:b, :] = ring[-b:, :] = ring[:, :b] = ring[:, -b:] = True
    bg = _mode(cls[ring])
    bg_rgb = px[ring & (cls == bg)].mean(0)
    fg = (cls != bg) & (np.linalg.norm(px - bg_rgb, axis=-1) > FOREGROUND_DISTANCE)
    result = {"background": PALETTE_NAMES[bg], "foreground_fraction": round(float(fg.mean()), 4)}
    if fg.mean() < MIN_FOREGROUND_FRACTION:
        return dict(result, ok=False, color=None, region=None, why="no shape")
    fg_color = PALETTE_NAMES[_mode(cls[fg])]
    ys, xs = np.nonzero(fg)
    cx, cy = float(np.mean(xs + 0.5)), float(np.mean(ys + 0.5))
    col = 0 if cx < w / 3 else 1 if cx < 2 * w / 3 else 2
    row = 0 if cy < h / 3 else 1 if cy < 2 * h / 3 else 2
    found_region = REGION_NAMES[(col, row)]
    why = []
    if fg_color != color:
        why.append(f"colour {fg_color} != {color}")
    if region is not None and found_region != region:
        why.append(f"region {found_region} != {region}")
    if background is not None and PALETTE_NAMES[bg] != background:
        why.append(f"background {PALETTE_NAMES[bg]} != {background}")
    return dict(result, ok=not why, color=fg_color, region=found_region, centre=[round(cx, 2), round(cy, 2)],
                why="; ".join(why))


def self_test(n: int, seed: int = 12345) -> int:
    """Judges n data-set pictures against their own scenes; returns the number of failures."""
    failures = 0
    for i in range(n):
        s = dataset.scene(i, seed)
        r = judge(dataset.render(s), s.color, s.position, s.background)
        if not r["ok"]:
            failures += 1
            print(f"self-test failure {i}: {s} -> {r}")
    print(f"judge self-test: {n - failures}/{n} data-set pictures pass")
    return failures


def clip_retrieval(clip_folder: Path, device: str, n: int = 64, seed: int = 54321) -> float:
    """Top-1 accuracy of choosing, for each of n data-set captions, its own picture among the n."""
    import torch
    from transformers import CLIPModel, CLIPProcessor
    model = CLIPModel.from_pretrained(str(clip_folder), dtype=torch.float32).to(device).eval()
    proc = CLIPProcessor.from_pretrained(str(clip_folder))
    items = [dataset.item(i, seed) for i in range(n)]
    inputs = proc(text=[t for _, t in items], images=[im for im, _ in items], return_tensors="pt",
                  padding="max_length", max_length=77, truncation=True)
    with torch.no_grad():
        out = model(**{k: v.to(device) for k, v in inputs.items()})
    scenes = [dataset.scene(i, seed) for i in range(n)]
    best = out.logits_per_text.argmax(1).cpu().tolist()
    # a pick counts as right when it is the item itself or an item with the same colours and shape
    right = sum(j == i or (scenes[j].color, scenes[j].shape, scenes[j].background)
                == (scenes[i].color, scenes[i].shape, scenes[i].background) for i, j in enumerate(best))
    return right / n


def run(folder: Path, grid_path: Path, device: str = "cpu", steps: int = 20, guidance: float = 7.5,
        seeds=(0, 1), clip_folder: Path | None = None) -> dict:
    import torch
    from diffusers import StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(str(folder), dtype=torch.float32).to(device)
    pipe.set_progress_bar_config(disable=True)
    size = dataset.SIZE
    grid = Image.new("RGB", (len(seeds) * (size + 2), len(PROMPTS) * (size + 2)), (128, 128, 128))
    results, passed = [], 0
    for row, (prompt, color, region, background) in enumerate(PROMPTS):
        for col, seed in enumerate(seeds):
            gen = torch.Generator(device).manual_seed(seed)
            image = pipe(prompt, height=size, width=size, num_inference_steps=steps, guidance_scale=guidance,
                         generator=gen).images[0]
            grid.paste(image, (col * (size + 2), row * (size + 2)))
            verdict = judge(image, color, region, background)
            passed += verdict["ok"]
            results.append(dict(prompt=prompt, seed=seed, **verdict))
            print(f"{'PASS' if verdict['ok'] else 'fail'}  seed {seed}  {prompt!r}: {verdict['color']} "
                  f"{verdict['region']} on {verdict['background']}"
                  + (f"  ({verdict['why']})" if verdict["why"] else ""), flush=True)
    grid_path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(grid_path)
    report = {"steps": steps, "guidance": guidance, "seeds": list(seeds), "passed": passed,
              "total": len(results), "grid": str(grid_path), "results": results}
    print(f"judge: {passed}/{len(results)} pass; grid {grid_path}")
    if clip_folder is not None:
        report["clip_top1"] = clip_retrieval(clip_folder, device)
        print(f"clip: text->image top-1 (same colours and shape count) {report['clip_top1']:.2f}")
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--grid", type=Path, default=Path("/tmp/demo_grid.png"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=7.5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--clip", type=Path, default=None, help="a CLIP folder from train.py --clip-steps")
    ap.add_argument("--self-test", type=int, default=0, help="judge N data-set pictures first")
    ap.add_argument("--json", type=Path, default=None, help="write the verdicts here")
    args = ap.parse_args()
    if args.threads > 0:
        import torch
        torch.set_num_threads(args.threads)
    if args.self_test and self_test(args.self_test):
        sys.exit(1)
    report = run(args.model, args.grid, args.device, args.steps, args.guidance, tuple(args.seeds), args.clip)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
