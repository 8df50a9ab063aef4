package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaModel;

import java.util.SplittableRandom;

/**
 * SpaCO: pass 1 over every chunk (exact loss), pass 2 only over a random subset of about t chunks, with a
 * visited chunk's loss term and injected K/V gradient scaled by 1/q. With t >= k it is SeCO exactly.
 * The random stream is seeded once; consecutive {@link #compute} calls draw fresh subsets.
 */
public final class SpacoEngine implements GradientEngine {
    private final ChunkwiseBackprop backprop;
    private final double budget;
    private final SpacoSampling sampling;
    private final SplittableRandom random;

    /**
     * @param budget expected (bernoulli) or exact (uniform) number t of chunks back-propagated per sequence
     */
    public SpacoEngine(LlamaModel model, int chunkSize, double budget, SpacoSampling sampling, long seed) {
        if (!(budget > 0)) {
            throw new IllegalArgumentException("SpaCO budget t must be positive, got " + budget);
        }
        if (sampling == SpacoSampling.UNIFORM && budget != Math.rint(budget)) {
            throw new IllegalArgumentException("uniform SpaCO sampling visits exactly t chunks: the budget must be "
                    + "a whole number, got " + budget);
        }
        this.backprop = new ChunkwiseBackprop(model, chunkSize);
        this.budget = budget;
        this.sampling = sampling;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public BatchGradients compute(Batch batch) {
        return backprop.run(batch, losses -> sampling.draw(losses, budget, random), true);
    }
}
