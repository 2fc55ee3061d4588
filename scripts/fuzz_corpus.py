#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora, Fuzz/corpus/<target>/, from the committed test fixtures.

Every seed is a copy or a small derivation of a file under Tests/Fixtures (or, for the tokenizer
and the ncnn graphs, made up here), a few KB at most; the whole corpus stays under 1 MB.
Run from anywhere: `/work/pyenv/bin/python scripts/fuzz_corpus.py` (numpy only, for fp16).
Re-running replaces the corpus folders.
"""
import json
import re
import shutil
import struct
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures"
CORPUS = ROOT / "Fuzz" / "corpus"
MAX_SEED = 12288


def folder(name):
    path = CORPUS / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write(path, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) <= MAX_SEED, (path, len(data))
    path.write_bytes(data)


def safetensors_bytes(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, blobs, offset = {}, [], 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def header_of(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


# --- safetensors: the small fixture, plus each float dtype, metadata, empty and odd offsets.
def safetensors_seeds():
    out = folder("safetensors")
    shutil.copy(FIXTURES / "safetensors" / "small.safetensors", out / "small.safetensors")
    values = np.linspace(-2, 2, 12, dtype=np.float32)
    write(out / "f32.safetensors", safetensors_bytes([("w", "F32", [3, 4], values.tobytes())]))
    write(out / "f16.safetensors", safetensors_bytes([("w", "F16", [2, 6], values.astype(np.float16).tobytes())]))
    bf16 = (values.view(np.uint32) >> 16).astype(np.uint16)
    write(out / "bf16.safetensors", safetensors_bytes([("w", "BF16", [12], bf16.tobytes())], {"format": "pt"}))
    write(out / "mixed.safetensors", safetensors_bytes([
        ("a.bias", "F32", [2], values[:2].tobytes()), ("a.weight", "F16", [1, 3], values[:3].astype(np.float16).tobytes()),
        ("b", "U8", [5], bytes(range(5))), ("empty", "F32", [0, 4], b""), ("scalar", "I64", [], struct.pack("<q", 7)),
    ], {"sdedit.note": "seed"}))
    write(out / "empty.safetensors", safetensors_bytes([]))
    write(out / "odd_offset.safetensors", safetensors_bytes([("x", "U8", [1], b"\x01"), ("y", "F16", [2], values[:2].astype(np.float16).tobytes())]))


# --- images: the PNG and JPEG fixtures (valid and broken ones), and a few for the mask target.
def image_seeds():
    images = FIXTURES / "images"
    png, jpeg, mask = folder("png"), folder("jpeg"), folder("mask")
    for path in sorted(images.glob("*.png")):
        shutil.copy(path, png / path.name)
    # Regression seed (found by the png fuzzer): a tEXt chunk header declaring ~1 GB, which libpng
    # allocated before reading; run with -malloc_limit_mb it fails if the cap is lost.
    data = (images / "text_chunks.png").read_bytes()
    ihdr_end = 8 + 8 + 13 + 4
    write(png / "regression-1gb-text-chunk.png",
          data[:ihdr_end] + struct.pack(">I", 0x3C000014) + b"tEXtComment\0" + b"x" * 64 + data[ihdr_end:])
    for path in sorted(images.glob("*.jpg")):
        shutil.copy(path, jpeg / path.name)
    # EXIF orientation blocks (images/exif, scripts/fixtures/exif_orientation.py): both byte orders,
    # a malformed IFD, and a PNG eXIf chunk.
    for name in ["orientation6.jpg", "orientation8_bigendian.jpg", "huge_entry_count.jpg"]:
        shutil.copy(images / "exif" / name, jpeg / ("exif_" + name))
    shutil.copy(images / "exif" / "orientation5.png", png / "exif_orientation5.png")
    for name in ["gray8.png", "gray1.png", "rgba8.png", "palette8_trns.png", "gray16.png", "gray.jpg", "baseline420.jpg",
                 "progressive.jpg"]:
        shutil.copy(images / name, mask / name)


# --- tokenizer: prompts of every kind the normalizer and BPE handle.
def tokenizer_seeds():
    out = folder("tokenizer")
    prompts = {
        "plain.txt": "a photograph of an astronaut riding a horse",
        "weights.txt": "(masterpiece:1.2), best quality, [bad hands], {{cat}}, 1girl, 8k uhd",
        "unicode.txt": "Ça coûte 10 € — naïve café, Straße, ΑΒΓ, привет, 日本語のテキスト, 한국어",
        "emoji.txt": "a 🐱 with 👩‍👩‍👧 and 🇫🇷 flags, \u200d zero-width \ufeff bom",
        "special.txt": "<|startoftext|>hello<|endoftext|> <|endoftext|>world</w>",
        "whitespace.txt": "  tabs\tand\nnew\r\nlines   and\u00a0nbsp\u3000ideographic  ",
        "contractions.txt": "it's don't I'M we'll they've you'd she'S 's 't",
        "numbers.txt": "1234567890 3.14159 1e10 0x1F 1,000,000",
        "accents.txt": "e\u0301 a\u0300 o\u0308 combining marks \u0301\u0301\u0301",
        "long.txt": ", ".join(f"word{i} detail{i}" for i in range(120)),
    }
    for name, text in prompts.items():
        write(out / name, text)
    write(out / "invalid_utf8.bin", b"caf\xc3 \xff\xfe bad \xed\xa0\x80 surrogate \xf4\x90\x80\x80")


# --- config: every config.json of the tiny fixture models.
def config_seeds():
    out = folder("config")
    models = FIXTURES / "models"
    for path in sorted(models.glob("*/**/*config.json")):
        if path.name in ("tokenizer_config.json", "preprocessor_config.json"):
            continue
        name = "-".join(path.relative_to(models).parts)
        shutil.copy(path, out / name)
    write(out / "scheduler-karras.json", json.dumps({
        "_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085,
        "beta_end": 0.012, "num_train_timesteps": 1000, "timestep_spacing": "trailing", "use_karras_sigmas": True,
        "rescale_betas_zero_snr": True, "prediction_type": "v_prediction"}))
    write(out / "scheduler-trained.json", json.dumps({
        "_class_name": "DDIMScheduler", "trained_betas": [0.001 * i for i in range(1, 21)], "steps_offset": 1,
        "set_alpha_to_one": False, "timestep_spacing": "leading"}))


# --- singlefile: the tensor tables of the tiny single-file checkpoints, as `name d0 d1 …` lines
# (dimensions past the second set to 1: the detector reads only the first two), plus metadata.
def singlefile_seeds():
    out = folder("singlefile")
    for stem in ["sd1-tiny", "sd2-tiny", "sd1-inpaint-tiny"]:
        header = header_of(FIXTURES / "models" / f"{stem}.safetensors")
        lines = []
        for name, entry in sorted(header.items()):
            if name == "__metadata__":
                for key, value in sorted(entry.items()):
                    lines.append(f"@{key} {value}")
                continue
            shape = entry["shape"][:2] + [1] * max(0, len(entry["shape"]) - 2)
            lines.append(" ".join([name] + [str(d) for d in shape]))
        text = "\n".join(lines) + "\n"
        # The full table is larger than a seed should be: keep the entries detection reads (and a
        # few more for the key maps), as regular expressions over the names.
        wanted = re.compile("|".join([
            r"^@", r"input_blocks\.[0-9]+\.0\.(op|out_layers\.3)\.", r"input_blocks\.0\.0\.", r"input_blocks\.1\.",
            r"input_blocks\.[0-9]+\.1\.(proj_in|transformer_blocks\.0\.attn2\.to_k)\.", r"diffusion_model\.out\.",
            r"label_emb", r"middle_block\.0\.in_layers", r"encoder\.down\.[0-9]+\.block\.[0-9]+\.conv1\.",
            r"post_quant_conv", r"encoder\.conv_in", r"decoder\.mid\.attn_1", r"token_embedding", r"position(al)?_embedding",
            r"(layers|resblocks)\.0\.", r"layers\.[0-9]+\.layer_norm1\.weight", r"resblocks\.[0-9]+\.(ln_1\.weight|attn\.in_proj)",
        ]))
        keep = [line for line in text.splitlines() if wanted.search(line)]
        seed = "\n".join(keep) + "\n"
        write(out / f"{stem}.txt", seed)


# --- ncnn: small graphs with every supported layer type and their .bin weights (fp16 and fp32).
def ncnn_seeds():
    out = folder("ncnn")

    def tagged_f16(values):
        data = struct.pack("<I", 0x01306B47) + np.asarray(values, dtype=np.float16).tobytes()
        return data + b"\0" * (-len(data) % 4)

    def tagged_f32(values):
        return struct.pack("<I", 0) + np.asarray(values, dtype=np.float32).tobytes()

    def raw(values):
        return np.asarray(values, dtype=np.float32).tobytes()

    rng = np.random.default_rng(0)
    compact = """7767517
