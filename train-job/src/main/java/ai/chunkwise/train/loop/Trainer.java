package ai.chunkwise.train.loop;

import ai.chunkwise.pipeline.lock.HeldLock;
import ai.chunkwise.pipeline.lock.OutputLock;
import ai.chunkwise.train.checkpoint.AtomicFiles;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.checkpoint.TrainedModelFiles;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.data.BatchStream;
import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.data.TokenizerMatch;
import ai.chunkwise.train.data.TrainingSources;
import ai.chunkwise.train.data.TrainingStream;
import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.optim.AdamW;
import ai.chunkwise.train.optim.GradientAccumulator;
import ai.chunkwise.train.optim.GradientClipping;
import ai.chunkwise.train.optim.LearningRateSchedule;
import ai.chunkwise.train.optim.ScheduleChange;
import ai.chunkwise.train.reliability.FiniteTensors;
import ai.chunkwise.train.memory.MemoryEstimate;
import ai.chunkwise.train.reliability.NonFiniteStepGuard;
import ai.chunkwise.train.reliability.ResumeCompatibility;
import ai.chunkwise.train.reliability.RunFingerprint;
import ai.chunkwise.train.storage.RemoteOutput;
import ai.chunkwise.train.step.LocalStepGradients;
import ai.chunkwise.train.step.MethodSeeds;
import ai.chunkwise.train.step.StepGradients;
import ai.chunkwise.train.step.StepSums;
import ai.chunkwise.train.reliability.TrainingDivergedException;
import ai.chunkwise.train.report.RunReportPage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The training loop: micro-batches from the seeded data order, gradients from the configured engine, token-weighted
 * accumulation, global-norm clipping, AdamW with warm-up + cosine, metrics per step, atomic checkpoints, and an
 * exact resume: a run resumed from step k's checkpoint performs the same arithmetic as an uninterrupted one.
 */
public final class Trainer {
    public static final String REPORT_FILE = "report.json";

    private final TrainSettings settings;
    private final PrintStream console;

    public Trainer(TrainSettings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
    }

    /**
     * Trains up to {@code train.steps}, or only up to {@code stopAtStep} if that is smaller (to split a run).
     *
     * @param resume continue from {@code <output>/checkpoints/latest}; without it an output that already holds
     *               checkpoints is refused, so a run never silently restarts over an earlier one
     * @return the final report (also written to {@code <output>/report.json})
     */
    public ObjectNode run(boolean resume, long stopAtStep) {
        return run(resume, stopAtStep, false);
    }

    /**
     * @param forceChanges resume even when the configuration differs from the checkpoint's in a way that changes
     *                     the run (dataset, model, method, batch geometry, optimizer); report.json records them
     */
    public ObjectNode run(boolean resume, long stopAtStep, boolean forceChanges) {
        // one trainer per output directory: a second one would rotate away the first one's checkpoints
        // a remote output is locked there too: the staging directory's lock excludes runs on one machine only
        try (OutputLock lock = OutputLock.acquire(settings.output(), "train", console::println);
             HeldLock remoteLock = settings.remoteOutput() ? RemoteOutput.lock(settings.outputLocation(),
                     HadoopEnvironment.configuration(), console::println) : null) {
            return runLocked(resume, stopAtStep, forceChanges);
        }
    }

    private ObjectNode runLocked(boolean resume, long stopAtStep, boolean forceChanges) {
        RemoteOutput remote = stageRemoteOutput();
        RunFingerprint fingerprint = RunFingerprint.of(settings.sources(), settings.initConfig(), settings.modelPath());
        CheckpointStore store = new CheckpointStore(settings.output(), settings.keepCheckpoints());
        Resume from = findResumePoint(store, resume, fingerprint, forceChanges);
        // streamed: only manifests and shard sizes are read here; each shard is verified when first read
        try (TrainingSources data = TrainingSources.open(settings.sources(), HadoopEnvironment.configuration(),
                settings.maxSequences(), settings.verifyChecksums())) {
            data.requireBufferFits(settings.shuffleBuffer(), settings.shuffle(), Runtime.getRuntime().maxMemory());
            Setup setup = setUp(data, from);
            return train(setup, new Outputs(store, remote, fingerprint), from, data, Math.min(settings.steps(), stopAtStep));
        }
    }

