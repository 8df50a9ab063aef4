#!/usr/bin/env bash
# Chunkwise's SeCO step (RealShapeProbe) and PyTorch's (torch_cpu_baseline.py) at a real model's widths, side by side
# in one invocation: same config, depth, length, chunk, LoRA rank (all seven projections, fp32 base frozen), thread
# count, warm-ups and repeats. Prints each side's JSON line, then one line with the ratio and the load averages
# (the development machine is shared: read every time beside its load).
#   train-job/bench/tools/real_shape_vs_torch.sh CONFIG LAYERS TOKENS CHUNK RANK THREADS WARMUPS REPEATS [BENCH_JAR]
# e.g. train-job/bench/tools/real_shape_vs_torch.sh conf/models/smollm2-135m.json 2 4096 256 16 1 1 2
set -euo pipefail
config=$1 layers=$2 tokens=$3 chunk=$4 rank=$5 threads=$6 warmups=$7 repeats=$8
jar=${9:-train-job/bench/target/bench.jar}
here=$(cd "$(dirname "$0")" && pwd)
load() { cut -d' ' -f1 /proc/loadavg; }
l0=$(load); t0=$(date +%s)
java_line=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads java -Xmx3g -cp "$jar" \
    ai.chunkwise.train.bench.RealShapeProbe "$config" "$layers" seco "$tokens" "$chunk" fp32 "$rank" "$warmups" "$repeats" \
    2>/dev/null | grep '^PROBE_RESULT ' | sed 's/^PROBE_RESULT //')
l1=$(load); t1=$(date +%s)
torch_line=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads /usr/bin/python3 "$here/torch_cpu_baseline.py" \
    --config "$config" --layers "$layers" --lora "$rank" --tokens "$tokens" --chunk "$chunk" --threads "$threads" \
    --warmups "$warmups" --repeats "$repeats" --methods seco)
l2=$(load); t2=$(date +%s)
echo "$java_line"
echo "$torch_line"
/usr/bin/python3 - "$java_line" "$torch_line" "$l0" "$l1" "$l2" "$t0" "$t1" "$t2" "$threads" <<'PY'
import json, sys
j, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
l0, l1, l2 = map(float, sys.argv[3:6])
t0, t1, t2 = map(int, sys.argv[6:9])
out = {"comparison": "chunkwise seco tok/s / pytorch seco tok/s", "config": j["config"], "layers": j["layers"],
       "tokens": j["tokens"], "chunk": j["chunk"], "lora_rank": j["lora_rank"], "base_dtype": "fp32",
       "threads": int(sys.argv[9]), "chunkwise_tokens_per_s": j.get("tokens_per_second"),
       "pytorch_tokens_per_s": t.get("tokens_per_s"),
       "chunkwise_seconds_p50": j.get("seconds_p50"), "pytorch_seconds_median": t.get("seconds_median"),
       "chunkwise_peak_rss_bytes": j.get("peak_rss_bytes"), "chunkwise_estimate_bytes": j.get("estimate_bytes"),
       "pytorch_peak_rss_bytes_process": t.get("peak_rss_bytes_process"),
       "load_avg_1m_at_start_java_torch_end": [l0, l1, l2], "wall_s_java_torch": [t1 - t0, t2 - t1]}
if out["chunkwise_tokens_per_s"] and out["pytorch_tokens_per_s"]:
    out["ratio"] = out["chunkwise_tokens_per_s"] / out["pytorch_tokens_per_s"]
print(json.dumps(out))
PY
