#!/usr/bin/env python3
"""Fixtures of the model families and RoPE scalings of issue #21, made with transformers itself.

For each fixture: a tiny model of the family with random weights, written by `save_pretrained` (config.json +
model.safetensors, some configs rewritten to the transformers 4.x form most checkpoints on disk use), reloaded with
`from_pretrained`, and a float64 reference of logits, loss and gradients (every parameter, or PEFT's LoRA A/B) in
reference-float64.safetensors. As in make_float64_references.py, the RMSNorms (also Qwen3's q_norm/k_norm) and the
rotary cos/sin are kept in float64 (transformers computes both in float32); everything else (attention with its
sliding-window mask, biases, MLP, LoRA, loss) is transformers'/PEFT's own code. The float64 rotary frequencies follow
transformers' formulas (modeling_rope_utils.py); each reference also holds transformers' own float32 tables
(`rope.*_hf32`) and the script stops if the two disagree beyond float32 rounding.

rope-tables.safetensors holds, for more RoPE settings than there are models, transformers' float32 inv_freq,
attention_scaling and cos/sin at positions 0..L-1 (after the rotary module's own forward, so dynamic NTK is
updated for that L), next to the float64 ones of the formulas below.

Run where torch + transformers + peft exist (the device machine), from the repository root:
    python3 train-job/tools/make_family_fixtures.py --out $OUT
"""
import argparse, json, math, os, types

import torch
from safetensors.torch import load_file, save_file
import transformers
from transformers import (AutoConfig, AutoModelForCausalLM, LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config)
from transformers.models.llama import modeling_llama
from transformers.models.mistral import modeling_mistral
from transformers.models.qwen2 import modeling_qwen2
from transformers.models.qwen3 import modeling_qwen3

VOCAB, SEQ, ROWS = 256, 96, 2


def rms_forward_float64(self, hidden_states):
    # transformers casts to float32 first; here the working dtype (float64) is kept
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    return self.weight * (hidden_states * torch.rsqrt(variance + self.variance_epsilon))


for module, cls in [(modeling_llama, "LlamaRMSNorm"), (modeling_mistral, "MistralRMSNorm"),
                    (modeling_qwen2, "Qwen2RMSNorm"), (modeling_qwen3, "Qwen3RMSNorm")]:
    getattr(module, cls).forward = rms_forward_float64


def rope_params(cfg):
    """transformers 5.x keeps everything (theta, type, factor ...) in cfg.rope_parameters after loading."""
    p = dict(cfg.rope_parameters)
    p.setdefault("rope_type", p.get("type", "default"))
    return p


def inv_freq_float64(cfg, seq_len):
    """(inv_freq, attention_factor) with transformers' formulas, in float64; seq_len = max(position)+1."""
    p = rope_params(cfg)
    theta, kind = float(p["rope_theta"]), p["rope_type"]
    if p.get("partial_rotary_factor", 1.0) != 1.0:
        raise SystemExit("partial_rotary_factor is not covered")
    dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    exps = torch.arange(0, dim, 2, dtype=torch.float64) / dim
    attention = 1.0
    if kind == "default":
        inv = 1.0 / theta ** exps
    elif kind == "linear":
        inv = 1.0 / theta ** exps / p["factor"]
    elif kind == "dynamic":
        max_pos = cfg.max_position_embeddings
        n = max(seq_len, max_pos)
        base = theta * ((p["factor"] * n / max_pos) - (p["factor"] - 1)) ** (dim / (dim - 2))
        inv = 1.0 / base ** exps
    elif kind == "yarn":
        factor, orig = p["factor"], p["original_max_position_embeddings"]

        def mscale(scale, m=1.0):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0
        attention = p.get("attention_factor")
        if attention is None:
            if p.get("mscale") and p.get("mscale_all_dim"):
                attention = mscale(factor, p["mscale"]) / mscale(factor, p["mscale_all_dim"])
            else:
                attention = mscale(factor)
        beta_fast, beta_slow = p.get("beta_fast") or 32, p.get("beta_slow") or 1

        def corr(rot):
            return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(theta))
        low, high = corr(beta_fast), corr(beta_slow)
        if p.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        extrapolation = 1 - ramp
        pos = theta ** exps
        inv = (1.0 / (factor * pos)) * (1 - extrapolation) + (1.0 / pos) * extrapolation
    elif kind == "llama3":
        factor, lo, hi, old = p["factor"], p["low_freq_factor"], p["high_freq_factor"], p["original_max_position_embeddings"]
        inv = 1.0 / theta ** exps
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < old / hi) * ~(wavelen > old / lo)
        inv = torch.where(medium, smoothed, inv_l)
    else:
        raise SystemExit("rope type not covered: " + kind)
    return inv, float(attention)


