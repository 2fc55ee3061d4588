#!/usr/bin/env python3
"""Trains sdedit's built-in demo model (issue 11) on the synthetic shapes of dataset.py.

Architectures are exactly the ones sdedit loads for Stable Diffusion 1.x:
  - vae/:          diffusers AutoencoderKL, 64x64x3 <-> 4x16x16 (3 blocks (32, 64, 64), 1 layer each,
                   32 groups, mid-block attention), trained with L1 + L2 reconstruction + a small KL;
                   `scaling_factor` = 1 / std of the latents of the data set, as SD did;
  - text_encoder/: transformers CLIPTextModel (hidden 64, 3 layers, 4 heads, intermediate 128,
                   vocab 49408, 77 positions, quick_gelu), trained jointly with the UNet;
  - tokenizer/:    the real CLIP BPE tokenizer, built from the vocabulary bundled with sdedit
                   (Sources/SDModels/Resources/bpe_simple_vocab_16e6.txt.gz), SD1.x files;
  - unet/:         diffusers UNet2DConditionModel on 4x16x16 latents (block_out_channels (64, 128),
                   CrossAttnDownBlock2D + DownBlock2D / UpBlock2D + CrossAttnUpBlock2D, cross-attention
                   mid block, 4 heads, cross_attention_dim 64, 32 groups),
                   epsilon prediction, DDPM scaled_linear betas 0.00085..0.012 over 1000 steps,
                   10% caption dropout (empty prompt) so classifier-free guidance works;
  - scheduler/:    SD1.5's PNDMScheduler config; model_index.json: StableDiffusionPipeline with
                   feature_extractor / safety_checker / image_encoder null.
Weights are saved in float16 safetensors (EMA weights for UNet and text encoder).

Optionally (--clip-steps N > 0) also a tiny transformers CLIPModel for `sdedit rank`
(image_size 224, patch 32, hidden 64, 2 layers per tower), trained contrastively on the same scenes
upsampled to 224, saved as a transformers CLIP folder next to the model (<out>-clip).

Each stage stops at its --*-steps or its --*-seconds, whichever comes first; the learning rate
follows a cosine over max(step / steps, elapsed / seconds), so a time-capped stage still anneals.

Outputs (for --out DIR):
  DIR/                   the diffusers folder (loadable by StableDiffusionPipeline.from_pretrained)
  DIR-clip/              the CLIP folder (only with --clip-steps > 0)
  DIR.tar.gz             the folder as one archive (unless --no-tar); --tar-only then removes the folders
  DIR-clip.tar.gz        likewise (only with --clip-steps > 0); each archive stays under 16 MiB
  DIR_losses.csv         stage, step, seconds, loss, lr (every --log-every steps)
  DIR_report.json        arguments, timings, parameter counts, file sizes, latent statistics,
                         and the sample_check judge results (unless --no-check)
  DIR_grid.png           the sample_check grid (unless --no-check)

CPU smoke test:
  /work/pyenv/bin/python scripts/demo/train.py --device cpu --out /tmp/demo --pool 512 \
      --vae-steps 20 --unet-steps 20 --clip-steps 20 --batch 16 --threads 1
GPU (one H100, about 7.5 minutes in all: data ~15 s, VAE <= 90 s, UNet + text encoder <= 260 s,
CLIP <= 40 s, saving, archives and the check ~20 s; the step counts are upper bounds, the
--*-seconds caps decide on a fast card):
  PYTHONUNBUFFERED=1 python3 scripts/demo/train.py --device cuda --out $OUT/demo --tar-only \
      --clip-steps 20000 2>&1 | tee $OUT/train_log.txt
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import json
import math
import os
import shutil
import sys
import tarfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_OFFLINE", "1")

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import dataset  # noqa: E402
import offline_requests  # noqa: E402

offline_requests.ensure_requests()
from export import CLIP_MEAN, CLIP_STD, folder_sizes, save_clip, save_pipeline, write_tokenizer  # noqa: E402


# ------------------------------------------------------------------------------------ helpers

class Logger:
    def __init__(self, path: Path):
        self.file = open(path, "w", newline="")
        self.csv = csv.writer(self.file)
        self.csv.writerow(["stage", "step", "seconds", "loss", "lr"])

    def log(self, stage, step, seconds, loss, lr, echo=False):
        self.csv.writerow([stage, step, f"{seconds:.2f}", f"{loss:.6f}", f"{lr:.3e}"])
        self.file.flush()
        if echo:
            print(f"[{stage}] step {step:6d}  {seconds:7.1f}s  loss {loss:.5f}  lr {lr:.2e}", flush=True)


class Schedule:
    """Linear warm-up then cosine to `floor`*lr over progress = max(step/steps, elapsed/seconds)."""

    def __init__(self, lr, steps, seconds, warmup=100, floor=0.1):
        self.lr, self.steps, self.seconds, self.warmup, self.floor = lr, steps, seconds, warmup, floor
        self.start = time.time()

    def elapsed(self):
        return time.time() - self.start

    def progress(self, step):
        return max(step / max(self.steps, 1), self.elapsed() / self.seconds if self.seconds > 0 else 0.0)

    def done(self, step):
        return self.progress(step) >= 1.0

    def rate(self, step):
        warm = min(1.0, (step + 1) / self.warmup)
        p = min(1.0, self.progress(step))
        return self.lr * warm * (self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * p)))


class EMA:
    """Exponential moving average of parameters, decay min(decay, (1 + n) / (10 + n))."""

    def __init__(self, params, decay):
        self.params = [p for p in params if p.requires_grad]
        self.shadow = [p.detach().clone().float() for p in self.params]
        self.decay, self.n = decay, 0

    @torch.no_grad()
    def update(self):
        self.n += 1
        d = min(self.decay, (1 + self.n) / (10 + self.n))
        torch._foreach_lerp_(self.shadow, [p.detach().float() for p in self.params], 1 - d)

    @torch.no_grad()
    def copy_to(self):
        for p, s in zip(self.params, self.shadow):
            p.copy_(s.to(p.dtype))


def autocast(args):
    if args.device.startswith("cuda") and args.bf16:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def fused(args) -> dict:
    return {"fused": True} if args.device.startswith("cuda") else {}


def make_pool(args) -> tuple[torch.Tensor, list]:
    """uint8 [N, 3, 64, 64] pictures and the scenes of items 0..N-1 (rendered in --workers processes)."""
    n = args.pool
    scenes = [dataset.scene(i, args.seed) for i in range(n)]
    chunks = [range(i, min(n, i + 1024)) for i in range(0, n, 1024)]
    parts = None
    if args.workers > 1 and n > 1024:
        try:
            with cf.ProcessPoolExecutor(args.workers) as ex:
                parts = list(ex.map(dataset.render_array, chunks, [args.seed] * len(chunks)))
        except Exception as e:  # no processes here: render serially
            print(f"pool workers failed ({type(e).__name__}: {e}); rendering in this process", flush=True)
    if parts is None:
        parts = [dataset.render_array(c, args.seed) for c in chunks]
    images = torch.from_numpy(np.concatenate(parts)).permute(0, 3, 1, 2).contiguous()
    return images, scenes


def tokenize_captions(tokenizer, scenes, k, seed) -> torch.Tensor:
    """int64 [N, k, 77]: k random captions of every scene (padded with <|endoftext|> to 77, as the
    pipeline does); the caption rng is seeded from (seed, 2)."""
    rng = np.random.default_rng([seed, 2])
    texts = [dataset.caption(s, rng) for s in scenes for _ in range(k)]
    unique = sorted(set(texts))
    ids = tokenizer(unique, padding="max_length", max_length=77, truncation=True).input_ids
    row = {t: i for i, t in enumerate(unique)}
    table = torch.tensor(np.asarray(ids, dtype=np.int64))
    return table[torch.tensor([row[t] for t in texts])].view(len(scenes), k, 77)


def to_unit(images_u8: torch.Tensor) -> torch.Tensor:
    return images_u8.float() / 127.5 - 1.0


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------------------------ stages

def build_vae():
    from diffusers import AutoencoderKL
    return AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3, block_out_channels=(32, 64, 64), layers_per_block=1,
        act_fn="silu", latent_channels=4, norm_num_groups=32, sample_size=64,
    )


def train_vae(args, images, log):
    dev = args.device
    vae = build_vae().to(dev).train()
    opt = torch.optim.AdamW(vae.parameters(), lr=args.vae_lr, weight_decay=0.0, betas=(0.9, 0.99), **fused(args))
    sched = Schedule(args.vae_lr, args.vae_steps, args.vae_seconds, warmup=min(100, max(1, args.vae_steps // 10)))
    gen = torch.Generator(device=dev).manual_seed(args.seed + 11)
    n, step = images.shape[0], 0
    while not sched.done(step):
        idx = torch.randint(0, n, (args.vae_batch,), generator=gen, device=dev)
        x = to_unit(images[idx])
        for g in opt.param_groups:
            g["lr"] = sched.rate(step)
        with autocast(args):
            post = vae.encode(x).latent_dist
            z = post.sample()
            rec = vae.decode(z).sample.float()
        kl = 0.5 * (post.mean.float() ** 2 + post.var.float() - 1.0 - post.logvar.float()).mean()
        loss = F.l1_loss(rec, x) + F.mse_loss(rec, x) + args.kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        if step % args.log_every == 0 or sched.done(step + 1):
            log.log("vae", step, sched.elapsed(), loss.item(), sched.rate(step), echo=step % (args.log_every * 10) == 0)
        step += 1
    vae.eval()
    return vae, step, sched.elapsed()


@torch.no_grad()
def encode_pool(args, vae, images):
    """Posterior mean and std [N, 4, 16, 16] of every picture, and the reconstruction PSNR (dB)."""
    means, stds, se, count_px = [], [], 0.0, 0
    for i in range(0, images.shape[0], 512):
        x = to_unit(images[i:i + 512].to(args.device))
        with autocast(args):
            post = vae.encode(x).latent_dist
        means.append(post.mean.float())
        stds.append(post.std.float())
        if i < 512:  # PSNR on the first 512 pictures
            with autocast(args):
                rec = vae.decode(post.mean).sample.float().clamp(-1, 1)
            se += ((rec - x) ** 2).sum().item()
            count_px += x.numel()
    mse = se / count_px / 4.0  # on a [0, 1] scale
    return torch.cat(means), torch.cat(stds), 10 * math.log10(1.0 / max(mse, 1e-12))


def build_text_encoder(args):
    from transformers import CLIPTextConfig, CLIPTextModel
    config = CLIPTextConfig(
        vocab_size=49408, hidden_size=args.text_hidden, intermediate_size=2 * args.text_hidden,
        num_hidden_layers=args.text_layers, num_attention_heads=4, max_position_embeddings=77,
        hidden_act="quick_gelu", projection_dim=args.text_hidden,
    )
    return CLIPTextModel(config)


def build_unet(args):
    """--unet-attn first: cross-attention at the 16x16 level (and the 8x8 mid block), as SD puts
    DownBlock2D / UpBlock2D at its coarsest level; both: cross-attention at both levels."""
    from diffusers import UNet2DConditionModel
    both = args.unet_attn == "both"
    return UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=tuple(int(c) for c in args.unet_channels.split(",")),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D" if both else "DownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D" if both else "UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=args.text_hidden, attention_head_dim=4, norm_num_groups=32,
    )


def train_unet(args, lat_mean, lat_std, scale, token_ids, empty_ids, log):
    dev = args.device
    unet, te = build_unet(args).to(dev).train(), build_text_encoder(args).to(dev).train()
    params = list(unet.parameters()) + list(te.parameters())
    opt = torch.optim.AdamW(params, lr=args.unet_lr, weight_decay=0.01, betas=(0.9, 0.99), **fused(args))
    ema = EMA(params, args.ema)
    sched = Schedule(args.unet_lr, args.unet_steps, args.unet_seconds, warmup=min(200, max(1, args.unet_steps // 10)))
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2  # scaled_linear
    acp = torch.cumprod(1 - betas, 0).float().to(dev)
    gen = torch.Generator(device=dev).manual_seed(args.seed + 22)  # all sampling on the device: no syncs
    n, k, step = lat_mean.shape[0], token_ids.shape[1], 0
    token_ids, empty_ids = token_ids.to(dev), empty_ids.to(dev)
    while not sched.done(step):
        b = args.batch
        idx = torch.randint(0, n, (b,), generator=gen, device=dev)
        which = torch.randint(0, k, (b,), generator=gen, device=dev)
        drop = torch.rand(b, generator=gen, device=dev) < args.dropout
        t = torch.randint(0, 1000, (b,), generator=gen, device=dev)
        ids = torch.where(drop[:, None], empty_ids[None, :], token_ids[idx, which])
        mean = lat_mean[idx]
        z = (mean + lat_std[idx] * torch.randn(mean.shape, generator=gen, device=dev)) * scale
        noise = torch.randn(z.shape, generator=gen, device=dev)
        a = acp[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * z + (1 - a).sqrt() * noise
        for g in opt.param_groups:
            g["lr"] = sched.rate(step)
        with autocast(args):
            cond = te(input_ids=ids).last_hidden_state
            pred = unet(noisy, t, encoder_hidden_states=cond).sample.float()
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema.update()
        if step % args.log_every == 0 or sched.done(step + 1):
            log.log("unet", step, sched.elapsed(), loss.item(), sched.rate(step), echo=step % (args.log_every * 10) == 0)
        step += 1
    ema.copy_to()
    return unet.eval(), te.eval(), step, sched.elapsed()


def build_clip():
    from transformers import CLIPConfig, CLIPModel
    config = CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu"),
        vision_config=dict(image_size=224, patch_size=32, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, hidden_act="quick_gelu", num_channels=3),
        projection_dim=32, logit_scale_init_value=2.6592,
    )
    return CLIPModel(config)


def clip_pixels(images_u8: torch.Tensor) -> torch.Tensor:
    """[B, 3, 224, 224] CLIP inputs: bicubic upsampling to 224 (as CLIPImageProcessor's shortest-edge
    resize does for a square picture; torch's cubic kernel differs slightly from PIL's), then
    CLIP mean/std normalisation."""
    x = F.interpolate(images_u8.float() / 255.0, size=(224, 224), mode="bicubic", align_corners=False).clamp(0, 1)
    mean = torch.tensor(CLIP_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def train_clip(args, images, token_ids, log):
    dev = args.device
    clip = build_clip().to(dev).train()
    opt = torch.optim.AdamW(clip.parameters(), lr=args.clip_lr, weight_decay=0.01, betas=(0.9, 0.98), **fused(args))
    sched = Schedule(args.clip_lr, args.clip_steps, args.clip_seconds, warmup=min(100, max(1, args.clip_steps // 10)))
    gen = torch.Generator(device=dev).manual_seed(args.seed + 33)
    n, k, step = images.shape[0], token_ids.shape[1], 0
    token_ids = token_ids.to(dev)
    while not sched.done(step):
        b = args.clip_batch
        idx = torch.randint(0, n, (b,), generator=gen, device=dev)
        which = torch.randint(0, k, (b,), generator=gen, device=dev)
        ids = token_ids[idx, which]
        # identical captions are positives too (many scenes share a short caption)
        same = (ids[:, None, :] == ids[None, :, :]).all(-1).float()
        target = same / same.sum(1, keepdim=True)
        for g in opt.param_groups:
            g["lr"] = sched.rate(step)
        with autocast(args):
            out = clip(input_ids=ids, pixel_values=clip_pixels(images[idx]))
        logits = out.logits_per_image.float()
        loss = 0.5 * (torch.sum(-target * F.log_softmax(logits, 1), 1).mean()
                      + torch.sum(-target * F.log_softmax(logits.t(), 1), 1).mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(clip.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            clip.logit_scale.clamp_(0, math.log(100))
        if step % args.log_every == 0 or sched.done(step + 1):
            log.log("clip", step, sched.elapsed(), loss.item(), sched.rate(step), echo=step % (args.log_every * 10) == 0)
        step += 1
    return clip.eval(), step, sched.elapsed()


# ------------------------------------------------------------------------------------ main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", required=True, type=Path, help="model folder to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = leave)")
    ap.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1), help="processes rendering the pool")
    ap.add_argument("--pool", type=int, default=65536, help="number of distinct pictures")
    ap.add_argument("--captions", type=int, default=4, help="random captions per picture")
    ap.add_argument("--no-bf16", dest="bf16", action="store_false", help="fp32 on CUDA (bf16 autocast by default)")
    # VAE
    ap.add_argument("--vae-steps", type=int, default=8000)
    ap.add_argument("--vae-seconds", type=float, default=90)
    ap.add_argument("--vae-batch", type=int, default=128)
    ap.add_argument("--vae-lr", type=float, default=1e-3)
    ap.add_argument("--kl-weight", type=float, default=1e-5, help="weight of the per-element mean KL")
    # UNet + text encoder
    ap.add_argument("--unet-steps", type=int, default=30000)
    ap.add_argument("--unet-seconds", type=float, default=260)
    ap.add_argument("--unet-channels", default="64,128", help="block_out_channels")
    ap.add_argument("--unet-attn", choices=["first", "both"], default="first", help="levels with cross-attention")
    ap.add_argument("--text-hidden", type=int, default=64, help="text encoder width = cross_attention_dim")
    ap.add_argument("--text-layers", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--unet-lr", type=float, default=5e-4)
    ap.add_argument("--dropout", type=float, default=0.1, help="caption dropout (empty prompt)")
    ap.add_argument("--ema", type=float, default=0.999)
    # CLIP for rank (optional)
    ap.add_argument("--clip-steps", type=int, default=0, help="> 0: also train a tiny CLIPModel")
    ap.add_argument("--clip-seconds", type=float, default=40)
    ap.add_argument("--clip-batch", type=int, default=256)
    ap.add_argument("--clip-lr", type=float, default=5e-4)
    # outputs
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--no-tar", dest="tar", action="store_false")
    ap.add_argument("--tar-only", action="store_true", help="remove the folders after writing the archives")
    ap.add_argument("--no-check", dest="check", action="store_false", help="skip the sample_check run")
    ap.add_argument("--check-steps", type=int, default=20)
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix = str(out)
    report = {"command": " ".join([Path(sys.executable).name] + sys.argv), "args": {k: str(v) for k, v in vars(args).items()},
              "torch": torch.__version__, "timings_s": {}}

    # data (rendered before CUDA starts, so worker processes fork a clean parent)
    images, scenes = make_pool(args)
    from transformers import CLIPTokenizer
    tok_dir = Path(prefix + "_tokenizer_tmp")
    write_tokenizer(tok_dir)
    tokenizer = CLIPTokenizer.from_pretrained(str(tok_dir))
    shutil.rmtree(tok_dir)
    token_ids = tokenize_captions(tokenizer, scenes, args.captions, args.seed)
    empty_ids = tokenizer([""], padding="max_length", max_length=77, return_tensors="pt").input_ids[0]
    report["timings_s"]["data"] = round(time.time() - t0, 1)
    print(f"data: {images.shape[0]} pictures, {token_ids.shape[0] * token_ids.shape[1]} captions, "
          f"{time.time() - t0:.1f}s", flush=True)

    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        report["gpu"] = torch.cuda.get_device_name()
    images = images.to(args.device)
    log = Logger(Path(prefix + "_losses.csv"))

    vae, steps, secs = train_vae(args, images, log)
    lat_mean, lat_std, psnr = encode_pool(args, vae, images)
    sample = lat_mean + lat_std * torch.randn_like(lat_mean)
    std = sample.std().item()
    scale = 1.0 / std
    report["vae"] = {"steps": steps, "seconds": round(secs, 1), "params": count(vae), "psnr_db": round(psnr, 2),
                     "latent_std": std, "latent_mean": sample.mean().item(), "scaling_factor": scale,
                     "channel_mean": sample.mean((0, 2, 3)).tolist(), "channel_std": sample.std((0, 2, 3)).tolist(),
                     "posterior_std_mean": lat_std.mean().item()}
    print(f"vae: {steps} steps in {secs:.0f}s, reconstruction PSNR {psnr:.1f} dB, latent std {std:.4f}, "
          f"scaling_factor {scale:.5f}", flush=True)

    unet, te, steps, secs = train_unet(args, lat_mean, lat_std, scale, token_ids, empty_ids, log)
    report["unet"] = {"steps": steps, "seconds": round(secs, 1), "params": count(unet), "text_params": count(te)}
    print(f"unet+text encoder: {steps} steps in {secs:.0f}s", flush=True)

    save_pipeline(out, vae, te, unet, scale)
    report["files"] = folder_sizes(out)
    report["total_bytes"] = sum(report["files"].values())
    folders = [out]
    if args.clip_steps > 0:
        try:
            clip, steps, secs = train_clip(args, images, token_ids, log)
            clip_dir = Path(prefix + "-clip")
            save_clip(clip_dir, clip)
            report["clip"] = {"steps": steps, "seconds": round(secs, 1), "params": count(clip),
                              "files": folder_sizes(clip_dir)}
            folders.append(clip_dir)
            print(f"clip: {steps} steps in {secs:.0f}s", flush=True)
        except Exception as e:  # report it, keep the diffusion model
            report["clip_error"] = f"{type(e).__name__}: {e}"
            print("clip failed:", report["clip_error"], flush=True)
    log.file.close()
    del images, lat_mean, lat_std
    report["timings_s"]["training_and_saving"] = round(time.time() - t0, 1)

    if args.tar:  # before the check, so that a failing check cannot cost the model
        report["archives"] = {}
        for f in folders:  # one archive per folder: each must stay under 16 MiB to come back
            with tarfile.open(f"{f}.tar.gz", "w:gz", compresslevel=6) as tar:
                tar.add(f, arcname=f.name)
            report["archives"][f"{f.name}.tar.gz"] = os.path.getsize(f"{f}.tar.gz")
    Path(prefix + "_report.json").write_text(json.dumps(report, indent=2) + "\n")

    if args.check:
        try:
            import sample_check
            report["check"] = sample_check.run(out, Path(prefix + "_grid.png"), device=args.device,
                                               steps=args.check_steps,
                                               clip_folder=folders[1] if len(folders) > 1 else None)
        except Exception as e:  # report it, keep the model
            report["check_error"] = f"{type(e).__name__}: {e}"
            print("check failed:", report["check_error"], flush=True)
        report["timings_s"]["check"] = round(time.time() - t0, 1)
    if args.tar and args.tar_only:
        for f in folders:
            shutil.rmtree(f)
    report["timings_s"]["total"] = round(time.time() - t0, 1)
    Path(prefix + "_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"model: {out} ({report['total_bytes'] / 1e6:.2f} MB)"
          + (f", archives {report['archives']}" if args.tar else ""))
    if "check" in report:
        print(f"check: {report['check']['passed']}/{report['check']['total']} prompts pass the judge")
    print(f"command: {report['command']}")
    print(f"total time: {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
