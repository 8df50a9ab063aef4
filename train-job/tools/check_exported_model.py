#!/usr/bin/env python3
"""Loads a model directory that a Chunkwise training run WROTE (bf16 weights in shards + model.safetensors.index.json,
tokenizer files, generation_config.json) with transformers' AutoTokenizer and AutoModelForCausalLM exactly as it is,
and compares it with Chunkwise's own numbers:
  * token ids: AutoTokenizer(text, add_special_tokens=False) against the ids Chunkwise's tokenizer produced
    (--texts: JSON lines {"text": ..., "ids": [...]}), and the BOS/EOS/PAD ids;
  * loss: the float64 cross-entropy of the loaded model on --ids (the first text's ids as int64 input_ids) against
    Chunkwise's `grad --method full --dtype float64` on the same directory and ids (--chunkwise-loss).
Run where torch + transformers exist (the device machine), from the repository root:

    python3 train-job/tools/check_exported_model.py --model DIR --texts FILE --ids FILE --chunkwise-loss X \
        [--special BOS,EOS,PAD] --out DIR
"""
import argparse, json, os

import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--chunkwise-loss", type=float, required=True)
    ap.add_argument("--special", help="Chunkwise's BOS,EOS,PAD ids of the dataset")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "model": a.model,
              "files": sorted(os.listdir(a.model))}

    tok = AutoTokenizer.from_pretrained(a.model)
    cases = [json.loads(line) for line in open(a.texts, encoding="utf-8")]
    mismatches = [c["text"] for c in cases if tok(c["text"], add_special_tokens=False)["input_ids"] != c["ids"]]
    result["tokenizer"] = {"class": type(tok).__name__, "texts": len(cases), "id_mismatches": mismatches,
                           "bos_eos_pad": [tok.bos_token_id, tok.eos_token_id, tok.pad_token_id]}
    if a.special:
        result["tokenizer"]["chunkwise_bos_eos_pad"] = [int(x) for x in a.special.split(",")]

    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype="auto").eval()
    result["loaded_dtype"] = str(model.dtype)
    ids = load_file(a.ids)["input_ids"]
    m64 = model.to(torch.float64)
    with torch.no_grad():
        logits = m64(input_ids=ids).logits
        loss = float(torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                                       ids[:, 1:].reshape(-1)))
    result["loss_transformers_float64"] = loss
    result["loss_chunkwise_float64"] = a.chunkwise_loss
    result["loss_relative_difference"] = abs(loss - a.chunkwise_loss) / abs(a.chunkwise_loss)
    print(json.dumps(result, indent=1, ensure_ascii=False))
    with open(os.path.join(a.out, "exported-model-check.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
