package ai.chunkwise.train.step;

import java.util.SplittableRandom;

/**
 * The seed of an engine's random draws (SpaCO's chunks) for micro-batch (step, index): a function of the run's
 * method seed and that position alone, so a resumed run and an executor anywhere draw the same chunks.
 */
public record MethodSeeds(long methodSeed, int accumulationSteps) {
    public long of(long step, int micro) {
        return new SplittableRandom(methodSeed).split().nextLong()
                ^ (step * accumulationSteps + micro) * 0x9E3779B97F4A7C15L;
    }
}
