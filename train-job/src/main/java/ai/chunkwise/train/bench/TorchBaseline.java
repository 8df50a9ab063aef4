package ai.chunkwise.train.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The same model and step in PyTorch on this machine's CPU (train-job/tools/torch_cpu_baseline.py, Debian's
 * python3-torch + OpenBLAS, installed by train-job/tools/install-torch-cpu.sh), run from this invocation so the
 * Chunkwise-vs-PyTorch ratios compare runs made side by side.
 */
final class TorchBaseline {
    private static final String PYTHON = "/usr/bin/python3";
    private final BenchCommand bench;
    private final String suite;

    TorchBaseline(BenchCommand bench, String suite) {
        this.bench = bench;
        this.suite = suite;
    }

    void compare(int tokens, int chunk, JsonNode chunkwiseSeco) throws Exception {
        Path script = script();
        ObjectNode ctx = bench.json().createObjectNode();
        ctx.put("tokens", tokens);
        ctx.put("chunk_size", chunk);
        if (script == null || !torchAvailable()) {
            ObjectNode n = bench.result(suite);
            n.put("framework", "pytorch");
            n.put("status", "unavailable");
            n.put("hint", "run train-job/tools/install-torch-cpu.sh (Debian python3-torch + libopenblas0-pthread)");
            bench.emit(n);
            return;
        }
        Map<String, JsonNode> byMethod = new HashMap<>();
        ProcessBuilder pb = new ProcessBuilder(PYTHON, script.toString(), "--tokens", String.valueOf(tokens),
                "--chunk", String.valueOf(chunk), "--threads", "1", "--methods", "full,seco").redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{")) {
                    ObjectNode n = (ObjectNode) bench.json().readTree(line);
                    byMethod.put(n.path("method").asText(), n);
                    ObjectNode out = bench.result(suite);
                    out.setAll(n);
                    bench.emit(out);
                }
            }
        }
        p.waitFor();
        if (chunkwiseSeco == null || !chunkwiseSeco.path("status").asText().equals("ok")) {
            return;
        }
        double ours = tokens / chunkwiseSeco.get("seconds_p50").asDouble();
        JsonNode full = byMethod.get("full");
        JsonNode seco = byMethod.get("seco");
        if (full != null && full.has("tokens_per_s")) {
            double v = ours / full.get("tokens_per_s").asDouble();
            bench.emitRatio(suite, "chunkwise seco tok/s / pytorch full-backprop tok/s", v, ">= 1.0", v >= 1.0, ctx);
        }
        if (seco != null && seco.has("tokens_per_s")) {
            double v = ours / seco.get("tokens_per_s").asDouble();
            bench.emitRatio(suite, "chunkwise seco tok/s / pytorch seco tok/s", v, "close to 1.0", v >= 0.9, ctx);
        }
    }

    private static boolean torchAvailable() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** tools/ beside target/ of the train-job module (the jar lives in train-job/target), or from the repo root. */
    static Path script() throws URISyntaxException {
        Path jarOrClasses = Path.of(TorchBaseline.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        for (Path candidate : List.of(jarOrClasses.getParent().resolveSibling("tools").resolve("torch_cpu_baseline.py"),
                Path.of("train-job", "tools", "torch_cpu_baseline.py"))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
