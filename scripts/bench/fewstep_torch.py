"""Times diffusers + PyTorch on the same full-size random-weight folders sdedit is timed on
(scripts/bench/make_random_model.py), for the few-step figures: one image end to end, after one
warm-up run, median of --repeats (load time excluded, as for sdedit's --timings "generate").

    python scripts/bench/fewstep_torch.py --model DIR [--taesd DIR] [--steps 4] [--guidance 1]
        [--sampler lcm|euler|euler-a|tcd] [--size 512] [--bf16] [--threads 2] [--repeats 3]

Pinned stack: scripts/requirements.txt (torch 2.13.0+cpu, diffusers 0.42.1). `--bf16` runs under
`torch.autocast("cpu", dtype=torch.bfloat16)`, as PyTorch users get bf16 on CPUs.
"""
import argparse
import statistics
import time

import torch
from diffusers import (AutoencoderTiny, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler, LCMScheduler,
                       StableDiffusionPipeline, TCDScheduler)

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--taesd")
parser.add_argument("--steps", type=int, default=4)
parser.add_argument("--guidance", type=float, default=1.0)
parser.add_argument("--sampler", choices=["lcm", "euler", "euler-a", "tcd"])
parser.add_argument("--size", type=int, default=512)
parser.add_argument("--bf16", action="store_true")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()
torch.set_num_threads(args.threads)

pipe = StableDiffusionPipeline.from_pretrained(args.model, dtype=torch.float32, safety_checker=None,
                                               requires_safety_checker=False)
pipe.set_progress_bar_config(disable=True)
if args.sampler:
    cls = {"lcm": LCMScheduler, "euler": EulerDiscreteScheduler, "euler-a": EulerAncestralDiscreteScheduler,
           "tcd": TCDScheduler}[args.sampler]
    pipe.scheduler = cls.from_config(pipe.scheduler.config)
if args.taesd:
    pipe.vae = AutoencoderTiny.from_pretrained(args.taesd, dtype=torch.float32)


def run() -> float:
    start = time.perf_counter()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        pipe("a lighthouse at dusk", height=args.size, width=args.size, num_inference_steps=args.steps,
             guidance_scale=args.guidance, generator=torch.Generator("cpu").manual_seed(0), output_type="np")
    return time.perf_counter() - start


run()  # warm-up: oneDNN builds its kernels on the first call
times = [run() for _ in range(args.repeats)]
print(f"diffusers {args.steps} steps, guidance {args.guidance}, {args.size}², taesd={bool(args.taesd)}, "
      f"{'bf16 autocast' if args.bf16 else 'fp32'}, {args.threads} threads: median {statistics.median(times):.2f} s "
      f"(runs {', '.join(f'{t:.2f}' for t in times)}); torch {torch.__version__}")
