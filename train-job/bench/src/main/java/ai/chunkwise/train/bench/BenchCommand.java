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
 * (time a gradient method on a real checkpoint), {@code tokenize} (the tokenize job against its raw tokenizer),
 * {@code experiment} (training outcomes: docs/experiments.md), {@code random-model} (a random-weight checkpoint in the
 * shape of a conf/models/ config) and {@code load-memory} (peak memory of loading a checkpoint).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark suite and print JSON lines: methods, max-length, chunk-cost, builds, pipeline, all; "
                + "attention-core (not in all).",
        subcommands = {GradRepeat.class, PipelineBench.class, ExperimentCommand.class, RandomModel.class,
                LoadMemoryProbe.class},
        footer = {"", "Set OMP_NUM_THREADS=1 (and OPENBLAS_NUM_THREADS=1) on 2 cores; each measurement runs in a "
                + "child JVM that gets them."})
public final class BenchCommand implements Callable<Integer> {
    private static final long GIB = 1L << 30;

    @Option(names = "--suite", description = "methods | max-length | chunk-cost | builds | pipeline | all | "
            + "attention-core")
    String suite;

    @Option(names = "--python", description = "interpreter for the PyTorch baseline (default: ${DEFAULT-VALUE}, "
            + "from the PATH)")
    String python = "python3";

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        ai.chunkwise.train.backend.CpuBuild.select();   // before ND4J loads; child JVMs get the choice as a -D
        System.exit(new picocli.CommandLine(new BenchCommand()).execute(args));
    }

    @Option(names = "--quick", description = "small sizes: a smoke run in under 2 minutes")
    boolean quick;

    @Option(names = "--memory-cap-gib", description = "RSS cap for the max-length suite (default: ${DEFAULT-VALUE})")
    double maxLengthCapGib = 4;

    @Option(names = "--search-up-to", description = "max-length suite: longest length tried (default: ${DEFAULT-VALUE})")
    int searchUpTo = 65536;

    @Option(names = "--methods-cap-gib", description = "RSS cap per run in the methods suite (default: ${DEFAULT-VALUE})")
    double methodsCapGib = 16;

    @Option(names = "--max-tokens", description = "longest sequence of the methods suite (default: ${DEFAULT-VALUE})")
    int maxTokens = 16384;

    @Option(names = "--min-tokens", description = "shortest sequence of the methods suite (default: ${DEFAULT-VALUE})")
    int minTokens = 2048;

    @Option(names = "--full-max-tokens", description = "methods suite: run full back-propagation up to this length "
            + "(default: ${DEFAULT-VALUE}, i.e. every length; it needs ~10 GiB at 8K)")
    int fullMaxTokens = Integer.MAX_VALUE;

    @Option(names = "--chunk-size", description = "methods and max-length suites: tokens per chunk (default: "
            + "${DEFAULT-VALUE})")
    int chunkSize = 256;

    @Option(names = "--samplings", split = ",", description = "methods suite: SpaCO samplings (default: "
            + "${DEFAULT-VALUE})")
    List<String> samplings = List.of("bernoulli", "uniform");

    @Option(names = "--warmups", description = "untimed steps per measurement (default: ${DEFAULT-VALUE})")
    int warmups = 1;

    @Option(names = "--repeats", description = "timed steps per measurement (default: ${DEFAULT-VALUE})")
    int repeats = 3;

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
                    "give --suite methods|max-length|chunk-cost|builds|pipeline|all|attention-core, "
                            + "or a subcommand (grad, tokenize)");
        }
        List<String> suites = suite.equals("all") ? List.of("methods", "chunk-cost", "max-length", "builds", "pipeline")
                : List.of(suite);
        for (String s : suites) {
            emitEnvironment(s);
            switch (s) {
                case "methods" -> new MethodsSuite(this).run();
                case "max-length" -> new MaxLengthSuite(this).run();
                case "chunk-cost" -> new ChunkCostSuite(this).run();
                case "pipeline" -> new PipelineSuite(this).run();
                case "builds" -> new BuildsSuite(this).run();
                case "attention-core" -> new AttentionCoreSuite(this).run();
                default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "unknown suite '" + s + "': expected methods, max-length, chunk-cost, builds, pipeline, all, "
                                + "attention-core");
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

    int minTokens() {
        return minTokens;
    }

    int fullMaxTokens() {
        return fullMaxTokens;
    }

    int chunkSize() {
        return chunkSize;
    }

    /** --quick: only the default (bernoulli) sampling, to stay a smoke run. */
    List<String> samplings() {
        return quick ? List.of("bernoulli") : samplings;
    }

    int warmups() {
        return warmups;
    }

    int repeats() {
        return repeats;
    }

    long timeoutSeconds() {
        return timeoutSeconds;
    }

    long methodsCapBytes() {
        return (long) (methodsCapGib * GIB);
    }

    int searchUpTo() {
        return searchUpTo;
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

    /**
     * A ratio at a point where one of the targets applies: the target and whether it is met. Only
     * here does a line carry {@code met}.
     */
    void emitTarget(String suiteName, String name, double value, String target, boolean met, ObjectNode context) {
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

    /** A ratio measured where no target applies (another size, a quick run, a figure for context): no met. */
    void emitContext(String suiteName, String name, double value, ObjectNode context) {
        emitContext(suiteName, name, value, null, context);
    }

    /** @param targetElsewhere where this ratio's target applies, e.g. "<= 1.15 at k = 64", or null if none */
    void emitContext(String suiteName, String name, double value, String targetElsewhere, ObjectNode context) {
        ObjectNode n = result(suiteName);
        n.put("ratio", name);
        n.put("value", value);
        if (targetElsewhere != null) {
            n.put("target_applies_at", targetElsewhere);
        }
        if (context != null) {
            n.setAll(context);
        }
        emit(n);
    }

    /** The machine's state when a suite starts: shared machines make every absolute figure move. */
    void emitEnvironment(String suiteName) {
        ObjectNode n = result(suiteName);
        n.put("environment", java.time.Instant.now().toString());
        n.put("load_average", loadAverage());
        n.put("cores", Runtime.getRuntime().availableProcessors());
        n.put("nd4j_build", ai.chunkwise.train.backend.CpuBuild.describe());
        n.put("quick", quick);
        emit(n);
    }

    /** /proc/loadavg's 1, 5 and 15 minute figures ("" where it cannot be read). */
    static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
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
