package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

/**
 * A chunk's queries against its cached past and its own keys, without ever holding the [queries x keys] scores:
 * FlashAttention-2's algorithm on the CPU. The forward walks the keys in blocks with an online softmax (a running
 * row max m and row sum l; what came before is rescaled by exp(m_old - m_new) as each block arrives) and keeps
 * only the log-sum-exp per query; the backward recomputes each block's probabilities as exp(s - lse). Memory is
 * one block of scores, whatever the past: SeCO's promise at real sizes (the reference implementation runs
 * flash-attention for the same reason). Hand-written because ND4J M2.1 has no attention op that takes a past and
 * a causal mask (docs/dl4j-m2.1.md).
 *
 * <p>Layout (grouped-query attention without repeating K/V): queries are [B, kvHeads, nRep*T, headDim], the nRep
 * query heads of one KV head stacked along rows (row r*T + t is query head g*nRep + r at chunk position t), already
 * multiplied by 1/sqrt(headDim); keys and values come as two segments, the past [B, kvHeads, P, headDim] and the
 * chunk's own [B, kvHeads, T, headDim], so the cache is never concatenated; blocks never straddle the two.
 * Every ND4J call is a 2-D GEMM or row operation on contiguous views, into scratch arrays kept between calls:
 * a block leaves no garbage behind (SameDiff-free arrays are only freed by the GC in M2.1).
 */
final class BlockwiseAttention {
    /** Hidden keys get this added: exp(score - 1e9 - max) underflows to exactly 0 in float32 and float64. */
    static final double MASKED = -1e9;

    private final int blockKeys;
    private final Map<String, INDArray> scratch = new HashMap<>();

    /** @param blockKeys keys per block (the last block of a segment takes what is left) */
    BlockwiseAttention(int blockKeys) {
        if (blockKeys < 1) {
            throw new IllegalArgumentException("attention block must hold at least one key, got " + blockKeys);
        }
        this.blockKeys = blockKeys;
    }

    /** The forward result: the attention output (same layout as the queries) and the log-sum-exp of each row. */
    record Output(INDArray context, INDArray logSumExp) {
    }

    /** Gradients of a backward call; the past's are null when there is no past. */
    record Gradients(INDArray query, INDArray pastKey, INDArray pastValue, INDArray key, INDArray value) {
    }

    Output forward(INDArray query, INDArray pastKey, INDArray pastValue, INDArray key, INDArray value,
                   AttentionKeyRanges ranges) {
        long[] qShape = query.shape();
        INDArray context = Nd4j.create(query.dataType(), qShape);
        INDArray lse = Nd4j.create(query.dataType(), qShape[0], qShape[1], qShape[2], 1);
        for (int b = 0; b < qShape[0]; b++) {
            for (int g = 0; g < qShape[1]; g++) {
                forwardGroup(b, g, query, segments(pastKey, key), segments(pastValue, value), ranges,
                        matrix(context, b, g), matrix(lse, b, g));
            }
        }
        return new Output(context, lse);
    }

    Gradients backward(INDArray query, INDArray pastKey, INDArray pastValue, INDArray key, INDArray value,
                       Output out, INDArray contextGrad, AttentionKeyRanges ranges) {
        return backward(query, pastKey, pastValue, key, value, out, contextGrad, ranges, null, null);
    }

