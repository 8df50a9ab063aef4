package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.ChunkSelection;
import ai.chunkwise.train.engine.ChunkwiseBackprop;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.model.LlamaModel;

/**
 * The ablation {@code seco-no-kv-grad}: SeCO's two passes, but every chunk back-propagates only into itself. The
 * K/V-cache gradients a chunk yields for earlier chunks are dropped (truncated back-propagation through the
 * cache), so no loss can teach an earlier chunk what to store for a later one. Not a training method: it exists
 * to show what the cross-chunk gradient buys (docs/experiments.md). The product tests the truncated
 * backward itself ({@code CacheGradientsOffTest} in train-job).
 */
final class TruncatedSecoEngine implements GradientEngine {
    /** How the experiments and their results name this ablation. */
    static final String NAME = "seco-no-kv-grad";

    private final ChunkwiseBackprop backprop;

    TruncatedSecoEngine(LlamaModel model, int chunkSize) {
        this.backprop = new ChunkwiseBackprop(model, chunkSize);
    }

    @Override
    public BatchGradients compute(Batch batch, long seed) {
        return backprop.run(batch, losses -> ChunkSelection.all(losses.length), false);
    }
}
