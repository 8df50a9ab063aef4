#!/usr/bin/env python3
"""Loads what Chunkwise exported for each model family (FamilyExportRoundTripTest writes them to
train-job/target/family-exports/NAME: `model/` a full model directory, or `adapter/` a PEFT adapter over `base/`),
with transformers' AutoModelForCausalLM and PEFT's PeftModel exactly as they are, and computes each one's float64
loss on the ids in NAME/java.json (RMSNorms and rotary kept in float64 as in make_family_fixtures.py). Writes
{NAME: {hf_loss, java_loss, relative_difference, files: {file: sha256}}} for the Java test to compare.

Run where torch + transformers + peft exist (the device machine):
    python3 train-job/tools/check_family_exports.py --exports train-job/target/family-exports --out export-check.json
"""
import argparse, hashlib, json, os, sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_fixtures as fixtures   # noqa: E402  (its import patches the RMSNorms to float64)


def sha256s(folder):
    out = {}
    for f in sorted(os.listdir(folder)):
        with open(os.path.join(folder, f), "rb") as fh:
            out[f] = hashlib.sha256(fh.read()).hexdigest()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exports", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    import peft
    from peft import PeftModel
    result = {"_versions": {"transformers": transformers.__version__, "torch": torch.__version__, "peft": peft.__version__}}
    for name in sorted(os.listdir(a.exports)):
        case = os.path.join(a.exports, name)
        if not os.path.isfile(os.path.join(case, "java.json")):
            continue
        with open(os.path.join(case, "java.json")) as f:
            java = json.load(f)
        try:
            kind = java["kind"]
            model_dir = os.path.join(case, "model" if kind == "model" else "base")
            cfg = AutoConfig.from_pretrained(model_dir)
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
            fixtures.patch_rotary64(model, cfg)
            if kind == "adapter":
                model = PeftModel.from_pretrained(model, os.path.join(case, "adapter"))
            model = model.to(torch.float64).eval()
            ids = torch.tensor(java["input_ids"], dtype=torch.int64)
            with torch.no_grad():
                logits = model(input_ids=ids).logits
                loss = float(torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                                               ids[:, 1:].reshape(-1)))
            files = sha256s(os.path.join(case, kind))
            result[name] = {"kind": kind, "architecture": cfg.architectures, "hf_loss": loss, "java_loss": java["loss"],
                            "relative_difference": abs(loss - java["loss"]) / abs(java["loss"]), "files": files}
            print(name, kind, loss, java["loss"], result[name]["relative_difference"])
        except Exception as e:   # one broken export must not hide the others' results
            import traceback
            traceback.print_exc()
            result[name] = {"error": repr(e)}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
