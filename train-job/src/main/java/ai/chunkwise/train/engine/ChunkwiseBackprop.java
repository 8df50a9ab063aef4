package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.ChunkForward;
import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The two passes shared by SeCO and SpaCO (docs/seco-spaco.md):
 * pass 1 runs every chunk forward without gradients, keeping its K/V and summing the exact loss;
 * pass 2 walks the selected chunks in reverse, re-runs each with the cached past as gradient-receiving input,
 * injects the K/V gradient G that later chunks accumulated for it, and adds the gradient it yields for the
 * past into G. Only one chunk's activations live at a time. The cache and G are kept in the model's compute type,
 * or in bfloat16 when asked ({@link KvCacheDtype}): the model widens a narrower past and adds into a narrower G
 * in its own type, so only the stored values are rounded.
 *
 * <p>Public for one use outside this package: the experiments build their ablation {@code seco-no-kv-grad} on
 * {@link #run(Batch, Function, boolean)} (it is not a training method, so its engine lives in the bench module).
 */
public final class ChunkwiseBackprop {
    private final LlamaModel model;
    private final int chunkSize;
    /** The type of the K/V cache and of the K/V gradient buffer G (the model's own unless bf16 was asked for). */
    private final DataType cacheType;

    public ChunkwiseBackprop(LlamaModel model, int chunkSize) {
        this(model, chunkSize, KvCacheDtype.COMPUTE);
    }

    /**
     * @param kvCache the type of the K/V cache and of G: {@link KvCacheDtype#BFLOAT16} rounds every cached K/V and
     *                every chunk's addition to G to bfloat16 (half the memory of float32, not exact)
     */
    public ChunkwiseBackprop(LlamaModel model, int chunkSize, KvCacheDtype kvCache) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunk size must be positive, got " + chunkSize);
        }
        this.model = model;
        this.chunkSize = chunkSize;
        this.cacheType = kvCache.dataType(model.dataType());
    }

    /** The type the K/V cache and its gradient buffer are kept in. */
    DataType cacheType() {
        return cacheType;
    }

    int chunksOf(Batch batch) {
        return (batch.length() + chunkSize - 1) / chunkSize;
    }

    BatchGradients run(Batch batch, ChunkSelection selection) {
        return run(batch, chunkLosses -> selection);
    }

    /**
     * @param select chooses the chunks pass 2 visits, given pass 1's loss per chunk (its length is k)
     */
    BatchGradients run(Batch batch, Function<double[], ChunkSelection> select) {
        return run(batch, select, true);
    }

    /**
     * @param kvGradients false drops the K/V gradients a chunk yields for earlier chunks, so each chunk
     *                    back-propagates only into itself (truncated back-propagation through the cache: the
     *                    experiments' ablation {@code seco-no-kv-grad})
     */
    public BatchGradients run(Batch batch, Function<double[], ChunkSelection> select, boolean kvGradients) {
        SequenceLayout layout = new SequenceLayout(batch, model.config().slidingWindow());
        int s = layout.length();
        int k = chunksOf(batch);
        int rows = batch.rows();
        KeyValueBuffer cache = new KeyValueBuffer(model.config(), rows, s, cacheType);

        double[] chunkLosses = forwardPass(layout, cache);
        double loss = 0;
        for (double l : chunkLosses) {
            loss += l;
        }
        ChunkSelection selection = select.apply(chunkLosses);
        if (selection.chunks() != k) {
            throw new IllegalArgumentException("selection covers " + selection.chunks() + " chunks, batch has " + k);
        }

        Map<String, INDArray> grads = new LinkedHashMap<>();
        KeyValueBuffer pastGradients = kvGradients && selection.visitedCount() > 0
                ? new KeyValueBuffer(model.config(), rows, s, cacheType) : null;
        for (int j = k - 1; j >= 0; j--) {
            if (!selection.visited()[j]) {
                continue;   // skipped chunk: no graph, no backward; its G is dropped
            }
            double scale = selection.scale(j);
            int start = j * chunkSize;
            int end = Math.min(s, start + chunkSize);
            int pastStart = layout.pastStart(start);
            ChunkInput in = layout.chunk(start, end, pastStart, selection.lossScale(j));
            KeyValues upstream = j == k - 1 || pastGradients == null ? null
                    : pastGradients.copy(start, end, scale, model.dataType());
            KeyValues past = past(cache, pastStart, start, rows);
            // the past's gradient goes straight into G (or, when K/V gradients are dropped, into a scratch copy)
            KeyValues pastSink = start == pastStart ? null : pastGradients != null
                    ? pastGradients.view(pastStart, start)
                    : KeyValues.zeros(model.config(), rows, start - pastStart, model.dataType());
            model.backward(in, past, upstream, grads, pastSink);
        }
        return new BatchGradients(loss, completed(grads), layout.predictedTokens(), k, selection.visitedCount());
    }

    /** Pass 1 alone: the exact mean loss of a batch, chunk by chunk, without any gradient (inference). */
    double forwardOnly(Batch batch) {
        SequenceLayout layout = new SequenceLayout(batch, model.config().slidingWindow());
        double loss = 0;
        for (double l : forwardPass(layout, new KeyValueBuffer(model.config(), batch.rows(), layout.length(),
                cacheType))) {
            loss += l;
        }
        return loss;
    }

    /** Runs every chunk forward without gradients, storing its K/V in {@code cache}; returns each chunk's loss. */
    private double[] forwardPass(SequenceLayout layout, KeyValueBuffer cache) {
        int s = layout.length();
        int rows = layout.rows();
        double[] losses = new double[(s + chunkSize - 1) / chunkSize];
        for (int start = 0; start < s; start += chunkSize) {
            int end = Math.min(s, start + chunkSize);
            int pastStart = layout.pastStart(start);
            ChunkInput in = layout.chunk(start, end, pastStart, 1.0);
            ChunkForward out = model.forward(in, past(cache, pastStart, start, rows), false);
            losses[start / chunkSize] = out.loss();
            cache.put(start, out.present());
        }
        return losses;
    }

    private KeyValues past(KeyValueBuffer cache, int from, int to, int rows) {
        return from == to ? KeyValues.empty(model.config(), rows, model.dataType()) : cache.view(from, to);
    }

    /** Tensors no visited chunk reached get an explicit zero gradient, so every trainable name is present. */
    private Map<String, INDArray> completed(Map<String, INDArray> grads) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        model.trainableParameters().forEach((name, p) -> {
            INDArray g = grads.get(name);
            out.put(name, g != null ? g : p.ulike());
        });
        return out;
    }
}
