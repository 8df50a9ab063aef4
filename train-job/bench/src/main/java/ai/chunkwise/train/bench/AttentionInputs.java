package ai.chunkwise.train.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * What the attention core of one chunk gets: queries of the chunk's T tokens, keys and values of the P past tokens
 * followed by the chunk's own, the upstream gradient of its output, and the causal mask twice: as the trainer feeds
 * it ([B, 1, T, P+T], additive, past columns all visible) and as its only informative part ([T, T], the chunk's own
 * columns), for a core that adds the mask to the last T columns only.
 *
 * @param q         [B, heads, T, headDim]
 * @param k         [B, heads, P+T, headDim] (RoPE already applied in the trainer; any values do here)
 * @param v         [B, heads, P+T, headDim]
 * @param dOut      [B, heads, T, headDim]: gradient of the objective with respect to the core's output
 * @param mask      [B, 1, T, P+T] additive: 0 where a query sees a key, {@link #MASKED} where it does not
 * @param chunkMask [T, T]: mask's last T columns
 */
public record AttentionInputs(INDArray q, INDArray k, INDArray v, INDArray dOut, INDArray mask, INDArray chunkMask,
                              int past) {
    /** The trainer's additive value for hidden keys (ChunkFeed.MASKED): exp underflows to exactly 0. */
    public static final double MASKED = -1e9;

    /** Random inputs (N(0, 1) scaled like real activations) with a causal mask; seeded, so runs repeat. */
    public static AttentionInputs random(DataType type, int heads, int chunk, int past, int headDim, long seed) {
        Nd4j.getRandom().setSeed(seed);
        int keys = past + chunk;
        INDArray q = Nd4j.randn(type, 1, heads, chunk, headDim);
        INDArray k = Nd4j.randn(type, 1, heads, keys, headDim);
        INDArray v = Nd4j.randn(type, 1, heads, keys, headDim);
        INDArray dOut = Nd4j.randn(type, 1, heads, chunk, headDim).muli(0.1);
        double[] m = new double[chunk * keys];
        for (int i = 0; i < chunk; i++) {
            Arrays.fill(m, i * keys + past + i + 1, (i + 1) * keys, MASKED);
        }
        INDArray mask = Nd4j.create(m, new long[] {1, 1, chunk, keys}, type);
        INDArray chunkMask = mask.get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.all(),
                NDArrayIndex.interval(past, keys)).dup('c');
        return new AttentionInputs(q, k, v, dOut, mask, chunkMask, past);
    }

    int heads() {
        return (int) q.size(1);
    }

    int chunk() {
        return (int) q.size(2);
    }

    int keys() {
        return (int) k.size(2);
    }

    int headDim() {
        return (int) q.size(3);
    }

    double scale() {
        return 1.0 / Math.sqrt(headDim());
    }
}
