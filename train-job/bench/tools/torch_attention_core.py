#!/usr/bin/env python3
"""PyTorch CPU side of the attention-core benchmark (train-job/bench, --suite attention-core).

The attention core of one chunk, forward + backward, on BenchLlama's shapes: q [1, h, T, hd], k/v [1, h, P+T, hd],
an upstream gradient dOut, causal mask over the chunk's own keys. Run by the Java benchmark as a subprocess, or alone:
    python3 train-job/bench/tools/torch_attention_core.py --pasts 0,2048 --chunk 256 --threads 1
Variants: torch-explicit (scaled q @ k^T + additive mask, softmax, @ v, autograd: the formulation of
torch_cpu_baseline.py and of Chunkwise's SameDiff graph) and torch-sdpa (F.scaled_dot_product_attention, PyTorch >= 2.0;
a line with status "unavailable" otherwise). Prints one JSON object per variant and past length.
"""
import argparse, json, math, time

import torch
import torch.nn.functional as F


def inputs(heads, chunk, past, hd, seed):
    g = torch.Generator().manual_seed(seed)
    keys = past + chunk
    q = torch.randn(1, heads, chunk, hd, generator=g).requires_grad_()
    k = torch.randn(1, heads, keys, hd, generator=g).requires_grad_()
    v = torch.randn(1, heads, keys, hd, generator=g).requires_grad_()
    d_out = torch.randn(1, heads, chunk, hd, generator=g) * 0.1
    visible = torch.ones(chunk, keys, dtype=torch.bool).tril(past)
    mask = torch.zeros(chunk, keys).masked_fill(~visible, -1e9)
    return q, k, v, d_out, mask


def explicit(q, k, v, d_out, mask):
    scores = (q * (1.0 / math.sqrt(q.shape[-1]))) @ k.transpose(-1, -2)
    out = (scores + mask).softmax(-1) @ v
    dq, dk, dv = torch.autograd.grad(out, (q, k, v), d_out)
    return out, dq, dk, dv


def sdpa(q, k, v, d_out, mask):
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    dq, dk, dv = torch.autograd.grad(out, (q, k, v), d_out)
    return out, dq, dk, dv


def nearest_rank(values, p):
    """The Java side's percentile (StepTimes), so both sides' p50 mean the same."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pasts", default="0,2048,4096,8192")
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--warmups", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    variants = {"torch-explicit": explicit}
    if hasattr(F, "scaled_dot_product_attention"):
        variants["torch-sdpa"] = sdpa
    else:
        print(json.dumps({"variant": "torch-sdpa", "status": "unavailable", "torch": torch.__version__,
                          "why": "F.scaled_dot_product_attention needs PyTorch >= 2.0"}), flush=True)
    for past in [int(p) for p in a.pasts.split(",")]:
        x = inputs(a.heads, a.chunk, past, a.head_dim, 11)
        wall = {n: [] for n in variants}
        cpu = {n: [] for n in variants}
        for _ in range(a.warmups):
            for f in variants.values():
                f(*x)
        names = list(variants)
        for r in range(a.repeats):
            for j in range(len(names)):
                n = names[(j + r) % len(names)]
                c0, t0 = time.thread_time(), time.perf_counter()
                variants[n](*x)
                wall[n].append(time.perf_counter() - t0)
                cpu[n].append(time.thread_time() - c0)
        for n in names:
            print(json.dumps({"variant": n, "past_tokens": past, "chunk_size": a.chunk, "heads": a.heads,
                              "head_dim": a.head_dim, "seconds_p50": nearest_rank(wall[n], 50),
                              "seconds_p95": nearest_rank(wall[n], 95),
                              "seconds": wall[n], "thread_cpu_seconds_p50": nearest_rank(cpu[n], 50),
                              "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
