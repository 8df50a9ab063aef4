#!/usr/bin/env python3
"""Loads checkpoints and adapters that Chunkwise WROTE into transformers / PEFT, and prints each one's loss on a
fixed input (float64 model), so the Java side can be compared with `train-job grad --method full --dtype float64`
on the same ids file. Run where torch + transformers + peft exist (the device machine), from the repository root:

    python3 train-job/tools/check_written_checkpoints.py --model DIR [--base DIR --adapter DIR] --ids FILE --out DIR
"""
import argparse, json, os

import torch
from safetensors.torch import load_file, save_file
from transformers import LlamaForCausalLM


def loss_of(model, ids):
    with torch.no_grad():
        logits = model(input_ids=ids).logits
        return float(torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).double(),
                                                       ids[:, 1:].reshape(-1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="a full checkpoint written by Chunkwise (config.json + model.safetensors)")
    ap.add_argument("--base", help="the base model of --adapter")
    ap.add_argument("--adapter", help="a PEFT adapter written by Chunkwise")
    ap.add_argument("--ids", required=True, help="safetensors with int64 input_ids (ids >= the model's vocab are taken modulo)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    ids = load_file(a.ids)["input_ids"]
    result = {}
    if a.model:
        m = LlamaForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32).to(torch.float64).eval()
        model_ids = (ids % m.config.vocab_size).contiguous()
        save_file({"input_ids": model_ids}, os.path.join(a.out, "ids-model.safetensors"))
        result["model"] = {"dir": a.model, "vocab": m.config.vocab_size, "loss": loss_of(m, model_ids)}
    if a.adapter:
        from peft import PeftModel
        base = LlamaForCausalLM.from_pretrained(a.base, torch_dtype=torch.float32).to(torch.float64)
        m = PeftModel.from_pretrained(base, a.adapter).to(torch.float64).eval()
        b_norm = sum(float(p.norm()) for n, p in m.named_parameters() if "lora_B" in n)
        result["adapter"] = {"dir": a.adapter, "lora_B_norm_sum": b_norm, "loss": loss_of(m, ids)}
    print(json.dumps(result, indent=1))
    with open(os.path.join(a.out, "written-checkpoints.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
