package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaModel;

/**
 * Forward-only evaluation of a batch, chunk by chunk with a K/V cache (SeCO's pass 1 without pass 2): the exact
 * mean next-token loss at the memory of one chunk plus the cache. The benchmarks' "inference" and evaluation.
 */
public final class InferencePass {
    private final ChunkwiseBackprop passes;

    public InferencePass(LlamaModel model, int chunkSize) {
        this.passes = new ChunkwiseBackprop(model, chunkSize);
    }

    /** Mean next-token cross-entropy over the batch's counted targets. */
    public double loss(Batch batch) {
        return passes.forwardOnly(batch);
    }
}
