package ai.chunkwise.train.model;


import java.util.LinkedHashMap;

/** The tensors (Hugging Face names and shapes) a LlamaForCausalLM of a given config consists of. */
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
