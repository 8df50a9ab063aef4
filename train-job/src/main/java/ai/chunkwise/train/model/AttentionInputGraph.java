package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.IntFunction;

/**
 * The first half of a Llama decoder layer, up to attention: input RMSNorm, the q/k/v projections (with LoRA and,
 * for Qwen2, biases), Qwen3's per-head q/k RMSNorm, and rotary embeddings (HF LlamaAttention before its attention
 * call). Outputs the queries grouped per KV head and
 * scaled by 1/sqrt(headDim), and the chunk's own keys (after RoPE) and values, in {@link BlockwiseAttention}'s
 * layout.
 *
 * <p>Placeholders (N = B*T rows, row = b*T + t): {@link #HIDDEN} [N, hidden], the rotary tables
 * {@link #COS_Q}/{@link #SIN_Q} [B, T, heads, headDim] and {@link #COS_K}/{@link #SIN_K} [B, T, kvHeads, headDim]
 * (repeated per head in Java: M2.1's backward of a broadcast multiply is many times slower than the same multiply
 * without broadcasting, docs/dl4j-m2.1.md), and the layer's weights.
 */
final class AttentionInputGraph extends LayerGraph {
    static final String HIDDEN = "hidden";
    static final String COS_Q = "rope_cos_q";
    static final String SIN_Q = "rope_sin_q";
    static final String COS_K = "rope_cos_k";
    static final String SIN_K = "rope_sin_k";
    static final String QUERY = "query";
    static final String KEY = "key";
    static final String VALUE = "value";

    private final SDVariable rotateHalf;

    AttentionInputGraph(LlamaConfig config, LoraConfig lora, DataType dataType, int batch) {
        super(config, lora, lora == null, dataType, batch);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int headDim = config.headDim();
        rotateHalf = sd.constant("rotate_half", rotateHalfMatrix(headDim, dataType));
        SDVariable h = input(HIDDEN, -1, config.hiddenSize());
        SDVariable cosQ = sd.placeHolder(COS_Q, dataType, batch, -1, heads, headDim);
        SDVariable sinQ = sd.placeHolder(SIN_Q, dataType, batch, -1, heads, headDim);
        SDVariable cosK = sd.placeHolder(COS_K, dataType, batch, -1, kvHeads, headDim);
        SDVariable sinK = sd.placeHolder(SIN_K, dataType, batch, -1, kvHeads, headDim);

        SDVariable x = rmsNorm(h, weight("input_layernorm.weight", LlamaTensorLayout::inputNorm,
                config.hiddenSize()));
        SDVariable q = projection(x, LlamaProjection.Q_PROJ);
        SDVariable k = projection(x, LlamaProjection.K_PROJ);
        SDVariable v = projection(x, LlamaProjection.V_PROJ);
        if (config.family().qkNorm()) {
            q = perHeadNorm(q, "q_norm.weight", LlamaTensorLayout::queryNorm, config.queryDim());
            k = perHeadNorm(k, "k_norm.weight", LlamaTensorLayout::keyNorm, config.keyValueDim());
        }
        // [N, heads*hd] -> [B, T, heads, hd] -> rope -> [B, heads, T, hd]
        SDVariable q4 = sd.permute(rope(sd.reshape(q, batch, -1, heads, headDim), cosQ, sinQ, heads), 0, 2, 1, 3);
        SDVariable k4 = sd.permute(rope(sd.reshape(k, batch, -1, kvHeads, headDim), cosK, sinK, kvHeads), 0, 2, 1, 3);
        SDVariable v4 = sd.permute(sd.reshape(v, batch, -1, kvHeads, headDim), 0, 2, 1, 3);
        // the nRep query heads of a KV head stacked along rows; scale q rather than the scores (T*hd products)
        SDVariable grouped = sd.reshape(q4.mul(1.0 / Math.sqrt(headDim)), batch, kvHeads, -1, headDim);
        output(sd.identity(QUERY, grouped), batch, kvHeads, -1, headDim);
        output(sd.identity(KEY, k4), batch, kvHeads, -1, headDim);
        output(sd.identity(VALUE, v4), batch, kvHeads, -1, headDim);
        finish();
    }

    /**
     * Qwen3's q_norm / k_norm: RMSNorm over each head's headDim values (weight [headDim], shared by the heads),
     * before RoPE, as HF's {@code q_norm(q_proj(x).view(..., heads, head_dim))}. [N, h*hd] in and out.
     */
    private SDVariable perHeadNorm(SDVariable x, String placeholder, IntFunction<String> tensor, int width) {
        int headDim = config.headDim();
        SDVariable rows = sd.reshape(x, -1, headDim);                                   // [N*h, hd]
        SDVariable normed = rmsNorm(rows, weight(placeholder, tensor, headDim), headDim);
        return sd.reshape(normed, -1, width);                                           // [N, h*hd]
    }

    /**
     * HF apply_rotary_pos_emb on [B, T, h, hd]: x*cos + rotate_half(x)*sin. rotate_half(x) = [-x2, x1] is a
     * signed permutation, applied as a matmul with a constant matrix (exact: one +-1 product per output); M2.1's
     * reverse op, the obvious alternative, is slow (docs/dl4j-m2.1.md).
     */
    private SDVariable rope(SDVariable x, SDVariable cos, SDVariable sin, int numHeads) {
        int headDim = config.headDim();
        SDVariable rows = sd.reshape(x, -1, headDim);
        SDVariable rotated = sd.reshape(sd.mmul(rows, rotateHalf), batch, -1, numHeads, headDim);
        return x.mul(cos).add(rotated.mul(sin));
    }

    /** R with x R = rotate_half(x): column i < d/2 takes -x[i + d/2], column i >= d/2 takes x[i - d/2]. */
    private static INDArray rotateHalfMatrix(int d, DataType dataType) {
        int half = d / 2;
        INDArray r = Nd4j.create(dataType, d, d);
        for (int i = 0; i < half; i++) {
            r.putScalar(i + half, i, -1.0);
            r.putScalar(i, i + half, 1.0);
        }
        return r;
    }
}
