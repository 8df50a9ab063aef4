package ai.chunkwise.tokenize.bench;

import ai.chunkwise.pipeline.tokenizer.TextTokenizer;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;

/**
 * The raw tokenizer alone, single-threaded, in a JVM of its own (started by {@link PipelineBench} right before
 * each timed job run): {@code encode} over the corpus's documents already in memory as Strings, one warm-up pass
 * then the best of N timed passes. A JVM where Spark never ran keeps the JIT profiles the encoder's HashMap
 * lookups get on their own (Spark's use of the same JDK code makes the encoder slower in Spark's JVM).
 *
 * <p>Arguments: tokenizer-spec corpus passes. Prints one line: {@code tokens seconds cpu_seconds}.
 */
public final class RawEncodePass {
    private RawEncodePass() {
    }

    public static void main(String[] args) throws Exception {
        String tokenizer = args[0];
        List<String> documents = PipelineBench.readLines(Path.of(args[1]));
        int passes = Integer.parseInt(args[2]);
        long tokens = 0;
        double best = Double.MAX_VALUE;
        double cpuOfBest = 0;
        try (TextTokenizer t = TextTokenizer.fromSpec(tokenizer)) {
            PipelineBench.encodeAll(t, documents);   // warm-up (JIT)
            for (int i = 0; i < passes; i++) {
                long cpu = cpuNanos();
                long start = System.nanoTime();
                tokens = PipelineBench.encodeAll(t, documents);
                double seconds = (System.nanoTime() - start) / 1e9;
                if (seconds < best) {
                    best = seconds;
                    cpuOfBest = (cpuNanos() - cpu) / 1e9;
                }
            }
        }
        System.out.println(tokens + " " + best + " " + cpuOfBest);
    }

    /** The whole process's CPU time, GC and JIT included, as the job's side counts it. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
