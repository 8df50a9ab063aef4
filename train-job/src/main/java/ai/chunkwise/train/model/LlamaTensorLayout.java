package ai.chunkwise.train.model;


import java.util.LinkedHashMap;

/**
 * The tensors (Hugging Face names and shapes) a model of a given config consists of: a LlamaForCausalLM, plus
 * Qwen2's q/k/v biases and Qwen3's per-head q/k norms where the family has them (Mistral's are Llama's).
 */
public final class LlamaTensorLayout {
    public static final String EMBED_TOKENS = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private LlamaTensorLayout() {
    }

    public static String inputNorm(int layer) {
        return "model.layers." + layer + ".input_layernorm.weight";
    }

    public static String postAttentionNorm(int layer) {
        return "model.layers." + layer + ".post_attention_layernorm.weight";
    }

    /** Qwen3's RMSNorm weight [head_dim] applied to every query head before RoPE. */
    public static String queryNorm(int layer) {
        return "model.layers." + layer + ".self_attn.q_norm.weight";
    }

    /** Qwen3's RMSNorm weight [head_dim] applied to every key head before RoPE. */
    public static String keyNorm(int layer) {
        return "model.layers." + layer + ".self_attn.k_norm.weight";
    }

    /** The projections that carry a bias in {@code c}'s family (Qwen2: q, k, v), in module order. */
    public static java.util.List<LlamaProjection> biasedProjections(LlamaConfig c) {
        return c.family().qkvBias()
                ? java.util.List.of(LlamaProjection.Q_PROJ, LlamaProjection.K_PROJ, LlamaProjection.V_PROJ)
                : java.util.List.of();
    }

    /**
     * Every tensor of the model with its shape, in the order of the module tree. Linear weights are
     * [out, in] as in PyTorch; lm_head.weight is absent when the embeddings are tied.
     */
    public static LinkedHashMap<String, long[]> expectedShapes(LlamaConfig c) {
        LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBED_TOKENS, new long[] {c.vocabSize(), c.hiddenSize()});
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            shapes.put(inputNorm(layer), new long[] {c.hiddenSize()});
            for (LlamaProjection p : LlamaProjection.values()) {
                shapes.put(p.weightName(layer), new long[] {p.outFeatures(c), p.inFeatures(c)});
                if (biasedProjections(c).contains(p)) {
                    shapes.put(p.biasName(layer), new long[] {p.outFeatures(c)});
                }
                if (p == LlamaProjection.O_PROJ && c.family().qkNorm()) {
                    shapes.put(queryNorm(layer), new long[] {c.headDim()});
                    shapes.put(keyNorm(layer), new long[] {c.headDim()});
                }
            }
            shapes.put(postAttentionNorm(layer), new long[] {c.hiddenSize()});
        }
        shapes.put(FINAL_NORM, new long[] {c.hiddenSize()});
        if (!c.tieWordEmbeddings()) {
            shapes.put(LM_HEAD, new long[] {c.vocabSize(), c.hiddenSize()});
        }
        return shapes;
    }
}
