package ai.chunkwise.train.loop;

import ai.chunkwise.pipeline.lock.HeldLock;
import ai.chunkwise.pipeline.lock.OutputLock;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.data.BatchStream;
import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.data.TokenizerMatch;
import ai.chunkwise.train.data.TrainingSources;
import ai.chunkwise.train.data.TrainingStream;
import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.optim.AdamW;
import ai.chunkwise.train.optim.GradientAccumulator;
import ai.chunkwise.train.optim.GradientClipping;
import ai.chunkwise.train.optim.LearningRateSchedule;
import ai.chunkwise.train.reliability.NonFiniteStepGuard;
import ai.chunkwise.train.reliability.RunFingerprint;
import ai.chunkwise.train.reliability.TrainingDivergedException;
import ai.chunkwise.train.storage.RemoteOutput;
import ai.chunkwise.train.step.LocalStepGradients;
import ai.chunkwise.train.step.MethodSeeds;
import ai.chunkwise.train.step.StepGradients;
import ai.chunkwise.train.step.StepSums;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * exact resume: a run resumed from step k's checkpoint performs the same arithmetic as an uninterrupted one. Where
 * it resumes from is {@link ResumePoint}'s, the model {@link ModelSetup}'s, the report {@link RunReport}'s.
 */
public final class Trainer {
    private final TrainSettings settings;
    private final PrintStream console;

    public Trainer(TrainSettings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
    }

    /**
     * Trains up to {@code train.steps}, or only up to {@code stopAtStep} if that is smaller (to split a run).
     *
     * @param resume       continue from {@code <output>/checkpoints/latest}; without it an output that already holds
     *                     checkpoints is refused, so a run never silently restarts over an earlier one
     * @param forceChanges resume even when the configuration differs from the checkpoint's in a way that changes
     *                     the run (dataset, model, method, batch geometry, optimizer); report.json records them
     * @return the final report (also written to {@code <output>/report.json})
     */
    public ObjectNode run(boolean resume, long stopAtStep, boolean forceChanges) {
        // one trainer per output directory: a second one would rotate away the first one's checkpoints
        // a remote output is locked there too: the staging directory's lock excludes runs on one machine only
        try (OutputLock lock = OutputLock.acquire(settings.output(), "train", console::println);
             HeldLock remoteLock = settings.remoteOutput() ? RemoteOutput.lock(settings.outputLocation(),
                     HadoopEnvironment.configuration(), console::println) : null) {
            RemoteOutput remote = RunOutputs.stageRemote(settings, console);
            RunFingerprint fingerprint = RunFingerprint.of(settings.data().sources(), settings.model().initConfig(),
                    settings.model().path());
            CheckpointStore store = new CheckpointStore(settings.output(), settings.checkpoints().keep());
            ResumePoint from = ResumePoint.find(settings, store, resume, fingerprint, forceChanges, console);
            // streamed: only manifests and shard sizes are read here; each shard is verified when first read
            TrainSettings.Data d = settings.data();
            try (TrainingSources data = TrainingSources.open(d.sources(), HadoopEnvironment.configuration(),
                    d.maxSequences(), d.verifyChecksums())) {
                data.requireBufferFits(d.shuffleBuffer(), d.shuffle(), Runtime.getRuntime().maxMemory());
                return train(setUp(data, from), new RunOutputs(store, remote, fingerprint), from, data,
                        Math.min(settings.steps(), stopAtStep));
            }
        }
    }

