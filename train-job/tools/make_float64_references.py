#!/usr/bin/env python3
"""True-float64 reference outputs of Hugging Face's own LlamaForCausalLM, for the exactness tests.

Why: shared/fixtures/hf-llama were computed with the model upcast to float64, but transformers' LlamaRMSNorm
casts its input to float32 and LlamaRotaryEmbedding computes cos/sin in float32, so those references carry
float32 rounding (~1e-7 relative) and cannot check a float64 implementation to 1e-9. This script runs the same
checkpoints with those two modules kept in float64 (every other module, the attention, GQA, MLP, LoRA (PEFT) and the
loss stay transformers'/PEFT's own code) and writes reference-float64.safetensors beside each fixture. It also
builds one new fixture (tied embeddings, llama3 rope scaling, GQA, transformers 4.x config form) from a seed.

Run where torch + transformers (+ peft) exist, e.g. on the device machine, from the repository root:
    python3 train-job/tools/make_float64_references.py --fixtures train-job/src/test/resources/fixtures/hf-llama --out $OUT
"""
import argparse, json, math, os, shutil

import torch
from safetensors.torch import load_file, save_file
import transformers
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama


def rms_forward_float64(self, hidden_states):
    # transformers: hidden_states.to(torch.float32) first; here the working dtype (float64) is kept
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    return self.weight * (hidden_states * torch.rsqrt(variance + self.variance_epsilon))


def inv_freq_float64(cfg):
    """The default / llama3 inverse frequencies, with transformers' formulas, evaluated in float64."""
    rope = getattr(cfg, "rope_parameters", None) or {}
    scaling = getattr(cfg, "rope_scaling", None) or {}
    theta = rope.get("rope_theta", getattr(cfg, "rope_theta", 10000.0))
    rope_type = rope.get("rope_type", scaling.get("rope_type", scaling.get("type", "default")))
    dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if rope_type == "llama3":
        p = {**scaling, **rope}
        factor, low, high = p["factor"], p["low_freq_factor"], p["high_freq_factor"]
        old_ctx = p["original_max_position_embeddings"]
        low_wl, high_wl = old_ctx / low, old_ctx / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old_ctx / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        is_medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(is_medium, smoothed, inv_l)
    elif rope_type != "default":
        raise SystemExit("unsupported rope type " + rope_type)
    return inv


def make_rotary_forward(inv):
    def forward(self, x, position_ids):
        freqs = position_ids[:, :, None].to(torch.float64) * inv[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)   # attention_scaling is 1.0 for default and llama3
    return forward


def reference(model, ids, names):
    model.zero_grad(set_to_none=True)
    out = model(input_ids=ids)
    logits = out.logits
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    tensors = {"input_ids": ids.contiguous(), "logits": logits.detach().contiguous(),
               "loss": loss.detach().reshape(1)}
    for name, p in names:
        tensors["grad." + name] = p.grad.detach().contiguous()
    return tensors


def load_model(folder):
    cfg = LlamaConfig.from_pretrained(folder)
    model = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).to(torch.float64)
    return cfg, model


def patch(cfg):
    modeling_llama.LlamaRMSNorm.forward = rms_forward_float64
    modeling_llama.LlamaRotaryEmbedding.forward = make_rotary_forward(inv_freq_float64(cfg))


def full_ft(folder, out_dir, ids=None, tied_extra=None):
    cfg, model = load_model(folder)
    patch(cfg)
    if ids is None:
        ids = load_file(os.path.join(folder, "reference.safetensors"))["input_ids"]
    names = [(n, p) for n, p in model.named_parameters()]
    return reference(model, ids, names)


def lora(folder, out_dir):
    from peft import PeftModel
    cfg, model = load_model(folder)
    patch(cfg)
    model = PeftModel.from_pretrained(model, os.path.join(folder, "adapter"), is_trainable=True).to(torch.float64)
    ids = load_file(os.path.join(folder, "reference.safetensors"))["input_ids"]
    names = []
    for n, p in model.named_parameters():
        if p.requires_grad:
            # PEFT's saved names drop the adapter name: ...q_proj.lora_A.default.weight -> ...q_proj.lora_A.weight
            names.append((n.replace(".default", ""), p))
    return reference(model, ids, names)


def new_tied_llama3(out_dir, seed=21):
    """A fresh fixture: tied embeddings, llama3 rope scaling (4.x config form), GQA 4/2 heads, 2 layers, batch 2."""
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=300, hidden_size=48, intermediate_size=112, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=12, rms_norm_eps=1e-5,
                      max_position_embeddings=512, tie_word_embeddings=True,
                      rope_theta=500000.0,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2) if p.dim() > 1 else p.normal_(1.0, 0.1)
    folder = os.path.join(out_dir, "tiny-llama3-tied")
    model.save_pretrained(folder, safe_serialization=True)
    # rewrite config.json in the transformers 4.x form (top-level rope_theta + rope_scaling), which most
    # checkpoints on disk use, so the Java loader's 4.x path is checked against HF too
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    c.pop("rope_parameters", None)
    c["rope_theta"] = 500000.0
    c["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 64}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    ids = torch.randint(0, 300, (2, 150), generator=torch.Generator().manual_seed(seed))
    return folder, ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    meta = {"transformers": transformers.__version__, "torch": torch.__version__,
            "dtype_of_reference": "float64 end to end: LlamaRMSNorm and the rotary cos/sin kept in float64 "
                                  "(transformers computes both in float32); everything else transformers'/PEFT's code"}
    os.makedirs(a.out, exist_ok=True)
    results = {}
    results["tiny-llama-gqa"] = full_ft(os.path.join(a.fixtures, "tiny-llama-gqa"), a.out)
    try:
        import peft
        meta["peft"] = peft.__version__
        results["tiny-llama-gqa-lora"] = lora(os.path.join(a.fixtures, "tiny-llama-gqa-lora"), a.out)
    except ImportError as e:
        print("peft not available, LoRA reference skipped:", e)
    folder, ids = new_tied_llama3(a.out)
    results["tiny-llama3-tied"] = full_ft(folder, a.out, ids=ids)
    for name, tensors in results.items():
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        tensors = {k: (v.to(torch.float64) if v.is_floating_point() else v) for k, v in tensors.items()}
        save_file(tensors, os.path.join(d, "reference-float64.safetensors"), metadata={k: str(v) for k, v in meta.items()})
        print(name, "loss", float(tensors["loss"]), "tensors", len(tensors))
    with open(os.path.join(a.out, "reference-float64.json"), "w") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main()
