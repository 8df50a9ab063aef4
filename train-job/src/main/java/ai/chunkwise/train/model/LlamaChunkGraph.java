package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The SameDiff graph of a Llama decoder for ONE chunk of T tokens that attends to a past of P cached tokens
 * (T and P dynamic: the graph is built once and reused for every chunk and past length; the batch size B is
 * fixed at build time because SameDiff reshapes allow one unknown dimension).
 *
 * <p>Placeholders (N = B*T rows, row = b*T + t; nRep = heads / kvHeads):
 * <ul>
 *   <li>{@link #INPUTS_EMBEDS} [N, hidden]: embedding rows, looked up in Java (sd.gather's backward is broken
 *       in M2.1, docs/dl4j-m2.1.md);</li>
 *   <li>{@link #ROPE_COS_Q}, {@link #ROPE_SIN_Q} [B, T, heads, headDim] and {@link #ROPE_COS_K},
 *       {@link #ROPE_SIN_K} [B, T, kvHeads, headDim]: rotary tables of the chunk's positions (see
 *       {@link RotaryEmbedding}), repeated per head in Java: M2.1's backward of a broadcast multiply is many times
 *       slower than the same multiply without broadcasting (docs/dl4j-m2.1.md);</li>
 *   <li>{@link #ATTENTION_MASK} [B, 1, nRep*T, P+T]: additive mask (0 visible, large negative hidden),
 *       rows repeated per query head of a KV group (see {@link #attention});</li>
 *   <li>{@link #LABELS} int [N] and {@link #LOSS_WEIGHTS} [N, 1]: next-token targets and their weights;</li>
 *   <li>{@link #pastKey}/{@link #pastValue} [B, kvHeads, P, headDim] per layer (K after RoPE);</li>
 *   <li>{@link #presentKeyGrad}/{@link #presentValueGrad} [B, kvHeads, T, headDim]: upstream gradient
 *       injected into this chunk's own K/V (SeCO's accumulated gradient from later chunks).</li>
 * </ul>
 * Outputs: {@link #LOSS} = sum of weighted token losses, {@link #LOGITS} [N, vocab], {@link #presentKey} /
 * {@link #presentValue} per layer, and the training objective
 * {@link #OBJECTIVE} = loss + sum(K * gK) + sum(V * gV) whose gradient is the chain rule with the injected
 * upstream gradient (the surrogate-loss trick of docs/dl4j-m2.1.md).
 */
final class LlamaChunkGraph {
    static final String INPUTS_EMBEDS = "inputs_embeds";
    static final String ROPE_COS_Q = "rope_cos_q";
    static final String ROPE_SIN_Q = "rope_sin_q";
    static final String ROPE_COS_K = "rope_cos_k";
    static final String ROPE_SIN_K = "rope_sin_k";
    static final String ATTENTION_MASK = "attention_mask";
    static final String LABELS = "labels";
    static final String LOSS_WEIGHTS = "loss_weights";
    static final String LOSS = "loss";
    static final String LOGITS = "logits";
    static final String OBJECTIVE = "objective";

    static String pastKey(int layer) {
        return "past_key_" + layer;
    }

    static String pastValue(int layer) {
        return "past_value_" + layer;
    }

    static String presentKey(int layer) {
        return "present_key_" + layer;
    }

    static String presentValue(int layer) {
        return "present_value_" + layer;
    }

    static String presentKeyGrad(int layer) {
        return "present_key_grad_" + layer;
    }

    static String presentValueGrad(int layer) {
        return "present_value_grad_" + layer;
    }

    private final LlamaConfig config;
    private final int batch;
    private final DataType dataType;
    private final Map<String, INDArray> weights;
    private final LoraConfig lora;
    private final Map<String, INDArray> loraTensors;
    private final SameDiff sd = SameDiff.create();
    private final List<String> trainableNames = new ArrayList<>();
    private SDVariable rotateHalf;

    /**
     * @param weights     HF-named base weights, already in {@code dataType}
     * @param lora        null for full fine-tuning (every weight in the graph trainable); otherwise the base
     *                    weights are frozen constants and only the LoRA A/B tensors are trainable
     * @param loraTensors PEFT-named A/B tensors in {@code dataType} (ignored when {@code lora} is null)
     */
    LlamaChunkGraph(LlamaConfig config, Map<String, INDArray> weights, LoraConfig lora,
                    Map<String, INDArray> loraTensors, DataType dataType, int batch) {
        this.config = config;
        this.batch = batch;
        this.dataType = dataType;
        this.weights = weights;
        this.lora = lora;
        this.loraTensors = loraTensors;
        build();
    }

    SameDiff sameDiff() {
        return sd;
    }

    /** Names of the graph variables that receive gradients (checkpoint names), in graph order. */
    List<String> trainableNames() {
        return Collections.unmodifiableList(trainableNames);
    }

    private boolean fullFineTuning() {
        return lora == null;
    }

    /** A base weight: trainable variable in full fine-tuning, frozen constant (no gradient) with LoRA. */
    private SDVariable weight(String name) {
        INDArray array = weights.get(name);
        if (array == null) {
            throw new IllegalArgumentException("weight '" + name + "' is missing");
        }
        if (fullFineTuning()) {
            trainableNames.add(name);
            return sd.var(name, array);
        }
        return sd.constant(name, array);
    }

    private void build() {
        int hidden = config.hiddenSize();
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int headDim = config.headDim();
        rotateHalf = sd.constant("rotate_half", rotateHalfMatrix());
        SDVariable h = sd.placeHolder(INPUTS_EMBEDS, dataType, -1, hidden);
        SDVariable cosQ = sd.placeHolder(ROPE_COS_Q, dataType, batch, -1, heads, headDim);
        SDVariable sinQ = sd.placeHolder(ROPE_SIN_Q, dataType, batch, -1, heads, headDim);
        SDVariable cosK = sd.placeHolder(ROPE_COS_K, dataType, batch, -1, kvHeads, headDim);
        SDVariable sinK = sd.placeHolder(ROPE_SIN_K, dataType, batch, -1, kvHeads, headDim);
        SDVariable mask = sd.placeHolder(ATTENTION_MASK, dataType, batch, 1, -1, -1);
        SDVariable labels = sd.placeHolder(LABELS, DataType.INT, -1);
        SDVariable lossWeights = sd.placeHolder(LOSS_WEIGHTS, dataType, -1, 1);

        List<SDVariable> injected = new ArrayList<>();
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            SDVariable pastK = sd.placeHolder(pastKey(l), dataType, batch, kvHeads, -1, headDim);
            SDVariable pastV = sd.placeHolder(pastValue(l), dataType, batch, kvHeads, -1, headDim);
            SDVariable gK = sd.placeHolder(presentKeyGrad(l), dataType, batch, kvHeads, -1, headDim);
            SDVariable gV = sd.placeHolder(presentValueGrad(l), dataType, batch, kvHeads, -1, headDim);

            // --- self-attention block (pre-norm, residual) ---
            SDVariable x = rmsNorm(h, weight(LlamaTensorLayout.inputNorm(l)));
            SDVariable q = projection(x, l, LlamaProjection.Q_PROJ);
            SDVariable k = projection(x, l, LlamaProjection.K_PROJ);
            SDVariable v = projection(x, l, LlamaProjection.V_PROJ);
            // [N, heads*hd] -> [B, T, heads, hd] -> rope -> [B, heads, T, hd]
            SDVariable q4 = sd.permute(rope(sd.reshape(q, batch, -1, heads, headDim), cosQ, sinQ, heads), 0, 2, 1, 3);
            SDVariable k4 = sd.permute(rope(sd.reshape(k, batch, -1, kvHeads, headDim), cosK, sinK, kvHeads), 0, 2, 1, 3);
            SDVariable v4 = sd.permute(sd.reshape(v, batch, -1, kvHeads, headDim), 0, 2, 1, 3);
            SDVariable presentK = sd.identity(presentKey(l), k4);
            SDVariable presentV = sd.identity(presentValue(l), v4);
            injected.add(sd.sum(presentK.mul(gK)));
            injected.add(sd.sum(presentV.mul(gV)));

            SDVariable keys = sd.concat(2, pastK, presentK);     // [B, kvHeads, P+T, hd]
            SDVariable values = sd.concat(2, pastV, presentV);
            SDVariable context = attention(q4, keys, values, mask, heads, kvHeads, headDim);
            SDVariable attnOut = projection(context, l, LlamaProjection.O_PROJ);
            h = h.add(attnOut);

            // --- SwiGLU MLP block (pre-norm, residual) ---
            SDVariable y = rmsNorm(h, weight(LlamaTensorLayout.postAttentionNorm(l)));
            SDVariable gate = sd.nn.swish(projection(y, l, LlamaProjection.GATE_PROJ));   // silu(x) = x * sigmoid(x)
            SDVariable up = projection(y, l, LlamaProjection.UP_PROJ);
            h = h.add(projection(gate.mul(up), l, LlamaProjection.DOWN_PROJ));
        }
        SDVariable normed = rmsNorm(h, weight(LlamaTensorLayout.FINAL_NORM));
        SDVariable lmHead = config.tieWordEmbeddings()
                ? weight(LlamaTensorLayout.EMBED_TOKENS)
                : weight(LlamaTensorLayout.LM_HEAD);
        SDVariable logits = sd.mmul(LOGITS, normed, lmHead, false, true, false);   // [N, vocab]

        // Weighted cross-entropy sum_i w_i (lse_i - logit_i[label_i]), with the log-sum-exp written out
        // (sd.nn.logSoftmax and sd.math.logSumExp break the backward pass in M2.1; the fused sparse CE op's
        // backward ignores its upstream gradient, i.e. the weights; the fused dense op, sd.loss.softmaxCrossEntropy,
        // honours them but its gradient op alone is slower than this whole loss, docs/dl4j-m2.1.md). Not
        // materialising log-probabilities saves an [N, vocab] broadcast subtraction and its costly backward.
        SDVariable max = sd.max(logits, true, 1);                                           // [N, 1]
        SDVariable logSumExp = max.add(sd.math.log(sd.sum(sd.math.exp(logits.sub(max)), true, 1)));
        SDVariable targets = sd.oneHot(labels, config.vocabSize(), -1, 1.0, 0.0, dataType).mul(lossWeights);
        SDVariable loss = sd.sum(logSumExp.mul(lossWeights)).sub(sd.sum(logits.mul(targets))).rename(LOSS);

        SDVariable objective = loss;
        for (SDVariable term : injected) {
            objective = objective.add(term);
        }
        objective.rename(OBJECTIVE);
        sd.setLossVariables(OBJECTIVE);
    }

    /**
     * HF LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w, in the working dtype. The per-row factor r [N, 1] and the
     * weight w [hidden] meet in ONE outer product r w^T [N, hidden] (a K=1 matmul: each entry is the single product
     * r_i * w_j, no sum), so x is scaled by one multiply without broadcasting: M2.1's backward of a broadcast
     * multiply is many times slower than the plain one (docs/dl4j-m2.1.md).
     */
    private SDVariable rmsNorm(SDVariable x, SDVariable w) {
        // x*x rather than square(x): square's backward is M2.1's generic pow derivative, several times slower
        SDVariable meanSquare = sd.mean(x.mul(x), true, 1);
        SDVariable r = sd.math.rsqrt(meanSquare.add(config.rmsNormEps()));             // [N, 1]
        SDVariable scale = sd.mmul(r, sd.reshape(w, 1, config.hiddenSize()));        // [N, hidden]
        return x.mul(scale);
    }

    /** x W^T, plus the LoRA update (alpha/r) * (x A^T) B^T when this module is adapted. */
    private SDVariable projection(SDVariable x, int layer, LlamaProjection module) {
        SDVariable out = sd.mmul(x, weight(module.weightName(layer)), false, true, false);
        if (lora == null || !lora.projections().contains(module)) {
            return out;
        }
        SDVariable a = loraVariable(LoraWeights.tensorName(layer, module.moduleName(), 'A'));
        SDVariable b = loraVariable(LoraWeights.tensorName(layer, module.moduleName(), 'B'));
        SDVariable down = sd.mmul(x, a, false, true, false);          // [N, r]
        SDVariable update = sd.mmul(down, b, false, true, false);     // [N, out]
        return out.add(update.mul(lora.scaling()));
    }

    private SDVariable loraVariable(String name) {
        INDArray array = loraTensors.get(name);
        if (array == null) {
            throw new IllegalArgumentException("LoRA tensor '" + name + "' is missing from the adapter");
        }
        trainableNames.add(name);
        return sd.var(name, array);
    }

    /**
     * HF apply_rotary_pos_emb on [B, T, h, hd]: x*cos + rotate_half(x)*sin. rotate_half(x) = [-x2, x1] is a
     * signed permutation, applied as a matmul with the constant matrix {@link #rotateHalfMatrix} (exact: one
     * +-1 product per output); M2.1's reverse op, the obvious alternative, is slow (docs/dl4j-m2.1.md).
     */
    private SDVariable rope(SDVariable x, SDVariable cos, SDVariable sin, int numHeads) {
        int headDim = config.headDim();
        SDVariable rows = sd.reshape(x, -1, headDim);
        SDVariable rotated = sd.reshape(sd.mmul(rows, rotateHalf), batch, -1, numHeads, headDim);
        return x.mul(cos).add(rotated.mul(sin));
    }

    /** R with x R = rotate_half(x): column i < d/2 takes -x[i + d/2], column i >= d/2 takes x[i - d/2]. */
    private INDArray rotateHalfMatrix() {
        int d = config.headDim();
        int half = d / 2;
        INDArray r = Nd4j.create(dataType, d, d);
        for (int i = 0; i < half; i++) {
            r.putScalar(i + half, i, -1.0);
            r.putScalar(i, i + half, 1.0);
        }
        return r;
    }

    /**
     * Grouped-query causal attention without materialising repeated K/V: the nRep query heads that share a
     * KV head are stacked along the time axis ([B, kvHeads, nRep*T, hd], row r*T + t for query head
     * g*nRep + r, HF's repeat_kv order), so one batched matmul per KV group does the work. The mask is fed
     * with the same stacked rows.
     */
    private SDVariable attention(SDVariable q4, SDVariable keys, SDVariable values, SDVariable mask,
                                 int heads, int kvHeads, int headDim) {
        // scale q rather than the scores: T*hd multiplications instead of T*(P+T)
        SDVariable grouped = sd.reshape(q4.mul(1.0 / Math.sqrt(headDim)), batch, kvHeads, -1, headDim);
        SDVariable scores = sd.mmul(grouped, keys, false, true, false);                    // [B, kv, nRep*T, P+T]
        SDVariable probs = sd.nn.softmax(scores.add(mask), 3);                             // [B, kv, nRep*T, P+T]
        SDVariable context = sd.mmul(probs, values);                                       // [B, kv, nRep*T, hd]
        SDVariable perHead = sd.permute(sd.reshape(context, batch, heads, -1, headDim), 0, 2, 1, 3);
        return sd.reshape(perHead, -1, (long) heads * headDim);                             // [N, heads*hd]
    }
}
