package ai.chunkwise.train.bench;

import ai.chunkwise.childjvm.ChildJvm;
import ai.chunkwise.train.backend.CpuBuild;
import ai.chunkwise.train.model.LlamaConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
        readLines(child, RESULT_PREFIX, record);
        if (bench.torch()) {
            runTorch(chunk, pasts, record);
        }
        ratios(pasts, p50);
    }

    private void runTorch(int chunk, String pasts, Consumer<ObjectNode> record) throws IOException, InterruptedException {
        String python = bench.python();
        if (!TorchBaseline.torchAvailable(python)) {
            ObjectNode n = bench.result(SUITE);
            n.put("variant", "torch");
            n.put("status", "unavailable");
            n.put("python", python);
            n.put("hint", "run train-job/bench/tools/install-torch-cpu.sh, or name an interpreter that has torch "
                    + "with --python");
            bench.emit(n);
            return;
        }
        Path script = Files.createTempFile("torch_attention_core", ".py");
        try {
            try (InputStream in = AttentionCoreSuite.class.getResourceAsStream(SCRIPT_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(SCRIPT_RESOURCE + " is missing from the benchmark jar: rebuild it");
                }
                Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
            }
            ProcessBuilder pb = new ProcessBuilder(python, script.toString(), "--pasts", pasts, "--chunk",
                    String.valueOf(chunk), "--warmups", String.valueOf(bench.warmups()), "--repeats",
                    String.valueOf(bench.repeats()), "--threads", "1").redirectErrorStream(true);
            pb.environment().put("OMP_NUM_THREADS", "1");
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            readLines(pb.start(), "", record);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** Forwards the JSON lines a child prints after {@code prefix}; fails with its last lines if it fails. */
    private void readLines(Process p, String prefix, Consumer<ObjectNode> record) throws IOException, InterruptedException {
        StringBuilder other = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith(prefix + "{")) {
                    record.accept((ObjectNode) bench.json().readTree(line.substring(prefix.length())));
                } else {
                    other.append(line).append('\n');
                    if (other.length() > 4000) {
                        other.delete(0, other.length() - 4000);
                    }
                }
            }
        }
        if (!p.waitFor(bench.timeoutSeconds(), TimeUnit.SECONDS)) {
            ChildJvm.kill(p);
        }
        if (p.exitValue() != 0) {
            ObjectNode n = bench.result(SUITE);
            n.put("status", "failed");
            n.put("exit_code", p.exitValue());
            n.put("output_tail", other.toString());
            bench.emit(n);
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
