"""Writes the demo model's folders: the diffusers SD1.x pipeline folder (model_index.json, unet/,
vae/, text_encoder/, tokenizer/, scheduler/) and the transformers CLIP folder for `sdedit rank`,
all weights float16 safetensors, text-encoder tensors under the hub's `text_model.*` names.
Used by train.py.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]

VOCAB_GZ = ROOT / "Sources/SDModels/Resources/bpe_simple_vocab_16e6.txt.gz"
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# SD1.5's scheduler/scheduler_config.json (the hub file, key for key).
SCHEDULER_SD15 = {
    "_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
    "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
    "clip_sample": False,
}
# SD1.5's feature_extractor/preprocessor_config.json (also openai/clip-vit-base-patch32's).
PREPROCESSOR_CONFIG = {
    "crop_size": 224, "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True, "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD),
    "resample": 3, "size": 224,
}



# ------------------------------------------------------------------------------------ tokenizer

def _byte_symbols() -> list[str]:
    """GPT-2/CLIP's printable stand-ins for the 256 byte values, in CLIP's vocabulary order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    order, symbols, extra = list(printable), [chr(b) for b in printable], 0
    for b in range(256):
        if b not in printable:
            order.append(b)
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def write_tokenizer(folder: Path, name: str = "openai/clip-vit-large-patch14") -> None:
    """The SD1.x tokenizer folder (vocab.json, merges.txt, tokenizer_config.json,
    special_tokens_map.json) built from the bundled BPE vocabulary the way OpenAI's
    simple_tokenizer does: 256 byte symbols, the same with "</w>", 48894 merges, 2 specials."""
    lines = gzip.decompress(VOCAB_GZ.read_bytes()).decode("utf-8").split("\n")
    merges = lines[1:49152 - 256 - 2 + 1]
    symbols = _byte_symbols()
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges] + [BOS, EOS]
    assert len(vocab) == 49408, len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "vocab.json", "w", encoding="utf-8") as f:
        json.dump({v: i for i, v in enumerate(vocab)}, f, ensure_ascii=False)
        f.write("\n")
    with open(folder / "merges.txt", "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")

    def token(content, typed=False):
        t = {"content": content, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}
        return {"__type": "AddedToken", **t} if typed else t

    config = {
        "add_prefix_space": False, "bos_token": token(BOS, True), "do_lower_case": True,
        "eos_token": token(EOS, True), "errors": "replace", "model_max_length": 77, "name_or_path": name,
        "pad_token": EOS, "special_tokens_map_file": "./special_tokens_map.json",
        "tokenizer_class": "CLIPTokenizer", "unk_token": token(EOS, True),
    }
    special = {"bos_token": token(BOS), "eos_token": token(EOS), "pad_token": EOS, "unk_token": token(EOS)}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")


# ------------------------------------------------------------------------------------ saving

def hub_text_keys(path: Path) -> None:
    """transformers 5 saves CLIPTextModel's tensors as `embeddings.*` / `encoder.*` /
    `final_layer_norm.*`; the hub's SD text encoders (written by transformers 4), which sdedit
    reads, name them `text_model.*`. transformers 5 loads both, so rewrite to the hub layout."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(path))
    renamed = {(k if k.startswith("text_model.") else "text_model." + k): v for k, v in tensors.items()}
    save_file(renamed, str(path), metadata=meta or {"format": "pt"})


def save_pipeline(folder: Path, vae, te, unet, scale: float):
    import diffusers
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    vae.register_to_config(scaling_factor=float(scale))
    vae.to(torch.float16).save_pretrained(folder / "vae", safe_serialization=True)
    unet.to(torch.float16).save_pretrained(folder / "unet", safe_serialization=True)
    te.to(torch.float16).save_pretrained(folder / "text_encoder", safe_serialization=True)
    hub_text_keys(folder / "text_encoder" / "model.safetensors")
    write_tokenizer(folder / "tokenizer")
    (folder / "scheduler").mkdir()
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER_SD15, indent=2) + "\n")
    index = {
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": diffusers.__version__,
        "feature_extractor": [None, None], "image_encoder": [None, None], "requires_safety_checker": False,
        "safety_checker": [None, None], "scheduler": ["diffusers", "PNDMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
    }
    (folder / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")


def save_clip(folder: Path, clip):
    if folder.exists():
        shutil.rmtree(folder)
    clip.to(torch.float16).save_pretrained(folder, safe_serialization=True)
    write_tokenizer(folder, name="openai/clip-vit-base-patch32")
    (folder / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR_CONFIG, indent=2) + "\n")


def folder_sizes(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}