    /** The training loop proper: one optimizer step per iteration, its metrics, health check and checkpoint. */
    private ObjectNode train(Setup run, Outputs out, Resume from, TrainingSources data, long endStep) {
        TrainSettings s = settings;
        TrainerState state = from.state();
        long startStep = state.step();
        RunClock clock = new RunClock();
        Path lastCheckpoint = from.checkpoint().orElse(null);
        GradientAccumulator accumulator = new GradientAccumulator();
        NonFiniteStepGuard guard = new NonFiniteStepGuard(s.maxNonFiniteSteps());
        try (StepGradients gradients = stepGradients(run, data, state.position());
             MetricsLog metrics = new MetricsLog(s.output(), startStep);
             HeldOutEvaluation heldOut = openHeldOut(run)) {
            for (long step = startStep; step < endStep; step++) {
                long t0 = System.nanoTime();
                double lr = run.schedule().lrAt(step);
                StepOutcome o = trainStep(step, lr, gradients, accumulator, run.model(), run.optimizer());
                state = new TrainerState(step + 1, o.position(), state.tokensSeen() + run.tokensPerStep(), s.dataSeed(),
                        s.methodSeed(), s.initSeed(), s.loraSeed());
                double seconds = (System.nanoTime() - t0) / 1e9;
                long physical = clock.samplePhysicalBytes();
                ObjectNode entry = o.metrics(step + 1, lr, run.tokensPerStep(), seconds, physical);
                boolean last = step + 1 == endStep;
                String evalLine = heldOut != null && s.eval().dueAfter(step + 1, last)
                        ? heldOut.evaluateInto(entry, step + 1) : null;
                metrics.append(entry);
                if ((step + 1) % s.logEvery() == 0 || last) {
                    printProgress(step + 1, o, lr, run.tokensPerStep() / seconds,
                            clock.secondsLeft(step + 1 - startStep, endStep - step - 1), physical);
                }
                if (evalLine != null) {
                    console.println(evalLine);
                }
                boolean finite = o.updated() && Double.isFinite(o.loss());
                try {
                    guard.record(step + 1, finite, o.loss(), o.gradNorm());
                } catch (TrainingDivergedException e) {
                    writeDiverged(report(metrics.entries(), startStep, step + 1, clock, lastCheckpoint, run), e, out.remote());
                    throw e;
                }
                if (last || s.checkpointEvery() > 0 && (step + 1) % s.checkpointEvery() == 0) {
                    lastCheckpoint = saveCheckpoint(run, out, state, finite, o.loss());
                }
            }
            List<JsonNode> entries = metrics.entries();   // read back from metrics.jsonl once for both reports
            ObjectNode report = report(entries, startStep, endStep, clock, lastCheckpoint, run);
            putChanges(report, from.changes());
            writeReport(report, entries, metrics, out.remote(), lastCheckpoint);
            return report;
        }
    }

    /** Where the run resumes from (empty: from scratch) and the configuration changes found. */
    private record Resume(Optional<CheckpointStore.Resumable> from, TrainerState state,
                          List<ResumeCompatibility.Change> changes) {
        Optional<Path> checkpoint() {
            return from.map(CheckpointStore.Resumable::directory);
        }
    }

    /** Where the run writes: its checkpoints, the remote output they are copied to (or null), its identity. */
    private record Outputs(CheckpointStore store, RemoteOutput remote, RunFingerprint fingerprint) {
    }

    /** What the loop trains with, made once before the first step. */
    private record Setup(ModelSetup modelSetup, ModelExport export, AdamW optimizer, LearningRateSchedule schedule,
                         GradientEngine engine, int chunkSize, long sequenceLength, long tokensPerStep) {
        LlamaModel model() {
            return modelSetup.model();
        }
    }

    /** Wall-clock time since the loop started and the peak of JavaCPP's physical bytes seen. */
    private static final class RunClock {
        private final long started = System.nanoTime();
        private long peakPhysical = Pointer.physicalBytes();

        long samplePhysicalBytes() {
            long physical = Pointer.physicalBytes();
            peakPhysical = Math.max(peakPhysical, physical);
            return physical;
        }

        double seconds() {
            return (System.nanoTime() - started) / 1e9;
        }

        /** Time to the step this run stops at, at the mean pace of the steps done so far. */
        double secondsLeft(long stepsDone, long stepsLeft) {
            return seconds() / stepsDone * stepsLeft;
        }
    }

