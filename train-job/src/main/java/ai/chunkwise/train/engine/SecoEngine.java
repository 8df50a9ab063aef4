package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaModel;

/** SeCO: exact gradient with one chunk's activations in memory (pass 2 visits every chunk, q = 1). */
public final class SecoEngine implements GradientEngine {
    private final ChunkwiseBackprop backprop;

    public SecoEngine(LlamaModel model, int chunkSize) {
        this(model, chunkSize, KvCacheDtype.COMPUTE);
    }

    /** @param kvCache the type of the K/V cache and its gradient buffer ({@link KvCacheDtype}) */
    public SecoEngine(LlamaModel model, int chunkSize, KvCacheDtype kvCache) {
        this.backprop = new ChunkwiseBackprop(model, chunkSize, kvCache);
    }

    @Override
    public BatchGradients compute(Batch batch, long seed) {
        return backprop.run(batch, chunkLosses -> ChunkSelection.all(chunkLosses.length));
    }
}
