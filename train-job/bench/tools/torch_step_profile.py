#!/usr/bin/env python3
"""PyTorch CPU side of the step-profile benchmark (train-job/bench, --suite step-profile).

One SeCO chunk step of torch_cpu_baseline.py's model (the backward visit of one chunk: forward with the past K/V
as leaves, backward of loss + sum(K * gK) + sum(V * gV)), at chunk T and past P, under torch.profiler on one
thread. Each op's self time goes to the category of the model part it ran in: forward ops by the
record_function scope the model opens around each part (Llama.scope), backward ops by the forward op that
recorded their autograd node (sequence number). Categories are the Java side's (OpCategories). Run by the Java
benchmark as a subprocess (torch_cpu_baseline.py beside this file), or alone:
    python3 train-job/bench/tools/torch_step_profile.py --pasts 0,2048 --chunk 256 --threads 1
Prints one JSON object per past length: medians over the repeats; plain (unprofiled) steps alternate with
profiled ones, so the profiler's own cost shows as the difference.
"""
import argparse, json, math, os, sys, time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_cpu_baseline import Llama, chunk_loss_sum  # noqa: E402

PREFIX = "cat:"
CATEGORIES = ["attention_core", "qkvo_projections", "mlp_matmuls", "mlp_elementwise", "rmsnorm", "rope", "lm_head",
              "loss", "kv_concat_inject", "reshape_permute", "residual_add", "other", "embedding"]


def nearest_rank(values, p):
    """The Java side's percentile (StepTimes), so both sides' p50 mean the same."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def make_step(model, chunk, past, seed):
    g = torch.Generator().manual_seed(seed)
    hd, layers = model.hd, len(model.layers)
    ids = torch.randint(0, 8192, (1, chunk), generator=g)
    lab = torch.randint(0, 8192, (1, chunk), generator=g)
    past_kv = [(torch.randn(1, model.kv_heads, past, hd, generator=g) * 0.1,
                torch.randn(1, model.kv_heads, past, hd, generator=g) * 0.1) for _ in range(layers)]
    up = [(torch.randn(1, model.kv_heads, chunk, hd, generator=g) * 0.1,
           torch.randn(1, model.kv_heads, chunk, hd, generator=g) * 0.1) for _ in range(layers)]

    def step():
        pst = [(k.requires_grad_(), v.requires_grad_()) for k, v in past_kv] if past > 0 else None
        loss, kv = chunk_loss_sum(model, ids, lab, pst, past)
        with model.scope("kv_concat_inject"):
            total = loss * (1.0 / chunk)   # the Java side's loss weights: 1/T per token
            for (k, v), (gk, gv) in zip(kv, up):
                total = total + (k * gk).sum() + (v * gv).sum()
        total.backward()
        if pst is not None:
            for k, v in pst:
                k.grad, v.grad = None, None
    return step


def categorize(events):
    """Self CPU microseconds per category, and the record_function scopes' own time (Python between ops)."""
    seq_cat = {}
    def scope_of(e):
        while e is not None:
            if e.name.startswith(PREFIX):
                return e.name[len(PREFIX):]
            e = e.cpu_parent
        return None
    for e in events:
        if e.sequence_nr is not None and e.sequence_nr >= 0 and "Backward" not in e.name:
            cat = scope_of(e)
            if cat is not None and e.sequence_nr not in seq_cat:
                seq_cat[e.sequence_nr] = cat
    totals = {c: 0.0 for c in CATEGORIES}
    calls = {c: 0 for c in CATEGORIES}
    scopes = 0.0
    for e in events:
        if e.name.startswith(PREFIX):
            scopes += e.self_cpu_time_total
            continue
        cat = None
        a = e
        while a is not None and cat is None:
            if a.name.startswith(PREFIX):
                cat = a.name[len(PREFIX):]
            elif "Backward" in a.name and a.sequence_nr is not None and a.sequence_nr in seq_cat:
                cat = seq_cat[a.sequence_nr]
            a = a.cpu_parent
        cat = cat if cat in totals else "other"
        totals[cat] += e.self_cpu_time_total
        calls[cat] += 1
    return totals, calls, scopes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pasts", default="0,2048,4096")
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--warmups", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = Llama(vocab=8192, hidden=256, layers=4, heads=4, kv_heads=4, ffn=688)
    model.scope = lambda name: torch.profiler.record_function(PREFIX + name)
    for past in [int(p) for p in a.pasts.split(",")]:
        step = make_step(model, a.chunk, past, 11)
        for _ in range(max(1, a.warmups)):
            model.zero_grad(set_to_none=True)
            step()
        plain, plain_cpu, wall, cpu, ops, scope_us = [], [], [], [], [], []
        cats = {c: [] for c in CATEGORIES}
        calls = {}
        for _ in range(a.repeats):
            model.zero_grad(set_to_none=True)
            t0, c0 = time.perf_counter(), time.thread_time()
            step()
            plain.append(time.perf_counter() - t0)
            plain_cpu.append(time.thread_time() - c0)
            model.zero_grad(set_to_none=True)
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                t0, c0 = time.perf_counter(), time.thread_time()
                step()
                wall.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
            totals, calls, scopes = categorize(prof.events())
            for c in CATEGORIES:
                cats[c].append(totals[c])
            ops.append(sum(totals.values()))
            scope_us.append(scopes)
        ms = lambda xs: nearest_rank(xs, 50) * 1e3
        us = lambda xs: nearest_rank(xs, 50) / 1e3
        print(json.dumps({
            "side": "pytorch", "framework": "pytorch-" + torch.__version__, "past_tokens": past,
            "chunk_size": a.chunk, "layers": len(model.layers), "repeats": a.repeats, "threads": a.threads,
            "plain_step_wall_ms_p50": ms(plain), "plain_step_cpu_ms_p50": ms(plain_cpu),
            "step_wall_ms_p50": ms(wall), "step_cpu_ms_p50": ms(cpu), "ops_wall_ms_p50": us(ops),
            "scopes_self_ms_p50": us(scope_us),
            "categories": {c: {"wall_ms_p50": us(cats[c]), "profiler_events": calls.get(c, 0)} for c in CATEGORIES},
        }), flush=True)


if __name__ == "__main__":
    main()
