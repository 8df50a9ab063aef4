package ai.chunkwise.train.model;

import java.util.Arrays;
import java.util.Optional;

/**
 * The Llama-shaped decoder families Chunkwise trains exactly: the same pre-norm SwiGLU decoder with RoPE and
 * grouped-query attention, differing only in what is listed here. Anything else (Gemma's embedding scale, GeGLU
 * and (1+w) norms, ...) is a different model and is refused when the config is read.
 */
public enum ModelFamily {
    /** Llama 2/3.x, TinyLlama, SmolLM2, ...: the reference decoder. */
    LLAMA("llama", "LlamaForCausalLM", false, false),
    /** Mistral: Llama plus an optional sliding attention window (4096 in v0.1, none from v0.2 on). */
    MISTRAL("mistral", "MistralForCausalLM", false, false),
    /** Qwen2 and Qwen2.5: biases on the q/k/v projections (not on o_proj). */
    QWEN2("qwen2", "Qwen2ForCausalLM", true, false),
    /** Qwen3 (dense): per-head RMSNorm of queries and keys (q_norm, k_norm) before RoPE, no biases. */
    QWEN3("qwen3", "Qwen3ForCausalLM", false, true);

    private final String modelType;
    private final String architecture;
    private final boolean qkvBias;
    private final boolean qkNorm;

    ModelFamily(String modelType, String architecture, boolean qkvBias, boolean qkNorm) {
        this.modelType = modelType;
        this.architecture = architecture;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
    }

    /** config.json's "model_type". */
    public String modelType() {
        return modelType;
    }

    /** The transformers class, config.json's "architectures" entry. */
    public String architecture() {
        return architecture;
    }

    /** Whether q_proj, k_proj and v_proj have a bias (o_proj and the MLP never do). */
    public boolean qkvBias() {
        return qkvBias;
    }

    /** Whether queries and keys are RMS-normalised per head (weights of size head_dim) before RoPE. */
    public boolean qkNorm() {
        return qkNorm;
    }

    public static Optional<ModelFamily> byModelType(String modelType) {
        return Arrays.stream(values()).filter(f -> f.modelType.equals(modelType)).findFirst();
    }
}