    /**
     * As above, with the past's gradients ADDED into {@code pastKeyGrad}/{@code pastValueGrad} when given (SeCO's
     * accumulated K/V gradient buffer), so no past-sized array is allocated per chunk.
     */
    Gradients backward(INDArray query, INDArray pastKey, INDArray pastValue, INDArray key, INDArray value,
                       Output out, INDArray contextGrad, AttentionKeyRanges ranges, INDArray pastKeyGrad,
                       INDArray pastValueGrad) {
        long[] qShape = query.shape();
        DataType type = query.dataType();
        INDArray dQuery = Nd4j.create(type, qShape);
        boolean hasPast = ranges.past() > 0;
        for (INDArray sink : new INDArray[]{pastKeyGrad, pastValueGrad}) {
            if (hasPast && sink != null && sink.dataType() != type) {   // ND4J's gemm cannot add into another type
                throw new IllegalArgumentException("the past's gradient must be added into a " + type
                        + " array, got " + sink.dataType() + ": widen it first");
            }
        }
        INDArray dPastKey = !hasPast ? null : pastKeyGrad != null ? pastKeyGrad : Nd4j.create(type, pastKey.shape());
        INDArray dPastValue = !hasPast ? null
                : pastValueGrad != null ? pastValueGrad : Nd4j.create(type, pastValue.shape());
        INDArray dKey = Nd4j.create(type, key.shape());
        INDArray dValue = Nd4j.create(type, value.shape());
        for (int b = 0; b < qShape[0]; b++) {
            for (int g = 0; g < qShape[1]; g++) {
                INDArray q = matrix(query, b, g);
                INDArray dOut = matrix(contextGrad, b, g);
                INDArray rowDot = dOut.mul(matrix(out.context(), b, g)).sum(true, 1);   // rowsum(P * dP), [R, 1]
                INDArray lse = matrix(out.logSumExp(), b, g);
                INDArray dQ = matrix(dQuery, b, g);
                Segment[] keys = segments(pastKey, key);
                Segment[] values = segments(pastValue, value);
                Segment[] dKeys = segments(dPastKey, dKey);
                Segment[] dValues = segments(dPastValue, dValue);
                for (int s = 0; s < keys.length; s++) {
                    if (keys[s] == null) {
                        continue;
                    }
                    INDArray k = matrix(keys[s].array, b, g);
                    INDArray v = matrix(values[s].array, b, g);
                    INDArray dK = matrix(dKeys[s].array, b, g);
                    INDArray dV = matrix(dValues[s].array, b, g);
                    for (int from = 0; from < k.rows(); from += blockKeys) {
                        int to = (int) Math.min(k.rows(), from + blockKeys);
                        int keyFrom = keys[s].offset + from;
                        int keyTo = keys[s].offset + to;
                        if (ranges.noneVisible(b, keyFrom, keyTo)) {
                            continue;   // nothing added to their gradients
                        }
                        INDArray kBlock = k.get(interval(from, to), all());
                        INDArray vBlock = v.get(interval(from, to), all());
                        INDArray p = scores(q, kBlock, b, keyFrom, keyTo, ranges, "s");
                        Transforms.exp(p.subiColumnVector(lse), false);                       // probabilities
                        Nd4j.gemm(p, dOut, dV.get(interval(from, to), all()), true, false, 1, 1);
                        INDArray dS = scratch("ds", type, q.rows(), to - from);
                        Nd4j.gemm(dOut, vBlock, dS, false, true, 1, 0);                       // dP
                        dS.subiColumnVector(rowDot).muli(p);                                  // P * (dP - rowDot)
                        Nd4j.gemm(dS, kBlock, dQ, false, false, 1, 1);
                        Nd4j.gemm(dS, q, dK.get(interval(from, to), all()), true, false, 1, 1);
                    }
                }
            }
        }
        return new Gradients(dQuery, dPastKey, dPastValue, dKey, dValue);
    }

    private void forwardGroup(int b, int g, INDArray query, Segment[] keys, Segment[] values,
                              AttentionKeyRanges ranges, INDArray acc, INDArray lse) {
        INDArray q = matrix(query, b, g);
        DataType type = q.dataType();
        INDArray max = Nd4j.valueArrayOf(new long[]{q.rows(), 1}, Double.NEGATIVE_INFINITY, type);
        INDArray sum = Nd4j.zeros(type, q.rows(), 1);
        for (int s = 0; s < keys.length; s++) {
            if (keys[s] == null) {
                continue;
            }
            INDArray k = matrix(keys[s].array, b, g);
            INDArray v = matrix(values[s].array, b, g);
            for (int from = 0; from < k.rows(); from += blockKeys) {
                int to = (int) Math.min(k.rows(), from + blockKeys);
                int keyFrom = keys[s].offset + from;
                int keyTo = keys[s].offset + to;
                if (ranges.noneVisible(b, keyFrom, keyTo)) {
                    continue;
                }
                INDArray p = scores(q, k.get(interval(from, to), all()), b, keyFrom, keyTo, ranges, "s");
                INDArray newMax = Transforms.max(max, p.max(true, 1), true);
                INDArray rescale = Transforms.exp(max.subi(newMax), false);    // exp(m_old - m_new); 0 at first
                Transforms.exp(p.subiColumnVector(newMax), false);
                sum.muli(rescale).addi(p.sum(true, 1));
                acc.muliColumnVector(rescale);
                Nd4j.gemm(p, v.get(interval(from, to), all()), acc, false, false, 1, 1);
                max = newMax;
            }
        }
        acc.diviColumnVector(sum);
        lse.assign(max.addi(Transforms.log(sum, false)));
    }

