#!/usr/bin/env python3
"""PyTorch CPU baseline for the benchmarks (train-job/bench): the same small Llama and the same training step, in PyTorch.

Run by the Java benchmark as a subprocess (so both sides are measured in one invocation on one machine), or alone:
    python3 train-job/bench/tools/torch_cpu_baseline.py --tokens 4096 --chunk 256 --threads 1
    # a real model's widths at reduced depth, LoRA r=16 on a frozen fp32 base (real_shape_vs_torch.sh runs this)
    python3 train-job/bench/tools/torch_cpu_baseline.py --config conf/models/smollm2-135m.json --layers 4 --lora 16 \
        --tokens 4096 --methods seco
Needs Debian's python3-torch and libopenblas0-pthread (the benchmark script installs them; without OpenBLAS
PyTorch 1.13 falls back to the reference BLAS and is ~10x slower). Prints one JSON object per method.

The model is a plain re-statement of HF's LlamaForCausalLM (RMSNorm, RoPE, GQA, SwiGLU, untied head), random
weights, float32, every parameter trainable. Methods: inference (forward only), full (plain back-propagation),
seco (chunk-wise exact gradients, docs/seco-spaco.md), spaco (t chunks visited, bernoulli sampling).
"""
import argparse, contextlib, json, math, random, resource, time

import torch
import torch.nn.functional as F


class Llama(torch.nn.Module):
    def __init__(self, vocab, hidden, layers, heads, kv_heads, ffn, theta=10000.0, eps=1e-6, tied=False, lora=0):
        super().__init__()
        self.heads, self.kv_heads, self.hd, self.eps = heads, kv_heads, hidden // heads, eps
        g = torch.Generator().manual_seed(0)
        def w(*shape):
            return torch.nn.Parameter(torch.randn(*shape, generator=g) * 0.02, requires_grad=lora == 0)
        self.embed = w(vocab, hidden)
        self.layers = torch.nn.ModuleList()
        for _ in range(layers):
            m = torch.nn.Module()
            m.q, m.k, m.v = w(heads * self.hd, hidden), w(kv_heads * self.hd, hidden), w(kv_heads * self.hd, hidden)
            m.o = w(hidden, heads * self.hd)
            m.gate, m.up, m.down = w(ffn, hidden), w(ffn, hidden), w(hidden, ffn)
            m.ln1 = torch.nn.Parameter(torch.ones(hidden), requires_grad=lora == 0)
            m.ln2 = torch.nn.Parameter(torch.ones(hidden), requires_grad=lora == 0)
            m.lora = {}
            if lora > 0:   # PEFT's LoRA on all seven projections (alpha = 2r): A random, B zero; the base frozen
                for name in ("q", "k", "v", "o", "gate", "up", "down"):
                    out_f, in_f = getattr(m, name).shape
                    a = torch.nn.Parameter(torch.randn(lora, in_f, generator=g) * 0.02)
                    b_ = torch.nn.Parameter(torch.zeros(out_f, lora))
                    m.register_parameter("lora_a_" + name, a)
                    m.register_parameter("lora_b_" + name, b_)
                    m.lora[name] = (a, b_)
            self.layers.append(m)
        self.lora_scale = 2.0
        self.norm = torch.nn.Parameter(torch.ones(hidden), requires_grad=lora == 0)
        self.head = self.embed if tied else w(vocab, hidden)
        self.inv_freq = 1.0 / theta ** (torch.arange(0, self.hd, 2).float() / self.hd)
        # a context per part of the model (torch_step_profile.py sets torch.profiler.record_function); a no-op here
        self.scope = lambda name: contextlib.nullcontext()

    def lin(self, x, m, name):
        """x @ W.T, plus the LoRA path (x @ A.T) @ B.T * alpha/r where the model has an adapter."""
        y = x @ getattr(m, name).T
        if name in m.lora:
            a, b_ = m.lora[name]
            y = y + (x @ a.T) @ b_.T * self.lora_scale
        return y

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, pos):
        f = torch.outer(pos.float(), self.inv_freq)
        emb = torch.cat([f, f], -1)
        cos, sin = emb.cos(), emb.sin()
        x1, x2 = x[..., : self.hd // 2], x[..., self.hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def chunk(self, ids, past, start):
        """One chunk given the past K/V of every layer; returns logits and this chunk's K/V per layer."""
        s = self.scope
        b, t = ids.shape
        pos = torch.arange(start, start + t)
        with s("embedding"):
            x = self.embed[ids]
        new_kv = []
        for i, m in enumerate(self.layers):
            with s("rmsnorm"):
                h = self.rms(x, m.ln1)
            with s("qkvo_projections"):
                q = (self.lin(h, m, "q")).view(b, t, self.heads, self.hd).transpose(1, 2)
                k = (self.lin(h, m, "k")).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
                v = (self.lin(h, m, "v")).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
            with s("rope"):
                q, k = self.rope(q, pos), self.rope(k, pos)
            new_kv.append((k, v))
            with s("kv_concat_inject"):
                if past is not None:
                    k, v = torch.cat([past[i][0], k], 2), torch.cat([past[i][1], v], 2)
                rep = self.heads // self.kv_heads
                k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            with s("attention_core"):
                p = k.shape[2] - t
                mask = torch.ones(t, p + t, dtype=torch.bool).tril(p)
                att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
                att = att.masked_fill(~mask, float("-inf")).softmax(-1)
                ctx = att @ v
            with s("reshape_permute"):
                ctx = ctx.transpose(1, 2).reshape(b, t, -1)
            with s("qkvo_projections"):
                o = self.lin(ctx, m, "o")
            with s("residual_add"):
                x = x + o
            with s("rmsnorm"):
                h = self.rms(x, m.ln2)
            with s("mlp_matmuls"):
                gate, up = self.lin(h, m, "gate"), self.lin(h, m, "up")
            with s("mlp_elementwise"):
                act = F.silu(gate) * up
            with s("mlp_matmuls"):
                down = self.lin(act, m, "down")
            with s("residual_add"):
                x = x + down
        with s("rmsnorm"):
            x = self.rms(x, self.norm)
        with s("lm_head"):
            return x @ self.head.T, new_kv


def chunk_loss_sum(model, ids, labels, past, start):
    logits, kv = model.chunk(ids, past, start)
    with model.scope("loss"):
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="sum", ignore_index=-100), kv


