package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaModel;

/**
 * The ablation {@code seco-no-kv-grad}: SeCO's two passes, but every chunk back-propagates only into itself. The
 * K/V-cache gradients a chunk yields for earlier chunks are dropped (truncated back-propagation through the
 * cache), so no loss can teach an earlier chunk what to store for a later one. Not a training method: it exists
 * to show what the cross-chunk gradient buys (docs/experiments.md).
 */
public final class TruncatedSecoEngine implements GradientEngine {
    /** How the experiments and their results name this ablation. */
    public static final String NAME = "seco-no-kv-grad";

    private final ChunkwiseBackprop backprop;

    public TruncatedSecoEngine(LlamaModel model, int chunkSize) {
        this.backprop = new ChunkwiseBackprop(model, chunkSize);
    }

    @Override
    public BatchGradients compute(Batch batch, long seed) {
        return backprop.run(batch, losses -> ChunkSelection.all(losses.length), false);
    }
}
