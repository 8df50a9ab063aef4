package ai.chunkwise.train.cli;

import ai.chunkwise.pipeline.storage.Locations;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train --conf conf/train-*.conf [overrides]}: the training loop (conf/train.conf documents every key).
 * Prints a progress line per step and a short summary with the path of report.html at the end ({@code --json}: the
 * report as one JSON line instead).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train (SeCO / SpaCO / full back-propagation) with AdamW, checkpoints and exact resume.")
final class TrainCommand implements Callable<Integer> {

    // every location is a String: picocli would parse a Path, which turns hdfs://host:8020/x into hdfs:/host:8020/x
    @Option(names = "--conf", paramLabel = "FILE", description = "HOCON file with keys under train { } (defaults: "
            + "conf/train.conf); local or any Hadoop file system path")
    String conf;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override any configuration key, e.g. --set train.steps=20 (repeatable)")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory to fine-tune, local or "
            + "any Hadoop file system path (train.model.path)")
    String model;

    @Option(names = "--init-config", paramLabel = "FILE",
            description = "config.json of a model to train from scratch (train.model.init-config)")
    String initConfig;

    @Option(names = "--dataset", paramLabel = "DIR", description = "dataset directory, local or any Hadoop file system path "
            + "(hdfs://..., s3a://...) (train.data.dataset)")
    String dataset;

    @Option(names = "--out", paramLabel = "DIR", description = "output directory, local or any Hadoop file system "
            + "path (hdfs://..., s3a://...) (train.output)")
    String out;

    @Option(names = "--steps", description = "optimizer steps in total (train.steps)")
    Long steps;

    @Option(names = "--method", description = "full | seco | spaco (train.method.name)")
    String method;

    @Option(names = "--document-boundaries", paramLabel = "on|off",
            description = "confine attention to each packed document (train.data.document-boundaries)")
    String documentBoundaries;

    @Option(names = "--master", paramLabel = "URL", description = "run each step's micro-batches as Spark tasks on "
            + "this master, e.g. local[2] or spark://host:7077 (train.distributed = spark, train.spark.master); under "
            + "spark-submit set train.distributed = spark instead")
    String master;

    @Option(names = "--resume", description = "continue from <out>/checkpoints/latest (if there is one)")
    boolean resume;

    @Option(names = "--force-resume-with-changes",
            description = "with --resume: continue even if the configuration differs from the checkpoint's in a way "
                    + "that changes the run (dataset, model, method, batch geometry, optimizer); report.json records it")
    boolean forceResumeWithChanges;

    @Option(names = "--stop-at-step", paramLabel = "N",
            description = "stop after optimizer step N (checkpointed) even if train.steps is larger, to split a run")
    Long stopAtStep;

    @Option(names = "--json", description = "end with the run's report as one JSON line (report.json's content) "
            + "instead of the short summary")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Map<String, String> overrides = new LinkedHashMap<>();
        putPath(overrides, "train.model.path", model);
        putPath(overrides, "train.model.init-config", initConfig);
        putPath(overrides, "train.data.dataset", dataset);
        putPath(overrides, "train.output", out);
        if (steps != null) {
            overrides.put("train.steps", steps.toString());
        }
        if (method != null) {
            overrides.put("train.method.name", method);
        }
        if (documentBoundaries != null) {
            overrides.put("train.data.document-boundaries", switch (documentBoundaries) {
                case "on", "true" -> "true";
                case "off", "false" -> "false";
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "--document-boundaries takes on or off, got '" + documentBoundaries + "'");
            });
        }
        if (master != null) {
            overrides.put("train.distributed", "spark");
            overrides.put("train.spark.master", com.typesafe.config.ConfigUtil.quoteString(master));
        }
        overrides.putAll(set);   // explicit --set wins
        TrainSettings settings = TrainSettings.load(
                Locations.fetch("--conf", conf, new org.apache.hadoop.conf.Configuration()), overrides);
        settings.memory().apply();   // before ND4J starts: JavaCPP reads its limits once
        ObjectNode report = new Trainer(settings, System.out).run(resume,
                stopAtStep == null ? Long.MAX_VALUE : stopAtStep, forceResumeWithChanges);
        System.out.println(json ? report.toString() : RunSummary.of(report, settings));
        return 0;
    }

    private static void putPath(Map<String, String> overrides, String key, String value) {
        if (value != null) {
            // quoted: a location is a string, whatever characters it holds (hdfs://... is not HOCON otherwise)
            overrides.put(key, com.typesafe.config.ConfigUtil.quoteString(value));
        }
    }
}
