package ai.chunkwise.train.step;

import ai.chunkwise.train.data.BatchStream;
import ai.chunkwise.train.data.PositionedBatch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.optim.GradientAccumulator;

import java.util.Map;

/** The micro-batches of a step, one after another in this process: plain gradient accumulation. */
public final class LocalStepGradients implements StepGradients {
    private final BatchStream batches;
    private final GradientEngine engine;
    private final MethodSeeds seeds;

    /** @param batches read by this object from now on, and closed with it */
    public LocalStepGradients(BatchStream batches, GradientEngine engine, MethodSeeds seeds) {
        this.batches = batches;
        this.engine = engine;
        this.seeds = seeds;
    }

    @Override
    public StepSums compute(long step, GradientAccumulator accumulator) {
        double lossSum = 0;
        long predicted = 0;
        int chunksVisited = 0;
        PositionedBatch pb = null;
        for (int micro = 0; micro < seeds.accumulationSteps(); micro++) {
            pb = batches.next();
            BatchGradients g = engine.compute(pb.batch(), seeds.of(step, micro));
            accumulator.add(g.gradients(), g.predictedTokens());
            lossSum += g.loss() * g.predictedTokens();
            predicted += g.predictedTokens();
            chunksVisited += g.chunksVisited();
        }
        return new StepSums(lossSum, predicted, chunksVisited, pb.next(), Map.of());
    }

    @Override
    public void close() {
        batches.close();
    }
}
