package ai.chunkwise.train.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.HashMap;
import java.util.Map;

/**
 * The same model and step in PyTorch on this machine's CPU (train-job/bench/tools/torch_cpu_baseline.py, carried
 * inside this jar; Debian's python3-torch + OpenBLAS, installed by train-job/bench/tools/install-torch-cpu.sh),
 * run from this invocation so the Chunkwise-vs-PyTorch ratios compare runs made side by side. The interpreter is
 * {@code --python} (default: python3 on the PATH).
 */
final class TorchBaseline {
    private static final String SCRIPT_RESOURCE = "torch_cpu_baseline.py";
    private final BenchCommand bench;
    private final String suite;

    TorchBaseline(BenchCommand bench, String suite) {
        this.bench = bench;
        this.suite = suite;
    }

    /** @param targetsApply whether issue #11's targets hold at this size (4K and 8K in a full run) */
    void compare(int tokens, int chunk, JsonNode chunkwiseSeco, boolean targetsApply) throws Exception {
        String python = bench.python();
        ObjectNode ctx = bench.json().createObjectNode();
        ctx.put("tokens", tokens);
        ctx.put("chunk_size", chunk);
        if (!torchAvailable(python)) {
            TorchScripts.emitUnavailable(bench, suite, "framework", "pytorch");
            return;
        }
        Map<String, JsonNode> byMethod = new HashMap<>();
        try (TorchScripts scripts = TorchScripts.extract(SCRIPT_RESOURCE)) {
            ProcessBuilder pb = scripts.oneThread(python, SCRIPT_RESOURCE, "--tokens", String.valueOf(tokens),
                    "--chunk", String.valueOf(chunk), "--methods", "full,seco",
                    // as many untimed and timed steps as Chunkwise's probes: the first steps fault in fresh memory
                    "--warmups", String.valueOf(bench.warmups()), "--repeats", String.valueOf(bench.repeats()));
            ChildJsonLines.forward(bench, suite, pb.start(), "", n -> {
                byMethod.put(n.path("method").asText(), n);
                ObjectNode out = bench.result(suite);
                out.setAll(n);
                bench.emit(out);
            });
        }
        if (chunkwiseSeco == null || !chunkwiseSeco.path("status").asText().equals("ok")) {
            return;
        }
        double ours = tokens / chunkwiseSeco.get("seconds_p50").asDouble();
        JsonNode full = byMethod.get("full");
        JsonNode seco = byMethod.get("seco");
        if (full != null && full.has("tokens_per_s")) {
            double v = ours / full.get("tokens_per_s").asDouble();
            String name = "chunkwise seco tok/s / pytorch full-backprop tok/s";
            if (targetsApply) {
                bench.emitTarget(suite, name, v, ">= 1.5 at 4K and 8K", v >= 1.5, ctx);
            } else {
                bench.emitContext(suite, name, v, ">= 1.5 at 4K and 8K", ctx);
            }
        }
        if (seco != null && seco.has("tokens_per_s")) {
            double v = ours / seco.get("tokens_per_s").asDouble();
            String name = "chunkwise seco tok/s / pytorch seco tok/s";
            if (targetsApply) {
                bench.emitTarget(suite, name, v, ">= 1.0 at 4K and 8K", v >= 1.0, ctx);
            } else {
                bench.emitContext(suite, name, v, ">= 1.0 at 4K and 8K", ctx);
            }
        }
    }

    static boolean torchAvailable(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
