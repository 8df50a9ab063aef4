package ai.chunkwise.train.bench;

import ai.chunkwise.childjvm.ChildJvm;
import ai.chunkwise.train.backend.CpuBuild;
import ai.chunkwise.tokenize.bench.PipelineBench;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The tokenize job's tokens/s per core against the raw tokenizer's single-thread tokens/s, both measured by
 * {@link PipelineBench} in one child JVM (Spark gets a JVM of its own, apart from the trainer's measurements).
 */
final class PipelineSuite {
    private static final String SUITE = "pipeline";
    private final BenchCommand bench;

    PipelineSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        List<String> args = new ArrayList<>();
        if (bench.quick()) {
            args.addAll(List.of("--raw-runs", "1", "--job-runs", "1"));
        }
        Process p = ChildJvm.of(PipelineBench.class, args).inheritingJvmOptions(CpuBuild.PROPERTY).processBuilder()
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
        int open = out.indexOf('{');
        int close = out.lastIndexOf('}');
        ObjectNode n = bench.result(SUITE);
        if (exit != 0 || open < 0 || close < open) {
            n.put("status", "failed");
            n.put("exit_code", exit);
            n.put("output_tail", out.substring(Math.max(0, out.length() - 2000)));
        } else {
            n.setAll((ObjectNode) bench.json().readTree(out.substring(open, close + 1)));
        }
        bench.emit(n);
    }
}