    /** The training loop proper: one optimizer step per iteration, its metrics, health check and checkpoint. */
    private ObjectNode train(Setup run, RunOutputs out, ResumePoint from, TrainingSources data, long endStep) {
        TrainSettings s = settings;
        TrainerState state = from.state();
        long startStep = state.step();
        RunClock clock = new RunClock();
        Path lastCheckpoint = from.checkpoint().orElse(null);
        GradientAccumulator accumulator = new GradientAccumulator();
        NonFiniteStepGuard guard = new NonFiniteStepGuard(s.maxNonFiniteSteps());
        try (StepGradients gradients = stepGradients(run, data, state.position());
             MetricsLog metrics = new MetricsLog(s.output(), startStep);
             HeldOutEvaluation heldOut = HeldOutEvaluation.open(s, run.model(), run.chunkSize(),
                     run.modelSetup().source(), console)) {
            for (long step = startStep; step < endStep; step++) {
                long t0 = System.nanoTime();
                double lr = run.schedule().lrAt(step);
                StepOutcome o = trainStep(step, lr, gradients, accumulator, run.model(), run.optimizer());
                state = new TrainerState(step + 1, o.position(), state.tokensSeen() + run.tokensPerStep(),
                        s.data().seed(), s.method().seed(), s.model().initSeed(), s.model().loraSeed());
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
                    RunReport.writeDiverged(s, run.report(metrics.entries(), startStep, step + 1, clock,
                            lastCheckpoint), e, out.remote());
                    throw e;
                }
                if (last || s.checkpoints().every() > 0 && (step + 1) % s.checkpoints().every() == 0) {
                    lastCheckpoint = out.saveCheckpoint(s, run.modelSetup(), run.export(), run.optimizer(), state,
                            finite, o.loss());
                }
            }
            List<JsonNode> entries = metrics.entries();   // read back from metrics.jsonl once for both reports
            ObjectNode report = run.report(entries, startStep, endStep, clock, lastCheckpoint);
            from.putChanges(report);
            RunReport.write(s, report, entries, metrics, out.remote(), lastCheckpoint);
            return report;
        }
    }

    /** What the loop trains with, made once before the first step. */
    private record Setup(TrainSettings settings, ModelSetup modelSetup, ModelExport export, AdamW optimizer,
                         LearningRateSchedule schedule, GradientEngine engine, int chunkSize, long sequenceLength,
                         long tokensPerStep) {
        LlamaModel model() {
            return modelSetup.model();
        }

        ObjectNode report(List<JsonNode> entries, long startStep, long endStep, RunClock clock, Path checkpoint) {
            return RunReport.build(settings, entries, startStep, endStep, clock, checkpoint, modelSetup.source(),
                    chunkSize, sequenceLength);
        }
    }

    /**
     * Everything the loop needs, checked before any allocation: the dataset's tokenizer against the model's, the
     * memory estimate, then the model (loaded or initialised), the optimizer (with its resumed state), the
     * learning-rate schedule and the gradient engine. Prints the run's one-line summary.
     */
    private Setup setUp(TrainingSources data, ResumePoint from) {
        TrainSettings s = settings;
        Optional<Path> checkpoint = from.checkpoint();
        TokenizerInfo datasetTokenizer = data.header().tokenizer();
        String dataset = s.data().sources().get(0).path();
        if (s.data().checkTokenizer()) {
            TokenizerMatch.require(dataset, datasetTokenizer, s.model().path());
        } else {
            TokenizerMatch.mismatch(dataset, datasetTokenizer, s.model().path())
                    .ifPresent(m -> console.println("warning (" + TokenizerMatch.OVERRIDE_KEY + " = false): " + m));
        }
        ModelExport export = s.checkpoints().export(s.model().path(),
                TokenizerMatch.tokenizerFilesDir(s.model().path(), datasetTokenizer));
        EngineSpec engineSpec = s.method().engineSpec(data.header().chunkSize());
        long seqLen = data.sequenceLength();   // the opened sources' (their header)
        ModelSetup.requireMemory(s, checkpoint.orElse(null), seqLen, engineSpec.chunkSize());
        ModelSetup modelSetup = ModelSetup.create(s, checkpoint.orElse(null));
        LlamaModel model = modelSetup.model();
        data.requireFits(model.config(), modelSetup.source());
        AdamW optimizer = s.optimizer().adamW();
        from.from().ifPresent(r -> optimizer.loadState(r.optimizerState()));
        LearningRateSchedule schedule = s.optimizer().schedule(s.steps());
        long tokensPerStep = (long) s.batchSize() * s.accumulationSteps() * seqLen;
        console.printf(Locale.ROOT, "train: %s, %s, %d sequences of %d tokens, batch %d x %d accumulation, "
                        + "method %s (chunk %d), %d trainable tensors, %s%n", modelSetup.source(),
                s.model().dtypeName(), data.size(), seqLen, s.batchSize(), s.accumulationSteps(), s.method().name(),
                engineSpec.chunkSize(), model.trainableParameters().size(),
                checkpoint.map(c -> "resuming from " + c.getFileName()).orElse("starting at step 0"));
        return new Setup(s, modelSetup, export, optimizer, schedule, engineSpec.create(model), engineSpec.chunkSize(),
                seqLen, tokensPerStep);
    }

    /**
     * Where the steps' micro-batches run, reading the data on from {@code position}: in this process, or
     * (train.distributed = spark) as Spark tasks on the executors, which read their rows themselves.
     */
    private StepGradients stepGradients(Setup run, TrainingSources data, DataPosition position) {
        TrainSettings.Data d = settings.data();
        MethodSeeds seeds = new MethodSeeds(settings.method().seed(), settings.accumulationSteps());
        if (settings.distributed().spark()) {
            return SparkSteps.open(settings, run.model(), data, position, seeds, console);
        }
        TrainingStream rows = data.stream(d.seed(), d.shuffle(), d.shuffleBuffer(), position);
        return new LocalStepGradients(new BatchStream(rows, settings.batchSize(), d.documentBoundaries()),
                run.engine(), seeds);
    }

    /** Gradients of {@code accumulation-steps} micro-batches, token-weighted; clipped; one AdamW update. */
    private StepOutcome trainStep(long step, double lr, StepGradients gradients, GradientAccumulator accumulator,
                                  LlamaModel model, AdamW optimizer) {
        accumulator.reset();
        StepSums sums = gradients.compute(step, accumulator);
        boolean updated = false;
        double gradNorm = Double.NaN;
        if (sums.predicted() > 0) {
            Map<String, INDArray> grads = accumulator.mean();
            double maxNorm = settings.optimizer().maxGradNorm();
            gradNorm = maxNorm > 0 ? GradientClipping.clipGlobalNorm(grads, maxNorm)
                    : GradientClipping.globalNorm(grads);
            if (Double.isFinite(gradNorm)) {   // a non-finite gradient would poison every weight: skip it
                optimizer.step(model.trainableParameters(), grads, lr);
                updated = true;
            }
        }
        return new StepOutcome(sums.loss(), sums.predicted(), sums.chunksVisited(), gradNorm, updated, sums.next(),
                sums.timings());
    }

    private void printProgress(long step, StepOutcome o, double lr, double tokensPerSecond, double etaSeconds,
                               long physical) {
        console.printf(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | grad norm %.3f | %.0f tok/s | "
                        + "ETA %s | mem %.2f GiB%s%n", step, settings.steps(), o.loss(), lr, o.gradNorm(),
                tokensPerSecond, duration(etaSeconds), physical / (double) (1L << 30),
                !o.updated() ? " | step skipped: non-finite gradient"
                        : o.chunksVisited() == 0 && settings.method().name().sampled()
                        ? " | no chunk back-propagated (SpaCO drew none; see docs/seco-spaco.md)" : "");
    }

    private static String duration(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        long t = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    }
}
