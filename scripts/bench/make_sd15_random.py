"""Writes a full-size SD 1.5 diffusers folder with seeded random weights, for benchmarks of real
checkpoint loading (`sdedit bench --model DIR`, start-up time, peak memory with 16-bit weights).

    python scripts/bench/make_sd15_random.py OUT_DIR [--dtype fp16|bf16|fp32]

Shapes and configs are runwayml/stable-diffusion-v1-5's; the tokenizer, scheduler and
model_index.json are copied from the tiny committed model (same CLIP vocabulary). About 2 GB in
fp16; it draws noise. Needs torch, diffusers and transformers (scripts/requirements.txt).
"""
import argparse
import shutil
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
args = parser.parse_args()
dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
out = Path(args.out)
tiny = Path(__file__).resolve().parents[2] / "Tests/Fixtures/models/sd1-tiny"
torch.manual_seed(0)

unet = UNet2DConditionModel(
    sample_size=64, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
    attention_head_dim=8, cross_attention_dim=768, norm_num_groups=32,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"))
unet.to(dtype).save_pretrained(out / "unet", safe_serialization=True)
del unet
vae = AutoencoderKL(
    in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32,
    sample_size=512, scaling_factor=0.18215)
vae.to(dtype).save_pretrained(out / "vae", safe_serialization=True)
del vae
text = CLIPTextModel(CLIPTextConfig(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
    max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768))
text.to(dtype).save_pretrained(out / "text_encoder", safe_serialization=True)
for part in ["tokenizer", "scheduler"]:
    shutil.copytree(tiny / part, out / part, dirs_exist_ok=True)
shutil.copy(tiny / "model_index.json", out / "model_index.json")
print(f"wrote {out} ({args.dtype})")