    /** A remote output (train.output on a Hadoop file system) is staged locally: its published files pulled first. */
    private RemoteOutput stageRemoteOutput() {
        if (!settings.remoteOutput()) {
            return null;
        }
        RemoteOutput remote = RemoteOutput.open(settings.outputLocation(), settings.output(),
                HadoopEnvironment.configuration());   // under spark-submit: spark.hadoop.* too, as for the data
        remote.removeOrphans().forEach(p -> console.println("removed " + p + ", left behind by a killed run"));
        remote.pull();
        console.println("output " + settings.outputLocation() + " (staged in " + settings.output() + ")");
        return remote;
    }

    /**
     * Refuses to start over an earlier run's checkpoints without --resume, removes what killed runs left behind,
     * and with --resume finds the newest healthy checkpoint and checks that it continues this configuration.
     */
    private Resume findResumePoint(CheckpointStore store, boolean resume, RunFingerprint fingerprint,
                                   boolean forceChanges) {
        TrainSettings s = settings;
        List<Path> existing = store.stepDirectories();
        if (!existing.isEmpty() && !resume) {
            throw new IllegalArgumentException("output " + s.output() + " already holds checkpoints (newest: "
                    + existing.get(existing.size() - 1).getFileName() + "): pass --resume to continue that run, or "
                    + "choose another output");
        }
        store.removeOrphans().forEach(p -> console.println("removed " + p + ", left behind by a killed run"));
        Optional<CheckpointStore.Resumable> resumable = resume
                ? store.resumable(s.dataType(), console::println) : Optional.empty();
        TrainerState state = resumable.map(CheckpointStore.Resumable::state).orElse(new TrainerState(0,
                DataPosition.start(s.sources().size()), 0, s.dataSeed(), s.methodSeed(), s.initSeed(), s.loraSeed()));
        List<ResumeCompatibility.Change> changes = resumable.isEmpty() ? List.of()
                : checkResumeChanges(resumable.get().directory(), fingerprint, forceChanges);
        if (!forceChanges) {
            requireSameSeeds(state, resumable.map(CheckpointStore.Resumable::directory));
        }
        long resumeStep = state.step();
        changes.stream().filter(c -> c.key().equals("train.steps") && c.checkpointValue().matches("\\d+"))
                .findFirst().ifPresent(c -> ScheduleChange.describe(s.lr(), s.minLr(), s.warmupSteps(),
                        Long.parseLong(c.checkpointValue()), s.steps(), resumeStep).forEach(console::println));
        return new Resume(resumable, state, changes);
    }

    /**
     * Everything the loop needs, checked before any allocation: the dataset's tokenizer against the model's, the
     * memory estimate, then the model (loaded or initialised), the optimizer (with its resumed state), the
     * learning-rate schedule and the gradient engine. Prints the run's one-line summary.
     */
    private Setup setUp(TrainingSources data, Resume from) {
        TrainSettings s = settings;
        Optional<Path> checkpoint = from.checkpoint();
        TokenizerInfo datasetTokenizer = data.header().tokenizer();
        String dataset = s.sources().get(0).path();
        if (s.checkTokenizer()) {
            TokenizerMatch.require(dataset, datasetTokenizer, s.modelPath());
        } else {
            TokenizerMatch.mismatch(dataset, datasetTokenizer, s.modelPath())
                    .ifPresent(m -> console.println("warning (" + TokenizerMatch.OVERRIDE_KEY + " = false): " + m));
        }
        ModelExport export = new ModelExport(s.saveDtype(), s.saveMaxShardBytes(), s.modelPath(),
                TokenizerMatch.tokenizerFilesDir(s.modelPath(), datasetTokenizer));
        EngineSpec engineSpec = s.engineSpec(data.header().chunkSize());
        int chunkSize = engineSpec.chunkSize();
        // before any allocation: the sequence length is the opened sources' (their header)
        requireMemory(checkpoint.orElse(null), data.sequenceLength(), chunkSize);
        ModelSetup modelSetup = ModelSetup.create(s, checkpoint.orElse(null));
        LlamaModel model = modelSetup.model();
        data.requireFits(model.config(), modelSetup.source());

        AdamW optimizer = new AdamW(s.beta1(), s.beta2(), s.eps(), s.weightDecay());
        from.from().ifPresent(r -> optimizer.loadState(r.optimizerState()));
        LearningRateSchedule schedule = new LearningRateSchedule(s.lr(), s.minLr(), s.warmupSteps(), s.steps());
        GradientEngine engine = engineSpec.create(model);

        long seqLen = data.sequenceLength();
        long tokensPerStep = (long) s.batchSize() * s.accumulationSteps() * seqLen;
        console.printf(Locale.ROOT, "train: %s, %s, %d sequences of %d tokens, batch %d x %d accumulation, "
                        + "method %s (chunk %d), %d trainable tensors, %s%n", modelSetup.source(),
                s.dataType() == org.nd4j.linalg.api.buffer.DataType.DOUBLE ? "float64" : "float32",
                data.size(), seqLen, s.batchSize(), s.accumulationSteps(), s.method(), chunkSize,
                model.trainableParameters().size(),
                checkpoint.map(c -> "resuming from " + c.getFileName()).orElse("starting at step 0"));
        return new Setup(modelSetup, export, optimizer, schedule, engine, chunkSize, seqLen, tokensPerStep);
    }

