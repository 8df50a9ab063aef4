package ai.chunkwise.train.model;

import java.util.ArrayList;
import java.util.List;

/** Hugging Face tensor names of a {@code LlamaForCausalLM} checkpoint (model.safetensors). */
public final class LlamaTensorNames {
    public static final String EMBED_TOKENS = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    /** Projection modules in the order HF lists them; the ones LoRA may target. */
    public static final List<String> ATTENTION_PROJECTIONS = List.of("q_proj", "k_proj", "v_proj", "o_proj");
    public static final List<String> MLP_PROJECTIONS = List.of("gate_proj", "up_proj", "down_proj");

    private LlamaTensorNames() {
    }

    public static String inputNorm(int layer) {
        return "model.layers." + layer + ".input_layernorm.weight";
    }

    public static String postAttentionNorm(int layer) {
        return "model.layers." + layer + ".post_attention_layernorm.weight";
    }

    /** {@code module} is one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj. */
    public static String projection(int layer, String module) {
        return "model.layers." + layer + "." + moduleParent(module) + "." + module + ".weight";
    }

    /** "self_attn" for the attention projections, "mlp" for the feed-forward ones. */
    public static String moduleParent(String module) {
        if (ATTENTION_PROJECTIONS.contains(module)) {
            return "self_attn";
        }
        if (MLP_PROJECTIONS.contains(module)) {
            return "mlp";
        }
        throw new IllegalArgumentException("unknown Llama projection module '" + module
                + "': expected one of " + ATTENTION_PROJECTIONS + " or " + MLP_PROJECTIONS);
    }

    /** Every tensor a Llama of this config holds, in checkpoint order ({@code lm_head} only when untied). */
    public static List<String> all(LlamaConfig config) {
        List<String> names = new ArrayList<>();
        names.add(EMBED_TOKENS);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            names.add(inputNorm(l));
            for (String m : ATTENTION_PROJECTIONS) {
                names.add(projection(l, m));
            }
            names.add(postAttentionNorm(l));
            for (String m : MLP_PROJECTIONS) {
                names.add(projection(l, m));
            }
        }
        names.add(FINAL_NORM);
        if (!config.tieWordEmbeddings()) {
            names.add(LM_HEAD);
        }
        return names;
    }
}
