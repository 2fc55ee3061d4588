"""Times diffusers + PyTorch on SDXL shapes, phase by phase as `sdedit bench --arch sdxl` reports them:
one UNet step (CFG batch 2, or batch 1 for Turbo's guidance 0) and one VAE decode, at --size.
The weights are those of a full-size random-weight folder (scripts/bench/make_random_model.py
--arch sdxl), loaded in fp32 as a diffusers user loads an F16 folder on a CPU. Speed does not depend
on the values. Each phase runs once to warm up (oneDNN builds its kernels on the first call), then
--repeats times; the median is printed.

    python scripts/bench/sdxl_torch.py --model DIR [--size 1024] [--guidance 5] [--bf16] [--threads 2]
        [--repeats 1] [--no-decode]

Pinned stack: scripts/requirements.txt (torch 2.13.0+cpu, diffusers 0.42.1). `--bf16` runs under
`torch.autocast("cpu", dtype=torch.bfloat16)`, as PyTorch users get bf16 on CPUs. The last line of
stdout is one JSON object.
"""
import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True, help="an SDXL diffusers folder (unet/ and vae/ are used)")
parser.add_argument("--size", type=int, default=1024)
parser.add_argument("--guidance", type=float, default=5.0, help="> 1: CFG, UNet batch 2; otherwise batch 1")
parser.add_argument("--bf16", action="store_true")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=1)
parser.add_argument("--no-decode", action="store_true")
args = parser.parse_args()
torch.set_num_threads(args.threads)

folder = Path(args.model)
unet = UNet2DConditionModel.from_pretrained(folder / "unet", torch_dtype=torch.float32).eval()
batch = 2 if args.guidance > 1 else 1
side = args.size // 8
generator = torch.Generator("cpu").manual_seed(0)
latents = torch.randn(batch, 4, side, side, generator=generator)
context = torch.randn(batch, 77, 2048, generator=generator)
pooled = torch.randn(batch, 1280, generator=generator)
time_ids = torch.tensor([[args.size, args.size, 0, 0, args.size, args.size]] * batch, dtype=torch.float32)


def timed(body) -> list[float]:
    body()  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return times


def unet_step():
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        unet(latents, torch.tensor([999]), encoder_hidden_states=context,
             added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids})


precision = "bf16 autocast" if args.bf16 else "fp32"
step_times = timed(unet_step)
result = {"size": args.size, "batch": batch, "precision": precision, "threads": args.threads,
          "unet_step_s": statistics.median(step_times), "torch": torch.__version__}
print(f"diffusers SDXL UNet step {args.size}², batch {batch}, {precision}, {args.threads} threads: "
      f"median {result['unet_step_s']:.2f} s (runs {', '.join(f'{t:.2f}' for t in step_times)})", flush=True)
del unet

if not args.no_decode:
    vae = AutoencoderKL.from_pretrained(folder / "vae", torch_dtype=torch.float32).eval()
    one = latents[:1] / vae.config.scaling_factor

    def decode():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            vae.decode(one)

    decode_times = timed(decode)
    result["vae_decode_s"] = statistics.median(decode_times)
    print(f"diffusers SDXL VAE decode {args.size}², {precision}: median {result['vae_decode_s']:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in decode_times)})")

result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
print(json.dumps(result))
