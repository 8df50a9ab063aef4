package ai.chunkwise.train.bench;

import ai.chunkwise.tokenize.bench.PipelineBench;
import ai.chunkwise.train.bench.experiment.ExperimentCommand;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code java -jar train-job/bench/target/bench.jar --suite <name> [--quick]}: the performance benchmarks,
 * printed as one JSON object per line. Every ratio compares runs made side by side in this one invocation (these
 * machines are shared and noisy, so numbers from different runs are not compared). Subcommands: {@code grad}
 * (time a gradient method on a real checkpoint) and {@code tokenize} (the tokenize job against its raw tokenizer) and {@code experiment} (training outcomes: docs/experiments.md).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark suite and print JSON lines: methods, max-length, chunk-cost, pipeline, all.",
        subcommands = {GradRepeat.class, PipelineBench.class, ExperimentCommand.class},
        footer = {"", "Set OMP_NUM_THREADS=1 (and OPENBLAS_NUM_THREADS=1) on 2 cores; each measurement runs in a "
                + "child JVM that gets them."})
public final class BenchCommand implements Callable<Integer> {
    private static final long GIB = 1L << 30;

    @Option(names = "--suite", description = "methods | max-length | chunk-cost | pipeline | all")
    String suite;

    @Option(names = "--python", description = "interpreter for the PyTorch baseline (default: ${DEFAULT-VALUE}, "
            + "from the PATH)")
    String python = "python3";

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new BenchCommand()).execute(args));
    }

    @Option(names = "--quick", description = "small sizes: a smoke run in under 2 minutes")
    boolean quick;

    @Option(names = "--memory-cap-gib", description = "RSS cap for the max-length suite (default: ${DEFAULT-VALUE})")
    double maxLengthCapGib = 4;

    @Option(names = "--methods-cap-gib", description = "RSS cap per run in the methods suite (default: ${DEFAULT-VALUE})")
    double methodsCapGib = 16;

    @Option(names = "--max-tokens", description = "longest sequence of the methods suite (default: ${DEFAULT-VALUE})")
    int maxTokens = 16384;

    @Option(names = "--timeout-s", description = "longest a single measured run may take (default: ${DEFAULT-VALUE})")
    long timeoutSeconds = 1800;

    @Option(names = "--skip-torch",
            description = "don't run the PyTorch CPU baseline (it needs python3-torch; see train-job/bench/tools)")
    boolean skipTorch;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        if (suite == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "give --suite methods|max-length|chunk-cost|pipeline|all, or a subcommand (grad, tokenize)");
        }
        List<String> suites = suite.equals("all") ? List.of("methods", "chunk-cost", "max-length", "pipeline") : List.of(suite);
        for (String s : suites) {
            switch (s) {
                case "methods" -> new MethodsSuite(this).run();
                case "max-length" -> new MaxLengthSuite(this).run();
                case "chunk-cost" -> new ChunkCostSuite(this).run();
                case "pipeline" -> new PipelineSuite(this).run();
                default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "unknown suite '" + s + "': expected methods, max-length, chunk-cost, pipeline or all");
            }
        }
        return 0;
    }

    boolean quick() {
        return quick;
    }

    int maxTokens() {
        return maxTokens;
    }

    long timeoutSeconds() {
        return timeoutSeconds;
    }

    long methodsCapBytes() {
        return (long) (methodsCapGib * GIB);
    }

    long maxLengthCapBytes() {
        return (long) (maxLengthCapGib * GIB);
    }

    boolean torch() {
        return !skipTorch;
    }

    String python() {
        return python;
    }

    ObjectNode result(String suiteName) {
        ObjectNode n = json.createObjectNode();
        n.put("suite", suiteName);
        return n;
    }

    /** One JSON object per line on stdout: the benchmark's whole output. */
    void emit(ObjectNode n) {
        System.out.println(n);
        System.out.flush();
    }

    /** A ratio line: {@code value} against its target, with whether the target is met. */
    void emitRatio(String suiteName, String name, double value, String target, boolean met, ObjectNode context) {
        ObjectNode n = result(suiteName);
        n.put("ratio", name);
        n.put("value", value);
        n.put("target", target);
        n.put("met", met);
        if (context != null) {
            n.setAll(context);
        }
        emit(n);
    }

    ObjectMapper json() {
        return json;
    }

    static List<Integer> doubling(int from, int to) {
        List<Integer> out = new ArrayList<>();
        for (int n = from; n <= to; n *= 2) {
            out.add(n);
        }
        return out;
    }
}