    /** q K_b^T into a scratch array, with the mask added where a range boundary crosses the block. */
    private INDArray scores(INDArray q, INDArray kBlock, int b, int keyFrom, int keyTo, AttentionKeyRanges ranges,
                            String name) {
        INDArray s = scratch(name, q.dataType(), q.rows(), keyTo - keyFrom);
        Nd4j.gemm(q, kBlock, s, false, true, 1, 0);
        if (!ranges.allVisible(b, keyFrom, keyTo)) {
            INDArray mask = blockMask(b, keyFrom, keyTo, ranges, q.dataType());
            int t = ranges.queries();
            for (long row = 0; row < q.rows(); row += t) {   // the same mask for each query head of the group
                s.get(interval(row, row + t), all()).addi(mask);
            }
        }
        return s;
    }

    /**
     * [T, keyTo-keyFrom] additive mask: 0 where query t sees the key, {@link #MASKED} elsewhere, written straight
     * into a scratch buffer kept between calls. A fresh array per block was native garbage (and a Java double[] of
     * the same size) for every block a boundary crosses: with a causal chunk that is every block, so a 16K-token
     * chunk left 32 MB per block, ~3 GB per layer, for the GC to find (docs/dl4j-m2.1.md).
     */
    private INDArray blockMask(int b, int keyFrom, int keyTo, AttentionKeyRanges ranges, DataType type) {
        int t = ranges.queries();
        int w = keyTo - keyFrom;
        INDArray mask = scratch("mask", type, t, w);
        DataBuffer data = scratch.get("mask").data();   // the flat buffer: element i*w + j is mask[i, j]
        DoubleBuffer doubles = type == DataType.DOUBLE ? data.asNioDouble() : null;
        FloatBuffer floats = type == DataType.FLOAT ? data.asNioFloat() : null;
        if (doubles == null && floats == null) {
            throw new IllegalArgumentException("attention masks are float32 or float64, got " + type);
        }
        for (int i = 0; i < t; i++) {
            int lo = Math.max(ranges.first()[b][i], keyFrom) - keyFrom;
            int hi = Math.min(ranges.last(i) + 1, keyTo) - keyFrom;   // exclusive
            for (int j = 0; j < w; j++) {
                double v = j >= lo && j < hi ? 0 : MASKED;
                if (doubles != null) {
                    doubles.put(i * w + j, v);
                } else {
                    floats.put(i * w + j, (float) v);
                }
            }
        }
        return mask;
    }

    /**
     * A [rows, cols] array over the start of one flat buffer per name, grown when too small: the widths of the
     * last blocks vary from chunk to chunk, and one buffer per shape would pile up.
     */
    private INDArray scratch(String name, DataType type, long rows, long cols) {
        long size = rows * cols;
        INDArray flat = scratch.get(name);
        if (flat == null || flat.dataType() != type || flat.length() < size) {
            flat = Nd4j.create(type, Math.max(size, rows * blockKeys));
            scratch.put(name, flat);
        }
        return flat.get(interval(0, size)).reshape('c', rows, cols);
    }

    /**
     * The [rows, headDim] matrix of batch row b and KV head g, a view over {@code a}'s buffer built from its strides:
     * M2.1's get(point, point, all, all) on a view that starts past position 0 returns a rank-0 array.
     */
    private static INDArray matrix(INDArray a, int b, int g) {
        long[] s = a.stride();
        return Nd4j.create(a.data(), new long[]{a.size(2), a.size(3)}, new long[]{s[2], s[3]},
                a.offset() + b * s[0] + g * s[1], 'c');
    }

    /** A run of keys and where it starts among all keys. */
    private record Segment(INDArray array, int offset) {
    }

    private static Segment[] segments(INDArray past, INDArray present) {
        boolean hasPast = past != null && past.size(2) > 0;
        return new Segment[]{hasPast ? new Segment(past, 0) : null,
                new Segment(present, hasPast ? (int) past.size(2) : 0)};
    }
}
