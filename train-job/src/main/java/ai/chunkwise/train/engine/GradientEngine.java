package ai.chunkwise.train.engine;

/**
 * Computes the loss of a batch and the gradients of all trainable tensors. Implementations: {@link FullBackprop}
 * (plain back-propagation, the oracle), {@link SecoEngine} (exact, chunk-wise), {@link SpacoEngine}
 * (sparse, unbiased with Bernoulli sampling). See docs/seco-spaco.md.
 */
public interface GradientEngine {
    BatchGradients compute(Batch batch);
}
