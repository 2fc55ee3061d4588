"""Times diffusers + PyTorch phase by phase, as `sdedit bench` reports them: one UNet step (CFG
batch 2, or batch 1 at guidance ≤ 1: LCM, Turbo) and one VAE decode at --size, on the UNet and
VAE of a diffusers folder — a full-size random-weight folder from scripts/bench/make_random_model.py
(--arch sd15|sd21|sdxl, --lcm), loaded in fp32 as a diffusers user loads an F16 folder on a CPU.
Speed does not depend on the values. Each phase runs once to warm up (oneDNN builds its kernels on
the first call), then --repeats times; the median is printed.

    python scripts/bench/phases_torch.py --model DIR [--size 512] [--guidance 7.5] [--bf16]
        [--threads 2] [--repeats 1] [--no-decode]

Compare with, on the same machine right after:
    sdedit bench --arch sd15|sd21|sdxl --size S --guidance G [--precision bf16]

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
parser.add_argument("--model", required=True, help="a diffusers folder (its unet/ and vae/ are used)")
parser.add_argument("--size", type=int, default=512)
parser.add_argument("--guidance", type=float, default=7.5, help="> 1: CFG, UNet batch 2; otherwise batch 1")
parser.add_argument("--bf16", action="store_true")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=1)
parser.add_argument("--no-decode", action="store_true")
args = parser.parse_args()
torch.set_num_threads(args.threads)

folder = Path(args.model)
unet = UNet2DConditionModel.from_pretrained(folder / "unet", torch_dtype=torch.float32).eval()
config = unet.config
batch = 2 if args.guidance > 1 and config.time_cond_proj_dim is None else 1
side = args.size // 8
generator = torch.Generator("cpu").manual_seed(0)
latents = torch.randn(batch, config.in_channels, side, side, generator=generator)
inputs = {"encoder_hidden_states": torch.randn(batch, 77, config.cross_attention_dim, generator=generator)}
if config.addition_embed_type == "text_time":  # SDXL: pooled text embeds and six time ids
    pooled = config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim
    inputs["added_cond_kwargs"] = {
        "text_embeds": torch.randn(batch, pooled, generator=generator),
        "time_ids": torch.tensor([[args.size, args.size, 0, 0, args.size, args.size]] * batch, dtype=torch.float32)}
if config.time_cond_proj_dim is not None:  # LCM: the guidance embedding
    inputs["timestep_cond"] = torch.randn(batch, config.time_cond_proj_dim, generator=generator)


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
        unet(latents, torch.tensor([999]), **inputs)


precision = "bf16 autocast" if args.bf16 else "fp32"
step_times = timed(unet_step)
result = {"model": folder.name, "size": args.size, "batch": batch, "precision": precision, "threads": args.threads,
          "unet_step_s": statistics.median(step_times), "torch": torch.__version__}
print(f"diffusers {folder.name} UNet step {args.size}², batch {batch}, {precision}, {args.threads} threads: "
      f"median {result['unet_step_s']:.2f} s (runs {', '.join(f'{t:.2f}' for t in step_times)})", flush=True)
del unet

if not args.no_decode:
    vae = AutoencoderKL.from_pretrained(folder / "vae", torch_dtype=torch.float32).eval()
    one = torch.randn(1, vae.config.latent_channels, side, side, generator=generator) / vae.config.scaling_factor

    def decode():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            vae.decode(one)

    decode_times = timed(decode)
    result["vae_decode_s"] = statistics.median(decode_times)
    print(f"diffusers {folder.name} VAE decode {args.size}², {precision}: median {result['vae_decode_s']:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in decode_times)})")

result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
print(json.dumps(result))
