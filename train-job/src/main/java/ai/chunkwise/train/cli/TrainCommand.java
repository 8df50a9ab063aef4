package ai.chunkwise.train.cli;

import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train --conf conf/train-*.conf [overrides]}: the training loop (conf/train.conf documents every key).
 * Prints a progress line per step and the final report as one JSON line at the end.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train (SeCO / SpaCO / full back-propagation) with AdamW, checkpoints and exact resume.")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--conf", description = "HOCON file with keys under train { } (defaults: conf/train.conf)")
    Path conf;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override any configuration key, e.g. --set train.steps=20 (repeatable)")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--model", description = "Hugging Face model directory to fine-tune (train.model.path)")
    Path model;

    @Option(names = "--init-config", description = "config.json of a model to train from scratch (train.model.init-config)")
    Path initConfig;

    @Option(names = "--dataset", description = "dataset directory, local or any Hadoop file system path "
            + "(hdfs://..., s3a://...) (train.data.dataset)")
    String dataset;

    @Option(names = "--out", description = "output directory (train.output)")
    Path out;

    @Option(names = "--steps", description = "optimizer steps in total (train.steps)")
    Long steps;

    @Option(names = "--method", description = "full | seco | spaco (train.method.name)")
    String method;

    @Option(names = "--document-boundaries", paramLabel = "on|off",
            description = "confine attention to each packed document (train.data.document-boundaries)")
    String documentBoundaries;

    @Option(names = "--resume", description = "continue from <out>/checkpoints/latest (if there is one)")
    boolean resume;

    @Option(names = "--force-resume-with-changes",
            description = "with --resume: continue even if the configuration differs from the checkpoint's in a way "
                    + "that changes the run (dataset, model, method, batch geometry, optimizer); report.json records it")
    boolean forceResumeWithChanges;

    @Option(names = "--stop-at-step", paramLabel = "N",
            description = "stop after optimizer step N (checkpointed) even if train.steps is larger, to split a run")
    Long stopAtStep;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Map<String, String> overrides = new LinkedHashMap<>();
        putPath(overrides, "train.model.path", model);
        putPath(overrides, "train.model.init-config", initConfig);
        if (dataset != null) {
            overrides.put("train.data.dataset", com.typesafe.config.ConfigUtil.quoteString(dataset));
        }
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
        overrides.putAll(set);   // explicit --set wins
        TrainSettings settings = TrainSettings.load(conf, overrides);
        settings.memory().apply();   // before ND4J starts: JavaCPP reads its limits once
        ObjectNode report = new Trainer(settings, System.out).run(resume,
                stopAtStep == null ? Long.MAX_VALUE : stopAtStep, forceResumeWithChanges);
        System.out.println(report.toString());
        return 0;
    }

    private static void putPath(Map<String, String> overrides, String key, Path value) {
        if (value != null) {
            // quoted: a path is a string, whatever characters it holds
            overrides.put(key, com.typesafe.config.ConfigUtil.quoteString(value.toString()));
        }
    }
}
