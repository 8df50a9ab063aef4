package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Keys and values of every layer for a span of positions, each [B, kvHeads, length, headDim] (keys after
 * RoPE, as HF caches them). Used for a chunk's own K/V, for the past a chunk attends to, and for gradients
 * with respect to either.
 */
public record KeyValues(INDArray[] keys, INDArray[] values) {

    public KeyValues {
        if (keys.length != values.length) {
            throw new IllegalArgumentException("keys for " + keys.length + " layers but values for " + values.length);
        }
    }

    /** A zero-length past (P = 0) for every layer. */
    public static KeyValues empty(LlamaConfig config, int batch, DataType dataType) {
        return zeros(config, batch, 0, dataType);
    }

    public static KeyValues zeros(LlamaConfig config, int batch, long length, DataType dataType) {
        int layers = config.numHiddenLayers();
        INDArray[] k = new INDArray[layers];
        INDArray[] v = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            k[l] = Nd4j.create(dataType, batch, config.numKeyValueHeads(), length, config.headDim());
            v[l] = Nd4j.create(dataType, batch, config.numKeyValueHeads(), length, config.headDim());
        }
        return new KeyValues(k, v);
    }

    public int layers() {
        return keys.length;
    }

    /** Number of positions covered (the time axis, dimension 2). */
    public long length() {
        return keys.length == 0 ? 0 : keys[0].size(2);
    }
}