def tables64(cfg, positions):
    inv, att = inv_freq_float64(cfg, int(positions.max()) + 1)
    freqs = positions[:, None].to(torch.float64) * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return inv, att, emb.cos() * att, emb.sin() * att


def hf_tables(model_or_rotary, cfg, length):
    """transformers' own float32 tables (the module's forward, so dynamic NTK updates itself for `length`)."""
    rotary = model_or_rotary
    pos = torch.arange(length)[None, :]
    x = torch.zeros(1, length, 1, dtype=torch.float32)
    cos, sin = rotary(x, pos)
    return {"inv_freq_hf32": rotary.inv_freq.detach().clone().float(), "cos_hf32": cos[0].float(),
            "sin_hf32": sin[0].float(), "attention_scaling": torch.tensor([float(rotary.attention_scaling)], dtype=torch.float64)}


def check_tables(name, hf, inv, att, cos, sin):
    # inv_freq: float32 rounding only; cos/sin: float32 angle rounding, position * ulp(inv) ~ 1e-5 at position 100
    err_inv = ((hf["inv_freq_hf32"].double() - inv).abs() / inv).max().item()
    err_cos = max((hf["cos_hf32"].double() - cos).abs().max().item(), (hf["sin_hf32"].double() - sin).abs().max().item())
    err_att = abs(float(hf["attention_scaling"]) - att)
    print(f"{name}: inv_freq rel {err_inv:.1e}, cos/sin abs {err_cos:.1e}, attention_scaling {att} ({err_att:.1e})")
    if err_inv > 1e-6 or err_cos > 1e-6 + 2e-7 * cos.shape[0] or err_att > 1e-6:
        raise SystemExit(name + ": float64 rotary formulas disagree with transformers")


def patch_rotary64(model, cfg):
    def forward(self, x, position_ids):
        inv, att = inv_freq_float64(cfg, int(position_ids.max()) + 1)
        freqs = position_ids[:, :, None].to(torch.float64) * inv[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * att).to(x.dtype), (emb.sin() * att).to(x.dtype)
    model.model.rotary_emb.forward = types.MethodType(forward, model.model.rotary_emb)


def randomize(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.2)
            elif p.dim() > 1:
                p.normal_(0, 0.2)
            else:
                p.normal_(1.0, 0.1)


def to_4x_form(folder, rope_scaling, rope_theta):
    """Rewrite config.json the way transformers 4.x wrote it: top-level rope_theta + rope_scaling."""
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        c = json.load(f)
    c.pop("rope_parameters", None)
    c["rope_theta"] = rope_theta
    c["rope_scaling"] = rope_scaling
    with open(path, "w") as f:
        json.dump(c, f, indent=2)


def reference(model, ids, named):
    model.zero_grad(set_to_none=True)
    logits = model(input_ids=ids).logits
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    out = {"input_ids": ids.contiguous(), "logits": logits.detach().contiguous(), "loss": loss.detach().reshape(1)}
    for name, p in named:
        out["grad." + name] = p.grad.detach().contiguous()
    return out


def load64(folder):
    cfg = AutoConfig.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(torch.float64)
    return cfg, model


