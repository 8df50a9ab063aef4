#!/usr/bin/env python3
"""Sizes the retrieval experiment (issue #10) before spending CPU hours on it: the same task and model as
`bench.jar experiment retrieval` (RetrievalTask, TinyByteLlama, AdamW + warm-up + cosine, clipping at 1), trained
in PyTorch on a GPU with plain back-propagation (what SeCO computes exactly) and with the K/V-cache gradients
dropped (`seco-no-kv-grad`: each chunk's past K/V detached). Prints one JSON line per (config, method, eval
point): held-out per-digit accuracy and answer loss per distance. Not part of the product; a calibration tool.

    python3 retrieval_calibration.py --corpus europarl.txt --configs k4c32d1b32,k4c16d2b16 --steps 1500
"""
import argparse
import json
import math
import re
import time

import torch
import torch.nn.functional as F

VOCAB, HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, HEAD_DIM = 259, 128, 344, 2, 4, 2, 32
MARKER = ord('|')


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q = torch.nn.Linear(HIDDEN, HEADS * HEAD_DIM, bias=False)
        self.k = torch.nn.Linear(HIDDEN, KV_HEADS * HEAD_DIM, bias=False)
        self.v = torch.nn.Linear(HIDDEN, KV_HEADS * HEAD_DIM, bias=False)
        self.o = torch.nn.Linear(HEADS * HEAD_DIM, HIDDEN, bias=False)
        self.gate = torch.nn.Linear(HIDDEN, FFN, bias=False)
        self.up = torch.nn.Linear(HIDDEN, FFN, bias=False)
        self.down = torch.nn.Linear(FFN, HIDDEN, bias=False)
        self.n1 = torch.nn.Parameter(torch.ones(HIDDEN))
        self.n2 = torch.nn.Parameter(torch.ones(HIDDEN))


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def rope(x, pos):
    inv = 1.0 / (10000.0 ** (torch.arange(0, HEAD_DIM, 2, device=x.device).float() / HEAD_DIM))
    ang = pos[:, None].float() * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1)
    sin = torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., :HEAD_DIM // 2], x[..., HEAD_DIM // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(VOCAB, HIDDEN)
        self.layers = torch.nn.ModuleList([Layer() for _ in range(LAYERS)])
        self.norm = torch.nn.Parameter(torch.ones(HIDDEN))
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)

    def forward(self, tokens, chunk, detach_past):
        """Chunk by chunk with a K/V cache; detach_past drops the gradient into earlier chunks' K/V."""
        b, n = tokens.shape
        past = [([], []) for _ in range(LAYERS)]
        logits = []
        for start in range(0, n, chunk):
            x = self.emb(tokens[:, start:start + chunk])
            c = x.shape[1]
            pos = torch.arange(start, start + c, device=tokens.device)
            for li, layer in enumerate(self.layers):
                h = rms(x, layer.n1)
                q = rope(layer.q(h).view(b, c, HEADS, HEAD_DIM).transpose(1, 2), pos)
                k = rope(layer.k(h).view(b, c, KV_HEADS, HEAD_DIM).transpose(1, 2), pos)
                v = layer.v(h).view(b, c, KV_HEADS, HEAD_DIM).transpose(1, 2)
                pk, pv = past[li]
                ks = [t.detach() if detach_past else t for t in pk] + [k]
                vs = [t.detach() if detach_past else t for t in pv] + [v]
                pk.append(k)
                pv.append(v)
                kk = torch.cat(ks, 2).repeat_interleave(HEADS // KV_HEADS, 1)
                vv = torch.cat(vs, 2).repeat_interleave(HEADS // KV_HEADS, 1)
                total = kk.shape[2]
                mask = torch.ones(c, total, dtype=torch.bool, device=tokens.device).tril(total - c)
                scores = (q @ kk.transpose(-1, -2)) / math.sqrt(HEAD_DIM)
                a = scores.masked_fill(~mask, float('-inf')).softmax(-1) @ vv
                x = x + layer.o(a.transpose(1, 2).reshape(b, c, HEADS * HEAD_DIM))
                h = rms(x, layer.n2)
                x = x + layer.down(F.silu(layer.gate(h)) * layer.up(h))
            logits.append(rms(x, self.norm) @ self.emb.weight.T)
        return torch.cat(logits, 1)


def example(text, k, c, digits, distance, g):
    n = k * c
    start = int(torch.randint(0, len(text) - n, (1,), generator=g))
    tokens = text[start:start + n].clone()
    key = torch.randint(0, 10, (digits,), generator=g)
    block = digits + 1
    at = (k - 1 - distance) * c + int(torch.randint(0, c - block + 1, (1,), generator=g))
    for pos in (at, n - block):
        tokens[pos] = MARKER
        tokens[pos + 1:pos + 1 + digits] = ord('0') + key
    return tokens


def batch(text, k, c, digits, size, g, distance=None):
    rows = []
    for _ in range(size):
        d = distance if distance else int(torch.randint(1, k, (1,), generator=g))
        rows.append(example(text, k, c, digits, d, g))
    return torch.stack(rows)


def answer_loss(logits, tokens, digits):
    n = tokens.shape[1]
    pred = logits[:, n - digits - 1:n - 1]
    return F.cross_entropy(pred.reshape(-1, VOCAB), tokens[:, n - digits:].reshape(-1), reduction='none').view(-1, digits)


def evaluate(model, held, k, c, digits, detach):
    out = {}
    with torch.no_grad():
        for d, tokens in held.items():
            logits = model(tokens, c, detach)
            n = tokens.shape[1]
            pred = logits[:, n - digits - 1:n - 1].argmax(-1)
            acc = (pred == tokens[:, n - digits:]).float().mean(0).tolist()
            out[d] = {"acc": [round(a, 3) for a in acc], "loss": round(answer_loss(logits, tokens, digits).mean().item(), 3)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--configs", default="k4c32d1b32")
    ap.add_argument("--methods", default="seco,seco-no-kv-grad")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--lrs", default="5e-3")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    raw = open(args.corpus, "rb").read().replace(b"|", b" ")
    data = torch.tensor(list(raw), dtype=torch.long)
    split = int(len(data) * 0.95)
    train_text, held_text = data[:split], data[split:]
    for cfg in args.configs.split(","):
        k, c, digits, bsz = map(int, re.fullmatch(r"k(\d+)c(\d+)d(\d+)b(\d+)", cfg).groups())
        gh = torch.Generator().manual_seed(12345)
        held = {d: batch(held_text, k, c, digits, 128, gh, d).to(dev) for d in range(1, k)}
        for lr in map(float, args.lrs.split(",")):
            for method in args.methods.split(","):
                detach = method == "seco-no-kv-grad"
                torch.manual_seed(1000 + args.seed)
                model = Model().to(dev)
                opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01)
                warm = max(1, int(0.05 * args.steps))
                sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warm if s < warm else
                        0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, args.steps - warm))))
                g = torch.Generator().manual_seed(7000 + args.seed)
                t0 = time.time()
                for step in range(1, args.steps + 1):
                    tokens = batch(train_text, k, c, digits, bsz, g).to(dev)
                    loss = answer_loss(model(tokens, c, detach), tokens, digits).mean()
                    opt.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    opt.step()
                    sched.step()
                    if step % args.eval_every == 0 or step == args.steps:
                        print(json.dumps({"config": cfg, "lr": lr, "method": method, "step": step,
                                          "tokens": step * bsz * k * c, "train_loss": round(loss.item(), 3),
                                          "eval": evaluate(model, held, k, c, digits, detach),
                                          "s": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