    /** The held-out evaluation of train.eval (null when none is configured), announced on the console. */
    private HeldOutEvaluation openHeldOut(Setup run) {
        TrainSettings s = settings;
        HeldOutEvaluation heldOut = HeldOutEvaluation.open(s, run.model(), run.chunkSize(), run.modelSetup().source());
        if (heldOut != null) {
            console.printf(Locale.ROOT, "eval: %d held-out sequences of %s, %s%n", heldOut.sequences(), s.eval().dataset(),
                    s.eval().everySteps() > 0 ? "every " + s.eval().everySteps() + " steps and after the last"
                            : "after the last step");
        }
        return heldOut;
    }

    /** One checkpoint (marked unhealthy when anything in it is non-finite), copied to a remote output. */
    private Path saveCheckpoint(Setup run, Outputs out, TrainerState state, boolean finiteStep, double loss) {
        TrainSettings s = settings;
        LlamaModel model = run.model();
        Map<String, INDArray> optimizerState = run.optimizer().state();
        boolean healthy = finiteStep && FiniteTensors.firstNonFinite(model.trainableParameters()).isEmpty()
                && FiniteTensors.firstNonFinite(optimizerState).isEmpty();
        Path checkpoint = out.store().save(state, model.config(), s.lora(), run.modelSetup().baseModel(),
                model.trainableParameters(), optimizerState, s.dataType(), s.rendered(), run.export(),
                healthy, loss, out.fingerprint());
        if (out.remote() != null) {
            out.remote().publishCheckpoint(checkpoint, RemoteOutput.names(out.store().stepDirectories()));
            out.remote().publishFile(MetricsLog.FILE_NAME);
        }
        return checkpoint;
    }

    /** report.json and report.html of a finished (or stopped) run, published with the metrics. */
    private void writeReport(ObjectNode report, List<JsonNode> entries, MetricsLog metrics, RemoteOutput remote,
                             Path lastCheckpoint) {
        TrainSettings s = settings;
        if (remote != null) {
            report.put("checkpoint", lastCheckpoint == null ? null
                    : s.outputLocation() + "/checkpoints/" + lastCheckpoint.getFileName());
            report.put("metrics", s.outputLocation() + "/" + MetricsLog.FILE_NAME);
        }
        AtomicFiles.writeString(s.output().resolve(REPORT_FILE), report.toPrettyString() + "\n");
        RunReportPage.write(s.output(), report, entries,
                s.method() == ai.chunkwise.train.engine.Method.SPACO ? s.budget() * s.accumulationSteps() : Double.NaN);
        if (remote != null) {
            metrics.flush();
            remote.publishFile(MetricsLog.FILE_NAME);
            remote.publishFile(REPORT_FILE);
            remote.publishFile(RunReportPage.FILE_NAME);
        }
    }

    /** report.json of a run stopped by {@link NonFiniteStepGuard}, published with the metrics. */
    private void writeDiverged(ObjectNode report, TrainingDivergedException e, RemoteOutput remote) {
        report.put("status", "diverged");
        report.put("error", e.getMessage());
        AtomicFiles.writeString(settings.output().resolve(REPORT_FILE), report.toPrettyString() + "\n");
        if (remote != null) {
            remote.publishFile(MetricsLog.FILE_NAME);
            remote.publishFile(REPORT_FILE);
        }
    }