8 9
Input input 0 1 data
Split split 1 2 data d0 d1
Convolution conv0 1 1 d1 c0 0=4 1=3 4=1 5=1 6=108
PReLU act0 1 1 c0 a0 0=4
Convolution conv1 1 1 a0 c1 0=12 1=3 4=1 5=1 6=432
PixelShuffle shuffle 1 1 c1 s 0=2
Interp up 1 1 d0 u 0=1 1=2.000000e+00 2=2.000000e+00
BinaryOp add 2 1 s u output 0=0
"""
    weights = tagged_f16(rng.normal(size=108)) + raw(rng.normal(size=4)) + raw([0.1] * 4) \
        + tagged_f32(rng.normal(size=432)) + raw(rng.normal(size=12))
    write(out / "compact-x2.ncnn", compact.encode() + b"\0" + weights)

    rrdb = """7767517
9 11
Input input 0 1 data
Convolution first 1 1 data f 0=4 1=3 4=1 5=1 6=108 9=2 -23310=1,2.000000e-01
Split split 1 3 f f0 f1 f2
Convolution c1 1 1 f0 x1 0=2 1=3 4=1 5=1 6=72 9=2 -23310=1,2.000000e-01
Concat cat 2 1 f1 x1 cat 0=0
Convolution c2 1 1 cat x2 0=4 1=3 4=1 5=1 6=216
Eltwise sum 2 1 x2 f2 e 0=1 -23301=2,2.000000e-01,1.000000e+00
Interp up 1 1 e u 0=1 1=2.000000e+00 2=2.000000e+00
Convolution last 1 1 u output 0=3 1=1 5=1 6=12
"""
    weights = tagged_f16(rng.normal(size=108)) + raw(rng.normal(size=4)) \
        + tagged_f16(rng.normal(size=72)) + raw(rng.normal(size=2)) \
        + tagged_f16(rng.normal(size=216)) + raw(rng.normal(size=4)) \
        + tagged_f32(rng.normal(size=12)) + raw(rng.normal(size=3))
    write(out / "rrdb-x2.ncnn", rrdb.encode() + b"\0" + weights)

    scalar = """7767517
4 4
Input input 0 1 data 0=8 1=8 2=3
BinaryOp mul 1 1 data m 0=2 1=1 2=5.000000e-01
PixelShuffle ps 1 1 m p 0=1 1=1
Convolution conv 1 1 p output 0=3 1=3 2=1 3=2 4=-233 5=0 6=81
"""
    write(out / "scalar.ncnn", scalar.encode() + b"\0" + tagged_f32(rng.normal(size=81)))


if __name__ == "__main__":
    safetensors_seeds()
    image_seeds()
    tokenizer_seeds()
    config_seeds()
    singlefile_seeds()
    ncnn_seeds()
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    count = sum(1 for p in CORPUS.rglob("*") if p.is_file())
    print(f"{count} seeds, {total} bytes in {CORPUS.relative_to(ROOT)}")
    assert total <= 1 << 20
