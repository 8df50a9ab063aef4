package ai.chunkwise.train.bench;

import ai.chunkwise.childjvm.ChildJvm;
import ai.chunkwise.train.backend.CpuBuild;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Issue #11's question after the attention core turned out faster in SameDiff than in PyTorch: where does the rest
 * of a SeCO chunk step's time go on each side? One chunk step (recomputed forward + backward with an injected K/V
 * gradient) of {@link BenchLlama}, timed per op and grouped into the same categories on both sides: Chunkwise in a
 * child JVM with one OpenMP thread ({@link StepProfileProbe}), then PyTorch on one thread under torch.profiler
 * (tools/torch_step_profile.py, carried in this jar next to tools/torch_cpu_baseline.py, whose model it profiles).
 * Then, per past length and category, Chunkwise's milliseconds minus PyTorch's.
 */
final class StepProfileSuite {
    static final String SUITE = "step-profile";
    static final String RESULT_PREFIX = "STEP_PROFILE ";
    private static final List<String> SCRIPTS = List.of("torch_step_profile.py", "torch_cpu_baseline.py");
    private final BenchCommand bench;

    StepProfileSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() throws IOException, InterruptedException {
        boolean quick = bench.quick();
        int chunk = quick ? 64 : 256;
        String pasts = quick ? "0,256" : "0,2048,4096";
        Map<String, JsonNode> bySide = new HashMap<>();   // side + "@" + past
        Consumer<ObjectNode> record = n -> {
            ObjectNode out = bench.result(SUITE);
            out.setAll(n);
            bench.emit(out);
            if (n.has("categories")) {
                bySide.put(n.get("side").asText() + "@" + n.get("past_tokens").asInt(), n);
            }
        };
        List<String> args = List.of(String.valueOf(chunk), pasts, String.valueOf(bench.warmups()),
                String.valueOf(bench.repeats()));
        Process child = ChildJvm.of(StepProfileProbe.class, args).inheritingJvmOptions(CpuBuild.PROPERTY)
                .processBuilder().redirectErrorStream(true).start();
        ChildJsonLines.forward(bench, SUITE, child, RESULT_PREFIX, record);
        if (bench.torch()) {
            runTorch(chunk, pasts, record);
        }
        differences(pasts, bySide);
    }

    private void runTorch(int chunk, String pasts, Consumer<ObjectNode> record) throws IOException, InterruptedException {
        if (!TorchBaseline.torchAvailable(bench.python())) {
            TorchScripts.emitUnavailable(bench, SUITE, "side", "pytorch");
            return;
        }
        try (TorchScripts scripts = TorchScripts.extract(SCRIPTS.toArray(new String[0]))) {
            ProcessBuilder pb = scripts.oneThread(bench.python(), SCRIPTS.get(0), "--pasts", pasts, "--chunk",
                    String.valueOf(chunk), "--warmups", String.valueOf(bench.warmups()), "--repeats",
                    String.valueOf(bench.repeats()));
            ChildJsonLines.forward(bench, SUITE, pb.start(), "", record);
        }
    }

    /** Per past and category: Chunkwise's wall ms, PyTorch's, and the difference (the gap's parts). */
    private void differences(String pasts, Map<String, JsonNode> bySide) {
        for (String pastText : pasts.split(",")) {
            int past = Integer.parseInt(pastText);
            JsonNode ours = bySide.get("chunkwise@" + past);
            JsonNode theirs = bySide.get("pytorch@" + past);
            if (ours == null || theirs == null) {
                continue;
            }
            ObjectNode n = bench.result(SUITE);
            n.put("comparison", "chunkwise - pytorch, wall ms p50 of each category (profiled steps)");
            n.put("past_tokens", past);
            ObjectNode cats = n.putObject("categories");
            for (String cat : OpCategories.ALL) {
                double a = ours.path("categories").path(cat).path("wall_ms_p50").asDouble();
                double b = theirs.path("categories").path(cat).path("wall_ms_p50").asDouble();
                ObjectNode o = cats.putObject(cat);
                o.put("chunkwise_ms", a);
                o.put("pytorch_ms", b);
                o.put("difference_ms", a - b);
            }
            double ourStep = ours.get("step_wall_ms_p50").asDouble();
            double theirStep = theirs.get("step_wall_ms_p50").asDouble();
            n.put("chunkwise_step_ms", ourStep);
            n.put("pytorch_step_ms", theirStep);
            n.put("step_difference_ms", ourStep - theirStep);
            n.put("chunkwise_unaccounted_ms", ourStep - ours.get("ops_wall_ms_p50").asDouble());
            n.put("chunkwise_between_ops_ms", ours.get("between_ops_ms_p50").asDouble());
            n.put("chunkwise_gc_ms", ours.get("gc_ms_p50").asDouble());
            n.put("chunkwise_outside_graph_ms", ours.get("outside_graph_ms_p50").asDouble());
            n.put("pytorch_unaccounted_ms", theirStep - theirs.get("ops_wall_ms_p50").asDouble());
            // unprofiled steps' thread CPU: the steadiest whole-step figure on a shared machine
            n.put("chunkwise_plain_step_cpu_ms", ours.get("plain_step_cpu_ms_p50").asDouble());
            n.put("pytorch_plain_step_cpu_ms", theirs.get("plain_step_cpu_ms_p50").asDouble());
            bench.emit(n);
        }
    }
}