    /** What one optimizer step did: its micro-batches' mean loss, the update, and the data position after it. */
    private record StepOutcome(double loss, long predicted, int chunksVisited, double gradNorm, boolean updated,
                               DataPosition position) {
        ObjectNode metrics(long step, double lr, long tokens, double seconds, long physical) {
            ObjectNode m = MetricsLog.newEntry();
            m.put("step", step);
            m.put("loss", loss);
            m.put("lr", lr);
            m.put("grad_norm", gradNorm);
            m.put("updated", updated);
            m.put("predicted_tokens", predicted);
            m.put("tokens", tokens);
            m.put("tokens_per_s", tokens / seconds);
            m.put("step_seconds", seconds);
            m.put("chunks_visited", chunksVisited);
            m.put("epoch", position.epoch());
            m.put("physical_bytes", physical);
            m.put("heap_bytes", Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
            m.put("heap_after_gc_bytes", HeapAfterGc.usedBytes());
            return m;
        }
    }

    /** The step's micro-batches, computed in this process: their rows read on, from {@code position}. */
    private StepGradients stepGradients(Setup run, TrainingSources data, DataPosition position) {
        TrainSettings s = settings;
        TrainingStream rows = data.stream(s.dataSeed(), s.shuffle(), s.shuffleBuffer(), position);
        return new LocalStepGradients(new BatchStream(rows, s.batchSize(), s.documentBoundaries()), run.engine(),
                new MethodSeeds(s.methodSeed(), s.accumulationSteps()));
    }

    /** Gradients of {@code accumulation-steps} micro-batches, token-weighted; clipped; one AdamW update. */
    private StepOutcome trainStep(long step, double lr, StepGradients gradients, GradientAccumulator accumulator,
                                  LlamaModel model, AdamW optimizer) {
        TrainSettings s = settings;
        accumulator.reset();
        StepSums sums = gradients.compute(step, accumulator);
        boolean updated = false;
        double gradNorm = Double.NaN;
        if (sums.predicted() > 0) {
            Map<String, INDArray> grads = accumulator.mean();
            gradNorm = s.maxGradNorm() > 0 ? GradientClipping.clipGlobalNorm(grads, s.maxGradNorm()) : norm(grads);
            if (Double.isFinite(gradNorm)) {   // a non-finite gradient would poison every weight: skip it
                optimizer.step(model.trainableParameters(), grads, lr);
                updated = true;
            }
        }
        return new StepOutcome(sums.loss(), sums.predicted(), sums.chunksVisited(), gradNorm, updated, sums.next());
    }

    private void printProgress(long step, StepOutcome o, double lr, double tokensPerSecond, double etaSeconds,
                               long physical) {
        console.printf(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | grad norm %.3f | %.0f tok/s | "
                        + "ETA %s | mem %.2f GiB%s%n", step, settings.steps(), o.loss(), lr, o.gradNorm(),
                tokensPerSecond, duration(etaSeconds), physical / (double) (1L << 30),
                !o.updated() ? " | step skipped: non-finite gradient"
                        : o.chunksVisited() == 0 && settings.method() == ai.chunkwise.train.engine.Method.SPACO
                        ? " | no chunk back-propagated (SpaCO drew none; see docs/seco-spaco.md)" : "");
    }

    /**
     * Compares the run's configuration with the checkpoint's own train.conf and fingerprint: safe changes are
     * logged, the others refused (naming each key and both values) unless forced.
     */
    private List<ResumeCompatibility.Change> checkResumeChanges(Path checkpoint, RunFingerprint fingerprint,
                                                                boolean force) {
        Path conf = checkpoint.resolve(CheckpointStore.CONFIG_FILE);
        String before;
        try {
            before = java.nio.file.Files.readString(conf);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read " + conf + " (" + e.getMessage() + "): the checkpoint's "
                    + "configuration is needed to check that --resume continues the same run");
        }
        List<ResumeCompatibility.Change> changes = ResumeCompatibility.compare(before, settings.rendered(),
                RunFingerprint.read(checkpoint), fingerprint);
        List<ResumeCompatibility.Change> breaking = changes.stream().filter(c -> !c.safe()).toList();
        for (ResumeCompatibility.Change c : changes) {
            if (c.safe()) {
                console.println("resume: allowed change " + c);
            }
        }
        if (!breaking.isEmpty() && !force) {
            StringBuilder m = new StringBuilder("--resume from " + checkpoint + " with a configuration that changes "
                    + "the run; the checkpoint was written with different values for:");
            breaking.forEach(c -> m.append("\n  ").append(c.key()).append(": checkpoint ").append(c.checkpointValue())
                    .append(", now ").append(c.runValue()));
            m.append("\nResume with the run's own configuration (").append(conf).append("), start a new run in another "
                    + "output directory, or pass --force-resume-with-changes to continue anyway (report.json records it)");
            throw new IllegalArgumentException(m.toString());
        }
        breaking.forEach(c -> console.println("resume: FORCED change " + c));
        return changes;
    }

