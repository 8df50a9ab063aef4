package ai.chunkwise.train.bench;

import ai.chunkwise.childjvm.ChildJvm;
import ai.chunkwise.train.backend.CpuBuild;
import ai.chunkwise.train.model.LlamaConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Issue #11's question before anyone splits the chunk graph around attention: is the attention core (scores,
 * mask, softmax, times V, and their backward) faster outside SameDiff, eagerly or blockwise, and how far is it from
 * PyTorch on the same shapes? The Java variants and a whole chunk step run in a child JVM with one OpenMP thread
 * ({@link AttentionCoreProbe}), then PyTorch on one thread (tools/torch_attention_core.py, carried in this jar);
 * ratios to the SameDiff core per past length, and the core's share of a chunk step (layers x core / step).
 */
final class AttentionCoreSuite {
    static final String SUITE = "attention-core";
    static final String RESULT_PREFIX = "ATTENTION_CORE ";
    private static final String SCRIPT_RESOURCE = "torch_attention_core.py";
    private static final String BASE = "samediff";
    private final BenchCommand bench;

    AttentionCoreSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() throws IOException, InterruptedException {
        boolean quick = bench.quick();
        int chunk = quick ? 64 : 256;
        String pasts = quick ? "0,512" : "0,2048,4096,8192";
        int blockKeys = quick ? 128 : 512;
        // key: variant + "@" + past, in the order measured
        Map<String, JsonNode> p50 = new LinkedHashMap<>();
        Consumer<ObjectNode> record = n -> {
            ObjectNode out = bench.result(SUITE);
            out.setAll(n);
            bench.emit(out);
            if (n.has("seconds_p50")) {
                p50.put(n.get("variant").asText() + "@" + n.get("past_tokens").asInt(), n);
            }
        };
        List<String> args = List.of(String.valueOf(chunk), pasts, String.valueOf(bench.warmups()),
                String.valueOf(bench.repeats()), String.valueOf(blockKeys));
        Process child = ChildJvm.of(AttentionCoreProbe.class, args).inheritingJvmOptions(CpuBuild.PROPERTY)
                .processBuilder().redirectErrorStream(true).start();
        ChildJsonLines.forward(bench, SUITE, child, RESULT_PREFIX, record);
        if (bench.torch()) {
            runTorch(chunk, pasts, record);
        }
        ratios(pasts, p50);
    }

    private void runTorch(int chunk, String pasts, Consumer<ObjectNode> record) throws IOException, InterruptedException {
        if (!TorchBaseline.torchAvailable(bench.python())) {
            TorchScripts.emitUnavailable(bench, SUITE, "variant", "torch");
            return;
        }
        try (TorchScripts scripts = TorchScripts.extract(SCRIPT_RESOURCE)) {
            ProcessBuilder pb = scripts.oneThread(bench.python(), SCRIPT_RESOURCE, "--pasts", pasts, "--chunk",
                    String.valueOf(chunk), "--warmups", String.valueOf(bench.warmups()), "--repeats",
                    String.valueOf(bench.repeats()));
            ChildJsonLines.forward(bench, SUITE, pb.start(), "", record);
        }
    }

    private void ratios(String pasts, Map<String, JsonNode> p50) {
        LlamaConfig c = BenchLlama.CONFIG;
        List<String> others = p50.keySet().stream().map(k -> k.substring(0, k.indexOf('@'))).distinct()
                .filter(v -> !v.equals(BASE) && !v.equals(AttentionCoreProbe.CHUNK_STEP)).collect(Collectors.toList());
        for (String pastText : pasts.split(",")) {
            int past = Integer.parseInt(pastText);
            JsonNode base = p50.get(BASE + "@" + past);
            if (base == null) {
                continue;
            }
            ObjectNode ctx = bench.json().createObjectNode();
            ctx.put("past_tokens", past);
            double baseSeconds = base.get("seconds_p50").asDouble();
            double best = baseSeconds;
            for (String v : others) {
                JsonNode n = p50.get(v + "@" + past);
                if (n != null) {
                    bench.emitContext(SUITE, v + " / " + BASE + " seconds_p50", n.get("seconds_p50").asDouble()
                            / baseSeconds, ctx);
                    // on a shared machine the thread's CPU time moves less than the wall clock
                    bench.emitContext(SUITE, v + " / " + BASE + " thread_cpu_seconds_p50",
                            n.get("thread_cpu_seconds_p50").asDouble() / base.get("thread_cpu_seconds_p50").asDouble(),
                            ctx);
                    if (!v.startsWith("torch")) {
                        best = Math.min(best, n.get("seconds_p50").asDouble());
                    }
                }
            }
            JsonNode step = p50.get(AttentionCoreProbe.CHUNK_STEP + "@" + past);
            if (step != null) {
                double stepSeconds = step.get("seconds_p50").asDouble();
                int layers = c.numHiddenLayers();
                bench.emitContext(SUITE, "layers x " + BASE + " core / chunk step (the core's share)",
                        layers * baseSeconds / stepSeconds, ctx);
                bench.emitContext(SUITE, "layers x (" + BASE + " - fastest java core) / chunk step (most a step "
                        + "could save)", layers * (baseSeconds - best) / stepSeconds, ctx);
            }
        }
    }
}
