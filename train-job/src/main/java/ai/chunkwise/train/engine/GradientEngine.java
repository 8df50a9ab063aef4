package ai.chunkwise.train.engine;

/**
 * Computes the loss of a batch and the gradients of all trainable tensors. Built by {@link EngineSpec#create};
 * implementations: {@link FullBackprop} (plain back-propagation, the oracle), {@link SecoEngine} (exact,
 * chunk-wise), {@link SpacoEngine} (sparse, unbiased with Bernoulli sampling). See docs/seco-spaco.md.
 */
public interface GradientEngine {
    /**
     * @param seed seeds this call's random draws (SpaCO's chunk subset): the same batch and seed give the same
     *             gradients, so a caller that derives it from (run seed, step) can resume exactly. Deterministic
     *             engines ignore it.
     */
    BatchGradients compute(Batch batch, long seed);

    /** {@link #compute(Batch, long)} with seed 0: for the deterministic engines (full, SeCO) and tests. */
    default BatchGradients compute(Batch batch) {
        return compute(batch, 0L);
    }
}
