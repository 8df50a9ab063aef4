package ai.chunkwise.train.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Inference, full back-propagation, SeCO and SpaCO (t = k/8 and t = 2, both samplings) on {@link BenchLlama} at
 * several lengths, each in its own JVM under an RSS cap; then the ratios of issue #4, from runs of this invocation.
 */
final class MethodsSuite {
    private static final String SUITE = "methods";
    private final BenchCommand bench;

    MethodsSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        boolean quick = bench.quick();
        int warmups = 1;
        int repeats = 3;
        List<int[]> shapes = new ArrayList<>();   // {tokens, chunk}
        if (quick) {
            shapes.add(new int[] {1024, 128});
        } else {
            for (int tokens : BenchCommand.doubling(2048, bench.maxTokens())) {
                shapes.add(new int[] {tokens, 256});
            }
            if (bench.maxTokens() >= 16384) {   // the chunk-512 point only in the full run: it costs as much as 16K
                shapes.add(new int[] {8192, 512});
            }
        }
        ProbeRunner runner = new ProbeRunner(bench.methodsCapBytes(), bench.timeoutSeconds());
        ObjectNode idle = runner.run(ProbeSpec.of("idle", 0, 1, 0, 1));
        long baseline = idle.path("peak_rss_bytes").asLong();
        ObjectNode idleOut = bench.result(SUITE);
        idleOut.put("method", "idle (model loaded, no step)");
        idleOut.put("peak_rss_bytes", baseline);
        bench.emit(idleOut);

        Map<String, JsonNode> secoByShape = new LinkedHashMap<>();
        for (int[] shape : shapes) {
            int tokens = shape[0];
            int chunk = shape[1];
            int k = (tokens + chunk - 1) / chunk;
            Map<String, ObjectNode> byLabel = new LinkedHashMap<>();
            List<ProbeSpec> specs = new ArrayList<>(List.of(
                    ProbeSpec.of("inference", tokens, chunk, warmups, repeats),
                    ProbeSpec.of("full", tokens, chunk, warmups, repeats),
                    ProbeSpec.of("seco", tokens, chunk, warmups, repeats)));
            // --quick: only the default (bernoulli) sampling, to stay a smoke run
            for (String sampling : quick ? List.of("bernoulli") : List.of("bernoulli", "uniform")) {
                specs.add(ProbeSpec.spaco(tokens, chunk, Math.max(1, k / 8.0), sampling, warmups, repeats));
                specs.add(ProbeSpec.spaco(tokens, chunk, Math.min(2, k), sampling, warmups, repeats));
            }
            // where k/8 == 2 the two SpaCO budgets are one run: measure it once (the ratios read it by label)
            for (ProbeSpec spec : specs.stream().filter(distinctLabels()).toList()) {
                ObjectNode r = runner.run(spec);
                ObjectNode out = bench.result(SUITE);
                out.put("method", spec.label());
                out.put("tokens", tokens);
                out.put("chunk_size", chunk);
                out.put("chunks", k);
                if (spec.method().equals("spaco")) {
                    out.put("budget", spec.budget());
                }
                out.setAll(r);
                if (r.path("status").asText().equals("ok")) {
                    out.put("tokens_per_s", tokens / r.get("seconds_p50").asDouble());
                }
                bench.emit(out);
                byLabel.put(spec.label(), out);
            }
            ratios(tokens, chunk, k, byLabel, baseline);
            secoByShape.put(tokens + "/" + chunk, byLabel.get("seco"));
        }
        if (bench.torch()) {
            int tokens = quick ? 1024 : 4096;
            int chunk = quick ? 128 : 256;
            new TorchBaseline(bench, SUITE).compare(tokens, chunk, secoByShape.get(tokens + "/" + chunk));
        }
    }

    private void ratios(int tokens, int chunk, int k, Map<String, ObjectNode> r, long baseline) {
        ObjectNode ctx = bench.json().createObjectNode();
        ctx.put("tokens", tokens);
        ctx.put("chunk_size", chunk);
        ctx.put("chunks", k);
        boolean at8k = tokens == 8192;
        boolean atK64 = k == 64;
        ObjectNode full = r.get("full");
        ObjectNode seco = r.get("seco");
        if (ok(full) && ok(seco)) {
            double time = time(seco) / time(full);
            bench.emitRatio(SUITE, "seco/full time", time, at8k ? "<= 1.5 at 8K" : "(target at 8K)", time <= 1.5, ctx);
            double mem = (double) seco.get("peak_rss_bytes").asLong() / full.get("peak_rss_bytes").asLong();
            bench.emitRatio(SUITE, "seco/full peak RSS", mem, at8k ? "<= 0.15 at 8K" : "(target at 8K)", mem <= 0.15, ctx);
            double net = (double) (seco.get("peak_rss_bytes").asLong() - baseline)
                    / (full.get("peak_rss_bytes").asLong() - baseline);
            bench.emitRatio(SUITE, "seco/full peak RSS above idle JVM", net, "(context)", net <= 0.15, ctx);
        } else if (ok(seco)) {
            bench.emitRatio(SUITE, "full could not run; seco ran", 0, "seco runs where full cannot", true, ctx);
        }
        for (String sampling : List.of("bernoulli", "uniform")) {
            ObjectNode sparse = r.get(ProbeSpec.spaco(tokens, chunk, Math.max(1, k / 8.0), sampling, 0, 0).label());
            if (ok(seco) && ok(sparse)) {
                double v = time(seco) / time(sparse);
                bench.emitRatio(SUITE, "seco/spaco(t=k/8," + sampling + ") time", v,
                        atK64 ? ">= 3 at k=64" : "(target at k=64)", v >= 3, ctx);
            }
            ObjectNode two = r.get(ProbeSpec.spaco(tokens, chunk, Math.min(2, k), sampling, 0, 0).label());
            ObjectNode inference = r.get("inference");
            if (ok(two) && ok(inference)) {
                double v = time(two) / time(inference);
                bench.emitRatio(SUITE, "spaco(t=2," + sampling + ")/inference time", v,
                        atK64 ? "<= 1.15 at k=64" : "(target at k=64; analytic 1+3t/k=" + (1 + 6.0 / k) + ")",
                        v <= 1.15, ctx);
            }
        }
    }

    private static java.util.function.Predicate<ProbeSpec> distinctLabels() {
        java.util.Set<String> seen = new java.util.HashSet<>();
        return spec -> seen.add(spec.label());
    }

    private static boolean ok(JsonNode n) {
        return n != null && n.path("status").asText().equals("ok");
    }

    private static double time(JsonNode n) {
        return n.get("seconds_p50").asDouble();
    }
}
