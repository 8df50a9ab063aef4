package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * K/V-shaped storage over a whole sequence, one [B, kvHeads, S, headDim] array per layer: the pass-1 cache of
 * every chunk's K/V, or the accumulated gradients G with respect to them during pass 2.
 */
final class KeyValueBuffer {
    private final INDArray[] keys;
    private final INDArray[] values;

    KeyValueBuffer(LlamaConfig config, int batch, int length, DataType dataType) {
        int layers = config.numHiddenLayers();
        keys = new INDArray[layers];
        values = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = Nd4j.create(dataType, batch, config.numKeyValueHeads(), length, config.headDim());
            values[l] = Nd4j.create(dataType, batch, config.numKeyValueHeads(), length, config.headDim());
        }
    }

    private static INDArrayIndex[] span(int from, int to) {
        return new INDArrayIndex[]{NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, to),
                NDArrayIndex.all()};
    }

    /** Stores {@code kv} (length to - from) at positions [from, from + length), rounded to this buffer's type. */
    void put(int from, KeyValues kv) {
        int to = from + (int) kv.length();
        for (int l = 0; l < keys.length; l++) {
            keys[l].put(span(from, to), kv.keys()[l]);
            values[l].put(span(from, to), kv.values()[l]);
        }
    }

    /** Adds {@code kv} into positions [from, from + length). */
    void add(int from, KeyValues kv) {
        int to = from + (int) kv.length();
        for (int l = 0; l < keys.length; l++) {
            keys[l].get(span(from, to)).addi(kv.keys()[l]);
            values[l].get(span(from, to)).addi(kv.values()[l]);
        }
    }

    /**
     * Positions [from, to) as views of this buffer (no copy): the past a chunk attends to, or where its past's
     * gradients are added. Each [position, headDim] matrix of a view is contiguous, as the attention needs.
     */
    KeyValues view(int from, int to) {
        INDArray[] k = new INDArray[keys.length];
        INDArray[] v = new INDArray[keys.length];
        for (int l = 0; l < keys.length; l++) {
            k[l] = keys[l].get(span(from, to));
            v[l] = values[l].get(span(from, to));
        }
        return new KeyValues(k, v);
    }

    /**
     * A contiguous copy of positions [from, to) in {@code dataType} (widened first when this buffer is narrower,
     * so the scaling is not rounded to the buffer's type), multiplied by {@code scale}.
     */
    KeyValues copy(int from, int to, double scale, DataType dataType) {
        INDArray[] k = new INDArray[keys.length];
        INDArray[] v = new INDArray[keys.length];
        for (int l = 0; l < keys.length; l++) {
            k[l] = copyOf(keys[l].get(span(from, to)), dataType);
            v[l] = copyOf(values[l].get(span(from, to)), dataType);
            if (scale != 1.0) {
                k[l].muli(scale);
                v[l].muli(scale);
            }
        }
        return new KeyValues(k, v);
    }

    private static INDArray copyOf(INDArray view, DataType dataType) {
        return view.dataType() == dataType ? view.dup('c') : view.castTo(dataType);
    }

    /** The type the buffer holds. */
    DataType dataType() {
        return keys.length == 0 ? null : keys[0].dataType();
    }
}
