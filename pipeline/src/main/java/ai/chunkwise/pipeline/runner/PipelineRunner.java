package ai.chunkwise.pipeline.runner;

import ai.chunkwise.pipeline.format.DatasetException;
import ai.chunkwise.pipeline.format.DatasetInspector;
import ai.chunkwise.pipeline.format.DatasetLocation;
import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.format.Manifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code run <pipeline.conf>}: tokenize -> verify -> train, each job started as its own process (never on this
 * classpath). When the dataset is complete (manifest present and every shard's size, SHA-256 and schema verify),
 * tokenize runs with {@code --mode incremental --overwrite}: the job itself compares the dataset's fingerprint with
 * what the configuration would produce and does nothing, adds new input files, or publishes a complete new
 * version (the old one readable until then); train always passes {@code --resume}, so it continues from its latest checkpoint
 * (or starts when there is none, or finishes at once when it is done). A failing step stops the pipeline with
 * the step's exit code and the last lines of its stderr.
 */
public final class PipelineRunner {
    static final String TOKENIZE_MAIN_CLASS = "ai.chunkwise.tokenize.TokenizeJob";
    static final String TRAIN_MAIN_CLASS = "ai.chunkwise.train.cli.TrainCli";

    private final PipelineSettings settings;
    private final Path workingDir;
    private final PrintStream out;
    private final PrintStream err;

    public PipelineRunner(PipelineSettings settings, Path workingDir, PrintStream out, PrintStream err) {
        this.settings = settings;
        this.workingDir = workingDir;
        this.out = out;
        this.err = err;
    }

    public void run() {
        long t0 = System.nanoTime();
        tokenize();
        verify();
        train();
        out.printf("pipeline: done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    void tokenize() {
        String incomplete = whyIncomplete(datasetLocation(), hadoopConf());
        List<String> jobArgs = new ArrayList<>(List.of("--conf", settings.tokenizeConf().toString(),
                "--output", settings.dataset().toString(), "--overwrite"));
        if (incomplete == null) {
            // A dataset that verifies may still be stale: the job compares its fingerprint (tokenizer, every setting
            // that changes bytes, input files) with what the configuration produces, and says "nothing to do",
            // adds new input files, or publishes a complete new version when the configuration changed.
            out.println("pipeline: tokenize: " + settings.dataset() + " verifies; checking its fingerprint against "
                    + "the configuration and the input");
            jobArgs.addAll(List.of("--mode", "incremental"));
        } else {
            out.println("pipeline: tokenize: " + incomplete);
            jobArgs.addAll(List.of("--mode", "full"));
        }
        jobArgs.addAll(settings.tokenizeArgs());
        List<String> command = new ArrayList<>();
        if (settings.sparkSubmit().isBlank()) {
            command.addAll(javaJar(settings.tokenizeJar()));
        } else {
            command.add(settings.sparkSubmit());
            command.addAll(List.of("--class", TOKENIZE_MAIN_CLASS));
            command.addAll(settings.sparkArgs());
            command.add(settings.tokenizeJar().toString());
        }
        command.addAll(jobArgs);
        runStep("tokenize", command);
    }

    void verify() {
        try {
            out.println("pipeline: verify: " + DatasetInspector.summaryJson(datasetLocation(), hadoopConf()));
        } catch (DatasetException e) {
            throw new StepFailedException("verify", 1, "step 'verify' failed: " + e.getMessage());
        }
    }

    void train() {
        List<String> command = new ArrayList<>();
        if (settings.trainSparkSubmit().isBlank()) {
            command.addAll(javaJar(settings.trainJar()));
        } else {
            // the trainer inside the Spark driver (client or cluster deploy mode, as spark-args say)
            command.add(settings.trainSparkSubmit());
            command.addAll(List.of("--class", TRAIN_MAIN_CLASS));
            command.addAll(settings.trainSparkArgs());
            command.add(settings.trainJar().toString());
        }
        command.addAll(List.of("train", "--conf", settings.trainConf().toString(),
                "--dataset", settings.dataset(), "--out", settings.trainOutput(), "--resume"));
        command.addAll(settings.trainArgs());
        runStep("train", command);
    }

    private List<String> javaJar(Path jar) {
        if (!Files.isRegularFile(resolve(jar))) {
            throw new IllegalArgumentException(jar + " does not exist: build it first (mvn -B package -DskipTests) "
                    + "or set its path in the pipeline configuration");
        }
        List<String> command = new ArrayList<>();
        command.add(settings.java());
        command.addAll(settings.javaOptions());
        command.add("-jar");
        command.add(jar.toString());
        return command;
    }

    private void runStep(String step, List<String> command) {
        out.println("pipeline: " + step + ": " + String.join(" ", command));
        long t0 = System.nanoTime();
        StepProcess.run(step, command, workingDir, settings.environment(), out, err);
        out.printf("pipeline: %s finished in %.1f s%n", step, (System.nanoTime() - t0) / 1e9);
    }

    /** Null when the dataset is complete; otherwise why it is not (which is why tokenize runs). */
    static String whyIncomplete(String dataset, Configuration conf) {
        org.apache.hadoop.fs.Path dir = DatasetLocation.qualify(dataset, conf);
        try {
            FileSystem fs = DatasetLocation.fileSystem(dir, conf);
            if (!fs.exists(new org.apache.hadoop.fs.Path(dir, Manifest.FILE_NAME))) {
                return dataset + " has no " + Manifest.FILE_NAME + ": running the job";
            }
        } catch (IOException e) {
            return "cannot read " + dataset + " (" + e.getMessage() + "): running the job";
        }
        try (DatasetReader ignored = DatasetReader.open(dir, conf, DatasetReader.Verification.FULL)) {
            return null;
        } catch (DatasetException e) {
            return "the existing dataset does not verify (" + e.getMessage() + "): running the job again";
        }
    }

    private Path resolve(Path p) {
        return workingDir.resolve(p);
    }

    /** The dataset: a relative local path is relative to the runner's working directory, a URI is taken as it is. */
    private String datasetLocation() {
        String d = settings.dataset();
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(d);
        return p.toUri().getScheme() == null && !p.isAbsolute() ? workingDir.resolve(d).toString() : d;
    }

    private static Configuration hadoopConf() {
        return DatasetLocation.environmentConfiguration();
    }
}