    private static void putChanges(ObjectNode report, List<ResumeCompatibility.Change> changes) {
        ArrayNode a = report.putArray("resume_changes");
        for (ResumeCompatibility.Change c : changes) {
            a.addObject().put("key", c.key()).put("checkpoint", c.checkpointValue()).put("now", c.runValue())
                    .put("kind", c.safe() ? "allowed" : "forced");
        }
    }

    private void requireSameSeeds(TrainerState state, Optional<Path> checkpoint) {
        if (checkpoint.isEmpty()) {
            return;
        }
        TrainSettings s = settings;
        if (state.dataSeed() != s.dataSeed() || state.methodSeed() != s.methodSeed()
                || state.initSeed() != s.initSeed() || state.loraSeed() != s.loraSeed()) {
            throw new IllegalArgumentException("checkpoint " + checkpoint.get() + " was trained with seeds "
                    + "data/method/init/lora = " + state.dataSeed() + "/" + state.methodSeed() + "/" + state.initSeed()
                    + "/" + state.loraSeed() + " but the configuration now says " + s.dataSeed() + "/" + s.methodSeed()
                    + "/" + s.initSeed() + "/" + s.loraSeed() + ": resume with the run's own configuration ("
                    + checkpoint.get().resolve(CheckpointStore.CONFIG_FILE) + ")");
        }
    }

    private ObjectNode report(List<JsonNode> entries, long startStep, long endStep, RunClock clock,
                              Path lastCheckpoint, Setup run) {
        TrainSettings s = settings;
        long seqLen = run.sequenceLength();
        ObjectNode r = MetricsLog.newEntry();
        r.put("status", endStep == s.steps() ? "complete" : "stopped");
        r.put("steps_total", s.steps());
        r.put("steps_done", endStep);
        r.put("resumed_from_step", startStep);
        r.put("model", run.modelSetup().source());
        r.put("method", s.method().configName());
        r.put("chunk_size", run.chunkSize());
        r.put("sequence_length", seqLen);
        r.put("batch_size", s.batchSize());
        r.put("accumulation_steps", s.accumulationSteps());
        r.put("dtype", s.dataType() == org.nd4j.linalg.api.buffer.DataType.DOUBLE ? "float64" : "float32");
        double seconds = clock.seconds();
        r.put("wall_seconds_this_run", seconds);
        long stepsThisRun = endStep - startStep;
        long tokensThisRun = stepsThisRun * s.batchSize() * s.accumulationSteps() * seqLen;
        r.put("tokens_per_s_this_run", stepsThisRun == 0 ? 0 : tokensThisRun / seconds);
        r.put("peak_physical_bytes_this_run", clock.peakPhysical);
        ArrayNode curve = r.putArray("loss_curve");
        JsonNode first = null;
        JsonNode last = null;
        for (JsonNode e : entries) {
            curve.addObject().put("step", e.path("step").asLong()).put("loss", e.path("loss").asDouble());
            first = first == null ? e : first;
            last = e;
        }
        if (first != null) {
            r.put("first_loss", first.path("loss").asDouble());
            r.put("last_loss", last.path("loss").asDouble());
        }
        ArrayNode evalCurve = null;
        for (JsonNode e : entries) {
            if (e.has("eval_loss")) {
                evalCurve = evalCurve != null ? evalCurve : r.putArray("eval_curve");
                evalCurve.addObject().put("step", e.path("step").asLong()).put("loss", e.path("eval_loss").asDouble());
                r.put("eval_loss", e.path("eval_loss").asDouble());
                r.put("eval_perplexity", e.path("eval_perplexity").asDouble());
                r.put("eval_step", e.path("step").asLong());
            }
        }
        if (s.method() == ai.chunkwise.train.engine.Method.SPACO) {
            // an empty draw is part of bernoulli's unbiased estimator, but the user should see how often it happens
            r.put("steps_without_chunks", entries.stream().filter(e -> e.path("updated").asBoolean(true)
                    && e.path("chunks_visited").asLong(-1) == 0).count());
        }
        if (s.eval().enabled()) {
            r.put("eval_dataset", s.eval().dataset().toString());
        }
        r.put("checkpoint", lastCheckpoint == null ? null : lastCheckpoint.toString());
        r.put("metrics", s.output().resolve(MetricsLog.FILE_NAME).toString());
        return r;
    }