def make(out, name, cfg, seed, four_x=None, lora=None, ids_seed=None, bf16_shards=False):
    """four_x = (rope_scaling, rope_theta) to rewrite config.json in the 4.x form; lora = PEFT LoraConfig kwargs."""
    folder = os.path.join(out, name)
    model = AutoModelForCausalLM.from_config(cfg)
    randomize(model, seed)
    model.save_pretrained(folder)
    if four_x is not None:
        to_4x_form(folder, *four_x)
    cfg = AutoConfig.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    gen = torch.Generator().manual_seed(ids_seed or seed)
    ids = torch.randint(0, cfg.vocab_size, (ROWS, SEQ), generator=gen)
    hf = hf_tables(model.model.rotary_emb, cfg, SEQ)      # before the float64 patch, on a fresh module
    inv, att, cos, sin = tables64(cfg, torch.arange(SEQ))
    check_tables(name, hf, inv, att, cos, sin)
    patch_rotary64(model, cfg)
    if lora is not None:
        from peft import LoraConfig, get_peft_model
        torch.manual_seed(seed + 1)
        model = get_peft_model(model, LoraConfig(init_lora_weights=False, **lora))   # B random, not zero
        model.save_pretrained(os.path.join(folder, "adapter"))    # float32, as PEFT writes a float32 model's adapter
        model = model.to(torch.float64)
        named = [(n.replace(".default", ""), p) for n, p in model.named_parameters() if p.requires_grad]
    else:
        model = model.to(torch.float64)
        named = list(model.named_parameters())
    tensors = reference(model, ids, named)
    tensors.update({"rope." + k: v for k, v in hf.items()})
    tensors.update({"rope.inv_freq_float64": inv, "rope.cos_float64": cos, "rope.sin_float64": sin})
    if bf16_shards:
        # the same weights as bf16 shards with an index (how large checkpoints ship), and their own loss
        shard_dir = os.path.join(out, name + "-bf16-sharded")
        AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16).save_pretrained(shard_dir, max_shard_size="100KB")
        _, m16 = load64(shard_dir)
        patch_rotary64(m16, cfg)
        with torch.no_grad():
            lg = m16(input_ids=ids).logits
            l16 = torch.nn.functional.cross_entropy(lg[:, :-1].reshape(-1, lg.shape[-1]), ids[:, 1:].reshape(-1))
        save_file({"input_ids": ids.contiguous(), "loss": l16.reshape(1)}, os.path.join(shard_dir, "reference-float64.safetensors"))
        print(name + "-bf16-sharded: loss", float(l16), sorted(os.listdir(shard_dir)))
    return tensors


