"""Writes a full-size diffusers folder with seeded random weights, for benchmarks of real checkpoint
loading and whole runs (`sdedit bench --model DIR`, `sdedit txt2img --model DIR`, start-up time, peak
memory with 16-bit weights). It draws noise; only the shapes are real.

    python scripts/bench/make_random_model.py OUT_DIR [--dtype fp16|bf16|fp32] [--arch sd15|sd21]
        [--lcm] [--turbo] [--taesd TAESD_DIR]

- `--arch sd15`: runwayml/stable-diffusion-v1-5 shapes (CLIP ViT-L/14 text encoder); `--arch sd21`:
  stabilityai/stable-diffusion-2-1-base = sd-turbo shapes (OpenCLIP ViT-H text encoder, 23 layers,
  linear projections, heads [5, 10, 20, 20]);
- `--arch sdxl`: stabilityai/stable-diffusion-xl-base-1.0 shapes (CLIP-L + OpenCLIP-bigG with projection,
  UNet 2.6 B parameters, VAE scaling 0.13025); about 6.9 GB in fp16;
- `--lcm`: an LCM-distilled UNet (`time_cond_proj_dim` 256, LCMScheduler like LCM_Dreamshaper_v7);
- `--turbo`: SD-Turbo's scheduler (EulerDiscreteScheduler, trailing spacing);
- `--taesd DIR`: also writes madebyollin's TAESD architecture (AutoencoderTiny, 64 channels) to DIR.
Tokenizers come from the tiny committed models (same CLIP vocabulary; sd2-tiny's pads with "!").
About 2 GB in fp16 (2.6 GB for sd21). Needs torch, diffusers and transformers (scripts/requirements.txt).
"""
import argparse
import json
import shutil
from pathlib import Path

import torch
from diffusers import AutoencoderKL, AutoencoderTiny, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
parser.add_argument("--arch", default="sd15", choices=["sd15", "sd21", "sdxl"])
parser.add_argument("--lcm", action="store_true")
parser.add_argument("--turbo", action="store_true")
parser.add_argument("--taesd")
args = parser.parse_args()


def write_sdxl():
    """SDXL base: the configs of stabilityai/stable-diffusion-xl-base-1.0 (notes/sdxl-turbo-lcm.md)."""
    from transformers import CLIPTextModelWithProjection

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=128, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280), layers_per_block=2,
        attention_head_dim=[5, 10, 20], cross_attention_dim=2048, use_linear_projection=True, norm_num_groups=32,
        transformer_layers_per_block=[1, 2, 10], addition_embed_type="text_time", addition_time_embed_dim=256,
        projection_class_embeddings_input_dim=2816,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"))
    unet.to(dtype).save_pretrained(out / "unet", safe_serialization=True)
    del unet
    AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32,
        sample_size=1024, scaling_factor=0.13025, force_upcast=True).to(dtype).save_pretrained(out / "vae", safe_serialization=True)
    CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
        max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768, eos_token_id=2,
    )).to(dtype).save_pretrained(out / "text_encoder", safe_serialization=True)
    CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
        max_position_embeddings=77, hidden_act="gelu", projection_dim=1280, eos_token_id=2,
    )).to(dtype).save_pretrained(out / "text_encoder_2", safe_serialization=True)
    tiny = fixtures / "sdxl-tiny"
    for part in ("tokenizer", "tokenizer_2", "scheduler"):
        shutil.copytree(tiny / part, out / part, dirs_exist_ok=True)
    shutil.copy(tiny / "model_index.json", out / "model_index.json")
    print(f"wrote {out} (sdxl, {args.dtype})")


dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
out = Path(args.out)
fixtures = Path(__file__).resolve().parents[2] / "Tests/Fixtures/models"
tiny = fixtures / ("sd1-tiny" if args.arch == "sd15" else "sd2-tiny")
torch.manual_seed(0)

sd21, sdxl = args.arch == "sd21", args.arch == "sdxl"
if sdxl:
    write_sdxl()
    raise SystemExit(0)
unet = UNet2DConditionModel(
    sample_size=64, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
    attention_head_dim=[5, 10, 20, 20] if sd21 else 8, cross_attention_dim=1024 if sd21 else 768,
    use_linear_projection=sd21, norm_num_groups=32, time_cond_proj_dim=256 if args.lcm else None,
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
if sd21:
    text = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23, num_attention_heads=16,
        max_position_embeddings=77, hidden_act="gelu", projection_dim=512))
else:
    text = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
        max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768))
text.to(dtype).save_pretrained(out / "text_encoder", safe_serialization=True)
del text
shutil.copytree(tiny / "tokenizer", out / "tokenizer", dirs_exist_ok=True)
index = json.loads((fixtures / "sd1-tiny" / "model_index.json").read_text())
scheduler_source = fixtures / ("sd1-lcm-tiny" if args.lcm else "sd1-turbo-tiny" if args.turbo else tiny.name) / "scheduler"
shutil.copytree(scheduler_source, out / "scheduler", dirs_exist_ok=True)
index["scheduler"] = ["diffusers", json.loads((out / "scheduler/scheduler_config.json").read_text())["_class_name"]]
(out / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")
if args.taesd:
    AutoencoderTiny().to(dtype).save_pretrained(args.taesd, safe_serialization=True)
print(f"wrote {out} ({args.arch}, {args.dtype}{', LCM UNet' if args.lcm else ''}{', SD-Turbo scheduler' if args.turbo else ''})"
      + (f" and {args.taesd}" if args.taesd else ""))