def labels_of(ids):
    lab = torch.full_like(ids, -100)
    lab[:, :-1] = ids[:, 1:]
    return lab


def step_inference(model, ids, chunk):
    with torch.no_grad():
        past = None
        for s in range(0, ids.shape[1], chunk):
            _, kv = model.chunk(ids[:, s:s + chunk], past, s)
            past = kv if past is None else [(torch.cat([pk, k], 2), torch.cat([pv, v], 2)) for (pk, pv), (k, v) in zip(past, kv)]


def step_full(model, ids, chunk):
    model.zero_grad(set_to_none=True)
    lab = labels_of(ids)
    loss, _ = chunk_loss_sum(model, ids, lab, None, 0)
    (loss / (ids.numel() - ids.shape[0])).backward()


def step_chunkwise(model, ids, chunk, visit_prob, rng):
    """SeCO (visit_prob = 1) or bernoulli SpaCO: forward without graph, then the visited chunks in reverse."""
    model.zero_grad(set_to_none=True)
    lab = labels_of(ids)
    n = ids.numel() - ids.shape[0]
    starts = list(range(0, ids.shape[1], chunk))
    with torch.no_grad():
        past = None
        for s in starts:
            _, kv = model.chunk(ids[:, s:s + chunk], past, s)
            past = kv if past is None else [(torch.cat([pk, k], 2), torch.cat([pv, v], 2)) for (pk, pv), (k, v) in zip(past, kv)]
    cache = past
    grads = [(torch.zeros_like(k), torch.zeros_like(v)) for k, v in cache]
    visited = [s for s in starts if rng.random() < visit_prob] if visit_prob < 1 else starts
    scale = 1.0 / visit_prob
    for s in reversed(visited):
        e = min(s + chunk, ids.shape[1])
        pst = [(k[:, :, :s].detach().requires_grad_(), v[:, :, :s].detach().requires_grad_()) for k, v in cache] if s > 0 else None
        loss, kv = chunk_loss_sum(model, ids[:, s:e], lab[:, s:e], pst, s)
        total = loss * (scale / n)
        for (k, v), (gk, gv) in zip(kv, grads):
            total = total + (k * gk[:, :, s:e]).sum() * scale + (v * gv[:, :, s:e]).sum() * scale
        total.backward()
        if pst is not None:
            for (pk, pv), (gk, gv) in zip(pst, grads):
                gk[:, :, :s] += pk.grad
                gv[:, :, :s] += pv.grad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmups", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default="inference,full,seco,spaco-t2")
    ap.add_argument("--config", help="an HF config.json (conf/models/): its widths instead of the benchmark model's")
    ap.add_argument("--layers", type=int, default=0, help="with --config: this many layers (default: the config's)")
    ap.add_argument("--lora", type=int, default=0, help="LoRA rank on all seven projections, base frozen (0: none)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.config:
        c = json.load(open(a.config))
        vocab = c["vocab_size"]
        model = Llama(vocab=vocab, hidden=c["hidden_size"], layers=a.layers or c["num_hidden_layers"],
                      heads=c["num_attention_heads"], kv_heads=c["num_key_value_heads"], ffn=c["intermediate_size"],
                      theta=float(c.get("rope_theta", 10000.0)), eps=c.get("rms_norm_eps", 1e-6),
                      tied=c.get("tie_word_embeddings", False), lora=a.lora)
    else:
        vocab = 8192
        model = Llama(vocab=8192, hidden=256, layers=4, heads=4, kv_heads=4, ffn=688, lora=a.lora)
    ids = torch.randint(0, vocab, (1, a.tokens), generator=torch.Generator().manual_seed(1))
    k = math.ceil(a.tokens / a.chunk)
    rng = random.Random(7)
    runs = {
        "inference": lambda: step_inference(model, ids, a.chunk),
        "full": lambda: step_full(model, ids, a.chunk),
        "seco": lambda: step_chunkwise(model, ids, a.chunk, 1.0, rng),
        "spaco-t2": lambda: step_chunkwise(model, ids, a.chunk, min(1.0, 2 / k), rng),
        "spaco-k8": lambda: step_chunkwise(model, ids, a.chunk, 1 / 8, rng),
    }
    for name in a.methods.split(","):
        try:
            for _ in range(a.warmups):
                runs[name]()
            times, faults = [], []
            for _ in range(a.repeats):
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0 = time.perf_counter(); runs[name](); times.append(time.perf_counter() - t0)
                faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
            # nearest-rank median, as the Java probes report p50 (for an even count, the lower middle value)
            med = sorted(times)[(len(times) - 1) // 2]
            print(json.dumps({"framework": "pytorch-" + torch.__version__, "method": name, "tokens": a.tokens,
                              "chunk": a.chunk, "threads": a.threads, "seconds_median": med, "seconds_best": min(times),
                              "tokens_per_s": a.tokens / med, "warmups": a.warmups, "repeats": a.repeats,
                              "minor_faults_per_step_median": sorted(faults)[(len(faults) - 1) // 2],
                              "config": a.config, "layers": len(model.layers), "lora_rank": a.lora,
                              # the process's peak so far (every method run before this one included)
                              "peak_rss_bytes_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}),
                  flush=True)
        except RuntimeError as e:  # out of memory at long lengths: report, don't crash
            print(json.dumps({"framework": "pytorch", "method": name, "tokens": a.tokens, "error": str(e)[:200]}), flush=True)


if __name__ == "__main__":
    main()
