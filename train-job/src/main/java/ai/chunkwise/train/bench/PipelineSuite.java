package ai.chunkwise.train.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The tokenize job's tokens/s per core against the raw tokenizer's single-thread tokens/s, both measured by
 * tokenize-job's own PipelineBench in one run (train-job does not depend on tokenize-job, so it runs that
 * benchmark as a process from the sibling module's jar).
 */
final class PipelineSuite {
    private static final String SUITE = "pipeline";
    private static final String MAIN = "ai.chunkwise.tokenize.bench.PipelineBench";
    private final BenchCommand bench;

    PipelineSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        Path jar = Path.of("tokenize-job", "target", "tokenize-job.jar");
        if (!Files.isRegularFile(jar)) {
            ObjectNode n = bench.result(SUITE);
            n.put("status", "unavailable");
            n.put("hint", "build first (mvn -B -q package -DskipTests) and run from the repository root: " + jar + " is missing");
            bench.emit(n);
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED", "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
                "-cp", jar.toString(), MAIN));
        if (bench.quick()) {
            cmd.addAll(List.of("--raw-runs", "1", "--job-runs", "1"));
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
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