    private static double norm(Map<String, INDArray> grads) {
        double sum = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sum += n * n;
        }
        return Math.sqrt(sum);
    }

    private static String duration(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        long t = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    }

    /** Estimates the run's memory from the model's config.json alone and refuses a run that cannot fit. */
    private void requireMemory(Path checkpoint, long seqLen, int chunkSize) {
        TrainSettings s = settings;
        Path configFile = checkpoint != null && s.lora() == null
                ? checkpoint.resolve(CheckpointStore.MODEL_DIR).resolve(HfCheckpoint.CONFIG_FILE)
                : s.modelPath() != null ? s.modelPath().resolve(HfCheckpoint.CONFIG_FILE) : s.initConfig();
        LlamaConfig config = LlamaConfig.fromJson(configFile);
        int bytes = s.dataType() == org.nd4j.linalg.api.buffer.DataType.DOUBLE ? 8 : 4;
        // a LoRA run's frozen base stays in its checkpoint's type (ModelSetup loads it so)
        int frozenBytes = s.lora() != null && s.modelPath() != null
                ? HfCheckpoint.bytesPerWeight(s.modelPath(), s.dataType(), FrozenWeights.AS_STORED) : bytes;
        MemoryEstimate.require(configFile.toString(), () -> MemoryEstimate.of(config, s.lora(), bytes, frozenBytes,
                s.batchSize(), seqLen, chunkSize, s.method() == ai.chunkwise.train.engine.Method.FULL),
                MemoryEstimate.availableBytes());
    }

    /** The model to train and where it came from. */
    record ModelSetup(LlamaModel model, String source, String baseModel) {
        static ModelSetup create(TrainSettings s, Path checkpoint) {
            LlamaConfig config;
            Map<String, INDArray> weights;
            String source;
            if (checkpoint != null && s.lora() == null) {
                HfCheckpoint hf = TrainedModelFiles.loadForResume(checkpoint, CheckpointStore.MODEL_DIR, s.dataType());
                config = hf.config();
                weights = hf.weights();
                source = s.modelPath() != null ? s.modelLocation() : "from scratch (" + s.initConfig() + ")";
            } else if (s.modelPath() != null) {
                // a LoRA run's base is frozen: a bf16/fp16 checkpoint stays in its own type (half of float32)
                HfCheckpoint hf = HfCheckpoint.load(s.modelPath(), s.dataType(), FrozenWeights.forRun(s.lora() != null));
                config = hf.config();
                weights = hf.weights();
                source = s.modelLocation();   // as given: a remote URI, not its local copy
            } else {
                config = LlamaConfig.fromJson(s.initConfig());
                weights = RandomInit.weights(config, s.initSeed(), s.initStd(), s.dataType());
                source = "from scratch (" + s.initConfig() + ")";
            }
            PeftAdapter adapter = null;
            if (s.lora() != null) {
                adapter = checkpoint != null
                        ? PeftAdapter.load(checkpoint.resolve(CheckpointStore.ADAPTER_DIR), s.dataType())
                        : PeftAdapter.init(config, s.lora(), s.loraSeed(), s.dataType());
                if (!adapter.config().equals(s.lora())) {
                    throw new IllegalArgumentException("checkpoint " + checkpoint + " holds a LoRA adapter " + adapter.config()
                            + " but the configuration asks for " + s.lora() + ": resume with the run's own configuration");
                }
            }
            LlamaModel model = new LlamaModel(config, weights, adapter, s.dataType(), s.batchSize());
            model.setNativeMemoryCollectionThreshold(s.gcThresholdMb() << 20);
            return new ModelSetup(model, source, s.baseModelName());
        }
    }
}