def rope_tables(out):
    """More RoPE settings than there are models: tables only (no weights), transformers' and float64."""
    base = dict(vocab_size=32, hidden_size=64, intermediate_size=32, num_hidden_layers=1, num_attention_heads=4,
                num_key_value_heads=4, head_dim=16)
    cases = {
        "linear": (200, dict(max_position_embeddings=512, rope_parameters={"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0})),
        "dynamic-below": (100, dict(max_position_embeddings=128, rope_parameters={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0})),
        "dynamic-300": (300, dict(max_position_embeddings=128, rope_parameters={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0})),
        "dynamic-1000": (1000, dict(max_position_embeddings=128, rope_parameters={"rope_type": "dynamic", "factor": 4.0, "rope_theta": 500000.0})),
        "yarn": (300, dict(max_position_embeddings=256, rope_parameters={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64, "rope_theta": 10000.0})),
        "yarn-qwen": (300, dict(max_position_embeddings=64, rope_parameters={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64, "rope_theta": 1000000.0})),
        "yarn-betas-attention": (300, dict(max_position_embeddings=256, rope_parameters={"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 32, "rope_theta": 10000.0, "beta_fast": 16.0, "beta_slow": 2.0, "attention_factor": 0.8})),
        "yarn-mscale": (300, dict(max_position_embeddings=256, rope_parameters={"rope_type": "yarn", "factor": 40.0, "original_max_position_embeddings": 64, "rope_theta": 10000.0, "mscale": 1.0, "mscale_all_dim": 0.707})),
        "yarn-no-truncate": (300, dict(max_position_embeddings=256, rope_parameters={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64, "rope_theta": 10000.0, "truncate": False})),
        "llama3": (300, dict(max_position_embeddings=512, rope_parameters={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64, "rope_theta": 500000.0})),
    }
    tensors, meta = {}, {}
    for name, (length, kw) in cases.items():
        cfg = LlamaConfig(**base, **kw)
        rotary = modeling_llama.LlamaRotaryEmbedding(cfg)
        hf = hf_tables(rotary, cfg, length)
        inv, att, cos, sin = tables64(cfg, torch.arange(length))
        check_tables("rope-tables/" + name, hf, inv, att, cos, sin)
        for k, v in hf.items():
            tensors[name + "." + k] = v
        tensors.update({name + ".inv_freq_float64": inv, name + ".cos_float64": cos, name + ".sin_float64": sin})
        meta[name] = json.dumps({"length": length, "max_position_embeddings": kw["max_position_embeddings"],
                                 "head_dim": 16, "rope_parameters": kw["rope_parameters"]})
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, "rope-tables.safetensors"), metadata=meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    import peft
    meta = {"transformers": transformers.__version__, "torch": torch.__version__, "peft": peft.__version__,
            "dtype_of_reference": "float64 end to end: the RMSNorms (q_norm/k_norm too) and the rotary cos/sin kept in "
                                  "float64; everything else transformers'/PEFT's code"}
    small = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=256, bos_token_id=1, eos_token_id=2)
    results, failures = {}, {}

    def attempt(name, build):
        # one fixture's failure must not cost the others (device time is scarce): report it and go on
        try:
            results[name] = build()
        except BaseException as e:   # SystemExit from check_tables too
            import traceback
            traceback.print_exc()
            failures[name] = repr(e)
    # Mistral v0.1: a sliding window shorter than the sequence (each query sees itself and the 39 keys before it)
    attempt("tiny-mistral-window", lambda: make(a.out, "tiny-mistral-window", MistralConfig(
        **small, head_dim=16, sliding_window=40, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}), seed=31))
    # Qwen2/2.5: q/k/v biases, tied embeddings (as Qwen2.5 0.5B-3B), theta 1e6; also as bf16 shards
    attempt("tiny-qwen2", lambda: make(a.out, "tiny-qwen2", Qwen2Config(
        **small, tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        seed=32, bf16_shards=True))
    # Qwen2 + LoRA on every attention projection (the base q/k/v biases frozen) and down_proj
    attempt("tiny-qwen2-lora", lambda: make(a.out, "tiny-qwen2-lora", Qwen2Config(
        **small, tie_word_embeddings=False, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        seed=33, lora=dict(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"])))
    # Qwen2.5 with YaRN, in the 4.x form its model cards tell users to add ("type", not "rope_type")
    yarn_q = {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}
    attempt("tiny-qwen2-yarn", lambda: make(a.out, "tiny-qwen2-yarn", Qwen2Config(
        **{**small, "max_position_embeddings": 32}, tie_word_embeddings=True,
        rope_parameters={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32, "rope_theta": 1000000.0}),
        seed=34, four_x=(yarn_q, 1000000.0)))
    # Qwen3: q_norm/k_norm, explicit head_dim (4 x 24 = 96 != hidden 64), no biases
    attempt("tiny-qwen3", lambda: make(a.out, "tiny-qwen3", Qwen3Config(
        **small, head_dim=24, tie_word_embeddings=False, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        seed=35))
    attempt("tiny-qwen3-lora", lambda: make(a.out, "tiny-qwen3-lora", Qwen3Config(
        **small, head_dim=24, tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        seed=36, lora=dict(r=4, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])))
    # Llama with linear and dynamic-NTK scaling (4.x form, legacy "type" key), dynamic past max_position_embeddings
    attempt("tiny-llama-linear", lambda: make(a.out, "tiny-llama-linear", LlamaConfig(
        **small, head_dim=16, rope_parameters={"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0}),
        seed=37, four_x=({"type": "linear", "factor": 4.0}, 10000.0)))
    attempt("tiny-llama-dynamic", lambda: make(a.out, "tiny-llama-dynamic", LlamaConfig(
        **{**small, "max_position_embeddings": 64}, head_dim=16,
        rope_parameters={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0}),
        seed=38, four_x=({"type": "dynamic", "factor": 2.0}, 10000.0)))
    for name, tensors in list(results.items()):
        tensors = {k: (v.to(torch.float64) if v.is_floating_point() else v) for k, v in tensors.items()}
        save_file(tensors, os.path.join(a.out, name, "reference-float64.safetensors"),
                  metadata={k: str(v) for k, v in meta.items()})
        print(name, "loss", float(tensors["loss"]), "tensors", len(tensors))
    attempt("rope-tables", lambda: rope_tables(a.out))
    results.pop("rope-tables", None)
    meta["failures"] = failures
    with open(os.path.join(a.out, "reference-float64.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print("FAILURES", failures if failures else "none")


if __name__ == "__main__":
    main()
