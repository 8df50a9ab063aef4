package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaModel;

import java.util.SplittableRandom;

/**
 * SpaCO: pass 1 over every chunk (exact loss), pass 2 only over a random subset of about t chunks, with a
 * visited chunk's loss term and injected K/V gradient scaled by 1/q. With t >= k it is SeCO exactly.
 * Each {@link #compute} call draws its subset from its own seed.
 */
public final class SpacoEngine implements GradientEngine {
    private final ChunkwiseBackprop backprop;
    private final double budget;
    private final SpacoSampling sampling;

    /**
     * @param budget expected (bernoulli) or exact (uniform) number t of chunks back-propagated per sequence
     */
    public SpacoEngine(LlamaModel model, int chunkSize, double budget, SpacoSampling sampling) {
        this(model, chunkSize, budget, sampling, KvCacheDtype.COMPUTE);
    }

    /** As above, with the K/V cache and its gradient buffer in {@code kvCache} ({@link KvCacheDtype}). */
    public SpacoEngine(LlamaModel model, int chunkSize, double budget, SpacoSampling sampling, KvCacheDtype kvCache) {
        if (!(budget > 0)) {
            throw new IllegalArgumentException("SpaCO budget t must be positive, got " + budget);
        }
        sampling.requireValidBudget(budget);
        this.backprop = new ChunkwiseBackprop(model, chunkSize, kvCache);
        this.budget = budget;
        this.sampling = sampling;
    }

    @Override
    public BatchGradients compute(Batch batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return backprop.run(batch, chunkLosses -> sampling.draw(chunkLosses, budget, random));
    }
}
