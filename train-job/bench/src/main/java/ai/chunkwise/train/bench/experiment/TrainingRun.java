package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.optim.AdamW;
import ai.chunkwise.train.optim.GradientClipping;
import ai.chunkwise.train.optim.LearningRateSchedule;

import java.lang.management.ManagementFactory;
import java.util.function.LongFunction;

/**
 * A bare training loop for the experiments (no checkpoints, data in memory): the product's engines, global-norm
 * clipping and AdamW with warm-up + cosine, as {@code train} uses them. Training CPU and wall seconds are counted
 * apart from evaluation, so evaluating does not distort time-to-quality.
 */
final class TrainingRun {
    /** Called every {@code evalEvery} steps and after the last. */
    interface Evaluation {
        void at(long step, double trainCpuSeconds, double trainWallSeconds);
    }

    private final LlamaModel model;
    private final GradientEngine engine;
    private final LearningRateSchedule schedule;
    private final AdamW optimizer = new AdamW(0.9, 0.95, 1e-8, 0.01);
    private final double maxGradNorm;
    private double cpuSeconds;
    private double wallSeconds;
    private long chunksVisited;
    private double lastLoss = Double.NaN;
    private double smoothedLoss = Double.NaN;

    private final long seed;

    /** @param seed seeds the engine's random draws: step s uses (seed, s), like {@code train}'s method seed */
    TrainingRun(LlamaModel model, GradientEngine engine, long seed, double lr, long steps, double maxGradNorm) {
        this.model = model;
        this.seed = seed;
        this.engine = engine;
        this.schedule = new LearningRateSchedule(lr, lr / 10, Math.max(1, steps / 20), steps);
        this.maxGradNorm = maxGradNorm;
    }

    void train(long steps, LongFunction<Batch> batches, long evalEvery, Evaluation evaluation) {
        for (long step = 0; step < steps; step++) {
            Batch batch = batches.apply(step);
            long cpu0 = processCpuNanos();
            long wall0 = System.nanoTime();
            BatchGradients g = engine.compute(batch, seed ^ (step + 1) * 0x9E3779B97F4A7C15L);
            GradientClipping.clipGlobalNorm(g.gradients(), maxGradNorm);
            optimizer.step(model.trainableParameters(), g.gradients(), schedule.lrAt(step));
            wallSeconds += (System.nanoTime() - wall0) / 1e9;
            cpuSeconds += (processCpuNanos() - cpu0) / 1e9;
            chunksVisited += g.chunksVisited();
            lastLoss = g.loss();
            smoothedLoss = Double.isNaN(smoothedLoss) ? lastLoss : 0.95 * smoothedLoss + 0.05 * lastLoss;
            if (evaluation != null && ((step + 1) % evalEvery == 0 || step + 1 == steps)) {
                evaluation.at(step + 1, cpuSeconds, wallSeconds);
            }
        }
    }

    double cpuSeconds() {
        return cpuSeconds;
    }

    double wallSeconds() {
        return wallSeconds;
    }

    long chunksVisited() {
        return chunksVisited;
    }

    double lastLoss() {
        return lastLoss;
    }

    /** Exponential moving average (weight 0.05) of the training loss, which is noisy batch to batch. */
    double smoothedLoss() {
        return smoothedLoss;
    }

    /** CPU time of the whole JVM (the ND4J calls run on the calling thread; GC counts too). */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
